-- DynamoDB: TransactWriteItems / ExecuteTransaction ClientRequestTokens, kept for AWS's
-- 10-minute idempotency window across restarts. A token row is written in the same
-- transaction as the writes it stands for, so it exists exactly when they committed.
CREATE TABLE ddb_request_tokens (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    created     INTEGER NOT NULL, -- epoch seconds
    PRIMARY KEY (account_id, region, token)
) WITHOUT ROWID;

CREATE INDEX ddb_request_tokens_by_age ON ddb_request_tokens (created);
