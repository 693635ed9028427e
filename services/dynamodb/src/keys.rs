//! Primary keys: checked against the table's key schema and encoded so that byte order is
//! DynamoDB's order (strings by UTF-8 bytes, binary bytewise, numbers numerically). A table's
//! key attributes have one fixed type, so the encodings need no type tag.

use crate::errors::{DynamoError, Result};
use crate::table::{KeyDef, KeyType};
use crate::types::{AttrValue, Item};

/// A key attribute's value as sort-ordered bytes.
pub fn encode(v: &AttrValue) -> Vec<u8> {
    match v {
        AttrValue::S(s) => s.as_bytes().to_vec(),
        AttrValue::B(b) => b.clone(),
        AttrValue::N(n) => n.key_bytes(),
        // Only scalar key types reach here (callers check the type first).
        _ => Vec::new(),
    }
}

pub fn matches_type(v: &AttrValue, t: KeyType) -> bool {
    matches!(
        (v, t),
        (AttrValue::S(_), KeyType::S)
            | (AttrValue::N(_), KeyType::N)
            | (AttrValue::B(_), KeyType::B)
    )
}

fn check_not_empty(name: &str, v: &AttrValue) -> Result<()> {
    match v {
        AttrValue::S(s) if s.is_empty() => Err(DynamoError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
        ))),
        AttrValue::B(b) if b.is_empty() => Err(DynamoError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: {name}"
        ))),
        _ => Ok(()),
    }
}

/// The encoded (hash, range) key of an item being written (PutItem wording).
pub fn of_item(def: &KeyDef, item: &Item) -> Result<(Vec<u8>, Vec<u8>)> {
    let one = |(name, t): &(String, KeyType)| -> Result<Vec<u8>> {
        let v = item
            .get(name)
            .ok_or_else(|| DynamoError::invalid(format!("Missing the key {name} in the item")))?;
        if !matches_type(v, *t) {
            return Err(DynamoError::invalid(format!(
                "Type mismatch for key {name} expected: {} actual: {}",
                t.name(),
                v.type_name()
            )));
        }
        check_not_empty(name, v)?;
        Ok(encode(v))
    };
    let pk = one(&def.hash)?;
    let sk = match &def.range {
        Some(r) => one(r)?,
        None => Vec::new(),
    };
    Ok((pk, sk))
}

/// The encoded (hash, range) key a `Key` parameter names: exactly the key attributes.
pub fn of_key(def: &KeyDef, key: &Item) -> Result<(Vec<u8>, Vec<u8>)> {
    let mismatch = || DynamoError::validation("The provided key element does not match the schema");
    let expected = 1 + usize::from(def.range.is_some());
    if key.len() != expected {
        return Err(mismatch());
    }
    let one = |(name, t): &(String, KeyType)| -> Result<Vec<u8>> {
        let v = key.get(name).ok_or_else(mismatch)?;
        if !matches_type(v, *t) {
            return Err(mismatch());
        }
        check_not_empty(name, v)?;
        Ok(encode(v))
    };
    let pk = one(&def.hash)?;
    let sk = match &def.range {
        Some(r) => one(r)?,
        None => Vec::new(),
    };
    Ok((pk, sk))
}
