#!/usr/bin/env bash
# Binary cache over HTTP (issue 8): `cryod --listen` vs nginx serving the same bytes from disk.
#
# 1. Builds a synthetic source package on a fresh state (release binaries): one binary
#    package of 256 MiB (128 MiB random + 128 MiB of a tar of the build root's /usr, dpkg-deb
#    -Znone, so the .deb is that data) and 100 small ones of 64 KiB (32 KiB of each kind).
#    The cache serves only build outputs, so the blobs have to come from a realisation.
# 2. Serves them from cryod (`GET /cache/blob/<blake3>`, zstd on the wire) and from nginx
#    (the same files, plain, sendfile) on loopback ports; checks that both bodies decode to
#    the same bytes.
# 3. Loads both with wrk, interleaved per scenario: the big blob, the 100 small blobs
#    (round robin), the signed realisation `GET /cache/drv/<id>` of src:base-files (built
#    too, 3 outputs) and of the payload (103 outputs) -- nginx serves the same JSON as a
#    static file, as a Nix-style static cache would -- and a lookup of an unknown
#    derivation (404 on both), each with 1 and 16 connections.
#
# Usage: bench/cache_http.sh   (root; needs wrk and nginx; uses release binaries)
# Env: DURATION (s per small-request run, default 10), BIG_DURATION (s per big-blob run,
#      default 30; each connection should complete several bodies in it).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
big_duration=${BIG_DURATION:-30}
mirror=$(realpath "${CRYO_FIXTURE_MIRROR:-../shared/mirror}")
keyring=$mirror/keyrings/debian-archive-keyring.gpg
prjconf=$mirror/debian-12.prjconf
for tool in wrk nginx curl zstd python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install wrk nginx-light curl zstd)" >&2; exit 2; }
done
cargo build --release --bins -q
bin=$PWD/target/release
work=$(mktemp -d)
chmod 0755 "$work" # build sandboxes (mapped ids) and nginx workers must traverse it
export CRYO_STATE=$work/state
unset CRYO_SOCKET CRYOD_LISTEN
cryod_pid=
nginx_pid=
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -s "$work/cryod.log" ]; then
    echo "failed (exit $rc); cryod log tail:" >&2
    tail -20 "$work/cryod.log" >&2
  fi
  if [ -n "$cryod_pid" ]; then
    "$bin/cryo" --no-autostart daemon stop >/dev/null 2>&1 || kill "$cryod_pid" 2>/dev/null || true
    wait "$cryod_pid" 2>/dev/null || true
  fi
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cport=$(free_port)
nport=$(free_port)
[ "$cport" != "$nport" ] || nport=$(free_port)
curl_ok() { curl -fsS --max-time 300 "$@"; }

# --- cryod with a cache key --------------------------------------------------------------
"$bin/cryod" --state "$CRYO_STATE" --listen "127.0.0.1:$cport" --log warn >"$work/cryod.log" 2>&1 &
cryod_pid=$!
for _ in $(seq 600); do
  "$bin/cryo" --no-autostart daemon status >/dev/null 2>&1 && break
  kill -0 "$cryod_pid" 2>/dev/null || { cat "$work/cryod.log" >&2; exit 1; }
  sleep 0.1
done
"$bin/cryo" --no-autostart daemon status >/dev/null
"$bin/cryo" cache keygen bench-1 >/dev/null

# --- the synthetic package: 1 big + 100 small binary packages ----------------------------
src=$work/src/cryo-cache-bench
mkdir -p "$src/debian/source"
echo '3.0 (native)' >"$src/debian/source/format"
cat >"$src/debian/changelog" <<'EOF'
cryo-cache-bench (1.0) unstable; urgency=medium

  * Benchmark payload for the binary cache.

 -- cryo benchmarks <bench@cryo.invalid>  Thu, 01 Jan 2026 00:00:00 +0000
EOF
{
  printf 'Source: cryo-cache-bench\nSection: misc\nPriority: optional\n'
  printf 'Maintainer: cryo benchmarks <bench@cryo.invalid>\nStandards-Version: 4.6.2\n'
  printf 'Rules-Requires-Root: no\n'
  printf '\nPackage: cryo-cache-bench-big\nArchitecture: all\nDescription: 256 MiB benchmark payload\n big blob\n'
  for i in $(seq -w 1 100); do
    printf '\nPackage: cryo-cache-bench-small-%s\nArchitecture: all\nDescription: 64 KiB benchmark payload\n small blob\n' "$i"
  done
} >"$src/debian/control"
# Recipe lines start with a tab (sed turns the leading '>' into one).
sed 's/^>/\t/' >"$src/debian/rules" <<'EOF'
#!/usr/bin/make -f
MiB128 := 134217728
share = usr/share/cryo-cache-bench

build build-arch build-indep:
>mkdir -p data
>head -c $(MiB128) /dev/urandom >data/random.bin
>tar -cf - -C / usr 2>/dev/null | head -c $(MiB128) >data/usr.tar
>test "$$(stat -c %s data/usr.tar)" = $(MiB128)

clean:
>rm -rf data debian/pkg debian/files

binary binary-indep: build
>rm -rf debian/pkg
>mkdir -p debian/pkg/big/DEBIAN debian/pkg/big/$(share)
>cp data/random.bin data/usr.tar debian/pkg/big/$(share)/
>dpkg-gencontrol -pcryo-cache-bench-big -Pdebian/pkg/big
>dpkg-deb --root-owner-group -Znone --build debian/pkg/big ..
>set -e; for n in $$(seq 1 100); do \
>  i=$$(printf %03d $$n); d=debian/pkg/small-$$i; mkdir -p $$d/DEBIAN $$d/$(share); \
>  dd if=data/random.bin bs=32768 skip=$$n count=1 status=none >$$d/$(share)/small-$$i; \
>  dd if=data/usr.tar bs=32768 skip=$$((n * 7)) count=1 status=none >>$$d/$(share)/small-$$i; \
>  dpkg-gencontrol -pcryo-cache-bench-small-$$i -P$$d; \
>  dpkg-deb --root-owner-group -Znone --build $$d .. >/dev/null; \
>done

binary-arch:

.PHONY: build build-arch build-indep clean binary binary-indep binary-arch
EOF
chmod 0755 "$src/debian/rules"

"$bin/cryo" mirror add bookworm "file://$mirror/debian" --suite bookworm --keyring "$keyring" >/dev/null
snap=$("$bin/cryo" --json mirror sync bookworm | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')
echo "building the payload package (build root + 256 MiB of data)..." >&2
"$bin/cryo" --json build --snapshot "$snap" --prjconf "$prjconf" "$src" --out "$work/out" >"$work/build.json" || true
python3 - "$work/build.json" "$work" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
if b.get("status") not in ("built", "cached"):
    sys.stderr.write("payload build failed:\n" + str(b.get("log_tail", b)) + "\n")
    sys.exit(1)
debs = [o for o in b["outputs"] if o["name"].endswith(".deb")]
big = [o for o in debs if o["name"].startswith("cryo-cache-bench-big_")]
small = sorted((o for o in debs if o["name"].startswith("cryo-cache-bench-small-")), key=lambda o: o["name"])
assert len(big) == 1 and len(small) == 100, (len(big), len(small))
w = sys.argv[2]
open(f"{w}/drv", "w").write(b["derivation"] + "\n")
open(f"{w}/big", "w").write(f'{big[0]["blake3"]} {big[0]["size"]} {big[0]["name"]}\n')
with open(f"{w}/small", "w") as f:
    for o in small:
        f.write(f'{o["blake3"]} {o["size"]} {o["name"]}\n')
EOF
drv=$(cat "$work/drv")
# A typical realisation for lookups: src:base-files (one .deb, .buildinfo, .changes); its
# closure is the payload's, so the build root is reused.
"$bin/cryo" --json build --snapshot "$snap" --prjconf "$prjconf" src:base-files >"$work/bf.json" || true
bf=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["status"] in ("built", "cached"), b.get("log_tail"); print(b["derivation"])' "$work/bf.json")

# --- nginx: the same bytes as plain files --------------------------------------------------
www=$work/www
mkdir -p "$www/cache/blob" "$www/cache/drv" "$work/nginx"
while read -r digest _ name; do
  ln "$work/out/$name" "$www/cache/blob/$digest"
done < <(cat "$work/big" "$work/small")
for d in "$drv" "$bf"; do
  curl_ok "http://127.0.0.1:$cport/cache/drv/$d" >"$www/cache/drv/$d"
done
chmod -R a+rX "$www"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $www;
  }
}
EOF
nginx -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$nport/cache/drv/$drv" 2>/dev/null && break
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$work/nginx/error.log" >&2; exit 1; }
  sleep 0.1
done

# --- same bytes from both; bytes per body on the wire --------------------------------------
read -r big_digest big_size big_name <"$work/big"
curl_ok -D "$work/hdr" -o "$work/big.zst" "http://127.0.0.1:$cport/cache/blob/$big_digest"
grep -qi '^content-encoding: zstd' "$work/hdr" || { echo "cryo did not answer zstd" >&2; exit 1; }
zstd -q -d -c "$work/big.zst" | cmp - "$work/out/$big_name"
curl_ok "http://127.0.0.1:$nport/cache/blob/$big_digest" | cmp - "$work/out/$big_name"
big_wire=$(stat -c %s "$work/big.zst")
small_raw=0
small_wire=0
while read -r digest size name; do
  n=$(curl_ok -o "$work/s.zst" -w '%{size_download}' "http://127.0.0.1:$cport/cache/blob/$digest")
  zstd -q -d -c "$work/s.zst" | cmp - "$work/out/$name"
  curl_ok "http://127.0.0.1:$nport/cache/blob/$digest" | cmp - "$work/out/$name"
  small_raw=$((small_raw + size))
  small_wire=$((small_wire + n))
done <"$work/small"
sed 's|^\([0-9a-f]*\) .*|/cache/blob/\1|' "$work/small" >"$work/small.paths"
unknown=$(printf '%064d' 0)
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$cport/cache/drv/$unknown")" = 404 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nport/cache/drv/$unknown")" = 404 ]

# --- load ------------------------------------------------------------------------------------
cat >"$work/wrk.lua" <<'EOF'
-- Round robin over WRK_PATHS (one path per line) when set; print one machine-readable line.
local paths = {}
local file = os.getenv("WRK_PATHS")
if file and file ~= "" then
  for line in io.lines(file) do paths[#paths + 1] = line end
end
local i = 0
if #paths > 0 then
  request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %.0f %.0f\n", summary.requests, summary.bytes,
    summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
EOF
: >"$work/results"
# run SCENARIO SERVER CONNECTIONS SECONDS URL [PATHS]
run() {
  local threads=1
  [ "$3" -gt 1 ] && threads=2
  echo "wrk: $1 $2 c=$3 ${4}s" >&2
  WRK_PATHS=${6:-} wrk -t"$threads" -c"$3" -d"$4"s --timeout 300s -s "$work/wrk.lua" "$5" >"$work/wrk.out"
  echo "$1 $2 $3 $(grep '^RESULT' "$work/wrk.out" | cut -d' ' -f2-)" >>"$work/results"
}
for c in 1 16; do
  run big cryo "$c" "$big_duration" "http://127.0.0.1:$cport/cache/blob/$big_digest"
  run big nginx "$c" "$big_duration" "http://127.0.0.1:$nport/cache/blob/$big_digest"
done
# Peak resident memory of cryod so far (it buffers every body it serves).
cryod_peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$cryod_pid/status")
for c in 1 16; do
  run small cryo "$c" "$duration" "http://127.0.0.1:$cport/" "$work/small.paths"
  run small nginx "$c" "$duration" "http://127.0.0.1:$nport/" "$work/small.paths"
done
for c in 1 16; do
  run drv3 cryo "$c" "$duration" "http://127.0.0.1:$cport/cache/drv/$bf"
  run drv3 nginx "$c" "$duration" "http://127.0.0.1:$nport/cache/drv/$bf"
done
for c in 1 16; do
  run drv cryo "$c" "$duration" "http://127.0.0.1:$cport/cache/drv/$drv"
  run drv nginx "$c" "$duration" "http://127.0.0.1:$nport/cache/drv/$drv"
done
for c in 1 16; do
  run miss cryo "$c" "$duration" "http://127.0.0.1:$cport/cache/drv/$unknown"
  run miss nginx "$c" "$duration" "http://127.0.0.1:$nport/cache/drv/$unknown"
done

# --- report ------------------------------------------------------------------------------------
python3 - "$work/results" "$big_size" "$big_wire" "$small_raw" "$small_wire" \
  "$(stat -c %s "$www/cache/drv/$bf")" "$(stat -c %s "$www/cache/drv/$drv")" "$cryod_peak_kib" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    scen, server, conns, req, byts, dur_us, errs, status_errs, p50, p99 = line.split()
    rows[(scen, int(conns), server)] = dict(req=int(req), bytes=int(byts), secs=int(dur_us) / 1e6,
                                           errs=int(errs), status=int(status_errs),
                                           p50=float(p50) / 1000, p99=float(p99) / 1000)
big_size, big_wire, small_raw, small_wire, json3, json103, peak_kib = map(int, sys.argv[2:9])
size = {"big": big_size, "small": small_raw / 100}
bad = [(k, r) for k, r in rows.items() if r["errs"] or (r["status"] if k[0] != "miss" else r["status"] != r["req"])]
if bad:
    sys.exit(f"unexpected errors: {bad}")
MB = 1e6
print(f"Bytes per body: big blob {big_size / MB:.1f} MB raw (nginx) vs {big_wire / MB:.1f} MB zstd (cryo, "
      f"{big_wire / big_size:.0%}); small blobs {small_raw / 100 / 1024:.1f} KiB raw vs "
      f"{small_wire / 100 / 1024:.1f} KiB zstd on average ({small_wire / small_raw:.0%}).")
print(f"cryod peak RSS after the big-blob runs: {peak_kib / 1024 ** 2:.1f} GiB.")
print()
print("| blob | clients | cryo bodies/s | nginx bodies/s | cryo MB/s (content) | nginx MB/s (content) "
      "| cryo MB/s (wire) | nginx MB/s (wire) | cryo/nginx |")
print("|---|---|---|---|---|---|---|---|---|")
for scen, label in (("big", "256 MiB"), ("small", "100 × 64 KiB")):
    for c in (1, 16):
        cr, ng = rows[(scen, c, "cryo")], rows[(scen, c, "nginx")]
        rate = lambda r: r["req"] / r["secs"]
        fmt = lambda x: f"{x:,.1f}" if x < 100 else f"{x:,.0f}"
        print(f"| {label} | {c} | {fmt(rate(cr))} | {fmt(rate(ng))} | {fmt(rate(cr) * size[scen] / MB)} "
              f"| {fmt(rate(ng) * size[scen] / MB)} | {fmt(cr['bytes'] / cr['secs'] / MB)} "
              f"| {fmt(ng['bytes'] / ng['secs'] / MB)} | {rate(cr) / rate(ng):.2f} |")
print()
print("| `GET /cache/drv/<id>` | clients | cryo req/s | nginx req/s | cryo p50 / p99 (ms) | nginx p50 / p99 (ms) | cryo/nginx |")
print("|---|---|---|---|---|---|---|")
for scen, label in (("drv3", f"realised, 3 outputs (base-files, {json3:,} B JSON)"),
                    ("drv", f"realised, 103 outputs (payload, {json103:,} B JSON)"),
                    ("miss", "unknown derivation (404)")):
    for c in (1, 16):
        cr, ng = rows[(scen, c, "cryo")], rows[(scen, c, "nginx")]
        rc, rn = cr["req"] / cr["secs"], ng["req"] / ng["secs"]
        print(f"| {label} | {c} | {rc:,.0f} | {rn:,.0f} | {cr['p50']:.2f} / {cr['p99']:.2f} "
              f"| {ng['p50']:.2f} / {ng['p99']:.2f} | {rc / rn:.2f} |")
EOF
