-- Lambda event source mappings, asynchronous-invocation configurations, and the queue of
-- accepted asynchronous invocations (so a restart does not lose an event Lambda answered 202).

-- An event source mapping: the EventSourceMappingConfiguration document as the service renders
-- it. Mappings outlive their function, as on AWS (the poller then fails its invokes).
CREATE TABLE lambda_event_source_mappings (
    uuid             TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL,
    region           TEXT NOT NULL,
    -- Unqualified function name, and the (possibly qualified) ARN the mapping invokes.
    function_name    TEXT NOT NULL,
    function_arn     TEXT NOT NULL,
    event_source_arn TEXT NOT NULL,
    config           TEXT NOT NULL,
    enabled          INTEGER NOT NULL,
    created_at       REAL NOT NULL,
    -- JSON object of tag key -> value (mappings are taggable by their ARN).
    tags             TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX lambda_esm_by_scope ON lambda_event_source_mappings (account_id, region, uuid);

-- PutFunctionEventInvokeConfig, per function and qualifier ($LATEST, a version or an alias).
CREATE TABLE lambda_event_invoke_configs (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    config        TEXT NOT NULL,
    PRIMARY KEY (account_id, region, function_name, qualifier),
    FOREIGN KEY (account_id, region, function_name)
        REFERENCES lambda_functions (account_id, region, function_name) ON DELETE CASCADE
);

-- Accepted `Event` invocations not yet finished (run, retried, or sent to their failure
-- destination). A row is deleted when the event is done.
CREATE TABLE lambda_async_events (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    -- What the caller named (name or ARN, with any qualifier), resolved at each attempt.
    function_name TEXT NOT NULL,
    qualifier     TEXT,
    payload       BLOB NOT NULL,
    -- Attempts made so far, and when the event was accepted (epoch ms).
    attempts      INTEGER NOT NULL DEFAULT 0,
    received_ms   INTEGER NOT NULL
);
