//! Hand-written relation parser (the grammar is small and this runs for every field of a
//! 63k-package index, so it avoids regexes and allocates only the final values).

use super::*;

fn syntax(message: impl Into<String>, relation: &str) -> RelationError {
    RelationError::Syntax {
        message: message.into(),
        relation: relation.trim().to_owned(),
    }
}

/// Parse a whole relation field. Empty entries between commas (`a, , b`, trailing `,`)
/// are skipped, as dpkg does.
pub(super) fn parse_relations(s: &str) -> Result<Relations, RelationError> {
    let mut groups = Vec::new();
    for group in s.split(',') {
        if group.trim().is_empty() {
            continue;
        }
        let alts = group
            .split('|')
            .map(parse_relation)
            .collect::<Result<Vec<_>, _>>()?;
        groups.push(Alternatives(alts));
    }
    Ok(Relations(groups))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_')
}

/// Parse one relation such as `libc6:amd64 (>= 2.36) [linux-any] <!nocheck>`.
pub fn parse_relation(text: &str) -> Result<Relation, RelationError> {
    let mut s = text.trim_start();
    let name_len = s.find(|c: char| !is_name_char(c)).unwrap_or(s.len());
    if name_len == 0 {
        return Err(syntax("expected a package name", text));
    }
    let name = s[..name_len].to_owned();
    s = &s[name_len..];
    let mut arch_qualifier = ArchQualifier::None;
    if let Some(rest) = s.strip_prefix(':') {
        let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        arch_qualifier = match &rest[..len] {
            "" => return Err(syntax("empty architecture qualifier", text)),
            "any" => ArchQualifier::Any,
            "native" => ArchQualifier::Native,
            a => ArchQualifier::Arch(a.to_owned()),
        };
        s = &rest[len..];
    }
    s = s.trim_start();
    let mut constraint = None;
    if let Some(rest) = s.strip_prefix('(') {
        let close = rest.find(')').ok_or_else(|| syntax("missing `)`", text))?;
        let inner = rest[..close].trim();
        let (op, ver) = parse_op(inner).ok_or_else(|| syntax("expected an operator", text))?;
        let version = ver
            .trim()
            .parse()
            .map_err(|source| RelationError::Version {
                relation: text.trim().to_owned(),
                source,
            })?;
        constraint = Some((op, version));
        s = rest[close + 1..].trim_start();
    }
    let mut arch_restriction = None;
    if let Some(rest) = s.strip_prefix('[') {
        let close = rest.find(']').ok_or_else(|| syntax("missing `]`", text))?;
        arch_restriction = Some(parse_arch_list(&rest[..close], text)?);
        s = rest[close + 1..].trim_start();
    }
    let mut profile_restriction = Vec::new();
    while let Some(rest) = s.strip_prefix('<') {
        let close = rest.find('>').ok_or_else(|| syntax("missing `>`", text))?;
        let lits = rest[..close]
            .split_whitespace()
            .map(|w| {
                let (negated, name) = match w.strip_prefix('!') {
                    Some(n) => (true, n),
                    None => (false, w),
                };
                if name.is_empty() || !name.chars().all(is_name_char) {
                    return Err(syntax(format!("invalid build profile {w:?}"), text));
                }
                Ok(ProfileLiteral {
                    negated,
                    name: name.to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if lits.is_empty() {
            return Err(syntax("empty build-profile group `<>`", text));
        }
        profile_restriction.push(ProfileTerm(lits));
        s = rest[close + 1..].trim_start();
    }
    if !s.trim().is_empty() {
        return Err(syntax(format!("unexpected {:?}", s.trim()), text));
    }
    Ok(Relation {
        name,
        arch_qualifier,
        constraint,
        arch_restriction,
        profile_restriction,
    })
}

fn parse_op(inner: &str) -> Option<(Op, &str)> {
    // Longest operators first; `<` and `>` are dpkg's obsolete spellings of `<=`/`>=`.
    const OPS: [(&str, Op); 7] = [
        ("<<", Op::Less),
        ("<=", Op::LessEq),
        (">=", Op::GreaterEq),
        (">>", Op::Greater),
        ("=", Op::Eq),
        ("<", Op::LessEq),
        (">", Op::GreaterEq),
    ];
    OPS.iter()
        .find_map(|(p, op)| inner.strip_prefix(p).map(|rest| (*op, rest)))
}

fn parse_arch_list(list: &str, text: &str) -> Result<ArchRestriction, RelationError> {
    let mut lits = Vec::new();
    for w in list.split_whitespace() {
        let (negated, a) = match w.strip_prefix('!') {
            Some(a) => (true, a),
            None => (false, w),
        };
        if a.is_empty() || !a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(syntax(format!("invalid architecture {w:?}"), text));
        }
        lits.push(ArchLiteral {
            negated,
            arch: a.to_owned(),
        });
    }
    if lits.is_empty() {
        return Err(syntax("empty architecture list `[]`", text));
    }
    Ok(ArchRestriction(lits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_syntax() {
        let r: Relations = "a (>= 1.0) | b:any [amd64 !i386] <!nocheck> <cross>, c:native (<< 2) ,"
            .parse()
            .unwrap();
        assert_eq!(r.0.len(), 2);
        let a = &r.0[0].0[0];
        assert_eq!(a.name, "a");
        let c = a.constraint.as_ref().map(|c| (c.0, c.1.as_str()));
        assert_eq!(c, Some((Op::GreaterEq, "1.0")));
        let b = &r.0[0].0[1];
        assert_eq!(b.arch_qualifier, ArchQualifier::Any);
        let arches = &b.arch_restriction.as_ref().unwrap().0;
        assert_eq!((arches[0].negated, arches[1].negated), (false, true));
        assert_eq!(arches[1].arch, "i386");
        assert_eq!(b.profile_restriction.len(), 2);
        assert!(b.profile_restriction[0].0[0].negated);
        assert_eq!(r.0[1].0[0].arch_qualifier, ArchQualifier::Native);
        assert_eq!(
            r.to_string(),
            "a (>= 1.0) | b:any [amd64 !i386] <!nocheck> <cross>, c:native (<< 2)"
        );
    }

    #[test]
    fn versioned_provides_and_obsolete_ops() {
        let r: Relations = "foo (= 1.2), bar(<2)".parse().unwrap();
        assert_eq!(r.0[0].0[0].constraint.as_ref().unwrap().0, Op::Eq);
        assert_eq!(r.0[1].0[0].constraint.as_ref().unwrap().0, Op::LessEq);
    }

    #[test]
    fn errors_name_the_text() {
        let e = "ok, bad (>= 1.0".parse::<Relations>().unwrap_err();
        assert_eq!(e.to_string(), "missing `)` in relation \"bad (>= 1.0\"");
        let e = "x (>= a.b)".parse::<Relations>().unwrap_err();
        assert!(matches!(e, RelationError::Version { .. }), "{e}");
        for bad in [
            "(>= 1)",
            "a [amd64 !]",
            "a <>",
            "a []",
            "a (~ 1)",
            "a b",
            "a:",
        ] {
            assert!(bad.parse::<Relations>().is_err(), "{bad}");
        }
    }
}
