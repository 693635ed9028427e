//! Requests that wait (SQS long polls, up to 20 s each) hold actix's request head all along.
//!
//! actix-http gives every request head a header map made for 16 headers, ~6.5 KiB (32 buckets
//! of a name and a four-value small vector); with 1,000 polls held that was a third of the
//! server's extra memory. Re-made for the headers the request actually has it is a quarter of
//! that or less. No actix setting sizes it, so this runs first on every request: moving the
//! entries is a few hundred nanoseconds, no header is copied.

use actix_web::http::header::HeaderMap;

/// Replace `headers` with a map of the same entries sized for them.
pub fn compact(headers: &mut HeaderMap) {
    let mut sized = HeaderMap::with_capacity(headers.len_keys());
    let mut name = None;
    for (key, value) in headers.drain() {
        // `drain` names a header once and then yields its further values without a name.
        if key.is_some() {
            name = key;
        }
        if let Some(n) = &name {
            sized.append(n.clone(), value);
        }
    }
    *headers = sized;
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    #[test]
    fn keeps_every_header_and_repeated_values_in_order() {
        let mut h = HeaderMap::with_capacity(16);
        let name = |n: &str| HeaderName::from_bytes(n.as_bytes()).expect("name");
        let value = |v: &'static str| HeaderValue::from_static(v);
        h.insert(name("host"), value("localhost:4566"));
        h.append(name("x-amz-meta-a"), value("1"));
        h.append(name("x-amz-meta-a"), value("2"));
        h.insert(name("content-type"), value("application/x-amz-json-1.0"));
        compact(&mut h);
        assert_eq!(h.len(), 4);
        assert_eq!(h.len_keys(), 3);
        assert_eq!(
            h.get("host").and_then(|v| v.to_str().ok()),
            Some("localhost:4566")
        );
        let repeated: Vec<&str> = h
            .get_all("x-amz-meta-a")
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert_eq!(repeated, vec!["1", "2"]);
        assert!(h.capacity() < 16);
    }
}
