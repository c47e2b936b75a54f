//! What to resolve: a source's build relations for one kind of build
//! (`dpkg-buildpackage -b/-B/-A`), the prjconf, the active build profiles, and how
//! alternatives in build dependencies are treated. Turns them into reduced, substituted
//! root relations.

use std::collections::BTreeSet;

use cryo_debian::arch::Arch;
use cryo_debian::index::SourcePackage;
use cryo_debian::relation::{Alternatives, Relations};
use cryo_prjconf::Prjconf;

use crate::explain::DepKind;
use crate::policy::Policy;

/// Which binaries are built, hence which `-Arch`/`-Indep` fields apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildKind {
    /// `dpkg-buildpackage -b`: arch-dependent and arch-independent (the default).
    #[default]
    Full,
    /// `-B`: arch-dependent only (Build-Depends + Build-Depends-Arch).
    ArchOnly,
    /// `-A`: arch-independent only (Build-Depends + Build-Depends-Indep).
    IndepOnly,
}

/// How `a | b` in build dependencies is treated (binary packages' `Depends` always use
/// apt's rule: an alternative already in the closure, else the first installable one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlternativePolicy {
    /// Debian's buildds (sbuild with the apt resolver, `--no-resolve-alternatives`): only
    /// the first alternative is kept after arch/profile reduction, plus later alternatives
    /// naming the same package (`foo (<< 3) | foo (>= 4)`). Debian Policy §7.1 documents it.
    #[default]
    FirstOnly,
    /// apt's rule, as `apt-get build-dep` and `sbuild --resolve-alternatives` use it.
    Resolve,
}

/// One resolution request.
#[derive(Debug, Clone)]
pub struct ResolveRequest<'a> {
    /// The source package (from a Sources index or a `.dsc`).
    pub source: &'a SourcePackage,
    /// What is built.
    pub build: BuildKind,
    /// The project configuration.
    pub prjconf: &'a Prjconf,
    /// Active build profiles (`nocheck`, ...).
    pub profiles: BTreeSet<String>,
    /// Alternatives in build dependencies.
    pub alternatives: AlternativePolicy,
    /// Install every `Essential: yes` package of the universe, as a Debian chroot has them
    /// (packages never declare dependencies on them). Default true.
    pub essential: bool,
    /// Packages the builder itself needs in the root (e.g. `libfaketime` for a pinned
    /// clock), installed like prjconf `Required:` ones. Default empty.
    pub builder_tools: Vec<String>,
}

/// The profiles named by the prjconf's `%deb_build_profiles` (space or comma separated).
pub fn prjconf_profiles(conf: &Prjconf) -> BTreeSet<String> {
    conf.deb_build_profiles()
        .unwrap_or("")
        .split([' ', ',', '\t', '\n'])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A root relation group and where it comes from.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    pub(crate) kind: DepKind,
    pub(crate) group: Alternatives,
}

impl<'a> ResolveRequest<'a> {
    /// A `-b` build with the prjconf's profiles, sbuild's alternative rule and Essential
    /// packages included.
    pub fn new(source: &'a SourcePackage, prjconf: &'a Prjconf) -> Self {
        ResolveRequest {
            source,
            build: BuildKind::Full,
            prjconf,
            profiles: prjconf_profiles(prjconf),
            alternatives: AlternativePolicy::FirstOnly,
            essential: true,
            builder_tools: Vec::new(),
        }
    }

    /// The build-dependency fields that apply to this build.
    fn depends_fields(&self) -> Vec<(DepKind, &'a Relations)> {
        let s = self.source;
        let mut v = vec![(DepKind::BuildDepends, &s.build_depends)];
        if self.build != BuildKind::IndepOnly {
            v.push((DepKind::BuildDependsArch, &s.build_depends_arch));
        }
        if self.build != BuildKind::ArchOnly {
            v.push((DepKind::BuildDependsIndep, &s.build_depends_indep));
        }
        v
    }

    /// The Build-Conflicts fields that apply, reduced for `host` and the profiles.
    pub(crate) fn conflicts(&self, host: &Arch) -> Vec<Alternatives> {
        let s = self.source;
        let mut fields = vec![&s.build_conflicts];
        if self.build != BuildKind::IndepOnly {
            fields.push(&s.build_conflicts_arch);
        }
        if self.build != BuildKind::ArchOnly {
            fields.push(&s.build_conflicts_indep);
        }
        fields
            .into_iter()
            .flat_map(|f| f.reduce(host, &self.profiles).0)
            .collect()
    }

    /// Build dependencies reduced for `host` and the profiles, alternatives stripped per
    /// [`AlternativePolicy`], then `Substitute:` applied.
    pub(crate) fn build_roots(&self, host: &Arch, policy: &Policy) -> Vec<Root> {
        let mut out = Vec::new();
        for (kind, field) in self.depends_fields() {
            for group in field.reduce(host, &self.profiles).0 {
                let group = match self.alternatives {
                    AlternativePolicy::Resolve => group,
                    AlternativePolicy::FirstOnly => first_only(group),
                };
                for g in policy.substitute_group(&group) {
                    out.push(Root { kind, group: g });
                }
            }
        }
        out
    }

    /// Names the build dependencies mention (for OBS's keep rule).
    pub(crate) fn named(&self, host: &Arch) -> BTreeSet<String> {
        self.depends_fields()
            .into_iter()
            .flat_map(|(_, f)| f.reduce(host, &self.profiles).0)
            .flat_map(|g| g.0.into_iter().map(|r| r.name))
            .collect()
    }
}

/// sbuild's `--no-resolve-alternatives`: keep the first alternative and any later one
/// naming the same package.
fn first_only(group: Alternatives) -> Alternatives {
    let Some(first) = group.0.first().map(|r| r.name.clone()) else {
        return group;
    };
    Alternatives(group.0.into_iter().filter(|r| r.name == first).collect())
}
