//! A recursive-descent parser for condition, key-condition, filter, projection and update
//! expressions. Precedence follows DynamoDB: comparisons and functions bind tightest, then NOT,
//! then AND, then OR. `#name` and `:value` references are resolved (and recorded as used) as
//! they are read.

use super::ast::*;
use super::lexer::{lex, Tok, Token};
use super::Refs;
use crate::errors::{DynamoError, Result};
use crate::types::AttrValue;
use std::collections::HashSet;
use std::sync::OnceLock;

fn reserved_words() -> &'static HashSet<&'static str> {
    static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("reserved_words.txt")
            .split_whitespace()
            .collect()
    })
}

pub fn is_reserved(word: &str) -> bool {
    reserved_words().contains(word.to_ascii_uppercase().as_str())
}

const CONDITION_FUNCTIONS: &[&str] = &[
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
];
const UPDATE_FUNCTIONS: &[&str] = &["if_not_exists", "list_append"];

const VALID_TYPES: &[&str] = &["B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M"];

pub struct Parser<'s, 'r> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    /// `ConditionExpression`, `UpdateExpression`, … as messages name the expression.
    label: &'static str,
    refs: &'r mut Refs,
    /// Open parentheses and NOTs: bounded so hostile input cannot exhaust the stack.
    depth: usize,
}

/// Deeper nesting than this is refused (far beyond what a 4 KB expression needs in practice).
const MAX_DEPTH: usize = 100;

impl<'s, 'r> Parser<'s, 'r> {
    pub fn new(src: &'s str, label: &'static str, refs: &'r mut Refs) -> Result<Self> {
        if src.trim().is_empty() {
            return Err(DynamoError::validation(format!(
                "Invalid {label}: The expression can not be empty;"
            )));
        }
        Ok(Self {
            src,
            toks: lex(src),
            pos: 0,
            label,
            refs,
            depth: 0,
        })
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn err(&self, detail: impl std::fmt::Display) -> DynamoError {
        DynamoError::validation(format!("Invalid {}: {detail}", self.label))
    }

    /// AWS's syntax error: the offending token and the text around it.
    fn syntax_error(&self) -> DynamoError {
        let t = &self.toks[self.pos];
        let token = if t.tok == Tok::Eof {
            "<EOF>".to_string()
        } else {
            self.src[t.start..t.end].to_string()
        };
        let from = if self.pos > 0 {
            self.toks[self.pos - 1].start
        } else {
            t.start
        };
        let to = match self.toks.get(self.pos + 1) {
            Some(n) if n.tok != Tok::Eof => n.end,
            _ => self.src.len(),
        };
        self.err(format!(
            "Syntax error; token: \"{token}\", near: \"{}\"",
            &self.src[from..to]
        ))
    }

    fn expect(&mut self, tok: Tok) -> Result<()> {
        if *self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w.eq_ignore_ascii_case(word))
    }

    pub fn finish(&mut self) -> Result<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    // ---- paths and values ----

    fn attr_name(&mut self) -> Result<String> {
        match self.peek().clone() {
            Tok::Ident(word) => {
                if is_reserved(&word) {
                    return Err(self.err(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {word}"
                    )));
                }
                self.bump();
                Ok(word)
            }
            Tok::NameRef(r) => {
                let name = self.refs.name(&r).ok_or_else(|| {
                    self.err(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {r}"
                    ))
                })?;
                self.bump();
                Ok(name)
            }
            _ => Err(self.syntax_error()),
        }
    }

    pub fn path(&mut self) -> Result<Path> {
        let mut p = vec![PathElem::Attr(self.attr_name()?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    p.push(PathElem::Attr(self.attr_name()?));
                }
                Tok::LBracket => {
                    self.bump();
                    let Tok::Int(text) = self.peek().clone() else {
                        return Err(self.syntax_error());
                    };
                    let i: usize = text.parse().map_err(|_| self.syntax_error())?;
                    self.bump();
                    self.expect(Tok::RBracket)?;
                    p.push(PathElem::Index(i));
                }
                _ => return Ok(p),
            }
        }
    }

    fn value_ref(&mut self) -> Result<AttrValue> {
        let Tok::ValueRef(r) = self.peek().clone() else {
            return Err(self.syntax_error());
        };
        let v = self.refs.value(&r).ok_or_else(|| {
            self.err(format!(
                "An expression attribute value used in expression is not defined; attribute value: {r}"
            ))
        })?;
        self.bump();
        Ok(v)
    }

    /// The function name when the next tokens are `name (`.
    fn function_ahead(&self) -> Option<String> {
        match (self.peek(), self.peek_at(1)) {
            (Tok::Ident(name), Tok::LParen) => Some(name.clone()),
            _ => None,
        }
    }

    fn check_function_known(&self, name: &str) -> Result<()> {
        if CONDITION_FUNCTIONS.contains(&name) || UPDATE_FUNCTIONS.contains(&name) {
            Ok(())
        } else {
            Err(self.err(format!("Invalid function name; function: {name}")))
        }
    }

    fn misused_function(&self, name: &str) -> DynamoError {
        self.err(format!(
            "The function is not allowed to be used this way in an expression; function: {name}"
        ))
    }

    // ---- conditions ----

    pub fn condition(&mut self) -> Result<Condition> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            self.bump();
            let right = self.and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            self.bump();
            let right = self.not()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn deeper(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.syntax_error());
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Condition> {
        if self.keyword("NOT") {
            self.deeper()?;
            self.bump();
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition> {
        if *self.peek() == Tok::LParen {
            self.deeper()?;
            self.bump();
            let c = self.condition()?;
            self.expect(Tok::RParen)?;
            self.depth -= 1;
            return Ok(c);
        }
        if let Some(name) = self.function_ahead() {
            self.check_function_known(&name)?;
            if name != "size" {
                return self.condition_function(&name);
            }
        }
        let left = self.operand()?;
        self.comparison_tail(left)
    }

    fn comparison_tail(&mut self, left: Operand) -> Result<Condition> {
        let cmp = match self.peek() {
            Tok::Eq => Some(Comparator::Eq),
            Tok::Ne => Some(Comparator::Ne),
            Tok::Lt => Some(Comparator::Lt),
            Tok::Le => Some(Comparator::Le),
            Tok::Gt => Some(Comparator::Gt),
            Tok::Ge => Some(Comparator::Ge),
            _ => None,
        };
        if let Some(cmp) = cmp {
            self.bump();
            let right = self.operand()?;
            return Ok(Condition::Compare(left, cmp, right));
        }
        if self.keyword("BETWEEN") {
            self.bump();
            let low = self.operand()?;
            if !self.keyword("AND") {
                return Err(self.syntax_error());
            }
            self.bump();
            let high = self.operand()?;
            if let (Operand::Value(l), Operand::Value(h)) = (&low, &high) {
                if super::eval::compare_values(l, h) == Some(std::cmp::Ordering::Greater) {
                    return Err(self.err(format!(
                        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                        super::render_value(l),
                        super::render_value(h)
                    )));
                }
            }
            return Ok(Condition::Between(left, low, high));
        }
        if self.keyword("IN") {
            self.bump();
            self.expect(Tok::LParen)?;
            let mut list = vec![self.operand()?];
            while *self.peek() == Tok::Comma {
                self.bump();
                list.push(self.operand()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Condition::In(left, list));
        }
        Err(self.syntax_error())
    }

    fn operand(&mut self) -> Result<Operand> {
        if let Some(name) = self.function_ahead() {
            self.check_function_known(&name)?;
            if name != "size" {
                return Err(self.misused_function(&name));
            }
            self.bump();
            self.bump();
            let p = self.path()?;
            self.expect(Tok::RParen)?;
            return Ok(Operand::Size(p));
        }
        match self.peek() {
            Tok::ValueRef(_) => Ok(Operand::Value(self.value_ref()?)),
            Tok::Ident(_) | Tok::NameRef(_) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    fn condition_function(&mut self, name: &str) -> Result<Condition> {
        if UPDATE_FUNCTIONS.contains(&name) {
            return Err(self.misused_function(name));
        }
        self.bump();
        self.bump();
        let c = match name {
            "attribute_exists" => Condition::AttributeExists(self.path()?),
            "attribute_not_exists" => Condition::AttributeNotExists(self.path()?),
            "attribute_type" => {
                let p = self.path()?;
                self.expect(Tok::Comma)?;
                let t = self.operand()?;
                if let Operand::Value(v) = &t {
                    match v {
                        AttrValue::S(s) if VALID_TYPES.contains(&s.as_str()) => {}
                        AttrValue::S(s) => {
                            return Err(self.err(format!(
                                "Invalid attribute type name found; type: {s}, valid types: {{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }}"
                            )))
                        }
                        other => {
                            return Err(self.err(format!(
                                "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {}",
                                other.type_name()
                            )))
                        }
                    }
                }
                Condition::AttributeType(p, t)
            }
            "begins_with" | "contains" => {
                let a = self.operand()?;
                self.expect(Tok::Comma)?;
                let b = self.operand()?;
                if name == "begins_with" {
                    Condition::BeginsWith(a, b)
                } else {
                    Condition::Contains(a, b)
                }
            }
            _ => return Err(self.misused_function(name)),
        };
        self.expect(Tok::RParen)?;
        Ok(c)
    }

    // ---- projections ----

    pub fn projection(&mut self) -> Result<Vec<Path>> {
        let mut paths = vec![self.path()?];
        while *self.peek() == Tok::Comma {
            self.bump();
            paths.push(self.path()?);
        }
        Ok(paths)
    }

    // ---- updates ----

    pub fn update(&mut self) -> Result<Update> {
        let mut u = Update::default();
        let mut seen: Vec<String> = Vec::new();
        loop {
            let Tok::Ident(word) = self.peek().clone() else {
                return Err(self.syntax_error());
            };
            let clause = word.to_ascii_uppercase();
            if !matches!(clause.as_str(), "SET" | "REMOVE" | "ADD" | "DELETE") {
                return Err(self.syntax_error());
            }
            if seen.contains(&clause) {
                return Err(self.err(format!(
                    "The \"{clause}\" section can only be used once in an update expression;"
                )));
            }
            seen.push(clause.clone());
            self.bump();
            loop {
                match clause.as_str() {
                    "SET" => {
                        let p = self.path()?;
                        self.expect(Tok::Eq)?;
                        let v = self.set_value()?;
                        u.set.push((p, v));
                    }
                    "REMOVE" => u.remove.push(self.path()?),
                    _ => {
                        let p = self.path()?;
                        let v = self.value_ref()?;
                        let ok = matches!(
                            (clause.as_str(), &v),
                            ("ADD", AttrValue::N(_))
                                | (_, AttrValue::Ss(_) | AttrValue::Ns(_) | AttrValue::Bs(_))
                        );
                        if !ok {
                            return Err(self.err(format!(
                                "Incorrect operand type for operator or function; operator: {clause}, operand type: {}",
                                type_word(&v)
                            )));
                        }
                        if clause == "ADD" {
                            u.add.push((p, v));
                        } else {
                            u.delete.push((p, v));
                        }
                    }
                }
                if *self.peek() == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
            if *self.peek() == Tok::Eof {
                break;
            }
        }
        check_overlaps(&u.paths()).map_err(|e| self.err(e))?;
        Ok(u)
    }

    fn set_value(&mut self) -> Result<SetValue> {
        let a = self.set_operand()?;
        match self.peek() {
            Tok::Plus => {
                self.bump();
                Ok(SetValue::Plus(a, self.set_operand()?))
            }
            Tok::Minus => {
                self.bump();
                Ok(SetValue::Minus(a, self.set_operand()?))
            }
            _ => Ok(SetValue::Operand(a)),
        }
    }

    fn set_operand(&mut self) -> Result<SetOperand> {
        if let Some(name) = self.function_ahead() {
            self.deeper()?;
            self.check_function_known(&name)?;
            if !UPDATE_FUNCTIONS.contains(&name.as_str()) {
                return Err(self.misused_function(&name));
            }
            self.bump();
            self.bump();
            let out = if name == "if_not_exists" {
                let p = self.path()?;
                self.expect(Tok::Comma)?;
                SetOperand::IfNotExists(p, Box::new(self.set_operand()?))
            } else {
                let a = self.set_operand()?;
                self.expect(Tok::Comma)?;
                SetOperand::ListAppend(Box::new(a), Box::new(self.set_operand()?))
            };
            self.expect(Tok::RParen)?;
            self.depth -= 1;
            return Ok(out);
        }
        match self.peek() {
            Tok::ValueRef(_) => Ok(SetOperand::Value(self.value_ref()?)),
            Tok::Ident(_) | Tok::NameRef(_) => Ok(SetOperand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }
}

/// How update messages name a value's type.
fn type_word(v: &AttrValue) -> &'static str {
    match v {
        AttrValue::S(_) => "STRING",
        AttrValue::N(_) => "NUMBER",
        AttrValue::B(_) => "BINARY",
        AttrValue::Bool(_) => "BOOLEAN",
        AttrValue::Null => "NULL",
        AttrValue::M(_) => "MAP",
        AttrValue::L(_) => "LIST",
        AttrValue::Ss(_) => "SS",
        AttrValue::Ns(_) => "NS",
        AttrValue::Bs(_) => "BS",
    }
}

/// Two paths may not overlap (one a prefix of the other) in one update or projection.
pub fn check_overlaps(paths: &[&Path]) -> std::result::Result<(), String> {
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let n = a.len().min(b.len());
            if a[..n] == b[..n] {
                return Err(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    render_path(a),
                    render_path(b)
                ));
            }
        }
    }
    Ok(())
}
