//! The cryptography, all from RustCrypto crates: key generation, AES-256-GCM, RSA (OAEP,
//! PKCS#1 v1.5 and PSS signatures), ECDSA and ECDH on the NIST curves and secp256k1, HMAC.
//! Pure functions over key material; no KMS semantics.
//!
//! Stored material: raw bytes for symmetric and HMAC keys, PKCS#8 DER for asymmetric keys
//! (the same form GenerateDataKeyPair hands out).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::Mac;
use rand::rngs::OsRng;
use rand::RngCore;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::{Oaep, Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CryptoError {
    #[error("key material is unusable")]
    BadMaterial,
    #[error("decryption failed")]
    Decrypt,
    #[error("plaintext is too long for this key")]
    TooLong,
    #[error("invalid signature")]
    BadSignature,
    #[error("invalid public key")]
    BadPublicKey,
    #[error("unsupported algorithm for this key")]
    Unsupported,
}

pub type Result<T> = std::result::Result<T, CryptoError>;

pub const NONCE_LEN: usize = 12;

pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    b
}

/// New key material for a key spec.
pub fn generate(spec: &str) -> Result<Vec<u8>> {
    let der = |r: std::result::Result<rsa::pkcs8::SecretDocument, rsa::pkcs8::Error>| {
        r.map(|d| d.as_bytes().to_vec())
            .map_err(|_| CryptoError::BadMaterial)
    };
    match spec {
        "SYMMETRIC_DEFAULT" => Ok(random_bytes(32)),
        "HMAC_224" => Ok(random_bytes(28)),
        "HMAC_256" => Ok(random_bytes(32)),
        "HMAC_384" => Ok(random_bytes(48)),
        "HMAC_512" => Ok(random_bytes(64)),
        "RSA_2048" | "RSA_3072" | "RSA_4096" => {
            let bits = spec[4..].parse().map_err(|_| CryptoError::Unsupported)?;
            let key = RsaPrivateKey::new(&mut OsRng, bits).map_err(|_| CryptoError::BadMaterial)?;
            der(key.to_pkcs8_der())
        }
        "ECC_NIST_P256" => der(p256::SecretKey::random(&mut OsRng).to_pkcs8_der()),
        "ECC_NIST_P384" => der(p384::SecretKey::random(&mut OsRng).to_pkcs8_der()),
        "ECC_NIST_P521" => der(p521::SecretKey::random(&mut OsRng).to_pkcs8_der()),
        "ECC_SECG_P256K1" => der(k256::SecretKey::random(&mut OsRng).to_pkcs8_der()),
        _ => Err(CryptoError::Unsupported),
    }
}

/// An asymmetric private key, parsed from PKCS#8.
pub enum Private {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
    K256(k256::SecretKey),
}

impl Private {
    pub fn parse(spec: &str, der: &[u8]) -> Result<Self> {
        fn bad<E>(_: E) -> CryptoError {
            CryptoError::BadMaterial
        }
        Ok(match spec {
            s if s.starts_with("RSA_") => {
                Private::Rsa(Box::new(RsaPrivateKey::from_pkcs8_der(der).map_err(bad)?))
            }
            "ECC_NIST_P256" => Private::P256(p256::SecretKey::from_pkcs8_der(der).map_err(bad)?),
            "ECC_NIST_P384" => Private::P384(p384::SecretKey::from_pkcs8_der(der).map_err(bad)?),
            "ECC_NIST_P521" => Private::P521(p521::SecretKey::from_pkcs8_der(der).map_err(bad)?),
            "ECC_SECG_P256K1" => Private::K256(k256::SecretKey::from_pkcs8_der(der).map_err(bad)?),
            _ => return Err(CryptoError::Unsupported),
        })
    }

    /// The public key as DER SubjectPublicKeyInfo (what GetPublicKey returns).
    pub fn public_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            Private::Rsa(k) => RsaPublicKey::from(k.as_ref()).to_public_key_der(),
            Private::P256(k) => k.public_key().to_public_key_der(),
            Private::P384(k) => k.public_key().to_public_key_der(),
            Private::P521(k) => k.public_key().to_public_key_der(),
            Private::K256(k) => k.public_key().to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|_| CryptoError::BadMaterial)
    }

    /// Sign a digest made with `alg`'s hash.
    pub fn sign(&self, alg: &str, digest: &[u8]) -> Result<Vec<u8>> {
        use ecdsa::signature::hazmat::{PrehashSigner, RandomizedPrehashSigner};
        let ec =
            |r: std::result::Result<Vec<u8>, ecdsa::Error>| r.map_err(|_| CryptoError::Unsupported);
        match self {
            Private::Rsa(k) => {
                let r = match alg {
                    "RSASSA_PKCS1_V1_5_SHA_256" => k.sign(Pkcs1v15Sign::new::<Sha256>(), digest),
                    "RSASSA_PKCS1_V1_5_SHA_384" => k.sign(Pkcs1v15Sign::new::<Sha384>(), digest),
                    "RSASSA_PKCS1_V1_5_SHA_512" => k.sign(Pkcs1v15Sign::new::<Sha512>(), digest),
                    // PSS with a salt as long as the digest, as KMS signs.
                    "RSASSA_PSS_SHA_256" => {
                        k.sign_with_rng(&mut OsRng, rsa::Pss::new::<Sha256>(), digest)
                    }
                    "RSASSA_PSS_SHA_384" => {
                        k.sign_with_rng(&mut OsRng, rsa::Pss::new::<Sha384>(), digest)
                    }
                    "RSASSA_PSS_SHA_512" => {
                        k.sign_with_rng(&mut OsRng, rsa::Pss::new::<Sha512>(), digest)
                    }
                    _ => return Err(CryptoError::Unsupported),
                };
                r.map_err(|_| CryptoError::Unsupported)
            }
            Private::P256(k) => ec(p256::ecdsa::SigningKey::from(k)
                .sign_prehash(digest)
                .map(|s: p256::ecdsa::Signature| s.to_der().as_bytes().to_vec())),
            Private::P384(k) => ec(p384::ecdsa::SigningKey::from(k)
                .sign_prehash(digest)
                .map(|s: p384::ecdsa::Signature| s.to_der().as_bytes().to_vec())),
            Private::P521(k) => ec(p521::ecdsa::SigningKey::from_slice(&k.to_bytes())
                .and_then(|sk| sk.sign_prehash_with_rng(&mut OsRng, digest))
                .map(|s: p521::ecdsa::Signature| s.to_der().as_bytes().to_vec())),
            Private::K256(k) => ec(k256::ecdsa::SigningKey::from(k)
                .sign_prehash(digest)
                .map(|s: k256::ecdsa::Signature| s.to_der().as_bytes().to_vec())),
        }
    }

    /// Check a signature over a digest; `Err(BadSignature)` when it does not verify.
    pub fn verify(&self, alg: &str, digest: &[u8], sig: &[u8]) -> Result<()> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        fn bad<E>(_: E) -> CryptoError {
            CryptoError::BadSignature
        }
        match self {
            Private::Rsa(k) => {
                let public = RsaPublicKey::from(k.as_ref());
                let r = match alg {
                    "RSASSA_PKCS1_V1_5_SHA_256" => {
                        public.verify(Pkcs1v15Sign::new::<Sha256>(), digest, sig)
                    }
                    "RSASSA_PKCS1_V1_5_SHA_384" => {
                        public.verify(Pkcs1v15Sign::new::<Sha384>(), digest, sig)
                    }
                    "RSASSA_PKCS1_V1_5_SHA_512" => {
                        public.verify(Pkcs1v15Sign::new::<Sha512>(), digest, sig)
                    }
                    "RSASSA_PSS_SHA_256" => public.verify(rsa::Pss::new::<Sha256>(), digest, sig),
                    "RSASSA_PSS_SHA_384" => public.verify(rsa::Pss::new::<Sha384>(), digest, sig),
                    "RSASSA_PSS_SHA_512" => public.verify(rsa::Pss::new::<Sha512>(), digest, sig),
                    _ => return Err(CryptoError::Unsupported),
                };
                r.map_err(bad)
            }
            Private::P256(k) => {
                let s = p256::ecdsa::Signature::from_der(sig).map_err(bad)?;
                p256::ecdsa::VerifyingKey::from(k.public_key())
                    .verify_prehash(digest, &s)
                    .map_err(bad)
            }
            Private::P384(k) => {
                let s = p384::ecdsa::Signature::from_der(sig).map_err(bad)?;
                p384::ecdsa::VerifyingKey::from(k.public_key())
                    .verify_prehash(digest, &s)
                    .map_err(bad)
            }
            Private::P521(k) => {
                let s = p521::ecdsa::Signature::from_der(sig).map_err(bad)?;
                let point = k.public_key().to_sec1_bytes();
                p521::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map_err(bad)?
                    .verify_prehash(digest, &s)
                    .map_err(bad)
            }
            Private::K256(k) => {
                let s = k256::ecdsa::Signature::from_der(sig).map_err(bad)?;
                k256::ecdsa::VerifyingKey::from(k.public_key())
                    .verify_prehash(digest, &s)
                    .map_err(bad)
            }
        }
    }

    fn rsa(&self) -> Result<&RsaPrivateKey> {
        match self {
            Private::Rsa(k) => Ok(k),
            _ => Err(CryptoError::Unsupported),
        }
    }

    pub fn rsa_encrypt(&self, alg: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let public = RsaPublicKey::from(self.rsa()?);
        let r = match alg {
            "RSAES_OAEP_SHA_1" => public.encrypt(&mut OsRng, Oaep::new::<sha1::Sha1>(), plaintext),
            "RSAES_OAEP_SHA_256" => public.encrypt(&mut OsRng, Oaep::new::<Sha256>(), plaintext),
            _ => return Err(CryptoError::Unsupported),
        };
        r.map_err(|_| CryptoError::TooLong)
    }

    pub fn rsa_decrypt(&self, alg: &str, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let key = self.rsa()?;
        let r = match alg {
            "RSAES_OAEP_SHA_1" => key.decrypt(Oaep::new::<sha1::Sha1>(), ciphertext),
            "RSAES_OAEP_SHA_256" => key.decrypt(Oaep::new::<Sha256>(), ciphertext),
            _ => return Err(CryptoError::Unsupported),
        };
        r.map_err(|_| CryptoError::Decrypt)
    }

    /// Unwrap imported key material with the wrapping algorithm GetParametersForImport named.
    /// RSAES_OAEP_*: the material itself is OAEP-encrypted. RSA_AES_KEY_WRAP_* (PKCS#11
    /// CKM_RSA_AES_KEY_WRAP): an ephemeral AES key, OAEP-encrypted, fills the first modulus
    /// length of bytes; the rest is the material under that key with AES key wrap with
    /// padding (RFC 5649).
    pub fn unwrap_import(&self, alg: &str, wrapped: &[u8]) -> Result<Vec<u8>> {
        use rsa::traits::PublicKeyParts;
        let oaep = match alg {
            "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256" => return self.rsa_decrypt(alg, wrapped),
            "RSA_AES_KEY_WRAP_SHA_1" => "RSAES_OAEP_SHA_1",
            "RSA_AES_KEY_WRAP_SHA_256" => "RSAES_OAEP_SHA_256",
            _ => return Err(CryptoError::Unsupported),
        };
        let k = self.rsa()?.size();
        if wrapped.len() <= k {
            return Err(CryptoError::Decrypt);
        }
        let (head, body) = wrapped.split_at(k);
        let aes = self.rsa_decrypt(oaep, head)?;
        let kek = aes.as_slice();
        let bad = |_| CryptoError::Decrypt;
        match aes.len() {
            16 => aes_kw::KekAes128::try_from(kek)
                .map_err(bad)?
                .unwrap_with_padding_vec(body),
            24 => aes_kw::KekAes192::try_from(kek)
                .map_err(bad)?
                .unwrap_with_padding_vec(body),
            32 => aes_kw::KekAes256::try_from(kek)
                .map_err(bad)?
                .unwrap_with_padding_vec(body),
            _ => return Err(CryptoError::Decrypt),
        }
        .map_err(bad)
    }

    /// ECDH with a peer's DER SubjectPublicKeyInfo on the same curve: the shared secret is the
    /// x-coordinate of the shared point, as KMS returns it.
    pub fn ecdh(&self, peer_spki: &[u8]) -> Result<Vec<u8>> {
        fn bad<E>(_: E) -> CryptoError {
            CryptoError::BadPublicKey
        }
        Ok(match self {
            Private::P256(k) => {
                let p = p256::PublicKey::from_public_key_der(peer_spki).map_err(bad)?;
                p256::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine())
                    .raw_secret_bytes()
                    .to_vec()
            }
            Private::P384(k) => {
                let p = p384::PublicKey::from_public_key_der(peer_spki).map_err(bad)?;
                p384::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine())
                    .raw_secret_bytes()
                    .to_vec()
            }
            Private::P521(k) => {
                let p = p521::PublicKey::from_public_key_der(peer_spki).map_err(bad)?;
                p521::ecdh::diffie_hellman(k.to_nonzero_scalar(), p.as_affine())
                    .raw_secret_bytes()
                    .to_vec()
            }
            _ => return Err(CryptoError::Unsupported),
        })
    }
}

/// The digest a signing algorithm signs.
pub fn digest_for(alg: &str, message: &[u8]) -> Result<Vec<u8>> {
    Ok(match hash_of(alg)? {
        256 => Sha256::digest(message).to_vec(),
        384 => Sha384::digest(message).to_vec(),
        _ => Sha512::digest(message).to_vec(),
    })
}

/// The digest length (bits) of a signing algorithm's hash.
pub fn hash_of(alg: &str) -> Result<usize> {
    if alg.ends_with("_256") {
        Ok(256)
    } else if alg.ends_with("_384") {
        Ok(384)
    } else if alg.ends_with("_512") {
        Ok(512)
    } else {
        Err(CryptoError::Unsupported)
    }
}

pub fn hmac(alg: &str, key: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Result<Vec<u8>> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .map_err(|_| CryptoError::BadMaterial)?;
        m.update(message);
        Ok(m.finalize().into_bytes().to_vec())
    }
    match alg {
        "HMAC_SHA_224" => run::<hmac::Hmac<Sha224>>(key, message),
        "HMAC_SHA_256" => run::<hmac::Hmac<Sha256>>(key, message),
        "HMAC_SHA_384" => run::<hmac::Hmac<Sha384>>(key, message),
        "HMAC_SHA_512" => run::<hmac::Hmac<Sha512>>(key, message),
        _ => Err(CryptoError::Unsupported),
    }
}

/// Constant-time MAC check.
pub fn hmac_verify(alg: &str, key: &[u8], message: &[u8], tag: &[u8]) -> Result<()> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8], tag: &[u8]) -> Result<()> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .map_err(|_| CryptoError::BadMaterial)?;
        m.update(message);
        m.verify_slice(tag).map_err(|_| CryptoError::BadSignature)
    }
    match alg {
        "HMAC_SHA_224" => run::<hmac::Hmac<Sha224>>(key, message, tag),
        "HMAC_SHA_256" => run::<hmac::Hmac<Sha256>>(key, message, tag),
        "HMAC_SHA_384" => run::<hmac::Hmac<Sha384>>(key, message, tag),
        "HMAC_SHA_512" => run::<hmac::Hmac<Sha512>>(key, message, tag),
        _ => Err(CryptoError::Unsupported),
    }
}

/// AES-256-GCM with a random nonce: `nonce || ciphertext || tag`.
pub fn aes_seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::BadMaterial)?;
    let nonce = random_bytes(NONCE_LEN);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::BadMaterial)?;
    let mut out = nonce;
    out.extend_from_slice(&ct);
    Ok(out)
}

pub fn aes_open(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Decrypt);
    }
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::BadMaterial)?;
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_signatures_verify_with_the_public_key_alone() {
        for (spec, alg) in [
            ("ECC_NIST_P256", "ECDSA_SHA_256"),
            ("ECC_NIST_P384", "ECDSA_SHA_384"),
            ("ECC_NIST_P521", "ECDSA_SHA_512"),
            ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
        ] {
            let key = Private::parse(spec, &generate(spec).expect("gen")).expect("parse");
            let digest = digest_for(alg, b"hello").expect("digest");
            let sig = key.sign(alg, &digest).expect("sign");
            key.verify(alg, &digest, &sig).expect("verifies");
            let other = digest_for(alg, b"hellp").expect("digest");
            assert_eq!(
                key.verify(alg, &other, &sig),
                Err(CryptoError::BadSignature)
            );
            assert!(!key.public_der().expect("spki").is_empty());
        }
    }

    #[test]
    fn rsa_aes_key_wrap_unwraps_what_pkcs11_wraps() {
        let key = Private::parse("RSA_2048", &generate("RSA_2048").expect("gen")).expect("parse");
        let public = RsaPublicKey::from(key.rsa().expect("rsa"));
        let material = generate("ECC_NIST_P256").expect("material");
        let aes = random_bytes(32);
        let mut wrapped = public
            .encrypt(&mut OsRng, Oaep::new::<Sha256>(), &aes)
            .expect("oaep");
        let kek = aes_kw::KekAes256::try_from(aes.as_slice()).expect("kek");
        wrapped.extend(kek.wrap_with_padding_vec(&material).expect("kwp"));
        assert_eq!(
            key.unwrap_import("RSA_AES_KEY_WRAP_SHA_256", &wrapped),
            Ok(material)
        );
        // The hash is part of the algorithm: SHA-1 OAEP does not open a SHA-256 wrap.
        assert_eq!(
            key.unwrap_import("RSA_AES_KEY_WRAP_SHA_1", &wrapped),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            key.unwrap_import("RSA_AES_KEY_WRAP_SHA_256", &wrapped[..256]),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn aes_round_trip_and_aad_binding() {
        let k = random_bytes(32);
        let sealed = aes_seal(&k, b"ctx", b"data").expect("seal");
        assert_eq!(aes_open(&k, b"ctx", &sealed).expect("open"), b"data");
        assert_eq!(aes_open(&k, b"other", &sealed), Err(CryptoError::Decrypt));
    }
}
