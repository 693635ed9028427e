-- S3 versioning. A bucket's state is NULL (never versioned), 'Enabled' or 'Suspended'; the
-- current version of each key stays in s3_objects (so reads and ListObjects are unchanged)
-- and records its version id ('null' for objects written while unversioned or suspended).
-- Every older version and every delete marker lives in s3_object_versions, ordered by seq
-- (larger is newer; the s3_objects row, when there is one, is newer than all of them).

ALTER TABLE s3_buckets ADD COLUMN versioning TEXT;

ALTER TABLE s3_objects ADD COLUMN version_id TEXT NOT NULL DEFAULT 'null';

-- Multipart objects: JSON array of each part's checksum (the object's algorithm), for
-- GetObjectAttributes; NULL when the parts had none.
ALTER TABLE s3_objects ADD COLUMN part_checksums TEXT;

-- Per version: its ACL (JSON AccessControlPolicy; NULL = the owner has FULL_CONTROL) and its
-- Object Lock state (GOVERNANCE/COMPLIANCE until an epoch time; legal hold ON/OFF).
ALTER TABLE s3_objects ADD COLUMN acl TEXT;
ALTER TABLE s3_objects ADD COLUMN lock_mode TEXT;
ALTER TABLE s3_objects ADD COLUMN lock_until REAL;
ALTER TABLE s3_objects ADD COLUMN legal_hold TEXT;

-- A multipart upload carries the ACL and lock its object will have.
ALTER TABLE s3_uploads ADD COLUMN acl TEXT;
ALTER TABLE s3_uploads ADD COLUMN lock_mode TEXT;
ALTER TABLE s3_uploads ADD COLUMN lock_until REAL;
ALTER TABLE s3_uploads ADD COLUMN legal_hold TEXT;

CREATE TABLE s3_object_versions (
    seq                 INTEGER PRIMARY KEY,
    bucket_name         TEXT NOT NULL,
    object_key          TEXT NOT NULL,
    version_id          TEXT NOT NULL,
    -- A delete marker has no body: body_id is '' and size 0.
    is_delete_marker    INTEGER NOT NULL DEFAULT 0,
    body_id             TEXT NOT NULL,
    size                INTEGER NOT NULL,
    etag                TEXT NOT NULL,
    last_modified       REAL NOT NULL,
    content_type        TEXT,
    content_encoding    TEXT,
    content_disposition TEXT,
    content_language    TEXT,
    cache_control       TEXT,
    expires             TEXT,
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    storage_class       TEXT,
    checksum_algorithm  TEXT,
    checksum_value      TEXT,
    checksum_type       TEXT,
    owner_account       TEXT NOT NULL,
    part_sizes          TEXT,
    tags                TEXT NOT NULL DEFAULT '[]',
    part_checksums      TEXT,
    acl                 TEXT,
    lock_mode           TEXT,
    lock_until          REAL,
    legal_hold          TEXT,
    FOREIGN KEY (bucket_name) REFERENCES s3_buckets (bucket_name)
);

CREATE UNIQUE INDEX s3_object_versions_by_id
    ON s3_object_versions (bucket_name, object_key, version_id);
CREATE INDEX s3_object_versions_by_key ON s3_object_versions (bucket_name, object_key, seq);
