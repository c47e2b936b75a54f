//! Domain newtypes of rpm metadata: package names and architectures, validated as rpm
//! accepts them in a header (non-empty, no whitespace or control characters, no `/`;
//! rpm-md cannot carry anything else).

use std::fmt;

/// Why a name or arch is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}")]
pub struct NameError {
    /// `package name` or `architecture`.
    pub what: &'static str,
    /// The value.
    pub value: String,
}

fn check(what: &'static str, s: &str, extra: &[char]) -> Result<(), NameError> {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/' || extra.contains(&c))
    {
        return Err(NameError {
            what,
            value: s.to_owned(),
        });
    }
    Ok(())
}

/// An rpm package name (`glibc-devel`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName(String);

impl PackageName {
    /// Validate a name.
    pub fn new(s: &str) -> Result<PackageName, NameError> {
        check("package name", s, &[])?;
        Ok(PackageName(s.to_owned()))
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An rpm architecture (`x86_64`, `i686`, `noarch`, `src`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arch(String);

impl Arch {
    /// Validate an architecture.
    pub fn new(s: &str) -> Result<Arch, NameError> {
        check("architecture", s, &['-', ':'])?;
        Ok(Arch(s.to_owned()))
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `noarch`.
    pub fn is_noarch(&self) -> bool {
        self.0 == "noarch"
    }
    /// `src` / `nosrc` (source packages).
    pub fn is_source(&self) -> bool {
        self.0 == "src" || self.0 == "nosrc"
    }
    /// The architectures installable on a machine of `self`, best first (as rpm's
    /// `arch_compat` lists them), then `noarch`.
    pub fn compatible(&self) -> Vec<Arch> {
        let list: &[&str] = match self.0.as_str() {
            "x86_64" => &["x86_64", "athlon", "i686", "i586", "i486", "i386"],
            "i686" => &["i686", "i586", "i486", "i386"],
            "aarch64" => &["aarch64"],
            "ppc64le" => &["ppc64le"],
            "s390x" => &["s390x"],
            other => return vec![Arch(other.to_owned()), Arch("noarch".to_owned())],
        };
        list.iter()
            .map(|a| Arch((*a).to_owned()))
            .chain([Arch("noarch".to_owned())])
            .collect()
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        assert!(PackageName::new("glibc-devel").is_ok());
        assert!(PackageName::new("").is_err());
        assert!(PackageName::new("a b").is_err());
        assert!(Arch::new("x86_64").is_ok());
        assert!(Arch::new("x86-64").is_err());
        assert_eq!(
            Arch::new("x86_64").unwrap().compatible()[0].as_str(),
            "x86_64"
        );
        assert!(Arch::new("x86_64")
            .unwrap()
            .compatible()
            .iter()
            .any(Arch::is_noarch));
    }
}
