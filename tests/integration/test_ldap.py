"""Logging in through LDAP: a real slapd with a throwaway configuration.

slapd runs in the foreground on a Unix socket (ldapi://) and on 127.0.0.1,
with an mdb database loaded by slapadd: people under ou=people, groups of
names under ou=groups, and otcm's service account, the only one that may
read entries (users may only bind).  The tests change the directory while
otcm runs (ldapmodify as the directory's root) and check what otcm makes
of it: users appear at their first login with the role their group gives,
the role is read again at each login and signature, a user removed from
the groups or from the directory is refused and loses its sessions and
tokens, lockout and throttling stop attempts before the directory is
asked, and a directory that does not answer gives 503 within the timeout.
Some entries are shaped like Active Directory's (no uid, a sAMAccountName,
a userAccountControl, the two attributes declared with AD's OIDs), so the
default filter's AD branch and AD's way of disabling an account are tried
too.  A second class serves the directory over StartTLS and ldaps:// with
certificates of a test CA made here.

Active Directory's nested-group rule (LDAP_MATCHING_RULE_IN_CHAIN) is not
implemented by slapd: tests/unit/storage/test_directory.c checks the
filter otcm sends for it.
"""

import os
import shutil
import signal
import subprocess
import time
import unittest
import urllib.parse

from harness import Server, ServerTestCase, free_port, make_tmpdir, strong_password, _die_with_parent, _wait_gone

BASE = "dc=plant,dc=test"
RECHECK = 2     # --ldap-recheck-seconds of the main class
ROOT_DN = "cn=root," + BASE
SERVICE_DN = "cn=otcm,ou=services," + BASE
GROUPS = {"admin": "otcm-admins", "approver": "otcm-approvers", "engineer": "otcm-engineers"}
PASSWORDS = {name: "Dir-" + name + "-Pw-2026!" for name in
             ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan", "judy",
                              "kim", "lena")}
# who is in which group at the start; carol is in none
MEMBERS = {"engineer": ["alice", "dave", "erin", "frank", "gina", "hank", "ivan", "judy", "kim", "lena"],
           "approver": ["bob"],
           "admin": []}


# entries shaped like Active Directory's: no uid, a sAMAccountName in capitals, a userAccountControl
AD_PASSWORDS = {"zoe": "Dir-zoe-Pw-2026!"}
AD_MEMBERS = {"engineer": ["zoe"]}


def ad_person_dn(name):
    return "cn=%s Tester,ou=people,%s" % (name.capitalize(), BASE)


def group_dn(role):
    return "cn=%s,ou=groups,%s" % (GROUPS[role], BASE)


def person_dn(name):
    return "uid=%s,ou=people,%s" % (name, BASE)


def role_map():
    return ";".join("%s:%s" % (role, group_dn(role)) for role in ("admin", "approver", "engineer"))


def tool(name):
    path = shutil.which(name) or os.path.join("/usr/sbin", name)
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s not found: install slapd and ldap-utils (scripts/deps.sh test)" % name)
    return path


def openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (args[0], r.stderr))


def make_certificates(d, name):
    """A throwaway CA (`name`-ca.pem) and a server certificate for 127.0.0.1 and localhost."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + "-ca.key",
            "-out", name + "-ca.pem", "-days", "2", "-subj", "/CN=otcm test CA " + name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
            cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=127.0.0.1", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", name + "-ca.pem", "-CAkey", name + "-ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)


class Directory:
    """slapd -d 0 with an mdb database under a temporary folder; ldapi:// and 127.0.0.1:port."""

    def __init__(self, tls=False):
        self.dir = make_tmpdir("otcm-it-slapd-")
        self.port = free_port()
        self.tls_port = free_port()
        self.socket = os.path.join(self.dir, "ldapi")
        self.ldapi = "ldapi://" + urllib.parse.quote(self.socket, safe="")
        self.ca = None
        self.proc = None
        # Active Directory's two user attributes otcm reads, with AD's own OIDs, so entries can
        # look like AD's: found by sAMAccountName, disabled through userAccountControl
        with open(os.path.join(self.dir, "ad.schema"), "w") as f:
            f.write("attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch "
                    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )\n"
                    "attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch "
                    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )\n")
        conf = ["include /etc/ldap/schema/%s.schema" % s for s in ("core", "cosine", "inetorgperson", "nis")]
        conf.append("include %s/ad.schema" % self.dir)
        conf += ["modulepath /usr/lib/ldap", "moduleload back_mdb",
                 "pidfile %s/slapd.pid" % self.dir]
        if tls:
            make_certificates(self.dir, "server")
            self.ca = os.path.join(self.dir, "server-ca.pem")
            conf += ["TLSCACertificateFile %s" % self.ca,
                     "TLSCertificateFile %s/server.pem" % self.dir,
                     "TLSCertificateKeyFile %s/server.key" % self.dir]
        conf += ["database mdb", "maxsize 10485760", 'suffix "%s"' % BASE, 'rootdn "%s"' % ROOT_DN,
                 "rootpw rootsecret", "directory %s/db" % self.dir,
                 # users may only bind; the service account reads; nobody else sees anything
                 "access to attrs=userPassword by anonymous auth by * none",
                 'access to * by dn.exact="%s" read by * none' % SERVICE_DN]
        self.conf = os.path.join(self.dir, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        os.mkdir(os.path.join(self.dir, "db"))
        ldif = [self._entry(BASE, ["dcObject", "organization"], o="plant", dc="plant")]
        for ou in ("people", "groups", "services"):
            ldif.append(self._entry("ou=%s,%s" % (ou, BASE), ["organizationalUnit"], ou=ou))
        ldif.append(self._entry(SERVICE_DN, ["organizationalRole", "simpleSecurityObject"], cn="otcm",
                                userPassword=self.service_password))
        for name, pw in PASSWORDS.items():
            ldif.append(self.person_ldif(name, pw))
        for name, pw in AD_PASSWORDS.items():
            ldif.append(self._entry(ad_person_dn(name), ["inetOrgPerson", "extensibleObject"],
                                    cn=name.capitalize() + " Tester", sn="Tester", sAMAccountName=name.upper(),
                                    userAccountControl="512", userPassword=pw))
        for role in GROUPS:
            ldif.append(self._entry(group_dn(role), ["groupOfNames"], cn=GROUPS[role],
                                    member=[ROOT_DN] + [person_dn(n) for n in MEMBERS[role]] +
                                    [ad_person_dn(n) for n in AD_MEMBERS.get(role, [])]))
        path = os.path.join(self.dir, "data.ldif")
        with open(path, "w") as f:
            f.write("\n".join(ldif))
        r = subprocess.run([tool("slapadd"), "-f", self.conf, "-l", path], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise AssertionError("slapadd failed: %s" % r.stderr)

    service_password = "Service-Account-Secret-7731"

    @staticmethod
    def _entry(dn, classes, **attrs):
        lines = ["dn: " + dn] + ["objectClass: " + c for c in classes]
        for k, v in attrs.items():
            for one in (v if isinstance(v, list) else [v]):
                lines.append("%s: %s" % (k, one))
        return "\n".join(lines) + "\n"

    def person_ldif(self, name, pw):
        return self._entry(person_dn(name), ["inetOrgPerson"], uid=name, cn=name.capitalize() + " Tester",
                           sn="Tester", mail=name + "@plant.test", userPassword=pw)

    def start(self):
        urls = "%s ldap://127.0.0.1:%d/" % (self.ldapi, self.port)
        if self.ca:
            urls += " ldaps://127.0.0.1:%d/" % self.tls_port
        with open(os.path.join(self.dir, "slapd.log"), "ab") as log:
            # slapd dies with the test process, so a run killed midway leaves no directory behind
            self.proc = subprocess.Popen([tool("slapd"), "-f", self.conf, "-h", urls, "-d", "0"],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("slapd exited with %s" % self.proc.returncode)
            if self.modify_ok():
                return
            time.sleep(0.1)
        raise AssertionError("slapd did not answer on %s" % self.ldapi)

    def modify_ok(self):
        r = subprocess.run([tool("ldapsearch"), "-x", "-H", self.ldapi, "-D", ROOT_DN, "-w", "rootsecret",
                            "-b", BASE, "-s", "base", "1.1"], capture_output=True, timeout=10)
        return r.returncode == 0

    def modify(self, ldif, add=False):
        """ldapmodify (or ldapadd) as the directory's root over the Unix socket."""
        cmd = [tool("ldapadd" if add else "ldapmodify"), "-x", "-H", self.ldapi, "-D", ROOT_DN,
               "-w", "rootsecret"]
        r = subprocess.run(cmd, input=ldif, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("ldapmodify failed: %s" % r.stderr)

    def set_group(self, name, role, member):
        self.modify("dn: %s\nchangetype: modify\n%s: member\nmember: %s\n"
                    % (group_dn(role), "add" if member else "delete", person_dn(name)))

    def delete(self, name):
        r = subprocess.run([tool("ldapdelete"), "-x", "-H", self.ldapi, "-D", ROOT_DN, "-w", "rootsecret",
                            person_dn(name)], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("ldapdelete failed: %s" % r.stderr)

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.proc is None:
            return
        pid = self.proc.pid
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        _wait_gone([pid], 10)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def server_options(url, timeout=2):
    return ["--ldap-url", url, "--ldap-bind-dn", SERVICE_DN, "--ldap-user-base", "ou=people," + BASE,
            "--ldap-role-map", role_map(), "--ldap-timeout", str(timeout)]


class LdapLoginTest(ServerTestCase):
    """One slapd and one otcm for the class; each test uses its own directory users."""

    directory = None

    @classmethod
    def setUpClass(cls):
        cls.directory = Directory()
        cls.directory.start()
        # lock after 3 failures, before any throttling: the lock is what the tests look for
        cls.server_args = server_options(cls.directory.ldapi) + [
            "--login-lock-after", "3", "--login-throttle-after", "100",
            "--login-address-throttle-after", "1000", "--ldap-recheck-seconds", str(RECHECK)]
        cls.server_env = {"OTCM_LDAP_BIND_PASSWORD": Directory.service_password}
        try:
            super().setUpClass()
        except Exception:
            cls.directory.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._admin = None
        super().tearDownClass()
        if cls.directory:
            cls.directory.close()

    def login(self, name, password=None):
        c = self.client()
        r = c.login(name, password or PASSWORDS[name])
        return c, r

    def admin(self):
        if getattr(type(self), "_admin", None) is None:
            type(self)._admin = self.srv.admin_client()
        return type(self)._admin

    def audit(self, username):
        """The audit events about user `username`, oldest first."""
        r = self.admin().get("/api/v1/audit?object_type=user&object_id=%s&limit=1000" % username)
        self.assertStatus(r, 200)
        return r.json["items"]

    def users(self):
        r = self.admin().get("/api/v1/users")
        self.assertStatus(r, 200)
        return {u["username"]: u for u in r.json["items"]}

    def test_first_login_creates_the_user_with_the_mapped_role(self):
        self.assertNotIn("alice", self.users())
        c, r = self.login("alice")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "engineer")
        self.assertEqual(r.json["user"]["source"], "directory")
        self.assertEqual(r.json["user"]["display_name"], "Alice Tester")
        self.assertEqual(r.json["user"]["email"], "alice@plant.test")
        me = c.get("/api/v1/session")
        self.assertStatus(me, 200)
        self.assertEqual(me.json["user"]["username"], "alice")
        self.assertEqual(self.users()["alice"]["source"], "directory")
        created = [e for e in self.audit("alice") if e["action"] == "user.create"]
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]["reason"], "first login through the directory")
        # the directory compares names without case; otcm's name is lowercase
        c2, r = self.login("Alice", PASSWORDS["alice"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["username"], "alice")

    def test_a_role_changed_in_the_directory_applies_at_the_next_login(self):
        c, r = self.login("dave")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "engineer")
        # in two mapped groups: the first of --ldap-role-map (approver before engineer) wins
        self.directory.set_group("dave", "approver", True)
        c, r = self.login("dave")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "approver")
        self.directory.set_group("dave", "approver", False)
        c, r = self.login("dave")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "engineer")
        self.directory.set_group("dave", "approver", True)
        self.directory.set_group("dave", "engineer", False)
        c, r = self.login("dave")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "approver")
        changes = [e for e in self.audit("dave") if e["action"] == "user.update"]
        self.assertEqual(len(changes), 3)
        self.assertEqual(self.users()["dave"]["role"], "approver")
        # an administrator cannot override what the directory gives
        r = self.admin().patch("/api/v1/users/%d" % self.users()["dave"]["id"],
                                          json={"role": "admin"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "directory-user")

    def test_removed_from_the_groups_is_refused_and_loses_its_tokens(self):
        c, r = self.login("erin")
        self.assertStatus(r, 200)
        token = c.create_token("erin-laptop")
        self.assertStatus(self.client(token).get("/api/v1/session"), 200)
        self.directory.set_group("erin", "engineer", False)
        _, r = self.login("erin")
        self.assertStatus(r, 403)
        self.assertEqual(r.json["field"], "username")
        # found removed: what the user held ends with the refusal
        self.assertStatus(self.client(token).get("/api/v1/session"), 401)
        self.assertStatus(c.get("/api/v1/session"), 401)

    def test_tokens_and_sessions_are_checked_against_the_directory_again(self):
        kim, r = self.login("kim")
        self.assertStatus(r, 200)
        kim_token = kim.create_token("kim-script")
        lena, r = self.login("lena")
        self.assertStatus(r, 200)
        lena_token = lena.create_token("lena-script")
        self.directory.set_group("kim", "engineer", False)
        self.directory.set_group("lena", "approver", True)
        self.directory.set_group("lena", "engineer", False)
        # within the interval the last check stands
        self.assertStatus(self.client(kim_token).get("/api/v1/session"), 200)
        time.sleep(RECHECK + 0.5)
        # after it: kim is gone from the groups, so the token and the session end
        self.assertStatus(self.client(kim_token).get("/api/v1/session"), 401)
        self.assertStatus(kim.get("/api/v1/session"), 401)
        r = self.client(kim_token).get("/api/v1/session")
        self.assertStatus(r, 401)
        # lena's token acts with the role the directory gives now
        r = self.client(lena_token).get("/api/v1/session")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "approver")
        self.assertEqual(self.users()["lena"]["role"], "approver")
        revoked = [e for e in self.audit("kim") if e["action"] == "user.directory.revoke"]
        self.assertEqual(len(revoked), 1)
        self.assertEqual(revoked[0]["reason"], "in no mapped directory group")

    def test_an_active_directory_account_disabled_there_is_refused(self):
        c, r = self.login("zoe", AD_PASSWORDS["zoe"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["username"], "zoe")
        self.assertEqual(r.json["user"]["display_name"], "Zoe Tester")
        token = c.create_token("zoe-script")
        # ACCOUNTDISABLE (0x2) in userAccountControl, as Active Directory disables an account
        self.directory.modify("dn: %s\nchangetype: modify\nreplace: userAccountControl\n"
                              "userAccountControl: 514\n" % ad_person_dn("zoe"))
        _, r = self.login("zoe", AD_PASSWORDS["zoe"])
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "username")
        self.assertIn("disabled in the directory", r.json["detail"])
        self.assertStatus(self.client(token).get("/api/v1/session"), 401)
        self.assertStatus(c.get("/api/v1/session"), 401)

    def test_a_user_in_no_mapped_group_never_appears(self):
        _, r = self.login("carol")
        self.assertStatus(r, 403)
        self.assertNotIn("carol", self.users())

    def test_deleted_from_the_directory_is_refused(self):
        c, r = self.login("gina")
        self.assertStatus(r, 200)
        self.directory.delete("gina")
        _, r = self.login("gina")
        self.assertStatus(r, 401)
        self.assertStatus(c.get("/api/v1/session"), 401)

    def test_wrong_password_counts_toward_lockout_and_a_locked_account_never_reaches_the_directory(self):
        self.assertStatus(self.login("frank")[1], 200)
        for i in range(2):
            _, r = self.login("frank", "not-the-password-%d" % i)
            self.assertStatus(r, 401)
        _, r = self.login("frank", "not-the-password-x")
        self.assertStatus(r, 423)
        # locked: the right password does not help, and the directory is not even asked
        self.directory.pause()
        try:
            started = time.monotonic()
            _, r = self.login("frank")
            # asking the paused directory would have taken --ldap-timeout and answered 503
            self.assertStatus(r, 423)
            self.assertLess(time.monotonic() - started, 2)
            self.assertTrue(r.headers.get("Retry-After"))
        finally:
            self.directory.resume()
        r = self.admin().get("/api/v1/users/%d" % self.users()["frank"]["id"])
        self.assertTrue(r.json["locked"])

    def test_a_dead_directory_answers_503_quickly(self):
        self.directory.pause()
        try:
            started = time.monotonic()
            _, r = self.login("hank")
            took = time.monotonic() - started
        finally:
            self.directory.resume()
        self.assertStatus(r, 503)
        self.assertTrue(r.headers.get("Retry-After"))
        self.assertIn("directory", r.json["detail"])
        # the caller learns nothing of where the directory is; the log has it
        self.assertNotIn("ldapi", r.json["detail"])
        self.assertLess(took, 2 * 2 + 2)     # --ldap-timeout 2, a step or two of it
        # and once it answers again, so does the login
        self.assertStatus(self.login("hank")[1], 200)
        # a directory that is not running at all is refused at once, the same way
        self.directory.stop()
        try:
            started = time.monotonic()
            c, r = self.login("hank")
            took = time.monotonic() - started
        finally:
            self.directory.start()
        self.assertStatus(r, 503)
        self.assertTrue(r.headers.get("Retry-After"))
        self.assertLess(took, 2 + 2)
        self.assertStatus(self.login("hank")[1], 200)

    def test_a_local_name_never_logs_in_through_the_directory(self):
        pw = strong_password()
        admin = self.admin()
        # a local account, created while the directory did not know the name
        r = admin.post("/api/v1/users", json={"username": "localonly", "display_name": "Local",
                                              "role": "qa", "password": pw})
        self.assertStatus(r, 201)
        self.assertEqual(r.json["source"], "local")
        self.directory.modify(self.directory.person_ldif("localonly", "Directory-Pw-2026!"), add=True)
        self.directory.set_group("localonly", "admin", True)
        _, r = self.login("localonly", "Directory-Pw-2026!")
        self.assertStatus(r, 401)
        _, r = self.login("localonly", pw)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "qa")
        self.assertEqual(r.json["user"]["source"], "local")

    def test_a_local_user_cannot_take_a_directory_name(self):
        r = self.admin().post("/api/v1/users", json={
            "username": "ivan", "display_name": "Impostor", "role": "admin", "password": strong_password()})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "directory-name")
        self.assertNotIn("ivan", self.users())
        # nor a directory user's password be set here
        self.assertStatus(self.login("ivan")[1], 200)
        r = self.admin().patch("/api/v1/users/%d" % self.users()["ivan"]["id"],
                                          json={"password": strong_password()})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "directory-user")

    def test_a_signature_re_authenticates_against_the_directory(self):
        admin = self.admin()
        r = admin.post("/api/v1/assets", json={"path": "site1/area1/line1/plc-ldap", "type": "plc"})
        self.assertStatus(r, 201)
        asset = r.json["id"]
        eng, r = self.login("judy")
        self.assertStatus(r, 200)
        r = eng.post("/api/v1/changes", json={
            "type": "normal", "title": "t", "risk": "low", "reason": "r", "implementation_plan": "i",
            "rollback_plan": "b", "affected_assets": [asset]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.assertStatus(eng.post("/api/v1/changes/%s/transitions" % key, json={"to": "submitted"}), 200)
        bob, r = self.login("bob")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["user"]["role"], "approver")
        r = bob.post("/api/v1/changes/%s/signatures" % key,
                     json={"meaning": "authorised", "password": "not-bobs-password"})
        self.assertStatus(r, 401)
        self.assertEqual(r.json["field"], "password")
        # the directory is asked: a dead one cannot be signed through
        self.directory.pause()
        try:
            r = bob.post("/api/v1/changes/%s/signatures" % key,
                         json={"meaning": "authorised", "password": PASSWORDS["bob"]})
        finally:
            self.directory.resume()
        self.assertStatus(r, 503)
        r = bob.post("/api/v1/changes/%s/signatures" % key,
                     json={"meaning": "authorised", "password": PASSWORDS["bob"]})
        self.assertStatus(r, 201)

    def test_the_bind_password_never_appears_on_the_command_line(self):
        with open("/proc/%d/cmdline" % self.srv.proc.pid, "rb") as f:
            cmdline = f.read()
        self.assertIn(b"--ldap-bind-dn", cmdline)
        self.assertNotIn(Directory.service_password.encode(), cmdline)
        # and otcm refuses to take it there
        r = subprocess.run([self.srv.bin, "serve", "--data", make_tmpdir(), "--ldap-bind-password", "x"],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("command line", r.stderr)

    def test_the_directory_settings_and_test_for_administrators(self):
        admin = self.admin()
        r = admin.get("/api/v1/directory")
        self.assertStatus(r, 200)
        self.assertTrue(r.json["enabled"])
        self.assertEqual(r.json["bind_dn"], SERVICE_DN)
        self.assertEqual(r.json["bind_password"], "from the environment")
        self.assertNotIn(Directory.service_password, r.text)
        self.assertEqual([m["role"] for m in r.json["role_map"]], ["admin", "approver", "engineer"])
        r = admin.post("/api/v1/directory/test", json={"username": "bob"})
        self.assertStatus(r, 200)
        self.assertTrue(r.json["connected"])
        self.assertEqual(r.json["user"]["role"], "approver")
        self.assertEqual(r.json["user"]["dn"], person_dn("bob"))
        r = admin.post("/api/v1/directory/test", json={"username": "nobody-here"})
        self.assertStatus(r, 200)
        self.assertIsNone(r.json["user"])
        r = admin.post("/api/v1/directory/test", json={"user": "bob"})
        self.assertStatus(r, 400)
        page = admin.get("/admin/directory")
        self.assertStatus(page, 200)
        self.assertIn(SERVICE_DN, page.text)
        # the page's test form answers on the page, the role included
        page = admin.post("/admin/directory/test", body=urllib.parse.urlencode(
            {"csrf_token": admin.csrf, "username": "bob"}), content_type="application/x-www-form-urlencoded",
            headers={"Accept": "text/html"})
        self.assertStatus(page, 200)
        self.assertIn("Connected", page.text)
        self.assertIn(person_dn("bob"), page.text)
        self.assertIn("approver", page.text)
        c, r = self.login("bob")
        self.assertStatus(c.get("/api/v1/directory"), 403)


class LdapTlsTest(unittest.TestCase):
    """StartTLS and ldaps:// against certificates of a test CA; an unknown CA is refused."""

    @classmethod
    def setUpClass(cls):
        cls.directory = Directory(tls=True)
        cls.directory.start()

    @classmethod
    def tearDownClass(cls):
        cls.directory.close()

    def serve(self, url, ca):
        args = server_options(url)
        if ca:
            args += ["--ldap-ca", ca]
        pwfile = os.path.join(make_tmpdir(), "bind-password")
        with open(pwfile, "w") as f:
            f.write(Directory.service_password + "\n")
        os.chmod(pwfile, 0o600)
        return Server(args=args + ["--ldap-bind-password-file", pwfile])

    def test_starttls_ldaps_and_an_untrusted_certificate(self):
        d = self.directory
        for url in ("ldap://127.0.0.1:%d" % d.port, "ldaps://127.0.0.1:%d" % d.tls_port):
            with self.subTest(url=url):
                srv = self.serve(url, d.ca)
                try:
                    srv.start()
                    r = srv.client().login("bob", PASSWORDS["bob"])
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.json["user"]["role"], "approver")
                    r = srv.admin_client().get("/api/v1/directory")
                    self.assertEqual(r.json["bind_password"], "from a file")
                finally:
                    srv.close()
        # started again without a directory: nothing vouches for its users
        srv = self.serve("ldaps://127.0.0.1:%d" % d.tls_port, d.ca)
        try:
            srv.start()
            c = srv.client()
            self.assertEqual(c.login("bob", PASSWORDS["bob"]).status, 200)
            token = c.create_token("bob-script")
            srv.stop()
            srv.extra_args = []
            srv.start()
            self.assertEqual(srv.client(token).get("/api/v1/session").status, 401)
            r = srv.client().login("bob", PASSWORDS["bob"])
            self.assertEqual(r.status, 503, r)
            self.assertEqual(srv.admin_client().get("/api/v1/directory").json, {"enabled": False})
        finally:
            srv.close()
        # a certificate the configured CA did not sign: no password crosses, 503
        other = make_tmpdir()
        make_certificates(other, "other")
        srv = self.serve("ldap://127.0.0.1:%d" % d.port, os.path.join(other, "other-ca.pem"))
        try:
            srv.start()
            r = srv.client().login("bob", PASSWORDS["bob"])
            self.assertEqual(r.status, 503, r)
            r = srv.admin_client().post("/api/v1/directory/test", json={})
            self.assertEqual(r.status, 200, r)
            self.assertFalse(r.json["connected"])
        finally:
            srv.close()
            shutil.rmtree(other, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
