//! The digests SQS returns and SDKs verify: MD5 of the body, and of message (or system)
//! attributes in AWS's binary encoding: for each attribute by name, length-prefixed name and
//! data type, a transport byte (1 string, 2 binary), then the length-prefixed value.

use crate::shapes::MessageAttributes;
use base64::Engine;
use md5::{Digest, Md5};

pub fn hex(bytes: &[u8]) -> String {
    let mut h = Md5::new();
    h.update(bytes);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// MD5 of a set of attributes; `None` for no attributes (AWS then omits the member).
pub fn of_attributes(attrs: &MessageAttributes) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    // BTreeMap iterates by name, the order AWS hashes in.
    for (name, v) in attrs {
        put(&mut buf, name.as_bytes());
        put(&mut buf, v.data_type.as_bytes());
        if let Some(s) = &v.string_value {
            buf.push(1);
            put(&mut buf, s.as_bytes());
        } else if let Some(b) = &v.binary_value {
            buf.push(2);
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default();
            put(&mut buf, &raw);
        }
    }
    Some(hex(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::MessageAttributeValue;

    #[test]
    fn body_digest() {
        assert_eq!(hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn attribute_digest_matches_aws_encoding() {
        // Worked by hand from the documented encoding: name "a", type "String", value "b".
        let mut attrs = MessageAttributes::new();
        attrs.insert(
            "a".into(),
            MessageAttributeValue {
                string_value: Some("b".into()),
                data_type: "String".into(),
                ..Default::default()
            },
        );
        let mut buf = vec![0, 0, 0, 1, b'a', 0, 0, 0, 6];
        buf.extend_from_slice(b"String");
        buf.extend_from_slice(&[1, 0, 0, 0, 1, b'b']);
        assert_eq!(of_attributes(&attrs), Some(hex(&buf)));
        assert_eq!(of_attributes(&MessageAttributes::new()), None);
    }
}
