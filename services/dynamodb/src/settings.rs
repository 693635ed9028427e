//! Per-table settings with their own calls: tags, time to live, continuous backups.

use crate::errors::{DynamoError, Result};
use crate::shapes::*;
use crate::table::TableMeta;
use crate::tables::{now, table_ref, MAX_TAGS};
use crate::DynamoDb;
use cloudemu_core::RequestContext;
use serde_json::{json, Value};

/// The table a tagging call's `ResourceArn` names.
fn table_of_arn(ctx: &RequestContext, arn: &str) -> Result<String> {
    if !arn.starts_with("arn:") {
        return Err(DynamoError::invalid(format!(
            "ARNs must start with 'arn:': {arn}"
        )));
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "dynamodb", region, account, resource] => {
            if *region != ctx.region || *account != ctx.account_id {
                return Err(DynamoError::ResourceNotFound(format!(
                    "Requested resource not found: ResourcArn: {arn} not found"
                )));
            }
            match resource.strip_prefix("table/") {
                Some(name) if !name.contains('/') && !name.is_empty() => Ok(name.to_string()),
                _ => Err(DynamoError::invalid(format!(
                    "Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}"
                ))),
            }
        }
        _ => Err(DynamoError::invalid(format!(
            "Provided Arn is not a DynamoDB resource arn: {arn}"
        ))),
    }
}

impl DynamoDb {
    /// Rewrite a table's definition; `missing` is the error for a table that does not exist.
    async fn modify_table(
        &self,
        ctx: &RequestContext,
        name: &str,
        missing: impl FnOnce() -> DynamoError,
        f: impl FnOnce(&mut TableMeta) -> Result<()>,
    ) -> Result<TableMeta> {
        let res = self
            .store
            .update_table(&ctx.account_id, &ctx.region, name, |row| {
                let mut meta = TableMeta::from_json(&row.meta)?;
                f(&mut meta)?;
                Ok::<_, DynamoError>(meta.to_json())
            })
            .await?;
        match res {
            None => Err(missing()),
            Some(Err(e)) => Err(e),
            Some(Ok(row)) => TableMeta::from_json(&row.meta),
        }
    }

    pub(crate) async fn tag_resource(
        &self,
        ctx: &RequestContext,
        input: TagResourceInput,
    ) -> Result<Value> {
        let name = table_of_arn(ctx, &input.resource_arn)?;
        if input.tags.is_empty() {
            return Err(DynamoError::validation(
                "Atleast one Tag needs to be provided as Input.",
            ));
        }
        let arn = input.resource_arn.clone();
        self.modify_table(
            ctx,
            &name,
            || {
                DynamoError::ResourceNotFound(format!(
                    "Requested resource not found: ResourcArn: {arn} not found"
                ))
            },
            |meta| {
                for t in input.tags {
                    if t.key.starts_with("aws:") {
                        return Err(DynamoError::validation(format!(
                            "Tag Key cannot be prefixed with aws:, Key: {}",
                            t.key
                        )));
                    }
                    match meta.tags.iter_mut().find(|x| x.key == t.key) {
                        Some(x) => x.value = t.value,
                        None => meta.tags.push(t),
                    }
                }
                if meta.tags.len() > MAX_TAGS {
                    return Err(DynamoError::validation(
                        "Number of Tags exceed the current limit for the provided ResourceArn",
                    ));
                }
                Ok(())
            },
        )
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: UntagResourceInput,
    ) -> Result<Value> {
        let name = table_of_arn(ctx, &input.resource_arn)?;
        if input.tag_keys.is_empty() {
            return Err(DynamoError::validation(
                "Atleast one Tag Key needs to be provided as Input.",
            ));
        }
        let arn = input.resource_arn.clone();
        self.modify_table(
            ctx,
            &name,
            || {
                DynamoError::ResourceNotFound(format!(
                    "Requested resource not found: ResourcArn: {arn} not found"
                ))
            },
            |meta| {
                meta.tags.retain(|t| !input.tag_keys.contains(&t.key));
                Ok(())
            },
        )
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_tags_of_resource(
        &self,
        ctx: &RequestContext,
        input: ListTagsInput,
    ) -> Result<Value> {
        let name = table_of_arn(ctx, &input.resource_arn)?;
        let meta = self
            .store
            .get_table(&ctx.account_id, &ctx.region, &name)
            .await?
            .ok_or_else(|| {
                DynamoError::ResourceNotFound(format!(
                    "Requested resource not found: ResourcArn: {} not found",
                    input.resource_arn
                ))
            })?;
        let meta = TableMeta::from_json(&meta.meta)?;
        // At most 50 tags exist, so one page holds them all.
        Ok(json!({ "Tags": meta.tags }))
    }

    pub(crate) async fn describe_time_to_live(
        &self,
        ctx: &RequestContext,
        input: TableNameInput,
    ) -> Result<Value> {
        let name = table_ref(ctx, &input.table_name)?;
        let (_, meta) = self
            .find_table(ctx, &name)
            .await?
            .ok_or_else(|| DynamoError::table_not_found(&name))?;
        Ok(match &meta.ttl {
            Some(t) if t.enabled => json!({ "TimeToLiveDescription": {
                "TimeToLiveStatus": "ENABLED", "AttributeName": t.attribute_name } }),
            _ => json!({ "TimeToLiveDescription": { "TimeToLiveStatus": "DISABLED" } }),
        })
    }

    pub(crate) async fn update_time_to_live(
        &self,
        ctx: &RequestContext,
        input: UpdateTtlInput,
    ) -> Result<Value> {
        let name = table_ref(ctx, &input.table_name)?;
        let spec = input.time_to_live_specification;
        let out = json!({ "TimeToLiveSpecification": spec });
        let n = name.clone();
        self.modify_table(
            ctx,
            &name,
            || DynamoError::table_not_found(&n),
            |meta| {
                let current = meta.ttl.as_ref().filter(|t| t.enabled);
                match (spec.enabled, current) {
                    (true, Some(c)) if c.attribute_name == spec.attribute_name => {
                        Err(DynamoError::validation("TimeToLive is already enabled"))
                    }
                    (true, Some(c)) => Err(DynamoError::validation(format!(
                        "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                        c.attribute_name
                    ))),
                    (false, None) => Err(DynamoError::validation("TimeToLive is already disabled")),
                    (false, Some(c)) if c.attribute_name != spec.attribute_name => {
                        Err(DynamoError::validation(format!(
                            "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                            c.attribute_name
                        )))
                    }
                    _ => {
                        meta.ttl = spec.enabled.then_some(spec);
                        Ok(())
                    }
                }
            },
        )
        .await?;
        // Items already in the table get (or lose) their expiry.
        if let Some(row) = self
            .store
            .get_table(&ctx.account_id, &ctx.region, &name)
            .await?
        {
            let attr = out["TimeToLiveSpecification"]["Enabled"]
                .as_bool()
                .unwrap_or(false)
                .then(|| out["TimeToLiveSpecification"]["AttributeName"].as_str())
                .flatten();
            self.store.refresh_expiry(row.table_id, attr).await?;
        }
        Ok(out)
    }

    pub(crate) async fn describe_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: TableNameInput,
    ) -> Result<Value> {
        let name = table_ref(ctx, &input.table_name)?;
        let (_, meta) = self
            .find_table(ctx, &name)
            .await?
            .ok_or_else(|| DynamoError::TableNotFound(name.clone()))?;
        Ok(backups_description(&meta))
    }

    pub(crate) async fn update_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: UpdateBackupsInput,
    ) -> Result<Value> {
        let name = table_ref(ctx, &input.table_name)?;
        let spec = input.point_in_time_recovery_specification;
        if !spec.point_in_time_recovery_enabled && spec.recovery_period_in_days.is_some() {
            return Err(DynamoError::validation(
                "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery.",
            ));
        }
        let n = name.clone();
        let meta = self
            .modify_table(
                ctx,
                &name,
                || DynamoError::TableNotFound(n),
                |meta| {
                    meta.point_in_time_recovery = spec
                        .point_in_time_recovery_enabled
                        .then(|| spec.recovery_period_in_days.unwrap_or(35));
                    Ok(())
                },
            )
            .await?;
        Ok(backups_description(&meta))
    }
}

fn backups_description(meta: &TableMeta) -> Value {
    let pitr = match meta.point_in_time_recovery {
        Some(days) => {
            let latest = now();
            let earliest = (latest - days as f64 * 86_400.0).max(meta.creation_date_time);
            json!({
                "PointInTimeRecoveryStatus": "ENABLED",
                "RecoveryPeriodInDays": days,
                "EarliestRestorableDateTime": earliest,
                "LatestRestorableDateTime": latest,
            })
        }
        None => json!({ "PointInTimeRecoveryStatus": "DISABLED" }),
    };
    json!({ "ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": pitr,
    } })
}
