//! `.deb` seeds for the fuzz properties: real fixture packages, the same with their
//! members stored uncompressed (so that edits reach the tar readers, not only the
//! decompressors), and edits applied inside one ar member with the framing kept valid.
#![allow(dead_code)]

use std::io::Read;

use proptest::prelude::*;

use super::mutate::{self, Edit};

/// The ar members of `deb`: (identifier, data).
pub fn members(deb: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut archive = ar::Archive::new(deb);
    let mut out = Vec::new();
    while let Some(entry) = archive.next_entry() {
        let mut entry = entry.expect("ar entry of a fixture .deb");
        let id = entry.header().identifier().to_vec();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("ar member data");
        out.push((id, data));
    }
    out
}

/// An ar archive of `members`, sizes and framing correct.
pub fn pack(members: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut b = ar::Builder::new(Vec::new());
    for (id, data) in members {
        let mut h = ar::Header::new(id.clone(), data.len() as u64);
        h.set_mode(0o100644);
        b.append(&h, data.as_slice()).expect("ar append");
    }
    b.into_inner().expect("ar finish")
}

/// `deb` with `*.tar.xz` members decompressed and renamed `*.tar`.
pub fn uncompressed(deb: &[u8]) -> Vec<u8> {
    let ms: Vec<(Vec<u8>, Vec<u8>)> = members(deb)
        .into_iter()
        .map(|(id, data)| match id.strip_suffix(b".xz") {
            Some(base) => {
                let mut plain = Vec::new();
                liblzma::read::XzDecoder::new(data.as_slice())
                    .read_to_end(&mut plain)
                    .expect("unxz");
                (base.to_vec(), plain)
            }
            None => (id, data),
        })
        .collect();
    pack(&ms)
}

/// Applies `edits` to member `which` (modulo the count) of `deb`, re-framing the archive.
pub fn edit_member(deb: &[u8], which: usize, edits: &[Edit]) -> Vec<u8> {
    let mut ms = members(deb);
    if ms.is_empty() {
        return deb.to_vec();
    }
    let i = which % ms.len();
    ms[i].1 = mutate::apply(&ms[i].1, edits);
    pack(&ms)
}

/// Seeds: each of `debs` as it is and uncompressed.
pub fn seeds(debs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    debs.iter()
        .flat_map(|d| [d.clone(), uncompressed(d)])
        .collect()
}

/// Whole-file edits of a seed, edits inside one member, or arbitrary bytes.
pub fn input(debs: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(&debs);
    let n = seeds.len();
    let inner = seeds.clone();
    prop_oneof![
        1 => mutate::input(seeds, 2048),
        2 => (0..n, 0usize..3, proptest::collection::vec(mutate::edit(), 1..6))
            .prop_map(move |(s, m, edits)| edit_member(&inner[s], m, &edits)),
    ]
}
