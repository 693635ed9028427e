-- Lambda functions. The configuration is kept as the JSON document the service renders
-- (FunctionConfiguration), so new fields need no migration; the code zip lives in the object
-- store under `code_object_id`.

CREATE TABLE lambda_functions (
    account_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    function_name  TEXT NOT NULL,
    config         TEXT NOT NULL,
    revision_id    TEXT NOT NULL,
    code_object_id TEXT NOT NULL,
    tags           TEXT NOT NULL DEFAULT '{}',
    created_at     REAL NOT NULL,
    -- PutFunctionConcurrency; NULL = draws on the account's unreserved pool.
    reserved_concurrency INTEGER,
    -- Versions are numbered from 1 and never reused, even after a version is deleted.
    last_version   INTEGER NOT NULL DEFAULT 0,
    -- The $LATEST revision the last version was published from: publishing it again is a no-op.
    published_revision TEXT,
    PRIMARY KEY (account_id, region, function_name)
);

-- Resource-based policy statements (AddPermission), in the order they were added. They go
-- with their function.
CREATE TABLE lambda_permissions (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    function_name TEXT NOT NULL,
    statement_id  TEXT NOT NULL,
    statement     TEXT NOT NULL,
    PRIMARY KEY (account_id, region, function_name, statement_id),
    FOREIGN KEY (account_id, region, function_name)
        REFERENCES lambda_functions (account_id, region, function_name) ON DELETE CASCADE
);

-- Published versions: an immutable configuration and their own copy of the code.
CREATE TABLE lambda_versions (
    account_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    function_name  TEXT NOT NULL,
    version        INTEGER NOT NULL,
    config         TEXT NOT NULL,
    code_object_id TEXT NOT NULL,
    PRIMARY KEY (account_id, region, function_name, version),
    FOREIGN KEY (account_id, region, function_name)
        REFERENCES lambda_functions (account_id, region, function_name) ON DELETE CASCADE
);

-- Aliases: the AliasConfiguration document (version, description, routing weights, revision).
CREATE TABLE lambda_aliases (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    function_name TEXT NOT NULL,
    alias_name    TEXT NOT NULL,
    config        TEXT NOT NULL,
    revision_id   TEXT NOT NULL,
    PRIMARY KEY (account_id, region, function_name, alias_name),
    FOREIGN KEY (account_id, region, function_name)
        REFERENCES lambda_functions (account_id, region, function_name) ON DELETE CASCADE
);
