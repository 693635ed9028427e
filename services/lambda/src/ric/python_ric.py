# CloudEmu's runtime interface client for python3.x functions: speaks the Lambda Runtime API
# to the endpoint in AWS_LAMBDA_RUNTIME_API, as AWS's own python runtime does.
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"
conn = http.client.HTTPConnection(API)


def request(method, path, body=None, headers=None):
    global conn
    for attempt in (0, 1):
        try:
            conn.request(method, PREFIX + path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp, resp.read()
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            conn = http.client.HTTPConnection(API)
            if attempt:
                raise


def error_body(exc, error_type=None):
    tb = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(tb),
    }


def post_error(path, body):
    data = json.dumps(body).encode()
    sys.stdout.flush()
    request("POST", path, data, {"Lambda-Runtime-Function-Error-Type": body["errorType"]})


def init_failure(message, error_type):
    body = {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": []}
    print(f"[ERROR] {error_type}: {message}", flush=True)
    post_error("/init/error", body)
    sys.exit(1)


class Context:
    def __init__(self, headers):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        cc = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = json.loads(cc) if cc else None
        ci = headers.get("Lambda-Runtime-Cognito-Identity")
        self.identity = json.loads(ci) if ci else None

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def load_handler():
    handler = os.environ.get("_HANDLER", "")
    module_path, _, func_name = handler.rpartition(".")
    if not module_path or not func_name:
        init_failure(f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
                     "Runtime.MalformedHandlerName")
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    try:
        module = importlib.import_module(module_path.replace("/", "."))
    except ImportError as e:
        message = f"Unable to import module '{module_path}': {e}"
        if getattr(e, "name", "") in ("boto3", "botocore"):
            message += (" (AWS's python runtimes include boto3; install it for the interpreter "
                        "CloudEmu runs, or choose one that has it with --lambda-python)")
        init_failure(message, "Runtime.ImportModuleError")
    except SyntaxError as e:
        init_failure(f"Syntax error in module '{module_path}': {e}", "Runtime.UserCodeSyntaxError")
    except Exception as e:
        init_failure(f"{type(e).__name__}: {e}", "Runtime.Unknown")
    func = getattr(module, func_name, None)
    if func is None:
        init_failure(f"Handler '{func_name}' missing on module '{module_path}'",
                     "Runtime.HandlerNotFound")
    return func


def main():
    func = load_handler()
    while True:
        resp, body = request("GET", "/invocation/next")
        headers = {k: v for k, v in resp.getheaders()}
        # http.client keeps the header names as sent; look them up case-insensitively.
        headers = {k.title(): v for k, v in headers.items()}
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")
        ctx = Context(headers)
        try:
            event = json.loads(body) if body else {}
            result = func(event, ctx)
            out = json.dumps(result).encode()
        except Exception as e:
            err = error_body(e)
            err["requestId"] = request_id
            print(f"[ERROR] {err['errorType']}: {err['errorMessage']}", flush=True)
            post_error(f"/invocation/{request_id}/error", err)
            continue
        sys.stdout.flush()
        request("POST", f"/invocation/{request_id}/response", out)


main()
