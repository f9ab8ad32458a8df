"""`make install`: the binary and sandboxed systemd units for the server and the
collection agent, checked by systemd-analyze."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import REPO_ROOT, otcm_bin

SANDBOX = {
    "ProtectSystem": "strict",
    "NoNewPrivileges": "yes",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "ReadWritePaths": "/var/lib/otcm",
    "User": "otcm",
}


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="otcm-it-install-")

    def tearDown(self):
        shutil.rmtree(self.dest, ignore_errors=True)

    def install(self):
        build = os.path.relpath(os.path.dirname(otcm_bin()), REPO_ROOT)
        r = subprocess.run(["make", "-s", "install", "DESTDIR=" + self.dest, "PREFIX=/opt/otcm",
                            "BUILD=" + build], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_installs_the_binary_and_a_sandboxed_unit(self):
        self.install()
        binary = os.path.join(self.dest, "opt/otcm/bin/otcm")
        self.assertTrue(os.access(binary, os.X_OK))
        self.assertEqual(subprocess.run([binary, "version"], capture_output=True).returncode, 0)
        unit_path = os.path.join(self.dest, "etc/systemd/system/otcm.service")
        with open(unit_path) as f:
            unit = f.read()
        settings = dict(m.groups() for m in re.finditer(r"(?m)^(\w+)=(.*)$", unit))
        self.assertEqual(settings["ExecStart"], "/opt/otcm/bin/otcm serve --data /var/lib/otcm/data")
        for key, value in SANDBOX.items():
            self.assertEqual(settings.get(key), value, key)

        # systemd's own checks, with ExecStart pointing at the copy under DESTDIR
        check = os.path.join(self.dest, "otcm.service")
        with open(check, "w") as f:
            f.write(unit.replace("/opt/otcm/bin/otcm", binary))
        r = subprocess.run(["systemd-analyze", "verify", check], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", check],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for otcm.service: ([0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, r.stdout)

    def test_installs_a_sandboxed_unit_for_the_agent(self):
        self.install()
        binary = os.path.join(self.dest, "opt/otcm/bin/otcm")
        self.assertTrue(os.path.isfile(os.path.join(self.dest, "opt/otcm/share/otcm/opcua/collect.js")))
        unit_path = os.path.join(self.dest, "etc/systemd/system/otcm-agent.service")
        with open(unit_path) as f:
            unit = f.read()
        settings = dict(m.groups() for m in re.finditer(r"(?m)^(\w+)=(.*)$", unit))
        self.assertEqual(settings["ExecStart"], "/opt/otcm/bin/otcm agent --config /etc/otcm/agent.conf")
        want = dict(SANDBOX, ReadWritePaths="/var/lib/otcm-agent", User="otcm-agent")
        for key, value in want.items():
            self.assertEqual(settings.get(key), value, key)
        self.assertNotIn("@BINDIR@", unit)
        self.assertNotIn("@SHAREDIR@", unit)

        check = os.path.join(self.dest, "otcm-agent.service")
        with open(check, "w") as f:
            f.write(unit.replace("/opt/otcm/bin/otcm", binary))
        r = subprocess.run(["systemd-analyze", "verify", check], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", check],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for otcm-agent.service: ([0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, r.stdout)


if __name__ == "__main__":
    unittest.main()
