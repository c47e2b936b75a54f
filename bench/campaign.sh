#!/usr/bin/env bash
# Campaign throughput and update cost (issue 15; docs/performance.md "Campaigns").
#  0. warm-up: one throwaway daemon verifies the 7 fixture sources once, so every build
#     root is prepared in the shared build dir (excluded from the timings);
#  A. by hand: a fresh daemon (empty store: every source is built), `cryo verify` of each
#     source one after the other, as a person would type them; T_A;
#  B. campaign: a fresh daemon (empty store), `cryo campaign create --from-file LIST
#     --wait` over the same 7 sources; T_B;
#  C. update: a third signed archive with one new source upload (kernel-wedge
#     2.106~deb12u2), a snapshot S2 = fixture + it, `cryo campaign update --snapshot S2
#     --wait`; T_C and the number of builds it ran (builds_run before/after).
# Throughput = sources / T × 3600. Prints one line per phase and the builds each ran.
# Usage: bench/campaign.sh   (root; CRYOD_WORKERS default 2; CRYO_BIN=DIR uses DIR/cryo
#        and DIR/cryod instead of a release build; BENCH_KEEP=DIR keeps logs and JSON;
#        BENCH_BUILD_DIR=DIR uses a build dir whose roots are prepared already, e.g.
#        target/cryo-e2e-build after the e2e tests, and skips the warm-up;
#        BENCH_ALL=1 adds D: `campaign create --all --wait` on B's daemon, every source
#        of the fixture's Sources indices, the 7 of the pool cached, the rest not-in-mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
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
export CRYOD_NOW=1795564800 CRYOD_WORKERS=$workers CRYOD_BUILD_DIR=${BENCH_BUILD_DIR:-$work/build}
mkdir -p "$CRYOD_BUILD_DIR"
sources=(base-files debootstrap kernel-wedge libuev mxml xfpt hello)
printf 'src:%s\n' "${sources[@]}" >"$work/fixture.list"
state=
stop() { [ -n "$state" ] && CRYO_STATE=$state "$bin/cryo" daemon stop >/dev/null 2>&1 || true; }
cleanup() {
  stop
  if [ -n "${BENCH_KEEP:-}" ]; then
    mkdir -p "$BENCH_KEEP"
    cp "$work"/*.json "$BENCH_KEEP/" 2>/dev/null || true
    for s in "$work"/state-*; do cp "$s/cryod.log" "$BENCH_KEEP/$(basename "$s").log" 2>/dev/null || true; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
cryo() { CRYO_STATE=$state "$bin/cryo" "$@"; }
js() { python3 -c "import json,sys; v=json.load(sys.stdin); print($1)"; }
fresh() {  # a new daemon on an empty state dir (autostarted by the first command)
  stop
  state=$work/state-$1
  mkdir -p "$state"
  cryo mirror add bookworm "file://$mirror/debian" --suite bookworm --keyring "$keyring" >/dev/null
  cryo mirror add security "file://$mirror/debian-security" --suite bookworm-security --keyring "$keyring" >/dev/null
  snap=$(cryo --json mirror sync bookworm security | js 'v["snapshot"]')
}
builds() { cryo --json daemon status | js 'v["builds_run"]'; }

# The update archive: kernel-wedge's fixture source plus a changelog entry, signed.
update_archive() {
  local a=$work/cu w=$work/cu-work
  mkdir -p "$w" "$a/pool/main/k/kernel-wedge" "$a/dists/bookworm-cu/main/source" "$a/dists/bookworm-cu/main/binary-amd64"
  (cd "$w" && dpkg-source --no-check -x "$mirror/debian/pool/main/k/kernel-wedge/kernel-wedge_2.106~deb12u1.dsc" kernel-wedge-2.106~deb12u2 >/dev/null)
  local cl=$w/kernel-wedge-2.106~deb12u2/debian/changelog
  { printf 'kernel-wedge (2.106~deb12u2) bookworm; urgency=medium\n\n  * bench/campaign.sh: a new upload.\n\n -- T <t@example.org>  Mon, 02 Nov 2026 10:00:00 +0000\n\n'; cat "$cl"; } >"$cl.new"
  mv "$cl.new" "$cl"
  (cd "$w" && SOURCE_DATE_EPOCH=1793613600 dpkg-source -b kernel-wedge-2.106~deb12u2 >/dev/null)
  cp "$w"/kernel-wedge_2.106~deb12u2.* "$a/pool/main/k/kernel-wedge/"
  (cd "$a" && dpkg-scansources pool >dists/bookworm-cu/main/source/Sources 2>/dev/null)
  : >"$a/dists/bookworm-cu/main/binary-amd64/Packages"
  (cd "$a" && apt-ftparchive -o APT::FTPArchive::Release::Suite=bookworm-cu \
    -o APT::FTPArchive::Release::Codename=bookworm-cu -o APT::FTPArchive::Release::Architectures=amd64 \
    -o APT::FTPArchive::Release::Components=main release dists/bookworm-cu >"$work/Release")
  mv "$work/Release" "$a/dists/bookworm-cu/Release"
  export GNUPGHOME=$work/gnupg
  mkdir -m 0700 "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --quick-gen-key 'cu <cu@example.org>' ed25519 sign never
  gpg --batch --quiet --export --output "$work/cu.gpg"
  gpg --batch --quiet --clearsign --output "$a/dists/bookworm-cu/InRelease" "$a/dists/bookworm-cu/Release"
}

# 0. warm-up
if [ -z "${BENCH_BUILD_DIR:-}" ]; then
  fresh warmup
  t0=$(now)
  cryo verify --snapshot "$snap" --prjconf "$prjconf" --from-file "$work/fixture.list" >/dev/null || true
  t1=$(now)
  printf 'warm-up (build roots): %.0f s\n' "$(echo "$t1 - $t0" | bc)"
fi

# A. cryo verify per source, by hand
fresh by-hand
b0=$(builds)
t0=$(now)
for s in "${sources[@]}"; do
  a=$(now)
  cryo --json verify --snapshot "$snap" --prjconf "$prjconf" "src:$s" >"$work/verify-$s.json" || true
  printf '  verify %-13s %6.1f s\n' "$s" "$(echo "$(now) - $a" | bc)"
done
t1=$(now)
ta=$(echo "$t1 - $t0" | bc)
printf 'A. cryo verify x%d by hand: %.0f s = %.1f sources/hour, %d builds\n' \
  "${#sources[@]}" "$ta" "$(echo "${#sources[@]} * 3600 / $ta" | bc -l)" "$(( $(builds) - b0 ))"

# B. one campaign
fresh campaign
b0=$(builds)
t0=$(now)
cryo --json campaign create bench --snapshot "$snap" --prjconf "$prjconf" --from-file "$work/fixture.list" --wait >"$work/campaign.json"
t1=$(now)
tb=$(echo "$t1 - $t0" | bc)
printf 'B. campaign create --wait:  %.0f s = %.1f sources/hour, %d builds (workers %d); classes: %s\n' \
  "$tb" "$(echo "${#sources[@]} * 3600 / $tb" | bc -l)" "$(( $(builds) - b0 ))" "$workers" \
  "$(js 'v["counts"]["by_class"]' <"$work/campaign.json")"

# C. update with one changed source
update_archive
cryo mirror add cu "file://$work/cu" --suite bookworm-cu --keyring "$work/cu.gpg" >/dev/null
snap2=$(cryo --json mirror sync bookworm security cu | js 'v["snapshot"]')
b0=$(builds)
t0=$(now)
cryo --json campaign update bench --snapshot "$snap2" --wait >"$work/update.json"
t1=$(now)
printf 'C. campaign update (1 of %d changed): %.1f s, %d build(s); re-verified %s, carried %s\n' \
  "${#sources[@]}" "$(echo "$t1 - $t0" | bc)" "$(( $(builds) - b0 ))" \
  "$(js 'v["reverify"]' <"$work/update.json")" "$(js 'v["carried"]' <"$work/update.json")"

# D. --all over the whole Sources index (optional: tens of thousands of rows)
if [ -n "${BENCH_ALL:-}" ]; then
  b0=$(builds)
  t0=$(now)
  cryo --json campaign create all --snapshot "$snap" --prjconf "$prjconf" --all --wait >"$work/all.json"
  t1=$(now)
  td=$(echo "$t1 - $t0" | bc)
  printf 'D. campaign create --all --wait: %.0f s for %s sources (%s rows/s), %d builds; classes: %s\n' \
    "$td" "$(js 'v["counts"]["sources"]' <"$work/all.json")" \
    "$(echo "$(js 'v["counts"]["sources"]' <"$work/all.json") / $td" | bc -l | cut -c1-6)" \
    "$(( $(builds) - b0 ))" "$(js 'v["counts"]["by_class"]' <"$work/all.json")"
fi
