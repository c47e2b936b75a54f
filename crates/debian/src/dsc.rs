//! `.dsc` source control files: optional clearsign armor (stripped, or verified through
//! [`crate::openpgp`]), the source-package fields, and the listed files with sizes and
//! SHA-256, every file name validated against path traversal.

use crate::deb822::{self, Deb822Error, ParseOptions};
use crate::index::{IndexError, SourcePackage};
use crate::openpgp::{self, Keyring, OpenPgpError, Signers};

/// `.dsc` parsing errors.
#[derive(Debug, thiserror::Error)]
pub enum DscError {
    /// Signature armor problem (or a verification failure when a keyring was given).
    #[error(transparent)]
    OpenPgp(#[from] OpenPgpError),
    /// deb822 syntax error.
    #[error(transparent)]
    Syntax(#[from] Deb822Error),
    /// Not exactly one paragraph.
    #[error("{file}: a .dsc must hold exactly one paragraph, found {count}")]
    ParagraphCount {
        /// File name for display.
        file: String,
        /// Paragraphs found.
        count: usize,
    },
    /// Invalid field (including unsafe file names).
    #[error("{file}: {source}")]
    Field {
        /// File name for display.
        file: String,
        /// The index-level error.
        #[source]
        source: Box<IndexError>,
    },
    /// The .dsc lists no files in `Checksums-Sha256`.
    #[error("{0}: no Checksums-Sha256 files listed")]
    NoFiles(String),
}

/// A parsed `.dsc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsc {
    /// The source package (name from `Source`, files from `Checksums-Sha256`).
    pub source: SourcePackage,
    /// Signers, when verified with a keyring.
    pub signers: Option<Signers>,
}

/// Parse a `.dsc`. Clearsign armor, if present, is removed WITHOUT verification; use
/// [`parse_verified`] when the signature matters.
pub fn parse(text: &str, file: &str) -> Result<Dsc, DscError> {
    let body = if text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
        openpgp::strip_clearsign(text)?
    } else {
        text.to_owned()
    };
    Ok(Dsc {
        source: parse_body(&body, file)?,
        signers: None,
    })
}

/// Verify a clearsigned `.dsc` with `keyring`, then parse the verified text only.
pub fn parse_verified(data: &[u8], file: &str, keyring: &Keyring) -> Result<Dsc, DscError> {
    let v = openpgp::verify_clearsigned(data, keyring)?;
    Ok(Dsc {
        source: parse_body(&v.text, file)?,
        signers: Some(v.signers),
    })
}

fn parse_body(body: &str, file: &str) -> Result<SourcePackage, DscError> {
    let opts = ParseOptions {
        comments: false,
        file: Some(file),
    };
    let ps = deb822::parse_with(body, opts)?;
    let [p] = ps.as_slice() else {
        return Err(DscError::ParagraphCount {
            file: file.to_owned(),
            count: ps.len(),
        });
    };
    let source = SourcePackage::from_paragraph(p).map_err(|source| DscError::Field {
        file: file.to_owned(),
        source: Box::new(source),
    })?;
    if source.files.is_empty() {
        return Err(DscError::NoFiles(file.to_owned()));
    }
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DSC: &str = "Format: 3.0 (quilt)\nSource: foo\nBinary: foo\nArchitecture: any\nVersion: 1.0-1\nChecksums-Sha256:\n 31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b 10 foo_1.0.orig.tar.gz\n";

    #[test]
    fn unsigned_dsc() {
        let d = parse(DSC, "foo.dsc").unwrap();
        assert_eq!(d.source.package, "foo");
        assert_eq!(d.source.files[0].name.as_str(), "foo_1.0.orig.tar.gz");
    }

    #[test]
    fn traversal_is_rejected_with_clear_error() {
        for bad in ["../../etc/passwd", "sub/dir.tar.gz", "..", "x..tar"] {
            let t = DSC.replace("foo_1.0.orig.tar.gz", bad);
            let e = parse(&t, "foo.dsc").unwrap_err().to_string();
            assert!(
                e.contains("unsafe file name") || e.contains("Checksums-Sha256"),
                "{e}"
            );
            assert!(e.starts_with("foo.dsc: "), "{e}");
        }
        let no_files = DSC.split("Checksums").next().unwrap_or_default();
        assert!(matches!(
            parse(no_files, "x.dsc"),
            Err(DscError::NoFiles(_))
        ));
    }
}
