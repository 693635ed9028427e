//! The S3 store's hot paths on `rusqlite` connections ([`crate::sync_db`]): each request's
//! statements run in one closure on one thread, so a GET or PUT costs one thread handoff
//! instead of one per statement (sqlx). Object and version rows are read by column position
//! in [`OBJECT_COLUMNS`] order.

use super::{
    metadata_from_json, metadata_json, tags_from_json, tags_json, BucketRecord, Expect,
    ObjectRecord, VersionRecord, OBJECT_COLUMNS,
};
use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::sync::LazyLock;

type Sql<T> = rusqlite::Result<T>;

/// What starts the id of a body kept in `s3_inline_bodies` (file ids are 32 hex digits).
const INLINE_PREFIX: &str = "inline-";

/// Whether a body id names an inline body (a row of `s3_inline_bodies`) rather than a file.
pub fn is_inline(id: &str) -> bool {
    id.starts_with(INLINE_PREFIX)
}

/// A new inline body id; never a valid object-store file id, so no file operation uses it.
pub fn new_inline_id() -> String {
    format!("{INLINE_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// `OBJECT_COLUMNS` with a table alias, for joins.
fn aliased(alias: &str) -> String {
    OBJECT_COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

static O_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased("o"));
static V_COLUMNS: LazyLock<String> = LazyLock::new(|| aliased("v"));
/// How many columns `OBJECT_COLUMNS` has.
const N: usize = 26;

pub(super) fn bucket_at(row: &Row<'_>) -> Sql<BucketRecord> {
    Ok(BucketRecord {
        name: row.get(0)?,
        account_id: row.get(1)?,
        region: row.get(2)?,
        created_at: row.get(3)?,
        object_lock: row.get::<_, i64>(4)? != 0,
        ownership: row.get(5)?,
        versioning: row.get(6)?,
    })
}

pub(super) const BUCKET_SELECT: &str = "SELECT bucket_name, account_id, region, created_at, \
     object_lock, ownership, versioning FROM s3_buckets WHERE bucket_name = ?1";

pub(super) fn bucket(c: &Connection, name: &str) -> Sql<Option<BucketRecord>> {
    c.prepare_cached(BUCKET_SELECT)?
        .query_row([name], bucket_at)
        .optional()
}

pub(super) fn bucket_exists(c: &Connection, name: &str) -> Sql<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM s3_buckets WHERE bucket_name = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

/// The object whose `OBJECT_COLUMNS` start at column `at`.
fn object_at(row: &Row<'_>, at: usize) -> Sql<ObjectRecord> {
    let json_list = |i: usize| -> Sql<Option<String>> { row.get(at + i) };
    Ok(ObjectRecord {
        bucket: row.get(at)?,
        key: row.get(at + 1)?,
        version_id: row.get(at + 2)?,
        body_id: row.get(at + 3)?,
        size: row.get(at + 4)?,
        etag: row.get(at + 5)?,
        last_modified: row.get(at + 6)?,
        content_type: row.get(at + 7)?,
        content_encoding: row.get(at + 8)?,
        content_disposition: row.get(at + 9)?,
        content_language: row.get(at + 10)?,
        cache_control: row.get(at + 11)?,
        expires: row.get(at + 12)?,
        user_metadata: metadata_from_json(&row.get::<_, String>(at + 13)?),
        storage_class: row.get(at + 14)?,
        checksum_algorithm: row.get(at + 15)?,
        checksum_value: row.get(at + 16)?,
        checksum_type: row.get(at + 17)?,
        owner_account: row.get(at + 18)?,
        part_sizes: json_list(19)?.and_then(|j| serde_json::from_str(&j).ok()),
        tags: tags_from_json(&row.get::<_, String>(at + 20)?),
        part_checksums: json_list(21)?.and_then(|j| serde_json::from_str(&j).ok()),
        acl: row.get(at + 22)?,
        lock_mode: row.get(at + 23)?,
        lock_until: row.get(at + 24)?,
        legal_hold: row.get(at + 25)?,
        inline_body: None,
    })
}

/// The inline body in column `i`, if the row has one.
fn inline_at(row: &Row<'_>, i: usize) -> Sql<Option<Bytes>> {
    Ok(row.get::<_, Option<Vec<u8>>>(i)?.map(Bytes::from))
}

/// A key's current object with its inline body, and whether the bucket exists: `None` when
/// there is no such bucket, `Some(None)` when there is no such key.
pub(super) fn find_object(
    c: &Connection,
    bucket: &str,
    key: &str,
) -> Sql<Option<Option<ObjectRecord>>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT b.bucket_name, {}, ib.data FROM s3_buckets b \
             LEFT JOIN s3_objects o ON o.bucket_name = b.bucket_name AND o.object_key = ?1 \
             LEFT JOIN s3_inline_bodies ib ON ib.body_id = o.body_id \
             WHERE b.bucket_name = ?2",
            *O_COLUMNS
        )
    });
    c.prepare_cached(&SQL)?
        .query_row([key, bucket], |row| {
            if row.get::<_, Option<String>>(2)?.is_none() {
                return Ok(None);
            }
            let mut o = object_at(row, 1)?;
            o.inline_body = inline_at(row, 1 + N)?;
            Ok(Some(o))
        })
        .optional()
}

/// A key's current object without its body (for checks and metadata operations).
pub(super) fn object(c: &Connection, bucket: &str, key: &str) -> Sql<Option<ObjectRecord>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket_name = ?1 AND object_key = ?2"
        )
    });
    c.prepare_cached(&SQL)?
        .query_row([bucket, key], |row| object_at(row, 0))
        .optional()
}

/// One version of a key by id, with its inline body; `None` when there is no such bucket.
pub(super) fn find_version(
    c: &Connection,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> Sql<Option<Option<VersionRecord>>> {
    static CURRENT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT b.bucket_name, {}, ib.data FROM s3_buckets b \
             LEFT JOIN s3_objects o ON o.bucket_name = b.bucket_name AND o.object_key = ?1 \
             AND o.version_id = ?2 \
             LEFT JOIN s3_inline_bodies ib ON ib.body_id = o.body_id \
             WHERE b.bucket_name = ?3",
            *O_COLUMNS
        )
    });
    let current = c
        .prepare_cached(&CURRENT)?
        .query_row([key, version_id, bucket], |row| {
            if row.get::<_, Option<String>>(2)?.is_none() {
                return Ok(None);
            }
            let mut o = object_at(row, 1)?;
            o.inline_body = inline_at(row, 1 + N)?;
            Ok(Some(o))
        })
        .optional()?;
    let Some(current) = current else {
        return Ok(None);
    };
    if let Some(object) = current {
        return Ok(Some(Some(VersionRecord {
            object,
            is_delete_marker: false,
            is_latest: true,
            ord: i64::MAX,
        })));
    }
    static OLDER: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {}, ib.data, v.is_delete_marker, v.seq, (NOT EXISTS (SELECT 1 FROM s3_objects o \
             WHERE o.bucket_name = v.bucket_name AND o.object_key = v.object_key) \
             AND v.seq = (SELECT MAX(seq) FROM s3_object_versions w \
             WHERE w.bucket_name = v.bucket_name AND w.object_key = v.object_key)) \
             FROM s3_object_versions v \
             LEFT JOIN s3_inline_bodies ib ON ib.body_id = v.body_id \
             WHERE v.bucket_name = ?1 AND v.object_key = ?2 AND v.version_id = ?3",
            *V_COLUMNS
        )
    });
    let older = c
        .prepare_cached(&OLDER)?
        .query_row([bucket, key, version_id], |row| {
            let mut object = object_at(row, 0)?;
            object.inline_body = inline_at(row, N)?;
            Ok(VersionRecord {
                object,
                is_delete_marker: row.get::<_, i64>(N + 1)? != 0,
                ord: row.get(N + 2)?,
                is_latest: row.get::<_, i64>(N + 3)? != 0,
            })
        })
        .optional()?;
    Ok(Some(older))
}

/// The newest version of a key when no object is current (a delete marker or an object).
pub(super) fn newest_noncurrent(
    c: &Connection,
    bucket: &str,
    key: &str,
) -> Sql<Option<VersionRecord>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {}, v.is_delete_marker, v.seq FROM s3_object_versions v \
             WHERE v.bucket_name = ?1 AND v.object_key = ?2 AND NOT EXISTS (SELECT 1 \
             FROM s3_objects o WHERE o.bucket_name = v.bucket_name \
             AND o.object_key = v.object_key) ORDER BY v.seq DESC LIMIT 1",
            *V_COLUMNS
        )
    });
    c.prepare_cached(&SQL)?
        .query_row([bucket, key], |row| {
            Ok(VersionRecord {
                object: object_at(row, 0)?,
                is_delete_marker: row.get::<_, i64>(N)? != 0,
                ord: row.get(N + 1)?,
                is_latest: true,
            })
        })
        .optional()
}

pub(super) fn config(c: &Connection, bucket: &str, kind: &str) -> Sql<Option<String>> {
    c.prepare_cached("SELECT document FROM s3_bucket_configs WHERE bucket_name = ?1 AND kind = ?2")?
        .query_row([bucket, kind], |row| row.get(0))
        .optional()
}

/// Insert or replace an object row, and its inline body when it has one.
pub(super) fn write_object(c: &Connection, o: &ObjectRecord) -> crate::Result<()> {
    if is_inline(&o.body_id) {
        let Some(data) = &o.inline_body else {
            return Err(crate::StorageError::Io(std::io::Error::other(
                "an inline object record without its body",
            )));
        };
        c.prepare_cached("INSERT INTO s3_inline_bodies (body_id, data) VALUES (?1, ?2)")?
            .execute(params![o.body_id, data.as_ref()])?;
    }
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT OR REPLACE INTO s3_objects ({OBJECT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, \
             ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, \
             ?23, ?24, ?25, ?26)"
        )
    });
    let version = if o.version_id.is_empty() {
        "null"
    } else {
        &o.version_id
    };
    let json = |v: &Option<Vec<_>>| v.as_ref().and_then(|v| serde_json::to_string(v).ok());
    let part_sizes = o
        .part_sizes
        .as_ref()
        .and_then(|v| serde_json::to_string(v).ok());
    c.prepare_cached(&SQL)?.execute(params![
        o.bucket,
        o.key,
        version,
        o.body_id,
        o.size,
        o.etag,
        o.last_modified,
        o.content_type,
        o.content_encoding,
        o.content_disposition,
        o.content_language,
        o.cache_control,
        o.expires,
        metadata_json(&o.user_metadata),
        o.storage_class,
        o.checksum_algorithm,
        o.checksum_value,
        o.checksum_type,
        o.owner_account,
        part_sizes,
        tags_json(&o.tags),
        json(&o.part_checksums),
        o.acl,
        o.lock_mode,
        o.lock_until,
        o.legal_hold,
    ])?;
    Ok(())
}

/// The current object under a key: (body id, ETag, version id).
pub(super) type Current = Option<(String, String, String)>;

pub(super) fn current_of(c: &Connection, bucket: &str, key: &str) -> Sql<Current> {
    c.prepare_cached(
        "SELECT body_id, etag, version_id FROM s3_objects \
         WHERE bucket_name = ?1 AND object_key = ?2",
    )?
    .query_row([bucket, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}

/// Whether the current object is what a conditional write expects.
pub(super) fn as_expected(expect: &Expect, current: &Current) -> bool {
    match (expect, current) {
        (Expect::Anything, _) | (Expect::Absent, None) => true,
        (Expect::Etag(e), Some((_, etag, _))) => e == etag,
        _ => false,
    }
}

/// Clear the way for a new current version `new_version` of a key (an object or a delete
/// marker): the current object becomes a noncurrent version unless both are `null` (then it
/// is replaced), and a new `null` version replaces any older `null` one. Returns the bodies
/// no row refers to any more (pass them through [`release`]).
pub(super) fn make_room(
    c: &Connection,
    bucket: &str,
    key: &str,
    current: Current,
    new_version: &str,
) -> Sql<Vec<String>> {
    static TO_VERSIONS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO s3_object_versions ({OBJECT_COLUMNS}, is_delete_marker) \
             SELECT {OBJECT_COLUMNS}, 0 FROM s3_objects WHERE bucket_name = ?1 AND object_key = ?2"
        )
    });
    let mut freed = Vec::new();
    if let Some((body, _, version)) = current {
        if version == "null" && new_version == "null" {
            freed.push(body);
        } else {
            c.prepare_cached(&TO_VERSIONS)?.execute([bucket, key])?;
        }
        c.prepare_cached("DELETE FROM s3_objects WHERE bucket_name = ?1 AND object_key = ?2")?
            .execute([bucket, key])?;
    }
    if new_version == "null" {
        let mut stmt = c.prepare_cached(
            "DELETE FROM s3_object_versions WHERE bucket_name = ?1 AND object_key = ?2 \
             AND version_id = 'null' RETURNING body_id, is_delete_marker",
        )?;
        let old = stmt
            .query_map([bucket, key], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Sql<Vec<_>>>()?;
        freed.extend(old.into_iter().filter(|(_, m)| *m == 0).map(|(b, _)| b));
    }
    Ok(freed)
}

/// After a version is deleted: when no object is current and the newest remaining version
/// is an object (not a delete marker), it becomes current again, as in S3.
pub(super) fn settle(c: &Connection, bucket: &str, key: &str) -> Sql<()> {
    let top: Option<(i64, i64)> = c
        .prepare_cached(
            "SELECT seq, is_delete_marker FROM s3_object_versions v \
             WHERE bucket_name = ?1 AND object_key = ?2 AND NOT EXISTS (SELECT 1 \
             FROM s3_objects o WHERE o.bucket_name = v.bucket_name \
             AND o.object_key = v.object_key) ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([bucket, key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((seq, 0)) = top {
        static BACK: LazyLock<String> = LazyLock::new(|| {
            format!(
                "INSERT INTO s3_objects ({OBJECT_COLUMNS}) \
                 SELECT {OBJECT_COLUMNS} FROM s3_object_versions WHERE seq = ?1"
            )
        });
        c.prepare_cached(&BACK)?.execute([seq])?;
        c.prepare_cached("DELETE FROM s3_object_versions WHERE seq = ?1")?
            .execute([seq])?;
    }
    Ok(())
}

/// Drop the inline bodies among `freed` (in the caller's transaction, so a body and the
/// last row naming it go together) and return the rest: files, freed after the commit.
pub(super) fn release(c: &Connection, freed: Vec<String>) -> Sql<Vec<String>> {
    let (inline, files): (Vec<String>, Vec<String>) =
        freed.into_iter().partition(|id| is_inline(id));
    for id in inline {
        c.prepare_cached("DELETE FROM s3_inline_bodies WHERE body_id = ?1")?
            .execute([id])?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use crate::s3::{inline_stored, BucketRecord, Expect, ObjectRecord, ObjectWrite};
    use crate::{Storage, StorageMode};
    use bytes::Bytes;

    fn small(bucket: &str, key: &str, version: &str, data: &'static [u8]) -> ObjectRecord {
        let stored = inline_stored(data);
        ObjectRecord {
            bucket: bucket.into(),
            key: key.into(),
            version_id: version.into(),
            body_id: stored.id,
            size: stored.size as i64,
            etag: "\"e\"".into(),
            owner_account: "000000000000".into(),
            inline_body: Some(Bytes::from_static(data)),
            ..Default::default()
        }
    }

    async fn inline_rows(storage: &Storage) -> i64 {
        storage
            .db
            .sync()
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM s3_inline_bodies", [], |r| r.get(0))?))
            .await
            .expect("count")
    }

    /// Every way a row stops naming an inline body drops the body in the same write; rows
    /// that move between the current and the versions table keep theirs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inline_bodies_live_exactly_as_long_as_a_row_names_them() {
        let dir = tempfile::tempdir().expect("dir");
        for mode in [
            StorageMode::Memory,
            StorageMode::Disk(dir.path().to_path_buf()),
        ] {
            let storage = Storage::open(mode).await.expect("open");
            let s3 = storage.s3();
            let bucket = BucketRecord {
                name: "b".into(),
                account_id: "000000000000".into(),
                region: "us-east-1".into(),
                created_at: 0.0,
                object_lock: false,
                ownership: None,
                versioning: None,
            };
            s3.create_bucket(&bucket, &[]).await.expect("bucket");
            let put = |o: ObjectRecord| {
                let s3 = s3.clone();
                async move { s3.put_object(&o, &Expect::Anything).await.expect("put") }
            };
            let replaced = put(small("b", "k", "null", b"one")).await;
            assert_eq!(replaced, ObjectWrite::Stored { replaced: vec![] });
            put(small("b", "k", "null", b"two")).await;
            assert_eq!(
                inline_rows(&storage).await,
                1,
                "a null overwrite frees the old body"
            );
            let got = s3.find_object("b", "k").await.expect("find");
            let got = got.flatten().expect("object");
            assert_eq!(got.inline_body.as_deref(), Some(&b"two"[..]));

            // Versions keep their bodies; a conflicting write stores nothing.
            put(small("b", "k", "v1", b"three")).await;
            put(small("b", "k", "v2", b"four")).await;
            assert_eq!(inline_rows(&storage).await, 3);
            let lost = s3
                .put_object(&small("b", "k", "v3", b"five"), &Expect::Absent)
                .await
                .expect("put");
            assert_eq!(lost, ObjectWrite::Conflict);
            assert_eq!(inline_rows(&storage).await, 3);
            let v1 = s3.find_version("b", "k", "v1").await.expect("find");
            let v1 = v1.flatten().expect("v1");
            assert_eq!(v1.object.inline_body.as_deref(), Some(&b"three"[..]));

            // A delete marker keeps them; deleting versions by id frees them.
            let marker = ObjectRecord {
                bucket: "b".into(),
                key: "k".into(),
                version_id: "m1".into(),
                owner_account: "000000000000".into(),
                ..Default::default()
            };
            s3.delete_object("b", "k", Some(&marker))
                .await
                .expect("marker");
            assert_eq!(inline_rows(&storage).await, 3);
            for v in ["null", "v1", "v2", "m1"] {
                let d = s3.delete_version("b", "k", v).await.expect("delete");
                assert_eq!(d.expect("existed").freed, None, "{v}: no file to free");
            }
            assert_eq!(inline_rows(&storage).await, 0);

            // A plain delete in an unversioned bucket frees it too.
            put(small("b", "plain", "null", b"x")).await;
            let freed = s3.delete_object("b", "plain", None).await.expect("delete");
            assert_eq!(freed, Some(vec![]));
            assert_eq!(inline_rows(&storage).await, 0);
            storage.close().await;
        }
    }

    /// Every store over one database sees a bucket change made through another, and a reset.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cached_buckets_follow_changes_through_any_store() {
        let storage = Storage::open(StorageMode::Memory).await.expect("open");
        let (a, b) = (storage.s3(), storage.s3());
        let bucket = BucketRecord {
            name: "cached".into(),
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            created_at: 0.0,
            object_lock: false,
            ownership: None,
            versioning: None,
        };
        a.create_bucket(&bucket, &[]).await.expect("create");
        let seen = a.get_bucket("cached").await.expect("get").expect("bucket");
        assert_eq!(seen.versioning, None);
        b.set_versioning("cached", "Enabled", "{}")
            .await
            .expect("versioning");
        let seen = a.get_bucket("cached").await.expect("get").expect("bucket");
        assert_eq!(seen.versioning.as_deref(), Some("Enabled"));
        b.enable_object_lock("cached", "{}").await.expect("lock");
        assert!(
            a.get_bucket("cached")
                .await
                .expect("get")
                .expect("bucket")
                .object_lock
        );
        b.delete_bucket("cached").await.expect("delete");
        assert_eq!(a.get_bucket("cached").await.expect("get"), None);

        a.create_bucket(&bucket, &[]).await.expect("create again");
        assert!(a.get_bucket("cached").await.expect("get").is_some());
        storage.reset().await.expect("reset");
        assert_eq!(b.get_bucket("cached").await.expect("get"), None);
    }
}
