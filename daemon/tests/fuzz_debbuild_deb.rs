//! The builder's `.deb` reader (`cryo_debbuild::deb`: the control paragraph, control
//! members, and the extraction of `data.tar` for the Preinstall phase) gets mutated real
//! packages and a hostile one (`../` names, absolute names, a symlink out of the tree and
//! a hard link to a host file), whole-file edits and edits inside one ar member. The
//! property: no panic, bounded time per input, errors with a message, and **nothing is
//! written outside the destination directory**. Lives here because the builder's own test
//! directory belongs to the builder; the daemon is the caller that feeds it packages.
//! `CRYO_FUZZ_CASES` raises the count (`bench/fuzz.sh`).

#[path = "common/fuzzgen.rs"]
mod fuzzgen;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fuzzgen::{ar_members, ar_pack, cases, mutate, seed, tar_entry, Rng};

fn mirror() -> PathBuf {
    std::env::var_os("CRYO_FIXTURE_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/mirror"))
}

fn hello() -> Vec<u8> {
    let p = mirror().join("debian/pool/main/h/hello/hello_2.10-3_amd64.deb");
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// `deb` with its `.xz` members stored uncompressed.
fn uncompressed(deb: &[u8]) -> Vec<u8> {
    let members = ar_members(deb).expect("fixture is an ar archive");
    let plain: Vec<(String, Vec<u8>)> = members
        .into_iter()
        .map(|(name, data)| match name.strip_suffix(".xz") {
            Some(base) => {
                let mut out = Vec::new();
                liblzma::read::XzDecoder::new(data.as_slice())
                    .read_to_end(&mut out)
                    .expect("unxz");
                (base.to_owned(), out)
            }
            None => (name, data),
        })
        .collect();
    ar_pack(&plain)
}

/// A package whose data.tar tries to leave the destination every way tar allows.
fn hostile() -> Vec<u8> {
    let control = [
        tar_entry("./", b'5', "", b""),
        tar_entry(
            "./control",
            b'0',
            "",
            b"Package: evil\nVersion: 1\nArchitecture: all\nMaintainer: x <x@example.org>\nDescription: x\n x\n",
        ),
        vec![0; 1024],
    ]
    .concat();
    let data = [
        tar_entry("./", b'5', "", b""),
        tar_entry("../cryo-fuzz-escape", b'0', "", b"up one"),
        tar_entry("./../../cryo-fuzz-escape", b'0', "", b"up two"),
        tar_entry("/cryo-fuzz-absolute", b'0', "", b"absolute"),
        tar_entry("./up", b'2', "..", b""),
        tar_entry("./up/cryo-fuzz-through-link", b'0', "", b"through a link"),
        tar_entry("./abs", b'2', "/tmp", b""),
        tar_entry(
            "./abs/cryo-fuzz-through-abs-link",
            b'0',
            "",
            b"through /tmp",
        ),
        tar_entry("./passwd", b'1', "/etc/passwd", b""),
        tar_entry("./usr/bin/ok", b'0', "", b"fine"),
        vec![0; 1024],
    ]
    .concat();
    ar_pack(&[
        ("debian-binary".into(), b"2.0\n".to_vec()),
        ("control.tar".into(), control),
        ("data.tar".into(), data),
    ])
}

/// Every path under `dir` (not following links), relative to it.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

fn check_err<T, E: std::error::Error>(what: &str, r: Result<T, E>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            assert!(!e.to_string().trim().is_empty(), "{what}: empty error");
            None
        }
    }
}

/// One input through every reader; returns whether extraction succeeded.
fn run_one(deb: &[u8]) -> bool {
    let outer = tempfile::tempdir().unwrap();
    let boxdir = outer.path().join("box");
    let dest = boxdir.join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let path = boxdir.join("in.deb");
    std::fs::write(&path, deb).unwrap();
    let t = Instant::now();
    check_err("read_control", cryo_debbuild::deb::read_control(&path));
    check_err(
        "read_control_members",
        cryo_debbuild::deb::read_control_members(&path, &["control", "postinst", "../x"]),
    );
    let extracted = check_err(
        "extract_data_listing",
        cryo_debbuild::deb::extract_data_listing(&path, &dest),
    )
    .is_some();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(10), "one input took {took:?}");
    // Nothing but the package and the destination's own tree exists around it.
    let outside: Vec<PathBuf> = listing(outer.path())
        .into_iter()
        .filter(|p| !p.starts_with("box/dest/") && p != Path::new("box/dest"))
        .collect();
    assert_eq!(
        outside,
        [PathBuf::from("box"), PathBuf::from("box/in.deb")],
        "extraction wrote outside its destination"
    );
    for host in ["/cryo-fuzz-absolute", "/tmp/cryo-fuzz-through-abs-link"] {
        assert!(!Path::new(host).exists(), "extraction wrote {host}");
    }
    extracted
}

#[test]
fn hostile_package_stays_inside_its_destination() {
    // Either refused or confined: both are fine, writing outside is not.
    run_one(&hostile());
}

#[test]
fn deb_reader_never_panics_or_escapes() {
    let seeds = [hello(), uncompressed(&hello()), hostile()];
    let mut rng = Rng(seed());
    let n = cases(300);
    let started = Instant::now();
    let mut ok = 0;
    for i in 0..n {
        let s = &seeds[i % seeds.len()];
        let input = match (rng.below(2), ar_members(s)) {
            (0, Some(mut members)) if !members.is_empty() => {
                let m = rng.below(members.len());
                members[m].1 = mutate(&mut rng, &members[m].1);
                ar_pack(&members)
            }
            _ => mutate(&mut rng, s),
        };
        let r = std::panic::catch_unwind(|| run_one(&input));
        match r {
            Ok(true) => ok += 1,
            Ok(false) => {}
            Err(e) => {
                let dump = std::env::temp_dir().join(format!("cryo-fuzz-deb-crash-{i}.deb"));
                std::fs::write(&dump, &input).unwrap();
                std::panic::resume_unwind(Box::new(format!(
                    "input {i} (seed {}) failed, saved as {}: {:?}",
                    seed(),
                    dump.display(),
                    e.downcast_ref::<String>()
                        .map(String::as_str)
                        .or(e.downcast_ref::<&str>().copied())
                )));
            }
        }
    }
    eprintln!("{n} inputs, {ok} extracted, in {:?}", started.elapsed());
}
