//! S3 buckets and object metadata. Bodies live in the [`ObjectStore`](crate::ObjectStore);
//! a row names its body by id. Bucket names are global (per partition), as in AWS.

mod bucket_cache;
mod rows;

use crate::objects::StoredObject;
use crate::{Db, Result};
use bytes::Bytes;
use md5::{Digest as _, Md5};
use rusqlite::OptionalExtension;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

pub use bucket_cache::BucketCache;
pub use rows::is_inline;

/// Bodies of up to this many bytes are kept in SQLite (`s3_inline_bodies`), written in the
/// same group commit as their object row; larger ones are files. A small durable file costs a
/// create, an fsync, a rename and a directory entry, several times the cost of the row
/// itself; SQLite reads blobs below about 100 KB faster than the filesystem reads files
/// (sqlite.org, "Internal Versus External BLOBs", 4 KiB pages), and a body held in memory
/// until its commit should stay small. 64 KiB keeps clear of that crossover.
pub const INLINE_MAX: u64 = 64 * 1024;

/// What storing `data` inline produces: a new inline body id and the body's MD5 (`sha256`
/// is left zero, as [`crate::ObjectStore::put_stream_md5`] leaves it). The bytes go to the
/// store with the object row ([`ObjectRecord::inline_body`]).
pub fn inline_stored(data: &[u8]) -> StoredObject {
    StoredObject {
        id: rows::new_inline_id(),
        size: data.len() as u64,
        md5: Md5::digest(data).into(),
        sha256: [0; 32],
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BucketRecord {
    pub name: String,
    pub account_id: String,
    pub region: String,
    /// Epoch seconds.
    pub created_at: f64,
    pub object_lock: bool,
    pub ownership: Option<String>,
    /// `None` until versioning is first configured, then `Enabled` or `Suspended`.
    pub versioning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    pub body_id: String,
    pub size: i64,
    /// Quoted, as S3 returns it.
    pub etag: String,
    /// Epoch seconds.
    pub last_modified: f64,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    /// User metadata (`x-amz-meta-*` without the prefix), in the order given.
    pub user_metadata: Vec<(String, String)>,
    pub storage_class: Option<String>,
    pub checksum_algorithm: Option<String>,
    pub checksum_value: Option<String>,
    pub checksum_type: Option<String>,
    pub owner_account: String,
    /// Sizes of the parts of a multipart object, in order.
    pub part_sizes: Option<Vec<i64>>,
    pub tags: Vec<(String, String)>,
    /// `null` for an object written while its bucket was unversioned or suspended.
    pub version_id: String,
    /// Each part's checksum (base64, the object's algorithm) when the parts had one.
    pub part_checksums: Option<Vec<String>>,
    /// The object's ACL as a JSON AccessControlPolicy; `None`: the owner has FULL_CONTROL.
    pub acl: Option<String>,
    /// Object Lock retention: `GOVERNANCE` or `COMPLIANCE` until `lock_until` (epoch seconds).
    pub lock_mode: Option<String>,
    pub lock_until: Option<f64>,
    /// Object Lock legal hold: `ON` or `OFF`.
    pub legal_hold: Option<String>,
    /// The body itself when it is kept inline ([`is_inline`] `body_id`): set by the writer
    /// of such an object, and filled by the reads that return a body (`find_object`,
    /// `find_version`); `None` everywhere else.
    pub inline_body: Option<Bytes>,
}

/// A multipart upload in progress; `template` holds the object's key and headers (its body
/// fields are unset).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UploadRecord {
    pub upload_id: String,
    /// Epoch seconds.
    pub initiated: f64,
    pub template: ObjectRecord,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartRecord {
    pub part_number: i64,
    pub body_id: String,
    pub size: i64,
    pub etag: String,
    pub last_modified: f64,
    pub checksum_algorithm: Option<String>,
    pub checksum_value: Option<String>,
}

/// What `put_part` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartWrite {
    /// Stored; the body of the part it replaced (to free), if any.
    Stored {
        replaced: Option<String>,
    },
    NoSuchUpload,
}

/// What `complete_upload` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The object is in place; these bodies (the replaced object's, every part's) are free.
    Done {
        freed: Vec<String>,
    },
    NoSuchUpload,
    Conflict,
}

/// What `create_bucket` did.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketCreation {
    Created,
    /// The name is taken; the existing bucket says by whom and where.
    Exists(BucketRecord),
}

/// What `delete_bucket` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketDeletion {
    Deleted,
    NotFound,
    NotEmpty,
}

/// What `put_object` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectWrite {
    /// Stored; the bodies it replaced (to free).
    Stored {
        replaced: Vec<String>,
    },
    NoSuchBucket,
    /// The object was not as the caller expected (a conditional write lost a race).
    Conflict,
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

fn bind_fields<'q>(mut q: Query<'q>, fields: &[(&'static str, Option<FieldValue>)]) -> Query<'q> {
    for (_, v) in fields {
        q = match v {
            Some(FieldValue::Text(t)) => q.bind(t.clone()),
            Some(FieldValue::Real(r)) => q.bind(*r),
            None => q.bind(None::<String>),
        };
    }
    q
}

/// A column value for [`S3Store::set_object_fields`].
#[derive(Debug, Clone)]
enum FieldValue {
    Text(String),
    Real(f64),
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Text(s)
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Text(s.to_string())
    }
}

impl From<f64> for FieldValue {
    fn from(r: f64) -> Self {
        FieldValue::Real(r)
    }
}

/// What a write expects to replace: for conditional writes, the state the condition was
/// checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Anything,
    /// No object under the key.
    Absent,
    /// The object with this ETag.
    Etag(String),
}

#[derive(Clone)]
pub struct S3Store {
    db: Db,
    buckets: BucketCache,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn is_fk_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

fn bucket_from_row(row: &SqliteRow) -> BucketRecord {
    BucketRecord {
        name: row.get("bucket_name"),
        account_id: row.get("account_id"),
        region: row.get("region"),
        created_at: row.get("created_at"),
        object_lock: row.get::<i64, _>("object_lock") != 0,
        ownership: row.get("ownership"),
        versioning: row.get("versioning"),
    }
}

fn object_from_row(row: &SqliteRow) -> ObjectRecord {
    let meta: String = row.get("user_metadata");
    let user_metadata = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&meta)
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    ObjectRecord {
        bucket: row.get("bucket_name"),
        key: row.get("object_key"),
        body_id: row.get("body_id"),
        size: row.get("size"),
        etag: row.get("etag"),
        last_modified: row.get("last_modified"),
        content_type: row.get("content_type"),
        content_encoding: row.get("content_encoding"),
        content_disposition: row.get("content_disposition"),
        content_language: row.get("content_language"),
        cache_control: row.get("cache_control"),
        expires: row.get("expires"),
        user_metadata,
        storage_class: row.get("storage_class"),
        checksum_algorithm: row.get("checksum_algorithm"),
        checksum_value: row.get("checksum_value"),
        checksum_type: row.get("checksum_type"),
        owner_account: row.get("owner_account"),
        part_sizes: row
            .get::<Option<String>, _>("part_sizes")
            .and_then(|j| serde_json::from_str(&j).ok()),
        tags: tags_from_json(&row.get::<String, _>("tags")),
        version_id: row.get("version_id"),
        part_checksums: row
            .get::<Option<String>, _>("part_checksums")
            .and_then(|j| serde_json::from_str(&j).ok()),
        acl: row.get("acl"),
        lock_mode: row.get("lock_mode"),
        lock_until: row.get("lock_until"),
        legal_hold: row.get("legal_hold"),
        inline_body: None,
    }
}

fn tags_json(tags: &[(String, String)]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

fn tags_from_json(text: &str) -> Vec<(String, String)> {
    serde_json::from_str(text).unwrap_or_default()
}

fn metadata_json(meta: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = meta
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn metadata_from_json(meta: &str) -> Vec<(String, String)> {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(meta)
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn upload_from_row(row: &SqliteRow) -> UploadRecord {
    UploadRecord {
        upload_id: row.get("upload_id"),
        initiated: row.get("initiated"),
        template: ObjectRecord {
            bucket: row.get("bucket_name"),
            key: row.get("object_key"),
            content_type: row.get("content_type"),
            content_encoding: row.get("content_encoding"),
            content_disposition: row.get("content_disposition"),
            content_language: row.get("content_language"),
            cache_control: row.get("cache_control"),
            expires: row.get("expires"),
            user_metadata: metadata_from_json(&row.get::<String, _>("user_metadata")),
            storage_class: row.get("storage_class"),
            checksum_algorithm: row.get("checksum_algorithm"),
            checksum_type: row.get("checksum_type"),
            owner_account: row.get("owner_account"),
            tags: tags_from_json(&row.get::<String, _>("tags")),
            acl: row.get("acl"),
            lock_mode: row.get("lock_mode"),
            lock_until: row.get("lock_until"),
            legal_hold: row.get("legal_hold"),
            ..Default::default()
        },
    }
}

fn part_from_row(row: &SqliteRow) -> PartRecord {
    PartRecord {
        part_number: row.get("part_number"),
        body_id: row.get("body_id"),
        size: row.get("size"),
        etag: row.get("etag"),
        last_modified: row.get("last_modified"),
        checksum_algorithm: row.get("checksum_algorithm"),
        checksum_value: row.get("checksum_value"),
    }
}

/// The columns an object row and a version row share, in one order (rows move between the
/// two tables with `INSERT … SELECT`).
const OBJECT_COLUMNS: &str = "bucket_name, object_key, version_id, body_id, size, etag, \
     last_modified, content_type, content_encoding, content_disposition, content_language, \
     cache_control, expires, user_metadata, storage_class, checksum_algorithm, checksum_value, \
     checksum_type, owner_account, part_sizes, tags, part_checksums, acl, lock_mode, lock_until, \
     legal_hold";

/// A version of an object, or a delete marker, as ListObjectVersions and reads by version
/// id see it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VersionRecord {
    /// For a delete marker only the key, version id, time and owner are set.
    pub object: ObjectRecord,
    pub is_delete_marker: bool,
    pub is_latest: bool,
    /// Position among the key's versions: larger is newer (the current object is `i64::MAX`).
    pub ord: i64,
}

/// What deleting one version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDeletion {
    pub was_delete_marker: bool,
    /// The body to free, if the version had one.
    pub freed: Option<String>,
}

fn version_from_row(row: &SqliteRow) -> VersionRecord {
    VersionRecord {
        object: object_from_row(row),
        is_delete_marker: row.get::<i64, _>("is_delete_marker") != 0,
        is_latest: row.get::<i64, _>("is_latest") != 0,
        ord: row.get("ord"),
    }
}

impl S3Store {
    /// A store over `db`; every store over one database must share `buckets`.
    pub(crate) fn new(db: Db, buckets: BucketCache) -> Self {
        Self { db, buckets }
    }

    /// Create a bucket with its initial configuration documents (kind, document).
    pub async fn create_bucket(
        &self,
        b: &BucketRecord,
        configs: &[(&str, String)],
    ) -> Result<BucketCreation> {
        let mut tx = self.db.begin_immediate().await?;
        let res = sqlx::query(
            "INSERT INTO s3_buckets (bucket_name, account_id, region, created_at, object_lock, \
             ownership, versioning) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&b.name)
        .bind(&b.account_id)
        .bind(&b.region)
        .bind(b.created_at)
        .bind(i64::from(b.object_lock))
        .bind(&b.ownership)
        .bind(&b.versioning)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                let row = sqlx::query("SELECT * FROM s3_buckets WHERE bucket_name = ?")
                    .bind(&b.name)
                    .fetch_one(&mut *tx)
                    .await?;
                return Ok(BucketCreation::Exists(bucket_from_row(&row)));
            }
            Err(e) => return Err(e.into()),
        }
        for (kind, doc) in configs {
            sqlx::query(
                "INSERT INTO s3_bucket_configs (bucket_name, kind, document) VALUES (?, ?, ?)",
            )
            .bind(&b.name)
            .bind(kind)
            .bind(doc)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(BucketCreation::Created)
    }

    pub async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>> {
        let miss = match self.buckets.get(name, self.db.generation()) {
            Ok(b) => return Ok(Some(b)),
            Err(miss) => miss,
        };
        let owned = name.to_string();
        let found = self
            .db
            .sync()
            .read(move |c| Ok(rows::bucket(c, &owned)?))
            .await?;
        if let Some(b) = &found {
            self.buckets.fill(miss, b);
        }
        Ok(found)
    }

    /// An account's buckets whose names start with `prefix` and sort after `after`, by name.
    pub async fn list_buckets(
        &self,
        account: &str,
        prefix: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<BucketRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM s3_buckets WHERE account_id = ? AND bucket_name > ? \
             AND substr(bucket_name, 1, length(?)) = ? ORDER BY bucket_name LIMIT ?",
        )
        .bind(account)
        .bind(after)
        .bind(prefix)
        .bind(prefix)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(bucket_from_row).collect())
    }

    /// Delete a bucket that holds no objects, versions or delete markers. Uploads in progress go with it (as in S3); the
    /// bodies of their parts are returned to be freed.
    pub async fn delete_bucket(&self, name: &str) -> Result<(BucketDeletion, Vec<String>)> {
        let (this, owned) = (self.clone(), name.to_string());
        self.change_bucket(name, async move { this.delete_bucket_now(&owned).await })
            .await
    }

    /// Run a change to a bucket's row to its end even if the caller goes away, then drop the
    /// bucket from the cache: a cancelled request must never leave the cache behind the
    /// database.
    async fn change_bucket<T: Send + 'static>(
        &self,
        name: &str,
        change: impl std::future::Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (buckets, name) = (self.buckets.clone(), name.to_string());
        tokio::spawn(async move {
            let out = change.await;
            buckets.invalidate(&name);
            out
        })
        .await
        .map_err(|e| crate::StorageError::Io(std::io::Error::other(e)))?
    }

    async fn delete_bucket_now(&self, name: &str) -> Result<(BucketDeletion, Vec<String>)> {
        let mut tx = self.db.begin_immediate().await?;
        let any: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM s3_objects WHERE bucket_name = ?1 UNION ALL \
                 SELECT 1 FROM s3_object_versions WHERE bucket_name = ?1 LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if any.is_some() {
            return Ok((BucketDeletion::NotEmpty, Vec::new()));
        }
        let parts: Vec<String> = sqlx::query_scalar(
            "SELECT p.body_id FROM s3_parts p JOIN s3_uploads u ON u.upload_id = p.upload_id \
             WHERE u.bucket_name = ?",
        )
        .bind(name)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM s3_uploads WHERE bucket_name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let res = sqlx::query("DELETE FROM s3_buckets WHERE bucket_name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() == 0 {
            return Ok((BucketDeletion::NotFound, Vec::new()));
        }
        tx.commit().await?;
        Ok((BucketDeletion::Deleted, parts))
    }

    /// Make an object the current version of its key (see [`make_room`] for what happens to
    /// the one it replaces).
    pub async fn put_object(&self, o: &ObjectRecord, expect: &Expect) -> Result<ObjectWrite> {
        let (o, expect) = (o.clone(), expect.clone());
        self.db
            .sync()
            .write(move |c| {
                // Every check before the first write: an answer other than `Stored` must
                // leave nothing behind (the closure's savepoint is kept when it returns Ok).
                if !rows::bucket_exists(c, &o.bucket)? {
                    return Ok(ObjectWrite::NoSuchBucket);
                }
                let current = rows::current_of(c, &o.bucket, &o.key)?;
                if !rows::as_expected(&expect, &current) {
                    return Ok(ObjectWrite::Conflict);
                }
                let replaced = rows::make_room(c, &o.bucket, &o.key, current, &o.version_id)?;
                rows::write_object(c, &o)?;
                let replaced = rows::release(c, replaced)?;
                Ok(ObjectWrite::Stored { replaced })
            })
            .await
    }

    /// An object and whether its bucket exists, in one query (the read path's only one):
    /// `None` when there is no such bucket, `Some(None)` when there is no such key.
    pub async fn find_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<Option<ObjectRecord>>> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.db
            .sync()
            .read(move |c| Ok(rows::find_object(c, &bucket, &key)?))
            .await
    }

    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.db
            .sync()
            .read(move |c| Ok(rows::object(c, &bucket, &key)?))
            .await
    }

    /// Delete a key's current object. With `marker` (a versioned bucket) the object becomes a
    /// noncurrent version and the marker (a record with its key, version id, time and owner)
    /// the current one; without, the object is gone. The bodies to free, or `None` if the
    /// bucket does not exist.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        marker: Option<&ObjectRecord>,
    ) -> Result<Option<Vec<String>>> {
        let (bucket, key, marker) = (bucket.to_string(), key.to_string(), marker.cloned());
        self.db
            .sync()
            .write(move |c| {
                let current = rows::current_of(c, &bucket, &key)?;
                let Some(m) = marker else {
                    let freed: Option<String> = c
                        .prepare_cached(
                            "DELETE FROM s3_objects WHERE bucket_name = ?1 AND object_key = ?2 \
                             RETURNING body_id",
                        )?
                        .query_row([&bucket, &key], |r| r.get(0))
                        .optional()?;
                    return Ok(Some(rows::release(c, freed.into_iter().collect())?));
                };
                if !rows::bucket_exists(c, &bucket)? {
                    return Ok(None);
                }
                let freed = rows::make_room(c, &bucket, &key, current, &m.version_id)?;
                c.prepare_cached(
                    "INSERT INTO s3_object_versions (bucket_name, object_key, version_id, \
                     is_delete_marker, body_id, size, etag, last_modified, owner_account) \
                     VALUES (?1, ?2, ?3, 1, '', 0, '', ?4, ?5)",
                )?
                .execute(rusqlite::params![
                    bucket,
                    key,
                    m.version_id,
                    m.last_modified,
                    m.owner_account
                ])?;
                Ok(Some(rows::release(c, freed)?))
            })
            .await
    }

    /// Delete one version (or delete marker) of a key; `None` if there is no such version.
    pub async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<VersionDeletion>> {
        let (bucket, key, version_id) =
            (bucket.to_string(), key.to_string(), version_id.to_string());
        self.db
            .sync()
            .write(move |c| {
                let current: Option<String> = c
                    .prepare_cached(
                        "DELETE FROM s3_objects WHERE bucket_name = ?1 AND object_key = ?2 \
                         AND version_id = ?3 RETURNING body_id",
                    )?
                    .query_row([&bucket, &key, &version_id], |r| r.get(0))
                    .optional()?;
                let (was_delete_marker, body) = match current {
                    Some(body) => (false, Some(body)),
                    None => {
                        let row: Option<(String, i64)> = c
                            .prepare_cached(
                                "DELETE FROM s3_object_versions WHERE bucket_name = ?1 \
                                 AND object_key = ?2 AND version_id = ?3 \
                                 RETURNING body_id, is_delete_marker",
                            )?
                            .query_row([&bucket, &key, &version_id], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()?;
                        let Some((body, marker)) = row else {
                            return Ok(None);
                        };
                        (marker != 0, (marker == 0).then_some(body))
                    }
                };
                rows::settle(c, &bucket, &key)?;
                let freed = rows::release(c, body.into_iter().collect())?;
                Ok(Some(VersionDeletion {
                    was_delete_marker,
                    freed: freed.into_iter().next(),
                }))
            })
            .await
    }

    /// One version of a key by id (the current object or an older version or marker);
    /// `None` when there is no such bucket, `Some(None)` when there is no such version.
    pub async fn find_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<Option<VersionRecord>>> {
        let (bucket, key, version_id) =
            (bucket.to_string(), key.to_string(), version_id.to_string());
        self.db
            .sync()
            .read(move |c| Ok(rows::find_version(c, &bucket, &key, &version_id)?))
            .await
    }

    /// The delete marker a key's reads stop at: its newest version when no object is current.
    pub async fn latest_marker(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        let newest = self
            .db
            .sync()
            .read(move |c| Ok(rows::newest_noncurrent(c, &bucket, &key)?))
            .await?;
        Ok(newest.filter(|v| v.is_delete_marker).map(|v| v.object))
    }

    /// Versions and delete markers of a bucket whose keys start with `prefix`, strictly after
    /// (`after_key`, `after_ord`) in key then newest-first order (`after_ord` = `i64::MIN`
    /// starts after every version of `after_key`).
    pub async fn list_versions(
        &self,
        bucket: &str,
        prefix: &str,
        after_key: &str,
        after_ord: i64,
        limit: i64,
    ) -> Result<Vec<VersionRecord>> {
        // Each table is read in index order and the two merged, so a page costs its size.
        let current = sqlx::query(
            "SELECT o.*, 0 AS is_delete_marker, 1 AS is_latest, 9223372036854775807 AS ord \
             FROM s3_objects o WHERE bucket_name = ? \
             AND (object_key > ? OR (object_key = ? AND 9223372036854775807 < ?)) \
             AND object_key >= ? AND substr(object_key, 1, length(?)) = ? \
             ORDER BY object_key LIMIT ?",
        )
        .bind(bucket)
        .bind(after_key)
        .bind(after_key)
        .bind(after_ord)
        .bind(prefix)
        .bind(prefix)
        .bind(prefix)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let older = sqlx::query(
            "SELECT v.*, v.seq AS ord, (NOT EXISTS (SELECT 1 FROM s3_objects o \
             WHERE o.bucket_name = v.bucket_name AND o.object_key = v.object_key) \
             AND v.seq = (SELECT MAX(seq) FROM s3_object_versions w \
             WHERE w.bucket_name = v.bucket_name AND w.object_key = v.object_key)) AS is_latest \
             FROM s3_object_versions v WHERE bucket_name = ? \
             AND (object_key > ? OR (object_key = ? AND seq < ?)) \
             AND object_key >= ? AND substr(object_key, 1, length(?)) = ? \
             ORDER BY object_key, seq DESC LIMIT ?",
        )
        .bind(bucket)
        .bind(after_key)
        .bind(after_key)
        .bind(after_ord)
        .bind(prefix)
        .bind(prefix)
        .bind(prefix)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut a = current.iter().map(version_from_row).peekable();
        let mut b = older.iter().map(version_from_row).peekable();
        let mut out = Vec::new();
        while (out.len() as i64) < limit {
            let take_a = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(x), Some(y)) => {
                    (x.object.key.as_bytes(), -x.ord) <= (y.object.key.as_bytes(), -y.ord)
                }
            };
            out.extend(if take_a { a.next() } else { b.next() });
        }
        Ok(out)
    }

    /// Where a version sits among its key's versions (see [`VersionRecord::ord`]).
    pub async fn version_ord(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<i64>> {
        Ok(match self.find_version(bucket, key, version_id).await? {
            Some(Some(v)) => Some(v.ord),
            _ => None,
        })
    }

    /// Objects of a bucket whose keys start with `prefix` and sort after `after`, in key order.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<ObjectRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM s3_objects WHERE bucket_name = ? AND object_key > ? \
             AND object_key >= ? AND substr(object_key, 1, length(?)) = ? \
             ORDER BY object_key LIMIT ?",
        )
        .bind(bucket)
        .bind(after)
        .bind(prefix)
        .bind(prefix)
        .bind(prefix)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(object_from_row).collect())
    }

    /// Start an upload; `false` if the bucket does not exist.
    pub async fn create_upload(&self, u: &UploadRecord) -> Result<bool> {
        let t = &u.template;
        let res = sqlx::query(
            "INSERT INTO s3_uploads (upload_id, bucket_name, object_key, initiated, owner_account, \
             content_type, content_encoding, content_disposition, content_language, \
             cache_control, expires, user_metadata, storage_class, checksum_algorithm, \
             checksum_type, tags, acl, lock_mode, lock_until, legal_hold) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&u.upload_id)
        .bind(&t.bucket)
        .bind(&t.key)
        .bind(u.initiated)
        .bind(&t.owner_account)
        .bind(&t.content_type)
        .bind(&t.content_encoding)
        .bind(&t.content_disposition)
        .bind(&t.content_language)
        .bind(&t.cache_control)
        .bind(&t.expires)
        .bind(metadata_json(&t.user_metadata))
        .bind(&t.storage_class)
        .bind(&t.checksum_algorithm)
        .bind(&t.checksum_type)
        .bind(tags_json(&t.tags))
        .bind(&t.acl)
        .bind(&t.lock_mode)
        .bind(t.lock_until)
        .bind(&t.legal_hold)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_fk_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_upload(&self, upload_id: &str) -> Result<Option<UploadRecord>> {
        let row = sqlx::query("SELECT * FROM s3_uploads WHERE upload_id = ?")
            .bind(upload_id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.as_ref().map(upload_from_row))
    }

    /// Uploads of a bucket under `prefix`, after (`key_marker`, `upload_marker`), in key then
    /// initiation order.
    pub async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: &str,
        upload_marker: &str,
        limit: i64,
    ) -> Result<Vec<UploadRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM s3_uploads WHERE bucket_name = ? \
             AND (object_key > ? OR (object_key = ? AND upload_id > ?)) \
             AND substr(object_key, 1, length(?)) = ? \
             ORDER BY object_key, initiated, upload_id LIMIT ?",
        )
        .bind(bucket)
        .bind(key_marker)
        .bind(key_marker)
        .bind(upload_marker)
        .bind(prefix)
        .bind(prefix)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(upload_from_row).collect())
    }

    /// Add or replace a part.
    pub async fn put_part(&self, upload_id: &str, p: &PartRecord) -> Result<PartWrite> {
        let mut tx = self.db.begin_immediate().await?;
        let replaced: Option<String> = sqlx::query_scalar(
            "SELECT body_id FROM s3_parts WHERE upload_id = ? AND part_number = ?",
        )
        .bind(upload_id)
        .bind(p.part_number)
        .fetch_optional(&mut *tx)
        .await?;
        let res = sqlx::query(
            "INSERT OR REPLACE INTO s3_parts (upload_id, part_number, body_id, size, etag, \
             last_modified, checksum_algorithm, checksum_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(upload_id)
        .bind(p.part_number)
        .bind(&p.body_id)
        .bind(p.size)
        .bind(&p.etag)
        .bind(p.last_modified)
        .bind(&p.checksum_algorithm)
        .bind(&p.checksum_value)
        .execute(&mut *tx)
        .await;
        match res {
            Err(e) if is_fk_violation(&e) => return Ok(PartWrite::NoSuchUpload),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        tx.commit().await?;
        Ok(PartWrite::Stored { replaced })
    }

    /// Parts of an upload numbered above `after`, in order.
    pub async fn list_parts(
        &self,
        upload_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<PartRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM s3_parts WHERE upload_id = ? AND part_number > ? \
             ORDER BY part_number LIMIT ?",
        )
        .bind(upload_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(part_from_row).collect())
    }

    /// Forget an upload; the part bodies to free, or `None` if there was no such upload.
    pub async fn abort_upload(&self, upload_id: &str) -> Result<Option<Vec<String>>> {
        let mut tx = self.db.begin_immediate().await?;
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body_id FROM s3_parts WHERE upload_id = ?")
                .bind(upload_id)
                .fetch_all(&mut *tx)
                .await?;
        let res = sqlx::query("DELETE FROM s3_uploads WHERE upload_id = ?")
            .bind(upload_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((res.rows_affected() > 0).then_some(bodies))
    }

    /// Replace the upload by its object in one transaction.
    pub async fn complete_upload(
        &self,
        upload_id: &str,
        o: &ObjectRecord,
        expect: &Expect,
    ) -> Result<Completion> {
        let (upload_id, o, expect) = (upload_id.to_string(), o.clone(), expect.clone());
        self.db
            .sync()
            .write(move |c| {
                let exists = c
                    .prepare_cached("SELECT 1 FROM s3_uploads WHERE upload_id = ?1")?
                    .query_row([&upload_id], |_| Ok(()))
                    .optional()?;
                if exists.is_none() {
                    return Ok(Completion::NoSuchUpload);
                }
                let current = rows::current_of(c, &o.bucket, &o.key)?;
                if !rows::as_expected(&expect, &current) {
                    return Ok(Completion::Conflict);
                }
                let replaced = rows::make_room(c, &o.bucket, &o.key, current, &o.version_id)?;
                let mut freed = c
                    .prepare_cached("SELECT body_id FROM s3_parts WHERE upload_id = ?1")?
                    .query_map([&upload_id], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                freed.extend(rows::release(c, replaced)?);
                rows::write_object(c, &o)?;
                c.prepare_cached("DELETE FROM s3_uploads WHERE upload_id = ?1")?
                    .execute([&upload_id])?;
                Ok(Completion::Done { freed })
            })
            .await
    }

    /// Replace the tags of a key's current object, or of one of its versions; `false` if
    /// there is no such object (delete markers have no tags).
    pub async fn set_object_tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<bool> {
        self.set_object_fields(
            bucket,
            key,
            version_id,
            &[("tags", Some(tags_json(tags).into()))],
        )
        .await
    }

    /// Set an object's ACL document (`None`: back to the owner's FULL_CONTROL).
    pub async fn set_object_acl(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        acl: Option<&str>,
    ) -> Result<bool> {
        self.set_object_fields(bucket, key, version_id, &[("acl", acl.map(Into::into))])
            .await
    }

    /// Set an object version's retention (mode and epoch-seconds date, or none).
    pub async fn set_object_retention(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        mode: Option<&str>,
        until: Option<f64>,
    ) -> Result<bool> {
        self.set_object_fields(
            bucket,
            key,
            version_id,
            &[
                ("lock_mode", mode.map(Into::into)),
                ("lock_until", until.map(Into::into)),
            ],
        )
        .await
    }

    /// Set an object version's legal hold (`ON` / `OFF`).
    pub async fn set_object_legal_hold(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        status: &str,
    ) -> Result<bool> {
        self.set_object_fields(
            bucket,
            key,
            version_id,
            &[("legal_hold", Some(status.into()))],
        )
        .await
    }

    /// Update columns of a key's current object (or of the version named, wherever it
    /// lives); `false` if there is no such object. Column names are ours, never input.
    async fn set_object_fields(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        fields: &[(&'static str, Option<FieldValue>)],
    ) -> Result<bool> {
        let sets = fields
            .iter()
            .map(|(c, _)| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE s3_objects SET {sets} WHERE bucket_name = ? AND object_key = ? \
             AND (? IS NULL OR version_id = ?)"
        );
        let res = bind_fields(sqlx::query(&sql), fields)
            .bind(bucket)
            .bind(key)
            .bind(version_id)
            .bind(version_id)
            .execute(self.db.pool())
            .await?;
        if res.rows_affected() > 0 {
            return Ok(true);
        }
        let Some(v) = version_id else {
            return Ok(false);
        };
        let sql = format!(
            "UPDATE s3_object_versions SET {sets} WHERE bucket_name = ? AND object_key = ? \
             AND version_id = ? AND is_delete_marker = 0"
        );
        let res = bind_fields(sqlx::query(&sql), fields)
            .bind(bucket)
            .bind(key)
            .bind(v)
            .execute(self.db.pool())
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Turn Object Lock on for a bucket with its configuration document; `false` if the
    /// bucket does not exist.
    pub async fn enable_object_lock(&self, bucket: &str, document: &str) -> Result<bool> {
        let (this, b, d) = (self.clone(), bucket.to_string(), document.to_string());
        self.change_bucket(
            bucket,
            async move { this.enable_object_lock_now(&b, &d).await },
        )
        .await
    }

    async fn enable_object_lock_now(&self, bucket: &str, document: &str) -> Result<bool> {
        let mut tx = self.db.begin_immediate().await?;
        let res = sqlx::query("UPDATE s3_buckets SET object_lock = 1 WHERE bucket_name = ?")
            .bind(bucket)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT OR REPLACE INTO s3_bucket_configs (bucket_name, kind, document) \
             VALUES (?, 'object-lock', ?)",
        )
        .bind(bucket)
        .bind(document)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Set a bucket's versioning state and its configuration document together; `false` if
    /// the bucket does not exist.
    pub async fn set_versioning(&self, bucket: &str, status: &str, document: &str) -> Result<bool> {
        let (this, b) = (self.clone(), bucket.to_string());
        let (s, d) = (status.to_string(), document.to_string());
        self.change_bucket(
            bucket,
            async move { this.set_versioning_now(&b, &s, &d).await },
        )
        .await
    }

    async fn set_versioning_now(&self, bucket: &str, status: &str, document: &str) -> Result<bool> {
        let mut tx = self.db.begin_immediate().await?;
        let res = sqlx::query("UPDATE s3_buckets SET versioning = ? WHERE bucket_name = ?")
            .bind(status)
            .bind(bucket)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT OR REPLACE INTO s3_bucket_configs (bucket_name, kind, document) \
             VALUES (?, 'versioning', ?)",
        )
        .bind(bucket)
        .bind(document)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Store a bucket configuration document; `false` if the bucket does not exist.
    pub async fn put_config(&self, bucket: &str, kind: &str, document: &str) -> Result<bool> {
        let res = sqlx::query(
            "INSERT OR REPLACE INTO s3_bucket_configs (bucket_name, kind, document) \
             VALUES (?, ?, ?)",
        )
        .bind(bucket)
        .bind(kind)
        .bind(document)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_fk_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_config(&self, bucket: &str, kind: &str) -> Result<Option<String>> {
        let (bucket, kind) = (bucket.to_string(), kind.to_string());
        self.db
            .sync()
            .read(move |c| Ok(rows::config(c, &bucket, &kind)?))
            .await
    }

    pub async fn delete_config(&self, bucket: &str, kind: &str) -> Result<()> {
        sqlx::query("DELETE FROM s3_bucket_configs WHERE bucket_name = ? AND kind = ?")
            .bind(bucket)
            .bind(kind)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}
