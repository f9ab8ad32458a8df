"""API tokens' owners and assets kept in memory (docs/http.md, "Tokens and assets in memory").

Two nodes on one PostgreSQL.  A token in use is answered from memory
(the metrics' hit counter moves while the database is not asked), and
every change to its user or to the token holds on the node that made it
at once and on the other as soon as the notification arrives, whether
made through the API or straight in SQL; an expired token is refused from
memory; a lost listening connection is reopened and heard again.
"""

import re
import time
import unittest

from harness import strong_password
from test_failover import TwoNodes

DEADLINE = 10.0   # seconds a notification may take on a loaded machine; measured below


def metric(node, name):
    r = node.client(token=node.metrics_token).get("/metrics")
    assert r.status == 200, r
    m = re.search(r"^%s (\S+)$" % re.escape(name), r.text, re.M)
    assert m, "%s not in /metrics" % name
    return float(m.group(1))


def until(what, fn, timeout=DEADLINE):
    """Poll fn until it is true; the seconds it took."""
    start = time.monotonic()
    while True:
        if fn():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError("not within %ss: %s" % (timeout, what))
        time.sleep(0.01)


class CredentialCache(TwoNodes):

    prefix = "otcm-it-creds-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            for n in cls.nodes:
                n.metrics_token = n.admin_token("metrics")
                until("node listens", lambda n=n: metric(n, "otcm_credential_cache_listening") == 1)
        except Exception:
            cls.tearDownClass()
            raise

    def user_with_token(self, name, role="engineer"):
        a, _ = self.nodes
        admin = a.admin_client()
        password = strong_password()
        r = admin.post("/api/v1/users", json={"username": name, "display_name": name, "role": role,
                                              "password": password})
        self.assertEqual(r.status, 201, r)
        uid = r.json["id"]
        c = a.client()
        self.assertEqual(c.login(name, password).status, 200)
        r = c.post("/api/v1/tokens", json={"name": "t"})
        self.assertEqual(r.status, 201, r)
        return uid, r.json["id"], r.json["token"]

    def status(self, node, token, method="GET", path="/api/v1/session", **kw):
        return node.client(token=token).request(method, path, **kw).status

    def test_a_token_in_use_is_answered_from_memory(self):
        a, _ = self.nodes
        _, _, token = self.user_with_token("mem-user")
        self.assertEqual(self.status(a, token), 200)   # read from the database, then kept
        hits = metric(a, "otcm_credential_cache_hits_total")
        misses = metric(a, "otcm_credential_cache_misses_total")
        for _ in range(20):
            self.assertEqual(self.status(a, token), 200)
        # the metrics' own token is a lookup too: one more hit per scrape
        self.assertGreaterEqual(metric(a, "otcm_credential_cache_hits_total") - hits, 20)
        self.assertEqual(metric(a, "otcm_credential_cache_misses_total"), misses)
        # the last use is still recorded
        items = a.client(token=token).get("/api/v1/tokens").json["items"]
        self.assertTrue(all(t.get("last_used_at") for t in items), items)

    def test_revoking_holds_at_once_here_and_soon_on_the_other_node(self):
        a, b = self.nodes
        _, tid, token = self.user_with_token("rev-user")
        for n in (a, b):
            self.assertEqual(self.status(n, token), 200)
            self.assertEqual(self.status(n, token), 200)
        before = metric(a, "otcm_credential_cache_notifications_total")
        self.assertEqual(b.client(token=token).delete("/api/v1/tokens/%d" % tid).status, 204)
        self.assertEqual(self.status(b, token), 401)     # the node that revoked it: at once
        took = until("the other node refuses the revoked token",
                     lambda: self.status(a, token) == 401)
        self.assertLess(took, DEADLINE)
        self.assertGreater(metric(a, "otcm_credential_cache_notifications_total"), before)
        self.assertEqual(self.status(a, token), 401)

    def test_changes_made_in_sql_hold_on_every_node(self):
        a, b = self.nodes
        uid, _, token = self.user_with_token("sql-user")
        asset = {"path": "creds/sql/plc-1", "type": "plc"}
        for n in (a, b):
            self.assertEqual(self.status(n, token), 200)
        # a new role: an engineer may create assets, an auditor may not
        self.pg.psql("UPDATE users SET role = 'auditor' WHERE id = %d" % uid)
        for n in (a, b):
            until("role change seen", lambda n=n: self.status(n, token, "POST", "/api/v1/assets",
                                                             json=asset) == 403)
        self.pg.psql("UPDATE users SET role = 'engineer' WHERE id = %d" % uid)
        for n in (a, b):
            until("role back", lambda n=n: self.status(n, token) == 200 and
                  n.client(token=token).get("/api/v1/session").json["user"]["role"] == "engineer")
        # disabled, then enabled again
        self.pg.psql("UPDATE users SET disabled = true WHERE id = %d" % uid)
        for n in (a, b):
            until("disabled user refused", lambda n=n: self.status(n, token) == 401)
        self.pg.psql("UPDATE users SET disabled = false WHERE id = %d" % uid)
        for n in (a, b):
            until("enabled again", lambda n=n: self.status(n, token) == 200)
        # locked by failed logins elsewhere
        self.pg.psql("UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = %d" % uid)
        for n in (a, b):
            until("locked user refused", lambda n=n: self.status(n, token) == 401)

    def test_an_expired_token_is_refused_from_memory(self):
        a, _ = self.nodes
        _, tid, token = self.user_with_token("exp-user")
        self.pg.psql("UPDATE api_tokens SET expires_at = now() + interval '2 seconds' WHERE id = %d" % tid)
        until("the new expiry is read", lambda: self.status(a, token) == 200)
        hits = metric(a, "otcm_credential_cache_hits_total")
        self.assertEqual(self.status(a, token), 200)
        self.assertGreater(metric(a, "otcm_credential_cache_hits_total"), hits)
        time.sleep(2.2)
        # no change is notified when time passes: the entry's own expiry refuses it
        self.assertEqual(self.status(a, token), 401)

    def test_a_lost_listening_connection_is_reopened(self):
        a, _ = self.nodes
        uid, tid, token = self.user_with_token("lost-user")
        self.assertEqual(self.status(a, token), 200)
        connects = metric(a, "otcm_credential_cache_connects_total")
        killed = self.pg.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE application_name = 'otcm-listen'")
        self.assertEqual(killed, "2")    # one per node
        until("listening again", lambda: metric(a, "otcm_credential_cache_connects_total") > connects
              and metric(a, "otcm_credential_cache_listening") == 1)
        self.assertEqual(self.status(a, token), 200)
        self.assertEqual(self.status(a, token), 200)
        self.pg.psql("UPDATE api_tokens SET revoked_at = now() WHERE id = %d" % tid)
        until("revocation heard on the new connection", lambda: self.status(a, token) == 401)

    def test_an_asset_read_is_answered_from_memory_and_edits_hold_everywhere(self):
        a, b = self.nodes
        token = a.admin_token("assets")
        r = a.client(token=token).post("/api/v1/assets", json={"path": "creds/a/plc-1", "type": "plc"})
        self.assertEqual(r.status, 201, r)
        aid = r.json["id"]
        path = "/api/v1/assets/%d" % aid

        def read(node):
            r = node.client(token=token).get(path)
            self.assertEqual(r.status, 200, r)
            return r.json

        for n in (a, b):
            read(n)
        hits = metric(a, "otcm_asset_cache_hits_total")
        misses = metric(a, "otcm_asset_cache_misses_total")
        for _ in range(10):
            self.assertEqual(read(a)["path"], "creds/a/plc-1")
        self.assertEqual(metric(a, "otcm_asset_cache_hits_total") - hits, 10)
        self.assertEqual(metric(a, "otcm_asset_cache_misses_total"), misses)
        # an edit on this node: the next read here has it
        r = a.client(token=token).patch(path, json={"description": "edited on a"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(read(a)["description"], "edited on a")
        until("the other node has the edit", lambda: read(b)["description"] == "edited on a")
        # an edit on the other node, and the inventory (its own statement)
        r = b.client(token=token).patch(path, json={"path": "creds/a/plc-2", "serial_number": "SN-42"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(read(b)["serial_number"], "SN-42")
        until("this node has the other's edit",
              lambda: read(a)["path"] == "creds/a/plc-2" and read(a)["serial_number"] == "SN-42")
        # straight in SQL
        self.pg.psql("UPDATE assets SET firmware = 'V33.011' WHERE id = %d" % aid)
        for n in (a, b):
            until("SQL edit seen", lambda n=n: read(n)["firmware"] == "V33.011")
        # a read racing nothing stays a hit; an unknown asset is still 404
        self.assertEqual(a.client(token=token).get("/api/v1/assets/999999").status, 404)


if __name__ == "__main__":
    unittest.main()
