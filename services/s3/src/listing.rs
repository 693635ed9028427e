//! ListObjects (v1) and ListObjectsV2: prefix, delimiter with CommonPrefixes, max-keys, markers
//! and continuation tokens, start-after, fetch-owner, `encoding-type=url`.

use crate::buckets::{decode_token, encode_token, owner, timestamp};
use crate::errors::S3Error;
use crate::shapes::*;
use crate::S3;
use cloudemu_core::RequestContext;
use cloudemu_storage::s3::ObjectRecord;

const MAX_KEYS: i64 = 1000;
/// Rows read per store query while a page fills.
const BATCH: i64 = 1000;

/// One page of a listing: objects and common prefixes in key order.
struct Page {
    contents: Vec<ObjectRecord>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last key or common prefix returned (where the next page starts).
    last: Option<String>,
}

/// S3's `encoding-type=url`: percent-encoding that keeps `/` and writes spaces as `+`.
pub(crate) fn url_encode(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(s, KEEP).to_string().replace("%20", "+")
}

pub(crate) fn check_encoding(e: &Option<String>) -> Result<bool, S3Error> {
    match e.as_deref() {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(other) => Err(S3Error::InvalidArgument {
            message: "Invalid Encoding Method specified in Request".into(),
            name: "encoding-type".into(),
            value: other.into(),
        }),
    }
}

pub(crate) fn check_max_keys(n: Option<i64>) -> Result<i64, S3Error> {
    match n {
        None => Ok(MAX_KEYS),
        Some(n) if n < 0 => Err(S3Error::InvalidArgument {
            message: "max-keys cannot be negative".into(),
            name: "max-keys".into(),
            value: n.to_string(),
        }),
        Some(n) => Ok(n.min(MAX_KEYS)),
    }
}

impl S3 {
    /// Collect up to `max` entries after `after`.
    async fn page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: &str,
        max: i64,
    ) -> Result<Page, S3Error> {
        let mut page = Page {
            contents: Vec::new(),
            prefixes: Vec::new(),
            truncated: false,
            last: None,
        };
        // max-keys=0 asks for nothing, and S3 says nothing more is there.
        if max == 0 {
            return Ok(page);
        }
        let mut cursor = after.to_string();
        let delimiter = delimiter.filter(|d| !d.is_empty());
        loop {
            let rows = self
                .store
                .list_objects(bucket, prefix, &cursor, BATCH)
                .await?;
            let exhausted = (rows.len() as i64) < BATCH;
            for o in rows {
                cursor = o.key.clone();
                let common = delimiter.and_then(|d| {
                    let rest = &o.key[prefix.len()..];
                    rest.find(d)
                        .map(|i| o.key[..prefix.len() + i + d.len()].to_string())
                });
                if let Some(cp) = &common {
                    // Keys under a prefix already returned (this page or, via the marker,
                    // the previous one) are part of it.
                    if page.prefixes.last() == Some(cp) || cp.as_str() == after {
                        continue;
                    }
                }
                if (page.contents.len() + page.prefixes.len()) as i64 >= max {
                    page.truncated = true;
                    return Ok(page);
                }
                match common {
                    Some(cp) => {
                        page.last = Some(cp.clone());
                        page.prefixes.push(cp);
                    }
                    None => {
                        page.last = Some(o.key.clone());
                        page.contents.push(o);
                    }
                }
            }
            if exhausted {
                return Ok(page);
            }
        }
    }

    fn entry(&self, o: ObjectRecord, with_owner: bool, encode: bool) -> ObjectEntry {
        ObjectEntry {
            key: if encode {
                url_encode(&o.key)
            } else {
                o.key.clone()
            },
            last_modified: timestamp(o.last_modified),
            etag: o.etag.clone(),
            checksum_algorithm: o.checksum_algorithm.clone().into_iter().collect(),
            checksum_type: o.checksum_algorithm.as_ref().and(o.checksum_type.clone()),
            size: o.size,
            storage_class: o.storage_class.clone().unwrap_or_else(|| "STANDARD".into()),
            owner: with_owner.then(|| owner(&o.owner_account)),
        }
    }

    pub(crate) async fn list_objects(
        &self,
        _ctx: &RequestContext,
        input: ListObjectsRequest,
    ) -> Result<ListObjectsOutput, S3Error> {
        self.bucket(&input.bucket).await?;
        let encode = check_encoding(&input.encoding_type)?;
        let max = check_max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let marker = input.marker.clone().unwrap_or_default();
        let page = self
            .page(
                &input.bucket,
                &prefix,
                input.delimiter.as_deref(),
                &marker,
                max,
            )
            .await?;
        let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
        // NextMarker only comes with a delimiter; without one clients use the last key.
        let next_marker = (page.truncated && input.delimiter.is_some())
            .then(|| page.last.as_deref().map(enc))
            .flatten();
        Ok(ListObjectsOutput {
            is_truncated: page.truncated,
            marker: Some(enc(&marker)),
            next_marker,
            contents: page
                .contents
                .into_iter()
                .map(|o| self.entry(o, true, encode))
                .collect(),
            name: input.bucket,
            // V1 echoes Prefix as sent even with encoding-type=url (botocore decodes only
            // Delimiter, Marker, NextMarker and the keys of a V1 listing; V2 also its Prefix).
            prefix,
            // An empty delimiter is no delimiter, and is not echoed.
            delimiter: input
                .delimiter
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(enc),
            max_keys: max,
            common_prefixes: page
                .prefixes
                .iter()
                .map(|p| CommonPrefix { prefix: enc(p) })
                .collect(),
            encoding_type: encode.then(|| "url".to_string()),
        })
    }

    pub(crate) async fn list_objects_v2(
        &self,
        _ctx: &RequestContext,
        input: ListObjectsRequest,
    ) -> Result<ListObjectsV2Output, S3Error> {
        self.bucket(&input.bucket).await?;
        let encode = check_encoding(&input.encoding_type)?;
        let max = check_max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = match &input.continuation_token {
            Some(t) => decode_token(t).ok_or_else(|| S3Error::InvalidArgument {
                message: "The continuation token provided is incorrect".into(),
                name: "continuation-token".into(),
                value: t.clone(),
            })?,
            None => input.start_after.clone().unwrap_or_default(),
        };
        let page = self
            .page(
                &input.bucket,
                &prefix,
                input.delimiter.as_deref(),
                &after,
                max,
            )
            .await?;
        let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
        let key_count = (page.contents.len() + page.prefixes.len()) as i64;
        let with_owner = input.fetch_owner.unwrap_or(false);
        Ok(ListObjectsV2Output {
            is_truncated: page.truncated,
            next_continuation_token: page
                .truncated
                .then(|| page.last.as_deref().map(encode_token))
                .flatten(),
            contents: page
                .contents
                .into_iter()
                .map(|o| self.entry(o, with_owner, encode))
                .collect(),
            name: input.bucket,
            prefix: enc(&prefix),
            // An empty delimiter is no delimiter, and is not echoed.
            delimiter: input
                .delimiter
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(enc),
            max_keys: max,
            common_prefixes: page
                .prefixes
                .iter()
                .map(|p| CommonPrefix { prefix: enc(p) })
                .collect(),
            encoding_type: encode.then(|| "url".to_string()),
            key_count,
            continuation_token: input.continuation_token,
            start_after: input.start_after.as_deref().map(enc),
        })
    }
}
