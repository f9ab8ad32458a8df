"""Every route, with every role and with no credentials, against the route table.

The OpenAPI document lists each operation with the roles allowed to call
it (x-otcm-roles; an empty list means public).  A unit test proves the
document and the route table list the same routes and roles; this test
proves the running server enforces them: no credentials -> 401 on every
protected route, a role outside the set -> 403, a role inside -> neither.
"""

import re
import unittest

from harness import ServerTestCase, strong_password

ROLES = ["admin", "engineer", "qa", "approver", "auditor", "agent"]


def concrete(path):
    # any value will do: role checks happen before the handler looks at it
    return re.sub(r"\{[^}]+\}", "999999", path)


class RouteRoles(ServerTestCase):

    def test_every_route_with_every_role(self):
        admin = self.srv.admin_client()
        doc = admin.get("/api/v1/openapi.json")
        self.assertStatus(doc, 200)
        tokens = {"admin": admin.create_token("routes")}
        for role in ROLES[1:]:
            pw = strong_password()
            r = admin.post("/api/v1/users", json={"username": "r-" + role, "display_name": role,
                                                  "role": role, "password": pw})
            self.assertStatus(r, 201)
            c = self.client()
            self.assertStatus(c.login("r-" + role, pw), 200)
            tokens[role] = c.create_token("routes")

        checked = 0
        for path, item in doc.json["paths"].items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                allowed = op["x-otcm-roles"]
                url = concrete(path)
                if method == "delete" and url == "/api/v1/session":
                    continue  # needs a cookie session; covered in test_auth
                anon = self.client().request(method.upper(), url, json={} if method != "get" else None)
                if allowed:
                    self.assertEqual(anon.status, 401, "%s %s without credentials: %r" % (method, path, anon))
                    self.assertEqual(anon.json["status"], 401)
                else:
                    self.assertNotIn(anon.status, (401, 403), "%s %s is public: %r" % (method, path, anon))
                for role in ROLES:
                    r = self.client(token=tokens[role]).request(
                        method.upper(), url, json={} if method != "get" else None)
                    if not allowed or role in allowed:
                        self.assertNotIn(r.status, (401, 403),
                                         "%s %s as %s should pass the role check: %r" % (method, path, role, r))
                    else:
                        self.assertEqual(r.status, 403, "%s %s as %s: %r" % (method, path, role, r))
                    checked += 1
        self.assertGreater(checked, 60)


if __name__ == "__main__":
    unittest.main()
