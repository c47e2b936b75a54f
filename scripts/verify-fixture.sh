#!/usr/bin/env bash
# The main job on the embedded default store: register the customer's offline mirror
# (../shared/mirror: Debian 12 + security, frozen), snapshot it, and verify that cryo
# rebuilds Debian's packages bit for bit. The daemon starts by itself on first use
# (state in $CRYO_STATE, default ~/.local/state/cryo). Safe to run again: everything is
# cached, so a second run only re-checks signatures and reports.
set -euo pipefail
cd "$(dirname "$0")/.."
cryo=${CRYO_BIN:-./target/release/cryo}
mirror=$(realpath -m "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg

# Prerequisites, all checked before anything runs, reported together with the fix.
missing=()
packages=()
need_tool() { # tool package
    command -v "$1" >/dev/null 2>&1 && return
    missing+=("$1 (Debian package $2)")
    packages+=("$2")
}
need_tool python3 python3
need_tool dpkg dpkg
need_tool dpkg-source dpkg-dev
need_tool patch patch
[ -x "$cryo" ] && [ -x "$(dirname "$cryo")/cryod" ] ||
    missing+=("the binaries $cryo and $(dirname "$cryo")/cryod: run \`cargo build --release --bins\` (or set CRYO_BIN)")
[ -f "$keyring" ] && [ -f "$mirror/debian/dists/bookworm/InRelease" ] && [ -f "$mirror/debian-12.prjconf" ] ||
    missing+=("the fixture mirror in $mirror (keyrings/, debian/dists/bookworm/InRelease, debian-12.prjconf): check out ../shared beside the repository or set CRYO_FIXTURE_MIRROR")
if [ "$(id -u)" != 0 ]; then
    # Without root the build sandbox maps ids with newuidmap/newgidmap from the user's
    # subordinate ranges (docs/sandbox.md).
    need_tool newuidmap uidmap
    need_tool newgidmap uidmap
    user=$(id -un)
    uid=$(id -u)
    lacking=()
    for f in /etc/subuid /etc/subgid; do
        awk -F: -v u="$user" -v i="$uid" '($1 == u || $1 == i) && $3 >= 65536 { ok = 1 } END { exit !ok }' "$f" 2>/dev/null ||
            lacking+=("$f")
    done
    [ ${#lacking[@]} -eq 0 ] ||
        missing+=("a range of at least 65536 subordinate ids for $user in ${lacking[*]}: as root, \`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $user\` (a range no other user has)")
    if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" = 0 ] ||
        [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ]; then
        missing+=("unprivileged user namespaces (sysctl user.max_user_namespaces > 0 and kernel.unprivileged_userns_clone = 1)")
    fi
fi
if [ ${#missing[@]} -gt 0 ]; then
    {
        echo "verify-fixture.sh: cannot run the main job; missing:"
        printf '  - %s\n' "${missing[@]}"
        if [ ${#packages[@]} -gt 0 ]; then
            echo "Install the packages (as root):"
            echo "  apt-get install $(printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' ')"
        fi
    } >&2
    exit 2
fi

"$cryo" mirror add bookworm "file://$mirror/debian" --suite bookworm --keyring "$keyring"
"$cryo" mirror add bookworm-security "file://$mirror/debian-security" --suite bookworm-security --keyring "$keyring"
# A frozen EOL mirror's security metadata expires (Valid-Until 2026-12-01): accepting it is
# an explicit decision, recorded in the snapshot.
snapshot=$("$cryo" --json mirror sync bookworm bookworm-security --allow-expired \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["snapshot"])')
"$cryo" snapshot show "$snapshot"
# Rebuild and compare with Debian's own binaries: base-files, libuev and mxml come out
# identical, xfpt differs only in its build-id (exit 1 = "some binary differs").
"$cryo" verify --snapshot "$snapshot" --prjconf "$mirror/debian-12.prjconf" \
  src:base-files src:libuev src:mxml src:xfpt || [ $? -eq 1 ]
"$cryo" store verify
