//! `primary.xml`: one `<package type="rpm">` per binary (or source) RPM, read as a stream
//! ([`PrimaryReader`] yields one [`Package`] at a time, so a 100 MiB primary never sits in
//! memory as a tree). Everything the resolver and a mirror need is kept: name, arch, EVR
//! (with or without `epoch=`), the pkgid checksum, location (`href` + `xml:base`), sizes,
//! header range, sourcerpm, license, the eight dependency lists (`pre="1"` recorded) and
//! the files primary lists (the `/etc`, `*bin/` and `/usr/lib/sendmail` subset; the rest is
//! in `filelists.xml`). Dropped: description, url, packager, vendor, group, buildhost and
//! the changelog-free `<time file>`.

use std::io::BufRead;

use crate::checksum::Checksum;
use crate::deps::{Constraint, Dep, Op};
use crate::evr::Evr;
use crate::name::{Arch, PackageName};
use crate::xml::{Ev, MetaError, MetaErrorKind, Tag, XmlReader};

/// Where the RPM is: `href` relative to the repository root, or to `base` when set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// `href=` (`Packages/h/hello-2.10-1.el7.x86_64.rpm`).
    pub href: String,
    /// `xml:base=` (another repository's URL), if any.
    pub base: Option<String>,
}

/// `<rpm:header-range start end>`: the byte range of the signature + main header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRange {
    /// Start (after the lead: 96 + signature).
    pub start: u64,
    /// End (start of the payload).
    pub end: u64,
}

/// The kind of a listed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// A regular file or symlink (no `type=`).
    File,
    /// `type="dir"`.
    Dir,
    /// `type="ghost"` (`%ghost`: owned, not shipped).
    Ghost,
}

/// A path a package owns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileEntry {
    /// Absolute path.
    pub path: String,
    /// Its kind.
    pub kind: FileKind,
}

/// One package of `primary.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// `<name>`.
    pub name: PackageName,
    /// `<arch>` (`src` for source RPMs).
    pub arch: Arch,
    /// `<version epoch ver rel>`; `epoch` as written (createrepo writes `0`).
    pub evr: Evr,
    /// `<checksum type pkgid="YES">`: the RPM file's checksum, the key of filelists/other.
    pub pkgid: Checksum,
    /// `<location>`.
    pub location: Location,
    /// `<size package>`: the RPM file's size.
    pub size: u64,
    /// `<size installed>`.
    pub installed_size: Option<u64>,
    /// `<time build>`.
    pub build_time: Option<u64>,
    /// `<summary>`.
    pub summary: Option<String>,
    /// `<rpm:license>`.
    pub license: Option<String>,
    /// `<rpm:sourcerpm>` (empty for source RPMs → `None`).
    pub sourcerpm: Option<String>,
    /// `<rpm:header-range>`.
    pub header_range: Option<HeaderRange>,
    /// `<rpm:provides>`.
    pub provides: Vec<Dep>,
    /// `<rpm:requires>` (`pre="1"` in [`Dep::pre`]).
    pub requires: Vec<Dep>,
    /// `<rpm:conflicts>`.
    pub conflicts: Vec<Dep>,
    /// `<rpm:obsoletes>`.
    pub obsoletes: Vec<Dep>,
    /// `<rpm:recommends>`: kept for display; the resolver never follows weak deps.
    pub recommends: Vec<Dep>,
    /// `<rpm:suggests>`: kept, not followed.
    pub suggests: Vec<Dep>,
    /// `<rpm:supplements>`: kept, not followed.
    pub supplements: Vec<Dep>,
    /// `<rpm:enhances>`: kept, not followed.
    pub enhances: Vec<Dep>,
    /// The files primary lists (a subset; see `filelists`).
    pub files: Vec<FileEntry>,
}

impl Package {
    /// `name-[epoch:]version-release.arch` as dnf prints it (epoch 0 omitted).
    pub fn nevra(&self) -> String {
        let e = match self.evr.epoch() {
            Some(e) if e > 0 => format!("{e}:"),
            _ => String::new(),
        };
        format!(
            "{}-{e}{}.{}",
            self.name,
            self.evr.version_release(),
            self.arch
        )
    }
}

/// Streaming reader of `primary.xml` (decompress first: `compression::open`).
pub struct PrimaryReader<R: BufRead> {
    x: XmlReader<R>,
    declared: Option<u64>,
    read: u64,
    state: State,
}

#[derive(PartialEq, Eq)]
enum State {
    Start,
    Body,
    Done,
}

impl<R: BufRead> PrimaryReader<R> {
    /// A reader of `input`; `file` names it in errors.
    pub fn new(input: R, file: &str) -> Self {
        PrimaryReader {
            x: XmlReader::new(input, file),
            declared: None,
            read: 0,
            state: State::Start,
        }
    }

    /// `packages=` of `<metadata>` (known after the first call to `next`).
    pub fn declared(&self) -> Option<u64> {
        self.declared
    }

    fn step(&mut self) -> Result<Option<Package>, MetaError> {
        if self.state == State::Start {
            let root = self.x.root("metadata")?;
            self.declared = self.x.opt_num(&root, "packages")?;
            self.state = State::Body;
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
                    if let Some(declared) = self.declared {
                        if declared != self.read {
                            return Err(self.x.err_at(
                                offset,
                                MetaErrorKind::Count {
                                    declared,
                                    found: self.read,
                                },
                            ));
                        }
                    }
                    return Ok(None);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for PrimaryReader<R> {
    type Item = Result<Package, MetaError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.state == State::Done {
            return None;
        }
        match self.step() {
            Ok(Some(p)) => Some(Ok(p)),
            Ok(None) => {
                self.state = State::Done;
                None
            }
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

/// Read a whole `primary.xml` (already decompressed) into packages.
pub fn parse(input: impl BufRead, file: &str) -> Result<Vec<Package>, MetaError> {
    PrimaryReader::new(input, file).collect()
}

fn text_nonempty<R: BufRead>(x: &mut XmlReader<R>, tag: &Tag) -> Result<String, MetaError> {
    let t = x.text()?;
    let t = t.trim();
    if t.is_empty() {
        return Err(x.invalid(tag, "text", t));
    }
    Ok(t.to_owned())
}

/// `<version>` / `<rpm:entry>` attributes → EVR (`epoch` optional, `rel` optional).
pub(crate) fn evr_attrs<R: BufRead>(x: &XmlReader<R>, tag: &Tag) -> Result<Evr, MetaError> {
    let epoch = match tag.attr("epoch") {
        None => None,
        Some(e) => Some(x.num::<u32>(tag, "epoch", e)?),
    };
    let ver = x.req(tag, "ver")?;
    Evr::new(epoch, ver, tag.attr("rel")).map_err(|source| {
        x.err_at(
            tag.offset,
            MetaErrorKind::Evr {
                element: tag.name.clone(),
                source,
            },
        )
    })
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

pub(crate) fn file_entry<R: BufRead>(
    x: &mut XmlReader<R>,
    tag: &Tag,
) -> Result<FileEntry, MetaError> {
    let kind = match tag.attr("type") {
        None | Some("file") => FileKind::File,
        Some("dir") => FileKind::Dir,
        Some("ghost") => FileKind::Ghost,
        Some(other) => return Err(x.invalid(tag, "type", other)),
    };
    let path = x.text()?;
    if !path.starts_with('/') {
        return Err(x.invalid(tag, "path", &path));
    }
    Ok(FileEntry { path, kind })
}

fn package<R: BufRead>(x: &mut XmlReader<R>, tag: &Tag) -> Result<Package, MetaError> {
    if let Some(t) = tag.attr("type") {
        if t != "rpm" {
            return Err(x.invalid(tag, "type", t));
        }
    }
    let mut name = None;
    let mut arch = None;
    let mut evr = None;
    let mut pkgid = None;
    let mut location = None;
    let mut size = None;
    let (mut summary, mut installed_size, mut build_time) = (None, None, None);
    let mut f = FormatPart::default();
    loop {
        let t = match x.next()? {
            Ev::Start(t) => t,
            Ev::End(_) => break,
            Ev::Eof => return Err(x.err_at(tag.offset, MetaErrorKind::Eof("package".into()))),
        };
        match t.name.as_str() {
            "name" => {
                let v = text_nonempty(x, &t)?;
                name = Some(PackageName::new(&v).map_err(|_| x.invalid(&t, "text", &v))?);
            }
            "arch" => {
                let v = text_nonempty(x, &t)?;
                arch = Some(Arch::new(&v).map_err(|_| x.invalid(&t, "text", &v))?);
            }
            "version" => {
                evr = Some(evr_attrs(x, &t)?);
                x.skip()?;
            }
            "checksum" => pkgid = Some(checksum(x, &t)?),
            "summary" => summary = Some(x.text()?),
            "time" => {
                build_time = x.opt_num(&t, "build")?;
                x.skip()?;
            }
            "size" => {
                size = Some(x.num::<u64>(&t, "package", x.req(&t, "package")?)?);
                installed_size = x.opt_num(&t, "installed")?;
                x.skip()?;
            }
            "location" => {
                let href = x.req(&t, "href")?.to_owned();
                if href.is_empty() || href.starts_with('/') || href.split('/').any(|c| c == "..") {
                    return Err(x.invalid(&t, "href", &href));
                }
                location = Some(Location {
                    href,
                    base: t.attr("xml:base").map(str::to_owned),
                });
                x.skip()?;
            }
            "format" => format(x, &mut f)?,
            _ => x.skip()?,
        }
    }
    Ok(Package {
        name: name.ok_or_else(|| x.missing(tag, "name"))?,
        arch: arch.ok_or_else(|| x.missing(tag, "arch"))?,
        evr: evr.ok_or_else(|| x.missing(tag, "version"))?,
        pkgid: pkgid.ok_or_else(|| x.missing(tag, "checksum"))?,
        location: location.ok_or_else(|| x.missing(tag, "location"))?,
        size: size.ok_or_else(|| x.missing(tag, "size"))?,
        installed_size,
        build_time,
        summary,
        license: f.license,
        sourcerpm: f.sourcerpm,
        header_range: f.header_range,
        provides: f.provides,
        requires: f.requires,
        conflicts: f.conflicts,
        obsoletes: f.obsoletes,
        recommends: f.recommends,
        suggests: f.suggests,
        supplements: f.supplements,
        enhances: f.enhances,
        files: f.files,
    })
}

#[derive(Default)]
struct FormatPart {
    license: Option<String>,
    sourcerpm: Option<String>,
    header_range: Option<HeaderRange>,
    provides: Vec<Dep>,
    requires: Vec<Dep>,
    conflicts: Vec<Dep>,
    obsoletes: Vec<Dep>,
    recommends: Vec<Dep>,
    suggests: Vec<Dep>,
    supplements: Vec<Dep>,
    enhances: Vec<Dep>,
    files: Vec<FileEntry>,
}

fn format<R: BufRead>(x: &mut XmlReader<R>, p: &mut FormatPart) -> Result<(), MetaError> {
    loop {
        let t = match x.next()? {
            Ev::Start(t) => t,
            Ev::End(_) => return Ok(()),
            Ev::Eof => return Err(x.err_at(x.pos(), MetaErrorKind::Eof("format".into()))),
        };
        match t.name.as_str() {
            "license" => p.license = Some(x.text()?),
            "sourcerpm" => {
                let s = x.text()?;
                p.sourcerpm = (!s.trim().is_empty()).then(|| s.trim().to_owned());
            }
            "header-range" => {
                let start: u64 = x.num(&t, "start", x.req(&t, "start")?)?;
                let end: u64 = x.num(&t, "end", x.req(&t, "end")?)?;
                if end < start {
                    return Err(x.invalid(&t, "end", &end.to_string()));
                }
                p.header_range = Some(HeaderRange { start, end });
                x.skip()?;
            }
            "provides" => p.provides = entries(x)?,
            "requires" => p.requires = entries(x)?,
            "conflicts" => p.conflicts = entries(x)?,
            "obsoletes" => p.obsoletes = entries(x)?,
            "recommends" => p.recommends = entries(x)?,
            "suggests" => p.suggests = entries(x)?,
            "supplements" => p.supplements = entries(x)?,
            "enhances" => p.enhances = entries(x)?,
            "file" => {
                let f = file_entry(x, &t)?;
                p.files.push(f);
            }
            _ => x.skip()?,
        }
    }
}

fn entries<R: BufRead>(x: &mut XmlReader<R>) -> Result<Vec<Dep>, MetaError> {
    let mut out = Vec::new();
    loop {
        let t = match x.next()? {
            Ev::Start(t) => t,
            Ev::End(_) => return Ok(out),
            Ev::Eof => return Err(x.err_at(x.pos(), MetaErrorKind::Eof("entries".into()))),
        };
        if t.name != "entry" {
            x.skip()?;
            continue;
        }
        out.push(entry(x, &t)?);
        x.skip()?;
    }
}

fn entry<R: BufRead>(x: &XmlReader<R>, t: &Tag) -> Result<Dep, MetaError> {
    let name = x.req(t, "name")?;
    if name.trim().is_empty() {
        return Err(x.invalid(t, "name", name));
    }
    let constraint = match t.attr("flags") {
        None => None,
        Some(f) => {
            let op = Op::from_flags(f).ok_or_else(|| x.invalid(t, "flags", f))?;
            Some(Constraint {
                op,
                evr: evr_attrs(x, t)?,
            })
        }
    };
    let pre = match t.attr("pre") {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => return Err(x.invalid(t, "pre", other)),
    };
    Ok(Dep {
        name: name.to_owned(),
        constraint,
        pre,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn doc(n: usize, body: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{n}\">\n{body}</metadata>\n"
        )
    }

    fn pkg(name: &str, version: &str, format: &str) -> String {
        format!(
            "<package type=\"rpm\"><name>{name}</name><arch>x86_64</arch>{version}\
             <checksum type=\"sha256\" pkgid=\"YES\">{SHA}</checksum><summary>S &amp; T</summary>\
             <time file=\"1\" build=\"2\"/><size package=\"10\" installed=\"20\" archive=\"30\"/>\
             <location xml:base=\"http://vault/7/os/\" href=\"Packages/{name}.rpm\"/>\
             <format>{format}</format></package>\n"
        )
    }

    #[test]
    fn real_repository_details() {
        let fmt = "<rpm:license>GPLv3+</rpm:license><rpm:sourcerpm>hello-2.10-1.src.rpm</rpm:sourcerpm>\
            <rpm:header-range start=\"4504\" end=\"6520\"/>\
            <rpm:provides><rpm:entry name=\"hello\" flags=\"EQ\" epoch=\"0\" ver=\"2.10\" rel=\"1\"/>\
            <rpm:entry name=\"libhello.so.1()(64bit)\"/></rpm:provides>\
            <rpm:requires><rpm:entry name=\"/bin/sh\" pre=\"1\"/><rpm:entry name=\"libc.so.6(GLIBC_2.34)(64bit)\"/>\
            <rpm:entry name=\"glibc\" flags=\"GE\" ver=\"2.17\"/><rpm:entry name=\"(a or b)\"/></rpm:requires>\
            <rpm:obsoletes><rpm:entry name=\"hello-old\" flags=\"LT\" epoch=\"1\" ver=\"2\"/></rpm:obsoletes>\
            <rpm:recommends><rpm:entry name=\"info\"/></rpm:recommends>\
            <file>/usr/bin/hello</file><file type=\"dir\">/etc/hello</file><file type=\"ghost\">/var/log/hello</file>";
        let text = doc(
            2,
            &(pkg(
                "hello",
                "<version epoch=\"0\" ver=\"2.10\" rel=\"1\"/>",
                fmt,
            ) + &pkg("bare", "<version ver=\"1~rc1^g1\"/>", "")),
        );
        let ps = parse(text.as_bytes(), "primary.xml").unwrap();
        let h = &ps[0];
        assert_eq!(h.nevra(), "hello-2.10-1.x86_64");
        assert_eq!(h.evr.epoch(), Some(0));
        assert_eq!(h.summary.as_deref(), Some("S & T"));
        assert_eq!(h.location.base.as_deref(), Some("http://vault/7/os/"));
        assert_eq!(
            (h.size, h.installed_size, h.build_time),
            (10, Some(20), Some(2))
        );
        assert_eq!(
            h.header_range,
            Some(HeaderRange {
                start: 4504,
                end: 6520
            })
        );
        assert_eq!(h.sourcerpm.as_deref(), Some("hello-2.10-1.src.rpm"));
        assert_eq!(h.provides.len(), 2);
        assert!(h.requires[0].pre && !h.requires[1].pre);
        assert_eq!(h.requires[2].to_string(), "glibc >= 2.17");
        assert!(h.requires[3].is_rich());
        assert_eq!(h.obsoletes[0].to_string(), "hello-old < 1:2");
        assert_eq!(h.recommends[0].name, "info");
        assert_eq!(
            h.files.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [FileKind::File, FileKind::Dir, FileKind::Ghost]
        );
        let b = &ps[1];
        assert_eq!((b.evr.epoch(), b.evr.release()), (None, None));
        assert_eq!(b.nevra(), "bare-1~rc1^g1.x86_64");
    }

    fn err(text: &str) -> String {
        match parse(text.as_bytes(), "repodata/p-primary.xml") {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn malformed_input_gives_file_position_and_cause() {
        let v = "<version epoch=\"0\" ver=\"1\" rel=\"1\"/>";
        let e = err(&doc(2, &pkg("a", v, "")));
        assert!(e.contains("packages=\"2\" but 1 packages were read"), "{e}");
        let e = err(&doc(1, &pkg("a", "<version epoch=\"x\" ver=\"1\"/>", "")));
        assert!(e.starts_with("repodata/p-primary.xml: at byte "), "{e}");
        assert!(e.contains("<version> epoch: invalid value \"x\""), "{e}");
        let e = err(&doc(1, &pkg("a", "<version rel=\"1\"/>", "")));
        assert!(e.contains("<version> has no ver= attribute"), "{e}");
        let e = err(&doc(
            1,
            &pkg(
                "a",
                v,
                "<rpm:requires><rpm:entry name=\"b\" flags=\"XX\" ver=\"1\"/></rpm:requires>",
            ),
        ));
        assert!(e.contains("flags: invalid value \"XX\""), "{e}");
        let e = err(&doc(
            1,
            &pkg(
                "a",
                v,
                "<rpm:requires><rpm:entry name=\"b\" flags=\"GE\"/></rpm:requires>",
            ),
        ));
        assert!(e.contains("has no ver="), "{e}");
        let e = err(&doc(1, &pkg("a", v, "<file>relative</file>")));
        assert!(e.contains("path: invalid value"), "{e}");
        let e = err(&doc(1, &pkg("a b", v, "")));
        assert!(e.contains("<name> text: invalid value"), "{e}");
        let e = err(&doc(1, "<package type=\"rpm\"><name>a</name></package>"));
        assert!(e.contains("<package> has no <arch>"), "{e}");
        let e = err(&doc(1, &pkg("a", v, "").replace(SHA, "abc")));
        assert!(e.contains("checksum"), "{e}");
        let text = doc(1, &pkg("a", v, ""));
        let e = err(&text[..text.len() / 2]);
        assert!(e.contains("end of file") || e.contains("XML error"), "{e}");
        let e = err("<metadata><package></metadata>");
        assert!(e.contains("XML error"), "{e}");
        let e = err(&doc(1, &pkg("a", v, "")).replace("<name>a</name>", "<name>a<b/></name>"));
        assert!(e.contains("unexpected <b> inside a text element"), "{e}");
    }

    #[test]
    fn streaming_stops_after_the_first_error() {
        let v = "<version ver=\"1\"/>";
        let text = doc(
            3,
            &(pkg("a", v, "") + "<package type=\"rpm\"></package>" + &pkg("c", v, "")),
        );
        let mut r = PrimaryReader::new(text.as_bytes(), "p.xml");
        assert!(r.next().unwrap().is_ok());
        assert_eq!(r.declared(), Some(3));
        assert!(r.next().unwrap().is_err());
        assert!(r.next().is_none());
    }
}
