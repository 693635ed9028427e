-- SQS: queues, their messages, FIFO deduplication windows, message move tasks.
-- Messages live here, not in memory, so a queue of millions of messages costs disk, not RAM.

CREATE TABLE sqs_queues (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    attributes  TEXT NOT NULL, -- JSON object: settable attributes as the client set them
    tags        TEXT NOT NULL, -- JSON object
    created_at  INTEGER NOT NULL, -- epoch seconds
    modified_at INTEGER NOT NULL,
    purged_ms   INTEGER,          -- last PurgeQueue (one per 60 s)
    UNIQUE (account_id, region, name)
);

-- Names deleted in the last 60 s cannot be created again (QueueDeletedRecently).
CREATE TABLE sqs_deleted_queues (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    deleted_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE sqs_messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT, -- send order; FIFO sequence number
    queue_id         INTEGER NOT NULL,
    message_id       TEXT NOT NULL,
    body             TEXT NOT NULL,
    md5_body         TEXT NOT NULL,
    attributes       TEXT,    -- JSON message attributes
    md5_attributes   TEXT,
    system_attributes TEXT,   -- JSON (AWSTraceHeader)
    md5_system       TEXT,
    sender_id        TEXT NOT NULL,
    sent_ms          INTEGER NOT NULL,
    visible_ms       INTEGER NOT NULL, -- visible again (or for the first time) at this instant
    expires_ms       INTEGER NOT NULL, -- retention end
    receive_count    INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt          TEXT,    -- nonce of the latest receive: older receipt handles stop working
    group_id         TEXT,
    dedup_id         TEXT
);
-- Receives take the first visible rows of a queue from this index; the queue's counts read
-- it alone (receive_count changes only when visible_ms does, so covering it costs no write).
CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_ms, receive_count);

-- FIFO deduplication: a (scope, id) seen within 5 minutes answers with the first message.
CREATE TABLE sqs_dedup (
    queue_id   INTEGER NOT NULL,
    scope      TEXT NOT NULL, -- '' (queue scope) or the message group id
    dedup_id   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
);

CREATE TABLE sqs_move_tasks (
    task_handle  TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    source_arn   TEXT NOT NULL,
    dest_arn     TEXT,
    max_per_sec  INTEGER,
    status       TEXT NOT NULL,
    moved        INTEGER NOT NULL,
    to_move      INTEGER NOT NULL,
    failure      TEXT,
    started_ms   INTEGER NOT NULL
);
