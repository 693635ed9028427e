//! Evaluating expressions against an item: conditions, projections and update actions.

use super::ast::*;
use crate::errors::{DynamoError, Result};
use crate::number::Number;
use crate::types::{AttrValue, Item};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The value a document path names, if the item has it.
pub fn resolve<'a>(item: &'a Item, path: &Path) -> Option<&'a AttrValue> {
    let mut it = path.iter();
    let Some(PathElem::Attr(first)) = it.next() else {
        return None;
    };
    let mut cur = item.get(first)?;
    for step in it {
        cur = match (step, cur) {
            (PathElem::Attr(a), AttrValue::M(m)) => m.get(a)?,
            (PathElem::Index(i), AttrValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Order of two values of the same scalar type (N numerically, S and B bytewise).
pub fn compare_values(a: &AttrValue, b: &AttrValue) -> Option<Ordering> {
    match (a, b) {
        (AttrValue::N(x), AttrValue::N(y)) => Some(x.cmp(y)),
        (AttrValue::S(x), AttrValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttrValue::B(x), AttrValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn same_members<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// Equality as DynamoDB defines it (sets ignore order).
pub fn values_equal(a: &AttrValue, b: &AttrValue) -> bool {
    match (a, b) {
        (AttrValue::Ss(x), AttrValue::Ss(y)) => same_members(x, y),
        (AttrValue::Ns(x), AttrValue::Ns(y)) => same_members(x, y),
        (AttrValue::Bs(x), AttrValue::Bs(y)) => same_members(x, y),
        (AttrValue::M(x), AttrValue::M(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        (AttrValue::L(x), AttrValue::L(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| values_equal(v, w))
        }
        _ => a == b,
    }
}

fn size_of(v: &AttrValue) -> Option<AttrValue> {
    let n = match v {
        AttrValue::S(s) => s.chars().count(),
        AttrValue::B(b) => b.len(),
        AttrValue::Ss(s) => s.len(),
        AttrValue::Ns(s) => s.len(),
        AttrValue::Bs(s) => s.len(),
        AttrValue::M(m) => m.len(),
        AttrValue::L(l) => l.len(),
        _ => return None,
    };
    Number::parse(&n.to_string()).ok().map(AttrValue::N)
}

fn operand<'a>(item: &'a Item, op: &'a Operand) -> Option<std::borrow::Cow<'a, AttrValue>> {
    use std::borrow::Cow;
    match op {
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(p) => resolve(item, p).and_then(size_of).map(Cow::Owned),
    }
}

pub fn eval_condition(c: &Condition, item: &Item) -> bool {
    match c {
        Condition::And(a, b) => eval_condition(a, item) && eval_condition(b, item),
        Condition::Or(a, b) => eval_condition(a, item) || eval_condition(b, item),
        Condition::Not(a) => !eval_condition(a, item),
        Condition::Compare(a, cmp, b) => {
            let (a, b) = (operand(item, a), operand(item, b));
            match (a, b) {
                (Some(a), Some(b)) => match cmp {
                    Comparator::Eq => values_equal(&a, &b),
                    Comparator::Ne => !values_equal(&a, &b),
                    _ => match compare_values(&a, &b) {
                        Some(o) => match cmp {
                            Comparator::Lt => o == Ordering::Less,
                            Comparator::Le => o != Ordering::Greater,
                            Comparator::Gt => o == Ordering::Greater,
                            Comparator::Ge => o != Ordering::Less,
                            _ => false,
                        },
                        None => false,
                    },
                },
                // A missing attribute is "not equal" to anything, and nothing else.
                _ => *cmp == Comparator::Ne,
            }
        }
        Condition::Between(x, lo, hi) => {
            match (operand(item, x), operand(item, lo), operand(item, hi)) {
                (Some(x), Some(lo), Some(hi)) => {
                    compare_values(&x, &lo).is_some_and(|o| o != Ordering::Less)
                        && compare_values(&x, &hi).is_some_and(|o| o != Ordering::Greater)
                }
                _ => false,
            }
        }
        Condition::In(x, list) => match operand(item, x) {
            Some(x) => list
                .iter()
                .any(|o| operand(item, o).is_some_and(|v| values_equal(&x, &v))),
            None => false,
        },
        Condition::AttributeExists(p) => resolve(item, p).is_some(),
        Condition::AttributeNotExists(p) => resolve(item, p).is_none(),
        Condition::AttributeType(p, t) => match (resolve(item, p), operand(item, t)) {
            (Some(v), Some(t)) => matches!(&*t, AttrValue::S(s) if s == v.type_name()),
            _ => false,
        },
        Condition::BeginsWith(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (&*a, &*b) {
                (AttrValue::S(x), AttrValue::S(y)) => x.starts_with(y.as_str()),
                (AttrValue::B(x), AttrValue::B(y)) => x.starts_with(y),
                _ => false,
            },
            _ => false,
        },
        Condition::Contains(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (&*a, &*b) {
                (AttrValue::S(x), AttrValue::S(y)) => x.contains(y.as_str()),
                (AttrValue::B(x), AttrValue::B(y)) => {
                    y.is_empty() || x.windows(y.len()).any(|w| w == y.as_slice())
                }
                (AttrValue::Ss(x), AttrValue::S(y)) => x.contains(y),
                (AttrValue::Ns(x), AttrValue::N(y)) => x.contains(y),
                (AttrValue::Bs(x), AttrValue::B(y)) => x.contains(y),
                (AttrValue::L(x), y) => x.iter().any(|v| values_equal(v, y)),
                _ => false,
            },
            _ => false,
        },
    }
}

// ---- projections ----

enum Node {
    Leaf(AttrValue),
    Map(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

impl Node {
    fn into_value(self) -> AttrValue {
        match self {
            Node::Leaf(v) => v,
            Node::Map(m) => AttrValue::M(m.into_iter().map(|(k, n)| (k, n.into_value())).collect()),
            // Selected list elements come back in index order, packed together.
            Node::List(l) => AttrValue::L(l.into_values().map(Node::into_value).collect()),
        }
    }
}

fn insert_projected(node: &mut Node, value: &AttrValue, rest: &[PathElem]) {
    let Some((step, rest)) = rest.split_first() else {
        *node = Node::Leaf(value.clone());
        return;
    };
    match (step, value) {
        (PathElem::Attr(a), AttrValue::M(m)) => {
            let Some(child) = m.get(a) else { return };
            if !matches!(node, Node::Map(_)) {
                if matches!(node, Node::Leaf(_)) {
                    return; // the whole value is already selected
                }
                *node = Node::Map(BTreeMap::new());
            }
            if let Node::Map(map) = node {
                let entry = map
                    .entry(a.clone())
                    .or_insert_with(|| Node::Map(BTreeMap::new()));
                if rest.is_empty() {
                    *entry = Node::Leaf(child.clone());
                } else {
                    insert_projected(entry, child, rest);
                }
            }
        }
        (PathElem::Index(i), AttrValue::L(l)) => {
            let Some(child) = l.get(*i) else { return };
            if let Node::Map(m) = node {
                if m.is_empty() {
                    *node = Node::List(BTreeMap::new());
                }
            }
            if let Node::List(list) = node {
                let entry = list.entry(*i).or_insert_with(|| Node::Map(BTreeMap::new()));
                if rest.is_empty() {
                    *entry = Node::Leaf(child.clone());
                } else {
                    insert_projected(entry, child, rest);
                }
            }
        }
        _ => {}
    }
}

/// The parts of `item` that `paths` name, nested as in the item.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out: BTreeMap<String, Node> = BTreeMap::new();
    for p in paths {
        let Some(PathElem::Attr(first)) = p.first() else {
            continue;
        };
        let Some(v) = item.get(first) else { continue };
        if p.len() == 1 {
            out.insert(first.clone(), Node::Leaf(v.clone()));
            continue;
        }
        let node = out
            .entry(first.clone())
            .or_insert_with(|| Node::Map(BTreeMap::new()));
        insert_projected(node, v, &p[1..]);
        // A path that led nowhere leaves an empty placeholder behind.
        if matches!(node, Node::Map(m) if m.is_empty()) {
            out.remove(first);
        }
    }
    out.into_iter().map(|(k, n)| (k, n.into_value())).collect()
}

// ---- updates ----

fn missing_attribute() -> DynamoError {
    DynamoError::validation(
        "The provided expression refers to an attribute that does not exist in the item",
    )
}

fn wrong_type() -> DynamoError {
    DynamoError::validation("An operand in the update expression has an incorrect data type")
}

fn invalid_path() -> DynamoError {
    DynamoError::validation(
        "The document path provided in the update expression is invalid for update",
    )
}

fn set_operand(item: &Item, op: &SetOperand) -> Result<AttrValue> {
    match op {
        SetOperand::Path(p) => resolve(item, p).cloned().ok_or_else(missing_attribute),
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::IfNotExists(p, alt) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => set_operand(item, alt),
        },
        SetOperand::ListAppend(a, b) => match (set_operand(item, a)?, set_operand(item, b)?) {
            (AttrValue::L(mut x), AttrValue::L(y)) => {
                x.extend(y);
                Ok(AttrValue::L(x))
            }
            _ => Err(wrong_type()),
        },
    }
}

fn set_value(item: &Item, v: &SetValue) -> Result<AttrValue> {
    match v {
        SetValue::Operand(o) => set_operand(item, o),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            match (set_operand(item, a)?, set_operand(item, b)?) {
                (AttrValue::N(x), AttrValue::N(y)) => {
                    Ok(AttrValue::N(if matches!(v, SetValue::Plus(..)) {
                        x.add(&y)?
                    } else {
                        x.sub(&y)?
                    }))
                }
                _ => Err(wrong_type()),
            }
        }
    }
}

/// The container holding the last step of `path`, created for nothing: parents must exist.
fn parent_mut<'a>(item: &'a mut Item, path: &Path) -> Result<Option<&'a mut AttrValue>> {
    if path.len() == 1 {
        return Ok(None);
    }
    let Some(PathElem::Attr(first)) = path.first() else {
        return Err(invalid_path());
    };
    let mut cur = item.get_mut(first).ok_or_else(invalid_path)?;
    for step in &path[1..path.len() - 1] {
        cur = match (step, cur) {
            (PathElem::Attr(a), AttrValue::M(m)) => m.get_mut(a).ok_or_else(invalid_path)?,
            (PathElem::Index(i), AttrValue::L(l)) => l.get_mut(*i).ok_or_else(invalid_path)?,
            _ => return Err(invalid_path()),
        };
    }
    Ok(Some(cur))
}

fn assign(item: &mut Item, path: &Path, value: AttrValue) -> Result<()> {
    let last = path.last().ok_or_else(invalid_path)?;
    match (parent_mut(item, path)?, last) {
        (None, PathElem::Attr(a)) => {
            item.insert(a.clone(), value);
        }
        (Some(AttrValue::M(m)), PathElem::Attr(a)) => {
            m.insert(a.clone(), value);
        }
        (Some(AttrValue::L(l)), PathElem::Index(i)) => {
            // An index past the end appends.
            if *i < l.len() {
                l[*i] = value;
            } else {
                l.push(value);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

fn remove(item: &mut Item, path: &Path) -> Result<()> {
    let Some(last) = path.last() else {
        return Ok(());
    };
    let parent = match parent_mut(item, path) {
        Ok(p) => p,
        // Removing below something that is not there removes nothing.
        Err(_) => return Ok(()),
    };
    match (parent, last) {
        (None, PathElem::Attr(a)) => {
            item.remove(a);
        }
        (Some(AttrValue::M(m)), PathElem::Attr(a)) => {
            m.remove(a);
        }
        (Some(AttrValue::L(l)), PathElem::Index(i)) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    Ok(())
}

fn union<T: PartialEq + Clone>(a: &mut Vec<T>, b: &[T]) {
    for x in b {
        if !a.contains(x) {
            a.push(x.clone());
        }
    }
}

/// Apply an update to `item`. Every right-hand side is read from the item as it was.
pub fn apply_update(item: &mut Item, u: &Update) -> Result<()> {
    let before = item.clone();
    let mut values = Vec::with_capacity(u.set.len());
    for (p, v) in &u.set {
        values.push((p, set_value(&before, v)?));
    }
    for (p, v) in values {
        assign(item, p, v)?;
    }
    // Later list indexes first, so earlier removals do not shift the ones still to do.
    let mut removes: Vec<&Path> = u.remove.iter().collect();
    removes.sort_by(|a, b| {
        b.iter()
            .zip(a.iter())
            .map(|(x, y)| match (x, y) {
                (PathElem::Index(x), PathElem::Index(y)) => x.cmp(y),
                _ => Ordering::Equal,
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    for p in removes {
        remove(item, p)?;
    }
    for (p, v) in &u.add {
        let new = match (resolve(item, p), v) {
            (None, v) => v.clone(),
            (Some(AttrValue::N(x)), AttrValue::N(y)) => AttrValue::N(x.add(y)?),
            (Some(AttrValue::Ss(x)), AttrValue::Ss(y)) => {
                let mut x = x.clone();
                union(&mut x, y);
                AttrValue::Ss(x)
            }
            (Some(AttrValue::Ns(x)), AttrValue::Ns(y)) => {
                let mut x = x.clone();
                union(&mut x, y);
                AttrValue::Ns(x)
            }
            (Some(AttrValue::Bs(x)), AttrValue::Bs(y)) => {
                let mut x = x.clone();
                union(&mut x, y);
                AttrValue::Bs(x)
            }
            _ => return Err(wrong_type()),
        };
        assign(item, p, new)?;
    }
    for (p, v) in &u.delete {
        let new = match (resolve(item, p), v) {
            (None, _) => continue,
            (Some(AttrValue::Ss(x)), AttrValue::Ss(y)) => {
                let rest: Vec<_> = x.iter().filter(|e| !y.contains(e)).cloned().collect();
                (!rest.is_empty()).then_some(AttrValue::Ss(rest))
            }
            (Some(AttrValue::Ns(x)), AttrValue::Ns(y)) => {
                let rest: Vec<_> = x.iter().filter(|e| !y.contains(e)).cloned().collect();
                (!rest.is_empty()).then_some(AttrValue::Ns(rest))
            }
            (Some(AttrValue::Bs(x)), AttrValue::Bs(y)) => {
                let rest: Vec<_> = x.iter().filter(|e| !y.contains(e)).cloned().collect();
                (!rest.is_empty()).then_some(AttrValue::Bs(rest))
            }
            _ => return Err(wrong_type()),
        };
        match new {
            Some(v) => assign(item, p, v)?,
            // A set left empty disappears.
            None => remove(item, p)?,
        }
    }
    Ok(())
}
