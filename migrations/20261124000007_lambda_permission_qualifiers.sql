-- Lambda keeps a resource policy per function, per published version and per alias
-- (AddPermission/RemovePermission/GetPolicy take a Qualifier): the qualifier joins the key,
-- '' standing for the unqualified function ($LATEST). SQLite cannot change a primary key in
-- place, so the table is rebuilt, keeping the statements' order.
CREATE TABLE lambda_permissions_by_qualifier (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL DEFAULT '',
    statement_id  TEXT NOT NULL,
    statement     TEXT NOT NULL,
    PRIMARY KEY (account_id, region, function_name, qualifier, statement_id),
    FOREIGN KEY (account_id, region, function_name)
        REFERENCES lambda_functions (account_id, region, function_name) ON DELETE CASCADE
);

INSERT INTO lambda_permissions_by_qualifier
    (account_id, region, function_name, qualifier, statement_id, statement)
SELECT account_id, region, function_name, '', statement_id, statement
FROM lambda_permissions ORDER BY rowid;

DROP TABLE lambda_permissions;
ALTER TABLE lambda_permissions_by_qualifier RENAME TO lambda_permissions;

-- A version's or alias's policy goes with it, so a later one of the same name starts empty.
CREATE TRIGGER lambda_alias_policy_deleted AFTER DELETE ON lambda_aliases
BEGIN
    DELETE FROM lambda_permissions WHERE account_id = OLD.account_id AND region = OLD.region
        AND function_name = OLD.function_name AND qualifier = OLD.alias_name;
END;

CREATE TRIGGER lambda_version_policy_deleted AFTER DELETE ON lambda_versions
BEGIN
    DELETE FROM lambda_permissions WHERE account_id = OLD.account_id AND region = OLD.region
        AND function_name = OLD.function_name AND qualifier = CAST(OLD.version AS TEXT);
END;
