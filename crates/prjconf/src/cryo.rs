//! cryo's own settings, which OBS has no directive for, written in the same prjconf as
//! `Cryo-<Name>: value` (case-insensitive key like every OBS key). Each value is validated here;
//! an unknown `Cryo-*` key is an error, because a typo in our own namespace must not pass.

use serde::Serialize;

use crate::error::ErrorKind;

/// The names after `Cryo-` that cryo knows, as documented in docs/prjconf.md.
pub const KNOWN_KEYS: &[&str] = &[
    "Clock",
    "BuildPath",
    "BuildUser",
    "Timeout",
    "IdleTimeout",
    "Locale",
    "Umask",
    "ReleasePattern",
];

/// What the build's clock shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// Pinned to the date of the top debian/changelog entry (SOURCE_DATE_EPOCH).
    Changelog,
    /// The real time: left alone.
    Real,
    /// Pinned to this many seconds since the epoch.
    Fixed(u64),
}

/// Where the source is unpacked inside the sandbox: an absolute path template in which
/// `%{SRC}` and `%{VER}` stand for the source package's name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BuildPathTemplate(String);

impl BuildPathTemplate {
    pub const DEFAULT: &'static str = "/build/reproducible-path/%{SRC}-%{VER}";

    pub fn parse(s: &str) -> Result<Self, String> {
        if !s.starts_with('/') {
            return Err("must be an absolute path".into());
        }
        if s.len() > 1 && s.ends_with('/') {
            return Err("must not end with `/`".into());
        }
        if s[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err("must not contain empty, `.` or `..` components".into());
        }
        if s.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err("must not contain whitespace".into());
        }
        let stripped = s.replace("%{SRC}", "").replace("%{VER}", "");
        if stripped.contains('%') {
            return Err("the only placeholders are %{SRC} and %{VER}".into());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path for one source package.
    pub fn render(&self, src: &str, ver: &str) -> String {
        self.0.replace("%{SRC}", src).replace("%{VER}", ver)
    }
}

/// The unprivileged user the build runs as inside the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BuildUser {
    pub uid: u32,
    pub gid: u32,
}

/// A locale name for `LANG`/`LC_ALL`, e.g. `C.UTF-8`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Locale(String);

impl Locale {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A file-mode creation mask (at most 0o777).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Umask(u32);

impl Umask {
    pub fn bits(self) -> u32 {
        self.0
    }
}

/// A Debian version suffix with `<CI_CNT>`/`<B_CNT>` placeholders, e.g. `+eol12u<CI_CNT>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ReleasePattern(String);

impl ReleasePattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn render(&self, ci_cnt: u64, b_cnt: u64) -> String {
        self.0
            .replace("<CI_CNT>", &ci_cnt.to_string())
            .replace("<B_CNT>", &b_cnt.to_string())
    }
}

/// All `Cryo-*` settings, with their defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CryoSettings {
    pub clock: Clock,
    pub build_path: BuildPathTemplate,
    pub build_user: BuildUser,
    pub timeout_secs: u64,
    /// sbuild's inactivity timeout: a build that prints nothing for this many minutes is
    /// killed (`Cryo-IdleTimeout`, default 150 like sbuild's `$STALLED_PKG_TIMEOUT`).
    pub idle_timeout_mins: u64,
    pub locale: Locale,
    pub umask: Umask,
    pub release_pattern: Option<ReleasePattern>,
}

impl Default for CryoSettings {
    fn default() -> Self {
        Self {
            // What Debian's build daemons run; a pinned clock is a policy to choose.
            clock: Clock::Real,
            build_path: BuildPathTemplate(BuildPathTemplate::DEFAULT.to_owned()),
            build_user: BuildUser {
                uid: 1000,
                gid: 1000,
            },
            timeout_secs: 10_800,
            idle_timeout_mins: DEFAULT_IDLE_TIMEOUT_MINS,
            locale: Locale("C.UTF-8".to_owned()),
            umask: Umask(0o022),
            release_pattern: None,
        }
    }
}

const MAX_TIMEOUT: u64 = 7 * 24 * 3600;

/// `Cryo-IdleTimeout`'s default in minutes (sbuild's).
pub const DEFAULT_IDLE_TIMEOUT_MINS: u64 = 150;

impl CryoSettings {
    /// Applies `Cryo-<name>: value`; `key` is the key as written (for messages).
    pub(crate) fn apply(&mut self, key: &str, name: &str, value: &str) -> Result<(), ErrorKind> {
        let invalid = |reason: &str| ErrorKind::InvalidCryoValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let Some(canonical) = KNOWN_KEYS.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
            return Err(ErrorKind::UnknownCryoKey {
                key: key.to_owned(),
                known: KNOWN_KEYS
                    .iter()
                    .map(|k| format!("Cryo-{k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if value.is_empty() {
            return Err(ErrorKind::MissingCryoValue {
                key: key.to_owned(),
            });
        }
        match *canonical {
            "Clock" => {
                let words: Vec<&str> = value.split_whitespace().collect();
                self.clock = match words.as_slice() {
                    [w] if w.eq_ignore_ascii_case("changelog") => Clock::Changelog,
                    [w] if w.eq_ignore_ascii_case("real") => Clock::Real,
                    [w, n] if w.eq_ignore_ascii_case("fixed") => {
                        Clock::Fixed(n.parse().map_err(|_| {
                            invalid("`fixed` needs unix seconds (a non-negative integer)")
                        })?)
                    }
                    _ => {
                        return Err(invalid(
                            "expected `changelog`, `real` or `fixed <unix-seconds>`",
                        ))
                    }
                };
            }
            "BuildPath" => {
                self.build_path = BuildPathTemplate::parse(value).map_err(|r| invalid(&r))?
            }
            "BuildUser" => {
                let (u, g) = value.split_once(':').unwrap_or((value, value));
                let id = |s: &str| {
                    s.parse::<u32>()
                        .map_err(|_| invalid("expected UID or UID:GID"))
                };
                let (uid, gid) = (id(u)?, id(g)?);
                if uid == 0 || gid == 0 {
                    return Err(invalid("the build user must not be root (0)"));
                }
                self.build_user = BuildUser { uid, gid };
            }
            "Timeout" => {
                let secs: u64 = value
                    .parse()
                    .map_err(|_| invalid("expected whole seconds"))?;
                if secs == 0 || secs > MAX_TIMEOUT {
                    return Err(invalid("must be between 1 and 604800 seconds (one week)"));
                }
                self.timeout_secs = secs;
            }
            "IdleTimeout" => {
                let mins: u64 = value
                    .parse()
                    .map_err(|_| invalid("expected whole minutes"))?;
                if mins == 0 || mins > MAX_TIMEOUT / 60 {
                    return Err(invalid("must be between 1 and 10080 minutes (one week)"));
                }
                self.idle_timeout_mins = mins;
            }
            "Locale" => {
                let ok = value.starts_with(|c: char| c.is_ascii_alphabetic())
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c));
                if !ok {
                    return Err(invalid("expected a locale name such as C.UTF-8"));
                }
                self.locale = Locale(value.to_owned());
            }
            "Umask" => {
                let bits = (1..=4)
                    .contains(&value.len())
                    .then(|| u32::from_str_radix(value, 8).ok())
                    .flatten()
                    .filter(|b| *b <= 0o777)
                    .ok_or_else(|| invalid("expected an octal mask such as 022"))?;
                self.umask = Umask(bits);
            }
            _ => {
                let rest = value.replace("<CI_CNT>", "").replace("<B_CNT>", "");
                if !rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.~".contains(c))
                {
                    return Err(invalid(
                        "only letters, digits, `+`, `.`, `~` and the placeholders <CI_CNT>, <B_CNT> may appear",
                    ));
                }
                self.release_pattern = Some(ReleasePattern(value.to_owned()));
            }
        }
        Ok(())
    }
}
