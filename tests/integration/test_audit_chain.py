"""The audit trail: hash chain, signed checkpoints, proofs, and tampering found by `otcm audit verify`.

The tampering tests act as the database superuser over the embedded
cluster's socket (psql), the way an insider with full database access
would, and check that each change is detected and located.
"""

import base64
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import ServerTestCase, otcm_bin, strong_password

PSQL = shutil.which("psql")


def hexb(s):
    return bytes.fromhex(s)


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def verify_inclusion(index, size, leaf_hash, proof, root):
    """RFC 9162 2.1.3.2, independently of the C code."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, old, new, proof):
    """RFC 9162 2.1.4.2."""
    if m == n:
        return not proof and old == new
    if not proof:
        return False
    if m & (m - 1) == 0:
        proof = [old] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old and sr == new


class AuditChain(ServerTestCase):
    # checkpoints only when asked, so the tests know exactly what is signed
    server_args = ("--checkpoint-every", "0", "--checkpoint-minutes", "0", "--server-name", "it-plant")

    def conninfo(self):
        return "host=%s user=otcm dbname=otcm" % os.path.join(self.srv.data, "run")

    def psql(self, sql, check=True):
        r = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.conninfo(),
                            "-c", sql], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError("psql failed: %s\n%s" % (sql, r.stderr))
        return r

    def verify(self):
        r = subprocess.run([otcm_bin(), "audit", "verify", "--database", self.conninfo(),
                            "--data", self.srv.data], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    def make_events(self, admin, n):
        for i in range(n):
            r = admin.post("/api/v1/users", json={"username": "u%d.%s" % (i, os.urandom(3).hex()),
                                                  "display_name": "User \"%d\"\n\u00e9" % i,
                                                  "role": "qa", "password": strong_password()})
            self.assertStatus(r, 201)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if PSQL is None:
            raise unittest.SkipTest("psql not installed")

    def setUp(self):
        self.admin = self.client(token=self.srv.admin_token("audit-%s" % os.urandom(3).hex()))

    # -- the chain and the checkpoints, checked independently of the server's code --

    def test_1_chain_and_signed_checkpoint(self):
        self.make_events(self.admin, 5)
        rows = self.psql("SELECT seq, encode(prev_hash, 'hex'), encode(hash, 'hex'),"
                         " encode(convert_to(audit_event_canonical(e), 'UTF8'), 'hex')"
                         " FROM audit_events e ORDER BY seq").stdout.split()
        prev = bytes(32)
        for i, row in enumerate(rows):
            seq, p, h, canon = row.split("|")
            self.assertEqual(int(seq), i + 1)
            self.assertEqual(hexb(p), prev)
            self.assertEqual(hashlib.sha256(prev + hexb(canon)).digest(), hexb(h), "event %s" % seq)
            prev = hexb(h)

        r = self.admin.post("/api/v1/audit/checkpoint")
        self.assertStatus(r, 201)
        cp = r.json
        size = cp["tree_size"]
        self.assertEqual(size, len(rows))
        self.assertEqual(self.admin.post("/api/v1/audit/checkpoint").status, 200)  # nothing new
        note = cp["note"]
        text, _, sigs = note.rpartition("\n\n")
        text += "\n"
        origin, tsize, root64 = text.splitlines()
        self.assertEqual(origin, "otcm/it-plant")
        self.assertEqual(int(tsize), size)
        self.assertEqual(base64.b64decode(root64).hex(), cp["root_hash"])
        m = re.fullmatch("\u2014 (\\S+) (\\S+)\n", sigs)
        self.assertIsNotNone(m, sigs)
        self.assertEqual(m.group(1), origin)
        blob = base64.b64decode(m.group(2))
        self.assertEqual(len(blob), 68)

        # the public key, served and kept 0600 in the data folder
        pub = self.client().get("/api/v1/keys/server.pub")
        self.assertStatus(pub, 200)
        self.assertIn(b"BEGIN PUBLIC KEY", pub.body)
        keyfile = os.path.join(self.srv.data, "keys", "server.key")
        self.assertEqual(stat.S_IMODE(os.stat(keyfile).st_mode), 0o600)
        der = base64.b64decode(b"".join(pub.body.strip().splitlines()[1:-1]))
        raw = der[-32:]
        self.assertEqual(blob[:4], hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4])
        vkey = cp["verifier_key"]
        self.assertEqual(vkey, "%s+%s+%s" % (origin, blob[:4].hex(), base64.b64encode(b"\x01" + raw).decode()))

        # Ed25519 signature checked by openssl with the served key
        tmp = tempfile.mkdtemp()
        try:
            for name, data in (("pub.pem", pub.body), ("text", text.encode()), ("sig", blob[4:])):
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(data)
            cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", os.path.join(tmp, "pub.pem"),
                   "-rawin", "-in", os.path.join(tmp, "text"), "-sigfile", os.path.join(tmp, "sig")]
            r = subprocess.run(cmd, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(tmp, "text"), "wb") as f:
                f.write(text.replace(tsize, str(size + 1)).encode())
            r = subprocess.run(cmd, capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0, "a changed checkpoint must not verify")
        finally:
            shutil.rmtree(tmp)

        # the root is RFC 9162's over the event hashes
        leaves = [leaf(hexb(row.split("|")[2])) for row in rows]

        def mth(ls):
            if len(ls) == 1:
                return ls[0]
            k = 1
            while k * 2 < len(ls):
                k *= 2
            return node(mth(ls[:k]), mth(ls[k:]))
        self.assertEqual(mth(leaves).hex(), cp["root_hash"])

        # inclusion proof of every event
        for seq in range(1, size + 1):
            r = self.admin.get("/api/v1/audit/events/%d/inclusion" % seq)
            self.assertStatus(r, 200)
            p = r.json
            self.assertEqual(p["tree_size"], size)
            ev = hexb(p["event_hash"])
            self.assertEqual(hashlib.sha256(hexb(p["prev_hash"]) + p["canonical"].encode()).digest(), ev)
            self.assertTrue(verify_inclusion(seq - 1, size, leaf(ev), [hexb(x) for x in p["proof"]],
                                             hexb(cp["root_hash"])), "event %d" % seq)
            self.assertFalse(verify_inclusion(seq - 1, size, leaf(bytes(32)), [hexb(x) for x in p["proof"]],
                                              hexb(cp["root_hash"])))
        self.assertStatus(self.admin.get("/api/v1/audit/events/%d/inclusion" % (size + 5)), 400)

        # a second checkpoint, consistent with the first
        self.make_events(self.admin, 3)
        r = self.admin.post("/api/v1/audit/checkpoint")
        self.assertStatus(r, 201)
        cp2 = r.json
        r = self.admin.get("/api/v1/audit/consistency?first=%d&second=%d" % (size, cp2["tree_size"]))
        self.assertStatus(r, 200)
        proof = [hexb(x) for x in r.json["proof"]]
        self.assertTrue(verify_consistency(size, cp2["tree_size"], hexb(cp["root_hash"]),
                                           hexb(cp2["root_hash"]), proof))
        self.assertFalse(verify_consistency(size, cp2["tree_size"], hexb(cp2["root_hash"]),
                                            hexb(cp["root_hash"]), proof))
        r = self.admin.get("/api/v1/audit/checkpoint?tree_size=%d" % size)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["note"], note)
        self.assertStatus(self.client().get("/api/v1/audit/checkpoint"), 401)

        code, out = self.verify()
        self.assertEqual(code, 0, out)
        self.assertIn("2 checkpoints verified", out)

    # -- the database refuses, even its superuser unless it disables the triggers --

    def test_2_database_refuses_rewrites(self):
        self.make_events(self.admin, 1)
        r = self.psql("SET ROLE otcm_app; DELETE FROM audit_events WHERE seq = 1", check=False)
        self.assertIn("permission denied", r.stderr)
        r = self.psql("SET ROLE otcm_app; UPDATE audit_checkpoints SET note = ''", check=False)
        self.assertIn("permission denied", r.stderr)
        # replication mode does not switch off ENABLE ALWAYS triggers
        r = self.psql("SET session_replication_role = replica; UPDATE audit_events SET reason = 'x' WHERE seq = 1",
                      check=False)
        self.assertIn("append-only", r.stderr)
        r = self.psql("TRUNCATE audit_events", check=False)
        self.assertIn("append-only", r.stderr)

    # -- tampering as superuser with the triggers off: found and located --

    def tamper(self, sql):
        """Run sql with the append-only triggers disabled (a superuser can)."""
        self.psql("BEGIN; ALTER TABLE audit_events DISABLE TRIGGER USER; ALTER TABLE audit_head DISABLE TRIGGER USER;"
                  + sql + "; ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update;"
                  " ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_truncate;"
                  " ALTER TABLE audit_head ENABLE TRIGGER USER; COMMIT")

    def snapshot(self):
        self.psql("DROP TABLE IF EXISTS pristine_events, pristine_head;"
                  " CREATE TABLE pristine_events AS SELECT * FROM audit_events;"
                  " CREATE TABLE pristine_head AS SELECT * FROM audit_head")

    def restore(self):
        self.tamper("DELETE FROM audit_events; INSERT INTO audit_events SELECT * FROM pristine_events;"
                    " UPDATE audit_head SET seq = p.seq, hash = p.hash FROM pristine_head p")
        code, out = self.verify()
        self.assertEqual(code, 0, "restoring failed: " + out)

    def assert_report_refused(self):
        """A report verifies the trail from the newest checkpoint on: it fails loudly, signing nothing."""
        before = self.psql("SELECT count(*) FROM audit_checkpoints").stdout
        r = self.admin.get("/api/v1/reports/exceptions?from=2000-01-01&to=2099-01-01")
        self.assertStatus(r, 409)
        self.assertEqual(r.json.get("rule"), "audit-trail-intact", r.json)
        self.assertEqual(self.psql("SELECT count(*) FROM audit_checkpoints").stdout, before)

    def test_3_tampering_is_found_and_located(self):
        self.make_events(self.admin, 6)
        r = self.admin.post("/api/v1/audit/checkpoint")
        self.assertIn(r.status, (200, 201))
        size = r.json["tree_size"]
        code, out = self.verify()
        self.assertEqual(code, 0, out)
        head = int(self.psql("SELECT seq FROM audit_head").stdout)
        self.assertEqual(head, size)
        self.snapshot()
        try:
            # a field changed
            self.tamper("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 3")
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertIn("event 3: event 3 does not match its hash", out)
            self.assertRegex(out, r"checkpoint \d+: checkpoint \d+ signed events 1 to \d+, but event 3 "
                             r"no longer verifies")
            # and the server refuses to sign over it, naming the rule, and audits the refusal
            r = self.admin.post("/api/v1/audit/checkpoint")
            self.assertStatus(r, 409)
            self.assertEqual(r.json.get("rule"), "audit-trail-intact", r.json)
            self.assertEqual(self.psql("SELECT action FROM audit_events ORDER BY seq DESC LIMIT 1").stdout.strip(),
                             "checkpoint.create")
            self.restore()

            # a field changed and every later hash recomputed: only the checkpoint can tell
            self.tamper("""UPDATE audit_events SET reason = 'rewritten' WHERE seq = 2;
                DO $$ DECLARE r audit_events; prev bytea; h bytea; BEGIN
                  SELECT hash INTO prev FROM audit_events WHERE seq = 1;
                  FOR r IN SELECT * FROM audit_events WHERE seq >= 2 ORDER BY seq LOOP
                    h := sha256(prev || convert_to(audit_event_canonical(r), 'UTF8'));
                    UPDATE audit_events SET prev_hash = prev, hash = h WHERE seq = r.seq;
                    prev := h;
                  END LOOP;
                  UPDATE audit_head SET hash = prev;
                END $$""")
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertNotIn("event ", out.split("checkpoint")[0])
            self.assertRegex(out, r"checkpoint (\d+): checkpoint \1: events 1 to \1 do not have the signed root")
            self.assert_report_refused()
            self.restore()

            # the newest rows deleted, audit_head moved back to match: the signed checkpoint tells
            self.tamper("DELETE FROM audit_events WHERE seq >= %d;"
                        " UPDATE audit_head SET seq = %d, hash = (SELECT hash FROM audit_events WHERE seq = %d)"
                        % (size - 1, size - 2, size - 2))
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertIn("checkpoint %d: checkpoint %d signed events 1 to %d, but events %d to %d are gone"
                          % (size, size, size, size - 1, size), out)
            self.restore()

            # the newest rows deleted, audit_head left alone
            self.tamper("DELETE FROM audit_events WHERE seq >= %d" % (head - 1))
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertIn("event %d: events %d to %d are missing" % (head - 1, head - 1, head), out)
            self.restore()

            # a middle row deleted
            self.tamper("DELETE FROM audit_events WHERE seq = 4")
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertIn("event 4: event 4 is missing", out)
            self.restore()

            # two rows swapped
            self.tamper("UPDATE audit_events SET seq = -2 WHERE seq = 2;"
                        " UPDATE audit_events SET seq = 2 WHERE seq = 3;"
                        " UPDATE audit_events SET seq = 3 WHERE seq = -2")
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertIn("event 2:", out)
            self.restore()

            # a forged row appended, audit_head advanced, hash made up
            self.tamper("INSERT INTO audit_events (seq, actor, action, object_type, prev_hash, hash)"
                        " SELECT seq + 1, 'admin', 'user.create', 'user', hash, sha256('forged')"
                        " FROM audit_head; UPDATE audit_head SET seq = seq + 1, hash = sha256('forged')")
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertIn("event %d: event %d does not match its hash" % (head + 1, head + 1), out)
            self.assert_report_refused()
            self.restore()

            # a checkpoint row altered (triggers off there too)
            self.psql("BEGIN; ALTER TABLE audit_checkpoints DISABLE TRIGGER USER;"
                      " UPDATE audit_checkpoints SET root_hash = sha256('x') WHERE tree_size = %d;"
                      " ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_update; COMMIT"
                      % size)
            code, out = self.verify()
            self.assertEqual(code, 1, out)
            self.assertIn("checkpoint %d: checkpoint %d: the row does not say what its signed note says"
                          % (size, size), out)
        finally:
            self.psql("DROP TABLE IF EXISTS pristine_events, pristine_head", check=False)


class AuditPage(AuditChain):
    """The audit page verifies the trail from the newest checkpoint on (a server of its own:
    AuditChain leaves a tampered checkpoint row behind)."""

    test_1_chain_and_signed_checkpoint = test_2_database_refuses_rewrites = None
    test_3_tampering_is_found_and_located = None

    def test_audit_page_verifies_from_the_newest_checkpoint(self):
        self.make_events(self.admin, 2)
        r = self.admin.post("/api/v1/audit/checkpoint")
        self.assertIn(r.status, (200, 201))
        size = r.json["tree_size"]
        self.make_events(self.admin, 2)
        head = int(self.psql("SELECT seq FROM audit_head").stdout)
        self.assertGreater(head, size)
        page = self.admin.get("/audit")
        self.assertStatus(page, 200)
        text = re.sub(r"<[^>]+>", "", page.text)
        self.assertIn("Events 1 to %d are signed by the newest checkpoint, checked just now; events %d to %d "
                      "were recomputed just now" % (size, size + 1, head), text)
        self.assertNotIn("does not verify", text)
        self.snapshot()
        try:
            # an event after the checkpoint changed: the page finds it without recomputing the rest
            self.tamper("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = %d" % head)
            text = re.sub(r"<[^>]+>", "", self.admin.get("/audit").text)
            self.assertIn("does not verify", text)
            self.assertIn("Event %d breaks the hash chain" % head, text)
            self.restore()
            # the hash of the checkpoint's last event changed: its root no longer holds
            self.tamper("UPDATE audit_events SET hash = sha256(hash) WHERE seq = %d" % size)
            text = re.sub(r"<[^>]+>", "", self.admin.get("/audit").text)
            self.assertIn("The newest checkpoint, of events 1 to %d, does not verify" % size, text)
            self.restore()
        finally:
            self.psql("DROP TABLE IF EXISTS pristine_events, pristine_head", check=False)


if __name__ == "__main__":
    unittest.main()
