"""
test_curl.py: curl's POP3 client (LIST, RETR, DELE, UIDL, TOP) against
pop3d -F; curl prints multi-line bodies with CRLF kept and the dot-stuffing
undone, so they compare byte for byte with the source messages.
The runner prints `curl --version`'s first line at the top of the output.
"""

import shutil
import subprocess
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, standard_mbox

CURL = shutil.which("curl")


@unittest.skipUnless(CURL, "curl not installed")
class CurlTest(unittest.TestCase):

    def setUp(self):
        self.mb = standard_mbox()
        self.srv = lib.server(self)
        self.srv.put_mbox(self.mb.data())
        self.srv.start()

    def curl(self, path="", *args):
        p = subprocess.run(
            [CURL, "-s", "-S", "--max-time", str(int(20 * lib.SLOW)),
             "-u", "%s:%s" % (DEFAULT_USER, DEFAULT_PASS),
             "pop3://127.0.0.1:%d/%s" % (self.srv.port, path)] + list(args),
            capture_output=True, timeout=30 * lib.SLOW,
            stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_list(self):
        self.assertEqual(self.curl(), b"".join(
            b"%d %d\r\n" % (i, m.octets())
            for i, m in enumerate(self.mb.msgs, 1)))

    def test_retr(self):
        for i, m in enumerate(self.mb.msgs, 1):
            with self.subTest(msg=i):
                self.assertEqual(self.curl(str(i)), m.wire())
        lib.same(self, self.srv.read_mbox(), self.mb.data())

    def test_dele(self):
        # a command with a one-line reply: -I (no body transfer)
        self.curl("", "-X", "DELE 1", "-I")
        lib.same(self, self.srv.read_mbox(), self.mb.without({0}))
        self.assertEqual(self.curl("1"), self.mb.msgs[1].wire())

    def test_uidl_and_top(self):
        uidl = self.curl("", "-X", "UIDL")
        lines = uidl.split(b"\r\n")
        self.assertEqual(lines[-1], b"")
        self.assertEqual([int(l.split(b" ")[0]) for l in lines[:-1]],
                         list(range(1, len(self.mb.msgs) + 1)))
        self.assertEqual(self.curl("", "-X", "UIDL"), uidl)   # stable
        for i, m in enumerate(self.mb.msgs, 1):
            with self.subTest(msg=i):
                self.assertEqual(self.curl("", "-X", "TOP %d 0" % i),
                                 m.top(0))
                self.assertEqual(self.curl("", "-X", "TOP %d 2" % i),
                                 m.top(2))


if __name__ == "__main__":
    unittest.main()
