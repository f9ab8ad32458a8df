"""Failover: two otcm nodes on a PostgreSQL primary with a synchronous streaming replica.

Real postgres processes on Unix sockets: a primary with
synchronous_standby_names='*', a replica made with pg_basebackup -R, and two
otcm nodes sharing one signing key and a multi-host URL with
target_session_attrs=read-write.  Writers upload versions, raise changes and
submit them through both nodes while the primary is killed with SIGKILL and
the replica promoted.  The nodes must reconnect by themselves, answer
nothing but success or 503 with Retry-After meanwhile, and lose no write
they acknowledged.  Background work (checkpoint signing) runs on exactly
one node, and moves to the other when that node dies.
"""

import glob
import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

from harness import Server, make_tmpdir, otcm_bin, _children, _wait_gone

LEADER_KEY = 8031153355317471095   # storage/leader.h


def bindir():
    found = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if os.access(d + "/initdb", os.X_OK)]
    if not found:
        raise RuntimeError("no PostgreSQL server binaries (install postgresql-15)")
    return sorted(found, key=lambda d: int(d.split("/")[4]))[-1]


def as_owner(cmd):
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


class Postgres:
    """One postgres server in DIR/data listening on the socket folder DIR/run only."""

    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        self.data = os.path.join(self.dir, "data")
        self.run = os.path.join(self.dir, "run")
        self.log = os.path.join(self.dir, "postgres.log")
        os.makedirs(self.run)
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.run, "postgres")

    def tool(self, name, *args, check=True):
        r = subprocess.run(as_owner([os.path.join(bindir(), name)] + list(args)),
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError("%s failed: %s%s" % (name, r.stdout, r.stderr))
        return r

    def start(self, *settings):
        opts = "-c listen_addresses='' -k %s -c fsync=off " % self.run + " ".join(settings)
        self.tool("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", opts, "start")

    def psql(self, sql, db="otcm"):
        r = self.tool("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.run, "-U", "otcm",
                      "-d", db, "-c", sql)
        return r.stdout.strip()

    def pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def crash(self):
        """SIGKILL the postmaster and every backend at once: a power cut."""
        pm = self.pid()
        pids = [pm] + _children(pm)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        _wait_gone(pids, 20)

    def stop(self):
        if self.pid():
            self.tool("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)


class TwoNodes(unittest.TestCase):
    """Base of the tests of two otcm nodes on one PostgreSQL of their own (cls.pg, cls.nodes).

    A subclass may name its folder (`prefix`), give each node its options
    (node_args; the second node gets a copy of the first's signing key) and
    start what the nodes talk to before them (start_services/stop_services)."""

    prefix = "otcm-it-nodes-"

    @classmethod
    def node_args(cls, i, url):
        return ("--database", url)

    @classmethod
    def start_services(cls):
        pass

    @classmethod
    def stop_services(cls):
        pass

    @classmethod
    def setUpClass(cls):
        cls.tmp = make_tmpdir(cls.prefix)
        cls.pg = Postgres(cls.tmp, "db")
        cls.nodes = []
        try:
            cls.pg.tool("initdb", "-D", cls.pg.data, "-U", "otcm", "--auth=trust", "-E", "UTF8",
                        "--locale=C", "--no-sync")
            cls.pg.start()
            cls.pg.psql("CREATE DATABASE otcm", db="postgres")
            cls.start_services()
            url = "host=%s user=otcm dbname=otcm" % cls.pg.run
            first = Server(args=cls.node_args(0, url))
            cls.nodes.append(first)
            first.start()
            second = first.sibling(cls.node_args(1, url))
            cls.nodes.append(second)
            second.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes:
            n.close()
        cls.stop_services()
        cls.pg.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)


class FailoverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = make_tmpdir("otcm-it-failover-")
        cls.primary = Postgres(cls.tmp, "primary")
        cls.replica = Postgres(cls.tmp, "replica")
        cls.nodes = []
        try:
            cls.primary.tool("initdb", "-D", cls.primary.data, "-U", "otcm", "--auth=trust", "-E", "UTF8",
                             "--locale=C", "--no-sync")
            cls.primary.start("-c wal_level=replica -c max_wal_senders=5 -c synchronous_commit=on")
            cls.primary.psql("CREATE DATABASE otcm", db="postgres")
            cls.replica.tool("pg_basebackup", "-h", cls.primary.run, "-U", "otcm", "-D", cls.replica.data,
                             "-R", "-Xstream", "-c", "fast")
            cls.replica.start()
            # synchronous replication on the primary only (set after the copy): after
            # promotion the replica stands alone and must not wait for a standby of its own
            cls.primary.psql("ALTER SYSTEM SET synchronous_standby_names = '*'", db="postgres")
            cls.primary.psql("SELECT pg_reload_conf()", db="postgres")
            deadline = time.monotonic() + 60
            while cls.primary.psql("SELECT string_agg(sync_state, ',') FROM pg_stat_replication") != "sync":
                if time.monotonic() > deadline:
                    raise AssertionError("the replica did not become a synchronous standby")
                time.sleep(0.2)
            cls.url = ("host=%s,%s port=5432,5432 user=otcm dbname=otcm "
                       "target_session_attrs=read-write connect_timeout=2"
                       % (cls.primary.run, cls.replica.run))
            args = ("--database", cls.url, "--checkpoint-every", "5", "--checkpoint-minutes", "0",
                    "--server-name", "it-failover")
            first = Server(args=args)
            cls.nodes.append(first)
            first.start()
            # the nodes share one signing key: the second gets a copy of the first's
            second = first.sibling(args)
            cls.nodes.append(second)
            second.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes:
            n.close()
        cls.primary.stop()
        cls.replica.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def leaders(self, pg):
        return int(pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                           " AND ((classid::bigint << 32) | objid::bigint) = %d" % LEADER_KEY))

    @staticmethod
    def log_of(node):
        with open(node.log_path, errors="replace") as f:
            return f.read()

    def leading_node(self):
        """The node whose log last said it took the lead and has not said it lost it since."""
        for i, n in enumerate(self.nodes):
            log = self.log_of(n)
            took = log.rfind("this node runs the background work (checkpoint signing)")
            if took >= 0 and took > log.rfind("this node no longer runs the background work (checkpoint signing)"):
                return i
        return None

    def wait_for(self, what, fn, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.2)
        raise AssertionError("timed out waiting for " + what)

    def test_failover_loses_no_acknowledged_write(self):
        clients = [n.client(token=n.admin_token("writer-%d" % i)) for i, n in enumerate(self.nodes)]
        r = clients[0].post("/api/v1/assets", json={"path": "plant-f/line-1/plc", "type": "plc"})
        self.assertEqual(r.status, 201, r)
        asset = r.json["id"]
        self.wait_for("one node to lead the background work", lambda: self.leaders(self.primary) == 1)

        acked = {"uploads": [], "changes": [], "submitted": []}
        statuses = []
        stop = threading.Event()
        lock = threading.Lock()

        def writer(w):
            i = 0
            while not stop.is_set():
                c = clients[(w + i) % 2]
                i += 1
                r = c.post("/api/v1/assets/%d/versions" % asset,
                           fields={"message": "w%d-%d" % (w, i), "branch": "work/w%d" % w},
                           files=[("file", "w%d.st" % w, "PROGRAM p%d_%d END_PROGRAM\n" % (w, i))])
                with lock:
                    statuses.append((r.status, r.headers.get("Retry-After")))
                    if r.status == 201:
                        acked["uploads"].append((w, r.json["commit"]))
                r = c.post("/api/v1/changes", json={
                    "type": "normal", "title": "w%d-%d" % (w, i), "reason": "failover", "risk": "low",
                    "safety_related": False, "implementation_plan": "a", "rollback_plan": "b",
                    "affected_assets": [asset]})
                with lock:
                    statuses.append((r.status, r.headers.get("Retry-After")))
                if r.status != 201:
                    time.sleep(0.05)
                    continue
                key = r.json["key"]
                with lock:
                    acked["changes"].append(key)
                r = clients[(w + i + 1) % 2].post("/api/v1/changes/%s/transitions" % key,
                                                  json={"to": "submitted", "reason": "failover"})
                with lock:
                    statuses.append((r.status, r.headers.get("Retry-After")))
                    if r.status == 200:
                        acked["submitted"].append(key)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(3)
            with lock:
                before = len(acked["uploads"])
            self.assertGreater(before, 0, statuses[:20])

            self.primary.crash()
            # the replica becomes the primary, as Patroni or an operator would do it
            self.replica.tool("pg_ctl", "-D", self.replica.data, "-w", "promote")
            with lock:
                mark = len(statuses)

            def both_write_again():
                ok = []
                for c in clients:
                    r = c.post("/api/v1/assets/%d/versions" % asset, fields={"message": "probe",
                               "branch": "work/probe"}, files=[("file", "p.st", "PROGRAM p%f END_PROGRAM\n"
                                                                % time.time())])
                    ok.append(r.status == 201)
                return all(ok)
            self.wait_for("both nodes to write through the promoted replica", both_write_again, 60)
            time.sleep(2)
        finally:
            stop.set()
            for t in threads:
                t.join(120)

        bad = [s for s in statuses if not (200 <= s[0] < 300 or s[0] == 503)]
        self.assertEqual(bad, [], "answers other than success or 503")
        unavailable = [s for s in statuses if s[0] == 503]
        self.assertTrue(all(s[1] for s in unavailable), "a 503 without Retry-After")
        self.assertGreater(len(acked["uploads"]), before, "no upload succeeded after the failover")
        self.assertTrue(any(200 <= s[0] < 300 for s in statuses[mark:]))

        # every acknowledged write survived, read through either node
        for w in range(3):
            r = clients[w % 2].get("/api/v1/assets/%d/versions?branch=work/w%d&limit=500" % (asset, w))
            self.assertEqual(r.status, 200, r)
            have = {v["commit"] for v in r.json["items"]}
            lost = [c for (ww, c) in acked["uploads"] if ww == w and c not in have]
            self.assertEqual(lost, [], "acknowledged uploads lost")
        for key in acked["changes"]:
            r = clients[0].get("/api/v1/changes/%s" % key)
            self.assertEqual(r.status, 200, (key, r))
            if key in acked["submitted"]:
                self.assertEqual(r.json["state"], "submitted", (key, r.json))

        # background work: one node leads on the new primary, and checkpoints
        # signed before and after the failover verify under the shared key
        self.wait_for("one leader on the new primary", lambda: self.leaders(self.replica) == 1)
        r = subprocess.run([otcm_bin(), "audit", "verify", "--database", self.url, "--data",
                            self.nodes[0].data], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # the leading node dies: the other takes the background work over
        leader = self.wait_for("a node to say it leads",
                               lambda: None if self.leading_node() is None else self.leading_node() + 1) - 1
        other = self.nodes[1 - leader]
        took = self.log_of(other).count("this node runs the background work (checkpoint signing)")
        self.nodes[leader].kill()
        self.wait_for("the other node to take the lead", lambda: self.log_of(other).count(
            "this node runs the background work (checkpoint signing)") > took, 30)
        self.assertEqual(self.leaders(self.replica), 1)
        c = clients[1 - leader]
        cp = c.get("/api/v1/audit/checkpoint").json["tree_size"]
        for i in range(6):
            c.post("/api/v1/changes", json={"type": "normal", "title": "after %d" % i, "reason": "x",
                                            "risk": "low", "safety_related": False,
                                            "implementation_plan": "a", "rollback_plan": "b",
                                            "affected_assets": [asset]})
        self.wait_for("a checkpoint signed by the new leader",
                      lambda: c.get("/api/v1/audit/checkpoint").json["tree_size"] > cp, 30)


if __name__ == "__main__":
    unittest.main()
