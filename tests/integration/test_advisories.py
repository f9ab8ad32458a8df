"""Advisories: CSAF 2.0 import, matching against the inventory, signed assessments, exposure, exports.

Every advisory of the sample corpus (CISA's OT advisories of 2024) imports;
broken copies are refused with the JSON pointer at fault and store nothing.
Assets modelled after real products of those advisories match inside their
version ranges and not outside.  An assessment is an e-signature with
meaning "assessed"; the exports are CycloneDX 1.5 and a CSAF VEX document
that passes the import's own check.
"""

import copy
import datetime
import glob
import hashlib
import json
import os
import shutil
import subprocess
import time
import unittest
import urllib.parse

from harness import ServerTestCase, corpus_path, make_tmpdir, strong_password


CORPUS = "csaf/cisagov__CSAF/OT/white/2024"
PSQL = shutil.which("psql")


def corpus_files():
    files = sorted(glob.glob(os.path.join(corpus_path(CORPUS), "*.json")))
    if len(files) != 344:
        raise AssertionError("expected the 344 advisories of the corpus, found %d" % len(files))
    return files


def load(name):
    with open(os.path.join(corpus_path(CORPUS), name), "rb") as f:
        return f.read()


class Advisories(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.client(token=cls.srv.admin_token())
        cls.pw = {}
        cls.users = {}
        for name, role in (("eng-adv", "engineer"), ("qa-adv", "qa"), ("aud-adv", "auditor"),
                           ("appr-adv", "approver")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={"username": name, "display_name": name.upper(),
                                                      "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.users[role] = cls.srv.client(token=c.create_token("t"))
            cls.pw[role] = pw
        cls.eng = cls.users["engineer"]
        cls.auditor = cls.users["auditor"]
        # assets modelled after real products of the corpus's advisories
        cls.assets = {}
        for key, body in {
            # ICSA-24-226-09: ControlLogix 5580, <v36.011_v35.013_v34.014
            "logix_hit": dict(path="adv/site-a/line-1/plc", vendor="Rockwell Automation",
                              model="ControlLogix 5580", firmware="35.011"),
            "logix_miss": dict(path="adv/site-a/line-2/plc", vendor="Rockwell Automation",
                               model="ControlLogix 5580", firmware="35.013"),
            # ICSA-24-256-13: SCALANCE WAM763-1 by order number, vers:all/<V2.4.0
            "wam_hit": dict(path="adv/site-a/net/wlan-1", vendor="Siemens AG", model="SCALANCE WAM763-1",
                            order_number="6GK5763-1AL00-7DA0", firmware="V2.3.1"),
            "wam_miss": dict(path="adv/site-a/net/wlan-2", vendor="Siemens AG", model="SCALANCE WAM763-1",
                             order_number="6GK5763-1AL00-7DA0", firmware="V2.4.0"),
            # ICSA-24-172-01: CENTUM VP, >=R5.01.00|<=R5.04.20 (and R6 ranges)
            "centum_hit": dict(path="adv/site-b/dcs/centum", vendor="Yokogawa", model="CENTUM VP",
                               firmware="R5.03.00"),
            "centum_miss": dict(path="adv/site-b/dcs/centum-old", vendor="Yokogawa", model="CENTUM VP",
                                firmware="R5.05.00"),
            # a product nobody wrote an advisory about
            "other": dict(path="adv/site-b/misc/gateway", vendor="Acme Controls", model="GW-1",
                          firmware="1.0"),
        }.items():
            r = cls.admin.post("/api/v1/assets", json=dict(body, type="plc"))
            assert r.status == 201, r
            cls.assets[key] = r.json["id"]
        # every advisory of the corpus
        cls.imported = {}
        for path in corpus_files():
            with open(path, "rb") as f:
                data = f.read()
            r = cls.eng.request("POST", "/api/v1/advisories", body=data, content_type="application/json")
            if r.status != 201:
                raise AssertionError("%s refused: %r" % (os.path.basename(path), r))
            cls.imported[os.path.basename(path)] = (r.json, hashlib.sha256(data).hexdigest())

    # -- helpers --

    def assertProblem(self, r, status, field, rule=None):
        self.assertEqual(r.status, status, "unexpected answer: %r" % (r,))
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json")
        self.assertEqual(r.json.get("field"), field, r.json)
        if rule:
            self.assertEqual(r.json.get("rule"), rule, r.json)

    def advisories_of(self, key):
        r = self.auditor.get("/api/v1/assets/%d/advisories" % self.assets[key])
        self.assertStatus(r, 200)
        return {e["tracking_id"]: e for e in r.json["items"]}

    def count(self):
        r = self.auditor.get("/api/v1/advisories")
        self.assertStatus(r, 200)
        return len(r.json["items"])

    # -- import --

    def test_every_corpus_advisory_imported_unmodified(self):
        self.assertEqual(len(self.imported), 344)
        listed = {a["tracking_id"] for a in self.auditor.get("/api/v1/advisories").json["items"]}
        self.assertFalse({out["tracking_id"] for out, _ in self.imported.values()} - listed)
        before = self.count()
        out, sha = self.imported["icsa-24-011-08.json"]
        self.assertEqual(out["tracking_id"], "ICSA-24-011-08")
        self.assertEqual(out["sha256"], sha)
        r = self.auditor.get("/api/v1/advisories/ICSA-24-011-08/document")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, load("icsa-24-011-08.json"))
        self.assertEqual(r.headers.get("X-Content-SHA256"), sha)
        # the same document again changes nothing
        r = self.eng.request("POST", "/api/v1/advisories", body=load("icsa-24-011-08.json"),
                             content_type="application/json")
        self.assertStatus(r, 200)
        self.assertTrue(r.json["unchanged"])
        self.assertEqual(self.count(), before)
        # an import is audited with its hash
        r = self.admin.get("/api/v1/audit?object_type=advisory&object_id=ICSA-24-011-08&limit=10")
        self.assertStatus(r, 200)
        events = [e for e in r.json["items"] if e["action"] == "advisory.import"]
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["after"]["sha256"], sha)

    def test_broken_copies_refused_with_the_path(self):
        good = json.loads(load("icsa-24-226-09.json"))

        def broken(change):
            d = copy.deepcopy(good)
            d["document"]["tracking"]["id"] = "BROKEN-1"
            change(d)
            return json.dumps(d).encode()

        cases = [
            (lambda d: d["document"]["tracking"].pop("id"), "/document/tracking/id"),
            (lambda d: d["document"].pop("publisher"), "/document/publisher"),
            (lambda d: d["document"].__setitem__("csaf_version", "2.1"), "/document/csaf_version"),
            (lambda d: d["document"]["tracking"].__setitem__("status", "published"),
             "/document/tracking/status"),
            (lambda d: d["document"]["tracking"].__setitem__("revision_history", []),
             "/document/tracking/revision_history"),
            (lambda d: d["vulnerabilities"][0].__setitem__("cve", "CVE-2024"), "/vulnerabilities/0/cve"),
            (lambda d: d["vulnerabilities"][0]["product_status"].__setitem__("known_affected", ["NOPE"]),
             "/vulnerabilities/0/product_status/known_affected/0"),
            (lambda d: d["vulnerabilities"][0]["scores"][0]["cvss_v3"].pop("baseScore"),
             "/vulnerabilities/0/scores/0/cvss_v3/baseScore"),
            (lambda d: d["product_tree"]["branches"][0].pop("name"), "/product_tree/branches/0/name"),
            (lambda d: d.__setitem__("extra", 1), "/extra"),
        ]
        before = self.count()
        for change, field in cases:
            r = self.eng.request("POST", "/api/v1/advisories", body=broken(change),
                                 content_type="application/json")
            self.assertProblem(r, 400, field)
            self.assertIn(field, r.json["detail"])
        r = self.eng.request("POST", "/api/v1/advisories", body=b"{not json", content_type="application/json")
        self.assertProblem(r, 400, "body")
        self.assertEqual(self.count(), before)
        self.assertProblem(self.auditor.get("/api/v1/advisories/BROKEN-1"), 404, "advisory")

    def test_revisions(self):
        d = json.loads(load("icsa-24-011-03.json"))
        d["document"]["tracking"]["id"] = "REV-TEST-1"
        r = self.eng.request("POST", "/api/v1/advisories", body=json.dumps(d).encode(),
                             content_type="application/json")
        self.assertStatus(r, 201)
        # a different text with the same version is refused
        d["document"]["title"] += " (edited)"
        r = self.eng.request("POST", "/api/v1/advisories", body=json.dumps(d).encode(),
                             content_type="application/json")
        self.assertProblem(r, 409, "/document/tracking/version", "advisory-revision")
        # a newer version replaces it; the old document stays on record
        d["document"]["tracking"]["version"] = "2"
        d["document"]["tracking"]["revision_history"].append(
            {"date": d["document"]["tracking"]["current_release_date"], "number": "2", "summary": "update"})
        r = self.eng.request("POST", "/api/v1/advisories", body=json.dumps(d).encode(),
                             content_type="application/json")
        self.assertStatus(r, 200)
        self.assertTrue(r.json["updated"])
        self.assertEqual(self.auditor.get("/api/v1/advisories/REV-TEST-1").json["version"], "2")

    def test_import_roles(self):
        body = load("icsa-24-011-08.json")
        for role in ("auditor", "qa", "approver"):
            r = self.users[role].request("POST", "/api/v1/advisories", body=body,
                                         content_type="application/json")
            self.assertEqual(r.status, 403, role)
        self.assertEqual(self.srv.client().get("/api/v1/advisories").status, 401)

    # -- matching --

    def test_matching_inside_and_outside_version_ranges(self):
        hit = self.advisories_of("logix_hit")
        self.assertIn("ICSA-24-226-09", hit)
        e = hit["ICSA-24-226-09"]
        self.assertFalse(e["undecided"])
        self.assertTrue(any(c["cve"].startswith("CVE-") for c in e["cves"]))
        self.assertTrue(all("remediations" in c and "cvss" in c for c in e["cves"]))
        self.assertEqual(e["severity"], "high" if e["cvss"] < 9 else "critical")
        self.assertIn("ControlLogix 5580", e["products"][0]["name"])
        self.assertNotIn("ICSA-24-226-09", self.advisories_of("logix_miss"))

        self.assertIn("ICSA-24-256-13", self.advisories_of("wam_hit"))
        names = [p["name"] for p in self.advisories_of("wam_hit")["ICSA-24-256-13"]["products"]]
        self.assertEqual(names, [n for n in names if "6GK5763-1AL00-7DA0" in n])
        self.assertNotIn("ICSA-24-256-13", self.advisories_of("wam_miss"))

        self.assertIn("ICSA-24-172-01", self.advisories_of("centum_hit"))
        self.assertNotIn("ICSA-24-172-01", self.advisories_of("centum_miss"))
        self.assertEqual(self.advisories_of("other"), {})

        # the advisory lists the assets it concerns
        r = self.auditor.get("/api/v1/advisories/ICSA-24-172-01")
        self.assertStatus(r, 200)
        paths = [a["path"] for a in r.json["assets"]]
        self.assertIn("adv/site-b/dcs/centum", paths)
        self.assertNotIn("adv/site-b/dcs/centum-old", paths)
        self.assertEqual(len(paths), len(set(paths)))

    def test_inventory_change_moves_the_match(self):
        r = self.admin.post("/api/v1/assets", json={"path": "adv/site-c/plc", "type": "plc",
                                                    "vendor": "Yokogawa", "model": "CENTUM VP",
                                                    "firmware": "R6.12.00"})
        self.assertStatus(r, 201)
        aid = r.json["id"]
        url = "/api/v1/assets/%d/advisories" % aid
        self.assertNotIn("ICSA-24-172-01", [e["tracking_id"] for e in self.auditor.get(url).json["items"]])
        self.assertStatus(self.admin.patch("/api/v1/assets/%d" % aid, json={"firmware": "R6.10.00"}), 200)
        items = {e["tracking_id"]: e for e in self.auditor.get(url).json["items"]}
        self.assertIn("ICSA-24-172-01", items)
        # an unknown firmware keeps the advisory, marked undecided
        self.assertStatus(self.admin.patch("/api/v1/assets/%d" % aid, json={"firmware": ""}), 200)
        items = {e["tracking_id"]: e for e in self.auditor.get(url).json["items"]}
        self.assertTrue(items["ICSA-24-172-01"]["undecided"])

    # -- assessments --

    def sign(self, who, key, tracking, **body):
        role = {"eng": "engineer", "qa": "qa", "approver": "approver"}[who]
        body.setdefault("password", self.pw[role])
        return self.users[role].post("/api/v1/assets/%d/advisories/%s/assessment" % (self.assets[key], tracking),
                                     json=body)

    def test_signed_assessment(self):
        r = self.sign("eng", "logix_hit", "ICSA-24-226-09", status="affected",
                      controls="CIP Security on; port 44818 reachable only from the EWS VLAN",
                      impact="controller could be stopped")
        self.assertStatus(r, 201)
        sig = r.json["signature"]
        self.assertEqual(sig["meaning"], "assessed")
        self.assertEqual(sig["printed_name"], "ENG-ADV")
        self.assertEqual(sig["reauthenticated_with"], "password")
        content = json.loads(sig["content"])
        self.assertEqual(content["advisory"]["tracking_id"], "ICSA-24-226-09")
        self.assertEqual(content["asset"]["firmware"], "35.011")
        self.assertEqual(content["status"], "affected")
        self.assertEqual(hashlib.sha256(sig["content"].encode()).hexdigest(), sig["content_sha256"])
        self.assertEqual(r.json["assessment"]["status"], "affected")
        # the exposure shows it; the assessment keeps every signature
        e = self.advisories_of("logix_hit")["ICSA-24-226-09"]
        self.assertEqual(e["assessment"]["status"], "affected")
        self.assertEqual(e["assessment"]["signature"]["content_sha256"], sig["content_sha256"])
        r = self.sign("qa", "logix_hit", "ICSA-24-226-09", status="not_affected",
                      justification="vulnerable_code_not_in_execute_path", impact="CIP not enabled")
        self.assertStatus(r, 201)
        r = self.auditor.get("/api/v1/assets/%d/advisories/ICSA-24-226-09/assessment" % self.assets["logix_hit"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json["assessment"]["status"], "not_affected")
        self.assertEqual([s["printed_name"] for s in r.json["signatures"]], ["ENG-ADV", "QA-ADV"])
        # audited
        r = self.admin.get("/api/v1/audit?object_type=assessment&limit=100")
        self.assertTrue([e for e in r.json["items"] if e["action"] == "assessment.sign"])

    def test_assessment_rules(self):
        key, adv = "centum_hit", "ICSA-24-172-01"
        self.assertProblem(self.sign("eng", key, adv, status="not_affected"), 400, "justification")
        self.assertProblem(self.sign("eng", key, adv, status="not_affected", justification="we_think_so"),
                           400, "justification")
        self.assertProblem(self.sign("eng", key, adv, status="fixed", justification="component_not_present"),
                           400, "justification")
        self.assertProblem(self.sign("eng", key, adv, status="maybe"), 400, "status")
        self.assertProblem(self.sign("eng", key, adv, status="affected"), 409, "controls", "assessment-controls")
        self.assertProblem(self.sign("eng", key, adv, status="under_investigation", password="wrong-password"),
                           401, "password")
        self.assertProblem(self.sign("eng", "centum_miss", adv, status="under_investigation"), 409,
                           "advisory", "assessment-not-matched")
        self.assertProblem(self.sign("eng", key, "NO-SUCH-1", status="under_investigation"), 404, "advisory")
        self.assertProblem(self.sign("eng", key, adv, status="under_investigation", color="red"), 400, "color")
        r = self.auditor.post("/api/v1/assets/%d/advisories/%s/assessment" % (self.assets[key], adv),
                              json={"status": "under_investigation", "password": self.pw["auditor"]})
        self.assertEqual(r.status, 403)
        r = self.admin.post("/api/v1/assets/%d/advisories/%s/assessment" % (self.assets[key], adv),
                            json={"status": "under_investigation", "password": "x"})
        self.assertEqual(r.status, 403)
        # nothing was written by any of them
        r = self.auditor.get("/api/v1/assets/%d/advisories/%s/assessment" % (self.assets[key], adv))
        self.assertIsNone(r.json["assessment"])
        self.assertEqual(r.json["signatures"], [])
        self.assertStatus(self.sign("approver", key, adv, status="under_investigation"), 201)

    def psql(self, sql):
        """Backdate records in this test's own database, the way time passes: no client sets a clock."""
        if PSQL is None:
            raise AssertionError("psql is needed to backdate a due date")
        r = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                            "host=%s user=otcm dbname=otcm" % os.path.join(self.srv.data, "run"), "-c", sql],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("psql failed: %s\n%s" % (sql, r.stderr))
        return r.stdout

    def test_exceptions_report(self):
        key, adv = "centum_hit", "ICSA-24-172-01"
        self.assertStatus(self.sign("approver", key, adv, status="affected",
                                    controls="DCS network isolated; HIS logins by smart card"), 201)
        now = datetime.datetime.now(datetime.timezone.utc)
        period = "from=%s&to=%s" % ((now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                    (now + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        r = self.auditor.get("/api/v1/reports/exceptions?" + period)
        self.assertStatus(r, 200)
        affected = [e for e in r.json["affected_assessments"] if e["asset"] == "adv/site-b/dcs/centum"]
        self.assertEqual([e["advisory"] for e in affected], [adv])
        self.assertEqual(affected[0]["controls"], "DCS network isolated; HIS logins by smart card")
        self.assertFalse([e for e in r.json["overdue_assessments"] if e["asset"] == "adv/site-b/dcs/centum"])
        # time passes: the match is past its due date, and affected is not done
        self.psql("UPDATE advisory_matches SET matched_at = now() - interval '60 days',"
                  " due_at = now() - interval '1 day' WHERE asset_id = %d" % self.assets[key])
        r = self.auditor.get("/api/v1/reports/exceptions?" + period)
        overdue = [e for e in r.json["overdue_assessments"] if e["asset"] == "adv/site-b/dcs/centum"]
        self.assertIn(adv, [e["advisory"] for e in overdue])
        e = self.advisories_of(key)[adv]
        self.assertTrue(e["overdue"])
        # not affected after all: no longer overdue
        self.assertStatus(self.sign("eng", key, adv, status="not_affected",
                                    justification="vulnerable_code_cannot_be_controlled_by_adversary"), 201)
        r = self.auditor.get("/api/v1/reports/exceptions?" + period)
        self.assertNotIn(adv, [e["advisory"] for e in r.json["overdue_assessments"]
                               if e["asset"] == "adv/site-b/dcs/centum"])
        self.assertFalse(self.advisories_of(key)[adv]["overdue"])

    # -- the pages --

    def browser(self, role):
        """A cookie session for `role`'s user, as a browser has."""
        c = self.srv.client()
        self.assertStatus(c.login({"engineer": "eng-adv", "qa": "qa-adv", "auditor": "aud-adv",
                                   "approver": "appr-adv"}[role], self.pw[role]), 200)
        return c

    def form(self, c, path, fields=None, files=None):
        token, c.csrf = c.csrf, None
        try:
            if files:
                return c.request("POST", path, fields=dict(fields or {}, csrf_token=token), files=files)
            body = urllib.parse.urlencode(dict(fields or {}, csrf_token=token))
            return c.request("POST", path, body=body, content_type="application/x-www-form-urlencoded")
        finally:
            c.csrf = token

    def test_pages(self):
        aud = self.browser("auditor")
        r = aud.get("/advisories")
        self.assertStatus(r, 200)
        self.assertIn("ICSA-24-011-08", r.text)
        self.assertNotIn('enctype="multipart/form-data"', r.text)   # an auditor imports nothing
        r = aud.get("/assets/%d/advisories" % self.assets["logix_hit"])
        self.assertStatus(r, 200)
        self.assertIn("ICSA-24-226-09", r.text)
        self.assertIn("/api/v1/assets/%d/export?format=cyclonedx" % self.assets["logix_hit"], r.text)
        r = aud.get("/exposure?prefix=adv/site-b")
        self.assertStatus(r, 200)
        self.assertIn("adv/site-b/dcs/centum", r.text)
        self.assertNotIn("adv/site-a/", r.text)
        r = aud.get("/advisories/ICSA-24-172-01")
        self.assertStatus(r, 200)
        self.assertIn("CENTUM VP", r.text)
        self.assertEqual(aud.get("/advisories/NOPE-1").status, 404)
        r = aud.get("/assets/%d" % self.assets["logix_hit"])
        self.assertIn("/assets/%d/advisories" % self.assets["logix_hit"], r.text)

    def test_page_signs_an_assessment(self):
        r = self.admin.post("/api/v1/assets", json={"path": "adv/site-d/dcs", "type": "scada",
                                                    "vendor": "Yokogawa", "model": "CENTUM VP",
                                                    "firmware": "R6.05.00"})
        self.assertStatus(r, 201)
        url = "/assets/%d/advisories/ICSA-24-172-01" % r.json["id"]
        eng = self.browser("engineer")
        page = eng.get(url)
        self.assertStatus(page, 200)
        self.assertIn('name="password"', page.text)
        r = self.form(eng, url, {"status": "affected", "password": self.pw["engineer"]})
        self.assertEqual(r.status, 409, r)
        self.assertIn("assessment-controls", r.text)
        r = self.form(eng, url, {"status": "affected", "controls": "DCS on its own VLAN",
                                 "password": self.pw["engineer"]})
        self.assertIn(r.status, (302, 303), r)
        page = eng.get(url)
        self.assertIn("DCS on its own VLAN", page.text)
        self.assertIn("ENG-ADV", page.text)
        # an auditor sees no form and may not post one
        aud = self.browser("auditor")
        self.assertNotIn('name="password"', aud.get(url).text)
        self.assertEqual(self.form(aud, url, {"status": "fixed", "password": self.pw["auditor"]}).status, 403)

    def test_page_imports_an_advisory(self):
        eng = self.browser("engineer")
        d = json.loads(load("icsa-24-011-04.json"))
        d["document"]["tracking"]["id"] = "PAGE-IMPORT-1"
        r = self.form(eng, "/advisories", files=[("file", "page.json", json.dumps(d))])
        self.assertIn(r.status, (302, 303), r)
        self.assertIn("/advisories/PAGE-IMPORT-1", r.headers.get("Location"))
        del d["document"]["title"]
        d["document"]["tracking"]["id"] = "PAGE-IMPORT-2"
        r = self.form(eng, "/advisories", files=[("file", "broken.json", json.dumps(d))])
        self.assertEqual(r.status, 400, r)
        self.assertIn("/document/title", r.text)
        self.assertEqual(self.auditor.get("/api/v1/advisories/PAGE-IMPORT-2").status, 404)

    # -- exposure and exports --

    def test_site_exposure(self):
        r = self.auditor.get("/api/v1/exposure?prefix=adv/site-a/net")
        self.assertStatus(r, 200)
        unassessed = [e for e in r.json["items"] if e["assessment"] is None]
        self.assertTrue(unassessed)     # wlan-2's advisories other than those assessed in other tests
        self.assertEqual(r.json["unassessed"], len(unassessed))
        r = self.auditor.get("/api/v1/exposure?prefix=adv/site-b")
        self.assertStatus(r, 200)
        paths = {e["path"] for e in r.json["items"]}
        self.assertIn("adv/site-b/dcs/centum", paths)
        self.assertFalse([p for p in paths if not p.startswith("adv/site-b/")])
        exposed = [e for e in r.json["items"]
                   if not e["assessment"] or e["assessment"]["status"] in ("affected", "under_investigation")]
        self.assertEqual(r.json["exposed"], len(exposed))
        self.assertEqual(r.json["unassessed"], len([e for e in r.json["items"] if not e["assessment"]]))
        self.assertEqual(r.json["assets"], len(paths))
        for e in r.json["items"]:
            self.assertIn("due_at", e)
            self.assertIsInstance(e["overdue"], bool)
        self.assertProblem(self.auditor.get("/api/v1/exposure?prefix=a//b"), 400, "prefix")

    def test_cyclonedx_export(self):
        self.assertStatus(self.sign("eng", "wam_hit", "ICSA-24-256-13", status="not_affected",
                                    justification="component_not_present", impact="WLAN radio disabled"), 201)
        r = self.auditor.get("/api/v1/assets/%d/export?format=cyclonedx" % self.assets["wam_hit"])
        self.assertStatus(r, 200)
        bom = r.json
        self.assertEqual((bom["bomFormat"], bom["specVersion"]), ("CycloneDX", "1.5"))
        self.assertRegex(bom["serialNumber"], r"^urn:uuid:[0-9a-f-]{36}$")
        dev = bom["components"][0]
        self.assertEqual(dev["type"], "device")
        self.assertEqual(dev["supplier"]["name"], "Siemens AG")
        fw = dev["components"][0]
        self.assertEqual((fw["type"], fw["version"]), ("firmware", "V2.3.1"))
        vulns = [v for v in bom["vulnerabilities"] if v["advisories"][0]["title"] == "ICSA-24-256-13"]
        self.assertTrue(vulns)
        for v in vulns:
            self.assertEqual(v["analysis"]["state"], "not_affected")
            self.assertEqual(v["analysis"]["justification"], "code_not_present")
            self.assertEqual(v["affects"][0]["ref"], fw["bom-ref"])
            self.assertTrue(v["ratings"][0]["score"] > 0)
        # a site
        r = self.auditor.get("/api/v1/exposure/export?prefix=adv/site-a&format=cyclonedx")
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json["components"]), 4)
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/export?format=spdx" % self.assets["wam_hit"]),
                           400, "format")
        self.assertProblem(self.auditor.get("/api/v1/exposure/export?prefix=nowhere&format=cyclonedx"),
                           404, "prefix")
        # nothing concerns the gateway: a BOM of it, but no VEX statement
        self.assertStatus(self.auditor.get("/api/v1/assets/%d/export" % self.assets["other"]), 200)
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/export?format=csaf-vex" % self.assets["other"]),
                           409, "format", "vex-nothing-to-state")

    def test_csaf_vex_export_passes_the_import(self):
        r = self.auditor.get("/api/v1/exposure/export?prefix=adv/site-a&format=csaf-vex")
        self.assertStatus(r, 200)
        vex = r.json
        self.assertEqual(vex["document"]["category"], "csaf_vex")
        ids = {p["product"]["product_id"] for b in vex["product_tree"]["branches"]
               for p in b["branches"][0]["branches"]}
        self.assertIn("OTCM-ASSET-%d" % self.assets["logix_hit"], ids)
        statuses = {}
        for v in vex["vulnerabilities"]:
            for status, products in v["product_status"].items():
                for p in products:
                    statuses.setdefault(p, set()).add(status)
        self.assertTrue(statuses)
        # the document passes the import's own check
        r = self.eng.request("POST", "/api/v1/advisories", body=json.dumps(vex).encode(),
                             content_type="application/json")
        self.assertStatus(r, 201)
        self.assertTrue(r.json["tracking_id"].startswith("OTCM-VEX-"))


class AdvisoryFolder(ServerTestCase):
    """--advisory-folder: files dropped into it are imported by the server, refused ones set aside."""

    folder = make_tmpdir("otcm-advisories-")
    server_args = ("--advisory-folder", folder, "--advisory-poll-seconds", "1")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def wait_for(self, path, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path):
                return
            time.sleep(0.3)
        self.fail("%s did not appear; folder holds %r" % (path, os.listdir(self.folder)))

    def drop(self, name, data, age=10):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            f.write(data)
        # older than the watch's quiet period: a finished copy
        os.utime(path, (time.time() - age, time.time() - age))
        return path

    def test_folder_imports_and_refuses(self):
        admin = self.srv.client(token=self.srv.admin_token())
        self.drop("icsa-24-011-08.json", load("icsa-24-011-08.json"))
        broken = json.loads(load("icsa-24-004-01.json"))
        del broken["document"]["tracking"]["current_release_date"]
        self.drop("broken.json", json.dumps(broken).encode())
        # hidden files and files still being written are left alone
        self.drop(".partial.json", load("icsa-24-004-02.json"))
        self.drop("fresh.json", load("icsa-24-004-02.json"), age=-30)
        self.drop("notes.txt", b"not an advisory")

        self.wait_for(os.path.join(self.folder, "imported", "icsa-24-011-08.json"))
        self.wait_for(os.path.join(self.folder, "refused", "broken.json.error.json"))
        with open(os.path.join(self.folder, "refused", "broken.json.error.json")) as f:
            problem = json.load(f)
        self.assertEqual(problem["field"], "/document/tracking/current_release_date")
        self.assertTrue(os.path.exists(os.path.join(self.folder, "refused", "broken.json")))
        for left in (".partial.json", "fresh.json", "notes.txt"):
            self.assertTrue(os.path.exists(os.path.join(self.folder, left)), left)

        r = admin.get("/api/v1/advisories/ICSA-24-011-08")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["sha256"], hashlib.sha256(load("icsa-24-011-08.json")).hexdigest())
        r = admin.get("/api/v1/audit?object_type=advisory&object_id=ICSA-24-011-08&limit=10")
        events = [e for e in r.json["items"] if e["action"] == "advisory.import"]
        self.assertEqual(events[0]["after"]["source"], "folder")
        self.assertEqual(events[0]["after"]["file_name"], "icsa-24-011-08.json")


if __name__ == "__main__":
    unittest.main()
