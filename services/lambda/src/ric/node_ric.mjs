// CloudEmu's runtime interface client for nodejs functions: speaks the Lambda Runtime API to
// the endpoint in AWS_LAMBDA_RUNTIME_API, as AWS's own node runtime does.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: PORT, method, path: "/2018-06-01/runtime" + p, agent, headers },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDoc(e, type) {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    errorType: type || err.name || "Error",
    errorMessage: err.message,
    trace: (err.stack || "").split("\n"),
  };
}

async function postError(p, doc) {
  await request("POST", p, JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
}

async function initFailure(message, type) {
  console.error(`${type}: ${message}`);
  await postError("/init/error", { errorType: type, errorMessage: message, trace: [] });
  process.exit(1);
}

async function loadHandler() {
  const handler = process.env._HANDLER || "";
  const dot = handler.lastIndexOf(".");
  if (dot <= 0) return initFailure(`Bad handler ${handler}`, "Runtime.MalformedHandlerName");
  const modPath = handler.slice(0, dot);
  const fnName = handler.slice(dot + 1);
  const base = path.resolve(process.env.LAMBDA_TASK_ROOT, modPath);
  const file = [".js", ".mjs", ".cjs"].map((e) => base + e).find((f) => fs.existsSync(f));
  if (!file) {
    return initFailure(`Error: Cannot find module '${modPath}'`, "Runtime.ImportModuleError");
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    let message = `${e.name}: ${e.message}`;
    if (/@aws-sdk\//.test(e.message)) {
      message += " (AWS's nodejs runtimes include the AWS SDK for JavaScript v3; install it " +
        "where node can resolve it, e.g. NODE_PATH, or choose a node with --lambda-node)";
    }
    return initFailure(message, "Runtime.ImportModuleError");
  }
  const fn = mod[fnName] ?? mod.default?.[fnName];
  if (typeof fn !== "function") {
    return initFailure(`${modPath}.${fnName} is undefined or not exported`, "Runtime.HandlerNotFound");
  }
  return fn;
}

function invokeHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err ? reject(err) : resolve(result));
    try {
      const r = fn(event, context, callback);
      if (r && typeof r.then === "function") r.then(resolve, reject);
      else if (fn.length < 3) resolve(r);
    } catch (e) {
      reject(e);
    }
  });
}

const fn = await loadHandler();
for (;;) {
  const next = await request("GET", "/invocation/next");
  const h = next.headers;
  const id = h["lambda-runtime-aws-request-id"];
  const deadline = Number(h["lambda-runtime-deadline-ms"] || 0);
  process.env._X_AMZN_TRACE_ID = h["lambda-runtime-trace-id"] || "";
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: h["lambda-runtime-invoked-function-arn"],
    awsRequestId: id,
    clientContext: h["lambda-runtime-client-context"]
      ? JSON.parse(h["lambda-runtime-client-context"]) : undefined,
    identity: h["lambda-runtime-cognito-identity"]
      ? JSON.parse(h["lambda-runtime-cognito-identity"]) : undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
  try {
    const event = next.body.length ? JSON.parse(next.body.toString()) : {};
    const result = await invokeHandler(fn, event, context);
    await request("POST", `/invocation/${id}/response`, JSON.stringify(result ?? null), {
      "Content-Type": "application/json",
    });
  } catch (e) {
    const doc = errorDoc(e);
    console.error(`ERROR\t${doc.errorType}: ${doc.errorMessage}`);
    await postError(`/invocation/${id}/error`, doc);
  }
}
