//! The control plane: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable,
//! DescribeLimits and DescribeEndpoints.

use crate::errors::{DynamoError, Result};
use crate::shapes::*;
use crate::table::TableMeta;
use crate::DynamoDb;
use cloudemu_core::RequestContext;
use cloudemu_storage::dynamodb::TableRow;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

const MAX_LSIS: usize = 5;
const MAX_GSIS: usize = 20;
pub(crate) const MAX_TAGS: usize = 50;

pub(crate) fn now() -> f64 {
    let t = chrono::Utc::now();
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0
}

pub(crate) fn table_arn(ctx: &RequestContext, name: &str) -> String {
    format!(
        "arn:aws:dynamodb:{}:{}:table/{name}",
        ctx.region, ctx.account_id
    )
}

/// A table name as AWS checks it (`TableName` is modelled as a 1..1024 ARN-or-name string, so
/// the name rules are ours to apply).
fn check_table_name(name: &str, member: &str) -> Result<()> {
    let mut errors = Vec::new();
    if name.len() < 3 {
        errors.push(format!(
            "Value '{name}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 3"
        ));
    }
    if name.len() > 255 {
        errors.push(format!(
            "Value '{name}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to 255"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        errors.push(format!(
            "Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        ));
    }
    validation_errors(errors)
}

/// "N validation error(s) detected: …" when there are any.
pub(crate) fn validation_errors(errors: Vec<String>) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let n = errors.len();
    Err(DynamoError::validation(format!(
        "{n} validation error{} detected: {}",
        if n == 1 { "" } else { "s" },
        errors.join("; ")
    )))
}

/// The table a `TableName` member names: a name, or a table ARN in the caller's account and
/// region (AWS accepts both).
pub(crate) fn table_ref(ctx: &RequestContext, given: &str) -> Result<String> {
    if let Some(rest) = given.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let name = match parts.as_slice() {
            [_, "dynamodb", region, account, resource]
                if *region == ctx.region && *account == ctx.account_id =>
            {
                resource.strip_prefix("table/")
            }
            _ => None,
        };
        return match name {
            Some(n) if !n.contains('/') => Ok(n.to_string()),
            _ => Err(DynamoError::validation(format!(
                "1 validation error detected: Invalid resource ARN in '{given}'"
            ))),
        };
    }
    check_table_name(given, "tableName")?;
    Ok(given.to_string())
}

fn check_projection(p: &Projection) -> Result<()> {
    match (p.projection_type.as_deref(), &p.non_key_attributes) {
        (None, _) => Err(DynamoError::invalid("Unknown ProjectionType: null")),
        (Some("INCLUDE"), None) => Err(DynamoError::invalid(
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        )),
        (Some(t @ ("ALL" | "KEYS_ONLY")), Some(_)) => Err(DynamoError::invalid(format!(
            "ProjectionType is {t}, but NonKeyAttributes is specified"
        ))),
        (Some(_), Some(attrs)) => {
            let mut seen = BTreeSet::new();
            for a in attrs {
                if !seen.insert(a) {
                    return Err(DynamoError::invalid(format!(
                        "Duplicate element in NonKeyAttributes: {a}"
                    )));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A key schema's shape: one HASH, then at most one RANGE with another name.
fn check_key_schema(ks: &[KeySchemaElement]) -> Result<()> {
    if ks.len() > 2 {
        return validation_errors(vec![format!(
            "Value '[{}]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
            ks.iter()
                .map(|k| format!(
                    "KeySchemaElement(attributeName={}, keyType={})",
                    k.attribute_name, k.key_type
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )]);
    }
    if ks.first().map(|k| k.key_type.as_str()) != Some("HASH") {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some(second) = ks.get(1) {
        if second.key_type != "RANGE" {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if second.attribute_name == ks[0].attribute_name {
            return Err(DynamoError::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
    }
    Ok(())
}

fn check_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(DynamoError::validation(
            "Number of Tags exceed the current limit for the provided ResourceArn",
        ));
    }
    let mut seen = BTreeSet::new();
    for t in tags {
        if t.key.starts_with("aws:") {
            return Err(DynamoError::validation(format!(
                "Tag Key cannot be prefixed with aws:, Key: {}",
                t.key
            )));
        }
        if !seen.insert(t.key.as_str()) {
            return Err(DynamoError::validation(format!(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found {}",
                t.key
            )));
        }
    }
    Ok(())
}

fn check_sse(sse: &SseSpecification) -> Result<()> {
    if sse.enabled == Some(false) {
        if sse.sse_type.is_some() {
            return Err(DynamoError::invalid(
                "SSEType can not be specified if Enabled is false",
            ));
        }
        if sse.kms_master_key_id.is_some() {
            return Err(DynamoError::invalid(
                "KMSMasterKeyId can not be specified if Enabled is false",
            ));
        }
    }
    if sse.sse_type.as_deref() == Some("AES256") {
        return Err(DynamoError::invalid("SSEType AES256 is not supported"));
    }
    Ok(())
}

/// The KMS key ARN an SSE specification selects (the AWS-managed key unless one is named).
fn sse_key_arn(ctx: &RequestContext, sse: &SseSpecification) -> Option<String> {
    if sse.enabled != Some(true) {
        return None;
    }
    Some(match &sse.kms_master_key_id {
        Some(k) if k.starts_with("arn:") => k.clone(),
        Some(k) => format!("arn:aws:kms:{}:{}:key/{k}", ctx.region, ctx.account_id),
        None => format!(
            "arn:aws:kms:{}:{}:key/aws-dynamodb-managed",
            ctx.region, ctx.account_id
        ),
    })
}

fn stream_label() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

fn sorted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = names.into_iter().collect();
    set.into_iter().collect::<Vec<_>>().join(", ")
}

impl DynamoDb {
    /// The stored table (id and definition) a `TableName` names, if it exists.
    pub(crate) async fn find_table(
        &self,
        ctx: &RequestContext,
        given: &str,
    ) -> Result<Option<(i64, Arc<TableMeta>)>> {
        let name = table_ref(ctx, given)?;
        match self
            .store
            .get_table(&ctx.account_id, &ctx.region, &name)
            .await?
        {
            Some(row) => Ok(Some((row.table_id, self.parsed_meta(row)?))),
            None => Ok(None),
        }
    }

    /// `TableMeta::from_json(&row.meta)`, from the cache when that row was parsed before. The
    /// store shares one row until the table changes, so a hit is a pointer comparison and a
    /// reference count, not a parse or a copy.
    fn parsed_meta(&self, row: Arc<TableRow>) -> Result<Arc<TableMeta>> {
        let mut metas = self
            .metas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((cached, meta)) = metas.get(&row.table_id) {
            if Arc::ptr_eq(cached, &row) || cached.meta == row.meta {
                return Ok(meta.clone());
            }
        }
        let meta = Arc::new(TableMeta::from_json(&row.meta)?);
        metas.insert(row.table_id, (row, meta.clone()));
        Ok(meta)
    }

    pub(crate) async fn create_table(
        &self,
        ctx: &RequestContext,
        input: CreateTableInput,
    ) -> Result<Value> {
        let mut missing = Vec::new();
        if input.attribute_definitions.is_none() {
            missing.push(
                "Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null"
                    .to_string(),
            );
        }
        if input.key_schema.is_none() {
            missing.push(
                "Value null at 'keySchema' failed to satisfy constraint: Member must not be null"
                    .to_string(),
            );
        }
        if input.table_name.starts_with("arn:") {
            // CreateTable names a new table: only a plain name makes sense.
            check_table_name(&input.table_name, "tableName")?;
        }
        let name = table_ref(ctx, &input.table_name)?;
        validation_errors(missing)?;
        let defs = input.attribute_definitions.unwrap_or_default();
        let key_schema = input.key_schema.unwrap_or_default();
        let billing = input
            .billing_mode
            .clone()
            .unwrap_or_else(|| "PROVISIONED".into());
        let ppr = billing == "PAY_PER_REQUEST";
        match (&input.provisioned_throughput, ppr) {
            (None, false) => {
                return Err(DynamoError::invalid(
                    "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                ))
            }
            (Some(_), true) => {
                return Err(DynamoError::invalid(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ))
            }
            _ => {}
        }
        let mut def_names = BTreeSet::new();
        for d in &defs {
            if !def_names.insert(d.attribute_name.as_str()) {
                return Err(DynamoError::validation(format!(
                    "Cannot have two attributes with the same name: {}",
                    d.attribute_name
                )));
            }
        }
        check_key_schema(&key_schema)?;

        let lsi_given = input.local_secondary_indexes.is_some();
        let gsi_given = input.global_secondary_indexes.is_some();
        let lsis = input.local_secondary_indexes.unwrap_or_default();
        let gsis = input.global_secondary_indexes.unwrap_or_default();
        let has_indexes = !lsis.is_empty() || !gsis.is_empty();
        // Every attribute a key (of the table or an index) uses.
        let mut used: Vec<&str> = key_schema
            .iter()
            .map(|k| k.attribute_name.as_str())
            .collect();
        for i in lsis.iter().chain(&gsis) {
            used.extend(i.key_schema.iter().map(|k| k.attribute_name.as_str()));
        }
        if used.iter().any(|u| !def_names.contains(u)) {
            return Err(DynamoError::invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                sorted_list(used.iter().copied()),
                sorted_list(def_names.iter().copied())
            )));
        }
        let used_set: BTreeSet<&str> = used.iter().copied().collect();
        if used_set.len() != def_names.len() {
            return Err(if has_indexes {
                DynamoError::invalid(format!(
                    "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
                    sorted_list(def_names.iter().copied()),
                    sorted_list(used_set.iter().copied())
                ))
            } else {
                DynamoError::invalid(
                    "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
                )
            });
        }

        if lsi_given && lsis.is_empty() {
            return Err(DynamoError::invalid(
                "List of LocalSecondaryIndexes is empty",
            ));
        }
        if gsi_given && gsis.is_empty() {
            return Err(DynamoError::invalid(
                "List of GlobalSecondaryIndexes is empty",
            ));
        }
        if lsis.len() > MAX_LSIS {
            return Err(DynamoError::invalid(format!(
                "Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}"
            )));
        }
        if gsis.len() > MAX_GSIS {
            return Err(DynamoError::invalid(format!(
                "GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
            )));
        }
        let mut index_names = BTreeSet::new();
        for i in lsis.iter().chain(&gsis) {
            if !index_names.insert(i.index_name.as_str()) {
                return Err(DynamoError::invalid(format!(
                    "Duplicate index name: {}",
                    i.index_name
                )));
            }
        }
        if !lsis.is_empty() && key_schema.len() < 2 {
            return Err(DynamoError::invalid(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        for i in &lsis {
            check_key_schema(&i.key_schema)?;
            if i.key_schema[0].attribute_name != key_schema[0].attribute_name {
                return Err(DynamoError::invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                    i.index_name, i.key_schema[0].attribute_name, key_schema[0].attribute_name
                )));
            }
            if i.key_schema.len() < 2 {
                return Err(DynamoError::invalid(format!(
                    "Index KeySchema does not have a range key for index: {}",
                    i.index_name
                )));
            }
            check_projection(&i.projection)?;
        }
        for i in &gsis {
            check_key_schema(&i.key_schema)?;
            check_projection(&i.projection)?;
            match (&i.provisioned_throughput, ppr) {
                (None, false) => {
                    return Err(DynamoError::invalid(format!(
                        "ProvisionedThroughput is not specified for index: {}",
                        i.index_name
                    )))
                }
                (Some(_), true) => {
                    return Err(DynamoError::invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                        i.index_name
                    )))
                }
                _ => {}
            }
        }
        if let Some(s) = &input.stream_specification {
            match (s.stream_enabled, &s.stream_view_type) {
                (true, None) => {
                    return Err(DynamoError::invalid(
                        "Table is being created with a stream enabled, UpdateViewType is required",
                    ))
                }
                (false, Some(_)) => {
                    return Err(DynamoError::invalid(
                        "Table is being created with a stream disabled, UpdateViewType should not be specified",
                    ))
                }
                _ => {}
            }
        }
        if let Some(sse) = &input.sse_specification {
            check_sse(sse)?;
        }
        let tags = input.tags.unwrap_or_default();
        check_tags(&tags)?;

        let stream_on = input
            .stream_specification
            .as_ref()
            .is_some_and(|s| s.stream_enabled);
        let created = now();
        let meta = TableMeta {
            table_name: name.clone(),
            table_arn: table_arn(ctx, &name),
            table_id: uuid::Uuid::new_v4().to_string(),
            creation_date_time: created,
            attribute_definitions: defs,
            key_schema,
            billing_mode: billing,
            pay_per_request_since: None,
            provisioned_throughput: input
                .provisioned_throughput
                .unwrap_or(ProvisionedThroughput {
                    read_capacity_units: 0,
                    write_capacity_units: 0,
                }),
            local_secondary_indexes: lsis,
            global_secondary_indexes: gsis,
            latest_stream_label: stream_on.then(stream_label),
            stream_specification: input.stream_specification.filter(|s| s.stream_enabled),
            sse_kms_key_arn: input
                .sse_specification
                .as_ref()
                .and_then(|s| sse_key_arn(ctx, s)),
            table_class: input.table_class,
            deletion_protection_enabled: input.deletion_protection_enabled.unwrap_or(false),
            tags,
            ttl: None,
            point_in_time_recovery: None,
        };
        let created = self
            .store
            .create_table(&ctx.account_id, &ctx.region, &name, &meta.to_json())
            .await?;
        if created.is_none() {
            return Err(DynamoError::ResourceInUse(format!(
                "Table already exists: {name}"
            )));
        }
        Ok(json!({ "TableDescription": meta.describe("CREATING", 0, 0) }))
    }

    pub(crate) async fn describe_table(
        &self,
        ctx: &RequestContext,
        input: TableNameInput,
    ) -> Result<Value> {
        let name = table_ref(ctx, &input.table_name)?;
        let Some((id, meta)) = self.find_table(ctx, &name).await? else {
            return Err(DynamoError::table_not_found(&name));
        };
        let (count, size) = self.store.table_stats(id).await?;
        let mut table = meta.describe("ACTIVE", count, size);
        self.fill_index_stats(id, &mut table).await?;
        Ok(json!({ "Table": table }))
    }

    pub(crate) async fn list_tables(
        &self,
        ctx: &RequestContext,
        input: ListTablesInput,
    ) -> Result<Value> {
        let limit = input.limit.unwrap_or(100);
        let mut names = self
            .store
            .list_tables(
                &ctx.account_id,
                &ctx.region,
                input.exclusive_start_table_name.as_deref(),
                limit + 1,
            )
            .await?;
        let more = names.len() as i64 > limit;
        names.truncate(limit as usize);
        let mut out = json!({ "TableNames": names });
        if more {
            out["LastEvaluatedTableName"] = json!(names.last());
        }
        Ok(out)
    }

    pub(crate) async fn delete_table(
        &self,
        ctx: &RequestContext,
        input: TableNameInput,
    ) -> Result<Value> {
        let name = table_ref(ctx, &input.table_name)?;
        let deleted = self
            .store
            .delete_table(&ctx.account_id, &ctx.region, &name, |row| {
                let meta = TableMeta::from_json(&row.meta)?;
                if meta.deletion_protection_enabled {
                    // AWS answers ValidationException here (observed), not ResourceInUse.
                    return Err(DynamoError::validation(
                        "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
                    ));
                }
                Ok(())
            })
            .await?;
        match deleted {
            None => Err(DynamoError::table_not_found(&name)),
            Some(Err(e)) => Err(e),
            Some(Ok(row)) => {
                let meta = TableMeta::from_json(&row.meta)?;
                Ok(json!({ "TableDescription": meta.describe("DELETING", 0, 0) }))
            }
        }
    }

    pub(crate) async fn update_table(
        &self,
        ctx: &RequestContext,
        input: UpdateTableInput,
    ) -> Result<Value> {
        let name = table_ref(ctx, &input.table_name)?;
        if input.billing_mode.is_none()
            && input.provisioned_throughput.is_none()
            && input.global_secondary_index_updates.is_none()
            && input.stream_specification.is_none()
            && input.sse_specification.is_none()
            && input.table_class.is_none()
            && input.deletion_protection_enabled.is_none()
        {
            return Err(DynamoError::validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required",
            ));
        }
        if let Some(sse) = &input.sse_specification {
            check_sse(sse)?;
        }
        let updated = self
            .store
            .update_table(&ctx.account_id, &ctx.region, &name, |row| {
                let mut meta = TableMeta::from_json(&row.meta)?;
                apply_update(ctx, &mut meta, &input)?;
                Ok::<_, DynamoError>(meta.to_json())
            })
            .await?;
        match updated {
            None => Err(DynamoError::table_not_found(&name)),
            Some(Err(e)) => Err(e),
            Some(Ok(row)) => {
                let meta = TableMeta::from_json(&row.meta)?;
                for u in input.global_secondary_index_updates.iter().flatten() {
                    if let Some(d) = &u.delete {
                        self.store.drop_index(row.table_id, &d.index_name).await?;
                    }
                    if let Some(c) = &u.create {
                        self.backfill(row.table_id, &meta, &c.index_name).await?;
                    }
                }
                let (count, size) = self.store.table_stats(row.table_id).await?;
                let mut table = meta.describe("ACTIVE", count, size);
                self.fill_index_stats(row.table_id, &mut table).await?;
                Ok(json!({ "TableDescription": table }))
            }
        }
    }

    /// Each index's ItemCount and IndexSizeBytes in a TableDescription.
    async fn fill_index_stats(&self, table_id: i64, desc: &mut Value) -> Result<()> {
        for list in ["LocalSecondaryIndexes", "GlobalSecondaryIndexes"] {
            let Some(indexes) = desc.get_mut(list).and_then(Value::as_array_mut) else {
                continue;
            };
            for i in indexes {
                let name = i["IndexName"].as_str().unwrap_or_default().to_string();
                let (count, size) = self.store.index_stats(table_id, &name).await?;
                i["ItemCount"] = json!(count);
                i["IndexSizeBytes"] = json!(size);
            }
        }
        Ok(())
    }

    /// Give a new global secondary index entries for the items already in the table. Items
    /// whose index key has the wrong type stay out of the index.
    async fn backfill(&self, table_id: i64, meta: &TableMeta, index: &str) -> Result<()> {
        let Some(idx) = meta.index(index) else {
            return Ok(());
        };
        let table = meta.key_def();
        let mut after: Option<(Vec<u8>, Vec<u8>)> = None;
        loop {
            let rows = self
                .store
                .scan(
                    table_id,
                    after.as_ref().map(|(p, s)| (p.as_slice(), s.as_slice())),
                    512,
                )
                .await?;
            let mut entries = Vec::new();
            for row in &rows {
                let item = crate::types::item_from_body(&row.body)?;
                if let Ok(Some(e)) = idx.entry(&table, &item) {
                    let key = cloudemu_storage::dynamodb::ItemKey {
                        table_id,
                        pk: row.pk.clone(),
                        sk: row.sk.clone(),
                    };
                    entries.push((key, e));
                }
            }
            self.store.put_index_entries(entries).await?;
            match rows.last() {
                Some(last) if rows.len() == 512 => after = Some((last.pk.clone(), last.sk.clone())),
                _ => return Ok(()),
            }
        }
    }

    pub(crate) async fn describe_limits(&self) -> Result<Value> {
        Ok(json!({
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        }))
    }

    pub(crate) async fn describe_endpoints(&self, ctx: &RequestContext) -> Result<Value> {
        // Clients that discover endpoints must keep talking to us.
        Ok(json!({ "Endpoints": [{ "Address": ctx.host, "CachePeriodInMinutes": 1440 }] }))
    }
}

fn apply_update(
    ctx: &RequestContext,
    meta: &mut TableMeta,
    input: &UpdateTableInput,
) -> Result<()> {
    let billing = input
        .billing_mode
        .clone()
        .unwrap_or_else(|| meta.billing_mode.clone());
    let ppr = billing == "PAY_PER_REQUEST";
    if ppr && input.provisioned_throughput.is_some() {
        return Err(DynamoError::invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ));
    }
    if !ppr && meta.billing_mode == "PAY_PER_REQUEST" && input.provisioned_throughput.is_none() {
        return Err(DynamoError::invalid(
            "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
        ));
    }
    if let Some(pt) = input.provisioned_throughput {
        if !ppr && meta.billing_mode == billing && pt == meta.provisioned_throughput {
            let cur = meta.provisioned_throughput;
            return Err(DynamoError::validation(format!(
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                cur.read_capacity_units, pt.read_capacity_units, cur.write_capacity_units, pt.write_capacity_units
            )));
        }
        meta.provisioned_throughput = pt;
    }
    if ppr && meta.billing_mode != "PAY_PER_REQUEST" {
        meta.pay_per_request_since = Some(now());
        for g in &mut meta.global_secondary_indexes {
            g.provisioned_throughput = None;
        }
    }
    meta.billing_mode = billing;
    if let Some(defs) = &input.attribute_definitions {
        for d in defs {
            if !meta
                .attribute_definitions
                .iter()
                .any(|x| x.attribute_name == d.attribute_name)
            {
                meta.attribute_definitions.push(d.clone());
            }
        }
    }
    for u in input.global_secondary_index_updates.iter().flatten() {
        if let Some(c) = &u.create {
            if meta
                .global_secondary_indexes
                .iter()
                .chain(&meta.local_secondary_indexes)
                .any(|g| g.index_name == c.index_name)
            {
                return Err(DynamoError::validation(
                    "Attempting to create an index which already exists",
                ));
            }
            check_key_schema(&c.key_schema)?;
            check_projection(&c.projection)?;
            for k in &c.key_schema {
                if !meta
                    .attribute_definitions
                    .iter()
                    .any(|d| d.attribute_name == k.attribute_name)
                {
                    return Err(DynamoError::invalid(format!(
                        "Global Secondary Index hash key not specified in Attribute Definitions.Type unknown. {}",
                        k.attribute_name
                    )));
                }
            }
            if meta.global_secondary_indexes.len() >= MAX_GSIS {
                return Err(DynamoError::LimitExceeded(format!(
                    "Subscriber limit exceeded: The number of global secondary indexes per table is limited to {MAX_GSIS}"
                )));
            }
            meta.global_secondary_indexes.push(c.clone());
        } else if let Some(d) = &u.delete {
            let before = meta.global_secondary_indexes.len();
            meta.global_secondary_indexes
                .retain(|g| g.index_name != d.index_name);
            if before == meta.global_secondary_indexes.len() {
                return Err(DynamoError::ResourceNotFound(format!(
                    "Requested resource not found: Index: {} not found",
                    d.index_name
                )));
            }
        } else if let Some(up) = &u.update {
            let Some(g) = meta
                .global_secondary_indexes
                .iter_mut()
                .find(|g| g.index_name == up.index_name)
            else {
                return Err(DynamoError::ResourceNotFound(format!(
                    "Requested resource not found: Index: {} not found",
                    up.index_name
                )));
            };
            if up.provisioned_throughput.is_some() {
                g.provisioned_throughput = up.provisioned_throughput;
            }
        } else {
            return Err(DynamoError::invalid(
                "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
            ));
        }
    }
    if let Some(s) = &input.stream_specification {
        let enabled = meta
            .stream_specification
            .as_ref()
            .is_some_and(|x| x.stream_enabled);
        match (s.stream_enabled, enabled) {
            (true, true) => {
                return Err(DynamoError::validation(format!(
                    "Table already has an enabled stream: TableName: {}",
                    meta.table_name
                )))
            }
            (false, false) => {
                return Err(DynamoError::validation(format!(
                    "Table has no stream to disable: TableName: {}",
                    meta.table_name
                )))
            }
            (true, false) => {
                if s.stream_view_type.is_none() {
                    return Err(DynamoError::invalid(
                        "If stream is being enabled then UpdateViewType is required",
                    ));
                }
                meta.stream_specification = Some(s.clone());
                meta.latest_stream_label = Some(stream_label());
            }
            (false, true) => {
                if s.stream_view_type.is_some() {
                    return Err(DynamoError::invalid(
                        "If stream is being disabled, then UpdateViewType must not be specified",
                    ));
                }
                // The last stream stays readable (and described) after it is disabled.
                if let Some(spec) = &mut meta.stream_specification {
                    spec.stream_enabled = false;
                }
            }
        }
    }
    if let Some(sse) = &input.sse_specification {
        meta.sse_kms_key_arn = sse_key_arn(ctx, sse);
    }
    if let Some(class) = &input.table_class {
        meta.table_class = Some(class.clone());
    }
    if let Some(dp) = input.deletion_protection_enabled {
        meta.deletion_protection_enabled = dp;
    }
    Ok(())
}
