//! Evaluation of architecture restrictions and build-profile formulas: the reduced
//! relations that apply to one host architecture and one set of active profiles.

use std::collections::BTreeSet;

use super::*;
use crate::arch::Arch;

impl ArchRestriction {
    /// Does the restriction include `host`? Follows dpkg's `debarch_is_concerned`:
    /// a positive entry that matches selects; a negated entry that matches deselects;
    /// a negated entry that does not match selects unless a later one matches.
    pub fn includes(&self, host: &Arch) -> bool {
        let mut seen = false;
        for lit in &self.0 {
            let hit = host.matches(&lit.arch);
            if lit.negated {
                if hit {
                    return false;
                }
                seen = true;
            } else if hit {
                return true;
            }
        }
        seen
    }
}

impl ProfileTerm {
    /// Is this conjunction true for the active profile set?
    pub fn holds(&self, active: &BTreeSet<String>) -> bool {
        self.0.iter().all(|l| active.contains(&l.name) != l.negated)
    }
}

impl Relation {
    /// Does this relation apply for `host` with `profiles` active? (An empty profile
    /// restriction always applies; otherwise one `<...>` group must hold.)
    pub fn applies(&self, host: &Arch, profiles: &BTreeSet<String>) -> bool {
        self.arch_restriction
            .as_ref()
            .is_none_or(|r| r.includes(host))
            && (self.profile_restriction.is_empty()
                || self.profile_restriction.iter().any(|t| t.holds(profiles)))
    }
}

impl Relations {
    /// The relations that apply to `host` and `profiles`, with the (now satisfied)
    /// arch and profile restrictions removed. Alternatives that lose every member are
    /// dropped entirely, as dpkg-checkbuilddeps does.
    pub fn reduce(&self, host: &Arch, profiles: &BTreeSet<String>) -> Relations {
        Relations(
            self.0
                .iter()
                .filter_map(|alts| {
                    let kept: Vec<Relation> = alts
                        .0
                        .iter()
                        .filter(|r| r.applies(host, profiles))
                        .map(|r| Relation {
                            arch_restriction: None,
                            profile_restriction: Vec::new(),
                            ..r.clone()
                        })
                        .collect();
                    (!kept.is_empty()).then_some(Alternatives(kept))
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(field: &str, arch: &str, profiles: &[&str]) -> String {
        let r: Relations = field.parse().unwrap();
        let p = profiles.iter().map(|s| s.to_string()).collect();
        r.reduce(&arch.parse().unwrap(), &p).to_string()
    }

    #[test]
    fn arch_restrictions() {
        let f = "a [linux-any], b [!amd64], c [any-i386 any-arm], d [!hurd-any !kfreebsd-any]";
        assert_eq!(reduce(f, "amd64", &[]), "a, d");
        assert_eq!(reduce(f, "i386", &[]), "a, b, c, d");
        assert_eq!(reduce(f, "hurd-i386", &[]), "b, c");
        assert_eq!(reduce("x [amd64 !i386] | y", "amd64", &[]), "x | y");
        assert_eq!(reduce("x [amd64 !i386] | y", "i386", &[]), "y");
        assert_eq!(reduce("x [amd64 !i386]", "arm64", &[]), "x");
    }

    #[test]
    fn profiles() {
        let f = "a <!nocheck>, b <cross> <stage1 !nodoc>, c";
        assert_eq!(reduce(f, "amd64", &[]), "a, c");
        assert_eq!(reduce(f, "amd64", &["nocheck"]), "c");
        assert_eq!(reduce(f, "amd64", &["cross"]), "a, b, c");
        assert_eq!(reduce(f, "amd64", &["stage1"]), "a, b, c");
        assert_eq!(reduce(f, "amd64", &["stage1", "nodoc"]), "a, c");
    }
}
