//! The rpm-md parsers and decoders never panic: arbitrary bytes, and valid documents with
//! random bytes changed, inserted or cut, give a value or an error.

use cryo_rpm::compression;
use cryo_rpm::filelists;
use cryo_rpm::primary;
use cryo_rpm::repomd::Repomd;
use proptest::prelude::*;

const SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn primary_doc() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"1\">\
         <package type=\"rpm\"><name>a</name><arch>x86_64</arch><version epoch=\"0\" ver=\"1.0\" rel=\"1\"/>\
         <checksum type=\"sha256\" pkgid=\"YES\">{SHA}</checksum><summary>s &amp; t</summary>\
         <time file=\"1\" build=\"2\"/><size package=\"1\" installed=\"2\" archive=\"3\"/>\
         <location xml:base=\"http://x/\" href=\"a.rpm\"/><format><rpm:license>MIT</rpm:license>\
         <rpm:sourcerpm>a-1.0-1.src.rpm</rpm:sourcerpm><rpm:header-range start=\"1\" end=\"2\"/>\
         <rpm:provides><rpm:entry name=\"a\" flags=\"EQ\" epoch=\"0\" ver=\"1.0\" rel=\"1\"/></rpm:provides>\
         <rpm:requires><rpm:entry name=\"/bin/sh\" pre=\"1\"/><rpm:entry name=\"b\" flags=\"GE\" ver=\"2\"/></rpm:requires>\
         <file>/usr/bin/a</file><file type=\"dir\">/etc/a</file></format></package></metadata>\n"
    )
}

fn filelists_doc() -> String {
    format!(
        "<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"1\"><package pkgid=\"{SHA}\" name=\"a\" arch=\"x86_64\">\
         <version epoch=\"0\" ver=\"1.0\" rel=\"1\"/><file>/usr/bin/a</file><file type=\"ghost\">/var/a</file></package></filelists>"
    )
}

fn repomd_doc() -> String {
    format!(
        "<repomd xmlns=\"http://linux.duke.edu/metadata/repo\"><revision>1</revision><data type=\"primary\">\
         <checksum type=\"sha256\">{SHA}</checksum><open-checksum type=\"sha256\">{SHA}</open-checksum>\
         <location href=\"repodata/p.xml.gz\"/><timestamp>1</timestamp><size>1</size><open-size>2</open-size></data></repomd>"
    )
}

fn all_parsers(data: &[u8]) {
    let _ = primary::parse(data, "p.xml");
    let _ = filelists::parse(data, "f.xml");
    let _ = Repomd::parse(data, "repomd.xml");
    for name in ["x.gz", "x.xz", "x.zst", "x.bz2", "x"] {
        if let Ok(plain) = compression::decompress(data, name, 1 << 20) {
            let _ = primary::parse(&plain[..], name);
        }
    }
}

fn mutate(doc: &str, edits: &[(usize, u8, u8)], cut: usize) -> Vec<u8> {
    let mut d = doc.as_bytes().to_vec();
    for &(pos, op, byte) in edits {
        let i = pos % (d.len() + 1);
        match op % 3 {
            0 if i < d.len() => d[i] = byte,
            1 => d.insert(i, byte),
            _ if i < d.len() => {
                d.remove(i);
            }
            _ => {}
        }
    }
    d.truncate(cut % (d.len() + 1) + d.len() / 2);
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&data);
    }

    #[test]
    fn mutated_documents(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8), cut in any::<usize>()) {
        for doc in [primary_doc(), filelists_doc(), repomd_doc()] {
            all_parsers(&mutate(&doc, &edits, cut));
        }
    }
}

#[test]
fn the_seeds_parse() {
    assert_eq!(
        primary::parse(primary_doc().as_bytes(), "p").unwrap().len(),
        1
    );
    assert_eq!(
        filelists::parse(filelists_doc().as_bytes(), "f")
            .unwrap()
            .len(),
        1
    );
    assert!(Repomd::parse(repomd_doc().as_bytes(), "r")
        .unwrap()
        .primary()
        .is_some());
}
