#!/usr/bin/env python3
"""scripts/check-includes.py [--objects DIR] [FOLDER...] - fail on an include circle.

A module is a .c file and its .h (server/http.c and server/http.h are
"server/http").  Module A depends on B when a file of A includes B's
header.  A circle (server/http -> server/auth -> server/http) means neither
can be read, tested or replaced without the other, and layers stop being
layers.  Prints every circle found among the modules of the given folders
(default: core diff storage domain web server agent) and exits 1 when there is
one; called by
`make check-headers` and `make test`.

With --objects DIR (the build's object folder, build/obj) it also reads
what each object file calls (nm): the HTTP glue, server/http, may call
nothing of otcm's but core/ - a header that declares another module's
function would hide such a call from the include check - and call circles
between modules are listed.
"""

import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules(folders):
    """{module: set of modules it includes} for every .c and .h in folders."""
    graph = {}
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(folder, name)
            mod = path[:-2]
            deps = graph.setdefault(mod, set())
            with open(path, encoding="utf-8", errors="replace") as f:
                for inc in INCLUDE.findall(f.read()):
                    dep = inc[:-2] if inc.endswith(".h") else inc
                    if dep != mod:
                        deps.add(dep)
    return graph


def circles(graph):
    """Each elementary circle once, as a list of modules, found by depth-first search."""
    found, seen = [], set()
    state = {}  # 1 on the current path, 2 done

    def visit(mod, path):
        state[mod] = 1
        path.append(mod)
        for dep in sorted(graph.get(mod, ())):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cyc = path[path.index(dep):]
                key = frozenset(cyc)
                if key not in seen:
                    seen.add(key)
                    found.append(cyc + [dep])
            elif state.get(dep) is None:
                visit(dep, path)
        path.pop()
        state[mod] = 2

    for mod in sorted(graph):
        if state.get(mod) is None:
            visit(mod, [])
    return found


# a circle through a module under this prefix fails the check: every folder
# is free of them now, so every circle does
STRICT = ""

# modules whose calls must stay inside core/: {module: why}
GLUE = {"server/http": "the HTTP glue calls nothing above core/ (it takes hooks)"}


def calls(objdir):
    """{module: set of modules whose symbols its object file uses}, from nm."""
    defined, used = {}, {}
    for folder in sorted(os.listdir(objdir)):
        path = os.path.join(objdir, folder)
        if not os.path.isdir(path) or folder == "gen":
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith(".o"):
                continue
            mod = os.path.join(folder, name[:-2])
            out = subprocess.run(["nm", "-P", os.path.join(path, name)], check=True,
                                 capture_output=True, text=True).stdout
            used[mod] = set()
            for line in out.splitlines():
                parts = line.split()
                if len(parts) < 2:
                    continue
                if parts[1] == "U":
                    used[mod].add(parts[0])
                elif parts[1] in "TDRBC":
                    defined.setdefault(parts[0], mod)
    return {mod: {defined[s] for s in syms if s in defined and defined[s] != mod}
            for mod, syms in used.items()}


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    objdir = None
    args = argv[1:]
    if args[:1] == ["--objects"]:
        objdir = os.path.abspath(args[1])
        args = args[2:]
    os.chdir(root)
    folders = args or ["core", "diff", "storage", "domain", "web", "server", "agent"]
    graph = modules(folders)
    bad = 0
    for cyc in circles(graph):
        if any(m.startswith(STRICT) for m in cyc):
            print("include circle: " + " -> ".join(cyc))
            bad += 1
        else:
            print("include circle (not yet an error): " + " -> ".join(cyc))
    if objdir:
        called = calls(objdir)
        for mod, why in GLUE.items():
            above = sorted(m for m in called.get(mod, ()) if not m.startswith("core/"))
            if above:
                print("%s calls %s: %s" % (mod, ", ".join(above), why))
                bad += 1
        for cyc in circles(called):
            print("call circle (not yet an error): " + " -> ".join(cyc))
    if bad:
        return 1
    print("no include circle among %d modules%s"
          % (len(graph), objdir and "; the HTTP glue calls only core/" or ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
