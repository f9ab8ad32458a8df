"""Strict input at the HTTP door: what the request path itself refuses.

A multipart file name is taken literally, backslash included, so the
upload's path rules see and refuse it.
"""

import unittest

from harness import ServerTestCase


class FileNames(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.client(token=cls.srv.admin_token())
        r = cls.admin.post("/api/v1/assets", json={"path": "plant-h/line/plc", "type": "plc"})
        if r.status != 201:
            raise AssertionError("creating the asset failed: %r" % (r,))
        cls.asset = r.json["id"]

    def test_a_backslash_in_a_file_name_is_refused_not_dropped(self):
        # a browser sends the name as it is: filename="a\b.L5X"
        r = self.admin.post("/api/v1/assets/%d/versions" % self.asset,
                            fields={"message": "baseline"},
                            files=[("file", "a\\b.L5X", b"<RSLogix5000Content/>")])
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "files")
        self.assertIn("backslash", r.json["detail"])
        self.assertIn("a\\b.L5X", r.json["detail"])
        # nothing was stored, under either name
        r = self.admin.get("/api/v1/assets/%d/versions" % self.asset)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["items"], [])

    def test_a_plain_name_is_stored(self):
        r = self.admin.post("/api/v1/assets/%d/versions" % self.asset,
                            fields={"message": "baseline", "branch": "work-h"},
                            files=[("file", "prog/a b.L5X", b"<RSLogix5000Content/>")])
        self.assertStatus(r, 201)


if __name__ == "__main__":
    unittest.main()
