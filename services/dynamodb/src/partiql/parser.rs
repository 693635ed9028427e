//! The PartiQL subset DynamoDB runs on single tables: SELECT, INSERT, UPDATE and DELETE, with
//! `?` parameters and PartiQL literals (strings, numbers, booleans, NULL, maps `{…}`, lists
//! `[…]`, sets `<<…>>`). WHERE clauses become the expression AST the rest of the service
//! evaluates.

use crate::errors::{DynamoError, Result};
use crate::expr::ast::{
    Comparator, Condition, Operand, Path, PathElem, SetOperand, SetValue, Update,
};
use crate::number::Number;
use crate::types::AttrValue;

#[derive(Debug)]
pub enum Statement {
    Select {
        table: String,
        index: Option<String>,
        projection: Option<Vec<Path>>,
        condition: Option<Condition>,
    },
    Insert {
        table: String,
        item: AttrValue,
    },
    Update {
        table: String,
        update: Update,
        condition: Condition,
    },
    Delete {
        table: String,
        condition: Condition,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(String),
    Param,
    Sym(&'static str),
    Eof,
}

fn malformed(detail: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!(
        "Statement wasn't well formed, can't be processed: {detail}"
    ))
}

fn lex(src: &str) -> Result<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if ["<>", "!=", "<=", ">=", "<<", ">>"].contains(&two.as_str()) {
            out.push(Tok::Sym(match two.as_str() {
                "<>" | "!=" => "<>",
                "<=" => "<=",
                ">=" => ">=",
                "<<" => "<<",
                _ => ">>",
            }));
            i += 2;
            continue;
        }
        match c {
            '\'' | '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(malformed("Unterminated quoted text")),
                        // A doubled quote is the quote character itself.
                        Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                            text.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&q) => {
                            text.push(q);
                            i += 1;
                        }
                    }
                }
                out.push(if c == '\'' {
                    Tok::Str(text)
                } else {
                    Tok::Quoted(text)
                });
            }
            '?' => {
                out.push(Tok::Param);
                i += 1;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|d| {
                    d.is_ascii_alphanumeric()
                        || *d == '.'
                        || *d == '+'
                        || (*d == '-' && matches!(chars[i - 1], 'e' | 'E'))
                }) {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|d| d.is_alphanumeric() || *d == '_')
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            _ => {
                let sym = match c {
                    '*' => "*",
                    ',' => ",",
                    '.' => ".",
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    '{' => "{",
                    '}' => "}",
                    ':' => ":",
                    '=' => "=",
                    '<' => "<",
                    '>' => ">",
                    '+' => "+",
                    '-' => "-",
                    ';' => ";",
                    other => return Err(malformed(format!("Unexpected character: {other}"))),
                };
                out.push(Tok::Sym(sym));
                i += 1;
            }
        }
    }
    out.push(Tok::Eof);
    Ok(out)
}

pub struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    params: Vec<AttrValue>,
    next_param: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos]
    }

    fn bump(&mut self) -> Tok {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn kw(&mut self, kw: &str) -> Result<()> {
        if self.is_kw(kw) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn sym(&mut self, s: &str) -> Result<()> {
        if self.is_sym(s) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn unexpected(&self) -> DynamoError {
        match self.peek() {
            Tok::Eof => malformed("Unexpected end of statement"),
            Tok::Word(w) | Tok::Quoted(w) => malformed(format!("Unexpected token: {w}")),
            Tok::Str(s) => malformed(format!("Unexpected token: '{s}'")),
            Tok::Num(n) => malformed(format!("Unexpected token: {n}")),
            Tok::Param => malformed("Unexpected token: ?"),
            Tok::Sym(s) => malformed(format!("Unexpected token: {s}")),
        }
    }

    fn name(&mut self) -> Result<String> {
        match self.bump() {
            Tok::Word(w) | Tok::Quoted(w) => Ok(w),
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn table(&mut self) -> Result<(String, Option<String>)> {
        let table = self.name()?;
        if self.is_sym(".") {
            self.bump();
            return Ok((table, Some(self.name()?)));
        }
        Ok((table, None))
    }

    fn path(&mut self) -> Result<Path> {
        let mut p = vec![PathElem::Attr(self.name()?)];
        loop {
            if self.is_sym(".") {
                self.bump();
                p.push(PathElem::Attr(self.name()?));
            } else if self.is_sym("[") {
                self.bump();
                match self.bump() {
                    Tok::Num(n) => p.push(PathElem::Index(
                        n.parse()
                            .map_err(|_| malformed(format!("Invalid list index: {n}")))?,
                    )),
                    Tok::Str(k) => p.push(PathElem::Attr(k)),
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                }
                self.sym("]")?;
            } else {
                return Ok(p);
            }
        }
    }

    fn param(&mut self) -> Result<AttrValue> {
        let v = self.params.get(self.next_param).cloned().ok_or_else(|| {
            DynamoError::validation("Number of parameters in request and statement don't match.")
        })?;
        self.next_param += 1;
        Ok(v)
    }

    /// A literal or parameter.
    fn value(&mut self) -> Result<AttrValue> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(malformed("Nesting is too deep"));
        }
        let v = match self.bump() {
            Tok::Param => self.param()?,
            Tok::Str(s) => AttrValue::S(s),
            Tok::Num(n) => AttrValue::N(Number::parse(&n)?),
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => AttrValue::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => AttrValue::Bool(false),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => AttrValue::Null,
            Tok::Sym("{") => {
                let mut m = crate::types::Item::new();
                if !self.is_sym("}") {
                    loop {
                        let k = match self.bump() {
                            Tok::Str(k) | Tok::Quoted(k) => k,
                            _ => {
                                self.pos -= 1;
                                return Err(self.unexpected());
                            }
                        };
                        self.sym(":")?;
                        let v = self.value()?;
                        m.insert(k, v);
                        if self.is_sym(",") {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
                self.sym("}")?;
                AttrValue::M(m)
            }
            Tok::Sym("[") => {
                let mut l = Vec::new();
                if !self.is_sym("]") {
                    loop {
                        l.push(self.value()?);
                        if self.is_sym(",") {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
                self.sym("]")?;
                AttrValue::L(l)
            }
            Tok::Sym("<<") => {
                let mut items = Vec::new();
                loop {
                    items.push(self.value()?);
                    if self.is_sym(",") {
                        self.bump();
                    } else {
                        break;
                    }
                }
                self.sym(">>")?;
                set_of(items)?
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        };
        self.depth -= 1;
        Ok(v)
    }

    fn operand(&mut self) -> Result<Operand> {
        match self.peek() {
            Tok::Word(w)
                if !["true", "false", "null"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                Ok(Operand::Path(self.path()?))
            }
            Tok::Quoted(_) => Ok(Operand::Path(self.path()?)),
            _ => Ok(Operand::Value(self.value()?)),
        }
    }

    fn condition(&mut self) -> Result<Condition> {
        let mut left = self.and()?;
        while self.is_kw("OR") {
            self.bump();
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition> {
        let mut left = self.not()?;
        while self.is_kw("AND") {
            self.bump();
            left = Condition::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(malformed("Nesting is too deep"));
        }
        let c = if self.is_kw("NOT") {
            self.bump();
            Condition::Not(Box::new(self.not()?))
        } else if self.is_sym("(") {
            self.bump();
            let c = self.condition()?;
            self.sym(")")?;
            c
        } else {
            self.predicate()?
        };
        self.depth -= 1;
        Ok(c)
    }

    fn predicate(&mut self) -> Result<Condition> {
        if let Tok::Word(f) = self.peek().clone() {
            let f = f.to_ascii_lowercase();
            if matches!(f.as_str(), "begins_with" | "contains" | "attribute_type")
                && self.toks.get(self.pos + 1) == Some(&Tok::Sym("("))
            {
                self.bump();
                self.bump();
                let a = self.operand()?;
                self.sym(",")?;
                let b = self.operand()?;
                self.sym(")")?;
                return Ok(match f.as_str() {
                    "begins_with" => Condition::BeginsWith(a, b),
                    "contains" => Condition::Contains(a, b),
                    _ => match a {
                        Operand::Path(p) => Condition::AttributeType(p, b),
                        _ => return Err(malformed("attribute_type needs a path")),
                    },
                });
            }
        }
        let left = self.operand()?;
        if self.is_kw("IS") {
            self.bump();
            let negated = self.is_kw("NOT");
            if negated {
                self.bump();
            }
            let Operand::Path(p) = left else {
                return Err(self.unexpected());
            };
            self.kw("MISSING")?;
            return Ok(if negated {
                Condition::AttributeExists(p)
            } else {
                Condition::AttributeNotExists(p)
            });
        }
        if self.is_kw("BETWEEN") {
            self.bump();
            let lo = self.operand()?;
            self.kw("AND")?;
            let hi = self.operand()?;
            return Ok(Condition::Between(left, lo, hi));
        }
        if self.is_kw("IN") {
            self.bump();
            let close = if self.is_sym("[") { "]" } else { ")" };
            self.bump();
            let mut list = vec![self.operand()?];
            while self.is_sym(",") {
                self.bump();
                list.push(self.operand()?);
            }
            self.sym(close)?;
            return Ok(Condition::In(left, list));
        }
        let cmp = match self.bump() {
            Tok::Sym("=") => Comparator::Eq,
            Tok::Sym("<>") => Comparator::Ne,
            Tok::Sym("<") => Comparator::Lt,
            Tok::Sym("<=") => Comparator::Le,
            Tok::Sym(">") => Comparator::Gt,
            Tok::Sym(">=") => Comparator::Ge,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        };
        Ok(Condition::Compare(left, cmp, self.operand()?))
    }

    fn set_operand(&mut self) -> Result<SetOperand> {
        match self.operand()? {
            Operand::Path(p) => Ok(SetOperand::Path(p)),
            Operand::Value(v) => Ok(SetOperand::Value(v)),
            Operand::Size(_) => Err(self.unexpected()),
        }
    }

    fn statement(&mut self) -> Result<Statement> {
        let st = if self.is_kw("SELECT") {
            self.bump();
            let projection = if self.is_sym("*") {
                self.bump();
                None
            } else {
                let mut paths = vec![self.path()?];
                while self.is_sym(",") {
                    self.bump();
                    paths.push(self.path()?);
                }
                Some(paths)
            };
            self.kw("FROM")?;
            let (table, index) = self.table()?;
            let condition = if self.is_kw("WHERE") {
                self.bump();
                Some(self.condition()?)
            } else {
                None
            };
            Statement::Select {
                table,
                index,
                projection,
                condition,
            }
        } else if self.is_kw("INSERT") {
            self.bump();
            self.kw("INTO")?;
            let table = self.name()?;
            self.kw("VALUE")?;
            let item = self.value()?;
            Statement::Insert { table, item }
        } else if self.is_kw("UPDATE") {
            self.bump();
            let table = self.name()?;
            let mut update = Update::default();
            loop {
                if self.is_kw("SET") {
                    self.bump();
                    let p = self.path()?;
                    self.sym("=")?;
                    let a = self.set_operand()?;
                    let v = if self.is_sym("+") {
                        self.bump();
                        SetValue::Plus(a, self.set_operand()?)
                    } else if self.is_sym("-") {
                        self.bump();
                        SetValue::Minus(a, self.set_operand()?)
                    } else {
                        SetValue::Operand(a)
                    };
                    update.set.push((p, v));
                } else if self.is_kw("REMOVE") {
                    self.bump();
                    update.remove.push(self.path()?);
                } else {
                    break;
                }
            }
            if update.set.is_empty() && update.remove.is_empty() {
                return Err(self.unexpected());
            }
            self.kw("WHERE")?;
            let condition = self.condition()?;
            Statement::Update {
                table,
                update,
                condition,
            }
        } else if self.is_kw("DELETE") {
            self.bump();
            self.kw("FROM")?;
            let table = self.name()?;
            self.kw("WHERE")?;
            let condition = self.condition()?;
            Statement::Delete { table, condition }
        } else {
            return Err(self.unexpected());
        };
        if self.is_sym(";") {
            self.bump();
        }
        if *self.peek() != Tok::Eof {
            return Err(self.unexpected());
        }
        if self.next_param != self.params.len() {
            return Err(DynamoError::validation(
                "Number of parameters in request and statement don't match.",
            ));
        }
        Ok(st)
    }
}

/// `<<…>>`: a set of strings, numbers or binaries, one type, no duplicates.
fn set_of(items: Vec<AttrValue>) -> Result<AttrValue> {
    let mut ss = Vec::new();
    let mut ns = Vec::new();
    let mut bs = Vec::new();
    for i in items {
        match i {
            AttrValue::S(s) if !ss.contains(&s) => ss.push(s),
            AttrValue::N(n) if !ns.contains(&n) => ns.push(n),
            AttrValue::B(b) if !bs.contains(&b) => bs.push(b),
            AttrValue::S(_) | AttrValue::N(_) | AttrValue::B(_) => {}
            _ => return Err(malformed("Sets hold only strings, numbers or binaries")),
        }
    }
    match (ss.is_empty(), ns.is_empty(), bs.is_empty()) {
        (false, true, true) => Ok(AttrValue::Ss(ss)),
        (true, false, true) => Ok(AttrValue::Ns(ns)),
        (true, true, false) => Ok(AttrValue::Bs(bs)),
        _ => Err(malformed("A set's elements must all have one type")),
    }
}

pub fn parse(src: &str, params: Vec<AttrValue>) -> Result<Statement> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        params,
        next_param: 0,
        depth: 0,
    };
    p.statement()
}
