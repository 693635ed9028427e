//! S3's flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and Content-MD5: computed
//! while a body streams through, compared with what the client declared, stored base64-encoded.

use crate::errors::S3Error;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use crc_fast::CrcAlgorithm;
use sha1::Sha1;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// The name S3 uses (`x-amz-sdk-checksum-algorithm`, `ChecksumAlgorithm`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The header that carries it (`x-amz-checksum-crc32`).
    pub fn header(self) -> String {
        format!("x-amz-checksum-{}", self.name().to_ascii_lowercase())
    }

    /// Length of the raw digest.
    fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }
}

/// A running checksum.
pub enum Hasher {
    Crc32(crc_fast::Digest),
    Crc32c(crc_fast::Digest),
    Crc64(crc_fast::Digest),
    Sha1(Box<Sha1>),
    Sha256(Box<Sha256>),
}

impl Hasher {
    pub fn new(a: Algorithm) -> Self {
        match a {
            Algorithm::Crc32 => Hasher::Crc32(crc_fast::Digest::new(CrcAlgorithm::Crc32IsoHdlc)),
            Algorithm::Crc32c => Hasher::Crc32c(crc_fast::Digest::new(CrcAlgorithm::Crc32Iscsi)),
            Algorithm::Crc64Nvme => Hasher::Crc64(crc_fast::Digest::new(CrcAlgorithm::Crc64Nvme)),
            Algorithm::Sha1 => Hasher::Sha1(Box::default()),
            Algorithm::Sha256 => Hasher::Sha256(Box::default()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc32(d) | Hasher::Crc32c(d) | Hasher::Crc64(d) => d.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The base64 form S3 sends and stores.
    pub fn finish(self) -> String {
        let raw: Vec<u8> = match self {
            // crc-fast returns every width as a u64; S3 sends the CRC's own width, big-endian.
            Hasher::Crc32(d) | Hasher::Crc32c(d) => (d.finalize() as u32).to_be_bytes().to_vec(),
            Hasher::Crc64(d) => d.finalize().to_be_bytes().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        B64.encode(raw)
    }
}

/// Check that a declared checksum value is well-formed base64 of the right length.
pub fn check_value(a: Algorithm, value: &str) -> Result<(), S3Error> {
    match B64.decode(value.trim()) {
        Ok(raw) if raw.len() == a.digest_len() => Ok(()),
        _ => Err(S3Error::InvalidRequest(format!(
            "Value for {} header is invalid.",
            a.header()
        ))),
    }
}

/// The 16 bytes a `Content-MD5` header declares.
pub fn parse_content_md5(value: &str) -> Result<[u8; 16], S3Error> {
    B64.decode(value.trim())
        .ok()
        .and_then(|raw| <[u8; 16]>::try_from(raw.as_slice()).ok())
        .ok_or(S3Error::InvalidDigest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(a: Algorithm, data: &[u8]) -> String {
        let mut h = Hasher::new(a);
        h.update(data);
        h.finish()
    }

    #[test]
    fn matches_the_values_aws_documents() {
        // Values the AWS SDKs' checksum tests use for "Hello world".
        assert_eq!(of(Algorithm::Crc32, b"Hello world"), "i9aeUg==");
        assert_eq!(of(Algorithm::Crc32c, b"Hello world"), "crUfeA==");
        assert_eq!(
            of(Algorithm::Sha1, b"Hello world"),
            "e1AsOh9IyGCa4hLN+2Od7jlnP14="
        );
        assert_eq!(
            of(Algorithm::Sha256, b"Hello world"),
            "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
        );
        assert_eq!(of(Algorithm::Crc64Nvme, b""), "AAAAAAAAAAA=");
        assert!(check_value(Algorithm::Crc32, "i9aeUg==").is_ok());
        assert!(check_value(Algorithm::Crc32, "not base64!").is_err());
        assert!(check_value(Algorithm::Sha1, "i9aeUg==").is_err());
    }
}
