//! The Lambda Runtime API one execution environment talks to (`AWS_LAMBDA_RUNTIME_API`):
//! `/2018-06-01/runtime/invocation/next`, `/invocation/{id}/response`, `/invocation/{id}/error`
//! and `/init/error`, with the headers AWS sends. Served with hyper on the shared Tokio runtime,
//! on 127.0.0.1 only.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Largest response or error document a function may post (Lambda's 6 MB payload limit).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// One invocation handed to the runtime.
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub function_arn: String,
    pub timeout_ms: u64,
    pub client_context: Option<String>,
    /// The caller's Cognito identity (`{"cognitoIdentityId": …, "cognitoIdentityPoolId": …}`),
    /// when the invocation carries one.
    pub cognito_identity: Option<String>,
    pub reply: oneshot::Sender<Outcome>,
    /// Told when the runtime takes the invocation: its timeout runs from then, not from a
    /// cold start.
    pub picked: oneshot::Sender<()>,
}

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// The function reported an error (`/invocation/{id}/error`): the error document.
    FunctionError(Bytes),
    /// Initialisation failed (`/init/error`) or the runtime died: the error document.
    RuntimeError(Bytes),
}

#[derive(Default)]
struct State {
    /// The invocation the runtime is working on.
    in_flight: Option<(String, oneshot::Sender<Outcome>)>,
    /// What the runtime reported through `/init/error`.
    init_error: Option<Bytes>,
}

/// The endpoint's shared state; the environment keeps it to settle invocations when the
/// process dies.
pub struct RuntimeApi {
    queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    state: Mutex<State>,
    /// Dropped with the API: the accept loop then ends and the port is released.
    _closed: oneshot::Sender<()>,
}

impl RuntimeApi {
    /// Settle the in-flight and queued invocations after the process ended.
    pub fn process_exited(&self, exit_error: impl Fn(&str) -> Bytes) {
        let (in_flight, init_error) = match self.state.lock() {
            Ok(mut s) => (s.in_flight.take(), s.init_error.take()),
            Err(_) => (None, None),
        };
        let outcome = |id: &str| match &init_error {
            Some(doc) => Outcome::RuntimeError(doc.clone()),
            None => Outcome::RuntimeError(exit_error(id)),
        };
        if let Some((id, reply)) = in_flight {
            let _ = reply.send(outcome(&id));
        }
        if let Ok(mut q) = self.queue.try_lock() {
            while let Ok(inv) = q.try_recv() {
                let _ = inv.reply.send(outcome(&inv.request_id));
            }
        }
    }

    /// The error the runtime reported while initialising, if it did.
    pub fn init_error(&self) -> Option<Bytes> {
        self.state.lock().ok().and_then(|s| s.init_error.clone())
    }
}

/// Bind a Runtime API endpoint on 127.0.0.1; invocations sent to the returned channel are
/// served to the runtime's `next` calls.
pub async fn serve() -> std::io::Result<(SocketAddr, mpsc::Sender<Invocation>, Arc<RuntimeApi>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(1024);
    let (closed_tx, mut closed_rx) = oneshot::channel();
    let api = Arc::new(RuntimeApi {
        queue: tokio::sync::Mutex::new(rx),
        state: Mutex::new(State::default()),
        _closed: closed_tx,
    });
    let weak = Arc::downgrade(&api);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = &mut closed_rx => return,
            };
            let Ok((stream, _)) = accepted else {
                // Out of descriptors or similar: back off rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            // The endpoint lives as long as its environment.
            let Some(api) = weak.upgrade() else {
                return;
            };
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let api = api.clone();
                    async move { Ok::<_, Infallible>(handle(&api, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok((addr, tx, api))
}

type Reply = Response<Full<Bytes>>;

fn json(status: StatusCode, body: &str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn accepted() -> Reply {
    json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn error(status: StatusCode, kind: &str, message: &str) -> Reply {
    let body = serde_json::json!({"errorMessage": message, "errorType": kind}).to_string();
    json(status, &body)
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, Reply> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_RESPONSE);
    match limited.collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(_) => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            "The response payload exceeds the 6291556 byte limit",
        )),
    }
}

async fn handle(api: &RuntimeApi, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return error(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (req.method().clone(), parts.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(api).await,
        (Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
            let (id, is_error) = (id.to_string(), *kind == "error");
            let body = match read_body(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let pending = api.state.lock().ok().and_then(|mut s| match &s.in_flight {
                Some((current, _)) if *current == id => s.in_flight.take(),
                _ => None,
            });
            match pending {
                Some((_, reply)) => {
                    let _ = reply.send(if is_error {
                        Outcome::FunctionError(body)
                    } else {
                        Outcome::Response(body)
                    });
                    accepted()
                }
                None => error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestID",
                    "Invalid request ID",
                ),
            }
        }
        (Method::POST, ["init", "error"]) => {
            let body = read_body(req).await.unwrap_or_default();
            if let Ok(mut s) = api.state.lock() {
                s.init_error = Some(body);
            }
            accepted()
        }
        _ => error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
    }
}

/// Wait for the next invocation and hand it over with AWS's headers.
async fn next(api: &RuntimeApi) -> Reply {
    let inv = {
        let mut q = api.queue.lock().await;
        q.recv().await
    };
    let Some(inv) = inv else {
        return error(
            StatusCode::GONE,
            "Shutdown",
            "the environment is shutting down",
        );
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut r = Response::new(Full::new(inv.payload));
    let h = r.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = hyper::header::HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("content-type", "application/json");
    set("lambda-runtime-aws-request-id", &inv.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &(now_ms + inv.timeout_ms).to_string(),
    );
    set("lambda-runtime-invoked-function-arn", &inv.function_arn);
    set(
        "lambda-runtime-trace-id",
        &format!(
            "Root=1-{:08x}-{};Parent={};Sampled=0",
            now_ms / 1000,
            &uuid::Uuid::new_v4().simple().to_string()[..24],
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        ),
    );
    if let Some(cc) = &inv.client_context {
        set("lambda-runtime-client-context", cc);
    }
    if let Some(ci) = &inv.cognito_identity {
        set("lambda-runtime-cognito-identity", ci);
    }
    let _ = inv.picked.send(());
    if let Ok(mut s) = api.state.lock() {
        s.in_flight = Some((inv.request_id, inv.reply));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn next_headers(addr: SocketAddr) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(
            b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out.to_ascii_lowercase()
    }

    fn invocation(cognito: Option<&str>) -> Invocation {
        Invocation {
            request_id: "req-1".into(),
            payload: Bytes::from_static(b"{}"),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            timeout_ms: 1000,
            client_context: None,
            cognito_identity: cognito.map(str::to_string),
            reply: oneshot::channel().0,
            picked: oneshot::channel().0,
        }
    }

    #[tokio::test]
    async fn next_carries_the_cognito_identity_only_when_the_invocation_has_one() {
        let (addr, tx, _api) = serve().await.expect("serve");
        let identity =
            r#"{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"us-east-1:pool"}"#;
        tx.send(invocation(Some(identity))).await.expect("queue");
        let with = next_headers(addr).await;
        assert!(
            with.contains("lambda-runtime-aws-request-id: req-1"),
            "{with}"
        );
        assert!(
            with.contains(&format!(
                "lambda-runtime-cognito-identity: {}",
                identity.to_ascii_lowercase()
            )),
            "{with}"
        );
        tx.send(invocation(None)).await.expect("queue");
        let without = next_headers(addr).await;
        assert!(
            !without.contains("lambda-runtime-cognito-identity"),
            "{without}"
        );
    }
}
