//! Secondary indexes: which items they hold (sparse: only items with the index's key
//! attributes), what they project (ALL, KEYS_ONLY, INCLUDE), and their stored entries.

use crate::errors::{DynamoError, Result};
use crate::keys;
use crate::table::{KeyDef, TableMeta};
use crate::types::{item_size, item_to_body, Item};
use cloudemu_storage::dynamodb::{IndexEntry, ItemWrite};

#[derive(Clone, Debug)]
pub struct IndexDef {
    pub name: String,
    pub key: KeyDef,
    pub projection_type: String,
    pub non_key_attributes: Vec<String>,
    pub global: bool,
}

impl TableMeta {
    pub fn index_defs(&self) -> Vec<IndexDef> {
        let make = |i: &crate::shapes::SecondaryIndex, global: bool| IndexDef {
            name: i.index_name.clone(),
            key: self.key_def_of(&i.key_schema),
            projection_type: i
                .projection
                .projection_type
                .clone()
                .unwrap_or_else(|| "ALL".into()),
            non_key_attributes: i.projection.non_key_attributes.clone().unwrap_or_default(),
            global,
        };
        self.local_secondary_indexes
            .iter()
            .map(|i| make(i, false))
            .chain(self.global_secondary_indexes.iter().map(|i| make(i, true)))
            .collect()
    }

    pub fn index(&self, name: &str) -> Option<IndexDef> {
        self.index_defs().into_iter().find(|i| i.name == name)
    }
}

impl IndexDef {
    /// The item as this index stores it.
    pub fn project(&self, table: &KeyDef, item: &Item) -> Item {
        if self.projection_type == "ALL" {
            return item.clone();
        }
        item.iter()
            .filter(|(k, _)| {
                table.names().any(|n| n == k.as_str())
                    || self.key.names().any(|n| n == k.as_str())
                    || self.non_key_attributes.iter().any(|n| n == *k)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The entry for `item`, or none when the item lacks a key attribute of the index.
    pub fn entry(&self, table: &KeyDef, item: &Item) -> Result<Option<IndexEntry>> {
        let mut parts = Vec::with_capacity(2);
        for (name, t) in std::iter::once(&self.key.hash)
            .chain(self.key.range.as_ref())
            .map(|(n, t)| (n, *t))
        {
            let Some(v) = item.get(name) else {
                return Ok(None);
            };
            if !keys::matches_type(v, t) {
                return Err(DynamoError::invalid(format!(
                    "Type mismatch for Index Key {name} Expected: {} Actual: {} IndexName: {}",
                    t.name(),
                    v.type_name(),
                    self.name
                )));
            }
            let encoded = keys::encode(v);
            if encoded.is_empty() {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {name}",
                    self.name
                )));
            }
            parts.push(encoded);
        }
        let ipk = parts.remove(0);
        let isk = parts.pop().unwrap_or_default();
        let projected = self.project(table, item);
        Ok(Some(IndexEntry {
            index: self.name.clone(),
            ipk,
            isk,
            size: item_size(&projected) as i64,
            body: item_to_body(&projected),
        }))
    }
}

/// The write that stores `item` (with its index entries when the table has indexes).
pub fn put_write(meta: &TableMeta, item: &Item, size: usize) -> Result<ItemWrite> {
    let defs = meta.index_defs();
    let indexes = if defs.is_empty() {
        None
    } else {
        let table = meta.key_def();
        let mut entries = Vec::new();
        for d in &defs {
            if let Some(e) = d.entry(&table, item)? {
                entries.push(e);
            }
        }
        Some(entries)
    };
    Ok(ItemWrite::Put {
        size: size as i64,
        body: item_to_body(item),
        indexes,
        expires: meta
            .ttl
            .as_ref()
            .and_then(|t| crate::ttl::expiry(item, &t.attribute_name)),
        stream: None,
    })
}

pub fn delete_write(meta: &TableMeta) -> ItemWrite {
    ItemWrite::Delete {
        indexed: !meta.global_secondary_indexes.is_empty()
            || !meta.local_secondary_indexes.is_empty(),
        stream: None,
    }
}
