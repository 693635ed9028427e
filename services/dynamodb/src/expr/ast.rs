//! The parsed forms of DynamoDB's expressions, with `#name` and `:value` references already
//! resolved.

use crate::types::AttrValue;

/// One step of a document path: `a`, `.b`, `[3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElem {
    Attr(String),
    Index(usize),
}

pub type Path = Vec<PathElem>;

/// How AWS prints a path in messages: `[a, b, [3]]`.
pub fn render_path(p: &Path) -> String {
    let parts: Vec<String> = p
        .iter()
        .map(|e| match e {
            PathElem::Attr(a) => a.clone(),
            PathElem::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A value inside a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(AttrValue),
    Size(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare(Operand, Comparator, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    AttributeExists(Path),
    AttributeNotExists(Path),
    AttributeType(Path, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
}

/// A value on the right of `SET path =`.
#[derive(Debug, Clone, PartialEq)]
pub enum SetOperand {
    Path(Path),
    Value(AttrValue),
    IfNotExists(Path, Box<SetOperand>),
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Operand(SetOperand),
    Plus(SetOperand, SetOperand),
    Minus(SetOperand, SetOperand),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    pub set: Vec<(Path, SetValue)>,
    pub remove: Vec<Path>,
    pub add: Vec<(Path, AttrValue)>,
    pub delete: Vec<(Path, AttrValue)>,
}

impl Update {
    /// Every path the update writes, in clause order.
    pub fn paths(&self) -> Vec<&Path> {
        self.set
            .iter()
            .map(|(p, _)| p)
            .chain(self.remove.iter())
            .chain(self.add.iter().map(|(p, _)| p))
            .chain(self.delete.iter().map(|(p, _)| p))
            .collect()
    }
}
