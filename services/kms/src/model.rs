//! A key as the service keeps it (the metadata document storage holds), its ARN and state
//! rules, and how a KeyId argument names a key.

use crate::errors::KmsError;
use crate::Kms;
use chrono::Utc;
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::{KeyRow, Material};
use serde::{Deserialize, Serialize};

/// The metadata document of one key.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct KeyDoc {
    pub description: String,
    pub key_usage: String,
    pub key_spec: String,
    pub origin: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`.
    pub key_state: String,
    pub deletion_date: Option<f64>,
    pub pending_window_days: Option<i64>,
    pub multi_region: bool,
    /// For multi-region keys: the primary's region and the replicas' regions.
    pub primary_region: Option<String>,
    pub replica_regions: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub rotation_enabled: bool,
    pub rotation_period_days: Option<i64>,
    pub next_rotation: Option<f64>,
    pub on_demand_rotation_start: Option<f64>,
    pub valid_to: Option<f64>,
    pub expiration_model: Option<String>,
    pub current_material_id: Option<String>,
    /// EXTERNAL keys: the id of the first material imported, which stays the key's for good
    /// (a re-import, even after the material was deleted, must bring the same material).
    pub imported_material_id: Option<String>,
}

impl KeyDoc {
    /// The key's deletion date has passed by `t`: it no longer exists.
    pub fn deleted_by(&self, t: f64) -> bool {
        self.key_state == "PendingDeletion" && self.deletion_date.is_some_and(|d| d <= t)
    }
}

/// A loaded key: its row, parsed document and ARN.
pub struct Key {
    pub id: String,
    pub arn: String,
    pub created_at: f64,
    pub doc: KeyDoc,
    pub policy: String,
}

pub fn now() -> f64 {
    let t = Utc::now();
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0
}

pub fn key_arn(ctx: &RequestContext, region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{}:key/{id}", ctx.account_id)
}

pub fn alias_arn(ctx: &RequestContext, name: &str) -> String {
    format!("arn:aws:kms:{}:{}:{name}", ctx.region, ctx.account_id)
}

pub fn parse_doc(row: &KeyRow) -> Result<KeyDoc, KmsError> {
    serde_json::from_str(&row.metadata)
        .map_err(|e| KmsError::Internal(format!("key {} metadata unreadable: {e}", row.key_id)))
}

pub fn write_doc(row: &mut KeyRow, doc: &KeyDoc) -> Result<(), KmsError> {
    row.metadata =
        serde_json::to_string(doc).map_err(|e| KmsError::Internal(format!("key metadata: {e}")))?;
    Ok(())
}

impl Key {
    pub fn from_row(ctx: &RequestContext, row: &KeyRow) -> Result<Self, KmsError> {
        Ok(Key {
            arn: key_arn(ctx, &ctx.region, &row.key_id),
            id: row.key_id.clone(),
            created_at: row.created_at,
            doc: parse_doc(row)?,
            policy: row.policy.clone(),
        })
    }

    /// The key may be used for cryptography: enabled, not pending anything.
    pub fn require_usable(&self) -> Result<(), KmsError> {
        match self.doc.key_state.as_str() {
            "Enabled" => Ok(()),
            "Disabled" => Err(KmsError::Disabled(self.arn.clone())),
            state => Err(self.invalid_state(state)),
        }
    }

    pub fn invalid_state(&self, state: &str) -> KmsError {
        let what = match state {
            "PendingDeletion" => "pending deletion",
            "PendingImport" => "pending import",
            "PendingReplicaDeletion" => "pending replica deletion",
            "Enabled" => "enabled",
            "Disabled" => "disabled",
            other => other,
        };
        KmsError::InvalidState(format!("{} is {what}.", self.arn))
    }

    /// Refuse changes to a key pending deletion (or import, for what needs material).
    pub fn require_not_pending_deletion(&self) -> Result<(), KmsError> {
        if self.doc.key_state == "PendingDeletion" {
            return Err(self.invalid_state("PendingDeletion"));
        }
        Ok(())
    }

    pub fn require_usage(&self, usage: &str, op: &str) -> Result<(), KmsError> {
        if self.doc.key_usage != usage {
            return Err(KmsError::InvalidKeyUsage(format!(
                "{} key usage is {} which is not valid for {op}.",
                self.arn, self.doc.key_usage
            )));
        }
        Ok(())
    }
}

/// How a KeyId argument names a key.
enum KeyRef {
    Id(String),
    Alias(String),
}

fn is_key_id(s: &str) -> bool {
    let uuid = s.len() == 36 && uuid::Uuid::parse_str(s).is_ok();
    let mrk = s
        .strip_prefix("mrk-")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    uuid || mrk
}

impl Kms {
    fn parse_ref(&self, ctx: &RequestContext, key_id: &str) -> Result<KeyRef, KmsError> {
        let invalid = || KmsError::NotFound(format!("Invalid keyId {key_id}"));
        if let Some(rest) = key_id.strip_prefix("arn:") {
            // arn:<partition>:kms:<region>:<account>:key/<id> | alias/<name>
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            if parts.len() != 5 || parts[1] != "kms" {
                return Err(KmsError::InvalidArn(format!("Invalid arn {key_id}")));
            }
            if parts[2] != ctx.region || parts[3] != ctx.account_id {
                return Err(KmsError::NotFound(format!("Key '{key_id}' does not exist")));
            }
            let resource = parts[4];
            if let Some(id) = resource.strip_prefix("key/") {
                return if is_key_id(id) {
                    Ok(KeyRef::Id(id.to_string()))
                } else {
                    Err(invalid())
                };
            }
            if resource.starts_with("alias/") {
                return Ok(KeyRef::Alias(resource.to_string()));
            }
            return Err(KmsError::InvalidArn(format!("Invalid arn {key_id}")));
        }
        if key_id.starts_with("alias/") {
            return Ok(KeyRef::Alias(key_id.to_string()));
        }
        if is_key_id(key_id) {
            return Ok(KeyRef::Id(key_id.to_string()));
        }
        Err(invalid())
    }

    /// The key id a KeyId argument names. Aliases are accepted only where AWS accepts them
    /// (`allow_alias`); elsewhere they are not a valid key id.
    pub(crate) async fn resolve_id(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        allow_alias: bool,
    ) -> Result<String, KmsError> {
        match self.parse_ref(ctx, key_id)? {
            KeyRef::Id(id) => Ok(id),
            KeyRef::Alias(_) if !allow_alias => {
                Err(KmsError::NotFound(format!("Invalid keyId {key_id}")))
            }
            KeyRef::Alias(name) => self
                .store
                .get_alias(&ctx.account_id, &ctx.region, &name)
                .await?
                .map(|a| a.key_id)
                .ok_or_else(|| {
                    KmsError::NotFound(format!("Alias {} is not found.", alias_arn(ctx, &name)))
                }),
        }
    }

    fn not_found(ctx: &RequestContext, id: &str) -> KmsError {
        KmsError::NotFound(format!(
            "Key '{}' does not exist",
            key_arn(ctx, &ctx.region, id)
        ))
    }

    /// A key's deletion date has passed: it is deleted now, and was never there. Imported
    /// material past its ValidTo is deleted too (the key then waits for a new import).
    async fn expire(&self, ctx: &RequestContext, key: &mut Key) -> Result<bool, KmsError> {
        if key.doc.deleted_by(now()) {
            self.store
                .delete_key(&ctx.account_id, &ctx.region, &key.id)
                .await?;
            return Ok(true);
        }
        let t = now();
        if key.doc.valid_to.is_some_and(|v| v <= t) {
            crate::import::drop_material(
                &self.store,
                &ctx.account_id,
                &ctx.region,
                &key.id,
                Some(t),
            )
            .await?;
            if let Some(row) = self
                .store
                .get_key(&ctx.account_id, &ctx.region, &key.id)
                .await?
            {
                *key = Key::from_row(ctx, &row)?;
            }
        }
        Ok(false)
    }

    /// The key is gone or past its deletion date (list calls leave out what hangs off it).
    pub(crate) async fn key_deleted(
        &self,
        ctx: &RequestContext,
        key_id: &str,
    ) -> Result<bool, KmsError> {
        Ok(
            match self
                .store
                .get_key(&ctx.account_id, &ctx.region, key_id)
                .await?
            {
                Some(row) => parse_doc(&row)?.deleted_by(now()),
                None => true,
            },
        )
    }

    /// Load the key a KeyId argument names, or `NotFoundException`.
    pub(crate) async fn load(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        allow_alias: bool,
    ) -> Result<Key, KmsError> {
        let id = self.resolve_id(ctx, key_id, allow_alias).await?;
        let row = self
            .store
            .get_key(&ctx.account_id, &ctx.region, &id)
            .await?
            .ok_or_else(|| Self::not_found(ctx, &id))?;
        let mut key = Key::from_row(ctx, &row)?;
        if self.expire(ctx, &mut key).await? {
            return Err(Self::not_found(ctx, &id));
        }
        Ok(key)
    }

    /// Load a key with one version of its material (`None`: the current one).
    pub(crate) async fn load_with_material(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        version: Option<i64>,
    ) -> Result<(Key, Option<Material>), KmsError> {
        let id = self.resolve_id(ctx, key_id, true).await?;
        self.load_id_with_material(ctx, &id, version).await
    }

    pub(crate) async fn load_id_with_material(
        &self,
        ctx: &RequestContext,
        id: &str,
        version: Option<i64>,
    ) -> Result<(Key, Option<Material>), KmsError> {
        let (row, material) = self
            .store
            .get_key_material(&ctx.account_id, &ctx.region, id, version)
            .await?
            .ok_or_else(|| Self::not_found(ctx, id))?;
        let mut key = Key::from_row(ctx, &row)?;
        let material_expired = key.doc.valid_to.is_some_and(|t| t <= now());
        if self.expire(ctx, &mut key).await? {
            return Err(Self::not_found(ctx, id));
        }
        Ok((key, if material_expired { None } else { material }))
    }

    /// Read-modify-write a key's document (and policy) atomically.
    pub(crate) async fn update<T>(
        &self,
        ctx: &RequestContext,
        id: &str,
        f: impl FnOnce(&Key, &mut KeyDoc, &mut String) -> Result<T, KmsError>,
    ) -> Result<T, KmsError> {
        let out = self
            .store
            .update_key(&ctx.account_id, &ctx.region, id, |row| {
                let key = Key::from_row(ctx, row)?;
                let mut doc = key.doc.clone();
                let mut policy = row.policy.clone();
                let out = f(&key, &mut doc, &mut policy)?;
                write_doc(row, &doc)?;
                row.policy = policy;
                Ok::<T, KmsError>(out)
            })
            .await?;
        out.ok_or_else(|| Self::not_found(ctx, id))
    }
}
