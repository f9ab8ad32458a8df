#!/usr/bin/env python3
"""bench/readback_bench.py - read-backs at plant scale (docs/benchmarks.md).

One agent (`otcm agent --once`, folder collector) reads back N assets
(BENCH_READBACK_ASSETS, default 1000) whose released version is a
deterministic L5X of about 2 MB (BENCH_READBACK_KB, default 2048), against
a server on a throwaway data folder:

  1. first read-back of every asset (the files become a commit on the
     asset's read-back ref; the tree equals the released one: in_sync);
  2. unchanged read-back of every asset (the same files again: metadata only);
  3. changed read-back of BENCH_READBACK_CHANGED assets (default 20): one rung
     edited on the device, so each is compared with the semantic diff: drift.

Server time per read-back is the access log's duration_ms of each
POST /api/v1/agent/readbacks; the reference, measured in the same run, is
`git hash-object` of the same file (the least any backup of it costs).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import Server, strong_password  # noqa: E402

N = int(os.environ.get("BENCH_READBACK_ASSETS", "1000"))
KB = int(os.environ.get("BENCH_READBACK_KB", "2048"))
CHANGED = min(N, int(os.environ.get("BENCH_READBACK_CHANGED", "20")))


def l5x(size_kb, edit=False):
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<RSLogix5000Content SchemaRevision="1.0" '
            'SoftwareRevision="32.00" TargetName="Bench" TargetType="Controller">\n<Controller Use="Target" '
            'Name="Bench">\n<Programs><Program Name="MainProgram"><Routines><Routine Name="MainRoutine" '
            'Type="RLL"><RLLContent>\n')
    tail = '</RLLContent></Routine></Routines></Program></Programs>\n</Controller>\n</RSLogix5000Content>\n'
    rungs, n, size = [], 0, len(head) + len(tail)
    while size < size_kb * 1024:
        limit = 95 if edit and n == 500 else 90
        r = ('<Rung Number="%d" Type="N"><Text><![CDATA[XIC(Start_%d)GRT(Level_%d,%d)OTE(Alarm_%d);]]>'
             '</Text></Rung>\n' % (n, n, n, limit, n))
        rungs.append(r)
        size += len(r)
        n += 1
    return head + "".join(rungs) + tail


def server_times(log_path, since):
    """duration_ms of each agent read-back request logged after byte `since`."""
    out = []
    with open(log_path, "rb") as f:
        f.seek(since)
        for line in f:
            if b'"/api/v1/agent/readbacks"' not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("status") in (200, 201):
                out.append(rec["duration_ms"])
    return out


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))] if values else float("nan")


def main():
    tmp = tempfile.mkdtemp(prefix="otcm-bench-rb-")
    same, edited = os.path.join(tmp, "device"), os.path.join(tmp, "edited")
    os.makedirs(same)
    os.makedirs(edited)
    text = l5x(KB)
    with open(os.path.join(same, "Bench.L5X"), "w") as f:
        f.write(text)
    with open(os.path.join(edited, "Bench.L5X"), "w") as f:
        f.write(l5x(KB, edit=True))

    t0 = time.monotonic()
    for _ in range(5):
        subprocess.run(["git", "hash-object", os.path.join(same, "Bench.L5X")], check=True, capture_output=True)
    ref_ms = (time.monotonic() - t0) / 5 * 1000

    srv = Server(args=["--threads", "4"]).start()
    try:
        admin = srv.admin_client()
        pw = strong_password()
        r = admin.post("/api/v1/users", json={"username": "bench-agent", "display_name": "Bench agent",
                                              "role": "agent", "password": pw})
        assert r.status == 201, r
        c = srv.client()
        assert c.login("bench-agent", pw).status == 200
        token = c.create_token("bench")

        print("setting up %d assets with a %d KiB L5X baseline ..." % (N, KB), flush=True)
        paths = ["bench/site/line%02d/plc%04d" % (i // 100, i) for i in range(N)]
        ids = [None] * N

        errors = []

        def setup(worker):
            try:
                setup_some(worker)
            except Exception as e:  # a worker's failure must stop the benchmark, not vanish
                errors.append(e)

        def setup_some(worker):
            cl = srv.admin_client()
            for i in range(worker, N, 4):
                r = cl.post("/api/v1/assets", json={"path": paths[i], "type": "plc"})
                assert r.status == 201, r
                ids[i] = r.json["id"]
                r = cl.post("/api/v1/assets/%d/versions" % ids[i], fields={"message": "baseline"},
                            files=[("file", "Bench.L5X", text)])
                assert r.status == 201, r
                r = cl.put("/api/v1/assets/%d/readback-settings" % ids[i], json={"agent": "bench-agent"})
                assert r.status == 200, r

        threads = [threading.Thread(target=setup, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

        state = os.path.join(tmp, "agent-state")
        tokf = os.path.join(tmp, "token")
        with open(tokf, "w") as f:
            f.write(token + "\n")

        def config(changed):
            lines = ["server = %s" % srv.url, "token_file = %s" % tokf, "state_dir = %s" % state, ""]
            for i, p in enumerate(paths):
                lines += ["[asset %s]" % p, "collector = folder",
                          "path = %s" % (edited if i < changed else same), ""]
            cfg = os.path.join(tmp, "agent.conf")
            with open(cfg, "w") as f:
                f.write("\n".join(lines))
            return cfg

        def round_(name, changed, which):
            for i in which:
                r = admin.post("/api/v1/assets/%d/readback-requests" % ids[i], json={})
                assert r.status == 202, r
            since = os.path.getsize(srv.log_path)
            cfg = config(changed)
            t = time.monotonic()
            # the server hands an agent at most 200 jobs a poll: call it in until all are done
            times = []
            while len(times) < len(which):
                p = subprocess.run([srv.bin, "agent", "--config", cfg, "--once"], capture_output=True, text=True)
                assert p.returncode == 0, p.stderr[-2000:]
                time.sleep(0.3)   # access log lines go out within 100 ms (docs/http.md)
                done = server_times(srv.log_path, since)
                if len(done) == len(times):
                    break
                times = done
            wall = time.monotonic() - t
            assert len(times) == len(which), (len(times), len(which))
            print("%-44s %8d %10.1f %10.1f %10.1f %10.2f" % (name, len(times), statistics.median(times),
                                                          pct(times, 95), wall, statistics.median(times) / ref_ms),
                  flush=True)

        print()
        print("%-44s %8s %10s %10s %10s %10s" % ("read-backs of a %d KiB L5X" % KB, "count", "median ms",
                                              "p95 ms", "agent s", "ratio"))
        print("%-44s %8s %10.1f %10s %10s %10.2f" % ("reference: git hash-object", "", ref_ms, "", "", 1.0))
        round_("first read-back (commit, equal trees)", 0, range(N))
        round_("unchanged read-back (metadata only)", 0, range(N))
        round_("changed read-back (semantic diff: drift)", CHANGED, range(CHANGED))
        states = admin.get("/api/v1/readbacks?prefix=bench").json["counts"]
        print("states after the run: %s" % json.dumps(states, sort_keys=True))
        print("server peak RSS: %d kB" % (srv.vm("VmHWM") // 1024))
    finally:
        srv.close()


if __name__ == "__main__":
    main()
