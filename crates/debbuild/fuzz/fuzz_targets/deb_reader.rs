//! The builder's `.deb` reader: control members and the extraction of `data.tar`, which
//! must never write outside its destination.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outer = tempfile::tempdir().unwrap();
    let dest = outer.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    let path = outer.path().join("in.deb");
    std::fs::write(&path, data).unwrap();
    let _ = cryo_debbuild::deb::read_control(&path);
    let _ = cryo_debbuild::deb::read_control_members(&path, &["control", "postinst"]);
    let _ = cryo_debbuild::deb::extract_data_listing(&path, &dest);
    let mut names: Vec<_> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["dest", "in.deb"], "wrote outside the destination");
});
