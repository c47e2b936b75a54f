//! Test helpers: fixture access and in-memory re-packing of real `.deb` files (ar → tar →
//! xz) so that synthetic variants differ from the original in exactly one controlled way.
#![allow(dead_code)]

use std::io::{Cursor, Read};
use std::path::PathBuf;

use md5::{Digest, Md5};

pub fn mirror() -> PathBuf {
    match std::env::var_os("CRYO_FIXTURE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mirror"),
    }
}

/// Reads a `.deb` from the fixture pool, e.g. `main/h/hello/hello_2.10-3_amd64.deb`.
pub fn pool(rel: &str) -> Vec<u8> {
    let path = mirror().join("debian/pool").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub const HELLO: &str = "main/h/hello/hello_2.10-3_amd64.deb";
pub const BASE_FILES: &str = "main/b/base-files/base-files_12.4+deb12u15_amd64.deb";
pub const LIBUEV3: &str = "main/libu/libuev/libuev3_2.4.0-1.1+deb12u1_amd64.deb";
pub const XFPT: &str = "main/x/xfpt/xfpt_0.11-1+deb12u1_amd64.deb";

pub struct Member {
    pub header: ar::Header,
    pub data: Vec<u8>,
}

pub fn ar_members(deb: &[u8]) -> Vec<Member> {
    let mut archive = ar::Archive::new(Cursor::new(deb));
    let mut out = Vec::new();
    while let Some(entry) = archive.next_entry() {
        let mut entry = entry.expect("ar entry");
        let header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("ar data");
        out.push(Member { header, data });
    }
    out
}

pub fn ar_pack(members: &[Member]) -> Vec<u8> {
    let mut builder = ar::Builder::new(Vec::new());
    for m in members {
        let mut header = m.header.clone();
        header.set_size(m.data.len() as u64);
        builder
            .append(&header, m.data.as_slice())
            .expect("ar append");
    }
    builder.into_inner().expect("ar finish")
}

pub fn unxz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    liblzma::read::XzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("unxz");
    out
}

pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    liblzma::read::XzEncoder::new(data, 6)
        .read_to_end(&mut out)
        .expect("xz");
    out
}

/// One raw tar record (header block + data), including long-name pseudo entries.
pub struct RawEntry {
    pub path: String,
    pub header: tar::Header,
    pub data: Vec<u8>,
}

pub fn tar_entries(stream: &[u8]) -> Vec<RawEntry> {
    let mut archive = tar::Archive::new(stream);
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar").raw(true) {
        let mut entry = entry.expect("tar entry");
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("tar data");
        out.push(RawEntry { path, header, data });
    }
    out
}

/// Re-packs raw entries; pads with zeros to `pad_to` so an unmodified re-pack is
/// byte-identical to GNU tar's output.
pub fn tar_pack(entries: &[RawEntry], pad_to: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        builder
            .append(&e.header, e.data.as_slice())
            .expect("tar append");
    }
    let mut out = builder.into_inner().expect("tar finish");
    if out.len() < pad_to {
        out.resize(pad_to, 0);
    }
    out
}

fn rewrite_member(members: &mut [Member], prefix: &str, f: impl FnOnce(&mut Vec<RawEntry>)) {
    let m = members
        .iter_mut()
        .find(|m| m.header.identifier().starts_with(prefix.as_bytes()))
        .expect("member");
    let stream = unxz(&m.data);
    let mut entries = tar_entries(&stream);
    f(&mut entries);
    m.data = xz(&tar_pack(&entries, stream.len()));
}

/// Applies `f` to the entries of the member whose name starts with `prefix`.
pub fn modify_member(deb: &[u8], prefix: &str, f: impl FnOnce(&mut Vec<RawEntry>)) -> Vec<u8> {
    let mut members = ar_members(deb);
    rewrite_member(&mut members, prefix, f);
    ar_pack(&members)
}

/// Applies `f` to the data.tar entries; when `update_md5sums`, rewrites `md5sums` to match.
pub fn modify_data(
    deb: &[u8],
    update_md5sums: bool,
    f: impl FnOnce(&mut Vec<RawEntry>),
) -> Vec<u8> {
    let mut members = ar_members(deb);
    let mut new_data = Vec::new();
    rewrite_member(&mut members, "data.tar", |entries| {
        f(entries);
        for e in entries.iter() {
            new_data.push((e.path.trim_start_matches("./").to_owned(), e.data.clone()));
        }
    });
    if update_md5sums {
        rewrite_member(&mut members, "control.tar", |entries| {
            let e = entries
                .iter_mut()
                .find(|e| e.path == "./md5sums")
                .expect("md5sums");
            let text = String::from_utf8(e.data.clone()).expect("md5sums utf8");
            let mut out = String::new();
            for line in text.lines() {
                let (_, path) = line.split_once("  ").expect("md5sums line");
                if let Some((_, data)) = new_data.iter().find(|(p, _)| p == path) {
                    out.push_str(&format!("{}  {path}\n", hex::encode(Md5::digest(data))));
                }
            }
            set_data(e, out.into_bytes());
        });
    }
    ar_pack(&members)
}

/// Replaces an entry's data and fixes its header size and checksum.
pub fn set_data(e: &mut RawEntry, data: Vec<u8>) {
    e.header.set_size(data.len() as u64);
    e.header.set_cksum();
    e.data = data;
}

pub fn entry<'a>(entries: &'a mut [RawEntry], path: &str) -> &'a mut RawEntry {
    entries
        .iter_mut()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no entry {path}"))
}

/// File range (offset, size) of an ELF section, found with `object`.
pub fn section_range(elf: &[u8], name: &str) -> (usize, usize) {
    use object::{Object, ObjectSection};
    let file = object::File::parse(elf).expect("ELF");
    let section = file.section_by_name(name).expect("section");
    let (offset, size) = section.file_range().expect("file range");
    (offset as usize, size as usize)
}
