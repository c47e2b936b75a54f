//! `cryo resolve` and `cryo drv show` on the real fixture snapshot.

use std::fs;

use cryo_tests::{fixture_mirror, Daemon};
use serde_json::Value;

fn setup() -> (Daemon, String, String) {
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800")]);
    d.add_fixture_mirrors();
    let main = d.json(&["mirror", "sync", "bookworm"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let both = d.json(&["mirror", "sync", "bookworm", "security"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    (d, main, both)
}

fn resolve(d: &Daemon, snap: &str, prjconf: &str, source: &str) -> Value {
    d.json(&["resolve", "--snapshot", snap, "--prjconf", prjconf, source])
}

#[test]
fn resolve_closure_and_derivation_identity() {
    let (d, main, both) = setup();
    let m = fixture_mirror();
    let prjconf = m.join("debian-12.prjconf");
    let pc = prjconf.to_str().unwrap();
    let r = resolve(&d, &both, pc, "src:hello");
    let drv = r["derivation"].as_str().unwrap().to_string();
    let closure = r["closure"].as_array().unwrap();
    let get = |n: &str| {
        closure
            .iter()
            .find(|c| c["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    assert_eq!(
        get("perl-base")["version"],
        "5.36.0-7+deb12u4",
        "security version wins"
    );
    assert_eq!(get("perl-base")["set"], "preinstall");
    assert_eq!(get("build-essential")["set"], "install");
    assert_eq!(get("debhelper")["arch"], "all");
    assert_eq!(get("fakeroot")["sha256"].as_str().unwrap().len(), 64);
    // The builder adds nothing to the closure (a pinned clock comes from outside the
    // root), so the source that builds libfaketime resolves like any other.
    assert!(closure.iter().all(|c| c["name"] != "libfaketime"), "{r}");
    // (src:faketime's files are not in the partial mirror: a tree that builds
    // `libfaketime`, which once failed with "excluded: built by the source being built".)
    let ft = tempfile::tempdir().unwrap();
    write_tree(ft.path(), "");
    fs::write(
        ft.path().join("debian/control"),
        "Source: tiny\nMaintainer: T <t@example.org>\nBuild-Depends: debhelper-compat (= 13)\n\n\
         Package: libfaketime\nArchitecture: any\nDescription: x\n x\n",
    )
    .unwrap();
    let faketime = resolve(&d, &both, pc, ft.path().to_str().unwrap());
    assert!(faketime["derivation"].as_str().is_some(), "{faketime}");

    // Same inputs → same id, through another way of naming the same source.
    let dsc = m.join("debian/pool/main/h/hello/hello_2.10-3.dsc");
    assert_eq!(
        resolve(&d, &both, pc, dsc.to_str().unwrap())["derivation"],
        drv.as_str()
    );
    assert_eq!(
        resolve(&d, &both, pc, "src:hello=2.10-3")["derivation"],
        drv.as_str()
    );

    // Every input changes the id: snapshot, prjconf (meaningful change), source.
    assert_ne!(
        resolve(&d, &main, pc, "src:hello")["derivation"],
        drv.as_str()
    );
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("pinned-clock.prjconf");
    fs::write(
        &changed,
        format!(
            "{}\nCryo-Clock: changelog\n",
            fs::read_to_string(&prjconf).unwrap()
        ),
    )
    .unwrap();
    assert_ne!(
        resolve(&d, &both, changed.to_str().unwrap(), "src:hello")["derivation"],
        drv.as_str()
    );
    // A comment does not change the meaning, hence not the id.
    let commented = dir.path().join("commented.prjconf");
    fs::write(
        &commented,
        format!("# a comment\n{}", fs::read_to_string(&prjconf).unwrap()),
    )
    .unwrap();
    assert_eq!(
        resolve(&d, &both, commented.to_str().unwrap(), "src:hello")["derivation"],
        drv.as_str()
    );
    assert_ne!(
        resolve(&d, &both, pc, "src:xfpt")["derivation"],
        drv.as_str()
    );

    // drv show prints every input readably.
    let show = d.ok(&["drv", "show", &drv]);
    for needle in [
        "builder   deb 2",
        "source    hello 2.10-3",
        "hello_2.10-3.dsc",
        "CRYO_BUILD_PATH=/build/reproducible-path/hello-2.10",
        "DEB_BUILD_OPTIONS=parallel=2",
        "CRYO_CLOCK=real",
        "perl-base 5.36.0-7+deb12u4",
    ] {
        assert!(show.contains(needle), "{needle} missing:\n{show}");
    }
    let j = d.json(&["drv", "show", &drv]);
    assert_eq!(j["format"], "cryo.drv/1");
    assert_eq!(j["snapshot"], both.as_str());
}

#[test]
fn bad_prjconf_and_unresolvable_sources_are_explained() {
    let (d, _main, both) = setup();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.prjconf");
    fs::write(&bad, "Preinstall: bash\n%if 1\nRequired: make\n").unwrap();
    let o = d.cryo(&[
        "resolve",
        "--snapshot",
        &both,
        "--prjconf",
        bad.to_str().unwrap(),
        "src:hello",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.prjconf:2"), "{err}");

    // A source whose build dependency does not exist in the snapshot.
    let orig = dir.path().join("demo_1.0.tar.xz");
    fs::write(&orig, b"not really a tarball").unwrap();
    let bytes = fs::read(&orig).unwrap();
    let sha = {
        use std::process::Command;
        let o = Command::new("sha256sum").arg(&orig).output().unwrap();
        String::from_utf8(o.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let dsc = dir.path().join("demo_1.0.dsc");
    fs::write(
        &dsc,
        format!(
            "Format: 3.0 (native)\nSource: demo\nBinary: demo\nArchitecture: any\nVersion: 1.0\nMaintainer: T <t@example.org>\nBuild-Depends: debhelper-compat (= 13), libdoesnotexist-dev (>= 2)\nChecksums-Sha256:\n {sha} {} demo_1.0.tar.xz\n",
            bytes.len()
        ),
    )
    .unwrap();
    let pc = fixture_mirror().join("debian-12.prjconf");
    let o = d.cryo(&[
        "resolve",
        "--snapshot",
        &both,
        "--prjconf",
        pc.to_str().unwrap(),
        dsc.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("libdoesnotexist-dev"), "{err}");
    assert!(err.contains("demo"), "{err}");

    // A .dsc whose file does not match its checksum.
    fs::write(&orig, b"tampered").unwrap();
    let o = d.cryo(&[
        "resolve",
        "--snapshot",
        &both,
        "--prjconf",
        pc.to_str().unwrap(),
        dsc.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not match demo_1.0.dsc"), "{err}");
}

fn write_tree(dir: &std::path::Path, extra: &str) {
    fs::create_dir_all(dir.join("debian/source")).unwrap();
    fs::write(dir.join("debian/source/format"), "3.0 (native)\n").unwrap();
    fs::write(
        dir.join("debian/changelog"),
        "tiny (1.0) bookworm; urgency=medium\n\n  * Initial.\n\n -- T <t@example.org>  Mon, 02 Jan 2023 10:00:00 +0000\n",
    )
    .unwrap();
    fs::write(
        dir.join("debian/control"),
        format!("Source: tiny\nMaintainer: T <t@example.org>\nBuild-Depends: debhelper-compat (= 13){extra}\n\nPackage: tiny\nArchitecture: all\nDescription: tiny\n tiny test package\n"),
    )
    .unwrap();
    fs::write(
        dir.join("debian/rules"),
        "#!/usr/bin/make -f\n%:\n\tdh $@\n",
    )
    .unwrap();
    fs::write(dir.join("hello.txt"), "hello\n").unwrap();
}

#[test]
fn source_trees_become_source_packages_deterministically() {
    let (d, _main, both) = setup();
    let pc = fixture_mirror().join("debian-12.prjconf");
    let pc = pc.to_str().unwrap();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ta = a.path().join("checkout-one");
    let tb = b.path().join("other-name");
    write_tree(&ta, "");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_tree(&tb, "");
    let ra = d.json(&[
        "resolve",
        "--snapshot",
        &both,
        "--prjconf",
        pc,
        ta.to_str().unwrap(),
    ]);
    let rb = d.json(&[
        "resolve",
        "--snapshot",
        &both,
        "--prjconf",
        pc,
        tb.to_str().unwrap(),
    ]);
    assert_eq!(ra["source"], "tiny");
    assert_eq!(
        ra["derivation"], rb["derivation"],
        "same content, other path and mtimes"
    );
    // A malformed debian/control is refused with file:line.
    fs::write(
        tb.join("debian/control"),
        "Source: tiny\nthis line has no colon\n",
    )
    .unwrap();
    let o = d.cryo(&[
        "resolve",
        "--snapshot",
        &both,
        "--prjconf",
        pc,
        tb.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("debian/control:2"), "{err}");
}
