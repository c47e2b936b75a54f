//! Reading a binary package: the `ar` container of a `.deb` (`debian-binary`,
//! `control.tar{,.gz,.xz,.zst}`, `data.tar.*`), its `./control` paragraph, and the file's
//! size and digests, all in one streaming pass with hard size caps so a hostile or broken
//! file fails with a clear error instead of exhausting memory.

use std::io::{self, Read};

use cryo_debian::deb822::{self, Deb822Error, OwnedParagraph};
use cryo_debian::version::{Version, VersionError};

use crate::hash::{FileHashes, HashingReader};
use crate::spec::{Architecture, SpecError};

/// Largest `control.tar.*` member we accept (compressed), in bytes.
pub const MAX_CONTROL_MEMBER: u64 = 64 << 20;
/// Largest amount of decompressed control tarball we read while looking for `./control`.
pub const MAX_CONTROL_TAR: u64 = 128 << 20;
/// Largest `./control` file we accept.
pub const MAX_CONTROL_FILE: u64 = 1 << 20;

/// Why a `.deb` cannot be published.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    /// Reading the input failed.
    #[error("reading the package")]
    Io(#[source] io::Error),
    /// The container structure is not that of a Debian binary package.
    #[error("not a valid .deb: {0}")]
    Malformed(String),
    /// The `ar` or `tar` layer could not be decoded.
    #[error("not a valid .deb: corrupt {layer}")]
    Corrupt {
        /// Which layer failed (`ar archive`, `control.tar`, ...).
        layer: &'static str,
        /// The decoder error.
        #[source]
        source: io::Error,
    },
    /// A member is larger than the cap.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Which part.
        what: &'static str,
        /// The cap.
        limit: u64,
    },
    /// The stream length differs from the size the caller declared.
    #[error("the package is {actual} bytes, but {declared} were declared")]
    SizeMismatch {
        /// Declared size.
        declared: u64,
        /// Bytes actually read.
        actual: u64,
    },
    /// `./control` is not valid deb822.
    #[error("./control")]
    Control(#[source] Deb822Error),
    /// A required control field is missing.
    #[error("./control has no {0} field")]
    MissingField(&'static str),
    /// A control field has an unusable value.
    #[error("./control field {field}: {value:?} is not valid: {why}")]
    InvalidField {
        /// Field name.
        field: &'static str,
        /// Its value.
        value: String,
        /// The rule it breaks.
        why: String,
    },
    /// The version does not parse.
    #[error("./control field Version")]
    Version(#[source] VersionError),
}

/// What the repository needs to know about one `.deb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedDeb {
    /// `Package`.
    pub package: String,
    /// `Version`.
    pub version: Version,
    /// `Architecture`.
    pub architecture: Architecture,
    /// Source package name: `Source` without its ` (version)`, else `Package`.
    pub source: String,
    /// The whole `./control` paragraph, field order preserved.
    pub control: OwnedParagraph,
    /// Size and digests of the `.deb` file.
    pub hashes: FileHashes,
}

impl ScannedDeb {
    /// The canonical pool file name `<package>_<version without epoch>_<arch>.deb`.
    pub fn file_name(&self) -> String {
        format!(
            "{}_{}_{}.deb",
            self.package,
            self.version.without_epoch(),
            self.architecture
        )
    }
}

/// Scan an in-memory `.deb`.
pub fn scan_deb_bytes(data: &[u8]) -> Result<ScannedDeb, DebError> {
    scan_deb(data, data.len() as u64)
}

/// Scan a `.deb` from `reader`, which must yield exactly `size` bytes.
pub fn scan_deb(reader: impl Read, size: u64) -> Result<ScannedDeb, DebError> {
    let mut hashing = HashingReader::new(reader);
    let control = read_members(&mut hashing)?;
    // Hash whatever follows the last member (normally nothing).
    io::copy(&mut hashing, &mut io::sink()).map_err(DebError::Io)?;
    let hashes = hashing.finish();
    if hashes.size != size {
        return Err(DebError::SizeMismatch {
            declared: size,
            actual: hashes.size,
        });
    }
    from_control(&control, hashes)
}

/// Walk the `ar` members in dpkg's required order and return the `./control` text.
fn read_members(reader: &mut impl Read) -> Result<String, DebError> {
    let corrupt = |source| DebError::Corrupt {
        layer: "ar archive",
        source,
    };
    let mut archive = ar::Archive::new(reader);
    let mut control = None;
    let mut index = 0usize;
    while let Some(entry) = archive.next_entry() {
        let entry = entry.map_err(corrupt)?;
        let name = String::from_utf8_lossy(entry.header().identifier())
            .trim_end_matches('/')
            .to_owned();
        let declared = entry.header().size();
        // Count what is read: the `ar` crate silently skips the rest of a member on drop,
        // which would let a truncated file through.
        let mut member = Counting {
            inner: entry,
            read: 0,
        };
        match index {
            0 => {
                if name != "debian-binary" {
                    return Err(DebError::Malformed(format!(
                        "first member is {name:?}, not debian-binary"
                    )));
                }
                let mut magic = String::new();
                member
                    .by_ref()
                    .take(16)
                    .read_to_string(&mut magic)
                    .map_err(corrupt)?;
                if !magic.starts_with("2.") {
                    return Err(DebError::Malformed(format!(
                        "unsupported format version {:?}",
                        magic.trim_end()
                    )));
                }
            }
            1 => {
                if declared > MAX_CONTROL_MEMBER {
                    return Err(DebError::TooLarge {
                        what: "control.tar member",
                        limit: MAX_CONTROL_MEMBER,
                    });
                }
                control = Some(read_control_tar(&name, &mut member)?);
            }
            2 if !name.starts_with("data.tar") => {
                return Err(DebError::Malformed(format!(
                    "third member is {name:?}, not data.tar.*"
                )));
            }
            _ => {}
        }
        io::copy(&mut member, &mut io::sink()).map_err(corrupt)?;
        if member.read != declared {
            return Err(DebError::Malformed(format!(
                "member {name:?} is truncated: {} of {declared} bytes",
                member.read
            )));
        }
        index += 1;
    }
    if index < 3 {
        return Err(DebError::Malformed(format!(
            "only {index} ar members (need debian-binary, control.tar, data.tar)"
        )));
    }
    control.ok_or_else(|| DebError::Malformed("no ./control in control.tar".into()))
}

/// Decompress `control.tar.*` (by member name) and find `./control` in it.
fn read_control_tar(name: &str, member: &mut impl Read) -> Result<String, DebError> {
    let decoder: Box<dyn Read + '_> = match name {
        "control.tar" => Box::new(member),
        "control.tar.gz" => Box::new(flate2::read::GzDecoder::new(member)),
        "control.tar.xz" => Box::new(liblzma::read::XzDecoder::new(member)),
        "control.tar.zst" => {
            Box::new(
                zstd::stream::read::Decoder::new(member).map_err(|e| DebError::Corrupt {
                    layer: "control.tar.zst",
                    source: e,
                })?,
            )
        }
        other => {
            return Err(DebError::Malformed(format!(
                "second member is {other:?}, not control.tar{{,.gz,.xz,.zst}}"
            )))
        }
    };
    let capped = Capped {
        inner: decoder,
        left: MAX_CONTROL_TAR,
    };
    let corrupt = |source: io::Error| {
        if source.kind() == io::ErrorKind::FileTooLarge {
            DebError::TooLarge {
                what: "decompressed control.tar",
                limit: MAX_CONTROL_TAR,
            }
        } else {
            DebError::Corrupt {
                layer: "control.tar",
                source,
            }
        }
    };
    let mut tar = tar::Archive::new(capped);
    for entry in tar.entries().map_err(corrupt)? {
        let entry = entry.map_err(corrupt)?;
        let path = entry.path_bytes();
        if path.as_ref() != b"./control" && path.as_ref() != b"control" {
            continue;
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(DebError::Malformed(
                "./control is not a regular file".into(),
            ));
        }
        if entry.size() > MAX_CONTROL_FILE {
            return Err(DebError::TooLarge {
                what: "./control",
                limit: MAX_CONTROL_FILE,
            });
        }
        let mut bytes = Vec::new();
        entry
            .take(MAX_CONTROL_FILE)
            .read_to_end(&mut bytes)
            .map_err(corrupt)?;
        return String::from_utf8(bytes)
            .map_err(|_| DebError::Malformed("./control is not UTF-8".into()));
    }
    Err(DebError::Malformed("no ./control in control.tar".into()))
}

/// A reader that counts the bytes it yields.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// A reader that fails with `FileTooLarge` instead of yielding more than `left` bytes
/// (a plain `take` would truncate silently and surface as a confusing tar error).
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::new(io::ErrorKind::FileTooLarge, "decompressed size cap reached")
        })?;
        Ok(n)
    }
}

/// Validate the fields the archive layout depends on.
fn from_control(text: &str, hashes: FileHashes) -> Result<ScannedDeb, DebError> {
    let paragraphs = deb822::parse(text).map_err(DebError::Control)?;
    let [paragraph] = paragraphs.as_slice() else {
        return Err(DebError::Malformed(format!(
            "./control holds {} paragraphs, expected 1",
            paragraphs.len()
        )));
    };
    let control = paragraph.to_owned_paragraph();
    let field = |name: &'static str| control.get(name).ok_or(DebError::MissingField(name));
    let package = field("Package")?.to_owned();
    check_package_name("Package", &package)?;
    let version: Version = field("Version")?.parse().map_err(DebError::Version)?;
    let architecture: Architecture =
        field("Architecture")?
            .parse()
            .map_err(|e: SpecError| DebError::InvalidField {
                field: "Architecture",
                value: control.get("Architecture").unwrap_or_default().to_owned(),
                why: e.to_string(),
            })?;
    let source = match control.get("Source") {
        Some(s) => s
            .split_once(' ')
            .map_or(s, |(name, _)| name)
            .trim()
            .to_owned(),
        None => package.clone(),
    };
    check_package_name("Source", &source)?;
    Ok(ScannedDeb {
        package,
        version,
        architecture,
        source,
        control,
        hashes,
    })
}

/// Debian Policy §5.6.1/§5.6.7: at least two characters, `[a-z0-9][a-z0-9+.-]+`. Also
/// what keeps pool paths safe.
pub(crate) fn check_package_name(field: &'static str, name: &str) -> Result<(), DebError> {
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+-.".contains(&c);
    let b = name.as_bytes();
    let valid = b.len() >= 2
        && b.len() <= 200
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|&c| ok_char(c));
    if valid {
        Ok(())
    } else {
        Err(DebError::InvalidField {
            field,
            value: name.to_owned(),
            why: "Debian package names are [a-z0-9][a-z0-9+.-]+".into(),
        })
    }
}
