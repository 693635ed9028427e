//! What each key spec allows, as the KMS developer guide's key spec reference lists it.

use crate::errors::KmsError;

pub fn is_symmetric(spec: &str) -> bool {
    spec == "SYMMETRIC_DEFAULT"
}

pub fn is_hmac(spec: &str) -> bool {
    spec.starts_with("HMAC_")
}

pub fn is_rsa(spec: &str) -> bool {
    spec.starts_with("RSA_")
}

/// Key usages a spec allows; `None` for specs CloudEmu cannot serve.
fn usages(spec: &str) -> Option<&'static [&'static str]> {
    Some(match spec {
        "SYMMETRIC_DEFAULT" => &["ENCRYPT_DECRYPT"],
        "RSA_2048" | "RSA_3072" | "RSA_4096" => &["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
        "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" => &["SIGN_VERIFY", "KEY_AGREEMENT"],
        "ECC_SECG_P256K1" => &["SIGN_VERIFY"],
        "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => &["GENERATE_VERIFY_MAC"],
        _ => return None,
    })
}

/// Check a CreateKey spec/usage pair.
pub fn check(spec: &str, usage: &str) -> Result<(), KmsError> {
    let Some(allowed) = usages(spec) else {
        return Err(KmsError::Unsupported(format!(
            "KeySpec {spec} is not supported by CloudEmu."
        )));
    };
    if !allowed.contains(&usage) {
        return Err(KmsError::Validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}"
        )));
    }
    Ok(())
}

pub fn encryption_algorithms(spec: &str, usage: &str) -> Vec<&'static str> {
    match (spec, usage) {
        ("SYMMETRIC_DEFAULT", _) => vec!["SYMMETRIC_DEFAULT"],
        (s, "ENCRYPT_DECRYPT") if is_rsa(s) => vec!["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
        _ => vec![],
    }
}

pub fn signing_algorithms(spec: &str, usage: &str) -> Vec<&'static str> {
    if usage != "SIGN_VERIFY" {
        return vec![];
    }
    match spec {
        s if is_rsa(s) => vec![
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
        ],
        "ECC_NIST_P256" | "ECC_SECG_P256K1" => vec!["ECDSA_SHA_256"],
        "ECC_NIST_P384" => vec!["ECDSA_SHA_384"],
        "ECC_NIST_P521" => vec!["ECDSA_SHA_512"],
        _ => vec![],
    }
}

pub fn mac_algorithms(spec: &str) -> Vec<&'static str> {
    match spec {
        "HMAC_224" => vec!["HMAC_SHA_224"],
        "HMAC_256" => vec!["HMAC_SHA_256"],
        "HMAC_384" => vec!["HMAC_SHA_384"],
        "HMAC_512" => vec!["HMAC_SHA_512"],
        _ => vec![],
    }
}

pub fn key_agreement_algorithms(usage: &str) -> Vec<&'static str> {
    if usage == "KEY_AGREEMENT" {
        vec!["ECDH"]
    } else {
        vec![]
    }
}

/// Largest plaintext RSAES_OAEP can take with this key (KMS's documented limits).
pub fn rsa_max_plaintext(spec: &str, alg: &str) -> usize {
    let bytes = match spec {
        "RSA_2048" => 256,
        "RSA_3072" => 384,
        _ => 512,
    };
    let hash = if alg == "RSAES_OAEP_SHA_1" { 20 } else { 32 };
    bytes - 2 * hash - 2
}
