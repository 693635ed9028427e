//! Encrypt, Decrypt, ReEncrypt, data keys and data key pairs, random bytes.

use crate::ciphertext;
use crate::crypto::{self, CryptoError};
use crate::errors::KmsError;
use crate::model::Key;
use crate::shapes::*;
use crate::{specs, Kms};
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::Material;

fn material(key: &Key, m: Option<Material>) -> Result<Material, KmsError> {
    m.ok_or_else(|| key.invalid_state("PendingImport"))
}

/// AWS's wording when a blob is missing: the model no longer marks it required.
fn require_blob(blob: Option<Vec<u8>>) -> Result<Vec<u8>, KmsError> {
    blob.ok_or_else(|| {
        KmsError::Validation(
            "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null".into(),
        )
    })
}

fn incompatible(alg: &str, key: &Key) -> KmsError {
    KmsError::InvalidKeyUsage(format!(
        "Algorithm {alg} is incompatible with key spec {}.",
        key.doc.key_spec
    ))
}

/// What Decrypt found: the key, the plaintext, the algorithm and the material used.
struct Decrypted {
    key: Key,
    plaintext: Vec<u8>,
    algorithm: String,
    material_id: Option<String>,
}

impl Kms {
    /// Encrypt under a key (symmetric or RSA), after the state and usage checks.
    async fn encrypt_with(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        plaintext: &[u8],
        context: Option<&Context>,
        algorithm: Option<&str>,
        op: &str,
    ) -> Result<(Key, Vec<u8>, String), KmsError> {
        let (key, m) = self.current_material(ctx, key_id).await?;
        key.require_usable()?;
        key.require_usage("ENCRYPT_DECRYPT", op)?;
        let alg = algorithm.unwrap_or("SYMMETRIC_DEFAULT").to_string();
        let m = material(&key, m)?;
        if specs::is_symmetric(&key.doc.key_spec) {
            if alg != "SYMMETRIC_DEFAULT" {
                return Err(incompatible(&alg, &key));
            }
            let header = ciphertext::header(&key.id, m.version);
            let body = crypto::aes_seal(&m.secret, &ciphertext::aad(&header, context), plaintext)
                .map_err(|e| KmsError::Internal(e.to_string()))?;
            let mut blob = header;
            blob.extend_from_slice(&body);
            return Ok((key, blob, alg));
        }
        if !specs::encryption_algorithms(&key.doc.key_spec, &key.doc.key_usage)
            .contains(&alg.as_str())
        {
            return Err(incompatible(&alg, &key));
        }
        if plaintext.len() > specs::rsa_max_plaintext(&key.doc.key_spec, &alg) {
            return Err(KmsError::Validation(format!(
                "Plaintext is too long for {alg} with key spec {}.",
                key.doc.key_spec
            )));
        }
        let private = self.private(&key, Some(m))?;
        let blob = private.rsa_encrypt(&alg, plaintext).map_err(|e| match e {
            CryptoError::TooLong => KmsError::Validation("Plaintext is too long.".into()),
            e => KmsError::Internal(e.to_string()),
        })?;
        Ok((key, blob, alg))
    }

    async fn decrypt_with(
        &self,
        ctx: &RequestContext,
        blob: &[u8],
        key_id: Option<&str>,
        context: Option<&Context>,
        algorithm: Option<&str>,
    ) -> Result<Decrypted, KmsError> {
        let named = match key_id {
            Some(k) => Some(self.resolve_id(ctx, k, true).await?),
            None => None,
        };
        let parsed = ciphertext::parse(blob);
        // A named asymmetric key decrypts RSA ciphertext, which carries no header.
        if let Some(id) = &named {
            let (key, m) = self.load_id_with_material(ctx, id, None).await?;
            if !specs::is_symmetric(&key.doc.key_spec) {
                key.require_usable()?;
                key.require_usage("ENCRYPT_DECRYPT", "Decrypt")?;
                let alg = algorithm.unwrap_or("SYMMETRIC_DEFAULT").to_string();
                if !specs::encryption_algorithms(&key.doc.key_spec, &key.doc.key_usage)
                    .contains(&alg.as_str())
                {
                    return Err(incompatible(&alg, &key));
                }
                let private = self.private(&key, m)?;
                let plaintext = private
                    .rsa_decrypt(&alg, blob)
                    .map_err(|_| KmsError::InvalidCiphertext)?;
                return Ok(Decrypted {
                    key,
                    plaintext,
                    algorithm: alg,
                    material_id: None,
                });
            }
            match &parsed {
                Some((h, _)) if h.key_id == id => {}
                Some(_) => return Err(KmsError::IncorrectKey),
                None => return Err(KmsError::InvalidCiphertext),
            }
        }
        let Some((header, body)) = parsed else {
            return Err(KmsError::InvalidCiphertext);
        };
        if algorithm.is_some_and(|a| a != "SYMMETRIC_DEFAULT") {
            return Err(KmsError::IncorrectKey);
        }
        let (key, m) = match self
            .load_id_with_material(ctx, header.key_id, Some(header.version))
            .await
        {
            Ok(found) => found,
            // A blob naming a key that is not there is not a ciphertext this account can use.
            Err(KmsError::NotFound(_)) if named.is_none() => {
                return Err(KmsError::InvalidCiphertext)
            }
            Err(e) => return Err(e),
        };
        key.require_usable()?;
        key.require_usage("ENCRYPT_DECRYPT", "Decrypt")?;
        let m = m.ok_or(KmsError::InvalidCiphertext)?;
        let plaintext = crypto::aes_open(&m.secret, &ciphertext::aad(header.raw, context), body)
            .map_err(|_| KmsError::InvalidCiphertext)?;
        Ok(Decrypted {
            key,
            plaintext,
            algorithm: "SYMMETRIC_DEFAULT".into(),
            material_id: Some(m.material_id),
        })
    }

    pub(crate) async fn encrypt(
        &self,
        ctx: &RequestContext,
        r: EncryptRequest,
    ) -> Result<EncryptResponse, KmsError> {
        let (key, blob, alg) = self
            .encrypt_with(
                ctx,
                &r.key_id,
                &r.plaintext,
                r.encryption_context.as_ref(),
                r.encryption_algorithm.as_deref(),
                "Encrypt",
            )
            .await?;
        Ok(EncryptResponse {
            ciphertext_blob: blob,
            key_id: key.arn,
            encryption_algorithm: alg,
        })
    }

    pub(crate) async fn decrypt(
        &self,
        ctx: &RequestContext,
        r: DecryptRequest,
    ) -> Result<DecryptResponse, KmsError> {
        let blob = require_blob(r.ciphertext_blob)?;
        let d = self
            .decrypt_with(
                ctx,
                &blob,
                r.key_id.as_deref(),
                r.encryption_context.as_ref(),
                r.encryption_algorithm.as_deref(),
            )
            .await?;
        Ok(DecryptResponse {
            key_id: d.key.arn,
            plaintext: d.plaintext,
            encryption_algorithm: d.algorithm,
            key_material_id: d.material_id,
        })
    }

    pub(crate) async fn re_encrypt(
        &self,
        ctx: &RequestContext,
        r: ReEncryptRequest,
    ) -> Result<ReEncryptResponse, KmsError> {
        let blob = require_blob(r.ciphertext_blob)?;
        let d = self
            .decrypt_with(
                ctx,
                &blob,
                r.source_key_id.as_deref(),
                r.source_encryption_context.as_ref(),
                r.source_encryption_algorithm.as_deref(),
            )
            .await?;
        let (key, blob, alg) = self
            .encrypt_with(
                ctx,
                &r.destination_key_id,
                &d.plaintext,
                r.destination_encryption_context.as_ref(),
                r.destination_encryption_algorithm.as_deref(),
                "ReEncrypt",
            )
            .await?;
        Ok(ReEncryptResponse {
            ciphertext_blob: blob,
            source_key_id: d.key.arn,
            key_id: key.arn.clone(),
            source_encryption_algorithm: d.algorithm,
            destination_encryption_algorithm: alg,
            source_key_material_id: d.material_id,
            // Symmetric keys name their current material; it is what encrypted the blob.
            destination_key_material_id: key.doc.current_material_id,
        })
    }

    /// A data key must be encrypted under a symmetric key.
    async fn require_symmetric(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        op: &str,
    ) -> Result<(), KmsError> {
        let key = self.load(ctx, key_id, true).await?;
        if !specs::is_symmetric(&key.doc.key_spec) {
            key.require_usable()?;
            return Err(KmsError::InvalidKeyUsage(format!(
                "{} key usage is {} which is not valid for {op}.",
                key.arn, key.doc.key_usage
            )));
        }
        Ok(())
    }

    async fn data_key(
        &self,
        ctx: &RequestContext,
        r: GenerateDataKeyRequest,
        op: &str,
        with_plaintext: bool,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        let len = match (r.number_of_bytes, r.key_spec.as_deref()) {
            (Some(n), None) => n,
            (None, Some("AES_256")) => 32,
            (None, Some("AES_128")) => 16,
            _ => {
                return Err(KmsError::Validation(
                    "Please specify either number of bytes or key spec.".into(),
                ))
            }
        };
        self.require_symmetric(ctx, &r.key_id, op).await?;
        let plaintext = crypto::random_bytes(len);
        let (key, blob, _) = self
            .encrypt_with(
                ctx,
                &r.key_id,
                &plaintext,
                r.encryption_context.as_ref(),
                None,
                op,
            )
            .await?;
        Ok(GenerateDataKeyResponse {
            ciphertext_blob: blob,
            plaintext: with_plaintext.then_some(plaintext),
            key_id: key.arn,
        })
    }

    pub(crate) async fn generate_data_key(
        &self,
        ctx: &RequestContext,
        r: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.data_key(ctx, r, "GenerateDataKey", true).await
    }

    pub(crate) async fn generate_data_key_without_plaintext(
        &self,
        ctx: &RequestContext,
        r: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        self.data_key(ctx, r, "GenerateDataKeyWithoutPlaintext", false)
            .await
    }

    async fn data_key_pair(
        &self,
        ctx: &RequestContext,
        r: GenerateDataKeyPairRequest,
        op: &str,
        with_plaintext: bool,
    ) -> Result<GenerateDataKeyPairResponse, KmsError> {
        if matches!(r.key_pair_spec.as_str(), "SM2" | "ECC_NIST_EDWARDS25519") {
            return Err(KmsError::Unsupported(format!(
                "KeyPairSpec {} is not supported by CloudEmu.",
                r.key_pair_spec
            )));
        }
        self.require_symmetric(ctx, &r.key_id, op).await?;
        // Check the wrapping key before spending time on an RSA key pair.
        let (key, _) = self.current_material(ctx, &r.key_id).await?;
        key.require_usable()?;
        let private = crate::keys::generate_material(&r.key_pair_spec).await?;
        let public = crypto::Private::parse(&r.key_pair_spec, &private)
            .and_then(|p| p.public_der())
            .map_err(|e| KmsError::Internal(e.to_string()))?;
        let (key, blob, _) = self
            .encrypt_with(
                ctx,
                &r.key_id,
                &private,
                r.encryption_context.as_ref(),
                None,
                op,
            )
            .await?;
        Ok(GenerateDataKeyPairResponse {
            private_key_ciphertext_blob: blob,
            private_key_plaintext: with_plaintext.then_some(private),
            public_key: public,
            key_id: key.arn,
            key_pair_spec: r.key_pair_spec,
        })
    }

    pub(crate) async fn generate_data_key_pair(
        &self,
        ctx: &RequestContext,
        r: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse, KmsError> {
        self.data_key_pair(ctx, r, "GenerateDataKeyPair", true)
            .await
    }

    pub(crate) async fn generate_data_key_pair_without_plaintext(
        &self,
        ctx: &RequestContext,
        r: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse, KmsError> {
        self.data_key_pair(ctx, r, "GenerateDataKeyPairWithoutPlaintext", false)
            .await
    }

    pub(crate) async fn generate_random(
        &self,
        _ctx: &RequestContext,
        r: GenerateRandomRequest,
    ) -> Result<PlaintextResponse, KmsError> {
        if r.custom_key_store_id.is_some() {
            return Err(KmsError::Unsupported(
                "Custom key stores are not supported by CloudEmu.".into(),
            ));
        }
        let n = r
            .number_of_bytes
            .ok_or_else(|| KmsError::Validation("NumberOfBytes is required.".into()))?;
        Ok(PlaintextResponse {
            plaintext: crypto::random_bytes(n),
        })
    }
}
