#!/usr/bin/env python3
"""A loopback HTTP file server with fault injection, for cryo's end-to-end tests.

Usage: flaky_http.py ROOT PORT_FILE RULES_JSON LOG_FILE

Serves ROOT on 127.0.0.1 (a free port, written to PORT_FILE). RULES_JSON maps a fault to
a list of URL paths (relative to ROOT, no leading slash):
  "status500"       answer 500 every time
  "status500_once"  answer 500 the first time, then serve normally
  "truncate"        announce the full Content-Length but send only half the body
  "truncate_once"   truncate the first time only
  "status404"       answer 404
Every request path is appended to LOG_FILE (one per line).
"""
import http.server
import json
import os
import sys
import threading

root, port_file = sys.argv[1], sys.argv[2]
rules = json.load(open(sys.argv[3]))
seen = {}
lock = threading.Lock()
log_path = sys.argv[4]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=root, **kw)

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.lstrip("/").split("?")[0]
        with lock:
            n = seen.get(path, 0)
            seen[path] = n + 1
            with open(log_path, "a") as f:
                f.write(path + "\n")
        if path in rules.get("status500", []) or (path in rules.get("status500_once", []) and n == 0):
            self.send_error(500, "injected failure")
            return
        if path in rules.get("status404", []):
            self.send_error(404, "injected not found")
            return
        if path in rules.get("truncate", []) or (path in rules.get("truncate_once", []) and n == 0):
            full = os.path.join(root, path)
            data = open(full, "rb").read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
