//! One pipeline for every AWS request: route → identity → operation → parse → validate → call
//! the service → serialize → one log line.

use super::identity;
use super::route::{self, RequestInfo, ServiceRoute};
use crate::registry::ServiceState;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use cloudemu_core::RequestContext;
use cloudemu_protocol::{
    query, rest, validate, Headers, Operation, Protocol, ProtocolError, ResponseMeta, ServiceModel,
    WireError,
};
use futures_util::{FutureExt, StreamExt};
use std::time::Instant;
use tracing::Instrument;

/// Largest non-streaming request body we accept (DynamoDB's BatchWriteItem allows 16 MB).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Largest form (query-protocol) body: AWS's largest query inputs (IAM policies, SQS batches)
/// stay well under 2 MiB once URL-encoded.
const MAX_FORM_BODY: usize = 4 * 1024 * 1024;

pub async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let request_id = uuid::Uuid::new_v4().to_string();
    // The span carries the request id into every log line a request causes; the summary line
    // below carries the rest.
    let span = tracing::info_span!("request", request_id = %request_id);
    let started = Instant::now();
    async move {
        // A bug must cost one request a 500, never the connection or the worker.
        let outcome =
            match std::panic::AssertUnwindSafe(process(&req, payload, &state, &request_id))
                .catch_unwind()
                .await
            {
                Ok(o) => o,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(panic = %what, "request handler panicked");
                    Outcome {
                        service: "-",
                        operation: None,
                        account: None,
                        region: None,
                        response: plain_error(
                            500,
                            "InternalFailure",
                            cloudemu_core::error::INTERNAL_FAILURE_MESSAGE,
                            &request_id,
                        ),
                    }
                }
            };
        let status = outcome.response.status.as_u16();
        tracing::info!(
            request_id = %request_id,
            service = outcome.service,
            operation = outcome.operation.as_deref().unwrap_or("-"),
            account = outcome.account.as_deref().unwrap_or("-"),
            region = outcome.region.as_deref().unwrap_or("-"),
            status,
            duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
            "{} {}",
            req.method(),
            req.path(),
        );
        outcome.response.into_actix()
    }
    .instrument(span)
    .await
}

/// What happened to a request, for the log line.
struct Outcome {
    service: &'static str,
    operation: Option<String>,
    account: Option<String>,
    region: Option<String>,
    response: Reply,
}

/// A response on its way out.
struct Reply {
    status: actix_web::http::StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// A streaming payload (S3 GetObject), sent instead of `body`.
    stream: Option<cloudemu_core::ByteStream>,
}

impl Reply {
    fn from_protocol(r: cloudemu_protocol::HttpResponse) -> Self {
        Self {
            status: actix_web::http::StatusCode::from_u16(r.status)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
            headers: r.headers,
            body: r.body,
            stream: None,
        }
    }

    fn into_actix(mut self) -> HttpResponse {
        use actix_web::http::StatusCode;
        // HTTP semantics, not any one service's: a Content-Range on a success is a partial
        // answer (206), and a 304 carries no body.
        if self.status == StatusCode::OK
            && self
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-range"))
        {
            self.status = StatusCode::PARTIAL_CONTENT;
        }
        if self.status == StatusCode::NOT_MODIFIED {
            self.body.clear();
            self.stream = None;
            self.headers.retain(|(k, _)| {
                !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("content-type")
            });
        }
        let mut b = HttpResponse::build(self.status);
        let mut length: Option<u64> = None;
        for (k, v) in self.headers {
            // actix writes Content-Length itself from the body's size.
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok();
                continue;
            }
            b.append_header((k, v));
        }
        match (self.stream, length) {
            (Some(stream), Some(len)) => b.body(actix_web::body::SizedStream::new(len, stream)),
            (Some(stream), None) => b.streaming(stream),
            // A HEAD answer: the length of what a GET would send, and no body (actix sends
            // none for HEAD).
            (None, Some(len)) if self.body.is_empty() && len > 0 => {
                b.body(actix_web::body::SizedStream::new(
                    len,
                    futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>(),
                ))
            }
            (None, _) => b.body(self.body),
        }
    }
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or(host);
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        if body.len() + chunk.len() > limit {
            return Err(format!("request body exceeds {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn process(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    request_id: &str,
) -> Outcome {
    let headers = Headers(
        req.headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    );
    let host_header = headers
        .get("host")
        .map(str::to_string)
        .unwrap_or_else(|| req.connection_info().host().to_string());
    // The raw path and query, exactly as sent: never normalised.
    let path = req.uri().path().to_string();
    let query_string = req.uri().query().unwrap_or("").to_string();
    let info = RequestInfo {
        method: req.method().as_str(),
        path: &path,
        query: &query_string,
        headers: &headers,
        host: host_without_port(&host_header),
    };
    let meta = ResponseMeta { request_id };
    let mut outcome = Outcome {
        service: "-",
        operation: None,
        account: None,
        region: None,
        response: Reply {
            status: actix_web::http::StatusCode::OK,
            headers: vec![],
            body: vec![],
            stream: None,
        },
    };

    // A host a service owns (Lambda function URLs): the whole request is the service's.
    if let Some(svc) = state.registry.hosted(info.host) {
        outcome.service = svc.id();
        outcome.operation = Some("HostedRequest".into());
        let body = match read_body(payload, MAX_BODY).await {
            Ok(b) => b,
            Err(msg) => {
                outcome.response = plain_error(413, "RequestEntityTooLarge", &msg, request_id);
                return outcome;
            }
        };
        let hosted = cloudemu_core::HostedRequest {
            request_id: request_id.to_string(),
            host: host_header.clone(),
            method: info.method.to_string(),
            path: path.clone(),
            query: query_string.clone(),
            headers: headers
                .0
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            body: body.into(),
            source_ip: req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            protocol: format!("{:?}", req.version()),
        };
        let r = svc.serve_hosted(hosted).await;
        outcome.response = Reply {
            status: actix_web::http::StatusCode::from_u16(r.status)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
            headers: r.headers,
            body: r.body.to_vec(),
            stream: None,
        };
        return outcome;
    }

    // Form posts (query protocol) carry the action in the body, which routing may need.
    // Query-protocol calls are POSTs; an S3 upload whose object happens to have this content
    // type (curl's default) is a body to store, not a form to read.
    // Read once: routing, the S3 form check and the caller's identity all need it.
    let scope = route::credential_scope(&info);
    let signed_for_s3 = scope.as_ref().is_some_and(|s| s.service == "s3");
    let is_form = info.method.eq_ignore_ascii_case("POST")
        && !signed_for_s3
        && headers
            .get("content-type")
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let mut body: Option<Vec<u8>> = None;
    let mut payload = Some(payload);
    if let Some(p) = payload.take_if(|_| is_form) {
        match read_body(p, MAX_FORM_BODY).await {
            Ok(b) => body = Some(b),
            Err(msg) => {
                outcome.response = plain_error(413, "RequestEntityTooLarge", &msg, request_id);
                return outcome;
            }
        }
    }
    let form: Option<Vec<(String, String)>> = if is_form || query_string.contains("Action=") {
        let mut f = query::decode_form(&query_string);
        if let Some(b) = &body {
            f.extend(query::decode_form(&String::from_utf8_lossy(b)));
        }
        Some(f)
    } else {
        None
    };

    let ServiceRoute { service, protocol } =
        match route::route(&info, form.as_deref(), scope.as_ref()) {
            Ok(r) => r,
            Err(u) => {
                outcome.response = unrecognized(&info, &u.description, request_id);
                return outcome;
            }
        };
    outcome.service = service;
    // Virtual-hosted S3 requests become path-style: the model's URIs start with the bucket.
    let hosted_path;
    let info = match super::s3_host::bucket_of_host(info.host, &state.config.s3_hostnames) {
        Some(bucket) if service == "s3" => {
            hosted_path = super::s3_host::path_style(bucket, &path);
            RequestInfo {
                path: &hosted_path,
                ..info
            }
        }
        _ => info,
    };
    let ident = identity::resolve(
        scope.as_ref(),
        &state.config.account_id,
        &state.config.region,
    );
    outcome.account = Some(ident.account_id.clone());
    outcome.region = Some(ident.region.clone());

    let Some(model) = state.registry.model_for(service, protocol) else {
        outcome.response = plain_error(
            500,
            "InternalFailure",
            "service model unavailable",
            request_id,
        );
        return outcome;
    };
    let fail = |err: WireError| {
        Reply::from_protocol(cloudemu_protocol::serialize_error(
            &model, protocol, &err, meta,
        ))
    };

    // Browsers' CORS preflights for S3 buckets are answered from the bucket's configuration.
    let cors_config = if service == "s3" && headers.get("origin").is_some() {
        // Boxed: inline, its store read would size every request's future, held or not.
        Box::pin(cors_config_of(state, info.path)).await
    } else {
        None
    };
    if service == "s3" && info.method.eq_ignore_ascii_case("OPTIONS") {
        use super::s3_cors::Preflight;
        outcome.operation = Some("PreflightRequest".into());
        outcome.response = match super::s3_cors::preflight(
            cors_config.as_ref(),
            headers.get("origin"),
            headers.get("access-control-request-method"),
            headers.get("access-control-request-headers"),
        ) {
            Preflight::Allowed(h) => Reply {
                status: actix_web::http::StatusCode::OK,
                headers: h,
                body: Vec::new(),
                stream: None,
            },
            Preflight::Forbidden(msg) => fail(wire("AccessForbidden", 403, true, msg.into())),
            Preflight::Incomplete(msg) => fail(wire("BadRequest", 400, true, msg.into())),
        };
        return outcome;
    }

    // A presigned URL works only until it expires.
    if query_string.contains("X-Amz-Expires") {
        let params = rest::parse_query(&query_string);
        if let Err(e) = super::presign::check(&params, chrono::Utc::now()) {
            outcome.response = fail(from_service_error(*e));
            return outcome;
        }
    }

    // Which operation.
    let op: &Operation = match find_operation(&model, protocol, &info, form.as_deref()) {
        Ok(op) => op,
        Err(err) => {
            outcome.response = fail(*err);
            return outcome;
        }
    };
    outcome.operation = Some(op.name.clone());

    let svc = match state.registry.state(service) {
        ServiceState::Running => state
            .registry
            .service(service)
            .filter(|s| s.operations().contains(&op.name.as_str())),
        ServiceState::NotImplemented => None,
        ServiceState::Disabled => {
            outcome.response = fail(wire(
                "NotImplemented",
                501,
                false,
                format!("Service {service} is not enabled in this CloudEmu (see --services / CLOUDEMU_SERVICES)"),
            ));
            return outcome;
        }
    };
    let Some(svc) = svc else {
        outcome.response = fail(from_service_error(
            cloudemu_core::ServiceError::not_implemented(service, &op.name),
        ));
        return outcome;
    };

    let mut stream_body = cloudemu_core::Body::Empty;
    let mut trailer = cloudemu_core::Trailer::default();
    // The headers the operation is parsed from: for aws-chunked bodies, without the framing.
    let mut parse_headers = headers.clone();
    if cloudemu_protocol::streaming_input_member(&model, op).is_some() {
        let members = super::payload::header_members(&model, op);
        trailer = super::payload::announced_trailer(&headers, &members);
        // A body already read for routing (an unsigned form-typed POST) is still the payload.
        if let Some(b) = body.take() {
            stream_body = cloudemu_core::Body::Bytes(b.into());
        }
        if let Some(p) = payload.take() {
            stream_body = cloudemu_core::Body::Stream(super::payload::decode(
                &headers,
                super::body::bridge(p),
                trailer.clone(),
                members,
            ));
        }
        // `aws-chunked` describes the transfer, never the stored object.
        super::payload::strip_aws_chunked(&mut parse_headers);
        if super::payload::is_aws_chunked(&headers) {
            // Content-Length counts the framing; the payload is the decoded length.
            parse_headers
                .0
                .retain(|(k, _)| !k.eq_ignore_ascii_case("content-length"));
            if let Some(n) = super::payload::decoded_length(&headers) {
                parse_headers
                    .0
                    .push(("content-length".into(), n.to_string()));
            }
        }
    }
    let body = match (body, payload) {
        (Some(b), _) => b,
        (None, Some(p)) => match read_body(p, MAX_BODY).await {
            Ok(b) => b,
            Err(msg) => {
                outcome.response = plain_error(413, "RequestEntityTooLarge", &msg, request_id);
                return outcome;
            }
        },
        (None, None) => Vec::new(),
    };
    let http = cloudemu_protocol::HttpRequest {
        method: info.method,
        path: info.path,
        query: &query_string,
        headers: &parse_headers,
        body: &body,
    };
    let input = match cloudemu_protocol::parse_request(&model, protocol, op, &http) {
        Ok(v) => with_url_member(&model, protocol, v, &host_header, &path),
        Err(e) => {
            outcome.response = fail(malformed(&model, protocol, e));
            return outcome;
        }
    };
    if let Some(missing) = missing_parameter(&model, op, &input) {
        outcome.response = fail(missing);
        return outcome;
    }
    let violations = validate::validate_input(&model, op, &input);
    if !violations.is_empty() {
        let code = model
            .overlay
            .validation_error_code
            .as_deref()
            .unwrap_or("ValidationException");
        outcome.response = fail(wire(code, 400, true, validate::message(&violations)));
        return outcome;
    }

    let ctx = RequestContext {
        request_id: request_id.to_string(),
        account_id: ident.account_id,
        region: ident.region,
        access_key_id: ident.access_key_id,
        host: host_header.clone(),
        operation: op.name.clone(),
    };
    let chunked_transfer = headers.get("transfer-encoding").is_some_and(|v| {
        v.split(',')
            .any(|c| c.trim().eq_ignore_ascii_case("chunked"))
    });
    let request = cloudemu_core::ServiceRequest {
        input,
        body: stream_body,
        trailer,
        chunked_transfer,
    };
    // A call may be held for long (SQS long polls, 20 s): what it does not need is freed
    // before it starts, not kept per waiting connection.
    let method = req.method().as_str();
    let origin = cors_config
        .as_ref()
        .and(headers.get("origin"))
        .map(str::to_string);
    drop((
        body,
        form,
        parse_headers,
        headers,
        query_string,
        path,
        host_header,
    ));
    outcome.response = match svc.call(&ctx, &op.name, request).await {
        Ok(resp) => {
            let mut reply = Reply::from_protocol(cloudemu_protocol::serialize_output_encoded(
                &model,
                protocol,
                op,
                &resp.output,
                &resp.encoded,
                meta,
            ));
            for (name, value) in resp.headers {
                reply
                    .headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
                reply.headers.push((name, value));
            }
            match resp.body {
                cloudemu_core::Body::Empty => {}
                cloudemu_core::Body::Bytes(b) => reply.body = b.to_vec(),
                cloudemu_core::Body::Stream(s) => reply.stream = Some(s),
            }
            reply
        }
        Err(e) => fail(from_service_error(e)),
    };
    if let (Some(config), Some(origin)) = (&cors_config, origin) {
        outcome
            .response
            .headers
            .extend(super::s3_cors::actual(config, &origin, method));
    }
    outcome
}

/// The first required top-level member the input lacks, as the service's own missing-parameter
/// error, for services whose overlay names one.
pub(crate) fn missing_parameter(
    model: &ServiceModel,
    op: &Operation,
    input: &serde_json::Value,
) -> Option<WireError> {
    let code = model.overlay.missing_parameter_code.as_deref()?;
    let shape = model.shape(&op.input.as_ref()?.shape)?;
    let absent = shape
        .required
        .iter()
        .find(|m| input.get(m.as_str()).is_none_or(serde_json::Value::is_null))?;
    Some(wire(
        code,
        400,
        true,
        format!("The request must contain the parameter {absent}."),
    ))
}

/// Old query clients post to a resource's URL instead of naming it in a parameter (SQS's
/// `POST /<account>/<queue>` without `QueueUrl`); the overlay names that member.
fn with_url_member(
    model: &ServiceModel,
    protocol: Protocol,
    mut input: serde_json::Value,
    host: &str,
    path: &str,
) -> serde_json::Value {
    let Some(member) = model.overlay.query_url_member.as_deref() else {
        return input;
    };
    if protocol != Protocol::Query || path.trim_matches('/').is_empty() {
        return input;
    }
    if let Some(obj) = input.as_object_mut() {
        obj.entry(member)
            .or_insert_with(|| serde_json::Value::String(format!("http://{host}{path}")));
    }
    input
}

/// The CORS configuration of the bucket a path names, if it has one.
/// The bucket's CORS configuration, asked of the S3 service (which owns its storage).
async fn cors_config_of(state: &AppState, path: &str) -> Option<serde_json::Value> {
    let bucket = super::s3_cors::bucket_of_path(path)?;
    let s3 = state.registry.service("s3")?.as_any()?;
    s3.downcast_ref::<cloudemu_s3::S3>()?
        .cors_configuration(&bucket)
        .await
}

fn wire(code: &str, status: u16, sender_fault: bool, message: String) -> WireError {
    WireError {
        code: code.to_string(),
        message,
        status,
        sender_fault,
        fields: Default::default(),
    }
}

fn from_service_error(e: cloudemu_core::ServiceError) -> WireError {
    WireError {
        code: e.code,
        message: e.message,
        status: e.status,
        sender_fault: e.sender_fault,
        fields: e.fields,
    }
}

fn malformed(model: &ServiceModel, protocol: Protocol, e: ProtocolError) -> WireError {
    let msg = e.to_string();
    match protocol {
        Protocol::Json => wire("SerializationException", 400, true, msg),
        Protocol::Query => wire("MalformedQueryString", 400, true, msg),
        // A body that is not XML has its own code; a bad parameter is a validation error.
        _ if msg.starts_with("malformed XML") && model.overlay.malformed_error_code.is_some() => {
            wire(
                model
                    .overlay
                    .malformed_error_code
                    .as_deref()
                    .unwrap_or_default(),
                400,
                true,
                msg,
            )
        }
        _ => wire(
            model
                .overlay
                .validation_error_code
                .as_deref()
                .unwrap_or("ValidationException"),
            400,
            true,
            msg,
        ),
    }
}

fn find_operation<'m>(
    model: &'m ServiceModel,
    protocol: Protocol,
    info: &RequestInfo<'_>,
    form: Option<&[(String, String)]>,
) -> Result<&'m Operation, Box<WireError>> {
    let param =
        |name: &str| form.and_then(|f| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
    let found = match protocol {
        Protocol::Query => {
            let Some(action) = param("Action") else {
                return Err(Box::new(wire(
                    "MissingAction",
                    400,
                    true,
                    "Missing Action".into(),
                )));
            };
            model.operation(&action).ok_or_else(|| {
                let version =
                    param("Version").unwrap_or_else(|| model.metadata.api_version.clone());
                wire(
                    "InvalidAction",
                    400,
                    true,
                    format!("Could not find operation {action} for version {version}"),
                )
            })
        }
        Protocol::Json => {
            let target = info.headers.get("x-amz-target").unwrap_or("");
            let name = target.rsplit('.').next().unwrap_or("");
            model.operation(name).ok_or_else(|| {
                wire(
                    "UnknownOperationException",
                    400,
                    true,
                    format!("Unknown operation {target}"),
                )
            })
        }
        Protocol::RestJson | Protocol::RestXml => {
            // Headers decide between operations on the same URI (CopyObject vs PutObject).
            let req = cloudemu_protocol::HttpRequest {
                method: info.method,
                path: info.path,
                query: info.query,
                headers: info.headers,
                body: &[],
            };
            rest::match_request(model, &req)
                .map(|(op, _)| op)
                .ok_or_else(|| {
                    wire(
                        "NotImplemented",
                        501,
                        false,
                        format!(
                            "CloudEmu does not recognise {} {} as an operation of {}",
                            info.method,
                            info.path,
                            model
                                .metadata
                                .service_id
                                .as_deref()
                                .unwrap_or("this service")
                        ),
                    )
                })
        }
    };
    found.map_err(Box::new)
}

/// An error before any service is known: JSON for JSON-looking requests, XML otherwise.
fn unrecognized(info: &RequestInfo<'_>, what: &str, request_id: &str) -> Reply {
    let message = format!("CloudEmu cannot tell which AWS service this request is for ({what})");
    plain_error_for(
        info.headers,
        400,
        "UnrecognizedService",
        &message,
        request_id,
    )
}

fn plain_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    plain_error_for(&Headers::default(), status, code, message, request_id)
}

fn plain_error_for(
    headers: &Headers,
    status: u16,
    code: &str,
    message: &str,
    request_id: &str,
) -> Reply {
    let json = headers.get("x-amz-target").is_some()
        || headers
            .get("content-type")
            .is_some_and(|c| c.contains("json"));
    let (ct, body) = if json {
        (
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": code, "message": message}).to_string(),
        )
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                cloudemu_protocol::xml::escape(code),
                cloudemu_protocol::xml::escape(message),
                request_id
            ),
        )
    };
    Reply {
        status: actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
        headers: vec![
            ("Content-Type".into(), ct.into()),
            ("x-amzn-RequestId".into(), request_id.into()),
        ],
        body: body.into_bytes(),
        stream: None,
    }
}
