"""Every domain operation through every door, with every role: the same answer.

A rule guarded at one door holds only at that door.  The domain's table of
operations (`otcm routes`, from domain/ops.c) says which roles may perform
each operation; every route names the operation it calls.  This test walks
every route of every door (the REST API, the web pages and the collection
agent's door) with every
role and with no credentials, and expects:

- no credentials: 401 on every route that is not public;
- a role outside the operation's roles: 403 through every door that exposes
  the operation, never anything else (the route's own roles, a cheap first
  filter, must agree with the domain's table);
- a role inside them: never 403 (nor 401).

The requests are chosen so that a permitted caller is refused by a business
rule or by validation and nothing changes (releasing a change in draft,
signing it "approved" while it is a draft, uploading onto main), so every
role can be tried through every door on the same state.  For those pairs
the API and the page must also give the same status.

Routes are generated from `otcm routes`, so a new route or operation is
walked without anyone remembering to add it.  Routes whose request needs
a body the generator cannot invent have an entry in SPECIAL; a route that
cannot be walked at all (logging out ends the client's own session) is
listed in SKIPPED with the reason, and the test fails if an entry there no
longer matches a route.
"""

import json
import re
import subprocess
import unittest
import urllib.parse

from harness import ServerTestCase, otcm_bin, strong_password

ROLES = ["admin", "engineer", "qa", "approver", "auditor", "agent"]

# routes that are not walked, with the reason
SKIPPED = {
    ("DELETE", "/api/v1/session"): "logs the walking client out; test_auth covers it",
    ("POST", "/logout"): "logs the walking client out; test_auth covers it",
    ("POST", "/changes/{key}/actions"): "one form for three operations: walked per operation in ACTIONS",
}

# the page form that carries several operations, by its `kind`
ACTIONS = {
    "change.transition": {"kind": "transition", "value": "closed"},
    "change.sign": {"kind": "sign", "value": "approved"},
    "change.release": {"kind": "release"},
}


def routes_table():
    out = subprocess.run([otcm_bin(), "routes"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


class DoorEquivalence(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        table = routes_table()
        cls.ops = {op["name"]: set(op["roles"]) for op in table["operations"]}
        cls.routes = table["routes"]
        admin = cls.srv.admin_client()
        cls.pw = {"admin": cls.srv.admin_password}
        cls.clients = {"admin": admin}
        for role in ROLES[1:]:
            pw = strong_password()
            r = admin.post("/api/v1/users", json={"username": "door-" + role, "display_name": role.title(),
                                                  "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login("door-" + role, pw).status == 200
            cls.pw[role] = pw
            cls.clients[role] = c
        r = admin.post("/api/v1/users", json={"username": "door-victim", "display_name": "Victim",
                                              "role": "engineer", "password": strong_password()})
        assert r.status == 201, r
        cls.user_id = r.json["id"]
        r = admin.post("/api/v1/assets", json={"path": "plant/doors/plc-1", "type": "plc"})
        assert r.status == 201, r
        cls.asset_id = r.json["id"]
        r = admin.post("/api/v1/assets/%d/versions" % cls.asset_id, fields={"message": "baseline"},
                       files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")])
        assert r.status == 201, r
        cls.commit = r.json["commit"]
        r = cls.clients["engineer"].post("/api/v1/changes", json={
            "type": "normal", "title": "Doors", "reason": "walk every door", "risk": "low",
            "safety_related": False, "implementation_plan": "none", "rollback_plan": "none",
            "affected_assets": [cls.asset_id]})
        assert r.status == 201, r
        cls.key = r.json["key"]
        r = admin.post("/api/v1/protocols", json={
            "name": "door-fat", "kind": "fat", "title": "FAT", "witness_required": False,
            "steps": [{"instruction": "look", "expected": "seen"}]})
        assert r.status == 201, r
        cls.protocol_id = r.json["id"]

    # -- building requests --

    def concrete(self, pattern):
        values = {
            "/api/v1/assets/{id}": self.asset_id, "/assets/{id}": self.asset_id,
            "/admin/assets/{id}": self.asset_id, "/api/v1/users/{id}": self.user_id,
            "/admin/users/{id}": self.user_id, "/api/v1/protocols/{id}": self.protocol_id,
            "/protocols/{id}": self.protocol_id,
        }

        def one(m):
            name = m.group(1)
            head = pattern[:m.start()] + "{" + name + "}"
            if name == "key":
                return self.key
            if name == "commit":
                return self.commit
            if name == "path+" or name == "path":
                return "main.st"
            if name == "id":
                for prefix, value in values.items():
                    if head == prefix or head.endswith(prefix):
                        return str(value)
                return "999999"
            if name in ("no", "seq"):
                return "1"
            return "999999"

        return re.sub(r"\{([^}]+)\}", one, pattern)

    def special(self, method, pattern, role):
        """(kind, payload) for routes whose request the generator cannot invent."""
        pw = self.pw[role]
        upload = ("files", {"fields": {"message": "onto main", "branch": "main"},
                            "files": [("file", "main.st", "PROGRAM main (* door *) END_PROGRAM\n")]})
        table = {
            ("POST", "/api/v1/changes/{key}/release"): ("json", {"password": pw}),
            # an invalid schedule: refused after the permission check, nothing changes
            ("PUT", "/api/v1/assets/{id}/readback-settings"): ("json", {"interval_seconds": 1}),
            ("POST", "/api/v1/changes/{key}/signatures"): ("json", {"meaning": "approved", "password": pw}),
            ("POST", "/api/v1/changes/{key}/transitions"): ("json", {"to": "closed"}),
            ("POST", "/api/v1/assets/{id}/versions"): upload,
            ("POST", "/assets/{id}/upload"): upload,
            ("POST", "/api/v1/changes/{key}/test-runs"): ("json", {"protocol_id": self.protocol_id,
                                                                   "asset_id": self.asset_id}),
            ("POST", "/changes/{key}/runs/new"): ("form", {"protocol_id": str(self.protocol_id),
                                                          "asset_id": str(self.asset_id)}),
        }
        return table.get((method, pattern))

    def send(self, role, method, pattern, door, kind=None, payload=None):
        c = self.clients[role] if role else self.client()
        url = self.concrete(pattern)
        if kind is None:
            found = self.special(method, pattern, role) if role else None
            if found:
                kind, payload = found
            elif method in ("GET", "HEAD"):
                kind, payload = None, None
            elif door == "page":
                kind, payload = "form", {}
            else:
                kind, payload = "json", {}
        if kind == "json":
            return c.request(method, url, json=payload)
        if kind == "files":
            return c.request(method, url, fields=payload["fields"], files=payload["files"])
        if kind == "form":
            form = dict(payload)
            if c.csrf:
                form["csrf_token"] = c.csrf
            return c.request(method, url, body=urllib.parse.urlencode(form),
                             content_type="application/x-www-form-urlencoded")
        return c.request(method, url)

    # -- the walk --

    def test_skipped_routes_exist(self):
        present = {(r["method"], r["pattern"]) for r in self.routes}
        for entry in SKIPPED:
            self.assertIn(entry, present, "SKIPPED names a route that no longer exists: %r" % (entry,))

    def test_every_route_names_a_known_operation(self):
        for r in self.routes:
            if r["op"] is not None:
                self.assertIn(r["op"], self.ops, r)
                # the first filter may not let through a role the domain refuses
                # more than the domain refuses, nor refuse one it allows
                self.assertEqual(set(r["roles"]), self.ops[r["op"]],
                                 "route %s %s filters other roles than operation %s allows"
                                 % (r["method"], r["pattern"], r["op"]))
            elif r["door"] in ("api", "page", "agent") and r["roles"] and (r["method"], r["pattern"]) not in SKIPPED:
                # a protected route that calls no operation would decide on its own
                self.assertIn(r["pattern"], ("/",), "protected route without an operation: %r" % (r,))

    def test_every_operation_every_door_every_role(self):
        outcomes = {}   # op -> door -> role -> [statuses]
        walked = 0
        for r in self.routes:
            method, pattern, door, op = r["method"], r["pattern"], r["door"], r["op"]
            if door not in ("api", "page", "agent") or op is None or (method, pattern) in SKIPPED:
                continue
            allowed = self.ops[op]
            anon = self.send(None, method, pattern, door)
            if allowed:
                self.assertEqual(anon.status, 401, "%s %s without credentials: %r" % (method, pattern, anon))
            for role in ROLES:
                resp = self.send(role, method, pattern, door)
                walked += 1
                outcomes.setdefault(op, {}).setdefault(door, {}).setdefault(role, []).append(resp.status)
                if not allowed:
                    continue  # public (logging in): no role to refuse; test_login_page covers its form
                if role not in allowed:
                    self.assertEqual(resp.status, 403, "%s %s (%s) as %s: %r" % (method, pattern, op, role, resp))
                else:
                    self.assertNotIn(resp.status, (401, 403),
                                     "%s %s (%s) as %s is allowed by the domain: %r"
                                     % (method, pattern, op, role, resp))
        # every operation a door exposes was walked through it
        for r in self.routes:
            if r["op"] and r["door"] in ("api", "page", "agent") and (r["method"], r["pattern"]) not in SKIPPED:
                self.assertIn(r["door"], outcomes.get(r["op"], {}), r)
        self.assertGreater(walked, 300)

    def test_change_actions_form_as_the_api(self):
        """The change page's action form against the API, operation by operation."""
        api = {
            "change.transition": ("POST", "/api/v1/changes/{key}/transitions"),
            "change.sign": ("POST", "/api/v1/changes/{key}/signatures"),
            "change.release": ("POST", "/api/v1/changes/{key}/release"),
        }
        for op, form in ACTIONS.items():
            for role in ROLES:
                method, pattern = api[op]
                a = self.send(role, method, pattern, "api")
                payload = dict(form)
                if op != "change.transition":
                    payload["password"] = self.pw[role]
                p = self.send(role, "POST", "/changes/{key}/actions", "page", kind="form", payload=payload)
                self.assertEqual(p.status, a.status,
                                 "%s as %s: the API answers %r, the page %r" % (op, role, a, p))
                if role not in self.ops[op]:
                    self.assertEqual(a.status, 403, a)
        # and the change is still a draft, untouched
        r = self.clients["admin"].get("/api/v1/changes/" + self.key)
        self.assertEqual(r.json["state"], "draft", r)
        self.assertEqual(r.json.get("signatures", []), [], r)

    def test_same_status_through_api_and_page(self):
        """Where the API and a page offer the same request, they answer alike."""
        pairs = [
            (("POST", "/api/v1/assets/{id}/versions"), ("POST", "/assets/{id}/upload")),
            # reports and the audit trail: the same operations behind the API and the pages
            (("GET", "/api/v1/reports/exceptions?from=2030-01-01&to=2030-02-01"),
             ("GET", "/reports?from=2030-01-01&to=2030-02-01")),
            (("GET", "/api/v1/reports/population?from=2030-02-30&to=2030-03-01"),
             ("GET", "/reports?from=2030-02-30&to=2030-03-01")),
            (("GET", "/api/v1/audit?after=0"), ("GET", "/audit?after=0")),
        ]
        for (am, ap), (pm, pp) in pairs:
            for role in ROLES:
                a = self.send(role, am, ap, "api")
                p = self.send(role, pm, pp, "page")
                self.assertEqual(p.status, a.status, "%s %s vs %s %s as %s: %r / %r"
                                 % (am, ap, pm, pp, role, a, p))
        r = self.clients["admin"].get("/api/v1/assets/%d/versions?branch=main" % self.asset_id)
        self.assertEqual(len(r.json["items"]), 1, r)

    def test_role_refusals_are_audited_once_a_minute(self):
        c = self.clients["engineer"]
        for _ in range(5):
            self.assertStatus(c.post("/api/v1/assets", json={"path": "plant/x/y", "type": "plc"}), 403)
        r = self.clients["admin"].get("/api/v1/audit?object_type=access&limit=1000")
        self.assertStatus(r, 200)
        events = r.json["items"]
        mine = [e for e in events if e["action"] == "access.refused" and e["actor"] == "door-engineer"
                and e.get("object_id") == "POST /api/v1/assets"]
        # one event for the burst (two when the minute turned during it)
        self.assertIn(len(mine), (1, 2), mine)


if __name__ == "__main__":
    unittest.main()
