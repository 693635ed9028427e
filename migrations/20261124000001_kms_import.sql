-- KMS GetParametersForImport: each import token and the RSA wrapping key pair it belongs to,
-- kept for the 24 hours AWS lets a token live, so an import survives a restart.

CREATE TABLE kms_import_params (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    -- The opaque token handed to the client (random bytes).
    token             BLOB NOT NULL,
    key_id            TEXT NOT NULL,
    wrapping_algorithm TEXT NOT NULL,
    wrapping_key_spec TEXT NOT NULL,
    -- nonce || AES-256-GCM(root key, PKCS#8 wrapping private key), bound to this row as AAD.
    sealed            BLOB NOT NULL,
    expires_at        REAL NOT NULL,
    PRIMARY KEY (account_id, region, token),
    FOREIGN KEY (account_id, region, key_id) REFERENCES kms_keys (account_id, region, key_id) ON DELETE CASCADE
);

CREATE INDEX kms_import_params_expiry ON kms_import_params (expires_at);
