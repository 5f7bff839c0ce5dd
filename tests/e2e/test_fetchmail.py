"""
test_fetchmail.py: fetchmail fetches the standard corpus from pop3d -F and
hands each message to an MDA that stores it in its own file; every stored
message must equal the source message as POP3 sends it, with CRLF turned
into LF (what fetchmail gives an MDA).

What is stripped from fetchmail's output before comparing, exactly:
  - the one "Received:" header fetchmail adds ("Received: from 127.0.0.1
    [127.0.0.1] by HOST with POP3 (fetchmail-6.x) for <...> ...") with its
    continuation lines (lines starting with SP or TAB); fetchmail puts it
    first, or right after a leading Return-Path: header.
and what fetchmail itself changes (fetchmail_view() models it):
  - CRLF becomes LF; bare CR characters inside a line are dropped;
  - a message without a body (no empty line) gets an empty line at its end.
Nothing else is removed or rewritten.
fetchmail runs with "no rewrite" so it leaves addresses alone, and with
"sslproto ''": fetchmail 6.4 otherwise sends STLS even when CAPA does not
advertise it and gives up when it fails (pop3d has no TLS yet).
"""

import os
import shutil
import subprocess
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, standard_mbox

FETCHMAIL = shutil.which("fetchmail")

DELIVER_SH = """#!/bin/sh
# one message on stdin -> DIR/msg.N, N = 0, 1, ... in delivery order
d=%s
i=0
while [ -e "$d/msg.$i" ] && [ $i -lt 10000 ]; do i=$((i+1)); done
exec cat > "$d/msg.$i"
"""


def strip_fetchmail_received(data):
    """Removes the Received header fetchmail adds (the first header field
    "Received: from 127.0.0.1 ..." whose text names fetchmail, with its
    continuation lines; fetchmail puts it first, or right after a leading
    Return-Path:) and returns (rest, removed)."""
    lines = data.split(b"\n")
    for i, l in enumerate(lines):
        if l == b"":
            break                       # end of the header block
        if not l.startswith(b"Received: from 127.0.0.1"):
            continue
        n = i + 1
        while n < len(lines) and lines[n][:1] in (b" ", b"\t"):
            n += 1
        hdr = b"\n".join(lines[i:n]) + b"\n"
        if b"(fetchmail-" not in hdr:
            break
        return b"\n".join(lines[:i] + lines[n:]), hdr
    return data, b""


def fetchmail_view(m):
    """What fetchmail hands the MDA for message m, apart from its Received
    header: the message as POP3 sends it with CRLF turned into LF, and two
    changes of fetchmail's own: it drops bare CR characters inside lines,
    and it ends a message without a body (no empty line) with an empty
    line."""
    v = m.lf().replace(b"\r", b"")
    if m.visible()[1] is None:
        v += b"\n"
    return v


@unittest.skipUnless(FETCHMAIL, "fetchmail not installed")
class FetchmailTest(unittest.TestCase):

    def setUp(self):
        self.mb = standard_mbox()
        self.srv = lib.server(self)
        self.srv.put_mbox(self.mb.data())
        self.srv.start()
        self.fm = os.path.join(self.srv.tmp, "fetchmail")
        self.out = os.path.join(self.fm, "out")
        os.mkdir(self.fm, 0o700)
        os.mkdir(self.out, 0o700)
        lib.write_file(os.path.join(self.fm, "deliver.sh"),
                       (DELIVER_SH % self.out).encode(), 0o700)
        rc = ("set no bouncemail\n"
              "poll 127.0.0.1 protocol pop3 port %d timeout 20\n"
              "  user \"%s\" there with password \"%s\" is \"%s\" here\n"
              "  mda \"/bin/sh %s/deliver.sh\"\n"
              "  no rewrite sslproto ''\n" % (self.srv.port, DEFAULT_USER, DEFAULT_PASS,
                                  lib.RUN_AS.name, self.fm))
        self.rc = os.path.join(self.fm, "fetchmailrc")
        lib.write_file(self.rc, rc.encode(), 0o600)
        lib.RUN_AS.chown_tree(self.fm)

    def fetchmail(self, *opts):
        env = self.srv.env({"FETCHMAILHOME": self.fm, "HOME": self.fm,
                            "LC_ALL": "C"})
        p = subprocess.run(
            [FETCHMAIL, "--fetchmailrc", self.rc, "--nosyslog", "-v",
             "--pidfile", os.path.join(self.fm, "pid"),
             "--idfile", os.path.join(self.fm, "ids")] + list(opts),
            capture_output=True, timeout=60 * lib.SLOW, env=env,
            stdin=subprocess.DEVNULL, cwd=self.fm, **lib.RUN_AS.popen_kw())
        self.log = (p.stdout + p.stderr).decode("utf-8", "replace")
        return p.returncode

    def delivered(self):
        files = sorted((f for f in os.listdir(self.out)
                        if f.startswith("msg.")),
                       key=lambda f: int(f.split(".")[1]))
        return [lib.read_file(os.path.join(self.out, f)) for f in files]

    def check_delivered(self, msgs, got):
        self.assertEqual(len(got), len(msgs), self.log)
        for i, (m, g) in enumerate(zip(msgs, got), 1):
            with self.subTest(msg=i):
                rest, hdr = strip_fetchmail_received(g)
                self.assertTrue(hdr, "no fetchmail Received header: %r"
                                % g[:200])
                self.assertEqual(rest, fetchmail_view(m))

    def test_fetch_keep(self):
        st = self.fetchmail("-a", "-k")
        self.assertEqual(st, 0, self.log)
        self.check_delivered(self.mb.msgs, self.delivered())
        lib.same(self, self.srv.read_mbox(), self.mb.data())

    def test_fetch_delete(self):
        st = self.fetchmail("-a", "-K")
        self.assertEqual(st, 0, self.log)
        self.check_delivered(self.mb.msgs, self.delivered())
        lib.same(self, self.srv.read_mbox(), b"")
        with self.srv.login() as c:
            self.assertEqual(c.ok("STAT"), b"+OK 0 0")
            c.ok("QUIT")

    def test_uidl_no_refetch(self):
        """fetchmail's UIDL mode keeps what it has seen: a second run
        fetches nothing, a third gets only the message that arrived."""
        st = self.fetchmail("-k", "-U")
        self.assertEqual(st, 0, self.log)
        self.check_delivered(self.mb.msgs, self.delivered())
        st = self.fetchmail("-k", "-U")
        self.assertEqual(st, 1, "expected 'no mail':\n" + self.log)
        self.assertEqual(len(self.delivered()), len(self.mb.msgs))
        new = lib.simple_message(100, "new")
        # the old last message had no final newline; terminate it first
        data = self.mb.data() + b"\n\n" + new.envelope + b"\n" + \
            new.content + b"\n"
        self.srv.put_mbox(data)
        st = self.fetchmail("-k", "-U")
        self.assertEqual(st, 0, self.log)
        got = self.delivered()
        self.assertEqual(len(got), len(self.mb.msgs) + 1, self.log)
        self.assertEqual(strip_fetchmail_received(got[-1])[0],
                         fetchmail_view(new))


if __name__ == "__main__":
    unittest.main()
