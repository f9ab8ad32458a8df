"""Signed webhooks against a local receiver.

The receiver (http.server on 127.0.0.1) checks what any Standard Webhooks
consumer checks: the signature (HMAC-SHA256 over id.timestamp.body with
the whsec_ secret's key), a timestamp within five minutes, and no message
id accepted twice (a replay).  The server is started with
--webhook-private-networks allow, since the receiver is on loopback; a
class with the default shows that loopback is refused.  Two nodes on one
PostgreSQL show that exactly one delivers, that the other takes over, and
(with the database's clock moved back for one subscription, never a
client-settable clock) that a subscription failing for days is disabled.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import ssl
import threading
import time
import unittest
import urllib.parse

from harness import Server, ServerTestCase, free_port, make_tmpdir, strong_password
from test_failover import TwoNodes

WEBHOOK_LEADER_KEY = 8031153355318847595   # storage/leader.h LEADER_WEBHOOK_KEY
TOLERANCE = 300


def wait_for(what, fn, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def verify(secret, msg_id, timestamp, body, signature_header):
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, b"%s.%s.%s" % (msg_id.encode(), timestamp.encode(), body), hashlib.sha256).digest()
    want = base64.b64encode(mac).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], want)
               for s in signature_header.split(" "))


class Receiver:
    """A webhook receiver on 127.0.0.1: verifies, refuses replays, records what it accepted."""

    def __init__(self, port=None, tls_dir=None):
        self.port = port or free_port()
        self.tls_dir = tls_dir     # serve https with tls_dir/server.pem and server.key
        self.secret = None
        self.answer = 200          # the status to answer with a valid delivery
        self.delay = 0             # seconds to wait before answering
        self.accepted = []         # (msg_id, timestamp, body dict), in arrival order
        self.rejected = []         # (reason, msg_id)
        self.lock = threading.Lock()
        self.httpd = None

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(receiver.delay)
                msg_id = self.headers.get("webhook-id", "")
                ts = self.headers.get("webhook-timestamp", "")
                sig = self.headers.get("webhook-signature", "")
                with receiver.lock:
                    status, reason = receiver.answer, None
                    if not receiver.secret or not verify(receiver.secret, msg_id, ts, body, sig):
                        status, reason = 401, "signature"
                    elif not ts.isdigit() or abs(time.time() - int(ts)) > TOLERANCE:
                        status, reason = 400, "timestamp"
                    elif any(m == msg_id for m, _, _ in receiver.accepted):
                        status, reason = 409, "replay"
                    elif self.headers.get("Content-Type") != "application/json":
                        status, reason = 415, "content-type"
                    if reason:
                        receiver.rejected.append((reason, msg_id))
                    elif status // 100 == 2:
                        receiver.accepted.append((msg_id, ts, json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        if self.tls_dir:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(self.tls_dir, "server.pem"), os.path.join(self.tls_dir, "server.key"))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d/hook" % ("https" if self.tls_dir else "http", self.port)

    def seqs(self):
        with self.lock:
            return [b["data"]["seq"] for _, _, b in self.accepted]


def audit_events(client):
    events, after = [], 0
    while True:
        r = client.get("/api/v1/audit?after=%d&limit=500" % after)
        assert r.status == 200, r
        page = r.json["items"]
        if not page:
            return events
        events += page
        after = page[-1]["seq"]


class WebhookDelivery(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        from test_syslog import make_certificates
        # a receiver certificate from a throwaway CA that --webhook-ca trusts, and one from another
        cls.pki = make_tmpdir("otcm-it-hooks-pki-")
        cls.trusted, cls.untrusted = os.path.join(cls.pki, "trusted"), os.path.join(cls.pki, "untrusted")
        for d in (cls.trusted, cls.untrusted):
            os.makedirs(d)
            make_certificates(d)
        cls.server_args = ["--webhook-private-networks", "allow",
                           "--webhook-ca", os.path.join(cls.trusted, "ca.pem")]
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.pki, ignore_errors=True)

    def subscribe(self, receiver, events):
        r = self.admin.post("/api/v1/webhooks", json={"url": receiver.url, "events": events,
                                                      "description": "test"})
        self.assertStatus(r, 201)
        self.assertTrue(r.json["secret"].startswith("whsec_"))
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        receiver.secret = r.json["secret"]
        return r.json

    def asset(self):
        type(self).n += 1
        r = self.admin.post("/api/v1/assets", json={"path": "hooks/line/plc-%d" % self.n, "type": "plc"})
        self.assertStatus(r, 201)
        return r.json["id"]

    def deliveries(self, hook_id):
        r = self.admin.get("/api/v1/webhooks/%d/deliveries?limit=500" % hook_id)
        self.assertStatus(r, 200)
        return r.json["items"]

    def test_signed_deliveries_in_order_with_seq_and_hash(self):
        rx = Receiver().start()
        self.addCleanup(rx.stop)
        hook = self.subscribe(rx, ["asset.*"])
        # the secret is shown once: never in a read or the list
        self.assertNotIn("secret", self.admin.get("/api/v1/webhooks/%d" % hook["id"]).json)
        self.assertNotIn("secret", json.dumps(self.admin.get("/api/v1/webhooks").json))
        ids = [self.asset() for _ in range(3)]
        self.assertStatus(self.admin.post("/api/v1/users", json={
            "username": "not-an-asset", "display_name": "N", "role": "qa", "password": strong_password()}), 201)
        ids.append(self.asset())
        got = wait_for("four asset events", lambda: len(rx.accepted) >= 4 and list(rx.accepted))
        time.sleep(1.0)
        self.assertEqual(len(rx.accepted), 4, "only the matching events, each once: %r" % rx.seqs())
        self.assertEqual(rx.rejected, [])
        trail = {e["seq"]: e for e in audit_events(self.admin)}
        seqs = rx.seqs()
        self.assertEqual(seqs, sorted(seqs))
        for msg_id, ts, body in got:
            data = body["data"]
            self.assertEqual(msg_id, "evt_%d" % data["seq"])
            self.assertEqual(body["type"], "asset.create")
            self.assertEqual(data["action"], "asset.create")
            ev = trail[data["seq"]]
            self.assertEqual(data["hash"], ev["hash"], "the body carries the event's chain hash")
            self.assertEqual(data["actor"], "admin")
            self.assertEqual(data["object_type"], "asset")
        self.assertEqual([int(b["data"]["object_id"]) for _, _, b in got], ids)
        log = self.deliveries(hook["id"])
        self.assertEqual(len(log), 4)
        self.assertTrue(all(d["status"] == 200 and d["error"] is None and d["attempt"] == 1 for d in log))
        self.assertEqual([d["seq"] for d in log], sorted(seqs, reverse=True))
        # the subscription's mark and the metrics agree: nothing left behind
        one = self.admin.get("/api/v1/webhooks/%d" % hook["id"]).json
        self.assertTrue(one["enabled"])
        self.assertIsNone(one["failing_since"])
        self.assertIsNotNone(one["last_success_at"])

    def test_outage_then_recovery_delivers_everything_in_order(self):
        rx = Receiver()
        hook = self.subscribe(rx, ["asset.create"])
        ids = [self.asset() for _ in range(3)]       # the receiver is not listening
        wait_for("a failed attempt", lambda: any(d["error"] for d in self.deliveries(hook["id"])))
        log = self.deliveries(hook["id"])
        self.assertIsNone(log[0]["status"])
        self.assertTrue(all(d["seq"] == log[-1]["seq"] for d in log), "later events wait behind the first")
        failing = self.admin.get("/api/v1/webhooks/%d" % hook["id"]).json
        self.assertIsNotNone(failing["failing_since"])
        self.assertGreaterEqual(failing["attempts"], 1)

        # up, but answering 503: still a failure, with its status in the log
        rx.answer = 503
        rx.start()
        self.addCleanup(rx.stop)
        wait_for("a 503 in the log", lambda: any(d["status"] == 503 for d in self.deliveries(hook["id"])),
                 timeout=90)
        self.assertEqual(rx.accepted, [])
        ids.append(self.asset())
        rx.answer = 204
        got = wait_for("all four after recovery", lambda: len(rx.accepted) >= 4 and list(rx.accepted),
                       timeout=90)
        time.sleep(1.0)
        self.assertEqual([int(b["data"]["object_id"]) for _, _, b in rx.accepted], ids,
                         "every event, in order, once")
        self.assertEqual([r for r in rx.rejected if r[0] != "signature"], [])
        retried = [d for d in self.deliveries(hook["id"]) if d["seq"] == got[0][2]["data"]["seq"]]
        self.assertEqual(sorted(d["attempt"] for d in retried), list(range(1, len(retried) + 1)))
        self.assertEqual(len({d["message_id"] for d in retried}), 1, "a retry keeps its webhook-id")
        ok = self.admin.get("/api/v1/webhooks/%d" % hook["id"]).json
        self.assertIsNone(ok["failing_since"])
        self.assertEqual(ok["attempts"], 0)

    def test_a_slow_receiver_holds_up_no_other(self):
        slow, fast = Receiver().start(), Receiver().start()
        self.addCleanup(slow.stop)
        self.addCleanup(fast.stop)
        slow.delay = 8
        self.subscribe(slow, ["asset.create"])      # the older subscription, asked first
        self.subscribe(fast, ["asset.create"])
        started = time.monotonic()
        made = self.asset()
        got = wait_for("the fast receiver", lambda: list(fast.accepted), timeout=30)
        self.assertLess(time.monotonic() - started, 5, "the slow receiver held up the fast one")
        self.assertEqual(int(got[0][2]["data"]["object_id"]), made)
        wait_for("the slow receiver", lambda: slow.accepted, timeout=30)

    def test_https_receivers_certificate_is_verified(self):
        good = Receiver(tls_dir=self.trusted).start()
        self.addCleanup(good.stop)
        bad = Receiver(tls_dir=self.untrusted).start()
        self.addCleanup(bad.stop)
        hook_good = self.subscribe(good, ["asset.create"])
        bad_hook = self.admin.post("/api/v1/webhooks", json={"url": bad.url, "events": ["asset.create"]})
        self.assertStatus(bad_hook, 201)
        bad.secret = bad_hook.json["secret"]
        made = self.asset()
        got = wait_for("the https delivery", lambda: list(good.accepted))
        self.assertEqual(int(got[0][2]["data"]["object_id"]), made)
        self.assertEqual(self.deliveries(hook_good["id"])[0]["status"], 200)
        log = wait_for("the refused https delivery", lambda: self.deliveries(bad_hook.json["id"]))
        self.assertIsNone(log[0]["status"])
        self.assertRegex(log[0]["error"], "(?i)certificate")
        self.assertEqual(bad.accepted, [])

    def test_bad_input_is_refused_and_changes_nothing(self):
        before = self.admin.get("/api/v1/webhooks").json["items"]
        trail = len(audit_events(self.admin))
        cases = [
            ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
            ({"url": "file:///etc/passwd", "events": ["*"]}, "url"),
            ({"url": "https://user:pw@example.com/", "events": ["*"]}, "url"),
            ({"url": "https://", "events": ["*"]}, "url"),
            ({"url": "https://example.com:99999/", "events": ["*"]}, "url"),
            ({"url": "https://exa mple.com/", "events": ["*"]}, "url"),
            ({"url": "https://example.com/" + "x" * 3000, "events": ["*"]}, "url"),
            ({"events": ["*"]}, "url"),
            ({"url": "https://example.com/"}, "events"),
            ({"url": "https://example.com/", "events": []}, "events"),
            ({"url": "https://example.com/", "events": "change.*"}, "events"),
            ({"url": "https://example.com/", "events": ["change.%"]}, "events"),
            ({"url": "https://example.com/", "events": ["Change.*"]}, "events"),
            ({"url": "https://example.com/", "events": ["change*"]}, "events"),
            ({"url": "https://example.com/", "events": [7]}, "events"),
            ({"url": "https://example.com/", "events": ["*"] * 33}, "events"),
            ({"url": "https://example.com/", "events": ["*"], "secret": "hunter2"}, "secret"),
            ({"url": "https://example.com/", "events": ["*"], "secret": "whsec_" + base64.b64encode(b"x" * 8).decode()}, "secret"),
            ({"url": "https://example.com/", "events": ["*"], "secret": "whsec_***"}, "secret"),
            ({"url": "https://example.com/", "events": ["*"], "enabled": True}, "enabled"),
            ({"url": "https://example.com/", "events": ["*"], "description": "d" * 201}, "description"),
        ]
        for body, field in cases:
            r = self.admin.post("/api/v1/webhooks", json=body)
            self.assertEqual(r.status, 400, "%r: %r" % (body, r))
            self.assertEqual(r.json["field"], field, "%r: %r" % (body, r.json))
        self.assertEqual(self.admin.post("/api/v1/webhooks", body=b"{", content_type="application/json").status, 400)
        r = self.admin.patch("/api/v1/webhooks/999999", json={"enabled": False})
        self.assertEqual(r.status, 404)
        self.assertEqual(self.admin.get("/api/v1/webhooks/abc").status, 400)
        self.assertEqual(self.admin.get("/api/v1/webhooks/1/deliveries?limit=0").status, 400)
        self.assertEqual(self.admin.get("/api/v1/webhooks").json["items"], before)
        self.assertEqual(len(audit_events(self.admin)), trail, "a refused input writes nothing")

        # a given secret is taken; the other roles may not touch webhooks
        secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
        r = self.admin.post("/api/v1/webhooks", json={"url": "https://example.com/hook", "events": ["drift.*"],
                                                      "secret": secret})
        self.assertStatus(r, 201)
        self.assertEqual(r.json["secret"], secret)
        pw = strong_password()
        self.assertStatus(self.admin.post("/api/v1/users", json={
            "username": "hook-eng", "display_name": "E", "role": "engineer", "password": pw}), 201)
        eng = self.client()
        self.assertStatus(eng.login("hook-eng", pw), 200)
        for method, path in (("GET", "/api/v1/webhooks"), ("POST", "/api/v1/webhooks"),
                             ("PATCH", "/api/v1/webhooks/%d" % r.json["id"]),
                             ("DELETE", "/api/v1/webhooks/%d" % r.json["id"])):
            self.assertEqual(eng.request(method, path, json={} if method != "GET" else None).status, 403)
        # rotate, disable, delete: each audited, never with the secret
        rot = self.admin.patch("/api/v1/webhooks/%d" % r.json["id"], json={"rotate_secret": True})
        self.assertStatus(rot, 200)
        self.assertNotEqual(rot.json["secret"], secret)
        off = self.admin.patch("/api/v1/webhooks/%d" % r.json["id"], json={"enabled": False})
        self.assertFalse(off.json["enabled"])
        self.assertEqual(off.json["disabled_reason"], "disabled by admin")
        self.assertNotIn("secret", off.json)
        self.assertEqual(self.admin.delete("/api/v1/webhooks/%d" % r.json["id"]).status, 204)
        self.assertEqual(self.admin.get("/api/v1/webhooks/%d" % r.json["id"]).status, 404)
        events = [e for e in audit_events(self.admin) if e["object_type"] == "webhook"
                  and e["object_id"] == str(r.json["id"])]
        self.assertEqual([e["action"] for e in events],
                         ["webhook.create", "webhook.update", "webhook.update", "webhook.delete"])
        self.assertNotIn(secret, json.dumps(audit_events(self.admin)))
        self.assertNotIn(rot.json["secret"], json.dumps(audit_events(self.admin)))

    def test_pages(self):
        c = self.srv.admin_client()
        csrf, c.csrf = c.csrf, None
        body = urllib.parse.urlencode({"url": "https://tickets.example.com/otcm", "events": "change.*, signature.*",
                                       "description": "tickets", "csrf_token": csrf})
        r = c.post("/admin/webhooks", body=body, content_type="application/x-www-form-urlencoded",
                   headers={"Accept": "text/html"})
        self.assertEqual(r.status, 201, r)
        self.assertIn("whsec_", r.text)
        hook = [h for h in self.admin.get("/api/v1/webhooks").json["items"]
                if h["url"] == "https://tickets.example.com/otcm"][0]
        self.assertEqual(hook["events"], ["change.*", "signature.*"])
        page = c.get("/admin/webhooks/%d" % hook["id"], headers={"Accept": "text/html"})
        self.assertEqual(page.status, 200)
        self.assertNotIn("whsec_", page.text, "the secret is shown once")
        body = urllib.parse.urlencode({"action": "disable", "csrf_token": csrf})
        r = c.post("/admin/webhooks/%d" % hook["id"], body=body,
                   content_type="application/x-www-form-urlencoded", headers={"Accept": "text/html"})
        self.assertEqual(r.status, 200, r)
        listing = c.get("/admin/webhooks", headers={"Accept": "text/html"})
        self.assertIn('id="disabled-banner"', listing.text)
        # a refused form answers with the page and the API's message
        body = urllib.parse.urlencode({"url": "gopher://x", "events": "*", "csrf_token": csrf})
        r = c.post("/admin/webhooks", body=body, content_type="application/x-www-form-urlencoded",
                   headers={"Accept": "text/html"})
        self.assertEqual(r.status, 400)
        self.assertIn("https://", r.text)
        body = urllib.parse.urlencode({"csrf_token": csrf})
        r = c.post("/admin/webhooks/%d/delete" % hook["id"], body=body,
                   content_type="application/x-www-form-urlencoded", headers={"Accept": "text/html"})
        self.assertEqual(r.status, 303)
        self.assertEqual(self.admin.get("/api/v1/webhooks/%d" % hook["id"]).status, 404)


class WebhookPrivateNetworksRefused(ServerTestCase):
    """The default: no receiver on loopback or a private network, by literal or by name."""

    def test_loopback_is_refused(self):
        admin = self.srv.admin_client()
        for url in ("http://127.0.0.1:9/x", "http://[::1]:9/x", "http://10.1.2.3/x", "http://169.254.169.254/x",
                    "http://192.168.0.10/", "http://[::ffff:127.0.0.1]/"):
            r = admin.post("/api/v1/webhooks", json={"url": url, "events": ["*"]})
            self.assertEqual(r.status, 400, "%s: %r" % (url, r))
            self.assertEqual(r.json["field"], "url")
        # a name that resolves to loopback passes the form, and is refused at connect time
        rx = Receiver().start()
        self.addCleanup(rx.stop)
        r = admin.post("/api/v1/webhooks", json={"url": "http://localhost:%d/x" % rx.port, "events": ["*"]})
        self.assertStatus(r, 201)
        rx.secret = r.json["secret"]
        admin.post("/api/v1/assets", json={"path": "x/y/z", "type": "plc"})
        log = wait_for("a refused attempt", lambda: admin.get(
            "/api/v1/webhooks/%d/deliveries" % r.json["id"]).json["items"])
        self.assertIn("not on the public internet", log[0]["error"])
        self.assertIsNone(log[0]["status"])
        self.assertEqual(rx.accepted, [])
        self.assertEqual(rx.rejected, [])


class WebhookTwoNodes(TwoNodes):
    """Two nodes on one PostgreSQL: one delivers, the other takes over; failing for days disables."""

    prefix = "otcm-it-hooks2-"

    @classmethod
    def node_args(cls, i, url):
        return ("--database", url, "--webhook-private-networks", "allow")

    def leaders(self):
        return int(self.pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                                " AND ((classid::bigint << 32) | objid::bigint) = %d" % WEBHOOK_LEADER_KEY))

    def leading_node(self):
        for i, n in enumerate(self.nodes):
            with open(n.log_path, errors="replace") as f:
                if n.running() and "this node runs the background work (webhook delivery)" in f.read():
                    return i
        return None

    def make_events(self, tag, n=2):
        made = []
        for i, node in enumerate(self.nodes):
            if not node.running():
                continue
            admin = node.admin_client()
            for k in range(n):
                r = admin.post("/api/v1/assets", json={"path": "%s/n%d/a%d" % (tag, i, k), "type": "plc"})
                assert r.status == 201, r
                made.append(r.json["id"])
        return made

    def test_one_node_delivers_then_the_other_then_failing_for_days_disables(self):
        admin = self.nodes[0].admin_client()
        rx = Receiver().start()
        self.addCleanup(rx.stop)
        r = admin.post("/api/v1/webhooks", json={"url": rx.url, "events": ["asset.*"]})
        self.assertEqual(r.status, 201, r)
        rx.secret, hook = r.json["secret"], r.json["id"]

        made = self.make_events("two")
        wait_for("four deliveries", lambda: len(rx.accepted) >= len(made))
        time.sleep(1.5)
        self.assertEqual(sorted(int(b["data"]["object_id"]) for _, _, b in rx.accepted), sorted(made))
        self.assertEqual(rx.seqs(), sorted(rx.seqs()), "in order")
        self.assertEqual(len(rx.accepted), len(made), "each event exactly once")
        self.assertEqual(rx.rejected, [])
        self.assertEqual(self.leaders(), 1)
        leader = wait_for("a webhook leader", lambda: self.leading_node() is not None and
                          self.leading_node() + 1) - 1

        # an attempt older than --webhook-log-days: the next leader prunes it when it takes over
        self.pg.psql("INSERT INTO webhook_deliveries (webhook_id, seq, message_id, attempt, status, at)"
                     " VALUES (%d, 1, 'evt_1', 1, 200, now() - interval '91 days')" % hook)
        self.assertEqual(self.pg.psql("SELECT count(*) FROM webhook_deliveries WHERE at < now() - interval"
                                      " '90 days'"), "1")

        # the leader crashes; the other node takes the lead and delivers what follows
        self.nodes[leader].kill()
        more = self.make_events("after-crash")
        wait_for("deliveries after the crash", lambda: len(rx.accepted) >= len(made) + len(more), timeout=90)
        got = [int(b["data"]["object_id"]) for _, _, b in rx.accepted]
        self.assertEqual(got[len(made):], more)
        self.assertEqual(self.leaders(), 1)
        self.assertEqual(self.pg.psql("SELECT count(*) FROM webhook_deliveries WHERE at < now() - interval"
                                      " '90 days'"), "0", "the old attempt is pruned")
        self.assertGreater(int(self.pg.psql("SELECT count(*) FROM webhook_deliveries")), 0)

        # the receiver goes away; after a first failure the database's clock for this
        # subscription is moved back three days: the next attempt disables it
        survivor = self.nodes[1 - leader]
        admin = survivor.admin_client()
        rx.stop()
        pending = self.make_events("outage", n=1)
        wait_for("a failure", lambda: admin.get("/api/v1/webhooks/%d" % hook).json["failing_since"])
        self.pg.psql("UPDATE webhooks SET failing_since = now() - interval '73 hours',"
                     " next_attempt_at = now() WHERE id = %d" % hook)
        off = wait_for("the subscription disabled",
                       lambda: (lambda w: not w["enabled"] and w)(admin.get("/api/v1/webhooks/%d" % hook).json))
        self.assertIn("failing for 73 hours", off["disabled_reason"])
        self.assertIn("onnect", off["disabled_reason"], "the reason names the last error")
        events = [e for e in admin.get("/api/v1/audit?limit=500&after=0").json["items"]
                  if e["action"] == "webhook.disabled"]
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["actor"], "system")
        self.assertEqual(events[0]["object_id"], str(hook))
        page = admin.get("/admin/webhooks", headers={"Accept": "text/html"})
        self.assertIn('id="disabled-banner"', page.text)
        metrics = self.nodes[1 - leader].client(token=admin.create_token("m")).get("/metrics").text
        self.assertIn('otcm_webhook_enabled{destination="%d"} 0' % hook, metrics)

        # re-enabled, the receiver back: delivery resumes at the event it stopped at
        rx2 = Receiver(port=rx.port)
        rx2.secret = rx.secret
        rx2.start()
        self.addCleanup(rx2.stop)
        self.assertEqual(admin.patch("/api/v1/webhooks/%d" % hook, json={"enabled": True}).status, 200)
        wait_for("the pending event", lambda: rx2.accepted)
        self.assertEqual([int(b["data"]["object_id"]) for _, _, b in rx2.accepted][:1], pending)


if __name__ == "__main__":
    unittest.main()
