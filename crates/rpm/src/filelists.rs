//! `filelists.xml`: every file of every package, keyed by the pkgid (the RPM's checksum in
//! primary). Read as a stream ([`FilelistsReader`]); `universe` merges it into the
//! packages of primary so file requires (`/usr/bin/perl`) resolve against all files, not
//! only primary's subset.

use std::io::BufRead;

use crate::evr::Evr;
use crate::name::{Arch, PackageName};
use crate::primary::{evr_attrs, file_entry, FileEntry};
use crate::xml::{Ev, MetaError, MetaErrorKind, Tag, XmlReader};

/// One `<package>` of filelists.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFiles {
    /// `pkgid=` (hex digest, lowercase; the type is primary's checksum type).
    pub pkgid: String,
    /// `name=`.
    pub name: PackageName,
    /// `arch=`.
    pub arch: Arch,
    /// `<version>`.
    pub evr: Evr,
    /// Every `<file>`.
    pub files: Vec<FileEntry>,
}

/// Streaming reader of `filelists.xml`.
pub struct FilelistsReader<R: BufRead> {
    x: XmlReader<R>,
    declared: Option<u64>,
    read: u64,
    started: bool,
    done: bool,
}

impl<R: BufRead> FilelistsReader<R> {
    /// A reader of `input`; `file` names it in errors.
    pub fn new(input: R, file: &str) -> Self {
        FilelistsReader {
            x: XmlReader::new(input, file),
            declared: None,
            read: 0,
            started: false,
            done: false,
        }
    }

    fn step(&mut self) -> Result<Option<PackageFiles>, MetaError> {
        if !self.started {
            let root = self.x.root("filelists")?;
            self.declared = self.x.opt_num(&root, "packages")?;
            self.started = true;
        }
        loop {
            match self.x.next()? {
                Ev::Start(tag) if tag.name == "package" => {
                    let p = package(&mut self.x, &tag)?;
                    self.read += 1;
                    return Ok(Some(p));
                }
                Ev::Start(_) => self.x.skip()?,
                Ev::End(_) | Ev::Eof => {
                    let offset = self.x.pos();
                    self.x.finish()?;
                    if let Some(declared) = self.declared.filter(|d| *d != self.read) {
                        return Err(self.x.err_at(
                            offset,
                            MetaErrorKind::Count {
                                declared,
                                found: self.read,
                            },
                        ));
                    }
                    return Ok(None);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for FilelistsReader<R> {
    type Item = Result<PackageFiles, MetaError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

/// Read a whole `filelists.xml` (already decompressed).
pub fn parse(input: impl BufRead, file: &str) -> Result<Vec<PackageFiles>, MetaError> {
    FilelistsReader::new(input, file).collect()
}

fn package<R: BufRead>(x: &mut XmlReader<R>, tag: &Tag) -> Result<PackageFiles, MetaError> {
    let pkgid = x.req(tag, "pkgid")?.trim().to_ascii_lowercase();
    if pkgid.is_empty() || !pkgid.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(x.invalid(tag, "pkgid", &pkgid));
    }
    let name = x.req(tag, "name")?;
    let name = PackageName::new(name).map_err(|_| x.invalid(tag, "name", name))?;
    let arch = x.req(tag, "arch")?;
    let arch = Arch::new(arch).map_err(|_| x.invalid(tag, "arch", arch))?;
    let mut evr = None;
    let mut files = Vec::new();
    loop {
        let t = match x.next()? {
            Ev::Start(t) => t,
            Ev::End(_) => break,
            Ev::Eof => return Err(x.err_at(tag.offset, MetaErrorKind::Eof("package".into()))),
        };
        match t.name.as_str() {
            "version" => {
                evr = Some(evr_attrs(x, &t)?);
                x.skip()?;
            }
            "file" => files.push(file_entry(x, &t)?),
            _ => x.skip()?,
        }
    }
    Ok(PackageFiles {
        pkgid,
        name,
        arch,
        evr: evr.ok_or_else(|| x.missing(tag, "version"))?,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primary::FileKind;

    #[test]
    fn parses_and_refuses() {
        let text = "<?xml version=\"1.0\"?>\n<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"1\">\
            <package pkgid=\"ABCDEF\" name=\"hello\" arch=\"x86_64\"><version epoch=\"0\" ver=\"2.10\" rel=\"1\"/>\
            <file>/usr/bin/hello</file><file type=\"dir\">/usr/share/doc/hello</file><file type=\"ghost\">/var/x</file></package></filelists>";
        let ps = parse(text.as_bytes(), "f.xml").unwrap();
        assert_eq!(ps[0].pkgid, "abcdef");
        assert_eq!(ps[0].files[1].kind, FileKind::Dir);
        assert_eq!(ps[0].files.len(), 3);
        let e = parse(text.replace("pkgid=\"ABCDEF\" ", "").as_bytes(), "f.xml").unwrap_err();
        assert!(e.to_string().contains("has no pkgid="), "{e}");
        let e = parse(
            text.replace("type=\"dir\"", "type=\"x\"").as_bytes(),
            "f.xml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("type: invalid value \"x\""), "{e}");
        let e = parse(
            text.replace("packages=\"1\"", "packages=\"2\"").as_bytes(),
            "f.xml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("but 1 packages"), "{e}");
        let e = parse(&b"<metadata/>"[..], "f.xml").unwrap_err();
        assert!(e.to_string().contains("expected <filelists>"), "{e}");
    }
}
