"""HTTPS with --tls-cert and --tls-key: served over TLS, cookies marked Secure, HSTS sent."""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import unittest

from harness import Server, make_tmpdir


@unittest.skipUnless(shutil.which("openssl"), "openssl is needed to make a test certificate")
class Tls(unittest.TestCase):

    def test_https(self):
        keys = make_tmpdir("otcm-tls-")
        cert, key = os.path.join(keys, "cert.pem"), os.path.join(keys, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        srv = Server(args=("--tls-cert", cert, "--tls-key", key))
        srv.start()
        try:
            self.assertTrue(srv.url.startswith("https://"), srv.url)
            ctx = ssl.create_default_context(cafile=cert)
            ctx.check_hostname = False

            def call(method, path, body=None):
                conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=30)
                try:
                    conn.request(method, path, body=json.dumps(body) if body else None,
                                 headers={"Content-Type": "application/json"} if body else {})
                    r = conn.getresponse()
                    return r.status, r.headers, r.read()
                finally:
                    conn.close()

            status, headers, _ = call("GET", "/healthz")
            self.assertEqual(status, 200)
            self.assertIn("max-age", headers.get("Strict-Transport-Security", ""))
            status, headers, _ = call("POST", "/api/v1/session",
                                      {"username": "admin", "password": srv.admin_password})
            self.assertEqual(status, 200)
            cookie = headers.get("Set-Cookie")
            self.assertIn("Secure", cookie)
            self.assertIn("HttpOnly", cookie)
            # plain HTTP on the TLS port gets no answer of ours
            plain = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            with self.assertRaises((http.client.HTTPException, OSError)):
                plain.request("GET", "/healthz")
                resp = plain.getresponse()
                if resp.status == 200:
                    raise AssertionError("plain HTTP answered on the TLS port")
                raise OSError("refused")
        finally:
            srv.close()
            shutil.rmtree(keys, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
