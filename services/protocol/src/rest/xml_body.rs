//! Shape-driven conversion between rest-xml bodies and the engine's value tree.
//!
//! Names: a member is written as its `locationName` (else its name); list items as the list
//! member's `locationName` (else `member`); map entries as `entry` with `key`/`value` unless
//! renamed. Flattened lists and maps repeat the member element itself. Timestamps default to
//! ISO 8601.

use super::{
    in_output_body, namespace_attr, scalar_from_text, scalar_to_text, shape_of, wire_name,
};
use crate::model::XmlNamespace;
use crate::timestamp::TimestampFormat;
use crate::xml::{Element, XmlWriter};
use crate::{ProtocolError, ServiceModel, Shape, ShapeRef, ShapeType};
use serde_json::{Map, Value};

fn flattened(r: &ShapeRef, shape: &Shape) -> bool {
    r.flattened.unwrap_or(shape.flattened)
}

fn namespace<'a>(r: &'a ShapeRef, shape: Option<&'a Shape>) -> Option<&'a XmlNamespace> {
    r.xml_namespace
        .as_ref()
        .or_else(|| shape.and_then(|s| s.xml_namespace.as_ref()))
}

/// Element -> value for one member whose element is `el`.
pub(crate) fn from_element(
    model: &ServiceModel,
    r: &ShapeRef,
    el: &Element,
) -> Result<Value, ProtocolError> {
    let Some(shape) = shape_of(model, r) else {
        return Ok(Value::String(el.text.clone()));
    };
    match shape.kind {
        ShapeType::Structure => Ok(Value::Object(struct_from_element(model, shape, el)?)),
        ShapeType::List => {
            let Some(item) = shape.member.as_deref() else {
                return Ok(Value::Array(Vec::new()));
            };
            // Item element names are not checked: clients do not either.
            el.children
                .iter()
                .map(|c| from_element(model, item, c))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        ShapeType::Map => {
            let mut out = Map::new();
            for entry in &el.children {
                map_entry(model, shape, entry, &mut out)?;
            }
            Ok(Value::Object(out))
        }
        ShapeType::String => Ok(Value::String(el.text.clone())),
        // Whitespace is not part of a base64 blob or a number.
        _ => scalar_from_text(model, r, el.text.trim()),
    }
}

fn map_entry(
    model: &ServiceModel,
    shape: &Shape,
    entry: &Element,
    out: &mut Map<String, Value>,
) -> Result<(), ProtocolError> {
    let (Some(kref), Some(vref)) = (shape.key.as_deref(), shape.value.as_deref()) else {
        return Ok(());
    };
    let kname = kref.location_name.as_deref().unwrap_or("key");
    let vname = vref.location_name.as_deref().unwrap_or("value");
    let key = entry.child(kname).map(|k| k.text.clone());
    let value = entry.child(vname);
    if let (Some(k), Some(v)) = (key, value) {
        out.insert(k, from_element(model, vref, v)?);
    }
    Ok(())
}

/// The members of a structure from the children and attributes of `el`.
pub(crate) fn struct_from_element(
    model: &ServiceModel,
    shape: &Shape,
    el: &Element,
) -> Result<Map<String, Value>, ProtocolError> {
    let mut out = Map::new();
    for (name, m) in &shape.members {
        if m.location.is_some() {
            continue;
        }
        let Some(mshape) = shape_of(model, m) else {
            continue;
        };
        let wire = wire_name(name, m);
        if m.xml_attribute.unwrap_or(false) {
            if let Some(v) = el.attribute(wire) {
                out.insert(name.clone(), scalar_from_text(model, m, v)?);
            }
            continue;
        }
        let local = wire.rsplit(':').next().unwrap_or(wire);
        let value = match mshape.kind {
            ShapeType::List if flattened(m, mshape) => {
                // botocore writes flattened items under the member's name; its parser (and
                // older clients) use the list member's name: accept both.
                let alt = mshape
                    .member
                    .as_deref()
                    .and_then(|i| i.location_name.as_deref());
                let Some(item) = mshape.member.as_deref() else {
                    continue;
                };
                let items = el
                    .children
                    .iter()
                    .filter(|c| c.local_name() == local || Some(c.local_name()) == alt)
                    .map(|c| from_element(model, item, c))
                    .collect::<Result<Vec<_>, _>>()?;
                (!items.is_empty()).then_some(Value::Array(items))
            }
            ShapeType::Map if flattened(m, mshape) => {
                let mut map = Map::new();
                for entry in el.children_named(local) {
                    map_entry(model, mshape, entry, &mut map)?;
                }
                (!map.is_empty()).then_some(Value::Object(map))
            }
            _ => match el.child(local) {
                Some(c) => Some(from_element(model, m, c)?),
                None => None,
            },
        };
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    Ok(out)
}

/// Write one member as element `name`.
pub(crate) fn write_member(
    w: &mut XmlWriter,
    model: &ServiceModel,
    name: &str,
    r: &ShapeRef,
    v: &Value,
) {
    if v.is_null() {
        return;
    }
    let shape = shape_of(model, r);
    let ns: Vec<(String, String)> = namespace(r, shape)
        .map(namespace_attr)
        .into_iter()
        .collect();
    let Some(shape) = shape else {
        write_untyped(w, name, v);
        return;
    };
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(obj)) => write_struct(w, model, name, shape, obj, ns),
        (ShapeType::List, Value::Array(items)) => {
            let Some(item) = shape.member.as_deref() else {
                return;
            };
            if flattened(r, shape) {
                // botocore reads a flattened list's items under the member's own name when it
                // has one (SQS's `QueueUrl` items of `QueueUrls`).
                let iname = item.location_name.as_deref().unwrap_or(name);
                for i in items {
                    write_member(w, model, iname, item, i);
                }
            } else {
                open(w, name, &ns);
                let iname = item.location_name.as_deref().unwrap_or("member");
                for i in items {
                    write_member(w, model, iname, item, i);
                }
                w.close(name);
            }
        }
        (ShapeType::Map, Value::Object(obj)) => {
            let (Some(kref), Some(vref)) = (shape.key.as_deref(), shape.value.as_deref()) else {
                return;
            };
            let kname = kref.location_name.as_deref().unwrap_or("key");
            let vname = vref.location_name.as_deref().unwrap_or("value");
            let flat = flattened(r, shape);
            if !flat {
                open(w, name, &ns);
            }
            for (k, item) in obj {
                if flat {
                    open(w, name, &ns);
                } else {
                    w.open("entry", &[]);
                }
                write_member(w, model, kname, kref, &Value::String(k.clone()));
                write_member(w, model, vname, vref, item);
                w.close(if flat { name } else { "entry" });
            }
            if !flat {
                w.close(name);
            }
        }
        _ => {
            if let Some(text) = scalar_to_text(model, r, v, TimestampFormat::Iso8601) {
                open(w, name, &ns);
                w.text(&text);
                w.close(name);
            }
        }
    }
}

/// Write a structure as element `name`: `xmlAttribute` members become attributes, the others
/// child elements; members bound to response headers/status are skipped.
pub(crate) fn write_struct(
    w: &mut XmlWriter,
    model: &ServiceModel,
    name: &str,
    shape: &Shape,
    obj: &Map<String, Value>,
    mut attrs: Vec<(String, String)>,
) {
    for (mname, m) in &shape.members {
        if in_output_body(m) && m.xml_attribute.unwrap_or(false) {
            if let Some(text) = obj
                .get(mname)
                .and_then(|v| scalar_to_text(model, m, v, TimestampFormat::Iso8601))
            {
                attrs.push((wire_name(mname, m).to_string(), text));
            }
        }
    }
    open(w, name, &attrs);
    write_children(w, model, shape, obj);
    w.close(name);
}

/// The child elements of a structure (no wrapper).
pub(crate) fn write_children(
    w: &mut XmlWriter,
    model: &ServiceModel,
    shape: &Shape,
    obj: &Map<String, Value>,
) {
    for (mname, m) in &shape.members {
        if !in_output_body(m) || m.xml_attribute.unwrap_or(false) {
            continue;
        }
        if let Some(v) = obj.get(mname) {
            write_member(w, model, wire_name(mname, m), m, v);
        }
    }
}

/// A value with no shape to guide it (error fields the model does not declare).
pub(crate) fn write_untyped(w: &mut XmlWriter, name: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Object(obj) => {
            w.open(name, &[]);
            for (k, i) in obj {
                write_untyped(w, k, i);
            }
            w.close(name);
        }
        Value::Array(items) => {
            w.open(name, &[]);
            for i in items {
                write_untyped(w, "member", i);
            }
            w.close(name);
        }
        Value::String(s) => w.element(name, s),
        other => w.element(name, &other.to_string()),
    }
}

fn open(w: &mut XmlWriter, name: &str, attrs: &[(String, String)]) {
    let refs: Vec<(&str, &str)> = attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    w.open(name, &refs);
}
