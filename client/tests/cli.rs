//! The `cryo` binary without a daemon: help text and argument validation.

use std::process::Command;

fn cryo() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cryo"));
    c.env("CRYO_NO_AUTOSTART", "1").env_remove("CRYO_SOCKET");
    c
}

#[test]
fn help_documents_commands_and_exit_codes() {
    let out = cryo().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["store", "daemon", "--json", "Exit status"] {
        assert!(text.contains(word), "{word} missing from --help:\n{text}");
    }
}

#[test]
fn no_daemon_and_no_autostart_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = cryo()
        .arg("--state")
        .arg(dir.path())
        .args(["store", "stats"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cryod answers"));
}
