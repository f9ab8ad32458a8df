"""Device read-backs end to end: the collection agent (`otcm agent`, the same
binary) reads assets back with its collectors and the server compares each
read-back with what was released or approved (docs/readbacks.md,
docs/agent.md).

Every agent here is a real `otcm agent --once` process talking HTTP to a
real server; devices are folders and commands on this machine.
"""

import base64
import calendar
import hashlib
import http.client
import io
import http.server
import json
import os
import subprocess
import tarfile
import threading
import time
import urllib.parse

from harness import ServerTestCase, _die_with_parent, free_port, make_tmpdir, otcm_bin, strong_password

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLANT = os.path.join(ROOT, "tests", "plant")

L5X_V1 = """<?xml version="1.0" encoding="UTF-8"?>
<RSLogix5000Content SchemaRevision="1.0" SoftwareRevision="32.00" TargetName="Tank" TargetType="Controller">
<Controller Use="Target" Name="Tank">
<Programs><Program Name="MainProgram"><Routines><Routine Name="MainRoutine" Type="RLL"><RLLContent>
<Rung Number="0" Type="N"><Text><![CDATA[XIC(Start)OTE(Pump);]]></Text></Rung>
<Rung Number="1" Type="N"><Text><![CDATA[GRT(Level,90)OTE(HighAlarm);]]></Text></Rung>
</RLLContent></Routine></Routines></Program></Programs>
</Controller>
</RSLogix5000Content>
"""
L5X_DRIFT = L5X_V1.replace("GRT(Level,90)", "GRT(Level,95)")


class Outage:
    """A front for the server that can fail the agent's uploads (503), as a load
    balancer does when the server behind it is down; calls in pass through."""

    def __init__(self, host, port):
        self.down = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.down and self.path.startswith("/api/v1/agent/readbacks"):
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection(host, port, timeout=60)
                conn.request("POST", self.path, body=body, headers=dict(self.headers))
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                self.send_header("Content-Type", r.getheader("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ReadBack(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.admin_client()
        cls.pw, cls.c, cls.tokens = {}, {}, {}
        for name, role in (("eng", "engineer"), ("appr", "approver"), ("aud", "auditor"),
                           ("agent-a", "agent"), ("agent-b", "agent")):
            pw = strong_password()
            r = cls.admin.post("/api/v1/users", json={"username": name, "display_name": name.upper(),
                                                      "role": role, "password": pw})
            assert r.status == 201, r
            c = cls.srv.client()
            assert c.login(name, pw).status == 200
            cls.pw[name] = pw
            cls.c[name] = c
            cls.tokens[name] = c.create_token("readback")
        cls.n = 0

    # -- helpers --

    def asset(self, files=None):
        """An asset with a baseline on main (the released version)."""
        type(self).n += 1
        path = "plant/rb/line%d/plc" % self.n
        r = self.admin.post("/api/v1/assets", json={"path": path, "type": "plc"})
        self.assertStatus(r, 201)
        aid = r.json["id"]
        files = files or {"Tank.L5X": L5X_V1}
        r = self.admin.post("/api/v1/assets/%d/versions" % aid, fields={"message": "baseline"},
                            files=[("file", k, v) for k, v in files.items()])
        self.assertStatus(r, 201)
        return aid, path

    def assign(self, aid, agent="agent-a", **extra):
        body = {"agent": agent}
        body.update(extra)
        r = self.admin.put("/api/v1/assets/%d/readback-settings" % aid, json=body)
        self.assertStatus(r, 200)
        return r.json

    def request(self, aid):
        self.assertStatus(self.c["eng"].post("/api/v1/assets/%d/readback-requests" % aid, json={}), 202)

    def agent_config(self, devices, agent="agent-a", server=None, state=None):
        d = make_tmpdir("otcm-agent-")
        tok = os.path.join(d, "token")
        with open(tok, "w") as f:
            f.write(self.tokens[agent] + "\n")
        state = state or os.path.join(d, "state")
        lines = ["# test agent", "server = %s" % (server or self.srv.url), "token_file = %s" % tok,
                 "state_dir = %s" % state, "name = %s" % agent, "poll_seconds = 1", ""]
        for asset, settings in devices.items():
            lines.append("[asset %s]" % asset)
            lines += ["%s = %s" % kv for kv in settings.items()]
            lines.append("")
        cfg = os.path.join(d, "agent.conf")
        with open(cfg, "w") as f:
            f.write("\n".join(lines))
        return cfg, state

    def run_agent(self, cfg, *args, ok=True, env=None):
        full = dict(os.environ)
        full.update(env or {})
        p = subprocess.run([otcm_bin(), "agent", "--config", cfg] + list(args), capture_output=True,
                           text=True, timeout=180, env=full)
        if ok:
            self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def folder(self, files):
        d = make_tmpdir("otcm-device-")
        self.write(d, files)
        return d

    def write(self, d, files):
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)

    def state(self, aid):
        r = self.c["aud"].get("/api/v1/readbacks?prefix=plant/rb")
        self.assertStatus(r, 200)
        for item in r.json["items"]:
            if item["asset_id"] == aid:
                return item
        self.fail("asset %d not in the states" % aid)

    def newest(self, aid):
        r = self.c["aud"].get("/api/v1/assets/%d/readbacks" % aid)
        self.assertStatus(r, 200)
        return self.c["aud"].get("/api/v1/assets/%d/readbacks/%d" % (aid, r.json[0]["id"])).json

    def exceptions(self):
        day = 86400
        r = self.c["aud"].get("/api/v1/reports/exceptions?from=%s&to=%s" % (
            time.strftime("%Y-%m-%d", time.gmtime(time.time() - day)),
            time.strftime("%Y-%m-%d", time.gmtime(time.time() + day))))
        self.assertStatus(r, 200)
        return r.json

    def population(self):
        day = 86400
        r = self.c["aud"].get("/api/v1/reports/population?from=%s&to=%s" % (
            time.strftime("%Y-%m-%d", time.gmtime(time.time() - day)),
            time.strftime("%Y-%m-%d", time.gmtime(time.time() + day))))
        self.assertStatus(r, 200)
        return r.json

    def audit(self, action):
        r = self.admin.get("/api/v1/audit?limit=1000")
        self.assertStatus(r, 200)
        return [e for e in r.json["items"] if e["action"] == action]

    # -- tests --

    def test_folder_in_sync_then_drift_naming_the_rung(self):
        aid, path = self.asset()
        dev = self.folder({"Tank.L5X": L5X_V1})
        self.assign(aid)
        self.assertEqual(self.state(aid)["state"], "never_read")
        cfg, _ = self.agent_config({path: {"collector": "folder", "path": dev}})
        self.request(aid)
        self.run_agent(cfg, "--once")
        st = self.state(aid)
        self.assertEqual(st["state"], "in_sync", st)
        rb = self.newest(aid)
        self.assertEqual(rb["agent"], "agent-a")
        self.assertEqual(rb["collector"], "folder")
        self.assertEqual(rb["files"]["Tank.L5X"], hashlib.sha256(L5X_V1.encode()).hexdigest())
        self.assertTrue(rb["comparison"]["equal"])
        main = self.admin.get("/api/v1/assets/%d/versions?branch=main" % aid).json["items"][0]
        self.assertEqual(rb["tree"], main["tree"])
        # the read-back is on its own ref, never a branch or a tag
        refs = self.admin.get("/api/v1/assets/%d" % aid)
        self.assertStatus(refs, 200)

        # someone edits rung 1 on the controller
        self.write(dev, {"Tank.L5X": L5X_DRIFT})
        self.request(aid)
        self.run_agent(cfg, "--once")
        st = self.state(aid)
        self.assertEqual(st["state"], "drift", st)
        rb = self.newest(aid)
        self.assertEqual(rb["state"], "drift")
        text = json.dumps(rb["comparison"]["files"])
        self.assertIn("Rung", text)
        self.assertIn("95", text)
        self.assertEqual(rb["comparison"]["since_previous"], [{"path": "Tank.L5X", "status": "modified"}])
        drift = [e for e in self.audit("readback.drift") if e["object_id"] == str(aid)]
        self.assertEqual(len(drift), 1, drift)

        # the plant page shows the drift with its diff, coloured
        page = self.c["aud"].get("/plant?prefix=" + path.rsplit("/", 1)[0])
        self.assertStatus(page, 200)
        html = page.body.decode()
        self.assertIn("state-drift badge-bad", html)
        self.assertIn("GRT(Level,95)", html)
        self.assertStatus(self.c["eng"].get("/plant"), 200)
        agents = self.c["aud"].get("/agents")
        self.assertStatus(agents, 200)
        self.assertIn("agent-a", agents.body.decode())

        # the same drift read again: kept as metadata only, no second drift event
        self.request(aid)
        self.run_agent(cfg, "--once")
        rb2 = self.newest(aid)
        self.assertTrue(rb2["unchanged"])
        self.assertEqual(rb2["commit"], rb["commit"])
        self.assertEqual(rb2["state"], "drift")
        self.assertEqual(len([e for e in self.audit("readback.drift") if e["object_id"] == str(aid)]), 1)

        # the device gets the approved program back: in sync again
        self.write(dev, {"Tank.L5X": L5X_V1})
        self.request(aid)
        self.run_agent(cfg, "--once")
        self.assertEqual(self.state(aid)["state"], "in_sync")

        # the period's exceptions name the drift
        ex = self.exceptions()
        rows = [x for x in ex["readback_drift"] if x["path"] == path]
        self.assertEqual([(x["state"], x["rule"]) for x in rows], [("drift", "readback-drift")] * 2)

        # the period's population lists every read-back with its outcome, tied to its audit event
        pop = self.population()
        rows = [x for x in pop["readbacks"] if x["asset"] == path]
        self.assertEqual([x["outcome"] for x in rows], ["good", "drift", "drift", "good"], rows)
        self.assertEqual([x["unchanged"] for x in rows], [False, False, True, False])
        self.assertEqual(rows[1]["id"], rb["id"])
        self.assertEqual(rows[1]["tree"], rb["tree"])
        events = {e["seq"]: e for e in self.audit("readback.record")}
        for x in rows:
            e = events[x["audit_seq"]]
            self.assertEqual((e["object_id"], e["after"]["id"]), (str(aid), x["id"]))
        drift_seqs = [e["seq"] for e in self.audit("readback.drift") if e["object_id"] == str(aid)]
        self.assertEqual([x["drift_audit_seq"] for x in rows], [None, drift_seqs[0], None, None])
        self.assertIn("stale_readbacks", pop)

        # the backup of the drifted read-back downloads as an archive
        r = self.c["aud"].get("/api/v1/assets/%d/readbacks/%d/archive?format=tar" % (aid, rb["id"]))
        self.assertStatus(r, 200)
        self.assertIn(b"GRT(Level,95)", r.body)

    def test_drift_adopted_by_an_emergency_change_read_back_after_its_deployment(self):
        aid, path = self.asset()
        dev = self.folder({"Tank.L5X": L5X_DRIFT})
        self.assign(aid)
        cfg, _ = self.agent_config({path: {"collector": "folder", "path": dev}})
        self.request(aid)
        self.run_agent(cfg, "--once")
        self.assertEqual(self.state(aid)["state"], "drift")
        drifted = self.newest(aid)

        # an emergency change adopts what runs: the read-back's files become its version
        r = self.c["eng"].post("/api/v1/changes", json={
            "type": "emergency", "title": "Adopt the high alarm at 95%", "reason": "found by read-back",
            "risk": "low", "safety_related": False, "implementation_plan": "adopt the device's program",
            "rollback_plan": "deploy main", "affected_assets": [aid]})
        self.assertStatus(r, 201)
        key = r.json["key"]
        self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/transitions" % key,
                                             json={"to": "submitted", "reason": "t"}), 200)
        self.assertStatus(self.c["appr"].post("/api/v1/changes/%s/signatures" % key,
                                              json={"meaning": "authorised", "password": self.pw["appr"]}), 201)
        self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/transitions" % key,
                                             json={"to": "implementing", "reason": "t"}), 200)
        adopt = "/api/v1/assets/%d/readbacks/%d/adopt" % (aid, drifted["id"])
        self.assertStatus(self.c["aud"].post(adopt, json={"change": key}), 403)
        r = self.c["eng"].post(adopt, json={})
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "change")
        up = self.c["eng"].post(adopt, json={"change": key})
        self.assertStatus(up, 201)
        self.assertEqual(up.json["tree"], drifted["tree"])
        self.assertEqual(up.json["branch"], "changes/" + key)
        v = self.c["aud"].get("/api/v1/assets/%d/versions/%s" % (aid, up.json["commit"])).json
        self.assertIn("adopt read-back %d" % drifted["id"], v["message"])

        # recording the deployment makes the read-back due at once, for that deployment
        r = self.c["eng"].post("/api/v1/changes/%s/deployments" % key,
                               json={"asset_id": aid, "commit": up.json["commit"]})
        self.assertStatus(r, 201)
        dep = r.json["id"]
        s = self.c["aud"].get("/api/v1/assets/%d/readback-settings" % aid).json
        self.assertEqual(s["due_reason"], "deployment")
        self.assertEqual(s["due_deployment"], dep)
        self.assertStatus(self.c["eng"].post("/api/v1/changes/%s/transitions" % key,
                                             json={"to": "deployed", "reason": "t"}), 200)
        self.run_agent(cfg, "--once")
        rb = self.newest(aid)
        self.assertEqual(rb["deployment_id"], dep)
        self.assertEqual(rb["state"], "pending_release")
        st = self.state(aid)
        self.assertEqual(st["state"], "pending_release")
        self.assertEqual(st["pending_change"], key)
        # the change's evidence carries the read-back that followed its deployment
        ev = self.c["aud"].get("/api/v1/changes/%s/evidence" % key)
        self.assertStatus(ev, 200)
        with tarfile.open(fileobj=io.BytesIO(ev.body)) as tar:
            names = tar.getnames()
            member = [n for n in names if n.endswith("/readbacks.json") or n == "readbacks.json"]
            self.assertEqual(len(member), 1, names)
            rbs = json.load(tar.extractfile(member[0]))
        self.assertEqual(rbs[0]["deployment_id"], dep)
        self.assertEqual(rbs[0]["readback"]["tree"], up.json["tree"])
        self.assertEqual(rbs[0]["readback"]["comparison"]["pending_change"], key)
        # the job is done: nothing is due until the schedule says so
        self.assertIsNone(self.c["aud"].get("/api/v1/assets/%d/readback-settings" % aid).json["due_at"])

    def test_stale_after_the_maximum_age(self):
        aid, path = self.asset()
        dev = self.folder({"Tank.L5X": L5X_V1})
        self.assign(aid, max_age_seconds=1)
        cfg, _ = self.agent_config({path: {"collector": "folder", "path": dev}})
        self.request(aid)
        self.run_agent(cfg, "--once")
        self.assertEqual(self.state(aid)["state"], "in_sync")
        time.sleep(2.2)
        self.assertEqual(self.state(aid)["state"], "stale")
        stale = [x for x in self.exceptions()["stale_readbacks"] if x["path"] == path]
        self.assertEqual(len(stale), 1, stale)
        self.assertEqual(stale[0]["rule"], "readback-stale")
        pop = self.population()
        stale = [x for x in pop["stale_readbacks"] if x["path"] == path]
        self.assertEqual([x["rule"] for x in stale], ["readback-stale"])
        first = [x for x in pop["readbacks"] if x["asset"] == path]
        periods = [x for x in pop["stale_periods"] if x["path"] == path]
        self.assertEqual(len(periods), 1, periods)
        self.assertEqual((periods[0]["last_good_at"], periods[0]["stale_until"], periods[0]["rule"]),
                         (first[0]["read_at"], None, "readback-stale"))
        # read back again: that stale time has an end
        self.request(aid)
        self.run_agent(cfg, "--once")
        pop = self.population()
        second = [x for x in pop["readbacks"] if x["asset"] == path][1]
        periods = [x for x in pop["stale_periods"] if x["path"] == path]
        self.assertEqual(periods[0]["stale_until"], second["read_at"], periods)
        # the reports page counts the read-backs and shows the stale time
        day = 86400
        page = self.c["aud"].get("/reports?from=%s&to=%s" % (
            time.strftime("%Y-%m-%d", time.gmtime(time.time() - day)),
            time.strftime("%Y-%m-%d", time.gmtime(time.time() + day))))
        self.assertStatus(page, 200)
        html = page.body.decode()
        self.assertIn('id="readbacks"', html)
        self.assertIn("Device read-backs: %d" % len(pop["readbacks"]), html)
        self.assertIn(path, html[html.index('id="readbacks"'):])
        self.assign(aid, max_age_seconds=3600)
        self.assertEqual(self.state(aid)["state"], "in_sync")

    def controller(self, files, serial="SN-4711", firmware="32.011"):
        """A simulated controller: node-opcua on 127.0.0.1 serving `files` (tests/plant)."""
        d = self.folder(files)
        port = free_port()
        proc = subprocess.Popen(["node", os.path.join(PLANT, "controller.js"), "--port", str(port), "--dir", d,
                                 "--serial", serial, "--firmware", firmware],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                preexec_fn=_die_with_parent)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.wait, 30)
        self.addCleanup(proc.terminate)
        # node-opcua may log warnings to stdout before the controller serves
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("listening"):
                break
        self.assertTrue(seen and seen[-1].startswith("listening"),
                        "the simulated controller did not start: %r" % seen[-5:])
        return d, "opc.tcp://127.0.0.1:%d" % port

    def test_opcua_controller_release_drift_and_deploy_back(self):
        aid, path = self.asset()
        dev, endpoint = self.controller({"Tank.L5X": L5X_V1})
        self.assign(aid)
        cfg, _ = self.agent_config({path: {"collector": "opcua", "endpoint": endpoint, "opcua_folder": "Programs",
                                           "opcua_script": os.path.join(ROOT, "agent", "opcua", "collect.js"),
                                           "timeout": "90"}})
        env = {"NODE_PATH": os.path.join(PLANT, "node_modules")}
        self.request(aid)
        self.run_agent(cfg, "--once", env=env)
        rb = self.newest(aid)
        self.assertTrue(rb["ok"], rb)
        self.assertEqual(rb["collector"], "opcua")
        self.assertEqual(rb["state"], "in_sync", rb)
        self.assertEqual(rb["identity"]["serial_number"], "SN-4711")
        self.assertEqual(rb["identity"]["firmware"], "32.011")
        self.assertEqual(rb["identity"]["manufacturer"], "Simulated Automation")
        inv = self.c["aud"].get("/api/v1/assets/%d/inventory" % aid).json
        self.assertEqual(inv["current"]["firmware"], "32.011")

        # one rung changes in the controller's program
        self.write(dev, {"Tank.L5X": L5X_DRIFT})
        self.request(aid)
        self.run_agent(cfg, "--once", env=env)
        rb = self.newest(aid)
        self.assertEqual(rb["state"], "drift", rb)
        changes = rb["comparison"]["files"][0]["semantic"]["changes"]
        self.assertTrue(any("Rung" in json.dumps(c) and "95" in json.dumps(c) for c in changes), changes)

        # the approved version deployed back: in sync
        self.write(dev, {"Tank.L5X": L5X_V1})
        self.request(aid)
        self.run_agent(cfg, "--once", env=env)
        self.assertEqual(self.state(aid)["state"], "in_sync")

    def test_agent_queues_through_an_outage_and_uploads_in_order(self):
        aid, path = self.asset()
        dev = self.folder({"Tank.L5X": L5X_V1})
        self.assign(aid)
        front = Outage(self.srv.host, self.srv.port)
        self.addCleanup(front.close)
        cfg, state = self.agent_config({path: {"collector": "folder", "path": dev}}, server=front.url)
        front.down = True
        self.request(aid)
        p = self.run_agent(cfg, "--once", ok=False)
        self.assertNotEqual(p.returncode, 0)
        self.write(dev, {"Tank.L5X": L5X_DRIFT})
        self.request(aid)
        self.run_agent(cfg, "--once", ok=False)
        # the same job, still due, read again while the device is unchanged: queued once
        self.run_agent(cfg, "--once", ok=False)
        queued = sorted(n for n in os.listdir(os.path.join(state, "queue")) if n.endswith(".json"))
        self.assertEqual(len(queued), 2, queued)
        self.assertEqual(self.state(aid)["state"], "never_read")
        # the server is nowhere at all: the queue stays as it was
        dead, _ = self.agent_config({path: {"collector": "folder", "path": dev}},
                                    server="http://127.0.0.1:%d" % free_port(), state=state)
        self.run_agent(dead, "--once", ok=False)
        self.assertEqual(sorted(n for n in os.listdir(os.path.join(state, "queue")) if n.endswith(".json")),
                         queued)

        # back: both uploaded, oldest first
        front.down = False
        self.run_agent(cfg, "--once")
        self.assertEqual(os.listdir(os.path.join(state, "queue")), [])
        items = self.c["aud"].get("/api/v1/assets/%d/readbacks" % aid).json
        self.assertEqual([i["state"] for i in reversed(items)], ["in_sync", "drift"])
        self.assertLess(items[1]["seq"], items[0]["seq"])
        self.assertEqual(self.state(aid)["state"], "drift")

    def test_offline_file_imported_and_a_tampered_one_refused(self):
        aid, path = self.asset()
        dev = self.folder({"Tank.L5X": L5X_V1})
        self.assign(aid)
        cfg, state = self.agent_config({path: {"collector": "folder", "path": dev}})
        # the agent calls in once (registering its key), then the site loses its link
        self.run_agent(cfg, "--once")
        out = os.path.join(make_tmpdir("otcm-offline-"), "readbacks.json")
        self.run_agent(cfg, "--offline", out)
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(doc["format"], "otcm-readback/1")
        self.assertEqual(doc["agent"], "agent-a")

        # changed after signing: one rung edited, its digest fixed up to match
        bad = json.loads(json.dumps(doc))
        data = L5X_DRIFT.encode()
        bad["readbacks"][0]["files"][0]["content"] = base64.b64encode(data).decode()
        bad["readbacks"][0]["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
        r = self.c["eng"].post("/api/v1/readbacks/import", json=bad)
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "readback-signature")
        self.assertEqual(self.c["aud"].get("/api/v1/assets/%d/readbacks" % aid).json, [])
        self.assertTrue([e for e in self.audit("readback.import.refused")])
        # signed by another key
        forged = dict(doc, signature=base64.b64encode(b"\x01" * 64).decode())
        self.assertStatus(self.c["eng"].post("/api/v1/readbacks/import", json=forged), 409)
        # an auditor may read but not import
        self.assertStatus(self.c["aud"].post("/api/v1/readbacks/import", json=doc), 403)

        r = self.c["eng"].post("/api/v1/readbacks/import", json=doc)
        self.assertStatus(r, 201)
        rb = r.json["imported"][0]
        self.assertEqual((rb["via"], rb["agent"], rb["state"]), ("import", "agent-a", "in_sync"))
        self.assertEqual(self.state(aid)["state"], "in_sync")

    def test_offline_only_site_with_a_key_registered_by_hand(self):
        # an agent user that never calls in: its key comes to the server by hand
        r = self.admin.post("/api/v1/users", json={"username": "agent-island", "display_name": "Island",
                                                   "role": "agent", "password": strong_password()})
        self.assertStatus(r, 201)
        aid, path = self.asset()
        dev = self.folder({"Tank.L5X": L5X_V1})
        self.assign(aid, agent="agent-island")
        d = make_tmpdir("otcm-island-")
        cfg = os.path.join(d, "agent.conf")
        with open(cfg, "w") as f:
            f.write("# a site with no link\nstate_dir = %s\nname = agent-island\n\n[asset %s]\n"
                    "collector = folder\npath = %s\n" % (os.path.join(d, "state"), path, dev))
        key = self.run_agent(cfg, "--key").stdout.strip()
        out = os.path.join(d, "readbacks.json")
        self.run_agent(cfg, "--offline", out)
        with open(out) as f:
            doc = json.load(f)
        # no key yet: the file cannot be checked and is refused
        r = self.c["eng"].post("/api/v1/readbacks/import", json=doc)
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "readback-signature")

        # bad input changes nothing: a malformed key, an unknown agent, a person, another role
        url = "/api/v1/agents/agent-island/key"
        for body, field in (({"public_key": "not-a-key"}, "public_key"), ({}, "public_key"),
                            ({"public_key": key, "colour": 1}, "colour")):
            r = self.admin.put(url, json=body)
            self.assertStatus(r, 400)
            self.assertEqual(r.json["field"], field)
        for who in ("nobody", "eng"):
            r = self.admin.put("/api/v1/agents/%s/key" % who, json={"public_key": key})
            self.assertStatus(r, 404)
            self.assertEqual(r.json["field"], "agent")
        self.assertStatus(self.c["eng"].put(url, json={"public_key": key}), 403)
        self.assertStatus(self.c["aud"].put(url, json={"public_key": key}), 403)
        self.assertStatus(self.srv.client(token=self.tokens["agent-a"]).put(url, json={"public_key": key}), 403)
        a = [x for x in self.c["aud"].get("/api/v1/agents").json if x["username"] == "agent-island"][0]
        self.assertIsNone(a["public_key"])

        # the administrator registers it through the agents page's form
        page = self.admin.get("/agents")
        self.assertStatus(page, 200)
        self.assertIn('action="/agents/key"', page.body.decode())
        self.assertNotIn('action="/agents/key"', self.c["aud"].get("/agents").body.decode())
        form = {"agent": "agent-island", "public_key": "AAAA", "csrf_token": self.admin.csrf}
        r = self.admin.post("/agents/key", body=urllib.parse.urlencode(form),
                            content_type="application/x-www-form-urlencoded")
        self.assertStatus(r, 400)
        self.assertIn("otcm agent --key", r.body.decode())
        form["public_key"] = key
        r = self.admin.post("/agents/key", body=urllib.parse.urlencode(form),
                            content_type="application/x-www-form-urlencoded")
        self.assertStatus(r, 303)
        a = [x for x in self.c["aud"].get("/api/v1/agents").json if x["username"] == "agent-island"][0]
        self.assertEqual(a["public_key"], key)
        self.assertEqual(a["key_registered_by"], "admin")
        self.assertIsNone(a["last_contact_at"])   # registered, never heard from
        ev = [e for e in self.audit("agent.key") if e["object_id"] == "agent-island"]
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual((ev[0]["actor"], ev[0]["after"]["public_key"], ev[0]["before"]), ("admin", key, None))
        # the API answers alike, and a second registration records the key it replaced
        r = self.admin.put(url, json={"public_key": key})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["registered_by"], "admin")
        ev = [e for e in self.audit("agent.key") if e["object_id"] == "agent-island"]
        self.assertEqual(ev[-1]["before"], {"public_key": key})

        # a tampered file is refused and changes nothing; the file as written imports
        bad = json.loads(json.dumps(doc))
        data = L5X_DRIFT.encode()
        bad["readbacks"][0]["files"][0]["content"] = base64.b64encode(data).decode()
        bad["readbacks"][0]["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
        r = self.c["eng"].post("/api/v1/readbacks/import", json=bad)
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "readback-signature")
        self.assertEqual(self.c["aud"].get("/api/v1/assets/%d/readbacks" % aid).json, [])
        r = self.c["eng"].post("/api/v1/readbacks/import", json=doc)
        self.assertStatus(r, 201)
        rb = r.json["imported"][0]
        self.assertEqual((rb["via"], rb["agent"], rb["state"]), ("import", "agent-island", "in_sync"))
        self.assertEqual(self.state(aid)["state"], "in_sync")

    def test_normalisation_rule_allows_a_live_value(self):
        aid, path = self.asset({"Tank.L5X": L5X_V1, "live.csv": "name,value\nLevel,10\n"})
        dev = self.folder({"Tank.L5X": L5X_V1, "live.csv": "name,value\nLevel,42\n"})
        self.assign(aid, normalise=[{"path": "live.csv", "reason": "live tag values"}])
        cfg, _ = self.agent_config({path: {"collector": "folder", "path": dev}})
        self.request(aid)
        self.run_agent(cfg, "--once")
        self.assertEqual(self.state(aid)["state"], "in_sync")
        rb = self.newest(aid)
        self.assertEqual(rb["comparison"]["normalised"], [{"path": "live.csv", "what": "file"}])

    def test_command_collector_records_exit_and_error_output(self):
        aid, path = self.asset({"main.st": "PROGRAM main END_PROGRAM\n"})
        self.assign(aid)
        good = "printf 'PROGRAM main END_PROGRAM\\n' > \"$OTCM_OUT/main.st\"; " \
               "printf '{\"model\": \"X1\", \"serial_number\": \"S-9\", \"firmware\": \"2.1\"}' > \"$OTCM_IDENTITY\""
        cfg, _ = self.agent_config({path: {"collector": "command", "command": good}})
        self.request(aid)
        self.run_agent(cfg, "--once")
        rb = self.newest(aid)
        self.assertTrue(rb["ok"], rb)
        self.assertEqual(rb["exit_status"], 0)
        self.assertEqual(rb["identity"], {"model": "X1", "serial_number": "S-9", "firmware": "2.1"})
        # the identity read back moves the asset's inventory, with the read-back as its source
        inv = self.c["aud"].get("/api/v1/assets/%d/inventory" % aid)
        self.assertStatus(inv, 200)
        self.assertEqual(inv.json["current"]["firmware"], "2.1")
        self.assertEqual(inv.json["current"]["serial_number"], "S-9")
        fw = [h for h in inv.json["history"] if h["field"] == "firmware"][0]
        self.assertEqual((fw["source"], fw["source_ref"]), ("readback", str(rb["id"])))
        self.assertEqual(self.state(aid)["state"], "in_sync")

        bad = "echo 'export tool: licence not found' >&2; exit 3"
        cfg, _ = self.agent_config({path: {"collector": "command", "command": bad}})
        self.request(aid)
        self.run_agent(cfg, "--once")
        rb = self.newest(aid)
        self.assertFalse(rb["ok"])
        self.assertEqual(rb["exit_status"], 3)
        self.assertIn("licence not found", rb["stderr"])
        st = self.state(aid)
        self.assertEqual(st["state"], "read_failed")
        self.assertIn("status 3", st["error"])

    def test_collector_timeout_is_read_failed_with_its_error(self):
        aid, path = self.asset()
        self.assign(aid)
        cfg, _ = self.agent_config({path: {"collector": "command", "command": "echo slow >&2; sleep 30",
                                           "timeout": "1"}})
        self.request(aid)
        t0 = time.monotonic()
        self.run_agent(cfg, "--once")
        self.assertLess(time.monotonic() - t0, 20)
        st = self.state(aid)
        self.assertEqual(st["state"], "read_failed")
        self.assertIn("timed out", st["error"])
        self.assertIn("slow", self.newest(aid)["stderr"])

    def test_other_roles_and_other_agents_are_refused(self):
        aid, path = self.asset()
        self.assign(aid, agent="agent-a")
        content = base64.b64encode(L5X_V1.encode()).decode()
        body = {"asset": path, "seq": int(time.time() * 1e6), "collector": "folder", "ok": True,
                "files": [{"path": "Tank.L5X", "sha256": hashlib.sha256(L5X_V1.encode()).hexdigest(),
                           "content": content}]}
        for who in ("eng", "appr", "aud"):
            r = self.srv.client(token=self.c[who].create_token("x")).post("/api/v1/agent/readbacks", json=body)
            self.assertStatus(r, 403)
        r = self.admin.post("/api/v1/agent/readbacks", json=body)
        self.assertStatus(r, 403)
        # another agent may not report this asset
        r = self.srv.client(token=self.tokens["agent-b"]).post("/api/v1/agent/readbacks", json=body)
        self.assertStatus(r, 403)
        self.assertEqual(r.json["rule"], "agent-not-assigned")
        # nor does it get the asset's jobs
        self.request(aid)
        r = self.srv.client(token=self.tokens["agent-b"]).post("/api/v1/agent/poll", json={})
        self.assertStatus(r, 200)
        self.assertNotIn(aid, [j["asset_id"] for j in r.json["jobs"]])
        r = self.srv.client(token=self.tokens["agent-a"]).post("/api/v1/agent/poll", json={})
        self.assertIn(aid, [j["asset_id"] for j in r.json["jobs"]])
        # content that does not match its stated digest is refused and changes nothing
        bad = dict(body, files=[dict(body["files"][0], sha256="0" * 64)])
        r = self.srv.client(token=self.tokens["agent-a"]).post("/api/v1/agent/readbacks", json=bad)
        self.assertStatus(r, 400)
        self.assertEqual(r.json["field"], "files")
        self.assertEqual(self.state(aid)["state"], "never_read")
        # the right agent: recorded once, a retry of the same seq answers the first record
        a = self.srv.client(token=self.tokens["agent-a"])
        r1 = a.post("/api/v1/agent/readbacks", json=body)
        self.assertStatus(r1, 201)
        r2 = a.post("/api/v1/agent/readbacks", json=body)
        self.assertStatus(r2, 200)
        self.assertEqual(r2.json["id"], r1.json["id"])
        self.assertTrue(r2.json["duplicate"])

    def test_agent_endpoints_take_an_api_token_only(self):
        aid, path = self.asset()
        self.assign(aid, agent="agent-a")
        self.request(aid)
        content = base64.b64encode(L5X_V1.encode()).decode()
        body = {"asset": path, "seq": int(time.time() * 1e6), "collector": "folder", "ok": True,
                "files": [{"path": "Tank.L5X", "sha256": hashlib.sha256(L5X_V1.encode()).hexdigest(),
                           "content": content}]}
        # the agent's password session (its CSRF header sent): refused, saying to use a token
        session = self.c["agent-a"]
        for url, payload in (("/api/v1/agent/poll", {"hostname": "laptop"}), ("/api/v1/agent/readbacks", body)):
            r = session.post(url, json=payload)
            self.assertStatus(r, 401)
            self.assertIn("API token", r.json["detail"])
            self.assertEqual(r.json["field"], "Authorization")
            self.assertEqual(r.json["rule"], "agent-token")
        # nothing changed: no read-back, the job still due, the refusals audited
        self.assertEqual(self.state(aid)["state"], "never_read")
        refused = [e for e in self.audit("readback.refused") if e["object_id"] == path]
        self.assertEqual([e["after"]["rule"] for e in refused], ["agent-token"])
        self.assertTrue([e for e in self.audit("agent.poll.refused") if e["actor"] == "agent-a"])
        # the same agent with its token
        r = self.srv.client(token=self.tokens["agent-a"]).post("/api/v1/agent/poll", json={})
        self.assertStatus(r, 200)
        self.assertIn(aid, [j["asset_id"] for j in r.json["jobs"]])
        self.assertStatus(self.srv.client(token=self.tokens["agent-a"]).post("/api/v1/agent/readbacks",
                                                                            json=body), 201)

    def test_agents_page_data(self):
        r = self.srv.client(token=self.tokens["agent-a"]).post("/api/v1/agent/poll",
                                                              json={"version": "9.9", "hostname": "edge-1"})
        self.assertStatus(r, 200)
        r = self.c["aud"].get("/api/v1/agents")
        self.assertStatus(r, 200)
        a = [x for x in r.json if x["username"] == "agent-a"][0]
        self.assertEqual(a["version"], "9.9")
        self.assertEqual(a["hostname"], "edge-1")
        self.assertIsNotNone(a["last_contact_at"])
        self.assertStatus(self.c["eng"].get("/api/v1/agents"), 403)

    def test_a_whole_line_is_set_up_and_read_back_on_demand(self):
        ids, paths = [], []
        for path in ("plant/rb/grp/cell-1/plc", "plant/rb/grp/cell-2/plc", "plant/rb/grpx/plc"):
            r = self.admin.post("/api/v1/assets", json={"path": path, "type": "plc"})
            self.assertStatus(r, 201)
            r2 = self.admin.post("/api/v1/assets/%d/versions" % r.json["id"], fields={"message": "baseline"},
                                 files=[("file", "Tank.L5X", L5X_V1)])
            self.assertStatus(r2, 201)
            ids.append(r.json["id"])
            paths.append(path)
        # the line's settings in one request: whole path segments only (grpx is another line)
        before = len(self.audit("readback.settings"))
        r = self.admin.put("/api/v1/readback-settings",
                           json={"prefix": "plant/rb/grp", "agent": "agent-a", "max_age_seconds": 3600})
        self.assertStatus(r, 200)
        self.assertEqual(sorted(i["asset_id"] for i in r.json["items"]), ids[:2])
        for aid in ids[:2]:
            s = self.admin.get("/api/v1/assets/%d/readback-settings" % aid).json
            self.assertEqual((s["agent"], s["max_age_seconds"]), ("agent-a", 3600), s)
        self.assertIsNone(self.admin.get("/api/v1/assets/%d/readback-settings" % ids[2]).json["agent"])
        self.assertEqual(len(self.audit("readback.settings")), before + 2)
        # bad input changes nothing and names the field
        for body, status, field in (({"agent": "agent-a"}, 400, "prefix"), ({"prefix": ""}, 400, "prefix"),
                                    ({"prefix": "plant/rb/grp/"}, 400, "prefix"),
                                    ({"prefix": "plant/nowhere"}, 404, "prefix"),
                                    ({"prefix": "plant/rb/grp", "interval_seconds": 5}, 400, "interval_seconds"),
                                    ({"prefix": "plant/rb/grp", "agent": "eng"}, 400, "agent")):
            r = self.admin.put("/api/v1/readback-settings", json=body)
            self.assertStatus(r, status)
            self.assertEqual(r.json["field"], field, (body, r.json))
        self.assertEqual(len(self.audit("readback.settings")), before + 2)
        self.assertEqual(self.admin.get("/api/v1/assets/%d/readback-settings" % ids[0]).json["max_age_seconds"], 3600)
        self.assertStatus(self.c["eng"].put("/api/v1/readback-settings",
                                            json={"prefix": "plant/rb/grp", "agent": None}), 403)
        # the other line has no agent: nothing to ask for there
        r = self.c["eng"].post("/api/v1/readback-requests", json={"prefix": "plant/rb/grpx"})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "no-agent")
        self.assertStatus(self.c["eng"].post("/api/v1/readback-requests", json={"prefix": "plant/rb/grp", "x": 1}), 400)
        # the whole line now: both devices are read back, the other line is not
        r = self.c["eng"].post("/api/v1/readback-requests", json={"prefix": "plant/rb/grp"})
        self.assertStatus(r, 202)
        self.assertEqual(sorted(r.json["requested"]), ids[:2])
        self.assertEqual(r.json["without_agent"], [])
        self.assertTrue(any(e["object_id"] == "plant/rb/grp" for e in self.audit("readback.request")))
        devices = {p: {"collector": "folder", "path": self.folder({"Tank.L5X": L5X_V1})} for p in paths[:2]}
        cfg, _ = self.agent_config(devices)
        self.run_agent(cfg, "--once")
        for aid in ids[:2]:
            self.assertEqual(self.state(aid)["state"], "in_sync")
        self.assertEqual(self.state(ids[2])["state"], "never_read")

    def test_settings_are_validated(self):
        aid, _ = self.asset()
        for body, field in (({"agent": "eng"}, "agent"), ({"interval_seconds": 5}, "interval_seconds"),
                            ({"daily_at": "25:00"}, "daily_at"), ({"cron": "61 * * * *"}, "cron"),
                            ({"cron": "0 0 30 2 *"}, "cron"), ({"cron": "@daily"}, "cron"),
                            ({"cron": "0 2 * * *", "daily_at": "02:00"}, "cron"), ({"cron": 5}, "cron"),
                            ({"max_age_seconds": 0}, "max_age_seconds"),
                            ({"normalise": [{"path": "x"}]}, "normalise"), ({"colour": 1}, "colour")):
            r = self.admin.put("/api/v1/assets/%d/readback-settings" % aid, json=body)
            self.assertStatus(r, 400)
            self.assertEqual(r.json["field"], field, r.json)
        # five-field cron in UTC: the next run is due
        s = self.assign(aid, cron="30 2 * * *")
        self.assertEqual((s["cron"], s["daily_at"], s["due_reason"]), ("30 2 * * *", None, "schedule"))
        self.assertRegex(s["due_at"], r"T02:30:00\.000Z$")
        s = self.assign(aid, cron="*/5 6-18 * * mon-fri")
        due = time.strptime(s["due_at"][:19], "%Y-%m-%dT%H:%M:%S")
        self.assertEqual(due.tm_min % 5, 0)
        self.assertTrue(6 <= due.tm_hour <= 18 and due.tm_wday < 5, s["due_at"])
        self.assertGreater(calendar.timegm(due), time.time() - 1)
        # asked for now, read back: the schedule's next run is due again
        self.assign(aid, agent="agent-a", cron="17 3 * * *")
        self.request(aid)
        self.assertEqual(self.admin.get("/api/v1/assets/%d/readback-settings" % aid).json["due_reason"], "on demand")
        body = {"asset": self.admin.get("/api/v1/assets/%d" % aid).json["path"], "seq": int(time.time() * 1e6),
                "collector": "folder", "ok": False, "error": "device unreachable"}
        self.assertStatus(self.srv.client(token=self.tokens["agent-a"]).post("/api/v1/agent/readbacks", json=body), 201)
        s = self.admin.get("/api/v1/assets/%d/readback-settings" % aid).json
        self.assertEqual(s["due_reason"], "schedule")
        self.assertRegex(s["due_at"], r"T03:17:00\.000Z$")
        r = self.c["eng"].post("/api/v1/assets/%d/readback-requests" % self.asset()[0], json={})
        self.assertStatus(r, 409)
        self.assertEqual(r.json["rule"], "no-agent")


if __name__ == "__main__":
    import unittest
    unittest.main()
