"""The change process end to end: tickets, lifecycle, signatures, test runs,
deployments, release, and the rules each tried by breaking them.

Uploads under a change (the `change` field of a version upload) need the
upload handler's hook into the change process; see docs/changes.md.
"""

import hashlib
import threading
import time
import unittest

from harness import ServerTestCase, strong_password
from test_auth_totp import totp


class Changes(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.pw = {}
        cls.c = {}
        cls.uid = {}
        for name, role in (("eng", "engineer"), ("eng2", "engineer"), ("appr", "approver"),
                           ("appr2", "approver"), ("qa1", "qa"), ("qa2", "qa"), ("aud", "auditor"),
                           ("agent1", "agent")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={"username": name, "display_name": name.upper() + " Person",
                                                      "role": role, "password": pw})
            assert r.status == 201, r
            cls.uid[name] = r.json["id"]
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name] = pw
            cls.c[name] = c
        cls.pw["admin"] = cls.srv.admin_password
        cls.c["admin"] = cls.admin
        cls.nasset = 0

    # -- helpers --

    def asset(self):
        type(self).nasset += 1
        r = self.admin.post("/api/v1/assets", json={"path": "plant/line%d/plc" % self.nasset, "type": "plc"})
        self.assertStatus(r, 201)
        aid = r.json["id"]
        # the baseline on main: the first version of an asset is the only upload main takes
        r = self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                            files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")])
        self.assertStatus(r, 201)
        return aid

    def change(self, assets, who="eng", ctype="normal"):
        r = self.c[who].post("/api/v1/changes", json={
            "type": ctype, "title": "Raise tank level alarm", "reason": "nuisance trips", "risk": "medium",
            "safety_related": True, "implementation_plan": "edit rung 4", "rollback_plan": "redeploy main",
            "planned_window": {"start": "2030-01-01T08:00:00Z", "end": "2030-01-01T10:00:00Z"},
            "affected_assets": assets})
        self.assertStatus(r, 201)
        return r.json["key"]

    def move(self, key, to, who="eng", status=200, rule=None):
        r = self.c[who].post("/api/v1/changes/%s/transitions" % key, json={"to": to, "reason": "test"})
        self.assertStatus(r, status)
        if rule:
            self.assertEqual(r.json["rule"], rule, r.json)
        return r

    def sign(self, key, meaning, who, status=201, rule=None, password=None, **extra):
        body = {"meaning": meaning, "password": password or self.pw[who]}
        body.update(extra)
        r = self.c[who].post("/api/v1/changes/%s/signatures" % key, json=body)
        self.assertStatus(r, status)
        if rule:
            self.assertEqual(r.json["rule"], rule, r.json)
        return r

    def upload(self, aid, key, text, who="eng2", status=201):
        r = self.c[who].post("/api/v1/assets/%d/versions" % aid,
                             fields={"message": "work on " + key, "change": key},
                             files=[("file", "main.st", text)])
        self.assertStatus(r, status)
        return r

    def protocol(self, kind, witness=False, name=None):
        r = self.c["qa1"].post("/api/v1/protocols", json={
            "name": name or ("%s-basic" % kind), "kind": kind, "title": kind.upper() + " basic",
            "witness_required": witness,
            "steps": [{"instruction": "start the pump", "expected": "pump runs"},
                      {"instruction": "raise the level", "expected": "alarm at 90%"}]})
        self.assertStatus(r, 201)
        return r.json

    def do_run(self, key, aid, proto, tester="qa1", results=("pass", "pass"), status=201):
        r = self.c[tester].post("/api/v1/changes/%s/test-runs" % key,
                                json={"protocol_id": proto["id"], "asset_id": aid})
        self.assertStatus(r, status)
        if status != 201:
            return r
        run = r.json
        for no, res in enumerate(results, 1):
            body = {"result": res, "observed": "as expected"}
            if res == "fail":
                body.update({"deviation": "alarm at 91%", "disposition": "accepted"})
            self.assertStatus(self.c[tester].put("/api/v1/test-runs/%d/steps/%d" % (run["id"], no), json=body), 200)
        r = self.c[tester].post("/api/v1/test-runs/%d/signatures" % run["id"],
                                json={"meaning": "tested", "password": self.pw[tester]})
        self.assertStatus(r, 201)
        return self.c[tester].get("/api/v1/test-runs/%d" % run["id"]).json

    def audit(self, action):
        r = self.admin.get("/api/v1/audit?limit=1000")
        self.assertStatus(r, 200)
        return [e for e in r.json["items"] if e["action"] == action]

    def to_fat(self, key, aid, text="PROGRAM main (* v1 *) END_PROGRAM\n"):
        self.move(key, "submitted")
        self.sign(key, "authorised", "appr")
        self.move(key, "implementing")
        up = self.upload(aid, key, text)
        self.move(key, "fat")
        return up.json

    # -- tests --

    def test_full_lifecycle_to_release(self):
        aid = self.asset()
        other = self.asset()
        key = self.change([aid])
        got = self.c["aud"].get("/api/v1/changes/" + key)
        self.assertStatus(got, 200)
        self.assertEqual(got.json["state"], "draft")
        self.assertEqual(got.json["affected_assets"][0]["branch"], "changes/" + key)

        # nothing can be uploaded before implementing
        r = self.upload(aid, key, "x", status=409)
        self.assertEqual(r.json["rule"], "upload-state")
        self.move(key, "submitted")
        self.move(key, "authorised", who="appr", status=409, rule="signature-required")
        r = self.sign(key, "authorised", "appr", status=401, password="wrong-password-123")
        self.assertEqual(r.json["field"], "password")
        s = self.sign(key, "authorised", "appr").json
        self.assertEqual(s["printed_name"], "APPR Person")
        self.assertEqual(s["role"], "approver")
        self.assertEqual(s["reauthenticated_with"], "password")
        self.assertIs(s["second_factor_enrolled"], False)
        self.assertEqual(len(s["content_sha256"]), 64)
        self.move(key, "implementing")
        r = self.upload(other, key, "x", status=409)
        self.assertEqual(r.json["rule"], "asset-not-affected")
        self.move(key, "fat", status=409, rule="versions-required")
        v1 = self.upload(aid, key, "PROGRAM main (* v1 *) END_PROGRAM\n").json
        self.assertEqual(v1["branch"], "changes/" + key)
        self.move(key, "fat")

        fat = self.protocol("fat", witness=True, name="fat-witnessed")
        sat = self.protocol("sat")
        run = self.c["qa1"].post("/api/v1/changes/%s/test-runs" % key,
                                 json={"protocol_id": fat["id"], "asset_id": aid}).json
        self.assertEqual(run["tree"], v1["tree"])
        self.assertEqual(run["commit"], v1["commit"])
        rid = run["id"]
        self.c["qa1"].put("/api/v1/test-runs/%d/steps/1" % rid, json={"result": "pass"})
        self.c["qa1"].put("/api/v1/test-runs/%d/steps/2" % rid, json={"result": "fail", "observed": "91%"})
        r = self.c["qa1"].post("/api/v1/test-runs/%d/signatures" % rid, json={"meaning": "tested", "password": self.pw["qa1"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "deviation-required")
        self.c["qa1"].put("/api/v1/test-runs/%d/steps/2" % rid, json={
            "result": "fail", "observed": "91%", "deviation": "alarm one percent late", "disposition": "accepted"})
        r = self.c["qa2"].post("/api/v1/test-runs/%d/signatures" % rid, json={"meaning": "tested", "password": self.pw["qa2"]})
        self.assertEqual(r.json["rule"], "tester-signs")
        self.assertStatus(self.c["qa1"].post("/api/v1/test-runs/%d/signatures" % rid,
                                             json={"meaning": "tested", "password": self.pw["qa1"]}), 201)
        got = self.c["qa1"].get("/api/v1/test-runs/%d" % rid).json
        self.assertEqual(got["verdict"], "pass")
        self.assertEqual(got["state"], "completed")
        # not yet witnessed: approval needs the witnessed FAT
        self.sign(key, "approved", "appr2", status=409, rule="fat-required")
        r = self.c["qa1"].post("/api/v1/test-runs/%d/signatures" % rid, json={"meaning": "witnessed", "password": self.pw["qa1"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "segregation-of-duties")
        self.assertStatus(self.c["qa2"].post("/api/v1/test-runs/%d/signatures" % rid,
                                             json={"meaning": "witnessed", "password": self.pw["qa2"]}), 201)
        # deploying before approval is refused for a normal change
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key, json={"asset_id": aid, "commit": v1["commit"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "approval-required")
        self.sign(key, "approved", "appr2")
        self.assertEqual(self.c["eng"].get("/api/v1/changes/" + key).json["state"], "approved")

        # a read-back that does not match is recorded and flagged, and does not count
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key,
                               json={"asset_id": aid, "commit": v1["commit"], "readback_sha256": "0" * 64})
        self.assertStatus(r, 201)
        self.assertTrue(r.json["flagged"])
        self.move(key, "deployed", status=409, rule="deployment-required")
        good = hashlib.sha256(b"PROGRAM main (* v1 *) END_PROGRAM\n").hexdigest()
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key,
                               json={"asset_id": aid, "commit": v1["commit"], "readback_sha256": good, "note": "PLC1"})
        self.assertStatus(r, 201)
        self.assertFalse(r.json["flagged"])
        self.move(key, "deployed")
        r = self.c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": self.pw["appr"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "wrong-state")
        self.move(key, "sat", who="qa1")
        r = self.c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": self.pw["appr"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "release-requirements")
        self.do_run(key, aid, sat)

        # main is untouched until release
        main = self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid).json
        self.assertNotEqual(main["items"][0]["commit"], v1["commit"])
        r = self.c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": self.pw["appr"]})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["state"], "released")
        rel = r.json["release"][0]
        self.assertEqual(rel["how"], "fast-forward")
        self.assertEqual(rel["main"], v1["commit"])
        main = self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid).json
        self.assertEqual(main["items"][0]["commit"], v1["commit"])
        self.assertEqual(r.json["signature"]["meaning"], "released")

        full = self.c["aud"].get("/api/v1/changes/" + key).json
        self.assertEqual([s["meaning"] for s in full["signatures"]],
                         ["authorised", "tested", "witnessed", "approved", "tested", "released"])
        self.assertTrue(any(d["flagged"] for d in full["deployments"]))
        self.move(key, "closed", who="appr")
        # refusals are audit events
        refused = self.audit("change.transition.refused") + self.audit("signature.refused") + \
            self.audit("change.upload.refused") + self.audit("change.deployment.refused")
        self.assertTrue(any(e["object_id"] == key for e in refused))
        self.assertTrue(self.audit("change.deployment.mismatch"))

    def test_two_assets_from_draft_to_closed(self):
        """FAT and SAT on each of two assets; release needs both, moves both mains, tags both."""
        a1, a2 = self.asset(), self.asset()
        key = self.change([a1, a2])
        self.move(key, "submitted")
        self.sign(key, "authorised", "appr")
        self.move(key, "implementing")
        v1 = self.upload(a1, key, "PROGRAM main (* a1 *) END_PROGRAM\n").json
        v2 = self.upload(a2, key, "PROGRAM main (* a2 *) END_PROGRAM\n").json
        self.move(key, "fat")
        fat, sat = self.protocol("fat", name="fat-two"), self.protocol("sat", name="sat-two")
        self.do_run(key, a1, fat)
        # one asset tested is not enough to approve
        self.sign(key, "approved", "appr", status=409, rule="fat-required")
        self.do_run(key, a2, fat)
        self.sign(key, "approved", "appr")
        for aid, v in ((a1, v1), (a2, v2)):
            self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/deployments" % key,
                                                 json={"asset_id": aid, "commit": v["commit"]}), 201)
        self.move(key, "deployed")
        self.move(key, "sat", who="qa1")
        self.do_run(key, a1, sat)
        r = self.c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": self.pw["appr"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "release-requirements")
        self.do_run(key, a2, sat)
        r = self.c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": self.pw["appr"]})
        self.assertStatus(r, 200)
        self.assertEqual(sorted(x["main"] for x in r.json["release"]), sorted([v1["commit"], v2["commit"]]))
        for aid, v in ((a1, v1), (a2, v2)):
            main = self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid).json
            self.assertEqual(main["items"][0]["commit"], v["commit"])
            self.assertEqual(main["items"][0]["tree"], v["tree"])
        self.move(key, "closed", who="appr")
        self.assertEqual(self.c["aud"].get("/api/v1/changes/" + key).json["state"], "closed")

    def test_release_merges_when_main_moved(self):
        """Two changes from one main: the first release fast-forwards main, the second merges."""
        aid = self.asset()
        base = self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid).json["head"]
        first, second = self.change([aid]), self.change([aid])
        v1 = self.to_fat(first, aid, "PROGRAM main (* first *) END_PROGRAM\n")
        v2 = self.to_fat(second, aid, "PROGRAM main (* second *) END_PROGRAM\n")
        self.assertEqual((v1["parent"], v2["parent"]), (base, base))
        fat, sat = self.protocol("fat", name="fat-m"), self.protocol("sat", name="sat-m")

        def through_sat(key, v):
            self.do_run(key, aid, fat)
            self.sign(key, "approved", "appr")
            self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/deployments" % key,
                                                 json={"asset_id": aid, "commit": v["commit"]}), 201)
            self.move(key, "deployed")
            self.move(key, "sat")
            self.do_run(key, aid, sat)

        through_sat(second, v2)
        # main moves under the second change: the first change is released
        through_sat(first, v1)
        r = self.c["appr"].post("/api/v1/changes/%s/release" % first, json={"password": self.pw["appr"]})
        self.assertStatus(r, 200)
        rel = r.json["release"][0]
        self.assertEqual((rel["how"], rel["main"]), ("fast-forward", v1["commit"]))

        r = self.c["appr"].post("/api/v1/changes/%s/release" % second, json={"password": self.pw["appr"]})
        self.assertStatus(r, 200)
        rel = r.json["release"][0]
        self.assertEqual(rel["how"], "merge")
        self.assertEqual(rel["tree"], v2["tree"])
        main = self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid).json
        self.assertEqual(main["head"], rel["main"])
        merge = main["items"][0]
        self.assertEqual(merge["commit"], rel["main"])
        self.assertEqual(merge["tree"], v2["tree"])
        self.assertEqual(merge["parents"], [v1["commit"], v2["commit"]])
        got = self.admin.get("/api/v1/assets/%d/versions/%s" % (aid, rel["main"]))
        self.assertStatus(got, 200)
        self.assertEqual(got.json["tree"], v2["tree"])

    def test_requester_cannot_authorise_and_contributor_cannot_approve(self):
        aid = self.asset()
        key = self.change([aid], who="admin")
        self.move(key, "submitted", who="admin")
        self.sign(key, "authorised", "admin", status=409, rule="segregation-of-duties")
        self.sign(key, "authorised", "eng", status=409, rule="signature-role")
        self.sign(key, "authorised", "appr")
        self.move(key, "implementing")
        self.upload(aid, key, "PROGRAM main (* by admin *) END_PROGRAM\n", who="admin")
        self.move(key, "fat")
        self.do_run(key, aid, self.protocol("fat", name="fat-sod"))
        self.sign(key, "approved", "admin", status=409, rule="segregation-of-duties")
        self.sign(key, "approved", "appr")

    def test_new_version_makes_runs_and_approvals_stale(self):
        aid = self.asset()
        key = self.change([aid])
        self.to_fat(key, aid)
        run = self.do_run(key, aid, self.protocol("fat", name="fat-stale"))
        self.assertFalse(run["stale"])
        # an upload during FAT sends the change back to implementing and stales the run
        v2 = self.upload(aid, key, "PROGRAM main (* v2 *) END_PROGRAM\n").json
        full = self.c["eng"].get("/api/v1/changes/" + key).json
        self.assertEqual(full["state"], "implementing")
        self.assertTrue(full["test_runs"][0]["stale"])
        self.assertTrue([s for s in full["signatures"] if s["meaning"] == "tested"][0]["stale"])
        self.assertEqual(full["affected_assets"][0]["tree"], v2["tree"])
        self.move(key, "fat")
        self.sign(key, "approved", "appr", status=409, rule="fat-required")
        run2 = self.do_run(key, aid, self.protocol("fat", name="fat-stale"))
        self.assertEqual(run2["protocol"]["version"], 2)
        self.sign(key, "approved", "appr")
        self.assertTrue(self.audit("change.version"))

    def test_parallel_approvals_leave_one_approval(self):
        aid = self.asset()
        key = self.change([aid])
        self.to_fat(key, aid)
        self.do_run(key, aid, self.protocol("fat", name="fat-par"))
        results = []
        barrier = threading.Barrier(2)

        def approve(who):
            barrier.wait()
            r = self.c[who].post("/api/v1/changes/%s/signatures" % key,
                                 json={"meaning": "approved", "password": self.pw[who]})
            results.append(r.status)

        threads = [threading.Thread(target=approve, args=(w,)) for w in ("appr", "appr2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [201, 409])
        full = self.c["eng"].get("/api/v1/changes/" + key).json
        self.assertEqual(full["state"], "approved")
        self.assertEqual(len([s for s in full["signatures"] if s["meaning"] == "approved"]), 1)

        # two transitions that exclude each other: exactly one wins
        key2 = self.change([aid])
        self.move(key2, "submitted")
        results.clear()
        barrier2 = threading.Barrier(2)

        def move(who, to):
            barrier2.wait()
            r = self.c[who].post("/api/v1/changes/%s/transitions" % key2, json={"to": to})
            results.append((to, r.status))

        threads = [threading.Thread(target=move, args=a) for a in (("eng", "draft"), ("appr", "rejected"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(s for _, s in results), [200, 409], results)
        winner = [to for to, s in results if s == 200][0]
        self.assertEqual(self.c["eng"].get("/api/v1/changes/" + key2).json["state"], winner)

    def test_emergency_deploys_first_and_is_listed_overdue(self):
        self.assertStatus(self.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 0}), 200)
        self.assertStatus(self.c["eng"].put("/api/v1/change-settings", json={"emergency_approval_seconds": 5}), 403)
        aid = self.asset()
        key = self.change([aid], ctype="emergency")
        self.move(key, "submitted")
        self.sign(key, "authorised", "appr")
        self.move(key, "implementing")
        v1 = self.upload(aid, key, "PROGRAM main (* hot *) END_PROGRAM\n").json
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key, json={"asset_id": aid, "commit": v1["commit"]})
        self.assertStatus(r, 201)
        self.move(key, "deployed")
        time.sleep(0.05)
        listed = self.c["aud"].get("/api/v1/changes?overdue=true").json["items"]
        self.assertIn(key, [c["key"] for c in listed])
        self.assertTrue(self.c["aud"].get("/api/v1/changes/" + key).json["overdue"])
        normal = self.change([aid])
        self.assertNotIn(normal, [c["key"] for c in listed])
        self.assertStatus(self.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 259200}), 200)

    def test_edits_freeze_after_draft_and_are_audited(self):
        aid = self.asset()
        key = self.change([aid])
        self.assertStatus(self.c["eng"].patch("/api/v1/changes/" + key, json={"title": "New title"}), 200)
        r = self.c["eng2"].patch("/api/v1/changes/" + key, json={"title": "Hijack"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "edit-role")
        self.move(key, "submitted")
        r = self.c["eng"].patch("/api/v1/changes/" + key, json={"risk": "high"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "frozen-after-draft")
        r = self.c["eng"].patch("/api/v1/changes/" + key, json={"risk": "high", "edit_reason": "HAZOP finding"})
        self.assertStatus(r, 200)
        ev = [e for e in self.audit("change.update") if e["object_id"] == key][-1]
        self.assertEqual(ev["before"]["risk"], "medium")
        self.assertEqual(ev["after"]["risk"], "high")
        self.assertEqual(ev["reason"], "HAZOP finding")
        self.assertTrue([e for e in self.audit("change.update.refused") if e["object_id"] == key])
        r = self.c["eng"].patch("/api/v1/changes/" + key, json={"risk": "extreme", "edit_reason": "x"})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "risk")

    def test_type_is_frozen_once_submitted(self):
        """An authorised normal change cannot become an emergency to deploy before approval."""
        aid = self.asset()
        key = self.change([aid])
        # in draft the type is still the requester's to choose
        self.assertStatus(self.c["eng"].patch("/api/v1/changes/" + key, json={"type": "standard"}), 200)
        self.assertStatus(self.c["eng"].patch("/api/v1/changes/" + key, json={"type": "normal"}), 200)
        v1 = self.to_fat(key, aid)
        before = self.c["eng"].get("/api/v1/changes/" + key).json
        for who in ("eng", "admin"):
            r = self.c[who].patch("/api/v1/changes/" + key,
                                  json={"type": "emergency", "edit_reason": "the plant is down"})
            self.assertStatus(r, 409)
            self.assertEqual(r.json["rule"], "type-frozen", r.json)
            self.assertEqual(r.json["field"], "type")
            self.assertIn("type", r.json["detail"])
        after = self.c["eng"].get("/api/v1/changes/" + key).json
        self.assertEqual(after["type"], "normal")
        self.assertEqual(after["updated_at"], before["updated_at"])
        refused = [e for e in self.audit("change.update.refused")
                   if e["object_id"] == key and e["after"]["rule"] == "type-frozen"]
        self.assertEqual(len(refused), 2)
        self.assertFalse([e for e in self.audit("change.update") if e["object_id"] == key
                          and e["before"]["state"] != "draft" and e["after"]["type"] != e["before"]["type"]])
        # and so a deployment before approval stays refused
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key, json={"asset_id": aid, "commit": v1["commit"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "approval-required")
        # an edit that repeats the type it has (as the edit page sends it) is no change of type
        r = self.c["eng"].patch("/api/v1/changes/" + key, json={"type": "normal", "risk": "high",
                                                               "edit_reason": "HAZOP finding"})
        self.assertStatus(r, 200)
        self.assertEqual((r.json["type"], r.json["risk"]), ("normal", "high"))

    def test_lists_filter_and_validate(self):
        aid = self.asset()
        k1 = self.change([aid])
        k2 = self.change([aid], ctype="emergency", who="eng2")
        items = self.c["aud"].get("/api/v1/changes?asset=%d" % aid).json["items"]
        self.assertEqual([c["key"] for c in items], [k2, k1])
        items = self.c["aud"].get("/api/v1/changes?asset=%d&type=emergency" % aid).json["items"]
        self.assertEqual([c["key"] for c in items], [k2])
        items = self.c["aud"].get("/api/v1/changes?asset=%d&requester=eng" % aid).json["items"]
        self.assertEqual([c["key"] for c in items], [k1])
        page = self.c["aud"].get("/api/v1/changes?asset=%d&limit=1" % aid).json
        self.assertEqual(page["next_cursor"], k2)
        page = self.c["aud"].get("/api/v1/changes?asset=%d&limit=1&cursor=%s" % (aid, k2)).json
        self.assertEqual([c["key"] for c in page["items"]], [k1])
        self.assertEqual(self.c["aud"].get("/api/v1/changes?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z").json["items"], [])
        self.assertStatus(self.c["aud"].get("/api/v1/changes?state=nope"), 400)
        self.assertStatus(self.c["agent1"].get("/api/v1/changes"), 403)
        self.assertStatus(self.c["aud"].post("/api/v1/changes", json={"type": "normal", "title": "x", "risk": "low"}), 403)
        self.assertStatus(self.c["aud"].get("/api/v1/changes/CHG-999999"), 404)
        self.assertStatus(self.c["aud"].get("/api/v1/changes/nope"), 404)
        r = self.c["eng"].post("/api/v1/changes", json={"type": "normal", "title": "x", "risk": "low",
                                                        "affected_assets": [999999]})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "affected_assets")

    def test_totp_is_required_once_enrolled_and_codes_are_not_reused(self):
        appr = self.c["appr2"]
        r = appr.post("/api/v1/totp", json={"password": self.pw["appr2"]})
        self.assertStatus(r, 201)
        secret = r.json["secret"]
        self.assertTrue(r.json["provisioning_uri"].startswith("otpauth://totp/otcm:appr2?secret=" + secret))
        self.assertStatus(appr.post("/api/v1/totp/confirm", json={
            "password": self.pw["appr2"], "totp_code": "000000" if totp(secret) != "000000" else "111111"}), 401)
        self.assertStatus(appr.post("/api/v1/totp/confirm", json={
            "password": self.pw["appr2"], "totp_code": totp(secret, step=-1)}), 200)
        aid = self.asset()
        key = self.change([aid])
        self.move(key, "submitted")
        r = self.sign(key, "authorised", "appr2", status=401)
        self.assertEqual(r.json["field"], "totp_code")
        code = totp(secret)
        s = self.sign(key, "authorised", "appr2", totp_code=code).json
        self.assertEqual(s["reauthenticated_with"], "password+totp")
        self.assertIs(s["second_factor_enrolled"], True)
        r = self.sign(key, "reviewed", "appr2", status=401, totp_code=code)
        self.assertEqual(r.json["field"], "totp_code")


if __name__ == "__main__":
    unittest.main()
