"""
test_badinput.py: hostile and broken input.  Every line gets exactly one
reply; wrong states, bad message numbers, overlong lines, NUL bytes and bad
user names get -ERR; nothing is created on disk for a bad user name; too
many bad passwords and an idle client end the connection; the server keeps
answering fresh connections throughout.
"""

import os
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, simple_mbox

MAX_LINE = 1024     # the default max_line_length


class BadInputTest(unittest.TestCase):

    def setUp(self):
        self.mb = simple_mbox(3)
        # These tests send many bad lines on one connection on purpose,
        # more than the default auth_max_errors; test_limits.py tests it.
        self.srv = lib.server(self, conf={"auth_max_errors": "100"})
        self.srv.put_mbox(self.mb.data())
        self.srv.start()

    def err(self, c, line, what=None):
        r = c.cmd(line)
        self.assertTrue(r.startswith(b"-ERR"), "%r -> %r\n%s" % (
            line[:80], r, c.show()))
        return r

    def still_serving(self):
        with self.srv.connect() as c:
            r = c.cmd("CAPA")
            self.assertTrue(r.startswith(b"+OK"), r)
            c.multi()
            c.ok("QUIT")

    def sync(self, c):
        """Proves no reply is pending: the next line must be CAPA's +OK
        (valid in every state), not a left-over reply."""
        r = c.cmd("CAPA")
        self.assertTrue(r.startswith(b"+OK"), "extra reply pending: %r\n%s"
                        % (r, c.show()))
        c.multi()

    def assert_mbox_intact(self):
        lib.same(self, self.srv.read_mbox(), self.mb.data())

    # -- states ----------------------------------------------------------
    def test_wrong_state_before_login(self):
        with self.srv.connect() as c:
            for line in ("STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "RSET",
                         "TOP 1 0", "UIDL", "LAST", "NOOP",
                         "PASS " + DEFAULT_PASS, "FOO", "RETR", "",
                         "APOP alice 0123456789abcdef0123456789abcdef",
                         "RPOP alice", "XTND XMIT"):
                with self.subTest(line=line):
                    self.err(c, line)
            # USER then a command other than PASS
            c.ok("USER " + DEFAULT_USER)
            self.err(c, "STAT")
            self.err(c, "RETR 1")
            # CAPA is valid in AUTHORIZATION
            self.assertTrue(c.cmd("CAPA").startswith(b"+OK"))
            c.multi()
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            c.ok("STAT")
            c.ok("QUIT")
        self.assert_mbox_intact()

    def test_wrong_state_after_login(self):
        with self.srv.login() as c:
            for line in ("USER " + DEFAULT_USER, "PASS " + DEFAULT_PASS,
                         "APOP alice 0123456789abcdef0123456789abcdef",
                         "RPOP alice", "XTND XMIT", "FOO", "", "STLS",
                         "AUTH PLAIN"):
                with self.subTest(line=line):
                    self.err(c, line)
            self.assertTrue(c.cmd("CAPA").startswith(b"+OK"))
            c.multi()
            self.assertEqual(c.ok("STAT"), b"+OK 3 %d" % sum(
                m.octets() for m in self.mb.msgs))
            c.ok("QUIT")

    # -- message numbers ---------------------------------------------------
    def test_bad_message_numbers(self):
        bad = ("LIST 4294967297", "LIST 4294967296", "LIST 18446744073709551617",
               "LIST 99999999999999999999999999", "RETR -1", "RETR 0",
               "RETR +1", "RETR 1x", "RETR x", "RETR 0x1", "RETR 4",
               "RETR 1 2", "RETR", "DELE 0", "DELE 4", "DELE -1", "DELE",
               "TOP 1 x", "TOP 1 -1", "TOP 1", "TOP", "TOP 0 1",
               "TOP 4294967297 0", "TOP 1 18446744073709551617x",
               "UIDL 0", "UIDL 4", "UIDL 4294967297", "LIST 1 2",
               "RETR 1.0", "RETR  \t", "LIST -0")
        with self.srv.login() as c:
            for line in bad:
                with self.subTest(line=line):
                    self.err(c, line)
            # deleted messages are gone for every command
            c.ok("DELE 2")
            for line in ("DELE 2", "RETR 2", "LIST 2", "TOP 2 0", "UIDL 2"):
                with self.subTest(line=line):
                    self.err(c, line)
            c.ok("RSET")
            self.assertEqual(c.ok("LIST 2"), b"+OK 2 %d" %
                             self.mb.msgs[1].octets())
            c.ok("NOOP")
            c.ok("QUIT")
        self.assert_mbox_intact()
        self.still_serving()

    # -- overlong lines ----------------------------------------------------
    def test_overlong_lines_one_err_each(self):
        """Exactly one -ERR per overlong line; its tail never runs, even
        when it looks like a command, before or after login."""
        lens = (MAX_LINE - 3, MAX_LINE - 2, MAX_LINE - 1, MAX_LINE,
                MAX_LINE + 1, MAX_LINE + 2, 2 * MAX_LINE, 5000, 70000)
        with self.srv.connect() as c:
            for n in lens:
                with self.subTest(state="auth", length=n):
                    # an unknown command either way: one -ERR, then CAPA
                    c.send(b"X" * n + b"\r\nCAPA\r\n")
                    r = c.reply()
                    self.assertTrue(r.startswith(b"-ERR"), r)
                    r = c.reply()
                    self.assertTrue(r.startswith(b"+OK"), r)
                    c.multi()
                    self.sync(c)
            # tails that would be commands if the line were split
            for n in (MAX_LINE, 3000):
                with self.subTest(state="auth", tail="QUIT", length=n):
                    c.send(b"NOOP " + b" " * n + b"QUIT\r\nCAPA\r\n")
                    self.assertTrue(c.reply().startswith(b"-ERR"))
                    self.assertTrue(c.reply().startswith(b"+OK"))
                    c.multi()
                    self.sync(c)
            c.send(b"USER " + b"u" * 3000 + b"USER alice\r\n")
            self.assertTrue(c.reply().startswith(b"-ERR"))
            self.sync(c)
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            for n in (MAX_LINE - 6, MAX_LINE, MAX_LINE + 1, 4096, 70000):
                with self.subTest(state="trans", tail="DELE 1", length=n):
                    c.send(b"STAT" + b" " * n + b"DELE 1\r\nNOOP\r\n")
                    r = c.reply()
                    self.assertTrue(r.startswith(b"-ERR"), r)
                    self.assertTrue(c.reply().startswith(b"+OK"))
                    self.sync(c)
            # several overlong lines in one packet, then a valid command
            c.send((b"A" * 3000 + b"\r\n") * 5 + b"STAT\r\n")
            for _ in range(5):
                self.assertTrue(c.reply().startswith(b"-ERR"))
            self.assertTrue(c.reply().startswith(b"+OK 3 "))
            self.sync(c)
            # nothing was deleted by a tail
            self.assertEqual(c.ok("LIST 1"), b"+OK 1 %d" %
                             self.mb.msgs[0].octets())
            c.ok("QUIT")
        self.assert_mbox_intact()
        self.still_serving()

    def test_longest_valid_line(self):
        """RFC 2449 §4: a command of 255 octets including CRLF is valid,
        even at the smallest max_line_length."""
        pw = "p" * 248                   # "PASS " + 248 + CRLF = 255
        with lib.Server(self, users={DEFAULT_USER: pw},
                        conf={"max_line_length": "256"}) as s:
            s.put_mbox(self.mb.data())
            s.start()
            with s.connect() as c:
                c.ok("USER " + DEFAULT_USER)
                line = ("PASS " + pw).encode()
                self.assertEqual(len(line) + 2, 255)
                r = c.cmd(line)
                self.assertTrue(r.startswith(b"+OK"), r)
                self.assertEqual(c.ok("STAT")[:6], b"+OK 3 ")
                # and one octet over the configured limit is refused once
                c.send(b"NOOP" + b" " * 300 + b"\r\n")
                self.assertTrue(c.reply().startswith(b"-ERR"))
                self.sync(c)
                c.ok("QUIT")

    # -- NUL bytes ---------------------------------------------------------
    def test_nul_bytes(self):
        with self.srv.connect() as c:
            for line in (b"NOOP\0", b"CAPA\0", b"\0USER alice", b"US\0ER alice",
                         b"USER alice\0", b"USER ali\0ce"):
                with self.subTest(state="auth", line=line):
                    r = c.cmd(line)
                    self.assertTrue(r.startswith(b"-ERR"), (line, r))
            # a NUL inside the password fails the login like a bad password
            c.ok("USER " + DEFAULT_USER)
            r = c.cmd(b"PASS " + DEFAULT_PASS.encode() + b"\0x")
            self.assertTrue(r.startswith(b"-ERR"), r)
        with self.srv.login() as c:
            for line in (b"STAT\0", b"LIST 1\0", b"RETR \0" + b"1",
                         b"DELE 1\0", b"\0", b"NOOP\0NOOP"):
                with self.subTest(state="trans", line=line):
                    r = c.cmd(line)
                    self.assertTrue(r.startswith(b"-ERR"), (line, r))
            c.ok("QUIT")
        self.assert_mbox_intact()
        self.still_serving()

    # -- user names --------------------------------------------------------
    def test_bad_user_names_create_nothing(self):
        before = lib.tree(self.srv.tmp)
        names = [b"../alice", b"../../etc/passwd", b"a/b", b"/tmp/x", b"..",
                 b".", b"alice/", b"ali\0ce", b"u" * 1000, b"-alice",
                 b".alice", b"%u", b"alice\x7f", b"al ice"]
        for name in names:
            with self.subTest(user=name):
                with self.srv.connect() as c:
                    r = c.cmd(b"USER " + name)
                    if r.startswith(b"+OK"):
                        r = c.cmd(b"PASS " + DEFAULT_PASS.encode())
                    else:
                        # RFC 3206 §4: [AUTH] never on USER
                        self.assertNotIn(b"[AUTH]", r)
                    self.assertTrue(r.startswith(b"-ERR"), (name, r))
        after = {p for p in lib.tree(self.srv.tmp)
                 if not p.endswith(".log")}
        before = {p for p in before if not p.endswith(".log")}
        self.assertEqual(after - before, set())
        self.assertFalse(os.path.exists("/tmp/x"))
        self.still_serving()

    def test_bad_user_names_in_passwd_file(self):
        """Even with an entry in the passwd-file, a name that could leave
        the mail directory is refused and opens nothing."""
        with lib.Server(self) as s:
            s.users.update({"../evil": "pw-evil-1", "a/b": "pw-evil-2",
                            "..": "pw-evil-3"})
            s.start()
            before = lib.tree(s.tmp)
            for name, pw in (("../evil", "pw-evil-1"), ("a/b", "pw-evil-2"),
                             ("..", "pw-evil-3")):
                with self.subTest(user=name):
                    with s.connect() as c:
                        r = c.cmd("USER " + name)
                        if r.startswith(b"+OK"):
                            r = c.cmd("PASS " + pw)
                        self.assertTrue(r.startswith(b"-ERR"), (name, r))
            after = lib.tree(s.tmp)
            self.assertEqual({p for p in after - before
                              if not p.endswith(".log")}, set())
            self.assertFalse(os.path.exists(os.path.join(s.tmp, "evil")))
            with s.connect() as c:
                c.ok("QUIT")

    # -- failed logins -----------------------------------------------------
    def test_bad_passwords_close_connection(self):
        with self.srv.connect() as c:
            replies = []
            for i in range(3):     # auth_max_tries = 3
                r = c.cmd("USER " + DEFAULT_USER)
                self.assertTrue(r.startswith(b"+OK"), r)
                self.assertNotIn(b"[AUTH]", r)
                r = c.cmd("PASS wrong-%d" % i)
                if not r:
                    self.fail("connection closed after %d bad passwords, "
                              "before the reply" % (i + 1))
                # the last one may say more, but all are -ERR, [AUTH] on
                # the ones before (RFC 3206 §4)
                self.assertTrue(r.startswith(b"-ERR [AUTH]" if i < 2
                                             else b"-ERR"), r)
                replies.append(r)
            rest = c.expect_eof(5)
            for l in rest.split(b"\r\n"):
                self.assertTrue(l == b"" or l.startswith(b"-ERR"), rest)
        self.assertNotIn(b"wrong-", self.srv.log().encode())
        self.still_serving()

    def test_unknown_user_same_reply(self):
        with self.srv.connect() as c:
            c.ok("USER nosuchuser")
            r1 = c.cmd("PASS whatever")
            c.ok("USER " + DEFAULT_USER)
            r2 = c.cmd("PASS whatever")
        self.assertTrue(r1.startswith(b"-ERR [AUTH]"), r1)
        self.assertEqual(r1, r2, "unknown user and bad password differ")

    def test_idle_timeouts(self):
        """An idle client is disconnected before login (timeout_auth) and
        after it (timeout_session); the autologout never enters UPDATE
        (RFC 1939 §3): a DELE before the silence deletes nothing.  Both
        clients idle at the same time to keep the test short."""
        with lib.Server(self, conf={"timeout_auth": "10",
                                    "timeout_session": "10"}) as s:
            s.put_mbox(lib.simple_mbox(3, "idle").data())
            before = s.read_mbox()
            s.start()
            with s.connect() as pre, s.login() as post:
                post.ok("DELE 1")
                t0 = time.monotonic()
                rest_pre = pre.expect_eof(25)
                rest_post = post.expect_eof(25)
                dt = time.monotonic() - t0
            self.assertGreaterEqual(dt, 9, "closed after %.1fs" % dt)
            self.assertLess(dt, 20 * lib.SLOW, "closed after %.1fs" % dt)
            for l in (rest_pre + rest_post).split(b"\r\n"):
                self.assertTrue(l == b"" or l.startswith(b"-ERR"), l)
            self.assertEqual(s.read_mbox(), before, "UPDATE after timeout")
            self.assertTrue(s.wait_log(r"end user=%s .*end=timeout" %
                                       DEFAULT_USER), s.log())
            with s.connect() as c:
                c.ok("QUIT")


if __name__ == "__main__":
    unittest.main()
