//! Timestamp formats of the AWS protocols. Timestamps travel through the engine as seconds since
//! the Unix epoch (`f64`).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `2015-01-25T08:00:00Z` (fraction only when non-zero): query and rest-xml bodies.
    Iso8601,
    /// `Sun, 25 Jan 2015 08:00:00 GMT`: rest headers.
    Rfc822,
    /// `1422172800` or `1422172800.123`: JSON bodies and query strings when asked.
    UnixTimestamp,
}

impl TimestampFormat {
    /// The model's `timestampFormat` trait value.
    pub fn from_trait(name: &str) -> Option<Self> {
        match name {
            "iso8601" => Some(Self::Iso8601),
            "rfc822" => Some(Self::Rfc822),
            "unixTimestamp" => Some(Self::UnixTimestamp),
            _ => None,
        }
    }
}

fn to_datetime(secs: f64) -> DateTime<Utc> {
    let whole = secs.floor();
    // Round to microseconds first: epoch seconds as f64 carry ~0.1 µs of noise.
    let micros = ((secs - whole) * 1e6).round().clamp(0.0, 999_999.0) as u32;
    let nanos = micros * 1000;
    Utc.timestamp_opt(whole as i64, nanos)
        .single()
        .unwrap_or_default()
}

/// Format epoch seconds in `fmt`.
pub fn format(secs: f64, fmt: TimestampFormat) -> String {
    match fmt {
        TimestampFormat::UnixTimestamp => format_epoch(secs),
        TimestampFormat::Rfc822 => to_datetime(secs)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
        TimestampFormat::Iso8601 => {
            let dt = to_datetime(secs);
            let millis = dt.timestamp_subsec_millis();
            if millis == 0 {
                dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            }
        }
    }
}

/// Epoch seconds as the shortest decimal: `1422172800`, `1422172800.123`.
pub fn format_epoch(secs: f64) -> String {
    if secs.fract() == 0.0 && secs.abs() < 1e15 {
        format!("{}", secs as i64)
    } else {
        let s = format!("{secs:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Parse any timestamp form a client may send: ISO 8601 (with or without fraction and offset),
/// RFC 822 / RFC 7231 HTTP dates, or epoch seconds.
pub fn parse(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(n) = t.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(epoch(dt.with_timezone(&Utc)));
    }
    // ISO 8601 without zone, or with a lower-case / missing `Z`.
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y%m%dT%H%M%SZ",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Some(epoch(n.and_utc()));
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(t) {
        return Some(epoch(dt.with_timezone(&Utc)));
    }
    let no_gmt = t.trim_end_matches(" GMT").trim_end_matches(" UTC");
    for f in [
        "%a, %d %b %Y %H:%M:%S",
        "%A, %d-%b-%y %H:%M:%S",
        "%a %b %e %H:%M:%S %Y",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(no_gmt, f) {
            return Some(epoch(n.and_utc()));
        }
    }
    None
}

fn epoch(dt: DateTime<Utc>) -> f64 {
    dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_nanos()) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = 1_422_172_800.0;
        assert_eq!(format(t, TimestampFormat::Iso8601), "2015-01-25T08:00:00Z");
        assert_eq!(
            format(t, TimestampFormat::Rfc822),
            "Sun, 25 Jan 2015 08:00:00 GMT"
        );
        assert_eq!(format(t, TimestampFormat::UnixTimestamp), "1422172800");
        assert_eq!(
            format(t + 0.5, TimestampFormat::UnixTimestamp),
            "1422172800.5"
        );
        assert_eq!(
            format(t + 0.123, TimestampFormat::Iso8601),
            "2015-01-25T08:00:00.123Z"
        );
        for s in [
            "2015-01-25T08:00:00Z",
            "2015-01-25T08:00:00.000Z",
            "2015-01-25T10:00:00+02:00",
            "Sun, 25 Jan 2015 08:00:00 GMT",
            "1422172800",
        ] {
            assert_eq!(parse(s), Some(t), "{s}");
        }
        assert_eq!(parse("yesterday"), None);
    }
}
