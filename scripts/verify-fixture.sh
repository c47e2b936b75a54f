#!/usr/bin/env bash
# The main job on the embedded default store: register the customer's offline mirror
# (../shared/mirror: Debian 12 + security, frozen), snapshot it, and verify that cryo
# rebuilds Debian's packages bit for bit. The daemon starts by itself on first use
# (state in $CRYO_STATE, default ~/.local/state/cryo). Safe to run again: everything is
# cached, so a second run only re-checks signatures and reports.
set -euo pipefail
cd "$(dirname "$0")/.."
cryo=${CRYO_BIN:-./target/release/cryo}
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg

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
