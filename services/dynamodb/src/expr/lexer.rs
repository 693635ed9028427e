//! Tokens of DynamoDB's expression language, with their source positions for error messages.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare attribute name or keyword.
    Ident(String),
    /// `#name`
    NameRef(String),
    /// `:value`
    ValueRef(String),
    /// A list index.
    Int(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    /// A character the language does not know.
    Unknown(char),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn lex(src: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).map(|c| c.1);
    let pos = |i: usize| chars.get(i).map(|c| c.0).unwrap_or(src.len());
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            '.' => Tok::Dot,
            '=' => Tok::Eq,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '<' => match at(i + 1) {
                Some('>') => {
                    i += 1;
                    Tok::Ne
                }
                Some('=') => {
                    i += 1;
                    Tok::Le
                }
                _ => Tok::Lt,
            },
            '>' => match at(i + 1) {
                Some('=') => {
                    i += 1;
                    Tok::Ge
                }
                _ => Tok::Gt,
            },
            '#' | ':' => {
                let mut j = i + 1;
                while at(j).is_some_and(is_word) {
                    j += 1;
                }
                let name = src[pos(i)..pos(j)].to_string();
                i = j - 1;
                if c == '#' {
                    Tok::NameRef(name)
                } else {
                    Tok::ValueRef(name)
                }
            }
            c if c.is_ascii_digit() => {
                let mut j = i;
                while at(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                let text = src[pos(i)..pos(j)].to_string();
                i = j - 1;
                Tok::Int(text)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i;
                while at(j).is_some_and(is_word) {
                    j += 1;
                }
                let text = src[pos(i)..pos(j)].to_string();
                i = j - 1;
                Tok::Ident(text)
            }
            other => Tok::Unknown(other),
        };
        i += 1;
        out.push(Token {
            tok,
            start: pos(start),
            end: pos(i),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    out
}
