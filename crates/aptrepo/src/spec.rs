//! The description of a repository to publish ([`RepoSpec`]) and the validated names it is
//! made of: [`Component`], [`Architecture`], [`Codename`]. Every name that becomes a path
//! component is checked here, so nothing later can escape `dists/` or `pool/`.

use std::fmt;
use std::str::FromStr;

/// A name or free-text field that cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Not a valid path-safe token for this kind of name.
    #[error("invalid {kind} {value:?}: {why}")]
    InvalidName {
        /// What kind of name (component, architecture, ...).
        kind: &'static str,
        /// The rejected value.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// A Release field that must be one line of printable text.
    #[error("Release field {field} must be a single line without control characters: {value:?}")]
    InvalidText {
        /// The field name.
        field: &'static str,
        /// The rejected value.
        value: String,
    },
    /// No architectures were given, or the same one twice.
    #[error("architectures: {0}")]
    Architectures(&'static str),
    /// No components were given, or the same one twice.
    #[error("components: {0}")]
    Components(&'static str),
    /// `Valid-Until` is not after `Date`.
    #[error("Valid-Until ({valid_until}) must be later than Date ({date})")]
    ValidUntil {
        /// Repository date.
        date: i64,
        /// Requested expiry.
        valid_until: i64,
    },
}

/// Check a token: non-empty, at most 100 bytes, only `[a-z0-9]` plus `extra`, starting
/// with an alphanumeric (so never `.`/`..`/`-x`).
fn token(kind: &'static str, value: &str, extra: &[char]) -> Result<(), SpecError> {
    let err = |why| {
        Err(SpecError::InvalidName {
            kind,
            value: value.to_owned(),
            why,
        })
    };
    let Some(first) = value.chars().next() else {
        return err("empty");
    };
    if value.len() > 100 {
        return err("longer than 100 bytes");
    }
    if !first.is_ascii_lowercase() && !first.is_ascii_digit() {
        return err("must start with a lowercase letter or digit");
    }
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c);
    if !value.chars().all(ok) {
        return err("only lowercase letters, digits and the allowed punctuation");
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $extra:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The name as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = SpecError;
            fn from_str(s: &str) -> Result<Self, SpecError> {
                token($kind, s, $extra)?;
                Ok($name(s.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// An archive component (`main`, `contrib`, ...): `[a-z0-9][a-z0-9.+-]*`.
    Component, "component", &['-', '.', '+']
);
name_type!(
    /// A Debian architecture name (`amd64`, `arm64`, `all`): `[a-z0-9][a-z0-9-]*`.
    Architecture, "architecture", &['-']
);
name_type!(
    /// The distribution directory name under `dists/` (also used for `Suite`).
    Codename, "codename", &['-', '.', '+', '_']
);

impl Architecture {
    /// Whether this is the pseudo-architecture `all`.
    pub fn is_all(&self) -> bool {
        self.0 == "all"
    }
}

/// What to publish: the Release metadata. The date is an input (never the clock) so the
/// same inputs give byte-identical output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// `Origin:` (free text, one line).
    pub origin: String,
    /// `Label:` (free text, one line).
    pub label: String,
    /// `Suite:`.
    pub suite: Codename,
    /// `Codename:` and the directory `dists/<codename>/`.
    pub codename: Codename,
    /// `Version:` (optional, one line).
    pub version: Option<String>,
    /// `Description:` (optional, one line).
    pub description: Option<String>,
    /// Components, in `Release` order; the first is the default for inputs.
    pub components: Vec<Component>,
    /// Binary architectures with their own `binary-<arch>` index (never `all`:
    /// `Architecture: all` packages are listed in every one of them).
    pub architectures: Vec<Architecture>,
    /// `Date:` as unix seconds (UTC); also the signature creation time.
    pub date: i64,
    /// `Valid-Until:` as unix seconds, if the metadata should expire.
    pub valid_until: Option<i64>,
}

impl RepoSpec {
    /// A spec with component `main`, no version, description or expiry.
    pub fn new(
        origin: impl Into<String>,
        label: impl Into<String>,
        codename: Codename,
        architectures: Vec<Architecture>,
        date: i64,
    ) -> RepoSpec {
        RepoSpec {
            origin: origin.into(),
            label: label.into(),
            suite: codename.clone(),
            codename,
            version: None,
            description: None,
            components: vec![Component("main".to_owned())],
            architectures,
            date,
            valid_until: None,
        }
    }

    /// Check the invariants the types cannot express.
    pub fn validate(&self) -> Result<(), SpecError> {
        let line = |field, v: &str| {
            if v.chars().any(char::is_control) || v.trim() != v {
                Err(SpecError::InvalidText {
                    field,
                    value: v.to_owned(),
                })
            } else {
                Ok(())
            }
        };
        line("Origin", &self.origin)?;
        line("Label", &self.label)?;
        if let Some(v) = &self.version {
            line("Version", v)?;
        }
        if let Some(v) = &self.description {
            line("Description", v)?;
        }
        if self.architectures.is_empty() {
            return Err(SpecError::Architectures("at least one is required"));
        }
        if self.architectures.iter().any(Architecture::is_all) {
            return Err(SpecError::Architectures(
                "`all` is not an index architecture (its packages go into every binary-<arch>)",
            ));
        }
        if has_duplicates(&self.architectures) {
            return Err(SpecError::Architectures("listed twice"));
        }
        if self.components.is_empty() {
            return Err(SpecError::Components("at least one is required"));
        }
        if has_duplicates(&self.components) {
            return Err(SpecError::Components("listed twice"));
        }
        if let Some(valid_until) = self.valid_until {
            if valid_until <= self.date {
                return Err(SpecError::ValidUntil {
                    date: self.date,
                    valid_until,
                });
            }
        }
        Ok(())
    }
}

fn has_duplicates<T: Ord>(items: &[T]) -> bool {
    let set: std::collections::BTreeSet<&T> = items.iter().collect();
    set.len() != items.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!("main".parse::<Component>().is_ok());
        assert!("non-free-firmware".parse::<Component>().is_ok());
        for bad in ["", "..", ".x", "a/b", "Main", "a b", "-x"] {
            assert!(bad.parse::<Component>().is_err(), "{bad:?}");
        }
        assert!("amd64".parse::<Architecture>().is_ok());
        assert!("kfreebsd-amd64".parse::<Architecture>().is_ok());
        assert!("amd_64".parse::<Architecture>().is_err());
        assert!("bookworm-security".parse::<Codename>().is_ok());
    }

    #[test]
    fn spec_validation() {
        let arch = |s: &str| s.parse::<Architecture>().unwrap();
        let mut s = RepoSpec::new(
            "cryo",
            "cryo",
            "stable".parse().unwrap(),
            vec![arch("amd64")],
            10,
        );
        assert_eq!(s.validate(), Ok(()));
        s.valid_until = Some(10);
        assert!(matches!(s.validate(), Err(SpecError::ValidUntil { .. })));
        s.valid_until = None;
        s.label = "two\nlines".into();
        assert!(matches!(s.validate(), Err(SpecError::InvalidText { .. })));
        s.label = "ok".into();
        s.architectures.push(arch("all"));
        assert!(matches!(s.validate(), Err(SpecError::Architectures(_))));
        s.architectures = vec![arch("amd64"), arch("amd64")];
        assert!(matches!(s.validate(), Err(SpecError::Architectures(_))));
    }
}
