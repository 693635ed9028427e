-- S3 buckets and objects. Bucket names are global per partition, as in AWS, so the bucket name
-- alone is the key; each bucket records the account that owns it and its region. Object bodies
-- live in the object store; a row names its body by the store's generated id.

CREATE TABLE s3_buckets (
    bucket_name  TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    created_at   REAL NOT NULL,
    object_lock  INTEGER NOT NULL DEFAULT 0,
    ownership    TEXT
);

CREATE INDEX s3_buckets_by_account ON s3_buckets (account_id, bucket_name);

-- Keys compare as bytes (BINARY collation over UTF-8), which is the order S3 lists them in.
CREATE TABLE s3_objects (
    bucket_name         TEXT NOT NULL,
    object_key          TEXT NOT NULL,
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
    -- JSON object of user metadata (x-amz-meta-*), names lower-cased as S3 stores them.
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    storage_class       TEXT,
    -- Flexible checksum: algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), base64 value, type.
    checksum_algorithm  TEXT,
    checksum_value      TEXT,
    checksum_type       TEXT,
    owner_account       TEXT NOT NULL,
    -- Multipart objects: JSON array of part sizes (for partNumber reads), else NULL.
    part_sizes          TEXT,
    -- Object tags: JSON array of [key, value] pairs, in the order given.
    tags                TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (bucket_name, object_key),
    FOREIGN KEY (bucket_name) REFERENCES s3_buckets (bucket_name)
);

-- Multipart uploads in progress: the object's headers wait here until completion.
CREATE TABLE s3_uploads (
    upload_id           TEXT PRIMARY KEY,
    bucket_name         TEXT NOT NULL,
    object_key          TEXT NOT NULL,
    initiated           REAL NOT NULL,
    owner_account       TEXT NOT NULL,
    content_type        TEXT,
    content_encoding    TEXT,
    content_disposition TEXT,
    content_language    TEXT,
    cache_control       TEXT,
    expires             TEXT,
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    storage_class       TEXT,
    checksum_algorithm  TEXT,
    checksum_type       TEXT,
    tags                TEXT NOT NULL DEFAULT '[]',
    FOREIGN KEY (bucket_name) REFERENCES s3_buckets (bucket_name)
);

CREATE INDEX s3_uploads_by_key ON s3_uploads (bucket_name, object_key, upload_id);

-- Each part is its own body in the object store until the upload completes or is aborted.
CREATE TABLE s3_parts (
    upload_id      TEXT NOT NULL,
    part_number    INTEGER NOT NULL,
    body_id        TEXT NOT NULL,
    size           INTEGER NOT NULL,
    etag           TEXT NOT NULL,
    last_modified  REAL NOT NULL,
    checksum_algorithm TEXT,
    checksum_value TEXT,
    PRIMARY KEY (upload_id, part_number),
    FOREIGN KEY (upload_id) REFERENCES s3_uploads (upload_id) ON DELETE CASCADE
);

-- Bucket sub-resources (policy, CORS, website, lifecycle, tagging, …), each stored as the
-- configuration document the client sent (the model's value tree, as JSON).
CREATE TABLE s3_bucket_configs (
    bucket_name TEXT NOT NULL,
    kind        TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (bucket_name, kind),
    FOREIGN KEY (bucket_name) REFERENCES s3_buckets (bucket_name) ON DELETE CASCADE
);
