use crate::harness::{unique, TestServer};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::Tag;

const TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn decode(doc: &str) -> serde_json::Value {
    let text = percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .expect("utf-8");
    serde_json::from_str(&text).expect("policy JSON")
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().expect("tag")
}

#[tokio::test]
async fn role_lifecycle_as_terraform_drives_it() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let name = unique("app-role");

    let created = iam
        .create_role()
        .role_name(&name)
        .path("/service/")
        .assume_role_policy_document(TRUST)
        .description("runs the app")
        .max_session_duration(7200)
        .tags(tag("team", "core"))
        .send()
        .await
        .expect("CreateRole");
    let role = created.role().expect("role");
    assert_eq!(role.role_name(), name);
    assert_eq!(role.path(), "/service/");
    assert_eq!(
        role.arn(),
        format!("arn:aws:iam::000000000000:role/service/{name}")
    );
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);

    let got = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .expect("GetRole");
    let got = got.role().expect("role");
    assert_eq!(got.role_id(), role.role_id());
    assert_eq!(got.description(), Some("runs the app"));
    assert_eq!(got.max_session_duration(), Some(7200));
    assert_eq!(got.tags().len(), 1);
    assert_eq!(got.tags()[0].key(), "team");
    // The trust policy comes back URL-encoded, as IAM returns it, and decodes to what was sent.
    let doc = got.assume_role_policy_document().expect("trust policy");
    assert!(doc.starts_with("%7B%22Version%22"), "{doc}");
    assert_eq!(
        decode(doc),
        serde_json::from_str::<serde_json::Value>(TRUST).expect("json")
    );
    // Names are unique regardless of case, and lookups ignore case too.
    let upper = iam
        .get_role()
        .role_name(name.to_uppercase())
        .send()
        .await
        .expect("case-insensitive GetRole");
    assert_eq!(upper.role().map(|r| r.role_name()), Some(name.as_str()));

    let dup = iam
        .create_role()
        .role_name(name.to_uppercase())
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(dup.code(), Some("EntityAlreadyExists"));
    assert_eq!(
        dup.message(),
        Some(format!("Role with name {} already exists.", name.to_uppercase()).as_str())
    );

    // Inline and managed policies, and the delete conflicts they cause.
    iam.put_role_policy()
        .role_name(&name)
        .policy_name("read")
        .policy_document(POLICY)
        .send()
        .await
        .expect("PutRolePolicy");
    let p = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name("read")
        .send()
        .await
        .expect("GetRolePolicy");
    assert_eq!(
        decode(p.policy_document()),
        serde_json::from_str::<serde_json::Value>(POLICY).expect("json")
    );
    let names = iam
        .list_role_policies()
        .role_name(&name)
        .send()
        .await
        .expect("ListRolePolicies");
    assert_eq!(names.policy_names(), ["read"]);

    let managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    iam.attach_role_policy()
        .role_name(&name)
        .policy_arn(managed)
        .send()
        .await
        .expect("AttachRolePolicy");
    let attached = iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .expect("ListAttachedRolePolicies");
    assert_eq!(attached.attached_policies().len(), 1);
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("AWSLambdaBasicExecutionRole")
    );
    assert_eq!(attached.attached_policies()[0].policy_arn(), Some(managed));

    let profiles = iam
        .list_instance_profiles_for_role()
        .role_name(&name)
        .send()
        .await
        .expect("ListInstanceProfilesForRole");
    assert!(profiles.instance_profiles().is_empty());

    let err = iam
        .delete_role()
        .role_name(&name)
        .send()
        .await
        .expect_err("has policies");
    assert_eq!(err.code(), Some("DeleteConflict"));
    assert_eq!(
        err.message(),
        Some("Cannot delete entity, must delete policies first.")
    );
    iam.delete_role_policy()
        .role_name(&name)
        .policy_name("read")
        .send()
        .await
        .expect("DeleteRolePolicy");
    let err = iam
        .delete_role()
        .role_name(&name)
        .send()
        .await
        .expect_err("has attachments");
    assert_eq!(
        err.message(),
        Some("Cannot delete entity, must detach all policies first.")
    );
    iam.detach_role_policy()
        .role_name(&name)
        .policy_arn(managed)
        .send()
        .await
        .expect("DetachRolePolicy");
    let err = iam
        .detach_role_policy()
        .role_name(&name)
        .policy_arn(managed)
        .send()
        .await
        .expect_err("not attached");
    assert_eq!(err.code(), Some("NoSuchEntity"));

    iam.delete_role()
        .role_name(&name)
        .send()
        .await
        .expect("DeleteRole");
    let err = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.code(), Some("NoSuchEntity"));
    assert_eq!(
        err.message(),
        Some(format!("The role with name {name} cannot be found.").as_str())
    );
    let raw = err.raw_response().expect("raw response");
    assert_eq!(raw.status().as_u16(), 404);
    server.stop().await;
}

#[tokio::test]
async fn tags_are_added_replaced_and_removed() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let name = unique("tagged");
    iam.create_role()
        .role_name(&name)
        .assume_role_policy_document(TRUST)
        .tags(tag("a", "1"))
        .send()
        .await
        .expect("CreateRole");
    iam.tag_role()
        .role_name(&name)
        .tags(tag("b", "2"))
        .tags(tag("a", "changed"))
        .send()
        .await
        .expect("TagRole");
    let tags = iam
        .list_role_tags()
        .role_name(&name)
        .send()
        .await
        .expect("ListRoleTags");
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("a", "changed"), ("b", "2")]);
    iam.untag_role()
        .role_name(&name)
        .tag_keys("a")
        .send()
        .await
        .expect("UntagRole");
    let got = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .expect("GetRole");
    let keys: Vec<&str> = got
        .role()
        .expect("role")
        .tags()
        .iter()
        .map(|t| t.key())
        .collect();
    assert_eq!(keys, ["b"]);
    server.stop().await;
}

#[tokio::test]
async fn list_roles_filters_by_path_and_paginates() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    for (name, path) in [("list-a", "/x/"), ("list-b", "/x/"), ("list-c", "/y/")] {
        iam.create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .expect("CreateRole");
    }
    let first = iam
        .list_roles()
        .path_prefix("/x/")
        .max_items(1)
        .send()
        .await
        .expect("ListRoles");
    assert!(first.is_truncated());
    assert_eq!(first.roles().len(), 1);
    assert_eq!(first.roles()[0].role_name(), "list-a");
    // Listings omit tags and RoleLastUsed, as IAM's list calls do.
    assert!(first.roles()[0].role_last_used().is_none());
    let second = iam
        .list_roles()
        .path_prefix("/x/")
        .max_items(1)
        .marker(first.marker().expect("marker"))
        .send()
        .await
        .expect("ListRoles page 2");
    assert!(!second.is_truncated());
    assert_eq!(second.roles()[0].role_name(), "list-b");
    let all = iam.list_roles().send().await.expect("ListRoles");
    assert_eq!(all.roles().len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_the_errors_aws_gives() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let err = iam
        .create_role()
        .role_name("bad name!")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect_err("bad name");
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(
        err.message(),
        Some("1 validation error detected: Value 'bad name!' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
    );
    let long = "r".repeat(65);
    let err = iam
        .create_role()
        .role_name(&long)
        .assume_role_policy_document(TRUST)
        .max_session_duration(60)
        .send()
        .await
        .expect_err("too long");
    assert_eq!(
        err.message(),
        Some(format!("2 validation errors detected: Value '{long}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64; Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600").as_str())
    );
    let err = iam
        .create_role()
        .role_name(unique("r"))
        .assume_role_policy_document("{not json")
        .send()
        .await
        .expect_err("bad policy");
    assert_eq!(err.code(), Some("MalformedPolicyDocument"));
    let err = iam
        .get_role_policy()
        .role_name("missing-role")
        .policy_name("p")
        .send()
        .await
        .expect_err("no role");
    assert_eq!(err.code(), Some("NoSuchEntity"));
    let err = iam
        .get_user()
        .user_name("nobody")
        .send()
        .await
        .expect_err("no such user");
    assert_eq!(
        err.message(),
        Some("The user with name nobody cannot be found.")
    );
    server.stop().await;
}

#[tokio::test]
async fn roles_are_scoped_per_account() {
    let server = TestServer::memory().await;
    let mine = aws_sdk_iam::Client::new(&server.sdk_config_with("111111111111", "x", None));
    let theirs = aws_sdk_iam::Client::new(&server.sdk_config_with("222222222222", "x", None));
    mine.create_role()
        .role_name("shared-name")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("CreateRole in 1111");
    let err = theirs
        .get_role()
        .role_name("shared-name")
        .send()
        .await
        .expect_err("other account");
    assert_eq!(err.code(), Some("NoSuchEntity"));
    let created = theirs
        .create_role()
        .role_name("shared-name")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("same name in another account");
    assert_eq!(
        created.role().map(|r| r.arn()),
        Some("arn:aws:iam::222222222222:role/shared-name")
    );
    let me = mine.get_user().send().await.expect("GetUser");
    assert_eq!(
        me.user().map(|u| u.arn()),
        Some("arn:aws:iam::111111111111:root")
    );
    server.stop().await;
}

#[tokio::test]
async fn tag_keys_match_regardless_of_case() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let name = unique("cased");
    iam.create_role()
        .role_name(&name)
        .assume_role_policy_document(TRUST)
        .tags(tag("Env", "a"))
        .send()
        .await
        .expect("CreateRole");
    iam.tag_role()
        .role_name(&name)
        .tags(tag("env", "b"))
        .send()
        .await
        .expect("TagRole");
    let tags = iam
        .list_role_tags()
        .role_name(&name)
        .send()
        .await
        .expect("ListRoleTags");
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("env", "b")]);
    iam.untag_role()
        .role_name(&name)
        .tag_keys("ENV")
        .send()
        .await
        .expect("UntagRole");
    let tags = iam
        .list_role_tags()
        .role_name(&name)
        .send()
        .await
        .expect("ListRoleTags");
    assert!(tags.tags().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn permissions_boundary_is_set_read_and_removed() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let name = unique("bounded");
    let boundary = "arn:aws:iam::000000000000:policy/boundary";
    iam.create_role()
        .role_name(&name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("CreateRole");
    iam.put_role_permissions_boundary()
        .role_name(&name)
        .permissions_boundary(boundary)
        .send()
        .await
        .expect("PutRolePermissionsBoundary");
    let role = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .expect("GetRole");
    let pb = role
        .role()
        .and_then(|r| r.permissions_boundary())
        .expect("boundary");
    assert_eq!(pb.permissions_boundary_arn(), Some(boundary));
    assert_eq!(
        pb.permissions_boundary_type().map(|t| t.as_str()),
        Some("PermissionsBoundaryPolicy")
    );
    iam.delete_role_permissions_boundary()
        .role_name(&name)
        .send()
        .await
        .expect("DeleteRolePermissionsBoundary");
    let role = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .expect("GetRole");
    assert!(role.role().and_then(|r| r.permissions_boundary()).is_none());
    server.stop().await;
}

#[tokio::test]
async fn names_use_ascii_word_characters_as_aws_patterns_do() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let err = iam
        .create_role()
        .role_name("rôle")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect_err("non-ASCII name");
    assert_eq!(err.code(), Some("ValidationError"));
    server.stop().await;
}
