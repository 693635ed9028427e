-- Foundation: IAM roles and their policies/tags, STS sessions.
-- IAM is global: its rows are scoped by account only, as AWS scopes them. Every other service's
-- tables carry (account_id, region).

CREATE TABLE iam_roles (
    account_id           TEXT NOT NULL,
    role_name            TEXT NOT NULL COLLATE NOCASE, -- IAM names are unique regardless of case
    role_id              TEXT NOT NULL,
    path                 TEXT NOT NULL,
    arn                  TEXT NOT NULL,
    assume_role_policy   TEXT NOT NULL,
    description          TEXT,
    max_session_duration INTEGER NOT NULL,
    permissions_boundary TEXT,
    created_at           REAL NOT NULL,
    PRIMARY KEY (account_id, role_name)
);

-- A role's dependents go with it (ON DELETE CASCADE), and cannot be written for a role that
-- does not exist: the foreign keys close the race between a delete and a concurrent write.
CREATE TABLE iam_role_policies (
    account_id      TEXT NOT NULL,
    role_name       TEXT NOT NULL COLLATE NOCASE,
    policy_name     TEXT NOT NULL,
    policy_document TEXT NOT NULL,
    PRIMARY KEY (account_id, role_name, policy_name),
    FOREIGN KEY (account_id, role_name) REFERENCES iam_roles (account_id, role_name) ON DELETE CASCADE
);

CREATE TABLE iam_role_attached_policies (
    account_id  TEXT NOT NULL,
    role_name   TEXT NOT NULL COLLATE NOCASE,
    policy_arn  TEXT NOT NULL,
    attached_at REAL NOT NULL,
    PRIMARY KEY (account_id, role_name, policy_arn),
    FOREIGN KEY (account_id, role_name) REFERENCES iam_roles (account_id, role_name) ON DELETE CASCADE
);

CREATE TABLE iam_role_tags (
    account_id TEXT NOT NULL,
    role_name  TEXT NOT NULL COLLATE NOCASE,
    tag_key    TEXT NOT NULL COLLATE NOCASE, -- IAM tag keys are case-insensitive
    tag_value  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (account_id, role_name, tag_key),
    FOREIGN KEY (account_id, role_name) REFERENCES iam_roles (account_id, role_name) ON DELETE CASCADE
);

-- Temporary credentials issued by STS, so GetCallerIdentity can answer with the assumed role.
CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    arn           TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    expires_at    REAL NOT NULL
);
