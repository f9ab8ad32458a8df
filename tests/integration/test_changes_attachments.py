"""Photos and logs attached to the steps of a test run.

An attachment is stored as a git blob with a record naming the run, the
step, the file name, the content type recognised from its bytes, its size
and SHA-256, who attached it and when; it is audited, and refused once the
run is signed (rule run-completed), as is a step edited after signing.
"""

import hashlib
import unittest

from harness import ServerTestCase, strong_password

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
LOG = "12:00:01 pump P-101 started\n12:00:09 level 90 % alarm raised \u2713\n".encode("utf-8")
CSV = b"tag,value,unit\nLT101.HH,90,%\n"
MAX_ATTACHMENT = 4096


class Attachments(ServerTestCase):

    server_args = ("--max-attachment", str(MAX_ATTACHMENT))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.pw, cls.c = {"admin": cls.srv.admin_password}, {"admin": cls.admin}
        for name, role in (("eng", "engineer"), ("eng2", "engineer"), ("appr", "approver"),
                           ("qa1", "qa"), ("qa2", "qa"), ("aud", "auditor"), ("agent1", "agent")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={"username": name, "display_name": name.upper(),
                                                      "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name], cls.c[name] = pw, c
        r = cls.c["qa1"].post("/api/v1/protocols", json={
            "name": "fat-pump", "kind": "fat", "title": "FAT pump",
            "steps": [{"instruction": "start the pump", "expected": "pump runs"},
                      {"instruction": "raise the level", "expected": "alarm at 90%"}]})
        assert r.status == 201, r
        cls.protocol = r.json
        cls.nasset = 0

    # -- helpers --

    def run_in_fat(self):
        """A change in FAT on a fresh asset and an open FAT run on it: (key, asset id, run)."""
        type(self).nasset += 1
        r = self.admin.post("/api/v1/assets", json={"path": "plant/att%d/plc" % self.nasset, "type": "plc"})
        self.assertStatus(r, 201)
        aid = r.json["id"]
        self.assertStatus(self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                                          files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")]), 201)
        r = self.c["eng"].post("/api/v1/changes", json={
            "type": "normal", "title": "Tune alarm", "reason": "trips", "risk": "low",
            "implementation_plan": "edit", "rollback_plan": "redeploy", "affected_assets": [aid]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/transitions" % key, json={"to": "submitted"}), 200)
        self.assertStatus(self.c["appr"].post("/api/v1/changes/%s/signatures" % key,
                                              json={"meaning": "authorised", "password": self.pw["appr"]}), 201)
        self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/transitions" % key, json={"to": "implementing"}), 200)
        self.assertStatus(self.c["eng2"].post("/api/v1/assets/%d/versions" % aid,
                                              fields={"message": "v1", "change": key},
                                              files=[("file", "main.st", "PROGRAM main (* v1 *) END_PROGRAM\n")]), 201)
        self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/transitions" % key, json={"to": "fat"}), 200)
        r = self.c["qa1"].post("/api/v1/changes/%s/test-runs" % key,
                               json={"protocol_id": self.protocol["id"], "asset_id": aid})
        self.assertStatus(r, 201)
        return key, aid, r.json

    def attach(self, run_id, no, filename, data, who="qa1", ctype="application/octet-stream", status=201):
        r = self.c[who].post("/api/v1/test-runs/%d/steps/%d/attachments" % (run_id, no),
                             files=[("file", filename, data, ctype)])
        self.assertStatus(r, status)
        return r

    def audit(self, action):
        r = self.admin.get("/api/v1/audit?limit=1000")
        self.assertStatus(r, 200)
        return [e for e in r.json["items"] if e["action"] == action]

    # -- tests --

    def test_attach_read_back_every_type(self):
        _, _, run = self.run_in_fat()
        rid = run["id"]
        cases = [("pump.png", PNG, "image/png"), ("panel.JPG", JPEG, "image/jpeg"),
                 ("report.pdf", PDF, "application/pdf"), ("trend.log", LOG, "text/plain"),
                 ("values.csv", CSV, "text/csv")]
        ids = []
        for name, data, want in cases:
            # what the client claims does not matter: the bytes decide
            a = self.attach(rid, 1, name, data, ctype="text/html").json
            self.assertEqual(a["content_type"], want, name)
            self.assertEqual(a["filename"], name)
            self.assertEqual(a["size"], len(data))
            self.assertEqual(a["sha256"], hashlib.sha256(data).hexdigest())
            self.assertEqual(a["step"], 1)
            self.assertEqual(a["run_id"], rid)
            self.assertEqual(a["uploaded_by"], "qa1")
            self.assertRegex(a["uploaded_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertRegex(a["blob"], r"^[0-9a-f]{40}$")
            # the blob id is git's
            self.assertEqual(a["blob"], hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())
            ids.append(a["id"])
            got = self.c["aud"].get("/api/v1/test-runs/%d/attachments/%d" % (rid, a["id"]))
            self.assertStatus(got, 200)
            self.assertEqual(got.body, data)
            self.assertEqual(got.headers.get("Content-Type"), want)
            self.assertEqual(got.headers.get("X-Content-Type-Options"), "nosniff")
            self.assertTrue(got.headers.get("Content-Disposition", "").startswith("attachment;"), got.headers)
            self.assertIn('filename="%s"' % name, got.headers.get("Content-Disposition"))

        # the run lists them, and each attachment is an audit event
        full = self.c["aud"].get("/api/v1/test-runs/%d" % rid).json
        self.assertEqual([a["id"] for a in full["attachments"]], ids)
        events = [e for e in self.audit("test-run.attachment") if e["object_id"] == str(rid)]
        self.assertEqual(len(events), len(cases))
        self.assertEqual(events[0]["after"]["sha256"], hashlib.sha256(PNG).hexdigest())

        # an attachment belongs to its run
        other = self.run_in_fat()[2]
        self.assertStatus(self.c["aud"].get("/api/v1/test-runs/%d/attachments/%d" % (other["id"], ids[0])), 404)
        self.assertStatus(self.c["aud"].get("/api/v1/test-runs/%d/attachments/999999" % rid), 404)
        self.assertStatus(self.c["agent1"].get("/api/v1/test-runs/%d/attachments/%d" % (rid, ids[0])), 403)

    def test_refusals(self):
        _, _, run = self.run_in_fat()
        rid = run["id"]
        # other content: 415 naming the field
        for name, data in (("page.html", b"<html>\x00</html>"), ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
                           ("latin1.log", b"Temperatur \xfcber Grenze\n"), ("archive.zip", b"PK\x03\x04\x14\x00")):
            r = self.attach(rid, 1, name, data, status=415)
            self.assertEqual(r.json["field"], "file", name)
        # too large: 413
        r = self.attach(rid, 1, "big.log", b"x" * (MAX_ATTACHMENT + 1), status=413)
        self.assertEqual(r.json["field"], "file")
        self.attach(rid, 1, "fits.log", b"x" * MAX_ATTACHMENT)
        # empty, missing part, no such step, no such run, wrong role
        self.assertEqual(self.attach(rid, 1, "empty.log", b"", status=400).json["field"], "file")
        r = self.c["qa1"].post("/api/v1/test-runs/%d/steps/1/attachments" % rid, fields={"note": "no file"})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "file")
        self.attach(rid, 3, "a.log", LOG, status=404)
        self.attach(999999, 1, "a.log", LOG, status=404)
        self.attach(rid, 1, "a.log", LOG, who="eng", status=403)
        self.attach(rid, 1, "a.log", LOG, who="aud", status=403)
        # a path in the file name is dropped
        a = self.attach(rid, 2, "../../etc/passwd.log", LOG).json
        self.assertEqual(a["filename"], "passwd.log")

    def test_signed_run_takes_no_more_steps_or_attachments(self):
        key, aid, run = self.run_in_fat()
        rid = run["id"]
        for no in (1, 2):
            self.assertStatus(self.c["qa1"].put("/api/v1/test-runs/%d/steps/%d" % (rid, no),
                                                json={"result": "pass", "observed": "ok"}), 200)
        self.attach(rid, 2, "trend.log", LOG)
        signed = self.c["qa1"].post("/api/v1/test-runs/%d/signatures" % rid,
                                    json={"meaning": "tested", "password": self.pw["qa1"]})
        self.assertStatus(signed, 201)
        # what was signed names the attachment's hash
        self.assertEqual(signed.json["content"]["attachments"][0]["sha256"], hashlib.sha256(LOG).hexdigest())

        r = self.attach(rid, 1, "late.png", PNG, status=409)
        self.assertEqual(r.json["rule"], "run-completed")
        r = self.c["qa1"].put("/api/v1/test-runs/%d/steps/1" % rid, json={"result": "fail", "observed": "edited"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "run-completed")
        got = self.c["aud"].get("/api/v1/test-runs/%d" % rid).json
        self.assertEqual(got["steps"][0]["result"], "pass")
        self.assertEqual(len(got["attachments"]), 1)
        refused = [e for e in self.audit("test-run.attachment.refused") if e["object_id"] == str(rid)]
        self.assertEqual(refused[-1]["after"]["rule"], "run-completed")
        refused = [e for e in self.audit("test-run.step.refused") if e["object_id"] == str(rid)]
        self.assertEqual(refused[-1]["after"]["rule"], "run-completed")

    def test_stale_run_takes_no_attachments(self):
        key, aid, run = self.run_in_fat()
        self.assertStatus(self.c["eng2"].post("/api/v1/assets/%d/versions" % aid,
                                              fields={"message": "v2", "change": key},
                                              files=[("file", "main.st", "PROGRAM main (* v2 *) END_PROGRAM\n")]), 201)
        r = self.attach(run["id"], 1, "late.log", LOG, status=409)
        self.assertEqual(r.json["rule"], "stale-run")


if __name__ == "__main__":
    unittest.main()
