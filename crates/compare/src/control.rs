//! The `control` file of `control.tar`: compared field by field, so that a package whose
//! only differences are the dependency versions its `control` records (for example
//! `Depends: perl (>= 5.36.0-7+deb12u3)` against `(>= 5.36.0-7)`, or `perlapi-5.36.0`) is
//! told apart from changed code. Those fields are [`Category::Control`]; any other field
//! difference is [`Category::Content`].

use cryo_debian::deb822;

use crate::diff::{Category, Detail, DiffNode};

/// Fields that record relations to other packages (and therefore the versions of the build
/// environment's packages, through `${shlibs:Depends}`, `${perl:Depends}`, …).
pub const RELATION_FIELDS: &[&str] = &[
    "Depends",
    "Pre-Depends",
    "Recommends",
    "Suggests",
    "Enhances",
    "Breaks",
    "Conflicts",
    "Replaces",
    "Provides",
    "Built-Using",
    "Static-Built-Using",
];

/// Whether `field` (any case) records relations to other packages.
pub fn is_relation_field(field: &str) -> bool {
    RELATION_FIELDS
        .iter()
        .any(|f| f.eq_ignore_ascii_case(field))
}

/// One paragraph as (name, value) pairs in file order; `None` unless the text is exactly one
/// well-formed deb822 paragraph.
fn fields(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let paragraphs = deb822::parse(text).ok()?;
    let [p] = paragraphs.as_slice() else {
        return None;
    };
    Some(
        p.fields()
            .iter()
            .map(|f| (f.name().to_owned(), f.multiline()))
            .collect(),
    )
}

/// Compares two `control` files field by field. `None` when either side does not parse as a
/// single paragraph, or when every field is equal but the bytes differ (field order,
/// spacing): the caller then compares the file as text (`content`).
pub fn compare(ours: &[u8], official: &[u8]) -> Option<Vec<DiffNode>> {
    let (a, b) = (fields(ours)?, fields(official)?);
    let get = |list: &[(String, String)], name: &str| {
        list.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut names: Vec<&str> = b.iter().map(|(n, _)| n.as_str()).collect();
    for (n, _) in &a {
        if !names.iter().any(|m| m.eq_ignore_ascii_case(n)) {
            names.push(n);
        }
    }
    let mut nodes = Vec::new();
    for name in names {
        let (mine, theirs) = (get(&a, name), get(&b, name));
        if mine == theirs {
            continue;
        }
        let category = if is_relation_field(name) {
            Category::Control
        } else {
            Category::Content
        };
        nodes.push(DiffNode::leaf(
            name,
            category,
            Detail::ControlField {
                field: name.to_owned(),
                ours: mine,
                official: theirs,
            },
        ));
    }
    if nodes.is_empty() {
        return None;
    }
    Some(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICIAL: &str = "Package: libfoo-perl\nVersion: 1.0-1\nArchitecture: amd64\n\
Depends: perl (>= 5.36.0-7+deb12u3), perlapi-5.36.0, libc6 (>= 2.34)\nDescription: foo\n bar\n";

    #[test]
    fn dependency_versions_are_control() {
        let ours = OFFICIAL
            .replace("5.36.0-7+deb12u3", "5.36.0-7")
            .replace("perlapi-5.36.0", "perlapi-5.36.1");
        let nodes = compare(ours.as_bytes(), OFFICIAL.as_bytes()).unwrap();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].category, Category::Control);
        assert_eq!(nodes[0].location, "Depends");
    }

    #[test]
    fn other_fields_are_content() {
        let ours = OFFICIAL.replace("Version: 1.0-1", "Version: 1.0-2");
        let nodes = compare(ours.as_bytes(), OFFICIAL.as_bytes()).unwrap();
        assert_eq!(nodes[0].category, Category::Content);
    }

    #[test]
    fn reordered_fields_fall_back_to_text() {
        let ours = "Version: 1.0-1\nPackage: libfoo-perl\n";
        let official = "Package: libfoo-perl\nVersion: 1.0-1\n";
        assert!(compare(ours.as_bytes(), official.as_bytes()).is_none());
    }

    #[test]
    fn a_field_only_on_one_side_is_reported() {
        let ours = format!("{OFFICIAL}Recommends: bar\n");
        let nodes = compare(ours.as_bytes(), OFFICIAL.as_bytes()).unwrap();
        assert_eq!(nodes[0].category, Category::Control);
        assert!(matches!(
            &nodes[0].detail,
            Detail::ControlField { official: None, .. }
        ));
    }
}
