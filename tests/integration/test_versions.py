"""Versions of an asset: upload, history, files, diffs, archives; races, bad
input and a crash in the middle of a stream of uploads.

Real Studio 5000 exports come from the sample corpus (OTCM_CORPUS or
../shared/corpus): version 1 and its next edit from HISTORY.tsv.  Nothing
from the corpus is copied into the repository.
"""

import csv
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest
import zipfile

from harness import Server, ServerTestCase, corpus_path, strong_password

L5X = "l5x/tnunnink__L5Sharp/tests/L5Sharp.Tests.Samples/Projects/Test.L5X"
LIMITS_ENV = {"OTCM_MAX_UPLOAD_ENTRIES": "50", "OTCM_MAX_UPLOAD_BYTES": "4M"}
# main receives only an asset's first version (its baseline) and otherwise
# moves only when a change is released: later uploads go to a work branch
WORK = "eng-work"


def history(file_key):
    """Local corpus paths of `file_key`'s versions, oldest first (HISTORY.tsv)."""
    rows = []
    with open(corpus_path("HISTORY.tsv"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["file"] == file_key:
                rows.append((int(row["version_no"]), row["local_path"]))
    rows.sort()
    if len(rows) < 2:
        raise RuntimeError("corpus history of %r has fewer than two versions" % file_key)
    return [corpus_path(p) for _, p in rows]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def make_tar(entries, gz=False):
    """entries: [(name, bytes | ('symlink'|'hardlink', target) | 'dir' | 'fifo')]"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as t:
        for name, what in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if what == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif what == "fifo":
                ti.type = tarfile.FIFOTYPE
                t.addfile(ti)
            elif isinstance(what, tuple):
                ti.type = tarfile.SYMTYPE if what[0] == "symlink" else tarfile.LNKTYPE
                ti.linkname = what[1]
                t.addfile(ti)
            else:
                ti.size = len(what)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(what))
    return buf.getvalue()


def make_zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def make_user(admin, srv, username, role, display_name=None):
    """Create a user; returns (password, bearer-token client)."""
    pw = strong_password()
    r = admin.post("/api/v1/users", json={"username": username,
                                          "display_name": display_name or username.title(),
                                          "role": role, "password": pw})
    if r.status != 201:
        raise AssertionError("creating %s failed: %r" % (username, r))
    c = srv.client()
    if c.login(username, pw).status != 200:
        raise AssertionError("login of %s failed" % username)
    return pw, srv.client(token=c.create_token("tests"))


class VersionsBase(ServerTestCase):
    server_env = LIMITS_ENV

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.client(token=cls.srv.admin_token())
        cls.eng_pw, cls.engineer = make_user(cls.admin, cls.srv, "eng-v", "engineer",
                                             "Erika Engineer")
        _, cls.auditor = make_user(cls.admin, cls.srv, "aud-v", "auditor")
        _, cls.qa = make_user(cls.admin, cls.srv, "qa-v", "qa")
        cls.versions = history(L5X)
        cls.n_assets = 0

    def new_asset(self):
        type(self).n_assets += 1
        r = self.admin.post("/api/v1/assets", json={"path": "plant-v/line-%d/plc" % self.n_assets,
                                                    "type": "plc"})
        self.assertStatus(r, 201)
        return r.json["id"]

    def upload(self, asset, files=None, client=None, **fields):
        """POST a version; files: [(path, bytes)] as 'file' parts or [('archive', name, bytes)]."""
        parts = []
        for f in files or []:
            parts.append(f if len(f) == 3 else ("file", f[0], f[1]))
        return (client or self.engineer).post("/api/v1/assets/%d/versions" % asset,
                                              fields={k: v for k, v in fields.items()}, files=parts)

    def head(self, asset, branch="main"):
        r = self.auditor.get("/api/v1/assets/%d/versions?branch=%s&limit=500" % (asset, branch))
        self.assertStatus(r, 200)
        return r.json["head"], [v["commit"] for v in r.json["items"]]

    def assertProblem(self, r, status, field=None, detail=None):
        self.assertEqual(r.status, status, "unexpected answer: %r" % (r,))
        self.assertEqual(r.headers.get("Content-Type"), "application/problem+json", r)
        if field is not None:
            self.assertEqual(r.json.get("field"), field, r.json)
        if detail is not None:
            self.assertIn(detail, r.json["detail"])


class Versions(VersionsBase):

    def test_scenario(self):
        """Engineer with a session: L5X, its next edit, history, diff, files, archives."""
        eng = self.srv.client()
        self.assertEqual(eng.login("eng-v", self.eng_pw).status, 200)
        asset = self.new_asset()
        v1, v2 = read(self.versions[0]), read(self.versions[1])

        r = self.upload(asset, [("Controller/Test.L5X", v1)], client=eng, message="baseline from FAT")
        self.assertStatus(r, 201)
        c1 = r.json
        self.assertEqual(c1["branch"], "main")
        self.assertIsNone(c1["parent"])
        self.assertEqual(len(c1["commit"]), 40)
        self.assertTrue(r.headers.get("Location", "").endswith("/versions/" + c1["commit"]))

        # the next edit goes to a work branch, which starts from main
        r = self.upload(asset, [("Controller/Test.L5X", v2)], client=eng,
                        message="add controller tags", branch=WORK)
        self.assertStatus(r, 201)
        c2 = r.json
        self.assertEqual((c2["branch"], c2["parent"]), (WORK, c1["commit"]))

        # history, newest first, authored by the engineer at server time
        r = self.auditor.get("/api/v1/assets/%d/versions?branch=%s" % (asset, WORK))
        self.assertStatus(r, 200)
        self.assertEqual([v["commit"] for v in r.json["items"]], [c2["commit"], c1["commit"]])
        self.assertEqual(r.json["head"], c2["commit"])
        self.assertIsNone(r.json["next_cursor"])
        top = r.json["items"][0]
        self.assertEqual(top["author"]["name"], "Erika Engineer")
        self.assertEqual(top["author"]["email"], "eng-v@otcm.invalid")
        self.assertEqual(top["message"].strip(), "add controller tags")
        self.assertEqual(top["parents"], [c1["commit"]])
        # one page at a time
        r = self.auditor.get("/api/v1/assets/%d/versions?branch=%s&limit=1" % (asset, WORK))
        self.assertEqual([v["commit"] for v in r.json["items"]], [c2["commit"]])
        self.assertEqual(r.json["next_cursor"], c2["commit"])
        r = self.auditor.get("/api/v1/assets/%d/versions?branch=%s&limit=1&cursor=%s"
                             % (asset, WORK, c2["commit"]))
        self.assertEqual([v["commit"] for v in r.json["items"]], [c1["commit"]])
        self.assertIsNone(r.json["next_cursor"])

        # one version: metadata, record and files with sizes and blob ids
        r = self.auditor.get("/api/v1/assets/%d/versions/%s" % (asset, c1["commit"]))
        self.assertStatus(r, 200)
        self.assertEqual(r.json["tree"], c1["tree"])
        self.assertEqual(r.json["recorded"]["uploaded_by"], "eng-v")
        self.assertEqual(r.json["recorded"]["branch"], "main")
        files = {f["path"]: f for f in r.json["files"]}
        self.assertEqual(set(files), {"Controller/Test.L5X"})
        self.assertEqual(files["Controller/Test.L5X"]["size"], len(v1))
        # a branch name works where a commit id does
        r = self.auditor.get("/api/v1/assets/%d/versions/main" % asset)
        self.assertEqual(r.json["commit"], c1["commit"])
        r = self.auditor.get("/api/v1/assets/%d/versions/%s" % (asset, WORK))
        self.assertEqual(r.json["commit"], c2["commit"])

        # the bytes, with an ETag that is the blob id
        url = "/api/v1/assets/%d/versions/%s/files/Controller/Test.L5X" % (asset, c1["commit"])
        r = self.auditor.get(url)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, v1)
        self.assertEqual(r.headers["Content-Type"], "application/xml")
        self.assertEqual(r.headers["ETag"], '"%s"' % files["Controller/Test.L5X"]["blob"])
        r = self.auditor.get(url, headers={"If-None-Match": r.headers["ETag"]})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertProblem(self.auditor.get(url.replace("Test.L5X", "Nope.L5X")), 404, "path")

        # the diff: per-file status, patch and the semantic diff of the L5X
        r = self.auditor.get("/api/v1/assets/%d/diff?from=%s&to=%s" % (asset, c1["commit"], c2["commit"]))
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json["files"]), 1)
        f = r.json["files"][0]
        self.assertEqual((f["path"], f["status"]), ("Controller/Test.L5X", "modified"))
        self.assertGreater(f["additions"] + f["deletions"], 0)
        self.assertIn("diff --git a/Controller/Test.L5X b/Controller/Test.L5X", r.json["patch"])
        self.assertEqual(f["semantic"]["format"], "l5x")
        self.assertGreater(len(f["semantic"]["changes"]), 0)
        # the project summary: the file under its category, every change counted once
        summary = r.json["summary"]
        self.assertEqual((summary["files"], summary["not_compared"]), (1, 0))
        self.assertEqual(summary["changes"], len(f["semantic"]["changes"]))
        self.assertEqual(summary["categories"][f["semantic"]["category"]]["files"], 1)
        self.assertEqual(sum(c["changes"] for c in summary["categories"].values()), summary["changes"])
        self.assertNotIn("summary", self.auditor.get("/api/v1/assets/%d/diff?from=%s&to=%s&semantic=false"
                                                     % (asset, c1["commit"], c2["commit"])).json)
        # default: the head against its parent
        r2 = self.auditor.get("/api/v1/assets/%d/diff?to=%s" % (asset, WORK))
        self.assertEqual((r2.json["from"], r2.json["to"]), (c1["commit"], c2["commit"]))
        r3 = self.auditor.get("/api/v1/assets/%d/diff?from=%s&to=%s" % (asset, c1["commit"], WORK),
                              headers={"Accept": "text/x-diff"})
        self.assertStatus(r3, 200)
        self.assertTrue(r3.headers["Content-Type"].startswith("text/x-diff"))
        self.assertEqual(r3.text, r.json["patch"])
        r4 = self.auditor.get("/api/v1/assets/%d/diff?from=%s&to=%s&format=patch"
                              % (asset, c1["commit"], c2["commit"]))
        self.assertEqual(r4.body, r3.body)

        # archives, read back with Python's own readers
        for fmt in ("zip", "tar"):
            r = self.auditor.get("/api/v1/assets/%d/versions/%s/archive?format=%s"
                                 % (asset, c2["commit"], fmt))
            self.assertStatus(r, 200)
            self.assertIn("attachment", r.headers["Content-Disposition"])
            self.assertIn(".%s" % fmt, r.headers["Content-Disposition"])
            if fmt == "zip":
                with zipfile.ZipFile(io.BytesIO(r.body)) as z:
                    names = [n for n in z.namelist() if not n.endswith("/")]
                    self.assertEqual(names, ["Controller/Test.L5X"])
                    self.assertEqual(z.read("Controller/Test.L5X"), v2)
            else:
                with tarfile.open(fileobj=io.BytesIO(r.body)) as t:
                    regs = [m for m in t.getmembers() if m.isfile()]
                    self.assertEqual([m.name for m in regs], ["Controller/Test.L5X"])
                    self.assertEqual(t.extractfile(regs[0]).read(), v2)

        # audited in the same transactions
        r = self.admin.get("/api/v1/audit?object_type=version&limit=1000")
        events = {e["object_id"]: e for e in r.json["items"] if e["action"] == "version.create"}
        ev = events[c1["commit"]]
        self.assertEqual(ev["actor"], "eng-v")
        self.assertEqual(ev["after"], {"asset": asset, "commit": c1["commit"], "tree": c1["tree"],
                                       "branch": "main", "parent": None, "baseline": True})
        ev = events[c2["commit"]]
        self.assertEqual(ev["actor"], "eng-v")
        self.assertEqual(ev["after"], {"asset": asset, "commit": c2["commit"], "tree": c2["tree"],
                                       "branch": WORK, "parent": c1["commit"]})

    def test_diff_is_the_same_in_the_api_and_the_evidence(self):
        """One per-file diff: the diff endpoint and a change's evidence bundle answer alike,
        binary files, deletions and sizes included."""
        appr_pw, appr = make_user(self.admin, self.srv, "appr-d", "approver")
        asset = self.new_asset()
        v1, v2 = read(self.versions[0]), read(self.versions[1])
        blob = b"\x00\x01\x02binary\x00" * 50
        r = self.upload(asset, [("Controller/Test.L5X", v1), ("drive.bin", blob), ("old.txt", b"gone\n")],
                        message="baseline")
        self.assertStatus(r, 201)
        base = r.json["commit"]
        r = self.engineer.post("/api/v1/changes", json={
            "type": "normal", "title": "tags", "reason": "r", "risk": "low", "implementation_plan": "p",
            "rollback_plan": "b", "affected_assets": [asset]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.assertStatus(self.engineer.post("/api/v1/changes/%s/transitions" % key, json={"to": "submitted"}), 200)
        self.assertStatus(appr.post("/api/v1/changes/%s/signatures" % key,
                                    json={"meaning": "authorised", "password": appr_pw}), 201)
        self.assertStatus(self.engineer.post("/api/v1/changes/%s/transitions" % key,
                                             json={"to": "implementing"}), 200)
        tree = [("archive", "v2.tar", make_tar([("Controller/Test.L5X", v2), ("drive.bin", blob[::-1])]))]
        r = self.upload(asset, tree, message="tags", change=key)
        self.assertStatus(r, 201)
        head = r.json["commit"]

        r = self.auditor.get("/api/v1/assets/%d/diff?from=%s&to=%s" % (asset, base, head))
        self.assertStatus(r, 200)
        api = r.json["files"]
        by_path = {f["path"]: f for f in api}
        self.assertEqual(set(by_path), {"Controller/Test.L5X", "drive.bin", "old.txt"})
        self.assertEqual(by_path["Controller/Test.L5X"]["semantic"]["format"], "l5x")
        self.assertEqual((by_path["Controller/Test.L5X"]["old_size"], by_path["Controller/Test.L5X"]["new_size"]),
                         (len(v1), len(v2)))
        self.assertTrue(by_path["drive.bin"]["binary"])
        # binary content still gets the engine's answer: its hash and size changed
        self.assertEqual(by_path["drive.bin"]["semantic"]["format"], "binary")
        self.assertNotIn("semantic_skipped", by_path["drive.bin"])
        self.assertEqual((by_path["drive.bin"]["old_size"], by_path["drive.bin"]["new_size"]), (len(blob), len(blob)))
        self.assertEqual((by_path["old.txt"]["status"], by_path["old.txt"]["old_size"], by_path["old.txt"]["new_size"]),
                         ("deleted", 5, None))

        r = self.auditor.get("/api/v1/changes/%s/evidence" % key)
        self.assertStatus(r, 200)
        with tarfile.open(fileobj=io.BytesIO(r.body)) as t:
            docs = [json.load(t.extractfile(m)) for m in t.getmembers()
                    if m.name.startswith("diffs/") and m.name.endswith(".json")]
        self.assertEqual(len(docs), 1)
        self.assertEqual((docs[0]["from"], docs[0]["to"]), (base, head))
        self.assertEqual(docs[0]["files"], api)

    def test_overlay_archive_and_put(self):
        asset = self.new_asset()
        r = self.upload(asset, [("a.txt", b"A\n"), ("dir/b.txt", b"B\n")], message="two files")
        self.assertStatus(r, 201)
        # file parts overlay the parent's tree
        r = self.upload(asset, [("dir/c.txt", b"C\n")], message="one more", branch=WORK)
        self.assertStatus(r, 201)
        files = self.auditor.get("/api/v1/assets/%d/versions/%s" % (asset, WORK)).json["files"]
        self.assertEqual(sorted(f["path"] for f in files), ["a.txt", "dir/b.txt", "dir/c.txt"])
        # an archive is the whole new tree
        tgz = make_tar([("./", "dir"), ("./proj/", "dir"), ("./proj/Main.L5X", b"<x/>"),
                        ("proj/hmi/screen.json", b"{}")], gz=True)
        r = self.upload(asset, [("archive", "project.tar.gz", tgz)], message="whole project",
                        branch=WORK)
        self.assertStatus(r, 201)
        files = self.auditor.get("/api/v1/assets/%d/versions/%s" % (asset, WORK)).json["files"]
        self.assertEqual(sorted(f["path"] for f in files), ["proj/Main.L5X", "proj/hmi/screen.json"])
        z = make_zip([("proj/Main.L5X", b"<y/>"), ("proj/readme.txt", b"hi")])
        r = self.upload(asset, [("archive", "project.zip", z)], message="zip project", branch=WORK)
        self.assertStatus(r, 201)
        d = self.auditor.get("/api/v1/assets/%d/diff?to=%s" % (asset, WORK)).json
        self.assertEqual({(f["path"], f["status"]) for f in d["files"]},
                         {("proj/Main.L5X", "modified"), ("proj/hmi/screen.json", "deleted"),
                          ("proj/readme.txt", "added")})
        # PUT one file as raw body
        head, _ = self.head(asset, WORK)
        r = self.engineer.put("/api/v1/assets/%d/files/proj/notes/site%%20visit.txt?message=notes&branch=%s"
                              "&parent=%s" % (asset, WORK, head), body=b"checked\n",
                              content_type="text/plain")
        self.assertStatus(r, 201)
        self.assertEqual(r.json["parent"], head)
        r = self.auditor.get("/api/v1/assets/%d/versions/%s/files/proj/notes/site%%20visit.txt"
                             % (asset, WORK))
        self.assertEqual(r.body, b"checked\n")
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
        self.assertProblem(self.engineer.put("/api/v1/assets/%d/files/x.txt" % asset, body=b"x"),
                           400, "message")
        self.assertProblem(self.engineer.put("/api/v1/assets/%d/files/.git/config?message=m" % asset,
                                             body=b"x"), 400, "path")
        self.assertProblem(self.engineer.put("/api/v1/assets/%d/files/a.txt?message=m&branch=%s&parent=%s"
                                             % (asset, WORK, head), body=b"x"), 409, "parent")

    def test_project_archive_reads_as_its_objects(self):
        """A TwinCAT project archive (.tnzip) stored as one file is diffed member by member
        in the members' own formats, and the summary counts the logic it changed."""
        pou = open(corpus_path("twincat", "tcunit__TcUnit", "TcUnit", "TcUnit", "POUs",
                               "FB_TestSuite@c067847c.TcPOU"), "rb").read()
        self.assertIn(b"<![CDATA[", pou)
        edited = pou.replace(b"<![CDATA[", b"<![CDATA[(* reviewed *)\n", 1)
        old = make_zip([("TcUnit/POUs/FB_TestSuite.TcPOU", pou), ("TcUnit/readme.txt", b"v1")])
        new = make_zip([("TcUnit/POUs/FB_TestSuite.TcPOU", edited), ("TcUnit/readme.txt", b"v1")])
        asset = self.new_asset()
        c1 = self.upload(asset, [("project.tnzip", old)], message="archived project").json
        c2 = self.upload(asset, [("project.tnzip", new)], message="edited POU", branch=WORK).json
        d = self.auditor.get("/api/v1/assets/%d/diff?from=%s&to=%s" % (asset, c1["commit"], c2["commit"]))
        self.assertStatus(d, 200)
        (f,) = d.json["files"]
        self.assertEqual(f["path"], "project.tnzip")
        paths = [c["path"] for c in f["semantic"]["changes"]]
        # the archive's own bytes changed (File), and inside it only the edited POU's body
        members = [p for p in paths if p.startswith("Member[")]
        self.assertTrue(members, paths)
        self.assertTrue(all(p.startswith("Member[TcUnit/POUs/FB_TestSuite.TcPOU]/POU[") for p in members), paths)
        self.assertEqual(set(paths) - set(members), {"File"}, paths)
        self.assertGreaterEqual(d.json["summary"]["categories"]["logic"]["changes"], 1, d.json["summary"])

    def test_branches(self):
        asset = self.new_asset()
        c1 = self.upload(asset, [("p.st", b"x := 1;\n")], message="main").json
        r = self.upload(asset, [("q.st", b"y := 2;\n")], message="on change", branch="chg-7")
        self.assertStatus(r, 201)
        # a new branch starts from main
        self.assertEqual(r.json["parent"], c1["commit"])
        self.assertEqual(self.head(asset)[0], c1["commit"])
        h, items = self.head(asset, "chg-7")
        self.assertEqual(items, [r.json["commit"], c1["commit"]])
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/versions?branch=nope" % asset), 404, "branch")
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/versions?branch=a..b" % asset), 400, "branch")
        d = self.auditor.get("/api/v1/assets/%d/diff?from=main&to=chg-7" % asset).json
        self.assertEqual([(f["path"], f["status"]) for f in d["files"]], [("q.st", "added")])

    def test_main_is_protected(self):
        """main takes an asset's first version (its baseline), then moves only by release."""
        asset = self.new_asset()
        r = self.upload(asset, [("p.st", b"x := 1;\n")], message="what runs today")
        self.assertStatus(r, 201)
        base = r.json
        self.assertEqual((base["branch"], base["parent"]), ("main", None))

        def main_refusals():
            r = self.admin.get("/api/v1/audit?object_type=asset&object_id=%d&limit=1000" % asset)
            self.assertStatus(r, 200)
            return [e for e in r.json["items"] if e["action"] == "version.create.refused"
                    and e["object_id"] == str(asset)]

        def versions_audited():
            r = self.admin.get("/api/v1/audit?object_type=version&limit=1000")
            return len(r.json["items"])

        before, n_versions = len(main_refusals()), versions_audited()
        attempts = (
            lambda: self.upload(asset, [("p.st", b"x := 2;\n")], message="straight to main"),
            lambda: self.upload(asset, [("p.st", b"x := 2;\n")], message="explicit main",
                                branch="main", parent=base["commit"]),
            lambda: self.engineer.put("/api/v1/assets/%d/files/p.st?message=put" % asset,
                                      body=b"x := 3;\n"),
            lambda: self.engineer.put("/api/v1/assets/%d/files/q.st?message=put&branch=main" % asset,
                                      body=b"y;\n"),
        )
        for attempt in attempts:
            r = attempt()
            self.assertProblem(r, 409, "branch", "main moves only when a change is released")
            self.assertEqual(r.json["rule"], "main-protected")
        # nothing written: main, its history and the version events are as they were
        self.assertEqual(self.head(asset), (base["commit"], [base["commit"]]))
        self.assertEqual(versions_audited(), n_versions)
        # every refusal is an audit event of its own
        refusals = main_refusals()
        self.assertEqual(len(refusals), before + len(attempts))
        ev = refusals[0]
        self.assertEqual((ev["actor"], ev["object_type"]), ("eng-v", "asset"))
        self.assertEqual(ev["after"]["rule"], "main-protected")
        self.assertEqual(ev["after"]["branch"], "main")
        self.assertIn("released", ev["reason"])

        # a work branch takes uploads, starting from main; main stays put
        r = self.upload(asset, [("p.st", b"x := 2;\n")], message="my work", branch="work/alice")
        self.assertStatus(r, 201)
        self.assertEqual((r.json["branch"], r.json["parent"]), ("work/alice", base["commit"]))
        r = self.engineer.put("/api/v1/assets/%d/files/q.st?message=more&branch=work/alice" % asset,
                              body=b"y;\n")
        self.assertStatus(r, 201)
        self.assertEqual(len(self.head(asset, "work/alice")[1]), 3)
        self.assertEqual(self.head(asset), (base["commit"], [base["commit"]]))

        # a new asset's first version may go straight to main (PUT too)
        other = self.new_asset()
        r = self.engineer.put("/api/v1/assets/%d/files/Main.st?message=baseline" % other, body=b"z;\n")
        self.assertStatus(r, 201)
        self.assertEqual((r.json["branch"], r.json["parent"]), ("main", None))
        r = self.admin.get("/api/v1/audit?object_type=version&object_id=%s" % r.json["commit"])
        self.assertEqual([e["after"].get("baseline") for e in r.json["items"]
                          if e["action"] == "version.create"], [True])

    def test_commits_do_not_leak_across_assets(self):
        a, b = self.new_asset(), self.new_asset()
        ca = self.upload(a, [("secret.st", b"recipe := 42;\n")], message="a").json["commit"]
        cb = self.upload(b, [("other.st", b"x;\n")], message="b").json["commit"]
        for url in ("/api/v1/assets/%d/versions/%s" % (b, ca),
                    "/api/v1/assets/%d/versions/%s/files/secret.st" % (b, ca),
                    "/api/v1/assets/%d/versions/%s/archive" % (b, ca)):
            self.assertProblem(self.auditor.get(url), 404, "commit")
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/diff?from=%s&to=%s" % (b, ca, cb)), 404, "from")
        self.assertProblem(self.auditor.get("/api/v1/assets/%d/versions/%s" % (a, "0" * 40)), 404, "commit")
        self.assertProblem(self.auditor.get("/api/v1/assets/999999/versions"), 404, "id")
        self.assertStatus(self.auditor.get("/api/v1/assets/%d/versions/%s" % (a, ca)), 200)

    def test_roles(self):
        asset = self.new_asset()
        for c in (self.auditor, self.qa):
            r = self.upload(asset, [("x.txt", b"x")], client=c, message="m")
            self.assertEqual(r.status, 403)
        self.assertStatus(self.upload(asset, [("x.txt", b"x")], client=self.admin, message="m"), 201)
        self.assertEqual(self.srv.client().get("/api/v1/assets/%d/versions" % asset).status, 401)
        self.assertStatus(self.qa.get("/api/v1/assets/%d/versions" % asset), 200)

    def test_same_parent_race(self):
        """Two uploads on the same parent at the same moment: one 201, one 409."""
        asset = self.new_asset()
        base = self.upload(asset, [("race.st", b"0\n")], message="base", branch=WORK).json["commit"]
        for round_ in range(5):
            barrier = threading.Barrier(2)
            results = [None, None]

            def go(i):
                c = self.srv.client(token=self.engineer.token)
                barrier.wait()
                results[i] = self.upload(asset, [("race.st", b"%d-%d\n" % (round_, i))], client=c,
                                         message="racer %d" % i, parent=base, branch=WORK)

            threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(r.status for r in results)
            self.assertEqual(statuses, [201, 409], results)
            loser = [r for r in results if r.status == 409][0]
            self.assertEqual(loser.json["field"], "parent")
            winner = [r for r in results if r.status == 201][0].json["commit"]
            self.assertEqual(self.head(asset, WORK)[0], winner)
            base = winner
        _, items = self.head(asset, WORK)
        self.assertEqual(len(items), 6)

    def test_no_parent_uploads_queue_up(self):
        """Without 'parent' concurrent uploads land one after the other."""
        asset = self.new_asset()
        n = 6
        barrier = threading.Barrier(n)
        results = [None] * n

        def go(i):
            c = self.srv.client(token=self.engineer.token)
            barrier.wait()
            results[i] = self.upload(asset, [("f%d.txt" % i, b"%d" % i)], client=c, message="w%d" % i,
                                     branch=WORK)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ok = [r for r in results if r.status == 201]
        for r in results:
            self.assertIn(r.status, (201, 409), r)
        head, items = self.head(asset, WORK)
        self.assertEqual(len(items), len(ok))
        self.assertEqual(set(items), {r.json["commit"] for r in ok})
        files = self.auditor.get("/api/v1/assets/%d/versions/%s" % (asset, WORK)).json["files"]
        self.assertEqual(len(files), len(ok))  # overlays accumulate: nothing lost
        self.assertGreaterEqual(len(ok), n - 1)


class LargeUploads(VersionsBase):
    """Versions of a large file: byte-exact, and about one copy of it in the server's memory."""
    server_env = {}
    SIZE = 12 << 20

    def test_large_versions_round_trip_in_bounded_memory(self):
        rng = random.Random(20261203)
        # random bytes with what a careless multipart parser trips on: CRLF, dashes, NULs
        lure = b"\r\n--\0\r\n\r\n"
        data = lure.join(rng.randbytes(64 << 10) for _ in range(self.SIZE >> 16))[:self.SIZE]
        asset = self.new_asset()
        r = self.upload(asset, [("dump/memory.bin", data)], message="baseline")
        self.assertStatus(r, 201)
        # peak memory from here on (the baseline's is the same; this keeps the test to uploads)
        with open("/proc/%d/clear_refs" % self.srv.proc.pid, "w") as f:
            f.write("5")
        before = self.srv.vm("VmRSS")
        versions = []
        for i in range(4):
            body = data[:i * 1000] + b"version %d" % i + data[i * 1000:]
            r = self.upload(asset, [("dump/memory.bin", body)], message="v%d" % i, branch=WORK)
            self.assertStatus(r, 201)
            versions.append((r.json["commit"], body))
        peak = self.srv.vm("VmHWM")
        # AddressSanitizer keeps freed memory in quarantine: its resident figures say nothing
        with open("/proc/%d/maps" % self.srv.proc.pid) as f:
            sanitized = "libasan" in f.read()
        if not sanitized:
            # the body once, not again as a multipart part, a blob stream and libpq's buffer
            self.assertLess(peak - before, 2 * self.SIZE,
                            "peak grew %d MiB for a %d MiB file" % ((peak - before) >> 20, self.SIZE >> 20))
            # and nothing of it kept once the uploads are done: the last request's memory goes
            # when the server has finished with it, a moment after the client has its answer
            deadline = time.monotonic() + 5
            while True:
                after = self.srv.vm("VmRSS")
                if after - before < self.SIZE // 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertLess(after - before, self.SIZE // 2,
                            "%d MiB still resident after the uploads" % ((after - before) >> 20))
        for commit, body in versions[-2:]:
            r = self.auditor.get("/api/v1/assets/%d/versions/%s/files/dump/memory.bin" % (asset, commit))
            self.assertStatus(r, 200)
            self.assertEqual(len(r.body), len(body))
            self.assertTrue(r.body == body, "version %s reads back different bytes" % commit)
        # the same file again, in another asset: stored once already, a version all the same
        other = self.new_asset()
        r = self.upload(other, [("dump/memory.bin", versions[-1][1])], message="copy")
        self.assertStatus(r, 201)
        r = self.auditor.get("/api/v1/assets/%d/versions/%s/files/dump/memory.bin" % (other, r.json["commit"]))
        self.assertStatus(r, 200)
        self.assertTrue(r.body == versions[-1][1])


class BadInput(VersionsBase):
    """Every kind of bad upload is a clear 4xx and writes nothing."""

    def setUp(self):
        self.asset = self.new_asset()
        r = self.upload(self.asset, [("prog/Main.st", b"x := 1;\n")], message="base", branch=WORK)
        self.assertStatus(r, 201)
        self.base = r.json["commit"]

    def audit_count(self):
        r = self.admin.get("/api/v1/audit?object_type=version&limit=1000")
        return len(r.json["items"])

    def refused(self, status, field, detail, files=None, **fields):
        before = self.audit_count()
        fields.setdefault("message", "bad")
        fields.setdefault("branch", WORK)
        r = self.upload(self.asset, files, **fields)
        self.assertProblem(r, status, field, detail)
        self.assertEqual(self.head(self.asset, WORK), (self.base, [self.base]))
        self.assertEqual(self.audit_count(), before)
        return r

    def test_fields(self):
        f = [("a.txt", b"a")]
        r = self.engineer.post("/api/v1/assets/%d/versions" % self.asset, files=[("file", "a.txt", b"a")])
        self.assertProblem(r, 400, "message")
        self.refused(400, "message", "empty", f, message="  \n")
        self.refused(400, "message", "control", f, message="a\x1bb")
        self.refused(400, "branch", "a..b", f, branch="a..b")
        self.refused(400, "parent", "40-digit", f, parent="abc")
        self.refused(409, "parent", "has moved", f, parent="1" * 40)
        self.refused(409, "parent", "does not exist", f, parent=self.base, branch="new-one")
        self.refused(400, "comment", "unknown part", f, comment="x")
        self.refused(400, "files", "no file", [])
        r = self.refused(409, "files", "changes nothing", [("prog/Main.st", b"x := 1;\n")])
        self.assertEqual(r.json["rule"], "no-change")
        # the refusal is audited on the asset, naming its rule and the door it came through
        r = self.admin.get("/api/v1/audit?object_type=asset&object_id=%d&limit=1000" % self.asset)
        ev = [e for e in r.json["items"] if e["action"] == "version.create.refused"]
        self.assertEqual([(e["actor"], e["after"]["rule"], e["after"]["door"]) for e in ev],
                         [("eng-v", "no-change", "api")])
        r = self.engineer.post("/api/v1/assets/%d/versions" % self.asset, json={"message": "m"})
        self.assertProblem(r, 415, "body")
        self.assertEqual(self.head(self.asset, WORK), (self.base, [self.base]))

    def test_file_paths(self):
        for name, detail in (("../escape.txt", "'..'"), ("/etc/passwd", "absolute"),
                             (".git/config", ".git"), ("sub/.GIT/hooks/x", ".git"),
                             ("a//b.txt", "empty segment"), ("tab\there.txt", "control"),
                             ("back\\\\slash.txt", "backslash")):  # sent literally, as browsers do
            self.refused(400, "files", detail, [(name, b"x")])
        # what git itself reads as ".git" on NTFS and HFS+, in any component
        for name in (".git./config", ".git /config", "sub/GIT~1./x", ".git::$INDEX_ALLOCATION/x",
                     ".g\u200cit/x", ".git\u200f/x", "a/\ufeff.GIT/hooks/x"):
            r = self.refused(400, "files", ".git", [(name, b"x")])
            self.assertIn(name, r.json["detail"])
        for name in (".git./config", ".g\u200cit/x"):
            r = self.refused(400, "archive", ".git", [("archive", "x.tar", make_tar([(name, b"1")]))])
            self.assertIn(name, r.json["detail"])
        before = self.audit_count()
        for url_path, detail in ((".git./config", ".git./config"), (".git%20/config", ".git /config"),
                                 (".g%E2%80%8Cit/config", ".g\u200cit/config"), ("a%5Cb.txt", "backslash")):
            r = self.engineer.put("/api/v1/assets/%d/files/%s?message=m&branch=%s" % (self.asset, url_path, WORK),
                                  body=b"[core]")
            self.assertProblem(r, 400, "path", detail)
        self.assertEqual(self.head(self.asset, WORK), (self.base, [self.base]))
        self.assertEqual(self.audit_count(), before)
        self.refused(400, "files", "appears twice", [("d.txt", b"1"), ("d.txt", b"2")])
        self.refused(400, "files", "also the folder", [("d", b"1"), ("d/e", b"2")])
        # overlaying a folder where a file is (prog/Main.st exists)
        r = self.upload(self.asset, [("prog/Main.st/x", b"1")], message="m", branch=WORK)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.head(self.asset, WORK), (self.base, [self.base]))

    def test_archives(self):
        def arch(data, name="bad.tar"):
            return [("archive", name, data)]

        self.refused(400, "archive", "a/../../etc/x", arch(make_tar([("ok", b"1"), ("a/../../etc/x", b"2")])))
        self.refused(400, "archive", "absolute", arch(make_tar([("/etc/passwd", b"2")])))
        self.refused(400, "archive", "symbolic link", arch(make_tar([("ok", b"1"), ("l", ("symlink", "/etc"))])))
        self.refused(400, "archive", "hard link", arch(make_tar([("ok", b"1"), ("h", ("hardlink", "ok"))])))
        self.refused(400, "archive", "not a regular file", arch(make_tar([("p", "fifo")])))
        self.refused(400, "archive", "appears twice", arch(make_tar([("x", b"1"), ("./x", b"2")])))
        self.refused(400, "archive", ".git", arch(make_tar([(".git/hooks/post-checkout", b"#!/bin/sh")])))
        self.refused(400, "archive", ".git", arch(make_zip([("sub/.git/config", b"[core]")]), "x.zip"))
        self.refused(400, "archive", "..", arch(make_zip([("../../x", b"1")]), "x.zip"))
        # a tar keeps a backslash in a name, and it is refused; the zip reader takes a zip's
        # backslashes for the folder separators Windows tools mean, and the folders are checked
        self.refused(400, "archive", "backslash", arch(make_tar([("dir\\.git\\config", b"1")])))
        self.refused(400, "archive", "'..'", arch(make_zip([("a\\..\\..\\x", b"1")]), "x.zip"))
        self.refused(400, "archive", ".git", arch(make_zip([("sub\\.git\\config", b"1")]), "x.zip"))
        self.refused(400, "archive", "holds no files", arch(make_tar([("d/", "dir")])))
        self.refused(415, "archive", "not a zip or tar", arch(b"<RSLogix5000Content/>", "x.zip"))
        self.refused(400, "archive", "not both", arch(make_tar([("x", b"1")])) + [("file", "y", b"2")])
        # limits: 50 entries, 4 MiB unpacked (set for this server)
        many = make_tar([("f%02d" % i, b"x") for i in range(51)])
        self.refused(413, "archive", "more than 50 entries", arch(many))
        bomb = make_tar([("zeros.bin", b"\0" * (5 << 20))], gz=True)
        self.assertLess(len(bomb), 64 << 10)
        self.refused(413, "archive", "zeros.bin", arch(bomb, "bomb.tar.gz"))
        self.refused(413, "files", "larger than", [("big.bin", b"\0" * (5 << 20))])
        # the multipart reader counts parts against the same limit and answers first
        r = self.upload(self.asset, [("f%02d" % i, b"x") for i in range(51)], message="m", branch=WORK)
        self.assertProblem(r, 413, None, "50")
        self.assertIn(r.json["field"], ("files", "body"))
        self.assertEqual(self.head(self.asset, WORK), (self.base, [self.base]))


class CrashRecovery(unittest.TestCase):
    """SIGKILL (server and database: a power cut) in a stream of uploads."""

    def test_kill_server_during_uploads(self):
        """otcm alone is killed; its database shuts down and is started again."""
        self.crash_during_uploads(with_cluster=False)

    def test_power_cut_during_uploads(self):
        """otcm and its database are killed at once."""
        self.crash_during_uploads(with_cluster=True)

    def crash_during_uploads(self, with_cluster):
        srv = Server(env=LIMITS_ENV)
        srv.start()
        failed = True
        try:
            admin = srv.client(token=srv.admin_token())
            _, eng = make_user(admin, srv, "eng-crash", "engineer")
            r = admin.post("/api/v1/assets", json={"path": "plant-c/line/plc", "type": "plc"})
            asset = r.json["id"]
            acked = []          # (commit, tree, payload) acknowledged with 201
            stop = threading.Event()

            def uploader():
                i = 0
                c = srv.client(token=eng.token)
                while not stop.is_set():
                    payload = ("step %d\n" % i).encode() * 200
                    try:
                        r = c.post("/api/v1/assets/%d/versions" % asset,
                                   fields={"message": "step %d" % i, "branch": WORK},
                                   files=[("file", "prog/step.st", payload),
                                          ("file", "prog/n%03d.txt" % (i % 40), b"%d" % i)])
                    except OSError:
                        return  # the server is gone
                    if r.status == 201:
                        acked.append((r.json["commit"], r.json["tree"], payload))
                    i += 1

            t = threading.Thread(target=uploader)
            t.start()
            deadline = time.monotonic() + 60
            while len(acked) < 25 and time.monotonic() < deadline:
                time.sleep(0.02)
            srv.kill(with_cluster=with_cluster)
            stop.set()
            # No waiting here: a killed postmaster may linger as a zombie
            # that nobody reaps, and the restart must cope with that.
            t.join(30)
            self.assertGreaterEqual(len(acked), 5, "too few uploads before the kill")

            srv.start()
            c = srv.client(token=srv.admin_token("after-crash"))
            for commit, _, _ in acked:
                r = c.get("/api/v1/assets/%d/versions/%s" % (asset, commit))
                self.assertEqual(r.status, 200, "acknowledged %s lost: %r" % (commit, r))
            # the ref points at an existing commit whose history holds every ack
            r = c.get("/api/v1/assets/%d/versions?branch=%s&limit=500" % (asset, WORK))
            self.assertEqual(r.status, 200)
            head = r.json["head"]
            chain = [v["commit"] for v in r.json["items"]]
            self.assertEqual(c.get("/api/v1/assets/%d/versions/%s" % (asset, head)).status, 200)
            self.assertTrue(set(a[0] for a in acked) <= set(chain))
            self.assertEqual(r.json["items"][-1]["parents"], [])

            # stock git agrees: the archive's files hash to the server's tree
            last_commit = chain[0]
            info = c.get("/api/v1/assets/%d/versions/%s" % (asset, last_commit)).json
            r = c.get("/api/v1/assets/%d/versions/%s/archive?format=tar" % (asset, last_commit))
            self.assertEqual(r.status, 200)
            self.check_with_git(r.body, info)
            if acked[-1][0] == last_commit:
                with tarfile.open(fileobj=io.BytesIO(r.body)) as tf:
                    self.assertEqual(tf.extractfile("prog/step.st").read(), acked[-1][2])
            failed = False
        finally:
            if failed:
                srv.keep = True
            srv.close()

    def check_with_git(self, tar_bytes, info):
        git = shutil.which("git")
        if not git:
            self.skipTest("git is not installed")
        work = tempfile.mkdtemp(prefix="otcm-git-")
        try:
            with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tf:
                tf.extractall(work, filter="data") if hasattr(tarfile, "data_filter") else tf.extractall(work)
            env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=work)
            run = lambda *a: subprocess.run([git, "-C", work] + list(a), check=True, env=env,
                                            capture_output=True, text=True).stdout.strip()
            run("init", "-q")
            run("add", "-A")
            self.assertEqual(run("write-tree"), info["tree"])
            for f in info["files"]:
                self.assertEqual(run("hash-object", f["path"]), f["blob"])
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
