#!/usr/bin/env python3
"""bench/scale_client.py - the HTTP side of bench/scale.sh.

  scale_client.py token PORT USER PASSWORD
      log in and print a new bearer token
  scale_client.py latency PORT TOKEN N [NAME PATH]...
      GET each PATH N times over one keep-alive connection (after 5 unmeasured
      requests); prints one JSON line per NAME: p50, p99 and mean in ms, and the
      number of items of the last answer
  scale_client.py once PORT TOKEN N PATH
      GET PATH N times, each on a new connection; prints the median seconds and
      the size of the last answer (reports, evidence bundles)
  scale_client.py bundle-change PORT ADMIN_TOKEN VERSIONS
      two new assets, an engineer and an approver, and a change over both
      assets with VERSIONS versions uploaded to each under it; prints its key

Only the standard library; every non-2xx answer stops the run with its body.
"""
import http.client
import json
import secrets
import statistics
import sys
import time
import uuid


def die(msg):
    sys.stderr.write("scale_client: %s\n" % msg)
    sys.exit(1)


class Conn:
    def __init__(self, port, token=None):
        self.port = port
        self.token = token
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookie = None
        self.csrf = None

    def call(self, method, path, body=None, ctype=None, expect=(200, 201)):
        hdrs = {}
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        if self.cookie:
            hdrs["Cookie"] = self.cookie
            if self.csrf:
                hdrs["X-CSRF-Token"] = self.csrf
        if body is not None:
            if ctype is None:
                body = json.dumps(body).encode()
                ctype = "application/json"
            hdrs["Content-Type"] = ctype
        self.c.request(method, path, body=body, headers=hdrs)
        r = self.c.getresponse()
        data = r.read()
        if r.status not in expect:
            die("%s %s answered %d: %s" % (method, path, r.status, data[:400].decode("utf-8", "replace")))
        if r.getheader("Set-Cookie"):
            self.cookie = r.getheader("Set-Cookie").split(";")[0]
        return data


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v)).encode())
    for name, filename, content in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name, filename)).encode())
        out.append(content.encode() + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=" + boundary, b"".join(out)


def token(port, user, password):
    c = Conn(port)
    s = json.loads(c.call("POST", "/api/v1/session", {"username": user, "password": password}))
    c.csrf = s.get("csrf_token")
    t = json.loads(c.call("POST", "/api/v1/tokens", {"name": "scale-bench-" + secrets.token_hex(4)}))
    return t["token"]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def latency(port, tok, n, pairs):
    c = Conn(port, tok)
    for name, path in pairs:
        for _ in range(5):
            c.call("GET", path)
        times = []
        body = b""
        for _ in range(n):
            t0 = time.perf_counter()
            body = c.call("GET", path)
            times.append((time.perf_counter() - t0) * 1000.0)
        doc = json.loads(body)
        items = len(doc.get("items", [])) if isinstance(doc, dict) else len(doc)
        print(json.dumps({"name": name, "path": path, "p50": pct(times, 50), "p99": pct(times, 99),
                          "mean": statistics.mean(times), "items": items}))


def once(port, tok, n, path):
    times = []
    size = 0
    for _ in range(n):
        c = Conn(port, tok)
        t0 = time.perf_counter()
        size = len(c.call("GET", path))
        times.append(time.perf_counter() - t0)
    print("%.4f %d" % (statistics.median(times), size))


def bundle_change(port, admin_token, nversions):
    admin = Conn(port, admin_token)
    tag = secrets.token_hex(3)
    pw = {}
    tokens = {}
    for role in ("engineer", "approver"):
        user = "bench-%s-%s" % (role[:4], tag)
        pw[role] = "Aa1!" + secrets.token_urlsafe(24)
        admin.call("POST", "/api/v1/users", {"username": user, "display_name": user, "role": role,
                                            "password": pw[role]})
        tokens[role] = token(port, user, pw[role])
    eng = Conn(port, tokens["engineer"])
    appr = Conn(port, tokens["approver"])
    assets = []
    for i in range(2):
        a = json.loads(admin.call("POST", "/api/v1/assets", {"path": "bench-%s/plc-%d" % (tag, i), "type": "plc"}))
        ctype, body = multipart({"message": "baseline"}, [("file", "main.st", "PROGRAM main\nEND_PROGRAM\n")])
        admin.call("POST", "/api/v1/assets/%d/versions" % a["id"], body, ctype)
        assets.append(a["id"])
    ch = json.loads(eng.call("POST", "/api/v1/changes", {
        "type": "normal", "title": "Bench change over two assets", "reason": "benchmark", "risk": "low",
        "implementation_plan": "upload", "rollback_plan": "redeploy main", "affected_assets": assets}))
    key = ch["key"]
    eng.call("POST", "/api/v1/changes/%s/transitions" % key, {"to": "submitted"})
    appr.call("POST", "/api/v1/changes/%s/signatures" % key, {"meaning": "authorised", "password": pw["approver"]})
    eng.call("POST", "/api/v1/changes/%s/transitions" % key, {"to": "implementing"})
    for v in range(nversions):
        for aid in assets:
            text = "PROGRAM main\nVAR x : INT := %d; END_VAR\n" % v + "(* line *)\n" * 200 + "END_PROGRAM\n"
            ctype, body = multipart({"message": "work %d" % v, "change": key}, [("file", "main.st", text)])
            eng.call("POST", "/api/v1/assets/%d/versions" % aid, body, ctype)
    print(key)


def main(argv):
    if len(argv) < 2:
        die("usage: see the top of bench/scale_client.py")
    cmd = argv[1]
    if cmd == "token" and len(argv) == 5:
        print(token(int(argv[2]), argv[3], argv[4]))
    elif cmd == "latency" and len(argv) >= 7 and len(argv) % 2 == 1:
        latency(int(argv[2]), argv[3], int(argv[4]), list(zip(argv[5::2], argv[6::2])))
    elif cmd == "once" and len(argv) == 6:
        once(int(argv[2]), argv[3], int(argv[4]), argv[5])
    elif cmd == "bundle-change" and len(argv) == 5:
        bundle_change(int(argv[2]), argv[3], int(argv[4]))
    else:
        die("usage: see the top of bench/scale_client.py")


if __name__ == "__main__":
    main(sys.argv)
