//! Grants: stored permissions on a key for a grantee principal. CloudEmu does not evaluate
//! authorization, so grants are stored, listed, retired and revoked as AWS does, and grant
//! tokens are accepted wherever AWS accepts them.

use crate::errors::KmsError;
use crate::model::{key_arn, now};
use crate::paging::page;
use crate::shapes::*;
use crate::{crypto, Kms};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cloudemu_core::RequestContext;
use cloudemu_storage::kms::GrantRow;
use serde::{Deserialize, Serialize};

/// KMS's quota of grants per key.
const MAX_GRANTS_PER_KEY: usize = 50_000;

#[derive(Serialize, Deserialize, Clone)]
struct GrantDoc {
    token: String,
    name: Option<String>,
    grantee_principal: String,
    retiring_principal: Option<String>,
    operations: Vec<String>,
    constraints: Option<GrantConstraints>,
}

fn dry_run(flag: Option<bool>) -> Result<(), KmsError> {
    if flag == Some(true) {
        return Err(KmsError::DryRun);
    }
    Ok(())
}

fn parse(row: &GrantRow) -> Result<GrantDoc, KmsError> {
    serde_json::from_str(&row.doc)
        .map_err(|e| KmsError::Internal(format!("grant {} unreadable: {e}", row.grant_id)))
}

impl Kms {
    fn entry(&self, ctx: &RequestContext, row: &GrantRow, doc: GrantDoc) -> GrantListEntry {
        GrantListEntry {
            key_id: key_arn(ctx, &ctx.region, &row.key_id),
            grant_id: row.grant_id.clone(),
            name: doc.name,
            creation_date: row.created_at,
            grantee_principal: doc.grantee_principal,
            retiring_principal: doc.retiring_principal,
            issuing_account: format!("arn:aws:iam::{}:root", ctx.account_id),
            operations: doc.operations,
            constraints: doc.constraints,
        }
    }

    pub(crate) async fn create_grant(
        &self,
        ctx: &RequestContext,
        r: CreateGrantRequest,
    ) -> Result<CreateGrantResponse, KmsError> {
        let key = self.load(ctx, &r.key_id, false).await?;
        key.require_usable()?;
        if r.operations.is_empty() {
            return Err(KmsError::Validation(
                "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
            ));
        }
        if let Some(c) = &r.constraints {
            if c.encryption_context_equals.is_some() && c.encryption_context_subset.is_some() {
                return Err(KmsError::Validation(
                    "Only one of EncryptionContextEquals and EncryptionContextSubset may be specified.".into(),
                ));
            }
        }
        dry_run(r.dry_run)?;
        let existing = self
            .store
            .list_grants(&ctx.account_id, &ctx.region, Some(&key.id))
            .await?;
        // A retried CreateGrant with the same name and parameters returns the same grant.
        if let Some(name) = &r.name {
            for row in &existing {
                let doc = parse(row)?;
                if doc.name.as_ref() == Some(name)
                    && doc.grantee_principal == r.grantee_principal
                    && doc.retiring_principal == r.retiring_principal
                    && doc.operations == r.operations
                    && doc.constraints == r.constraints
                {
                    return Ok(CreateGrantResponse {
                        grant_token: doc.token,
                        grant_id: row.grant_id.clone(),
                    });
                }
            }
        }
        if existing.len() >= MAX_GRANTS_PER_KEY {
            return Err(KmsError::LimitExceeded(format!(
                "{} has reached the maximum number of grants.",
                key.arn
            )));
        }
        let grant_id: String = crypto::random_bytes(32)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let token = URL_SAFE_NO_PAD.encode(crypto::random_bytes(96));
        let doc = GrantDoc {
            token: token.clone(),
            name: r.name,
            grantee_principal: r.grantee_principal,
            retiring_principal: r.retiring_principal,
            operations: r.operations,
            constraints: r.constraints,
        };
        let row = GrantRow {
            key_id: key.id.clone(),
            grant_id: grant_id.clone(),
            created_at: now(),
            doc: serde_json::to_string(&doc).map_err(|e| KmsError::Internal(e.to_string()))?,
        };
        if !self
            .store
            .put_grant(&ctx.account_id, &ctx.region, &row)
            .await?
        {
            return Err(KmsError::NotFound(format!(
                "Key '{}' does not exist",
                key.arn
            )));
        }
        Ok(CreateGrantResponse {
            grant_token: token,
            grant_id,
        })
    }

    pub(crate) async fn list_grants(
        &self,
        ctx: &RequestContext,
        r: ListGrantsRequest,
    ) -> Result<ListGrantsResponse, KmsError> {
        let key_id = r.key_id.clone().unwrap_or_default();
        let key = self.load(ctx, &key_id, false).await?;
        let mut out = Vec::new();
        for row in self
            .store
            .list_grants(&ctx.account_id, &ctx.region, Some(&key.id))
            .await?
        {
            let doc = parse(&row)?;
            if r.grant_id.as_ref().is_some_and(|g| *g != row.grant_id) {
                continue;
            }
            if r.grantee_principal
                .as_ref()
                .is_some_and(|p| *p != doc.grantee_principal)
            {
                continue;
            }
            out.push(self.entry(ctx, &row, doc));
        }
        let (grants, truncated, next_marker) = page(out, r.marker.as_deref(), r.limit, 50)?;
        Ok(ListGrantsResponse {
            grants,
            truncated,
            next_marker,
        })
    }

    pub(crate) async fn list_retirable_grants(
        &self,
        ctx: &RequestContext,
        r: ListGrantsRequest,
    ) -> Result<ListGrantsResponse, KmsError> {
        let principal = r.retiring_principal.clone().unwrap_or_default();
        let mut out = Vec::new();
        for row in self
            .store
            .list_grants(&ctx.account_id, &ctx.region, None)
            .await?
        {
            let doc = parse(&row)?;
            if doc.retiring_principal.as_deref() == Some(principal.as_str())
                && !self.key_deleted(ctx, &row.key_id).await?
            {
                out.push(self.entry(ctx, &row, doc));
            }
        }
        let (grants, truncated, next_marker) = page(out, r.marker.as_deref(), r.limit, 50)?;
        Ok(ListGrantsResponse {
            grants,
            truncated,
            next_marker,
        })
    }

    async fn delete_grant(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        grant_id: &str,
    ) -> Result<(), KmsError> {
        if !self
            .store
            .delete_grant(&ctx.account_id, &ctx.region, key_id, grant_id)
            .await?
        {
            return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
        }
        Ok(())
    }

    pub(crate) async fn retire_grant(
        &self,
        ctx: &RequestContext,
        r: RetireGrantRequest,
    ) -> Result<serde_json::Value, KmsError> {
        match (r.grant_token, r.key_id, r.grant_id) {
            (Some(token), _, _) => {
                let found = self
                    .store
                    .list_grants(&ctx.account_id, &ctx.region, None)
                    .await?
                    .into_iter()
                    .find(|row| parse(row).is_ok_and(|d| d.token == token));
                let Some(row) = found else {
                    return Err(KmsError::InvalidGrantToken("Invalid grant token".into()));
                };
                dry_run(r.dry_run)?;
                self.delete_grant(ctx, &row.key_id, &row.grant_id).await?;
            }
            (None, Some(key_id), Some(grant_id)) => {
                let key = self.load(ctx, &key_id, false).await?;
                dry_run(r.dry_run)?;
                self.delete_grant(ctx, &key.id, &grant_id).await?;
            }
            _ => {
                return Err(KmsError::Validation(
                    "Grant token OR (grant ID, key ID) must be specified".into(),
                ))
            }
        }
        Ok(serde_json::json!({}))
    }

    pub(crate) async fn revoke_grant(
        &self,
        ctx: &RequestContext,
        r: RetireGrantRequest,
    ) -> Result<serde_json::Value, KmsError> {
        let key = self
            .load(ctx, r.key_id.as_deref().unwrap_or_default(), false)
            .await?;
        dry_run(r.dry_run)?;
        self.delete_grant(ctx, &key.id, r.grant_id.as_deref().unwrap_or_default())
            .await?;
        Ok(serde_json::json!({}))
    }
}
