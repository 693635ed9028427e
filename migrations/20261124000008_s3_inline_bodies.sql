-- Small S3 object bodies (up to the store's inline threshold) live here instead of in a file,
-- written in the same transaction as the object row that names them: a durable small PUT
-- costs one group-committed write instead of a file create, fsync, rename and directory sync.
-- A row's body_id names either a file in the object store (32 hex characters) or a row here
-- (ids starting with 'inline-'); object and version rows move between their tables with the
-- id, and the store deletes a row here in the same transaction that drops its last reference.
CREATE TABLE s3_inline_bodies (
    body_id TEXT PRIMARY KEY,
    data    BLOB NOT NULL
);
