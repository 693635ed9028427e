//! DynamoDB's expression language: lexer, parser, AST and evaluator, plus the rules for
//! `ExpressionAttributeNames` / `ExpressionAttributeValues` (every one defined, every one used)
//! worded as AWS words them.

pub mod ast;
pub mod eval;
mod lexer;
mod parser;

use crate::errors::{DynamoError, Result};
use crate::table::{KeyDef, KeyType};
use crate::types::AttrValue;
use ast::{Comparator, Condition, Operand, Path, PathElem, Update};
use parser::Parser;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The names and values a request defines, and which of them its expressions used.
#[derive(Default)]
pub struct Refs {
    names: Option<BTreeMap<String, String>>,
    values: Option<BTreeMap<String, AttrValue>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

fn valid_ref(key: &str, sigil: char) -> bool {
    let mut chars = key.chars();
    chars.next() == Some(sigil)
        && key.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Refs {
    /// Check the maps themselves: not empty, well-formed keys, valid values.
    pub fn new(
        names: Option<&Map<String, Value>>,
        values: Option<&Map<String, Value>>,
    ) -> Result<Self> {
        let names = match names {
            None => None,
            Some(m) if m.is_empty() => {
                return Err(DynamoError::validation(
                    "ExpressionAttributeNames must not be empty",
                ))
            }
            Some(m) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    if !valid_ref(k, '#') {
                        return Err(DynamoError::validation(format!(
                            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                        )));
                    }
                    out.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
                Some(out)
            }
        };
        let values = match values {
            None => None,
            Some(m) if m.is_empty() => {
                return Err(DynamoError::validation(
                    "ExpressionAttributeValues must not be empty",
                ))
            }
            Some(m) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    if !valid_ref(k, ':') {
                        return Err(DynamoError::validation(format!(
                            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                        )));
                    }
                    let value = AttrValue::from_wire(v).map_err(|e| {
                        DynamoError::validation(format!(
                            "ExpressionAttributeValues contains invalid value: {e} for key {k}"
                        ))
                    })?;
                    out.insert(k.clone(), value);
                }
                Some(out)
            }
        };
        Ok(Self {
            names,
            values,
            ..Self::default()
        })
    }

    /// Without any expression, the maps may not be given at all.
    pub fn require_unused_absent(&self) -> Result<()> {
        if self.values.is_some() {
            return Err(DynamoError::validation(
                "ExpressionAttributeValues can only be specified when using expressions",
            ));
        }
        if self.names.is_some() {
            return Err(DynamoError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        Ok(())
    }

    pub(crate) fn name(&mut self, r: &str) -> Option<String> {
        let n = self.names.as_ref()?.get(r)?.clone();
        self.used_names.insert(r.to_string());
        Some(n)
    }

    pub(crate) fn value(&mut self, r: &str) -> Option<AttrValue> {
        let v = self.values.as_ref()?.get(r)?.clone();
        self.used_values.insert(r.to_string());
        Some(v)
    }

    /// After every expression of a request is parsed: nothing defined may go unused.
    pub fn check_all_used(&self) -> Result<()> {
        if let Some(names) = &self.names {
            let unused: Vec<&str> = names
                .keys()
                .filter(|k| !self.used_names.contains(*k))
                .map(String::as_str)
                .collect();
            if !unused.is_empty() {
                return Err(DynamoError::validation(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        if let Some(values) = &self.values {
            let unused: Vec<&str> = values
                .keys()
                .filter(|k| !self.used_values.contains(*k))
                .map(String::as_str)
                .collect();
            if !unused.is_empty() {
                return Err(DynamoError::validation(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// How AWS prints a value inside expression messages: `{N:5}`.
pub fn render_value(v: &AttrValue) -> String {
    let wire = v.to_wire();
    match wire.as_object().and_then(|m| m.iter().next()) {
        Some((t, Value::String(s))) => format!("{{{t}:{s}}}"),
        Some((t, other)) => format!("{{{t}:{other}}}"),
        None => String::new(),
    }
}

pub fn parse_condition(src: &str, label: &'static str, refs: &mut Refs) -> Result<Condition> {
    let mut p = Parser::new(src, label, refs)?;
    let c = p.condition()?;
    p.finish()?;
    Ok(c)
}

pub fn parse_projection(src: &str, refs: &mut Refs) -> Result<Vec<Path>> {
    let mut p = Parser::new(src, "ProjectionExpression", refs)?;
    let paths = p.projection()?;
    p.finish()?;
    let all: Vec<&Path> = paths.iter().collect();
    parser::check_overlaps(&all)
        .map_err(|e| DynamoError::validation(format!("Invalid ProjectionExpression: {e}")))?;
    Ok(paths)
}

pub fn parse_update(src: &str, refs: &mut Refs) -> Result<Update> {
    let mut p = Parser::new(src, "UpdateExpression", refs)?;
    let u = p.update()?;
    p.finish()?;
    Ok(u)
}

/// A Query's key condition: the partition and, optionally, a range-key condition.
#[derive(Debug, Clone)]
pub struct KeyCondition {
    pub hash: AttrValue,
    pub range: Option<RangeCondition>,
}

#[derive(Debug, Clone)]
pub enum RangeCondition {
    Compare(Comparator, AttrValue),
    Between(AttrValue, AttrValue),
    BeginsWith(AttrValue),
}

fn flatten_and(c: Condition, out: &mut Vec<Condition>) -> Result<()> {
    match c {
        Condition::And(a, b) => {
            flatten_and(*a, out)?;
            flatten_and(*b, out)
        }
        Condition::Or(..) => Err(DynamoError::validation(
            "Invalid operator used in KeyConditionExpression: OR",
        )),
        Condition::Not(..) => Err(DynamoError::validation(
            "Invalid operator used in KeyConditionExpression: NOT",
        )),
        Condition::In(..) => Err(DynamoError::validation(
            "Invalid operator used in KeyConditionExpression: IN",
        )),
        Condition::AttributeExists(_) => Err(DynamoError::validation(
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        )),
        Condition::AttributeNotExists(_) => Err(DynamoError::validation(
            "Invalid operator used in KeyConditionExpression: attribute_not_exists",
        )),
        Condition::AttributeType(..) => Err(DynamoError::validation(
            "Invalid operator used in KeyConditionExpression: attribute_type",
        )),
        Condition::Contains(..) => Err(DynamoError::validation(
            "Invalid operator used in KeyConditionExpression: contains",
        )),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

fn single_attr(p: &Path) -> Option<&str> {
    match p.as_slice() {
        [PathElem::Attr(a)] => Some(a),
        _ => None,
    }
}

fn flip(c: Comparator) -> Comparator {
    match c {
        Comparator::Lt => Comparator::Gt,
        Comparator::Le => Comparator::Ge,
        Comparator::Gt => Comparator::Lt,
        Comparator::Ge => Comparator::Le,
        other => other,
    }
}

fn type_matches(v: &AttrValue, t: KeyType) -> bool {
    crate::keys::matches_type(v, t)
}

/// Check a parsed KeyConditionExpression against the key schema and take it apart.
pub fn key_condition(c: Condition, def: &KeyDef) -> Result<KeyCondition> {
    let unsupported = || DynamoError::validation("Query key condition not supported");
    let mut parts = Vec::new();
    flatten_and(c, &mut parts)?;
    if parts.len() > 2 {
        return Err(DynamoError::validation(
            "Conditions can be of length 1 or 2 only",
        ));
    }
    let mut hash = None;
    let mut range = None;
    for part in parts {
        let (attr, cond) = match part {
            Condition::Compare(Operand::Path(p), cmp, Operand::Value(v)) => (
                single_attr(&p).map(str::to_string),
                RangeCondition::Compare(cmp, v),
            ),
            Condition::Compare(Operand::Value(v), cmp, Operand::Path(p)) => (
                single_attr(&p).map(str::to_string),
                RangeCondition::Compare(flip(cmp), v),
            ),
            Condition::Between(Operand::Path(p), Operand::Value(lo), Operand::Value(hi)) => (
                single_attr(&p).map(str::to_string),
                RangeCondition::Between(lo, hi),
            ),
            Condition::BeginsWith(Operand::Path(p), Operand::Value(v)) => (
                single_attr(&p).map(str::to_string),
                RangeCondition::BeginsWith(v),
            ),
            _ => return Err(unsupported()),
        };
        let attr = attr.ok_or_else(unsupported)?;
        if attr == def.hash.0 {
            if hash.is_some() {
                return Err(DynamoError::validation(
                    "KeyConditionExpressions must only contain one condition per key",
                ));
            }
            match cond {
                RangeCondition::Compare(Comparator::Eq, v) => {
                    if !type_matches(&v, def.hash.1) {
                        return Err(DynamoError::invalid(
                            "Condition parameter type does not match schema type",
                        ));
                    }
                    hash = Some(v);
                }
                _ => return Err(unsupported()),
            }
        } else if def.range.as_ref().is_some_and(|r| r.0 == attr) {
            if range.is_some() {
                return Err(DynamoError::validation(
                    "KeyConditionExpressions must only contain one condition per key",
                ));
            }
            let t = def.range.as_ref().map(|r| r.1).unwrap_or(KeyType::S);
            let ok = match &cond {
                RangeCondition::Compare(Comparator::Ne, _) => return Err(unsupported()),
                RangeCondition::Compare(_, v) => type_matches(v, t),
                RangeCondition::Between(lo, hi) => type_matches(lo, t) && type_matches(hi, t),
                RangeCondition::BeginsWith(v) => {
                    if t == KeyType::N {
                        return Err(DynamoError::validation(
                            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                        ));
                    }
                    type_matches(v, t)
                }
            };
            if !ok {
                return Err(DynamoError::invalid(
                    "Condition parameter type does not match schema type",
                ));
            }
            range = Some(cond);
        } else {
            return Err(unsupported());
        }
    }
    let hash = hash.ok_or_else(|| {
        DynamoError::validation(format!(
            "Query condition missed key schema element: {}",
            def.hash.0
        ))
    })?;
    Ok(KeyCondition { hash, range })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::item_from_wire;
    use serde_json::json;

    fn refs(names: Value, values: Value) -> Refs {
        Refs::new(names.as_object(), values.as_object()).expect("refs")
    }

    fn item(v: Value) -> crate::types::Item {
        item_from_wire(v.as_object().expect("object")).expect("item")
    }

    #[test]
    fn precedence_is_not_and_or() {
        let mut r = refs(
            json!(null),
            json!({":t": {"BOOL": true}, ":f": {"BOOL": false}}),
        );
        // a OR b AND c == a OR (b AND c)
        let c = parse_condition("x = :t OR x = :f AND y = :t", "ConditionExpression", &mut r)
            .expect("parses");
        let it = item(json!({"x": {"BOOL": true}, "y": {"BOOL": false}}));
        assert!(eval::eval_condition(&c, &it));
        let c = parse_condition(
            "NOT x = :f AND (y = :t OR y = :f)",
            "ConditionExpression",
            &mut r,
        )
        .expect("parses");
        assert!(eval::eval_condition(&c, &it));
        r.check_all_used().expect("all used");
    }

    #[test]
    fn functions_paths_and_comparisons() {
        let mut r = refs(
            json!({"#s": "status"}),
            json!({":p": {"S": "ab"}, ":n": {"N": "10"}, ":lo": {"N": "1"}, ":hi": {"N": "20"},
                   ":t": {"S": "L"}, ":e": {"S": "x"}}),
        );
        let it = item(json!({
            "status": {"S": "abc"}, "n": {"N": "10.0"},
            "m": {"M": {"l": {"L": [{"S": "x"}, {"N": "5"}]}}}
        }));
        for (expr, want) in [
            ("begins_with(#s, :p)", true),
            ("n = :n", true),
            ("n BETWEEN :lo AND :hi", true),
            ("n IN (:lo, :hi)", false),
            ("attribute_type(m.l, :t)", true),
            ("contains(m.l, :e)", true),
            ("size(m.l) < :n", true),
            ("m.l[1] < :n", true),
            ("attribute_not_exists(m.l[2])", true),
            ("absent <> :n", true),
            ("absent = :n", false),
        ] {
            let c = parse_condition(expr, "ConditionExpression", &mut r).expect(expr);
            assert_eq!(eval::eval_condition(&c, &it), want, "{expr}");
        }
    }

    #[test]
    fn errors_are_worded_as_aws_words_them() {
        let err = |expr: &str, names: Value, values: Value| {
            let mut r = refs(names, values);
            parse_condition(expr, "ConditionExpression", &mut r)
                .and_then(|_| r.check_all_used())
                .expect_err(expr)
                .to_string()
        };
        assert_eq!(
            err("status = :v", json!(null), json!({":v": {"S": "x"}})),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
        );
        assert_eq!(
            err("#a = :v", json!(null), json!({":v": {"S": "x"}})),
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #a"
        );
        assert_eq!(
            err("a = :w", json!(null), json!({":v": {"S": "x"}})),
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :w"
        );
        assert_eq!(
            err("a = :v", json!({"#x": "y"}), json!({":v": {"S": "x"}})),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"
        );
        assert_eq!(
            err(
                "a = :v",
                json!(null),
                json!({":v": {"S": "x"}, ":u": {"S": "y"}})
            ),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}"
        );
        assert_eq!(
            err("a = = :v", json!(null), json!({":v": {"S": "x"}})),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :v\""
        );
        assert_eq!(
            err("a = ", json!(null), json!({":v": {"S": "x"}})),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"= \""
        );
        assert_eq!(
            err("foo(a)", json!(null), json!(null)),
            "Invalid ConditionExpression: Invalid function name; function: foo"
        );
    }

    #[test]
    fn updates_apply_every_action() {
        let mut r = refs(
            json!(null),
            json!({":one": {"N": "1"}, ":l": {"L": [{"S": "z"}]}, ":s": {"SS": ["b", "c"]},
                   ":d": {"SS": ["a"]}, ":z": {"N": "0"}}),
        );
        let u = parse_update(
            "SET n = n + :one, l = list_append(l, :l), c = if_not_exists(c, :z) REMOVE k[0], gone ADD s :s DELETE t :d",
            &mut r,
        )
        .expect("parses");
        r.check_all_used().expect("all used");
        let mut it = item(json!({
            "n": {"N": "41"}, "l": {"L": [{"S": "y"}]}, "gone": {"S": "g"},
            "k": {"L": [{"S": "x"}, {"S": "y"}]},
            "s": {"SS": ["a"]}, "t": {"SS": ["a"]}
        }));
        eval::apply_update(&mut it, &u).expect("applies");
        let wire = Value::Object(crate::types::item_to_wire(&it));
        assert_eq!(wire["n"], json!({"N": "42"}));
        assert_eq!(wire["l"], json!({"L": [{"S": "y"}, {"S": "z"}]}));
        assert_eq!(wire["c"], json!({"N": "0"}));
        assert_eq!(wire["s"], json!({"SS": ["a", "b", "c"]}));
        assert_eq!(wire["k"], json!({"L": [{"S": "y"}]}));
        assert!(wire.get("gone").is_none());
        assert!(wire.get("t").is_none(), "an emptied set disappears");
    }

    #[test]
    fn hostile_nesting_is_refused_not_overflowed() {
        let mut r = refs(json!(null), json!({":v": {"S": "x"}}));
        let deep = format!("{}a = :v{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse_condition(&deep, "ConditionExpression", &mut r).is_err());
        let nots = format!("{}a = :v", "NOT ".repeat(1000));
        assert!(parse_condition(&nots, "ConditionExpression", &mut r).is_err());
        let fine = format!("{}a = :v{}", "(".repeat(20), ")".repeat(20));
        assert!(parse_condition(&fine, "ConditionExpression", &mut r).is_ok());
    }

    #[test]
    fn overlapping_update_paths_are_refused() {
        let mut r = refs(json!(null), json!({":v": {"S": "x"}}));
        let e = parse_update("SET a = :v REMOVE a.b", &mut r).expect_err("overlap");
        assert_eq!(
            e.to_string(),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
        );
    }

    #[test]
    fn projections_keep_nesting() {
        let mut r = Refs::default();
        let paths = parse_projection("a.b, l[2], l[0], x", &mut r).expect("parses");
        let it = item(json!({
            "a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}}},
            "l": {"L": [{"S": "p"}, {"S": "q"}, {"S": "r"}]},
            "y": {"S": "not projected"}
        }));
        let out = Value::Object(crate::types::item_to_wire(&eval::project(&it, &paths)));
        assert_eq!(
            out,
            json!({"a": {"M": {"b": {"N": "1"}}}, "l": {"L": [{"S": "p"}, {"S": "r"}]}})
        );
    }
}
