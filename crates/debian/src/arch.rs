//! Debian architecture names: validation, host detection, wildcard matching
//! (`linux-any`, `any-amd64`, `any`), and mapping to GNU triplets, multiarch tuples and
//! the rpm/OBS names that prjconf `%ifarch` uses.

use std::fmt;
use std::str::FromStr;

/// Why an architecture name or mapping failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchError {
    /// Not a syntactically valid Debian architecture name.
    #[error("invalid Debian architecture name {0:?}")]
    Invalid(String),
    /// No known mapping for this architecture.
    #[error("no {what} known for architecture {arch:?}")]
    Unmapped {
        /// Which mapping was asked for.
        what: &'static str,
        /// The architecture.
        arch: String,
    },
    /// `std::env::consts::ARCH` has no Debian equivalent.
    #[error("cannot map host CPU {0:?} to a Debian architecture")]
    UnknownHost(String),
}

/// A concrete Debian architecture name such as `amd64` (also `all`; never a wildcard).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arch(String);

impl FromStr for Arch {
    type Err = ArchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && s != "any"
            && !s.split('-').any(|p| p == "any");
        if ok {
            Ok(Arch(s.to_owned()))
        } else {
            Err(ArchError::Invalid(s.to_owned()))
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One row of the table: Debian name, dpkg tuple (abi, libc, os, cpu), GNU type,
/// multiarch tuple, rpm name.
struct Row {
    deb: &'static str,
    tuple: [&'static str; 4],
    gnu: &'static str,
    multiarch: &'static str,
    rpm: &'static str,
}

#[rustfmt::skip]
const TABLE: &[Row] = &[
    Row { deb: "amd64", tuple: ["base", "gnu", "linux", "amd64"], gnu: "x86_64-linux-gnu", multiarch: "x86_64-linux-gnu", rpm: "x86_64" },
    Row { deb: "arm64", tuple: ["base", "gnu", "linux", "arm64"], gnu: "aarch64-linux-gnu", multiarch: "aarch64-linux-gnu", rpm: "aarch64" },
    Row { deb: "armhf", tuple: ["eabihf", "gnu", "linux", "arm"], gnu: "arm-linux-gnueabihf", multiarch: "arm-linux-gnueabihf", rpm: "armv7hl" },
    Row { deb: "armel", tuple: ["eabi", "gnu", "linux", "arm"], gnu: "arm-linux-gnueabi", multiarch: "arm-linux-gnueabi", rpm: "armv5tel" },
    Row { deb: "i386", tuple: ["base", "gnu", "linux", "i386"], gnu: "i686-linux-gnu", multiarch: "i386-linux-gnu", rpm: "i586" },
    Row { deb: "ppc64el", tuple: ["base", "gnu", "linux", "ppc64el"], gnu: "powerpc64le-linux-gnu", multiarch: "powerpc64le-linux-gnu", rpm: "ppc64le" },
    Row { deb: "s390x", tuple: ["base", "gnu", "linux", "s390x"], gnu: "s390x-linux-gnu", multiarch: "s390x-linux-gnu", rpm: "s390x" },
    Row { deb: "riscv64", tuple: ["base", "gnu", "linux", "riscv64"], gnu: "riscv64-linux-gnu", multiarch: "riscv64-linux-gnu", rpm: "riscv64" },
    Row { deb: "mips64el", tuple: ["abi64", "gnu", "linux", "mips64el"], gnu: "mips64el-linux-gnuabi64", multiarch: "mips64el-linux-gnuabi64", rpm: "mips64el" },
    Row { deb: "mipsel", tuple: ["base", "gnu", "linux", "mipsel"], gnu: "mipsel-linux-gnu", multiarch: "mipsel-linux-gnu", rpm: "mipsel" },
    Row { deb: "x32", tuple: ["x32", "gnu", "linux", "amd64"], gnu: "x86_64-linux-gnux32", multiarch: "x86_64-linux-gnux32", rpm: "x32" },
    Row { deb: "all", tuple: ["", "", "", ""], gnu: "", multiarch: "", rpm: "noarch" },
];

fn row(deb: &str) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.deb == deb)
}

impl Arch {
    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// dpkg's (abi, libc, os, cpu) tuple. Known names come from the table; otherwise
    /// dpkg's generic rules apply (`os-cpu`, `libc-os-cpu`, bare `cpu` means Linux).
    /// `all` has no tuple.
    pub fn tuple(&self) -> Option<[&str; 4]> {
        if self.0 == "all" {
            return None;
        }
        if let Some(r) = row(&self.0) {
            return Some(r.tuple);
        }
        let p: Vec<&str> = self.0.split('-').collect();
        match p.as_slice() {
            [cpu] => Some(["base", "gnu", "linux", cpu]),
            ["musl", "linux", cpu] => Some(["base", "musl", "linux", cpu]),
            [os, cpu] => Some(["base", "gnu", os, cpu]),
            [libc, os, cpu] => Some(["base", libc, os, cpu]),
            _ => None,
        }
    }
    /// The GNU system type (`amd64` → `x86_64-linux-gnu`, `i386` → `i686-linux-gnu`).
    pub fn gnu_type(&self) -> Result<&'static str, ArchError> {
        self.mapped("GNU triplet", |r| r.gnu)
    }
    /// The multiarch tuple used in library paths (`i386` → `i386-linux-gnu`).
    pub fn multiarch(&self) -> Result<&'static str, ArchError> {
        self.mapped("multiarch tuple", |r| r.multiarch)
    }
    /// The rpm/OBS architecture name (`amd64` → `x86_64`, `all` → `noarch`).
    pub fn rpm_name(&self) -> Result<&'static str, ArchError> {
        self.mapped("rpm architecture name", |r| r.rpm)
    }
    /// The Debian name for an rpm/OBS architecture name (`x86_64` → `amd64`).
    pub fn from_rpm_name(rpm: &str) -> Result<Arch, ArchError> {
        TABLE
            .iter()
            .find(|r| r.rpm == rpm)
            .map(|r| Arch(r.deb.to_owned()))
            .ok_or_else(|| ArchError::Unmapped {
                what: "Debian architecture",
                arch: rpm.to_owned(),
            })
    }
    fn mapped(
        &self,
        what: &'static str,
        f: impl Fn(&Row) -> &'static str,
    ) -> Result<&'static str, ArchError> {
        row(&self.0)
            .map(f)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ArchError::Unmapped {
                what,
                arch: self.0.clone(),
            })
    }
    /// Does this architecture match a Debian architecture wildcard or name
    /// (`any`, `linux-any`, `any-amd64`, `gnu-any-any`, `amd64`, `all`)?
    pub fn matches(&self, pattern: &str) -> bool {
        if pattern == self.0 {
            return true;
        }
        if pattern == "any" {
            return self.0 != "all";
        }
        let Some(me) = self.tuple() else { return false };
        let parts: Vec<&str> = pattern.split('-').collect();
        if !parts.contains(&"any") {
            return false;
        }
        let wild: [&str; 4] = match parts.as_slice() {
            [a, b, c, d] => [a, b, c, d],
            [b, c, d] => ["any", b, c, d],
            [c, d] => ["any", "any", c, d],
            _ => return false,
        };
        wild.iter().zip(me).all(|(w, m)| *w == "any" || *w == m)
    }
    /// The host architecture: `dpkg --print-architecture` when dpkg is installed, else a
    /// mapping of the compiled-in CPU (`x86_64` → `amd64`, ...).
    pub fn host() -> Result<Arch, ArchError> {
        if let Ok(out) = std::process::Command::new("dpkg")
            .arg("--print-architecture")
            .output()
        {
            if out.status.success() {
                if let Ok(a) = String::from_utf8_lossy(&out.stdout).trim().parse() {
                    return Ok(a);
                }
            }
        }
        Self::from_rust_arch(std::env::consts::ARCH)
    }
    /// Map a Rust `target_arch` name to the usual Debian (Linux, glibc) architecture.
    pub fn from_rust_arch(cpu: &str) -> Result<Arch, ArchError> {
        let deb = match cpu {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "i386",
            "arm" => "armhf",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64el",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            "mips64" if cfg!(target_endian = "little") => "mips64el",
            _ => return Err(ArchError::UnknownHost(cpu.to_owned())),
        };
        Ok(Arch(deb.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Arch {
        s.parse().unwrap()
    }

    #[test]
    fn wildcards() {
        let amd64 = a("amd64");
        for p in [
            "any",
            "amd64",
            "linux-any",
            "any-amd64",
            "gnu-linux-any",
            "any-any-linux-any",
        ] {
            assert!(amd64.matches(p), "{p}");
        }
        for p in [
            "i386",
            "any-i386",
            "hurd-any",
            "musl-any-any",
            "all",
            "kfreebsd-any",
        ] {
            assert!(!amd64.matches(p), "{p}");
        }
        assert!(a("armhf").matches("any-arm") && a("armel").matches("any-arm"));
        assert!(a("hurd-i386").matches("hurd-any") && a("hurd-i386").matches("any-i386"));
        assert!(a("all").matches("all") && !a("all").matches("any"));
        assert!(!a("x32").matches("any-i386") && a("x32").matches("any-amd64"));
    }

    #[test]
    fn mappings() {
        assert_eq!(a("amd64").gnu_type(), Ok("x86_64-linux-gnu"));
        assert_eq!(a("i386").gnu_type(), Ok("i686-linux-gnu"));
        assert_eq!(a("i386").multiarch(), Ok("i386-linux-gnu"));
        assert_eq!(a("armhf").multiarch(), Ok("arm-linux-gnueabihf"));
        assert_eq!(a("ppc64el").gnu_type(), Ok("powerpc64le-linux-gnu"));
        assert_eq!(a("amd64").rpm_name(), Ok("x86_64"));
        assert_eq!(Arch::from_rpm_name("x86_64"), Ok(a("amd64")));
        assert_eq!(Arch::from_rpm_name("aarch64"), Ok(a("arm64")));
        assert!(a("sparc64").gnu_type().is_err());
        assert!("linux-any".parse::<Arch>().is_err() && "AMD64".parse::<Arch>().is_err());
    }

    #[test]
    fn host_is_a_known_arch() {
        let h = Arch::host().unwrap();
        assert_eq!(h, Arch::from_rust_arch(std::env::consts::ARCH).unwrap());
    }
}
