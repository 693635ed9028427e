-- DynamoDB: tables and their items.
-- A table's definition (key schema, indexes, billing, tags, TTL, backups…) is one JSON document
-- owned by the service; storage only keys it by (account, region, name).
CREATE TABLE ddb_tables (
    -- Never reused (AUTOINCREMENT), so items of a deleted table can never surface in a new one.
    table_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    table_name TEXT NOT NULL,
    meta       TEXT NOT NULL,
    UNIQUE (account_id, region, table_name)
);

-- Items keyed by the order-preserving encodings of their hash and range keys (empty `sk` for
-- tables without a range key): BLOB comparison (memcmp) is DynamoDB's key order, so a Query
-- is a range scan of this primary key. `body` is the item as DynamoDB JSON, `size` its size
-- as DynamoDB counts it.
CREATE TABLE ddb_items (
    table_id INTEGER NOT NULL,
    pk       BLOB NOT NULL,
    sk       BLOB NOT NULL,
    size     INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (table_id, pk, sk)
) WITHOUT ROWID;
