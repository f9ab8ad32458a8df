"""Strict input at the HTTP door: what the request path itself refuses.

Query parameters must be UTF-8 on every route: invalid bytes are a 400
naming the parameter, before any handler runs.  A multipart file name is
taken literally, backslash included, so the upload's path rules see and
refuse it.  A page's urlencoded form is parsed once by the dispatcher and
read by the login, the CSRF check and the page handlers alike.
"""

import re
import unittest

from harness import ServerTestCase


class QueryParameters(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.client(token=cls.srv.admin_token())

    def assertRefused(self, r, field):
        self.assertStatus(r, 400)
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json")
        self.assertEqual(r.json["field"], field, r.json)
        self.assertIn("UTF-8", r.json["detail"])

    def test_invalid_utf8_in_a_value_names_the_parameter(self):
        for path, field in (("/api/v1/changes?requester=%FF", "requester"),
                            ("/api/v1/changes?state=draft&requester=a%C3", "requester"),
                            ("/api/v1/assets?prefix=%C0%AF", "prefix"),
                            ("/api/v1/audit?limit=10&actor=%ED%A0%80", "actor"),
                            ("/api/v1/reports/population?from=%FE", "from"),
                            ("/healthz?x=%FF", "x")):
            with self.subTest(path=path):
                self.assertRefused(self.admin.get(path), field)

    def test_invalid_utf8_in_a_name(self):
        r = self.admin.get("/api/v1/changes?%FF=1")
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "query")

    def test_valid_utf8_passes(self):
        r = self.admin.get("/api/v1/changes?requester=J%C3%BCrgen")
        self.assertStatus(r, 200)
        r = self.admin.get("/api/v1/audit?limit=5&actor=J%C3%BCrgen%E2%82%AC")
        self.assertStatus(r, 200)

    def test_pages_answer_with_an_html_page(self):
        c = self.srv.admin_client()
        r = c.get("/changes?requester=%FF", headers={"Accept": "text/html"})
        self.assertStatus(r, 400)
        self.assertTrue(r.headers.get("Content-Type").startswith("text/html"), r)
        self.assertIn("requester", r.text)

    def test_anonymous_callers_get_401_first(self):
        r = self.client().get("/api/v1/changes?requester=%FF")
        self.assertStatus(r, 401)


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


class PageForms(ServerTestCase):

    FORM = "application/x-www-form-urlencoded"

    def login(self):
        c = self.client()
        token = c.login_form_token()
        r = c.post("/login", body="login_token=%s&username=%s&password=%s&next=%%2Fprofile&&&"
                   % (token, self.srv.admin_user, self.srv.admin_password), content_type=self.FORM)
        self.assertStatus(r, 303)
        self.assertEqual(r.headers.get("Location"), "/profile")
        self.assertIn("otcm_session", c.cookies)
        return c

    def test_login_form(self):
        self.login()
        c = self.client()
        r = c.post("/login", body="login_token=%s&username=admin&password=wrong-password"
                   % c.login_form_token(), content_type=self.FORM, headers={"Accept": "text/html"})
        self.assertStatus(r, 401)

    def test_csrf_token_in_the_form(self):
        c = self.login()
        page = c.get("/profile", headers={"Accept": "text/html"})
        self.assertStatus(page, 200)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = c.post("/profile/tokens", body="name=from+a+form&csrf_token=" + token,
                   content_type=self.FORM, headers={"Accept": "text/html"})
        self.assertStatus(r, 201)
        self.assertIn("from a form", r.text)
        r = c.post("/profile/tokens", body="name=forged&csrf_token=nope",
                   content_type=self.FORM, headers={"Accept": "text/html"})
        self.assertStatus(r, 403)
        r = c.post("/profile/tokens", body="name=forged",
                   content_type=self.FORM, headers={"Accept": "text/html"})
        self.assertStatus(r, 403)


if __name__ == "__main__":
    unittest.main()
