"""Backups proven by restore: `otcm backup`, `backup verify`, `restore`, `drill`.

Uses PostgreSQL's own tools (pg_basebackup, pg_verifybackup) against a
server's private cluster while the server runs (an online backup), then
restores into a new data folder and serves from it, and runs restore drills
whose signed records land in the live database's drills table and audit
trail.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import Server, ServerTestCase, make_tmpdir, otcm_bin
from test_failover import Postgres

L5X = b"""<?xml version="1.0" encoding="UTF-8"?>
<RSLogix5000Content SchemaRevision="1.0"><Controller Name="Line1">
<Tags><Tag Name="Speed" DataType="DINT" Value="%d"/></Tags></Controller></RSLogix5000Content>
"""


def otcm(*args, timeout=300, stdout_only=False):
    r = subprocess.run([otcm_bin()] + list(args), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout if stdout_only else r.stdout + r.stderr


class BackupTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.client(token=cls.srv.admin_token())
        r = cls.admin.post("/api/v1/assets", json={"path": "plant-b/line-1/plc", "type": "plc"})
        assert r.status == 201, r
        cls.asset = r.json["id"]
        for n, branch in enumerate(("main", "work/b")):
            r = cls.admin.post("/api/v1/assets/%d/versions" % cls.asset,
                               fields={"message": "speed %d" % n, "branch": branch},
                               files=[("file", "Line1.L5X", L5X % n)])
            assert r.status == 201, r
        cls.tmp = make_tmpdir("otcm-it-backup-")
        cls.backup = os.path.join(cls.tmp, "b1")
        rc, out = otcm("backup", "--to", cls.backup, "--data", cls.srv.data)
        assert rc == 0, out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def manifest(self, d=None):
        with open(os.path.join(d or self.backup, "otcm-backup.json")) as f:
            return json.load(f)

    def copy(self, name):
        dst = os.path.join(self.tmp, name)
        shutil.copytree(self.backup, dst, symlinks=True)
        return dst

    def events(self, action):
        r = self.admin.get("/api/v1/audit?limit=500")
        self.assertStatus(r, 200)
        items = r.json["items"] if isinstance(r.json, dict) else r.json
        return [e for e in items if e["action"] == action]

    def test_backup_is_a_base_backup_with_our_manifest(self):
        m = self.manifest()
        self.assertEqual(m["format"], "otcm-backup/1")
        self.assertEqual(m["method"], "pg_basebackup")
        self.assertEqual(m["source"], "private cluster")
        self.assertGreaterEqual(m["snapshot"]["counts"]["versions"], 2)
        self.assertGreaterEqual(m["snapshot"]["counts"]["assets"], 1)
        self.assertIsNotNone(m["snapshot"]["last_event"])
        paths = {f["path"] for f in m["files"]}
        self.assertIn("pg/backup_manifest", paths)          # PostgreSQL's own manifest
        self.assertIn("keys/server.key", paths)             # checkpoints stay verifiable
        self.assertTrue(all(len(f["sha256"]) == 64 for f in m["files"]))
        self.assertLessEqual(m["started_at"], m["finished_at"])

    def test_a_folder_that_is_not_empty_is_refused(self):
        rc, out = otcm("backup", "--to", self.backup, "--data", self.srv.data)
        self.assertEqual(rc, 1, out)
        self.assertIn("is not empty", out)

    def test_verify_passes_and_finds_each_kind_of_damage(self):
        rc, out = otcm("backup", "verify", self.backup)
        self.assertEqual(rc, 0, out)
        self.assertIn("ok:", out)

        changed = self.copy("changed")
        with open(os.path.join(changed, "pg", "PG_VERSION"), "a") as f:
            f.write("\n")
        rc, out = otcm("backup", "verify", changed)
        self.assertEqual(rc, 1, out)
        self.assertIn("'pg/PG_VERSION' does not match", out)
        self.assertIn("backup-integrity", out)

        missing = self.copy("missing")
        os.unlink(os.path.join(missing, "pg", "global", "pg_control"))
        rc, out = otcm("backup", "verify", missing)
        self.assertEqual(rc, 1, out)
        self.assertIn("'pg/global/pg_control' is missing", out)

        extra = self.copy("extra")
        with open(os.path.join(extra, "pg", "planted"), "w") as f:
            f.write("x")
        rc, out = otcm("backup", "verify", extra)
        self.assertEqual(rc, 1, out)
        self.assertIn("'pg/planted' is not in the manifest", out)

        # a file changed together with our manifest: PostgreSQL's manifest still catches it
        both = self.copy("both")
        path = os.path.join(both, "pg", "PG_VERSION")
        with open(path, "a") as f:
            f.write("\n")
        m = self.manifest(both)
        for f in m["files"]:
            if f["path"] == "pg/PG_VERSION":
                with open(path, "rb") as fh:
                    data = fh.read()
                f["sha256"] = hashlib.sha256(data).hexdigest()
                f["size"] = len(data)
        with open(os.path.join(both, "otcm-backup.json"), "w") as f:
            json.dump(m, f)
        rc, out = otcm("backup", "verify", both)
        self.assertEqual(rc, 1, out)
        self.assertIn("pg_verifybackup", out)

        rc, out = otcm("backup", "verify", os.path.join(self.tmp, "nothing-here"))
        self.assertEqual(rc, 1, out)

    def test_restore_serves_what_was_backed_up(self):
        data = os.path.join(self.tmp, "restored")
        rc, out = otcm("restore", "--from", self.backup, "--data", data)
        self.assertEqual(rc, 0, out)
        # a second restore into the same folder changes nothing
        rc, out = otcm("restore", "--from", self.backup, "--data", data)
        self.assertEqual(rc, 1, out)
        self.assertIn("already holds a cluster", out)
        # a damaged backup is not restored at all
        bad = self.copy("bad-for-restore")
        os.unlink(os.path.join(bad, "pg", "PG_VERSION"))
        rc, out = otcm("restore", "--from", bad, "--data", os.path.join(self.tmp, "never"))
        self.assertEqual(rc, 1, out)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never")))

        srv = Server(data=data, admin_password=self.srv.admin_password)
        try:
            srv.start()
            c = srv.admin_client()
            # the backup predates every drill: on the restored server one is due
            r = c.get("/api/v1/drills")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["items"], [])
            self.assertTrue(r.json["overdue"])
            self.assertEqual(r.json["max_age_days"], 90)
            r = c.get("/api/v1/reports/exceptions?from=2020-01-01&to=2100-01-01")
            self.assertEqual(r.status, 200, r)
            missing = r.json["missing_restore_drills"]
            self.assertEqual(len(missing), 1, missing)
            self.assertEqual(missing[0]["rule"], "restore-drill-overdue")
            self.assertIsNone(missing[0].get("last_passed_at"))
            for branch in ("main", "work/b"):
                r = c.get("/api/v1/assets/%d/versions?branch=%s" % (self.asset, branch))
                self.assertEqual(r.status, 200, r)
                self.assertEqual(len(r.json["items"]), 1 if branch == "main" else 2, r)
            srv.stop()
            rc, out = otcm("audit", "verify", "--data", data)
            self.assertEqual(rc, 0, out)
        finally:
            srv.close()

    def test_drill_checks_measures_and_records_signed(self):
        before = len(self.events("drill.record"))
        rc, out = otcm("drill", "--from", self.backup, "--data", self.srv.data, stdout_only=True)
        self.assertEqual(rc, 0, out)
        record = json.loads(out[:out.rindex("}") + 1])
        self.assertIn("drill passed", out)
        self.assertTrue(record["ok"], record)
        names = {c["name"]: c["ok"] for c in record["checks"]}
        for n in ("audit-chain", "checkpoints", "git-objects", "count-assets", "count-versions",
                  "count-changes", "count-events", "last-event"):
            self.assertTrue(names.get(n), (n, record["checks"]))
        self.assertGreater(record["recovery_time_ms"], 0)
        self.assertGreaterEqual(record["recovery_point_ms"], 0)
        self.assertGreaterEqual(record["restored"]["git_objects"],
                                self.manifest()["snapshot"]["counts"]["git_objects"])
        ev = self.events("drill.record")
        self.assertEqual(len(ev), before + 1)
        self.assertTrue(ev[-1]["after"]["ok"] if "after" in ev[-1] else True)
        # the live trail still verifies with the drill's event in it
        rc, out = otcm("audit", "verify", "--data", self.srv.data)
        self.assertEqual(rc, 0, out)

    def test_drills_api_and_page_show_the_signed_records(self):
        rc, out = otcm("drill", "--from", self.backup, "--data", self.srv.data)
        self.assertEqual(rc, 0, out)
        r = self.admin.get("/api/v1/drills")
        self.assertStatus(r, 200)
        self.assertFalse(r.json["overdue"])
        newest = r.json["items"][0]
        self.assertTrue(newest["ok"])
        record = json.loads(newest["record"])
        self.assertEqual(record["recovery_time_ms"], newest["recovery_time_ms"])
        # the record verifies against the server's published key with stock openssl
        pub = self.admin.get("/api/v1/keys/server.pub").body
        with tempfile.TemporaryDirectory() as d:
            paths = {n: os.path.join(d, n) for n in ("pub", "rec", "sig")}
            with open(paths["pub"], "wb") as f:
                f.write(pub)
            with open(paths["rec"], "w") as f:
                f.write(newest["record"])
            with open(paths["sig"], "wb") as f:
                f.write(base64.b64decode(newest["signature"]))
            p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["pub"],
                                "-rawin", "-in", paths["rec"], "-sigfile", paths["sig"]],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(paths["rec"], "w") as f:
                f.write(newest["record"].replace('"ok":true', '"ok":false'))
            p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["pub"],
                                "-rawin", "-in", paths["rec"], "-sigfile", paths["sig"]],
                               capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0, "a changed record still verifies")
        # the reports: the period's drills in the population, none missing among the exceptions
        day = newest["recorded_at"][:10]
        r = self.admin.get("/api/v1/reports/population?from=%s&to=2100-01-01" % day)
        self.assertStatus(r, 200)
        self.assertIn(newest["id"], [d["id"] for d in r.json["restore_drills"]])
        r = self.admin.get("/api/v1/reports/exceptions?from=%s&to=2100-01-01" % day)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["missing_restore_drills"], [])
        # a period that ended before any drill had one missing
        r = self.admin.get("/api/v1/reports/exceptions?from=2020-01-01&to=2021-01-01")
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json["missing_restore_drills"]), 1)
        # auditors read them, engineers do not
        pw = "Aa1!" + "y" * 20
        for name, role in (("aud-d", "auditor"), ("eng-d", "engineer")):
            self.assertStatus(self.admin.post("/api/v1/users", json={
                "username": name, "display_name": name, "role": role, "password": pw}), 201)
        aud, eng = self.client(), self.client()
        self.assertStatus(aud.login("aud-d", pw), 200)
        self.assertStatus(eng.login("eng-d", pw), 200)
        self.assertStatus(aud.get("/api/v1/drills"), 200)
        self.assertStatus(eng.get("/api/v1/drills"), 403)
        self.assertStatus(self.client().get("/api/v1/drills"), 401)
        page = aud.get("/drills", headers={"Accept": "text/html"})
        self.assertStatus(page, 200)
        self.assertIn("Restore drills", page.text)
        self.assertIn("passed", page.text)
        self.assertStatus(eng.get("/drills", headers={"Accept": "text/html"}), 403)

    def test_encrypted_backup(self):
        key = os.path.join(self.tmp, "backup.key")
        with open(key, "w") as f:
            f.write(subprocess.run(["openssl", "rand", "-hex", "32"], capture_output=True,
                                   text=True, check=True).stdout)
        os.chmod(key, 0o600)
        enc = os.path.join(self.tmp, "enc")
        rc, out = otcm("backup", "--to", enc, "--key", key, "--data", self.srv.data)
        self.assertEqual(rc, 0, out)
        m = self.manifest(enc)
        self.assertEqual(len(m["encryption"]["key_id"]), 16)
        # only ciphertext at rest: no clear file, no clear name, no clear content
        self.assertFalse(os.path.exists(os.path.join(enc, ".plain")))
        for f in m["files"]:
            self.assertTrue(f["path"].endswith(".enc"), f["path"])
        self.assertIn("keys/server.key.enc", {f["path"] for f in m["files"]})
        for root, _dirs, files in os.walk(enc):
            for name in files:
                if name in ("otcm-backup.json", "backup.log"):
                    continue
                with open(os.path.join(root, name), "rb") as fh:
                    data = fh.read()
                self.assertNotIn(b"plant-b/line-1/plc", data, name)
                self.assertNotIn(b"PRIVATE KEY", data, name)

        rc, out = otcm("backup", "verify", enc)
        self.assertEqual(rc, 0, out)
        self.assertIn("pg_verifybackup needs the key", out)
        rc, out = otcm("backup", "verify", enc, "--key", key)
        self.assertEqual(rc, 0, out)
        self.assertIn("pg_verifybackup and", out)

        other = os.path.join(self.tmp, "other.key")
        with open(other, "w") as f:
            f.write("ab" * 32 + "\n")
        os.chmod(other, 0o600)
        rc, out = otcm("backup", "verify", enc, "--key", other)
        self.assertEqual(rc, 1, out)
        self.assertIn("is not the one this backup was encrypted with", out)
        os.chmod(other, 0o644)
        rc, out = otcm("backup", "verify", enc, "--key", other)
        self.assertEqual(rc, 1, out)
        self.assertIn("accessible to others", out)
        rc, out = otcm("restore", "--from", enc, "--data", os.path.join(self.tmp, "enc-nokey"))
        self.assertEqual(rc, 1, out)
        self.assertIn("is encrypted: give its key file", out)

        # ciphertext altered together with our manifest: the authentication tag catches it
        bad = os.path.join(self.tmp, "enc-bad")
        shutil.copytree(enc, bad)
        path = os.path.join(bad, "pg", "PG_VERSION.enc")
        with open(path, "r+b") as fh:
            fh.seek(30)
            b = fh.read(1)
            fh.seek(30)
            fh.write(bytes([b[0] ^ 1]))
        mb = self.manifest(bad)
        with open(path, "rb") as fh:
            data = fh.read()
        for f in mb["files"]:
            if f["path"] == "pg/PG_VERSION.enc":
                f["sha256"] = hashlib.sha256(data).hexdigest()
        with open(os.path.join(bad, "otcm-backup.json"), "w") as f:
            json.dump(mb, f)
        rc, out = otcm("backup", "verify", bad, "--key", key)
        self.assertEqual(rc, 1, out)
        self.assertIn("does not decrypt with this key", out)

        # the drill restores the encrypted backup with its key
        rc, out = otcm("drill", "--from", enc, "--key", key, "--data", self.srv.data, stdout_only=True)
        self.assertEqual(rc, 0, out)
        self.assertIn("drill passed", out)

    def test_drill_of_a_damaged_backup_records_nothing(self):
        bad = self.copy("bad-for-drill")
        with open(os.path.join(bad, "pg", "PG_VERSION"), "a") as f:
            f.write("\n")
        before = len(self.events("drill.record"))
        rc, out = otcm("drill", "--from", bad, "--data", self.srv.data)
        self.assertEqual(rc, 1, out)
        self.assertIn("backup-integrity", out)
        self.assertEqual(len(self.events("drill.record")), before)

    def test_drill_as_someone_who_may_not_is_refused(self):
        r = self.admin.post("/api/v1/users", json={"username": "aud-b", "display_name": "Aud",
                                                  "role": "auditor",
                                                  "password": "Aa1!" + "x" * 20})
        self.assertStatus(r, 201)
        rc, out = otcm("drill", "--from", self.backup, "--data", self.srv.data, "--as", "aud-b")
        self.assertEqual(rc, 1, out)
        self.assertIn("may not record a restore drill", out)
        rc, out = otcm("drill", "--from", self.backup, "--data", self.srv.data, "--as", "nobody")
        self.assertEqual(rc, 1, out)
        self.assertIn("no user 'nobody'", out)


class ExternalDatabaseBackupTest(unittest.TestCase):
    """`otcm backup --database URL` of a PostgreSQL the test starts itself, reached as a role
    that may not replicate: a pg_dump backup, verified, restored into a private cluster and
    drilled (docs/operations.md, "An external database")."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = make_tmpdir("otcm-it-extbackup-")
        cls.pg = Postgres(cls.tmp, "external")
        cls.srv = None
        try:
            cls.pg.tool("initdb", "-D", cls.pg.data, "-U", "otcm", "--auth=trust", "-E", "UTF8",
                        "--locale=C", "--no-sync")
            cls.pg.start()
            # the operator's setup: an owner role without REPLICATION, the application role granted to it
            cls.pg.psql("CREATE ROLE plant LOGIN NOREPLICATION; CREATE ROLE otcm_app NOLOGIN; "
                        "GRANT otcm_app TO plant", db="postgres")
            cls.pg.psql("CREATE DATABASE plantdb OWNER plant", db="postgres")
            cls.url = "host=%s user=plant dbname=plantdb" % cls.pg.run
            cls.srv = Server(args=("--database", cls.url))
            cls.srv.start()
            cls.admin = cls.srv.client(token=cls.srv.admin_token())
            r = cls.admin.post("/api/v1/assets", json={"path": "plant-x/line-1/plc", "type": "plc"})
            assert r.status == 201, r
            cls.asset = r.json["id"]
            for n in range(2):
                r = cls.admin.post("/api/v1/assets/%d/versions" % cls.asset,
                                   fields={"message": "speed %d" % n, "branch": "work/x"},
                                   files=[("file", "Line1.L5X", L5X % n)])
                assert r.status == 201, r
            cls.backup = os.path.join(cls.tmp, "b")
            # online: the server keeps serving while the dump runs
            rc, out = otcm("backup", "--to", cls.backup, "--database", cls.url, "--data", cls.srv.data)
            assert rc == 0, out
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv:
            cls.srv.close()
        cls.pg.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def manifest(self, d=None):
        with open(os.path.join(d or self.backup, "otcm-backup.json")) as f:
            return json.load(f)

    def test_a_role_that_may_not_replicate_gets_a_verified_dump(self):
        m = self.manifest()
        self.assertEqual((m["method"], m["source"]), ("pg_dump", "database"))
        self.assertIn("plant", m["roles"])
        self.assertIn("otcm_app", m["roles"])
        paths = {f["path"] for f in m["files"]}
        self.assertIn("dump/toc.dat", paths)
        self.assertIn("keys/server.key", paths)
        self.assertGreaterEqual(m["snapshot"]["counts"]["versions"], 2)
        rc, out = otcm("backup", "verify", self.backup)
        self.assertEqual(rc, 0, out)
        self.assertIn("verifies", out)
        # a damaged data file of the dump is named
        bad = os.path.join(self.tmp, "bad")
        shutil.copytree(self.backup, bad)
        data = sorted(p for p in paths if p.startswith("dump/") and p.endswith(".dat.gz") or
                      p.startswith("dump/") and p.endswith(".dat") and p != "dump/toc.dat")[0]
        with open(os.path.join(bad, data), "ab") as f:
            f.write(b"x")
        rc, out = otcm("backup", "verify", bad)
        self.assertEqual(rc, 1, out)
        self.assertIn("'%s' does not match its SHA-256" % data, out)
        # a table of contents pg_restore cannot read, with the manifest made to agree
        worse = os.path.join(self.tmp, "worse")
        shutil.copytree(self.backup, worse)
        with open(os.path.join(worse, "dump", "toc.dat"), "wb") as f:
            f.write(b"not a table of contents")
        m2 = self.manifest(worse)
        for f in m2["files"]:
            if f["path"] == "dump/toc.dat":
                f["sha256"] = hashlib.sha256(b"not a table of contents").hexdigest()
                f["size"] = len(b"not a table of contents")
        with open(os.path.join(worse, "otcm-backup.json"), "w") as f:
            json.dump(m2, f)
        rc, out = otcm("backup", "verify", worse)
        self.assertEqual(rc, 1, out)
        self.assertIn("pg_restore --list", out)

    def test_a_role_that_may_replicate_gets_a_base_backup_unless_told_otherwise(self):
        su = "host=%s user=otcm dbname=plantdb" % self.pg.run
        base = os.path.join(self.tmp, "base")
        rc, out = otcm("backup", "--to", base, "--database", su, "--data", self.srv.data)
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.manifest(base)["method"], "pg_basebackup")
        self.assertIn("pg/backup_manifest", {f["path"] for f in self.manifest(base)["files"]})
        rc, out = otcm("backup", "verify", base)
        self.assertEqual(rc, 0, out)
        forced = os.path.join(self.tmp, "forced")
        rc, out = otcm("backup", "--to", forced, "--database", su, "--method", "pg_dump", "--data", self.srv.data)
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.manifest(forced)["method"], "pg_dump")
        rc, out = otcm("backup", "--to", os.path.join(self.tmp, "never"), "--database", su, "--method", "rsync")
        self.assertEqual(rc, 1, out)
        self.assertIn("--method must be auto, pg_basebackup or pg_dump", out)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never", "otcm-backup.json")))

    def test_restore_into_a_private_cluster_serves_what_was_backed_up(self):
        data = os.path.join(self.tmp, "restored")
        rc, out = otcm("restore", "--from", self.backup, "--data", data)
        self.assertEqual(rc, 0, out)
        rc, out = otcm("restore", "--from", self.backup, "--data", data)
        self.assertEqual(rc, 1, out)
        self.assertIn("already holds a cluster", out)
        srv = Server(data=data, admin_password=self.srv.admin_password)
        try:
            srv.start()
            c = srv.admin_client()
            r = c.get("/api/v1/assets/%d/versions?branch=work/x" % self.asset)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json["items"]), 2, r)
            # still append-only after the restore: the owner and the privileges came back
            r = c.post("/api/v1/assets/%d/versions" % self.asset, fields={"message": "after", "branch": "work/x"},
                       files=[("file", "Line1.L5X", L5X % 9)])
            self.assertEqual(r.status, 201, r)
            srv.stop()
            rc, out = otcm("audit", "verify", "--data", data)
            self.assertEqual(rc, 0, out)
        finally:
            srv.close()

    def test_drill_of_a_dump_records_its_result_in_the_external_database(self):
        rc, out = otcm("drill", "--from", self.backup, "--database", self.url, "--data", self.srv.data,
                       stdout_only=True)
        self.assertEqual(rc, 0, out)
        record = json.loads(out[:out.rindex("}") + 1])
        self.assertTrue(record["ok"], record)
        names = {c["name"]: c["ok"] for c in record["checks"]}
        for n in ("audit-chain", "checkpoints", "git-objects", "count-versions", "last-event"):
            self.assertTrue(names.get(n), (n, record["checks"]))
        r = self.admin.get("/api/v1/drills")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["items"][0]["ok"])


if __name__ == "__main__":
    unittest.main()
