//! Versioning: version ids, reads by version id, delete markers, deleting versions and
//! ListObjectVersions. The current version of each key is the object row the rest of the
//! service reads; older versions and delete markers are kept beside it by the store.

use crate::buckets::{owner, timestamp};
use crate::errors::S3Error;
use crate::listing::{check_encoding, check_max_keys, url_encode};
use crate::shapes::*;
use crate::S3;
use base64::Engine;
use cloudemu_core::RequestContext;
use cloudemu_storage::s3::{BucketRecord, ObjectRecord};

/// Version ids are 32 URL-safe characters, like S3's; `null` names the version written while
/// a bucket was unversioned or suspended.
const VERSION_ID_LEN: usize = 32;
/// Rows read per store query while a listing page fills.
const BATCH: i64 = 1000;

/// A new, unique version id.
pub(crate) fn new_version_id() -> String {
    let mut raw = [0u8; 24];
    raw[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    raw[16..].copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..8]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The version id a write to this bucket gets.
pub(crate) fn version_for(bucket: &BucketRecord) -> String {
    if bucket.versioning.as_deref() == Some("Enabled") {
        new_version_id()
    } else {
        "null".into()
    }
}

/// A version id S3 could have issued (`null`, or a long token of URL-safe or base64
/// characters: ours, or one copied from AWS); anything else is the client's error,
/// `InvalidArgument`, as S3 answers it. A well-formed id that names nothing is
/// `NoSuchVersion` instead.
pub(crate) fn check_version_id(v: &str) -> Result<(), S3Error> {
    let token = (VERSION_ID_LEN..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+=/".contains(&b));
    if v == "null" || token {
        Ok(())
    } else {
        Err(S3Error::InvalidArgument {
            message: "Invalid version id specified".into(),
            name: "versionId".into(),
            value: v.to_string(),
        })
    }
}

/// What the version header of a read says: the id, unless the object was only ever
/// unversioned and no version was asked for.
pub(crate) fn version_header(o: &ObjectRecord, asked: Option<&str>) -> Option<String> {
    (o.version_id != "null" || asked.is_some()).then(|| o.version_id.clone())
}

/// What DeleteObject did, for its response headers and DeleteObjects' result.
pub(crate) struct Deletion {
    pub delete_marker: bool,
    pub version_id: Option<String>,
}

impl S3 {
    /// The object a read names: the key's current object, or the version asked for. A key
    /// whose latest version is a delete marker is 404 with the marker's headers; a delete
    /// marker asked for by id is 405 for `method`.
    pub(crate) async fn object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        method: &str,
    ) -> Result<ObjectRecord, S3Error> {
        let Some(v) = version_id else {
            return self.object(bucket, key).await;
        };
        check_version_id(v)?;
        match self.store.find_version(bucket, key, v).await? {
            None => Err(S3Error::NoSuchBucket(bucket.to_string())),
            Some(None) => Err(S3Error::NoSuchVersion {
                key: key.to_string(),
                version_id: v.to_string(),
            }),
            Some(Some(found)) if found.is_delete_marker => Err(S3Error::MethodNotAllowed {
                method: method.to_string(),
                version_id: v.to_string(),
                last_modified: timestamp(found.object.last_modified)
                    .format("%a, %d %b %Y %H:%M:%S GMT")
                    .to_string(),
            }),
            Some(Some(found)) => Ok(found.object),
        }
    }

    /// The error for a key with no current object: a plain 404, or the delete marker's.
    pub(crate) async fn missing_key(&self, bucket: &str, key: &str) -> S3Error {
        match self.store.latest_marker(bucket, key).await {
            Ok(Some(m)) => S3Error::DeleteMarkerLatest {
                key: key.to_string(),
                version_id: m.version_id,
            },
            Ok(None) => S3Error::NoSuchKey(key.to_string()),
            Err(e) => e.into(),
        }
    }

    /// DeleteObject's work for one key: a version by id, or the current object (which in a
    /// versioned bucket leaves a delete marker).
    pub(crate) async fn delete_key(
        &self,
        ctx: &RequestContext,
        bucket: &BucketRecord,
        key: &str,
        version_id: Option<&str>,
        bypass_governance: bool,
    ) -> Result<Deletion, S3Error> {
        if let Some(v) = version_id {
            check_version_id(v)?;
            // Only deleting a version can break a lock; a delete marker leaves it in place.
            if bucket.object_lock {
                if let Some(Some(found)) = self.store.find_version(&bucket.name, key, v).await? {
                    crate::lock::check_deletable(&found.object, bypass_governance)?;
                }
            }
            // A version that does not exist is already deleted, as S3 answers.
            let done = self.store.delete_version(&bucket.name, key, v).await?;
            let mut marker = false;
            if let Some(d) = done {
                if let Some(body) = d.freed {
                    self.free_body(&body).await;
                }
                marker = d.was_delete_marker;
            }
            return Ok(Deletion {
                delete_marker: marker,
                version_id: Some(v.to_string()),
            });
        }
        let marker = bucket.versioning.as_ref().map(|_| ObjectRecord {
            bucket: bucket.name.clone(),
            key: key.to_string(),
            version_id: version_for(bucket),
            last_modified: crate::buckets::now(),
            owner_account: ctx.account_id.clone(),
            ..Default::default()
        });
        let freed = self
            .store
            .delete_object(&bucket.name, key, marker.as_ref())
            .await?
            .ok_or_else(|| S3Error::NoSuchBucket(bucket.name.clone()))?;
        for body in freed {
            self.free_body(&body).await;
        }
        Ok(match marker {
            Some(m) => Deletion {
                delete_marker: true,
                version_id: Some(m.version_id),
            },
            None => Deletion {
                delete_marker: false,
                version_id: None,
            },
        })
    }

    pub(crate) async fn list_object_versions(
        &self,
        _ctx: &RequestContext,
        input: ListObjectVersionsRequest,
    ) -> Result<ListObjectVersionsOutput, S3Error> {
        self.bucket(&input.bucket).await?;
        let encode = check_encoding(&input.encoding_type)?;
        let max = check_max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let key_marker = input.key_marker.clone().unwrap_or_default();
        let version_marker = input.version_id_marker.clone().filter(|v| !v.is_empty());
        let start_ord = match &version_marker {
            Some(v) if key_marker.is_empty() => {
                return Err(S3Error::InvalidArgument {
                    message: "A version-id marker cannot be specified without a key marker.".into(),
                    name: "version-id-marker".into(),
                    value: v.clone(),
                })
            }
            Some(v) => {
                check_version_id(v)?;
                self.store
                    .version_ord(&input.bucket, &key_marker, v)
                    .await?
                    .unwrap_or(i64::MIN)
            }
            // A key marker alone starts after every version of that key.
            None => i64::MIN,
        };
        let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
        let mut versions = Vec::new();
        let mut markers = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut truncated = false;
        let mut last: Option<(String, Option<String>)> = None;
        let mut cursor = (key_marker.clone(), start_ord);
        // max-keys=0 asks for nothing, and S3 says nothing more is there.
        'fill: loop {
            if max == 0 {
                break;
            }
            let rows = self
                .store
                .list_versions(&input.bucket, &prefix, &cursor.0, cursor.1, BATCH)
                .await?;
            let exhausted = (rows.len() as i64) < BATCH;
            for v in rows {
                cursor = (v.object.key.clone(), v.ord);
                let key = &v.object.key;
                let common = delimiter.and_then(|d| {
                    key[prefix.len()..]
                        .find(d)
                        .map(|i| key[..prefix.len() + i + d.len()].to_string())
                });
                if let Some(cp) = &common {
                    // Versions under a prefix already returned (here or, via the marker, on
                    // the previous page) are part of it.
                    if prefixes.last() == Some(cp) || *cp == key_marker {
                        continue;
                    }
                }
                if (versions.len() + markers.len() + prefixes.len()) as i64 >= max {
                    truncated = true;
                    break 'fill;
                }
                if let Some(cp) = common {
                    last = Some((cp.clone(), None));
                    prefixes.push(cp);
                    continue;
                }
                last = Some((key.clone(), Some(v.object.version_id.clone())));
                if v.is_delete_marker {
                    markers.push(v);
                } else {
                    versions.push(v);
                }
            }
            if exhausted {
                break;
            }
        }
        let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
        let (next_key_marker, next_version_id_marker) = match (truncated, last) {
            (true, Some((k, v))) => (Some(enc(&k)), v),
            _ => (None, None),
        };
        Ok(ListObjectVersionsOutput {
            is_truncated: truncated,
            key_marker: enc(&key_marker),
            version_id_marker: input.version_id_marker.clone().unwrap_or_default(),
            next_key_marker,
            next_version_id_marker,
            versions: versions
                .into_iter()
                .map(|v| {
                    let o = v.object;
                    ObjectVersionEntry {
                        key: enc(&o.key),
                        etag: o.etag.clone(),
                        checksum_algorithm: o.checksum_algorithm.clone().into_iter().collect(),
                        checksum_type: o.checksum_algorithm.as_ref().and(o.checksum_type.clone()),
                        size: o.size,
                        storage_class: o.storage_class.clone().unwrap_or_else(|| "STANDARD".into()),
                        version_id: o.version_id.clone(),
                        is_latest: v.is_latest,
                        last_modified: timestamp(o.last_modified),
                        owner: owner(&o.owner_account),
                    }
                })
                .collect(),
            delete_markers: markers
                .into_iter()
                .map(|v| DeleteMarkerEntry {
                    owner: owner(&v.object.owner_account),
                    key: enc(&v.object.key),
                    version_id: v.object.version_id.clone(),
                    is_latest: v.is_latest,
                    last_modified: timestamp(v.object.last_modified),
                })
                .collect(),
            name: input.bucket,
            prefix: enc(&prefix),
            delimiter: input.delimiter.as_deref().map(enc),
            max_keys: max,
            common_prefixes: prefixes
                .iter()
                .map(|p| CommonPrefix { prefix: enc(p) })
                .collect(),
            encoding_type: encode.then(|| "url".to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids() {
        let a = new_version_id();
        assert_eq!(a.len(), VERSION_ID_LEN);
        assert_ne!(a, new_version_id());
        assert!(check_version_id(&a).is_ok());
        assert!(check_version_id("null").is_ok());
        assert!(check_version_id("not-a-version").is_err());
        assert!(check_version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY").is_ok());
        assert!(check_version_id(&"x".repeat(65)).is_err());
        assert!(check_version_id("has space in it but is long enough to pass").is_err());
    }
}
