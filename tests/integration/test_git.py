"""Stock git against /git/<asset path>.git: clone, fetch and push under the upload's rules.

Every git command runs the installed git binary against the harness's server
with a user name and an API token in the URL, in a HOME of its own so no
configuration of the machine leaks in.
"""

import base64
import hashlib
import http.client
import os
import random
import shutil
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import ServerTestCase, make_tmpdir, otcm_bin, strong_password

L5X = ('<?xml version="1.0" encoding="UTF-8"?>\n<RSLogix5000Content SchemaRevision="1.0">'
       '<Controller Name="PLC1"><Programs><Program Name="Main"><Routines><Routine Name="R1" Type="RLL">'
       '<RLLContent><Rung Number="0" Type="N"><Text><![CDATA[XIC(Start)OTE(Motor);]]></Text></Rung>'
       '</RLLContent></Routine></Routines></Program></Programs></Controller></RSLogix5000Content>\n')


class GitSmartHTTP(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.pw, cls.c, cls.tok = {}, {}, {}
        for name, role, email in (("eng", "engineer", "eng@plant.example"),
                                  ("eng2", "engineer", "eng2@plant.example"),
                                  ("appr", "approver", "appr@plant.example"), ("appr2", "approver", None),
                                  ("qa1", "qa", None), ("qa2", "qa", None)):
            pw = strong_password()
            body = {"username": name, "display_name": name.upper(), "role": role, "password": pw}
            if email:
                body["email"] = email
            r = cls.admin.post("/api/v1/users", json=body)
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name], cls.c[name] = pw, c
            cls.tok[name] = c.create_token("git")
        cls.pw["admin"] = cls.srv.admin_password
        cls.c["admin"] = cls.admin
        cls.tok["admin"] = cls.admin.create_token("git")
        cls.home = make_tmpdir("otcm-git-home-")
        with open(os.path.join(cls.home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = Eng One\n\temail = eng@plant.example\n"
                    "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
        cls.nasset = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)
        super().tearDownClass()

    # -- helpers --

    def git(self, *args, cwd=None, check=True, env=None, input=None):
        e = {"HOME": self.home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        e.update(env or {})
        p = subprocess.run(["git"] + list(args), cwd=cwd, env=e, input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError("git %s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode,
                                                                  p.stdout.decode(errors="replace"),
                                                                  p.stderr.decode(errors="replace")))
        return p

    def url(self, path, who="eng", secret=None):
        user = urllib.parse.quote(who)
        return "http://%s:%s@%s:%d/git/%s.git" % (user, urllib.parse.quote(secret or self.tok[who], safe=""),
                                                   self.srv.host, self.srv.port, path)

    def asset(self, files=None):
        type(self).nasset += 1
        path = "plant-a/packaging/line-%d/plc-1" % self.nasset
        r = self.admin.post("/api/v1/assets", json={"path": path, "type": "plc"})
        self.assertStatus(r, 201)
        aid = r.json["id"]
        files = files or [("file", "main.st", "PROGRAM main END_PROGRAM\n"), ("file", "plc/line.L5X", L5X)]
        r = self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"}, files=files)
        self.assertStatus(r, 201)
        return aid, path

    def change(self, assets, who="eng"):
        r = self.c[who].post("/api/v1/changes", json={
            "type": "normal", "title": "Raise tank level alarm", "reason": "nuisance trips", "risk": "medium",
            "safety_related": False, "implementation_plan": "edit rung 4", "rollback_plan": "redeploy main",
            "planned_window": {"start": "2030-01-01T08:00:00Z", "end": "2030-01-01T10:00:00Z"},
            "affected_assets": assets})
        self.assertStatus(r, 201)
        return r.json["key"]

    def move(self, key, to, who="eng"):
        r = self.c[who].post("/api/v1/changes/%s/transitions" % key, json={"to": to, "reason": "test"})
        self.assertStatus(r, 200)

    def implementing(self, aid):
        key = self.change([aid])
        self.move(key, "submitted")
        r = self.c["appr"].post("/api/v1/changes/%s/signatures" % key,
                                json={"meaning": "authorised", "password": self.pw["appr"]})
        self.assertStatus(r, 201)
        self.move(key, "implementing")
        return key

    def clone(self, path, who="eng", proto=2, extra=()):
        d = make_tmpdir("otcm-git-wc-")
        self.addCleanup(shutil.rmtree, d, True)
        wc = os.path.join(d, "wc")
        self.git("-c", "protocol.version=%d" % proto, "clone", *extra, self.url(path, who), wc,
                 env={"GIT_TRACE_PACKET": "1"} if os.environ.get("DEBUG_GIT") else None)
        return wc

    def commit(self, wc, name, text, message="edit"):
        full = os.path.join(wc, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w" if isinstance(text, str) else "wb") as f:
            f.write(text)
        self.git("add", "-A", cwd=wc)
        self.git("commit", "-q", "-m", message, cwd=wc)
        return self.git("rev-parse", "HEAD", cwd=wc).stdout.decode().strip()

    def push(self, wc, *refspecs, check=True, extra=(), env=None):
        return self.git("push", *extra, "origin", *refspecs, cwd=wc, check=check, env=env)

    def heads(self, aid):
        r = self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid)
        self.assertStatus(r, 200)
        return r.json

    def audit(self, action):
        r = self.admin.get("/api/v1/audit?limit=1000")
        self.assertStatus(r, 200)
        return [e for e in r.json["items"] if e["action"] == action]

    # -- fetch --

    def test_clone_v0_and_v2_byte_exact_and_fsck_clean(self):
        aid, path = self.asset()
        for proto in (0, 2):
            wc = self.clone(path, proto=proto)
            with open(os.path.join(wc, "plc", "line.L5X")) as f:
                self.assertEqual(f.read(), L5X)
            with open(os.path.join(wc, "main.st"), "rb") as f:
                self.assertEqual(f.read(), b"PROGRAM main END_PROGRAM\n")
            self.git("fsck", "--strict", "--no-dangling", cwd=wc)
            head = self.git("rev-parse", "HEAD", cwd=wc).stdout.decode().strip()
            self.assertEqual(head, self.heads(aid)["head"])

    def test_asset_page_shows_the_clone_url(self):
        aid, path = self.asset()
        r = self.c["qa1"].get("/assets/%d" % aid, headers={"Accept": "text/html"})
        self.assertStatus(r, 200)
        want = "git clone http://%s:%d/git/%s.git" % (self.srv.host, self.srv.port, path)
        self.assertIn(want, r.text)

    def test_textconv_makes_local_diffs_semantic(self):
        _, path = self.asset()
        wc = self.clone(path)
        with open(os.path.join(wc, ".git", "info", "attributes"), "w") as f:
            f.write("*.L5X diff=otcm\n")
        self.git("config", "diff.otcm.textconv", "%s textconv" % otcm_bin(), cwd=wc)
        self.commit(wc, "plc/line.L5X", L5X.replace("OTE(Motor)", "OTE(Pump)"))
        out = self.git("log", "-p", "-1", cwd=wc).stdout.decode()
        self.assertIn("Rung[0]", out)
        self.assertIn("+        | XIC(Start)OTE(Pump);", out)
        self.assertNotIn("CDATA", out)

    def test_shallow_clone_and_ls_remote(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        self.git("checkout", "-q", "-b", "changes/" + key, cwd=wc)
        for i in range(3):
            self.commit(wc, "main.st", "PROGRAM main (* %d *) END_PROGRAM\n" % i)
        self.push(wc, "HEAD:refs/heads/changes/" + key)
        for proto in (0, 2):
            sh = self.clone(path, proto=proto, extra=("--depth", "1", "--branch", "changes/" + key))
            log = self.git("log", "--format=%H", cwd=sh).stdout.decode().split()
            self.assertEqual(len(log), 1)
            self.assertTrue(os.path.exists(os.path.join(sh, ".git", "shallow")))
            with open(os.path.join(sh, "main.st")) as f:
                self.assertEqual(f.read(), "PROGRAM main (* 2 *) END_PROGRAM\n")
            # deepening a shallow clone, then all of its history
            self.git("-c", "protocol.version=%d" % proto, "fetch", "--depth=2", cwd=sh)
            self.assertEqual(len(self.git("log", "--format=%H", cwd=sh).stdout.split()), 2)
            self.git("-c", "protocol.version=%d" % proto, "fetch", "--unshallow", cwd=sh)
            self.assertEqual(len(self.git("log", "--format=%H", cwd=sh).stdout.split()), 4)
            self.assertFalse(os.path.exists(os.path.join(sh, ".git", "shallow")))
            self.git("fsck", "--strict", "--no-dangling", cwd=sh)
        for proto in (0, 2):
            out = self.git("-c", "protocol.version=%d" % proto, "ls-remote", self.url(path)).stdout.decode()
            refs = dict(reversed(line.split("\t")) for line in out.strip().splitlines())
            self.assertEqual(refs["refs/heads/main"], self.heads(aid)["head"])
            self.assertIn("refs/heads/changes/" + key, refs)
            self.assertEqual(refs["HEAD"], refs["refs/heads/main"])

    def test_fetch_after_new_versions(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        other = self.clone(path, proto=0)
        # a version uploaded through the API arrives with a fetch
        r = self.c["eng2"].post("/api/v1/assets/%d/versions" % aid, fields={"message": "api upload", "change": key},
                                files=[("file", "main.st", "PROGRAM main (* api *) END_PROGRAM\n")])
        self.assertStatus(r, 201)
        for proto, w in ((2, wc), (0, other)):
            self.git("-c", "protocol.version=%d" % proto, "fetch", "origin", cwd=w)
            got = self.git("rev-parse", "origin/changes/" + key, cwd=w).stdout.decode().strip()
            self.assertEqual(got, r.json["commit"])
            self.git("fsck", "--strict", "--no-dangling", cwd=w)

    def test_v0_fetch_ends_at_ready_without_done(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path, proto=0)
        # more local history than git offers in its first round of haves (16), older than the
        # common commit, so the first round holds the common commit and more rounds would follow
        self.git("checkout", "-q", "--orphan", "old-notes", cwd=wc)
        for i in range(20):
            with open(os.path.join(wc, "note.txt"), "w") as f:
                f.write("note %d\n" % i)
            self.git("add", "-A", cwd=wc)
            stamp = "2001-01-%02dT00:00:00Z" % (i + 1)
            self.git("commit", "-q", "-m", "note %d" % i, cwd=wc,
                     env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
        self.git("checkout", "-q", "main", cwd=wc)
        new = []
        for i in range(2):
            r = self.c["eng2"].post("/api/v1/assets/%d/versions" % aid,
                                    fields={"message": "upload %d" % i, "change": key},
                                    files=[("file", "main.st", "PROGRAM main (* v%d *) END_PROGRAM\n" % i)])
            self.assertStatus(r, 201)
            new.append(r.json["commit"])
        p = self.git("-c", "protocol.version=0", "fetch", "origin", cwd=wc, env={"GIT_TRACE_PACKET": "1"})
        trace = p.stderr.decode(errors="replace")
        # the capability is offered and taken; the server says ready and the client never says done
        self.assertRegex(trace, r"fetch-pack< [0-9a-f]{40} HEAD\\0[^\n]*\bno-done\b")
        self.assertRegex(trace, r"fetch-pack> want [0-9a-f]{40} [^\n]*\bno-done\b")
        self.assertRegex(trace, r"fetch-pack< ACK [0-9a-f]{40} ready")
        self.assertNotRegex(trace, r"fetch-pack> done")
        self.assertEqual(self.git("rev-parse", "origin/changes/" + key, cwd=wc).stdout.decode().strip(), new[-1])
        self.git("fsck", "--strict", "--no-dangling", cwd=wc)
        shown = self.git("show", "origin/changes/%s:main.st" % key, cwd=wc).stdout.decode()
        self.assertEqual(shown, "PROGRAM main (* v1 *) END_PROGRAM\n")

    def test_a_large_fetch_request_comes_gzip_encoded(self):
        aid, path = self.asset()
        wc = self.clone(path)
        # git gzips a request past 1 KiB: wanting 30 branches makes one
        self.push(wc, *["HEAD:work/b%02d" % i for i in range(30)])
        for proto in (0, 2):
            d = make_tmpdir("otcm-git-wc-")
            self.addCleanup(shutil.rmtree, d, True)
            p = self.git("-c", "protocol.version=%d" % proto, "clone", "--mirror", self.url(path),
                         os.path.join(d, "m"), env={"GIT_TRACE_CURL": "1", "GIT_TRACE_CURL_NO_DATA": "1"})
            self.assertIn(b"Content-Encoding: gzip", p.stderr)
            refs = self.git("branch", "--list", "work/*", cwd=os.path.join(d, "m")).stdout.decode()
            self.assertEqual(len(refs.splitlines()), 30)

    def test_another_assets_commit_is_not_fetchable(self):
        aid, path = self.asset()
        _, other_path = self.asset(files=[("file", "secret.st", "PROGRAM secret END_PROGRAM\n")])
        secret = self.heads(_)["head"]
        wc = self.clone(path)
        p = self.git("fetch", "origin", secret, cwd=wc, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"not our ref", p.stderr)
        p = self.git("-c", "protocol.version=0", "fetch", "origin", secret, cwd=wc, check=False)
        self.assertNotEqual(p.returncode, 0)

    # -- a long build streams --

    BIG_VERSIONS = 40
    BIG_BYTES = 1 << 20

    def big_history(self):
        """An asset with a work branch of BIG_VERSIONS commits of a 1 MiB file of random
        bytes (fixed seed): its pack is as large as its content (nothing compresses or
        deltas) and building it takes libgit2 seconds."""
        aid, path = self.asset()
        wc = self.clone(path)
        rnd = random.Random(4242)
        for i in range(self.BIG_VERSIONS):
            self.commit(wc, "dump/memory.bin", rnd.randbytes(self.BIG_BYTES), "dump %d" % i)
        self.push(wc, "HEAD:work/big")
        with open(os.path.join(wc, "dump", "memory.bin"), "rb") as f:
            last = f.read()
        tip = self.git("rev-parse", "HEAD", cwd=wc).stdout.decode().strip()
        root = self.git("rev-list", "--max-parents=0", "HEAD", cwd=wc).stdout.decode().split()[0]
        return path, tip, root, last

    def raw_fetch(self, path, want, have=None, progress=True):
        """A v2 fetch through a plain HTTP client: [(seconds since the request, band,
        payload)] for every side-band packet after "packfile", and the total time."""
        lines = ["command=fetch\n", "agent=git/2.39\n", "object-format=sha1\n", None, "ofs-delta\n"]
        if not progress:
            lines.append("no-progress\n")
        lines.append("want %s\n" % want)
        if have:
            lines.append("have %s\n" % have)
        lines.append("done\n")
        body = b"".join(b"0001" if l is None else b"%04x%s" % (len(l) + 4, l.encode()) for l in lines) + b"0000"
        auth = base64.b64encode(("eng:" + self.tok["eng"]).encode()).decode()
        conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=120)
        t0 = time.monotonic()
        conn.request("POST", "/git/%s.git/git-upload-pack" % path, body=body, headers={
            "Content-Type": "application/x-git-upload-pack-request", "Git-Protocol": "version=2",
            "Authorization": "Basic " + auth})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        buf, packets, in_pack = b"", [], False
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            now = time.monotonic() - t0
            buf += chunk
            while len(buf) >= 4:
                n = int(buf[:4], 16)
                if n < 4:
                    buf = buf[4:]
                    continue
                if len(buf) < n:
                    break
                data, buf = buf[4:n], buf[n:]
                if not in_pack:
                    in_pack = data == b"packfile\n"
                    continue
                packets.append((now, data[0], data[1:]))
        total = time.monotonic() - t0
        conn.close()
        return packets, total

    def test_a_long_build_streams_progress_and_keeps_memory_bounded(self):
        path, tip, root, last = self.big_history()
        # peak memory from here on: the clone's, not the push's
        with open("/proc/%d/clear_refs" % self.srv.proc.pid, "w") as f:
            f.write("5")
        before = self.srv.vm("VmRSS")
        d = make_tmpdir("otcm-git-wc-")
        self.addCleanup(shutil.rmtree, d, True)
        wc = os.path.join(d, "wc")
        p = self.git("clone", "--progress", "--branch", "work/big", self.url(path), wc)
        peak = self.srv.vm("VmHWM")
        err = p.stderr.decode(errors="replace")
        self.assertIn("remote: Counting objects", err)
        self.assertIn("remote: Compressing objects", err)
        with open(os.path.join(wc, "dump", "memory.bin"), "rb") as f:
            self.assertEqual(f.read(), last)
        self.git("fsck", "--strict", "--no-dangling", cwd=wc)
        pack = sum(os.path.getsize(os.path.join(dp, n)) for dp, _, ns in os.walk(os.path.join(wc, ".git", "objects", "pack"))
                   for n in ns if n.endswith(".pack"))
        self.assertGreater(pack, self.BIG_VERSIONS * self.BIG_BYTES)
        # the pack is never held whole (it was three times: built, copied for the cache, copied to
        # send); AddressSanitizer keeps freed memory in quarantine, so its resident peak says nothing
        with open("/proc/%d/maps" % self.srv.proc.pid) as f:
            sanitized = "libasan" in f.read()
        if not sanitized:
            self.assertLess(peak - before, pack + (16 << 20), "peak grew %d MiB for a %d MiB pack" % (
                (peak - before) >> 20, pack >> 20))

        # with a have the pack is built again (no cache): progress long before the end
        packets, total = self.raw_fetch(path, tip, have=root)
        if os.environ.get("DEBUG_GIT"):
            print("clone peak +%d MiB, pack %d MiB; fetch: first packet %.2fs, pack %.2fs, end %.2fs" % (
                (peak - before) >> 20, pack >> 20, packets[0][0] if packets else -1,
                next((t for t, b, x in packets if b == 1 and x), -1), total))
        self.assertTrue(packets)
        first = packets[0]
        self.assertEqual(first[1], 2, first)
        self.assertIn(b"Counting objects", first[2])
        pack_at = next(t for t, band, data in packets if band == 1 and data)
        self.assertLess(first[0], pack_at)
        self.assertGreater(total - first[0], 1.0, "the first packet came %.2fs into %.2fs" % (first[0], total))
        self.assertFalse([data for _, band, data in packets if band == 3])
        # nothing silent for long: a packet at least every few seconds
        times = [0.0] + [t for t, _, _ in packets]
        self.assertLess(max(b - a for a, b in zip(times, times[1:])), 5.0)

        # no-progress: not a word on band 2, keep-alives are empty band-1 packets
        packets, total = self.raw_fetch(path, tip, have=root, progress=False)
        self.assertFalse([data for _, band, data in packets if band == 2])
        data = b"".join(data for _, band, data in packets if band == 1)
        self.assertEqual(data[:4], b"PACK")
        times = [0.0] + [t for t, _, _ in packets]
        self.assertLess(max(b - a for a, b in zip(times, times[1:])), 5.0)
        q = os.path.join(d, "quiet")
        p = self.git("clone", "--quiet", "--branch", "work/big", self.url(path), q)
        self.assertNotIn(b"remote:", p.stderr)
        with open(os.path.join(q, "dump", "memory.bin"), "rb") as f:
            self.assertEqual(f.read(), last)
        self.git("fsck", "--strict", "--no-dangling", cwd=q)

    def test_a_failure_after_the_pack_started_is_a_remote_error_not_a_half_pack(self):
        aid, path = self.asset()
        wc = self.clone(path)
        self.commit(wc, "lost.st", "PROGRAM lost (* %s *) END_PROGRAM\n" % path, "lost")
        self.push(wc, "HEAD:work/lost")
        oid = self.git("rev-parse", "HEAD:lost.st", cwd=wc).stdout.decode().strip()
        # the object store loses the blob (as a damaged database would): the build fails midway
        psql = shutil.which("psql")
        self.assertTrue(psql, "psql is needed")
        conninfo = "host=%s user=otcm dbname=otcm" % os.path.join(self.srv.data, "run")
        r = subprocess.run([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c",
                            "DELETE FROM git_objects WHERE oid = '\\x%s' RETURNING 1" % oid],
                           capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        for proto in (2, 0):
            d = make_tmpdir("otcm-git-wc-")
            self.addCleanup(shutil.rmtree, d, True)
            p = self.git("-c", "protocol.version=%d" % proto, "clone", "--progress", self.url(path),
                         os.path.join(d, "wc"), check=False)
            err = p.stderr.decode(errors="replace")
            self.assertNotEqual(p.returncode, 0, err)
            self.assertIn("remote: Counting objects", err)
            self.assertIn("remote: fatal: the server failed to build the pack", err)
            self.assertFalse(os.path.exists(os.path.join(d, "wc")))
        # the server keeps serving, and nothing half-built was kept for the next clone
        self.assertStatus(self.client().get("/healthz"), 200)
        d = make_tmpdir("otcm-git-wc-")
        self.addCleanup(shutil.rmtree, d, True)
        p = self.git("clone", self.url(path), os.path.join(d, "wc"), check=False)
        self.assertIn(b"remote: fatal", p.stderr)

    # -- authentication --

    def test_no_credentials_401_wrong_token_401_password_refused(self):
        _, path = self.asset()
        c = self.client()
        r = c.get("/git/%s.git/info/refs?service=git-upload-pack" % path)
        self.assertStatus(r, 401)
        self.assertIn('Basic realm="otcm"', r.headers.get("WWW-Authenticate", ""))
        self.assertIn("token", r.json["detail"])
        bare = "http://%s:%d/git/%s.git" % (self.srv.host, self.srv.port, path)
        d = make_tmpdir("otcm-git-wc-")
        self.addCleanup(shutil.rmtree, d, True)
        p = self.git("clone", bare, os.path.join(d, "a"), check=False)
        self.assertNotEqual(p.returncode, 0)
        p = self.git("clone", self.url(path, secret="otcm_" + "0" * 40), os.path.join(d, "b"), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"Authentication failed", p.stderr)
        # the account password is not a git credential: the 401 says to use a token
        p = self.git("clone", self.url(path, secret=self.pw["eng"]), os.path.join(d, "c"), check=False)
        self.assertNotEqual(p.returncode, 0)
        import base64
        basic = base64.b64encode(("eng:" + self.pw["eng"]).encode()).decode()
        r = c.request("GET", "/git/%s.git/info/refs?service=git-upload-pack" % path,
                      headers={"Authorization": "Basic " + basic})
        self.assertStatus(r, 401)
        self.assertIn("API token", r.json["detail"])
        # a browser's session cookie is no git credential
        r = self.c["eng"].get("/git/%s.git/info/refs?service=git-upload-pack" % path)
        self.assertStatus(r, 401)
        # another user's token under this user's name is no credential either
        basic = base64.b64encode(("eng:" + self.tok["eng2"]).encode()).decode()
        r = c.request("GET", "/git/%s.git/info/refs?service=git-upload-pack" % path,
                      headers={"Authorization": "Basic " + basic})
        self.assertStatus(r, 401)

    def test_qa_may_fetch_but_not_push(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path, who="qa1")
        r = self.client().request("GET", "/git/%s.git/info/refs?service=git-receive-pack" % path,
                                  headers={"Authorization": "Basic " + __import__("base64").b64encode(
                                      ("qa1:" + self.tok["qa1"]).encode()).decode()})
        self.assertStatus(r, 403)
        self.commit(wc, "main.st", "PROGRAM main (* qa *) END_PROGRAM\n")
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"403", p.stderr)

    # -- push --

    def test_push_creates_change_branch_then_fast_forwards_thin(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        # written by the approver's hand (their e-mail), pushed by eng
        self.git("config", "user.email", "APPR@plant.example", cwd=wc)
        c1 = self.commit(wc, "plc/line.L5X", L5X.replace("Motor", "Motor2"), "rung 0 drives motor 2")
        self.push(wc, "HEAD:refs/heads/changes/" + key)
        r = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key))
        self.assertStatus(r, 200)
        self.assertEqual(r.json["head"], c1)
        # the pushed commit is a version of the change, uploaded by the pusher, author kept
        v = self.c["eng"].get("/api/v1/assets/%d/versions/%s" % (aid, c1)).json
        self.assertEqual(v["recorded"]["uploaded_by"], "eng")
        self.assertEqual(v["author"]["email"], "APPR@plant.example")
        # a small edit: git sends a thin pack, completed from the server's objects
        c2 = self.commit(wc, "main.st", "PROGRAM main (* two *) END_PROGRAM\n", "second")
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, env={"GIT_TRACE": "1"})
        self.assertIn(b"--thin", p.stderr)
        self.assertEqual(self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key)).json["head"], c2)
        events = [e for e in self.audit("version.create") if e["object_id"] in (c1, c2)]
        self.assertEqual(len(events), 2)
        self.assertTrue(all(e["actor"] == "eng" for e in events), events)
        self.assertTrue(self.audit("git.push"))
        # the commit author's e-mail made the approver a contributor: they cannot approve it
        self.move(key, "fat")
        r = self.c["appr"].post("/api/v1/changes/%s/signatures" % key,
                                json={"meaning": "approved", "password": self.pw["appr"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "segregation-of-duties")
        r = self.c["appr2"].post("/api/v1/changes/%s/signatures" % key,
                                 json={"meaning": "approved", "password": self.pw["appr2"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "fat-required")

    def test_push_over_one_mib_is_chunked(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        big = os.urandom(3 * 1024 * 1024)
        c1 = self.commit(wc, "firmware/image.bin", big, "firmware image")
        self.git("config", "http.postBuffer", "65536", cwd=wc)
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, env={"GIT_TRACE_CURL": "1",
                                                                  "GIT_TRACE_CURL_NO_DATA": "1"})
        self.assertIn(b"chunked", p.stderr.lower())
        r = self.c["eng"].get("/api/v1/assets/%d/versions/%s/files/firmware/image.bin" % (aid, c1))
        self.assertStatus(r, 200)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), hashlib.sha256(big).hexdigest())

    def test_expect_100_continue_is_answered(self):
        _, path = self.asset()
        url = "http://%s:%d/git/%s.git/git-upload-pack" % (self.srv.host, self.srv.port, path)
        d = make_tmpdir("otcm-git-wc-")
        self.addCleanup(shutil.rmtree, d, True)
        body = os.path.join(d, "body")
        with open(body, "wb") as f:   # a fetch wanting nothing the asset has: an ERR line, status 200
            f.write(b"0032want " + b"1" * 40 + b"\n" + b"0000" + b"0009done\n")
        p = subprocess.run(["curl", "-sS", "-v", "-o", os.path.join(d, "out"), "-w", "%{http_code}",
                            "-u", "eng:" + self.tok["eng"], "-H", "Expect: 100-continue",
                            "-H", "Content-Type: application/x-git-upload-pack-request",
                            "--data-binary", "@" + body, url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.stdout, b"200")
        self.assertIn(b"HTTP/1.1 100 Continue", p.stderr)
        with open(os.path.join(d, "out"), "rb") as f:
            self.assertIn(b"ERR upload-pack: not our ref", f.read())

    def test_push_to_main_refused_main_protected(self):
        aid, path = self.asset()
        wc = self.clone(path)
        before = self.heads(aid)["head"]
        self.commit(wc, "main.st", "PROGRAM main (* sneaky *) END_PROGRAM\n")
        p = self.push(wc, "HEAD:refs/heads/main", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"[remote rejected]", p.stderr)
        self.assertIn(b"(main-protected)", p.stderr)
        self.assertIn(b"remote: refs/heads/main: main moves only when a change is released", p.stderr)
        self.assertEqual(self.heads(aid)["head"], before)
        # tags are the release's, other namespaces nobody's
        p = self.push(wc, "HEAD:refs/tags/CHG-1", check=False)
        self.assertIn(b"(tag-protected)", p.stderr)
        p = self.push(wc, "HEAD:refs/heads/feature", check=False)
        self.assertIn(b"(ref-namespace)", p.stderr)
        self.assertTrue(self.audit("git.push.refused"))

    def test_change_branch_no_force_no_delete_work_branches_free(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        self.commit(wc, "main.st", "PROGRAM main (* a *) END_PROGRAM\n")
        c2 = self.commit(wc, "main.st", "PROGRAM main (* b *) END_PROGRAM\n")
        self.push(wc, "HEAD:refs/heads/changes/" + key)
        self.git("reset", "-q", "--hard", "HEAD~1", cwd=wc)
        self.commit(wc, "main.st", "PROGRAM main (* rewritten *) END_PROGRAM\n")
        p = self.push(wc, "+HEAD:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(fast-forward-only)", p.stderr)
        p = self.push(wc, ":refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(change-history)", p.stderr)
        r = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key))
        self.assertEqual(r.json["head"], c2)
        # an empty commit is no version, as an upload of the same tree is none
        self.git("reset", "-q", "--hard", c2, cwd=wc)
        self.git("commit", "-q", "--allow-empty", "-m", "nothing", cwd=wc)
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(no-change)", p.stderr)
        self.git("reset", "-q", "--hard", "HEAD~1", cwd=wc)
        # work branches: created, force-pushed and deleted at will
        self.push(wc, "HEAD:work/try")
        self.git("reset", "-q", "--hard", "HEAD~1", cwd=wc)
        self.push(wc, "+HEAD:work/try")
        self.push(wc, ":work/try")
        out = self.git("ls-remote", "origin", cwd=wc).stdout.decode()
        self.assertNotIn("work/try", out)

    def test_a_commit_from_a_work_branch_becomes_a_version_on_the_change_branch(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        c1 = self.commit(wc, "main.st", "PROGRAM main (* tried *) END_PROGRAM\n")
        self.push(wc, "HEAD:work/try")
        r = self.c["eng"].get("/api/v1/assets/%d/versions/%s" % (aid, c1))
        self.assertStatus(r, 200)
        self.assertIsNone(r.json["recorded"])   # a work branch records no version
        self.push(wc, "HEAD:refs/heads/changes/" + key)
        r = self.c["eng"].get("/api/v1/assets/%d/versions/%s" % (aid, c1))
        self.assertEqual(r.json["recorded"]["branch"], "changes/" + key)

    def test_another_history_is_no_version(self):
        aid, path = self.asset()
        _, other_path = self.asset(files=[("file", "other.st", "PROGRAM other END_PROGRAM\n")])
        key = self.implementing(aid)
        # another asset's history, fetched into this clone and pushed as the change
        wc = self.clone(path)
        self.git("fetch", self.url(other_path), "main:refs/remotes/other/main", cwd=wc)
        p = self.push(wc, "refs/remotes/other/main:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(unrelated-history)", p.stderr)
        # an orphan commit likewise
        self.git("checkout", "-q", "--orphan", "fresh", cwd=wc)
        self.commit(wc, "main.st", "PROGRAM main (* from nothing *) END_PROGRAM\n")
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)
        self.assertIn(b"(unrelated-history)", p.stderr)
        r = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key))
        self.assertStatus(r, 404)

    def test_symlink_and_submodule_refused_naming_the_path(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        os.symlink("/etc/passwd", os.path.join(wc, "link.st"))
        self.git("add", "link.st", cwd=wc)
        self.git("commit", "-q", "-m", "a link", cwd=wc)
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(symlink)", p.stderr)
        self.assertIn(b"'link.st'", p.stderr)
        self.git("reset", "-q", "--hard", "HEAD~1", cwd=wc)
        head = self.git("rev-parse", "HEAD", cwd=wc).stdout.decode().strip()
        self.git("update-index", "--add", "--cacheinfo", "160000,%s,vendor/lib" % head, cwd=wc)
        self.git("commit", "-q", "-m", "a submodule", cwd=wc)
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(submodule)", p.stderr)
        self.assertIn(b"'vendor/lib'", p.stderr)
        r = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key))
        self.assertStatus(r, 404)

    def test_dotgit_in_any_spelling_refused_naming_the_path(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        blob = self.git("hash-object", "-w", "--stdin", cwd=wc, input=b"[core]\n\tworktree = /\n").stdout.decode().strip()
        head = self.git("rev-parse", "HEAD", cwd=wc).stdout.decode().strip()
        for name in (".GIT", "git~1", ".git.", ".g\u200cit"):
            sub = self.git("mktree", cwd=wc, input=("100644 blob %s\tconfig\n" % blob).encode()).stdout.decode().strip()
            tree = self.git("mktree", cwd=wc, input=("040000 tree %s\t%s\n" % (sub, name)).encode()).stdout.decode().strip()
            commit = self.git("commit-tree", tree, "-p", head, "-m", "sneaky", cwd=wc).stdout.decode().strip()
            p = self.push(wc, "%s:refs/heads/changes/%s" % (commit, key), check=False)
            self.assertNotEqual(p.returncode, 0, name)
            self.assertIn(b"(bad-path)", p.stderr, name)
        r = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key))
        self.assertStatus(r, 404)

    def test_atomic_push_with_one_refused_ref_updates_neither(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        self.commit(wc, "main.st", "PROGRAM main (* atomic *) END_PROGRAM\n")
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, "HEAD:refs/heads/main", check=False,
                      extra=("--atomic",))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(main-protected)", p.stderr)
        r = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key))
        self.assertStatus(r, 404)
        # without --atomic the change branch goes through alone
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, "HEAD:refs/heads/main", check=False)
        self.assertIn(b"(main-protected)", p.stderr)
        r = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key))
        self.assertStatus(r, 200)

    def test_two_concurrent_pushes_to_one_branch(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        a, b = self.clone(path), self.clone(path, who="eng2")
        ca = self.commit(a, "main.st", "PROGRAM main (* from a *) END_PROGRAM\n")
        cb = self.commit(b, "main.st", "PROGRAM main (* from b *) END_PROGRAM\n")
        out = {}

        def go(name, wc):
            out[name] = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)

        ts = [threading.Thread(target=go, args=("a", a)), threading.Thread(target=go, args=("b", b))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = sorted(p.returncode for p in out.values())
        self.assertEqual(codes[0], 0)
        self.assertNotEqual(codes[1], 0)
        loser = out["a"] if out["a"].returncode else out["b"]
        self.assertIn(b"fetch first", loser.stderr)
        head = self.c["eng"].get("/api/v1/assets/%d/versions?branch=changes/%s" % (aid, key)).json["head"]
        self.assertIn(head, (ca, cb))

    def test_push_to_a_draft_change_refused_upload_state(self):
        aid, path = self.asset()
        key = self.change([aid])
        wc = self.clone(path)
        self.commit(wc, "main.st", "PROGRAM main (* early *) END_PROGRAM\n")
        # a draft takes no versions
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(upload-state)", p.stderr)
        self.assertTrue(self.audit("change.upload.refused"))

    def test_push_during_fat_push_after_approval_and_the_release_tag(self):
        aid, path = self.asset()
        key = self.implementing(aid)
        wc = self.clone(path)
        self.commit(wc, "main.st", "PROGRAM main (* v1 *) END_PROGRAM\n")
        self.push(wc, "HEAD:refs/heads/changes/" + key)
        self.move(key, "fat")
        fat = self.protocol("fat")
        sat = self.protocol("sat")
        self.run_protocol(key, aid, fat)
        # a push during FAT: back to implementing, and the passed run no longer counts
        c2 = self.commit(wc, "main.st", "PROGRAM main (* v2 *) END_PROGRAM\n")
        self.push(wc, "HEAD:refs/heads/changes/" + key)
        self.assertEqual(self.c["eng"].get("/api/v1/changes/" + key).json["state"], "implementing")
        stale = [e for e in self.audit("change.version") if e["object_id"] == key]
        self.assertEqual(len(stale[-1]["after"]["runs"]), 1, stale[-1])
        self.move(key, "fat")
        r = self.c["appr2"].post("/api/v1/changes/%s/signatures" % key,
                                 json={"meaning": "approved", "password": self.pw["appr2"]})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "fat-required")
        self.run_protocol(key, aid, fat)
        # the pusher's and the commit author's e-mail made them contributors; appr2 approves
        r = self.c["appr2"].post("/api/v1/changes/%s/signatures" % key,
                                 json={"meaning": "approved", "password": self.pw["appr2"]})
        self.assertStatus(r, 201)
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)   # nothing new: up to date
        self.commit(wc, "main.st", "PROGRAM main (* v3 *) END_PROGRAM\n")
        p = self.push(wc, "HEAD:refs/heads/changes/" + key, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"(upload-state)", p.stderr)
        self.git("reset", "-q", "--hard", "HEAD~1", cwd=wc)
        good = hashlib.sha256(b"PROGRAM main (* v2 *) END_PROGRAM\n").hexdigest()
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key,
                               json={"asset_id": aid, "commit": c2, "readback_sha256": good})
        self.assertStatus(r, 201)
        self.move(key, "deployed")
        self.move(key, "sat", who="qa1")
        self.run_protocol(key, aid, sat)
        r = self.c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": self.pw["appr"]})
        self.assertStatus(r, 200)
        self.git("fetch", "--tags", "origin", cwd=wc)
        tag = self.git("rev-parse", "%s^{commit}" % key, cwd=wc).stdout.decode().strip()
        self.assertEqual(tag, c2)
        self.assertEqual(self.git("cat-file", "-t", key, cwd=wc).stdout.decode().strip(), "tag")
        self.assertEqual(self.git("rev-parse", "origin/main", cwd=wc).stdout.decode().strip(), c2)
        self.git("fsck", "--strict", "--no-dangling", cwd=wc)

    def protocol(self, kind):
        r = self.c["qa1"].post("/api/v1/protocols", json={
            "name": "%s-git-%d" % (kind, self.nasset), "kind": kind, "title": kind.upper(),
            "witness_required": False,
            "steps": [{"instruction": "start the pump", "expected": "pump runs"}]})
        self.assertStatus(r, 201)
        return r.json

    def run_protocol(self, key, aid, proto):
        r = self.c["qa1"].post("/api/v1/changes/%s/test-runs" % key,
                               json={"protocol_id": proto["id"], "asset_id": aid})
        self.assertStatus(r, 201)
        rid = r.json["id"]
        self.assertStatus(self.c["qa1"].put("/api/v1/test-runs/%d/steps/1" % rid, json={"result": "pass"}), 200)
        self.assertStatus(self.c["qa1"].post("/api/v1/test-runs/%d/signatures" % rid,
                                             json={"meaning": "tested", "password": self.pw["qa1"]}), 201)


if __name__ == "__main__":
    unittest.main()


class GitStalledReader(ServerTestCase):
    """A client that stops reading a streamed pack is cut by --conn-timeout; the build
    stops with it, and its database connection goes back to the pool."""

    server_args = ("--conn-timeout", "3", "--db-pool", "2")

    def test_a_client_that_stops_reading_is_cut(self):
        admin = self.srv.admin_client()
        tok = admin.create_token("git")
        path = "plant-a/stall/line-1/plc-1"
        r = admin.post("/api/v1/assets", json={"path": path, "type": "plc"})
        self.assertStatus(r, 201)
        r = admin.post("/api/v1/assets/%d/versions" % r.json["id"], fields={"message": "baseline"},
                       files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")])
        self.assertStatus(r, 201)
        home = make_tmpdir("otcm-git-home-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x",
               "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x"}
        url = "http://admin:%s@%s:%d/git/%s.git" % (urllib.parse.quote(tok, safe=""), self.srv.host,
                                                     self.srv.port, path)
        wc = os.path.join(home, "wc")
        subprocess.run(["git", "clone", "-q", url, wc], env=env, check=True, capture_output=True)
        rnd = random.Random(7)
        for i in range(16):
            with open(os.path.join(wc, "dump.bin"), "wb") as f:
                f.write(rnd.randbytes(1 << 20))
            for cmd in (["git", "add", "dump.bin"], ["git", "commit", "-qm", "dump %d" % i]):
                subprocess.run(cmd, cwd=wc, env=env, check=True, capture_output=True)
        subprocess.run(["git", "push", "-q", "origin", "HEAD:work/big"], cwd=wc, env=env,
                       check=True, capture_output=True)
        tip = subprocess.run(["git", "rev-parse", "HEAD"], cwd=wc, env=env, check=True,
                             capture_output=True).stdout.decode().strip()
        lines = ["command=fetch\n", "object-format=sha1\n", None, "want %s\n" % tip, "done\n"]
        body = b"".join(b"0001" if l is None else b"%04x%s" % (len(l) + 4, l.encode()) for l in lines) + b"0000"
        sock = socket.create_connection((self.srv.host, self.srv.port))
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 << 10)
        auth = base64.b64encode(("admin:" + tok).encode()).decode()
        sock.sendall(("POST /git/%s.git/git-upload-pack HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: application/x-git-upload-pack-request\r\nGit-Protocol: version=2\r\n"
                      "Authorization: Basic %s\r\nContent-Length: %d\r\n\r\n" % (path, auth, len(body))).encode()
                     + body)
        self.assertIn(b"200 OK", sock.recv(1024))
        # stop reading: the pack (16 MiB) fills the socket buffers and the stream's, then
        # nothing moves for --conn-timeout (3 s) plus libmicrohttpd's 2 s
        time.sleep(12)
        got = 0
        sock.settimeout(10)
        try:
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                got += len(chunk)
        except (ConnectionResetError, socket.timeout):
            pass
        self.assertLess(got, 16 << 20, "the whole pack arrived: the stalled client was not cut")
        # access log lines go out within 100 ms of the request's end (docs/http.md)
        deadline = time.monotonic() + 10
        while True:
            with open(self.srv.log_path, "rb") as f:
                log = f.read()
            if b'"end":"timeout"' in log or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertIn(b'"end":"timeout"', log)
        # the build stopped and gave its connection back: the pool of 2 still serves clones
        for i in range(3):
            d = os.path.join(home, "again%d" % i)
            p = subprocess.run(["git", "clone", "-q", "--single-branch", "--branch", "main", url, d], env=env,
                               capture_output=True,
                               timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)

