//! Access keys and accounts.
//!
//! AWS encodes the owning account in an access key id: after the four-letter prefix, the key is
//! base32 of 10 bytes whose first six hold `account << 7` (bits 7..46). CloudEmu issues its keys
//! the same way, so a request signed with credentials from `AssumeRole` acts in the role's
//! account without any lookup. Keys with a 12-digit id name the account directly.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8; 10]) -> String {
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(*b);
    }
    (0..16)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

fn unbase32(text: &str) -> Option<[u8; 10]> {
    if text.len() != 16 {
        return None;
    }
    let mut bits: u128 = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u128;
        bits = (bits << 5) | v;
    }
    let mut out = [0u8; 10];
    for (i, b) in out.iter_mut().enumerate() {
        *b = (bits >> ((9 - i) * 8)) as u8;
    }
    Some(out)
}

/// A new access key id with `prefix` (`ASIA` for temporary, `AKIA` for long-term credentials)
/// that encodes `account`.
pub fn new_access_key_id(prefix: &str, account: &str) -> String {
    let account: u64 = account.parse().unwrap_or(0);
    let mut rng = rand::thread_rng();
    let head = (account << 7) | u64::from(rng.gen::<u8>() & 0x7f);
    let mut bytes = [0u8; 10];
    bytes[..6].copy_from_slice(&head.to_be_bytes()[2..]);
    rng.fill(&mut bytes[6..]);
    format!("{prefix}{}", base32(&bytes))
}

/// The account an access key id encodes: a 12-digit id is the account itself; `ASIA` keys (as
/// STS issues them) carry it encoded. Anything else names no account (the default applies).
pub fn account_of_access_key(key: &str) -> Option<String> {
    if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) {
        return Some(key.to_string());
    }
    let rest = key.strip_prefix("ASIA")?;
    let bytes = unbase32(rest)?;
    let mut head = [0u8; 8];
    head[2..].copy_from_slice(&bytes[..6]);
    let account = (u64::from_be_bytes(head) >> 7) & 0xff_ffff_ffff;
    Some(format!("{account:012}"))
}

/// A random identifier of `len` characters from the access-key alphabet (role ids, secrets).
pub fn random_id(prefix: &str, len: usize) -> String {
    let mut rng = rand::thread_rng();
    let body: String = (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..32)] as char)
        .collect();
    format!("{prefix}{body}")
}

/// A secret access key: 40 characters of base64's alphabet, as AWS issues them.
pub fn new_secret_key() -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::thread_rng();
    (0..40).map(|_| B64[rng.gen_range(0..64)] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_carry_their_account() {
        for account in ["000000000000", "123456789012", "999999999999"] {
            let key = new_access_key_id("ASIA", account);
            assert_eq!(key.len(), 20);
            assert_eq!(account_of_access_key(&key).as_deref(), Some(account));
        }
    }

    #[test]
    fn decodes_aws_documented_example() {
        // A published example: ASIAY34FZKBOKMUTVV7A belongs to account 609629065308.
        assert_eq!(
            account_of_access_key("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
    }

    #[test]
    fn other_keys_name_no_account() {
        assert_eq!(account_of_access_key("test"), None);
        assert_eq!(account_of_access_key("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(
            account_of_access_key("111122223333").as_deref(),
            Some("111122223333")
        );
    }
}
