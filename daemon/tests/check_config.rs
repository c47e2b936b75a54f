//! `cryod --check-config`: layered configuration through the real binary.

use std::process::Command;

fn cryod() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cryod"));
    for v in [
        "CRYO_STATE",
        "CRYO_SOCKET",
        "CRYOD_LISTEN",
        "CRYOD_WORKERS",
        "CRYOD_LOG",
        "CRYO_CONFIG",
    ] {
        c.env_remove(v);
    }
    c
}

#[test]
fn file_env_flag_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cryod.toml");
    std::fs::write(
        &cfg,
        "workers = 3\nlisten = \"127.0.0.1:9\"\nlog = \"debug\"\n",
    )
    .unwrap();
    let out = cryod()
        .args(["--check-config", "--config"])
        .arg(&cfg)
        .arg("--state")
        .arg(dir.path())
        .env("CRYOD_WORKERS", "5")
        .arg("--listen")
        .arg("127.0.0.1:7")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workers"], 5, "env beats file");
    assert_eq!(v["listen"], "127.0.0.1:7", "flag beats file");
    assert_eq!(v["log"], "debug", "file beats default");
    assert_eq!(v["socket"], dir.path().join("cryod.sock").to_str().unwrap());
}

#[test]
fn invalid_config_is_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "wrokers = 3\n").unwrap();
    let out = cryod()
        .args(["--check-config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrokers"));
    let out = cryod()
        .args([
            "--check-config",
            "--state",
            "/tmp/x",
            "--listen",
            "nonsense",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen"));
}

#[test]
fn socket_mode_is_octal_and_keeps_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    let check = |mode: &str| {
        let cfg = dir.path().join("m.toml");
        std::fs::write(&cfg, format!("socket_mode = \"{mode}\"\n")).unwrap();
        cryod()
            .args(["--check-config", "--config"])
            .arg(&cfg)
            .arg("--state")
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let ok = check("0660");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["socket_mode"], 0o660);
    for bad in ["0400", "999", "rw-rw----"] {
        let o = check(bad);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("socket_mode"),
            "{bad}"
        );
    }
}
