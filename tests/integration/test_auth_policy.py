"""The authentication policy's holes, closed: re-entered passwords count as
failed logins, a locked account can do nothing through the sessions and
tokens it holds, failed logins for unknown names slow their address down,
and one-time codes cannot be taken over with a session alone."""

import os
import subprocess
import threading
import time
import unittest

from harness import ServerTestCase, strong_password
from test_auth_totp import totp, wrong_code


def audit(admin, action=None, **query):
    q = "&".join("%s=%s" % kv for kv in query.items())
    r = admin.get("/api/v1/audit?limit=1000&" + q)
    assert r.status == 200, r
    return [e for e in r.json["items"] if action is None or e["action"] == action]


class PolicyCase(ServerTestCase):

    def user(self, name, role="engineer"):
        pw = strong_password()
        r = self.srv.admin_client().post("/api/v1/users", json={
            "username": name, "display_name": name.title(), "role": role, "password": pw})
        self.assertStatus(r, 201)
        return r.json["id"], pw

    def logged_in(self, name, pw):
        c = self.client()
        self.assertStatus(c.login(name, pw), 200)
        return c


class ReauthCountsFailures(PolicyCase):
    server_args = ("--login-throttle-after", "2", "--login-lock-after", "4",
                   "--login-lock-seconds", "600")

    def test_wrong_passwords_when_reauthenticating_throttle_then_lock(self):
        uid, pw = self.user("re.auth")
        c = self.logged_in("re.auth", pw)
        token = c.create_token("before-the-lock")
        # re-entering the password (here: to enrol one-time codes) counts like a login
        self.assertStatus(c.post("/api/v1/totp", json={"password": "wrong-password-1"}), 401)
        self.assertStatus(c.post("/api/v1/totp", json={"password": "wrong-password-2"}), 401)
        r = c.post("/api/v1/totp", json={"password": pw})
        self.assertStatus(r, 429)
        wait = int(r.headers.get("Retry-After"))
        self.assertGreaterEqual(wait, 1)
        time.sleep(wait + 0.2)
        self.assertStatus(c.post("/api/v1/totp", json={"password": "wrong-password-3"}), 401)
        r = c.post("/api/v1/totp", json={"password": pw})
        self.assertStatus(r, 429)
        time.sleep(int(r.headers.get("Retry-After")) + 0.2)
        r = c.post("/api/v1/totp", json={"password": "wrong-password-4"})
        self.assertStatus(r, 423)
        self.assertGreaterEqual(int(r.headers.get("Retry-After")), 500)
        admin = self.srv.admin_client()
        self.assertTrue(admin.get("/api/v1/users/%d" % uid).json["locked"])
        actions = [e["action"] for e in audit(admin, object_id="re.auth")]
        self.assertEqual(actions.count("session.reauth.failed"), 3)
        self.assertIn("session.reauth.locked", actions)
        # locked: neither the old session nor the old token does anything
        self.assertStatus(c.get("/api/v1/session"), 401)
        self.assertStatus(c.post("/api/v1/tokens", json={"name": "after-the-lock"}), 401)
        self.assertStatus(self.client(token=token).get("/api/v1/assets"), 401)
        # an administrator unlocks: the session and the token work again
        self.assertStatus(admin.patch("/api/v1/users/%d" % uid, json={"unlock": True}), 200)
        self.assertStatus(c.get("/api/v1/session"), 200)
        self.assertStatus(self.client(token=token).get("/api/v1/assets"), 200)


class SigningCountsFailures(PolicyCase):
    server_args = ("--login-throttle-after", "3", "--login-lock-after", "5",
                   "--login-lock-seconds", "600")

    def test_wrong_passwords_at_signing_throttle_then_lock_and_a_locked_signer_cannot_sign(self):
        admin = self.srv.admin_client()
        _, epw = self.user("sig.eng", "engineer")
        uid, apw = self.user("sig.appr", "approver")
        eng = self.logged_in("sig.eng", epw)
        appr = self.logged_in("sig.appr", apw)
        r = admin.post("/api/v1/assets", json={"path": "plant/sig/plc", "type": "plc"})
        self.assertStatus(r, 201)
        aid = r.json["id"]
        r = eng.post("/api/v1/changes", json={"type": "normal", "title": "t", "reason": "r", "risk": "low",
                                              "implementation_plan": "edit", "rollback_plan": "restore",
                                              "affected_assets": [aid]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.assertStatus(eng.post("/api/v1/changes/%s/transitions" % key,
                                   json={"to": "submitted", "reason": "test"}), 200)
        url = "/api/v1/changes/%s/signatures" % key
        statuses = []
        for i in range(25):
            r = appr.post(url, json={"meaning": "authorised", "password": "wrong-password-%d" % i})
            statuses.append(r.status)
            if r.status == 423:
                break
            if r.status == 429:
                # wait it out, as a patient guesser would
                self.assertEqual(r.json["status"], 429)
                # the signature's refusal says how long to wait, as a login's does
                self.assertGreaterEqual(int(r.headers.get("Retry-After") or 0), 1, r)
                time.sleep(min(int(r.headers["Retry-After"]), 8) + 0.2)
        self.assertEqual(statuses[:3], [401, 401, 401])
        self.assertIn(429, statuses)
        self.assertEqual(statuses[-1], 423)
        self.assertTrue(admin.get("/api/v1/users/%d" % uid).json["locked"])
        actions = [e["action"] for e in audit(admin, object_id="sig.appr")]
        self.assertEqual(actions.count("session.reauth.failed"), 4)
        self.assertIn("session.reauth.locked", actions)
        # locked: its session signs nothing, even with the right password
        self.assertStatus(appr.post(url, json={"meaning": "authorised", "password": apw}), 401)
        self.assertEqual(admin.get("/api/v1/changes/%s" % key).json["state"], "submitted")
        self.assertStatus(admin.patch("/api/v1/users/%d" % uid, json={"unlock": True}), 200)
        self.assertStatus(appr.post(url, json={"meaning": "authorised", "password": apw}), 201)


class ReauthOnOneConnection(PolicyCase):
    # counting a failure must not wait for a second pooled connection
    server_args = ("--db-pool", "1")

    def test_a_wrong_password_is_counted_with_a_single_pooled_connection(self):
        uid, pw = self.user("one.conn")
        c = self.logged_in("one.conn", pw)
        c.timeout = 20
        r = c.post("/api/v1/totp", json={"password": "wrong-password"})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "password")
        ev = audit(self.srv.admin_client(), action="session.reauth.failed", object_id="one.conn")
        self.assertEqual(ev[0]["after"]["failed_logins"], 1)
        self.assertStatus(c.post("/api/v1/totp", json={"password": pw}), 201)


class LockedBySessionLogins(PolicyCase):
    server_args = ("--login-throttle-after", "1", "--login-lock-after", "2",
                   "--login-lock-seconds", "600")

    def test_an_account_locked_by_failed_logins_cannot_use_its_session(self):
        uid, pw = self.user("locked.out")
        c = self.logged_in("locked.out", pw)
        self.assertEqual(c.get("/api/v1/session").json["auth"], "password")
        token = c.create_token()
        other = self.client()
        self.assertStatus(other.login("locked.out", "wrong-password-1"), 401)
        time.sleep(1.2)
        self.assertStatus(other.login("locked.out", "wrong-password-2"), 423)
        self.assertStatus(c.get("/api/v1/session"), 401)
        self.assertStatus(c.post("/api/v1/tokens", json={"name": "x"}), 401)
        self.assertStatus(self.client(token=token).post("/api/v1/tokens", json={"name": "y"}), 401)


class AddressThrottle(PolicyCase):
    server_args = ("--login-address-throttle-after", "3",)

    def test_unknown_names_slow_their_address_down(self):
        _, pw = self.user("known.user")
        admin = self.srv.admin_client()   # before the address must wait
        c = self.client()
        for i in range(3):
            r = c.login("nobody-%d" % i, "whatever-password")
            self.assertStatus(r, 401)
            self.assertEqual(r.json["field"], "password")
        # the address must wait now, whatever name it tries, known ones too
        r = c.login("nobody-3", "whatever-password")
        self.assertStatus(r, 429)
        self.assertGreaterEqual(int(r.headers.get("Retry-After")), 1)
        self.assertStatus(c.login("known.user", pw), 429)
        refused = audit(admin, action="session.login.refused")
        self.assertTrue(any(e["reason"] == "too many attempts from this address" for e in refused), refused)
        failed = audit(admin, action="session.login.failed", object_id="nobody-2")
        self.assertEqual(failed[0]["after"]["address_failures"], 3)
        time.sleep(int(r.headers.get("Retry-After")) + 0.2)
        self.assertStatus(c.login("known.user", pw), 200)


class TotpNeedsMoreThanASession(PolicyCase):

    def test_enrolment_needs_the_password_and_replacing_needs_a_code(self):
        uid, pw = self.user("totp.owner")
        c = self.logged_in("totp.owner", pw)
        # a stolen session alone cannot enrol or confirm
        r = c.post("/api/v1/totp", json={})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "password")
        r = c.post("/api/v1/totp", json={"password": "not-the-password"})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "password")
        r = c.post("/api/v1/totp", json={"password": pw})
        self.assertStatus(r, 201)
        secret = r.json["secret"]
        r = c.post("/api/v1/totp/confirm", json={"totp_code": totp(secret, -1)})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "password")
        r = c.post("/api/v1/totp/confirm", json={"password": "not-the-password", "totp_code": totp(secret, -1)})
        self.assertStatus(r, 401)
        self.assertStatus(c.post("/api/v1/totp/confirm", json={"password": pw, "totp_code": totp(secret, -1)}), 200)
        # codes on: replacing the device needs a current code too
        r = c.post("/api/v1/totp", json={"password": pw})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "totp_code")
        r = c.post("/api/v1/totp", json={"password": pw, "totp_code": wrong_code(secret)})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "totp_code")
        r = c.post("/api/v1/totp", json={"password": pw, "totp_code": totp(secret)})
        self.assertStatus(r, 201)
        self.assertNotEqual(r.json["secret"], secret)
        admin = self.srv.admin_client()
        events = audit(admin, object_id="totp.owner")
        self.assertIn("totp.enrol.refused", [e["action"] for e in events])
        self.assertIn("totp.confirm.refused", [e["action"] for e in events])

    def test_an_administrator_resets_a_lost_second_factor(self):
        uid, pw = self.user("lost.phone")
        c = self.logged_in("lost.phone", pw)
        secret = c.post("/api/v1/totp", json={"password": pw}).json["secret"]
        self.assertStatus(c.post("/api/v1/totp/confirm", json={"password": pw, "totp_code": totp(secret, -1)}), 200)
        self.assertStatus(self.client().login("lost.phone", pw), 401)
        # only an administrator
        self.assertStatus(c.delete("/api/v1/users/%d/totp" % uid), 403)
        admin = self.srv.admin_client()
        self.assertStatus(admin.delete("/api/v1/users/%d/totp" % uid), 204)
        self.assertStatus(admin.delete("/api/v1/users/%d/totp" % uid), 404)
        self.assertStatus(admin.delete("/api/v1/users/999999/totp"), 404)
        self.assertStatus(admin.delete("/api/v1/users/x/totp"), 400)
        self.assertStatus(self.client().login("lost.phone", pw), 200)
        events = audit(admin, action="totp.reset", object_id="lost.phone")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["actor"], "admin")


class ResetAndDisableRevoke(PolicyCase):

    def test_a_password_reset_ends_sessions_and_revokes_tokens(self):
        uid, pw = self.user("reset.me")
        c = self.logged_in("reset.me", pw)
        token = c.create_token()
        admin = self.srv.admin_client()
        new_pw = strong_password()
        r = admin.patch("/api/v1/users/%d" % uid, json={"password": new_pw})
        self.assertStatus(r, 200)
        self.assertNotIn("sessions_ended", r.json)
        self.assertStatus(c.get("/api/v1/session"), 401)
        self.assertStatus(self.client(token=token).get("/api/v1/assets"), 401)
        self.assertStatus(self.client().login("reset.me", pw), 401)
        self.assertStatus(self.client().login("reset.me", new_pw), 200)
        ev = [e for e in audit(admin, action="user.update", object_id="reset.me")][0]
        self.assertEqual(ev["after"]["sessions_ended"], 1)
        self.assertEqual(ev["after"]["tokens_revoked"], 1)
        self.assertTrue(ev["after"]["password_changed"])
        revoked = c.get("/api/v1/tokens")
        self.assertStatus(revoked, 401)

    def test_disabling_and_enabling_brings_no_session_or_token_back(self):
        uid, pw = self.user("leaver")
        c = self.logged_in("leaver", pw)
        token = c.create_token()
        admin = self.srv.admin_client()
        self.assertStatus(admin.patch("/api/v1/users/%d" % uid, json={"disabled": True}), 200)
        self.assertStatus(c.get("/api/v1/session"), 401)
        self.assertStatus(self.client(token=token).get("/api/v1/assets"), 401)
        r = admin.patch("/api/v1/users/%d" % uid, json={"disabled": False})
        self.assertStatus(r, 200)
        self.assertFalse(r.json["disabled"])
        self.assertStatus(c.get("/api/v1/session"), 401)
        self.assertStatus(self.client(token=token).get("/api/v1/assets"), 401)
        c2 = self.logged_in("leaver", pw)
        self.assertTrue(all(t["revoked"] for t in c2.get("/api/v1/tokens").json["items"]))
        ev = audit(admin, action="user.update", object_id="leaver")
        self.assertTrue(any((e["after"] or {}).get("tokens_revoked") == 1 for e in ev), ev)

    def test_email_and_name_change_and_bad_input_changes_nothing(self):
        uid, _ = self.user("mail.user")
        admin = self.srv.admin_client()
        r = admin.patch("/api/v1/users/%d" % uid, json={"email": "m@example.org", "display_name": "Mail User"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["email"], "m@example.org")
        self.assertEqual(r.json["display_name"], "Mail User")
        for body, field in (({"email": "x" * 201}, "email"), ({"display_name": ""}, "display_name"),
                            ({"role": "boss"}, "role"), ({"password": "short"}, "password"),
                            ({"nickname": "x"}, "nickname")):
            r = admin.patch("/api/v1/users/%d" % uid, json=body)
            self.assertStatus(r, 400)
            self.assertEqual(r.json["field"], field)
        self.assertStatus(admin.patch("/api/v1/users/999999", json={"email": ""}), 404)
        r = admin.patch("/api/v1/users/%d" % uid, json={"email": ""})
        self.assertStatus(r, 200)
        self.assertIsNone(r.json["email"])


class CommandLine(PolicyCase):

    def run_cli(self, *args, password=None):
        env = dict(os.environ)
        if password:
            env["OTCM_USER_PASSWORD"] = password
        return subprocess.run([self.srv.bin, "user", "--data", self.srv.data] + list(args),
                              env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def test_the_command_line_acts_as_system_through_the_domain(self):
        pw = strong_password()
        p = self.run_cli("add", "cli.user", "--role", "qa", password=pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertStatus(self.client().login("cli.user", pw), 200)
        p = self.run_cli("add", "cli.user", "--role", "qa", password=pw)
        self.assertEqual(p.returncode, 1)
        self.assertIn("already exists", p.stderr)
        p = self.run_cli("add", "Bad Name", "--role", "qa", password=pw)
        self.assertEqual(p.returncode, 2)
        p = self.run_cli("unlock", "cli.user")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_cli("list")
        self.assertIn("cli.user", p.stdout)
        admin = self.srv.admin_client()
        events = audit(admin, object_id="cli.user")
        self.assertEqual([(e["actor"], e["action"]) for e in events if e["action"].startswith("user.")],
                         [("system", "user.create"), ("system", "user.update")])


class HashHoldsNoConnection(PolicyCase):
    # two pooled connections and a slow hash: a login that hashed while
    # holding a connection would leave authenticated requests waiting
    server_args = ("--db-pool", "2", "--password-iterations", "2000000")

    def test_slow_logins_do_not_starve_authenticated_requests(self):
        c = self.client(token=self.srv.admin_token())
        t0 = time.monotonic()
        self.assertStatus(self.client().login("nobody-serial", "whatever-password"), 401)
        hash_s = time.monotonic() - t0
        self.assertGreater(hash_s, 0.3)
        threads = [threading.Thread(target=self.client().login, args=("nobody-%d" % i, "whatever-password"))
                   for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(min(0.3, hash_s / 4))
        t0 = time.monotonic()
        self.assertStatus(c.get("/api/v1/session"), 200)
        took = time.monotonic() - t0
        for t in threads:
            t.join()
        self.assertLess(took, hash_s / 2, "an authenticated request waited %.2f s behind logins "
                        "whose hash takes %.2f s" % (took, hash_s))


if __name__ == "__main__":
    unittest.main()
