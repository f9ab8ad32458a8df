"""A newcomer's first `make run`: the server serves from any folder.

As root, the private cluster runs as the `postgres` account, which cannot
get into a folder of mode 0700 such as root's home.  The server then keeps
the cluster in /var/lib/otcm/clusters/<hash> instead (storage/cluster.h).
As an ordinary user the cluster runs as that user and the folder's mode
does not matter; the same test covers both.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Client, Server, free_port, otcm_bin, strong_password


class PrivateFolderTest(unittest.TestCase):
    def test_serves_from_a_folder_only_its_owner_may_enter(self):
        home = tempfile.mkdtemp(prefix="otcm-it-home-")
        os.chmod(home, 0o700)
        data = os.path.join(home, "clone", "var")
        os.makedirs(os.path.dirname(data))
        srv = Server(data=data)
        relocated = None
        try:
            srv.start()
            c = srv.admin_client()
            r = c.post("/api/v1/assets", json={"path": "plant-n/line-1/plc", "type": "plc"})
            self.assertEqual(r.status, 201, r)
            link = os.path.join(data, "cluster")
            if os.geteuid() == 0:
                # the account reaches the cluster, not the data folder
                self.assertTrue(os.path.islink(link), "no relocated cluster under root")
                relocated = os.readlink(link)
                self.assertTrue(relocated.startswith("/var/lib/otcm/clusters/"), relocated)
                with open(os.path.join(relocated, "data-folder")) as f:
                    self.assertEqual(f.read().strip(), os.path.realpath(data))
            else:
                self.assertFalse(os.path.exists(link))
            self.assertEqual(oct(os.stat(home).st_mode & 0o777), oct(0o700),
                             "the private folder was opened up")
            # a restart finds the same cluster and the same administrator, even
            # when the folder has been opened up since
            srv.stop()
            os.chmod(home, 0o755)
            srv.start()
            r = srv.admin_client().get("/api/v1/assets?path=plant-n/line-1/plc")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json["items"]), 1, r.json)
            self.assertEqual(srv.stop(), 0)
        finally:
            srv.close()
            if relocated:
                shutil.rmtree(relocated, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)


class OrdinaryUserTest(unittest.TestCase):
    """As an ordinary account the server runs its cluster as that account, in any folder."""

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch to an ordinary account; "
                         "run as an ordinary user, PrivateFolderTest covers it")
    def test_serves_as_an_ordinary_account(self):
        nobody = pwd.getpwnam("nobody")
        home = tempfile.mkdtemp(prefix="otcm-it-nobody-")
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        os.chmod(home, 0o700)
        data = os.path.join(home, "var")
        port = free_port()
        password = strong_password()
        env = dict(os.environ, OTCM_ADMIN_PASSWORD=password, HOME=home)
        log = open(os.path.join(tempfile.mkdtemp(prefix="otcm-it-log-"), "server.log"), "wb")
        proc = subprocess.Popen(["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                                 "--clear-groups", "--", otcm_bin(), "serve", "--data", data,
                                 "--listen", "127.0.0.1:%d" % port], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=env, cwd=home)
        try:
            c = Client("127.0.0.1", port)
            deadline = time.monotonic() + 120
            while not (self._up(port) and c.get("/readyz").status == 200):
                self.assertIsNone(proc.poll(), "the server exited")
                self.assertLess(time.monotonic(), deadline, "the server did not serve")
                time.sleep(0.2)
            self.assertEqual(c.login("admin", password).status, 200)
            r = c.post("/api/v1/assets", json={"path": "plant-u/line-1/plc", "type": "plc"})
            self.assertEqual(r.status, 201, r)
            # the cluster is the account's own, inside the data folder
            self.assertEqual(os.stat(os.path.join(data, "pg")).st_uid, nobody.pw_uid)
            self.assertFalse(os.path.exists(os.path.join(data, "cluster")))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(60), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
            shutil.rmtree(os.path.dirname(log.name), ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)

    @staticmethod
    def _up(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main()
