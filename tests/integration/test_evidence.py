"""Evidence bundles: a change driven to release, its bundle downloaded twice
(the same bytes), checked by `otcm verify` and by stock tools (sha256sum,
openssl, git), then tampered with in every way an auditor worries about,
each caught and named.  See docs/evidence.md.
"""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

from harness import ServerTestCase, otcm_bin, strong_password

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
PHOTO = "pump <P-101> & photo.png"
PHOTO_FILE = "pump__P-101____photo.png"


def tar_files(data):
    """{name: bytes} of a tar."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name] = t.extractfile(m).read()
    return out


def make_tar(files):
    """A tar of {name: bytes}, in the bundle's style."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            t.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()


def have(tool):
    return shutil.which(tool) is not None


class Evidence(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.pw, cls.c = {}, {}
        for name, role in (("eng", "engineer"), ("eng2", "engineer"), ("appr", "approver"),
                           ("qa1", "qa"), ("qa2", "qa"), ("aud", "auditor")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={
                "username": name, "display_name": name.upper() + ' "Person" & Co', "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name], cls.c[name] = pw, c
        cls.nasset = 0
        cls.key, cls.aid = cls.released_change(cls)
        cls.key2, _ = cls.released_change(cls)

    # -- driving a change (as in test_changes.py) --

    def released_change(self, uploader="eng2", approver="appr", readback=None):
        """A change driven to release; returns (key, asset id).  With `uploader`
        also the approver, the approval is refused and the change stops at FAT;
        with `readback` (a SHA-256) the deployment records that device read-back
        and the change stops when deployed."""
        c, pw = dict(self.c, admin=self.admin), dict(self.pw, admin=self.srv.admin_password)
        cls = self if isinstance(self, type) else type(self)  # the asset count is the class's
        cls.nasset += 1
        r = self.admin.post("/api/v1/assets", json={"path": "plant/line%d/plc" % cls.nasset, "type": "plc"})
        assert r.status == 201, r
        aid = r.json["id"]
        assert self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                               files=[("file", "main.st", "PROGRAM main\nVAR x : INT; END_VAR\nEND_PROGRAM\n")]).status == 201
        r = c["eng"].post("/api/v1/changes", json={
            "type": "normal", "title": "Raise <b>tank</b> alarm", "reason": "nuisance trips", "risk": "medium",
            "implementation_plan": "edit", "rollback_plan": "redeploy main", "affected_assets": [aid]})
        assert r.status == 201, r
        key = r.json["key"]

        def move(to, who="eng"):
            r = c[who].post("/api/v1/changes/%s/transitions" % key, json={"to": to})
            assert r.status == 200, r

        def sign(meaning, who):
            r = c[who].post("/api/v1/changes/%s/signatures" % key, json={"meaning": meaning, "password": pw[who]})
            assert r.status == 201, r

        def run(kind, name):
            p = c["qa1"].post("/api/v1/protocols", json={
                "name": name, "kind": kind, "title": kind.upper(), "witness_required": True,
                "steps": [{"instruction": "start the pump", "expected": "pump runs"},
                          {"instruction": "raise the level", "expected": "alarm at 90%"}]}).json
            r = c["qa1"].post("/api/v1/changes/%s/test-runs" % key, json={"protocol_id": p["id"], "asset_id": aid})
            assert r.status == 201, r
            rid = r.json["id"]
            for no in (1, 2):
                r = c["qa1"].put("/api/v1/test-runs/%d/steps/%d" % (rid, no),
                                 json={"result": "pass", "observed": "<script>alert(%d)</script>" % no})
                assert r.status == 200, r
            r = c["qa1"].post("/api/v1/test-runs/%d/steps/1/attachments" % rid,
                              files=[("file", PHOTO, PNG, "image/png")])
            assert r.status == 201, r
            for who, meaning in (("qa1", "tested"), ("qa2", "witnessed")):
                r = c[who].post("/api/v1/test-runs/%d/signatures" % rid, json={"meaning": meaning, "password": pw[who]})
                assert r.status == 201, r

        move("submitted")
        sign("authorised", "appr")
        move("implementing")
        for text in ("x : INT := 1;", "x : INT := 2;"):
            r = c[uploader].post("/api/v1/assets/%d/versions" % aid, fields={"message": "work", "change": key},
                               files=[("file", "main.st", "PROGRAM main\nVAR %s END_VAR\nEND_PROGRAM\n" % text)])
            assert r.status == 201, r
            v = r.json
        move("fat")
        run("fat", "fat-" + key)
        if uploader == approver:
            r = c[approver].post("/api/v1/changes/%s/signatures" % key, json={"meaning": "approved", "password": pw[approver]})
            assert r.status == 409 and r.json["rule"] == "segregation-of-duties", r
            return key, aid
        sign("approved", approver)
        deployment = {"asset_id": aid, "commit": v["commit"]}
        if readback:
            deployment["readback_sha256"] = readback
        r = c["eng"].post("/api/v1/changes/%s/deployments" % key, json=deployment)
        assert r.status == 201, r
        if readback:
            return key, aid
        move("deployed")
        move("sat", "qa1")
        run("sat", "sat-" + key)
        r = c["appr"].post("/api/v1/changes/%s/release" % key, json={"password": pw["appr"]})
        assert r.status == 200, r
        return key, aid

    def bundle(self, key=None, who="aud"):
        r = self.c[who].get("/api/v1/changes/%s/evidence" % (key or self.key))
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("Content-Type"), "application/x-tar")
        return r.body

    def verify(self, data, *args):
        with tempfile.NamedTemporaryFile(suffix=".tar", delete=False) as f:
            f.write(data)
        try:
            p = subprocess.run([otcm_bin(), "verify", f.name] + list(args), capture_output=True, text=True,
                               timeout=120)
        finally:
            os.unlink(f.name)
        return p.returncode, p.stdout + p.stderr

    def assertCaught(self, data, *names):
        code, out = self.verify(data)
        self.assertEqual(code, 1, out)
        for n in names:
            self.assertIn(n, out)
        return out

    # -- tests --

    def test_bundle_is_deterministic_and_complete(self):
        a = self.bundle()
        b = self.bundle()
        self.assertEqual(hashlib.sha256(a).hexdigest(), hashlib.sha256(b).hexdigest())
        files = tar_files(a)
        for name in ("README.txt", "change.json", "report.html", "MANIFEST.sha256", "MANIFEST.sha256.sig",
                     "trust/server.pub", "audit/events.jsonl", "audit/proofs.json", "audit/checkpoint",
                     "git/plant/line1/plc.bundle"):
            self.assertIn(name, files)
        self.assertEqual(len([n for n in files if n.startswith("statements/signature-")]), 7)
        self.assertEqual(len([n for n in files if n.startswith("statements/run-")]), 2)
        self.assertEqual(len([n for n in files if n.startswith("statements/deployment-")]), 1)
        self.assertEqual(len([n for n in files if n.startswith("tests/run-") and n.endswith(".json")]), 2)
        self.assertEqual(len([n for n in files if n.startswith("tests/run-") and "/attachments/" in n]), 2)
        self.assertEqual(len([n for n in files if n.startswith("diffs/plant/line1/plc/") and n.endswith(".patch")]), 2)
        sem = json.loads(files[[n for n in files if n.endswith(".json") and n.startswith("diffs/")][0]])
        self.assertIn("semantic", sem["files"][0])
        self.assertIn(b"+VAR x : INT := 1; END_VAR", files[[n for n in sorted(files) if n.endswith(".patch")][0]])
        html = files["report.html"].decode()
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertIn("APPR &quot;Person&quot; &amp; Co", html)
        self.assertIn("approved", html)
        self.assertIn("Raise &lt;b&gt;tank&lt;/b&gt; alarm", html)
        with tarfile.open(fileobj=io.BytesIO(a)) as t:
            for m in t.getmembers():
                self.assertEqual((m.uid, m.gid, m.mode), (0, 0, 0o644))
        # statements: in-toto v1 in DSSE, subjects are git commit and tree ids
        env = json.loads(files["statements/deployment-%d.dsse.json" % json.loads(files["change.json"])["deployments"][0]["id"]])
        st = json.loads(base64.b64decode(env["payload"]))
        self.assertEqual(st["_type"], "https://in-toto.io/Statement/v1")
        self.assertEqual(set(st["subject"][0]["digest"]), {"gitCommit", "gitTree"})
        # exporting is an audit event, visible to the auditor's superiors
        events = self.admin.get("/api/v1/audit?limit=1000").json["items"]
        exports = [e for e in events if e["action"] == "evidence.export" and e["object_id"] == self.key]
        self.assertGreaterEqual(len(exports), 2)
        self.assertEqual(exports[-1]["actor"], "aud")
        self.assertEqual(exports[-1]["after"]["sha256"], hashlib.sha256(a).hexdigest())

    def test_otcm_verify_passes_and_pins_the_key(self):
        data = self.bundle()
        code, out = self.verify(data)
        self.assertEqual(code, 0, out)
        self.assertIn("verified: every check passed", out)
        for check in ("manifest signature verifies", "checkpoint:", "events:", "git:", "statements:",
                      "policy: approved at", "the approver appr uploaded none", "had a passed FAT"):
            self.assertIn(check, out)
        pub = self.c["aud"].get("/api/v1/keys/server.pub").body
        with tempfile.NamedTemporaryFile(suffix=".pub", delete=False) as f:
            f.write(pub)
        try:
            code, out = self.verify(data, "--trust", f.name)
            self.assertEqual(code, 0, out)
            self.assertIn("trust/server.pub is the trusted key", out)
        finally:
            os.unlink(f.name)
        # a bundle re-signed by another key is caught when the key is pinned
        other = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True).stdout
        otherpub = subprocess.run(["openssl", "pkey", "-pubout"], input=other, capture_output=True).stdout
        with tempfile.NamedTemporaryFile(suffix=".pub", delete=False) as f:
            f.write(otherpub)
        try:
            code, out = self.verify(data, "--trust", f.name)
            self.assertEqual(code, 1, out)
            self.assertIn("not the trusted key", out)
        finally:
            os.unlink(f.name)

    def test_otcm_verify_accepts_any_key_of_a_key_set(self):
        # nodes of one installation, or one server before and after a key change:
        # a bundle verifies when any key of the published set signed it
        data = self.bundle()
        pub = self.c["aud"].get("/api/v1/keys/server.pub").body
        other = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True).stdout
        otherpub = subprocess.run(["openssl", "pkey", "-pubout"], input=other, capture_output=True).stdout
        with tempfile.TemporaryDirectory() as d:
            keyset, others, mine = (os.path.join(d, n) for n in ("set.pub", "others.pub", "mine.pub"))
            with open(keyset, "wb") as f:
                f.write(otherpub + pub)
            with open(others, "wb") as f:
                f.write(otherpub + otherpub)
            with open(mine, "wb") as f:
                f.write(pub)
            code, out = self.verify(data, "--trust", keyset)
            self.assertEqual(code, 0, out)
            self.assertIn("trust/server.pub is the trusted key", out)
            code, out = self.verify(data, "--trust", others, "--trust", mine)
            self.assertEqual(code, 0, out)
            code, out = self.verify(data, "--trust", others)
            self.assertEqual(code, 1, out)
            self.assertIn("none of the 2 trusted keys", out)
            with open(others, "w") as f:
                f.write("no key here\n")
            code, out = self.verify(data, "--trust", others)
            self.assertEqual(code, 1, out)
            self.assertIn("holds no PEM public key", out)

    @unittest.skipUnless(have("sha256sum") and have("openssl") and have("git"), "stock tools missing")
    def test_stock_tools(self):
        data = self.bundle()
        d = tempfile.mkdtemp()
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                t.extractall(d)
            run = lambda *cmd: subprocess.run(list(cmd), cwd=d, capture_output=True, text=True, timeout=120)
            p = run("sha256sum", "-c", "--strict", "MANIFEST.sha256")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            p = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "trust/server.pub", "-rawin",
                    "-in", "MANIFEST.sha256", "-sigfile", "MANIFEST.sha256.sig")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("Signature Verified Successfully", p.stdout)
            p = run("git", "init", "-q", "scratch")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            p = run("git", "-C", "scratch", "bundle", "verify", "../git/plant/line1/plc.bundle")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            p = run("git", "clone", "-q", "-b", "changes/" + self.key, "git/plant/line1/plc.bundle", "clone")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            p = run("git", "-C", "clone", "log", "--format=%H %T")
            commits = dict(l.split() for l in p.stdout.split("\n") if l)
            change = json.load(open(os.path.join(d, "change.json")))
            for v in change["versions"]:
                self.assertEqual(commits.get(v["commit"]), v["tree"])
            # the checkpoint's signature as README.txt shows
            note = open(os.path.join(d, "audit/checkpoint"), "rb").read().split(b"\n")
            open(os.path.join(d, "cp.txt"), "wb").write(b"\n".join(note[:3]) + b"\n")
            open(os.path.join(d, "cp.sig"), "wb").write(base64.b64decode(note[4].split()[-1])[4:])
            p = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "trust/server.pub", "-rawin",
                    "-in", "cp.txt", "-sigfile", "cp.sig")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            # a DSSE envelope's signature over its PAE
            name = sorted(n for n in os.listdir(os.path.join(d, "statements")))[0]
            env = json.load(open(os.path.join(d, "statements", name)))
            payload = base64.b64decode(env["payload"])
            open(os.path.join(d, "pae"), "wb").write(b"DSSEv1 28 application/vnd.in-toto+json %d " % len(payload) + payload)
            open(os.path.join(d, "s"), "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
            p = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "trust/server.pub", "-rawin",
                    "-in", "pae", "-sigfile", "s")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_every_tampering_is_caught_and_named(self):
        files = tar_files(self.bundle())
        other = tar_files(self.bundle(self.key2))

        # one byte changed in any file
        for name in sorted(files):
            if name.startswith("MANIFEST"):
                continue
            t = dict(files)
            b = bytearray(t[name])
            b[len(b) // 2] ^= 0x01
            t[name] = bytes(b)
            self.assertCaught(make_tar(t), "FAIL", name)
        # the manifest or its signature changed
        t = dict(files)
        t["MANIFEST.sha256.sig"] = bytes(64)
        self.assertCaught(make_tar(t), "manifest signature")
        # a file removed, a file added
        t = dict(files)
        victim = sorted(n for n in t if n.startswith("tests/"))[0]
        del t[victim]
        self.assertCaught(make_tar(t), victim, "missing")
        t = dict(files)
        t["tests/extra.json"] = b"{}\n"
        self.assertCaught(make_tar(t), "tests/extra.json", "not in the manifest")
        # a statement swapped in from another change
        t = dict(files)
        sig_name = sorted(n for n in t if n.startswith("statements/signature-"))[0]
        t[sig_name] = other[sorted(n for n in other if n.startswith("statements/signature-"))[0]]
        out = self.assertCaught(make_tar(t), sig_name)
        self.assertIn("belongs to " + self.key2, out)
        # a signature file swapped in from another change
        t = dict(files)
        t["MANIFEST.sha256.sig"] = other["MANIFEST.sha256.sig"]
        self.assertCaught(make_tar(t), "manifest signature")
        # an event edited
        t = dict(files)
        lines = t["audit/events.jsonl"].split(b"\n")
        lines[1] = lines[1].replace(b'"actor":"', b'"actor":"x', 1)
        t["audit/events.jsonl"] = b"\n".join(lines)
        out = self.assertCaught(make_tar(t), "audit/events.jsonl", "was edited")
        # an event removed (with its proof), the manifest left as it was
        t = dict(files)
        lines = t["audit/events.jsonl"].split(b"\n")
        del lines[2]
        t["audit/events.jsonl"] = b"\n".join(lines)
        self.assertCaught(make_tar(t), "audit/events.jsonl")
        # the checkpoint of another change's bundle
        t = dict(files)
        t["audit/checkpoint"] = other["audit/checkpoint"]
        if other["audit/checkpoint"] != files["audit/checkpoint"]:
            self.assertCaught(make_tar(t), "audit/checkpoint", "not included")
        # the git bundle of another change
        t = dict(files)
        ob = [n for n in other if n.startswith("git/")][0]
        t["git/plant/line1/plc.bundle"] = other[ob]
        self.assertCaught(make_tar(t), "git/plant/line1/plc.bundle", "not in the git bundle")
        # not a tar at all
        self.assertCaught(b"garbage" * 100, "bundle:")

    def test_attachments_are_in_the_bundle_and_checked(self):
        files = tar_files(self.bundle())
        change = json.loads(files["change.json"])
        att = sorted(n for n in files if "/attachments/" in n)
        self.assertEqual(len(att), 2)
        html = files["report.html"].decode()
        for run in change["test_runs"]:
            a = run["attachments"][0]
            name = "tests/run-%d/attachments/%d-%s" % (run["id"], a["id"], PHOTO_FILE)
            # the bytes, where the run's JSON and the manifest say, with the recorded digest
            self.assertEqual(a["file"], name)
            self.assertEqual(files[name], PNG)
            self.assertEqual(a["sha256"], hashlib.sha256(PNG).hexdigest())
            self.assertEqual(a["size"], len(PNG))
            self.assertEqual(json.loads(files["tests/run-%d.json" % run["id"]]), run)
            self.assertIn("%s  %s\n" % (a["sha256"], name), files["MANIFEST.sha256"].decode())
            # and in the report: name (escaped), type, size, SHA-256, a link to the file
            self.assertIn('<a href="%s">pump &lt;P-101&gt; &amp; photo.png</a>' % name, html)
            self.assertIn("<td>image/png</td><td>%d</td><td>%s</td>" % (len(PNG), a["sha256"]), html)
        code, out = self.verify(make_tar(files))
        self.assertEqual(code, 0, out)
        self.assertIn("attachments: 2 files, each listed by its run", out)

        # an attachment's bytes changed
        t = dict(files)
        t[att[0]] = PNG[:-1] + b"\x00"
        out = self.assertCaught(make_tar(t), att[0] + " was changed", "its SHA-256 is not the one")
        # an attachment removed, with its manifest line
        t = dict(files)
        del t[att[0]]
        t["MANIFEST.sha256"] = b"".join(l + b"\n" for l in t["MANIFEST.sha256"].split(b"\n")
                                        if l and not l.endswith(att[0].encode()))
        self.assertCaught(make_tar(t), att[0], "missing from the bundle", "manifest signature")
        # an attachment slipped in that no run lists
        t = dict(files)
        extra = att[0].rsplit("/", 1)[0] + "/999-extra.png"
        t[extra] = PNG
        self.assertCaught(make_tar(t), extra, "not listed by any run", "not in the manifest")
        # the run's JSON edited to match a swapped attachment
        t = dict(files)
        run = change["test_runs"][0]
        edited = json.loads(files["tests/run-%d.json" % run["id"]])
        edited["attachments"][0]["sha256"] = "0" * 64
        t["tests/run-%d.json" % run["id"]] = (json.dumps(edited) + "\n").encode()
        self.assertCaught(make_tar(t), "tests/run-%d.json is missing or is not run" % run["id"])

    def test_exceptions_show_in_policy(self):
        # an emergency change deployed before approval and left unapproved past its deadline
        self.assertStatus(self.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 0}), 200)
        try:
            c, pw = self.c, self.pw
            r = self.admin.post("/api/v1/assets", json={"path": "plant/emerg/plc", "type": "plc"})
            aid = r.json["id"]
            self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                            files=[("file", "main.st", "PROGRAM main END_PROGRAM\n")])
            key = c["eng"].post("/api/v1/changes", json={
                "type": "emergency", "title": "hot fix", "reason": "r", "risk": "high", "implementation_plan": "i",
                "rollback_plan": "b", "affected_assets": [aid]}).json["key"]
            c["eng"].post("/api/v1/changes/%s/transitions" % key, json={"to": "submitted"})
            c["appr"].post("/api/v1/changes/%s/signatures" % key, json={"meaning": "authorised", "password": pw["appr"]})
            c["eng"].post("/api/v1/changes/%s/transitions" % key, json={"to": "implementing"})
            v = c["eng"].post("/api/v1/assets/%d/versions" % aid, fields={"message": "fix", "change": key},
                              files=[("file", "main.st", "PROGRAM main (* hot *) END_PROGRAM\n")]).json
            self.assertStatus(c["eng"].post("/api/v1/changes/%s/deployments" % key,
                                            json={"asset_id": aid, "commit": v["commit"]}), 201)
            self.assertStatus(c["eng"].post("/api/v1/changes/%s/transitions" % key, json={"to": "deployed"}), 200)
            code, out = self.verify(self.bundle(key))
            self.assertEqual(code, 1, out)
            self.assertIn("emergency change not approved within its deadline", out)
            self.assertIn("NOT   13. Emergency handling: retrospective approval in time", out)
            checks, _ = self.checklist_of(tar_files(self.bundle(key)))
            self.assertEqual(checks["emergency"]["result"], "not met")
            self.assertEqual(checks["approval"]["result"], "not met")
        finally:
            self.admin.put("/api/v1/change-settings", json={"emergency_approval_seconds": 259200})

    # -- the control checklist (docs/evidence.md) --

    def checklist_of(self, files):
        change = json.loads(files["change.json"])
        return {c["id"]: c for c in change["checklist"]}, change

    def test_checklist_of_a_released_change(self):
        data = self.bundle()
        files = tar_files(data)
        checks, change = self.checklist_of(files)
        self.assertEqual([c["id"] for c in change["checklist"]], [
            "recorded", "authorised", "content", "independent-review", "fat", "approval", "deployed-approved",
            "sat", "released-tested", "server-time", "audit-trail", "reauthentication", "emergency"])
        for cid, c in checks.items():
            self.assertEqual(c["result"], "not applicable" if cid == "emergency" else "met", c)
            self.assertTrue(c["evidence"], c)
        self.assertIn("git/plant/line1/plc.bundle", checks["content"]["evidence"])
        self.assertIn("the approver appr uploaded none of the 2 versions", checks["independent-review"]["detail"])
        self.assertIn("1 without a read-back (no agent)", checks["deployed-approved"]["detail"])
        # the report opens with it, and labels fields for people
        html = files["report.html"].decode()
        self.assertLess(html.index("<h2>Control checklist</h2>"), html.index("<h2>The ticket</h2>"))
        self.assertIn('<td class="met">met</td>', html)
        self.assertNotIn('<td class="notmet">', html)
        for label in ("Safety related", "Implementation plan", "Rollback plan"):
            self.assertIn("<tr><th>%s</th>" % label, html)
        self.assertNotIn("<th>safety_related</th>", html)
        # what changed: the newest version's semantic changes, with links to the full diffs
        self.assertLess(html.index("<h2>The ticket</h2>"), html.index("<h2>What changed</h2>"))
        patch = sorted(n for n in files if n.startswith("diffs/plant/line1/plc/") and n.endswith(".patch"))[-1]
        self.assertIn('<a href="%s">' % patch, html)
        self.assertIn('<a href="%s.json">' % patch[:-len(".patch")], html)
        self.assertIn('<section class="otcm-diff"><h4><span class="otcm-diff-file">main.st</span>', html)
        self.assertIn('<td>initial value</td><td class="old"></td><td class="new">2</td>',
                      html[html.index("<h2>What changed</h2>"):])
        self.assertIn("@page{margin:18mm 12mm 16mm 12mm;", html)
        self.assertIn('@top-left{content:"Evidence of change %s"' % self.key, html)
        # every printed page names the records it shows, as the signed manifest lists them
        sha = hashlib.sha256(files["change.json"]).hexdigest()
        self.assertIn('@top-right{content:"change.json SHA-256 %s"' % sha, html)
        self.assertIn("%s  change.json\n" % sha, files["MANIFEST.sha256"].decode())
        self.assertIn("<tr><td>plant/line1/plc</td><td>%s</td>" % change["deployments"][0]["commit"],
                      html[html.index("<h2>Deployments</h2>"):])
        # otcm verify prints the same checklist, recomputed from the bundle
        code, out = self.verify(data)
        self.assertEqual(code, 0, out)
        self.assertIn("met   1. Change recorded with reason, risk and rollback plan", out)
        self.assertIn("met   4. Independent review: the approver contributed no content", out)
        self.assertIn("n/a   13. Emergency handling", out)
        self.assertIn("ok    checklist: 12 met, 0 not met, 1 not applicable", out)
        manifest = hashlib.sha256(files["MANIFEST.sha256"]).hexdigest()
        self.assertIn("SHA-256 of MANIFEST.sha256 " + manifest, out)

    def test_checklist_when_the_contributor_was_refused_approval(self):
        # the approver uploaded the version, so signing the approval is refused: never independently reviewed
        key, _ = self.released_change(uploader="admin", approver="admin")
        data = self.bundle(key)
        checks, _ = self.checklist_of(tar_files(data))
        self.assertEqual(checks["independent-review"]["result"], "not met")
        self.assertIn("no current approval", checks["independent-review"]["detail"])
        for cid in ("recorded", "authorised", "content", "server-time", "audit-trail", "reauthentication"):
            self.assertEqual(checks[cid]["result"], "met", checks[cid])
        code, out = self.verify(data)
        self.assertEqual(code, 0, out)  # authentic, and honest about what it lacks
        self.assertIn("NOT   4. Independent review", out)
        self.assertIn("ok    checklist: 6 met, 6 not met, 1 not applicable", out)
        self.assertIn('<td class="notmet">not met</td>', tar_files(data)["report.html"].decode())

    def test_checklist_when_the_read_back_does_not_match(self):
        key, _ = self.released_change(readback="0" * 64)
        data = self.bundle(key)
        checks, change = self.checklist_of(tar_files(data))
        self.assertIs(change["deployments"][0]["readback_match"], False)
        self.assertEqual(checks["deployed-approved"]["result"], "not met")
        self.assertIn("does not match the deployed tree", checks["deployed-approved"]["detail"])
        for cid in ("fat", "approval", "independent-review", "audit-trail"):
            self.assertEqual(checks[cid]["result"], "met", checks[cid])
        code, out = self.verify(data)
        self.assertIn("NOT   7. Deployed tree equals approved tree", out)
        self.assertIn("ok    checklist:", out)

    def test_roles(self):
        r = self.srv.client().get("/api/v1/changes/%s/evidence" % self.key)
        self.assertStatus(r, 401)
        self.assertStatus(self.c["aud"].get("/api/v1/changes/CHG-9999/evidence"), 404)


if __name__ == "__main__":
    unittest.main()
