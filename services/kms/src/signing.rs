//! Asymmetric keys and MACs: GetPublicKey, Sign / Verify, GenerateMac / VerifyMac,
//! DeriveSharedSecret.

use crate::crypto::{self, CryptoError, Private};
use crate::errors::KmsError;
use crate::model::Key;
use crate::shapes::*;
use crate::{specs, Kms};
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::Material;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Parsed private keys by material id. Parsing validates the key (a point multiplication
/// for EC keys, CRT values for RSA), which costs as much as the signature itself; a
/// material id always names the same material.
#[derive(Default)]
pub struct ParsedKeys(Mutex<HashMap<String, Arc<Private>>>);

const PARSED_MAX: usize = 4096;

impl Kms {
    pub(crate) fn private(&self, key: &Key, m: Option<Material>) -> Result<Arc<Private>, KmsError> {
        let m = m.ok_or_else(|| key.invalid_state("PendingImport"))?;
        let mut cache = self.parsed.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&m.material_id) {
            return Ok(p.clone());
        }
        let parsed = Arc::new(
            Private::parse(&key.doc.key_spec, &m.secret)
                .map_err(|e| KmsError::Internal(e.to_string()))?,
        );
        if cache.len() >= PARSED_MAX {
            cache.clear();
        }
        cache.insert(m.material_id, parsed.clone());
        Ok(parsed)
    }
}

/// The digest to sign or verify: computed here for RAW, checked for length for DIGEST.
fn digest(alg: &str, message: &[u8], message_type: Option<&str>) -> Result<Vec<u8>, KmsError> {
    match message_type.unwrap_or("RAW") {
        "DIGEST" => {
            let bits = crypto::hash_of(alg).map_err(|_| KmsError::Internal(alg.into()))?;
            if message.len() * 8 != bits {
                return Err(KmsError::Validation(format!(
                    "Digest is invalid length for algorithm {alg}."
                )));
            }
            Ok(message.to_vec())
        }
        "RAW" => crypto::digest_for(alg, message).map_err(|_| KmsError::Internal(alg.into())),
        // EXTERNAL_MU belongs to ML-DSA keys, which CloudEmu does not serve.
        other => Err(KmsError::InvalidKeyUsage(format!(
            "MessageType {other} is incompatible with signing algorithm {alg}."
        ))),
    }
}

fn check_signing_alg(key: &Key, alg: &str) -> Result<(), KmsError> {
    if !specs::signing_algorithms(&key.doc.key_spec, &key.doc.key_usage).contains(&alg) {
        return Err(KmsError::InvalidKeyUsage(format!(
            "Algorithm {alg} is incompatible with key spec {}.",
            key.doc.key_spec
        )));
    }
    Ok(())
}

fn check_mac_alg(key: &Key, alg: &str) -> Result<(), KmsError> {
    if !specs::mac_algorithms(&key.doc.key_spec).contains(&alg) {
        return Err(KmsError::InvalidKeyUsage(format!(
            "Algorithm {alg} is incompatible with key spec {}.",
            key.doc.key_spec
        )));
    }
    Ok(())
}

impl Kms {
    pub(crate) async fn get_public_key(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<GetPublicKeyResponse, KmsError> {
        let (key, m) = self.load_with_material(ctx, &r.key_id, None).await?;
        key.require_usable()?;
        if specs::is_symmetric(&key.doc.key_spec) || specs::is_hmac(&key.doc.key_spec) {
            return Err(KmsError::Unsupported(format!(
                "{} key usage is {} which is not valid for GetPublicKey.",
                key.arn, key.doc.key_usage
            )));
        }
        let public = self
            .private(&key, m)?
            .public_der()
            .map_err(|e| KmsError::Internal(e.to_string()))?;
        let (spec, usage) = (&key.doc.key_spec, &key.doc.key_usage);
        Ok(GetPublicKeyResponse {
            key_id: key.arn.clone(),
            public_key: public,
            customer_master_key_spec: spec.clone(),
            key_spec: spec.clone(),
            key_usage: usage.clone(),
            encryption_algorithms: specs::encryption_algorithms(spec, usage),
            signing_algorithms: specs::signing_algorithms(spec, usage),
            key_agreement_algorithms: specs::key_agreement_algorithms(usage),
        })
    }

    pub(crate) async fn sign(
        &self,
        ctx: &RequestContext,
        r: SignRequest,
    ) -> Result<SignResponse, KmsError> {
        let (key, m) = self.load_with_material(ctx, &r.key_id, None).await?;
        key.require_usable()?;
        key.require_usage("SIGN_VERIFY", "Sign")?;
        check_signing_alg(&key, &r.signing_algorithm)?;
        let digest = digest(&r.signing_algorithm, &r.message, r.message_type.as_deref())?;
        let private = self.private(&key, m)?;
        let alg = r.signing_algorithm.clone();
        let signature = if specs::is_rsa(&key.doc.key_spec) {
            // RSA signing takes milliseconds: keep it off the async workers.
            tokio::task::spawn_blocking(move || private.sign(&alg, &digest))
                .await
                .map_err(|e| KmsError::Internal(e.to_string()))?
        } else {
            private.sign(&alg, &digest)
        }
        .map_err(|e| KmsError::Internal(e.to_string()))?;
        Ok(SignResponse {
            key_id: key.arn,
            signature,
            signing_algorithm: r.signing_algorithm,
        })
    }

    pub(crate) async fn verify(
        &self,
        ctx: &RequestContext,
        r: VerifyRequest,
    ) -> Result<VerifyResponse, KmsError> {
        let (key, m) = self.load_with_material(ctx, &r.key_id, None).await?;
        key.require_usable()?;
        key.require_usage("SIGN_VERIFY", "Verify")?;
        check_signing_alg(&key, &r.signing_algorithm)?;
        let digest = digest(&r.signing_algorithm, &r.message, r.message_type.as_deref())?;
        match self
            .private(&key, m)?
            .verify(&r.signing_algorithm, &digest, &r.signature)
        {
            Ok(()) => Ok(VerifyResponse {
                key_id: key.arn,
                signature_valid: true,
                signing_algorithm: r.signing_algorithm,
            }),
            Err(CryptoError::BadSignature) => Err(KmsError::InvalidSignature),
            Err(e) => Err(KmsError::Internal(e.to_string())),
        }
    }

    pub(crate) async fn generate_mac(
        &self,
        ctx: &RequestContext,
        r: GenerateMacRequest,
    ) -> Result<GenerateMacResponse, KmsError> {
        let (key, m) = self.load_with_material(ctx, &r.key_id, None).await?;
        key.require_usable()?;
        key.require_usage("GENERATE_VERIFY_MAC", "GenerateMac")?;
        check_mac_alg(&key, &r.mac_algorithm)?;
        let m = m.ok_or_else(|| key.invalid_state("PendingImport"))?;
        let mac = crypto::hmac(&r.mac_algorithm, &m.secret, &r.message)
            .map_err(|e| KmsError::Internal(e.to_string()))?;
        Ok(GenerateMacResponse {
            mac,
            mac_algorithm: r.mac_algorithm,
            key_id: key.arn,
        })
    }

    pub(crate) async fn verify_mac(
        &self,
        ctx: &RequestContext,
        r: VerifyMacRequest,
    ) -> Result<VerifyMacResponse, KmsError> {
        let (key, m) = self.load_with_material(ctx, &r.key_id, None).await?;
        key.require_usable()?;
        key.require_usage("GENERATE_VERIFY_MAC", "VerifyMac")?;
        check_mac_alg(&key, &r.mac_algorithm)?;
        let m = m.ok_or_else(|| key.invalid_state("PendingImport"))?;
        match crypto::hmac_verify(&r.mac_algorithm, &m.secret, &r.message, &r.mac) {
            Ok(()) => Ok(VerifyMacResponse {
                key_id: key.arn,
                mac_valid: true,
                mac_algorithm: r.mac_algorithm,
            }),
            Err(CryptoError::BadSignature) => Err(KmsError::InvalidMac),
            Err(e) => Err(KmsError::Internal(e.to_string())),
        }
    }

    pub(crate) async fn derive_shared_secret(
        &self,
        ctx: &RequestContext,
        r: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse, KmsError> {
        let (key, m) = self.load_with_material(ctx, &r.key_id, None).await?;
        key.require_usable()?;
        key.require_usage("KEY_AGREEMENT", "DeriveSharedSecret")?;
        let secret = self
            .private(&key, m)?
            .ecdh(&r.public_key)
            .map_err(|e| match e {
                CryptoError::BadPublicKey => KmsError::Validation(format!(
                    "The public key is not a valid DER-encoded X.509 public key for key spec {}.",
                    key.doc.key_spec
                )),
                e => KmsError::Internal(e.to_string()),
            })?;
        Ok(DeriveSharedSecretResponse {
            key_id: key.arn,
            shared_secret: secret,
            key_agreement_algorithm: r.key_agreement_algorithm,
            key_origin: key.doc.origin,
        })
    }
}
