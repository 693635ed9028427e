//! Keys with EXTERNAL origin: GetParametersForImport, ImportKeyMaterial,
//! DeleteImportedKeyMaterial.
//!
//! An import token names an RSA wrapping key pair that storage keeps (the private key sealed
//! under the root key, like key material) for the 24 hours AWS lets a token live, so an import
//! started before a restart finishes after it.

use crate::crypto::{self, Private};
use crate::errors::KmsError;
use crate::keys::{generate_material, new_material};
use crate::model::{now, parse_doc, write_doc, Key};
use crate::shapes::*;
use crate::{specs, Kms};
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::{ImportParams, KmsStore};

const TOKEN_LIFETIME: f64 = 24.0 * 3600.0;

/// Drop a key's imported material: the key waits for a new import. With `expired_by`, only
/// if its ValidTo has passed by then (the sweeper's check, made under the write lock so a
/// re-import in between is not undone). `false` if nothing was dropped.
pub(crate) async fn drop_material(
    store: &KmsStore,
    account: &str,
    region: &str,
    key_id: &str,
    expired_by: Option<f64>,
) -> Result<bool, KmsError> {
    let dropped = store
        .update_key(account, region, key_id, |row| {
            let mut doc = parse_doc(row)?;
            if let Some(t) = expired_by {
                if !doc.valid_to.is_some_and(|v| v <= t) {
                    return Ok(false);
                }
            }
            if doc.key_state != "PendingDeletion" {
                doc.key_state = "PendingImport".into();
            }
            doc.valid_to = None;
            doc.expiration_model = None;
            doc.current_material_id = None;
            write_doc(row, &doc)?;
            Ok::<bool, KmsError>(true)
        })
        .await?
        .unwrap_or(false);
    if dropped {
        store.delete_material(account, region, key_id).await?;
    }
    Ok(dropped)
}

fn require_external(key: &Key) -> Result<(), KmsError> {
    if key.doc.origin != "EXTERNAL" {
        return Err(KmsError::Unsupported(format!(
            "{} origin is {} which is not valid for this operation.",
            key.arn, key.doc.origin
        )));
    }
    Ok(())
}

/// The id of imported material. Derived from the key and the material, as AWS derives it, so
/// re-importing the same material names the same material id.
fn imported_material_id(key_id: &str, material: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::new()
        .chain_update(key_id.as_bytes())
        .chain_update([0u8])
        .chain_update(material)
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Imported material must fit the key spec.
fn check_material(spec: &str, material: &[u8]) -> Result<(), KmsError> {
    let ok = match spec {
        "SYMMETRIC_DEFAULT" => material.len() == 32,
        "HMAC_224" => (28..=64).contains(&material.len()),
        "HMAC_256" => (32..=64).contains(&material.len()),
        "HMAC_384" => (48..=128).contains(&material.len()),
        "HMAC_512" => (64..=128).contains(&material.len()),
        s => Private::parse(s, material).is_ok(),
    };
    if !ok {
        return Err(KmsError::IncorrectKeyMaterial(format!(
            "The key material is not valid for key spec {spec}."
        )));
    }
    Ok(())
}

impl Kms {
    pub(crate) async fn get_parameters_for_import(
        &self,
        ctx: &RequestContext,
        r: GetParametersForImportRequest,
    ) -> Result<GetParametersForImportResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        require_external(&key)?;
        key.require_not_pending_deletion()?;
        match r.wrapping_algorithm.as_str() {
            "RSAES_OAEP_SHA_1"
            | "RSAES_OAEP_SHA_256"
            | "RSA_AES_KEY_WRAP_SHA_1"
            | "RSA_AES_KEY_WRAP_SHA_256" => {}
            // Withdrawn by AWS on 10 October 2023 (KMS API reference).
            "RSAES_PKCS1_V1_5" => {
                return Err(KmsError::Unsupported(
                    "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported.".into(),
                ))
            }
            // SM2PKE: China Regions only.
            other => {
                return Err(KmsError::Unsupported(format!(
                    "Wrapping algorithm {other} is not supported in this region."
                )))
            }
        }
        if !specs::is_rsa(&r.wrapping_key_spec) {
            return Err(KmsError::Unsupported(format!(
                "Wrapping key spec {} is not supported in this region.",
                r.wrapping_key_spec
            )));
        }
        let der = generate_material(&r.wrapping_key_spec).await?;
        let public_key = Private::parse(&r.wrapping_key_spec, &der)
            .and_then(|k| k.public_der())
            .map_err(|e| KmsError::Internal(e.to_string()))?;
        let token = crypto::random_bytes(64);
        let t = now();
        let expires = t + TOKEN_LIFETIME;
        let params = ImportParams {
            key_id: key.id.clone(),
            wrapping_algorithm: r.wrapping_algorithm,
            wrapping_key_spec: r.wrapping_key_spec,
            private_key: der,
            expires_at: expires,
        };
        if !self
            .store
            .put_import(&ctx.account_id, &ctx.region, &token, &params, t)
            .await?
        {
            return Err(KmsError::NotFound(format!(
                "Key '{}' does not exist",
                key.arn
            )));
        }
        Ok(GetParametersForImportResponse {
            key_id: key.arn,
            import_token: token,
            public_key,
            parameters_valid_to: expires,
        })
    }

    pub(crate) async fn import_key_material(
        &self,
        ctx: &RequestContext,
        r: ImportKeyMaterialRequest,
    ) -> Result<ImportKeyMaterialResponse, KmsError> {
        let (key, current) = self.load_with_material(ctx, &r.key_id, None).await?;
        if key.id != self.resolve_id(ctx, &r.key_id, false).await? {
            return Err(KmsError::NotFound(format!("Invalid keyId {}", r.key_id)));
        }
        require_external(&key)?;
        key.require_not_pending_deletion()?;
        // One material per key here: new material for on-demand rotation is not served yet.
        if r.import_type.as_deref() == Some("NEW_KEY_MATERIAL") {
            return Err(KmsError::Unsupported(
                "ImportType NEW_KEY_MATERIAL is not supported by CloudEmu yet.".into(),
            ));
        }
        let model = match (r.expiration_model.as_deref(), r.valid_to) {
            (None, Some(_)) | (Some("KEY_MATERIAL_EXPIRES"), Some(_)) => "KEY_MATERIAL_EXPIRES",
            (None, None) | (Some("KEY_MATERIAL_DOES_NOT_EXPIRE"), None) => {
                "KEY_MATERIAL_DOES_NOT_EXPIRE"
            }
            (Some("KEY_MATERIAL_EXPIRES"), None) => {
                return Err(KmsError::Validation(
                    "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".into(),
                ))
            }
            _ => {
                return Err(KmsError::Validation(
                    "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE".into(),
                ))
            }
        };
        if r.valid_to.is_some_and(|t| t <= now()) {
            return Err(KmsError::Validation(
                "The validTo date must be in the future.".into(),
            ));
        }
        let pending = self
            .store
            .get_import(&ctx.account_id, &ctx.region, &r.import_token)
            .await?
            .filter(|p| p.key_id == key.id)
            .ok_or_else(|| {
                KmsError::InvalidImportToken("Import token is invalid for this key.".into())
            })?;
        if pending.expires_at <= now() {
            return Err(KmsError::ExpiredImportToken(
                "The import token has expired.".into(),
            ));
        }
        let material = Private::parse(&pending.wrapping_key_spec, &pending.private_key)
            .map_err(|e| KmsError::Internal(format!("wrapping key: {e}")))?
            .unwrap_import(&pending.wrapping_algorithm, &r.encrypted_key_material)
            .map_err(|_| KmsError::InvalidCiphertext)?;
        check_material(&key.doc.key_spec, &material)?;
        // Re-importing must bring back the same material (ciphertexts depend on it), also
        // after the material was deleted or expired.
        let material_id = imported_material_id(&key.id, &material);
        let different = || {
            KmsError::IncorrectKeyMaterial(
                "The key material you are importing is different from the key material that was previously imported into this KMS key.".into(),
            )
        };
        let known = key.doc.imported_material_id.as_ref();
        if known.is_some_and(|k| *k != material_id)
            || current.as_ref().is_some_and(|c| c.secret != material)
            || r.key_material_id
                .as_ref()
                .is_some_and(|k| *k != material_id)
        {
            return Err(different());
        }
        let valid_to = r.valid_to;
        if let Some(t) = valid_to {
            self.sweep.due(t);
        }
        let material_id = match current {
            Some(m) => {
                self.update(ctx, &key.id, |_, doc, _| {
                    doc.expiration_model = Some(model.into());
                    doc.valid_to = valid_to;
                    Ok(())
                })
                .await?;
                m.material_id
            }
            None => {
                let symmetric = specs::is_symmetric(&key.doc.key_spec);
                let mut m = new_material(material, None);
                m.material_id = material_id;
                self.store
                    .add_material(&ctx.account_id, &ctx.region, &key.id, m, |row, m| {
                        let mut doc = crate::model::parse_doc(row)?;
                        if doc.key_state == "PendingImport" {
                            doc.key_state = "Enabled".into();
                        }
                        doc.expiration_model = Some(model.into());
                        doc.valid_to = valid_to;
                        doc.imported_material_id = Some(m.material_id.clone());
                        if symmetric {
                            doc.current_material_id = Some(m.material_id.clone());
                        }
                        write_doc(row, &doc)
                    })
                    .await?
                    .ok_or_else(|| KmsError::NotFound(format!("Key '{}' does not exist", key.arn)))?
                    .material_id
            }
        };
        Ok(ImportKeyMaterialResponse {
            key_id: key.arn,
            key_material_id: material_id,
        })
    }

    pub(crate) async fn delete_imported_key_material(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<ImportKeyMaterialResponse, KmsError> {
        let (key, current) = self.load_with_material(ctx, &r.key_id, None).await?;
        if key.id != self.resolve_id(ctx, &r.key_id, false).await? {
            return Err(KmsError::NotFound(format!("Invalid keyId {}", r.key_id)));
        }
        require_external(&key)?;
        self.unimport(ctx, &key).await?;
        Ok(ImportKeyMaterialResponse {
            key_id: key.arn,
            key_material_id: current.map(|m| m.material_id).unwrap_or_default(),
        })
    }

    /// Drop a key's imported material: the key waits for a new import.
    pub(crate) async fn unimport(&self, ctx: &RequestContext, key: &Key) -> Result<(), KmsError> {
        drop_material(&self.store, &ctx.account_id, &ctx.region, &key.id, None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn imported_material_must_fit_the_spec() {
        assert!(super::check_material("SYMMETRIC_DEFAULT", &[0; 32]).is_ok());
        assert!(super::check_material("SYMMETRIC_DEFAULT", &[0; 16]).is_err());
        assert!(super::check_material("ECC_NIST_P256", b"not der").is_err());
        assert!(super::check_material("HMAC_256", &[0; 40]).is_ok());
    }
}
