//! `cryo explain` against synthetic ground truth (docs/explain.md, "Synthetic ground
//! truth"): three native sources in the fixture's style, each with one known cause of
//! divergence. Their "official" binaries are built by cryo itself under the environment the
//! "distribution" used, published with their sources in a small signed archive
//! (`bookworm-synth`) next to the fixture, and then verified and explained:
//!
//! - `cryo-year` writes `date +%Y` into the package; official built with
//!   `Cryo-Clock: changelog` (changelog of 2021). Verified with `Cryo-Clock: real`:
//!   `content`; explain finds `Cryo-Clock: changelog` (clock) → identical.
//! - `cryo-rpmmark` build-depends on `librpm9` (whose `Recommends` is `rpm-common`, in the
//!   fixture's pool but not in the closure) and records whether `/usr/lib/rpm/macros`
//!   (shipped by `rpm-common`) exists; official built with `Support: rpm-common`. Verified
//!   without: `content`; explain finds `Support: rpm-common` (extra-packages) → identical.
//! - `cryo-perldep` records the build root's perl version in its `Depends`; official built in
//!   a snapshot of bookworm main only (perl 5.36.0-7+deb12u3). Verified in bookworm +
//!   bookworm-security (perl +deb12u4): `control-only`; explain finds the snapshot of
//!   bookworm main + the synthetic archive (snapshot) → identical.
//!
//! The sources set `Rules-Requires-Root: no` (as hello does), so no build runs under fakeroot:
//! `fakeroot debian/rules clean` segfaults under `Cryo-Clock: changelog`'s LD_PRELOAD.
//! One daemon for all; the builds share cached build roots where their closures agree.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use cryo_tests::{file_url, fixture_mirror, Daemon, NativeTree};
use serde_json::Value;

const SUITE: &str = "bookworm-synth";

/// Dated 2021: the year `Cryo-Clock: changelog` gives, never the real clock's.
const YEAR_CHANGELOG: &str = "cryo-year (1.0) bookworm; urgency=medium

  * Embeds the build year.

 -- T <t@example.org>  Mon, 04 Jan 2021 10:00:00 +0000
";
const YEAR_RULES: &str = "#!/usr/bin/make -f
%:
\tdh $@

override_dh_auto_install:
\tinstall -d debian/cryo-year/usr/share/cryo-year
\tdate +%Y > debian/cryo-year/usr/share/cryo-year/year
";
/// `/usr/lib/rpm/macros` is shipped by rpm-common.
const RPMMARK_RULES: &str = "#!/usr/bin/make -f
%:
\tdh $@

override_dh_auto_install:
\tinstall -d debian/cryo-rpmmark/usr/share/cryo-rpmmark
\tif test -e /usr/lib/rpm/macros; then echo present; else echo absent; fi \\
\t  > debian/cryo-rpmmark/usr/share/cryo-rpmmark/rpm-common
";
/// `Depends: perl (>= VERSION OF THE BUILD ROOT'S PERL)`.
const PERLDEP_RULES: &str = "#!/usr/bin/make -f
PERL_VERSION := $(shell dpkg-query -W -f '$${Version}' perl)
%:
\tdh $@

override_dh_gencontrol:
\tdh_gencontrol -- \"-DDepends=perl (>= $(PERL_VERSION))\"
";

fn prjconf(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let stock = fs::read_to_string(fixture_mirror().join("debian-12.prjconf")).unwrap();
    let p = dir.join(name);
    fs::write(&p, format!("{stock}\n{extra}")).unwrap();
    p
}

fn binary<'a>(v: &'a Value, package: &str) -> &'a Value {
    v["explanations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["package"] == package)
        .unwrap_or_else(|| panic!("no explanation of {package}: {v}"))
}

/// `debian/control` of a synthetic source: NativeTree's, with `Rules-Requires-Root: no`
/// (as hello has): with `Cryo-Clock: changelog`, `fakeroot debian/rules clean` under the
/// clock's LD_PRELOAD crashes (segfault) in this builder, so the sources avoid fakeroot.
fn control(source: &str, build_depends: &str) -> String {
    format!(
        "Source: {source}\nMaintainer: T <t@example.org>\nBuild-Depends: debhelper-compat (= 13){build_depends}\nRules-Requires-Root: no\n\nPackage: {source}\nArchitecture: all\nDescription: cryo test package\n test package\n"
    )
}

/// `cryo build` of a local tree; the path of the one `.deb` it wrote into `out`.
fn build_official(d: &Daemon, snap: &str, prjconf: &Path, tree: &Path, out: &Path) -> PathBuf {
    fs::create_dir_all(out).unwrap();
    let b = d.json(&[
        "build",
        "--snapshot",
        snap,
        "--prjconf",
        prjconf.to_str().unwrap(),
        tree.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(b["status"] == "built" || b["status"] == "cached", "{b}");
    let debs: Vec<PathBuf> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "{b}");
    debs[0].clone()
}

/// The content of `path` inside a `.deb`.
fn deb_file(deb: &Path, path: &str) -> String {
    let x = tempfile::tempdir().unwrap();
    cryo_tests::run_ok(Command::new("dpkg-deb").arg("-x").arg(deb).arg(x.path()));
    fs::read_to_string(x.path().join(path)).unwrap()
}

/// A signed archive `bookworm-synth` holding the given source packages (`dpkg-source -b` of
/// each tree) and binaries. Returns the GnuPG home (keep it alive) and the public keyring.
fn synth_archive(root: &Path, trees: &[&Path], debs: &[&Path]) -> (tempfile::TempDir, PathBuf) {
    let archive = root.join("synth");
    for tree in trees {
        let name = tree.file_name().unwrap().to_str().unwrap();
        let work = root.join("dsc").join(name);
        fs::create_dir_all(&work).unwrap();
        cryo_tests::run_ok(
            Command::new("dpkg-source")
                .current_dir(&work)
                .env("SOURCE_DATE_EPOCH", "1672653600")
                .arg("-b")
                .arg(tree),
        );
        let pool = archive.join("pool/main/c").join(name);
        fs::create_dir_all(&pool).unwrap();
        for f in fs::read_dir(&work).unwrap() {
            let p = f.unwrap().path();
            if p.is_file() {
                fs::copy(&p, pool.join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    for deb in debs {
        let name = deb.file_name().unwrap().to_str().unwrap();
        let source = name.split('_').next().unwrap();
        let pool = archive.join("pool/main/c").join(source);
        fs::create_dir_all(&pool).unwrap();
        fs::copy(deb, pool.join(name)).unwrap();
    }
    cryo_tests::sign_archive(&archive, SUITE)
}

/// `cryo verify` one source (exit 1: it differs); the report id.
fn verify(d: &Daemon, snap: &str, prjconf: &Path, source: &str, class: &str) -> String {
    let o = d.cryo(&[
        "--json",
        "verify",
        "--snapshot",
        snap,
        "--prjconf",
        prjconf.to_str().unwrap(),
        &format!("src:{source}"),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&o.stderr), d.log()));
    let shown = || d.ok(&["report", "show", v["report"].as_str().unwrap_or("")]);
    assert_eq!(o.status.code(), Some(1), "{source}: {v}\n{}", shown());
    assert_eq!(
        v["summary"]["total"]["by_kind"][class], 1,
        "{source} should be {class}: {v}"
    );
    v["report"].as_str().unwrap().to_string()
}

/// `cryo explain REPORT`; the explanation of `package`.
fn explain(d: &Daemon, report: &str, package: &str) -> Value {
    let e = d.json(&["explain", report, "--max-rebuilds", "8"]);
    assert_eq!(e["report"], report);
    let x = binary(&e, package)["explanation"].clone();
    eprintln!("{package}: {}", x["summary"]);
    for a in x["tried"].as_array().unwrap() {
        eprintln!(
            "  tried {} [{}]: {}",
            a["variation"], a["cause"], a["class"]
        );
    }
    assert!(x["rebuilds"].as_u64().unwrap() <= 8, "{x}");
    x
}

#[test]
fn explain_reproduces_synthetic_ground_truth() {
    let tools = [
        "gpg",
        "dpkg-source",
        "dpkg-scansources",
        "dpkg-scanpackages",
        "apt-ftparchive",
        "dpkg-deb",
    ];
    let missing = cryo_tests::missing_tools(&tools);
    if !cryo_tests::require(
        missing.is_empty(),
        &format!("the synthetic archive needs {missing:?} (gnupg, dpkg-dev, apt-utils)"),
    ) {
        return;
    }
    let d = Daemon::start_with_env(&[("CRYOD_NOW", "1795564800"), ("CRYOD_WORKERS", "2")]);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let stock = fixture_mirror().join("debian-12.prjconf");
    let real = prjconf(t, "real.prjconf", "Cryo-Clock: real\n");
    let pinned = prjconf(t, "pinned.prjconf", "Cryo-Clock: changelog\n");
    let with_rpm = prjconf(
        t,
        "rpm.prjconf",
        "Cryo-Clock: changelog\nSupport: rpm-common\n",
    );

    // The fixture (bookworm + bookworm-security) and bookworm main alone.
    let fixture = d.fixture_snapshot();
    let main_only = d.json(&["mirror", "sync", "bookworm"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(main_only, fixture);

    // The sources.
    let year = t.join("src/cryo-year");
    NativeTree {
        source: "cryo-year",
        version: "1.0",
        build_depends: "",
        binary: "cryo-year",
        changes: "Embeds the build year.",
        files: &[
            ("debian/control", &control("cryo-year", "")),
            ("debian/changelog", YEAR_CHANGELOG),
            ("debian/rules", YEAR_RULES),
        ],
    }
    .write(&year);
    let rpmmark = t.join("src/cryo-rpmmark");
    NativeTree {
        source: "cryo-rpmmark",
        version: "1.0",
        build_depends: ", librpm9",
        binary: "cryo-rpmmark",
        changes: "Records whether rpm-common is installed.",
        files: &[
            ("debian/control", &control("cryo-rpmmark", ", librpm9")),
            ("debian/rules", RPMMARK_RULES),
        ],
    }
    .write(&rpmmark);
    let perldep = t.join("src/cryo-perldep");
    NativeTree {
        source: "cryo-perldep",
        version: "1.0",
        build_depends: "",
        binary: "cryo-perldep",
        changes: "Records the perl version in Depends.",
        files: &[
            ("debian/control", &control("cryo-perldep", "")),
            ("debian/rules", PERLDEP_RULES),
        ],
    }
    .write(&perldep);

    // The "official" binaries, built as the distribution did.
    let out = t.join("official");
    let year_deb = build_official(&d, &fixture, &pinned, &year, &out.join("year"));
    assert_eq!(deb_file(&year_deb, "usr/share/cryo-year/year"), "2021\n");
    let rpm_deb = build_official(&d, &fixture, &with_rpm, &rpmmark, &out.join("rpm"));
    assert_eq!(
        deb_file(&rpm_deb, "usr/share/cryo-rpmmark/rpm-common"),
        "present\n"
    );
    let perl_deb = build_official(&d, &main_only, &stock, &perldep, &out.join("perl"));
    let depends = cryo_tests::run_ok(
        Command::new("dpkg-deb")
            .args(["-f"])
            .arg(&perl_deb)
            .arg("Depends"),
    );
    assert_eq!(depends.trim(), "perl (>= 5.36.0-7+deb12u3)");

    // Sources and binaries in a signed archive next to the fixture; two snapshots:
    // bookworm + synth (perl +deb12u3), and bookworm + security + synth (perl +deb12u4).
    let (_gnupg, keyring) = synth_archive(
        t,
        &[&year, &rpmmark, &perldep],
        &[&year_deb, &rpm_deb, &perl_deb],
    );
    d.ok(&[
        "mirror",
        "add",
        "synth",
        &file_url(&t.join("synth")),
        "--suite",
        SUITE,
        "--keyring",
        keyring.to_str().unwrap(),
    ]);
    let old = d.json(&["mirror", "sync", "bookworm", "synth"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let snap = d.json(&["mirror", "sync", "bookworm", "security", "synth"])["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(old, snap);

    // 1. The build year: content with the real clock; the changelog clock reproduces it.
    let report = verify(&d, &snap, &real, "cryo-year", "content");
    let x = explain(&d, &report, "cryo-year");
    assert_eq!(x["class_before"], "content", "{x}");
    assert_eq!(x["class_after"], "identical", "{x}");
    assert_eq!(x["verdict"], "reproduced", "{x}");
    assert_eq!(x["explained_by"][0]["cause"], "clock", "{x}");
    assert_eq!(
        x["explained_by"][0]["variation"], "Cryo-Clock: changelog",
        "{x}"
    );
    assert_eq!(x["prjconf_addition"], "Cryo-Clock: changelog\n", "{x}");
    assert_eq!(x["snapshot"], snap.as_str(), "{x}");

    // 2. A package present: content without rpm-common; the build dependency's Recommends
    // reproduces it.
    let report = verify(&d, &snap, &pinned, "cryo-rpmmark", "content");
    let x = explain(&d, &report, "cryo-rpmmark");
    assert_eq!(x["class_before"], "content", "{x}");
    assert_eq!(x["class_after"], "identical", "{x}");
    assert_eq!(x["verdict"], "reproduced", "{x}");
    let by = x["explained_by"].as_array().unwrap();
    assert_eq!(by.len(), 1, "{x}");
    assert_eq!(by[0]["cause"], "extra-packages", "{x}");
    assert_eq!(by[0]["variation"], "Support: rpm-common", "{x}");
    assert_eq!(x["prjconf_addition"], "Support: rpm-common\n", "{x}");
    // The clock and build-path variations came first and changed nothing.
    let tried = x["tried"].as_array().unwrap();
    assert_eq!(tried.last().unwrap()["variation"], "Support: rpm-common");
    for a in &tried[..tried.len() - 1] {
        assert!(a["cause"] == "clock" || a["cause"] == "build-path", "{a}");
        assert_eq!(a["class"], "content", "{a}");
    }
    assert_eq!(x["snapshot"], snap.as_str(), "{x}");

    // 3. A tool version in Depends: control-only against perl +deb12u4; the snapshot whose
    // perl is +deb12u3 reproduces it.
    let report = verify(&d, &snap, &stock, "cryo-perldep", "control-only");
    let x = explain(&d, &report, "cryo-perldep");
    assert_eq!(x["class_before"], "control-only", "{x}");
    assert_eq!(x["class_after"], "identical", "{x}");
    assert_eq!(x["verdict"], "reproduced", "{x}");
    let by = x["explained_by"].as_array().unwrap();
    assert_eq!(by.len(), 1, "{x}");
    assert_eq!(by[0]["cause"], "snapshot", "{x}");
    assert!(
        by[0]["variation"]
            .as_str()
            .unwrap()
            .starts_with(&format!("snapshot {}", &old[..12])),
        "{x}"
    );
    assert_eq!(x["snapshot"], old.as_str(), "{x}");
    assert_eq!(x["prjconf_addition"], "", "{x}");
}
