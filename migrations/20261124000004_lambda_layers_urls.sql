-- Lambda layers and function URLs.

-- One row per layer name: remembers the last version number, so numbers are never reused
-- even after every version was deleted.
CREATE TABLE lambda_layers (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    layer_name   TEXT NOT NULL,
    last_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, region, layer_name)
);

-- Layer versions: the LayerVersion document (without Content.Location, which depends on the
-- host the caller used) and the zip in the object store. A deleted version that functions
-- still use stays (deleted = 1) so they keep running, as on Lambda; the API no longer sees it.
CREATE TABLE lambda_layer_versions (
    account_id      TEXT NOT NULL,
    region          TEXT NOT NULL,
    layer_name      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    config          TEXT NOT NULL,
    code_object_id  TEXT NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    -- Changes with every policy change (AddLayerVersionPermission's RevisionId).
    policy_revision TEXT NOT NULL,
    PRIMARY KEY (account_id, region, layer_name, version)
);

-- Layer version policy statements, in the order they were added.
CREATE TABLE lambda_layer_permissions (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    layer_name   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    statement_id TEXT NOT NULL,
    statement    TEXT NOT NULL,
    PRIMARY KEY (account_id, region, layer_name, version, statement_id),
    FOREIGN KEY (account_id, region, layer_name, version)
        REFERENCES lambda_layer_versions (account_id, region, layer_name, version)
        ON DELETE CASCADE
);

-- Function URLs: one per function and qualifier ($LATEST or an alias); `url_id` is the
-- host label requests arrive under. They go with their function.
CREATE TABLE lambda_function_urls (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    url_id        TEXT NOT NULL UNIQUE,
    config        TEXT NOT NULL,
    PRIMARY KEY (account_id, region, function_name, qualifier),
    FOREIGN KEY (account_id, region, function_name)
        REFERENCES lambda_functions (account_id, region, function_name) ON DELETE CASCADE
);

-- An alias's URL goes with the alias.
CREATE TRIGGER lambda_alias_url_cleanup AFTER DELETE ON lambda_aliases
BEGIN
    DELETE FROM lambda_function_urls
    WHERE account_id = OLD.account_id AND region = OLD.region
      AND function_name = OLD.function_name AND qualifier = OLD.alias_name;
END;
