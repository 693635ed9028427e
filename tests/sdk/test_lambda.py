import base64
import hashlib
import io
import json
import shutil
import zipfile

import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
APP = """
import os
def handler(event, context):
    print("got", event)
    if event.get("fail"):
        raise RuntimeError("boom")
    return {"echo": event, "name": context.function_name,
            "endpoint": os.environ["AWS_ENDPOINT_URL"]}
"""


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def create(lam, name, code, **extra):
    return lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                               Handler="app.handler", Code={"ZipFile": code}, **extra)


def test_function_lifecycle_and_invoke_boto3(server, unique_name):
    lam = server.client("lambda")
    code = make_zip({"app.py": APP})
    created = create(lam, unique_name, code, Environment={"Variables": {"STAGE": "1"}})
    assert created["State"] == "Pending"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert created["CodeSize"] == len(code)
    lam.get_waiter("function_active_v2").wait(FunctionName=unique_name,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    got = lam.get_function(FunctionName=unique_name)
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["Environment"] == {"Variables": {"STAGE": "1"}}

    out = lam.invoke(FunctionName=unique_name, Payload=json.dumps({"k": "v"}), LogType="Tail")
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out
    body = json.loads(out["Payload"].read())
    assert body == {"echo": {"k": "v"}, "name": unique_name, "endpoint": server.endpoint}
    log = base64.b64decode(out["LogResult"]).decode()
    assert "got {'k': 'v'}" in log and "REPORT RequestId:" in log

    failed = lam.invoke(FunctionName=unique_name, Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    err = json.loads(failed["Payload"].read())
    assert err["errorType"] == "RuntimeError" and err["errorMessage"] == "boom"

    lam.update_function_configuration(FunctionName=unique_name, Timeout=20)
    lam.get_waiter("function_updated_v2").wait(FunctionName=unique_name,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    assert lam.get_function_configuration(FunctionName=unique_name)["Timeout"] == 20

    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
             for f in page["Functions"]]
    assert unique_name in names

    lam.delete_function(FunctionName=unique_name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.get_function(FunctionName=unique_name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_errors_boto3(server, unique_name):
    lam = server.client("lambda")
    code = make_zip({"app.py": APP})
    create(lam, unique_name, code)
    with pytest.raises(lam.exceptions.ResourceConflictException):
        create(lam, unique_name, code)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        create(lam, unique_name + "-x", b"not a zip")
    assert "Could not unzip uploaded file" in e.value.response["Error"]["Message"]
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=unique_name, Payload=b"{not json")


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_aws_lambda_invoke_cli(server, unique_name, tmp_path):
    lam = server.client("lambda")
    create(lam, unique_name, make_zip({"app.py": APP}))
    outfile = tmp_path / "out.json"
    code, meta, _ = server.cli("lambda", "invoke", "--function-name", unique_name,
                               "--payload", '{"from": "cli"}', str(outfile))
    assert code == 0
    assert meta["StatusCode"] == 200
    assert json.loads(outfile.read_text())["echo"] == {"from": "cli"}
