-- KMS: keys, their versions of key material (sealed under the installation's root key), aliases
-- and grants. Every row is scoped by (account_id, region), as KMS scopes keys.

CREATE TABLE kms_keys (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    created_at REAL NOT NULL,
    -- The service's key metadata (state, spec, usage, description, tags, rotation, ...) as JSON:
    -- only the service interprets it; storage never needs to query inside it.
    metadata   TEXT NOT NULL,
    policy     TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id)
);

-- Each rotation adds a version; ciphertexts name the version they were made with.
CREATE TABLE kms_key_material (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    material_id TEXT NOT NULL,
    -- nonce || AES-256-GCM(root key, material), bound to this row's identity as AAD.
    sealed      BLOB NOT NULL,
    created_at  REAL NOT NULL,
    rotation    TEXT,
    PRIMARY KEY (account_id, region, key_id, version),
    FOREIGN KEY (account_id, region, key_id) REFERENCES kms_keys (account_id, region, key_id) ON DELETE CASCADE
);

CREATE TABLE kms_aliases (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    alias_name TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (account_id, region, alias_name),
    FOREIGN KEY (account_id, region, key_id) REFERENCES kms_keys (account_id, region, key_id) ON DELETE CASCADE
);

CREATE TABLE kms_grants (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    grant_id   TEXT NOT NULL,
    created_at REAL NOT NULL,
    grant_doc  TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id, grant_id),
    FOREIGN KEY (account_id, region, key_id) REFERENCES kms_keys (account_id, region, key_id) ON DELETE CASCADE
);
