//! Key rotation: automatic (a period in days) and on demand. Each rotation adds a material
//! version; ciphertexts name their version, so old ones keep decrypting.

use crate::errors::KmsError;
use crate::keys::{generate_material, new_material};
use crate::model::{now, write_doc, Key, KeyDoc};
use crate::paging::page;
use crate::shapes::*;
use crate::{specs, Kms};
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::{KmsStore, Material};

pub(crate) const DAY: f64 = 86_400.0;
pub(crate) const DEFAULT_PERIOD_DAYS: i64 = 365;
/// KMS allows ten on-demand rotations per key.
const MAX_ON_DEMAND: usize = 10;

fn require_rotatable(key: &Key) -> Result<(), KmsError> {
    if !specs::is_symmetric(&key.doc.key_spec) {
        return Err(KmsError::Unsupported(format!(
            "{} key spec is {} which is not valid for this operation.",
            key.arn, key.doc.key_spec
        )));
    }
    // A replica rotates with its primary, never on its own.
    if key.doc.multi_region
        && !key.arn.contains(&format!(
            ":{}:",
            key.doc.primary_region.as_deref().unwrap_or_default()
        ))
    {
        return Err(KmsError::Unsupported(format!(
            "{} is a multi-Region replica key; rotate its primary key.",
            key.arn
        )));
    }
    if key.doc.origin != "AWS_KMS" {
        return Err(KmsError::Unsupported(format!(
            "{} origin is {} which is not valid for this operation.",
            key.arn, key.doc.origin
        )));
    }
    Ok(())
}

/// Add a material version and make it current. A multi-Region primary hands the same
/// material to its replicas, so ciphertext stays interchangeable between them. An automatic
/// rotation that a concurrent request (or the sweeper) already made is not made twice.
pub(crate) async fn rotate_stored(
    store: &KmsStore,
    account: &str,
    region: &str,
    key_id: &str,
    doc: &KeyDoc,
    kind: &str,
) -> Result<(), KmsError> {
    let material = new_material(generate_material(&doc.key_spec).await?, Some(kind));
    let automatic = kind == "AUTOMATIC";
    let added = store
        .add_material(account, region, key_id, material, |row, m| {
            let mut doc = crate::model::parse_doc(row)?;
            if automatic && !doc.next_rotation.is_some_and(|t| t <= now()) {
                return Err(KmsError::RotationRaced);
            }
            doc.current_material_id = Some(m.material_id.clone());
            // On-demand rotation leaves the automatic schedule as it was (as AWS).
            if automatic {
                let period = doc.rotation_period_days.unwrap_or(DEFAULT_PERIOD_DAYS);
                doc.next_rotation = Some(now() + period as f64 * DAY);
            }
            write_doc(row, &doc)
        })
        .await;
    let added = match added {
        Err(KmsError::RotationRaced) => return Ok(()),
        other => other?,
    };
    let Some(added) = added else {
        return Ok(());
    };
    if doc.multi_region && doc.primary_region.as_deref() == Some(region) {
        for replica in &doc.replica_regions {
            store
                .add_material(account, replica, key_id, added.clone(), |row, m| {
                    let mut doc = crate::model::parse_doc(row)?;
                    doc.current_material_id = Some(m.material_id.clone());
                    write_doc(row, &doc)
                })
                .await?;
        }
    }
    Ok(())
}

impl Kms {
    /// The key and its current material, rotating first if an automatic rotation is due.
    pub(crate) async fn current_material(
        &self,
        ctx: &RequestContext,
        key_id: &str,
    ) -> Result<(Key, Option<Material>), KmsError> {
        let (key, m) = self.load_with_material(ctx, key_id, None).await?;
        let due = key.doc.rotation_enabled
            && key.doc.key_state == "Enabled"
            && key.doc.next_rotation.is_some_and(|t| t <= now());
        if !due {
            return Ok((key, m));
        }
        self.rotate(ctx, &key, "AUTOMATIC").await?;
        self.load_id_with_material(ctx, &key.id, None).await
    }

    async fn rotate(&self, ctx: &RequestContext, key: &Key, kind: &str) -> Result<(), KmsError> {
        rotate_stored(
            &self.store,
            &ctx.account_id,
            &ctx.region,
            &key.id,
            &key.doc,
            kind,
        )
        .await
    }

    pub(crate) async fn enable_key_rotation(
        &self,
        ctx: &RequestContext,
        r: EnableKeyRotationRequest,
    ) -> Result<serde_json::Value, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        let period = r.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);
        self.update(ctx, &key.id, |key, doc, _| {
            key.require_usable()?;
            require_rotatable(key)?;
            doc.rotation_enabled = true;
            doc.rotation_period_days = Some(period);
            doc.next_rotation = Some(now() + period as f64 * DAY);
            Ok(())
        })
        .await?;
        self.sweep.due(now() + period as f64 * DAY);
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn disable_key_rotation(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<serde_json::Value, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        self.update(ctx, &key.id, |key, doc, _| {
            key.require_usable()?;
            require_rotatable(key)?;
            doc.rotation_enabled = false;
            doc.next_rotation = None;
            Ok(())
        })
        .await?;
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn get_key_rotation_status(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<GetKeyRotationStatusResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        key.require_not_pending_deletion()?;
        // Keys that cannot rotate automatically (asymmetric, HMAC, imported) answer false, not
        // an error: Terraform reads the status of every AWS_KMS key and fails on an error.
        let on = key.doc.rotation_enabled;
        Ok(GetKeyRotationStatusResponse {
            key_rotation_enabled: on,
            key_id: key.arn,
            rotation_period_in_days: key.doc.rotation_period_days.filter(|_| on),
            next_rotation_date: key.doc.next_rotation.filter(|_| on),
            on_demand_rotation_start_date: None,
        })
    }

    pub(crate) async fn rotate_key_on_demand(
        &self,
        ctx: &RequestContext,
        r: KeyIdRequest,
    ) -> Result<KeyIdResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        key.require_usable()?;
        require_rotatable(&key)?;
        let done = self
            .store
            .list_material(&ctx.account_id, &ctx.region, &key.id)
            .await?
            .iter()
            .filter(|m| m.rotation.as_deref() == Some("ON_DEMAND"))
            .count();
        if done >= MAX_ON_DEMAND {
            return Err(KmsError::LimitExceeded(format!(
                "{} has reached the maximum number of on-demand rotations.",
                key.arn
            )));
        }
        self.rotate(ctx, &key, "ON_DEMAND").await?;
        Ok(KeyIdResponse { key_id: key.arn })
    }

    pub(crate) async fn list_key_rotations(
        &self,
        ctx: &RequestContext,
        r: ListRequest,
    ) -> Result<ListKeyRotationsResponse, KmsError> {
        let key_id = r.key_id.clone().unwrap_or_default();
        let key = self.load(ctx, &key_id, false).await?;
        require_rotatable(&key)?;
        let all = self
            .store
            .list_material(&ctx.account_id, &ctx.region, &key.id)
            .await?;
        let current = all.last().map(|m| m.version);
        let rotations: Vec<RotationsListEntry> = all
            .into_iter()
            .filter(|m| m.rotation.is_some())
            .map(|m| RotationsListEntry {
                key_id: key.arn.clone(),
                key_material_state: if Some(m.version) == current {
                    "CURRENT"
                } else {
                    "NON_CURRENT"
                },
                key_material_id: m.material_id,
                rotation_date: m.created_at,
                rotation_type: m.rotation.unwrap_or_default(),
            })
            .collect();
        let (rotations, truncated, next_marker) =
            page(rotations, r.marker.as_deref(), r.limit, 100)?;
        Ok(ListKeyRotationsResponse {
            rotations,
            truncated,
            next_marker,
        })
    }
}
