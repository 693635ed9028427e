//! The pre-expression parameters (Expected, AttributeUpdates, QueryFilter, ScanFilter,
//! KeyConditions, ConditionalOperator), translated to the expression AST so one evaluator
//! serves both.

use crate::errors::{DynamoError, Result};
use crate::expr::ast::{Comparator, Condition, Operand, PathElem, SetOperand, SetValue, Update};
use crate::types::AttrValue;
use serde_json::{Map, Value};

fn path(name: &str) -> Vec<PathElem> {
    vec![PathElem::Attr(name.to_string())]
}

fn values(list: Option<&Value>) -> Result<Vec<AttrValue>> {
    list.and_then(Value::as_array)
        .map(|a| a.iter().map(AttrValue::from_wire).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

/// One `ComparisonOperator` with its `AttributeValueList` as a condition on `name`.
fn comparison(name: &str, op: &str, args: Vec<AttrValue>) -> Result<Condition> {
    let count = |n: usize| -> Result<()> {
        if args.len() != n {
            return Err(DynamoError::invalid(format!(
                "Invalid number of argument(s) for the {op} ComparisonOperator"
            )));
        }
        Ok(())
    };
    let p = || Operand::Path(path(name));
    let v = |i: usize| Operand::Value(args[i].clone());
    let cmp = |c: Comparator| -> Result<Condition> {
        count(1)?;
        Ok(Condition::Compare(p(), c, v(0)))
    };
    Ok(match op {
        "EQ" => cmp(Comparator::Eq)?,
        "NE" => cmp(Comparator::Ne)?,
        "LT" => cmp(Comparator::Lt)?,
        "LE" => cmp(Comparator::Le)?,
        "GT" => cmp(Comparator::Gt)?,
        "GE" => cmp(Comparator::Ge)?,
        "NOT_NULL" => {
            count(0)?;
            Condition::AttributeExists(path(name))
        }
        "NULL" => {
            count(0)?;
            Condition::AttributeNotExists(path(name))
        }
        "CONTAINS" => {
            count(1)?;
            Condition::Contains(p(), v(0))
        }
        "NOT_CONTAINS" => {
            count(1)?;
            Condition::And(
                Box::new(Condition::AttributeExists(path(name))),
                Box::new(Condition::Not(Box::new(Condition::Contains(p(), v(0))))),
            )
        }
        "BEGINS_WITH" => {
            count(1)?;
            Condition::BeginsWith(p(), v(0))
        }
        "BETWEEN" => {
            count(2)?;
            Condition::Between(p(), v(0), v(1))
        }
        "IN" => {
            if args.is_empty() {
                return Err(DynamoError::invalid(
                    "Invalid number of argument(s) for the IN ComparisonOperator",
                ));
            }
            Condition::In(p(), args.into_iter().map(Operand::Value).collect())
        }
        other => {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{other}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            )))
        }
    })
}

fn combine(parts: Vec<Condition>, operator: Option<&str>) -> Result<Condition> {
    if operator.is_some() && parts.len() < 2 {
        return Err(DynamoError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ));
    }
    let or = operator == Some("OR");
    parts
        .into_iter()
        .reduce(|a, b| {
            if or {
                Condition::Or(Box::new(a), Box::new(b))
            } else {
                Condition::And(Box::new(a), Box::new(b))
            }
        })
        .ok_or_else(|| DynamoError::validation("Expected must not be empty"))
}

/// `Expected` of PutItem / UpdateItem / DeleteItem.
pub fn expected(map: &Map<String, Value>, operator: Option<&str>) -> Result<Condition> {
    let mut parts = Vec::new();
    for (name, spec) in map {
        let value = spec.get("Value").map(AttrValue::from_wire).transpose()?;
        let exists = spec.get("Exists").and_then(Value::as_bool);
        let op = spec.get("ComparisonOperator").and_then(Value::as_str);
        let c = match (op, exists, value) {
            (Some(op), None, v) => {
                let mut args = values(spec.get("AttributeValueList"))?;
                if let Some(v) = v {
                    args.push(v);
                }
                comparison(name, op, args)?
            }
            (Some(_), Some(_), _) => {
                return Err(DynamoError::invalid(format!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )))
            }
            (None, Some(false), Some(_)) => {
                return Err(DynamoError::invalid(format!(
                    "Value cannot be used when Exists is false for Attribute: {name}"
                )))
            }
            (None, Some(false), None) => Condition::AttributeNotExists(path(name)),
            (None, _, Some(v)) => {
                Condition::Compare(Operand::Path(path(name)), Comparator::Eq, Operand::Value(v))
            }
            (None, _, None) => {
                return Err(DynamoError::invalid(format!(
                    "Value must be provided when Exists is true for Attribute: {name}"
                )))
            }
        };
        parts.push(c);
    }
    combine(parts, operator)
}

/// `QueryFilter` / `ScanFilter` / `KeyConditions`: maps of `{ComparisonOperator,
/// AttributeValueList}`.
pub fn filter(map: &Map<String, Value>, operator: Option<&str>) -> Result<Condition> {
    let mut parts = Vec::new();
    for (name, spec) in map {
        let op = spec
            .get("ComparisonOperator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        parts.push(comparison(
            name,
            op,
            values(spec.get("AttributeValueList"))?,
        )?);
    }
    combine(parts, operator)
}

/// `AttributeUpdates` of UpdateItem.
pub fn attribute_updates(map: &Map<String, Value>) -> Result<Update> {
    let mut u = Update::default();
    for (name, spec) in map {
        let value = spec.get("Value").map(AttrValue::from_wire).transpose()?;
        let action = spec.get("Action").and_then(Value::as_str).unwrap_or("PUT");
        match (action, value) {
            ("PUT", Some(v)) => u
                .set
                .push((path(name), SetValue::Operand(SetOperand::Value(v)))),
            ("DELETE", None) => u.remove.push(path(name)),
            ("DELETE", Some(v @ (AttrValue::Ss(_) | AttrValue::Ns(_) | AttrValue::Bs(_)))) => {
                u.delete.push((path(name), v))
            }
            ("ADD", Some(AttrValue::L(l))) => u.set.push((
                path(name),
                SetValue::Operand(SetOperand::ListAppend(
                    Box::new(SetOperand::IfNotExists(
                        path(name),
                        Box::new(SetOperand::Value(AttrValue::L(Vec::new()))),
                    )),
                    Box::new(SetOperand::Value(AttrValue::L(l))),
                )),
            )),
            (
                "ADD",
                Some(
                    v @ (AttrValue::N(_) | AttrValue::Ss(_) | AttrValue::Ns(_) | AttrValue::Bs(_)),
                ),
            ) => u.add.push((path(name), v)),
            ("PUT", None) | ("ADD", None) => {
                return Err(DynamoError::invalid(format!(
                    "Only DELETE action is allowed when no attribute value is specified: {name}"
                )))
            }
            ("DELETE", Some(_)) => {
                return Err(DynamoError::invalid(
                    "DELETE action with value is not supported for the data type",
                ))
            }
            _ => {
                return Err(DynamoError::invalid(
                    "ADD action is not supported for the data type",
                ))
            }
        }
    }
    Ok(u)
}
