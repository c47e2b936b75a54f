//! Resolves each fixture source against the full bookworm (+ security) amd64 index and
//! times it next to the real apt doing the same on the same mirror (a prepared apt dir, its
//! package cache already built): `apt-get satisfy -s` for base set + build dependencies and
//! `apt-get build-dep -s`. Run with `cargo bench -p cryo-resolve`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use cryo_resolve::{resolve, ResolveRequest, Universe};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(n);
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    (median(times), last.expect("n > 0"))
}

fn main() {
    let (t_parse, cands) = time(1, common::candidates);
    let n = cands.len();
    let (t_uni, uni) = time(1, || {
        Universe::new(cands.clone(), "amd64".parse().unwrap()).unwrap()
    });
    println!("parse both Packages indices: {t_parse:?} ({n} stanzas)");
    println!(
        "build universe:              {t_uni:?} ({} candidates)",
        uni.len()
    );
    let apt = common::apt::apt();
    let conf = common::prjconf();
    let base: Vec<String> = conf
        .preinstall()
        .iter()
        .chain(conf.required())
        .chain(conf.support())
        .map(|p| p.to_string())
        .collect();
    println!(
        "{:<13} {:>5} {:>12} {:>14} {:>10} {:>14} {:>10}",
        "source", "pkgs", "cryo", "apt satisfy", "ratio", "apt build-dep", "ratio"
    );
    for name in common::FIXTURES {
        let src = common::source(name);
        let req = ResolveRequest::new(&src, conf);
        let (t_ours, closure) = time(20, || resolve(&uni, &req).unwrap());
        let mut args: Vec<String> = vec!["satisfy".into()];
        args.extend(base.iter().cloned());
        args.push(src.build_depends.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (t_sat, sat) = time(3, || apt.simulate(&args));
        let (t_bd, _) = time(3, || apt.simulate(&["build-dep", name]));
        assert_eq!(sat.len(), closure.len(), "{name}: apt and cryo disagree");
        println!(
            "{name:<13} {:>5} {:>12?} {:>14?} {:>9.0}x {:>14?} {:>9.0}x",
            closure.len(),
            t_ours,
            t_sat,
            t_sat.as_secs_f64() / t_ours.as_secs_f64(),
            t_bd,
            t_bd.as_secs_f64() / t_ours.as_secs_f64(),
        );
    }
}
