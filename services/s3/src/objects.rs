//! Objects: bodies streamed to the object store while their MD5 (the ETag) and flexible
//! checksum are computed, then the metadata row; reads stream the body back.

use crate::checksum::Algorithm;
use crate::conditions::{parse_range, ByteRange, Conditions};
use crate::errors::S3Error;
use crate::ingest::Declared;
use crate::names::check_key;
use crate::shapes::*;
use crate::S3;
use cloudemu_core::{Body, RequestContext, ServiceError, Trailer};
use cloudemu_storage::objects::ObjectBody;
use cloudemu_storage::s3::{is_inline, Expect, ObjectRecord, ObjectWrite};
use cloudemu_storage::StorageError;
use serde_json::Value;

/// Largest single PUT (5 GiB).
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// S3 encrypts every object with SSE-S3 unless told otherwise, and says so.
pub(crate) const SSE_DEFAULT: &str = "AES256";

fn conditions_of(input: &GetObjectRequest) -> Conditions {
    Conditions {
        if_match: input.if_match.clone(),
        if_none_match: input.if_none_match.clone(),
        if_modified_since: input.if_modified_since,
        if_unmodified_since: input.if_unmodified_since,
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn checksum_fields(o: &ObjectRecord) -> ChecksumFields {
    let mut f = ChecksumFields::default();
    if let (Some(a), Some(v)) = (o.checksum_algorithm.as_deref(), o.checksum_value.clone()) {
        match Algorithm::parse(a) {
            Some(Algorithm::Crc32) => f.crc32 = Some(v),
            Some(Algorithm::Crc32c) => f.crc32c = Some(v),
            Some(Algorithm::Crc64Nvme) => f.crc64nvme = Some(v),
            Some(Algorithm::Sha1) => f.sha1 = Some(v),
            Some(Algorithm::Sha256) => f.sha256 = Some(v),
            None => return f,
        }
        f.checksum_type = o.checksum_type.clone();
    }
    f
}

impl S3 {
    pub(crate) async fn put_object(
        &self,
        ctx: &RequestContext,
        input: PutObjectRequest,
        body: Body,
        trailer: Trailer,
    ) -> Result<PutObjectOutput, S3Error> {
        check_key(&input.key)?;
        let bucket = self.bucket(&input.bucket).await?;
        let mut template = input.clone().into_template(&ctx.account_id)?;
        template.acl = self
            .acl_for_write(&input.acl, &ctx.account_id, &bucket)
            .await?;
        let lock = self.lock_for_write(&bucket, &input.lock).await?;
        template.lock_mode = lock.mode;
        template.lock_until = lock.until;
        template.legal_hold = lock.legal_hold;
        let conditions = Conditions {
            if_match: input.if_match.clone(),
            if_none_match: input.if_none_match.clone(),
            ..Default::default()
        };
        let expect = self
            .write_expectation(&bucket.name, &input.key, &conditions)
            .await?;
        let ingested = self
            .ingest(
                body,
                &trailer,
                Declared {
                    content_length: input.content_length,
                    content_md5: input.content_md5.clone(),
                    algorithm: input.checksum_algorithm.clone(),
                    checksums: input.checksums(),
                    // S3 gives every new object a CRC64NVME unless the client chose another.
                    default_algorithm: Some(Algorithm::Crc64Nvme),
                    max: MAX_PUT,
                    inline: true,
                },
            )
            .await?;
        let stored = ingested.stored;
        let rec = ObjectRecord {
            version_id: crate::versions::version_for(&bucket),
            body_id: stored.id.clone(),
            size: stored.size as i64,
            etag: format!("\"{}\"", hex(&stored.md5)),
            last_modified: crate::buckets::now(),
            checksum_algorithm: ingested
                .checksum
                .as_ref()
                .map(|(a, _)| a.name().to_string()),
            checksum_value: ingested.checksum.map(|(_, v)| v),
            checksum_type: Some("FULL_OBJECT".to_string()),
            inline_body: ingested.inline,
            ..template
        };
        self.commit_object(&rec, &expect).await?;
        Ok(PutObjectOutput {
            etag: rec.etag.clone(),
            server_side_encryption: SSE_DEFAULT.into(),
            version_id: (rec.version_id != "null").then(|| rec.version_id.clone()),
            checksum: checksum_fields(&rec),
        })
    }

    /// Write an object's row and free what it replaced; on failure free its own body.
    pub(crate) async fn commit_object(
        &self,
        rec: &ObjectRecord,
        expect: &Expect,
    ) -> Result<(), S3Error> {
        match self.store.put_object(rec, expect).await {
            Ok(ObjectWrite::Stored { replaced }) => {
                for old in replaced {
                    self.free_body(&old).await;
                }
                Ok(())
            }
            Ok(ObjectWrite::Conflict) => {
                self.free_body(&rec.body_id).await;
                Err(S3Error::ConditionalRequestConflict)
            }
            Ok(ObjectWrite::NoSuchBucket) => {
                self.free_body(&rec.body_id).await;
                Err(S3Error::NoSuchBucket(rec.bucket.clone()))
            }
            Err(e) => {
                self.free_body(&rec.body_id).await;
                Err(e.into())
            }
        }
    }

    /// Check a write's conditions against the current object (412 when they fail) and say
    /// what the write must find when it commits (409 if that changed meanwhile).
    pub(crate) async fn write_expectation(
        &self,
        bucket: &str,
        key: &str,
        conditions: &Conditions,
    ) -> Result<Expect, S3Error> {
        if conditions.if_match.is_none() && conditions.if_none_match.is_none() {
            return Ok(Expect::Anything);
        }
        let current = self.store.get_object(bucket, key).await?;
        conditions.check_write(current.as_ref())?;
        Ok(match current {
            Some(o) => Expect::Etag(o.etag),
            None => Expect::Absent,
        })
    }

    /// Remove a body no row refers to any more. A failure only leaves an orphan file, which
    /// the start-up sweep removes.
    pub(crate) async fn free_body(&self, id: &str) {
        if let Err(e) = self.objects.delete(id).await {
            tracing::warn!(error = %e, body = id, "could not free an object body");
        }
    }

    /// An object's body: the bytes read with its row when it is kept inline, else its file;
    /// `None` if the file is gone (a concurrent overwrite freed it).
    pub(crate) async fn open_body(&self, o: &ObjectRecord) -> Result<Option<ObjectBody>, S3Error> {
        if is_inline(&o.body_id) {
            return match &o.inline_body {
                Some(b) => Ok(Some(ObjectBody::Memory(b.clone()))),
                // Only reads that return a body fill it; any other record is a bug here.
                None => Err(S3Error::Storage(StorageError::Io(std::io::Error::other(
                    "an inline object was read without its body",
                )))),
            };
        }
        Ok(self.objects.open(&o.body_id).await?)
    }

    pub(crate) async fn object(&self, bucket: &str, key: &str) -> Result<ObjectRecord, S3Error> {
        match self.store.find_object(bucket, key).await? {
            None => Err(S3Error::NoSuchBucket(bucket.to_string())),
            Some(None) => Err(self.missing_key(bucket, key).await),
            Some(Some(o)) => Ok(o),
        }
    }

    fn headers_of(&self, o: &ObjectRecord, checksum_mode: Option<&str>) -> ObjectHeaders {
        ObjectHeaders {
            accept_ranges: "bytes".into(),
            last_modified: crate::buckets::timestamp(o.last_modified),
            content_length: o.size,
            etag: o.etag.clone(),
            cache_control: o.cache_control.clone(),
            content_disposition: o.content_disposition.clone(),
            content_encoding: o.content_encoding.clone(),
            content_language: o.content_language.clone(),
            content_type: o
                .content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".into()),
            content_range: None,
            expires: o.expires.clone(),
            parts_count: None,
            tag_count: (!o.tags.is_empty()).then_some(o.tags.len() as i64),
            server_side_encryption: SSE_DEFAULT.into(),
            storage_class: o.storage_class.clone(),
            metadata: o.user_metadata.iter().cloned().collect(),
            version_id: None,
            object_lock_mode: o.lock_mode.clone(),
            object_lock_retain_until_date: o.lock_until,
            object_lock_legal_hold_status: o.legal_hold.clone(),
            checksum: if checksum_mode.is_some_and(|m| m.eq_ignore_ascii_case("ENABLED")) {
                checksum_fields(o)
            } else {
                ChecksumFields::default()
            },
        }
    }

    pub(crate) async fn head_object(
        &self,
        _ctx: &RequestContext,
        input: GetObjectRequest,
    ) -> Result<ObjectHeaders, S3Error> {
        let o = self
            .object_version(
                &input.bucket,
                &input.key,
                input.version_id.as_deref(),
                "HEAD",
            )
            .await?;
        let (headers, _) = self.read_plan(&o, &input)?;
        Ok(headers)
    }

    /// The headers a GET or HEAD answers with and the byte range it sends, after its
    /// conditions are checked.
    fn read_plan(
        &self,
        o: &ObjectRecord,
        input: &GetObjectRequest,
    ) -> Result<(ObjectHeaders, Option<ByteRange>), S3Error> {
        conditions_of(input).check_read(o)?;
        let size = o.size as u64;
        let range = match (&input.range, input.part_number) {
            (Some(_), Some(_)) => {
                return Err(S3Error::InvalidRequest(
                    "Cannot specify both Range header and partNumber query parameter".into(),
                ))
            }
            (Some(h), None) => parse_range(h, size)?,
            (None, Some(n)) => match &o.part_sizes {
                Some(sizes) if n >= 1 && n as usize <= sizes.len() => {
                    let start: i64 = sizes[..n as usize - 1].iter().sum();
                    let len = sizes[n as usize - 1];
                    (len > 0).then(|| ByteRange {
                        start: start as u64,
                        end: (start + len - 1) as u64,
                    })
                }
                // An object uploaded in one piece is its own part 1.
                None if n == 1 => None,
                _ => return Err(S3Error::InvalidPartNumber),
            },
            (None, None) => None,
        };
        let mut headers = self.headers_of(o, input.checksum_mode.as_deref());
        headers.version_id = crate::versions::version_header(o, input.version_id.as_deref());
        if input.part_number.is_some() {
            headers.parts_count = o.part_sizes.as_ref().map(|p| p.len() as i64);
        }
        if let Some(r) = range {
            headers.content_length = r.len() as i64;
            headers.content_range = Some(r.content_range(size));
            // A whole-object checksum says nothing about part of it; a part read names the
            // part's own checksum, when the parts had one.
            headers.checksum = ChecksumFields::default();
            let part_checksum = input
                .part_number
                .filter(|_| input.checksum_mode.as_deref() == Some("ENABLED"))
                .and_then(|n| o.part_checksums.as_ref()?.get(usize::try_from(n - 1).ok()?));
            if let Some(v) = part_checksum {
                headers.checksum = checksum_fields(&ObjectRecord {
                    checksum_value: Some(v.clone()),
                    ..o.clone()
                });
            }
        }
        // response-* query parameters override the stored headers.
        if let Some(v) = input.response_cache_control.clone() {
            headers.cache_control = Some(v);
        }
        if let Some(v) = input.response_content_disposition.clone() {
            headers.content_disposition = Some(v);
        }
        if let Some(v) = input.response_content_encoding.clone() {
            headers.content_encoding = Some(v);
        }
        if let Some(v) = input.response_content_language.clone() {
            headers.content_language = Some(v);
        }
        if let Some(v) = input.response_content_type.clone() {
            headers.content_type = v;
        }
        if let Some(v) = input.response_expires {
            headers.expires = Some(v.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
        }
        Ok((headers, range))
    }

    pub(crate) async fn get_object(
        &self,
        _ctx: &RequestContext,
        input: GetObjectRequest,
    ) -> Result<(Value, Body), S3Error> {
        // A concurrent overwrite may free the body between the row read and the open: the
        // next read sees the new row.
        for _ in 0..3 {
            let o = self
                .object_version(
                    &input.bucket,
                    &input.key,
                    input.version_id.as_deref(),
                    "GET",
                )
                .await?;
            let (headers, range) = self.read_plan(&o, &input)?;
            let Some(file) = self.open_body(&o).await? else {
                continue;
            };
            let out = serde_json::to_value(headers)
                .map_err(|e| S3Error::Body(Box::new(ServiceError::internal(e))))?;
            let (start, len) = range.map_or((0, o.size as u64), |r| (r.start, r.len()));
            return Ok((out, Body::Stream(file.into_stream(start, len))));
        }
        Err(S3Error::NoSuchKey(input.key))
    }

    pub(crate) async fn delete_object(
        &self,
        ctx: &RequestContext,
        input: ObjectInput,
    ) -> Result<DeleteObjectOutput, S3Error> {
        let bucket = self.bucket(&input.bucket).await?;
        // Deleting a key that does not exist succeeds, as in S3.
        let d = self
            .delete_key(
                ctx,
                &bucket,
                &input.key,
                input.version_id.as_deref(),
                input.bypass_governance_retention.unwrap_or(false),
            )
            .await?;
        Ok(DeleteObjectOutput {
            delete_marker: d.delete_marker.then_some(true),
            version_id: d.version_id,
        })
    }

    pub(crate) async fn delete_objects(
        &self,
        ctx: &RequestContext,
        input: DeleteObjectsRequest,
    ) -> Result<DeleteObjectsOutput, S3Error> {
        let bucket = self.bucket(&input.bucket).await?;
        if input.delete.objects.len() > 1000 {
            return Err(S3Error::MalformedXml);
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut out = DeleteObjectsOutput {
            deleted: Vec::new(),
            errors: Vec::new(),
        };
        for obj in input.delete.objects {
            if let Some(v) = obj.version_id.as_deref() {
                if crate::versions::check_version_id(v).is_err() {
                    out.errors.push(DeleteError {
                        key: obj.key,
                        version_id: obj.version_id.clone(),
                        code: "NoSuchVersion".into(),
                        message: format!(
                            "The specified version does not exist. (invalid version id: {v})"
                        ),
                    });
                    continue;
                }
            }
            if obj.key.len() > crate::names::MAX_KEY_BYTES {
                out.errors.push(DeleteError {
                    key: obj.key,
                    version_id: obj.version_id,
                    code: "KeyTooLongError".into(),
                    message: "Your key is too long".into(),
                });
                continue;
            }
            match self
                .delete_key(
                    ctx,
                    &bucket,
                    &obj.key,
                    obj.version_id.as_deref(),
                    input.bypass_governance_retention.unwrap_or(false),
                )
                .await
            {
                Ok(d) => {
                    if !quiet {
                        // A marker made here is named by DeleteMarkerVersionId; a version
                        // deleted by id by VersionId (and, if it was a marker, both).
                        let marker_id = d.delete_marker.then(|| d.version_id.clone()).flatten();
                        out.deleted.push(DeletedObject {
                            key: obj.key,
                            version_id: obj.version_id,
                            delete_marker: d.delete_marker.then_some(true),
                            delete_marker_version_id: marker_id,
                        });
                    }
                }
                Err(e) => {
                    let e = ServiceError::from(e);
                    let (code, message) = if e.status >= 500 {
                        tracing::error!(error = %e, "DeleteObjects: one key failed");
                        (
                            "InternalError".to_string(),
                            "We encountered an internal error. Please try again.".to_string(),
                        )
                    } else {
                        (e.code, e.message)
                    };
                    out.errors.push(DeleteError {
                        key: obj.key,
                        version_id: obj.version_id,
                        code,
                        message,
                    });
                }
            }
        }
        Ok(out)
    }
}
