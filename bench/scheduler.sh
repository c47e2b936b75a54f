#!/usr/bin/env bash
# Scheduler overhead benchmark (issue 7): N synthetic trivial packages in a project.
#  0. warm-up: one package in its own project prepares the build root (timed, excluded);
#  A. cold: a project, `cryo package add` of N source trees (each add timed), `cryo wait`;
#     T_A = first add → wait returns; D = sum of the rows' duration_secs;
#     overhead per package = (T_A − D/workers) / N;
#  B. cached: a second project (same snapshot and prjconf), the same N trees: every
#     derivation is realised, so each row turns `cached` at commit without a sandbox;
#     T_B / N = commit → cached result per package.
# Per-add latencies (first vs last 20) and the dispatch gap of phase A (a build finishes
# → the next one starts, from the daemon log) show whether the cost grows with N.
# Usage: bench/scheduler.sh [N]   (N default 200; root; release binaries;
#        CRYOD_WORKERS default 2; CRYO_BIN=DIR skips `cargo build` and uses DIR/cryo;
#        SCHED_KEEP=DIR keeps the raw timings, results and daemon log there)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
workers=${CRYOD_WORKERS:-2}
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg
prjconf=$mirror/debian-12.prjconf
if [ -z "${CRYO_BIN:-}" ]; then
  cargo build --release --bins -q
  bin=$PWD/target/release
else
  bin=$(realpath "$CRYO_BIN")
fi
work=$(mktemp -d)
chmod 0755 "$work"   # build sandboxes (mapped ids) must traverse to the state dir
export CRYO_STATE=$work/state CRYOD_NOW=1795564800 CRYOD_WORKERS=$workers
cleanup() {
  "$bin/cryo" daemon stop >/dev/null 2>&1 || true
  if [ -n "${SCHED_KEEP:-}" ]; then  # raw data for a closer look
    mkdir -p "$SCHED_KEEP"
    cp "$work"/*.adds "$work"/*.json "$work"/*.t "$work/state/cryod.log" "$SCHED_KEEP/" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
cryo() { "$bin/cryo" "$@"; }

# A trivial native package without debhelper: its closure is the prjconf's base set, the
# same for every package, so all of them share one build root.
make_tree() {
  local name=$1 dir=$work/src/$1
  mkdir -p "$dir/debian/source"
  echo '3.0 (native)' >"$dir/debian/source/format"
  cat >"$dir/debian/changelog" <<EOF
$name (1.0) bookworm; urgency=medium

  * Synthetic trivial package for bench/scheduler.sh.

 -- Cryo Bench <bench@cryo.invalid>  Mon, 02 Jan 2023 10:00:00 +0000
EOF
  cat >"$dir/debian/control" <<EOF
Source: $name
Section: misc
Priority: optional
Maintainer: Cryo Bench <bench@cryo.invalid>
Rules-Requires-Root: no
Standards-Version: 4.6.2

Package: $name
Architecture: all
Description: synthetic trivial package $name
 Built by bench/scheduler.sh.
EOF
  cat >"$dir/debian/rules" <<'EOF'
#!/usr/bin/make -f
PKG := $(shell dpkg-parsechangelog -S Source)
build build-arch build-indep binary-arch:
binary binary-indep:
	rm -rf debian/tmp
	install -d debian/tmp/DEBIAN debian/tmp/usr/share/doc/$(PKG)
	echo $(PKG) >debian/tmp/usr/share/doc/$(PKG)/value
	dpkg-gencontrol -p$(PKG) -Pdebian/tmp
	dpkg-deb --root-owner-group --build debian/tmp ..
clean:
	rm -rf debian/tmp debian/files
.PHONY: build build-arch build-indep binary binary-arch binary-indep clean
EOF
  chmod 0755 "$dir/debian/rules"
}
names=()
for i in $(seq 1 "$n"); do names+=("$(printf 'cryobench-%04d' "$i")"); done
for p in cryobench-warmup "${names[@]}"; do make_tree "$p"; done

# The client packs each tree with dpkg-source -b before uploading: its cost is in every
# add's latency but is not the scheduler's.
mkdir "$work/pack"
(
  cd "$work/pack"
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    a=$(now)
    SOURCE_DATE_EPOCH=1672653600 dpkg-source -b "$work/src/cryobench-warmup" >/dev/null 2>&1
    b=$(now)
    echo "$a $b"
    rm -f ./*
  done
) >"$work/pack.t"

cryo mirror add bookworm "file://$mirror/debian" --suite bookworm --keyring "$keyring" >/dev/null
cryo mirror add security "file://$mirror/debian-security" --suite bookworm-security --keyring "$keyring" >/dev/null
snap=$(cryo --json mirror sync bookworm security | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')

# wait_ok PROJECT OUT: `cryo wait`, fail loudly unless every row succeeded or is cached.
wait_ok() {
  if ! cryo --json wait "$1" --timeout 7200 >"$2"; then
    python3 -c 'import json,sys; [print(r["package"], r["state"], r.get("reason",""), file=sys.stderr) for r in json.load(open(sys.argv[1]))["results"] if r["state"] not in ("succeeded","cached")]' "$2"
    echo "project $1 did not finish successfully" >&2
    exit 1
  fi
}

# 0. warm-up: prepares the build root every benchmark package shares.
cryo project create bench-warmup --snapshot "$snap" --prjconf "$prjconf" >/dev/null
t0=$(now)
cryo package add bench-warmup "$work/src/cryobench-warmup" >/dev/null
wait_ok bench-warmup "$work/warmup.json"
t1=$(now)
echo "$t0 $t1" >"$work/warmup.t"

# phase PROJECT: add every tree (timing each add), then wait.
phase() {
  local p=$1 ts=$work/$1.adds
  cryo project create "$p" --snapshot "$snap" --prjconf "$prjconf" >/dev/null
  : >"$ts"
  for name in "${names[@]}"; do
    local a b
    a=$(now)
    cryo package add "$p" "$work/src/$name" >/dev/null
    b=$(now)
    echo "$name $a $b" >>"$ts"
  done
  wait_ok "$p" "$work/$p.json"
  now >"$work/$p.end"
}
phase bench-cold
phase bench-cached

python3 - "$work" "$n" "$workers" <<'EOF'
import json, re, sys
from datetime import datetime
work, n, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def rows(p):
    return {r["package"]: r for r in json.load(open(f"{work}/{p}.json"))["results"]}

def adds(p):
    return [(float(a), float(b)) for _, a, b in (l.split() for l in open(f"{work}/{p}.adds"))]

def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")

def fit(ys):
    """Least squares y = a + b·i, i = packages already in the project; returns (a, b)."""
    xs = range(len(ys))
    mx, my = mean(xs), mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - b * mx, b

cold, cached = rows("bench-cold"), rows("bench-cached")
assert len(cold) == n and len(cached) == n, (len(cold), len(cached))
assert all(r["state"] == "succeeded" for r in cold.values()), "cold rows not all succeeded"
assert all(r["state"] == "cached" for r in cached.values()), "phase B rows not all cached"
assert all(cached[k]["derivation"] == cold[k]["derivation"] for k in cold), "derivations differ"

# Daemon log: build root preparation, and per package when its phase-A build started and
# finished (log times are real time, the pinned clock only dates records).
ts = lambda l: datetime.fromisoformat(l[:26]).timestamp()  # 2026-11-26T01:21:10.266175
pkg = lambda l: re.search(r"package=(\S+)", l).group(1)
root_secs, started, finished, cached_builds = None, {}, {}, 0
for l in open(f"{work}/state/cryod.log", encoding="utf-8", errors="replace"):
    m = re.search(r"build root prepared .* secs=([0-9.]+)", l)
    if m and root_secs is None:
        root_secs = float(m.group(1))
    if "project=bench-cold" in l and "build started" in l:
        started[pkg(l)] = ts(l)
    if "project=bench-cold" in l and "build finished" in l:
        finished[pkg(l)] = ts(l)
    if "project=bench-cached" in l and "build started" in l:
        cached_builds += 1
assert cached_builds == 0, "phase B started builds"
assert len(started) == n and len(finished) == n, (len(started), len(finished))

wa, wb = (float(x) for x in open(f"{work}/warmup.t").read().split())
warm_row = json.load(open(f"{work}/warmup.json"))["results"][0]

def phase(p):
    a = adds(p)
    end = float(open(f"{work}/{p}.end").read())
    return dict(t=end - a[0][0], adds=a[-1][1] - a[0][0], lat=[y - x for x, y in a], wait=end - a[-1][1])

A, B = phase("bench-cold"), phase("bench-cached")
D = sum(r["duration_secs"] for r in cold.values())
durs = [cold[k]["duration_secs"] for k in sorted(cold)]
k = min(20, n)
# Dispatch gap: a build finishes -> the next build starts, counted only when that next
# package was committed before the finish (a worker idles while the scheduler records the
# result, re-evaluates the project and claims the next row, not waiting for a commit).
committed = {name: float(b) for name, _, b in (l.split() for l in open(f"{work}/bench-cold.adds"))}
starts = sorted((t, q) for q, t in started.items())
gaps = []
for f in sorted(finished.values()):
    nxt = next(((t, q) for t, q in starts if t >= f), None)
    if nxt and committed[nxt[1]] < f:
        gaps.append(nxt[0] - f)
print(f"N = {n} packages, {workers} workers\n")
print("| measure | value |\n|---|---|")
print(f"| warm-up (build root + 1 build), excluded | {wb - wa:.1f} s (root prepared in {root_secs or float('nan'):.1f} s, row {warm_row['duration_secs']:.1f} s) |")
pack = [float(b) - float(a) for a, b in (l.split() for l in open(f"{work}/pack.t"))]
print(f"| client-side `dpkg-source -b` of one tree (part of every add, not the scheduler's) | {mean(pack) * 1000:.0f} ms |")
print(f"| A: {n} adds (commit throughput) | {A['adds']:.1f} s ({n / A['adds']:.1f} commits/s) |")
print(f"| A: add latency, first {k} / last {k} | {mean(A['lat'][:k])*1000:.0f} / {mean(A['lat'][-k:])*1000:.0f} ms |")
a0, a1 = fit(A['lat'])
print(f"| A: add latency fit (i = packages already in the project) | {a0*1000:.0f} ms + {a1*1000:.2f} ms × i |")
print(f"| A: T_A (first add → wait returns) | {A['t']:.1f} s (after the last add: {A['wait']:.1f} s) |")
print(f"| A: D = sum of duration_secs | {D:.1f} s (per build: mean {mean(durs):.2f} s; first {k} {mean(durs[:k]):.2f} s, last {k} {mean(durs[-k:]):.2f} s) |")
print(f"| A: overhead per package (T_A − D/{workers}) / N | {(A['t'] - D / workers) / n * 1000:.0f} ms |")
if gaps:
    print(f"| A: dispatch gap (build finished → next started), first {k} / last {k} / mean | {mean(gaps[:k])*1000:.0f} / {mean(gaps[-k:])*1000:.0f} / {mean(gaps)*1000:.0f} ms |")
print(f"| B: {n} adds, all cached | {B['adds']:.1f} s ({n / B['adds']:.1f} commits/s) |")
print(f"| B: add latency, first {k} / last {k} | {mean(B['lat'][:k])*1000:.0f} / {mean(B['lat'][-k:])*1000:.0f} ms |")
b0, b1 = fit(B['lat'])
print(f"| B: add latency fit (i = packages already in the project) | {b0*1000:.0f} ms + {b1*1000:.2f} ms × i |")
print(f"| B: T_B (first add → wait returns) | {B['t']:.1f} s |")
print(f"| B: T_B / N (commit → cached result) | {B['t'] / n * 1000:.0f} ms |")
EOF
