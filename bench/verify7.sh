#!/usr/bin/env bash
# Verification benchmark (issue 16): verify the 7 visible fixture sources from an empty
# store, cryo vs `mmdebstrap` + `dpkg-buildpackage` per source, side by side.
#
#  cryo: a fresh state: `cryo mirror sync` of both suites, then one
#        `cryo verify --snapshot S src:… (7 sources)`: every closure resolved, roots made
#        (one base layer, one tool layer, one root per closure), the 7 sources built (as
#        many at once as cryod has workers: the cores) and every .deb compared with
#        Debian's. Timed: sync + verify.
#  peer: per source, one after the other (what a rebuilder without shared roots does):
#        `mmdebstrap --variant=buildd --include=<the source's closure from cryo resolve>`
#        from the same file:// mirror, `dpkg-source -x`, `dpkg-buildpackage -b -us -uc`
#        (DEB_BUILD_OPTIONS=parallel=<cores>) in the chroot, then `cmp` of each .deb with
#        Debian's. Timed: all of it.
# Usage: bench/verify7.sh   (root; needs mmdebstrap; release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg
sources="base-files debootstrap kernel-wedge libuev mxml xfpt hello"
cargo build --release --bins -q
bin=$PWD/target/release
work=$(mktemp -d)
chmod 0755 "$work"   # build sandboxes (mapped ids) must traverse to the state dir
export CRYO_STATE=$work/state CRYOD_NOW=1795564800
unset CRYOD_BUILD_DIR
trap '$bin/cryo daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
prjconf=$mirror/debian-12.prjconf

t0=$(now)
$bin/cryo mirror add bookworm "file://$mirror/debian" --suite bookworm --keyring "$keyring" >/dev/null
$bin/cryo mirror add security "file://$mirror/debian-security" --suite bookworm-security --keyring "$keyring" >/dev/null
snap=$($bin/cryo --json mirror sync bookworm security | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')
srcs=$(for s in $sources; do printf 'src:%s ' "$s"; done)
# shellcheck disable=SC2086
$bin/cryo --json verify --snapshot "$snap" --prjconf "$prjconf" $srcs >"$work/verify.json" || true
t1=$(now)
cryo_time=$(secs "$t0" "$t1")
report=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report"])' "$work/verify.json") \
  || { cat "$work/verify.json" >&2; echo "cryo verify gave no report" >&2; exit 1; }
$bin/cryo report show "$report" --format json >"$work/report.json"
python3 - "$work/report.json" <<'EOF' >"$work/classes"
import json, sys
rep = json.load(open(sys.argv[1]))
for s in rep["sources"]:
    for b in s.get("binaries", []):
        print(s["source"], b["package"], b["classification"]["kind"])
EOF
grep -q . "$work/classes" || { cat "$work/verify.json" >&2; echo "no verification result" >&2; exit 1; }
# Every source must have been built and compared; hello's `content` is the fixture's
# ground truth under the default real clock (configure embeds `date +%Y`).
if grep -q ' build-failed$\| inconclusive$\| missing-upstream$' "$work/classes"; then cat "$work/classes" >&2; echo "cryo verify did not build every source" >&2; exit 1; fi

# The peer, one source after the other.
cores=$(nproc)
peer_total=0
peer_rows=""
for s in $sources; do
  closure=$($bin/cryo --json resolve --snapshot "$snap" --prjconf "$prjconf" "src:$s" | python3 -c 'import json,sys; print(",".join(c["name"] for c in json.load(sys.stdin)["closure"]))')
  chroot=$work/chroot-$s
  t0=$(now)
  mmdebstrap --quiet --mode=root --variant=buildd --include="$closure" --keyring="$keyring" \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    --aptopt='Acquire::Check-Valid-Until "false"' bookworm "$chroot" \
    "deb file://$mirror/debian bookworm main" "deb file://$mirror/debian-security bookworm-security main"
  mkdir -p "$chroot/build"
  # The source package's files, from the pool (its directory holds the official .debs too).
  pool=$(dirname "$(find "$mirror"/debian/pool "$mirror"/debian-security/pool -name "${s}_*.dsc" | head -1)")
  cp "$pool"/*.dsc "$pool"/*.tar.* "$chroot/build/" 2>/dev/null || true
  if ! unshare --mount --propagation private -- sh -c \
    'mount -t proc proc "$1/proc" && exec chroot "$1" sh -c "cd /build && dpkg-source -x *.dsc src >/dev/null && cd src && DEB_BUILD_OPTIONS=parallel=$2 dpkg-buildpackage -b -us -uc"' \
    sh "$chroot" "$cores" >"$work/peer-$s.log" 2>&1; then
    tail -30 "$work/peer-$s.log" >&2
    echo "peer build of $s failed" >&2
    exit 1
  fi
  same=0 differ=0
  for deb in "$chroot"/build/*.deb; do
    official=$pool/$(basename "$deb")
    [ -f "$official" ] || continue
    if cmp -s "$deb" "$official"; then same=$((same + 1)); else differ=$((differ + 1)); fi
  done
  t1=$(now)
  t=$(secs "$t0" "$t1")
  peer_total=$(echo "$peer_total + $t" | bc)
  peer_rows="$peer_rows$(printf '| %s | %.1f | %d identical, %d differ |' "$s" "$t" "$same" "$differ")\n"
  rm -rf "$chroot"
done

printf '| measure | cryo (s) | mmdebstrap + dpkg-buildpackage per source (s) | peer/cryo |\n|---|---|---|---|\n'
printf '| verify 7 sources from an empty store | %.1f | %.1f | %.2f |\n' "$cryo_time" "$peer_total" "$(echo "$peer_total / $cryo_time" | bc -l)"
echo
echo "cryo's classes:"
sed 's/^/  /' "$work/classes"
echo
printf '| peer, per source | seconds | cmp with Debian'"'"'s .debs |\n|---|---|---|\n'
printf "%b" "$peer_rows"
echo
echo "cryo's roots (\`cryo log\` of each derivation; \`cryo build\` is a cache hit here):"
for s in $sources; do
  drv=$($bin/cryo --json build --snapshot "$snap" --prjconf "$prjconf" "src:$s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["derivation"])') || continue
  $bin/cryo log "$drv" | grep -E '^cryo: build root' | sed "s/^cryo: /  $s: /" || true
done
