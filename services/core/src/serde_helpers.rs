//! serde adapters for the engine's value conventions (timestamps are epoch seconds).

/// `DateTime<Utc>` as epoch seconds (fractional), the engine's timestamp form.
pub mod epoch_seconds {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let secs = t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0;
        s.serialize_f64(secs)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let secs = f64::deserialize(d)?;
        Utc.timestamp_millis_opt((secs * 1000.0).round() as i64)
            .single()
            .ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
    }
}

/// `Option<DateTime<Utc>>` as optional epoch seconds.
pub mod epoch_seconds_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::epoch_seconds::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::epoch_seconds")] DateTime<Utc>);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}
