//! Deployment packages: the zip as sent, its digest and size as Lambda reports them.

use crate::errors::LambdaError;
use base64::Engine;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// A zip accepted for a function.
pub struct ZipPackage {
    pub bytes: Bytes,
    /// Base64 of the SHA-256 of the zip, Lambda's `CodeSha256`.
    pub sha256: String,
}

const UNZIP_ERROR: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// End-of-central-directory signature: every zip ends with this record (plus a comment of at
/// most 65535 bytes), so its absence means the upload is not a zip.
const EOCD: &[u8] = b"PK\x05\x06";

/// Decode the `ZipFile` blob (base64 in the value tree) and check it is a zip.
pub fn accept_zip(b64: &str) -> Result<ZipPackage, LambdaError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| LambdaError::InvalidParameter(UNZIP_ERROR.into()))?;
    accept_zip_bytes(bytes)
}

/// Check that `bytes` is a zip (see [`accept_zip`]) and digest it.
pub fn accept_zip_bytes(bytes: Vec<u8>) -> Result<ZipPackage, LambdaError> {
    let tail_start = bytes.len().saturating_sub(22 + 65535);
    let tail = &bytes[tail_start..];
    if bytes.len() < 22 || !tail.windows(4).any(|w| w == EOCD) {
        return Err(LambdaError::InvalidParameter(UNZIP_ERROR.into()));
    }
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    Ok(ZipPackage {
        bytes: Bytes::from(bytes),
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_zip_is_accepted_and_garbage_is_not() {
        let empty_zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        let b64 = base64::engine::general_purpose::STANDARD.encode(empty_zip);
        let pkg = accept_zip(&b64).expect("zip");
        assert_eq!(pkg.bytes.len(), 22);
        assert_eq!(
            pkg.sha256,
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(empty_zip))
        );
        let garbage = base64::engine::general_purpose::STANDARD.encode(b"not a zip at all, no");
        assert!(matches!(
            accept_zip(&garbage),
            Err(LambdaError::InvalidParameter(_))
        ));
    }
}
