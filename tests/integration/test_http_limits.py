"""The HTTP core's limits and shutdown, seen from a client socket.

Each limit is answered with a status and, where otcm itself answers, a
problem+json body; the server keeps serving afterwards.  Bodies are limited
per route before they are read (--max-form-body everywhere but uploads),
and the server's peak memory (VmHWM) shows it.  One address cannot use up
the connections of everyone else, and a client too slow with its headers
or its body is cut off.  SIGTERM lets a request in flight finish, then the
process exits 0.
"""

import json
import resource
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


def vm_hwm(pid):
    """Peak resident memory of a process, in bytes (/proc/PID/status VmHWM)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM for %d" % pid)


def vm_size(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize for %d" % pid)


def send_body(port, head, body, chunk=65536, source=None):
    """Send head and as much of body as the server takes; return what it answered."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=source)
    resp = b""
    try:
        s.sendall(head)
        try:
            for i in range(0, len(body), chunk):
                s.sendall(body[i:i + chunk])
        except OSError:
            pass                            # answered and closed before the body was read
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                resp += b
                if b"\r\n\r\n" in resp:
                    head_part, _, rest = resp.partition(b"\r\n\r\n")
                    length = [l for l in head_part.split(b"\r\n")
                              if l.lower().startswith(b"content-length:")]
                    if length and len(rest) >= int(length[0].split(b":")[1]):
                        break
        except OSError:
            pass
    finally:
        s.close()
    return resp


def chunked(body, size=32768):
    out = []
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out.append(b"%x\r\n%s\r\n" % (len(part), part))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


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


class BodyLimits(ServerTestCase):
    """Bodies are limited per route, before they are buffered or parsed."""

    MIB = 1 << 20
    GROWTH = 24 << 20               # what the server's peak memory may grow by in a test

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.srv.admin_token()
        cls.admin = cls.srv.client(token=cls.token)
        r = cls.admin.post("/api/v1/assets", json={"path": "plant-m/line/plc", "type": "plc"})
        if r.status != 201:
            raise AssertionError("creating the asset failed: %r" % (r,))
        cls.asset = r.json["id"]
        for _ in range(3):              # warm up: the first requests grow pools and caches
            cls.srv.client().post("/login", body="username=x&password=y",
                                  content_type="application/x-www-form-urlencoded")
            cls.admin.get("/api/v1/changes")

    def assertSmallGrowth(self, before):
        grown = vm_hwm(self.srv.proc.pid) - before
        self.assertLess(grown, self.GROWTH, "peak memory grew by %.1f MiB" % (grown / self.MIB))

    def test_form_flood_to_login_is_refused_unread(self):
        before = vm_hwm(self.srv.proc.pid)
        body = b"&" * (16 * self.MIB)
        head = (b"POST /login HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        resp = send_body(self.srv.port, head, body)
        self.assertEqual(status_of(resp), 413, resp[:300])
        self.assertEqual(body_of(resp)["field"], "body")
        # the same sent chunked: buffered up to the limit, the rest dropped, then 413
        head = (b"POST /login HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        resp = send_body(self.srv.port, head, chunked(body))
        self.assertEqual(status_of(resp), 413, resp[:300])
        self.assertSmallGrowth(before)
        self.assertStatus(self.client().get("/healthz"), 200)

    def test_json_flood_to_session_is_refused_unread(self):
        before = vm_hwm(self.srv.proc.pid)
        body = b'{"username":"' + b"a" * (38 * self.MIB) + b'","password":"x"}'
        head = (b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        resp = send_body(self.srv.port, head, body)
        self.assertEqual(status_of(resp), 413, resp[:300])
        self.assertIn(b"1048576-byte limit", resp)
        self.assertSmallGrowth(before)

    def test_a_form_within_the_limit_is_parsed_once(self):
        # just under --max-form-body, all of it empty pairs: no memory per pair
        before = vm_hwm(self.srv.proc.pid)
        for _ in range(3):
            c = self.client()
            body = (b"login_token=%s&username=x&password=y&" % c.login_form_token().encode()
                    + b"&" * (self.MIB - 200))
            r = c.post("/login", body=body, content_type="application/x-www-form-urlencoded")
            self.assertIn(r.status, (200, 303, 401), r)
        self.assertSmallGrowth(before)
        # a form of too many fields is refused, naming the body
        r = self.client().post("/login", body=b"a&" * 5000,
                               content_type="application/x-www-form-urlencoded")
        self.assertStatus(r, 413)
        self.assertEqual(r.json["field"], "body")

    def test_api_bodies_over_the_form_limit(self):
        r = self.admin.post("/api/v1/changes", json={"title": "x" * (2 * self.MIB)})
        self.assertStatus(r, 413)
        self.assertEqual(r.json["field"], "body")

    def test_uploads_keep_max_body_once_authenticated(self):
        payload = b"(* big *)\n" * (300 * 1024)          # 3 MiB, over the form limit
        r = self.admin.post("/api/v1/assets/%d/versions" % self.asset,
                            fields={"message": "big", "branch": "work-m"},
                            files=[("file", "prog/big.st", payload)])
        self.assertStatus(r, 201)
        # anonymous: refused before the body is read
        head = (b"POST /api/v1/assets/%d/versions HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: %d\r\n\r\n" % (self.asset, 3 * self.MIB))
        resp = send_body(self.srv.port, head, b"x" * (3 * self.MIB))
        self.assertEqual(status_of(resp), 401, resp[:300])

    def test_memory_the_system_refuses_is_a_503(self):
        pid = self.srv.proc.pid
        with open("/proc/%d/maps" % pid) as f:
            if "libasan" in f.read():
                self.skipTest("AddressSanitizer reports a refused allocation instead of failing it")
        soft, hard = resource.prlimit(pid, resource.RLIMIT_AS)
        head = ("POST /api/v1/assets/%d/versions HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                "Content-Length: %d\r\n\r\n" % (self.asset, self.token, 200 * self.MIB)).encode()
        resource.prlimit(pid, resource.RLIMIT_AS, (vm_size(pid) + 64 * self.MIB, hard))
        try:
            resp = raw_request(self.srv.port, head)
        finally:
            resource.prlimit(pid, resource.RLIMIT_AS, (soft, hard))
        self.assertEqual(status_of(resp), 503, resp[:300])
        self.assertIn(b"Retry-After:", resp)
        self.assertIn(b"short of memory", resp)
        self.assertTrue(self.srv.running())
        self.assertStatus(self.client().get("/healthz"), 200)


class PerAddress(ServerTestCase):
    """One address holding many half-open requests does not starve the others."""

    server_args = ("--max-connections", "20", "--max-connections-per-address", "4",
                   "--header-timeout", "3")

    def half_open(self, source, n):
        held = []
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10,
                                             source_address=(source, 0))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                held.append(s)
            except OSError:
                pass
        return held

    def test_one_address_cannot_starve_the_others(self):
        held = self.half_open("127.0.0.2", 30)
        try:
            time.sleep(0.3)
            for source in ("127.0.0.3", "127.0.0.1", "127.0.0.3"):
                resp = raw_request_from(self.srv.port, source,
                                        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                self.assertEqual(status_of(resp), 200, resp[:300])
            # past the grace, the connections over the address's limit are told 503
            time.sleep(1.5)
            resp = raw_request_from(self.srv.port, "127.0.0.2",
                                    b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(status_of(resp), 503, resp[:300])
            self.assertIn(b"Retry-After: 1", resp)
            self.assertIn(b"from this address", resp)
            answers = []
            for s in held:
                s.settimeout(0.2)
                try:
                    answers.append(s.recv(4096))
                except OSError:
                    answers.append(b"")
            refused = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
            self.assertTrue(refused, answers)
            self.assertIn(b"Retry-After: 1", refused[0])
        finally:
            for s in held:
                s.close()
        time.sleep(0.5)
        resp = raw_request_from(self.srv.port, "127.0.0.2",
                                b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status_of(resp), 200, resp[:300])

    def test_half_open_requests_end_at_the_header_timeout(self):
        held = self.half_open("127.0.0.4", 3)
        try:
            started = time.monotonic()
            for s in held:
                s.settimeout(10)
                resp = b""
                while True:
                    b = s.recv(4096)
                    if not b:
                        break
                    resp += b
                self.assertEqual(status_of(resp), 408, resp[:300])
            self.assertLess(time.monotonic() - started, 6)
        finally:
            for s in held:
                s.close()


def raw_request_from(port, source, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    try:
        s.sendall(data)
        return s.recv(65536)
    finally:
        s.close()


class SlowClients(ServerTestCase):
    """Headers must be in within --header-timeout; a body must keep --min-body-rate."""

    server_args = ("--header-timeout", "2", "--min-body-rate", "1000", "--conn-timeout", "30")

    def drip(self, first, piece, every, limit=12):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=limit)
        started = time.monotonic()
        resp = b""
        try:
            s.sendall(first)
            s.settimeout(every)
            while time.monotonic() - started < limit:
                try:
                    b = s.recv(65536)
                    if not b:
                        break
                    resp += b
                    continue
                except socket.timeout:
                    pass
                try:
                    s.sendall(piece)
                except OSError:
                    pass
        finally:
            s.close()
        return resp, time.monotonic() - started

    def test_headers_dripped_past_the_header_timeout_get_408(self):
        resp, waited = self.drip(b"GET /api/v1/session HTTP/1.1\r\nHost: x\r\n", b"X-A: b\r\n", 0.3)
        self.assertEqual(status_of(resp), 408, resp[:300])
        self.assertIn(b"header timeout", resp)
        self.assertLess(waited, 5)

    def test_a_body_slower_than_the_minimum_rate_gets_408(self):
        token = self.srv.admin_token()
        before = len(self.client(token=token).get("/api/v1/tokens").json["items"])
        head = ("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n" % token).encode()
        resp, waited = self.drip(head + b'{"name":"', b"a" * 20, 0.3)
        self.assertEqual(status_of(resp), 408, resp[:300])
        self.assertIn(b"minimum rate", resp)
        self.assertLess(waited, 6)
        r = self.client(token=token).get("/api/v1/tokens")
        self.assertEqual(len(r.json["items"]), before)  # nothing was created

    def test_a_steady_body_is_served(self):
        token = self.srv.admin_token("steady")
        body = b'{"name": "steady"' + b" " * 200 + b"}"
        head = ("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (token, len(body))).encode()
        s = raw_request(self.srv.port, head, read=False)
        try:
            s.sendall(body[:100])
            time.sleep(1.0)                 # within the grace: no rate yet
            s.sendall(body[100:])
            resp = s.recv(65536)
        finally:
            s.close()
        self.assertEqual(status_of(resp), 201, resp[:300])


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
