#!/usr/bin/env python3
"""A loopback HTTP proxy that corrupts binary-cache blobs, for cryo's end-to-end tests.

Usage: tamper_proxy.py UPSTREAM_BASE_URL PORT_FILE [MODE]

Forwards every GET to UPSTREAM_BASE_URL + path. MODE `cache` (default): bodies of
/cache/blob/... answers get one byte flipped (headers unchanged), so a client that
re-hashes what it receives must refuse them. MODE `packages`: apt index files (Packages*
and by-hash paths under dists/) get an extra stanza appended (compressed ones a flipped
byte), so apt must refuse them against the signed Release. Everything else passes
through untouched.
"""
import http.server
import os
import sys
import urllib.error
import urllib.request

upstream, port_file = sys.argv[1].rstrip("/"), sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "cache"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            with urllib.request.urlopen(upstream + self.path) as r:
                status, headers, body = r.status, r.getheaders(), r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers.items(), e.read()
        if mode == "cache" and self.path.startswith("/cache/blob/") and status == 200 and body:
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        name = self.path.rsplit("/", 1)[-1]
        index = "/dists/" in self.path and ("/by-hash/" in self.path or name.startswith("Packages"))
        if mode == "packages" and index and status == 200 and body:
            if name == "Packages":
                body = body + b"\nPackage: evil\nVersion: 6.6.6\nArchitecture: all\nFilename: pool/evil.deb\nSize: 1\nSHA256: " + b"0" * 64 + b"\n"
            else:
                body = body[:-1] + bytes([body[-1] ^ 0xFF])
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
