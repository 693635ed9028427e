import json

import botocore.exceptions
import pytest

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


def test_role_crud_boto3(server, unique_name):
    iam = server.client("iam")
    created = iam.create_role(RoleName=unique_name, AssumeRolePolicyDocument=json.dumps(TRUST),
                              Tags=[{"Key": "env", "Value": "test"}])
    assert created["Role"]["Arn"] == f"arn:aws:iam::000000000000:role/{unique_name}"
    got = iam.get_role(RoleName=unique_name)["Role"]
    # boto3 decodes the URL-encoded policy document into a dict, as against AWS.
    assert got["AssumeRolePolicyDocument"] == TRUST
    assert got["Tags"] == [{"Key": "env", "Value": "test"}]
    iam.put_role_policy(RoleName=unique_name, PolicyName="inline", PolicyDocument=json.dumps(TRUST))
    assert iam.get_role_policy(RoleName=unique_name, PolicyName="inline")["PolicyDocument"] == TRUST
    iam.attach_role_policy(RoleName=unique_name,
                           PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    attached = iam.list_attached_role_policies(RoleName=unique_name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "ReadOnlyAccess",
                         "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_role(RoleName=unique_name)
    iam.detach_role_policy(RoleName=unique_name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_role_policy(RoleName=unique_name, PolicyName="inline")
    iam.delete_role(RoleName=unique_name)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_role(RoleName=unique_name)
    assert e.value.response["Error"]["Message"] == f"The role with name {unique_name} cannot be found."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_duplicate_role(server, unique_name):
    iam = server.client("iam")
    iam.create_role(RoleName=unique_name, AssumeRolePolicyDocument=json.dumps(TRUST))
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=unique_name, AssumeRolePolicyDocument=json.dumps(TRUST))


def test_list_roles_paginator(server):
    iam = server.client("iam", access_key="777777777777")
    for i in range(5):
        iam.create_role(RoleName=f"paged-{i}", Path="/paged/",
                        AssumeRolePolicyDocument=json.dumps(TRUST))
    pages = iam.get_paginator("list_roles").paginate(PathPrefix="/paged/",
                                                     PaginationConfig={"PageSize": 2})
    names = [r["RoleName"] for p in pages for r in p["Roles"]]
    assert names == [f"paged-{i}" for i in range(5)]


def test_role_cli(server, unique_name):
    code, out, _ = server.cli("iam", "create-role", "--role-name", unique_name,
                              "--assume-role-policy-document", json.dumps(TRUST))
    assert out["Role"]["RoleName"] == unique_name
    code, out, _ = server.cli("iam", "get-role", "--role-name", unique_name)
    assert out["Role"]["AssumeRolePolicyDocument"] == TRUST
    code, out, _ = server.cli("iam", "list-roles")
    assert unique_name in [r["RoleName"] for r in out["Roles"]]
    code, _, err = server.cli("iam", "get-role", "--role-name", "missing-role", check=False)
    assert code == 255  # AWS CLI v1's exit code for a service error
    assert "NoSuchEntity" in err


def test_validation_error_wording(server):
    iam = server.client("iam")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName="x" * 65, AssumeRolePolicyDocument=json.dumps(TRUST))
    err = e.value.response["Error"]
    assert err["Code"] == "ValidationError"
    assert err["Message"] == (
        f"1 validation error detected: Value '{'x' * 65}' at 'roleName' failed to satisfy "
        "constraint: Member must have length less than or equal to 64"
    )


def test_unimplemented_operation_is_501(server):
    iam = server.client("iam")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_users()
    assert e.value.response["Error"]["Code"] == "NotImplemented"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
