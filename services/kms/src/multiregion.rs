//! Multi-Region keys: ReplicateKey copies a primary key (same key id, same material) into
//! another region of the account, so ciphertext made in one region decrypts in the other.

use crate::errors::KmsError;
use crate::keys::default_policy;
use crate::model::{now, Key, KeyDoc};
use crate::shapes::*;
use crate::Kms;
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::KeyRow;

impl Kms {
    pub(crate) async fn replicate_key(
        &self,
        ctx: &RequestContext,
        r: ReplicateKeyRequest,
    ) -> Result<ReplicateKeyResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        key.require_not_pending_deletion()?;
        if !key.doc.multi_region {
            return Err(KmsError::Unsupported(format!(
                "{} is not a multi-Region key.",
                key.arn
            )));
        }
        if key.doc.primary_region.as_deref() != Some(ctx.region.as_str()) {
            return Err(KmsError::Unsupported(format!(
                "{} is not a primary key; only primary keys can be replicated.",
                key.arn
            )));
        }
        if r.replica_region == ctx.region {
            return Err(KmsError::Validation(format!(
                "The replica region {} must differ from the primary key's region.",
                r.replica_region
            )));
        }
        let tags = r.tags.unwrap_or_default();
        let policy = r.policy.unwrap_or_else(|| default_policy(&ctx.account_id));
        let doc = KeyDoc {
            description: r.description.unwrap_or_default(),
            tags: tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
            replica_regions: Vec::new(),
            rotation_enabled: false,
            next_rotation: None,
            deletion_date: None,
            pending_window_days: None,
            ..key.doc.clone()
        };
        let row = KeyRow {
            key_id: key.id.clone(),
            created_at: now(),
            metadata: serde_json::to_string(&doc).map_err(|e| KmsError::Internal(e.to_string()))?,
            policy: policy.clone(),
        };
        if !self
            .store
            .create_replica(&ctx.account_id, &ctx.region, &r.replica_region, &row)
            .await?
        {
            return Err(KmsError::AlreadyExists(format!(
                "Replica key {} already exists in {}.",
                key.id, r.replica_region
            )));
        }
        let region = r.replica_region.clone();
        self.update(ctx, &key.id, |_, doc, _| {
            if !doc.replica_regions.contains(&region) {
                doc.replica_regions.push(region);
            }
            Ok(())
        })
        .await?;
        let replica_ctx = RequestContext {
            region: r.replica_region.clone(),
            ..ctx.clone()
        };
        let replica = Key::from_row(&replica_ctx, &row)?;
        Ok(ReplicateKeyResponse {
            replica_key_metadata: self.describe(&replica_ctx, &replica).await?,
            replica_policy: policy,
            replica_tags: tags,
        })
    }

    /// Key metadata; for multi-Region keys the replica list is read from the primary.
    pub(crate) async fn describe(
        &self,
        ctx: &RequestContext,
        key: &Key,
    ) -> Result<KeyMetadata, KmsError> {
        let mut meta = self.metadata(ctx, key);
        let primary_region = key.doc.primary_region.as_deref();
        if let (Some(cfg), Some(primary)) =
            (meta.multi_region_configuration.as_mut(), primary_region)
        {
            if primary != ctx.region {
                if let Some(row) = self
                    .store
                    .get_key(&ctx.account_id, primary, &key.id)
                    .await?
                {
                    let doc = crate::model::parse_doc(&row)?;
                    cfg.replica_keys = doc
                        .replica_regions
                        .iter()
                        .map(|r| MultiRegionKey {
                            arn: crate::model::key_arn(ctx, r, &key.id),
                            region: r.clone(),
                        })
                        .collect();
                }
            }
        }
        Ok(meta)
    }
}
