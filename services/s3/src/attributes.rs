//! GetObjectAttributes: an object's ETag, checksum, parts (paged), storage class and size
//! without its body, for the current object or a version.

use crate::errors::S3Error;
use crate::objects::checksum_fields;
use crate::S3;
use cloudemu_core::RequestContext;
use serde::Deserialize;
use serde_json::{json, Map, Value};

const ATTRIBUTES: &[&str] = &[
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];
const MAX_PARTS: i64 = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetObjectAttributesRequest {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub max_parts: Option<i64>,
    pub part_number_marker: Option<i64>,
    #[serde(default)]
    pub object_attributes: Vec<String>,
}

/// The attributes asked for, each once; S3 rejects unknown names and an empty list.
fn wanted(raw: &[String]) -> Result<Vec<&'static str>, S3Error> {
    let mut out = Vec::new();
    for name in raw.iter().flat_map(|r| r.split(',')).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let Some(known) = ATTRIBUTES.iter().find(|a| **a == name) else {
            return Err(S3Error::InvalidArgument {
                message: "Invalid attribute name specified.".into(),
                name: "x-amz-object-attributes".into(),
                value: name.to_string(),
            });
        };
        if !out.contains(known) {
            out.push(*known);
        }
    }
    if out.is_empty() {
        return Err(S3Error::InvalidRequest(
            "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty".into(),
        ));
    }
    Ok(out)
}

impl S3 {
    pub(crate) async fn get_object_attributes(
        &self,
        _ctx: &RequestContext,
        input: GetObjectAttributesRequest,
    ) -> Result<Value, S3Error> {
        let wanted = wanted(&input.object_attributes)?;
        let max = match input.max_parts {
            None => MAX_PARTS,
            Some(n) if n < 0 => {
                return Err(S3Error::InvalidArgument {
                    message: "Argument max-parts must be an integer between 0 and 2147483647"
                        .into(),
                    name: "max-parts".into(),
                    value: n.to_string(),
                })
            }
            Some(n) => n.min(MAX_PARTS),
        };
        let marker = input.part_number_marker.unwrap_or(0).max(0);
        let o = self
            .object_version(
                &input.bucket,
                &input.key,
                input.version_id.as_deref(),
                "GET",
            )
            .await?;
        let mut out = Map::new();
        out.insert("LastModified".into(), json!(o.last_modified));
        if let Some(v) = crate::versions::version_header(&o, input.version_id.as_deref()) {
            out.insert("VersionId".into(), json!(v));
        }
        for attr in wanted {
            match attr {
                // Unquoted here, unlike every other ETag S3 returns.
                "ETag" => {
                    out.insert("ETag".into(), json!(o.etag.trim_matches('"')));
                }
                "Checksum" => {
                    let c = serde_json::to_value(checksum_fields(&o)).map_err(|e| {
                        S3Error::Body(Box::new(cloudemu_core::ServiceError::internal(e)))
                    })?;
                    if c.as_object().is_some_and(|m| !m.is_empty()) {
                        out.insert("Checksum".into(), c);
                    }
                }
                "StorageClass" => {
                    let class = o.storage_class.clone().unwrap_or_else(|| "STANDARD".into());
                    out.insert("StorageClass".into(), json!(class));
                }
                "ObjectSize" => {
                    out.insert("ObjectSize".into(), json!(o.size));
                }
                // Only a multipart object has parts to report.
                _ => {
                    let Some(sizes) = &o.part_sizes else { continue };
                    let member = o
                        .checksum_algorithm
                        .as_deref()
                        .map(|a| format!("Checksum{a}"));
                    let parts: Vec<Value> = sizes
                        .iter()
                        .enumerate()
                        .map(|(i, size)| (i as i64 + 1, *size))
                        .filter(|(n, _)| *n > marker)
                        .take(max as usize)
                        .map(|(n, size)| {
                            let mut p = json!({"PartNumber": n, "Size": size});
                            let sum = o
                                .part_checksums
                                .as_ref()
                                .and_then(|c| c.get(n as usize - 1));
                            if let (Some(m), Some(sum)) = (&member, sum) {
                                p[m] = json!(sum);
                            }
                            p
                        })
                        .collect();
                    let last = parts
                        .last()
                        .and_then(|p| p["PartNumber"].as_i64())
                        .unwrap_or(marker);
                    let mut op = json!({
                        "TotalPartsCount": sizes.len(),
                        "PartNumberMarker": marker,
                        "MaxParts": max,
                        "IsTruncated": (last as usize) < sizes.len(),
                    });
                    if !parts.is_empty() {
                        op["NextPartNumberMarker"] = json!(last);
                        op["Parts"] = Value::Array(parts);
                    }
                    out.insert("ObjectParts".into(), op);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names() {
        let got = wanted(&["ETag,ObjectSize".into(), "ETag".into()]).expect("known");
        assert_eq!(got, ["ETag", "ObjectSize"]);
        assert!(wanted(&["Color".into()]).is_err());
        assert!(wanted(&[]).is_err());
    }
}
