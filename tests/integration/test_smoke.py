"""Smoke test: the server starts on its own embedded cluster, answers the
operational endpoints, reports unknown paths as problem+json and exits
cleanly on SIGTERM."""

import unittest

from harness import Server, ServerTestCase


class SmokeTest(ServerTestCase):

    def test_healthz(self):
        r = self.client().get("/healthz")
        self.assertStatus(r, 200)

    def test_readyz(self):
        r = self.client().get("/readyz")
        self.assertStatus(r, 200)

    def test_request_id_on_every_answer(self):
        for path in ("/healthz", "/readyz", "/no/such/path"):
            r = self.client().get(path)
            self.assertTrue(r.headers.get("X-Request-Id"), "no X-Request-Id on %s: %r" % (path, r))

    def test_unknown_path_is_problem_json(self):
        r = self.client().get("/no/such/path")
        self.assertStatus(r, 404)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/problem+json"),
                        "content type %r" % r.headers.get("Content-Type"))
        self.assertIsInstance(r.json, dict)
        self.assertEqual(r.json.get("status"), 404)
        self.assertIn("title", r.json)
        self.assertEqual(r.json.get("request_id"), r.headers.get("X-Request-Id"))

    def test_sigterm_exits_zero_and_restarts(self):
        # stops the shared server, then brings it back on the same data for the other tests
        self.assertEqual(self.srv.stop(), 0, "exit status after SIGTERM")
        self.srv.start()
        self.assertStatus(self.client().get("/readyz"), 200)


class CrashTest(unittest.TestCase):
    """The server comes back on the same data after being killed, with or
    without its cluster (a crash of otcm alone, and a power cut).  Each test
    has a server of its own."""

    def test_restart_after_sigkill(self):
        with Server() as srv:
            self.assertEqual(srv.kill(), -9)
            srv.start()
            self.assertEqual(srv.client().get("/readyz").status, 200)

    def test_restart_after_power_cut(self):
        with Server() as srv:
            srv.kill(with_cluster=True)
            self.assertEqual(srv.postmaster_pids(), [])
            srv.start()
            self.assertEqual(srv.client().get("/readyz").status, 200)
            srv.admin_client()


if __name__ == "__main__":
    unittest.main()
