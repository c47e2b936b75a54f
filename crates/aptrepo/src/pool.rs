//! Where files live in `pool/`: Debian's layout `pool/<component>/<prefix>/<source>/<file>`
//! with `prefix` the first letter of the source name, or its first four letters for
//! sources starting with `lib` (`libu/libuev/`), exactly as dak and reprepro lay it out.

use crate::spec::Component;

/// The hash-bucket directory for a source package name: `lib` + next letter for `lib*`
/// (when the name is longer than `lib`), else the first character.
pub fn pool_prefix(source: &str) -> &str {
    if source.len() > 3 && source.starts_with("lib") && source.is_char_boundary(4) {
        &source[..4]
    } else {
        match source.char_indices().nth(1) {
            Some((i, _)) => &source[..i],
            None => source,
        }
    }
}

/// The pool directory of a source package: `pool/<component>/<prefix>/<source>`.
pub fn pool_dir(component: &Component, source: &str) -> String {
    format!("pool/{component}/{}/{source}", pool_prefix(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_prefix_rule() {
        assert_eq!(pool_prefix("hello"), "h");
        assert_eq!(pool_prefix("libuev"), "libu");
        assert_eq!(pool_prefix("lib"), "l");
        assert_eq!(pool_prefix("lib3ds"), "lib3");
        assert_eq!(pool_prefix("libc6"), "libc");
        assert_eq!(pool_prefix("liberation-fonts"), "libe");
        assert_eq!(pool_prefix("0ad"), "0");
        assert_eq!(pool_prefix("base-files"), "b");
        let main: Component = "main".parse().unwrap();
        assert_eq!(pool_dir(&main, "libuev"), "pool/main/libu/libuev");
        assert_eq!(pool_dir(&main, "hello"), "pool/main/h/hello");
    }

    #[test]
    fn matches_the_fixture_mirror() {
        // The fixture is Debian's own pool: every directory obeys the rule.
        let root = crate::test_support::fixture_mirror().join("debian/pool/main");
        let mut seen = 0;
        for prefix in std::fs::read_dir(&root).unwrap() {
            let prefix = prefix.unwrap();
            for source in std::fs::read_dir(prefix.path()).unwrap() {
                let source = source.unwrap().file_name().into_string().unwrap();
                assert_eq!(pool_prefix(&source), prefix.file_name().to_str().unwrap());
                seen += 1;
            }
        }
        assert!(seen > 50, "only {seen} source directories in the fixture");
    }
}
