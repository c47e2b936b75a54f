//! Architecture names: `%ifarch` in a prjconf uses OBS/rpm names (`x86_64`, `aarch64`, ...),
//! while cryo's Debian side speaks Debian names (`amd64`, `arm64`, ...). This module maps
//! between the two the way obs-build's `Build::Deb::basearch` does.

/// Debian architecture name → the rpm/OBS name to pass as `ParseContext::arch_rpm`.
///
/// `i386` maps to `i586`, the name OBS schedules Debian's i386 repositories under; `%ifarch
/// %ix86` matches it, like every other x86-32 name.
pub fn debian_to_rpm(debian: &str) -> Option<&'static str> {
    Some(match debian {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "i386" => "i586",
        "armhf" => "armv7hl",
        "armel" => "armv5tel",
        "ppc64el" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "mips64el" => "mips64el",
        "all" => "noarch",
        _ => return None,
    })
}

/// rpm/OBS architecture name → Debian name (obs-build's `basearch`).
pub fn rpm_to_debian(rpm: &str) -> Option<&'static str> {
    Some(match rpm {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i486" | "i586" | "i686" => "i386",
        "armv7hl" => "armhf",
        "armv4l" | "armv5l" | "armv5tel" | "armv6l" | "armv7l" => "armel",
        "ppc64le" => "ppc64el",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "mips64el" => "mips64el",
        "noarch" => "all",
        _ => return None,
    })
}
