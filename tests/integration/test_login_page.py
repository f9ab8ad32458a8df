"""The login page: its form is bound to a pre-session cookie (no login
CSRF), after login it goes only to a plain local path (no open redirect),
and browsers find an icon at /favicon.ico."""

import re
import unittest
import urllib.parse

from harness import ServerTestCase, strong_password


def form_body(**fields):
    return urllib.parse.urlencode(fields)


class LoginPage(ServerTestCase):

    def login_form(self, c, query=""):
        r = c.get("/login" + query)
        self.assertStatus(r, 200)
        m = re.search(r'name="login_token" value="([0-9a-f]{64})"', r.text)
        self.assertIsNotNone(m, r.text)
        self.assertIn("otcm_login", c.cookies)
        self.assertEqual(c.cookies["otcm_login"], m.group(1))
        for cookie in r.headers.get_all("Set-Cookie") or []:
            if cookie.startswith("otcm_login="):
                self.assertIn("HttpOnly", cookie)
                self.assertIn("SameSite=Strict", cookie)
        return m.group(1)

    def post_login(self, c, **fields):
        return c.post("/login", body=form_body(**fields),
                      content_type="application/x-www-form-urlencoded")

    def test_a_login_without_the_forms_token_is_refused_and_audited(self):
        pw = self.srv.admin_password
        c = self.client()
        # another site's form posts the right credentials: no pre-session cookie, no token
        r = self.post_login(c, username="admin", password=pw)
        self.assertStatus(r, 403)
        self.assertNotIn("otcm_session", c.cookies)
        # a token that is not the cookie's
        tok = self.login_form(self.client())
        tok = self.login_form(c)
        r = self.post_login(c, username="admin", password=pw, login_token="0" * 64 if tok != "0" * 64 else "1" * 64)
        self.assertStatus(r, 403)
        self.assertNotIn("otcm_session", c.cookies)
        # the refusal page carries a fresh form that works
        tok = re.search(r'name="login_token" value="([0-9a-f]{64})"', r.text).group(1)
        r = self.post_login(c, username="admin", password=pw, login_token=tok)
        self.assertStatus(r, 303)
        self.assertEqual(r.headers["Location"], "/")
        self.assertIn("otcm_session", c.cookies)
        self.assertNotIn("otcm_login", c.cookies)
        events = self.srv.admin_client().get("/api/v1/audit?limit=1000").json["items"]
        refused = [e for e in events if e["action"] == "session.login.refused"
                   and e["reason"] == "login form without its token"]
        self.assertEqual(len(refused), 2)

    def test_after_login_only_a_plain_local_path(self):
        pw = self.srv.admin_password
        cases = (("/changes", "/changes"),
                 ("/assets?prefix=a", "/assets?prefix=a"),
                 ("/\t/evil.example/x", "/"),
                 ("/\n/evil.example/x", "/"),
                 ("//evil.example/x", "/"),
                 ("/\\evil.example/x", "/"),
                 ("/x\\y", "/"),
                 ("https://evil.example/", "/"),
                 ("/javascript:alert(1)", "/"),
                 ("evil.example", "/"))
        # logged in already, the form redirects at once
        c = self.client()
        self.assertStatus(c.login("admin", pw), 200)
        for nxt, where in cases:
            r = c.get("/login?next=" + urllib.parse.quote(nxt, safe=""))
            self.assertStatus(r, 303)
            self.assertEqual(r.headers["Location"], where, repr(nxt))
        # and after logging in through the form
        for nxt, where in cases:
            c = self.client()
            tok = self.login_form(c)
            r = self.post_login(c, username="admin", password=pw, login_token=tok, next=nxt)
            self.assertStatus(r, 303)
            self.assertEqual(r.headers["Location"], where, repr(nxt))

    def test_a_throttled_login_form_says_how_long_to_wait(self):
        admin = self.srv.admin_client()
        pw = strong_password()
        self.assertStatus(admin.post("/api/v1/users", json={"username": "slow.page", "display_name": "Slow",
                                                            "role": "engineer", "password": pw}), 201)
        statuses = []
        for i in range(6):
            c = self.client()
            tok = self.login_form(c)
            r = self.post_login(c, username="slow.page", password="wrong-%d" % i, login_token=tok)
            statuses.append(r.status)
            if r.status == 429:
                break
        self.assertEqual(statuses[-1], 429, statuses)
        # the page shows the refusal and, like the API, says when to try again
        self.assertIn("text/html", r.headers["Content-Type"])
        self.assertGreaterEqual(int(r.headers.get("Retry-After") or 0), 1, r)

    def test_favicon_is_served_to_anyone(self):
        r = self.client().get("/favicon.ico")
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["Content-Type"], "image/svg+xml")
        self.assertTrue(r.body.startswith(b"<svg"))


if __name__ == "__main__":
    unittest.main()
