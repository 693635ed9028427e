//! Keys with EXTERNAL origin: GetParametersForImport, ImportKeyMaterial,
//! DeleteImportedKeyMaterial.
//!
//! Wrapping keys live in memory only, for the 24 hours AWS lets an import token live: they
//! protect key material in transit and are never written anywhere. After a restart the
//! client asks for new parameters, as it does when a token expires.

use crate::crypto::{self, Private};
use crate::errors::KmsError;
use crate::keys::{generate_material, new_material};
use crate::model::{now, write_doc, Key};
use crate::shapes::*;
use crate::{specs, Kms};
use cloudemu_core::RequestContext;

const TOKEN_LIFETIME: f64 = 24.0 * 3600.0;

/// An outstanding GetParametersForImport.
pub struct PendingImport {
    account: String,
    region: String,
    key_id: String,
    algorithm: String,
    wrapping_key: Private,
    expires: f64,
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
            "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256" => {}
            other => {
                return Err(KmsError::Unsupported(format!(
                    "Wrapping algorithm {other} is not supported by CloudEmu."
                )))
            }
        }
        if !specs::is_rsa(&r.wrapping_key_spec) {
            return Err(KmsError::Unsupported(format!(
                "Wrapping key spec {} is not supported by CloudEmu.",
                r.wrapping_key_spec
            )));
        }
        let der = generate_material(&r.wrapping_key_spec).await?;
        let wrapping_key = Private::parse(&r.wrapping_key_spec, &der)
            .map_err(|e| KmsError::Internal(e.to_string()))?;
        let public_key = wrapping_key
            .public_der()
            .map_err(|e| KmsError::Internal(e.to_string()))?;
        let token = crypto::random_bytes(64);
        let expires = now() + TOKEN_LIFETIME;
        let mut imports = self.imports.lock().unwrap_or_else(|p| p.into_inner());
        let t = now();
        imports.retain(|_, p| p.expires > t);
        imports.insert(
            token.clone(),
            PendingImport {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                key_id: key.id.clone(),
                algorithm: r.wrapping_algorithm,
                wrapping_key,
                expires,
            },
        );
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
        let material = {
            let imports = self.imports.lock().unwrap_or_else(|p| p.into_inner());
            let pending = imports
                .get(&r.import_token)
                .filter(|p| {
                    p.account == ctx.account_id && p.region == ctx.region && p.key_id == key.id
                })
                .ok_or_else(|| {
                    KmsError::InvalidImportToken("Import token is invalid for this key.".into())
                })?;
            if pending.expires <= now() {
                return Err(KmsError::ExpiredImportToken(
                    "The import token has expired.".into(),
                ));
            }
            pending
                .wrapping_key
                .rsa_decrypt(&pending.algorithm, &r.encrypted_key_material)
                .map_err(|_| KmsError::InvalidCiphertext)?
        };
        check_material(&key.doc.key_spec, &material)?;
        // Re-importing must bring back the same material: ciphertexts depend on it.
        if let Some(current) = &current {
            if current.secret != material {
                return Err(KmsError::IncorrectKeyMaterial(
                    "The key material you are importing is different from the key material that was previously imported into this KMS key.".into(),
                ));
            }
        }
        let valid_to = r.valid_to;
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
                self.store
                    .add_material(
                        &ctx.account_id,
                        &ctx.region,
                        &key.id,
                        new_material(material, None),
                        |row, m| {
                            let mut doc = crate::model::parse_doc(row)?;
                            if doc.key_state == "PendingImport" {
                                doc.key_state = "Enabled".into();
                            }
                            doc.expiration_model = Some(model.into());
                            doc.valid_to = valid_to;
                            if symmetric {
                                doc.current_material_id = Some(m.material_id.clone());
                            }
                            write_doc(row, &doc)
                        },
                    )
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
        self.store
            .delete_material(&ctx.account_id, &ctx.region, &key.id)
            .await?;
        self.update(ctx, &key.id, |_, doc, _| {
            if doc.key_state != "PendingDeletion" {
                doc.key_state = "PendingImport".into();
            }
            doc.valid_to = None;
            doc.expiration_model = None;
            doc.current_material_id = None;
            Ok(())
        })
        .await
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
