"""Integration test harness: a real otcm server on a throwaway data folder.

Python 3 standard library only.  Each test class usually starts one Server
(``ServerTestCase`` does it in setUpClass); the server creates its own
embedded PostgreSQL cluster under the data folder, so tests never share a
database.  When run as root the server hands that folder to the `postgres`
account, which is why every folder made here is world-traversable (0755).

    srv = Server()              # picks a free port and a random admin password
    srv.start()                 # waits for "otcm: serving on http://..."
    c = srv.client()
    c.login("admin", srv.admin_password)
    r = c.get("/api/v1/assets")           # never raises on 4xx/5xx
    status, headers, body, data = r       # or r.status, r.headers, r.body, r.json
    srv.stop()                  # SIGTERM, returns the exit status

Environment: OTCM_BIN (the binary; default build/otcm), OTCM_CORPUS (the
sample corpus; default ../shared/corpus beside the repository),
OTCM_TEST_KEEP=1 keeps data folders even when tests pass.
"""

import http.client
import json as jsonlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN_USER = "admin"
SERVING_RE = re.compile(r"otcm: serving on (https?://\S+)")


def otcm_bin():
    """Path of the otcm binary under test (OTCM_BIN or build/otcm)."""
    path = os.environ.get("OTCM_BIN") or os.path.join(REPO_ROOT, "build", "otcm")
    if not os.access(path, os.X_OK):
        raise RuntimeError("otcm binary %r not found: build it with make or set OTCM_BIN" % path)
    return path


def corpus_path(*parts):
    """A path inside the sample corpus; fails loudly when the corpus is absent."""
    root = os.environ.get("OTCM_CORPUS") or os.path.join(os.path.dirname(REPO_ROOT), "shared", "corpus")
    if not os.path.isdir(root):
        raise RuntimeError("sample corpus not found at %r: set OTCM_CORPUS or place shared/corpus "
                           "beside the repository" % root)
    path = os.path.join(root, *parts)
    if not os.path.exists(path):
        raise RuntimeError("corpus file %r not found" % path)
    return path


def make_tmpdir(prefix="otcm-it-"):
    """A fresh temporary folder, mode 0755 so the `postgres` account can traverse it."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def strong_password():
    """A random password that satisfies any reasonable policy (length, classes)."""
    return "Aa1!" + secrets.token_urlsafe(24)


def tail(path, lines=60):
    """The last lines of a text file ('' when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent():
    """In the child before exec: SIGTERM when the test process dies, so a test
    run killed midway (a timeout, Ctrl-C twice) leaves no server behind.
    Linux ties this to the thread that started the child: start servers
    from the main thread or a thread that outlives them."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _proc_stat(pid):
    """(command name, state, parent pid) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.find("(") + 1:stat.rfind(")")]
    rest = stat[stat.rfind(")") + 2:].split()
    return comm, rest[0], int(rest[1])


def _alive(pid):
    st = _proc_stat(pid)
    return st is not None and st[1] != "Z"


def _children(pid):
    """Pids of the live child processes of pid."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st is not None and st[2] == pid and st[1] != "Z":
                out.append(int(name))
    return out


def _wait_gone(pids, timeout):
    """Wait until none of pids is alive (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


# --------------------------------------------------------------------------
# HTTP client


class Response:
    """One HTTP answer.  Unpacks as (status, headers, body, json)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # http.client.HTTPMessage: case-insensitive .get()
        self.body = body                # bytes
        self.json = None
        ctype = headers.get("Content-Type", "") or ""
        if body and "json" in ctype:
            try:
                self.json = jsonlib.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.json = None

    def __iter__(self):
        return iter((self.status, self.headers, self.body, self.json))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        snippet = self.body[:300].decode("utf-8", "replace")
        return "<Response %d %s %r>" % (self.status, self.headers.get("Content-Type"), snippet)


def multipart(fields=None, files=None):
    """Encode a multipart/form-data body.

    fields: {name: value} or [(name, value)] of plain text fields.
    files: [(field, filename, bytes_or_str[, content_type])], several allowed,
    also with the same field name.  Returns (content_type, body bytes).
    """
    boundary = "otcm-" + uuid.uuid4().hex
    out = []
    items = fields.items() if isinstance(fields, dict) else (fields or [])
    for name, value in items:
        if isinstance(value, str):
            value = value.encode("utf-8")
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                    % (boundary, name)).encode("utf-8"))
        out.append(value)
        out.append(b"\r\n")
    for entry in files or []:
        name, filename, data = entry[0], entry[1], entry[2]
        ctype = entry[3] if len(entry) > 3 else "application/octet-stream"
        if isinstance(data, str):
            data = data.encode("utf-8")
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode("utf-8"))
        out.append(data)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode("utf-8"))
    return "multipart/form-data; boundary=" + boundary, b"".join(out)


class Client:
    """A small HTTP client for one server, with a cookie jar and an optional bearer token.

    Every method returns a Response and never raises on 4xx/5xx.  After a
    session login the CSRF token the server returned (if any) is sent as
    X-CSRF-Token on unsafe methods.
    """

    def __init__(self, host, port, token=None, timeout=60):
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout
        self.cookies = {}
        self.csrf = None

    def request(self, method, path, json=None, body=None, headers=None, fields=None,
                files=None, token=None, cookies=True, content_type=None):
        """Send one request.

        json: an object sent as application/json; body: raw bytes or str
        (content_type sets its type); fields/files: a multipart/form-data body
        (see multipart()); token: a bearer token for this request (else the
        client's); cookies=False sends no cookies.
        """
        hdrs = {}
        data = None
        if json is not None:
            data = jsonlib.dumps(json).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        elif files is not None or fields is not None:
            ctype, data = multipart(fields, files)
            hdrs["Content-Type"] = ctype
        elif body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            if content_type:
                hdrs["Content-Type"] = content_type
        bearer = token if token is not None else self.token
        if bearer:
            hdrs["Authorization"] = "Bearer " + bearer
        if cookies and self.cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if self.csrf and cookies and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            hdrs["X-CSRF-Token"] = self.csrf
        hdrs.update(headers or {})

        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            try:
                conn.request(method, path, body=data, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # the server may answer (413, 431) and close before reading the whole body
                pass
            resp = conn.getresponse()
            payload = resp.read()
            result = Response(resp.status, resp.headers, payload)
        finally:
            conn.close()
        if cookies:
            self._keep_cookies(result.headers)
        return result

    def _keep_cookies(self, headers):
        for line in headers.get_all("Set-Cookie") or []:
            first, _, attrs = line.partition(";")
            name, _, value = first.strip().partition("=")
            expired = re.search(r"(?i)max-age=0\b", attrs) is not None
            if expired or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password):
        """POST /api/v1/session; on success keeps the session cookie (and CSRF token)."""
        r = self.post("/api/v1/session", json={"username": username, "password": password})
        if r.status in (200, 201) and isinstance(r.json, dict):
            self.csrf = r.json.get("csrf_token") or r.json.get("csrf") or self.csrf
        return r

    def login_form_token(self):
        """GET /login as a browser does: keeps the form's pre-session cookie
        (otcm_login) and returns the login_token the form carries, which a
        POST /login must send back."""
        r = self.get("/login")
        m = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text)
        if r.status != 200 or not m:
            raise AssertionError("the login form carries no token: %r" % (r,))
        return m.group(1)

    def logout(self):
        r = self.delete("/api/v1/session")
        self.cookies.clear()
        self.csrf = None
        return r

    def create_token(self, name="test"):
        """POST /api/v1/tokens {name}: returns the new token's secret; raises on failure."""
        r = self.post("/api/v1/tokens", json={"name": name})
        if r.status != 201 or not isinstance(r.json, dict) or "token" not in r.json:
            raise AssertionError("creating token %r failed: %r" % (name, r))
        return r.json["token"]


# --------------------------------------------------------------------------
# Server


class Server:
    """One otcm process serving a throwaway data folder on 127.0.0.1.

    The data folder survives stop()/kill() so restart() finds the same
    cluster; close() removes it unless keep is set (ServerTestCase sets it
    when a test failed) and reports where the log is.
    """

    def __init__(self, data=None, admin_password=None, args=(), env=None, startup_timeout=180):
        self.bin = otcm_bin()
        self.data = data or make_tmpdir()
        self.admin_user = ADMIN_USER
        self.admin_password = admin_password or strong_password()
        self.extra_args = list(args)
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.host = "127.0.0.1"
        self.port = None
        self.url = None
        self.proc = None
        self.keep = bool(os.environ.get("OTCM_TEST_KEEP"))
        self.log_path = os.path.join(make_tmpdir("otcm-it-log-"), "server.log")
        self.stdout_lines = []
        self._reader = None
        self._served = threading.Event()

    # -- lifecycle --

    def start(self):
        """Start the server and wait until it says it serves (or /readyz answers 200)."""
        assert self.proc is None, "server already running"
        self.port = free_port()
        self._served.clear()
        env = dict(os.environ)
        env["OTCM_ADMIN_PASSWORD"] = self.admin_password
        env.update(self.extra_env)
        cmd = [self.bin, "serve", "--data", self.data, "--listen",
               "%s:%d" % (self.host, self.port)] + self.extra_args
        with open(self.log_path, "ab") as log:
            log.write(("--- %s\n" % " ".join(cmd)).encode("utf-8"))
            log.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=log, env=env, preexec_fn=_die_with_parent)
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc,), daemon=True)
        self._reader.start()

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._served.wait(0.2):
                break
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise RuntimeError("otcm exited with %s before serving; log %s:\n%s"
                                   % (rc, self.log_path, tail(self.log_path)))
            if self._ready():
                break
        else:
            self.kill()
            raise RuntimeError("otcm did not serve within %ds; log %s:\n%s"
                               % (self.startup_timeout, self.log_path, tail(self.log_path)))
        if self.url is None:
            self.url = "http://%s:%d" % (self.host, self.port)
        return self

    def _read_stdout(self, proc):
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stdout_lines.append(line)
            m = SERVING_RE.search(line)
            if m:
                self.url = m.group(1)
                self._served.set()
        proc.stdout.close()

    def _ready(self):
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
            conn.request("GET", "/readyz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60):
        """SIGTERM and wait; returns the exit status (None if it was not running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("otcm did not exit within %ds of SIGTERM; log %s:\n%s"
                                     % (timeout, self.log_path, tail(self.log_path)))
        return self._reap()

    def kill(self, with_cluster=False):
        """SIGKILL (a crash) and wait; returns the exit status.

        The embedded cluster outlives a killed server; with_cluster=True kills
        its postmaster too (a power cut) and waits until it is gone.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        rc = self._reap()
        if with_cluster:
            # every process of the cluster at once, as a power cut would: a
            # backend outliving its postmaster would keep the shared memory
            # busy and stop the next start
            pids = self.postmaster_pids()
            pids += [c for pm in pids for c in _children(pm)]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            _wait_gone(pids, 20)
        return rc

    def _signal_postmasters(self, sig, timeout=20):
        pids = self.postmaster_pids()
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        _wait_gone(pids, timeout)

    def _reap(self):
        rc = self.proc.returncode
        if self._reader is not None:
            self._reader.join(5)
        self.proc = None
        return rc

    def restart(self):
        """Stop (SIGTERM) if running, then start again on the same data folder."""
        self.stop()
        return self.start()

    def vm(self, field):
        """A memory figure of the server process in bytes, from /proc (VmRSS, VmHWM, ...)."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no %s" % field)

    def postmaster_pids(self):
        """Pids of PostgreSQL postmasters still running on this server's data folder."""
        pids = []
        for root, _dirs, files in os.walk(self.data):
            if "postmaster.pid" in files:
                try:
                    with open(os.path.join(root, "postmaster.pid")) as f:
                        pid = int(f.readline().strip())
                except (OSError, ValueError):
                    continue
                # skip zombies and pids reused by something other than postgres
                st = _proc_stat(pid)
                if st is not None and st[1] != "Z" and st[0].startswith("postgres"):
                    pids.append(pid)
        return pids

    def close(self):
        """Stop the server and any cluster it left behind (after kill()), then clean up."""
        try:
            self.stop()
        finally:
            # A killed server cannot stop its cluster; these postmasters are ours.
            self._signal_postmasters(signal.SIGQUIT)
            if self.keep:
                sys.stderr.write("otcm test server kept: data %s, log %s\n"
                                 % (self.data, self.log_path))
                sys.stderr.write(tail(self.log_path) + "\n")
            else:
                shutil.rmtree(self.data, ignore_errors=True)
                shutil.rmtree(os.path.dirname(self.log_path), ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.keep = True
        self.close()

    # -- clients --

    def client(self, token=None):
        """A fresh Client for this server (no cookies)."""
        return Client(self.host, self.port, token=token)

    def admin_client(self):
        """A Client logged in as the first administrator (session cookie)."""
        c = self.client()
        r = c.login(self.admin_user, self.admin_password)
        if r.status not in (200, 201):
            raise AssertionError("admin login failed: %r" % (r,))
        return c

    def admin_token(self, name="test-admin"):
        """A bearer token for the first administrator."""
        return self.admin_client().create_token(name)

    def sibling(self, args=()):
        """Another node of the same installation (not started): a data folder of
        its own holding a copy of this node's signing key, the same administrator
        password; `args` should name the shared database (--database URL)."""
        other = Server(args=args, admin_password=self.admin_password)
        os.makedirs(os.path.join(other.data, "keys"), mode=0o700)
        shutil.copy2(os.path.join(self.data, "keys", "server.key"),
                     os.path.join(other.data, "keys", "server.key"))
        return other


class ServerTestCase(unittest.TestCase):
    """A TestCase whose class shares one running Server (self.srv / cls.srv).

    Set server_args / server_env on the subclass to pass options.  When any
    test of the class fails, the data folder and log are kept and the log's
    tail is printed.
    """

    server_args = ()
    server_env = None
    srv = None
    _failed = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._failed = False
        cls.srv = Server(args=cls.server_args, env=cls.server_env)
        try:
            cls.srv.start()
        except Exception:
            cls.srv.keep = True
            cls.srv.close()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            if cls._failed:
                cls.srv.keep = True
            cls.srv.close()
            cls.srv = None
        super().tearDownClass()

    def run(self, result=None):
        before = (len(result.failures), len(result.errors)) if result is not None else None
        out = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            type(self)._failed = True
        return out

    def client(self, token=None):
        return self.srv.client(token)

    def assertStatus(self, response, status):
        """Assert the status, showing the body when it differs."""
        self.assertEqual(response.status, status, "unexpected answer: %r" % (response,))
