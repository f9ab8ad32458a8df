"""The pgBackRest configuration docs/operations.md gives, run for real.

A PostgreSQL server archives its WAL with pgBackRest (Debian's package),
holding otcm's schema; a full backup is taken, otcm writes before and after
a chosen moment, and a point-in-time restore to that moment brings back
exactly what was written before it.
"""

import os
import shutil
import subprocess
import time
import unittest

from harness import make_tmpdir, otcm_bin
from test_failover import Postgres, as_owner


class PgBackRestTest(unittest.TestCase):
    def setUp(self):
        self.tmp = make_tmpdir("otcm-it-pgbackrest-")
        self.pg = Postgres(self.tmp, "db")
        self.conf = os.path.join(self.pg.dir, "pgbackrest.conf")
        for sub in ("repo", "log", "lock", "spool"):
            os.makedirs(os.path.join(self.pg.dir, sub))
            if os.geteuid() == 0:
                shutil.chown(os.path.join(self.pg.dir, sub), "postgres")
        # the configuration of docs/operations.md, with this test's folders
        with open(self.conf, "w") as f:
            f.write("[global]\n"
                    "repo1-path=%(d)s/repo\n"
                    "repo1-retention-full=4\n"
                    "repo1-cipher-type=aes-256-cbc\n"
                    "repo1-cipher-pass=otcm-test-secret-otcm-test-secret\n"
                    "start-fast=y\n"
                    "compress-type=zst\n"
                    "log-path=%(d)s/log\n"
                    "lock-path=%(d)s/lock\n"
                    "spool-path=%(d)s/spool\n"
                    "\n[otcm]\n"
                    "pg1-path=%(d)s/data\n"
                    "pg1-socket-path=%(d)s/run\n"
                    "pg1-user=otcm\n" % {"d": self.pg.dir})
        os.chmod(self.conf, 0o644)
        self.url = "host=%s user=otcm dbname=otcm" % self.pg.run

    def tearDown(self):
        self.pg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def backrest(self, *args):
        r = subprocess.run(as_owner(["pgbackrest", "--config=" + self.conf, "--stanza=otcm"] + list(args)),
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, "pgbackrest %s: %s%s" % (args, r.stdout, r.stderr))
        return r.stdout

    def otcm_user(self, name):
        env = dict(os.environ, OTCM_USER_PASSWORD="Aa1!" + "z" * 20)
        r = subprocess.run([otcm_bin(), "user", "--database", self.url, "--db-role", "none", "add", name,
                            "--role", "engineer"], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def users(self):
        return self.pg.psql("SELECT string_agg(username, ',' ORDER BY username) FROM users")

    def test_point_in_time_recovery(self):
        self.pg.tool("initdb", "-D", self.pg.data, "-U", "otcm", "--auth=trust", "-E", "UTF8",
                     "--locale=C", "--no-sync")
        archive = "pgbackrest --config=%s --stanza=otcm archive-push %%p" % self.conf
        self.pg.start("-c wal_level=replica -c archive_mode=on -c archive_timeout=60",
                      "-c \"archive_command=%s\"" % archive)
        self.pg.psql("CREATE DATABASE otcm", db="postgres")
        r = subprocess.run([otcm_bin(), "migrate", "--database", self.url], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        self.backrest("stanza-create")
        self.backrest("check")
        self.backrest("--type=full", "backup")
        self.otcm_user("before-target")
        time.sleep(1)
        target = self.pg.psql("SELECT now()")
        time.sleep(1)
        self.otcm_user("after-target")
        self.assertEqual(self.users(), "after-target,before-target")
        self.pg.psql("SELECT pg_switch_wal()")
        self.backrest("check")          # the WAL up to here is archived
        self.pg.tool("pg_ctl", "-D", self.pg.data, "-m", "fast", "-w", "stop")

        self.backrest("--delta", "--type=time", "--target=" + target, "--target-action=promote", "restore")
        self.pg.start()
        deadline = time.monotonic() + 60
        while self.pg.psql("SELECT pg_is_in_recovery()", db="postgres") != "f":
            self.assertLess(time.monotonic(), deadline, "recovery did not finish")
            time.sleep(0.2)
        self.assertEqual(self.users(), "before-target")
        # the restored audit trail still verifies
        r = subprocess.run([otcm_bin(), "audit", "verify", "--database", self.url, "--data", self.tmp],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
