//! botocore's protocol test fixtures, run in reverse: we are the server.
//!
//! Input cases: the `serialized` HTTP request is parsed and must yield `params`.
//! Output cases: `result` (or the error) is serialized and must read, as a client would read it,
//! like `response`: same status, expected headers present with equal values, equal body tree.
//!
//! Run with `-- --nocapture` to see the per-protocol summary and failing case ids. Each
//! protocol/direction must pass at least its floor (a ratchet: raise floors as things improve).

use base64::Engine;
use cloudemu_protocol::timestamp;
use cloudemu_protocol::xml::{self, Element};
use cloudemu_protocol::{
    parse_request, rest, serialize_error, serialize_output, Headers, HttpRequest, Protocol,
    ResponseMeta, ServiceModel, ShapeRef, ShapeType, WireError,
};
use serde_json::{json, Map, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/botocore");
const REQUEST_ID: &str = "foo-id";

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
    skipped: usize,
}

enum Outcome {
    Pass,
    Fail(String),
    Skip,
}

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{path}")).expect("fixture file");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Suite descriptions and case ids the ignore list names for `file`/`direction`.
fn ignored(file: &str, direction: &str) -> (Vec<String>, Vec<String>) {
    let list = load("protocol-tests-ignore-list.json");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    (
        strings(&list["general"][direction]["suites"]),
        strings(&list["protocols"][file][direction]["cases"]),
    )
}

fn model_for(suite: &Value, case: &Value) -> ServiceModel {
    let given = &case["given"];
    let name = given["name"].as_str().expect("operation name");
    let doc = json!({
        "metadata": suite["metadata"],
        "operations": { name: given },
        "shapes": suite["shapes"],
    });
    ServiceModel::from_json(&doc.to_string(), None).expect("suite model loads")
}

fn run(file: &str, direction: &str) -> Tally {
    let suites = load(&format!("{direction}/{file}.json"));
    let (ignored_suites, ignored_cases) = ignored(file, direction);
    let mut tally = Tally::default();
    for suite in suites.as_array().expect("suite list") {
        let description = suite["description"].as_str().unwrap_or_default();
        for case in suite["cases"].as_array().expect("cases") {
            let id = case["id"].as_str().unwrap_or("?").to_string();
            let skip = ignored_suites.iter().any(|s| s == description)
                || ignored_cases.contains(&id)
                || client_only(case);
            let outcome = if skip {
                Outcome::Skip
            } else {
                let model = model_for(suite, case);
                if direction == "input" {
                    run_input(&model, case)
                } else {
                    run_output(&model, suite, case)
                }
            };
            match outcome {
                Outcome::Pass => tally.passed += 1,
                Outcome::Skip => tally.skipped += 1,
                Outcome::Fail(why) => tally.failed.push(format!("{id}: {why}")),
            }
        }
    }
    println!(
        "{file} {direction}: {} passed, {} failed, {} skipped",
        tally.passed,
        tally.failed.len(),
        tally.skipped
    );
    for f in &tally.failed {
        println!("  FAILED {f}");
    }
    tally
}

/// Cases that only test client behaviour: host prefixes (endpoint trait), request compression,
/// idempotency-token autofill.
fn client_only(case: &Value) -> bool {
    let given = &case["given"];
    given.get("endpoint").is_some()
        || given.get("requestcompression").is_some()
        || case["id"]
            .as_str()
            .is_some_and(|id| id.contains("IdempotencyToken"))
}

fn protocol_of(model: &ServiceModel) -> Protocol {
    model.protocol()
}

fn is_rest(p: Protocol) -> bool {
    matches!(p, Protocol::RestJson | Protocol::RestXml)
}

// ---------------------------------------------------------------- input

fn run_input(model: &ServiceModel, case: &Value) -> Outcome {
    let Some(op) = model.operations.values().next() else {
        return Outcome::Fail("no operation".into());
    };
    let ser = &case["serialized"];
    let method = ser["method"].as_str().unwrap_or("POST");
    let uri = ser["uri"].as_str().unwrap_or("/");
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let headers = Headers(
        ser["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    );
    let body = ser["body"].as_str().unwrap_or("").as_bytes();
    let protocol = protocol_of(model);
    if is_rest(protocol) {
        match rest::match_operation(model, method, path, query) {
            Some((found, _)) if found.name == op.name => {}
            Some((found, _)) => return Outcome::Fail(format!("routed to {}", found.name)),
            None => return Outcome::Fail(format!("no route for {method} {uri}")),
        }
    }
    let req = HttpRequest {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    let parsed = match parse_request(model, protocol, op, &req) {
        Ok(v) => v,
        Err(e) => return Outcome::Fail(format!("parse error: {e}")),
    };
    let expected = match &op.input {
        Some(r) => normalize(model, r, &case["params"]),
        None => json!({}),
    };
    match compare(&expected, &parsed, false, "") {
        Ok(()) => Outcome::Pass,
        Err(why) => Outcome::Fail(format!(
            "{why}\n    expected {expected}\n    got      {parsed}"
        )),
    }
}

/// Fixture values -> the engine's value conventions: blobs arrive as raw strings and become
/// base64; everything else already matches.
fn normalize(model: &ServiceModel, r: &ShapeRef, v: &Value) -> Value {
    let Some(shape) = model.shape(&r.shape) else {
        return v.clone();
    };
    if shape.document {
        return v.clone();
    }
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(obj)) => Value::Object(
            obj.iter()
                .map(|(k, x)| {
                    let x = match shape.members.get(k) {
                        Some(m) => normalize(model, m, x),
                        None => x.clone(),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        (ShapeType::List, Value::Array(items)) => match shape.member.as_deref() {
            Some(m) => Value::Array(items.iter().map(|x| normalize(model, m, x)).collect()),
            None => v.clone(),
        },
        (ShapeType::Map, Value::Object(obj)) => match shape.value.as_deref() {
            Some(m) => Value::Object(
                obj.iter()
                    .map(|(k, x)| (k.clone(), normalize(model, m, x)))
                    .collect(),
            ),
            None => v.clone(),
        },
        (ShapeType::Blob, Value::String(s)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(s))
        }
        _ => v.clone(),
    }
}

/// Semantic equality: numbers numerically; an absent key equals null or an empty container
/// (a server cannot tell them apart); with `lenient`, strings that parse as the same
/// timestamp or number are equal too (wire text compared by meaning).
fn compare(expected: &Value, actual: &Value, lenient: bool, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for k in e.keys().chain(a.keys().filter(|k| !e.contains_key(*k))) {
                let p = format!("{path}.{k}");
                match (e.get(k), a.get(k)) {
                    (Some(x), Some(y)) => compare(x, y, lenient, &p)?,
                    (Some(x), None) | (None, Some(x)) if is_emptyish(x) => {}
                    (Some(_), None) => return Err(format!("{p}: missing")),
                    (None, Some(_)) => return Err(format!("{p}: unexpected")),
                    (None, None) => {}
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!("{path}: {} items, expected {}", a.len(), e.len()));
            }
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                compare(x, y, lenient, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (e, a) if leaf_eq(e, a, lenient) => Ok(()),
        (e, a) => Err(format!("{path}: {a} != expected {e}")),
    }
}

fn is_emptyish(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn leaf_eq(e: &Value, a: &Value, lenient: bool) -> bool {
    if e == a {
        return true;
    }
    if let (Some(x), Some(y)) = (e.as_f64(), a.as_f64()) {
        return (x - y).abs() <= 1e-9 * x.abs().max(1.0);
    }
    if !lenient {
        return false;
    }
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match (as_text(e), as_text(a)) {
        (Some(x), Some(y)) => text_eq(&x, &y),
        _ => false,
    }
}

/// Wire texts equal by meaning: same string, same number, or same instant.
fn text_eq(e: &str, a: &str) -> bool {
    if e == a {
        return true;
    }
    if let (Ok(x), Ok(y)) = (e.trim().parse::<f64>(), a.trim().parse::<f64>()) {
        return (x - y).abs() <= 1e-9 * x.abs().max(1.0) || (x.is_nan() && y.is_nan());
    }
    match (timestamp::parse(e), timestamp::parse(a)) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-3,
        _ => false,
    }
}

// ---------------------------------------------------------------- output

fn run_output(model: &ServiceModel, suite: &Value, case: &Value) -> Outcome {
    let Some(op) = model.operations.values().next() else {
        return Outcome::Fail("no operation".into());
    };
    let protocol = protocol_of(model);
    let expected = &case["response"];
    let request_id = expected["headers"]
        .as_object()
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| {
                    matches!(
                        k.to_ascii_lowercase().as_str(),
                        "x-amzn-requestid" | "x-amz-request-id"
                    )
                })
                .and_then(|(_, v)| v.as_str())
        })
        .unwrap_or(REQUEST_ID);
    let meta = ResponseMeta { request_id };
    let error_code = case["errorCode"].as_str();
    let resp = match error_code {
        Some(code) => {
            let err = wire_error(model, suite, case, code);
            serialize_error(model, protocol, &err, meta)
        }
        None => {
            let result = match &op.output {
                Some(r) => normalize(model, r, &case["result"]),
                None => json!({}),
            };
            serialize_output(model, protocol, op, &result, meta)
        }
    };
    let body = String::from_utf8_lossy(&resp.body).into_owned();
    let check = || -> Result<(), String> {
        let status = expected["status_code"].as_u64().unwrap_or(200);
        if u64::from(resp.status) != status {
            return Err(format!("status {} != expected {status}", resp.status));
        }
        if let Some(h) = expected["headers"].as_object() {
            for (k, v) in h {
                let k_lower = k.to_ascii_lowercase();
                let skip_error_type = error_code.is_some() && k_lower == "x-amzn-errortype";
                // A client reads no content type off an empty body.
                let no_body = resp.body.is_empty()
                    && expected["body"]
                        .as_str()
                        .is_none_or(|b| b.trim().is_empty());
                if k_lower == "content-length"
                    || skip_error_type
                    || (no_body && k_lower == "content-type")
                {
                    continue;
                }
                let want = v.as_str().unwrap_or("");
                let got = resp
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.as_str());
                match got {
                    Some(g) if header_eq(want, g) => {}
                    Some(g) => return Err(format!("header {k}: {g:?} != expected {want:?}")),
                    None => return Err(format!("header {k} missing")),
                }
            }
        }
        let want_body = expected["body"].as_str();
        match error_code {
            Some(code) => check_error(model, case, code, &resp.headers, want_body, &body),
            None => compare_bodies(model, protocol, want_body.unwrap_or(""), &body),
        }
    };
    match check() {
        Ok(()) => Outcome::Pass,
        Err(why) => Outcome::Fail(format!(
            "{why}\n    status {} headers {:?}\n    body {body}",
            resp.status, resp.headers
        )),
    }
}

/// The error a service would raise for the case: status and fault from the error shape (a
/// `fault` shape is the server's); query-compatible JSON services answer 400/500, the model's
/// status being the legacy query one.
fn wire_error(model: &ServiceModel, suite: &Value, case: &Value, code: &str) -> WireError {
    let found = model.error_shape(code);
    let shape = found.map(|(_, s)| s);
    let raw = found.map_or(&Value::Null, |(name, _)| &suite["shapes"][name]);
    let sender_fault = raw["error"]["senderFault"].as_bool().unwrap_or(false)
        || raw["fault"].as_bool() != Some(true);
    let query_compatible = model.metadata.aws_query_compatible.is_some();
    let status = raw["error"]["httpStatusCode"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .filter(|_| !query_compatible)
        .unwrap_or(if sender_fault { 400 } else { 500 });
    let err = case["error"].as_object().cloned().unwrap_or_default();
    let message = case["errorMessage"]
        .as_str()
        .or(err.get("Message").and_then(Value::as_str))
        .or(err.get("message").and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let mut fields = Map::new();
    for (k, v) in err {
        if k.eq_ignore_ascii_case("message") {
            continue;
        }
        let v = match shape.and_then(|s| s.members.get(&k)) {
            Some(m) => normalize(model, m, &v),
            None => v,
        };
        fields.insert(k, v);
    }
    WireError {
        code: code.to_string(),
        message,
        status,
        sender_fault,
        fields,
    }
}

fn header_eq(want: &str, got: &str) -> bool {
    if want == got || text_eq(want, got) {
        return true;
    }
    let split = |s: &str| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .collect::<Vec<_>>()
    };
    let (w, g) = (split(want), split(got));
    w.len() == g.len() && w.iter().zip(&g).all(|(x, y)| text_eq(x, y))
}

fn is_json_protocol(p: Protocol) -> bool {
    matches!(p, Protocol::Json | Protocol::RestJson)
}

fn compare_bodies(
    model: &ServiceModel,
    protocol: Protocol,
    want: &str,
    got: &str,
) -> Result<(), String> {
    if is_json_protocol(protocol) {
        if let Ok(w) = serde_json::from_str::<Value>(want) {
            let w = prune_output_json(model, w);
            let g: Value = match got.trim() {
                "" => json!({}),
                t => serde_json::from_str(t).map_err(|e| format!("body is not JSON: {e}"))?,
            };
            return compare(&w, &g, true, "body");
        }
        if want.trim().is_empty() {
            return match got.trim() {
                "" | "{}" => Ok(()),
                _ => Err("body should be empty".into()),
            };
        }
    } else if want.trim_start().starts_with('<') {
        let w = xml::parse(want.as_bytes()).map_err(|e| format!("fixture XML: {e}"))?;
        let g = xml::parse(got.as_bytes()).map_err(|e| format!("body XML: {e}"))?;
        return compare_elements(&w, &g, "", true);
    } else if want.trim().is_empty() && !got.trim().is_empty() {
        // An empty root element reads like no body at all.
        let g = xml::parse(got.as_bytes()).map_err(|_| "body should be empty".to_string())?;
        let meaningful = g
            .children
            .iter()
            .any(|c| !matches!(c.local_name(), "ResponseMetadata" | "RequestId"));
        return if meaningful {
            Err("body should be empty".into())
        } else {
            Ok(())
        };
    }
    if want == got {
        Ok(())
    } else {
        Err(format!("body {got:?} != expected {want:?}"))
    }
}

/// The expected JSON body as a client reads it: keys the output shape does not declare dropped.
fn prune_output_json(model: &ServiceModel, body: Value) -> Value {
    let Some(oref) = model
        .operations
        .values()
        .next()
        .and_then(|o| o.output.clone())
    else {
        // No output shape: a client reads nothing from the body.
        return json!({});
    };
    let Some(shape) = model.shape(&oref.shape) else {
        return body;
    };
    if let Some(p) = shape.payload.as_deref() {
        return match shape.members.get(p) {
            Some(m) => prune_json(model, m, body),
            None => body,
        };
    }
    prune_json(model, &oref, body)
}

fn prune_json(model: &ServiceModel, r: &ShapeRef, v: Value) -> Value {
    let Some(shape) = model.shape(&r.shape) else {
        return v;
    };
    if shape.document {
        return v;
    }
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(obj)) => Value::Object(
            obj.into_iter()
                .filter_map(|(k, x)| {
                    let m = shape.members.iter().find(|(n, m)| {
                        m.location_name.as_deref().unwrap_or(n) == k
                            && !matches!(
                                m.location.as_deref(),
                                Some("header" | "headers" | "statusCode")
                            )
                    })?;
                    Some((k, prune_json(model, m.1, x)))
                })
                .collect(),
        ),
        (ShapeType::List, Value::Array(items)) => match shape.member.as_deref() {
            Some(m) => Value::Array(items.into_iter().map(|x| prune_json(model, m, x)).collect()),
            None => Value::Array(items),
        },
        (ShapeType::Map, Value::Object(obj)) => match shape.value.as_deref() {
            Some(m) => Value::Object(
                obj.into_iter()
                    .map(|(k, x)| (k, prune_json(model, m, x)))
                    .collect(),
            ),
            None => Value::Object(obj),
        },
        (_, v) => v,
    }
}

/// Element trees equal as a client reads them: root name and namespace declarations on the root
/// ignored, children compared per name in order (members may come in any order), whitespace
/// between elements ignored, leaf text compared by meaning; request ids ignored.
fn compare_elements(e: &Element, a: &Element, path: &str, root: bool) -> Result<(), String> {
    let path = format!("{path}/{}", e.local_name());
    if !root && e.local_name() != a.local_name() {
        return Err(format!("{path}: element {} != expected", a.name));
    }
    let attrs = |el: &Element| {
        let mut v: Vec<(String, String)> = el
            .attributes
            .iter()
            .filter(|(k, _)| !(root && k.starts_with("xmlns")))
            .cloned()
            .collect();
        v.sort();
        v
    };
    if attrs(e) != attrs(a) {
        return Err(format!(
            "{path}: attributes {:?} != expected {:?}",
            attrs(a),
            attrs(e)
        ));
    }
    let kids = |el: &Element| -> Vec<Element> {
        el.children
            .iter()
            .filter(|c| !matches!(c.local_name(), "ResponseMetadata" | "RequestId" | "HostId"))
            .cloned()
            .collect()
    };
    let (ek, ak) = (kids(e), kids(a));
    if e.children.is_empty() && a.children.is_empty() {
        // An empty container reads the same whether or not it holds indentation.
        let blank = |t: &str| t.trim().is_empty();
        return if text_eq(&e.text, &a.text) || (blank(&e.text) && a.text.is_empty()) {
            Ok(())
        } else {
            Err(format!(
                "{path}: text {:?} != expected {:?}",
                a.text, e.text
            ))
        };
    }
    let mut names: Vec<&str> = ek.iter().chain(&ak).map(Element::local_name).collect();
    names.sort_unstable();
    names.dedup();
    for n in names {
        let es: Vec<&Element> = ek.iter().filter(|c| c.local_name() == n).collect();
        let as_: Vec<&Element> = ak.iter().filter(|c| c.local_name() == n).collect();
        if es.len() != as_.len() {
            return Err(format!(
                "{path}/{n}: {} elements, expected {}",
                as_.len(),
                es.len()
            ));
        }
        for (x, y) in es.iter().zip(&as_) {
            compare_elements(x, y, &path, false)?;
        }
    }
    Ok(())
}

/// Read an error as a client would: code (namespace and URI suffix stripped), message, and the
/// remaining fields; compare them with the case.
fn check_error(
    model: &ServiceModel,
    case: &Value,
    code: &str,
    headers: &[(String, String)],
    want_body: Option<&str>,
    got_body: &str,
) -> Result<(), String> {
    let sanitize = |s: &str| {
        let s = s.split(':').next().unwrap_or(s);
        s.rsplit('#').next().unwrap_or(s).to_string()
    };
    let protocol = protocol_of(model);
    // Clients read only the members the error shape declares, by their wire names.
    let members: Vec<String> = model
        .error_shape(code)
        .map(|(_, s)| {
            s.members
                .iter()
                .map(|(n, m)| m.location_name.clone().unwrap_or_else(|| n.clone()))
                .collect()
        })
        .unwrap_or_default();
    let declared = |k: &str| {
        members.iter().any(|m| m == k) && !matches!(k, "Message" | "message" | "Code" | "Type")
    };
    let want_message = case["errorMessage"].as_str();
    if is_json_protocol(protocol) {
        let body: Value = serde_json::from_str(got_body).unwrap_or_else(|_| json!({}));
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        // Query-compatible services carry the legacy code in `x-amzn-query-error: Code;Fault`.
        let got_code = header("x-amzn-query-error")
            .map(|v| v.split(';').next().unwrap_or("").to_string())
            .or_else(|| header("x-amzn-errortype"))
            .or_else(|| body["__type"].as_str().map(String::from))
            .or_else(|| body["code"].as_str().map(String::from))
            .map(|c| sanitize(&c));
        if got_code.as_deref() != Some(code) {
            return Err(format!("error code {got_code:?} != expected {code}"));
        }
        let got_message = ["message", "Message", "errorMessage"]
            .iter()
            .find_map(|k| body[*k].as_str());
        if want_message.is_some() && got_message != want_message {
            return Err(format!(
                "error message {got_message:?} != expected {want_message:?}"
            ));
        }
        let strip = |v: Value| -> Value {
            let mut o = v.as_object().cloned().unwrap_or_default();
            o.retain(|k, _| declared(k));
            Value::Object(o)
        };
        if let Some(w) = want_body.and_then(|w| serde_json::from_str::<Value>(w).ok()) {
            compare(&strip(w), &strip(body), true, "body")?;
        }
        return Ok(());
    }
    let got = xml::parse(got_body.as_bytes()).map_err(|e| format!("error body XML: {e}"))?;
    let error_el = |root: &Element| -> Element {
        if root.local_name() == "Error" {
            root.clone()
        } else {
            root.child("Error").cloned().unwrap_or_default()
        }
    };
    let g = error_el(&got);
    let got_code = g.child("Code").map(|c| c.text.clone());
    if got_code.as_deref() != Some(code) {
        return Err(format!("error code {got_code:?} != expected {code}"));
    }
    let got_message = g.child("Message").map(|c| c.text.as_str());
    if want_message.is_some() && got_message != want_message {
        return Err(format!(
            "error message {got_message:?} != expected {want_message:?}"
        ));
    }
    if let Some(w) = want_body.filter(|w| !w.trim().is_empty()) {
        let w = error_el(&xml::parse(w.as_bytes()).map_err(|e| format!("fixture XML: {e}"))?);
        let strip = |el: &Element| Element {
            children: el
                .children
                .iter()
                .filter(|c| declared(c.local_name()))
                .cloned()
                .collect(),
            text: String::new(),
            ..el.clone()
        };
        compare_elements(&strip(&w), &strip(&g), "", true)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- tests
// Floors = what passes today. Known failures, kept visible by the runner:
// - rest-json input RestJsonAllQueryStringTypes & co. expect a query-params map to also hold
//   the parameters bound to named members, while RestJsonQueryParamsStringListMap and the
//   rest-xml twins expect it not to; we follow the latter (unbound parameters only).

// Known, deliberate failures (what CloudEmu does instead, and why):
// - QueryEmptyInputAndEmptyOutput, QueryNoInputAndOutput: the fixtures expect an empty body;
//   IAM and STS really answer `<OpResponse><ResponseMetadata>…`, which is what we send.
// - QueryXmlNamespaces: we declare the nested structure's own `xmlNamespace`; botocore's
//   parser ignores namespaces, so clients read the same values.
// - AwsJson11IntEnums: the fixture expects a request header (X-Amz-Target) on the response.
// - six rest-json query-map cases contradict RestJsonQueryParamsStringListMap and the rest-xml
//   versions of the same cases; we follow the majority (see `parse_query`).

/// Run both directions for a fixture file and enforce the floors.
fn check(file: &str, input_floor: usize, output_floor: usize) {
    let input = run(file, "input");
    let output = run(file, "output");
    assert!(
        input.passed >= input_floor,
        "{file} input: {} passed, floor {input_floor}",
        input.passed
    );
    assert!(
        output.passed >= output_floor,
        "{file} output: {} passed, floor {output_floor}",
        output.passed
    );
}

#[test]
fn rest_xml() {
    check("rest-xml", 79, 72);
}

#[test]
fn rest_json() {
    check("rest-json", 93, 82);
}

#[test]
fn query() {
    check("query", 30, 33);
}

#[test]
fn json_1_1() {
    check("json", 48, 51);
}

#[test]
fn json_1_0() {
    check("json_1_0", 16, 26);
}

#[test]
fn json_1_0_query_compatible() {
    check("json_1_0-query-compatible", 1, 2);
}
