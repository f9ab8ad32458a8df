"""GET /metrics: the Prometheus text exposition, parsed strictly.

Every line must be a HELP, a TYPE or a sample with a valid metric name,
valid labels and a valid value; every sample belongs to a family declared
by HELP and TYPE before it; a family is declared once; counters end in
_total; histogram buckets are cumulative, end with le="+Inf" and that
bucket equals _count.  Then the figures themselves: requests counted by
route template (never by concrete path), failed logins, the audit trail's
last seq and checkpoint age, the pool.
"""

import base64
import hashlib
import math
import re
import socket
import unittest

from harness import ServerTestCase, free_port, strong_password

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
VALUE = re.compile(r"(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_labels(text, pos, line):
    """Labels from text[pos] == '{' to the closing '}'; returns (dict, pos after '}')."""
    labels = {}
    assert text[pos] == "{", line
    pos += 1
    while True:
        if text[pos] == "}":
            return labels, pos + 1
        eq = text.index("=", pos)
        name = text[pos:eq]
        assert LABEL.match(name), "bad label name %r in %r" % (name, line)
        assert name not in labels, "label %r twice in %r" % (name, line)
        assert text[eq + 1] == '"', "label value not quoted in %r" % line
        i, value = eq + 2, []
        while text[i] != '"':
            if text[i] == "\\":
                esc = text[i + 1]
                assert esc in ('\\', '"', 'n'), "bad escape in %r" % line
                value.append("\n" if esc == "n" else esc)
                i += 2
            else:
                assert text[i] != "\n"
                value.append(text[i])
                i += 1
        labels[name] = "".join(value)
        pos = i + 1
        if text[pos] == ",":
            pos += 1
        else:
            assert text[pos] == "}", "expected , or } in %r" % line


def parse_exposition(text):
    """{family: {"type", "help", "samples": [(name, labels, value)]}}, checked strictly."""
    assert text.endswith("\n"), "the exposition must end with a line break"
    families = {}
    current = None
    for line in text[:-1].split("\n"):
        assert line, "empty line"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert NAME.match(name), line
            assert name not in families, "family %s declared twice" % name
            families[name] = {"help": help_text, "type": None, "samples": []}
            current = name
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            assert name == current, "TYPE %s without its HELP just before" % name
            assert typ in TYPES, line
            assert families[name]["type"] is None, "TYPE twice for %s" % name
            families[name]["type"] = typ
            continue
        assert not line.startswith("#"), "unexpected comment %r" % line
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        assert m, "bad sample %r" % line
        name, pos = m.group(0), m.end()
        labels = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = parse_labels(line, pos, line)
        assert line[pos] == " ", "no space before the value in %r" % line
        value = line[pos + 1:]
        assert VALUE.match(value), "bad value in %r" % line
        fam = current
        assert fam is not None, "sample before any family: %r" % line
        typ = families[fam]["type"]
        assert typ is not None, "family %s has no TYPE" % fam
        if typ == "histogram":
            assert name in (fam + "_bucket", fam + "_sum", fam + "_count"), \
                "%s is not a sample of histogram %s" % (name, fam)
        else:
            assert name == fam, "sample %s under family %s" % (name, fam)
        families[fam]["samples"].append((name, labels, float(value)))
    for fam, f in families.items():
        assert f["type"] is not None, fam
        if f["type"] == "counter":
            assert fam.endswith("_total"), "counter %s must end in _total" % fam
            for _, _, v in f["samples"]:
                assert v >= 0 and not math.isnan(v), fam
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"])
    return families


def check_histogram(fam, samples):
    series = {}
    for name, labels, v in samples:
        key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            assert "le" in labels, "bucket without le in %s" % fam
            le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            s["buckets"].append((le, v))
        elif name.endswith("_sum"):
            assert "le" not in labels
            s["sum"] = v
        else:
            assert "le" not in labels
            s["count"] = v
    for key, s in series.items():
        b = s["buckets"]
        assert b, "%s %s has no buckets" % (fam, key)
        les = [le for le, _ in b]
        assert les == sorted(les) and len(set(les)) == len(les), "%s: buckets out of order" % fam
        assert les[-1] == math.inf, "%s %s: the last bucket must be +Inf" % (fam, key)
        counts = [v for _, v in b]
        assert all(a <= c for a, c in zip(counts, counts[1:])), "%s %s: buckets not cumulative" % (fam, key)
        assert s["count"] is not None and s["sum"] is not None, "%s %s: _sum or _count missing" % (fam, key)
        assert counts[-1] == s["count"], "%s %s: +Inf %s != _count %s" % (fam, key, counts[-1], s["count"])
        assert s["sum"] >= 0


def value(families, fam, **labels):
    total = None
    for name, l, v in families[fam]["samples"]:
        if name == fam and all(l.get(k) == x for k, x in labels.items()):
            total = (total or 0) + v
    return total


class Metrics(ServerTestCase):

    def scrape(self, token):
        r = self.client(token=token).get("/metrics")
        self.assertStatus(r, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers)
        return parse_exposition(r.body.decode("utf-8"))

    def test_exposition_is_strict_and_counts(self):
        admin = self.srv.admin_client()
        token = admin.create_token("prometheus")
        # a few requests of a known route, one of them with a concrete id
        for _ in range(3):
            self.assertStatus(self.client(token=token).get("/api/v1/assets"), 200)
        self.assertEqual(self.client(token=token).get("/api/v1/assets/424242").status, 404)
        self.assertEqual(self.client().get("/no/such/path").status, 404)
        # failed logins
        for _ in range(2):
            self.assertEqual(self.client().login("admin", "not-the-password-%s" % strong_password()).status, 401)
        first = self.scrape(token)

        self.assertGreaterEqual(value(first, "otcm_http_requests_total", method="GET",
                                      route="/api/v1/assets", status="200"), 3)
        self.assertGreaterEqual(value(first, "otcm_http_requests_total", method="GET",
                                      route="/api/v1/assets/{id}", status="404"), 1)
        self.assertGreaterEqual(value(first, "otcm_http_requests_total", route="unmatched",
                                      status="404"), 1)
        for _, labels, _ in first["otcm_http_requests_total"]["samples"]:
            self.assertNotIn("424242", labels["route"], "a concrete path became a label")
            self.assertNotIn("/no/such", labels["route"])
        self.assertGreaterEqual(value(first, "otcm_login_failures_total"), 2)
        self.assertIn("otcm_http_request_duration_seconds", first)
        self.assertEqual(first["otcm_http_request_duration_seconds"]["type"], "histogram")
        self.assertGreater(value(first, "otcm_audit_last_seq"), 0)
        self.assertEqual(value(first, "otcm_db_pool_waiting"), 0)
        self.assertGreaterEqual(value(first, "otcm_db_pool_connections"), 1)
        # the scrape itself holds a connection while it reads the database, not before
        self.assertGreaterEqual(value(first, "otcm_db_pool_in_use"), 0)

        # a signed checkpoint shows with its age
        self.assertStatus(admin.post("/api/v1/audit/checkpoint", json={}), 201)
        second = self.scrape(token)
        self.assertGreater(value(second, "otcm_audit_checkpoint_tree_size"), 0)
        age = value(second, "otcm_audit_checkpoint_age_seconds")
        self.assertIsNotNone(age)
        self.assertGreaterEqual(age, 0)
        self.assertLess(age, 120)
        # counters only grow
        self.assertGreater(value(second, "otcm_http_requests_total", method="GET", route="/metrics",
                                 status="200"), 0)
        self.assertGreaterEqual(value(second, "otcm_http_requests_total"),
                                value(first, "otcm_http_requests_total"))

    def test_readback_states(self):
        admin = self.srv.admin_client()
        token = admin.create_token("prometheus-readbacks")
        pw = strong_password()
        self.assertStatus(admin.post("/api/v1/users", json={"username": "metrics-agent", "display_name": "Agent",
                                                           "role": "agent", "password": pw}), 201)
        c = self.client()
        self.assertStatus(c.login("metrics-agent", pw), 200)
        agent = self.client(token=c.create_token("agent"))
        program = "PROGRAM main END_PROGRAM\n"
        ids = {}
        for name in ("never", "good", "failed"):
            path = "plant/metrics/%s/plc" % name
            r = admin.post("/api/v1/assets", json={"path": path, "type": "plc"})
            self.assertStatus(r, 201)
            ids[name] = (r.json["id"], path)
            self.assertStatus(admin.post("/api/v1/assets/%d/versions" % r.json["id"], fields={"message": "baseline"},
                                         files=[("file", "main.st", program)]), 201)
            self.assertStatus(admin.put("/api/v1/assets/%d/readback-settings" % r.json["id"],
                                        json={"agent": "metrics-agent"}), 200)
        before = self.scrape(token)
        self.assertEqual(before["otcm_readback_assets"]["type"], "gauge")
        self.assertEqual(value(before, "otcm_readback_assets", state="never_read"), 3)
        self.assertEqual(value(before, "otcm_readback_assets", state="in_sync"), 0)
        self.assertIsNone(value(before, "otcm_readback_oldest_good_age_seconds", state="never_read"))

        good = {"asset": ids["good"][1], "seq": 1, "collector": "folder", "ok": True,
                "files": [{"path": "main.st", "sha256": hashlib.sha256(program.encode()).hexdigest(),
                           "content": base64.b64encode(program.encode()).decode()}]}
        self.assertStatus(agent.post("/api/v1/agent/readbacks", json=good), 201)
        failed = {"asset": ids["failed"][1], "seq": 2, "collector": "command", "ok": False,
                  "error": "the export timed out"}
        self.assertStatus(agent.post("/api/v1/agent/readbacks", json=failed), 201)
        after = self.scrape(token)
        for state, n in (("never_read", 1), ("in_sync", 1), ("read_failed", 1), ("drift", 0), ("stale", 0),
                         ("pending_release", 0)):
            self.assertEqual(value(after, "otcm_readback_assets", state=state), n, state)
        age = value(after, "otcm_readback_oldest_good_age_seconds", state="in_sync")
        self.assertIsNotNone(age)
        self.assertGreaterEqual(age, 0)
        self.assertLess(age, 120)
        # a failed device with no good read-back ever has no age to show
        self.assertIsNone(value(after, "otcm_readback_oldest_good_age_seconds", state="read_failed"))

    def test_who_may_scrape(self):
        admin = self.srv.admin_client()
        self.assertEqual(self.client().get("/metrics").status, 401)
        tokens = {}
        for role in ("auditor", "engineer", "agent"):
            pw = strong_password()
            self.assertStatus(admin.post("/api/v1/users", json={
                "username": "m-" + role, "display_name": role, "role": role, "password": pw}), 201)
            c = self.client()
            self.assertStatus(c.login("m-" + role, pw), 200)
            tokens[role] = c.create_token("scrape")
        self.scrape(tokens["auditor"])
        for role in ("engineer", "agent"):
            r = self.client(token=tokens[role]).get("/metrics")
            self.assertEqual(r.status, 403, r)
            self.assertEqual(r.json["rule"], "role-permission")

    def test_parser_rejects_what_prometheus_would(self):
        bad = [
            "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"v\"} one\n",
            "# HELP a x\n# TYPE a gauge\nb 1\n",
            "# HELP a_total x\n# TYPE a_total counter\na_total{1l=\"v\"} 1\n",
            "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
            "h_sum 1\nh_count 1\n",
            "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 1\nh_count 3\n",
            "# HELP c x\n# TYPE c counter\nc 1\n",
        ]
        for text in bad:
            with self.assertRaises((AssertionError, ValueError, IndexError), msg=text):
                parse_exposition(text)


class MetricsListen(ServerTestCase):
    """--metrics-listen: /metrics without credentials on its own address, and nothing else there."""

    metrics_port = free_port()
    server_args = ["--metrics-listen", "127.0.0.1:%d" % metrics_port]

    def raw(self, request):
        with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=10) as s:
            s.sendall(request)
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1])
        return status, head.decode(), body

    def test_scrape_without_credentials(self):
        self.assertStatus(self.client().get("/healthz"), 200)
        status, head, body = self.raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 200, head)
        self.assertIn("Content-Type: text/plain; version=0.0.4", head)
        fams = parse_exposition(body.decode("utf-8"))
        self.assertGreaterEqual(value(fams, "otcm_http_requests_total", route="/healthz", status="200"), 1)
        self.assertGreater(value(fams, "otcm_audit_last_seq"), 0)
        # the listener serves nothing else, and the main address still wants a token
        self.assertEqual(self.raw(b"GET /api/v1/users HTTP/1.1\r\n\r\n")[0], 404)
        self.assertEqual(self.raw(b"GET /metricsx HTTP/1.1\r\n\r\n")[0], 404)
        self.assertEqual(self.raw(b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")[0], 405)
        self.assertEqual(self.raw(b"\x00garbage")[0], 400)
        self.assertEqual(self.client().get("/metrics").status, 401)
        # a scrape writes nothing to the audit trail
        admin = self.srv.admin_client()
        head = lambda: max([0] + [e["seq"] for e in admin.get("/api/v1/audit?limit=500&after=0").json["items"]])
        before = head()
        for _ in range(3):
            self.assertEqual(self.raw(b"GET /metrics HTTP/1.1\r\n\r\n")[0], 200)
        self.assertEqual(head(), before)


if __name__ == "__main__":
    unittest.main()
