//! The host-side and scripted steps of root preparation that [`crate::root`] sequences:
//! unpacking the Preinstall data, seeding the dpkg database, the shell snippets run inside
//! the sandbox (including the final cleanup) and reading the result back from
//! `var/lib/dpkg/status`.
//! Nothing here executes package code on the host.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cryo_debian::deb822;

use crate::deb::{self, DebFile};
use crate::root::RootError;

fn io(path: &Path, source: std::io::Error) -> RootError {
    RootError::Io {
        path: path.into(),
        source,
    }
}

fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<(), RootError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    let mut f = std::fs::File::create(path).map_err(|e| io(path, e))?;
    f.write_all(data).map_err(|e| io(path, e))?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| io(path, e))
}

/// Unpacks the Preinstall packages' data into `dest` with `extract`, stores the
/// Runscripts' `preinst` and `postinst` under `dest/script_dir`, creates the empty dpkg
/// database and a `policy-rc.d` that forbids starting services. Returns a log of what was
/// done.
pub(crate) fn unpack(
    dest: &Path,
    pre: &[&DebFile],
    runscripts: &[String],
    script_dir: &str,
    extract: &mut dyn FnMut(&DebFile) -> Result<(), RootError>,
) -> Result<Vec<u8>, RootError> {
    let mut log = Vec::new();
    for d in pre {
        extract(d)?;
        log.extend(format!("unpacked {} {}\n", d.name, d.version).bytes());
    }
    for name in runscripts {
        let Some(d) = pre.iter().find(|d| &d.name == name) else {
            return Err(RootError::RunscriptNotPreinstalled(name.clone()));
        };
        for (script, data) in deb::read_control_members(&d.path, &["preinst", "postinst"])? {
            let path = dest.join(script_dir).join(format!("{name}.{script}"));
            write_file(&path, &data, 0o755)?;
            log.extend(format!("stored {name}'s {script}\n").bytes());
        }
    }
    let db = dest.join("var/lib/dpkg");
    for sub in ["info", "updates", "triggers", "alternatives"] {
        let p = db.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| io(&p, e))?;
    }
    for file in ["status", "available"] {
        write_file(&db.join(file), b"", 0o644)?;
    }
    write_file(
        &dest.join("usr/sbin/policy-rc.d"),
        b"#!/bin/sh\n# cryo: no service may start while the build root is installed.\nexit 101\n",
        0o755,
    )?;
    log.extend(b"created the dpkg database and usr/sbin/policy-rc.d\n");
    Ok(log)
}

/// `sh -c` running each Runscripts package's `preinst install` and
/// `postinst configure ''`, as dpkg would for a first installation.
pub(crate) fn runscripts_command(runscripts: &[String], script_dir: &str) -> Vec<String> {
    let mut script = String::from("set -e\n");
    for name in runscripts {
        // `name` is a validated package name: no shell metacharacters.
        for (kind, args) in [("preinst", "install"), ("postinst", "configure ''")] {
            let p = format!("/{script_dir}/{name}.{kind}");
            script.push_str(&format!(
                "if [ -e {p} ]; then echo \"cryo: running {name} {kind}\"; {p} {args}; fi\n"
            ));
        }
    }
    vec!["/bin/sh".into(), "-c".into(), script, "sh".into()]
}

/// `sh -c` checking that dpkg is clean, adding the build user with home `/nonexistent`
/// (lines appended directly, as sbuild does, so no date is recorded) and removing the
/// bootstrap's `temporary` files (absolute paths inside the root; done here rather than
/// from the host, which an unprivileged daemon could not do).
pub(crate) fn finish_command(name: &str, uid: u32, gid: u32, temporary: &[&str]) -> Vec<String> {
    let script = r#"set -eu
audit=$(dpkg --audit)
if [ -n "$audit" ]; then echo "$audit"; exit 1; fi
if getent passwd "$1" >/dev/null || getent passwd "$2" >/dev/null; then
  echo "cryo: the build user $1 or uid $2 exists already" >&2; exit 1
fi
if ! getent group "$3" >/dev/null; then
  echo "$1:x:$3:" >> /etc/group
  if [ -e /etc/gshadow ]; then echo "$1:!::" >> /etc/gshadow; fi
fi
echo "$1:x:$2:$3:cryo build user:/nonexistent:/bin/sh" >> /etc/passwd
if [ -e /etc/shadow ]; then echo "$1:!:::::::" >> /etc/shadow; fi
echo "cryo: added build user $(getent passwd "$1")"
shift 3
rm -rf -- "$@"
"#;
    let mut argv: Vec<String> = vec![
        "/bin/sh".into(),
        "-c".into(),
        script.into(),
        "sh".into(),
        name.into(),
        uid.to_string(),
        gid.to_string(),
    ];
    argv.extend(temporary.iter().map(|t| (*t).to_owned()));
    argv
}

/// name → version of every package that dpkg lists as `install ok installed`.
pub(crate) fn installed_packages(dest: &Path) -> Result<BTreeMap<String, String>, RootError> {
    let path = dest.join("var/lib/dpkg/status");
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let paragraphs = deb822::parse(&text).map_err(|e| io(&path, std::io::Error::other(e)))?;
    Ok(paragraphs
        .iter()
        .filter(|p| p.get("Status") == Some("install ok installed"))
        .filter_map(|p| Some((p.get("Package")?.to_owned(), p.get("Version")?.to_owned())))
        .collect())
}
