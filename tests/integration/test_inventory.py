"""An asset's inventory and its history.

Vendor, model, firmware, serial number, order number, CPE and PURL are the
inventory; every change of one of them is a history row with its old and new
value, when, who and what moved it (here: typed through the API or the asset
register's page, source "manual").  Bad values are a 400 naming the field and
change nothing; the history cannot be rewritten.
"""

import unittest
import urllib.parse

from harness import ServerTestCase
from test_assets import make_user


class Inventory(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.client(token=cls.srv.admin_token())
        cls.engineer = make_user(cls.admin, cls.srv, "eng-inv", "engineer")
        cls.auditor = make_user(cls.admin, cls.srv, "aud-inv", "auditor")

    def create(self, path, **extra):
        r = self.admin.post("/api/v1/assets", json=dict(path=path, type="plc", **extra))
        self.assertStatus(r, 201)
        return r.json

    def inventory(self, asset_id, who=None, query=""):
        r = (who or self.auditor).get("/api/v1/assets/%d/inventory%s" % (asset_id, query))
        self.assertStatus(r, 200)
        return r.json

    def audit(self, asset_id, action):
        r = self.admin.get("/api/v1/audit?object_type=asset&object_id=%s&limit=1000" % asset_id)
        self.assertStatus(r, 200)
        return [e for e in r.json["items"] if e["action"] == action]

    def assertProblem(self, r, status, field):
        self.assertEqual(r.status, status, "unexpected answer: %r" % (r,))
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json")
        self.assertEqual(r.json.get("field"), field, r.json)

    def test_registration_starts_the_history(self):
        a = self.create("inv/site-a/line-1/plc", vendor="Siemens", model="CPU 1515-2 PN",
                        firmware="V2.9.4", order_number="6ES7515-2AM02-0AB0",
                        serial_number="S C-X4U12345", cpe="cpe:2.3:h:siemens:simatic_s7-1500:-:*:*:*:*:*:*:*")
        self.assertEqual(a["order_number"], "6ES7515-2AM02-0AB0")
        self.assertEqual(a["serial_number"], "S C-X4U12345")
        self.assertEqual(a["purl"], "")
        inv = self.inventory(a["id"])
        self.assertEqual(inv["asset_id"], a["id"])
        self.assertEqual(inv["current"]["firmware"], "V2.9.4")
        self.assertEqual(inv["current"]["purl"], "")
        fields = sorted(h["field"] for h in inv["history"])
        self.assertEqual(fields, ["cpe", "firmware", "model", "order_number", "serial_number",
                                  "vendor"])
        for h in inv["history"]:
            self.assertEqual(h["old"], "")
            self.assertEqual(h["source"], "manual")
            self.assertIsNone(h["source_ref"])
            self.assertEqual(h["by"], "admin")
            self.assertTrue(h["at"].endswith("Z"))
        self.assertFalse(inv["more"])
        events = self.audit(a["id"], "inventory.observe")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["after"]["firmware"], "V2.9.4")
        self.assertEqual(events[0]["reason"], "manual")
        # the registration's own event shows the asset as registered
        created = self.audit(a["id"], "asset.create")
        self.assertEqual(created[0]["after"]["vendor"], "Siemens")

    def test_patch_moves_the_inventory_with_history(self):
        a = self.create("inv/site-a/line-2/plc", vendor="Rockwell Automation",
                        model="1756-L83E", firmware="33.011")
        url = "/api/v1/assets/%d" % a["id"]
        before = len(self.inventory(a["id"])["history"])
        r = self.admin.patch(url, json={"firmware": "35.011", "description": "upgraded"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["firmware"], "35.011")
        inv = self.inventory(a["id"], who=self.engineer)
        self.assertEqual(len(inv["history"]), before + 1)
        newest = inv["history"][0]
        self.assertEqual((newest["field"], newest["old"], newest["new"]),
                         ("firmware", "33.011", "35.011"))
        # the description is not inventory: no history row for it
        self.assertNotIn("description", [h["field"] for h in inv["history"]])
        # the same value again: nothing written, nothing audited
        n_events = len(self.audit(a["id"], "inventory.observe"))
        self.assertStatus(self.admin.patch(url, json={"firmware": "35.011"}), 200)
        self.assertEqual(len(self.inventory(a["id"])["history"]), before + 1)
        self.assertEqual(len(self.audit(a["id"], "inventory.observe")), n_events)
        # clearing a field is a change too
        self.assertStatus(self.admin.patch(url, json={"model": ""}), 200)
        newest = self.inventory(a["id"])["history"][0]
        self.assertEqual((newest["field"], newest["old"], newest["new"]), ("model", "1756-L83E", ""))
        # a description-only change writes no inventory event
        n_events = len(self.audit(a["id"], "inventory.observe"))
        self.assertStatus(self.admin.patch(url, json={"description": "again"}), 200)
        self.assertEqual(len(self.audit(a["id"], "inventory.observe")), n_events)
        # ?limit= pages the history
        inv = self.inventory(a["id"], query="?limit=1")
        self.assertEqual(len(inv["history"]), 1)
        self.assertTrue(inv["more"])

    def test_bad_values_change_nothing(self):
        a = self.create("inv/site-a/line-3/plc", firmware="1.0")
        url = "/api/v1/assets/%d" % a["id"]
        bad = [
            ({"cpe": "siemens s7"}, "cpe"),
            ({"cpe": "cpe:2.3:h:siemens:s7"}, "cpe"),                      # too few components
            ({"cpe": "cpe:2.3:x:siemens:s7:1:*:*:*:*:*:*:*"}, "cpe"),      # part
            ({"cpe": "cpe:/q:siemens"}, "cpe"),
            ({"purl": "generic/siemens"}, "purl"),
            ({"purl": "pkg:"}, "purl"),
            ({"purl": "pkg:generic"}, "purl"),
            ({"purl": "pkg:generic/a b"}, "purl"),
            ({"serial_number": "x" * 201}, "serial_number"),
            ({"order_number": "6ES7\n515"}, "order_number"),
            ({"firmware": 3}, "firmware"),
            ({"firmware": "2.0", "cpe": "nope"}, "cpe"),
        ]
        for body, field in bad:
            self.assertProblem(self.admin.patch(url, json=body), 400, field)
        self.assertProblem(self.admin.post("/api/v1/assets", json={"path": "inv/x/bad", "type": "plc",
                                                                   "purl": "npm/x"}), 400, "purl")
        inv = self.inventory(a["id"])
        self.assertEqual(inv["current"]["firmware"], "1.0")
        self.assertEqual(len(inv["history"]), 1)
        self.assertEqual(self.admin.get("/api/v1/assets?path=inv/x/bad").json["items"], [])
        # well-formed names pass
        for body in ({"cpe": "cpe:/h:siemens:simatic_s7-1500"},
                     {"cpe": "cpe:2.3:o:siemens:firmware\\:x:1.0:*:*:*:*:*:*:*"},
                     {"purl": "pkg:generic/siemens/s7-1500-fw@2.9.4"}):
            self.assertStatus(self.admin.patch(url, json=body), 200)

    def test_read_access_and_unknown_assets(self):
        a = self.create("inv/site-b/plc", vendor="Beckhoff")
        for who in (self.admin, self.engineer, self.auditor):
            self.assertEqual(self.inventory(a["id"], who=who)["current"]["vendor"], "Beckhoff")
        self.assertEqual(self.srv.client().get("/api/v1/assets/%d/inventory" % a["id"]).status, 401)
        self.assertProblem(self.auditor.get("/api/v1/assets/999999/inventory"), 404, "id")
        self.assertProblem(self.auditor.get("/api/v1/assets/x/inventory"), 404, "id")
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/inventory?limit=0" % a["id"]), 400, "limit")
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/inventory?limit=1001" % a["id"]),
                           400, "limit")
        # an engineer may not type the inventory
        self.assertEqual(self.engineer.patch("/api/v1/assets/%d" % a["id"],
                                             json={"firmware": "9"}).status, 403)

    def test_asset_page_shows_the_history(self):
        a = self.create("inv/site-c/plc", vendor="Schneider Electric", firmware="3.20",
                        purl="pkg:generic/schneider/m580@3.20")
        self.assertStatus(self.admin.patch("/api/v1/assets/%d" % a["id"], json={"firmware": "3.40"}), 200)
        r = self.auditor.get("/assets/%d" % a["id"])
        self.assertStatus(r, 200)
        page = r.text
        self.assertIn("Inventory history", page)
        self.assertIn("pkg:generic/schneider/m580@3.20", page)
        self.assertIn("3.40", page)
        self.assertIn("<td>firmware</td>", page)

    def test_admin_page_edits_go_into_the_history(self):
        a = self.create("inv/site-d/plc")
        c = self.srv.admin_client()
        r = c.get("/admin/assets/%d" % a["id"])
        self.assertStatus(r, 200)
        self.assertIn('id="serial_number"', r.text)
        body = urllib.parse.urlencode({"csrf_token": c.csrf, "path": a["path"], "type": "plc",
                                       "serial_number": "SN-77"})
        r = c.post("/admin/assets/%d" % a["id"], body=body,
                   content_type="application/x-www-form-urlencoded")
        self.assertIn(r.status, (302, 303), r)
        inv = self.inventory(a["id"])
        self.assertEqual(inv["current"]["serial_number"], "SN-77")
        self.assertEqual(inv["history"][0]["field"], "serial_number")


if __name__ == "__main__":
    unittest.main()
