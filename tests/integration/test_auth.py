"""Users, login sessions, throttling and lockout, API tokens, CSRF, audit of logins."""

import time
import unittest

from harness import ServerTestCase, strong_password


def audit(srv_client, action=None, object_id=None):
    r = srv_client.get("/api/v1/audit?limit=1000")
    assert r.status == 200, r
    items = r.json["items"]
    return [e for e in items
            if (action is None or e["action"] == action)
            and (object_id is None or e.get("object_id") == object_id)]


class UsersAndSessions(ServerTestCase):

    def test_create_user_login_and_logout(self):
        admin = self.srv.admin_client()
        pw = strong_password()
        r = admin.post("/api/v1/users", json={"username": "eve.engineer", "display_name": "Eve Engineer",
                                              "role": "engineer", "password": pw})
        self.assertStatus(r, 201)
        self.assertEqual(r.json["role"], "engineer")
        self.assertNotIn("password_hash", r.json)
        self.assertNotIn("password", r.json)

        c = self.client()
        r = c.login("eve.engineer", pw)
        self.assertStatus(r, 200)
        cookie = r.headers.get("Set-Cookie")
        self.assertIn("otcm_session=", cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertNotIn("Secure", cookie)  # plain HTTP here
        self.assertTrue(r.json["csrf_token"])
        r = c.get("/api/v1/session")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["username"], "eve.engineer")

        # a state-changing request on a cookie session needs the CSRF token
        csrf, c.csrf = c.csrf, None
        r = c.post("/api/v1/tokens", json={"name": "x"})
        self.assertStatus(r, 403)
        self.assertEqual(r.json["field"], "X-CSRF-Token")
        c.csrf = csrf

        r = c.logout()
        self.assertStatus(r, 204)
        r = c.get("/api/v1/session")
        self.assertStatus(r, 401)

        actions = [e["action"] for e in audit(admin, object_id="eve.engineer")]
        self.assertIn("user.create", actions)
        self.assertIn("session.login", actions)
        self.assertIn("session.logout", actions)

    def test_user_validation_names_the_field(self):
        admin = self.srv.admin_client()
        good = {"username": "qa.one", "display_name": "QA One", "role": "qa", "password": strong_password()}
        cases = [
            ({**good, "username": "Bad Name"}, "username"),
            ({**good, "role": "superuser"}, "role"),
            ({**good, "password": "short"}, "password"),
            ({**good, "password": "qa.one"}, "password"),
            ({k: v for k, v in good.items() if k != "display_name"}, "display_name"),
            ({**good, "extra": 1}, "extra"),
            ({**good, "role": 7}, "role"),
        ]
        for body, field in cases:
            r = admin.post("/api/v1/users", json=body)
            self.assertStatus(r, 400)
            self.assertEqual(r.headers.get("Content-Type"), "application/problem+json")
            self.assertEqual(r.json["field"], field, r.json)
        r = admin.post("/api/v1/users", body=b"{not json", content_type="application/json")
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "body")
        users = admin.get("/api/v1/users").json["items"]
        self.assertNotIn("qa.one", [u["username"] for u in users])

        self.assertStatus(admin.post("/api/v1/users", json=good), 201)
        r = admin.post("/api/v1/users", json=good)
        self.assertStatus(r, 409)
        self.assertEqual(r.json["field"], "username")

    def test_only_admin_creates_users(self):
        admin = self.srv.admin_client()
        pw = strong_password()
        self.assertStatus(admin.post("/api/v1/users", json={
            "username": "aud", "display_name": "Auditor", "role": "auditor", "password": pw}), 201)
        c = self.client()
        self.assertStatus(c.login("aud", pw), 200)
        r = c.post("/api/v1/users", json={"username": "x1", "display_name": "X", "role": "admin",
                                          "password": strong_password()})
        self.assertStatus(r, 403)
        self.assertStatus(self.client().get("/api/v1/users"), 401)

    def test_tokens_are_shown_once_and_revocable(self):
        admin = self.srv.admin_client()
        r = admin.post("/api/v1/tokens", json={"name": "ci"})
        self.assertStatus(r, 201)
        token, tid = r.json["token"], r.json["id"]
        self.assertTrue(token.startswith("otcm_"))
        bearer = self.client(token=token)
        self.assertStatus(bearer.get("/api/v1/session"), 200)
        listed = admin.get("/api/v1/tokens").json["items"]
        self.assertIn(tid, [t["id"] for t in listed])
        self.assertNotIn(token, str(listed))
        self.assertStatus(self.client(token=token + "x").get("/api/v1/session"), 401)
        self.assertStatus(admin.delete("/api/v1/tokens/%d" % tid), 204)
        self.assertStatus(bearer.get("/api/v1/session"), 401)
        self.assertStatus(admin.delete("/api/v1/tokens/%d" % tid), 404)
        self.assertStatus(admin.post("/api/v1/tokens", json={"name": ""}), 400)

    def test_admin_cannot_demote_self(self):
        admin = self.srv.admin_client()
        me = admin.get("/api/v1/session").json["user"]
        r = admin.patch("/api/v1/users/%d" % me["id"], json={"role": "qa"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "keep-an-administrator")


class Lockout(ServerTestCase):
    server_args = ("--login-throttle-after", "2", "--login-lock-after", "4",
                   "--login-lock-seconds", "600")

    def test_failures_slow_down_then_lock(self):
        admin = self.srv.admin_client()
        pw = strong_password()
        r = admin.post("/api/v1/users", json={"username": "ap", "display_name": "Approver",
                                              "role": "approver", "password": pw})
        self.assertStatus(r, 201)
        uid = r.json["id"]
        c = self.client()
        self.assertStatus(c.login("ap", "wrong-password-1"), 401)
        self.assertStatus(c.login("ap", "wrong-password-2"), 401)
        # two failures: the next attempt must wait, even with the right password
        r = c.login("ap", pw)
        self.assertStatus(r, 429)
        wait = int(r.headers.get("Retry-After"))
        self.assertGreaterEqual(wait, 1)
        time.sleep(wait + 0.2)
        self.assertStatus(c.login("ap", "wrong-password-3"), 401)
        r = c.login("ap", pw)
        self.assertStatus(r, 429)
        time.sleep(int(r.headers.get("Retry-After")) + 0.2)
        r = c.login("ap", "wrong-password-4")
        self.assertStatus(r, 423)
        # locked: the right password does not help
        self.assertStatus(c.login("ap", pw), 423)
        self.assertTrue(admin.get("/api/v1/users/%d" % uid).json["locked"])
        actions = [e["action"] for e in audit(admin, object_id="ap")]
        self.assertEqual(actions.count("session.login.failed"), 3)
        self.assertIn("session.login.locked", actions)
        self.assertIn("session.login.refused", actions)
        # an administrator unlocks
        self.assertStatus(admin.patch("/api/v1/users/%d" % uid, json={"unlock": True}), 200)
        self.assertStatus(c.login("ap", pw), 200)

    def test_unknown_user_is_audited(self):
        c = self.client()
        r = c.login("nobody", "whatever-password")
        self.assertStatus(r, 401)
        admin = self.srv.admin_client()
        events = audit(admin, action="session.login.failed", object_id="nobody")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["actor"], "anonymous")


if __name__ == "__main__":
    unittest.main()
