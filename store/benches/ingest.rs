//! Store ingest throughput, side by side with `b3sum` and `zstd -3 -T1` on the same file.
//!
//! `cargo bench -p cryo-store --bench ingest` builds two inputs of `CRYO_BENCH_BYTES`
//! (default 1 GiB) in a temp dir: `packages` (compressible: the fixture's uncompressed
//! Packages index repeated) and `debs` (incompressible: the fixture pool's .deb files
//! repeated). Each is ingested through `Store::put_reader` into a fresh store; the peers run
//! on the same file with their output discarded. The page cache is warmed first so that
//! every tool reads from memory.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cryo_store::{ObjectKind, Store};

fn mirror() -> PathBuf {
    std::env::var_os("CRYO_FIXTURE_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/mirror"))
}

fn fill(path: &Path, seed: &[u8], size: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0u64;
    while written < size {
        let n = seed.len().min((size - written) as usize);
        f.write_all(&seed[..n]).unwrap();
        written += n as u64;
    }
    f.flush().unwrap();
}

fn packages_seed() -> Vec<u8> {
    let xz = std::fs::read(mirror().join("debian/dists/bookworm/main/binary-amd64/Packages.xz"))
        .unwrap();
    let mut out = Vec::new();
    liblzma_decode(&xz, &mut out);
    out
}

fn liblzma_decode(xz: &[u8], out: &mut Vec<u8>) {
    // Use the xz binary to keep this bench free of extra dependencies.
    let mut child = Command::new("xz")
        .args(["-dc"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("xz is installed");
    let mut stdin = child.stdin.take().unwrap();
    let data = xz.to_vec();
    let t = std::thread::spawn(move || stdin.write_all(&data));
    child.stdout.take().unwrap().read_to_end(out).unwrap();
    t.join().unwrap().unwrap();
    child.wait().unwrap();
}

fn debs_seed() -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![mirror().join("debian/pool")];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files.iter().take(400) {
        out.extend(std::fs::read(f).unwrap());
        if out.len() > 256 << 20 {
            break;
        }
    }
    out
}

fn time<F: FnOnce()>(f: F) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn run_tool(cmd: &str, args: &[&str], file: &Path) -> Option<f64> {
    let ok = Command::new(cmd)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("  ({cmd} not installed: skipped; apt-get install {cmd})");
        return None;
    }
    Some(time(|| {
        let st = Command::new(cmd)
            .args(args)
            .arg(file)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    }))
}

fn main() {
    let size: u64 = std::env::var("CRYO_BENCH_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1 << 30);
    let dir = tempfile::tempdir().unwrap();
    let mb = size as f64 / 1e6;
    println!("store ingest benchmark, {:.0} MB per input", mb);
    println!(
        "{:<10} {:<22} {:>9} {:>10} {:>12}",
        "input", "tool", "seconds", "MB/s", "cryo/peer"
    );
    for (name, seed) in [("packages", packages_seed()), ("debs", debs_seed())] {
        let file = dir.path().join(name);
        fill(&file, &seed, size);
        // Warm the page cache.
        std::io::copy(
            &mut std::fs::File::open(&file).unwrap(),
            &mut std::io::sink(),
        )
        .unwrap();
        let state = dir.path().join(format!("state-{name}"));
        let store = Store::open(&state).unwrap();
        let mut stored = 0;
        let t_cryo = time(|| {
            let mut f = std::fs::File::open(&file).unwrap();
            stored = store
                .put_reader(&mut f, ObjectKind::Blob, &[], None)
                .unwrap()
                .stored_size;
        });
        let row = |tool: &str, t: f64| {
            println!(
                "{:<10} {:<22} {:>9.2} {:>10.0} {:>12.2}",
                name,
                tool,
                t,
                mb / t,
                t / t_cryo
            );
        };
        row("cryo store put", t_cryo);
        if let Some(t) = run_tool("b3sum", &["--num-threads", "1"], &file) {
            row("b3sum (1 thread)", t);
        }
        if let Some(t) = run_tool("b3sum", &[], &file) {
            row("b3sum (all cores)", t);
        }
        if let Some(t) = run_tool("zstd", &["-3", "-T1", "-c", "-q"], &file) {
            row("zstd -3 -T1", t);
        }
        println!(
            "{:<10} stored {:.1} MB for {:.1} MB ({:.1}%)",
            name,
            stored as f64 / 1e6,
            mb,
            100.0 * stored as f64 / size as f64
        );
        drop(store);
        std::fs::remove_dir_all(&state).unwrap();
        std::fs::remove_file(&file).unwrap();
    }
    println!("cryo/peer > 1 means cryo is faster than the peer.");
}
