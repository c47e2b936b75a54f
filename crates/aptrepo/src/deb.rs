//! Reading a binary package: its `./control` paragraph and the file's size and digests,
//! all in one streaming pass with hard size caps so a hostile or broken file fails with a
//! clear error instead of exhausting memory. The container (dpkg's member order,
//! truncation, decompression) is read by [`cryo_debian::deb::DebReader`]; this module
//! finds `./control` in the `control.tar` stream it hands out.

use std::io::{self, Read};

use cryo_debian::compression::DecoderLimits;
use cryo_debian::deb::{DebReadError, DebReader};
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
    /// The container is not that of a Debian binary package: member order, truncation,
    /// compression, a decompressed member over [`MAX_CONTROL_TAR`].
    #[error("not a valid .deb: {0}")]
    Malformed(#[source] DebReadError),
    /// The `control.tar` stream is not a readable tar archive.
    #[error("not a valid .deb: corrupt control.tar")]
    ControlTar(#[source] io::Error),
    /// `control.tar` has no `./control`.
    #[error("not a valid .deb: no ./control in control.tar")]
    NoControl,
    /// `./control` is a link, directory or device.
    #[error("not a valid .deb: ./control is not a regular file")]
    ControlNotRegular,
    /// `./control` is not UTF-8.
    #[error("not a valid .deb: ./control is not UTF-8")]
    ControlNotUtf8,
    /// `./control` holds no or several paragraphs.
    #[error("not a valid .deb: ./control holds {count} paragraphs, expected 1")]
    ControlParagraphs {
        /// Paragraphs found.
        count: usize,
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

impl From<DebReadError> for DebError {
    fn from(e: DebReadError) -> Self {
        match e {
            DebReadError::Io(source) => DebError::Io(source),
            other => DebError::Malformed(other),
        }
    }
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
    // The reader stopped at the end of the archive; hash anything it did not consume.
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

/// Read the whole container and return the `./control` text.
fn read_members(reader: &mut impl Read) -> Result<String, DebError> {
    let mut deb = DebReader::new(reader)?;
    let member = deb.control()?;
    if member.header().size > MAX_CONTROL_MEMBER {
        return Err(DebError::TooLarge {
            what: "control.tar member",
            limit: MAX_CONTROL_MEMBER,
        });
    }
    let mut stream = member.decode(MAX_CONTROL_TAR, &DecoderLimits::default())?;
    let found = find_control(&mut stream).map_err(|source| match stream.take_fault() {
        Some(fault) => DebError::from(fault),
        None => DebError::ControlTar(source),
    })?;
    drop(stream);
    // Check (and hash) everything else: data.tar and any signature members.
    deb.finish()?;
    match found {
        ControlFile::Found(bytes) => String::from_utf8(bytes).map_err(|_| DebError::ControlNotUtf8),
        ControlFile::NotRegular => Err(DebError::ControlNotRegular),
        ControlFile::TooLarge => Err(DebError::TooLarge {
            what: "./control",
            limit: MAX_CONTROL_FILE,
        }),
        ControlFile::Absent => Err(DebError::NoControl),
    }
}

/// What `control.tar` holds as `./control`.
enum ControlFile {
    Found(Vec<u8>),
    NotRegular,
    TooLarge,
    Absent,
}

/// Walk the `control.tar` stream up to `./control`.
fn find_control(stream: impl Read) -> io::Result<ControlFile> {
    let mut tar = tar::Archive::new(stream);
    for entry in tar.entries()? {
        let entry = entry?;
        let path = entry.path_bytes();
        if path.as_ref() != b"./control" && path.as_ref() != b"control" {
            continue;
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Ok(ControlFile::NotRegular);
        }
        if entry.size() > MAX_CONTROL_FILE {
            return Ok(ControlFile::TooLarge);
        }
        let mut bytes = Vec::new();
        entry.take(MAX_CONTROL_FILE).read_to_end(&mut bytes)?;
        return Ok(ControlFile::Found(bytes));
    }
    Ok(ControlFile::Absent)
}

/// Validate the fields the archive layout depends on.
fn from_control(text: &str, hashes: FileHashes) -> Result<ScannedDeb, DebError> {
    let paragraphs = deb822::parse(text).map_err(DebError::Control)?;
    let [paragraph] = paragraphs.as_slice() else {
        return Err(DebError::ControlParagraphs {
            count: paragraphs.len(),
        });
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
