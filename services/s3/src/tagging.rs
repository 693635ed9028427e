//! Object tagging (Put/Get/DeleteObjectTagging, `x-amz-tagging` on writes) and the tag rules
//! S3 enforces for objects (10 tags) and buckets (50).

use crate::errors::S3Error;
use crate::S3;
use cloudemu_core::RequestContext;
use serde_json::{json, Value};

/// Tags from a `{"TagSet": [{"Key", "Value"}]}` document.
pub fn tags_of(doc: &Value) -> Vec<(String, String)> {
    doc.get("TagSet")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (s("Key"), s("Value"))
        })
        .collect()
}

pub fn tag_set(tags: &[(String, String)]) -> Value {
    json!({"TagSet": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()})
}

/// `x-amz-tagging`: a URL query string of tags.
pub fn parse_tagging_header(h: &str) -> Result<Vec<(String, String)>, S3Error> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| S3Error::InvalidArgument {
                message: "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.".into(),
                name: "x-amz-tagging".into(),
                value: h.to_string(),
            })
    };
    h.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

pub fn check_tags(tags: &[(String, String)], max: usize) -> Result<(), S3Error> {
    if tags.len() > max {
        return Err(if max == 10 {
            S3Error::BadRequest("Object tags cannot be greater than 10".into())
        } else {
            S3Error::InvalidTag("Bucket tag count cannot be greater than 50".into())
        });
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(S3Error::InvalidTag(
                "The TagKey you have provided is invalid".into(),
            ));
        }
        if v.chars().count() > 256 {
            return Err(S3Error::InvalidTag(
                "The TagValue you have provided is invalid".into(),
            ));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(S3Error::InvalidTag(
                "Cannot provide multiple Tags with the same key".into(),
            ));
        }
        if k.starts_with("aws:") {
            return Err(S3Error::InvalidTag(
                "System tags cannot be added/updated by requester".into(),
            ));
        }
    }
    Ok(())
}

impl S3 {
    pub(crate) async fn put_object_tagging(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let (bucket, key) = bucket_key(&input);
        let tags = tags_of(input.get("Tagging").unwrap_or(&Value::Null));
        check_tags(&tags, 10)?;
        self.set_tags(&bucket, &key, version_of(&input), &tags)
            .await
    }

    pub(crate) async fn get_object_tagging(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let (bucket, key) = bucket_key(&input);
        let asked = version_of(&input);
        let o = self.object_version(&bucket, &key, asked, "GET").await?;
        let mut out = tag_set(&o.tags);
        if let Some(v) = crate::versions::version_header(&o, asked) {
            out["VersionId"] = json!(v);
        }
        Ok(out)
    }

    pub(crate) async fn delete_object_tagging(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, S3Error> {
        let (bucket, key) = bucket_key(&input);
        self.set_tags(&bucket, &key, version_of(&input), &[]).await
    }

    /// Replace the tags of a key's current object or of one version; the output names the
    /// version.
    async fn set_tags(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<Value, S3Error> {
        if let Some(v) = version {
            crate::versions::check_version_id(v)?;
        }
        self.bucket(bucket).await?;
        if !self
            .store
            .set_object_tags(bucket, key, version, tags)
            .await?
        {
            return Err(match version {
                Some(v) => S3Error::NoSuchVersion {
                    key: key.to_string(),
                    version_id: v.to_string(),
                },
                None => self.missing_key(bucket, key).await,
            });
        }
        let o = self.object_version(bucket, key, version, "GET").await?;
        Ok(match crate::versions::version_header(&o, version) {
            Some(v) => json!({ "VersionId": v }),
            None => json!({}),
        })
    }
}

fn version_of(input: &Value) -> Option<&str> {
    input.get("VersionId").and_then(Value::as_str)
}

fn bucket_key(input: &Value) -> (String, String) {
    let s = |k: &str| {
        input
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("Bucket"), s("Key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagging_headers_and_rules() {
        let tags = parse_tagging_header("a=1&b%20c=x+y&empty=").expect("parses");
        assert_eq!(
            tags,
            vec![
                ("a".into(), "1".into()),
                ("b c".into(), "x y".into()),
                ("empty".into(), "".into())
            ]
        );
        assert!(check_tags(&tags, 10).is_ok());
        let dup = vec![("a".to_string(), "1".to_string()); 2];
        assert!(check_tags(&dup, 10).is_err());
        let many: Vec<_> = (0..11).map(|i| (i.to_string(), String::new())).collect();
        assert!(check_tags(&many, 10).is_err());
        assert!(check_tags(&many, 50).is_ok());
    }
}
