//! Objects: bodies streamed to the object store while their MD5 (the ETag) and flexible
//! checksum are computed, then the metadata row; reads stream the body back.

use crate::checksum::{self, Algorithm, Hasher};
use crate::conditions::{parse_range, ByteRange, Conditions};
use crate::errors::S3Error;
use crate::names::check_key;
use crate::shapes::*;
use crate::S3;
use cloudemu_core::body::body_error;
use cloudemu_core::{Body, RequestContext, ServiceError, Trailer};
use cloudemu_storage::s3::{Expect, ObjectRecord, ObjectWrite};
use futures_util::StreamExt;
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The declared checksum members of a put, by algorithm.
fn declared(
    input: &PutObjectRequest,
    trailer: &serde_json::Map<String, Value>,
) -> Vec<(Algorithm, String)> {
    let from = |member: &str, header: &Option<String>| {
        header.clone().or_else(|| {
            trailer
                .get(member)
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    };
    [
        (
            Algorithm::Crc32,
            from("ChecksumCRC32", &input.checksum_crc32),
        ),
        (
            Algorithm::Crc32c,
            from("ChecksumCRC32C", &input.checksum_crc32c),
        ),
        (
            Algorithm::Crc64Nvme,
            from("ChecksumCRC64NVME", &input.checksum_crc64nvme),
        ),
        (Algorithm::Sha1, from("ChecksumSHA1", &input.checksum_sha1)),
        (
            Algorithm::Sha256,
            from("ChecksumSHA256", &input.checksum_sha256),
        ),
    ]
    .into_iter()
    .filter_map(|(a, v)| v.map(|v| (a, v)))
    .collect()
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
        let conditions = Conditions {
            if_match: input.if_match.clone(),
            if_none_match: input.if_none_match.clone(),
            ..Default::default()
        };
        let expect = self
            .write_expectation(&bucket.name, &input.key, &conditions)
            .await?;
        if let Some(len) = input.content_length {
            if len as u64 > MAX_PUT {
                return Err(S3Error::EntityTooLarge {
                    proposed: len as u64,
                    max: MAX_PUT,
                });
            }
        }
        let content_md5 = input
            .content_md5
            .as_deref()
            .map(checksum::parse_content_md5)
            .transpose()?;
        // Which checksum to compute: the one declared in a header, else the one announced
        // for a trailer (`x-amz-sdk-checksum-algorithm`).
        let headers_declared = declared(&input, &serde_json::Map::new());
        if headers_declared.len() > 1 {
            return Err(S3Error::InvalidRequest(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
                    .into(),
            ));
        }
        for (a, v) in &headers_declared {
            checksum::check_value(*a, v)?;
        }
        let announced = match input.checksum_algorithm.as_deref() {
            Some(name) => Some(Algorithm::parse(name).ok_or_else(|| S3Error::InvalidRequest(
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]".to_string(),
            ))?),
            None => None,
        };
        // A trailer announced without `x-amz-sdk-checksum-algorithm` still names one.
        let in_trailer = trailer
            .announced()
            .iter()
            .find_map(|m| m.strip_prefix("Checksum").and_then(Algorithm::parse));
        let algorithm = headers_declared
            .first()
            .map(|(a, _)| *a)
            .or(announced)
            .or(in_trailer);

        let mut hasher = algorithm.map(Hasher::new);
        let mut received = 0u64;
        let stream = match body {
            Body::Stream(s) => s,
            Body::Bytes(b) => futures_util::stream::iter([Ok(b)]).boxed(),
            Body::Empty => futures_util::stream::empty().boxed(),
        };
        let counted = stream.map(|chunk| {
            let chunk = chunk?;
            received += chunk.len() as u64;
            if received > MAX_PUT {
                return Err(body_error(ServiceError::from(S3Error::EntityTooLarge {
                    proposed: received,
                    max: MAX_PUT,
                })));
            }
            if let Some(h) = hasher.as_mut() {
                h.update(&chunk);
            }
            Ok(chunk)
        });
        let stored = self
            .objects
            .put_stream(counted)
            .await
            .map_err(S3Error::from_store)?;
        // From here on the body is a file: any refusal must free it.
        let checked = (|| {
            if let Some(len) = input.content_length {
                if stored.size != len as u64 {
                    return Err(S3Error::IncompleteBody);
                }
            }
            if let Some(md5) = content_md5 {
                if md5 != stored.md5 {
                    return Err(S3Error::BadContentMd5);
                }
            }
            let computed = hasher.map(Hasher::finish);
            let all_declared = declared(&input, &trailer.get());
            for (a, v) in &all_declared {
                if Some(*a) != algorithm {
                    continue;
                }
                checksum::check_value(*a, v)?;
                if computed.as_deref() != Some(v.trim()) {
                    return Err(S3Error::BadChecksum(a.name()));
                }
            }
            Ok(computed)
        })();
        let computed = match checked {
            Ok(c) => c,
            Err(e) => {
                let _ = self.objects.delete(&stored.id).await;
                return Err(e);
            }
        };
        let rec = ObjectRecord {
            bucket: bucket.name.clone(),
            key: input.key.clone(),
            body_id: stored.id.clone(),
            size: stored.size as i64,
            etag: format!("\"{}\"", hex(&stored.md5)),
            last_modified: crate::buckets::now(),
            content_type: input.content_type,
            content_encoding: input.content_encoding.filter(|e| !e.is_empty()),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires,
            user_metadata: input.metadata.into_iter().collect(),
            storage_class: input.storage_class.filter(|s| s != "STANDARD"),
            checksum_algorithm: algorithm.map(|a| a.name().to_string()),
            checksum_value: computed,
            checksum_type: algorithm.map(|_| "FULL_OBJECT".to_string()),
            owner_account: ctx.account_id.clone(),
        };
        match self.store.put_object(&rec, &expect).await {
            Ok(ObjectWrite::Stored { replaced }) => {
                if let Some(old) = replaced {
                    self.free_body(&old).await;
                }
            }
            Ok(ObjectWrite::Conflict) => {
                self.free_body(&stored.id).await;
                return Err(S3Error::ConditionalRequestConflict);
            }
            Ok(ObjectWrite::NoSuchBucket) => {
                self.free_body(&stored.id).await;
                return Err(S3Error::NoSuchBucket(bucket.name));
            }
            Err(e) => {
                self.free_body(&stored.id).await;
                return Err(e.into());
            }
        }
        Ok(PutObjectOutput {
            etag: rec.etag.clone(),
            server_side_encryption: SSE_DEFAULT.into(),
            checksum: checksum_fields(&rec),
        })
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

    pub(crate) async fn object(&self, bucket: &str, key: &str) -> Result<ObjectRecord, S3Error> {
        self.bucket(bucket).await?;
        self.store
            .get_object(bucket, key)
            .await?
            .ok_or_else(|| S3Error::NoSuchKey(key.to_string()))
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
            server_side_encryption: SSE_DEFAULT.into(),
            storage_class: o.storage_class.clone(),
            metadata: o.user_metadata.iter().cloned().collect(),
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
        let o = self.object(&input.bucket, &input.key).await?;
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
            // An object uploaded in one piece is its own part 1.
            (None, Some(1)) => None,
            (None, Some(_)) => return Err(S3Error::InvalidPartNumber),
            (None, None) => None,
        };
        let mut headers = self.headers_of(o, input.checksum_mode.as_deref());
        if let Some(r) = range {
            headers.content_length = r.len() as i64;
            headers.content_range = Some(r.content_range(size));
            // A whole-object checksum says nothing about part of it.
            headers.checksum = ChecksumFields::default();
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
            let o = self.object(&input.bucket, &input.key).await?;
            let (headers, range) = self.read_plan(&o, &input)?;
            let Some(file) = self.objects.open(&o.body_id).await? else {
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
        _ctx: &RequestContext,
        input: ObjectInput,
    ) -> Result<serde_json::Map<String, Value>, S3Error> {
        self.bucket(&input.bucket).await?;
        // Deleting a key that does not exist succeeds, as in S3.
        if let Some(body) = self.store.delete_object(&input.bucket, &input.key).await? {
            self.free_body(&body).await;
        }
        Ok(serde_json::Map::new())
    }

    pub(crate) async fn delete_objects(
        &self,
        _ctx: &RequestContext,
        input: DeleteObjectsRequest,
    ) -> Result<DeleteObjectsOutput, S3Error> {
        self.bucket(&input.bucket).await?;
        if input.delete.objects.len() > 1000 {
            return Err(S3Error::MalformedXml);
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut out = DeleteObjectsOutput {
            deleted: Vec::new(),
            errors: Vec::new(),
        };
        for obj in input.delete.objects {
            if obj.key.len() > crate::names::MAX_KEY_BYTES {
                out.errors.push(DeleteError {
                    key: obj.key,
                    code: "KeyTooLongError".into(),
                    message: "Your key is too long".into(),
                });
                continue;
            }
            match self.store.delete_object(&input.bucket, &obj.key).await {
                Ok(body) => {
                    if let Some(body) = body {
                        self.free_body(&body).await;
                    }
                    if !quiet {
                        out.deleted.push(DeletedObject { key: obj.key });
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "DeleteObjects: one key failed");
                    out.errors.push(DeleteError {
                        key: obj.key,
                        code: "InternalError".into(),
                        message: "We encountered an internal error. Please try again.".into(),
                    });
                }
            }
        }
        Ok(out)
    }
}
