"""Controlled firmware updates (docs/changes.md, "Firmware updates").

A change declared a firmware update of an affected asset is released only
with the firmware read before and after, the vendor package (with its
SHA-256) and the advisory it addresses, besides FAT, approval, deployment
and SAT like any change; each missing fact is refused with its rule, and
releasing it puts the after-firmware into the asset's inventory with the
change as its source.
"""

import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
import unittest

from harness import ServerTestCase, corpus_path, otcm_bin, strong_password

ADVISORY = "csaf/cisagov__CSAF/OT/white/2024/icsa-24-011-08.json"

PACKAGE = b"\x7fVENDOR-FW\x00" + bytes(range(256)) * 4


class FirmwareUpdates(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.pw = {}
        cls.c = {}
        for name, role in (("eng", "engineer"), ("eng2", "engineer"), ("appr", "approver"),
                           ("appr2", "approver"), ("qa1", "qa"), ("aud", "auditor")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={"username": name, "display_name": name.upper(),
                                                      "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name] = pw
            cls.c[name] = c
        cls.n = 0
        with open(corpus_path(ADVISORY), "rb") as f:
            r = cls.c["eng"].request("POST", "/api/v1/advisories", body=f.read(), content_type="application/json")
        assert r.status == 201, r

    def asset(self, firmware=None):
        type(self).n += 1
        body = {"path": "plant/fw%d/plc" % self.n, "type": "plc", "vendor": "Siemens", "model": "S7-1500"}
        if firmware:
            body["firmware"] = firmware
        r = self.admin.post("/api/v1/assets", json=body)
        self.assertStatus(r, 201)
        aid = r.json["id"]
        r = self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                            files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")])
        self.assertStatus(r, 201)
        return aid

    def move(self, key, to, who="eng"):
        r = self.c[who].post("/api/v1/changes/%s/transitions" % key, json={"to": to, "reason": "test"})
        self.assertStatus(r, 200)

    def sign(self, key, meaning, who):
        r = self.c[who].post("/api/v1/changes/%s/signatures" % key,
                             json={"meaning": meaning, "password": self.pw[who]})
        self.assertStatus(r, 201)

    def do_run(self, key, aid, kind):
        r = self.c["qa1"].post("/api/v1/protocols", json={
            "name": "fw-%s-%d" % (kind, self.n), "kind": kind, "title": kind, "witness_required": False,
            "steps": [{"instruction": "read the firmware", "expected": "the new one"}]})
        self.assertStatus(r, 201)
        r = self.c["qa1"].post("/api/v1/changes/%s/test-runs" % key, json={"protocol_id": r.json["id"], "asset_id": aid})
        self.assertStatus(r, 201)
        rid = r.json["id"]
        self.assertStatus(self.c["qa1"].put("/api/v1/test-runs/%d/steps/1" % rid, json={"result": "pass"}), 200)
        self.assertStatus(self.c["qa1"].post("/api/v1/test-runs/%d/signatures" % rid,
                                             json={"meaning": "tested", "password": self.pw["qa1"]}), 201)

    def to_sat(self, aid):
        r = self.c["eng"].post("/api/v1/changes", json={
            "type": "normal", "title": "Firmware V3.1 for ICSA-24-123-01", "reason": "advisory", "risk": "medium",
            "safety_related": False, "implementation_plan": "flash V3.1", "rollback_plan": "flash V2.9",
            "affected_assets": [aid]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.move(key, "submitted")
        self.sign(key, "authorised", "appr")
        self.move(key, "implementing")
        r = self.c["eng2"].post("/api/v1/assets/%d/versions" % aid, fields={"message": "fw", "change": key},
                                files=[("file", "main.st", "PROGRAM main (* fw *) END_PROGRAM\n")])
        self.assertStatus(r, 201)
        commit = r.json["commit"]
        self.move(key, "fat")
        self.do_run(key, aid, "fat")
        self.sign(key, "approved", "appr2")
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key, json={"asset_id": aid, "commit": commit})
        self.assertStatus(r, 201)
        self.move(key, "deployed")
        self.move(key, "sat", who="qa1")
        self.do_run(key, aid, "sat")
        return key

    def release(self, key, status, rule=None):
        r = self.c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": self.pw["appr"]})
        self.assertStatus(r, status)
        if rule:
            self.assertEqual(r.json["rule"], rule, r.json)
        return r

    def put(self, key, aid, body, status=200, who="eng"):
        r = self.c[who].put("/api/v1/changes/%s/firmware/%d" % (key, aid), json=body)
        self.assertStatus(r, status)
        return r

    def test_release_needs_each_fact_then_records_the_inventory(self):
        aid = self.asset(firmware="V2.9")
        other = self.asset()
        key = self.to_sat(aid)
        # without a firmware declaration it would release: declare it
        self.put(key, aid, {})
        self.release(key, 409, "firmware-before-missing")
        r = self.put(key, aid, {"before_from_inventory": True})
        self.assertEqual((r.json["before"], r.json["before_source"]), ("V2.9", "inventory"))
        self.release(key, 409, "firmware-after-missing")
        self.put(key, aid, {"after": "V2.9"})
        self.release(key, 409, "firmware-unchanged")
        self.put(key, aid, {"after": "V3.1"})
        self.release(key, 409, "firmware-package-missing")
        r = self.c["eng"].post("/api/v1/changes/%s/firmware/%d/files" % (key, aid), fields={"kind": "package"},
                               files=[("file", "S7-1500_V3.1.upd", PACKAGE)])
        self.assertStatus(r, 201)
        self.assertEqual(r.json["sha256"], hashlib.sha256(PACKAGE).hexdigest())
        r = self.c["eng"].post("/api/v1/changes/%s/firmware/%d/files" % (key, aid), fields={"kind": "signature"},
                               files=[("file", "S7-1500_V3.1.upd.sig", b"vendor signature")])
        self.assertStatus(r, 201)
        self.release(key, 409, "firmware-advisory-missing")
        self.put(key, aid, {"advisory": "ICSA-24-011-08"})
        # the inventory is untouched until release
        inv = self.c["aud"].get("/api/v1/assets/%d/inventory" % aid)
        self.assertEqual(inv.json["current"]["firmware"], "V2.9")
        listed = self.c["aud"].get("/api/v1/changes/%s/firmware" % key).json["items"]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["package"]["sha256"], hashlib.sha256(PACKAGE).hexdigest())
        self.assertEqual(listed[0]["signature"]["filename"], "S7-1500_V3.1.upd.sig")
        self.assertEqual(listed[0]["advisory"], "ICSA-24-011-08")

        r = self.release(key, 200)
        self.assertEqual(r.json["state"], "released")
        # the released signature binds the firmware facts and the package's digest
        content = r.json["signature"]["content"]
        content = json.loads(content) if isinstance(content, str) else content
        self.assertEqual(content["firmware"][0]["package"]["sha256"], hashlib.sha256(PACKAGE).hexdigest())
        self.assertEqual((content["firmware"][0]["before"], content["firmware"][0]["after"]), ("V2.9", "V3.1"))
        # and the change's evidence carries them, verified offline
        r = self.c["aud"].get("/api/v1/changes/%s/evidence" % key)
        self.assertStatus(r, 200)
        with tarfile.open(fileobj=io.BytesIO(r.body)) as t:
            change = json.load(t.extractfile("change.json"))
        self.assertEqual(change["firmware"][0]["advisory"], "ICSA-24-011-08")
        with tempfile.NamedTemporaryFile(suffix=".tar") as f:
            f.write(r.body)
            f.flush()
            p = subprocess.run([otcm_bin(), "verify", f.name], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        inv = self.c["aud"].get("/api/v1/assets/%d/inventory" % aid).json
        self.assertEqual(inv["current"]["firmware"], "V3.1")
        moved = [h for h in inv["history"] if h["field"] == "firmware"][0]
        self.assertEqual((moved["old"], moved["new"], moved["source"], moved["source_ref"]),
                         ("V2.9", "V3.1", "change", key))
        # the advisory's assessment on the asset is fixed by the change
        a = self.c["aud"].get("/api/v1/assets/%d/advisories/ICSA-24-011-08/assessment" % aid)
        self.assertStatus(a, 200)
        self.assertEqual(a.json["assessment"]["status"], "fixed")
        self.assertEqual(a.json["assessment"]["change_key"], key)
        # an ended change records nothing more
        r = self.put(key, aid, {"advisory": "ICSA-24-999-01"}, status=409)
        self.assertEqual(r.json["rule"], "firmware-change-finished")
        r = self.put(key, other, {}, status=409)
        self.assertEqual(r.json["rule"], "firmware-change-finished")

    def test_refusals_name_field_and_rule_and_change_nothing(self):
        aid = self.asset()
        other = self.asset()
        r = self.c["eng"].post("/api/v1/changes", json={
            "type": "normal", "title": "fw", "reason": "r", "risk": "low", "affected_assets": [aid]})
        key = r.json["key"]
        r = self.put(key, other, {"before": "V1"}, status=409)
        self.assertEqual(r.json["rule"], "asset-not-affected")
        r = self.put(key, aid, {"advisory": "ICSA-00-000-00"}, status=404)
        self.assertEqual(r.json["field"], "advisory")
        r = self.put(key, aid, {"before_from_inventory": True}, status=409)
        self.assertEqual(r.json["rule"], "firmware-inventory-empty")
        for body, field in [({"before": ""}, "before"), ({"after": " V1"}, "after"),
                            ({"advisory": "x" * 201}, "advisory"), ({"before": "V1", "before_from_inventory": True}, "before"),
                            ({"firmware": "V1"}, "firmware"), ({"after_from_inventory": "yes"}, "after_from_inventory")]:
            r = self.put(key, aid, body, status=400)
            self.assertEqual(r.json["field"], field, r.json)
        r = self.c["eng"].post("/api/v1/changes/%s/firmware/%d/files" % (key, aid), fields={"kind": "firmware"},
                               files=[("file", "a.bin", b"x")])
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "kind")
        r = self.c["eng"].post("/api/v1/changes/%s/firmware/%d/files" % (key, aid), fields={"kind": "package"},
                               files=[("file", "a.bin", b"")])
        self.assertStatus(r, 400)
        self.assertStatus(self.c["qa1"].put("/api/v1/changes/%s/firmware/%d" % (key, aid), json={}), 403)
        self.assertEqual(self.c["aud"].get("/api/v1/changes/%s/firmware" % key).json["items"], [])


if __name__ == "__main__":
    unittest.main()
