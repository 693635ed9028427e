import base64
import glob
import hashlib
import io
import json
import os
import shutil
import time
import urllib.parse
import urllib.request
import zipfile

import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def create(lam, name, files, **extra):
    return lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                               Handler="app.handler", Code={"ZipFile": make_zip(files)},
                               Timeout=20, **extra)


def test_layers_boto3(server, unique_name):
    lam = server.client("lambda")
    layer = make_zip({"python/shared_util.py": "def greet(n):\n    return f'hello {n}'\n"})
    v1 = lam.publish_layer_version(LayerName=unique_name, Content={"ZipFile": layer},
                                   CompatibleRuntimes=["python3.12"])
    assert v1["Version"] == 1
    assert v1["LayerVersionArn"] == \
        f"arn:aws:lambda:us-east-1:000000000000:layer:{unique_name}:1"
    assert v1["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(layer).digest()).decode()
    assert v1["Content"]["CodeSize"] == len(layer)
    with urllib.request.urlopen(v1["Content"]["Location"]) as r:
        assert r.read() == layer

    names = [l["LayerName"] for page in lam.get_paginator("list_layers").paginate()
             for l in page["Layers"]]
    assert unique_name in names

    fn = unique_name + "-fn"
    created = create(lam, fn, {"app.py": "import shared_util\n"
                                         "def handler(e, c):\n"
                                         "    return shared_util.greet(e['n'])\n"},
                     Layers=[v1["LayerVersionArn"]])
    assert created["Layers"] == [{"Arn": v1["LayerVersionArn"], "CodeSize": len(layer)}]
    out = lam.invoke(FunctionName=fn, Payload=json.dumps({"n": "layers"}))
    assert "FunctionError" not in out, out["Payload"].read()
    assert json.loads(out["Payload"].read()) == "hello layers"

    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.update_function_configuration(FunctionName=fn, Layers=[v1["LayerVersionArn"] + "0"])
    assert "does not exist" in e.value.response["Error"]["Message"]

    lam.delete_layer_version(LayerName=unique_name, VersionNumber=1)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName=unique_name, VersionNumber=1)
    v2 = lam.publish_layer_version(LayerName=unique_name, Content={"ZipFile": layer})
    assert v2["Version"] == 2


def test_function_url_boto3_and_raw_http(server, unique_name):
    lam = server.client("lambda")
    create(lam, unique_name, {"app.py": (
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'headers': {'content-type': 'text/plain'},\n"
        "            'body': event['rawPath'] + '?' + event['rawQueryString']}\n")})
    cfg = lam.create_function_url_config(FunctionName=unique_name, AuthType="NONE")
    url = cfg["FunctionUrl"]
    assert url.startswith("http://") and ".lambda-url.us-east-1.localhost:" in url
    assert lam.get_function_url_config(FunctionName=unique_name)["FunctionUrl"] == url
    listed = lam.list_function_url_configs(FunctionName=unique_name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url]

    # As the README shows: the URL's host in a Host header, sent to CloudEmu's own address.
    host = urllib.parse.urlparse(url).netloc
    req = urllib.request.Request(server.endpoint + "/hello?x=1", headers={"Host": host})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain"
        assert r.read() == b"/hello?x=1"

    lam.delete_function_url_config(FunctionName=unique_name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName=unique_name)


def test_logs_are_kept_in_the_data_dir(server, unique_name):
    lam = server.client("lambda")
    create(lam, unique_name, {"app.py": "def handler(e, c):\n    print('logged line')\n"})
    lam.invoke(FunctionName=unique_name, Payload=b"{}")
    group = os.path.join(server.data_dir, "lambda-logs", "000000000000", "us-east-1",
                         urllib.parse.quote(f"/aws/lambda/{unique_name}", safe=""))
    deadline = time.time() + 5
    messages = []
    while time.time() < deadline and "END" not in "".join(messages):
        messages = [json.loads(l)["message"] for f in glob.glob(os.path.join(group, "*.jsonl"))
                    for l in open(f)]
        time.sleep(0.05)
    assert messages[0].startswith("START RequestId:")
    assert "logged line\n" in messages
    assert any(m.startswith("REPORT RequestId:") for m in messages)


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_layer_and_url_with_the_cli(server, unique_name, tmp_path):
    zf = tmp_path / "layer.zip"
    zf.write_bytes(make_zip({"python/x.py": "X = 1\n"}))
    _, layer, _ = server.cli("lambda", "publish-layer-version", "--layer-name", unique_name,
                             "--zip-file", f"fileb://{zf}", "--compatible-runtimes", "python3.12")
    assert layer["Version"] == 1
    _, versions, _ = server.cli("lambda", "list-layer-versions", "--layer-name", unique_name)
    assert [v["Version"] for v in versions["LayerVersions"]] == [1]
    lam = server.client("lambda")
    create(lam, unique_name, {"app.py": "def handler(e, c):\n    return 1\n"})
    _, url, _ = server.cli("lambda", "create-function-url-config", "--function-name",
                           unique_name, "--auth-type", "AWS_IAM")
    assert url["AuthType"] == "AWS_IAM" and ".lambda-url." in url["FunctionUrl"]
