"""Reports of a period: the population of changes (JSON and CSV) and the
exceptions (an emergency change deployed without approval and overdue, a
refused self-approval), each with the checkpoints at the start and end of
the period and the consistency proof between them, each an audit event.
"""

import csv
import io
import time
import unittest
from datetime import datetime, timedelta, timezone

from harness import ServerTestCase, strong_password


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Reports(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start = datetime.now(timezone.utc) - timedelta(minutes=1)
        cls.admin = cls.srv.admin_client()
        assert cls.admin.post("/api/v1/audit/checkpoint").status in (200, 201)
        cls.pw, cls.c = {"admin": cls.srv.admin_password}, {"admin": cls.admin}
        for name, role in (("eng", "engineer"), ("appr", "approver"), ("aud", "auditor"), ("agent1", "agent")):
            pw = strong_password()
            assert cls.admin.post("/api/v1/users", json={"username": name, "display_name": name, "role": role,
                                                         "password": pw}).status == 201
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name], cls.c[name] = pw, c
        r = cls.admin.post("/api/v1/assets", json={"path": "plant/rep/plc", "type": "plc"})
        cls.aid = r.json["id"]
        cls.admin.post("/api/v1/assets/%d/versions" % cls.aid, fields={"message": "baseline"},
                       files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")])
        # an emergency change deployed before any approval, with no time to approve it
        assert cls.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 0}).status == 200
        cls.emerg = cls.raise_change("emergency", "eng")
        cls.move(cls.emerg, "submitted", "eng")
        assert cls.sign(cls.emerg, "authorised", "appr").status == 201
        cls.move(cls.emerg, "implementing", "eng")
        v = cls.c["eng"].post("/api/v1/assets/%d/versions" % cls.aid, fields={"message": "hot", "change": cls.emerg},
                              files=[("file", "main.st", "PROGRAM main (* hot *) END_PROGRAM\n")]).json
        # first a deployment whose device read-back does not match the tree
        r = cls.c["eng"].post("/api/v1/changes/%s/deployments" % cls.emerg,
                              json={"asset_id": cls.aid, "commit": v["commit"], "readback_sha256": "0" * 64})
        assert r.status == 201 and r.json["flagged"], r
        cls.mismatch = r.json["id"]
        assert cls.c["eng"].post("/api/v1/changes/%s/deployments" % cls.emerg,
                                 json={"asset_id": cls.aid, "commit": v["commit"]}).status == 201
        cls.move(cls.emerg, "deployed", "eng")
        assert cls.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 259200}).status == 200
        # a requester trying to authorise their own change
        cls.selfish = cls.raise_change("normal", "admin")
        cls.move(cls.selfish, "submitted", "admin")
        r = cls.sign(cls.selfish, "authorised", "admin")
        assert r.status == 409 and r.json["rule"] == "segregation-of-duties", r
        time.sleep(0.05)
        cls.end = datetime.now(timezone.utc) + timedelta(minutes=1)

    @classmethod
    def raise_change(cls, ctype, who):
        r = cls.c[who].post("/api/v1/changes", json={
            "type": ctype, "title": "t, with \"quotes\"", "reason": "r", "risk": "low", "implementation_plan": "i",
            "rollback_plan": "b", "affected_assets": [cls.aid]})
        assert r.status == 201, r
        return r.json["key"]

    @classmethod
    def move(cls, key, to, who):
        r = cls.c[who].post("/api/v1/changes/%s/transitions" % key, json={"to": to})
        assert r.status == 200, r

    @classmethod
    def sign(cls, key, meaning, who):
        return cls.c[who].post("/api/v1/changes/%s/signatures" % key, json={"meaning": meaning, "password": cls.pw[who]})

    def period(self):
        return "from=%s&to=%s" % (iso(self.start), iso(self.end))

    def test_population_json_and_csv(self):
        r = self.c["aud"].get("/api/v1/reports/population?" + self.period())
        self.assertStatus(r, 200)
        items = {i["key"]: i for i in r.json["items"]}
        self.assertIn(self.emerg, items)
        self.assertIn(self.selfish, items)
        e = items[self.emerg]
        self.assertEqual((e["type"], e["state"], e["requester"]), ("emergency", "deployed", "eng"))
        self.assertEqual(e["implementers"], ["eng"])
        self.assertEqual(e["approvers"], ["appr"])
        self.assertEqual(e["assets"], ["plant/rep/plc"])
        self.assertEqual(len(e["trees"][0]["tree"]), 40)
        self.assertIsNotNone(e["deployed_at"])
        self.assertIn("tree_size", r.json["start_checkpoint"])
        self.assertGreaterEqual(r.json["end_checkpoint"]["tree_size"], r.json["start_checkpoint"]["tree_size"])
        self.assertIsInstance(r.json["consistency_proof"], list)

        r = self.c["aud"].get("/api/v1/reports/population?format=csv&" + self.period())
        self.assertStatus(r, 200)
        self.assertTrue(r.headers.get("Content-Type").startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(r.text)))
        got = {row["key"]: row for row in rows}
        self.assertEqual(got[self.emerg]["title"], 't, with "quotes"')
        self.assertEqual(got[self.emerg]["approvers"], "appr")
        self.assertTrue(got[self.emerg]["trees"].startswith("plant/rep/plc="))
        self.assertTrue(r.headers.get("X-Otcm-Checkpoint-End"))

        # a period before everything holds none of them
        r = self.c["aud"].get("/api/v1/reports/population?from=2000-01-01T00:00:00Z&to=2000-02-01T00:00:00Z")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["items"], [])

    def test_exceptions(self):
        r = self.c["aud"].get("/api/v1/reports/exceptions?" + self.period())
        self.assertStatus(r, 200)
        ex = r.json
        self.assertIn(self.emerg, [d["change"] for d in ex["deployments_without_approval"]])
        self.assertIn(self.emerg, [d["change"] for d in ex["overdue_emergency_changes"]])
        refused = [e for e in ex["refused_self_approvals"] if e["object_id"] == self.selfish]
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0]["actor"], "admin")
        mism = [d for d in ex["readback_mismatches"] if d["deployment"] == self.mismatch]
        self.assertEqual(len(mism), 1, ex["readback_mismatches"])
        self.assertEqual(mism[0]["change"], self.emerg)
        self.assertEqual(mism[0]["readback_sha256"], "0" * 64)
        self.assertEqual(len(ex["readback_mismatches"]), 1)  # the matching one is not listed
        for k in ("stale_approvals", "releases_outside_window"):
            self.assertIsInstance(ex[k], list)
        self.assertIn("note", ex["end_checkpoint"])
        self.assertIsInstance(ex["consistency_proof"], list)

    def test_reports_are_audited_and_checked(self):
        self.assertStatus(self.c["aud"].get("/api/v1/reports/exceptions?" + self.period()), 200)
        events = self.admin.get("/api/v1/audit?limit=1000").json["items"]
        mine = [e for e in events if e["action"] == "report.exceptions" and e["actor"] == "aud"]
        self.assertTrue(mine)
        self.assertEqual(mine[-1]["after"]["deployments_without_approval"], 2)  # both deployments of the emergency change
        self.assertStatus(self.c["aud"].get("/api/v1/reports/population"), 400)
        self.assertStatus(self.c["aud"].get("/api/v1/reports/population?from=yesterday&to=today"), 400)
        self.assertStatus(self.c["aud"].get("/api/v1/reports/population?format=xml&" + self.period()), 400)

    def test_reports_reuse_the_newest_checkpoint(self):
        # a period running into the future: the report needs every event up to now, no more
        q = "from=%s&to=2099-01-01T00:00:00Z" % iso(self.start)
        first = self.c["aud"].get("/api/v1/reports/population?" + q)
        self.assertStatus(first, 200)
        newest = self.admin.get("/api/v1/audit/checkpoint").json["tree_size"]
        self.assertEqual(first.json["end_checkpoint"]["tree_size"], newest)
        # reports add only their own events: no second checkpoint, the same end
        for report in ("exceptions", "population", "population"):
            r = self.c["aud"].get("/api/v1/reports/%s?%s" % (report, q))
            self.assertStatus(r, 200)
            self.assertEqual(r.json["end_checkpoint"]["tree_size"], newest)
        self.assertEqual(self.admin.get("/api/v1/audit/checkpoint").json["tree_size"], newest)
        # a change to the records is an event the next report needs: one new checkpoint covers it
        r = self.admin.post("/api/v1/assets", json={"path": "plant/rep/hmi-%d" % time.time_ns(), "type": "hmi"})
        self.assertStatus(r, 201)
        r = self.c["aud"].get("/api/v1/reports/exceptions?" + q)
        self.assertStatus(r, 200)
        later = self.admin.get("/api/v1/audit/checkpoint").json["tree_size"]
        self.assertGreater(later, newest)
        self.assertEqual(r.json["end_checkpoint"]["tree_size"], later)
        self.assertEqual(r.json["start_checkpoint"]["tree_size"], first.json["start_checkpoint"]["tree_size"])

    def test_period_is_validated(self):
        good = "2030-01-31T00:00:00Z"
        # shaped like a time, but no such time: 400 naming the field, never the database's 500
        for bad in ("2030-02-30T00:00:00Z", "2029-02-29", "2030-13-01T00:00:00Z", "2030-00-10",
                    "2030-01-01T24:00:00Z", "2030-01-01T10:60:00Z", "2030-01-01T10:00:61Z",
                    "2030-01-01T10:00:60Z", "2030-01-01T10:00:00", "2030-01-01T10:00:00+2",
                    "2030-01-01T10:00:00+24:00", "2030-01-01T10:00:00.Z", "2030-01-01T10:00Z",
                    "0000-01-01", "2030-01-01T10:00:00Z+01:00", "2030-1-01", "2030-01-01 10:00:00 Z",
                    "2030-01-01T10:00:00.1234567890Z", "2030-01-01--"):
            for field in ("from", "to"):
                q = {"from": good, "to": good}
                q[field] = bad
                for report in ("population", "exceptions"):
                    r = self.c["aud"].get("/api/v1/reports/%s?from=%s&to=%s" % (
                        report, q["from"].replace("+", "%2B").replace(" ", "%20"),
                        q["to"].replace("+", "%2B").replace(" ", "%20")))
                    self.assertStatus(r, 400)
                    self.assertEqual(r.json.get("field"), field, (report, field, bad, r.json))
        # from after to
        r = self.c["aud"].get("/api/v1/reports/exceptions?from=2030-02-01T00:00:00Z&to=2030-01-31T23:59:59.999Z")
        self.assertStatus(r, 400)
        self.assertEqual(r.json.get("field"), "from")
        # 01:00 at +02:00 is 23:00 UTC the day before: after 22:30Z, before 23:30Z
        r = self.c["aud"].get("/api/v1/reports/population?from=2030-01-31T01:00:00%2B02:00&to=2030-01-30T22:30:00Z")
        self.assertStatus(r, 400)
        self.assertEqual(r.json.get("field"), "from")
        r = self.c["aud"].get("/api/v1/reports/population?from=2030-01-31T01:00:00%2B02:00&to=2030-01-30T23:30:00Z")
        self.assertStatus(r, 200)
        # what RFC 3339 allows is accepted: dates, offsets, fractions, lower case, a leap second
        for f, t in (("2000-01-01", "2000-02-01"), ("2000-01-01T00:00:00.123456+05:30", "2000-01-01t00:00:00z"),
                     ("2000-02-29T12:00:00-01:00", "2000-12-31T23:59:60Z"), ("2000-01-01", "2000-01-01")):
            r = self.c["aud"].get("/api/v1/reports/population?from=%s&to=%s" % (f.replace("+", "%2B"), t))
            self.assertStatus(r, 200)
            self.assertEqual(r.json["items"], [])
        self.assertEqual(r.json["from"], "2000-01-01T00:00:00Z")
        self.assertStatus(self.c["agent1"].get("/api/v1/reports/exceptions?" + self.period()), 403)
        self.assertStatus(self.srv.client().get("/api/v1/reports/exceptions?" + self.period()), 401)
        # the auditor changes nothing
        self.assertStatus(self.c["aud"].post("/api/v1/changes", json={"type": "normal", "title": "x", "risk": "low"}), 403)


if __name__ == "__main__":
    unittest.main()
