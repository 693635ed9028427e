//! Multipart uploads: parts are bodies of their own; completion streams them, in order, into
//! one new body (never holding the object in memory), then swaps the upload for the object in
//! one transaction.

use crate::buckets::{now, owner, timestamp};
use crate::checksum::{Algorithm, Hasher};
use crate::conditions::Conditions;
use crate::errors::S3Error;
use crate::ingest::Declared;
use crate::names::check_key;
use crate::objects::{checksum_fields, hex, SSE_DEFAULT};
use crate::shapes::*;
use crate::S3;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use cloudemu_core::{Body, RequestContext, Trailer};
use cloudemu_storage::s3::{Completion, ObjectRecord, PartRecord, PartWrite, UploadRecord};
use futures_util::StreamExt;
use md5::{Digest, Md5};

const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
const MIN_PART: i64 = 5 * 1024 * 1024;
const MAX_PARTS: i64 = 10_000;
const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024 * 1024;

fn checksum_type_default(a: Option<Algorithm>) -> &'static str {
    match a {
        Some(Algorithm::Crc64Nvme) | None => "FULL_OBJECT",
        Some(_) => "COMPOSITE",
    }
}

fn part_checksum(p: &PartRecord) -> ChecksumFields {
    let rec = ObjectRecord {
        checksum_algorithm: p.checksum_algorithm.clone(),
        checksum_value: p.checksum_value.clone(),
        ..Default::default()
    };
    let mut f = checksum_fields(&rec);
    f.checksum_type = None;
    f
}

fn check_part_number(n: i64) -> Result<(), S3Error> {
    if (1..=MAX_PARTS).contains(&n) {
        Ok(())
    } else {
        Err(S3Error::InvalidArgument {
            message: "Part number must be an integer between 1 and 10000, inclusive".into(),
            name: "partNumber".into(),
            value: n.to_string(),
        })
    }
}

impl S3 {
    /// The upload, checked to belong to this bucket and key.
    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<UploadRecord, S3Error> {
        self.bucket(bucket).await?;
        match self.store.get_upload(upload_id).await? {
            Some(u) if u.template.bucket == bucket && u.template.key == key => Ok(u),
            _ => Err(S3Error::NoSuchUpload(upload_id.to_string())),
        }
    }

    pub(crate) async fn create_multipart_upload(
        &self,
        ctx: &RequestContext,
        input: CreateMultipartUploadRequest,
    ) -> Result<CreateMultipartUploadOutput, S3Error> {
        check_key(&input.object.key)?;
        let bucket = self.bucket(&input.object.bucket).await?;
        // The object's ACL and lock are settled now, as for a PutObject.
        let acl = self
            .acl_for_write(&input.object.acl, &ctx.account_id, &bucket)
            .await?;
        let lock = self.lock_for_write(&bucket, &input.object.lock).await?;
        let algorithm = match input.object.checksum_algorithm.as_deref() {
            Some(a) => Some(Algorithm::parse(a).ok_or_else(|| {
                S3Error::InvalidRequest(format!("Checksum algorithm {a} is not supported"))
            })?),
            None => None,
        };
        let checksum_type = match input.checksum_type.as_deref() {
            None => checksum_type_default(algorithm),
            Some("COMPOSITE") if algorithm != Some(Algorithm::Crc64Nvme) => "COMPOSITE",
            Some("FULL_OBJECT")
                if matches!(
                    algorithm,
                    Some(Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64Nvme)
                ) =>
            {
                "FULL_OBJECT"
            }
            Some(t) => {
                return Err(S3Error::InvalidRequest(format!(
                    "The {} checksum type cannot be used with the {} checksum algorithm.",
                    t.to_ascii_lowercase(),
                    algorithm.map_or("crc64nvme".to_string(), |a| a.name().to_ascii_lowercase())
                )))
            }
        };
        let upload_id = uuid_like();
        let mut template = input.object.into_template(&ctx.account_id)?;
        template.checksum_algorithm = Some(algorithm.unwrap_or(Algorithm::Crc64Nvme).name().into());
        template.checksum_type = Some(checksum_type.to_string());
        template.acl = acl;
        template.lock_mode = lock.mode;
        template.lock_until = lock.until;
        template.legal_hold = lock.legal_hold;
        let u = UploadRecord {
            upload_id: upload_id.clone(),
            initiated: now(),
            template,
        };
        if !self.store.create_upload(&u).await? {
            return Err(S3Error::NoSuchBucket(u.template.bucket));
        }
        Ok(CreateMultipartUploadOutput {
            bucket: u.template.bucket,
            key: u.template.key,
            upload_id,
            server_side_encryption: SSE_DEFAULT.into(),
            checksum_algorithm: algorithm.map(|a| a.name().to_string()),
            checksum_type: algorithm.map(|_| checksum_type.to_string()),
        })
    }

    pub(crate) async fn upload_part(
        &self,
        _ctx: &RequestContext,
        input: UploadPartRequest,
        body: Body,
        trailer: Trailer,
    ) -> Result<UploadPartOutput, S3Error> {
        check_part_number(input.part_number)?;
        let u = self
            .upload(&input.object.bucket, &input.object.key, &input.upload_id)
            .await?;
        let upload_alg = u
            .template
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::parse);
        let ingested = self
            .ingest(
                body,
                &trailer,
                Declared {
                    content_length: input.object.content_length,
                    content_md5: input.object.content_md5.clone(),
                    algorithm: input.object.checksum_algorithm.clone(),
                    checksums: input.object.checksums(),
                    default_algorithm: upload_alg,
                    max: MAX_PART,
                    inline: false,
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
        Ok(UploadPartOutput {
            etag: part.etag.clone(),
            server_side_encryption: SSE_DEFAULT.into(),
            checksum: part_checksum(&part),
        })
    }

    pub(crate) async fn complete_multipart_upload(
        &self,
        _ctx: &RequestContext,
        input: CompleteMultipartUploadRequest,
    ) -> Result<CompleteMultipartUploadOutput, S3Error> {
        let u = match self
            .upload(&input.bucket, &input.key, &input.upload_id)
            .await
        {
            Ok(u) => u,
            Err(S3Error::NoSuchUpload(id)) => return self.completed_already(input, id).await,
            Err(e) => return Err(e),
        };
        // Its versioning state decides the new object's version id.
        let bucket = self.bucket(&input.bucket).await?;
        let requested = input.multipart_upload.map(|m| m.parts).unwrap_or_default();
        if requested.is_empty() {
            return Err(S3Error::MalformedXml);
        }
        let mut stored: Vec<PartRecord> = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.list_parts(&input.upload_id, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.part_number;
            stored.extend(page);
        }
        // Which stored part each requested part names, in the order given.
        let mut chosen: Vec<&PartRecord> = Vec::with_capacity(requested.len());
        let mut previous = 0;
        for p in &requested {
            let n = p.part_number.unwrap_or(0);
            if n <= previous {
                return Err(S3Error::InvalidPartOrder);
            }
            previous = n;
            let found = stored.iter().find(|s| s.part_number == n);
            let etag_ok = |s: &PartRecord| {
                p.etag
                    .as_deref()
                    .is_some_and(|e| e.trim_matches('"') == s.etag.trim_matches('"'))
            };
            let Some(part) = found.filter(|s| etag_ok(s)) else {
                return Err(S3Error::InvalidPart);
            };
            let declared = [
                (Algorithm::Crc32, &p.checksum_crc32),
                (Algorithm::Crc32c, &p.checksum_crc32c),
                (Algorithm::Crc64Nvme, &p.checksum_crc64nvme),
                (Algorithm::Sha1, &p.checksum_sha1),
                (Algorithm::Sha256, &p.checksum_sha256),
            ];
            for (a, v) in declared {
                if let Some(v) = v {
                    if part.checksum_algorithm.as_deref() != Some(a.name())
                        || part.checksum_value.as_deref() != Some(v.as_str())
                    {
                        return Err(S3Error::InvalidPart);
                    }
                }
            }
            chosen.push(part);
        }
        for p in &chosen[..chosen.len() - 1] {
            if p.size < MIN_PART {
                return Err(S3Error::EntityTooSmall {
                    size: p.size,
                    part_number: p.part_number,
                    etag: p.etag.clone(),
                });
            }
        }
        let total: u64 = chosen.iter().map(|p| p.size as u64).sum();
        if total > MAX_OBJECT {
            return Err(S3Error::EntityTooLarge {
                proposed: total,
                max: MAX_OBJECT,
            });
        }
        if let Some(n) = input.mpu_object_size {
            if n as u64 != total {
                return Err(S3Error::InvalidRequest(format!(
                    "The provided 'x-amz-mp-object-size' header value {n} does not match what was computed: {total}"
                )));
            }
        }
        let conditions = Conditions {
            if_match: input.if_match.clone(),
            if_none_match: input.if_none_match.clone(),
            ..Default::default()
        };
        let expect = self
            .write_expectation(&input.bucket, &input.key, &conditions)
            .await?;

        let algorithm = u
            .template
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::parse);
        let checksum_type = u
            .template
            .checksum_type
            .clone()
            .unwrap_or_else(|| checksum_type_default(algorithm).to_string());
        let full_object = checksum_type == "FULL_OBJECT";

        // Assemble: each part's file streamed in turn, opened only when its turn comes.
        let objects = self.objects.clone();
        let bodies: Vec<(String, u64)> = chosen
            .iter()
            .map(|p| (p.body_id.clone(), p.size as u64))
            .collect();
        let mut hasher = algorithm.filter(|_| full_object).map(Hasher::new);
        let assembled = futures_util::stream::iter(bodies)
            .then(move |(id, size)| open_part(objects.clone(), id, size))
            .flatten()
            .map(|chunk| {
                if let (Ok(c), Some(h)) = (&chunk, hasher.as_mut()) {
                    h.update(c);
                }
                chunk
            });
        let body = self
            .objects
            .put_stream_md5(Box::pin(assembled))
            .await
            .map_err(S3Error::Storage)?;

        let checksum_value = match (algorithm, full_object) {
            (Some(_), true) => hasher.map(Hasher::finish),
            (Some(a), false) => {
                let mut h = Hasher::new(a);
                for p in &chosen {
                    let raw = p
                        .checksum_value
                        .as_deref()
                        .filter(|_| p.checksum_algorithm.as_deref() == Some(a.name()))
                        .and_then(|v| B64.decode(v).ok());
                    let Some(raw) = raw else {
                        self.free_body(&body.id).await;
                        return Err(S3Error::InvalidRequest(format!(
                            "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part {} in the request.",
                            a.name().to_ascii_lowercase(),
                            p.part_number
                        )));
                    };
                    h.update(&raw);
                }
                Some(format!("{}-{}", h.finish(), chosen.len()))
            }
            (None, _) => None,
        };
        // A whole-object checksum the client sent must match.
        let sent = [
            (Algorithm::Crc32, &input.checksum_crc32),
            (Algorithm::Crc32c, &input.checksum_crc32c),
            (Algorithm::Crc64Nvme, &input.checksum_crc64nvme),
            (Algorithm::Sha1, &input.checksum_sha1),
            (Algorithm::Sha256, &input.checksum_sha256),
        ];
        for (a, v) in sent {
            if let Some(v) = v {
                let ours = checksum_value.as_deref().unwrap_or("");
                if Some(a) != algorithm
                    || (v != ours && v.split('-').next() != ours.split('-').next())
                {
                    self.free_body(&body.id).await;
                    return Err(S3Error::BadChecksum(a.name()));
                }
            }
        }

        let etag = multipart_etag(chosen.iter().map(|p| p.etag.as_str()));
        let rec = ObjectRecord {
            body_id: body.id.clone(),
            size: body.size as i64,
            etag: etag.clone(),
            last_modified: now(),
            checksum_algorithm: algorithm.map(|a| a.name().to_string()),
            checksum_value,
            checksum_type: Some(checksum_type),
            part_sizes: Some(chosen.iter().map(|p| p.size).collect()),
            // GetObjectAttributes reports each part's checksum when every part has one.
            part_checksums: algorithm.and_then(|a| {
                chosen
                    .iter()
                    .map(|p| {
                        p.checksum_value
                            .clone()
                            .filter(|_| p.checksum_algorithm.as_deref() == Some(a.name()))
                    })
                    .collect()
            }),
            version_id: crate::versions::version_for(&bucket),
            ..u.template.clone()
        };
        match self
            .store
            .complete_upload(&input.upload_id, &rec, &expect)
            .await
        {
            Ok(Completion::Done { freed }) => {
                for id in freed {
                    self.free_body(&id).await;
                }
            }
            Ok(Completion::NoSuchUpload) => {
                self.free_body(&body.id).await;
                return Err(S3Error::NoSuchUpload(input.upload_id));
            }
            Ok(Completion::Conflict) => {
                self.free_body(&body.id).await;
                return Err(S3Error::ConditionalRequestConflict);
            }
            Err(e) => {
                self.free_body(&body.id).await;
                return Err(e.into());
            }
        }
        Ok(CompleteMultipartUploadOutput {
            location: format!("/{}/{}", input.bucket, input.key),
            bucket: input.bucket,
            key: input.key,
            etag,
            server_side_encryption: SSE_DEFAULT.into(),
            version_id: (rec.version_id != "null").then(|| rec.version_id.clone()),
            checksum: checksum_fields(&rec),
        })
    }

    /// A CompleteMultipartUpload retried after it succeeded answers as the first one did (S3
    /// completes idempotently): the key's current object is the one these parts made.
    async fn completed_already(
        &self,
        input: CompleteMultipartUploadRequest,
        upload_id: String,
    ) -> Result<CompleteMultipartUploadOutput, S3Error> {
        let parts = input.multipart_upload.map(|m| m.parts).unwrap_or_default();
        let etag = multipart_etag(parts.iter().map(|p| p.etag.as_deref().unwrap_or("")));
        match self.store.get_object(&input.bucket, &input.key).await? {
            Some(rec) if !parts.is_empty() && rec.etag == etag => {
                Ok(CompleteMultipartUploadOutput {
                    location: format!("/{}/{}", input.bucket, input.key),
                    bucket: input.bucket,
                    key: input.key,
                    etag,
                    server_side_encryption: SSE_DEFAULT.into(),
                    version_id: (rec.version_id != "null").then(|| rec.version_id.clone()),
                    checksum: checksum_fields(&rec),
                })
            }
            _ => Err(S3Error::NoSuchUpload(upload_id)),
        }
    }

    pub(crate) async fn abort_multipart_upload(
        &self,
        _ctx: &RequestContext,
        input: UploadInput,
    ) -> Result<(), S3Error> {
        self.upload(&input.bucket, &input.key, &input.upload_id)
            .await?;
        match self.store.abort_upload(&input.upload_id).await? {
            Some(bodies) => {
                for id in bodies {
                    self.free_body(&id).await;
                }
                Ok(())
            }
            None => Err(S3Error::NoSuchUpload(input.upload_id)),
        }
    }

    pub(crate) async fn list_parts(
        &self,
        _ctx: &RequestContext,
        input: UploadInput,
    ) -> Result<ListPartsOutput, S3Error> {
        let u = self
            .upload(&input.bucket, &input.key, &input.upload_id)
            .await?;
        let max = input.max_parts.unwrap_or(1000).clamp(0, 1000);
        let marker: i64 = match input.part_number_marker.as_deref() {
            None | Some("") => 0,
            Some(m) => m.parse().map_err(|_| S3Error::InvalidArgument {
                message: "Provided part-number-marker not an integer or within integer range"
                    .into(),
                name: "part-number-marker".into(),
                value: m.to_string(),
            })?,
        };
        let mut parts = self
            .store
            .list_parts(&input.upload_id, marker, max + 1)
            .await?;
        let truncated = parts.len() as i64 > max;
        parts.truncate(max as usize);
        let o = owner(&u.template.owner_account);
        Ok(ListPartsOutput {
            bucket: input.bucket,
            key: input.key,
            upload_id: input.upload_id,
            part_number_marker: marker.to_string(),
            next_part_number_marker: parts.last().map(|p| p.part_number.to_string()),
            max_parts: max,
            is_truncated: truncated,
            parts: parts
                .iter()
                .map(|p| PartEntry {
                    part_number: p.part_number,
                    last_modified: timestamp(p.last_modified),
                    etag: p.etag.clone(),
                    size: p.size,
                    checksum: part_checksum(p),
                })
                .collect(),
            initiator: o.clone(),
            owner: o,
            storage_class: u
                .template
                .storage_class
                .clone()
                .unwrap_or_else(|| "STANDARD".into()),
            checksum_algorithm: u.template.checksum_algorithm.clone(),
            checksum_type: u.template.checksum_type.clone(),
        })
    }

    pub(crate) async fn list_multipart_uploads(
        &self,
        _ctx: &RequestContext,
        input: ListMultipartUploadsRequest,
    ) -> Result<ListMultipartUploadsOutput, S3Error> {
        self.bucket(&input.bucket).await?;
        let max = input.max_uploads.unwrap_or(1000).clamp(0, 1000);
        let prefix = input.prefix.clone().unwrap_or_default();
        let key_marker = input.key_marker.clone().unwrap_or_default();
        // An upload-id marker only counts with a key marker.
        let upload_marker = if key_marker.is_empty() {
            String::new()
        } else {
            input.upload_id_marker.clone().unwrap_or_default()
        };
        let (mut uploads, mut prefixes): (Vec<UploadRecord>, Vec<String>) = (vec![], vec![]);
        let mut truncated = false;
        let (mut cursor_key, mut cursor_id) = (key_marker.clone(), upload_marker.clone());
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        'pages: loop {
            let page = self
                .store
                .list_uploads(&input.bucket, &prefix, &cursor_key, &cursor_id, 1000)
                .await?;
            let exhausted = page.len() < 1000;
            for u in page {
                cursor_key = u.template.key.clone();
                cursor_id = u.upload_id.clone();
                let common = delimiter.as_deref().and_then(|d| {
                    let rest = &u.template.key[prefix.len()..];
                    rest.find(d)
                        .map(|i| u.template.key[..prefix.len() + i + d.len()].to_string())
                });
                if let Some(cp) = &common {
                    if prefixes.last() == Some(cp) {
                        continue;
                    }
                }
                if (uploads.len() + prefixes.len()) as i64 >= max {
                    truncated = true;
                    break 'pages;
                }
                match common {
                    Some(cp) => prefixes.push(cp),
                    None => uploads.push(u),
                }
            }
            if exhausted {
                break;
            }
        }
        let last = uploads.last();
        Ok(ListMultipartUploadsOutput {
            next_key_marker: truncated
                .then(|| last.map(|u| u.template.key.clone()))
                .flatten(),
            next_upload_id_marker: truncated
                .then(|| last.map(|u| u.upload_id.clone()))
                .flatten(),
            bucket: input.bucket,
            key_marker,
            upload_id_marker: upload_marker,
            prefix,
            delimiter,
            max_uploads: max,
            is_truncated: truncated,
            uploads: uploads
                .into_iter()
                .map(|u| {
                    let o = owner(&u.template.owner_account);
                    UploadEntry {
                        key: u.template.key.clone(),
                        initiated: timestamp(u.initiated),
                        storage_class: u
                            .template
                            .storage_class
                            .clone()
                            .unwrap_or_else(|| "STANDARD".into()),
                        owner: o.clone(),
                        initiator: o,
                        checksum_algorithm: u.template.checksum_algorithm.clone(),
                        checksum_type: u.template.checksum_type.clone(),
                        upload_id: u.upload_id,
                    }
                })
                .collect(),
            common_prefixes: prefixes
                .into_iter()
                .map(|prefix| CommonPrefix { prefix })
                .collect(),
        })
    }
}

/// A part's body as a stream, opened when the assembly reaches it.
async fn open_part(
    objects: cloudemu_storage::ObjectStore,
    id: String,
    size: u64,
) -> futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>> {
    let failed =
        |msg: String| futures_util::stream::iter([Err(std::io::Error::other(msg))]).boxed();
    match objects.open(&id).await {
        Ok(Some(b)) => b.into_stream(0, size),
        Ok(None) => failed("a part's body is missing".into()),
        Err(e) => failed(e.to_string()),
    }
}

/// Upload ids are opaque; S3's are long URL-safe strings.
fn uuid_like() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A multipart object's ETag: the MD5 of its parts' binary MD5s, then `-<number of parts>`.
fn multipart_etag<'a>(part_etags: impl ExactSizeIterator<Item = &'a str>) -> String {
    let n = part_etags.len();
    let mut md5s = Md5::new();
    for e in part_etags {
        let e = e.trim_matches('"');
        let raw: Vec<u8> = (0..e.len() / 2)
            .filter_map(|i| e.get(2 * i..2 * i + 2))
            .filter_map(|b| u8::from_str_radix(b, 16).ok())
            .collect();
        md5s.update(&raw);
    }
    format!("\"{}-{n}\"", hex(&md5s.finalize()))
}
