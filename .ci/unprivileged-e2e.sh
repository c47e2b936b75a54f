#!/usr/bin/env bash
# The build-sandbox end-to-end test once more as an unprivileged user with subordinate ids
# (CI runs everything else as root): a real cryod started by the e2e harness as user
# `cryo-ci` rebuilds base-files bit for bit, serves it from the cache, rebuilds, checks
# with variations and reports a failing build. Runs the already-built test executable and
# binaries from a directory that user owns, so the checkout's location does not matter.
# The user (or the subordinate ranges this script gave it) is removed again on exit.
# Needs root; elsewhere it says why it is skipped (and fails under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

user=cryo-ci
range=400000000-400065535
test_name=build_base_files_identical_cached_rebuild_and_failure

if [ "$(id -u)" != 0 ]; then
    echo "unprivileged e2e: skipped, creating the user $user needs root" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 0
fi
for tool in useradd usermod userdel runuser newuidmap newgidmap; do
    command -v "$tool" >/dev/null || { echo "unprivileged e2e: $tool is missing (.ci/packages)" >&2; exit 1; }
done

created_user=false
added_ranges=false
work=""
cleanup() {
    [ -n "$work" ] && rm -rf "$work"
    if $created_user; then
        userdel "$user" 2>/dev/null || true
    elif $added_ranges; then
        usermod --del-subuids "$range" --del-subgids "$range" "$user" || true
    fi
}
trap cleanup EXIT

if ! id -u "$user" >/dev/null 2>&1; then
    useradd --no-create-home --shell /usr/sbin/nologin "$user"
    created_user=true
fi
has_range() { awk -F: -v u="$user" -v i="$(id -u "$user")" '($1 == u || $1 == i) && $3 >= 65536 { ok = 1 } END { exit !ok }' "$1"; }
if ! has_range /etc/subuid || ! has_range /etc/subgid; then
    usermod --add-subuids "$range" --add-subgids "$range" "$user"
    added_ranges=true
fi

# The test executable and the binaries (already built by `cargo test --workspace`).
cargo build -q -p cryo-daemon -p cryo-client --bins
exe=$(cargo test -p cryo-tests --test build --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "build":
        print(m["executable"])')
bins=$(dirname "$(dirname "$exe")")
work=$(mktemp -d /tmp/cryo-ci-e2e.XXXXXX)
chmod 0755 "$work"
mkdir -p "$work/bin" "$work/home" "$work/tmp"
cp "$exe" "$work/bin/e2e-build"
cp "$bins/cryo" "$bins/cryod" "$work/bin/"
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
chown -R "$user:" "$work"
# The fixture mirror is only read; copy it when the user cannot reach it where it is.
if ! runuser -u "$user" -- test -r "$mirror/keyrings/debian-archive-keyring.gpg"; then
    cp -r "$mirror" "$work/mirror"
    chown -R "$user:" "$work/mirror"
    mirror=$work/mirror
fi

echo "unprivileged e2e: $test_name as $user ($(id -u "$user")), subordinate ids $(grep "^$user:" /etc/subuid || true)"
start=$(date +%s)
status=0
runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work/home" \
    TMPDIR="$work/tmp" CRYO_BIN_DIR="$work/bin" CRYO_FIXTURE_MIRROR="$mirror" \
    CRYO_E2E_BUILD_DIR="$work/build" CRYO_E2E_NEW_ROOT=1 CI="${CI:-}" \
    timeout 1200 "$work/bin/e2e-build" --exact "$test_name" --test-threads=1 || status=$?
echo "unprivileged e2e: finished in $(( $(date +%s) - start ))s with status $status"
if [ "$status" != 0 ]; then
    log=$(find "$work/tmp" -name e2e-cryod.log 2>/dev/null | head -1)
    [ -n "$log" ] && { echo "--- cryod log (tail)"; tail -40 "$log"; }
fi
exit "$status"
