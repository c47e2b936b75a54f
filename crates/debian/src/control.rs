//! `debian/control`: the source paragraph plus one paragraph per binary package, with
//! comments allowed and `file:line` errors for malformed input.

use crate::deb822::{self, Deb822Error, OwnedParagraph, ParseOptions};
use crate::relation::{RelationError, Relations};

/// `debian/control` errors.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// deb822 syntax error (already `file:line`).
    #[error(transparent)]
    Syntax(#[from] Deb822Error),
    /// The file has no paragraph at all.
    #[error("{file}: empty control file")]
    Empty {
        /// File name.
        file: String,
    },
    /// First paragraph lacks `Source`.
    #[error("{file}:{line}: first paragraph has no Source field")]
    MissingSource {
        /// File name.
        file: String,
        /// Line of the paragraph.
        line: usize,
    },
    /// A binary paragraph lacks `Package`.
    #[error("{file}:{line}: binary paragraph has no Package field")]
    MissingPackage {
        /// File name.
        file: String,
        /// Line of the paragraph.
        line: usize,
    },
    /// A relation field does not parse.
    #[error("{file}:{line}: {field}: {source}")]
    Relation {
        /// File name.
        file: String,
        /// Line of the field.
        line: usize,
        /// Field name.
        field: String,
        /// Cause.
        #[source]
        source: RelationError,
    },
}

/// A parsed `debian/control`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// Source package name.
    pub source: String,
    /// `Build-Depends` (may contain substitution-free relations only).
    pub build_depends: Relations,
    /// `Build-Depends-Arch`.
    pub build_depends_arch: Relations,
    /// `Build-Depends-Indep`.
    pub build_depends_indep: Relations,
    /// The whole source paragraph (comments removed).
    pub source_paragraph: OwnedParagraph,
    /// Binary paragraphs in file order (relations may hold `${...}` substvars, so they
    /// are kept as text here).
    pub binaries: Vec<OwnedParagraph>,
}

/// Parse a `debian/control` text; `file` is used in messages.
pub fn parse(text: &str, file: &str) -> Result<Control, ControlError> {
    let opts = ParseOptions {
        comments: true,
        file: Some(file),
    };
    let ps = deb822::parse_with(text, opts)?;
    let (src, bins) = ps.split_first().ok_or_else(|| ControlError::Empty {
        file: file.to_owned(),
    })?;
    let source = src
        .get("Source")
        .ok_or_else(|| ControlError::MissingSource {
            file: file.to_owned(),
            line: src.line(),
        })?;
    if let Some(b) = bins.iter().find(|b| b.get("Package").is_none()) {
        return Err(ControlError::MissingPackage {
            file: file.to_owned(),
            line: b.line(),
        });
    }
    let rel = |field: &str| -> Result<Relations, ControlError> {
        match src.field(field) {
            None => Ok(Relations::default()),
            Some(f) => f.value().parse().map_err(|source| ControlError::Relation {
                file: file.to_owned(),
                line: f.line(),
                field: field.to_owned(),
                source,
            }),
        }
    };
    Ok(Control {
        source: source.to_owned(),
        build_depends: rel("Build-Depends")?,
        build_depends_arch: rel("Build-Depends-Arch")?,
        build_depends_indep: rel("Build-Depends-Indep")?,
        source_paragraph: src.to_owned_paragraph(),
        binaries: bins.iter().map(|b| b.to_owned_paragraph()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTROL: &str = "# comment\nSource: hello\nBuild-Depends: debhelper-compat (= 13),\n# inline comment\n help2man, texinfo\n\nPackage: hello\nArchitecture: any\nDepends: ${shlibs:Depends}, ${misc:Depends}\n";

    #[test]
    fn parses_source_and_binaries() {
        let c = parse(CONTROL, "debian/control").unwrap();
        assert_eq!(c.source, "hello");
        assert_eq!(
            c.build_depends.to_string(),
            "debhelper-compat (= 13), help2man, texinfo"
        );
        assert_eq!(c.binaries.len(), 1);
        assert_eq!(c.binaries[0].get("Package"), Some("hello"));
    }

    #[test]
    fn malformed_inputs_point_at_file_and_line() {
        let cases = [
            ("Source: x\nno colon\n", "debian/control:2: "),
            (" Source: x\n", "debian/control:1: "),
            (
                "Maintainer: m\n\nPackage: x\n",
                "debian/control:1: first paragraph has no Source",
            ),
            (
                "Source: x\n\nArchitecture: any\n",
                "debian/control:3: binary paragraph has no Package",
            ),
            (
                "Source: x\nBuild-Depends: a (>= \n",
                "debian/control:2: Build-Depends: ",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text, "debian/control").unwrap_err().to_string();
            assert!(e.starts_with(want), "{e:?} should start with {want:?}");
        }
        assert!(matches!(
            parse("# only\n", "c"),
            Err(ControlError::Empty { .. })
        ));
    }
}
