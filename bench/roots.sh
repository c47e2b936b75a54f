#!/usr/bin/env bash
# Root benchmark (issue 16): the build root for a NEW closure when the base layer is cached,
# cryo vs sbuild's way (a cached base chroot + apt-get install of the delta), side by side.
#
#  cryo: a fresh state; `cryo build src:hello` prepares the base layer (Preinstall + Required
#        + Support + Essential) and hello's root. Then `cryo build src:$SECOND` needs another
#        closure: its root is the cached base + its delta. Measured: that root's wall time,
#        from the `cryo log` line `build root … ready in N s` (the closure's .debs fetched
#        from the store or the file:// mirror, the base layer chosen, Copy, Install, Finish,
#        the root's listing recorded), and the whole build.
#  peer: `mmdebstrap --variant=buildd --include=<prjconf Required + Support>` from the same
#        mirror, once, untimed (sbuild's cached base chroot). Then, timed: `cp -a` of that
#        chroot (a fresh copy per build, as sbuild's unshare mode unpacks its tarball) and
#        `apt-get install` of the packages of $SECOND's closure that the base lacks, from
#        the same file:// mirror (bind-mounted into the chroot).
#  Then three interleaved repetitions (peer; cryo with its root removed and `--rebuild`):
#  the table shows the medians (the machine is shared: single timings move by 2-3x).
# Usage: bench/roots.sh [SECOND]   (root; needs mmdebstrap; release binaries; SECOND=mxml)
set -euo pipefail
cd "$(dirname "$0")/.."
second=${1:-mxml}
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg
cargo build --release --bins -q
bin=$PWD/target/release
work=$(mktemp -d)
chmod 0755 "$work"   # build sandboxes (mapped ids) must traverse to the state dir
export CRYO_STATE=$work/state CRYOD_NOW=1795564800
unset CRYOD_BUILD_DIR
trap '$bin/cryo daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

$bin/cryo mirror add bookworm "file://$mirror/debian" --suite bookworm --keyring "$keyring" >/dev/null
$bin/cryo mirror add security "file://$mirror/debian-security" --suite bookworm-security --keyring "$keyring" >/dev/null
snap=$($bin/cryo --json mirror sync bookworm security | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')
prjconf=$mirror/debian-12.prjconf

$bin/cryo --json build --snapshot "$snap" --prjconf "$prjconf" src:hello >"$work/first.json" || true
[ "$(field status <"$work/first.json")" = built ] || { cat "$work/first.json" >&2; echo "cryo build of hello failed" >&2; exit 1; }
t0=$(now); $bin/cryo --json build --snapshot "$snap" --prjconf "$prjconf" "src:$second" >"$work/second.json" || true; t1=$(now)
cryo_build=$(secs "$t0" "$t1")
[ "$(field status <"$work/second.json")" = built ] || { cat "$work/second.json" >&2; echo "cryo build of $second failed" >&2; exit 1; }
drv=$(field derivation <"$work/second.json")
$bin/cryo log "$drv" | grep -E '^cryo: (root phase|build root|fetched)' >"$work/cryo-root" || true
grep -q 'base layer .* (cached' "$work/cryo-root" || { cat "$work/cryo-root" >&2; echo "the second root did not use the cached base layer" >&2; exit 1; }
cryo_root=$(sed -n 's/^cryo: build root .* ready in \([0-9.]*\)s.*/\1/p' "$work/cryo-root")
[ -n "$cryo_root" ] || { cat "$work/cryo-root" >&2; echo "no root time in the log" >&2; exit 1; }

# The peer's cached base chroot: the prjconf's Required + Support, from the same mirror.
base_pkgs=$(python3 - "$prjconf" <<'EOF'
import sys
names = []
for line in open(sys.argv[1]):
    k, _, v = line.partition(":")
    if k.strip() in ("Required", "Support"):
        names += v.split()
print(",".join(names))
EOF
)
base=$work/base-chroot
mmdebstrap --quiet --mode=root --variant=buildd --include="$base_pkgs" --keyring="$keyring" \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --skip=cleanup/apt/lists --aptopt='Acquire::Check-Valid-Until "false"' bookworm "$base" \
  "deb file://$mirror/debian bookworm main" "deb file://$mirror/debian-security bookworm-security main"
closure=$($bin/cryo --json resolve --snapshot "$snap" --prjconf "$prjconf" "src:$second" | python3 -c 'import json,sys; print(" ".join(c["name"] for c in json.load(sys.stdin)["closure"]))')
have=$(chroot "$base" dpkg-query -W -f '${Package}\n' | sort)
delta=$(comm -23 <(tr ' ' '\n' <<<"$closure" | sort) <(echo "$have") | tr '\n' ' ')
echo "peer delta for $second: $(wc -w <<<"$delta") packages: $delta"

# Interleaved repetitions: the peer's root from its cached base, then cryo's root again
# (the cached root removed, `cryo build --rebuild` prepares it from the cached base).
root_key=$(sed -n 's/^cryo: build root \([0-9a-f]*\) ready in.*/\1/p' "$work/cryo-root")
cryo_times="$cryo_root"
peer_times=""
for i in 1 2 3; do
  chroot=$work/chroot
  rm -rf "$chroot"
  t0=$(now)
  cp -a "$base" "$chroot"
  mkdir -p "$chroot$mirror"
  unshare --mount --propagation private -- sh -c '
    set -e
    mount --bind "$2" "$1$2"
    mount -t proc proc "$1/proc"
    shift 2
    exec chroot "$0" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  ' "$chroot" "$chroot" "$mirror" $delta >"$work/peer-apt.log" 2>&1 || { tail -30 "$work/peer-apt.log" >&2; echo "peer apt-get install failed" >&2; exit 1; }
  t1=$(now)
  peer_times="$peer_times $(secs "$t0" "$t1")"
  [ "$i" = 3 ] && break
  rm -rf "$CRYO_STATE/roots/$root_key"
  $bin/cryo --json build --drv "$drv" --rebuild >"$work/again.json" || true
  t=$($bin/cryo log "$drv" | sed -n 's/^cryo: build root .* ready in \([0-9.]*\)s.*/\1/p')
  [ -n "$t" ] || { echo "the rebuild did not prepare the root again" >&2; exit 1; }
  cryo_times="$cryo_times $t"
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
cryo_root=$(median "$cryo_times")
peer_root=$(median "$peer_times")
echo "cryo root times (s):$(printf ' %s' $cryo_times); peer:$(printf ' %s' $peer_times)"

printf '| measure | cryo (s) | sbuild-style: cached base chroot + apt-get install (s) | peer/cryo |\n|---|---|---|---|\n'
printf '| root for src:%s, base cached (median of 3) | %.1f | %.1f | %.2f |\n' "$second" "$cryo_root" "$peer_root" "$(echo "$peer_root / $cryo_root" | bc -l)"
printf '| whole cryo build of src:%s (root + build) | %.1f | — | — |\n' "$second" "$cryo_build"
echo
echo "cryo, second root (from \`cryo log\`):"
sed 's/^cryo: /  /' "$work/cryo-root"
