//! The ciphertext blob of symmetric keys. It names the key and the material version, so Decrypt
//! needs no KeyId and ciphertexts made before a rotation still decrypt after it:
//!
//! `0x01 | version (u32 BE) | id length (u8) | key id | nonce (12) | AES-256-GCM ciphertext | tag`
//!
//! The header is authenticated together with the encryption context (AAD), so neither can be
//! altered without Decrypt failing.

use crate::shapes::Context;

const FORMAT: u8 = 1;

pub struct Header<'a> {
    pub key_id: &'a str,
    pub version: i64,
    /// The header bytes, authenticated as AAD.
    pub raw: &'a [u8],
}

pub fn header(key_id: &str, version: i64) -> Vec<u8> {
    let mut h = vec![FORMAT];
    h.extend_from_slice(&(version as u32).to_be_bytes());
    h.push(key_id.len() as u8);
    h.extend_from_slice(key_id.as_bytes());
    h
}

/// Split a blob into header and sealed body; `None` if it is not one of ours.
pub fn parse(blob: &[u8]) -> Option<(Header<'_>, &[u8])> {
    if blob.len() < 6 || blob[0] != FORMAT {
        return None;
    }
    let version = i64::from(u32::from_be_bytes([blob[1], blob[2], blob[3], blob[4]]));
    let id_len = usize::from(blob[5]);
    let end = 6 + id_len;
    let key_id = std::str::from_utf8(blob.get(6..end)?).ok()?;
    Some((
        Header {
            key_id,
            version,
            raw: &blob[..end],
        },
        &blob[end..],
    ))
}

/// AAD: the header, then the encryption context in a canonical form (sorted keys).
pub fn aad(header: &[u8], context: Option<&Context>) -> Vec<u8> {
    let mut aad = header.to_vec();
    if let Some(c) = context.filter(|c| !c.is_empty()) {
        for (k, v) in c {
            aad.extend_from_slice(&(k.len() as u32).to_be_bytes());
            aad.extend_from_slice(k.as_bytes());
            aad.extend_from_slice(&(v.len() as u32).to_be_bytes());
            aad.extend_from_slice(v.as_bytes());
        }
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let mut blob = header("1234abcd-12ab-34cd-56ef-1234567890ab", 7);
        blob.extend_from_slice(b"body");
        let (h, body) = parse(&blob).expect("parses");
        assert_eq!(h.key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(h.version, 7);
        assert_eq!(body, b"body");
        assert!(parse(b"\x02garbage").is_none());
        assert!(parse(b"\x01\0\0\0\x01\xff").is_none());
    }
}
