//! Property tests standing in for the fuzzers in normal test runs (see
//! `crates/debian/fuzz` for the cargo-fuzz targets and `bench/fuzz.sh` for long runs): every
//! parser of untrusted bytes in this crate — deb822, `.dsc` (plain and verified), OpenPGP
//! armour (keyrings, clearsigned and detached signatures), Release, Packages/Sources,
//! `debian/control`, `debian/changelog`, versions, relations, architectures, the
//! decompressors and the `.deb` reader — gets arbitrary bytes and mutated real fixture
//! files. The property: no panic, bounded time per input, and a rejected input is an error
//! with a message; the `.deb` reader never yields more than its cap and reports every
//! truncation of a real package as a typed error.

mod common;

#[path = "common/mutate.rs"]
mod mutate;

// The `.deb` seeds shared with the compare and aptrepo properties (test support).
#[path = "../../compare/tests/common/debseed.rs"]
mod debseed;

use std::io::Read;
use std::sync::OnceLock;

use cryo_debian::compression::{CompressionError, DecoderLimits};
use cryo_debian::deb::{DebReadError, DebReader};
use cryo_debian::openpgp::{self, Keyring};
use cryo_debian::release::Release;
use cryo_debian::{changelog, compression, control, deb822, dsc, index, relation};
use mutate::{bounded, cases, check_err, input};
use proptest::prelude::*;

fn pool(rel: &str) -> Vec<u8> {
    let path = common::mirror().join("debian/pool/main").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

fn keyring_bytes() -> Vec<u8> {
    std::fs::read(common::mirror().join("keyrings/debian-archive-keyring.gpg")).unwrap()
}

fn keyring() -> &'static Keyring {
    static K: OnceLock<Keyring> = OnceLock::new();
    K.get_or_init(|| Keyring::from_bytes(&keyring_bytes()).unwrap())
}

const DSCS: [&str; 3] = [
    "h/hello/hello_2.10-3.dsc",
    "b/base-files/base-files_12.4+deb12u15.dsc",
    "libu/libuev/libuev_2.4.0-1.1+deb12u1.dsc",
];

fn dsc_seeds() -> Vec<Vec<u8>> {
    DSCS.iter().map(|d| pool(d)).collect()
}

fn security_inrelease() -> Vec<u8> {
    std::fs::read(common::mirror().join("debian-security/dists/bookworm-security/InRelease"))
        .unwrap()
}

/// The first `n` stanzas of an index of the fixture.
fn stanzas(rel: &str, n: usize) -> Vec<u8> {
    let text = common::index(rel);
    let mut out: Vec<&str> = text.split("\n\n").take(n).collect();
    out.push("");
    out.join("\n\n").into_bytes()
}

/// `debian/control` and `debian/changelog` of hello's `.debian.tar.xz`.
fn hello_debian_files() -> &'static (Vec<u8>, Vec<u8>) {
    static F: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    F.get_or_init(|| {
        let xz = pool("h/hello/hello_2.10-3.debian.tar.xz");
        let tar = compression::decompress(&xz, Some("x.tar.xz"), 64 << 20).unwrap();
        let (mut control, mut changelog) = (Vec::new(), Vec::new());
        let mut archive = tar::Archive::new(tar.as_slice());
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            match path.as_str() {
                "debian/control" => e.read_to_end(&mut control).unwrap(),
                "debian/changelog" => e.read_to_end(&mut changelog).unwrap(),
                _ => 0,
            };
        }
        assert!(!control.is_empty() && !changelog.is_empty());
        (control, changelog)
    })
}

/// Real packages: xz members (two) and gzip members.
fn debs() -> &'static Vec<Vec<u8>> {
    static D: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    D.get_or_init(|| {
        [
            "h/hello/hello_2.10-3_amd64.deb",
            "libu/libuev/libuev3_2.4.0-1.1+deb12u1_amd64.deb",
            "d/debootstrap/debootstrap_1.0.128+nmu2+deb12u2_all.deb",
        ]
        .iter()
        .map(|d| pool(d))
        .collect()
    })
}

/// Reads all of `deb` with every member decoded under `cap` (asserted), the data member
/// walked as a tar stream: a tar error caused by the stream is the stream's typed fault,
/// any other (a mutated tar header) is the tar layer's business and reading goes on.
fn read_deb(deb: &[u8], cap: u64) -> Result<(), DebReadError> {
    let limits = DecoderLimits::default();
    let mut r = DebReader::new(deb)?;
    let control = r.control()?.read_decoded(cap, &limits)?;
    assert!(
        control.len() as u64 <= cap,
        "control: {} > {cap}",
        control.len()
    );
    let mut data = r.data()?.decode(cap, &limits)?;
    let walked = (|| -> std::io::Result<u64> {
        let mut total = 0;
        for e in tar::Archive::new(&mut data).entries()? {
            total += std::io::copy(&mut e?, &mut std::io::sink())?;
        }
        Ok(total)
    })();
    match walked {
        Ok(total) => assert!(total <= cap),
        Err(e) => {
            assert!(!e.to_string().trim().is_empty());
            if let Some(fault) = data.take_fault() {
                return Err(fault);
            }
        }
    }
    drop(data);
    while let Some(m) = r.next_member()? {
        let out = m.read_decoded(cap, &limits)?;
        assert!(out.len() as u64 <= cap);
    }
    Ok(())
}

fn text(bytes: &[u8]) -> Option<&str> {
    check_err("as_text", deb822::as_text(bytes, Some("fuzz")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn deb822_never_panics(data in input(vec![stanzas(common::MAIN_PACKAGES, 8), dsc_seeds()[0].clone()], 4096)) {
        bounded("deb822", || {
            if let Some(t) = text(&data) {
                for comments in [false, true] {
                    let opts = deb822::ParseOptions { comments, file: Some("fuzz") };
                    if let Some(ps) = check_err("deb822", deb822::parse_with(t, opts)) {
                        for p in ps {
                            let owned = p.to_owned_paragraph();
                            let _ = owned.to_string();
                            for f in p.fields() {
                                let _ = (f.value(), f.multiline(), f.lines().count());
                            }
                        }
                    }
                }
            }
        });
    }

    #[test]
    fn dsc_never_panics(data in input(dsc_seeds(), 4096)) {
        bounded("dsc", || {
            if let Ok(t) = std::str::from_utf8(&data) {
                check_err("dsc::parse", dsc::parse(t, "fuzz.dsc"));
            }
            check_err("dsc::parse_verified", dsc::parse_verified(&data, "fuzz.dsc", keyring()));
        });
    }

    #[test]
    fn keyring_never_panics(data in input(vec![keyring_bytes(), pool("h/hello/hello_2.10.orig.tar.gz.asc")], 2048)) {
        bounded("keyring", || {
            if let Some(k) = check_err("keyring", Keyring::from_bytes(&data)) {
                let _ = k.fingerprints();
            }
        });
    }

    #[test]
    fn clearsigned_never_panics(data in input(vec![security_inrelease(), pool(DSCS[0])], 4096)) {
        bounded("clearsigned", || {
            check_err("verify_clearsigned", openpgp::verify_clearsigned(&data, keyring()));
            if let Ok(t) = std::str::from_utf8(&data) {
                check_err("strip_clearsign", openpgp::strip_clearsign(t));
            }
        });
    }

    #[test]
    fn detached_signature_never_panics(sig in input(vec![pool("h/hello/hello_2.10.orig.tar.gz.asc")], 1024)) {
        bounded("detached", || {
            check_err("verify_detached", openpgp::verify_detached(b"signed data", &sig, keyring()));
        });
    }

    #[test]
    fn release_and_indices_never_panic(data in input(vec![
        openpgp::strip_clearsign(std::str::from_utf8(&security_inrelease()).unwrap()).unwrap().into_bytes(),
        stanzas(common::MAIN_PACKAGES, 6),
        stanzas(common::MAIN_SOURCES, 6),
    ], 4096)) {
        bounded("release/index", || {
            if let Some(t) = text(&data) {
                if let Some(r) = check_err("release", Release::parse(t)) {
                    let _ = format!("{r:?}");
                }
                check_err("packages", index::parse_packages(t, Some("Packages")));
                check_err("sources", index::parse_sources(t, Some("Sources")));
            }
        });
    }

    #[test]
    fn control_and_changelog_never_panic(data in input(vec![
        hello_debian_files().0.clone(),
        hello_debian_files().1.clone(),
    ], 4096)) {
        bounded("control/changelog", || {
            if let Some(t) = text(&data) {
                check_err("control", control::parse(t, "debian/control"));
                if let Some(e) = check_err("changelog", changelog::parse_first_entry(t, "debian/changelog")) {
                    let _ = e.render();
                }
            }
        });
    }

    #[test]
    fn versions_relations_arches_never_panic(data in input(vec![
        b"1:2.10-3+deb12u1~bpo11".to_vec(),
        b"libc6 (>= 2.34) [amd64 !i386] <!nocheck> | foo:any (<< 1:2) , bar".to_vec(),
        b"linux-any".to_vec(),
    ], 256)) {
        bounded("version/relation/arch", || {
            let t = String::from_utf8_lossy(&data);
            check_err("version", t.parse::<cryo_debian::version::Version>());
            if let Some(r) = check_err("relation", relation::parse_relation(&t)) {
                let _ = r.to_string();
            }
            check_err("arch", t.parse::<cryo_debian::arch::Arch>());
        });
    }

    #[test]
    fn decompression_never_panics(data in input(vec![
        pool("h/hello/hello_2.10-3.debian.tar.xz"),
        pool("h/hello/hello_2.10.orig.tar.gz")[..16384].to_vec(),
        zstd::encode_all(&b"cryo zstd seed"[..], 3).unwrap(),
    ], 1024)) {
        bounded("decompress", || {
            // A 1 MiB cap: a bomb is an error, not an allocation.
            if let Some(out) = check_err("decompress", compression::decompress(&data, None, 1 << 20)) {
                assert!(out.len() <= 1 << 20);
            }
        });
    }

    #[test]
    fn deb_reader_never_panics_or_exceeds_its_cap(
        deb in debseed::input(debs().clone()),
        cap in prop_oneof![Just(4096u64), Just(256 << 10), Just(64 << 20)],
    ) {
        bounded("deb", || {
            check_err("deb", read_deb(&deb, cap));
        });
    }

    #[test]
    fn truncated_debs_are_typed_errors(which in 0..3usize, cut in any::<proptest::sample::Index>()) {
        let deb = &debs()[which];
        let cut = cut.index(deb.len() - 1);
        bounded("deb truncation", || {
            let e = read_deb(&deb[..cut], 64 << 20).expect_err("a cut .deb reads");
            let typed = matches!(
                e,
                DebReadError::NotAr
                    | DebReadError::ShortMagic { .. }
                    | DebReadError::ShortHeader { .. }
                    | DebReadError::ShortMember { .. }
                    | DebReadError::Missing { .. }
                    | DebReadError::Decompress { source: CompressionError::Truncated { .. }, .. }
            );
            assert!(typed, "cut at {cut}: {e:?}");
        });
    }
}
