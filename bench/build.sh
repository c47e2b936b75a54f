#!/usr/bin/env bash
# Build benchmark: cryo vs mmdebstrap + dpkg-buildpackage on the fixture, for hello.
#  1. cold: cryo build of src:hello on a fresh state (build root creation + build) vs
#     `mmdebstrap --variant=buildd` (+ hello's build dependencies) from the same mirror plus
#     dpkg-source -x and dpkg-buildpackage in that chroot;
#  2. warm: cryo build --rebuild (cached root, new overlay) vs dpkg-buildpackage again in the
#     existing chroot;
#  3. cache hit: cryo build of the realised derivation.
# Usage: bench/build.sh   (root; needs mmdebstrap; uses release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg
cargo build --release --bins -q
bin=$PWD/target/release
work=$(mktemp -d)
chmod 0755 "$work"   # build sandboxes (mapped ids) must traverse to the state dir
export CRYO_STATE=$work/state CRYOD_NOW=1795564800
trap '$bin/cryo daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

$bin/cryo mirror add bookworm "file://$mirror/debian" --suite bookworm --keyring "$keyring" >/dev/null
$bin/cryo mirror add security "file://$mirror/debian-security" --suite bookworm-security --keyring "$keyring" >/dev/null
snap=$($bin/cryo --json mirror sync bookworm security | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')
prjconf=$mirror/debian-12.prjconf

field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# Exit status 1 = build failed or (with --rebuild) outputs differ: read the JSON instead.
t0=$(now); $bin/cryo --json build --snapshot "$snap" --prjconf "$prjconf" src:hello >"$work/cold.json" || true; t1=$(now)
cryo_cold=$(secs "$t0" "$t1")
[ "$(field status <"$work/cold.json")" = built ] || { cat "$work/cold.json" >&2; echo "cryo cold build failed" >&2; exit 1; }
drv=$(field derivation <"$work/cold.json")
$bin/cryo log "$drv" | grep '^cryo: root phase' >"$work/phases" || true
t0=$(now); $bin/cryo --json build --drv "$drv" --rebuild >"$work/warm.json" || true; t1=$(now)
cryo_warm=$(secs "$t0" "$t1")
[ "$(field status <"$work/warm.json")" = built ] || { cat "$work/warm.json" >&2; echo "cryo rebuild failed" >&2; exit 1; }
t0=$(now); for i in 1 2 3 4 5 6 7 8 9 10; do $bin/cryo build --drv "$drv" >/dev/null; done; t1=$(now)
cryo_hit=$(echo "($t1 - $t0) / 10" | bc -l)

# The peer: the same closure's build dependencies, from the same mirror.
deps=$($bin/cryo --json resolve --snapshot "$snap" --prjconf "$prjconf" src:hello | python3 -c 'import json,sys; print(",".join(c["name"] for c in json.load(sys.stdin)["closure"]))')
chroot=$work/chroot
t0=$(now)
# file:// mirrors are bind-mounted into the chroot while mmdebstrap installs (its own hook).
mmdebstrap --quiet --mode=root --variant=buildd --include="$deps" --keyring="$keyring" \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --aptopt='Acquire::Check-Valid-Until "false"' bookworm "$chroot" \
  "deb file://$mirror/debian bookworm main" "deb file://$mirror/debian-security bookworm-security main"
t1=$(now)
mm_root=$(secs "$t0" "$t1")
mkdir -p "$chroot/build"
cp "$mirror"/debian/pool/main/h/hello/hello_2.10* "$chroot/build/"
# /proc is mounted in a private mount namespace, so it disappears with the build.
build_in_chroot() {
  rm -rf "$chroot/build/hello-2.10"
  if ! unshare --mount --propagation private -- sh -c \
    'mount -t proc proc "$1/proc" && exec chroot "$1" sh -c "cd /build && dpkg-source -x hello_2.10-3.dsc >/dev/null && cd hello-2.10 && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -b -us -uc"' \
    sh "$chroot" >"$work/peer-build.log" 2>&1; then
    tail -30 "$work/peer-build.log" >&2
    echo "peer build failed" >&2
    exit 1
  fi
}
t0=$(now); build_in_chroot; t1=$(now)
mm_build=$(secs "$t0" "$t1")
t0=$(now); build_in_chroot; t1=$(now)
mm_warm=$(secs "$t0" "$t1")
mm_cold=$(echo "$mm_root + $mm_build" | bc)

printf '| step | cryo (s) | mmdebstrap + dpkg-buildpackage (s) | peer/cryo |\n|---|---|---|---|\n'
printf '| cold (root + build) | %.1f | %.1f (root %.1f + build %.1f) | %.2f |\n' "$cryo_cold" "$mm_cold" "$mm_root" "$mm_build" "$(echo "$mm_cold / $cryo_cold" | bc -l)"
printf '| warm (cached root) | %.1f | %.1f | %.2f |\n' "$cryo_warm" "$mm_warm" "$(echo "$mm_warm / $cryo_warm" | bc -l)"
printf '| cache hit | %.3f | — | — |\n' "$cryo_hit"
echo
echo "cryo cold build, build root phases (from \`cryo log\`):"
sed 's/^cryo: /  /' "$work/phases"
