"""A webhook receiver for tests/integration/test_webhooks.sh: answers HTTP 500 to the first
FAIL_FIRST POSTs and 200 afterwards, verifies each X-Relapsewatch-Signature (t=...,v1=hex of
HMAC-SHA256 over "t.body" with one of the secrets in DIR/secrets, one a line, read at each
request), and writes
each request as DIR/req-N.json {status, valid, t, event, delivery, body}. Writes its port to
DIR/port. With CERT and KEY (PEM) it serves HTTPS.
Usage: python3 receiver.py DIR FAIL_FIRST [CERT KEY]"""
import hashlib
import hmac
import json
import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

out, fail_first = sys.argv[1], int(sys.argv[2])
count = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        sig = dict(p.split("=", 1) for p in self.headers.get("X-Relapsewatch-Signature", "").split(",") if "=" in p)
        try:
            with open(os.path.join(out, "secrets"), "rb") as f:
                secrets = f.read().split()
        except OSError:
            secrets = []
        signed = sig.get("t", "").encode() + b"." + body
        valid = any(hmac.compare_digest(hmac.new(s, signed, hashlib.sha256).hexdigest(),
                                        sig.get("v1", "")) for s in secrets)
        status = 500 if count <= fail_first else 200
        with open(os.path.join(out, "req-%d.json" % count), "w") as f:
            json.dump({"status": status, "valid": valid, "t": sig.get("t"),
                       "event": self.headers.get("X-Relapsewatch-Event"),
                       "delivery": self.headers.get("X-Relapsewatch-Delivery"),
                       "content_type": self.headers.get("Content-Type"),
                       "body": json.loads(body)}, f)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


srv = HTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(os.path.join(out, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
srv.serve_forever()
