//! The entry point: builds the roots from the request and the prjconf, runs the preinstall
//! and install phases, verifies negative relations over the whole closure and produces the
//! [`Closure`].

use std::collections::BTreeSet;

use crate::closure::{Closure, Selected};
use crate::expand::{negatives, Expander, Need};
use crate::explain::{Clash, ConflictKind, DepKind, Link, Unresolvable};
use crate::policy::{bare, Policy};
use crate::request::{ResolveRequest, Root};
use crate::universe::{PkgId, Universe};

fn prjconf_roots<'n>(
    kind: DepKind,
    names: impl IntoIterator<Item = &'n cryo_prjconf::PackageName>,
    policy: &Policy,
) -> Vec<Root> {
    names
        .into_iter()
        .flat_map(|n| {
            policy.substitute_group(&cryo_debian::relation::Alternatives(vec![bare(n.as_str())]))
        })
        .map(|group| Root { kind, group })
        .collect()
}

fn needs(roots: Vec<Root>, package: &str, version: Option<String>, origin: &str) -> Vec<Need> {
    roots
        .into_iter()
        .map(|r| Need {
            parent: None,
            link: Link {
                package: package.to_owned(),
                version: version.clone(),
                kind: r.kind,
                relation: r.group.to_string(),
            },
            origin: origin.to_owned(),
            group: r.group,
        })
        .collect()
}

/// Resolve the build environment of `req` in `uni`.
pub fn resolve(uni: &Universe, req: &ResolveRequest<'_>) -> Result<Closure, Unresolvable> {
    let conf = req.prjconf;
    let host = uni.host();
    let mut policy = Policy::new(conf);
    // OBS: the source's own binaries are not installed unless kept.
    let named = req.named(host);
    policy.excluded = req
        .source
        .binaries
        .iter()
        .filter(|b| {
            !conf.keep().iter().any(|k| k.as_str() == b.as_str())
                && !conf.preinstall().iter().any(|k| k.as_str() == b.as_str())
                && !named.contains(*b)
        })
        .cloned()
        .collect();
    let src = &req.source.package;
    let build_conflicts: Vec<_> = req
        .conflicts(host)
        .into_iter()
        .flat_map(|g| g.0)
        .map(|r| (src.clone(), r))
        .collect();
    let mut ex = Expander::new(uni, &policy, build_conflicts);

    let pre = prjconf_roots(DepKind::Preinstall, conf.preinstall(), &policy);
    ex.run(needs(pre, "prjconf", None, ""))?;
    let preinstall: BTreeSet<PkgId> = if conf.has_expand_flag("preinstallexpand") {
        ex.set.clone()
    } else {
        ex.why
            .iter()
            .filter(|(_, w)| w.parent.is_none())
            .map(|(id, _)| *id)
            .collect()
    };

    let mut install = needs(
        prjconf_roots(DepKind::Required, conf.required(), &policy),
        "prjconf",
        None,
        "",
    );
    install.extend(needs(
        prjconf_roots(DepKind::Support, conf.support(), &policy),
        "prjconf",
        None,
        "",
    ));
    let tools: Vec<cryo_prjconf::PackageName> = req
        .builder_tools
        .iter()
        .filter_map(|t| cryo_prjconf::PackageName::new(t))
        .collect();
    install.extend(needs(
        prjconf_roots(DepKind::BuilderTool, tools.iter(), &policy),
        "cryo",
        None,
        "",
    ));
    install.extend(needs(
        req.build_roots(host, &policy),
        src,
        Some(req.source.version.to_string()),
        src,
    ));
    if req.essential {
        for id in uni.essential().collect::<Vec<_>>() {
            let p = uni.pkg(id);
            install.push(Need {
                parent: None,
                link: Link {
                    package: p.package.clone(),
                    version: Some(p.version.to_string()),
                    kind: DepKind::Essential,
                    relation: "Essential: yes".into(),
                },
                origin: String::new(),
                group: cryo_debian::relation::Alternatives(vec![bare(&p.package)]),
            });
        }
    }
    ex.run(install)?;
    check_negative(&ex, uni, &policy, req)?;
    Ok(output(&ex, uni, &preinstall))
}

/// Conflicts/Breaks between selected packages, prjconf Conflict and Build-Conflicts.
fn check_negative(
    ex: &Expander<'_>,
    uni: &Universe,
    policy: &Policy,
    req: &ResolveRequest<'_>,
) -> Result<(), Unresolvable> {
    for &a in &ex.set {
        for (field, rel) in negatives(uni.pkg(a)) {
            if let Some(&b) = uni
                .satisfiers(rel)
                .iter()
                .find(|b| **b != a && ex.set.contains(b))
            {
                let kind = if field == "Breaks" {
                    ConflictKind::Breaks
                } else {
                    ConflictKind::Conflicts
                };
                return Err(conflict(ex, uni, a, b, kind, format!("{field}: {rel}")));
            }
        }
    }
    for (a, b) in policy.conflict_pairs() {
        let find = |n: &str| ex.set.iter().copied().find(|id| uni.pkg(*id).package == n);
        if let (Some(x), Some(y)) = (find(a), find(b)) {
            return Err(conflict(
                ex,
                uni,
                x,
                y,
                ConflictKind::Prjconf,
                format!("{a}:{b}"),
            ));
        }
    }
    for group in req.conflicts(uni.host()) {
        for rel in &group.0 {
            if let Some(&b) = ex.set.iter().find(|id| uni.matches(rel, **id)) {
                return Err(Unresolvable::Conflict(Box::new(Clash {
                    a: req.source.package.clone(),
                    a_chain: Default::default(),
                    b: label(uni, b),
                    b_chain: ex.chain_of(b),
                    kind: ConflictKind::BuildConflicts,
                    relation: rel.to_string(),
                })));
            }
        }
    }
    Ok(())
}

fn label(uni: &Universe, id: PkgId) -> String {
    let p = uni.pkg(id);
    format!("{} {}", p.package, p.version)
}

fn conflict(
    ex: &Expander<'_>,
    uni: &Universe,
    a: PkgId,
    b: PkgId,
    kind: ConflictKind,
    relation: String,
) -> Unresolvable {
    Unresolvable::Conflict(Box::new(Clash {
        a: label(uni, a),
        a_chain: ex.chain_of(a),
        b: label(uni, b),
        b_chain: ex.chain_of(b),
        kind,
        relation,
    }))
}

fn output(ex: &Expander<'_>, uni: &Universe, preinstall: &BTreeSet<PkgId>) -> Closure {
    let mut c = Closure::default();
    // PkgIds are ordered by (name, arch), so both lists come out sorted.
    for &id in &ex.set {
        let e = uni.entry(id);
        let s = Selected {
            name: e.cand.pkg.package.clone(),
            version: e.cand.pkg.version.clone(),
            arch: e.cand.pkg.architecture.clone(),
            sha256: e.sha256,
            size: e.size,
            filename: e.filename.clone(),
            origin: e.cand.origin.clone(),
            reason: ex.chain_of(id),
        };
        if preinstall.contains(&id) {
            c.preinstall.push(s);
        } else {
            c.install.push(s);
        }
    }
    c
}
