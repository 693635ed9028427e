//! Where a value sits in a request (`entries.1.member.id`, `Entries[0].Id`), for the messages
//! of parse and validation errors.
//!
//! Built on the stack as the walk descends and rendered only when an error names it: every
//! member's path used to be formatted into a new String whether or not an error needed it.

use std::fmt;

#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    /// `parent.name`, or `name` at the root.
    Field(&'a Path<'a>, &'a str),
    /// As `Field`, the name's first letter lower-cased (how AWS's validation messages name
    /// members: `RoleName` -> `roleName`).
    Member(&'a Path<'a>, &'a str),
    /// `parent[i]`.
    Index(&'a Path<'a>, usize),
    /// `parent.{i+1}.member`: a list element, counted from 1 as the query protocol does.
    Element(&'a Path<'a>, usize),
    /// `parent.{key}.key` and `parent.{key}.member`: a map's key and its value.
    MapKey(&'a Path<'a>, &'a str),
    MapValue(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    pub(crate) fn is_root(&self) -> bool {
        matches!(self, Path::Root)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dot = |f: &mut fmt::Formatter<'_>, parent: &Path<'_>| -> fmt::Result {
            if parent.is_root() {
                Ok(())
            } else {
                write!(f, "{parent}.")
            }
        };
        match self {
            Path::Root => Ok(()),
            Path::Field(parent, name) => {
                dot(f, parent)?;
                f.write_str(name)
            }
            Path::Member(parent, name) => {
                dot(f, parent)?;
                let mut chars = name.chars();
                if let Some(first) = chars.next() {
                    write!(f, "{}", first.to_lowercase())?;
                }
                f.write_str(chars.as_str())
            }
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Element(parent, i) => write!(f, "{parent}.{}.member", i + 1),
            Path::MapKey(parent, k) => write!(f, "{parent}.{k}.key"),
            Path::MapValue(parent, k) => write!(f, "{parent}.{k}.member"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Path;

    #[test]
    fn renders_as_the_eager_formats_did() {
        let root = Path::Root;
        let entries = Path::Member(&root, "Entries");
        let second = Path::Element(&entries, 1);
        let id = Path::Member(&second, "Id");
        assert_eq!(id.to_string(), "entries.2.member.id");
        let tags = Path::Member(&root, "Tags");
        assert_eq!(Path::MapKey(&tags, "Env").to_string(), "tags.Env.key");
        assert_eq!(Path::MapValue(&tags, "Env").to_string(), "tags.Env.member");
        let list = Path::Field(&root, "Entries");
        let item = Path::Index(&list, 0);
        assert_eq!(Path::Field(&item, "Id").to_string(), "Entries[0].Id");
        assert_eq!(root.to_string(), "");
    }
}
