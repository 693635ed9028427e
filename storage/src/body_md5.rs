//! The MD5 of a streamed body (its ETag). Hashing is what bounds a large PUT: MD5 cannot be
//! split across cores, and the hashing thread is busy for nearly the whole transfer. On this
//! machine OpenSSL's assembly hashes ~765 MB/s and RustCrypto's md-5 ~640 MB/s (also ~685 with
//! `target-cpu=native`), which is the difference between a 1 GiB PUT at or safely over
//! 500 MB/s. So with the `openssl` feature (on by default) bodies are hashed by the system
//! libcrypto; without it (`--no-default-features`, for a build with no libssl) by md-5.
//! Small digests elsewhere (inline bodies, part ETags) stay on md-5: no FFI call per hash.

/// An MD5 being fed a body chunk by chunk.
pub(crate) struct BodyMd5(Inner);

#[cfg(feature = "openssl")]
type Inner = openssl::hash::Hasher;
#[cfg(not(feature = "openssl"))]
type Inner = md5::Md5;

impl BodyMd5 {
    pub(crate) fn new() -> std::io::Result<Self> {
        #[cfg(feature = "openssl")]
        {
            openssl::hash::Hasher::new(openssl::hash::MessageDigest::md5())
                .map(Self)
                .map_err(std::io::Error::other)
        }
        #[cfg(not(feature = "openssl"))]
        {
            Ok(Self(<md5::Md5 as md5::Digest>::new()))
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) -> std::io::Result<()> {
        #[cfg(feature = "openssl")]
        {
            self.0.update(data).map_err(std::io::Error::other)
        }
        #[cfg(not(feature = "openssl"))]
        {
            md5::Digest::update(&mut self.0, data);
            Ok(())
        }
    }

    pub(crate) fn finish(self) -> std::io::Result<[u8; 16]> {
        #[cfg(feature = "openssl")]
        {
            let mut hasher = self.0;
            let digest = hasher.finish().map_err(std::io::Error::other)?;
            <[u8; 16]>::try_from(&digest[..]).map_err(std::io::Error::other)
        }
        #[cfg(not(feature = "openssl"))]
        {
            Ok(md5::Digest::finalize(self.0).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BodyMd5;
    use md5::Digest as _;

    /// Whichever implementation is built, it agrees with md-5 over many uneven chunks.
    #[test]
    fn matches_md5_over_uneven_chunks() -> std::io::Result<()> {
        let data: Vec<u8> = (0..3_000_017u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut hasher = BodyMd5::new()?;
        let mut rest = &data[..];
        let mut step = 1;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(step.min(rest.len()));
            hasher.update(chunk)?;
            rest = tail;
            step = step * 3 % 65_537 + 1;
        }
        let expected: [u8; 16] = md5::Md5::digest(&data).into();
        assert_eq!(hasher.finish()?, expected);
        // RFC 1321's own vector, for the empty body.
        let empty = BodyMd5::new()?.finish()?;
        let hex: String = empty.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "d41d8cd98f00b204e9800998ecf8427e");
        Ok(())
    }
}
