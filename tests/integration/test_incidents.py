"""Incidents and their NIS2 Art. 23 reporting (docs/incidents.md).

An incident judged significant starts three deadlines from the server's
clock: the early warning (24 h), the notification (72 h) and the final
report (a month after the notification).  The deadlines are made to pass by
backdating the incident in the test's own database (psql on the server's
private cluster), never through anything a client can send.  Each report is
kept with its document's SHA-256; an approver signs the review; the
incident's evidence bundle is checked by `otcm verify` like a change's, and
a tampered one is refused.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

from harness import ServerTestCase, otcm_bin, strong_password

PSQL = shutil.which("psql")


def tar_files(data):
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name] = t.extractfile(m).read()
    return out


def make_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            t.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()


class Incidents(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not PSQL:
            raise unittest.SkipTest("psql not installed")
        admin = cls.srv.admin_client()
        cls.admin = admin
        cls.pw = {}
        cls.c = {}
        for name, role in (("eng", "engineer"), ("appr", "approver"), ("aud", "auditor"), ("bot", "agent")):
            pw = strong_password()
            r = admin.post("/api/v1/users", json={"username": name, "display_name": name.title() + " Person",
                                                  "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200, name
            cls.pw[name] = pw
            cls.c[name] = c
        r = admin.post("/api/v1/assets", json={"path": "plant/line1/plc", "type": "plc"})
        assert r.status == 201, r
        cls.asset = r.json["id"]

    def psql(self, sql):
        conninfo = "host=%s user=otcm dbname=otcm" % os.path.join(self.srv.data, "run")
        r = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def create(self, **kw):
        body = {"title": "Unknown logic change on PLC", "category": "unauthorised_change",
                "severity": "high", "assets": [self.asset]}
        body.update(kw)
        r = self.c["eng"].post("/api/v1/incidents", json=body)
        self.assertStatus(r, 201)
        return r.json

    def report(self, key, kind, data=b"%PDF-1.4 report\n", name="report.pdf", who="eng"):
        return self.c[who].post("/api/v1/incidents/%s/reports" % key,
                                fields={"kind": kind, "authority": "CSIRT-DE (BSI)", "reference": "BSI-2026-1"},
                                files=[("file", name, data)])

    def backdate(self, key, hours):
        n = int(key.split("-")[1])
        self.psql("UPDATE incidents SET detected_at = detected_at - interval '%d hours',"
                  " significant_at = significant_at - interval '%d hours' WHERE id = %d" % (hours, hours, n))

    def deadlines(self, key):
        r = self.c["aud"].get("/api/v1/incidents/" + key)
        self.assertStatus(r, 200)
        return {d["obligation"]: d for d in r.json["deadlines"]}

    def verify(self, data, *args):
        with tempfile.NamedTemporaryFile(suffix=".tar", delete=False) as f:
            f.write(data)
        try:
            p = subprocess.run([otcm_bin(), "verify", f.name] + list(args), capture_output=True, text=True,
                               timeout=120)
        finally:
            os.unlink(f.name)
        return p.returncode, p.stdout + p.stderr

    # -- input and permissions --

    def test_bad_input_is_refused_naming_the_field_and_changes_nothing(self):
        before = self.c["aud"].get("/api/v1/incidents?limit=500").json["items"]
        cases = [
            ({"category": "other", "severity": "low"}, "title"),
            ({"title": "", "category": "other", "severity": "low"}, "title"),
            ({"title": "x" * 201, "category": "other", "severity": "low"}, "title"),
            ({"title": "t", "category": "meteor", "severity": "low"}, "category"),
            ({"title": "t", "category": "other", "severity": "extreme"}, "severity"),
            ({"title": "t", "category": "other", "severity": "low", "assets": [999999]}, "assets"),
            ({"title": "t", "category": "other", "severity": "low", "assets": ["plc"]}, "assets"),
            ({"title": "t", "category": "other", "severity": "low", "significant": "yes"}, "significant"),
            ({"title": "t", "category": "other", "severity": "low", "detected_at": "2020-01-01"}, "detected_at"),
        ]
        for body, field in cases:
            r = self.c["eng"].post("/api/v1/incidents", json=body)
            self.assertStatus(r, 400)
            self.assertEqual(r.json.get("field"), field, r)
        self.assertEqual(self.c["aud"].get("/api/v1/incidents?limit=500").json["items"], before)
        inc = self.create()
        for body, field in [({"significant": False, "state": "open"}, "state"), ({"bogus": 1}, "bogus")]:
            r = self.c["eng"].patch("/api/v1/incidents/" + inc["key"], json=body)
            self.assertStatus(r, 400)
            self.assertEqual(r.json.get("field"), field, r)
        r = self.c["eng"].post("/api/v1/incidents/%s/links" % inc["key"], json={"kind": "audit_event", "ref": "0"})
        self.assertStatus(r, 400)
        r = self.c["eng"].post("/api/v1/incidents/%s/links" % inc["key"],
                               json={"kind": "audit_event", "ref": "9" * 19})
        self.assertStatus(r, 400)
        for kind, ref in (("audit_event", "99999999"), ("change", "CHG-99999"), ("test_run", "99999"),
                          ("readback", "99999")):
            r = self.c["eng"].post("/api/v1/incidents/%s/links" % inc["key"], json={"kind": kind, "ref": ref})
            self.assertStatus(r, 404)
        r = self.c["eng"].post("/api/v1/incidents/%s/links" % inc["key"],
                               json={"kind": "audit_event", "ref": "99999999"})
        self.assertStatus(r, 404)
        self.assertEqual(r.json.get("field"), "ref")
        self.assertStatus(self.c["eng"].get("/api/v1/incidents/INC-99999"), 404)

    def test_roles(self):
        body = {"title": "t", "category": "other", "severity": "low"}
        self.assertStatus(self.c["aud"].post("/api/v1/incidents", json=body), 403)
        self.assertStatus(self.c["bot"].get("/api/v1/incidents"), 403)
        inc = self.create()
        r = self.c["eng"].post("/api/v1/incidents/%s/review" % inc["key"],
                               json={"meaning": "reviewed", "password": self.pw["eng"], "comment": "mine"})
        self.assertStatus(r, 403)
        r = self.admin.post("/api/v1/incidents/%s/review" % inc["key"],
                            json={"meaning": "reviewed", "password": self.srv.admin_password, "comment": "x"})
        self.assertStatus(r, 403)
        r = self.c["appr"].post("/api/v1/incidents/%s/review" % inc["key"],
                                json={"meaning": "reviewed", "password": "wrong-password-1", "comment": "x"})
        self.assertStatus(r, 401)
        self.assertEqual(self.c["aud"].get("/api/v1/incidents/" + inc["key"]).json["reviews"], [])

    # -- deadlines --

    def test_not_significant_has_no_deadlines_and_no_reports(self):
        inc = self.create(significant=False)
        self.assertEqual(inc["deadlines"], [])
        self.assertIsNone(inc["significant_at"])
        r = self.report(inc["key"], "early_warning")
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "incident-not-significant")
        r = self.c["eng"].patch("/api/v1/incidents/" + inc["key"], json={"significant": True})
        self.assertStatus(r, 200)
        self.assertIsNotNone(r.json["significant_at"])
        dl = {d["obligation"]: d for d in r.json["deadlines"]}
        self.assertEqual(dl["early_warning"]["status"], "pending")
        self.assertGreater(dl["early_warning"]["seconds_left"], 23 * 3600)
        self.assertLessEqual(dl["early_warning"]["seconds_left"], 24 * 3600)
        self.assertGreater(dl["notification"]["seconds_left"], 71 * 3600)
        r = self.c["eng"].patch("/api/v1/incidents/" + inc["key"], json={"significant": False})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "incident-significance-final")

    def test_deadlines_pass_reports_close_and_evidence(self):
        inc = self.create(significant=True, title="Drift on line 1 PLC")
        key = inc["key"]
        # an event to link: the asset's registration stands in for a drift event
        events = self.admin.get("/api/v1/audit?after=0&limit=500").json["items"]
        seq = [e["seq"] for e in events if e["action"] == "asset.create"][0]
        r = self.c["eng"].post("/api/v1/incidents/%s/links" % key,
                               json={"kind": "audit_event", "ref": str(seq), "note": "the drift"})
        self.assertStatus(r, 201)
        self.assertStatus(self.c["eng"].post("/api/v1/incidents/%s/links" % key,
                                             json={"kind": "audit_event", "ref": str(seq)}), 409)
        # an event of another incident may be linked too (a related incident's finding)
        other = self.create(title="Related finding")["key"]
        events = self.admin.get("/api/v1/audit?after=0&limit=1000").json["items"]
        other_seq = [e["seq"] for e in events if e["action"] == "incident.create" and e["object_id"] == other][0]
        self.assertStatus(self.c["eng"].post("/api/v1/incidents/%s/links" % key,
                                             json={"kind": "audit_event", "ref": str(other_seq)}), 201)

        # five days pass: early warning and notification are overdue
        self.backdate(key, 5 * 24)
        dl = self.deadlines(key)
        self.assertEqual(dl["early_warning"]["status"], "overdue")
        self.assertEqual(dl["notification"]["status"], "overdue")
        self.assertEqual(dl["final_report"]["status"], "pending")
        ex = self.c["aud"].get("/api/v1/reports/exceptions?from=2020-01-01&to=2100-01-01")
        self.assertStatus(ex, 200)
        mine = [x for x in ex.json["overdue_incident_reports"] if x["incident"] == key]
        self.assertEqual(sorted(x["obligation"] for x in mine), ["early_warning", "notification"])
        self.assertTrue(all(x["rule"] == "incident-report-overdue" for x in mine))
        pop = self.c["aud"].get("/api/v1/reports/population?from=2020-01-01&to=2100-01-01")
        self.assertIn(key, [x["key"] for x in pop.json["incidents"]])
        page = self.c["aud"].get("/incidents/" + key)
        self.assertStatus(page, 200)
        self.assertIn("overdue", page.text)

        # a final report needs the notification first
        r = self.report(key, "final")
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "incident-notification-first")
        doc = b"%PDF-1.4\nearly warning and notification\n"
        r = self.report(key, "notification", data=doc, name="../../notification.pdf")
        self.assertStatus(r, 201)
        self.assertEqual(r.json["sha256"], hashlib.sha256(doc).hexdigest())
        self.assertEqual(r.json["filename"], "notification.pdf")
        got = self.c["aud"].get("/api/v1/incidents/%s/reports/%d" % (key, r.json["id"]))
        self.assertStatus(got, 200)
        self.assertEqual(got.body, doc)
        dl = self.deadlines(key)
        self.assertEqual(dl["early_warning"]["status"], "late")
        self.assertEqual(dl["notification"]["status"], "late")
        self.assertEqual(dl["final_report"]["status"], "pending")
        self.assertEqual(dl["final_report"]["basis"], "one month after the incident notification was sent")
        ex = self.c["aud"].get("/api/v1/reports/exceptions?from=2020-01-01&to=2100-01-01")
        mine = [x for x in ex.json["overdue_incident_reports"] if x["incident"] == key]
        self.assertEqual(sorted(x["rule"] for x in mine), ["incident-report-late", "incident-report-late"])

        # closing needs the review and the final report
        r = self.c["eng"].patch("/api/v1/incidents/" + key, json={"state": "closed"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "incident-review-missing")
        r = self.c["appr"].post("/api/v1/incidents/%s/review" % key,
                                json={"meaning": "reviewed", "password": self.pw["appr"],
                                      "comment": "root cause: shared engineering laptop; fixed by CHG"})
        self.assertStatus(r, 201)
        self.assertEqual(r.json["printed_name"], "Appr Person")
        self.assertEqual(r.json["content_sha256"], hashlib.sha256(r.json["content"].encode()).hexdigest())
        r = self.c["eng"].patch("/api/v1/incidents/" + key, json={"state": "closed"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "incident-final-report-missing")
        self.assertStatus(self.report(key, "final", data=b"final report\n", name="final.txt"), 201)
        r = self.c["eng"].patch("/api/v1/incidents/" + key, json={"state": "closed"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["state"], "closed")
        dl = {d["obligation"]: d for d in r.json["deadlines"]}
        self.assertEqual(dl["final_report"]["status"], "met")
        r = self.c["eng"].patch("/api/v1/incidents/" + key, json={"title": "rewritten"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "incident-closed")

        # the evidence bundle verifies offline, pinned to the server's key
        r = self.c["aud"].get("/api/v1/incidents/%s/evidence" % key)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("X-Content-SHA256"), hashlib.sha256(r.body).hexdigest())
        data = r.body
        files = tar_files(data)
        record = json.loads(files["incident.json"])
        self.assertEqual(record["key"], key)
        self.assertEqual(files["reports/%d-notification.pdf" % record["reports"][0]["id"]], doc)
        self.assertTrue(any(n.startswith("statements/review-") for n in files))
        pub = self.c["aud"].get("/api/v1/keys/server.pub").body
        with tempfile.NamedTemporaryFile(suffix=".pub", delete=False) as f:
            f.write(pub)
        try:
            code, out = self.verify(data, "--trust", f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(code, 0, out)
        self.assertIn("incident.json: " + key, out)
        self.assertIn("late  early_warning", out)
        self.assertIn("met   final_report", out)
        self.assertIn("verified: every check passed", out)
        events = [json.loads(l) for l in files["audit/events.jsonl"].decode().splitlines()]
        self.assertIn(seq, [e["seq"] for e in events])
        self.assertIn(other_seq, [e["seq"] for e in events])
        self.assertIn("incident.close", [e["action"] for e in events])
        # the same bytes while nothing happens
        self.assertEqual(self.c["aud"].get("/api/v1/incidents/%s/evidence" % key).body, data)

        # tampered: a report's document, the deadlines, an added file
        t = dict(files)
        name = [n for n in t if n.startswith("reports/") and n.endswith("notification.pdf")][0]
        t[name] = t[name].replace(b"notification", b"NOTIFICATION")
        code, out = self.verify(make_tar(t))
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL  manifest: %s was changed" % name, out)
        self.assertIn("its SHA-256 is not the one incident.json records", out)
        t = dict(files)
        rec = json.loads(t["incident.json"])
        rec["deadlines"][0]["status"] = "met"
        t["incident.json"] = json.dumps(rec).encode()
        code, out = self.verify(make_tar(t))
        self.assertEqual(code, 1, out)
        self.assertIn("the deadlines in incident.json are not the ones its records give", out)
        t = dict(files)
        t["reports/999-extra.pdf"] = b"slipped in"
        code, out = self.verify(make_tar(t))
        self.assertEqual(code, 1, out)
        self.assertIn("reports/999-extra.pdf is in the bundle but not in the manifest", out)

    def test_pages_list_and_forms(self):
        import urllib.parse
        inc = self.create(significant=True, title="Ransomware note on HMI")
        r = self.c["eng"].get("/incidents")
        self.assertStatus(r, 200)
        self.assertIn(inc["key"], r.text)
        self.assertIn("countdown", r.text)
        r = self.c["eng"].get("/incidents/" + inc["key"])
        self.assertStatus(r, 200)
        self.assertIn("NIS2 Art. 23(4)(a)", r.text)
        self.assertIn('data-due="', r.text)
        form = {"title": "Seen on the page", "category": "malware", "severity": "medium",
                "assets": str(self.asset), "significant": "yes", "csrf_token": self.c["eng"].csrf}
        r = self.c["eng"].request("POST", "/incidents/new", body=urllib.parse.urlencode(form),
                                  content_type="application/x-www-form-urlencoded")
        self.assertStatus(r, 303)
        got = self.c["aud"].get("/api/v1" + r.headers["Location"].split("?")[0])
        self.assertStatus(got, 200)
        self.assertEqual(got.json["title"], "Seen on the page")
        self.assertEqual([a["id"] for a in got.json["assets"]], [self.asset])
        # the incident page's forms call the same operations as the API
        key = got.json["key"]

        def page_post(who, path, fields):
            fields = dict(fields, csrf_token=self.c[who].csrf)
            return self.c[who].request("POST", path, body=urllib.parse.urlencode(fields),
                                       content_type="application/x-www-form-urlencoded")

        page = self.c["appr"].get("/incidents/" + key)
        self.assertIn('action="/incidents/%s/review"' % key, page.text)
        self.assertNotIn('/review"', self.c["eng"].get("/incidents/" + key).text)
        r = page_post("eng", "/incidents/%s/edit" % key, {"action": "close"})
        self.assertStatus(r, 409)
        self.assertIn("incident-review-missing", r.text)
        r = page_post("eng", "/incidents/%s/links" % key, {"kind": "change", "ref": "CHG-77777"})
        self.assertStatus(r, 404)
        r = self.c["eng"].request("POST", "/incidents/%s/reports" % key,
                                  fields={"kind": "early_warning", "authority": "CSIRT", "csrf_token": self.c["eng"].csrf},
                                  files=[("file", "warning.txt", b"early warning\n")])
        self.assertStatus(r, 303)
        r = page_post("appr", "/incidents/%s/review" % key, {"comment": "handled", "password": "wrong-password-9"})
        self.assertStatus(r, 401)
        r = page_post("appr", "/incidents/%s/review" % key, {"comment": "handled", "password": self.pw["appr"]})
        self.assertStatus(r, 303)
        inc = self.c["aud"].get("/api/v1/incidents/" + key).json
        self.assertEqual([x["kind"] for x in inc["reports"]], ["early_warning"])
        self.assertEqual(inc["reports"][0]["sha256"], hashlib.sha256(b"early warning\n").hexdigest())
        self.assertEqual(len(inc["reviews"]), 1)
        dl = {d["obligation"]: d for d in inc["deadlines"]}
        self.assertEqual(dl["early_warning"]["status"], "met")
        r = page_post("eng", "/incidents/%s/edit" % key, {"action": "close"})
        self.assertStatus(r, 409)
        self.assertIn("incident-final-report-missing", r.text)
        r = self.c["eng"].patch("/api/v1/incidents/" + key, json={})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "body")

        form["severity"] = "extreme"
        r = self.c["eng"].request("POST", "/incidents/new", body=urllib.parse.urlencode(form),
                                  content_type="application/x-www-form-urlencoded")
        self.assertStatus(r, 400)
        self.assertIn("severity", r.text)


if __name__ == "__main__":
    unittest.main()
