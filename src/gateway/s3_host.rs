//! S3's virtual-hosted addressing: the bucket named by the Host (`<bucket>.s3.<region>.
//! amazonaws.com`, `<bucket>.s3.localhost.localstack.cloud`, `<bucket>.localhost`, or
//! `<bucket>.<name>` for a configured name) becomes the first path segment, so the rest of the
//! pipeline sees the path-style request the model's URI templates describe.

/// The bucket a Host header (without port) names, if it names one.
pub fn bucket_of_host<'h>(host: &'h str, configured: &[String]) -> Option<&'h str> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    let lower = host.to_ascii_lowercase();
    let bucket = if let Some(i) = lower.find(".s3.").or_else(|| lower.find(".s3-")) {
        // `.s3-control.` is S3 Control's account host, never a bucket.
        if lower[i..].starts_with(".s3-control.") {
            return None;
        }
        &host[..i]
    } else if let Some(b) = lower.strip_suffix(".localhost") {
        &host[..b.len()]
    } else {
        let name = configured.iter().find(|c| {
            lower.len() > c.len() + 1
                && lower.ends_with(&c.to_ascii_lowercase())
                && lower.as_bytes()[lower.len() - c.len() - 1] == b'.'
        })?;
        &host[..host.len() - name.len() - 1]
    };
    (!bucket.is_empty()).then_some(bucket)
}

/// The path-style form of a virtual-hosted request path (raw, still percent-encoded).
pub fn path_style(bucket: &str, raw_path: &str) -> String {
    match raw_path.strip_prefix('/').unwrap_or(raw_path) {
        "" => format!("/{bucket}"),
        rest => format!("/{bucket}/{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bucket_in_the_host() {
        let none: Vec<String> = vec![];
        assert_eq!(
            bucket_of_host("my.bucket.s3.us-east-1.amazonaws.com", &none),
            Some("my.bucket")
        );
        assert_eq!(
            bucket_of_host("photos.s3.localhost.localstack.cloud", &none),
            Some("photos")
        );
        assert_eq!(bucket_of_host("photos.localhost", &none), Some("photos"));
        assert_eq!(bucket_of_host("localhost", &none), None);
        assert_eq!(bucket_of_host("127.0.0.1", &none), None);
        assert_eq!(bucket_of_host("s3.amazonaws.com", &none), None);
        assert_eq!(
            bucket_of_host("000000000000.s3-control.localhost", &none),
            None
        );
        let conf = vec!["emu.internal".to_string()];
        assert_eq!(bucket_of_host("b1.emu.internal", &conf), Some("b1"));
        assert_eq!(bucket_of_host("emu.internal", &conf), None);
    }

    #[test]
    fn rewrites_paths() {
        assert_eq!(path_style("b", "/"), "/b");
        assert_eq!(path_style("b", "/key/x"), "/b/key/x");
        assert_eq!(path_style("b", "/dir/"), "/b/dir/");
        assert_eq!(path_style("b", "//double"), "/b//double");
    }
}
