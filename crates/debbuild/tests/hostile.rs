//! The hostile-build suite: synthetic source packages whose `debian/rules` attack the
//! build sandbox (network, writes and reads outside the build, `/proc` tricks, set-id files,
//! fork bomb, timeout, file size, log flood, killing everything, planted outputs). Each
//! attack must fail or be contained, the test process (standing in for the daemon) must be
//! unaffected, and the build result must say why the build failed. One root is prepared
//! for the whole file; every case also runs the host-side checks of `hostile::Case`.
//! They need root (the CI runs as root). See `docs/sandbox.md`, "Hostile builds".

mod common;
#[path = "hostile/mod.rs"]
mod hostile;

use std::io::ErrorKind;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::time::Duration;

use common::skip;
use cryo_sandbox::{ExitStatusKind, DEFAULT_ROOT_BASE};
use hostile::{Case, FSIZE, NPROC};

/// The host's own address on its default route, if it has one (no packet is sent).
fn host_address() -> Option<IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

fn no_connection<T>(what: &str, r: std::io::Result<T>) {
    match r {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Err(e) => panic!("{what}: accept failed: {e}"),
        Ok(_) => panic!("{what}: the build connected to the host"),
    }
}

#[test]
fn network_is_unreachable_including_the_hosts_loopback() {
    if skip() {
        return;
    }
    let case = Case::new("network");
    let v4 = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = v4.local_addr().unwrap().port().to_string();
    let v6 = TcpListener::bind("[::1]:0").ok();
    let abs_name = format!("{}-abstract", case.tag);
    let abs = UnixListener::bind_addr(&SocketAddr::from_abstract_name(&abs_name).unwrap()).unwrap();
    let sock = UnixListener::bind(case.state.path().join("daemon.sock")).unwrap();
    let mut body = String::from(
        "try network-host-loopback bash -c 'exec 3<>/dev/tcp/127.0.0.1/@PORT@'\n\
         try network-internet bash -c 'exec 3<>/dev/tcp/1.1.1.1/443'\n\
         try network-dns getent hosts deb.debian.org\n\
         try network-abstract-unix perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die \"socket: $!\\n\"; connect($s, pack_sockaddr_un(\"\\0@ABS@\")) or die \"connect: $!\\n\"'\n\
         try network-daemon-socket perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die \"socket: $!\\n\"; connect($s, pack_sockaddr_un(\"@STATE@/daemon.sock\")) or die \"connect: $!\\n\"'\n\
         note network-interfaces $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ')\n",
    );
    let mut extra = vec![("@PORT@", port.clone()), ("@ABS@", abs_name)];
    if let Some(l) = &v6 {
        body.push_str("try network-host-loopback-ipv6 bash -c 'exec 3<>/dev/tcp/::1/@PORT6@'\n");
        extra.push(("@PORT6@", l.local_addr().unwrap().port().to_string()));
    }
    let host = host_address();
    if let Some(ip) = host {
        body.push_str("try network-host-address bash -c 'exec 3<>/dev/tcp/@HOSTIP@/@PORT@'\n");
        extra.push(("@HOSTIP@", ip.to_string()));
    }
    body.push_str("finish\n");
    let run = case.run(&body, &extra, hostile::settings());
    run.failed_on_purpose();
    // 127.0.0.1 is the sandbox's own loopback: nothing listens there.
    run.blocked("network-host-loopback", "Connection refused");
    run.blocked("network-internet", "Network is unreachable");
    run.blocked("network-dns", "exit 2");
    run.blocked("network-abstract-unix", "Connection refused");
    run.blocked("network-daemon-socket", "No such file or directory");
    assert_eq!(run.note("network-interfaces"), "lo");
    if v6.is_some() {
        run.blocked("network-host-loopback-ipv6", "");
    }
    if host.is_some() {
        run.blocked("network-host-address", "Network is unreachable");
    }
    for (what, l) in [("tcp v4", Some(&v4)), ("tcp v6", v6.as_ref())] {
        if let Some(l) = l {
            l.set_nonblocking(true).unwrap();
            no_connection(what, l.accept());
        }
    }
    for (what, l) in [("abstract unix", &abs), ("daemon socket", &sock)] {
        l.set_nonblocking(true).unwrap();
        no_connection(what, l.accept());
    }
}

#[test]
fn writes_outside_the_build_directory_fail() {
    if skip() {
        return;
    }
    let case = Case::new("write");
    let body = "try write-etc touch /etc/@TAG@\n\
        try write-root-top-level touch /@TAG@\n\
        try write-usr-bin cp /bin/true /usr/bin/@TAG@\n\
        try write-build-grandparent touch /build/@TAG@\n\
        try write-source-bind touch /cryo-source/@TAG@\n\
        try write-via-proc-root touch /proc/1/root/etc/@TAG@\n\
        try write-host-state-path touch @STATE@/@TAG@\n\
        try write-host-work-path touch @WORK@/@TAG@\n\
        try chmod-root-file chmod 666 /etc/passwd\n\
        try mknod-block-device mknod ../@TAG@-sda b 8 0\n\
        try hardlink-root-file ln /etc/passwd ../@TAG@-passwd\n\
        try remount-root-rw mount -o remount,rw /\n\
        try nested-userns-write-etc unshare -Ur touch /etc/@TAG@\n\
        touch /tmp/@TAG@ ../@TAG@-allowed && note private-tmp written\n\
        finish\n";
    let run = case.run(body, &[], hostile::settings());
    run.failed_on_purpose();
    for name in [
        "write-etc",
        "write-root-top-level",
        "write-usr-bin",
        "write-build-grandparent",
        "write-source-bind",
        "write-via-proc-root",
        "write-host-state-path",
        "write-host-work-path",
        "chmod-root-file",
        "nested-userns-write-etc",
    ] {
        run.blocked(name, "");
    }
    run.blocked("write-etc", "Permission denied");
    run.blocked("write-host-state-path", "No such file or directory");
    run.blocked("mknod-block-device", "Operation not permitted");
    run.blocked("hardlink-root-file", "Invalid cross-device link");
    run.blocked("remount-root-rw", "");
    assert_eq!(run.note("private-tmp"), "written");
    // The only file the attack could create is in its own build directory.
    let made: Vec<_> = hostile::walk(case.work.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(&case.tag))
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        made[0].ends_with(format!("w/out/{}-allowed", case.tag)),
        "{made:?}"
    );
}

#[test]
fn host_files_cannot_be_read() {
    if skip() {
        return;
    }
    let case = Case::new("read");
    let body = "try read-state-secret cat @STATE@/@SECRET_NAME@\n\
        try read-state-via-proc1-root cat /proc/1/root@STATE@/@SECRET_NAME@\n\
        try read-state-via-proc-self-root cat /proc/self/root@STATE@/@SECRET_NAME@\n\
        try find-secret-by-name sh -c 'find / -path /proc -prune -o -name @SECRET_NAME@ -print 2>/dev/null | grep .'\n\
        try read-kernel-memory head -c 16 /proc/kcore\n\
        try read-shadow cat /etc/shadow\n\
        try read-host-disk sh -c 'head -c 16 /dev/sda || head -c 16 /dev/vda || head -c 16 /dev/nvme0n1'\n\
        note etc-hostname $(cat /etc/hostname 2>&1)\n\
        note machine-id $(cat /etc/machine-id 2>&1)\n\
        note kernel-hostname $(cat /proc/sys/kernel/hostname)\n\
        finish\n";
    let run = case.run(body, &[], hostile::settings());
    run.failed_on_purpose();
    // The host path does not exist in the sandbox's mount namespace; init's root (the same
    // build root) is not even accessible to the build user.
    run.blocked("read-state-secret", "No such file or directory");
    run.blocked("read-state-via-proc1-root", "Permission denied");
    run.blocked("read-state-via-proc-self-root", "No such file or directory");
    run.blocked("find-secret-by-name", "exit 1");
    // Permission denied, or absent when the kernel has no /proc/kcore.
    run.blocked("read-kernel-memory", "");
    run.blocked("read-shadow", "Permission denied");
    run.blocked("read-host-disk", "No such file or directory");
    assert_eq!(run.note("kernel-hostname"), "cryo-build");
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        assert_ne!(run.note("etc-hostname"), h.trim(), "{}", run.log);
    }
    // The secret itself is checked by the host checks (log and work dir); the machine id:
    if let Some(id) = hostile::host_machine_id() {
        assert!(!run.note("machine-id").contains(&id));
    }
}

#[test]
fn proc_does_not_lead_to_the_host() {
    if skip() {
        return;
    }
    let case = Case::new("proc");
    // Writes use `: >>`: an open for appending that writes nothing, harmless if it worked.
    let body = "try proc1-root-to-host ls /proc/1/root@STATE@\n\
        try proc1-exe-read head -c 16 /proc/1/exe\n\
        try proc1-exe-write sh -c ': >> /proc/1/exe'\n\
        try proc1-environ cat /proc/1/environ\n\
        try proc1-mem head -c 16 /proc/1/mem\n\
        try proc1-fds ls /proc/1/fd\n\
        try core-pattern sh -c ': >> /proc/sys/kernel/core_pattern'\n\
        try modprobe-path sh -c ': >> /proc/sys/kernel/modprobe'\n\
        try sysrq-trigger sh -c ': >> /proc/sysrq-trigger'\n\
        try kill-init kill -KILL 1\n\
        try mount-proc sh -c 'mkdir -p /tmp/p && mount -t proc proc /tmp/p'\n\
        try controlling-tty sh -c 'echo > /dev/tty'\n\
        note pids $(ls /proc | grep -c '^[0-9]')\n\
        note init-is $(tr '\\0' ' ' < /proc/1/cmdline)\n\
        try nested-userns-mount unshare -Urm sh -c 'mount -t tmpfs none /tmp'\n\
        finish\n";
    let run = case.run(body, &[], hostile::settings());
    run.failed_on_purpose();
    run.blocked("proc1-root-to-host", "Permission denied");
    for name in [
        "proc1-exe-read",
        "proc1-exe-write",
        "proc1-environ",
        "proc1-mem",
        "proc1-fds",
        "core-pattern",
    ] {
        run.blocked(name, "Permission denied");
    }
    // Permission denied, or absent when the kernel has no modules or no magic SysRq.
    run.blocked("modprobe-path", "");
    run.blocked("sysrq-trigger", "");
    run.blocked("kill-init", "Operation not permitted");
    run.blocked("mount-proc", "must be superuser");
    // The new user namespace is created, but landlock denies writing its uid_map.
    run.blocked("nested-userns-mount", "uid_map: Permission denied");
    run.blocked("controlling-tty", "No such device or address");
    // Only the build's own processes exist in its pid namespace (a handful, not the host's).
    let pids: usize = run.note("pids").parse().unwrap();
    assert!(pids < 20, "{pids} pids visible:\n{}", run.log);
    assert!(
        run.note("init-is").contains("cryo-debbuild-helper"),
        "{}",
        run.log
    );
}

#[test]
fn set_id_files_never_belong_to_a_host_user() {
    if skip() {
        return;
    }
    let case = Case::new("setuid");
    let body = "cp /bin/bash ../@TAG@-suid && chmod 6755 ../@TAG@-suid\n\
        note setuid-inside $(stat -c '%a %u:%g' ../@TAG@-suid)\n\
        try chown-to-root chown 0:0 ../@TAG@-suid\n\
        try run-own-setuid-as-root ../@TAG@-suid -p -c 'test $(id -u) = 0'\n\
        try su-to-root su -c true root\n\
        try setgid-shadow-chage chage -l buildd\n\
        try setpriv-to-root setpriv --reuid=0 --regid=0 --clear-groups true\n\
        try nested-userns-root unshare -Ur sh -c 'chown 0:0 ../@TAG@-suid && chmod 4755 ../@TAG@-suid'\n\
        note no-new-privs $(grep NoNewPrivs /proc/self/status)\n\
        finish\n";
    let run = case.run(body, &[], hostile::settings());
    run.failed_on_purpose();
    assert_eq!(run.note("setuid-inside"), "6755 1000:1000");
    run.blocked("chown-to-root", "Operation not permitted");
    for name in [
        "run-own-setuid-as-root",
        "su-to-root",
        "setgid-shadow-chage",
        "setpriv-to-root",
    ] {
        run.blocked(name, "");
    }
    run.blocked("setgid-shadow-chage", "cannot open /etc/shadow");
    run.blocked("nested-userns-root", "uid_map: Permission denied");
    assert_eq!(run.note("no-new-privs"), "NoNewPrivs: 1");
    // From the host: the set-id file exists, owned by the build user's unmapped ids.
    let p = case.work.path().join(format!("w/out/{}-suid", case.tag));
    let md = std::fs::symlink_metadata(&p).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o6755, "{}", p.display());
    hostile::assert_in_range(&p, &md);
    assert_eq!(
        (md.uid(), md.gid()),
        (DEFAULT_ROOT_BASE + 1000, DEFAULT_ROOT_BASE + 1000)
    );
}

#[test]
fn fork_bomb_is_contained_by_the_process_limit() {
    if skip() {
        return;
    }
    let case = Case::new("forkbomb");
    // Once the bomb holds every process slot the script cannot fork either: it waits and
    // counts with bash builtins only.
    let body = "mkfifo /tmp/wait && exec 3<>/tmp/wait\n\
        bomb() { bomb | bomb & }\n\
        ( bomb ) 2>/tmp/bomb.err &\n\
        read -t 8 -u 3\n\
        n=0; for p in /proc/[0-9]*; do n=$((n + 1)); done\n\
        err=none; while IFS= read -r l; do case $l in *fork*) err=$l; break;; esac; done < /tmp/bomb.err\n\
        note fork-bomb contained: $n processes, $err\n\
        finish\n";
    let run = case.run(body, &[], hostile::settings());
    run.failed_on_purpose();
    let text = run.note("fork-bomb");
    assert!(text.contains("Resource temporarily unavailable"), "{text}");
    let n: u64 = text
        .strip_prefix("contained: ")
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    // The build user's processes plus init (root inside).
    assert!(n <= NPROC + 1, "{n} processes with a limit of {NPROC}");
    // The host can still start processes.
    assert!(std::process::Command::new("true")
        .status()
        .unwrap()
        .success());
}

#[test]
fn timeout_kills_the_build_and_everything_it_started() {
    if skip() {
        return;
    }
    let case = Case::new("timeout");
    let body = "setsid bash -c 'sleep 3600' </dev/null >/dev/null 2>&1 &\n\
        note timeout sleeping past the limit\n\
        sleep 3600\n\
        finish\n";
    let mut settings = hostile::settings();
    settings.timeout = Duration::from_secs(20);
    let run = case.run(body, &[], settings);
    assert_eq!(run.result.status, ExitStatusKind::TimedOut, "{}", run.log);
    assert!(run.result.outputs.is_empty());
    assert_eq!(run.note("timeout"), "sleeping past the limit");
}

#[test]
fn files_cannot_grow_past_the_file_size_limit() {
    if skip() {
        return;
    }
    let case = Case::new("filesize");
    let body = "head -c 100M /dev/zero > ../@TAG@-big\n\
        rc=$?\n\
        note fill-disk writer exit $rc $(kill -l $((rc - 128)) 2>&1)\n\
        try fill-disk-ignoring-sigxfsz bash -c \"trap '' XFSZ; exec dd if=/dev/zero of=../@TAG@-big2 bs=1M count=100\"\n\
        try fill-tmpfs bash -c \"trap '' XFSZ; exec dd if=/dev/zero of=/tmp/big bs=1M count=100\"\n\
        finish\n";
    let run = case.run(body, &[], hostile::settings());
    run.failed_on_purpose();
    assert_eq!(run.note("fill-disk"), "writer exit 153 XFSZ", "{}", run.log);
    assert!(run.log.contains("File size limit exceeded"), "{}", run.log);
    run.blocked("fill-disk-ignoring-sigxfsz", "File too large");
    run.blocked("fill-tmpfs", "File too large");
    for f in ["big", "big2"] {
        let p = case.work.path().join(format!("w/out/{}-{f}", case.tag));
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            FSIZE,
            "{}",
            p.display()
        );
    }
}

#[test]
fn log_flood_is_truncated() {
    if skip() {
        return;
    }
    let case = Case::new("logflood");
    let body = "head -c 8M /dev/zero | tr '\\0' x\nfinish\n";
    let run = case.run(body, &[], hostile::settings());
    assert_eq!(
        run.result.status,
        ExitStatusKind::Exited(2),
        "{:?}",
        run.result.status
    );
    assert!(run.result.log_truncated);
    assert!(
        run.log.contains(&format!(
            "[cryo-sandbox: log truncated at {} bytes",
            hostile::LOG_CAP
        )),
        "{}",
        &run.log[run.log.len().saturating_sub(500)..]
    );
    assert!((run.result.log.len() as u64) < 3 * hostile::LOG_CAP);
}

#[test]
fn killing_everything_kills_only_the_build() {
    if skip() {
        return;
    }
    let case = Case::new("killall");
    // A process of the "daemon" that must survive.
    let mut sentinel = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let body = "try kill-init kill -KILL 1\n\
        note kill-all sending SIGKILL to every process the build user may signal\n\
        kill -KILL -1\n\
        sleep 5\n\
        note kill-all the script outlived its parents\n\
        finish\n";
    let run = case.run(body, &[], hostile::settings());
    let alive = sentinel.try_wait().unwrap().is_none();
    let _ = sentinel.kill();
    let _ = sentinel.wait();
    assert!(alive, "a host process died");
    run.blocked("kill-init", "Operation not permitted");
    // dpkg-buildpackage itself was killed: that is what the build reports.
    assert_eq!(
        run.result.status,
        ExitStatusKind::Signaled(9),
        "{}",
        run.log
    );
    assert!(run.result.outputs.is_empty());
}

#[test]
fn planted_outputs_and_daemons_do_not_leave_the_sandbox() {
    if skip() {
        return;
    }
    let case = Case::new("outputs");
    let body = "setsid bash -c 'sleep 3600' </dev/null >/dev/null 2>&1 &\n\
        ln -s /etc/shadow ../evil_1.0_all.deb\n\
        ln -s / ../root_1.0_amd64.buildinfo\n\
        mkfifo ../fifo_1.0_amd64.changes\n\
        mkdir ../dir_1.0_all.udeb\n\
        note planted symlinks, a fifo and a directory named like outputs\n";
    let run = case.run(body, &[], hostile::settings());
    assert!(run.result.success(), "{}", run.log);
    let names: Vec<&str> = run.result.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "hostile-outputs_1.0_all.deb",
            "hostile-outputs_1.0_amd64.buildinfo",
            "hostile-outputs_1.0_amd64.changes"
        ]
    );
    for o in &run.result.outputs {
        let md = std::fs::symlink_metadata(&o.path).unwrap();
        assert!(md.is_file(), "{}", o.path.display());
        assert_eq!(md.nlink(), 1, "{}", o.path.display());
    }
}
