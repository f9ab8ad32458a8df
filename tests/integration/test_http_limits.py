"""The HTTP core's limits and shutdown, seen from a client socket.

Each limit is answered with a status and, where otcm itself answers, a
problem+json body; the server keeps serving afterwards.  SIGTERM lets a
request in flight finish, then the process exits 0.
"""

import json
import signal
import socket
import threading
import time
import unittest

from harness import Server, ServerTestCase


def raw_request(port, data, read=True, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(body) >= int(length[0].split(b":")[1]):
                    break
        return b"".join(chunks)
    finally:
        if read:
            s.close()


def status_of(resp):
    return int(resp.split(b" ", 2)[1])


def body_of(resp):
    return json.loads(resp.partition(b"\r\n\r\n")[2].decode())


class Limits(ServerTestCase):
    server_args = ("--max-body", "64K", "--max-header", "8K", "--max-connections", "4")

    def test_body_over_limit_is_413_before_reading(self):
        token = self.srv.admin_token()
        req = ("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n" % token).encode()
        resp = raw_request(self.srv.port, req)
        self.assertEqual(status_of(resp), 413, resp[:300])
        self.assertIn(b"application/problem+json", resp)
        self.assertEqual(body_of(resp)["status"], 413)
        r = self.client(token=token).get("/api/v1/tokens")
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json["items"]), 1)  # nothing was created

    def test_chunked_body_far_over_limit_is_413(self):
        import select
        token = self.srv.admin_token()
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        resp = b""
        try:
            s.sendall(("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       % token).encode())
            chunk = b"%x\r\n%s\r\n" % (32768, b"x" * 32768)
            for _ in range(200):            # 6 MiB, far past 64K + what is read and dropped
                try:
                    s.sendall(chunk)
                except OSError:
                    break
                ready, _, _ = select.select([s], [], [], 0.01)
                if ready:
                    break
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    resp += b
            except OSError:
                pass
        finally:
            s.close()
        self.assertEqual(status_of(resp), 413, resp[:300])
        self.assertEqual(body_of(resp)["status"], 413)
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_headers_over_limit_is_431(self):
        r = self.client().get("/healthz", headers={"X-Filler": "a" * 10000})
        self.assertStatus(r, 431)
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_connections_over_limit_get_503(self):
        held = []
        try:
            for _ in range(6):
                held.append(socket.create_connection(("127.0.0.1", self.srv.port), timeout=10))
            time.sleep(0.3)
            answers = []
            for s in held:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            for s in held:
                try:
                    answers.append(s.recv(4096))
                except socket.timeout:
                    answers.append(b"")
            statuses = [status_of(a) for a in answers if a]
            self.assertIn(503, statuses, answers)
            self.assertIn(200, statuses, answers)
            refused = [a for a in answers if a and status_of(a) == 503]
            self.assertIn(b"application/problem+json", refused[0])
        finally:
            for s in held:
                s.close()
        time.sleep(0.5)
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_unknown_route_and_method(self):
        r = self.client().get("/api/v1/nothing-here")
        self.assertStatus(r, 404)
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json")
        self.assertTrue(r.headers.get("X-Request-Id"))
        self.assertEqual(r.json["request_id"], r.headers.get("X-Request-Id"))
        r = self.client().request("PUT", "/api/v1/session")
        self.assertStatus(r, 405)
        self.assertIn("POST", r.headers.get("Allow"))


class Timeouts(ServerTestCase):
    server_args = ("--conn-timeout", "2")

    def stalled(self, data):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=15)
        try:
            s.sendall(data)
            started = time.monotonic()
            resp = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                resp += b
            return resp, time.monotonic() - started
        finally:
            s.close()

    def test_stalled_body_gets_408(self):
        token = self.srv.admin_token()
        before = len(self.client(token=token).get("/api/v1/tokens").json["items"])
        head = ("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":" % token).encode()
        resp, waited = self.stalled(head)
        self.assertEqual(status_of(resp), 408, resp[:300])
        self.assertIn(b"application/problem+json", resp)
        self.assertEqual(body_of(resp)["status"], 408)
        self.assertGreaterEqual(waited, 1.5)
        # nothing was created, and the server goes on serving
        r = self.client(token=token).get("/api/v1/tokens")
        self.assertEqual(len(r.json["items"]), before)

    def test_stalled_headers_get_408(self):
        resp, _ = self.stalled(b"GET /api/v1/session HTTP/1.1\r\nHost: x\r\nX-Half: ")
        self.assertEqual(status_of(resp), 408, resp[:300])
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_a_slow_but_steady_client_is_not_cut_off(self):
        token = self.srv.admin_token()
        body = json.dumps({"name": "steady"}).encode()
        head = ("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (token, len(body))).encode()
        s = raw_request(self.srv.port, head, read=False)
        try:
            for i in range(len(body)):      # one byte a second: slower in total than the timeout
                s.sendall(body[i:i + 1])
                time.sleep(1.0 if i < 4 else 0)
            resp = s.recv(65536)
        finally:
            s.close()
        self.assertEqual(status_of(resp), 201, resp[:300])


class Shutdown(unittest.TestCase):

    def test_sigterm_finishes_the_request_in_flight(self):
        srv = Server()
        srv.start()
        try:
            token = srv.admin_token()
            body = json.dumps({"name": "slow"}).encode()
            head = ("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % (token, len(body))).encode()
            s = raw_request(srv.port, head + body[:5], read=False)
            time.sleep(0.5)
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            # new connections are no longer accepted ...
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", srv.port), timeout=2).sendall(
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 1)
                raise OSError("still accepting")
            # ... but the request in flight completes
            s.sendall(body[5:])
            resp = s.recv(65536)
            s.close()
            self.assertEqual(status_of(resp), 201, resp[:300])
            self.assertEqual(srv.proc.wait(timeout=60), 0)
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main()
