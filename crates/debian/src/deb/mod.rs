//! The `.deb` container: one forward, streaming reader for every crate that opens binary
//! packages (the builder unpacking build roots, publishing scanning packages, the
//! comparison of rebuilt packages).
//!
//! A `.deb` is an ar archive whose members must come in dpkg's order: `debian-binary`
//! holding a `2.x` format version, then `control.tar` and `data.tar`, each uncompressed or
//! with `.gz`, `.xz` or `.zst`, then only members whose name starts with `_` (signatures;
//! dpkg skips such members). Anything else is an error, as is a member, header or
//! compressed stream that ends early. Members are read as streams ([`Member`] raw,
//! [`DecodedMember`] decompressed) with a caller-given cap on every decompressed member, so
//! a package of any size is read in constant memory and a bomb is an error.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cryo_debian::compression::DecoderLimits;
//! use cryo_debian::deb::DebReader;
//! let file = std::io::BufReader::new(std::fs::File::open("hello.deb")?);
//! let mut deb = DebReader::new(file)?;
//! let control_tar = deb.control()?.read_decoded(64 << 20, &DecoderLimits::default())?;
//! let mut data = deb.data()?.decode(1 << 30, &DecoderLimits::default())?;
//! // ... hand `&mut data` to a tar reader; on its error, `data.take_fault()` says why.
//! # let _ = (control_tar, &mut data); Ok(()) }
//! ```
//!
//! Modules: `header` (the ar header, hand-written — see there why), `archive` (member
//! framing and truncation), `member` (raw and decoded member streams), `error`.

use std::fmt;
use std::io::Read;

mod archive;
mod error;
mod header;
mod member;

pub use error::DebReadError;
pub use header::{HeaderFault, MemberHeader};
pub use member::{DecodedMember, Member};

use crate::compression::Compression;
use archive::Archive;

/// Largest `debian-binary` member accepted (dpkg writes the 4 bytes `2.0\n`).
pub const MAX_VERSION_MEMBER: u64 = 64;

/// The place of a member in a `.deb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `debian-binary`, the format version.
    DebianBinary,
    /// `control.tar*`, the control files.
    Control,
    /// `data.tar*`, the files to install.
    Data,
    /// A `_`-prefixed member after `data.tar*` (e.g. a signature).
    Extra,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::DebianBinary => "debian-binary",
            Role::Control => "control.tar[.gz|.xz|.zst]",
            Role::Data => "data.tar[.gz|.xz|.zst]",
            Role::Extra => "a `_`-prefixed member",
        })
    }
}

/// What a member after `debian-binary` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    /// `control.tar*` with the compression its name gives.
    Control(Compression),
    /// `data.tar*` with the compression its name gives.
    Data(Compression),
    /// A `_`-prefixed member.
    Extra,
}

impl MemberKind {
    /// The member's place.
    pub fn role(self) -> Role {
        match self {
            MemberKind::Control(_) => Role::Control,
            MemberKind::Data(_) => Role::Data,
            MemberKind::Extra => Role::Extra,
        }
    }

    /// The compression of a tar member (`None` for extra members).
    pub fn compression(self) -> Option<Compression> {
        match self {
            MemberKind::Control(c) | MemberKind::Data(c) => Some(c),
            MemberKind::Extra => None,
        }
    }
}

/// The `debian-binary` member, read and checked by [`DebReader::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianBinary {
    /// Its ar header.
    pub header: MemberHeader,
    /// Its bytes (normally `2.0\n`).
    pub contents: Vec<u8>,
    /// The format version, e.g. `2.0`.
    pub version: String,
}

/// Which member comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Control,
    Data,
    Extras,
}

/// Reads a `.deb` forward from `R`, enforcing dpkg's member order.
pub struct DebReader<R> {
    archive: Archive<R>,
    stage: Stage,
    debian_binary: DebianBinary,
}

impl<R: Read> DebReader<R> {
    /// Reads the ar magic and `debian-binary`, which must hold a `2.x` version.
    pub fn new(inner: R) -> Result<Self, DebReadError> {
        let mut archive = Archive::open(inner)?;
        let header = archive.next_header()?.ok_or(DebReadError::Missing {
            expected: Role::DebianBinary,
        })?;
        if header.identifier != b"debian-binary" {
            return Err(DebReadError::Order {
                index: 0,
                found: header.name(),
                expected: Role::DebianBinary,
            });
        }
        let contents = archive.read_member_to_end(MAX_VERSION_MEMBER)?;
        let version = format_version(&contents)?;
        Ok(Self {
            archive,
            stage: Stage::Control,
            debian_binary: DebianBinary {
                header,
                contents,
                version,
            },
        })
    }

    /// The `debian-binary` member.
    pub fn debian_binary(&self) -> &DebianBinary {
        &self.debian_binary
    }

    /// The next member in file order — `control.tar*`, `data.tar*`, then extra members —
    /// or `None` after the last. Skips what the caller left unread of the previous one.
    pub fn next_member(&mut self) -> Result<Option<Member<'_, R>>, DebReadError> {
        let Some(header) = self.archive.next_header()? else {
            return match self.stage {
                Stage::Control => Err(DebReadError::Missing {
                    expected: Role::Control,
                }),
                Stage::Data => Err(DebReadError::Missing {
                    expected: Role::Data,
                }),
                Stage::Extras => Ok(None),
            };
        };
        let kind = match self.kind(&header) {
            Ok(kind) => kind,
            Err(e) => return self.archive.poison(e),
        };
        self.stage = match kind {
            MemberKind::Control(_) => Stage::Data,
            MemberKind::Data(_) | MemberKind::Extra => Stage::Extras,
        };
        Ok(Some(Member::new(header, kind, &mut self.archive)))
    }

    /// The `control.tar*` member; only before any other member was asked for.
    pub fn control(&mut self) -> Result<Member<'_, R>, DebReadError> {
        if self.stage != Stage::Control {
            return Err(DebReadError::Passed {
                wanted: Role::Control,
            });
        }
        self.next_member()?.ok_or(DebReadError::Missing {
            expected: Role::Control,
        })
    }

    /// The `data.tar*` member, skipping `control.tar*` if it was not asked for.
    pub fn data(&mut self) -> Result<Member<'_, R>, DebReadError> {
        if self.stage == Stage::Control {
            self.next_member()?;
        }
        if self.stage != Stage::Data {
            return Err(DebReadError::Passed { wanted: Role::Data });
        }
        self.next_member()?.ok_or(DebReadError::Missing {
            expected: Role::Data,
        })
    }

    /// Reads (and checks) the rest of the archive: the members not asked for, that
    /// nothing but `_`-prefixed members follows `data.tar*`, that nothing is truncated.
    pub fn finish(mut self) -> Result<(), DebReadError> {
        while self.next_member()?.is_some() {}
        Ok(())
    }

    /// The kind of the member `header` introduces, given the stage.
    fn kind(&self, header: &MemberHeader) -> Result<MemberKind, DebReadError> {
        let name = &header.identifier;
        let order = |expected| DebReadError::Order {
            index: self.archive.index(),
            found: header.name(),
            expected,
        };
        let tar = |prefix: &[u8], role| {
            let suffix = name.strip_prefix(prefix).ok_or_else(|| order(role))?;
            std::str::from_utf8(suffix)
                .ok()
                .and_then(Compression::from_member_suffix)
                .ok_or_else(|| DebReadError::UnsupportedCompression {
                    name: header.name(),
                })
        };
        match self.stage {
            Stage::Control => tar(b"control.tar", Role::Control).map(MemberKind::Control),
            Stage::Data => tar(b"data.tar", Role::Data).map(MemberKind::Data),
            Stage::Extras if name.starts_with(b"_") => Ok(MemberKind::Extra),
            Stage::Extras => Err(order(Role::Extra)),
        }
    }
}

/// The version in `debian-binary`: a first line `2.<digits>`, ended by a newline, as
/// dpkg requires.
fn format_version(contents: &[u8]) -> Result<String, DebReadError> {
    let line = contents
        .iter()
        .position(|&b| b == b'\n')
        .map(|end| &contents[..end]);
    let valid = line
        .and_then(|l| l.strip_prefix(b"2."))
        .is_some_and(|minor| !minor.is_empty() && minor.iter().all(u8::is_ascii_digit));
    match line {
        Some(l) if valid => Ok(String::from_utf8_lossy(l).into_owned()),
        _ => Err(DebReadError::Version {
            found: String::from_utf8_lossy(contents).trim_end().to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests;
