"""The auditor's view of a period (docs/evidence.md): a random sample of the
period's population drawn reproducibly from its seed, recorded and audited;
the sample's archive of evidence bundles verified offline and caught when a
member is tampered with; and the control effectiveness over a small
population with known exceptions (a contributor refused approval, an
emergency change never approved in time).
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import unittest
import urllib.parse
from datetime import datetime, timedelta, timezone

import test_evidence
from harness import ServerTestCase, otcm_bin, strong_password
from test_auth_totp import totp
from test_evidence import make_tar, tar_files


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def redraw(population_keys, seed, size):
    """otcm-sample/1, as docs/evidence.md tells an auditor to redo it."""
    keys = sorted(population_keys, key=lambda k: int(k[4:]))
    scored = sorted(keys, key=lambda k: (hashlib.sha256(("%s:%s" % (seed, k)).encode()).hexdigest(), int(k[4:])))
    return sorted(scored[:size], key=lambda k: int(k[4:]))


def population_sha256(population_keys):
    keys = sorted(population_keys, key=lambda k: int(k[4:]))
    return hashlib.sha256("".join(k + "\n" for k in keys).encode()).hexdigest()


class Samples(ServerTestCase):

    released_change = test_evidence.Evidence.released_change

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start = datetime.now(timezone.utc) - timedelta(seconds=2)
        cls.admin = cls.srv.admin_client()
        cls.pw, cls.c = {}, {}
        for name, role in (("eng", "engineer"), ("eng2", "engineer"), ("appr", "approver"),
                           ("qa1", "qa"), ("qa2", "qa"), ("aud", "auditor")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={
                "username": name, "display_name": name.upper(), "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name], cls.c[name] = pw, c
        cls.nasset = 0
        cls.good = [cls.released_change(cls)[0] for _ in range(2)]
        # the approver uploaded content: approval refused, never independently reviewed
        cls.refused, _ = cls.released_change(cls, uploader="admin", approver="admin")
        # an emergency change deployed and never approved within its deadline
        assert cls.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 0}).status == 200
        r = cls.admin.post("/api/v1/assets", json={"path": "plant/emergency/plc", "type": "plc"})
        aid = r.json["id"]
        assert cls.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                              files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")]).status == 201
        r = cls.c["eng"].post("/api/v1/changes", json={
            "type": "emergency", "title": "pump down", "reason": "plant stopped", "risk": "high",
            "implementation_plan": "hot fix", "rollback_plan": "redeploy main", "affected_assets": [aid]})
        cls.emergency = r.json["key"]
        for to, who in (("submitted", "eng"),):
            assert cls.c[who].post("/api/v1/changes/%s/transitions" % cls.emergency, json={"to": to}).status == 200
        assert cls.c["appr"].post("/api/v1/changes/%s/signatures" % cls.emergency,
                                  json={"meaning": "authorised", "password": cls.pw["appr"]}).status == 201
        assert cls.c["eng"].post("/api/v1/changes/%s/transitions" % cls.emergency, json={"to": "implementing"}).status == 200
        v = cls.c["eng"].post("/api/v1/assets/%d/versions" % aid, fields={"message": "hot", "change": cls.emergency},
                              files=[("file", "main.st", "PROGRAM main (* hot *) END_PROGRAM\n")]).json
        assert cls.c["eng"].post("/api/v1/changes/%s/deployments" % cls.emergency,
                                 json={"asset_id": aid, "commit": v["commit"]}).status == 201
        assert cls.c["eng"].post("/api/v1/changes/%s/transitions" % cls.emergency, json={"to": "deployed"}).status == 200
        assert cls.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 259200}).status == 200
        cls.population = cls.good + [cls.refused, cls.emergency]
        time.sleep(0.05)
        cls.end = datetime.now(timezone.utc)
        time.sleep(0.05)

    def period(self, **kw):
        body = {"from": iso(self.start), "to": iso(self.end)}
        body.update(kw)
        return body

    def draw(self, who="aud", status=201, **kw):
        r = self.c[who].post("/api/v1/reports/samples", json=self.period(**kw))
        self.assertStatus(r, status)
        return r.json

    def archive(self, sid):
        r = self.c["aud"].get("/api/v1/reports/samples/%d/evidence" % sid)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("Content-Type"), "application/x-tar")
        self.assertEqual(r.headers.get("X-Content-SHA256"), hashlib.sha256(r.body).hexdigest())
        return r.body

    def verify(self, data, *args):
        with tempfile.NamedTemporaryFile(suffix=".tar", delete=False) as f:
            f.write(data)
        try:
            p = subprocess.run([otcm_bin(), "verify", f.name] + list(args), capture_output=True, text=True,
                               timeout=300)
        finally:
            os.unlink(f.name)
        return p.returncode, p.stdout + p.stderr

    # -- the draw --

    def test_sample_is_reproducible_from_its_seed_recorded_and_audited(self):
        a = self.draw(size=2, seed="soc2-2026.Q4")
        b = self.draw(size=2, seed="soc2-2026.Q4")
        self.assertEqual(a["keys"], b["keys"])
        self.assertNotEqual(a["id"], b["id"])
        self.assertEqual(len(a["keys"]), 2)
        self.assertEqual((a["seed"], a["seed_source"], a["algorithm"], a["size"], a["taken_by"]),
                         ("soc2-2026.Q4", "given", "otcm-sample/1", 2, "aud"))
        # anyone can redo it from the seed and the population report
        pop = self.c["aud"].get("/api/v1/reports/population?from=%s&to=%s" % (iso(self.start), iso(self.end)))
        self.assertStatus(pop, 200)
        keys = [i["key"] for i in pop.json["items"]]
        self.assertEqual(sorted(keys), sorted(self.population))
        self.assertEqual(a["population_size"], 4)
        self.assertEqual(a["population_sha256"], population_sha256(keys))
        self.assertEqual(a["keys"], redraw(keys, "soc2-2026.Q4", 2))
        # another seed, another draw; a size beyond the population takes it all
        seeds = {tuple(self.draw(size=2, seed="s%d" % i)["keys"]) for i in range(6)}
        self.assertGreater(len(seeds), 1)
        whole = self.draw(size=10, seed="all")
        self.assertEqual(whole["keys"], sorted(self.population, key=lambda k: int(k[4:])))
        # no seed: one from the CSPRNG, recorded
        g = self.draw(size=3)
        self.assertEqual(g["seed_source"], "generated")
        self.assertRegex(g["seed"], "^[0-9a-f]{64}$")
        self.assertEqual(g["keys"], redraw(keys, g["seed"], 3))
        # recorded: read back and listed
        r = self.c["aud"].get("/api/v1/reports/samples/%d" % a["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json, a)
        listed = self.admin.get("/api/v1/reports/samples").json["items"]
        self.assertEqual(listed[0], g)
        self.assertIn(a, listed)
        # audited, with the seed and what was drawn
        events = self.admin.get("/api/v1/audit?limit=1000").json["items"]
        drawn = [e for e in events if e["action"] == "sample.draw" and e["object_id"] == str(a["id"])]
        self.assertEqual(len(drawn), 1)
        self.assertEqual(drawn[0]["actor"], "aud")
        self.assertEqual(drawn[0]["after"]["seed"], "soc2-2026.Q4")
        self.assertEqual(drawn[0]["after"]["keys"], a["keys"])

    def test_bad_draws_are_refused_and_change_nothing(self):
        before = len(self.c["aud"].get("/api/v1/reports/samples").json["items"])
        for body, field in (({"size": 0}, "size"), ({"size": 1001}, "size"), ({"size": "3"}, "size"),
                            ({"seed": "two words"}, "seed"), ({"seed": ""}, "seed"), ({"seed": "x" * 129}, "seed"),
                            ({"from": "yesterday"}, "from"), ({"to": None}, "to")):
            b = self.period(size=2)
            b.update(body)
            if b.get("to") is None:
                del b["to"]
            r = self.c["aud"].post("/api/v1/reports/samples", json=b)
            self.assertStatus(r, 400)
            self.assertEqual(r.json["field"], field, r.json)
        r = self.c["aud"].post("/api/v1/reports/samples", json=self.period(size=2, colour="red"))
        self.assertStatus(r, 400)
        # a period still running cannot be sampled reproducibly
        future = iso(datetime.now(timezone.utc) + timedelta(days=1))
        r = self.c["aud"].post("/api/v1/reports/samples", json=self.period(size=2, to=future))
        self.assertStatus(r, 409)
        self.assertEqual((r.json["rule"], r.json["field"]), ("period-not-ended", "to"))
        self.assertStatus(self.c["eng"].post("/api/v1/reports/samples", json=self.period(size=2)), 403)
        self.assertStatus(self.c["eng"].get("/api/v1/reports/samples"), 403)
        self.assertStatus(self.c["aud"].get("/api/v1/reports/samples/999999"), 404)
        self.assertStatus(self.c["aud"].get("/api/v1/reports/samples/nope"), 400)
        self.assertStatus(self.c["aud"].get("/api/v1/reports/samples/999999/evidence"), 404)
        self.assertEqual(len(self.c["aud"].get("/api/v1/reports/samples").json["items"]), before)

    # -- the archive --

    def test_archive_verifies_offline_and_fails_on_a_tampered_member(self):
        s = self.draw(size=2, seed="archive")
        data = self.archive(s["id"])
        self.assertEqual(data, self.archive(s["id"]))  # the same bytes while nothing happens
        files = tar_files(data)
        for name in ("README.txt", "sample.json", "population.json", "effectiveness.json", "MANIFEST.sha256",
                     "MANIFEST.sha256.sig", "trust/server.pub"):
            self.assertIn(name, files)
        self.assertEqual(sorted(n for n in files if n.startswith("changes/")),
                         sorted("changes/%s.tar" % k for k in s["keys"]))
        self.assertEqual(json.loads(files["sample.json"])["keys"], s["keys"])
        pop = json.loads(files["population.json"])
        self.assertEqual(sorted(i["key"] for i in pop["items"]), sorted(self.population))
        for k in ("start_checkpoint", "end_checkpoint", "consistency_proof"):
            self.assertIn(k, pop)
        inner = tar_files(files["changes/%s.tar" % s["keys"][0]])
        self.assertEqual(json.loads(inner["change.json"])["key"], s["keys"][0])

        code, out = self.verify(data)
        self.assertEqual(code, 0, out)
        self.assertIn("the seed gives exactly these 2 of 4 changes", out)
        self.assertIn("ok    changes/%s.tar: the bundle " % s["keys"][0], out)
        self.assertIn("verified: every check passed", out)
        pub = self.c["aud"].get("/api/v1/keys/server.pub").body
        with tempfile.NamedTemporaryFile(suffix=".pub", delete=False) as f:
            f.write(pub)
        try:
            code, out = self.verify(data, "--trust", f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(code, 0, out)
        self.assertIn("ok    key: trust/server.pub is the trusted key", out)

        # the README's stock-tool redo of the draw, run as printed
        readme = files["README.txt"].decode()
        script = readme[readme.index("Redo the draw"):].split("\n", 2)[2]
        d = tempfile.mkdtemp()
        try:
            for name in ("sample.json", "population.json"):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(files[name])
            p = subprocess.run(["bash", "-c", script], cwd=d, capture_output=True, text=True, timeout=60)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.split()
        self.assertEqual(lines[0], s["population_sha256"])
        self.assertEqual(lines[2:], s["keys"])
        # a sampled change's bundle altered inside the archive
        victim = "changes/%s.tar" % s["keys"][1]
        inner = tar_files(files[victim])
        change = json.loads(inner["change.json"])
        change["title"] = "nothing to see"
        inner["change.json"] = json.dumps(change).encode()
        code, out = self.verify(make_tar(dict(files, **{victim: make_tar(inner)})))
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL  manifest: %s does not match its SHA-256" % victim, out)
        self.assertIn("FAIL  %s: the bundle does not verify" % victim, out)
        # a sampled change swapped for one the seed did not pick
        other = [k for k in self.population if k not in s["keys"]][0]
        forged = json.loads(files["sample.json"])
        forged["keys"] = sorted([s["keys"][0], other], key=lambda k: int(k[4:]))
        code, out = self.verify(make_tar(dict(files, **{"sample.json": json.dumps(forged).encode()})))
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL  manifest: sample.json does not match its SHA-256", out)
        self.assertIn("FAIL  sample.json: the seed does not give these changes from the population", out)
        # a change dropped from the population report
        pop["items"] = pop["items"][1:]
        code, out = self.verify(make_tar(dict(files, **{"population.json": json.dumps(pop).encode()})))
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL  population.json: its 3 changes are not the population the sample was drawn from", out)
        # a bundle removed
        code, out = self.verify(make_tar({n: b for n, b in files.items() if n != victim}))
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL  %s: a sampled change's bundle is missing" % victim, out)
        # the download is audited
        events = self.admin.get("/api/v1/audit?limit=1000").json["items"]
        exports = [e for e in events if e["action"] == "sample.export" and e["object_id"] == "sample-%d" % s["id"]]
        self.assertEqual(len(exports), 2)
        self.assertEqual(exports[0]["after"]["sha256"], hashlib.sha256(data).hexdigest())

    # -- control effectiveness --

    def test_control_effectiveness_over_the_period(self):
        r = self.c["aud"].get("/api/v1/reports/exceptions?from=%s&to=%s" % (iso(self.start), iso(self.end)))
        self.assertStatus(r, 200)
        eff = {c["id"]: c for c in r.json["control_effectiveness"]}
        self.assertEqual(len(eff), 13)
        for c in eff.values():
            self.assertEqual(c["met"] + c["not_met"] + c["not_applicable"], 4, c)
            self.assertEqual(len(c["exceptions"]), c["not_met"], c)
        self.assertEqual((eff["recorded"]["met"], eff["recorded"]["not_met"]), (4, 0))
        self.assertEqual([e["key"] for e in eff["independent-review"]["exceptions"]],
                         sorted([self.refused, self.emergency], key=lambda k: int(k[4:])))
        self.assertEqual((eff["emergency"]["met"], eff["emergency"]["not_met"], eff["emergency"]["not_applicable"]),
                         (0, 1, 3))
        self.assertEqual(eff["emergency"]["exceptions"][0]["key"], self.emergency)
        self.assertIn("without a retrospective approval", eff["emergency"]["exceptions"][0]["detail"])
        self.assertEqual(eff["released-tested"]["met"], 2)
        # the sample's archive carries the same view over the sampled changes
        s = self.draw(size=4, seed="everything")
        files = tar_files(self.archive(s["id"]))
        sampled = {c["id"]: c for c in json.loads(files["effectiveness.json"])}
        for cid, c in eff.items():
            self.assertEqual((sampled[cid]["met"], sampled[cid]["not_met"], sampled[cid]["not_applicable"]),
                             (c["met"], c["not_met"], c["not_applicable"]), cid)
        code, out = self.verify(make_tar(files))
        self.assertEqual(code, 0, out)  # authentic; the emergency change's finding is reported, not a failure
        self.assertIn("ok    changes/%s.tar: the bundle is authentic; its change has 1 policy findings" % self.emergency,
                      out)
        self.assertIn("ok    effectiveness.json", out)

    # -- the pages --

    def form(self, who, path, fields):
        """POST an urlencoded page form as a browser does: the CSRF token in the form, no header."""
        c = self.c[who]
        kept, c.csrf = c.csrf, None
        try:
            body = urllib.parse.urlencode(dict(fields, csrf_token=kept))
            return c.post(path, body=body, content_type="application/x-www-form-urlencoded",
                          headers={"Accept": "text/html,application/xhtml+xml"})
        finally:
            c.csrf = kept

    def test_samples_page_lists_and_draws(self):
        day = lambda t: t.strftime("%Y-%m-%d")
        # the form's days are dates, midnight UTC: yesterday up to today's midnight, which has passed
        today = datetime.now(timezone.utc)
        r = self.form("aud", "/samples", {"from": day(today - timedelta(days=1)), "to": day(today),
                                          "size": "2", "seed": "page-seed"})
        self.assertStatus(r, 303)
        location = r.headers.get("Location")
        self.assertTrue(location.startswith("/samples?drawn="), location)
        sid = int(location.split("=")[1].split("#")[0])
        page = self.c["aud"].get(location.split("#")[0], headers={"Accept": "text/html"})
        self.assertStatus(page, 200)
        html = page.body.decode()
        self.assertIn("Sample %d drawn and recorded." % sid, html)
        self.assertIn('id="sample-%d"' % sid, html)
        self.assertIn("page-seed", html)
        self.assertIn('href="/api/v1/reports/samples/%d/evidence"' % sid, html)
        sample = self.c["aud"].get("/api/v1/reports/samples/%d" % sid).json
        self.assertEqual(sample["seed"], "page-seed")
        for k in sample["keys"]:
            self.assertIn('href="/changes/%s"' % k, html)
        # a bad form answers the page with the refusal, the fields kept, and records nothing
        before = len(self.c["aud"].get("/api/v1/reports/samples").json["items"])
        r = self.form("aud", "/samples", {"from": day(self.start), "to": day(self.start), "size": "lots",
                                          "seed": "<b>x</b>"})
        self.assertStatus(r, 400)
        html = r.body.decode()
        self.assertIn("size", html)
        self.assertIn('value="lots"', html)
        self.assertNotIn("<b>x</b>", html)
        r = self.form("aud", "/samples", {"from": day(self.start), "to": "2999-01-01", "size": "2"})
        self.assertStatus(r, 409)
        self.assertIn("the period has not ended", r.body.decode())
        self.assertEqual(len(self.c["aud"].get("/api/v1/reports/samples").json["items"]), before)
        self.assertStatus(self.c["eng"].get("/samples", headers={"Accept": "text/html"}), 403)
        # the reports page shows the control effectiveness
        r = self.c["aud"].get("/reports?from=%s&to=%s" % (urllib.parse.quote(iso(self.start)),
                                                          urllib.parse.quote(iso(self.end))),
                              headers={"Accept": "text/html"})
        self.assertStatus(r, 200)
        html = r.body.decode()
        self.assertIn('<h2 id="effectiveness">Control effectiveness</h2>', html)
        self.assertIn('id="control-emergency"', html)
        self.assertIn('href="/changes/%s"' % self.emergency, html)

    def test_signer_enrolled_in_one_time_codes_is_recorded_and_checked(self):
        # an approver with one-time codes authorises a change (after the period: it is in no sample)
        pw = strong_password()
        self.assertStatus(self.admin.post("/api/v1/users", json={
            "username": "appr-totp", "display_name": "APPR TOTP", "role": "approver", "password": pw}), 201)
        c = self.srv.client()
        self.assertStatus(c.login("appr-totp", pw), 200)
        r = c.post("/api/v1/totp", json={"password": pw})
        self.assertStatus(r, 201)
        secret = r.json["secret"]
        self.assertStatus(c.post("/api/v1/totp/confirm", json={"password": pw, "totp_code": totp(secret, step=-1)}),
                          200)
        r = self.admin.post("/api/v1/assets", json={"path": "plant/totp/plc", "type": "plc"})
        self.assertStatus(r, 201)
        r = self.c["eng"].post("/api/v1/changes", json={
            "type": "normal", "title": "t", "reason": "r", "risk": "low", "implementation_plan": "i",
            "rollback_plan": "b", "affected_assets": [r.json["id"]]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/transitions" % key, json={"to": "submitted"}), 200)
        r = c.post("/api/v1/changes/%s/signatures" % key,
                   json={"meaning": "authorised", "password": pw, "totp_code": totp(secret)})
        self.assertStatus(r, 201)
        self.assertEqual((r.json["reauthenticated_with"], r.json["second_factor_enrolled"]), ("password+totp", True))
        r = self.c["aud"].get("/api/v1/changes/%s/evidence" % key)
        self.assertStatus(r, 200)
        change = json.loads(tar_files(r.body)["change.json"])
        self.assertIs(change["signatures"][0]["second_factor_enrolled"], True)
        check = {c["id"]: c for c in change["checklist"]}["reauthentication"]
        self.assertEqual(check["result"], "met", check)
        self.assertIn("1 by signers enrolled in one-time codes, each with a code", check["detail"])
        self.assertIn("second_factor_enrolled", " ".join(check["evidence"]))

    def test_emergency_change_without_timely_approval_is_not_met(self):
        r = self.c["aud"].get("/api/v1/changes/%s/evidence" % self.emergency)
        self.assertStatus(r, 200)
        change = json.loads(tar_files(r.body)["change.json"])
        checks = {c["id"]: c for c in change["checklist"]}
        self.assertEqual(checks["emergency"]["result"], "not met")
        self.assertIn("without a retrospective approval", checks["emergency"]["detail"])
        self.assertEqual(checks["recorded"]["result"], "met")
        code, out = self.verify(r.body)
        self.assertEqual(code, 1, out)  # the policy check of a single bundle refuses it
        self.assertIn("FAIL  policy: emergency change not approved within its deadline", out)
        self.assertIn("NOT   13. Emergency handling", out)


if __name__ == "__main__":
    unittest.main()
