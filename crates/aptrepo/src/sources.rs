//! Source packages: a `.dsc` plus the files it lists, checked against the digests the
//! caller supplies, turned into a `Sources` stanza (`Package`, `Directory`, `Files`,
//! `Checksums-Sha256`) whose files live next to each other in the pool.

use cryo_debian::deb822::{self, Deb822Error, OwnedParagraph};
use cryo_debian::dsc::{self, DscError};
use cryo_debian::openpgp;

use crate::hash::FileHashes;
use crate::pool::pool_dir;
use crate::spec::Component;

/// One source package to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInput {
    /// Component it is published in.
    pub component: Component,
    /// The `.dsc` bytes (clearsigned or not; the signature is not checked here).
    pub dsc: Vec<u8>,
    /// Every file the `.dsc` lists, with the digests of the bytes the caller will serve.
    pub files: Vec<SourceFileInput>,
}

/// A file of a source package, by name and digests (the bytes stay with the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFileInput {
    /// File name as listed in the `.dsc`.
    pub name: String,
    /// Size and digests of the file.
    pub hashes: FileHashes,
}

/// Why a source package cannot be published.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The `.dsc` is not UTF-8.
    #[error("the .dsc is not UTF-8")]
    NotUtf8,
    /// The clearsign armor is broken.
    #[error("the .dsc armor")]
    Armor(#[source] openpgp::OpenPgpError),
    /// The `.dsc` does not parse.
    #[error(transparent)]
    Dsc(#[from] DscError),
    /// The `.dsc` paragraph does not parse.
    #[error(transparent)]
    Syntax(#[from] Deb822Error),
    /// The source name or a listed file name cannot be published.
    #[error("{dsc}: {what} {name:?} cannot be published")]
    InvalidName {
        /// The `.dsc` name.
        dsc: String,
        /// `source name` or `file name`.
        what: &'static str,
        /// The rejected name.
        name: String,
    },
    /// A listed file was not supplied.
    #[error("{dsc} lists {file} but it was not supplied")]
    MissingFile {
        /// The `.dsc` name.
        dsc: String,
        /// The missing file.
        file: String,
    },
    /// A supplied file is not listed, or is unsafe as a file name.
    #[error("{dsc}: supplied file {file:?} is not listed in the .dsc")]
    UnlistedFile {
        /// The `.dsc` name.
        dsc: String,
        /// The extra file.
        file: String,
    },
    /// A supplied file's size or SHA-256 differs from the `.dsc`.
    #[error("{dsc}: {file} does not match the size/SHA256 the .dsc lists")]
    Mismatch {
        /// The `.dsc` name.
        dsc: String,
        /// The mismatching file.
        file: String,
    },
}

/// A source package ready for the index and the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScannedSource {
    pub name: String,
    pub version: cryo_debian::version::Version,
    /// Pool directory (`pool/<component>/<prefix>/<source>`).
    pub directory: String,
    /// `<source>_<version>.dsc` and its digests.
    pub dsc_name: String,
    pub dsc_hashes: FileHashes,
    pub stanza: OwnedParagraph,
    /// The listed files: name, index into [`SourceInput::files`], digests.
    pub files: Vec<(String, usize, FileHashes)>,
}

/// Check `input` and build its `Sources` stanza.
pub(crate) fn scan_source(input: &SourceInput) -> Result<ScannedSource, SourceError> {
    let text = std::str::from_utf8(&input.dsc).map_err(|_| SourceError::NotUtf8)?;
    let body = if text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
        openpgp::strip_clearsign(text).map_err(SourceError::Armor)?
    } else {
        text.to_owned()
    };
    let parsed = dsc::parse(&body, "<dsc>")?.source;
    let dsc_name = format!("{}_{}.dsc", parsed.package, parsed.version.without_epoch());
    crate::deb::check_package_name("Source", &parsed.package).map_err(|_| {
        SourceError::InvalidName {
            dsc: dsc_name.clone(),
            what: "source name",
            name: parsed.package.clone(),
        }
    })?;
    let mut listed = Vec::with_capacity(parsed.files.len());
    for f in &parsed.files {
        let name = f.name.as_str();
        // cryo-debian rejects path separators and `..`; a `Files` line also needs no blanks.
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SourceError::InvalidName {
                dsc: dsc_name,
                what: "file name",
                name: name.to_owned(),
            });
        }
        let (index, supplied) = input
            .files
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
            .ok_or_else(|| SourceError::MissingFile {
                dsc: dsc_name.clone(),
                file: name.to_owned(),
            })?;
        if supplied.hashes.size != f.size || supplied.hashes.sha256 != f.sha256 {
            return Err(SourceError::Mismatch {
                dsc: dsc_name.clone(),
                file: name.to_owned(),
            });
        }
        listed.push((name.to_owned(), index, supplied.hashes));
    }
    if let Some(extra) = input
        .files
        .iter()
        .find(|s| !listed.iter().any(|(n, _, _)| *n == s.name))
    {
        return Err(SourceError::UnlistedFile {
            dsc: dsc_name,
            file: extra.name.clone(),
        });
    }
    let dsc_hashes = FileHashes::of_bytes(&input.dsc);
    let directory = pool_dir(&input.component, &parsed.package);

    let raw = deb822::parse(&body)?;
    let mut stanza = OwnedParagraph::new();
    stanza.set("Package", parsed.package.clone())?;
    for p in raw.iter().take(1) {
        for field in p.fields() {
            let name = field.name();
            let skip = [
                "Source",
                "Files",
                "Checksums-Sha1",
                "Checksums-Sha256",
                "Checksums-Sha512",
            ];
            if !skip.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                stanza.set(name, field.multiline())?;
            }
        }
    }
    let all: Vec<(&str, FileHashes)> = std::iter::once((dsc_name.as_str(), dsc_hashes))
        .chain(listed.iter().map(|(n, _, h)| (n.as_str(), *h)))
        .collect();
    let list = |digest: &dyn Fn(&FileHashes) -> String| {
        all.iter()
            .map(|(n, h)| format!("\n{} {} {n}", digest(h), h.size))
            .collect::<String>()
    };
    stanza.set("Directory", directory.clone())?;
    stanza.set("Files", list(&|h| h.md5.to_string()))?;
    stanza.set("Checksums-Sha256", list(&|h| h.sha256.to_string()))?;
    Ok(ScannedSource {
        name: parsed.package,
        version: parsed.version,
        directory,
        dsc_name,
        dsc_hashes,
        stanza,
        files: listed,
    })
}
