//! S3 versioning through the AWS SDK for Rust: the bucket state, version ids on writes,
//! delete markers, reads/deletes/copies/tags by version id, the `null` version,
//! ListObjectVersions paging, and versions (and their files) across a restart.

use crate::harness::{http, unique, TestServer};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, Delete, MfaDelete,
    ObjectIdentifier, Tag, Tagging, VersioningConfiguration,
};
use aws_sdk_s3::Client;

fn client(server: &TestServer) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(&server.sdk_config())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

async fn bucket(s3: &Client) -> String {
    let name = unique("ver");
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("CreateBucket");
    name
}

async fn set(s3: &Client, b: &str, status: BucketVersioningStatus) {
    s3.put_bucket_versioning()
        .bucket(b)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .expect("PutBucketVersioning");
}

async fn versioned(s3: &Client) -> String {
    let b = bucket(s3).await;
    set(s3, &b, BucketVersioningStatus::Enabled).await;
    b
}

async fn status(s3: &Client, b: &str) -> Option<String> {
    s3.get_bucket_versioning()
        .bucket(b)
        .send()
        .await
        .expect("GetBucketVersioning")
        .status()
        .map(|s| s.as_str().to_string())
}

/// PutObject; the version id it answers with.
async fn put(s3: &Client, b: &str, k: &str, body: &'static [u8]) -> Option<String> {
    s3.put_object()
        .bucket(b)
        .key(k)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .expect("PutObject")
        .version_id()
        .map(str::to_string)
}

async fn read(s3: &Client, b: &str, k: &str, version: Option<&str>) -> Vec<u8> {
    let out = s3
        .get_object()
        .bucket(b)
        .key(k)
        .set_version_id(version.map(str::to_string))
        .send()
        .await
        .expect("GetObject");
    out.body.collect().await.expect("body").to_vec()
}

/// Every version and delete marker as (key, version id, is latest, is marker), in the order
/// S3 lists them (markers and versions interleaved by key then age).
async fn all_versions(s3: &Client, b: &str) -> Vec<(String, String, bool, bool)> {
    let out = s3
        .list_object_versions()
        .bucket(b)
        .send()
        .await
        .expect("ListObjectVersions");
    entries(&out)
}

fn entries(
    out: &aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput,
) -> Vec<(String, String, bool, bool)> {
    let mut v: Vec<(String, String, bool, bool, i64)> = Vec::new();
    for e in out.versions() {
        v.push((
            e.key().unwrap_or("").into(),
            e.version_id().unwrap_or("").into(),
            e.is_latest().unwrap_or(false),
            false,
            e.last_modified()
                .map(|t| t.to_millis().unwrap_or(0))
                .unwrap_or(0),
        ));
    }
    for e in out.delete_markers() {
        v.push((
            e.key().unwrap_or("").into(),
            e.version_id().unwrap_or("").into(),
            e.is_latest().unwrap_or(false),
            true,
            e.last_modified()
                .map(|t| t.to_millis().unwrap_or(0))
                .unwrap_or(0),
        ));
    }
    // The XML has versions and markers as two lists; newest first within a key.
    v.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)).then(b.4.cmp(&a.4)));
    v.into_iter()
        .map(|(k, id, l, m, _)| (k, id, l, m))
        .collect()
}

type Failure<E> = aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>;

fn header<'a, E>(err: &'a Failure<E>, name: &str) -> Option<&'a str> {
    err.raw_response().and_then(|r| r.headers().get(name))
}

fn status_of<E>(err: &Failure<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

#[tokio::test]
async fn versioning_state_is_set_and_reported() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    assert_eq!(status(&s3, &b).await, None, "never configured");

    set(&s3, &b, BucketVersioningStatus::Enabled).await;
    assert_eq!(status(&s3, &b).await.as_deref(), Some("Enabled"));
    set(&s3, &b, BucketVersioningStatus::Suspended).await;
    assert_eq!(status(&s3, &b).await.as_deref(), Some("Suspended"));

    // MFADelete is echoed as written.
    s3.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .mfa_delete(MfaDelete::Disabled)
                .build(),
        )
        .send()
        .await
        .expect("PutBucketVersioning with MFADelete");
    let got = s3
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketVersioning");
    assert_eq!(got.mfa_delete().map(|m| m.as_str()), Some("Disabled"));

    // Any other status is malformed, and the stored state is unchanged.
    let err = s3
        .put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::from("Off"))
                .build(),
        )
        .send()
        .await
        .expect_err("bad status");
    assert_eq!(err.code(), Some("MalformedXML"));
    assert_eq!(status_of(&err), Some(400));
    assert_eq!(status(&s3, &b).await.as_deref(), Some("Enabled"));

    let missing = unique("ver-missing");
    let err = s3
        .get_bucket_versioning()
        .bucket(&missing)
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(err.code(), Some("NoSuchBucket"));
    let err = s3
        .put_bucket_versioning()
        .bucket(&missing)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(err.code(), Some("NoSuchBucket"));

    // Object Lock turns versioning on, and it cannot be suspended.
    let locked = unique("ver-lock");
    s3.create_bucket()
        .bucket(&locked)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("CreateBucket with object lock");
    assert_eq!(status(&s3, &locked).await.as_deref(), Some("Enabled"));
    let err = s3
        .put_bucket_versioning()
        .bucket(&locked)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .expect_err("locked buckets stay versioned");
    assert_eq!(err.code(), Some("InvalidBucketState"));
    assert_eq!(status_of(&err), Some(409));
    server.stop().await;
}

#[tokio::test]
async fn versions_and_delete_markers() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = versioned(&s3).await;

    let v1 = put(&s3, &b, "k", b"one").await.expect("a version id");
    let v2 = put(&s3, &b, "k", b"two").await.expect("a version id");
    assert_ne!(v1, v2);
    assert_eq!(read(&s3, &b, "k", None).await, b"two");
    assert_eq!(read(&s3, &b, "k", Some(&v1)).await, b"one");
    let head = s3
        .head_object()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .expect("HeadObject by version");
    assert_eq!(head.version_id(), Some(v1.as_str()));
    assert_eq!(head.content_length(), Some(3));
    let got = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.version_id(), Some(v2.as_str()));

    // A delete without a version id leaves a marker, and the key reads as deleted.
    let del = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("DeleteObject");
    assert_eq!(del.delete_marker(), Some(true));
    let marker = del.version_id().expect("marker version").to_string();
    let err = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert_eq!(header(&err, "x-amz-delete-marker"), Some("true"));
    assert_eq!(header(&err, "x-amz-version-id"), Some(marker.as_str()));
    let err = s3
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(status_of(&err), Some(404));
    assert_eq!(header(&err, "x-amz-delete-marker"), Some("true"));
    // The marker itself cannot be read.
    let err = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .expect_err("a marker");
    assert_eq!(err.code(), Some("MethodNotAllowed"));
    assert_eq!(status_of(&err), Some(405));
    assert_eq!(header(&err, "x-amz-delete-marker"), Some("true"));
    // Old versions still can.
    assert_eq!(read(&s3, &b, "k", Some(&v2)).await, b"two");
    // Listings skip the key; ListObjectVersions shows all three, the marker latest.
    let listed = s3
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("ListObjectsV2");
    assert!(listed.contents().is_empty());
    assert_eq!(
        all_versions(&s3, &b).await,
        [
            ("k".into(), marker.clone(), true, true),
            ("k".into(), v2.clone(), false, false),
            ("k".into(), v1.clone(), false, false),
        ]
    );

    // Bad and unknown version ids.
    let err = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .version_id("not-a-version")
        .send()
        .await
        .expect_err("malformed");
    assert_eq!(err.code(), Some("InvalidArgument"));
    assert_eq!(err.message(), Some("Invalid version id specified"));
    let unknown = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
    let err = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .version_id(unknown)
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), Some("NoSuchVersion"));
    assert_eq!(status_of(&err), Some(404));

    // The bucket cannot go while versions remain.
    let err = s3
        .delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(err.code(), Some("BucketNotEmpty"));

    // Deleting the marker by id brings v2 back; deleting v2 brings v1.
    let del = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .expect("delete the marker");
    assert_eq!(del.delete_marker(), Some(true));
    assert_eq!(del.version_id(), Some(marker.as_str()));
    assert_eq!(read(&s3, &b, "k", None).await, b"two");
    let del = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v2)
        .send()
        .await
        .expect("delete v2");
    assert_eq!(del.delete_marker(), None);
    assert_eq!(read(&s3, &b, "k", None).await, b"one");
    assert_eq!(
        all_versions(&s3, &b).await,
        [("k".into(), v1.clone(), true, false)]
    );
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .expect("delete v1");
    assert!(all_versions(&s3, &b).await.is_empty());
    s3.delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("empty now");
    server.stop().await;
}

#[tokio::test]
async fn suspended_buckets_write_the_null_version() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    // Written before versioning: the null version, kept when versioning starts.
    assert_eq!(put(&s3, &b, "k", b"before").await, None);
    set(&s3, &b, BucketVersioningStatus::Enabled).await;
    let v1 = put(&s3, &b, "k", b"enabled").await.expect("a version id");
    assert_eq!(read(&s3, &b, "k", Some("null")).await, b"before");
    set(&s3, &b, BucketVersioningStatus::Suspended).await;
    // Suspended: every write is the null version, replacing the previous null one.
    assert_eq!(put(&s3, &b, "k", b"s1").await, None);
    assert_eq!(put(&s3, &b, "k", b"s2").await, None);
    assert_eq!(
        all_versions(&s3, &b).await,
        [
            ("k".into(), "null".into(), true, false),
            ("k".into(), v1.clone(), false, false),
        ]
    );
    assert_eq!(read(&s3, &b, "k", Some("null")).await, b"s2");
    // A delete leaves a null marker in place of the null version.
    let del = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("DeleteObject");
    assert_eq!(del.delete_marker(), Some(true));
    assert_eq!(del.version_id(), Some("null"));
    assert_eq!(
        all_versions(&s3, &b).await,
        [
            ("k".into(), "null".into(), true, true),
            ("k".into(), v1.clone(), false, false),
        ]
    );
    assert_eq!(read(&s3, &b, "k", Some(&v1)).await, b"enabled");
    server.stop().await;
}

#[tokio::test]
async fn copies_tags_uploads_and_batch_deletes_by_version() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = versioned(&s3).await;
    let v1 = put(&s3, &b, "src", b"old").await.expect("version");
    put(&s3, &b, "src", b"new").await.expect("version");

    // Copy an old version: the source version is reported and the copy gets its own.
    let copy = s3
        .copy_object()
        .bucket(&b)
        .key("dst")
        .copy_source(format!("{b}/src?versionId={v1}"))
        .send()
        .await
        .expect("CopyObject from a version");
    assert_eq!(copy.copy_source_version_id(), Some(v1.as_str()));
    assert!(copy.version_id().is_some());
    assert_eq!(read(&s3, &b, "dst", None).await, b"old");
    // Restoring an old version over the current one is a copy onto itself.
    s3.copy_object()
        .bucket(&b)
        .key("src")
        .copy_source(format!("{b}/src?versionId={v1}"))
        .send()
        .await
        .expect("restore v1");
    assert_eq!(read(&s3, &b, "src", None).await, b"old");

    // Tags on one version leave the others alone.
    s3.put_object_tagging()
        .bucket(&b)
        .key("src")
        .version_id(&v1)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("t").value("1").build().expect("tag"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("PutObjectTagging by version");
    let tags = s3
        .get_object_tagging()
        .bucket(&b)
        .key("src")
        .version_id(&v1)
        .send()
        .await
        .expect("GetObjectTagging by version");
    assert_eq!(tags.tag_set().len(), 1);
    assert_eq!(tags.version_id(), Some(v1.as_str()));
    let current = s3
        .get_object_tagging()
        .bucket(&b)
        .key("src")
        .send()
        .await
        .expect("GetObjectTagging");
    assert!(current.tag_set().is_empty());

    // A completed multipart upload is a new version too.
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let part = s3
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(up.upload_id().unwrap_or(""))
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .expect("UploadPart");
    let done = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(up.upload_id().unwrap_or(""))
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .set_e_tag(part.e_tag().map(str::to_string))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    assert!(done.version_id().is_some());

    // DeleteObjects: a key alone leaves a marker; a version id deletes that version.
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("dst").build().expect("id"))
                .objects(
                    ObjectIdentifier::builder()
                        .key("src")
                        .version_id(&v1)
                        .build()
                        .expect("id"),
                )
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("DeleteObjects");
    assert!(out.errors().is_empty());
    let dst = out
        .deleted()
        .iter()
        .find(|d| d.key() == Some("dst"))
        .expect("dst");
    assert_eq!(dst.delete_marker(), Some(true));
    assert!(dst.delete_marker_version_id().is_some());
    assert_eq!(dst.version_id(), None);
    let src = out
        .deleted()
        .iter()
        .find(|d| d.key() == Some("src"))
        .expect("src");
    assert_eq!(src.version_id(), Some(v1.as_str()));
    assert_eq!(src.delete_marker(), None);
    let err = s3
        .get_object()
        .bucket(&b)
        .key("src")
        .version_id(&v1)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err.code(), Some("NoSuchVersion"));
    server.stop().await;
}

#[tokio::test]
async fn list_object_versions_pages_with_markers() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = versioned(&s3).await;
    for k in ["a", "b", "dir/c", "dir/d", "e"] {
        put(&s3, &b, k, b"1").await;
        put(&s3, &b, k, b"2").await;
    }
    s3.delete_object()
        .bucket(&b)
        .key("b")
        .send()
        .await
        .expect("marker");
    let full = all_versions(&s3, &b).await;
    assert_eq!(full.len(), 11);
    assert_eq!(full[2], ("b".into(), full[2].1.clone(), true, true));

    // Pages of two, resumed from NextKeyMarker / NextVersionIdMarker, give the same list.
    let mut paged = Vec::new();
    let (mut km, mut vm): (Option<String>, Option<String>) = (None, None);
    for _ in 0..20 {
        let out = s3
            .list_object_versions()
            .bucket(&b)
            .max_keys(2)
            .set_key_marker(km.clone())
            .set_version_id_marker(vm.clone())
            .send()
            .await
            .expect("a page");
        let mut page = entries(&out);
        assert!(page.len() <= 2);
        paged.append(&mut page);
        if !out.is_truncated().unwrap_or(false) {
            break;
        }
        km = out.next_key_marker().map(str::to_string);
        vm = out.next_version_id_marker().map(str::to_string);
    }
    assert_eq!(paged, full);

    // A delimiter rolls a folder's versions into one common prefix.
    let out = s3
        .list_object_versions()
        .bucket(&b)
        .delimiter("/")
        .send()
        .await
        .expect("with delimiter");
    let prefixes: Vec<&str> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["dir/"]);
    assert_eq!(out.versions().len() + out.delete_markers().len(), 7);
    // A prefix narrows it to the folder.
    let out = s3
        .list_object_versions()
        .bucket(&b)
        .prefix("dir/")
        .send()
        .await
        .expect("with prefix");
    assert_eq!(out.versions().len(), 4);

    // A version marker needs a key marker.
    let err = s3
        .list_object_versions()
        .bucket(&b)
        .version_id_marker(&full[0].1)
        .send()
        .await
        .expect_err("no key marker");
    assert_eq!(err.code(), Some("InvalidArgument"));
    server.stop().await;
}

/// Body files under the data dir (the object store fans out into two-character folders).
fn body_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("objects"))
        .expect("objects dir")
        .flatten()
        .filter(|e| e.file_name() != "tmp" && e.path().is_dir())
        .map(|e| std::fs::read_dir(e.path()).map(|d| d.count()).unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn versions_survive_a_restart_and_free_their_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let s3 = client(&server);
    let b = versioned(&s3).await;
    // Bodies above the inline threshold (64 KiB), so each version is a file.
    static ONE: [u8; 70 * 1024] = [b'1'; 70 * 1024];
    static TWO: [u8; 70 * 1024] = [b'2'; 70 * 1024];
    let v1 = put(&s3, &b, "k", &ONE).await.expect("version");
    let v2 = put(&s3, &b, "k", &TWO).await.expect("version");
    let marker = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("DeleteObject")
        .version_id()
        .map(str::to_string)
        .expect("marker");
    server.stop().await;
    assert_eq!(
        body_files(dir.path()),
        2,
        "one file per version, none for markers"
    );

    let server = TestServer::disk_at(dir.path()).await;
    let s3 = client(&server);
    assert_eq!(status(&s3, &b).await.as_deref(), Some("Enabled"));
    assert_eq!(
        all_versions(&s3, &b).await,
        [
            ("k".into(), marker.clone(), true, true),
            ("k".into(), v2.clone(), false, false),
            ("k".into(), v1.clone(), false, false),
        ]
    );
    assert_eq!(read(&s3, &b, "k", Some(&v1)).await, ONE);
    // Deleting a version frees its file.
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .expect("delete v1");
    assert_eq!(body_files(dir.path()), 1);
    server.stop().await;
}

#[tokio::test]
async fn raw_requests_see_version_headers() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = versioned(&s3).await;
    let v = put(&s3, &b, "k", b"x").await.expect("version");
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("marker");
    // HEAD of a key whose latest version is a marker: 404 and the marker header, no body.
    let resp = http()
        .head(server.url(&format!("/{b}/k")))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.headers()
            .get("x-amz-delete-marker")
            .and_then(|h| h.to_str().ok()),
        Some("true")
    );
    // GET of the old version by id answers its id.
    let resp = http()
        .get(server.url(&format!("/{b}/k?versionId={v}")))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("x-amz-version-id")
            .and_then(|h| h.to_str().ok()),
        Some(v.as_str())
    );
    server.stop().await;
}

#[tokio::test]
async fn object_attributes_with_parts_and_versions() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectAttributes};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = versioned(&s3).await;
    let v1 = put(&s3, &b, "k", b"hello").await.expect("version");
    let all = [
        ObjectAttributes::Etag,
        ObjectAttributes::Checksum,
        ObjectAttributes::ObjectParts,
        ObjectAttributes::StorageClass,
        ObjectAttributes::ObjectSize,
    ];
    let got = s3
        .get_object_attributes()
        .bucket(&b)
        .key("k")
        .set_object_attributes(Some(all.to_vec()))
        .send()
        .await
        .expect("GetObjectAttributes");
    assert_eq!(
        got.e_tag(),
        Some("5d41402abc4b2a76b9719d911017c592"),
        "MD5, unquoted"
    );
    assert_eq!(got.object_size(), Some(5));
    assert_eq!(got.storage_class().map(|s| s.as_str()), Some("STANDARD"));
    assert_eq!(got.version_id(), Some(v1.as_str()));
    assert!(got.last_modified().is_some());
    let sum = got.checksum().expect("the SDK's default checksum");
    assert!(sum.checksum_crc32().is_some() || sum.checksum_crc64_nvme().is_some());
    assert!(got.object_parts().is_none(), "one piece, no parts");

    // A multipart object: its parts, paged, each with its checksum.
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect("CreateMultipartUpload");
    let id = up.upload_id().unwrap_or("").to_string();
    let mut parts = Vec::new();
    for (n, body) in [(1, vec![b'a'; 5 * 1024 * 1024]), (2, b"tail".to_vec())] {
        let p = s3
            .upload_part()
            .bucket(&b)
            .key("mp")
            .upload_id(&id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("UploadPart");
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(p.e_tag().map(str::to_string))
                .set_checksum_crc32(p.checksum_crc32().map(str::to_string))
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    let page = |marker: Option<&str>| {
        s3.get_object_attributes()
            .bucket(&b)
            .key("mp")
            .object_attributes(ObjectAttributes::ObjectParts)
            .max_parts(1)
            .set_part_number_marker(marker.map(str::to_string))
            .send()
    };
    let first = page(None).await.expect("first page");
    let op = first.object_parts().expect("parts");
    assert_eq!(op.total_parts_count(), Some(2));
    assert_eq!(op.is_truncated(), Some(true));
    assert_eq!(op.parts().len(), 1);
    assert_eq!(op.parts()[0].size(), Some(5 * 1024 * 1024));
    assert!(op.parts()[0].checksum_crc32().is_some());
    let next = op.next_part_number_marker().map(str::to_string);
    let second = page(next.as_deref()).await.expect("second page");
    let op = second.object_parts().expect("parts");
    assert_eq!(op.is_truncated(), Some(false));
    assert_eq!(op.parts()[0].part_number(), Some(2));
    assert_eq!(op.parts()[0].size(), Some(4));

    // By version, after the key is deleted; the marker itself has no attributes.
    let marker = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("marker")
        .version_id()
        .map(str::to_string)
        .expect("marker id");
    let old = s3
        .get_object_attributes()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .expect("by version");
    assert_eq!(old.object_size(), Some(5));
    let err = s3
        .get_object_attributes()
        .bucket(&b)
        .key("k")
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.code(), Some("NoSuchKey"));
    let err = s3
        .get_object_attributes()
        .bucket(&b)
        .key("k")
        .version_id(&marker)
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .expect_err("a marker");
    assert_eq!(status_of(&err), Some(405));
    server.stop().await;
}
