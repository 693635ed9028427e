//! Small XML helpers shared by the query and rest-xml serializers and parsers: an escaping
//! writer and a minimal element tree read with quick-xml.

use quick_xml::events::Event;
use quick_xml::Reader;

/// Escape text or attribute content.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| matches!(c, '<' | '>' | '&' | '"' | '\'' | '\r') || !allowed_in_xml(c))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A bare CR would be normalised away by the client's XML parser.
            '\r' => out.push_str("&#13;"),
            // XML 1.0 cannot carry these at all, even escaped; a client's parser would fail.
            c if !allowed_in_xml(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters XML 1.0 allows in a document.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends XML to a string.
#[derive(Debug, Default)]
pub struct XmlWriter {
    pub out: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self {
            out: String::with_capacity(512),
        }
    }
    pub fn declaration(&mut self) {
        self.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    }
    /// `<name attr="v" ...>`
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(v));
            self.out.push('"');
        }
        self.out.push('>');
    }
    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
    pub fn text(&mut self, text: &str) {
        self.out.push_str(&escape(text));
    }
    /// `<name>text</name>`
    pub fn element(&mut self, name: &str, text: &str) {
        self.open(name, &[]);
        self.text(text);
        self.close(name);
    }
    pub fn finish(self) -> String {
        self.out
    }
}

/// An element of a parsed XML document. Names keep their prefix as written (`xsi:type`);
/// `local_name` strips it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local_name() == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local_name() == name)
    }
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name || k.rsplit(':').next() == Some(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Deepest element nesting accepted. AWS documents nest a few levels; a hostile one nested
/// tens of thousands deep would exhaust the stack when its tree is walked or dropped.
const MAX_DEPTH: usize = 200;

/// Parse a document into its root element. Comments, processing instructions and the
/// declaration are skipped; text of an element is the concatenation of its text and CDATA.
pub fn parse(doc: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(doc);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("malformed XML: {e}"))?;
        match ev {
            Event::Start(s) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("malformed XML: elements nested too deeply".into());
                }
                stack.push(start_element(&s)?)
            }
            Event::Empty(s) => {
                let el = start_element(&s)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("malformed XML: unexpected end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    let s = t.unescape().map_err(|e| format!("malformed XML: {e}"))?;
                    cur.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Event::Eof => return Err("malformed XML: unexpected end of document".into()),
            _ => {}
        }
        buf.clear();
    }
}

fn start_element(s: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| format!("malformed XML: {e}"))?;
        let k = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let v = a
            .unescape_value()
            .map_err(|e| format!("malformed XML: {e}"))?
            .into_owned();
        attributes.push((k, v));
    }
    Ok(Element {
        name,
        attributes,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_and_entities() {
        let el = parse(
            b"<?xml version=\"1.0\"?><A xmlns=\"x\"><B k=\"v\">1 &amp; 2</B><C/><B>3</B></A>",
        )
        .expect("parses");
        assert_eq!(el.name, "A");
        assert_eq!(el.child("B").map(|b| b.text.as_str()), Some("1 & 2"));
        assert_eq!(el.children_named("B").count(), 2);
        assert_eq!(el.child("B").and_then(|b| b.attribute("k")), Some("v"));
        assert!(parse(b"<A><B></A>").is_err());
        let deep = format!("{}{}", "<a>".repeat(50_000), "</a>".repeat(50_000));
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn escapes() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(escape("a\u{1}b\u{FFFE}"), "a\u{FFFD}b\u{FFFD}");
    }
}
