"""A newcomer's first `make run`: the server serves from any folder.

As root, the private cluster runs as the `postgres` account, which cannot
get into a folder of mode 0700 such as root's home.  The server then keeps
the cluster in /var/lib/otcm/clusters/<hash> instead (storage/cluster.h).
As an ordinary user the cluster runs as that user and the folder's mode
does not matter; the same test covers both.
"""

import os
import shutil
import tempfile
import unittest

from harness import Server


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


if __name__ == "__main__":
    unittest.main()
