"""Logging in with a one-time code once enrolled: required, checked with one
step either side, never accepted twice (at a login or a signature), a wrong
code counts as a failed login, and every refusal is audited."""

import base64
import hashlib
import hmac
import struct
import time
import unittest

from harness import ServerTestCase, strong_password


def totp(secret_b32, step=0, at=None):
    """RFC 6238 code (HMAC-SHA-1, 6 digits, 30 s) `step` steps away from now.

    The server accepts one step either side of its own.  A code for an
    earlier step made just before a step ends would be two steps old when
    the server, busy hashing the password that comes with it, reads it: so
    near the end of a step this waits for the next one first."""
    if at is None and step < 0 and time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at or time.time()) // 30) + step
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def wrong_code(secret_b32):
    """A code that matches none of the steps the server accepts now."""
    near = {totp(secret_b32, s) for s in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near)


class LoginWithTotp(ServerTestCase):

    def user(self, name, role="engineer"):
        pw = strong_password()
        r = self.srv.admin_client().post("/api/v1/users", json={
            "username": name, "display_name": name.title(), "role": role, "password": pw})
        self.assertStatus(r, 201)
        return pw

    def enrol(self, name, pw):
        c = self.client()
        self.assertStatus(c.login(name, pw), 200)
        r = c.post("/api/v1/totp", json={"password": pw})
        self.assertStatus(r, 201)
        secret = r.json["secret"]
        # the step before now: the step of now stays free for the first login
        first = totp(secret, -1)
        self.assertStatus(c.post("/api/v1/totp/confirm", json={"password": pw, "totp_code": first}), 200)
        return secret, first

    def audit_of(self, name):
        r = self.srv.admin_client().get("/api/v1/audit?object_type=user&object_id=" + name + "&limit=1000")
        self.assertStatus(r, 200)
        return r.json["items"]

    def test_not_enrolled_needs_no_code(self):
        pw = self.user("plain.user")
        self.assertStatus(self.client().login("plain.user", pw), 200)
        # a code given anyway is ignored, not refused
        r = self.client().post("/api/v1/session", json={"username": "plain.user", "password": pw,
                                                       "totp_code": "123456"})
        self.assertStatus(r, 200)

    def test_enrolment_started_but_not_confirmed_needs_no_code(self):
        pw = self.user("pending.user")
        c = self.client()
        self.assertStatus(c.login("pending.user", pw), 200)
        self.assertStatus(c.post("/api/v1/totp", json={"password": pw}), 201)
        self.assertStatus(self.client().login("pending.user", pw), 200)

    def test_enrolled_user_must_give_a_fresh_code(self):
        pw = self.user("totp.user")
        secret, first = self.enrol("totp.user", pw)

        # the password alone no longer logs in; the refusal names the field
        r = self.client().login("totp.user", pw)
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "totp_code")
        self.assertNotIn("Set-Cookie", r.headers)

        # a malformed code is a bad request
        r = self.client().post("/api/v1/session", json={"username": "totp.user", "password": pw,
                                                       "totp_code": "12ab56"})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "totp_code")

        # a wrong code is refused
        r = self.client().post("/api/v1/session", json={"username": "totp.user", "password": pw,
                                                       "totp_code": wrong_code(secret)})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "totp_code")

        # the confirmed step cannot log in again: codes are never reused
        r = self.client().post("/api/v1/session", json={"username": "totp.user", "password": pw,
                                                       "totp_code": first})
        self.assertStatus(r, 401)

        # the current code logs in, once (and clears the failure count)
        code = totp(secret)
        c = self.client()
        r = c.post("/api/v1/session", json={"username": "totp.user", "password": pw, "totp_code": code})
        self.assertStatus(r, 200)
        self.assertIn("otcm_session=", r.headers.get("Set-Cookie"))
        c.csrf = r.json["csrf_token"]
        self.assertStatus(c.get("/api/v1/session"), 200)
        r = self.client().post("/api/v1/session", json={"username": "totp.user", "password": pw,
                                                       "totp_code": code})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "totp_code")

        # a wrong password with a right code is still the password's refusal
        r = self.client().post("/api/v1/session", json={"username": "totp.user", "password": pw + "x",
                                                       "totp_code": totp(secret, 1)})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "password")

        # the next step is one step away: inside the window, and fresh
        r = self.client().post("/api/v1/session", json={"username": "totp.user", "password": pw,
                                                       "totp_code": totp(secret, 1)})
        self.assertStatus(r, 200)

        events = self.audit_of("totp.user")
        reasons = [e["reason"] for e in events if e["action"] == "session.login.refused"]
        self.assertIn("one-time code missing", reasons)
        self.assertIn("malformed one-time code", reasons)
        failed = [e for e in events if e["action"] == "session.login.failed"]
        self.assertTrue(any((e["after"] or {}).get("factor") == "totp_code" for e in failed), failed)
        self.assertEqual(len([e for e in events if e["action"] == "session.login"]), 3)

    def test_wrong_codes_throttle_and_lock_like_wrong_passwords(self):
        pw = self.user("guess.user")
        secret, _ = self.enrol("guess.user", pw)
        bad = wrong_code(secret)
        statuses = []
        for _ in range(3):
            r = self.client().post("/api/v1/session", json={"username": "guess.user", "password": pw,
                                                           "totp_code": bad})
            statuses.append(r.status)
        self.assertEqual(statuses, [401, 401, 401])
        # after --login-throttle-after failures the next attempt must wait, code or not
        r = self.client().post("/api/v1/session", json={"username": "guess.user", "password": pw,
                                                       "totp_code": totp(secret)})
        self.assertStatus(r, 429)
        self.assertTrue(r.headers.get("Retry-After"))

    def test_a_code_used_to_log_in_cannot_sign(self):
        admin = self.srv.admin_client()
        r = admin.post("/api/v1/assets", json={"path": "site1/area1/line1/plc-totp", "type": "plc"})
        self.assertStatus(r, 201)
        eng_pw = self.user("chg.eng")
        eng = self.client()
        self.assertStatus(eng.login("chg.eng", eng_pw), 200)
        r = eng.post("/api/v1/changes", json={
            "type": "normal", "title": "t", "risk": "low", "reason": "r", "implementation_plan": "i",
            "rollback_plan": "b", "affected_assets": [r.json["id"]]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.assertStatus(eng.post("/api/v1/changes/%s/transitions" % key, json={"to": "submitted"}), 200)

        pw = self.user("signer.user", role="approver")
        secret, _ = self.enrol("signer.user", pw)
        code = totp(secret)
        c = self.client()
        r = c.post("/api/v1/session", json={"username": "signer.user", "password": pw, "totp_code": code})
        self.assertStatus(r, 200)
        c.csrf = r.json["csrf_token"]
        # the code of the login is spent: a signature needs the next one
        r = c.post("/api/v1/changes/%s/signatures" % key,
                   json={"meaning": "authorised", "password": pw, "totp_code": code})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "totp_code")
        r = c.post("/api/v1/changes/%s/signatures" % key,
                   json={"meaning": "authorised", "password": pw, "totp_code": totp(secret, 1)})
        self.assertStatus(r, 201)


if __name__ == "__main__":
    unittest.main()
