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
    -- Epoch seconds of the item's TTL attribute while the table has TTL enabled.
    expires  INTEGER,
    PRIMARY KEY (table_id, pk, sk)
) WITHOUT ROWID;

-- What the TTL sweeper looks for.
CREATE INDEX ddb_items_expiry ON ddb_items (expires) WHERE expires IS NOT NULL;

-- Secondary-index entries: the projected item under the index's encoded keys, then the table's
-- keys (which make entries unique and order items with equal index keys). Items without the
-- index's key attributes have no entry (sparse indexes).
CREATE TABLE ddb_index_items (
    table_id   INTEGER NOT NULL,
    index_name TEXT NOT NULL,
    ipk        BLOB NOT NULL,
    isk        BLOB NOT NULL,
    pk         BLOB NOT NULL,
    sk         BLOB NOT NULL,
    size       INTEGER NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (table_id, index_name, ipk, isk, pk, sk)
) WITHOUT ROWID;

-- Finds an item's entries when the item changes.
CREATE INDEX ddb_index_items_by_item ON ddb_index_items (table_id, pk, sk);

-- Stream records, in commit order (`seq` is the sequence number), for tables with a stream.
-- `record` is the record as the service renders it, without its sequence number.
CREATE TABLE ddb_stream_records (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    table_id     INTEGER NOT NULL,
    stream_label TEXT NOT NULL,
    record       TEXT NOT NULL
);

CREATE INDEX ddb_stream_records_by_stream ON ddb_stream_records (table_id, stream_label, seq);
