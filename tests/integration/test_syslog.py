"""Audit events to the SIEM: a real rsyslog collector over TCP (RFC 5424, octet counting).

rsyslogd runs in the foreground with a throwaway configuration: imtcp on
127.0.0.1 and a free port, every message written to a file in a temporary
folder.  The test stops the collector mid-stream, writes more events, starts
it again, restarts otcm too, and checks that every audit event arrived, in
order, with its structured data: at-least-once (a batch the collector's TCP
never acknowledged is sent again, so a seq may repeat right after an
outage), never a gap.  A second class runs two otcm nodes on one database
and checks that only one of them delivers.
"""

import os
import re
import shutil
import signal
import subprocess
import time
import unittest

from harness import Server, free_port, make_tmpdir, strong_password, _wait_gone
from test_failover import TwoNodes

SYSLOG_LEADER_KEY = 8031153355318586471   # storage/leader.h LEADER_SYSLOG_KEY
SD_RE = re.compile(r'\[otcm@32473((?: [a-z_]+="(?:[^"\\]|\\.)*")*)\]')
PARAM_RE = re.compile(r' ([a-z_]+)="((?:[^"\\]|\\.)*)"')


def rsyslogd():
    path = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    if not os.access(path, os.X_OK):
        raise RuntimeError("rsyslogd not found: install the rsyslog package (scripts/deps.sh test)")
    return path


def openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (args[0], r.stderr))


def make_certificates(d):
    """A throwaway CA (ca.pem) and a server certificate for localhost and 127.0.0.1 it signed."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=otcm test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
            cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)


class Collector:
    """rsyslogd -n with imtcp on 127.0.0.1:port (TLS with tls=True), writing every message to DIR/messages."""

    def __init__(self, tls=False):
        self.dir = make_tmpdir("otcm-it-rsyslog-")
        self.port = free_port()
        self.out = os.path.join(self.dir, "messages")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        self.ca = os.path.join(self.dir, "ca.pem")
        self.proc = None
        if tls:
            make_certificates(self.dir)
            driver = ('global(workDirectory="%s" DefaultNetstreamDriver="ossl"'
                      ' DefaultNetstreamDriverCAFile="%s" DefaultNetstreamDriverCertFile="%s"'
                      ' DefaultNetstreamDriverKeyFile="%s")\n'
                      'module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1"'
                      ' StreamDriver.AuthMode="anon")\n'
                      % (self.dir, self.ca, os.path.join(self.dir, "server.pem"),
                         os.path.join(self.dir, "server.key")))
        else:
            driver = 'global(workDirectory="%s")\nmodule(load="imtcp")\n' % self.dir
        with open(self.conf, "w") as f:
            f.write(driver +
                    'input(type="imtcp" address="127.0.0.1" port="%d")\n'
                    'action(type="omfile" file="%s" template="RSYSLOG_SyslogProtocol23Format")\n'
                    % (self.port, self.out))

    def start(self):
        with open(os.path.join(self.dir, "rsyslogd.log"), "ab") as log:
            self.proc = subprocess.Popen([rsyslogd(), "-n", "-f", self.conf, "-i", self.pidfile],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("rsyslogd exited with %s" % self.proc.returncode)
            try:
                import socket
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("rsyslogd did not listen on %d" % self.port)

    def stop(self):
        """SIGTERM by its pid and wait until it is gone."""
        if self.proc is None:
            return
        pid = self.proc.pid
        os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        _wait_gone([pid], 10)
        self.proc = None

    def messages(self):
        """Every message so far as (seq, params) in the order received."""
        try:
            with open(self.out, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        got = []
        for line in lines:
            m = SD_RE.search(line)
            if not m:
                continue
            params = dict(PARAM_RE.findall(m.group(1)))
            got.append((int(params["seq"]), params, line))
        return got

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def audit_events(client):
    """The whole audit trail through the API, oldest first."""
    events, after = [], 0
    while True:
        r = client.get("/api/v1/audit?after=%d&limit=500" % after)
        assert r.status == 200, r
        page = r.json["items"]
        if not page:
            return events
        events.extend(page)
        after = page[-1]["seq"]


def assert_in_order_at_least_once(test, seqs, upto):
    """seqs covers 1..upto; each seq is the next one or a resend of earlier ones after a reconnect."""
    test.assertTrue(seqs, "nothing arrived")
    test.assertEqual(seqs[0], 1, "delivery must start with the first event")
    top = 0
    for s in seqs:
        test.assertLessEqual(s, top + 1, "gap: %d arrived after only %d (sequence %r)" % (s, top, seqs))
        top = max(top, s)
    test.assertGreaterEqual(top, upto)


def read_log(srv):
    with open(srv.log_path, errors="replace") as f:
        return f.read()


def wait_for(what, fn, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


class SyslogDeliveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.collector = Collector()
        cls.srv = None
        try:
            cls.collector.start()
            cls.srv = Server(args=("--syslog", "tcp://127.0.0.1:%d" % cls.collector.port,
                                   "--server-name", "it-syslog"))
            cls.srv.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv:
            cls.srv.close()
        cls.collector.close()

    def make_events(self, admin, tag, n=3):
        for i in range(n):
            r = admin.post("/api/v1/users", json={"username": "%s.%d" % (tag, i), "display_name": tag,
                                                  "role": "engineer", "password": strong_password()})
            self.assertEqual(r.status, 201, r)
        r = self.srv.client().post("/api/v1/session", json={"username": "%s.0" % tag, "password": "wrong"})
        self.assertEqual(r.status, 401, r)

    def delivered_upto(self, head):
        return wait_for("events up to %d at the collector" % head,
                        lambda: [s for s, _, _ in self.collector.messages()
                                 if s >= head] and self.collector.messages())

    def test_every_event_arrives_in_order_across_outages_and_restarts(self):
        admin = self.srv.admin_client()
        self.make_events(admin, "before")
        head = audit_events(admin)[-1]["seq"]
        self.delivered_upto(head)

        # the collector goes away; events keep coming
        self.collector.stop()
        self.make_events(admin, "during")
        time.sleep(1.0)   # the sender finds the connection gone and backs off
        self.make_events(admin, "during2")
        self.collector.start()
        head = audit_events(admin)[-1]["seq"]
        self.delivered_upto(head)
        log = read_log(self.srv)
        self.assertIn("syslog delivery to 127.0.0.1:%d paused" % self.collector.port, log)
        self.assertIn("syslog delivery to 127.0.0.1:%d resumed" % self.collector.port, log)

        # otcm restarts: delivery resumes from the mark, not from the start
        arrived = len(self.collector.messages())
        self.assertEqual(self.srv.stop(), 0)
        self.srv.start()
        admin = self.srv.admin_client()
        self.make_events(admin, "after")
        events = audit_events(admin)
        got = self.delivered_upto(events[-1]["seq"])
        seqs = [s for s, _, _ in got]
        assert_in_order_at_least_once(self, seqs, events[-1]["seq"])
        resent = [s for s in seqs[arrived:] if s <= max(seqs[:arrived])]
        self.assertEqual(resent, [], "a restart of otcm sent delivered events again")

        # each event's structured data is what the audit trail holds
        by_seq = {s: p for s, p, _ in got}
        for ev in events:
            p = by_seq[ev["seq"]]
            self.assertEqual(p["hash"], ev["hash"])
            self.assertEqual(p["actor"], ev["actor"])
            self.assertEqual(p["action"], ev["action"])
            self.assertEqual(p.get("role"), ev["role"])
            self.assertEqual(p["object_type"], ev["object_type"])
            self.assertEqual(p.get("object_id"), ev["object_id"])
        failed = [p for p in by_seq.values() if p["action"] == "session.login.failed"]
        self.assertTrue(failed)
        self.assertTrue(all(p["result"] == "failure" for p in failed))
        line = next(l for s, p, l in got if p["action"] == "session.login.failed")
        self.assertRegex(line, r"^<108>1 \S+Z it-syslog otcm - session.login.failed \[otcm@32473 ")

    def test_bad_options_are_refused_at_start(self):
        from harness import otcm_bin
        r = subprocess.run([otcm_bin(), "serve", "--syslog", "udp://127.0.0.1:514"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--syslog must be tcp://HOST:PORT or tls://HOST:PORT", r.stderr)
        r = subprocess.run([otcm_bin(), "serve", "--syslog", "tcp://127.0.0.1:514", "--syslog-ca", "/x.pem"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--syslog-ca goes with --syslog tls://", r.stderr)
        r = subprocess.run([otcm_bin(), "serve", "--syslog-format", "leef"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--syslog-format must be rfc5424 or cef", r.stderr)


class SyslogCefTest(unittest.TestCase):
    """--syslog-format cef: the message is a CEF line the SIEM parses without the structured data."""

    def test_cef_lines(self):
        collector = Collector()
        srv = None
        try:
            collector.start()
            srv = Server(args=("--syslog", "tcp://127.0.0.1:%d" % collector.port, "--syslog-format", "cef"))
            srv.start()
            r = srv.client().post("/api/v1/session", json={"username": "admin", "password": "wrong"})
            self.assertEqual(r.status, 401, r)
            events = audit_events(srv.admin_client())
            head = events[-1]["seq"]
            ev = next(e for e in events if e["action"] == "session.login.failed")
            got = wait_for("events up to %d" % head,
                           lambda: [m for m in collector.messages() if m[0] >= head] and collector.messages())
            line = next(l for s, p, l in got if p["action"] == "session.login.failed")
            m = re.search(r"\] (CEF:0\|otcm\|otcm\|[^|]*\|session\.login\.failed\|session\.login\.failed\|7\|)(.*)$",
                          line)
            self.assertIsNotNone(m, line)
            ext = dict(re.findall(r"(\w+)=((?:[^=\\ ]|\\.| (?!\w+=))*)", m.group(2)))
            self.assertEqual(ext["externalId"], str(ev["seq"]))
            self.assertEqual(ext["act"], "session.login.failed")
            self.assertEqual(ext["outcome"], "failure")
            self.assertEqual(ext["suser"], ev["actor"])
            self.assertEqual(ext["cs1"], ev["object_type"])
            self.assertEqual(ext["cs3"], ev["hash"])
            self.assertEqual(ext["src"], "127.0.0.1")
        finally:
            if srv:
                srv.close()
            collector.close()


class SyslogTlsTest(unittest.TestCase):
    """tls:// (RFC 5425) to rsyslog's OpenSSL driver: the collector's certificate must verify."""

    @classmethod
    def setUpClass(cls):
        cls.collector = Collector(tls=True)
        cls.servers = []
        try:
            cls.collector.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            s.close()
        cls.collector.close()

    def serve(self, *args):
        srv = Server(args=("--syslog", "tls://localhost:%d" % self.collector.port) + args)
        self.servers.append(srv)
        srv.start()
        return srv

    def test_events_arrive_over_tls_and_an_untrusted_collector_gets_none(self):
        # trusting only the system's store, the test CA's collector is refused
        untrusted = self.serve()
        wait_for("the refusal in the log", lambda: "certificate does not verify" in read_log(untrusted))
        self.assertEqual(self.collector.messages(), [])
        self.assertEqual(untrusted.stop(), 0)

        srv = self.serve("--syslog-ca", self.collector.ca)
        admin = srv.admin_client()
        r = admin.post("/api/v1/users", json={"username": "tls.user", "display_name": "TLS",
                                              "role": "auditor", "password": strong_password()})
        self.assertEqual(r.status, 201, r)
        head = audit_events(admin)[-1]["seq"]
        wait_for("events up to %d over TLS" % head,
                 lambda: [m for m in self.collector.messages() if m[0] >= head])

        # an outage of the collector loses nothing over TLS either
        self.collector.stop()
        for i in range(3):
            r = admin.post("/api/v1/users", json={"username": "tls.user%d" % i, "display_name": "TLS",
                                                  "role": "auditor", "password": strong_password()})
            self.assertEqual(r.status, 201, r)
        time.sleep(1.0)
        self.collector.start()
        head = audit_events(admin)[-1]["seq"]
        got = wait_for("events up to %d over TLS after the outage" % head,
                       lambda: [m for m in self.collector.messages() if m[0] >= head] and
                       self.collector.messages())
        assert_in_order_at_least_once(self, [s for s, _, _ in got], head)
        self.assertIn("user.create", {p["action"] for _, p, _ in got})
        self.assertIn("paused", read_log(srv))


class SyslogTwoNodesTest(TwoNodes):
    """Two otcm nodes on one PostgreSQL: exactly one delivers, and the other takes over."""

    prefix = "otcm-it-syslog2-"

    @classmethod
    def start_services(cls):
        cls.collector = Collector()
        cls.collector.start()

    @classmethod
    def stop_services(cls):
        if getattr(cls, "collector", None):
            cls.collector.close()

    @classmethod
    def node_args(cls, i, url):
        return ("--database", url, "--syslog", "tcp://127.0.0.1:%d" % cls.collector.port,
                "--server-name", "node-%d" % i)

    def syslog_leaders(self):
        return int(self.pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                                " AND ((classid::bigint << 32) | objid::bigint) = %d" % SYSLOG_LEADER_KEY))

    def leading_node(self):
        for i, n in enumerate(self.nodes):
            if "this node runs the background work (syslog delivery)" in read_log(n):
                return i
        return None

    def make_events(self, tag):
        for i, n in enumerate(self.nodes):
            if not n.running():
                continue
            admin = n.admin_client()
            r = admin.post("/api/v1/users", json={"username": "%s.%d" % (tag, i), "display_name": tag,
                                                  "role": "qa", "password": strong_password()})
            self.assertEqual(r.status, 201, r)
        return audit_events(admin)[-1]["seq"]

    def test_one_node_delivers_each_event_once_and_the_other_takes_over(self):
        head = self.make_events("two")
        got = wait_for("events up to %d" % head,
                       lambda: [m for m in self.collector.messages() if m[0] >= head] and
                       self.collector.messages())
        seqs = [s for s, _, _ in got]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "each event exactly once, in order")
        self.assertEqual(self.syslog_leaders(), 1)
        leader = wait_for("a syslog leader", lambda: self.leading_node() is not None and
                          self.leading_node() + 1) - 1
        hosts = {re.match(r"<\d+>1 \S+ (\S+) ", line).group(1) for _, _, line in got}
        self.assertEqual(hosts, {"node-%d" % leader})

        # the leading node crashes; the other takes the lead and delivers the rest
        self.nodes[leader].kill()
        head = self.make_events("after-crash")
        got = wait_for("events up to %d after the crash" % head,
                       lambda: [m for m in self.collector.messages() if m[0] >= head] and
                       self.collector.messages(), timeout=90)
        assert_in_order_at_least_once(self, [s for s, _, _ in got], head)
        self.assertEqual(self.syslog_leaders(), 1)
        self.assertIn("node-%d" % (1 - leader), got[-1][2])


if __name__ == "__main__":
    unittest.main()
