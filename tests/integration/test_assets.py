"""The asset register: create, read, list, change; roles; validation; audit.

Administrators manage assets; every role reads them.  Bad input is a 400
problem+json naming the field, a taken path is 409, and nothing is written
by a refused request.
"""

import unittest

from harness import ServerTestCase, strong_password


def make_user(admin, srv, username, role):
    """Create a user with `role` and return a bearer-token client for them."""
    pw = strong_password()
    r = admin.post("/api/v1/users", json={"username": username, "display_name": username.title(),
                                          "role": role, "password": pw})
    if r.status != 201:
        raise AssertionError("creating %s failed: %r" % (username, r))
    c = srv.client()
    r = c.login(username, pw)
    if r.status != 200:
        raise AssertionError("login of %s failed: %r" % (username, r))
    return srv.client(token=c.create_token("tests"))


class Assets(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.client(token=cls.srv.admin_token())
        cls.engineer = make_user(cls.admin, cls.srv, "eng-assets", "engineer")
        cls.auditor = make_user(cls.admin, cls.srv, "aud-assets", "auditor")

    def create(self, path, type_="plc", **extra):
        body = dict(path=path, type=type_, **extra)
        r = self.admin.post("/api/v1/assets", json=body)
        self.assertStatus(r, 201)
        return r.json

    def assertProblem(self, r, status, field):
        self.assertEqual(r.status, status, "unexpected answer: %r" % (r,))
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json")
        self.assertEqual(r.json["status"], status)
        self.assertEqual(r.json.get("field"), field, r.json)
        self.assertTrue(r.json["detail"])

    def audit(self, object_id, action):
        r = self.admin.get("/api/v1/audit?object_type=asset&object_id=%s&limit=1000" % object_id)
        self.assertStatus(r, 200)
        return [e for e in r.json["items"] if e["action"] == action]

    def all_assets(self):
        r = self.admin.get("/api/v1/assets?limit=500")
        self.assertStatus(r, 200)
        return r.json["items"]

    def test_create_and_read(self):
        a = self.create("plant-a/packaging/line-3/plc-1", vendor="Rockwell Automation",
                        model="1756-L83E", firmware="33.011", description="main packer PLC")
        self.assertIsInstance(a["id"], int)
        self.assertEqual(a["path"], "plant-a/packaging/line-3/plc-1")
        self.assertEqual(a["type"], "plc")
        self.assertEqual(a["firmware"], "33.011")
        self.assertEqual(a["created_by"], "admin")
        for who in (self.admin, self.engineer, self.auditor):
            r = who.get("/api/v1/assets/%d" % a["id"])
            self.assertStatus(r, 200)
            self.assertEqual(r.json, a)
        events = self.audit(a["id"], "asset.create")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["after"]["path"], a["path"])

    def test_unknown_ids(self):
        for ident in ("999999", "abc", "0", "-1", "1.5"):
            r = self.auditor.get("/api/v1/assets/" + ident)
            self.assertProblem(r, 404, "id")

    def test_duplicate_path(self):
        self.create("plant-a/utilities/boiler/plc-1")
        r = self.admin.post("/api/v1/assets", json={"path": "plant-a/utilities/boiler/plc-1",
                                                    "type": "hmi"})
        self.assertProblem(r, 409, "path")

    def test_bad_input(self):
        before = self.all_assets()
        bad_paths = ["", "/plant-a/plc", "plant-a//plc", "plant-a/plc/", "-plant/plc",
                     "plant a/plc", "pl\u00e4nt/plc", "plant/../plc", "plant/.hidden",
                     "x" * 256, "plant\n/plc"]
        for p in bad_paths:
            r = self.admin.post("/api/v1/assets", json={"path": p, "type": "plc"})
            self.assertProblem(r, 400, "path")
        self.assertProblem(self.admin.post("/api/v1/assets", json={"type": "plc"}), 400, "path")
        self.assertProblem(self.admin.post("/api/v1/assets", json={"path": 7, "type": "plc"}),
                           400, "path")
        self.assertProblem(self.admin.post("/api/v1/assets", json={"path": "a/b", "type": "pump"}),
                           400, "type")
        self.assertProblem(self.admin.post("/api/v1/assets", json={"path": "a/b"}), 400, "type")
        self.assertProblem(self.admin.post("/api/v1/assets", json={"path": "a/b", "type": "plc",
                                                                   "firmwre": "1.0"}),
                           400, "firmwre")
        self.assertProblem(self.admin.post("/api/v1/assets", json={"path": "a/b", "type": "plc",
                                                                   "vendor": "v" * 201}),
                           400, "vendor")
        self.assertProblem(self.admin.post("/api/v1/assets", body="{not json",
                                           content_type="application/json"), 400, "body")
        self.assertEqual(self.all_assets(), before)

    def test_roles(self):
        r = self.engineer.post("/api/v1/assets", json={"path": "plant-z/x", "type": "plc"})
        self.assertEqual(r.status, 403)
        r = self.auditor.post("/api/v1/assets", json={"path": "plant-z/x", "type": "plc"})
        self.assertEqual(r.status, 403)
        a = self.create("plant-z/roles/plc")
        r = self.engineer.patch("/api/v1/assets/%d" % a["id"], json={"description": "x"})
        self.assertEqual(r.status, 403)
        r = self.srv.client().get("/api/v1/assets")
        self.assertEqual(r.status, 401)
        self.assertStatus(self.auditor.get("/api/v1/assets"), 200)

    def test_list_prefix_type_and_pages(self):
        paths = ["site-l/area/line-3/plc-1", "site-l/area/line-3/hmi-1",
                 "site-l/area/line-30/plc-1", "site-l/area/line-3", "site-l/area2/plc",
                 "site-l/area/line-3/drive_7"]
        types = {"site-l/area/line-3/hmi-1": "hmi", "site-l/area/line-3/drive_7": "drive"}
        for p in paths:
            self.create(p, types.get(p, "plc"))

        r = self.auditor.get("/api/v1/assets?prefix=site-l/area/line-3")
        self.assertStatus(r, 200)
        got = [a["path"] for a in r.json["items"]]
        self.assertEqual(got, sorted(["site-l/area/line-3", "site-l/area/line-3/plc-1",
                                      "site-l/area/line-3/hmi-1", "site-l/area/line-3/drive_7"]))
        self.assertIsNone(r.json["next_cursor"])
        # a trailing slash means the same; '_' is not a wildcard
        r2 = self.auditor.get("/api/v1/assets?prefix=site-l/area/line-3/")
        self.assertEqual([a["path"] for a in r2.json["items"]], got)
        r = self.auditor.get("/api/v1/assets?prefix=site-l/area/line_3")
        self.assertEqual(r.json["items"], [])

        r = self.auditor.get("/api/v1/assets?prefix=site-l&type=hmi")
        self.assertEqual([a["path"] for a in r.json["items"]], ["site-l/area/line-3/hmi-1"])

        r = self.auditor.get("/api/v1/assets?path=site-l/area2/plc")
        self.assertEqual([a["path"] for a in r.json["items"]], ["site-l/area2/plc"])

        # pages of two, in path order, cover everything exactly once
        seen, cursor = [], None
        while True:
            url = "/api/v1/assets?prefix=site-l&limit=2"
            if cursor:
                url += "&cursor=" + cursor
            r = self.auditor.get(url)
            self.assertStatus(r, 200)
            self.assertLessEqual(len(r.json["items"]), 2)
            seen += [a["path"] for a in r.json["items"]]
            cursor = r.json["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, sorted(paths))

        self.assertProblem(self.auditor.get("/api/v1/assets?limit=0"), 400, "limit")
        self.assertProblem(self.auditor.get("/api/v1/assets?limit=501"), 400, "limit")
        self.assertProblem(self.auditor.get("/api/v1/assets?type=pump"), 400, "type")
        self.assertProblem(self.auditor.get("/api/v1/assets?prefix=a//b"), 400, "prefix")

    def test_patch(self):
        a = self.create("plant-p/line-1/plc", vendor="Siemens", model="S7-1500", firmware="2.9")
        url = "/api/v1/assets/%d" % a["id"]
        r = self.admin.patch(url, json={"firmware": "3.0", "description": "after upgrade"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["firmware"], "3.0")
        self.assertEqual(r.json["vendor"], "Siemens")
        events = self.audit(a["id"], "asset.update")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["before"], {"firmware": "2.9", "description": ""})
        self.assertEqual(events[0]["after"], {"firmware": "3.0", "description": "after upgrade"})

        # the same values again: nothing changes, nothing is audited
        r = self.admin.patch(url, json={"firmware": "3.0"})
        self.assertStatus(r, 200)
        self.assertEqual(len(self.audit(a["id"], "asset.update")), 1)

        # move and retype; the id stays
        r = self.admin.patch(url, json={"path": "plant-p/line-2/plc", "type": "other"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["id"], a["id"])
        self.assertEqual(r.json["path"], "plant-p/line-2/plc")

        other = self.create("plant-p/line-9/plc")
        r = self.admin.patch(url, json={"path": other["path"]})
        self.assertProblem(r, 409, "path")
        self.assertProblem(self.admin.patch(url, json={"path": "plant-p//x"}), 400, "path")
        self.assertProblem(self.admin.patch(url, json={"type": "valve"}), 400, "type")
        self.assertProblem(self.admin.patch(url, json={"id": 5}), 400, "id")
        self.assertProblem(self.admin.patch("/api/v1/assets/999999", json={"firmware": "1"}),
                           404, "id")
        r = self.admin.get(url)
        self.assertEqual(r.json["path"], "plant-p/line-2/plc")
        self.assertEqual(len(self.audit(a["id"], "asset.update")), 2)


if __name__ == "__main__":
    unittest.main()
