//! Keys: create, describe, list, enable/disable, description, deletion, policies, tags.

use crate::crypto;
use crate::errors::KmsError;
use crate::model::{key_arn, now, Key, KeyDoc};
use crate::paging::page;
use crate::shapes::*;
use crate::{specs, Kms};
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::{KeyRow, Material};

/// KMS's quota of tags per key.
const MAX_TAGS: usize = 50;
const DAY: f64 = 86_400.0;

/// The key policy AWS writes when CreateKey names none, formatted as AWS returns it.
pub fn default_policy(account: &str) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{account}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}

fn check_policy(policy: &str) -> Result<(), KmsError> {
    match serde_json::from_str::<serde_json::Value>(policy) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(KmsError::MalformedPolicy(
            "The key policy is not a valid JSON document.".into(),
        )),
    }
}

/// A key material id as KMS shows them: 64 hex digits.
pub fn new_material_id() -> String {
    crypto::random_bytes(32)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn new_material(secret: Vec<u8>, rotation: Option<&str>) -> Material {
    let id = new_material_id();
    Material {
        version: 1,
        material_id: id,
        secret,
        created_at: now(),
        rotation: rotation.map(str::to_string),
    }
}

/// Generate material off the async workers: RSA key generation takes a while.
pub async fn generate_material(spec: &str) -> Result<Vec<u8>, KmsError> {
    let spec = spec.to_string();
    tokio::task::spawn_blocking(move || crypto::generate(&spec))
        .await
        .map_err(|e| KmsError::Internal(format!("key generation task: {e}")))?
        .map_err(|e| KmsError::Internal(format!("key generation: {e}")))
}

fn check_tags(tags: &[Tag], existing: usize) -> Result<(), KmsError> {
    for t in tags {
        if t.key.starts_with("aws:") {
            return Err(KmsError::Tag(
                "Tags beginning with aws: are reserved.".into(),
            ));
        }
    }
    if existing + tags.len() > MAX_TAGS {
        return Err(KmsError::LimitExceeded(
            "The request was rejected because too many tags were specified.".into(),
        ));
    }
    Ok(())
}

fn merge_tags(current: &mut Vec<(String, String)>, tags: Vec<Tag>) {
    for t in tags {
        match current.iter_mut().find(|(k, _)| *k == t.key) {
            Some(slot) => slot.1 = t.value,
            None => current.push((t.key, t.value)),
        }
    }
}

impl Kms {
    pub(crate) fn metadata(&self, ctx: &RequestContext, key: &Key) -> KeyMetadata {
        let d = &key.doc;
        let mr = d.multi_region.then(|| {
            let primary_region = d.primary_region.clone().unwrap_or(ctx.region.clone());
            let kind = if primary_region == ctx.region {
                "PRIMARY"
            } else {
                "REPLICA"
            };
            MultiRegionConfiguration {
                multi_region_key_type: kind.into(),
                primary_key: MultiRegionKey {
                    arn: key_arn(ctx, &primary_region, &key.id),
                    region: primary_region.clone(),
                },
                replica_keys: d
                    .replica_regions
                    .iter()
                    .map(|r| MultiRegionKey {
                        arn: key_arn(ctx, r, &key.id),
                        region: r.clone(),
                    })
                    .collect(),
            }
        });
        KeyMetadata {
            aws_account_id: ctx.account_id.clone(),
            key_id: key.id.clone(),
            arn: key.arn.clone(),
            creation_date: key.created_at,
            enabled: d.key_state == "Enabled",
            description: d.description.clone(),
            key_usage: d.key_usage.clone(),
            key_state: d.key_state.clone(),
            deletion_date: d.deletion_date,
            valid_to: d.valid_to,
            origin: d.origin.clone(),
            expiration_model: d.expiration_model.clone(),
            key_manager: "CUSTOMER",
            customer_master_key_spec: d.key_spec.clone(),
            key_spec: d.key_spec.clone(),
            encryption_algorithms: specs::encryption_algorithms(&d.key_spec, &d.key_usage),
            signing_algorithms: specs::signing_algorithms(&d.key_spec, &d.key_usage),
            key_agreement_algorithms: specs::key_agreement_algorithms(&d.key_usage),
            mac_algorithms: specs::mac_algorithms(&d.key_spec),
            multi_region: d.multi_region,
            multi_region_configuration: mr,
            pending_deletion_window_in_days: d.pending_window_days,
            current_key_material_id: d.current_material_id.clone(),
        }
    }

    pub(crate) async fn create_key(
        &self,
        ctx: &RequestContext,
        r: CreateKeyRequest,
    ) -> Result<KeyMetadataResponse, KmsError> {
        if r.key_spec.is_some() && r.customer_master_key_spec.is_some() {
            return Err(KmsError::Validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.".into(),
            ));
        }
        if r.custom_key_store_id.is_some() || r.xks_key_id.is_some() {
            return Err(KmsError::Unsupported(
                "Custom key stores are not supported by CloudEmu.".into(),
            ));
        }
        let spec = r
            .key_spec
            .or(r.customer_master_key_spec)
            .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
        let usage = r.key_usage.unwrap_or_else(|| "ENCRYPT_DECRYPT".into());
        specs::check(&spec, &usage)?;
        let origin = r.origin.unwrap_or_else(|| "AWS_KMS".into());
        match origin.as_str() {
            "AWS_KMS" | "EXTERNAL" => {}
            _ => {
                return Err(KmsError::Unsupported(format!(
                    "Origin {origin} is not supported by CloudEmu."
                )))
            }
        }
        if let Some(p) = &r.policy {
            check_policy(p)?;
        }
        let tags = r.tags.unwrap_or_default();
        check_tags(&tags, 0)?;
        let multi_region = r.multi_region.unwrap_or(false);
        let id = if multi_region {
            format!("mrk-{}", uuid::Uuid::new_v4().simple())
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let material = if origin == "AWS_KMS" {
            Some(new_material(generate_material(&spec).await?, None))
        } else {
            None
        };
        let mut doc = KeyDoc {
            description: r.description.unwrap_or_default(),
            key_usage: usage,
            key_spec: spec.clone(),
            key_state: if material.is_some() {
                "Enabled".into()
            } else {
                "PendingImport".into()
            },
            multi_region,
            primary_region: multi_region.then(|| ctx.region.clone()),
            // Only symmetric keys name their material in metadata.
            current_material_id: material
                .as_ref()
                .filter(|_| specs::is_symmetric(&spec))
                .map(|m| m.material_id.clone()),
            origin,
            ..KeyDoc::default()
        };
        merge_tags(&mut doc.tags, tags);
        let row = KeyRow {
            key_id: id.clone(),
            created_at: now(),
            metadata: serde_json::to_string(&doc).map_err(|e| KmsError::Internal(e.to_string()))?,
            policy: r.policy.unwrap_or_else(|| default_policy(&ctx.account_id)),
        };
        self.store
            .create_key(&ctx.account_id, &ctx.region, &row, material.as_ref())
            .await?;
        let key = Key::from_row(ctx, &row)?;
        Ok(KeyMetadataResponse {
            key_metadata: self.metadata(ctx, &key),
        })
    }

    pub(crate) async fn describe_key(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<KeyMetadataResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, true).await?;
        Ok(KeyMetadataResponse {
            key_metadata: self.describe(ctx, &key).await?,
        })
    }

    pub(crate) async fn list_keys(
        &self,
        ctx: &RequestContext,
        r: ListRequest,
    ) -> Result<ListKeysResponse, KmsError> {
        let mut live = Vec::new();
        for row in self.store.list_keys(&ctx.account_id, &ctx.region).await? {
            let key = Key::from_row(ctx, &row)?;
            if key.doc.deleted_by(now()) {
                self.store
                    .delete_key(&ctx.account_id, &ctx.region, &key.id)
                    .await?;
            } else {
                live.push(KeyListEntry {
                    key_id: key.id,
                    key_arn: key.arn,
                });
            }
        }
        let (keys, truncated, next_marker) = page(live, r.marker.as_deref(), r.limit, 100)?;
        Ok(ListKeysResponse {
            keys,
            truncated,
            next_marker,
        })
    }

    pub(crate) async fn enable_key(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<serde_json::Value, KmsError> {
        self.set_enabled(ctx, &r.key_id, true).await
    }

    pub(crate) async fn disable_key(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<serde_json::Value, KmsError> {
        self.set_enabled(ctx, &r.key_id, false).await
    }

    async fn set_enabled(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        enabled: bool,
    ) -> Result<serde_json::Value, KmsError> {
        let key = self.load(ctx, key_id, false).await?;
        self.update(ctx, &key.id, |key, doc, _| {
            match doc.key_state.as_str() {
                "Enabled" | "Disabled" => {}
                state => return Err(key.invalid_state(state)),
            }
            doc.key_state = if enabled { "Enabled" } else { "Disabled" }.into();
            Ok(())
        })
        .await?;
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn update_key_description(
        &self,
        ctx: &RequestContext,
        r: UpdateKeyDescriptionRequest,
    ) -> Result<serde_json::Value, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        self.update(ctx, &key.id, |key, doc, _| {
            key.require_not_pending_deletion()?;
            doc.description = r.description;
            Ok(())
        })
        .await?;
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn schedule_key_deletion(
        &self,
        ctx: &RequestContext,
        r: ScheduleKeyDeletionRequest,
    ) -> Result<ScheduleKeyDeletionResponse, KmsError> {
        let days = r.pending_window_in_days.unwrap_or(30);
        if !(7..=30).contains(&days) {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value {}",
                if days < 7 { "greater than or equal to 7" } else { "less than or equal to 30" }
            )));
        }
        let key = self.load(ctx, &r.key_id, false).await?;
        let date = self
            .update(ctx, &key.id, |key, doc, _| {
                key.require_not_pending_deletion()?;
                let date = now() + days as f64 * DAY;
                doc.key_state = "PendingDeletion".into();
                doc.deletion_date = Some(date);
                doc.pending_window_days = Some(days);
                Ok(date)
            })
            .await?;
        self.sweep.due(date);
        Ok(ScheduleKeyDeletionResponse {
            key_id: key.arn,
            deletion_date: date,
            key_state: "PendingDeletion".into(),
            pending_window_in_days: days,
        })
    }

    pub(crate) async fn cancel_key_deletion(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<KeyIdResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        let has_material = !self
            .store
            .list_material(&ctx.account_id, &ctx.region, &key.id)
            .await?
            .is_empty();
        self.update(ctx, &key.id, |key, doc, _| {
            if doc.key_state != "PendingDeletion" {
                return Err(KmsError::InvalidState(format!(
                    "{} is not pending deletion.",
                    key.arn
                )));
            }
            // A key whose deletion is cancelled comes back disabled, as in AWS (or still
            // waiting for its material, if it never had any).
            doc.key_state = if has_material {
                "Disabled"
            } else {
                "PendingImport"
            }
            .into();
            doc.deletion_date = None;
            doc.pending_window_days = None;
            Ok(())
        })
        .await?;
        Ok(KeyIdResponse { key_id: key.arn })
    }

    pub(crate) async fn get_key_policy(
        &self,
        ctx: &RequestContext,
        r: GetKeyPolicyRequest,
    ) -> Result<GetKeyPolicyResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        let name = r.policy_name.unwrap_or_else(|| "default".into());
        if name != "default" {
            return Err(KmsError::NotFound("No such policy exists".into()));
        }
        Ok(GetKeyPolicyResponse {
            policy: key.policy,
            policy_name: name,
        })
    }

    pub(crate) async fn put_key_policy(
        &self,
        ctx: &RequestContext,
        r: PutKeyPolicyRequest,
    ) -> Result<serde_json::Value, KmsError> {
        let name = r.policy_name.unwrap_or_else(|| "default".into());
        if name != "default" {
            return Err(KmsError::NotFound("No such policy exists".into()));
        }
        check_policy(&r.policy)?;
        let key = self.load(ctx, &r.key_id, false).await?;
        self.update(ctx, &key.id, |key, _, policy| {
            key.require_not_pending_deletion()?;
            *policy = r.policy;
            Ok(())
        })
        .await?;
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn list_key_policies(
        &self,
        ctx: &RequestContext,
        r: ListRequest,
    ) -> Result<ListKeyPoliciesResponse, KmsError> {
        let key_id = r.key_id.unwrap_or_default();
        self.load(ctx, &key_id, false).await?;
        Ok(ListKeyPoliciesResponse {
            policy_names: vec!["default".into()],
            truncated: false,
        })
    }

    pub(crate) async fn tag_resource(
        &self,
        ctx: &RequestContext,
        r: TagResourceRequest,
    ) -> Result<serde_json::Value, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        self.update(ctx, &key.id, |key, doc, _| {
            key.require_not_pending_deletion()?;
            let new = r
                .tags
                .iter()
                .filter(|t| !doc.tags.iter().any(|(k, _)| *k == t.key))
                .count();
            check_tags(&r.tags, 0)?;
            if doc.tags.len() + new > MAX_TAGS {
                return Err(KmsError::LimitExceeded(
                    "The request was rejected because too many tags were specified.".into(),
                ));
            }
            merge_tags(&mut doc.tags, r.tags);
            Ok(())
        })
        .await?;
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        r: UntagResourceRequest,
    ) -> Result<serde_json::Value, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        self.update(ctx, &key.id, |key, doc, _| {
            key.require_not_pending_deletion()?;
            doc.tags.retain(|(k, _)| !r.tag_keys.contains(k));
            Ok(())
        })
        .await?;
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn list_resource_tags(
        &self,
        ctx: &RequestContext,
        r: ListRequest,
    ) -> Result<ListResourceTagsResponse, KmsError> {
        let key_id = r.key_id.unwrap_or_default();
        let key = self.load(ctx, &key_id, false).await?;
        let tags: Vec<Tag> = key
            .doc
            .tags
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect();
        let (tags, truncated, next_marker) = page(tags, r.marker.as_deref(), r.limit, 50)?;
        Ok(ListResourceTagsResponse {
            tags,
            truncated,
            next_marker,
        })
    }
}
