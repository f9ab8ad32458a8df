"""The change pages' forms take the same decisions as the API, because both
call the same domain operations: a role the API refuses is refused through
the page form too, with the same status, rule and audit event, and nothing
changes (main does not move, no signature is written).
"""

import unittest
import urllib.parse

from harness import ServerTestCase, strong_password


class ChangePages(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.pw = {"admin": cls.srv.admin_password}
        cls.c = {"admin": cls.admin}
        cls.csrf = {"admin": cls.admin.csrf}
        for name, role in (("eng", "engineer"), ("eng2", "engineer"), ("appr", "approver"),
                           ("appr2", "approver"), ("qa1", "qa"), ("qa2", "qa")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={"username": name, "display_name": name.upper() + " Person",
                                                      "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name], cls.c[name], cls.csrf[name] = pw, c, c.csrf
        cls.nasset = 0

    # -- helpers --

    def form(self, who, path, fields, html=False):
        """POST an urlencoded page form as a browser does: the CSRF token in the form, no header."""
        c = self.c[who]
        kept, c.csrf = c.csrf, None
        try:
            body = urllib.parse.urlencode(dict(fields, csrf_token=self.csrf[who]))
            headers = {"Accept": "text/html,application/xhtml+xml"} if html else {"Accept": "*/*"}
            return c.post(path, body=body, content_type="application/x-www-form-urlencoded",
                          headers=headers)
        finally:
            c.csrf = kept

    def api(self, who, method, path, json):
        return self.c[who].request(method, path, json=json)

    def asset(self):
        type(self).nasset += 1
        r = self.admin.post("/api/v1/assets", json={"path": "site/pages%d/plc" % self.nasset, "type": "plc"})
        self.assertStatus(r, 201)
        aid = r.json["id"]
        r = self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                            files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")])
        self.assertStatus(r, 201)
        return aid

    def ok(self, r, status=200):
        self.assertStatus(r, status)
        return r.json

    def run_passed(self, key, aid, kind):
        proto = self.ok(self.api("qa1", "POST", "/api/v1/protocols", {
            "name": "%s-%s" % (kind, key), "kind": kind, "title": kind.upper(),
            "steps": [{"instruction": "start the pump", "expected": "pump runs"}]}), 201)
        run = self.ok(self.api("qa1", "POST", "/api/v1/changes/%s/test-runs" % key,
                               {"protocol_id": proto["id"], "asset_id": aid}), 201)
        self.ok(self.api("qa1", "PUT", "/api/v1/test-runs/%d/steps/1" % run["id"], {"result": "pass"}))
        self.ok(self.api("qa1", "POST", "/api/v1/test-runs/%d/signatures" % run["id"],
                         {"meaning": "tested", "password": self.pw["qa1"]}), 201)
        return run["id"]

    def change_in_sat(self):
        """A normal change that passed everything up to SAT: ready to be released."""
        aid = self.asset()
        key = self.ok(self.api("eng", "POST", "/api/v1/changes", {
            "type": "normal", "title": "Alarm delay", "reason": "nuisance trips", "risk": "low",
            "implementation_plan": "edit rung 4", "rollback_plan": "redeploy main",
            "affected_assets": [aid]}), 201)["key"]
        move = lambda to, who="eng": self.ok(self.api(who, "POST", "/api/v1/changes/%s/transitions" % key,
                                                      {"to": to}))
        move("submitted")
        self.ok(self.api("appr", "POST", "/api/v1/changes/%s/signatures" % key,
                         {"meaning": "authorised", "password": self.pw["appr"]}), 201)
        move("implementing")
        v = self.ok(self.c["eng2"].post("/api/v1/assets/%d/versions" % aid, fields={"message": "v1", "change": key},
                                        files=[("file", "main.st", "PROGRAM main (* v1 *) END_PROGRAM\n")]), 201)
        move("fat")
        self.run_passed(key, aid, "fat")
        self.ok(self.api("appr2", "POST", "/api/v1/changes/%s/signatures" % key,
                         {"meaning": "approved", "password": self.pw["appr2"]}), 201)
        self.ok(self.api("eng", "POST", "/api/v1/changes/%s/deployments" % key,
                         {"asset_id": aid, "commit": v["commit"]}), 201)
        move("deployed")
        move("sat")
        self.run_passed(key, aid, "sat")
        return key, aid

    def main_head(self, aid):
        return self.ok(self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid))["head"]

    def signatures(self, key):
        return [s["meaning"] for s in self.ok(self.admin.get("/api/v1/changes/%s/signatures" % key))["items"]]

    def refusals(self, who, op):
        events = self.ok(self.admin.get("/api/v1/audit?limit=1000"))["items"]
        return [e for e in events if e["action"] == "access.refused" and e["actor"] == who
                and e["object_id"] == op]

    # -- tests --

    def test_release_through_the_page_is_refused_as_through_the_api(self):
        key, aid = self.change_in_sat()
        main = self.main_head(aid)
        signed = self.signatures(key)
        for who in ("eng", "qa1"):
            api = self.api(who, "POST", "/api/v1/changes/%s/release" % key, {"password": self.pw[who]})
            self.assertStatus(api, 403)
            r = self.form(who, "/changes/%s/actions" % key, {"kind": "release", "password": self.pw[who]})
            self.assertStatus(r, 403)
            self.assertIn("problem+json", r.headers.get("Content-Type"))
            self.assertEqual(r.json["rule"], "role-permission", r.json)
            self.assertIn("release", r.json["detail"])
            # a browser gets a readable page with the same status
            r = self.form(who, "/changes/%s/actions" % key, {"kind": "release", "password": self.pw[who]},
                          html=True)
            self.assertStatus(r, 403)
            self.assertIn("text/html", r.headers.get("Content-Type"))
            self.assertIn("may not release a change", r.text)
            self.assertTrue(self.refusals(who, "change.release"), who)
        self.assertEqual(self.main_head(aid), main)
        self.assertEqual(self.signatures(key), signed)
        got = self.ok(self.admin.get("/api/v1/changes/" + key))
        self.assertEqual(got["state"], "sat")
        # the approver releases through the same form: the refusals above were not the form's fault
        r = self.form("appr", "/changes/%s/actions" % key, {"kind": "release", "password": self.pw["appr"]})
        self.assertStatus(r, 303)
        self.assertNotEqual(self.main_head(aid), main)
        sigs = self.ok(self.admin.get("/api/v1/changes/%s/signatures" % key))["items"]
        self.assertEqual([(s["meaning"], s["role"]) for s in sigs if s["meaning"] == "released"],
                         [("released", "approver")])

    def test_every_change_action_answers_as_the_api(self):
        """Each action a role may not take: the page form and the API give one status and one rule."""
        key, aid = self.change_in_sat()
        main = self.main_head(aid)
        signed = self.signatures(key)
        cases = [
            ("eng", {"kind": "sign", "value": "approved"}, "signatures", {"meaning": "approved"}),
            ("qa1", {"kind": "sign", "value": "authorised"}, "signatures", {"meaning": "authorised"}),
            ("qa1", {"kind": "sign", "value": "released"}, "signatures", {"meaning": "released"}),
            ("eng", {"kind": "transition", "value": "released"}, "transitions", {"to": "released"}),
            ("qa1", {"kind": "transition", "value": "closed"}, "transitions", {"to": "closed"}),
            ("appr", {"kind": "transition", "value": "deployed"}, "transitions", {"to": "deployed"}),
        ]
        for who, fields, endpoint, body in cases:
            with self.subTest(who=who, action=fields):
                if fields["kind"] == "sign":
                    body = dict(body, password=self.pw[who])
                    fields = dict(fields, password=self.pw[who])
                api = self.api(who, "POST", "/api/v1/changes/%s/%s" % (key, endpoint), body)
                page = self.form(who, "/changes/%s/actions" % key, fields)
                self.assertEqual(page.status, api.status, (api, page))
                self.assertIn(api.status, (403, 409))
                self.assertIn(api.json["rule"], page.text)
        self.assertEqual(self.main_head(aid), main)
        self.assertEqual(self.signatures(key), signed)
        self.assertEqual(self.ok(self.admin.get("/api/v1/changes/" + key))["state"], "sat")

    def test_edit_and_run_forms_answer_as_the_api(self):
        key, aid = self.change_in_sat()
        before = self.ok(self.admin.get("/api/v1/changes/" + key))
        edit = {"type": "emergency", "title": before["title"], "reason": before["reason"], "risk": "low",
                "implementation_plan": "edit rung 4", "rollback_plan": "redeploy main",
                "edit_reason": "the plant is down"}
        for who, rule in (("eng", "type-frozen"), ("eng2", "edit-role")):
            with self.subTest(who=who):
                api = self.api(who, "PATCH", "/api/v1/changes/" + key,
                               {k: v for k, v in edit.items() if k != "implementation_plan"})
                page = self.form(who, "/changes/%s/edit" % key, edit)
                self.assertEqual((api.status, page.status), (409, 409), (api, page))
                self.assertEqual(api.json["rule"], rule)
                self.assertIn(rule, page.text)
        after = self.ok(self.admin.get("/api/v1/changes/" + key))
        self.assertEqual((after["type"], after["updated_at"]), ("normal", before["updated_at"]))
        # the tester of a run cannot witness it, through the dialog's form or the API
        run = [r for r in after["test_runs"] if r["protocol"]["kind"] == "sat"][0]["id"]
        api = self.api("qa1", "POST", "/api/v1/test-runs/%d/signatures" % run,
                       {"meaning": "witnessed", "password": self.pw["qa1"]})
        page = self.form("qa1", "/test-runs/%d/sign" % run, {"value": "witnessed", "password": self.pw["qa1"]})
        self.assertEqual((api.status, page.status), (409, 409), (api, page))
        self.assertEqual(api.json["rule"], "segregation-of-duties")
        self.assertIn("segregation-of-duties", page.text)
        self.assertNotIn("witnessed", self.signatures(key))

    def test_an_auditor_has_no_form_to_post(self):
        key, _ = self.change_in_sat()
        pw = strong_password()
        self.ok(self.admin.post("/api/v1/users", json={"username": "aud", "display_name": "Aud Person", "role": "auditor", "password": pw}), 201)
        c = self.srv.client()
        self.assertStatus(c.login("aud", pw), 200)
        self.c["aud"], self.csrf["aud"] = c, c.csrf
        r = self.form("aud", "/changes/%s/actions" % key, {"kind": "release", "password": pw})
        self.assertStatus(r, 403)
        self.assertEqual(r.json["rule"], "role-permission")


if __name__ == "__main__":
    unittest.main()
