//! Bucket-name and key rules (S3 User Guide, "General purpose bucket naming rules").

use crate::errors::S3Error;

/// Keys are at most 1,024 bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

pub fn check_bucket_name(name: &str) -> Result<(), S3Error> {
    let invalid = || Err(S3Error::InvalidBucketName(name.to_string()));
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return invalid();
    }
    let allowed = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-';
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !b.iter().all(|c| allowed(*c)) || !edge(b[0]) || !edge(b[b.len() - 1]) {
        return invalid();
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return invalid();
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid();
    }
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    if PREFIXES.iter().any(|p| name.starts_with(p)) || SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return invalid();
    }
    Ok(())
}

pub fn check_key(key: &str) -> Result<(), S3Error> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_the_general_purpose_rules() {
        for ok in ["abc", "my.bucket-1", "a".repeat(63).as_str(), "1bucket"] {
            assert!(check_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Upper",
            "under_score",
            "-start",
            "end-",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "x-s3alias",
            "a".repeat(64).as_str(),
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }
}
