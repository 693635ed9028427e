"""S3 through boto3 (default request checksums on, as boto3 >= 1.36 sends them) and the AWS CLI."""
import hashlib
import os
import tempfile

import botocore.exceptions
import pytest
from boto3.s3.transfer import TransferConfig


def bucket_name(unique_name):
    return unique_name.lower()[:50].strip("-")


@pytest.fixture
def bucket(server, unique_name):
    s3 = server.client("s3")
    name = bucket_name(unique_name)
    s3.create_bucket(Bucket=name)
    return name


def test_objects_with_default_checksums(server, bucket):
    s3 = server.client("s3")
    put = s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=b"hello boto3",
                        ContentType="text/plain", Metadata={"Owner": "tests"})
    assert put["ETag"] == '"%s"' % hashlib.md5(b"hello boto3").hexdigest()
    # boto3 sent a CRC32 (in an aws-chunked trailer or a header); S3 keeps and returns it.
    assert "ChecksumCRC32" in put
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"hello boto3"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "tests"}
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    ranged = s3.get_object(Bucket=bucket, Key="dir/hello.txt", Range="bytes=6-")
    assert ranged["Body"].read() == b"boto3"
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="missing")
    head = s3.head_bucket(Bucket=bucket)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"


def test_bucket_errors(server, bucket):
    s3 = server.client("s3")
    with pytest.raises(s3.exceptions.BucketAlreadyExists):
        server.client("s3", access_key="111122223333").create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    assert e.value.response["Error"]["Code"] == "InvalidBucketName"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_listing_with_paginator(server, bucket):
    s3 = server.client("s3")
    keys = [f"logs/{i:03d}.txt" for i in range(25)] + ["top.txt", "a b/ü.txt"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b".")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 7})
    seen = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert seen == sorted(keys)
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a b/", "logs/"]
    assert [o["Key"] for o in top["Contents"]] == ["top.txt"]
    v1 = s3.list_objects(Bucket=bucket, Prefix="logs/", MaxKeys=5)
    assert v1["IsTruncated"] and len(v1["Contents"]) == 5
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert len(deleted["Deleted"]) == len(keys)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_multipart_via_transfer_manager(server, bucket):
    s3 = server.client("s3")
    data = os.urandom(12 * 1024 * 1024 + 123)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        s3.upload_file(f.name, bucket, "big.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"')
    with tempfile.NamedTemporaryFile() as f:
        s3.download_file(bucket, "big.bin", f.name, Config=cfg)
        assert open(f.name, "rb").read() == data


def test_copy_tagging_and_presign(server, bucket):
    s3 = server.client("s3")
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", Tagging="team=core")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"payload"
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [{"Key": "team", "Value": "core"}]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "src"}, ExpiresIn=60)
    import urllib.request
    with urllib.request.urlopen(url, timeout=5) as r:
        assert r.read() == b"payload"


def test_aws_cli_cp_sync_ls_rm(server, bucket):
    with tempfile.TemporaryDirectory() as d:
        for name, body in [("a.txt", b"alpha"), ("sub/b.txt", b"beta"), ("sub/deeper/c.txt", b"gamma")]:
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(body)
        server.cli("s3", "cp", os.path.join(d, "a.txt"), f"s3://{bucket}/single/a.txt")
        server.cli("s3", "sync", d, f"s3://{bucket}/synced/")
        _, out, _ = server.cli("s3", "ls", "--recursive", f"s3://{bucket}/")
        for key in ["single/a.txt", "synced/a.txt", "synced/sub/b.txt", "synced/sub/deeper/c.txt"]:
            assert key in out
        # A second sync has nothing to copy.
        _, out, _ = server.cli("s3", "sync", d, f"s3://{bucket}/synced/")
        assert not out
        out_dir = os.path.join(d, "back")
        server.cli("s3", "cp", "--recursive", f"s3://{bucket}/synced/", out_dir)
        assert open(os.path.join(out_dir, "sub", "deeper", "c.txt"), "rb").read() == b"gamma"
        server.cli("s3", "rm", "--recursive", f"s3://{bucket}/")
        _, listed, _ = server.cli("s3api", "list-objects-v2", "--bucket", bucket)
        assert not listed or listed.get("KeyCount", 0) == 0


def test_aws_cli_s3api(server, unique_name):
    name = bucket_name(unique_name)
    server.cli("s3api", "create-bucket", "--bucket", name,
               "--create-bucket-configuration", "LocationConstraint=eu-west-2")
    _, loc, _ = server.cli("s3api", "get-bucket-location", "--bucket", name)
    assert loc == {"LocationConstraint": "eu-west-2"}
    server.cli("s3api", "put-bucket-tagging", "--bucket", name,
               "--tagging", "TagSet=[{Key=env,Value=dev}]")
    _, tags, _ = server.cli("s3api", "get-bucket-tagging", "--bucket", name)
    assert tags["TagSet"] == [{"Key": "env", "Value": "dev"}]
    code, _, err = server.cli("s3api", "get-bucket-website", "--bucket", name, check=False)
    assert code != 0 and "NoSuchWebsiteConfiguration" in err
    server.cli("s3api", "delete-bucket", "--bucket", name)


def test_bucket_versioning_state(server, bucket):
    s3 = server.client("s3")
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Off"})
    assert e.value.response["Error"]["Code"] == "MalformedXML"


def test_versions_and_delete_markers(server, bucket):
    s3 = server.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    assert e.value.response["Error"]["Code"] == "MethodNotAllowed"
    # Many versions paged two at a time by boto3's paginator.
    for i in range(4):
        s3.put_object(Bucket=bucket, Key=f"p/{i}", Body=b"x")
        s3.put_object(Bucket=bucket, Key=f"p/{i}", Body=b"y")
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2})
    versions, markers = [], []
    for page in pages:
        versions += [(v["Key"], v["VersionId"], v["IsLatest"]) for v in page.get("Versions", [])]
        markers += [(m["Key"], m["VersionId"], m["IsLatest"]) for m in page.get("DeleteMarkers", [])]
    assert markers == [("k", marker["VersionId"], True)]
    assert versions[:2] == [("k", v2, False), ("k", v1, False)]
    assert len(versions) == 10 and len({v[1] for v in versions}) == 10
    assert [v[2] for v in versions[2:]] == [True, False] * 4
    # Deleting the marker by id brings the key back.
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert out["Deleted"][0]["DeleteMarker"] is True
    assert out["Deleted"][0]["DeleteMarkerVersionId"]


def test_aws_cli_list_object_versions(server, bucket):
    server.cli("s3api", "put-bucket-versioning", "--bucket", bucket,
               "--versioning-configuration", "Status=Enabled")
    _, state, _ = server.cli("s3api", "get-bucket-versioning", "--bucket", bucket)
    assert state == {"Status": "Enabled"}
    with tempfile.NamedTemporaryFile() as f:
        f.write(b"body")
        f.flush()
        _, put1, _ = server.cli("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", f.name)
        _, put2, _ = server.cli("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", f.name)
    server.cli("s3", "rm", f"s3://{bucket}/k")
    _, listed, _ = server.cli("s3api", "list-object-versions", "--bucket", bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [put2["VersionId"], put1["VersionId"]]
    assert len(listed["DeleteMarkers"]) == 1 and listed["DeleteMarkers"][0]["IsLatest"]
    # A versioned bucket with versions left cannot be deleted.
    code, _, err = server.cli("s3api", "delete-bucket", "--bucket", bucket, check=False)
    assert code != 0 and "BucketNotEmpty" in err


def test_get_object_attributes(server, bucket):
    s3 = server.client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    got = s3.get_object_attributes(Bucket=bucket, Key="k",
                                   ObjectAttributes=["ETag", "ObjectSize", "StorageClass", "Checksum"])
    assert got["ETag"] == hashlib.md5(b"hello").hexdigest()
    assert got["ObjectSize"] == 5
    assert got["StorageClass"] == "STANDARD"
    assert "ChecksumCRC32" in got["Checksum"] or "ChecksumCRC64NVME" in got["Checksum"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
    assert e.value.response["Error"]["Code"] == "NoSuchKey"


def _public_policy(bucket, condition=None):
    import json
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_block_public_policy_and_policy_status(server, bucket):
    s3 = server.client("s3")
    # New buckets block public policies.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=_public_policy(bucket))
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    # Everyone pinned to one VPC is not public.
    pinned = _public_policy(bucket, {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=pinned)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    # The CLI turns the block off, attaches a public policy and reads its status.
    server.cli("s3api", "put-public-access-block", "--bucket", bucket,
               "--public-access-block-configuration",
               "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=true")
    server.cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", _public_policy(bucket))
    _, status, _ = server.cli("s3api", "get-bucket-policy-status", "--bucket", bucket)
    assert status["PolicyStatus"]["IsPublic"] is True


def test_uploads_must_declare_their_length(server, bucket):
    import http.client
    import subprocess
    import urllib.parse
    import urllib.request
    s3 = server.client("s3")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60)
    # A presigned PUT with its length (what curl --data-binary / -T file send) is taken.
    req = urllib.request.Request(url, data=b"presigned", method="PUT")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    parsed = urllib.parse.urlsplit(url)
    target = parsed.path + "?" + parsed.query

    def raw(chunked):
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        if chunked:
            conn.request("PUT", target, body=iter([b"streamed"]), encode_chunked=True,
                         headers={"Transfer-Encoding": "chunked"})
        else:
            conn.putrequest("PUT", target)
            conn.endheaders()
        resp = conn.getresponse()
        out = resp.status, resp.read().decode()
        conn.close()
        return out

    status, body = raw(chunked=False)
    assert status == 411 and "<Code>MissingContentLength</Code>" in body, body
    status, body = raw(chunked=True)
    assert status == 501 and "<Header>Transfer-Encoding</Header>" in body, body
    assert s3.get_object(Bucket=bucket, Key="p")["Body"].read() == b"presigned"

    # Empty objects still go in.
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert s3.head_object(Bucket=bucket, Key="empty")["ContentLength"] == 0

    # `aws s3 cp -` streams stdin as multipart parts of known sizes: taken.
    data = os.urandom(9 * 1024 * 1024 + 123)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    p = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3", "cp", "-",
                        f"s3://{bucket}/stdin"], input=data, env=env, capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert s3.get_object(Bucket=bucket, Key="stdin")["Body"].read() == data
