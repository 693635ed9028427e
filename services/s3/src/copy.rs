//! CopyObject and UploadPartCopy: the source body streams from its file into a new body (a
//! copy never shares files, so deleting either side frees exactly its own).

use crate::buckets::{now, timestamp};
use crate::checksum::Algorithm;
use crate::conditions::{ByteRange, Conditions};
use crate::errors::S3Error;
use crate::ingest::Declared;
use crate::names::check_key;
use crate::objects::{checksum_fields, hex, SSE_DEFAULT};
use crate::shapes::*;
use crate::S3;
use cloudemu_core::{Body, RequestContext, Trailer};
use cloudemu_storage::s3::{ObjectRecord, PartRecord, PartWrite};

/// Largest CopyObject source (5 GiB); larger objects are copied part by part.
const MAX_COPY: u64 = 5 * 1024 * 1024 * 1024;

/// `bucket/key` or `/bucket/key`, URL-encoded, with an optional `?versionId=`.
fn parse_copy_source(raw: &str) -> Result<(String, String, Option<String>), S3Error> {
    let invalid = || S3Error::InvalidArgument {
        message: "Invalid copy source object key".into(),
        name: "x-amz-copy-source".into(),
        value: raw.to_string(),
    };
    let (path, version) = match raw.split_once("?versionId=") {
        Some((p, v)) => (p, Some(v.to_string())),
        None => (raw, None),
    };
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid())?;
    let trimmed = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, key) = trimmed.split_once('/').ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    Ok((bucket.to_string(), key.to_string(), version))
}

/// Copy-source conditions: like a read's, except that every failure is 412.
fn check_source(source: &CopySource, o: &ObjectRecord) -> Result<(), S3Error> {
    let c = Conditions {
        if_match: source.copy_source_if_match.clone(),
        if_none_match: source.copy_source_if_none_match.clone(),
        if_modified_since: source.copy_source_if_modified_since,
        if_unmodified_since: source.copy_source_if_unmodified_since,
    };
    match c.check_read(o) {
        Err(S3Error::NotModified { .. }) => Err(S3Error::PreconditionFailed(
            if source.copy_source_if_none_match.is_some() {
                "x-amz-copy-source-If-None-Match"
            } else {
                "x-amz-copy-source-If-Modified-Since"
            },
        )),
        Err(S3Error::PreconditionFailed(_)) => Err(S3Error::PreconditionFailed(
            if source.copy_source_if_match.is_some() {
                "x-amz-copy-source-If-Match"
            } else {
                "x-amz-copy-source-If-Unmodified-Since"
            },
        )),
        other => other,
    }
}

/// `bytes=first-last`, both required, within the source.
fn parse_copy_range(raw: &str, size: u64) -> Result<ByteRange, S3Error> {
    let bad = || {
        S3Error::InvalidArgument {
        message: "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy".into(),
        name: "x-amz-copy-source-range".into(),
        value: raw.to_string(),
    }
    };
    let (a, b) = raw
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    let (start, end) = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => (s, e),
        _ => return Err(bad()),
    };
    if end >= size {
        return Err(S3Error::InvalidRange {
            size,
            range: raw.to_string(),
        });
    }
    Ok(ByteRange { start, end })
}

impl S3 {
    /// The source object (the version named, else the current one), a stream of (part of)
    /// its body, and the source version id the response reports.
    async fn open_source(
        &self,
        source: &CopySource,
        range: impl Fn(u64) -> Result<Option<ByteRange>, S3Error>,
    ) -> Result<(ObjectRecord, Body, Option<String>), S3Error> {
        let (bucket, key, version) = parse_copy_source(&source.copy_source)?;
        for _ in 0..3 {
            let o = match self
                .object_version(&bucket, &key, version.as_deref(), "GET")
                .await
            {
                Err(S3Error::MethodNotAllowed { .. }) => {
                    return Err(S3Error::InvalidRequest(
                        "The source of a copy request may not specifically refer to a delete marker by version id.".into(),
                    ))
                }
                other => other?,
            };
            check_source(source, &o)?;
            let r = range(o.size as u64)?;
            let Some(file) = self.open_body(&o).await? else {
                continue;
            };
            let (start, len) = r.map_or((0, o.size as u64), |r| (r.start, r.len()));
            let source_version = crate::versions::version_header(&o, version.as_deref());
            return Ok((
                o,
                Body::Stream(file.into_stream(start, len)),
                source_version,
            ));
        }
        Err(S3Error::NoSuchKey(key))
    }

    pub(crate) async fn copy_object(
        &self,
        ctx: &RequestContext,
        input: CopyObjectRequest,
    ) -> Result<CopyObjectOutput, S3Error> {
        check_key(&input.object.key)?;
        let dest = self.bucket(&input.object.bucket).await?;
        let replace = match input.metadata_directive.as_deref() {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(other) => {
                return Err(S3Error::InvalidArgument {
                    message: format!("Unknown metadata directive: {other}"),
                    name: "x-amz-metadata-directive".into(),
                    value: other.into(),
                })
            }
        };
        // A copy is a new object: its ACL is what this request says, never the source's.
        let acl = self
            .acl_for_write(&input.object.acl, &ctx.account_id, &dest)
            .await?;
        let lock = self.lock_for_write(&dest, &input.object.lock).await?;
        let (src, body, source_version) = self.open_source(&input.source, |_| Ok(None)).await?;
        if src.size as u64 > MAX_COPY {
            return Err(S3Error::InvalidRequest(format!(
                "The specified copy source is larger than the maximum allowable size for a copy source: {MAX_COPY}"
            )));
        }
        // Copying a version over the current object (to restore it) is a change.
        let same = src.bucket == dest.name
            && src.key == input.object.key
            && !input.source.copy_source.contains("?versionId=");
        if same
            && !replace
            && input.object.storage_class.is_none()
            && input.object.checksum_algorithm.is_none()
        {
            return Err(S3Error::InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".into(),
            ));
        }
        let conditions = Conditions {
            if_match: input.object.if_match.clone(),
            if_none_match: input.object.if_none_match.clone(),
            ..Default::default()
        };
        let expect = self
            .write_expectation(&dest.name, &input.object.key, &conditions)
            .await?;
        let keep_alg = src
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::parse)
            .unwrap_or(Algorithm::Crc64Nvme);
        let ingested = self
            .ingest(
                body,
                &Trailer::default(),
                Declared {
                    algorithm: input.object.checksum_algorithm.clone(),
                    default_algorithm: Some(keep_alg),
                    max: MAX_COPY,
                    inline: true,
                    ..Default::default()
                },
            )
            .await?;
        let stored = ingested.stored;
        let storage_class = input.object.storage_class.clone();
        let replace_tags = match input.tagging_directive.as_deref() {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(other) => {
                return Err(S3Error::InvalidArgument {
                    message: format!("Unknown tagging directive: {other}"),
                    name: "x-amz-tagging-directive".into(),
                    value: other.into(),
                })
            }
        };
        let requested = input.object.clone().into_template(&ctx.account_id)?;
        let mut template = if replace {
            requested.clone()
        } else {
            ObjectRecord {
                bucket: dest.name.clone(),
                key: input.object.key.clone(),
                storage_class: storage_class
                    .filter(|s| s != "STANDARD")
                    .or(src.storage_class.clone()),
                owner_account: ctx.account_id.clone(),
                part_sizes: None,
                ..src.clone()
            }
        };
        template.acl = acl;
        template.lock_mode = lock.mode;
        template.lock_until = lock.until;
        template.legal_hold = lock.legal_hold;
        template.tags = if replace_tags {
            requested.tags
        } else {
            src.tags.clone()
        };
        let rec = ObjectRecord {
            version_id: crate::versions::version_for(&dest),
            body_id: stored.id.clone(),
            size: stored.size as i64,
            etag: format!("\"{}\"", hex(&stored.md5)),
            last_modified: now(),
            checksum_algorithm: ingested
                .checksum
                .as_ref()
                .map(|(a, _)| a.name().to_string()),
            checksum_value: ingested.checksum.map(|(_, v)| v),
            checksum_type: Some("FULL_OBJECT".into()),
            part_sizes: None,
            part_checksums: None,
            inline_body: ingested.inline,
            ..template
        };
        self.commit_object(&rec, &expect).await?;
        Ok(CopyObjectOutput {
            copy_object_result: CopyObjectResult {
                etag: rec.etag.clone(),
                last_modified: timestamp(rec.last_modified),
                checksum: checksum_fields(&rec),
            },
            server_side_encryption: SSE_DEFAULT.into(),
            version_id: (rec.version_id != "null").then(|| rec.version_id.clone()),
            copy_source_version_id: source_version,
        })
    }

    pub(crate) async fn upload_part_copy(
        &self,
        _ctx: &RequestContext,
        input: UploadPartCopyRequest,
    ) -> Result<UploadPartCopyOutput, S3Error> {
        if !(1..=10_000).contains(&input.part_number) {
            return Err(S3Error::InvalidArgument {
                message: "Part number must be an integer between 1 and 10000, inclusive".into(),
                name: "partNumber".into(),
                value: input.part_number.to_string(),
            });
        }
        self.bucket(&input.bucket).await?;
        let upload = match self.store.get_upload(&input.upload_id).await? {
            Some(u) if u.template.bucket == input.bucket && u.template.key == input.key => u,
            _ => return Err(S3Error::NoSuchUpload(input.upload_id)),
        };
        let range = input.source.copy_source_range.clone();
        let (_, body, source_version) = self
            .open_source(&input.source, |size| {
                range
                    .as_deref()
                    .map(|r| parse_copy_range(r, size))
                    .transpose()
            })
            .await?;
        let ingested = self
            .ingest(
                body,
                &Trailer::default(),
                Declared {
                    default_algorithm: upload
                        .template
                        .checksum_algorithm
                        .as_deref()
                        .and_then(Algorithm::parse),
                    max: MAX_COPY,
                    ..Default::default()
                },
            )
            .await?;
        let stored = ingested.stored;
        let part = PartRecord {
            part_number: input.part_number,
            body_id: stored.id.clone(),
            size: stored.size as i64,
            etag: format!("\"{}\"", hex(&stored.md5)),
            last_modified: now(),
            checksum_algorithm: ingested
                .checksum
                .as_ref()
                .map(|(a, _)| a.name().to_string()),
            checksum_value: ingested.checksum.map(|(_, v)| v),
        };
        match self.store.put_part(&input.upload_id, &part).await {
            Ok(PartWrite::Stored { replaced }) => {
                if let Some(old) = replaced {
                    self.free_body(&old).await;
                }
            }
            Ok(PartWrite::NoSuchUpload) => {
                self.free_body(&stored.id).await;
                return Err(S3Error::NoSuchUpload(input.upload_id));
            }
            Err(e) => {
                self.free_body(&stored.id).await;
                return Err(e.into());
            }
        }
        let rec = ObjectRecord {
            checksum_algorithm: part.checksum_algorithm.clone(),
            checksum_value: part.checksum_value.clone(),
            ..Default::default()
        };
        let mut checksum = checksum_fields(&rec);
        checksum.checksum_type = None;
        Ok(UploadPartCopyOutput {
            copy_part_result: CopyObjectResult {
                etag: part.etag,
                last_modified: timestamp(part.last_modified),
                checksum,
            },
            server_side_encryption: SSE_DEFAULT.into(),
            copy_source_version_id: source_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources() {
        let (b, k, v) = parse_copy_source("/bkt/a%20b/c%2Bd").expect("parses");
        assert_eq!((b.as_str(), k.as_str(), v), ("bkt", "a b/c+d", None));
        let (_, _, v) = parse_copy_source("bkt/k?versionId=null").expect("parses");
        assert_eq!(v.as_deref(), Some("null"));
        assert!(parse_copy_source("bkt").is_err());
        assert!(parse_copy_range("bytes=0-9", 10).is_ok());
        assert!(parse_copy_range("bytes=0-10", 10).is_err());
        assert!(parse_copy_range("bytes=5-", 10).is_err());
    }
}
