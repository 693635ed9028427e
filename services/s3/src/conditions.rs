//! Conditional requests and byte ranges, with S3's precedence rules: If-Match, then
//! If-Unmodified-Since (412); If-None-Match, then If-Modified-Since (304 on reads).

use crate::errors::S3Error;
use cloudemu_storage::s3::ObjectRecord;

/// The conditions a read or write carries. Timestamps are epoch seconds.
#[derive(Debug, Default, Clone)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<f64>,
    pub if_unmodified_since: Option<f64>,
}

fn unquote(s: &str) -> &str {
    s.trim().trim_start_matches("W/").trim_matches('"')
}

/// Whether an `If-Match`-style list names this ETag (`*` names any).
fn etag_listed(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(unquote)
        .any(|t| t == "*" || t == unquote(etag))
}

impl Conditions {
    /// Check a read (GET/HEAD) against the object it would return.
    pub fn check_read(&self, o: &ObjectRecord) -> Result<(), S3Error> {
        // HTTP dates have whole seconds.
        let modified = o.last_modified.floor();
        match &self.if_match {
            Some(m) if !etag_listed(m, &o.etag) => {
                return Err(S3Error::PreconditionFailed("If-Match"))
            }
            Some(_) => {}
            None => {
                if self.if_unmodified_since.is_some_and(|t| modified > t) {
                    return Err(S3Error::PreconditionFailed("If-Unmodified-Since"));
                }
            }
        }
        let not_modified = || S3Error::NotModified {
            etag: o.etag.clone(),
            last_modified: crate::buckets::timestamp(o.last_modified)
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        };
        match &self.if_none_match {
            Some(m) if etag_listed(m, &o.etag) => return Err(not_modified()),
            Some(_) => {}
            None => {
                if self.if_modified_since.is_some_and(|t| modified <= t) {
                    return Err(not_modified());
                }
            }
        }
        Ok(())
    }

    /// Check a write against the object it would replace (`None`: no such key).
    pub fn check_write(&self, current: Option<&ObjectRecord>) -> Result<(), S3Error> {
        if let Some(m) = &self.if_none_match {
            if unquote(m) == "*" && current.is_some() {
                return Err(S3Error::PreconditionFailed("If-None-Match"));
            }
        }
        if let Some(m) = &self.if_match {
            match current {
                None => return Err(S3Error::NoSuchKeyForCondition),
                Some(o) if !etag_listed(m, &o.etag) => {
                    return Err(S3Error::PreconditionFailed("If-Match"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// An inclusive byte range of an object of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.start, self.end)
    }
}

/// Parse a `Range` header. S3 serves one range: a header it cannot use (several ranges, bad
/// syntax) is ignored and the whole object returned; a range that starts past the end is
/// `InvalidRange`.
pub fn parse_range(header: &str, size: u64) -> Result<Option<ByteRange>, S3Error> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let unsatisfiable = || S3Error::InvalidRange {
        size,
        range: header.to_string(),
    };
    if a.is_empty() {
        // A suffix: the last n bytes.
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || size == 0 {
            return Err(unsatisfiable());
        }
        return Ok(Some(ByteRange {
            start: size.saturating_sub(n),
            end: size - 1,
        }));
    }
    let Ok(start) = a.parse::<u64>() else {
        return Ok(None);
    };
    let end = match b {
        "" => u64::MAX,
        b => match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return Ok(None),
        },
    };
    if start >= size {
        return Err(unsatisfiable());
    }
    Ok(Some(ByteRange {
        start,
        end: end.min(size - 1),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(etag: &str, at: f64) -> ObjectRecord {
        ObjectRecord {
            etag: etag.into(),
            last_modified: at,
            ..Default::default()
        }
    }

    #[test]
    fn ranges() {
        let r = |h: &str| parse_range(h, 100).map_err(|_| ());
        assert_eq!(r("bytes=0-9"), Ok(Some(ByteRange { start: 0, end: 9 })));
        assert_eq!(r("bytes=90-"), Ok(Some(ByteRange { start: 90, end: 99 })));
        assert_eq!(r("bytes=-10"), Ok(Some(ByteRange { start: 90, end: 99 })));
        assert_eq!(
            r("bytes=50-1000"),
            Ok(Some(ByteRange { start: 50, end: 99 }))
        );
        assert_eq!(r("bytes=-1000"), Ok(Some(ByteRange { start: 0, end: 99 })));
        assert_eq!(r("bytes=100-"), Err(()));
        assert_eq!(r("bytes=0-1,5-6"), Ok(None));
        assert_eq!(r("bytes=9-1"), Ok(None));
        assert_eq!(r("items=0-1"), Ok(None));
    }

    #[test]
    fn read_precedence() {
        let o = obj("\"abc\"", 1000.5);
        let c = |m: Option<&str>, nm: Option<&str>, ms: Option<f64>, us: Option<f64>| Conditions {
            if_match: m.map(String::from),
            if_none_match: nm.map(String::from),
            if_modified_since: ms,
            if_unmodified_since: us,
        };
        assert!(c(Some("\"abc\""), None, None, None).check_read(&o).is_ok());
        assert!(matches!(
            c(Some("\"x\""), None, None, None).check_read(&o),
            Err(S3Error::PreconditionFailed(_))
        ));
        // If-Match true wins over If-Unmodified-Since false.
        assert!(c(Some("abc"), None, None, Some(10.0))
            .check_read(&o)
            .is_ok());
        assert!(matches!(
            c(None, None, None, Some(10.0)).check_read(&o),
            Err(S3Error::PreconditionFailed(_))
        ));
        assert!(matches!(
            c(None, Some("\"abc\""), None, None).check_read(&o),
            Err(S3Error::NotModified { .. })
        ));
        // If-None-Match false (different tag) wins over If-Modified-Since.
        assert!(c(None, Some("\"x\""), Some(5000.0), None)
            .check_read(&o)
            .is_ok());
        assert!(matches!(
            c(None, None, Some(1000.0), None).check_read(&o),
            Err(S3Error::NotModified { .. })
        ));
        assert!(c(None, None, Some(999.0), None).check_read(&o).is_ok());
    }

    #[test]
    fn write_conditions() {
        let o = obj("\"abc\"", 1.0);
        let none_match = Conditions {
            if_none_match: Some("*".into()),
            ..Default::default()
        };
        assert!(none_match.check_write(None).is_ok());
        assert!(none_match.check_write(Some(&o)).is_err());
        let m = Conditions {
            if_match: Some("\"abc\"".into()),
            ..Default::default()
        };
        assert!(m.check_write(Some(&o)).is_ok());
        assert!(matches!(
            m.check_write(None),
            Err(S3Error::NoSuchKeyForCondition)
        ));
    }
}
