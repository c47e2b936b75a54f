#!/usr/bin/env bash
# Mirror ingest benchmark: `cryo mirror sync` of the fixture's full bookworm main amd64 +
# source indices (63k binary, 34k source stanzas) next to `apt-get update` on the same
# file:// mirror in a private apt directory. Both start cold (no previous lists/snapshot)
# and both verify the InRelease signature and the index hashes.
#
# Usage: bench/mirror_sync.sh [RUNS]   (needs hyperfine; uses release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg
cargo build --release --bins -q
bin=$PWD/target/release
work=$(mktemp -d)
trap 'CRYO_STATE=$work/state $bin/cryo daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# apt: private lists, sources and cache; empty status; no system config.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/etc" "$work/apt/parts"
: > "$work/apt/status"
# APT_CONFIG is read before apt.conf.d: point the parts dir at an empty one so that host
# settings (appstream/DEP-11 targets) do not leak in.
echo "Dir::Etc::parts \"$work/apt/parts\";" > "$work/apt/apt.conf"
export APT_CONFIG=$work/apt/apt.conf
cat > "$work/apt/etc/sources.list" <<SRC
deb [signed-by=$keyring] file://$mirror/debian bookworm main
deb-src [signed-by=$keyring] file://$mirror/debian bookworm main
SRC
apt_update="apt-get update -qq -o Dir::State::lists=$work/apt/lists -o Dir::Etc::sourcelist=$work/apt/etc/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::status=$work/apt/status -o Dir::Cache=$work/apt/cache -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o Acquire::Languages=none"

# cryo: a running daemon on a scratch state dir; each run syncs into a fresh store.
export CRYO_STATE=$work/state
prep_cryo="$bin/cryo daemon stop >/dev/null 2>&1 || true; rm -rf $work/state; $bin/cryo mirror add bookworm file://$mirror/debian --suite bookworm --keyring $keyring >/dev/null"
hyperfine --runs "$runs" --export-markdown "$work/result.md" \
  --prepare "rm -rf $work/apt/lists; mkdir -p $work/apt/lists/partial" -n "apt-get update" "$apt_update" \
  --prepare "$prep_cryo" -n "cryo mirror sync" "$bin/cryo mirror sync bookworm"
cat "$work/result.md"
