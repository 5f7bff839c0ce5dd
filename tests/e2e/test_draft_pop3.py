"""
test_draft_pop3.py: draft-era POP3 clients (protocol-notes.md §3.3): the
1985 "Post Office Protocol (revised)" draft, which listens on port 109,
and RFC 1081.  Port 109 serves POP2 by default; an administrator with
draft-era clients configures a POP3 listener there (design.md §6), and
those clients get what their documents promise:

  - the draft's example session (p.12), transcript and sizes (120, 200);
  - the draft's USER/PASS rules: a new USER after a failed PASS, QUIT in
    AUTHORIZATION without UPDATE, "-ERR" for LIST 3 of 2, a second DELE;
  - RFC 1081 LAST, its example (pp.8-9) with our session-start value 0:
    RETR, DELE and TOP count as access, RSET restores the start value;
  - RPOP (draft p.9, RFC 1081 p.11) is "-ERR" in every state, also from
    a reserved source port; XTND (RFC 1082) too; the draft's "TOP 10"
    typo is "-ERR" and the session goes on;
  - as root: a POP3 service on 127.0.0.1:109 itself (socat starts
    `pop3d -i` as nobody, as inetd would).
"""

import os
import shutil
import socket
import subprocess
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, Mbox
from test_pop2 import sized_message

SOCAT = shutil.which("socat")


def draft_mbox():
    """The draft's example maildrop: 2 messages, 120 and 200 octets."""
    return Mbox([sized_message(120, "draft-one"),
                 sized_message(200, "draft-two")])


class DraftTest(unittest.TestCase):

    def example_session(self, c, mb):
        """The draft's example POP session (p.12), verbatim but for the
        free texts."""
        self.assertRegex(c.greeting(), rb"^\+OK ")
        c.ok("USER " + DEFAULT_USER)
        self.assertRegex(c.ok("PASS " + DEFAULT_PASS), rb"^\+OK ")
        self.assertEqual(c.ok("STAT"), b"+OK 2 320")
        c.ok("LIST")
        self.assertEqual(c.multi(), b"1 120\r\n2 200\r\n")
        self.assertRegex(c.ok("RETR 1"), rb"^\+OK 120 octets")
        lib.same(self, c.multi(), mb.msgs[0].wire())
        c.ok("DELE 1")
        self.assertRegex(c.ok("RETR 2"), rb"^\+OK 200 octets")
        lib.same(self, c.multi(), mb.msgs[1].wire())
        c.ok("DELE 2")
        c.ok("QUIT")
        self.assertEqual(c.expect_eof(), b"")

    def test_example_session(self):
        """A POP3 listener configured where the draft's clients call."""
        mb = draft_mbox()
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.connect(greet=False) as c:
            self.example_session(c, mb)
        self.assertEqual(s.read_mbox(), b"")

    @unittest.skipUnless(lib.IS_ROOT, "binding port 109 needs root")
    @unittest.skipUnless(SOCAT, "socat not installed")
    def test_port_109(self):
        """POP3 on 127.0.0.1:109 itself, as inetd would run it."""
        probe = socket.socket()
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", 109))
        except OSError as e:
            self.skipTest("127.0.0.1:109 is not free: %s" % e)
        finally:
            probe.close()
        mb = draft_mbox()
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.prepare()
        logf = open(s.new_log("socat"), "ab")
        try:
            sp = subprocess.Popen(
                [SOCAT, "TCP-LISTEN:109,bind=127.0.0.1,reuseaddr,fork,"
                 "su=%s" % lib.RUN_AS.name,
                 "EXEC:%s -f %s -i -e" % (lib.POP3D, s.conf_path)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, env=s.env())
        finally:
            logf.close()
        self.addCleanup(lib.kill_group, sp)
        self.assertTrue(lib.wait_port(109, proc=sp), "socat did not start")
        with lib.Pop.connect(109) as c:
            self.example_session(c, mb)
        self.assertEqual(s.read_mbox(), b"")

    def test_authorization_rules(self):
        """The draft's AUTHORIZATION state (pp.3-4)."""
        mb = draft_mbox()
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.connect() as c:
            c.ok("USER " + DEFAULT_USER)
            self.assertTrue(c.cmd("PASS wrong").startswith(b"-ERR"))
            # "the client may either issue a new USER command..."
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            self.assertTrue(c.cmd("LIST 3").startswith(b"-ERR"))
            c.ok("DELE 2")
            self.assertTrue(c.cmd("DELE 2").startswith(b"-ERR"))
            self.assertTrue(c.cmd("RETR 2").startswith(b"-ERR"))
            self.assertTrue(c.cmd("LIST 2").startswith(b"-ERR"))
            self.assertEqual(c.ok("STAT"), b"+OK 1 120")
            c.ok("RSET")
            self.assertEqual(c.ok("STAT"), b"+OK 2 320")
            c.ok("DELE 1")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.without({0}))
        # QUIT in AUTHORIZATION: no UPDATE (draft p.8)
        with s.connect() as c:
            c.ok("USER " + DEFAULT_USER)
            c.ok("QUIT")
            self.assertEqual(c.expect_eof(), b"")
        lib.same(self, s.read_mbox(), mb.without({0}))

    def test_top_typo_and_xtnd(self):
        """The draft's and RFC 1081's "TOP 10" lacks the message number
        (RFC 1725 calls it a typo): "-ERR", and the session goes on."""
        mb = draft_mbox()
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.login() as c:
            self.assertTrue(c.cmd("TOP 10").startswith(b"-ERR"))
            self.assertTrue(c.cmd("TOP 100").startswith(b"-ERR"))
            c.ok("TOP 1 10")
            lib.same(self, c.multi(), mb.msgs[0].top(10))
            self.assertTrue(c.cmd("XTND BBOARDS").startswith(b"-ERR"))
            self.assertEqual(c.ok("STAT"), b"+OK 2 320")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.data())


class LastTest(unittest.TestCase):

    def test_rfc1081_example(self):
        """RFC 1081 pp.8-9, with no read state kept across sessions
        (protocol-notes.md D-M6): the session starts at LAST 0, where
        the RFC's example had 1 from an earlier session."""
        msgs = [sized_message(n, "last-%d" % i, minimal=True)
                for i, n in enumerate((60, 70, 120, 70), 1)]
        mb = Mbox(msgs)
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.login() as c:
            self.assertEqual(c.ok("STAT"), b"+OK 4 320")
            self.assertEqual(c.ok("LAST"), b"+OK 0")
            self.assertRegex(c.ok("RETR 3"), rb"^\+OK 120 octets")
            lib.same(self, c.multi(), msgs[2].wire())
            self.assertEqual(c.ok("LAST"), b"+OK 3")
            c.ok("DELE 2")
            self.assertEqual(c.ok("LAST"), b"+OK 3")
            c.ok("RSET")
            # "reset to the value determined at the beginning"
            self.assertEqual(c.ok("LAST"), b"+OK 0")
            c.ok("TOP 4 0")
            c.multi()
            self.assertEqual(c.ok("LAST"), b"+OK 4")
            c.ok("RSET")
            c.ok("DELE 1")
            self.assertEqual(c.ok("LAST"), b"+OK 1")
            self.assertTrue(c.cmd("LAST 1").startswith(b"-ERR"))
            c.ok("RSET")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.data())
        # and again from 0 in the next session: no state is kept
        with s.login() as c:
            self.assertEqual(c.ok("LAST"), b"+OK 0")
            c.ok("QUIT")

    def test_last_before_login(self):
        s = lib.server(self)
        s.put_mbox(draft_mbox().data())
        s.start()
        with s.connect() as c:
            self.assertTrue(c.cmd("LAST").startswith(b"-ERR"))
            c.ok("USER " + DEFAULT_USER)
            self.assertTrue(c.cmd("LAST").startswith(b"-ERR"))
            c.ok("PASS " + DEFAULT_PASS)
            self.assertEqual(c.ok("LAST"), b"+OK 0")
            c.ok("QUIT")


class RpopTest(unittest.TestCase):

    def check_refused(self, c):
        self.assertTrue(c.cmd("RPOP " + DEFAULT_USER).startswith(b"-ERR"))
        c.ok("USER " + DEFAULT_USER)
        self.assertTrue(c.cmd("RPOP " + DEFAULT_USER).startswith(b"-ERR"))
        self.assertTrue(c.cmd("RPOP").startswith(b"-ERR"))
        # RPOP never logged anybody in: TRANSACTION commands still fail
        self.assertTrue(c.cmd("STAT").startswith(b"-ERR"))
        c.ok("USER " + DEFAULT_USER)
        c.ok("PASS " + DEFAULT_PASS)
        self.assertTrue(c.cmd("RPOP " + DEFAULT_USER).startswith(b"-ERR"))
        c.ok("STAT")
        c.ok("QUIT")

    def test_rpop_refused(self):
        s = lib.server(self)
        s.put_mbox(draft_mbox().data())
        s.start()
        with s.connect() as c:
            self.check_refused(c)
        lib.same(self, s.read_mbox(), draft_mbox().data())

    @unittest.skipUnless(lib.IS_ROOT, "a reserved source port needs root")
    def test_rpop_refused_from_reserved_port(self):
        """RPOP's precondition (a client port below 1024) changes
        nothing: .rhosts trust is never used."""
        s = lib.server(self)
        s.put_mbox(draft_mbox().data())
        s.start()
        sock = None
        for port in range(1023, 900, -1):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
                break
            except OSError:
                sock.close()
                sock = None
        if sock is None:
            self.skipTest("no free reserved port")
        sock.settimeout(10 * lib.SLOW)
        sock.connect(("127.0.0.1", s.port))
        with lib.Pop(sock) as c:
            self.assertLess(sock.getsockname()[1], 1024)
            c.greeting()
            self.check_refused(c)
        lib.same(self, s.read_mbox(), draft_mbox().data())
