//! A table's stored definition, its key schema, and how DescribeTable renders it.

use crate::errors::{DynamoError, Result};
use crate::shapes::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct TableMeta {
    pub table_name: String,
    pub table_arn: String,
    pub table_id: String,
    /// Epoch seconds.
    pub creation_date_time: f64,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub billing_mode: String,
    /// Epoch seconds of the last switch to on-demand, when there was one.
    #[serde(default)]
    pub pay_per_request_since: Option<f64>,
    pub provisioned_throughput: ProvisionedThroughput,
    #[serde(default)]
    pub local_secondary_indexes: Vec<SecondaryIndex>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<SecondaryIndex>,
    #[serde(default)]
    pub stream_specification: Option<StreamSpecification>,
    #[serde(default)]
    pub latest_stream_label: Option<String>,
    #[serde(default)]
    pub sse_kms_key_arn: Option<String>,
    #[serde(default)]
    pub table_class: Option<String>,
    #[serde(default)]
    pub deletion_protection_enabled: bool,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub ttl: Option<TimeToLiveSpecification>,
    #[serde(default)]
    pub point_in_time_recovery: Option<i64>,
}

/// The type of one key attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    S,
    N,
    B,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

/// A key schema resolved against the attribute definitions.
#[derive(Clone, Debug)]
pub struct KeyDef {
    pub hash: (String, KeyType),
    pub range: Option<(String, KeyType)>,
}

impl KeyDef {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.0.as_str()).chain(self.range.as_ref().map(|r| r.0.as_str()))
    }
}

impl TableMeta {
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| {
            DynamoError::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(
                format!("corrupt table definition: {e}"),
            )))
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn attr_type(&self, name: &str) -> KeyType {
        match self
            .attribute_definitions
            .iter()
            .find(|d| d.attribute_name == name)
            .map(|d| d.attribute_type.as_str())
        {
            Some("N") => KeyType::N,
            Some("B") => KeyType::B,
            _ => KeyType::S,
        }
    }

    pub(crate) fn key_def_of(&self, schema: &[KeySchemaElement]) -> KeyDef {
        let find = |kt: &str| {
            schema
                .iter()
                .find(|k| k.key_type == kt)
                .map(|k| (k.attribute_name.clone(), self.attr_type(&k.attribute_name)))
        };
        KeyDef {
            // Stored schemas always have a hash key: CreateTable checks it.
            hash: find("HASH").unwrap_or((String::new(), KeyType::S)),
            range: find("RANGE"),
        }
    }

    pub fn key_def(&self) -> KeyDef {
        self.key_def_of(&self.key_schema)
    }

    /// DescribeTable's TableDescription.
    pub fn describe(&self, status: &str, item_count: i64, size: i64) -> Value {
        let ppr = self.billing_mode == "PAY_PER_REQUEST";
        let throughput = |pt: &ProvisionedThroughput| {
            json!({
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": if ppr { 0 } else { pt.read_capacity_units },
                "WriteCapacityUnits": if ppr { 0 } else { pt.write_capacity_units },
            })
        };
        let mut d = Map::new();
        d.insert(
            "AttributeDefinitions".into(),
            json!(self.attribute_definitions),
        );
        d.insert("TableName".into(), json!(self.table_name));
        d.insert("KeySchema".into(), json!(self.key_schema));
        d.insert("TableStatus".into(), json!(status));
        d.insert("CreationDateTime".into(), json!(self.creation_date_time));
        d.insert(
            "ProvisionedThroughput".into(),
            throughput(&self.provisioned_throughput),
        );
        d.insert("TableSizeBytes".into(), json!(size));
        d.insert("ItemCount".into(), json!(item_count));
        d.insert("TableArn".into(), json!(self.table_arn));
        d.insert("TableId".into(), json!(self.table_id));
        if ppr || self.pay_per_request_since.is_some() {
            let mut s = Map::new();
            s.insert("BillingMode".into(), json!(self.billing_mode));
            if let Some(t) = self.pay_per_request_since {
                s.insert("LastUpdateToPayPerRequestDateTime".into(), json!(t));
            }
            d.insert("BillingModeSummary".into(), Value::Object(s));
        }
        if !self.local_secondary_indexes.is_empty() {
            let lsis: Vec<Value> = self
                .local_secondary_indexes
                .iter()
                .map(|i| {
                    json!({
                        "IndexName": i.index_name,
                        "KeySchema": i.key_schema,
                        "Projection": i.projection,
                        "IndexSizeBytes": 0,
                        "ItemCount": 0,
                        "IndexArn": format!("{}/index/{}", self.table_arn, i.index_name),
                    })
                })
                .collect();
            d.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
        }
        if !self.global_secondary_indexes.is_empty() {
            let gsis: Vec<Value> = self
                .global_secondary_indexes
                .iter()
                .map(|i| {
                    let pt = i
                        .provisioned_throughput
                        .unwrap_or(self.provisioned_throughput);
                    json!({
                        "IndexName": i.index_name,
                        "KeySchema": i.key_schema,
                        "Projection": i.projection,
                        "IndexStatus": "ACTIVE",
                        "ProvisionedThroughput": throughput(&pt),
                        "IndexSizeBytes": 0,
                        "ItemCount": 0,
                        "IndexArn": format!("{}/index/{}", self.table_arn, i.index_name),
                    })
                })
                .collect();
            d.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
        }
        if let Some(spec) = &self.stream_specification {
            if spec.stream_enabled {
                d.insert("StreamSpecification".into(), json!(spec));
            }
        }
        if let Some(label) = &self.latest_stream_label {
            d.insert("LatestStreamLabel".into(), json!(label));
            d.insert(
                "LatestStreamArn".into(),
                json!(format!("{}/stream/{label}", self.table_arn)),
            );
        }
        if let Some(key) = &self.sse_kms_key_arn {
            d.insert(
                "SSEDescription".into(),
                json!({"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key}),
            );
        }
        if let Some(class) = &self.table_class {
            d.insert("TableClassSummary".into(), json!({"TableClass": class}));
        }
        d.insert(
            "DeletionProtectionEnabled".into(),
            json!(self.deletion_protection_enabled),
        );
        Value::Object(d)
    }
}
