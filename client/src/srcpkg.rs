//! Unpacked source tree → source package, deterministically.
//!
//! The tree is copied to a scratch directory (so nothing is written next to the user's
//! files) and `dpkg-source -b` builds the source package there with
//! `SOURCE_DATE_EPOCH` set from `debian/changelog`: dpkg-source then sorts tar members by
//! name, clamps their mtimes to that date and records owner/group 0, so the same tree gives
//! byte-identical `.dsc`/tarballs whatever the file times or the machine. A `3.0 (quilt)`
//! tree needs its `NAME_UPSTREAM.orig.tar.*` next to the tree, as dpkg-source requires; it
//! is copied along. dpkg-source only packs files: it runs no code of the package.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// A built source package in a scratch directory (removed on drop).
pub struct BuiltSource {
    pub dsc: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn build_source_package(tree: &Path) -> Result<BuiltSource> {
    let changelog = tree.join("debian/changelog");
    let text = std::fs::read_to_string(&changelog).with_context(|| {
        format!(
            "{} is not a source tree: no debian/changelog",
            tree.display()
        )
    })?;
    let entry = cryo_debian::changelog::parse_first_entry(&text, &changelog.display().to_string())?;
    let control = tree.join("debian/control");
    let ctext = std::fs::read_to_string(&control)
        .with_context(|| format!("reading {}", control.display()))?;
    // Malformed control files are refused here with file:line.
    cryo_debian::control::parse(&ctext, &control.display().to_string())?;
    let scratch = tempfile::Builder::new().prefix("cryo-srcpkg-").tempdir()?;
    // The directory name ends up in the tarball: use the canonical one, not the user's.
    let upstream = entry.version.upstream().to_string();
    let name = format!("{}-{}", entry.source, upstream);
    let copy = scratch.path().join(&name);
    let st = Command::new("cp")
        .args(["-a", "--no-preserve=ownership"])
        .arg(tree)
        .arg(&copy)
        .status()
        .context("running cp")?;
    if !st.success() {
        bail!("copying {} failed", tree.display());
    }
    // The orig tarball of a non-native package sits next to the tree.
    if let Some(parent) = tree.canonicalize()?.parent() {
        let prefix = format!("{}_{}.orig", entry.source, upstream);
        for e in std::fs::read_dir(parent)? {
            let e = e?;
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                std::fs::copy(e.path(), scratch.path().join(e.file_name()))?;
            }
        }
    }
    let out = Command::new("dpkg-source")
        .arg("-b")
        .arg(&name)
        .current_dir(scratch.path())
        .env("SOURCE_DATE_EPOCH", entry.timestamp.to_string())
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .output()
        .context("running dpkg-source (install dpkg-dev)")?;
    if !out.status.success() {
        bail!(
            "dpkg-source -b {} failed:\n{}",
            tree.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let version = entry.version.without_epoch().to_string();
    let dsc = scratch
        .path()
        .join(format!("{}_{}.dsc", entry.source, version));
    if !dsc.is_file() {
        bail!("dpkg-source did not produce {}", dsc.display());
    }
    Ok(BuiltSource { dsc, _dir: scratch })
}
