//! The `Release` file of `dists/<codename>/`: Debian's field order (as dak writes it), the
//! date in RFC 2822 with the `UTC` zone name, `Acquire-By-Hash: yes`, and the `MD5Sum:` and
//! `SHA256:` lists of every index file, sorted by path.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::hash::FileHashes;
use crate::spec::RepoSpec;

/// Format unix seconds like Debian's archive: `Sat, 01 Jan 2022 00:00:00 UTC`.
pub fn format_date(unix: i64) -> String {
    let numeric = cryo_debian::date::format_rfc2822(unix, 0);
    match numeric.strip_suffix(" +0000") {
        Some(base) => format!("{base} UTC"),
        None => numeric,
    }
}

/// The `Release` text for `spec` listing `indices` (paths relative to
/// `dists/<codename>/`). Free-text fields must have passed [`RepoSpec::validate`].
pub fn release_text(spec: &RepoSpec, indices: &BTreeMap<String, FileHashes>) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{name}: {value}");
    };
    field("Origin", &spec.origin);
    field("Label", &spec.label);
    field("Suite", spec.suite.as_str());
    if let Some(version) = &spec.version {
        field("Version", version);
    }
    field("Codename", spec.codename.as_str());
    field("Date", &format_date(spec.date));
    if let Some(valid_until) = spec.valid_until {
        field("Valid-Until", &format_date(valid_until));
    }
    field("Acquire-By-Hash", "yes");
    let join = |items: Vec<&str>| items.join(" ");
    field(
        "Architectures",
        &join(spec.architectures.iter().map(|a| a.as_str()).collect()),
    );
    field(
        "Components",
        &join(spec.components.iter().map(|c| c.as_str()).collect()),
    );
    if let Some(description) = &spec.description {
        field("Description", description);
    }
    out.push_str("MD5Sum:\n");
    for (path, h) in indices {
        let _ = writeln!(out, " {} {:>8} {path}", h.md5, h.size);
    }
    out.push_str("SHA256:\n");
    for (path, h) in indices {
        let _ = writeln!(out, " {} {:>8} {path}", h.sha256, h.size);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Codename;

    #[test]
    fn dates() {
        assert_eq!(format_date(1_640_995_200), "Sat, 01 Jan 2022 00:00:00 UTC");
        assert_eq!(format_date(1_783_764_997), "Sat, 11 Jul 2026 10:16:37 UTC");
    }

    #[test]
    fn golden_release() {
        let codename: Codename = "cryo-test".parse().unwrap();
        let mut spec = RepoSpec::new(
            "cryo",
            "cryo project demo",
            codename,
            vec!["amd64".parse().unwrap(), "arm64".parse().unwrap()],
            1_640_995_200,
        );
        spec.suite = "stable".parse().unwrap();
        spec.version = Some("1".into());
        spec.valid_until = Some(1_640_995_200 + 7 * 86_400);
        spec.description = Some("demo".into());
        let mut indices = BTreeMap::new();
        indices.insert(
            "main/binary-amd64/Packages".to_owned(),
            FileHashes::of_bytes(b""),
        );
        indices.insert(
            "main/binary-amd64/Packages.gz".to_owned(),
            FileHashes::of_bytes(b"abc"),
        );
        let expected = "\
Origin: cryo
Label: cryo project demo
Suite: stable
Version: 1
Codename: cryo-test
Date: Sat, 01 Jan 2022 00:00:00 UTC
Valid-Until: Sat, 08 Jan 2022 00:00:00 UTC
Acquire-By-Hash: yes
Architectures: amd64 arm64
Components: main
Description: demo
MD5Sum:
 d41d8cd98f00b204e9800998ecf8427e        0 main/binary-amd64/Packages
 900150983cd24fb0d6963f7d28e17f72        3 main/binary-amd64/Packages.gz
SHA256:
 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855        0 main/binary-amd64/Packages
 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad        3 main/binary-amd64/Packages.gz
";
        assert_eq!(release_text(&spec, &indices), expected);
    }
}
