//! Daemon configuration: a TOML file < environment < command-line flags.
//!
//! The raw layers are all-`Option` ([`RawConfig`]); [`RawConfig::resolve`] merges them
//! and fills defaults into a concrete [`Config`]. `cryod --check-config` prints the result.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors resolving the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid {key} {value:?}: {message}")]
    Invalid {
        key: &'static str,
        value: String,
        message: String,
    },
    #[error("no state directory: set --state, $CRYO_STATE, $XDG_STATE_HOME or $HOME")]
    NoStateDir,
}

/// One configuration layer; every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// State directory (store, index, socket).
    pub state: Option<PathBuf>,
    /// Unix socket path (default `<state>/cryod.sock`).
    pub socket: Option<PathBuf>,
    /// Optional TCP address for HTTP (binary cache, repositories).
    pub listen: Option<String>,
    /// Concurrent builds (default: number of cores).
    pub workers: Option<usize>,
    /// Log filter (tracing `EnvFilter` syntax), default `info`.
    pub log: Option<String>,
    /// Name this daemon's binary cache announces (default `cryo`).
    pub cache_name: Option<String>,
    /// Priority announced by `/cache/info` (lower is preferred, as in Nix; default 40).
    pub cache_priority: Option<u32>,
    /// Binary caches asked before building (TOML only).
    pub substituters: Option<Vec<SubstituterConfig>>,
    /// Mode of the unix socket, octal (default `0600`: only the daemon's user). `0666`
    /// lets other local users connect; they act as the cryo user that lists their uid
    /// (`cryo user add NAME --uid N`) or as anonymous readers (TOML only).
    pub socket_mode: Option<String>,
    /// Disk space cached build roots and base layers may take, in bytes, or with a unit:
    /// `"50G"`, `"800M"`, `"1T"` (powers of 1024). Least recently used ones beyond it are
    /// removed after each root preparation and by `cryo store gc`; one in use never is.
    /// Default 50 GiB.
    pub roots_max_bytes: Option<ByteSize>,
    /// Packages whose closure makes the **tool layer** between a build root's base layer
    /// and its own packages (`docs/builder.md`, "Layered roots"). Default `["debhelper"]`;
    /// `[]` turns the tool layer off. A preparation detail: roots are the same either way.
    pub tool_layer: Option<Vec<String>>,
}

/// A size in bytes: an integer, or a string with a unit (`K`, `M`, `G`, `T`, powers of
/// 1024, optional `iB`/`B`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SizeText", into = "u64")]
pub struct ByteSize(pub u64);

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeText {
    Bytes(u64),
    Text(String),
}

impl From<ByteSize> for u64 {
    fn from(b: ByteSize) -> u64 {
        b.0
    }
}

impl TryFrom<SizeText> for ByteSize {
    type Error = String;
    fn try_from(t: SizeText) -> Result<Self, String> {
        match t {
            SizeText::Bytes(n) => Ok(ByteSize(n)),
            SizeText::Text(s) => s.parse(),
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (num, unit) = t.split_at(digits);
        let bad = || format!("{s:?} is not a size (bytes, or a number with K, M, G or T)");
        let n: u64 = num.parse().map_err(|_| bad())?;
        let unit = unit.trim();
        let unit = unit
            .strip_suffix("iB")
            .or_else(|| unit.strip_suffix('B'))
            .unwrap_or(unit);
        let shift = match unit {
            "" => 0,
            "K" | "k" => 10,
            "M" => 20,
            "G" => 30,
            "T" => 40,
            _ => return Err(bad()),
        };
        n.checked_mul(1u64 << shift).map(ByteSize).ok_or_else(bad)
    }
}

/// Default of `roots_max_bytes`: 50 GiB (about a hundred build roots of a Debian release).
pub const DEFAULT_ROOTS_MAX_BYTES: u64 = 50 << 30;

/// One substituter: its base URL and the public keys (`NAME:BASE64`) trusted to sign
/// its realisations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubstituterConfig {
    pub url: String,
    pub trusted_keys: Vec<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub state: PathBuf,
    pub socket: PathBuf,
    pub listen: Option<SocketAddr>,
    pub workers: usize,
    pub log: String,
    pub cache_name: String,
    pub cache_priority: u32,
    pub substituters: Vec<SubstituterConfig>,
    /// Permission bits of the unix socket.
    pub socket_mode: u32,
    /// Disk space cached build roots may take (bytes).
    pub roots_max_bytes: u64,
    /// The tool layer's seed packages (empty: no tool layer).
    pub tool_layer: Vec<String>,
    /// The file the first layer came from, if any.
    pub config_file: Option<PathBuf>,
}

/// The default state directory: `$CRYO_STATE`, else `$XDG_STATE_HOME/cryo`, else
/// `~/.local/state/cryo`.
pub fn default_state_dir() -> Option<PathBuf> {
    if let Some(s) = std::env::var_os("CRYO_STATE").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(s));
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(x).join("cryo"));
    }
    std::env::var_os("HOME")
        .filter(|s| !s.is_empty())
        .map(|h| PathBuf::from(h).join(".local/state/cryo"))
}

/// Default socket inside a state directory.
pub fn default_socket(state: &Path) -> PathBuf {
    state.join("cryod.sock")
}

impl RawConfig {
    /// Read a TOML file layer.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            source: e,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// The environment layer (`CRYO_STATE`, `CRYO_SOCKET`, `CRYOD_LISTEN`, `CRYOD_WORKERS`,
    /// `CRYOD_LOG`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let workers = match var("CRYOD_WORKERS") {
            Some(w) => Some(w.parse().map_err(|_| ConfigError::Invalid {
                key: "CRYOD_WORKERS",
                value: w.clone(),
                message: "not a positive integer".into(),
            })?),
            None => None,
        };
        Ok(Self {
            state: var("CRYO_STATE").map(PathBuf::from),
            socket: var("CRYO_SOCKET").map(PathBuf::from),
            listen: var("CRYOD_LISTEN"),
            workers,
            log: var("CRYOD_LOG"),
            roots_max_bytes: match var("CRYOD_ROOTS_MAX_BYTES") {
                Some(v) => Some(v.parse().map_err(|message| ConfigError::Invalid {
                    key: "CRYOD_ROOTS_MAX_BYTES",
                    value: v.clone(),
                    message,
                })?),
                None => None,
            },
            // Space-separated names; empty turns the tool layer off.
            tool_layer: var("CRYOD_TOOL_LAYER")
                .map(|v| v.split_whitespace().map(str::to_owned).collect()),
            ..Default::default()
        })
    }

    /// `self` overridden by every `Some` of `over`.
    pub fn overlay(self, over: RawConfig) -> Self {
        Self {
            state: over.state.or(self.state),
            socket: over.socket.or(self.socket),
            listen: over.listen.or(self.listen),
            workers: over.workers.or(self.workers),
            log: over.log.or(self.log),
            cache_name: over.cache_name.or(self.cache_name),
            cache_priority: over.cache_priority.or(self.cache_priority),
            substituters: over.substituters.or(self.substituters),
            socket_mode: over.socket_mode.or(self.socket_mode),
            roots_max_bytes: over.roots_max_bytes.or(self.roots_max_bytes),
            tool_layer: over.tool_layer.or(self.tool_layer),
        }
    }

    /// Fill defaults and validate.
    pub fn resolve(self, config_file: Option<PathBuf>) -> Result<Config, ConfigError> {
        let state = match self.state {
            Some(s) => s,
            None => default_state_dir().ok_or(ConfigError::NoStateDir)?,
        };
        let state = absolute(&state);
        let socket = self
            .socket
            .map(|s| absolute(&s))
            .unwrap_or_else(|| default_socket(&state));
        let listen = match self.listen {
            Some(l) => Some(l.parse::<SocketAddr>().map_err(|e| ConfigError::Invalid {
                key: "listen",
                value: l.clone(),
                message: e.to_string(),
            })?),
            None => None,
        };
        let workers = self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        if workers == 0 {
            return Err(ConfigError::Invalid {
                key: "workers",
                value: "0".into(),
                message: "at least one worker is needed".into(),
            });
        }
        let socket_mode = match &self.socket_mode {
            None => 0o600,
            Some(m) => match u32::from_str_radix(m.trim_start_matches("0o"), 8) {
                Ok(v) if v <= 0o777 && v & 0o600 == 0o600 => v,
                _ => {
                    return Err(ConfigError::Invalid {
                        key: "socket_mode",
                        value: m.clone(),
                        message:
                            "an octal mode like \"0660\" that keeps 0600 for the daemon's user"
                                .into(),
                    })
                }
            },
        };
        let substituters = self.substituters.unwrap_or_default();
        for s in &substituters {
            if !(s.url.starts_with("http://") || s.url.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    key: "substituters.url",
                    value: s.url.clone(),
                    message: "use an http:// or https:// URL".into(),
                });
            }
            for k in &s.trusted_keys {
                k.parse::<crate::cache::keys::TrustedKey>()
                    .map_err(|e| ConfigError::Invalid {
                        key: "substituters.trusted_keys",
                        value: k.clone(),
                        message: e.to_string(),
                    })?;
            }
        }
        Ok(Config {
            state,
            socket,
            listen,
            workers,
            socket_mode,
            roots_max_bytes: self
                .roots_max_bytes
                .map_or(DEFAULT_ROOTS_MAX_BYTES, |b| b.0),
            tool_layer: tool_layer(self.tool_layer)?,
            log: self.log.unwrap_or_else(|| "info".into()),
            cache_name: self.cache_name.unwrap_or_else(|| "cryo".into()),
            cache_priority: self.cache_priority.unwrap_or(40),
            substituters,
            config_file,
        })
    }
}

/// The tool layer's seeds: the default, or the names given, each a Debian package name
/// (policy 5.6.1: `[a-z0-9][a-z0-9+.-]+`), so that a typo is an error instead of a
/// silently missing layer.
fn tool_layer(given: Option<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    let Some(names) = given else {
        return Ok(cryo_debbuild::layers::DEFAULT_TOOL_SEEDS
            .iter()
            .map(|s| (*s).to_owned())
            .collect());
    };
    for n in &names {
        let b = n.as_bytes();
        let ok = b.len() >= 2
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+.-".contains(c));
        if !ok {
            return Err(ConfigError::Invalid {
                key: "tool_layer",
                value: n.clone(),
                message: "not a Debian package name ([a-z0-9][a-z0-9+.-]+)".into(),
            });
        }
    }
    Ok(names)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_file_env_flags() {
        let file: RawConfig =
            toml::from_str("state = \"/f\"\nworkers = 3\nlog = \"debug\"").unwrap();
        let env = RawConfig {
            workers: Some(5),
            ..Default::default()
        };
        let flags = RawConfig {
            state: Some("/flag".into()),
            ..Default::default()
        };
        let c = file.overlay(env).overlay(flags).resolve(None).unwrap();
        assert_eq!(c.state, PathBuf::from("/flag"));
        assert_eq!(c.workers, 5);
        assert_eq!(c.log, "debug");
        assert_eq!(c.socket, PathBuf::from("/flag/cryod.sock"));
    }

    #[test]
    fn bad_values_are_named() {
        let e = RawConfig {
            state: Some("/s".into()),
            listen: Some("nope".into()),
            ..Default::default()
        }
        .resolve(None)
        .unwrap_err();
        assert!(e.to_string().contains("listen"), "{e}");
        assert!(toml::from_str::<RawConfig>("bogus = 1").is_err());
    }

    #[test]
    fn tool_layer_names_are_package_names() {
        let layer = |toml: &str| {
            toml::from_str::<RawConfig>(toml)
                .unwrap()
                .resolve(None)
                .map(|c| c.tool_layer)
        };
        assert_eq!(layer("state = \"/s\"").unwrap(), ["debhelper"]);
        assert_eq!(
            layer("state = \"/s\"\ntool_layer = []").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            layer("state = \"/s\"\ntool_layer = [\"debhelper\", \"g++\"]").unwrap(),
            ["debhelper", "g++"]
        );
        let e = layer("state = \"/s\"\ntool_layer = [\"Debhelper\"]").unwrap_err();
        assert!(e.to_string().contains("tool_layer"), "{e}");
    }

    #[test]
    fn roots_max_bytes_takes_bytes_or_units() {
        let size = |t: &str| {
            toml::from_str::<RawConfig>(t)
                .map(|r| r.resolve(None).unwrap().roots_max_bytes)
                .map_err(|e| e.to_string())
        };
        assert_eq!(size("state = \"/s\""), Ok(DEFAULT_ROOTS_MAX_BYTES));
        assert_eq!(size("roots_max_bytes = 1000\nstate = \"/s\""), Ok(1000));
        assert_eq!(
            size("roots_max_bytes = \"50G\"\nstate = \"/s\""),
            Ok(50 << 30)
        );
        assert_eq!(
            size("roots_max_bytes = \"800 MiB\"\nstate = \"/s\""),
            Ok(800 << 20)
        );
        let e = size("roots_max_bytes = \"lots\"\nstate = \"/s\"").unwrap_err();
        assert!(e.contains("not a size"), "{e}");
    }
}
