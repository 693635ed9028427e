import botocore.exceptions
import pytest


def test_get_caller_identity_boto3(server):
    me = server.client("sts").get_caller_identity()
    assert me["Account"] == "000000000000"
    assert me["Arn"] == "arn:aws:iam::000000000000:root"


def test_get_caller_identity_cli(server):
    code, out, _ = server.cli("sts", "get-caller-identity")
    assert code == 0
    assert out["Account"] == "000000000000"


def test_access_key_selects_account(server):
    me = server.client("sts", access_key="123412341234").get_caller_identity()
    assert me["Account"] == "123412341234"


def test_assume_role_then_act_as_role(server):
    sts = server.client("sts")
    out = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/app", RoleSessionName="py")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::210987654321:assumed-role/app/py"
    import boto3
    as_role = boto3.client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    me = as_role.get_caller_identity()
    assert me["Account"] == "210987654321"
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]


def test_assume_role_validation(server):
    # boto3 checks minimums itself; switch that off so the server's validation answers.
    sts = server.client("sts", validate=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(
            RoleArn="arn:aws:iam::210987654321:role/app", RoleSessionName="ok", DurationSeconds=10
        )
    err = e.value.response["Error"]
    assert err["Code"] == "ValidationError"
    assert err["Message"] == (
        "1 validation error detected: Value '10' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 900"
    )
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
