//! The parsed prjconf (`Prjconf`) and the second pass that turns active directive lines into
//! it, with the semantics of obs-build's `read_config`: case-insensitive `Key:` tokens, list
//! directives that accumulate and drop entries with `!entry` (`!*` clears), `Substitute`
//! replacing per key, scalar directives where the last one wins, and the `Cryo-*` namespace.

use std::collections::{BTreeMap, BTreeSet};

use crate::cryo::CryoSettings;
use crate::error::{ErrorKind, PrjconfError, Warning};
use crate::macros::{MacroDef, MacroTable};
use crate::model::{
    ConflictPair, Flag, IgnoreEntry, OrderEntry, PackageName, PreferEntry, UnknownDirective,
};
use crate::preprocess::{Item, Pre};

/// What the caller knows before parsing: the build architecture and extra `%define`s.
#[derive(Debug, Clone, Default)]
pub struct ParseContext {
    /// The build architecture as rpm/OBS names it (`x86_64`); see `arch::debian_to_rpm`.
    pub arch_rpm: String,
    /// Macros defined before the first line, like obs-build's `Build::define`.
    pub defines: BTreeMap<String, String>,
}

impl ParseContext {
    pub fn new(arch_rpm: &str) -> Self {
        Self {
            arch_rpm: arch_rpm.to_owned(),
            defines: BTreeMap::new(),
        }
    }
}

/// Directives OBS knows that cryo keeps as unknown (with a warning naming them as OBS's).
const OBS_UNINTERPRETED: &[&str] = &[
    "fileprovides",
    "exportfilter",
    "publishfilter",
    "optflags",
    "buildengine",
    "patterntype",
    "cicntstart",
    "releaseprg",
    "releasesuffix",
    "changetarget",
    "target",
    "hostarch",
    "constraint",
    "singleexport",
    "publishflags",
    "repourl",
    "registryurl",
    "assetsurl",
    "onlynative",
    "alsonative",
];

/// Directives whose tokens accumulate (with `!entry` / `!*` removal).
const LISTS: &[&str] = &[
    "preinstall",
    "vminstall",
    "required",
    "support",
    "keep",
    "prefer",
    "ignore",
    "conflict",
    "runscripts",
    "expandflags",
    "buildflags",
];

/// A parsed project config. Sets where OBS's meaning ignores order, lists where it does not.
#[derive(Debug, Clone)]
pub struct Prjconf {
    pub(crate) arch_rpm: String,
    pub(crate) repotype: Vec<String>,
    pub(crate) build_type: Option<String>,
    pub(crate) binary_type: Option<String>,
    pub(crate) preinstall: BTreeSet<PackageName>,
    pub(crate) vminstall: BTreeSet<PackageName>,
    pub(crate) runscripts: Vec<PackageName>,
    pub(crate) required: BTreeSet<PackageName>,
    pub(crate) support: BTreeSet<PackageName>,
    pub(crate) keep: BTreeSet<PackageName>,
    pub(crate) ignore: BTreeSet<IgnoreEntry>,
    pub(crate) substitute: BTreeMap<PackageName, Vec<PackageName>>,
    pub(crate) prefer: Vec<PreferEntry>,
    pub(crate) conflict: BTreeSet<ConflictPair>,
    pub(crate) order: BTreeSet<OrderEntry>,
    pub(crate) expand_flags: BTreeSet<Flag>,
    pub(crate) build_flags: BTreeSet<Flag>,
    pub(crate) release: Option<String>,
    pub(crate) macros: BTreeMap<String, MacroDef>,
    pub(crate) defines: BTreeMap<String, MacroDef>,
    pub(crate) cryo: CryoSettings,
    pub(crate) unknown: Vec<UnknownDirective>,
    pub(crate) warnings: Vec<Warning>,
}

type Tokens = Vec<(String, usize)>;

/// Raw state while reading lines: tokens with the line they came from.
#[derive(Default)]
struct Raw {
    lists: BTreeMap<&'static str, Tokens>,
    substitute: BTreeMap<String, (Vec<String>, usize)>,
    order: BTreeMap<String, usize>,
    repotype: Vec<String>,
    build_type: Option<String>,
    binary_type: Option<String>,
    release: Option<String>,
    macros: BTreeMap<String, MacroDef>,
}

impl Prjconf {
    /// Parses `text`; `file` names it in errors and warnings.
    pub fn parse(text: &str, file: &str, ctx: &ParseContext) -> Result<Self, PrjconfError> {
        let ctx_err =
            |reason: String| PrjconfError::new(file, 0, ErrorKind::InvalidContext { reason });
        let arch = ctx.arch_rpm.as_str();
        if arch.is_empty() || arch.contains(char::is_whitespace) {
            return Err(ctx_err(format!("bad architecture `{arch}`")));
        }
        let mut table = MacroTable::builtin(arch);
        for (name, body) in &ctx.defines {
            if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                return Err(ctx_err(format!("bad macro name `{name}`")));
            }
            table.define(name, None, body);
        }
        table.define("_target_cpu", None, arch);
        let initial = table.clone();
        let pre = Pre::new(file, arch, table).run(text)?;

        let mut raw = Raw::default();
        let mut cryo = CryoSettings::default();
        let mut unknown = Vec::new();
        let mut warnings = pre.warnings;
        let warn = |warnings: &mut Vec<Warning>, line: usize, message: String| {
            warnings.push(Warning {
                file: file.to_owned(),
                line,
                message,
            });
        };
        for item in pre.items {
            let (line, text) = match item {
                Item::Macros { reset, defs } => {
                    if reset {
                        raw.macros.clear();
                    }
                    raw.macros.extend(defs);
                    continue;
                }
                Item::Line { line, text } => (line, text),
            };
            let err = |kind| PrjconfError::new(file, line, kind);
            let mut words = text.split_whitespace();
            let Some(key) = words.next() else { continue };
            let args: Vec<String> = words.map(str::to_owned).collect();
            let lc = key.to_ascii_lowercase();
            if key.starts_with('%') {
                warn(
                    &mut warnings,
                    line,
                    format!("`{key}` statement is not supported; line ignored"),
                );
                continue;
            }
            let Some(name) = lc.strip_suffix(':') else {
                warn(
                    &mut warnings,
                    line,
                    format!("unknown directive `{key}` (no `Key:`); kept"),
                );
                unknown.push(UnknownDirective {
                    file: file.into(),
                    line,
                    key: lc,
                    args,
                });
                continue;
            };
            if let Some(tok) = args.iter().find(|a| a.starts_with('#')) {
                let (directive, token) = (key.to_owned(), tok.clone());
                return Err(err(ErrorKind::InlineComment { directive, token }));
            }
            if name.starts_with("cryo-") {
                let orig = &key[5..key.len() - 1];
                cryo.apply(&key[..key.len() - 1], orig, &args.join(" "))
                    .map_err(err)?;
                continue;
            }
            if let Some(list) = LISTS.iter().find(|l| **l == name) {
                let v = raw.lists.entry(list).or_default();
                for a in args {
                    if a == "!*" {
                        v.clear();
                    } else if let Some(gone) = a.strip_prefix('!') {
                        v.retain(|(t, _)| t != gone);
                    } else {
                        v.push((a, line));
                    }
                }
                continue;
            }
            match name {
                "substitute" => match args.split_first() {
                    None => {}
                    Some((k, _)) if k == "!*" => raw.substitute.clear(),
                    Some((k, _)) if k.starts_with('!') => {
                        raw.substitute.remove(&k[1..]);
                    }
                    Some((k, rest)) => {
                        raw.substitute.insert(k.clone(), (rest.to_vec(), line));
                    }
                },
                "order" => {
                    for a in args {
                        if a == "!*" {
                            raw.order.clear();
                        } else if let Some(gone) = a.strip_prefix('!') {
                            raw.order.remove(gone);
                        } else {
                            raw.order.insert(a, line);
                        }
                    }
                }
                "repotype" => raw.repotype = unify(args),
                "type" => raw.build_type = args.first().cloned(),
                "binarytype" => raw.binary_type = args.first().cloned(),
                "release" => {
                    if args.len() > 1 {
                        warn(
                            &mut warnings,
                            line,
                            "Release: takes one value; extra values ignored".into(),
                        );
                    }
                    raw.release = args.first().cloned();
                }
                "macros" => {
                    return Err(err(ErrorKind::MacrosWithText {
                        text: text.trim().to_owned(),
                    }));
                }
                _ => {
                    let message = if OBS_UNINTERPRETED.contains(&name) {
                        format!("OBS directive `{key}` is not interpreted by cryo; kept")
                    } else {
                        format!("unknown directive `{key}`; kept")
                    };
                    warn(&mut warnings, line, message);
                    unknown.push(UnknownDirective {
                        file: file.into(),
                        line,
                        key: name.to_owned(),
                        args,
                    });
                }
            }
        }

        let defines = pre
            .table
            .iter()
            .filter(|(k, v)| initial.get(k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        raw.finish(file, arch, cryo, defines, unknown, warnings)
    }
}

/// Drops later duplicates, keeping first-seen order (obs-build's `unify`).
fn unify(v: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    v.into_iter().filter(|t| seen.insert(t.clone())).collect()
}

impl Raw {
    fn finish(
        mut self,
        file: &str,
        arch: &str,
        cryo: CryoSettings,
        defines: BTreeMap<String, MacroDef>,
        unknown: Vec<UnknownDirective>,
        warnings: Vec<Warning>,
    ) -> Result<Prjconf, PrjconfError> {
        let mut take = |k: &str| self.lists.remove(k).unwrap_or_default();
        let bad = |directive: &str, entry: &str, line: usize, reason: String| {
            let kind = ErrorKind::BadEntry {
                directive: directive.into(),
                entry: entry.into(),
                reason,
            };
            PrjconfError::new(file, line, kind)
        };
        let names = |directive: &str, toks: Tokens| -> Result<Vec<PackageName>, PrjconfError> {
            toks.into_iter()
                .map(|(t, line)| {
                    PackageName::new(&t)
                        .ok_or_else(|| bad(directive, &t, line, "empty name".into()))
                })
                .collect()
        };
        let set = |d, t| names(d, t).map(|v| v.into_iter().collect::<BTreeSet<_>>());
        let preinstall = set("Preinstall", take("preinstall"))?;
        let vminstall = set("VMinstall", take("vminstall"))?;
        let required = set("Required", take("required"))?;
        let support = set("Support", take("support"))?;
        let keep = set("Keep", take("keep"))?;
        let mut seen = BTreeSet::new();
        let runscripts = names("Runscripts", take("runscripts"))?
            .into_iter()
            .filter(|n| seen.insert(n.clone()))
            .collect();
        let mut ignore = BTreeSet::new();
        for (t, line) in take("ignore") {
            ignore.extend(IgnoreEntry::parse_token(&t).map_err(|r| bad("Ignore", &t, line, r))?);
        }
        let mut prefer: Vec<PreferEntry> = Vec::new();
        for (t, line) in take("prefer") {
            let p = PreferEntry::parse_token(&t).map_err(|r| bad("Prefer", &t, line, r))?;
            if !prefer.contains(&p) {
                prefer.push(p);
            }
        }
        let mut conflict = BTreeSet::new();
        for (t, line) in take("conflict") {
            conflict
                .extend(ConflictPair::parse_token(&t).map_err(|r| bad("Conflict", &t, line, r))?);
        }
        let flags = |toks: Tokens| toks.iter().map(|(t, _)| Flag::parse_token(t)).collect();
        let expand_flags = flags(take("expandflags"));
        let build_flags = flags(take("buildflags"));
        let mut order = BTreeSet::new();
        for (t, line) in self.order {
            order.insert(OrderEntry::parse_token(&t).map_err(|r| bad("Order", &t, line, r))?);
        }
        let mut substitute = BTreeMap::new();
        for (k, (vals, line)) in self.substitute {
            let key = PackageName::new(&k)
                .ok_or_else(|| bad("Substitute", &k, line, "empty name".into()))?;
            let vals = unify(vals).into_iter().map(|v| (v, line)).collect();
            substitute.insert(key, names("Substitute", vals)?);
        }
        Ok(Prjconf {
            arch_rpm: arch.to_owned(),
            repotype: self.repotype,
            build_type: self.build_type,
            binary_type: self.binary_type,
            preinstall,
            vminstall,
            runscripts,
            required,
            support,
            keep,
            ignore,
            substitute,
            prefer,
            conflict,
            order,
            expand_flags,
            build_flags,
            release: self.release,
            macros: self.macros,
            defines,
            cryo,
            unknown,
            warnings,
        })
    }
}
