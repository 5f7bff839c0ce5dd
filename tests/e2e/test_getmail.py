"""
test_getmail.py: getmail (getmail6) fetches the standard corpus from
pop3d -F with its SimplePOP3Retriever and hands each message to an
external MDA that stores it in its own file; every stored message must
equal the source message as POP3 sends it with CRLF turned into LF.
getmail runs with received = false, delivered_to = false and
unixfrom = false.  What getmail itself changes, modelled exactly by
getmail_view(), nothing else removed or rewritten:
  - a message without a Return-Path: header gets "Return-Path: <unknown>"
    as its first line (POP3 carries no envelope sender);
  - CRLF becomes LF, and a bare CR inside a line becomes LF (Python's
    line splitting);
  - a message without a body (no empty line) gets an empty line at its
    end.  Then getmail's own "delete" and "read_all = false"
(its UIDL bookkeeping) are checked against the maildrop.
"""

import os
import shutil
import subprocess
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, standard_mbox

GETMAIL = shutil.which("getmail")
RETURN_PATH = b"Return-Path: <unknown>\n"

DELIVER_SH = """#!/bin/sh
# one message on stdin -> DIR/msg.N, N = 0, 1, ... in delivery order
d=%s
i=0
while [ -e "$d/msg.$i" ] && [ $i -lt 10000 ]; do i=$((i+1)); done
exec cat > "$d/msg.$i"
"""

RC = """[retriever]
type = SimplePOP3Retriever
server = 127.0.0.1
port = %(port)d
username = %(user)s
password = %(password)s
timeout = 20

[destination]
type = MDA_external
path = /bin/sh
arguments = ("%(dir)s/deliver.sh",)
unixfrom = false

[options]
verbose = 1
read_all = %(read_all)s
delete = %(delete)s
received = false
delivered_to = false
message_log_syslog = false
"""


def getmail_view(m):
    """What getmail hands the MDA for message m (see the module text)."""
    v = m.lf().replace(b"\r", b"\n")
    if m.visible()[1] is None:
        v += b"\n"
    if not v.lower().startswith(b"return-path:"):
        v = RETURN_PATH + v
    return v


@unittest.skipUnless(GETMAIL, "getmail not installed")
class GetmailTest(unittest.TestCase):

    def setUp(self):
        self.mb = standard_mbox()
        self.srv = lib.server(self)
        self.srv.put_mbox(self.mb.data())
        self.srv.start()
        self.gm = os.path.join(self.srv.tmp, "getmail")
        self.out = os.path.join(self.gm, "out")
        os.mkdir(self.gm, 0o700)
        os.mkdir(self.out, 0o700)
        lib.write_file(os.path.join(self.gm, "deliver.sh"),
                       (DELIVER_SH % self.out).encode(), 0o700)
        lib.RUN_AS.chown_tree(self.gm)

    def getmail(self, read_all=True, delete=False):
        rc = os.path.join(self.gm, "getmailrc")
        lib.write_file(rc, (RC % {
            "port": self.srv.port, "user": DEFAULT_USER,
            "password": DEFAULT_PASS, "dir": self.gm,
            "read_all": str(read_all).lower(),
            "delete": str(delete).lower()}).encode(), 0o600)
        lib.RUN_AS.chown_tree(self.gm)
        p = subprocess.run(
            [GETMAIL, "--getmaildir", self.gm, "--rcfile", rc],
            capture_output=True, timeout=60 * lib.SLOW,
            env=self.srv.env({"HOME": self.gm, "LC_ALL": "C.UTF-8"}),
            stdin=subprocess.DEVNULL, cwd=self.gm,
            **lib.RUN_AS.popen_kw())
        self.log = (p.stdout + p.stderr).decode("utf-8", "replace")
        return p.returncode

    def delivered(self):
        files = sorted((f for f in os.listdir(self.out)
                        if f.startswith("msg.")),
                       key=lambda f: int(f.split(".")[1]))
        return [lib.read_file(os.path.join(self.out, f)) for f in files]

    def check(self, msgs, got):
        self.assertEqual(len(got), len(msgs), self.log)
        for i, (m, g) in enumerate(zip(msgs, got), 1):
            with self.subTest(msg=i):
                self.assertEqual(g, getmail_view(m), self.log)

    def test_fetch_all_keep_then_new_only(self):
        self.assertEqual(self.getmail(), 0, self.log)
        self.check(self.mb.msgs, self.delivered())
        lib.same(self, self.srv.read_mbox(), self.mb.data())
        # read_all = false: getmail's UIDL memory fetches nothing again
        self.assertEqual(self.getmail(read_all=False), 0, self.log)
        self.assertEqual(len(self.delivered()), len(self.mb.msgs),
                         self.log)
        # ... and only the message that arrived since
        new = lib.simple_message(100, "new")
        self.srv.put_mbox(self.mb.data() + b"\n\n" + new.envelope + b"\n" +
                          new.content + b"\n")
        self.assertEqual(self.getmail(read_all=False), 0, self.log)
        got = self.delivered()
        self.assertEqual(len(got), len(self.mb.msgs) + 1, self.log)
        self.assertEqual(got[-1], getmail_view(new))

    def test_fetch_and_delete(self):
        self.assertEqual(self.getmail(delete=True), 0, self.log)
        self.check(self.mb.msgs, self.delivered())
        lib.same(self, self.srv.read_mbox(), b"")


if __name__ == "__main__":
    unittest.main()
