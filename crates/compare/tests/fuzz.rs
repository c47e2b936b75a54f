//! Property tests standing in for the fuzzers in normal test runs (cargo-fuzz targets in
//! `crates/compare/fuzz`, long runs in `bench/fuzz.sh`): the `.deb` comparison reads two
//! untrusted packages, so its ar, tar, gzip, md5sums and ELF readers and the whole
//! `compare_debs` get arbitrary bytes and mutated real packages (whole-file edits and
//! edits inside one member, compressed and uncompressed). The property: no panic,
//! bounded time per input, and a rejected input is an error with a message.

mod common;

// One copy of the mutators for every crate's fuzz properties (test support, not a crate).
#[path = "../../debian/tests/common/mutate.rs"]
mod mutate;

#[path = "common/debseed.rs"]
mod debseed;

use std::io::Read;
use std::sync::OnceLock;

use cryo_compare::{ar, compare_debs, elf, gzip, md5sums, tar as ctar, Limits};
use mutate::{bounded, cases, check_err};
use proptest::prelude::*;

fn debs() -> Vec<Vec<u8>> {
    vec![common::pool(common::HELLO), common::pool(common::LIBUEV3)]
}

/// The uncompressed tar members of the fixture packages (control and data).
fn tar_streams() -> Vec<Vec<u8>> {
    debs()
        .iter()
        .flat_map(|d| debseed::members(&debseed::uncompressed(d)))
        .filter(|(id, _)| id.ends_with(b".tar"))
        .map(|(_, data)| data)
        .collect()
}

/// `/usr/bin/hello` out of the fixture package.
fn hello_elf() -> &'static Vec<u8> {
    static E: OnceLock<Vec<u8>> = OnceLock::new();
    E.get_or_init(|| {
        let deb = debseed::uncompressed(&common::pool(common::HELLO));
        let (_, data) = debseed::members(&deb)
            .into_iter()
            .find(|(id, _)| id.starts_with(b"data.tar"))
            .unwrap();
        let mut archive = tar::Archive::new(data.as_slice());
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().ends_with("usr/bin/hello") {
                let mut v = Vec::new();
                e.read_to_end(&mut v).unwrap();
                return v;
            }
        }
        panic!("no usr/bin/hello in the fixture package");
    })
}

/// Small limits, so that the limit paths are taken too.
fn small_limits() -> Limits {
    Limits {
        max_decompressed_size: 256 << 10,
        max_total_decompressed: 512 << 10,
        max_entries: 64,
        max_differences: 32,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(128), ..ProptestConfig::default() })]

    #[test]
    fn compare_debs_never_panics(deb in debseed::input(debs()), small in any::<bool>(), swap in any::<bool>()) {
        let limits = if small { small_limits() } else { Limits::default() };
        let official = common::pool(common::HELLO);
        let (ours, theirs) = if swap { (&official, &deb) } else { (&deb, &official) };
        bounded("compare_debs", || {
            if let Some(c) = check_err("compare_debs", compare_debs(ours, theirs, &limits)) {
                let _ = c.classification();
                let _ = serde_json::to_string(&c.differences).unwrap();
            }
        });
    }

    #[test]
    fn ar_never_panics(data in debseed::input(debs())) {
        bounded("ar", || {
            check_err("ar::parse", ar::parse(&data, 16));
        });
    }

    #[test]
    fn tar_never_panics(data in mutate::input(tar_streams(), 4096), small in any::<bool>()) {
        let limits = if small { small_limits() } else { Limits::default() };
        bounded("tar", || {
            if let Some(listing) = check_err("tar::parse", ctar::parse(&data, &limits)) {
                let _ = ctar::compare_order(&listing, &listing);
            }
        });
    }

    #[test]
    fn gzip_and_md5sums_never_panic(data in mutate::input(vec![
        Vec::new(),
        {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, b"d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/x\n").unwrap();
            gz.finish().unwrap()
        },
        b"d41d8cd98f00b204e9800998ecf8427e  usr/bin/hello\n0123456789abcdef0123456789abcdef  ./a b\n".to_vec(),
    ], 1024)) {
        bounded("gzip/md5sums", || {
            if gzip::looks_like_gzip(&data) {
                check_err("gzip::decode", gzip::decode(&data, 1 << 20));
            }
            let _ = md5sums::parse(&data);
        });
    }

    #[test]
    fn elf_never_panics(data in mutate::input(vec![hello_elf().clone()], 512), small in any::<bool>()) {
        let limits = if small { small_limits() } else { Limits::default() };
        bounded("elf", || {
            check_err("elf::compare", elf::compare(&data, hello_elf(), &limits));
            check_err("elf::compare", elf::compare(hello_elf(), &data, &limits));
        });
    }
}
