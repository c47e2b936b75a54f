//! `repodata/repomd.xml`: the index of an rpm-md repository. Each `<data type="…">` names
//! one metadata file (primary, filelists, other, their sqlite and zchunk variants, group,
//! updateinfo, modules…) with its location, its checksum (the file as stored) and its
//! open checksum (after decompression). A mirror fetches the files it needs with
//! [`Repomd::primary`] / [`Repomd::filelists`] and checks them with [`RepomdData::verify`].

use std::io::BufRead;

use crate::checksum::Checksum;
use crate::xml::{Ev, MetaError, MetaErrorKind, Tag, XmlReader};

/// One `<data>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepomdData {
    /// `type=` (`primary`, `filelists`, `other`, `primary_db`, `group`, `updateinfo`…).
    pub kind: String,
    /// `<location href>`, relative to the repository root (`repodata/…-primary.xml.gz`).
    pub href: String,
    /// `<location xml:base>`, when the file lives elsewhere.
    pub base: Option<String>,
    /// `<checksum>`: of the file as stored (compressed).
    pub checksum: Checksum,
    /// `<open-checksum>`: of the decompressed content.
    pub open_checksum: Option<Checksum>,
    /// `<size>` of the stored file.
    pub size: Option<u64>,
    /// `<open-size>`.
    pub open_size: Option<u64>,
    /// `<timestamp>` (seconds; a fractional part, as old createrepo writes, is dropped).
    pub timestamp: Option<u64>,
    /// `<database_version>` of the sqlite variants.
    pub database_version: Option<u32>,
}

/// Why a downloaded metadata file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Size differs from `<size>`.
    #[error("{href}: size {found} differs from repomd.xml's {expected}")]
    Size {
        /// The file.
        href: String,
        /// From repomd.xml.
        expected: u64,
        /// Downloaded.
        found: u64,
    },
    /// Checksum differs from `<checksum>`.
    #[error("{href}: {found} differs from repomd.xml's {expected}")]
    Checksum {
        /// The file.
        href: String,
        /// From repomd.xml.
        expected: Checksum,
        /// Of the bytes.
        found: Checksum,
    },
}

impl RepomdData {
    /// Check downloaded bytes against `<size>` and `<checksum>`.
    pub fn verify(&self, data: &[u8]) -> Result<(), VerifyError> {
        if let Some(expected) = self.size {
            if data.len() as u64 != expected {
                return Err(VerifyError::Size {
                    href: self.href.clone(),
                    expected,
                    found: data.len() as u64,
                });
            }
        }
        let found = Checksum::of(self.checksum.kind(), data);
        if found != self.checksum {
            return Err(VerifyError::Checksum {
                href: self.href.clone(),
                expected: self.checksum.clone(),
                found,
            });
        }
        Ok(())
    }

    /// Check decompressed content against `<open-checksum>` / `<open-size>` (when given).
    pub fn verify_open(&self, data: &[u8]) -> Result<(), VerifyError> {
        if let Some(expected) = self.open_size {
            if data.len() as u64 != expected {
                return Err(VerifyError::Size {
                    href: format!("{} (decompressed)", self.href),
                    expected,
                    found: data.len() as u64,
                });
            }
        }
        if let Some(sum) = &self.open_checksum {
            let found = Checksum::of(sum.kind(), data);
            if found != *sum {
                return Err(VerifyError::Checksum {
                    href: format!("{} (decompressed)", self.href),
                    expected: sum.clone(),
                    found,
                });
            }
        }
        Ok(())
    }
}

/// A parsed `repomd.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repomd {
    /// `<revision>` (free text; createrepo writes the time).
    pub revision: Option<String>,
    /// `<data>` entries in file order.
    pub data: Vec<RepomdData>,
}

impl Repomd {
    /// Parse `repomd.xml` (`file` names it in errors). Duplicate `type`s are refused.
    pub fn parse(input: impl BufRead, file: &str) -> Result<Repomd, MetaError> {
        let mut x = XmlReader::new(input, file);
        x.root("repomd")?;
        let mut out = Repomd {
            revision: None,
            data: Vec::new(),
        };
        loop {
            match x.next()? {
                Ev::Start(tag) if tag.name == "revision" => {
                    out.revision = Some(x.text()?.trim().to_owned())
                }
                Ev::Start(tag) if tag.name == "data" => {
                    let d = data(&mut x, &tag)?;
                    if out.data.iter().any(|o| o.kind == d.kind) {
                        return Err(x.invalid(&tag, "type (duplicate)", &d.kind));
                    }
                    out.data.push(d);
                }
                Ev::Start(_) => x.skip()?,
                Ev::End(_) => break,
                Ev::Eof => return Err(x.err_at(x.pos(), MetaErrorKind::Eof("repomd".to_owned()))),
            }
        }
        x.finish()?;
        Ok(out)
    }

    /// Parse `repomd.xml` from bytes.
    pub fn parse_bytes(data: &[u8], file: &str) -> Result<Repomd, MetaError> {
        Repomd::parse(data, file)
    }

    /// The entry of `type=kind`.
    pub fn get(&self, kind: &str) -> Option<&RepomdData> {
        self.data.iter().find(|d| d.kind == kind)
    }

    /// The `primary` entry (a repository without one is unusable).
    pub fn primary(&self) -> Option<&RepomdData> {
        self.get("primary")
    }

    /// The `filelists` entry.
    pub fn filelists(&self) -> Option<&RepomdData> {
        self.get("filelists")
    }
}

fn checksum<R: BufRead>(x: &mut XmlReader<R>, tag: &Tag) -> Result<Checksum, MetaError> {
    let kind = x.req(tag, "type")?.to_owned();
    let text = x.text()?;
    Checksum::new(&kind, &text).map_err(|source| {
        x.err_at(
            tag.offset,
            MetaErrorKind::Checksum {
                element: tag.name.clone(),
                source,
            },
        )
    })
}

fn data<R: BufRead>(x: &mut XmlReader<R>, tag: &Tag) -> Result<RepomdData, MetaError> {
    let kind = x.req(tag, "type")?.to_owned();
    let mut href = None;
    let mut base = None;
    let mut sum = None;
    let mut open_checksum = None;
    let (mut size, mut open_size, mut timestamp, mut database_version) = (None, None, None, None);
    loop {
        match x.next()? {
            Ev::Start(t) => match t.name.as_str() {
                "checksum" => sum = Some(checksum(x, &t)?),
                "open-checksum" => open_checksum = Some(checksum(x, &t)?),
                "location" => {
                    href = Some(x.req(&t, "href")?.to_owned());
                    base = t.attr("xml:base").map(str::to_owned);
                    x.skip()?;
                }
                "size" => {
                    let v = x.text()?;
                    size = Some(x.num(&t, "text", &v)?);
                }
                "open-size" => {
                    let v = x.text()?;
                    open_size = Some(x.num(&t, "text", &v)?);
                }
                "timestamp" => {
                    let v = x.text()?;
                    let whole = v.trim().split_once('.').map_or(v.trim(), |(w, _)| w);
                    if v.trim()
                        .split_once('.')
                        .is_some_and(|(_, f)| !f.bytes().all(|b| b.is_ascii_digit()))
                    {
                        return Err(x.invalid(&t, "text", &v));
                    }
                    timestamp = Some(x.num(&t, "text", whole)?);
                }
                "database_version" => {
                    let v = x.text()?;
                    database_version = Some(x.num(&t, "text", &v)?);
                }
                _ => x.skip()?,
            },
            Ev::End(_) => break,
            Ev::Eof => return Err(x.err_at(tag.offset, MetaErrorKind::Eof("data".into()))),
        }
    }
    let href = href.ok_or_else(|| x.missing(tag, "location"))?;
    if href.is_empty() || href.starts_with('/') || href.split('/').any(|c| c == "..") {
        return Err(x.invalid(tag, "location href", &href));
    }
    Ok(RepomdData {
        kind,
        href,
        base,
        checksum: sum.ok_or_else(|| x.missing(tag, "checksum"))?,
        open_checksum,
        size,
        open_size,
        timestamp,
        database_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn doc(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n{body}</repomd>\n"
        )
    }

    #[test]
    fn parses_entries_old_and_new() {
        let text = doc(&format!(
            "<revision>1700000000</revision><tags><distro>x</distro></tags>\
             <data type=\"primary\"><checksum type=\"sha256\">{SHA}</checksum>\
             <open-checksum type=\"sha256\">{SHA}</open-checksum>\
             <location href=\"repodata/p.xml.gz\"/><timestamp>1400000000.25</timestamp>\
             <size>3</size><open-size>3</open-size></data>\
             <data type=\"filelists\"><checksum type=\"sha\">a9993e364706816aba3e25717850c26c9cd0d89d</checksum>\
             <location xml:base=\"http://mirror/os/\" href=\"repodata/f.xml.bz2\"/></data>\
             <data type=\"primary_db\"><checksum type=\"sha256\">{SHA}</checksum><location href=\"repodata/p.sqlite.bz2\"/><database_version>10</database_version></data>"
        ));
        let r = Repomd::parse_bytes(text.as_bytes(), "repomd.xml").unwrap();
        assert_eq!(r.revision.as_deref(), Some("1700000000"));
        let p = r.primary().unwrap();
        assert_eq!(
            (p.href.as_str(), p.size, p.timestamp),
            ("repodata/p.xml.gz", Some(3), Some(1400000000))
        );
        p.verify(b"abc").unwrap();
        p.verify_open(b"abc").unwrap();
        assert!(matches!(
            p.verify(b"abd"),
            Err(VerifyError::Checksum { .. })
        ));
        assert!(matches!(p.verify(b"abcd"), Err(VerifyError::Size { .. })));
        let f = r.filelists().unwrap();
        assert_eq!(f.base.as_deref(), Some("http://mirror/os/"));
        f.verify(b"abc").unwrap();
        assert_eq!(r.get("primary_db").unwrap().database_version, Some(10));
        assert!(r.get("other").is_none());
    }

    fn err(text: &str) -> String {
        Repomd::parse_bytes(text.as_bytes(), "repomd.xml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_file_position_and_cause() {
        let e = err(&doc(
            "<data type=\"primary\"><location href=\"p.gz\"/></data>",
        ));
        assert!(e.starts_with("repomd.xml: at byte "), "{e}");
        assert!(e.contains("<data> has no <checksum>"), "{e}");
        let e = err(&doc("<data type=\"primary\"><checksum type=\"md5\">00</checksum><location href=\"p\"/></data>"));
        assert!(e.contains("unsupported checksum type \"md5\""), "{e}");
        let e = err(&doc("<data><checksum type=\"sha256\">x</checksum></data>"));
        assert!(e.contains("has no type= attribute"), "{e}");
        let e = err(&doc(&format!("<data type=\"primary\"><checksum type=\"sha256\">{SHA}</checksum><location href=\"../x\"/></data>")));
        assert!(e.contains("invalid value \"../x\""), "{e}");
        let e = err(&doc(&format!("<data type=\"primary\"><checksum type=\"sha256\">{SHA}</checksum><location href=\"x\"/><size>big</size></data>")));
        assert!(e.contains("<size> text: invalid value \"big\""), "{e}");
        let e = err("<metadata/>");
        assert!(e.contains("expected <repomd>"), "{e}");
        let e = err("<repomd><data type=\"primary\">");
        assert!(e.contains("end of file"), "{e}");
        let e = err("<repomd></data></repomd>");
        assert!(e.contains("XML error"), "{e}");
        let e = err("");
        assert!(e.contains("expected <repomd>"), "{e}");
        let e = err(&doc(&format!("<data type=\"primary\"><checksum type=\"sha256\">{SHA}</checksum><location href=\"x\"/></data><data type=\"primary\"><checksum type=\"sha256\">{SHA}</checksum><location href=\"y\"/></data>")));
        assert!(e.contains("duplicate"), "{e}");
    }
}
