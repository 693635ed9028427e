//! Input validation from the model's constraint traits (`required`, `min`/`max`, `enum`,
//! `pattern`), worded as AWS's validation layer words it:
//! `2 validation errors detected: Value null at 'roleName' failed to satisfy constraint: Member
//! must not be null; Value '0' at 'maxItems' failed to satisfy constraint: …`.
//!
//! Services add their own rules beside their behaviour; this covers what the model states.

use crate::model::{Shape, ShapeRef, ShapeType};
use crate::path::Path;
use crate::{Operation, ServiceModel};
use base64::Engine;
use serde_json::Value;

/// AWS reports at most this many violations in one message.
const MAX_REPORTED: usize = 10;

/// Violations collected before validation stops recording (bounds work on hostile input).
const MAX_COLLECTED: usize = 100;

/// Longest rendering of a value inside a message.
const MAX_RENDERED: usize = 4096;

/// Validate an operation's input value; returns the violations in model order.
pub fn validate_input(model: &ServiceModel, op: &Operation, input: &Value) -> Vec<String> {
    let mut v = Validator {
        model,
        errors: Vec::new(),
    };
    if let Some(r) = &op.input {
        v.check(r, Some(input), &Path::Root);
    }
    v.errors
}

/// The whole message AWS sends for a list of violations.
pub fn message(errors: &[String]) -> String {
    let n = errors.len();
    let shown: Vec<&str> = errors
        .iter()
        .take(MAX_REPORTED)
        .map(String::as_str)
        .collect();
    format!(
        "{n} validation error{} detected: {}",
        if n == 1 { "" } else { "s" },
        shown.join("; ")
    )
}

struct Validator<'m> {
    model: &'m ServiceModel,
    errors: Vec<String>,
}

/// How AWS prints a value inside `Value '…' at`.
fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}={}", render(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Java regex (as written in the models) to Rust regex syntax: `\uXXXX` escapes, including the
/// models' five- and six-digit forms such as `\u10000-\u10FFFF`.
fn translate_pattern(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let chars: Vec<char> = p.chars().collect();
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let next = chars[i + 1];
            match next {
                'u' => {
                    let hex: String = chars[i + 2..]
                        .iter()
                        .take(6)
                        .take_while(|c| c.is_ascii_hexdigit())
                        .collect();
                    // Four digits is the Java form; longer runs in the models mean a
                    // supplementary code point (`\u10FFFF`).
                    let take = if hex.len() > 4
                        && u32::from_str_radix(&hex, 16).is_ok_and(|n| n > 0xFFFF && n <= 0x10FFFF)
                    {
                        hex.len()
                    } else {
                        hex.len().min(4)
                    };
                    if take >= 4 {
                        out.push_str(&format!("\\x{{{}}}", &hex[..take]));
                        i += 2 + take;
                        continue;
                    }
                }
                // Java's \w and \d are ASCII-only; Rust's are Unicode.
                'w' => {
                    out.push_str(if in_class {
                        "0-9A-Za-z_"
                    } else {
                        "[0-9A-Za-z_]"
                    });
                    i += 2;
                    continue;
                }
                'd' => {
                    out.push_str(if in_class { "0-9" } else { "[0-9]" });
                    i += 2;
                    continue;
                }
                _ => {
                    out.push(c);
                    out.push(next);
                    i += 2;
                    continue;
                }
            }
        }
        if c == '[' {
            in_class = true;
        } else if c == ']' {
            in_class = false;
        }
        out.push(c);
        i += 1;
    }
    out
}

impl Validator<'_> {
    fn fail(&mut self, value: Option<&Value>, path: &Path<'_>, constraint: String) {
        // Bound the work a hostile input can cause; AWS shows only the first few anyway.
        if self.errors.len() >= MAX_COLLECTED {
            return;
        }
        let shown = match value {
            None => "null".to_string(),
            Some(v) => {
                let mut r = render(v);
                if r.len() > MAX_RENDERED {
                    let mut cut = MAX_RENDERED;
                    while !r.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    r.truncate(cut);
                    r.push_str("...");
                }
                format!("'{r}'")
            }
        };
        self.errors.push(format!(
            "Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn check(&mut self, r: &ShapeRef, value: Option<&Value>, path: &Path<'_>) {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return;
        };
        let Some(shape) = self.model.shape(&r.shape) else {
            return;
        };
        match shape.kind {
            ShapeType::Structure => self.structure(shape, value, path),
            ShapeType::List => {
                if let Some(items) = value.as_array() {
                    self.length(shape, value, items.len(), path);
                    if let Some(m) = &shape.member {
                        for (i, item) in items.iter().enumerate() {
                            let p = Path::Element(path, i);
                            if item.is_null() {
                                self.fail(None, &p, "Member must not be null".into());
                            } else {
                                self.check(m, Some(item), &p);
                            }
                        }
                    }
                }
            }
            ShapeType::Map => {
                if let Some(map) = value.as_object() {
                    self.length(shape, value, map.len(), path);
                    for (k, item) in map {
                        if let Some(kr) = &shape.key {
                            self.check(kr, Some(&Value::String(k.clone())), &Path::MapKey(path, k));
                        }
                        if let Some(vr) = &shape.value {
                            self.check(vr, Some(item), &Path::MapValue(path, k));
                        }
                    }
                }
            }
            ShapeType::String => {
                if let Some(s) = value.as_str() {
                    self.string(shape, value, s, path);
                }
            }
            ShapeType::Blob => {
                if let Some(s) = value.as_str() {
                    let len = base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map(|b| b.len())
                        .unwrap_or(s.len());
                    self.length(shape, value, len, path);
                }
            }
            ShapeType::Integer
            | ShapeType::Long
            | ShapeType::Short
            | ShapeType::Byte
            | ShapeType::Float
            | ShapeType::Double => {
                if let Some(n) = value.as_f64() {
                    if let Some(min) = shape.min {
                        if n < min {
                            self.fail(
                                Some(value),
                                path,
                                format!(
                                    "Member must have value greater than or equal to {}",
                                    num(min)
                                ),
                            );
                        }
                    }
                    if let Some(max) = shape.max {
                        if n > max {
                            self.fail(
                                Some(value),
                                path,
                                format!(
                                    "Member must have value less than or equal to {}",
                                    num(max)
                                ),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn structure(&mut self, shape: &Shape, value: &Value, path: &Path<'_>) {
        let obj = value.as_object();
        for (name, mref) in &shape.members {
            let child = Path::Member(path, name);
            let mv = obj
                .and_then(|o| crate::get_member(o, name))
                .filter(|v| !v.is_null());
            if mv.is_none() && shape.required.iter().any(|r| r == name) {
                self.fail(None, &child, "Member must not be null".into());
                continue;
            }
            self.check(mref, mv, &child);
        }
    }

    fn length(&mut self, shape: &Shape, value: &Value, len: usize, path: &Path<'_>) {
        let len = len as f64;
        if let Some(min) = shape.min {
            if len < min {
                self.fail(
                    Some(value),
                    path,
                    format!(
                        "Member must have length greater than or equal to {}",
                        num(min)
                    ),
                );
            }
        }
        if let Some(max) = shape.max {
            if len > max {
                self.fail(
                    Some(value),
                    path,
                    format!("Member must have length less than or equal to {}", num(max)),
                );
            }
        }
    }

    fn string(&mut self, shape: &Shape, value: &Value, s: &str, path: &Path<'_>) {
        let before = self.errors.len();
        self.length(shape, value, s.chars().count(), path);
        if let Some(values) = shape
            .enum_values
            .as_ref()
            .filter(|_| !self.model.overlay.open_enums)
        {
            if !values.iter().any(|e| e == s) {
                self.fail(
                    Some(value),
                    path,
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        values.join(", ")
                    ),
                );
            }
        }
        // AWS reports the pattern only when the length is acceptable.
        if self.errors.len() == before {
            if let Some(p) = shape
                .pattern
                .as_ref()
                .filter(|p| !self.model.overlay.unenforced_patterns.contains(p))
            {
                if !self.matches(p, s) {
                    self.fail(
                        Some(value),
                        path,
                        format!("Member must satisfy regular expression pattern: {p}"),
                    );
                }
            }
        }
    }

    fn matches(&self, pattern: &str, s: &str) -> bool {
        if let Ok(cache) = self.model.patterns.read() {
            if let Some(re) = cache.get(pattern) {
                return re.as_ref().is_none_or(|re| re.is_match(s));
            }
        }
        let re = regex::Regex::new(&format!("^(?:{})$", translate_pattern(pattern))).ok();
        let ok = re.as_ref().is_none_or(|re| re.is_match(s));
        if let Ok(mut cache) = self.model.patterns.write() {
            cache.insert(pattern.to_string(), re);
        }
        ok
    }
}

fn num(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_java_unicode_escapes() {
        assert_eq!(
            translate_pattern(r"[\u0009\u0020-\u00FF]+"),
            r"[\x{0009}\x{0020}-\x{00FF}]+"
        );
        assert_eq!(
            translate_pattern(r"[\u10000-\u10FFFF]"),
            r"[\x{10000}-\x{10FFFF}]"
        );
        assert_eq!(translate_pattern(r"[\w+=,.@-]+"), r"[0-9A-Za-z_+=,.@-]+");
        assert_eq!(translate_pattern(r"\d{6}"), r"[0-9]{6}");
    }

    #[test]
    fn worded_as_aws() {
        assert_eq!(message(&["a".into()]), "1 validation error detected: a");
        assert_eq!(
            message(&["a".into(), "b".into()]),
            "2 validation errors detected: a; b"
        );
    }
}
