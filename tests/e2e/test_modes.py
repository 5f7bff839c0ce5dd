"""
test_modes.py: the ways pop3d runs (-F standalone, -i under socat as inetd
would, -i on a socketpair, -t, -P), listeners (IPv4, IPv6, SIGTERM), and
the maildrop situations of a login: damaged mbox, locked by another
session, dropped connection, empty or missing maildrop, unusual From_
lines; plus the end-of-session log line and plaintext_auth.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, Mbox, Msg, simple_mbox

SOCAT = shutil.which("socat")


class ModesTest(unittest.TestCase):

    def short_session(self, c, mb):
        """Login, STAT, LIST, RETR 1, UIDL, DELE 1, QUIT; then the file."""
        c.ok("USER " + DEFAULT_USER)
        c.ok("PASS " + DEFAULT_PASS)
        self.assertEqual(c.ok("STAT"), b"+OK %d %d" % (
            len(mb.msgs), sum(m.octets() for m in mb.msgs)))
        c.ok("LIST")
        self.assertEqual(c.multi(), b"".join(
            b"%d %d\r\n" % (i, m.octets()) for i, m in enumerate(mb.msgs, 1)))
        c.ok("RETR 1")
        self.assertEqual(c.multi(), mb.msgs[0].wire())
        c.ok("UIDL")
        self.assertEqual(len(c.multi().split(b"\r\n")), len(mb.msgs) + 1)
        c.ok("DELE 1")
        c.ok("QUIT")
        self.assertEqual(c.expect_eof(), b"")

    def test_standalone(self):
        mb = simple_mbox(3)
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.connect() as c:
            self.short_session(c, mb)
        lib.same(self, s.read_mbox(), mb.without({0}))

    def test_inetd_socketpair(self):
        mb = simple_mbox(3)
        s = lib.server(self)
        s.put_mbox(mb.data())
        c, p = s.spawn_i()
        with c:
            c.greeting()
            self.short_session(c, mb)
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
        lib.same(self, s.read_mbox(), mb.without({0}))

    @unittest.skipUnless(SOCAT, "socat not installed")
    def test_inetd_socat(self):
        mb = simple_mbox(3)
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.prepare()
        port = lib.free_port()
        logf = open(s.new_log("socat"), "ab")
        try:
            sp = subprocess.Popen(
                [SOCAT, "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % port,
                 "EXEC:%s -f %s -i -e" % (lib.POP3D, s.conf_path)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, env=s.env(), **s.popen_kw())
        finally:
            logf.close()
        self.addCleanup(lib.kill_group, sp)
        self.assertTrue(lib.wait_port(port, proc=sp), "socat did not start")
        with s.connect(port=port) as c:
            self.short_session(c, mb)
        lib.same(self, s.read_mbox(), mb.without({0}))
        # a second connection: one process per connection, as inetd does
        with s.connect(port=port) as c:
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            self.assertEqual(c.ok("STAT"), b"+OK 2 %d" % sum(
                m.octets() for m in mb.msgs[1:]))
            c.ok("QUIT")

    def test_config_check(self):
        s = lib.server(self)
        root_dir = tempfile.mkdtemp(prefix="postern-e2e-chroot.")
        self.addCleanup(shutil.rmtree, root_dir, True)
        os.chmod(root_dir, 0o755)
        # state_dir: ours (root's when we are root), writable by nobody else
        state_dir = tempfile.mkdtemp(prefix="postern-e2e-state.")
        self.addCleanup(shutil.rmtree, state_dir, True)
        os.chmod(state_dir, 0o755)
        good = (
            "# a complete configuration\n"
            "hostname = mail.example.org\n"
            "listen = pop3 127.0.0.1:%d\n"
            "listen = pop3 [::1]:%d\n"
            "pre_auth_user = nobody\n"
            "chroot = %s\n"
            "passwd_file = %s\n"
            "maildrop = %s/%%u\n"
            "state_dir = %s\n"
            "# the minimum:\n"
            "timeout_auth = 10\n"
            "timeout_session = 60\n"
            "auth_fail_delay = 100\n"
            "auth_max_tries = 3\n"
            "max_line_length = 8192\n"
            "plaintext_auth = loopback\n"
            "mbox_format = mboxrd\n"
            "lock_order = fcntl dotlock\n"
            "lock_timeout = 10\n"
            "dotlock_stale = 300\n"
            "log_level = notice\n"
            "syslog_facility = mail\n"
            "\n"
            "   # indented comment\n" % (
                lib.free_port(), lib.free_port(), root_dir, s.passwd_path,
                s.maildir, state_dir))
        s.write_passwd()
        path = os.path.join(s.tmp, "good.conf")
        lib.write_file(path, good.encode(), 0o644)
        p = subprocess.run([lib.POP3D, "-t", "-f", path],
                           capture_output=True, timeout=20 * lib.SLOW)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        bad = [
            ("no_such_key = 1", "unknown key"),
            ("timeout_auth = 5", "below the minimum of 10"),
            ("timeout_session = 9", "below the minimum of 10"),
            ("max_line_length = 255", "below 256"),
            ("max_line_length = 8193", "above 8192"),
            ("plaintext_auth = maybe", "bad enum"),
            ("mbox_format = mboxcl2", "bad enum"),
            ("log_level = verbose", "bad enum"),
            ("listen = pop3 127.0.0.1", "no port"),
            ("listen = imap 127.0.0.1:1143", "unknown protocol"),
            ("auth_max_tries = many", "not a number"),
            ("timeout_auth = 10x", "trailing junk"),
            ("hostname", "no '='"),
            ("lock_order = flock", "unknown lock method"),
        ]
        for line, why in bad:
            with self.subTest(line=line, why=why):
                text = ("# bad config\nhostname = x.example\n%s\n"
                        "log_level = info\n" % line)
                bpath = os.path.join(s.tmp, "bad.conf")
                lib.write_file(bpath, text.encode(), 0o644)
                p = subprocess.run([lib.POP3D, "-t", "-f", bpath],
                                   capture_output=True,
                                   timeout=20 * lib.SLOW)
                out = (p.stdout + p.stderr).decode("utf-8", "replace")
                self.assertNotEqual(p.returncode, 0, out)
                self.assertIn("%s:3:" % bpath, out)
        # a missing file names itself
        p = subprocess.run([lib.POP3D, "-t", "-f", path + ".missing"],
                           capture_output=True, timeout=20 * lib.SLOW)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(path + ".missing", (p.stdout + p.stderr).decode())

    def test_password_hash(self):
        h1 = lib.make_hash("Some-pass-phrase-1")
        p = subprocess.run([lib.POP3D, "-P"], input=b"Some-pass-phrase-1\n",
                           capture_output=True, timeout=30 * lib.SLOW)
        self.assertEqual(p.returncode, 0)
        h2 = p.stdout.strip().decode()
        self.assertTrue(h1.startswith("$y$"), h1)   # yescrypt
        self.assertNotEqual(h1, h2, "no salt?")
        self.assertNotIn(b"Some-pass-phrase", p.stdout + p.stderr)
        s = lib.server(self, users={"bob": "Some-pass-phrase-1"})
        s.put_mbox(simple_mbox(1).data(), user="bob")
        s.start()
        with s.connect() as c:
            c.ok("USER bob")
            r = c.cmd("PASS Some-pass-phrase-1x")
            self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
            c.ok("USER bob")
            c.ok("PASS Some-pass-phrase-1")
            self.assertEqual(c.ok("STAT")[:6], b"+OK 1 ")
            c.ok("QUIT")
        # the second hash works too
        s.passwd_extra = []
        s.users = {}
        s.passwd_extra.append("bob:%s:%d:%d" % (h2, lib.RUN_AS.uid,
                                                 lib.RUN_AS.gid))
        s.write_passwd()
        with s.connect() as c:
            c.ok("USER bob")
            c.ok("PASS Some-pass-phrase-1")
            c.ok("QUIT")

    def test_damaged_mbox(self):
        s = lib.server(self)
        s.start()
        good = simple_mbox(2).data()
        for name, data in (
                ("no From_ line", b"Subject: hello\n\nbody\n" + good),
                ("From_ line without a date", b"From someone\n\nbody\n"),
                ("empty line first", b"\n" + good),
                ("garbage bytes", b"\0\xff\xfe binary junk\n")):
            with self.subTest(case=name):
                s.put_mbox(data)
                with s.connect() as c:
                    c.ok("USER " + DEFAULT_USER)
                    r = c.cmd("PASS " + DEFAULT_PASS)
                    self.assertTrue(r.startswith(b"-ERR [SYS/PERM]"), r)
                lib.same(self, s.read_mbox(), data)
        # a good file afterwards logs in
        s.put_mbox(good)
        with s.login() as c:
            self.assertEqual(c.ok("STAT")[:6], b"+OK 2 ")
            c.ok("QUIT")

    def test_in_use(self):
        mb = simple_mbox(3)
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.login() as a:
            a.ok("DELE 1")
            with s.connect() as b:
                b.ok("USER " + DEFAULT_USER)
                r = b.cmd("PASS " + DEFAULT_PASS)
                self.assertTrue(r.startswith(b"-ERR [IN-USE]"), r)
            a.ok("STAT")
            a.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.without({0}))
        with s.login() as b:
            self.assertEqual(b.ok("STAT")[:6], b"+OK 2 ")
            b.ok("QUIT")

    def test_foreign_dotlock(self):
        """A fresh <mbox>.lock of another program makes the login wait
        (bounded by lock_timeout) and fail with [IN-USE]; an old one is
        stale (the fcntl lock can be had) and is broken."""
        mb = simple_mbox(2)
        s = lib.server(self, conf={"lock_timeout": "2",
                                   "dotlock_stale": "10"})
        s.put_mbox(mb.data())
        s.start()
        lock = s.dotlock()
        lib.write_file(lock, b"12345\n", 0o644, lib.RUN_AS)
        with s.connect() as c:
            c.ok("USER " + DEFAULT_USER)
            t0 = time.monotonic()
            r = c.cmd("PASS " + DEFAULT_PASS)
            dt = time.monotonic() - t0
        self.assertTrue(r.startswith(b"-ERR [IN-USE]"), r)
        self.assertGreaterEqual(dt, 1.5, "gave up after %.1fs" % dt)
        self.assertLess(dt, 8 * lib.SLOW)
        self.assertTrue(os.path.exists(lock), "someone else's fresh lock "
                        "was removed")
        old = time.time() - 3600
        os.utime(lock, (old, old))
        with s.login() as c:
            self.assertEqual(c.ok("STAT")[:6], b"+OK 2 ")
            c.ok("DELE 1")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.without({0}))
        self.assertFalse(os.path.exists(lock))

    def test_dropped_connection_deletes_nothing(self):
        mb = simple_mbox(4)
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        c = s.login()
        c.ok("DELE 1")
        c.ok("DELE 3")
        c.ok("RETR 2")
        c.multi()
        c.close()
        # the next login waits (bounded) until that session has ended
        with s.login() as c:
            self.assertEqual(c.ok("STAT"), b"+OK 4 %d" % sum(
                m.octets() for m in mb.msgs))
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.data())
        # also when the client goes away in the middle of a RETR
        big = Mbox([Msg(b"Subject: big\n\n" + (b"y" * 999 + b"\n") * 3000)] +
                   mb.msgs)
        s.put_mbox(big.data())
        c = s.login()
        c.ok("DELE 2")
        c.send(b"RETR 1\r\n")
        c.readline()
        c.close()
        with s.login() as c:
            self.assertEqual(c.ok("STAT")[:6], b"+OK 5 ")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), big.data())

    def test_empty_and_missing_maildrop(self):
        s = lib.server(self)
        s.start()
        for case in ("empty", "missing"):
            with self.subTest(case=case):
                if case == "empty":
                    s.put_mbox(b"")
                elif os.path.exists(s.maildrop()):
                    os.unlink(s.maildrop())
                with s.login() as c:
                    self.assertEqual(c.ok("STAT"), b"+OK 0 0")
                    c.ok("LIST")
                    self.assertEqual(c.multi(), b"")
                    c.ok("UIDL")
                    self.assertEqual(c.multi(), b"")
                    self.assertTrue(c.cmd("RETR 1").startswith(b"-ERR"))
                    self.assertEqual(c.ok("LAST"), b"+OK 0")
                    c.ok("QUIT")
                if os.path.exists(s.maildrop()):
                    lib.same(self, s.read_mbox(), b"")

    def test_envelope_variants(self):
        """From_ lines as found in practice (design.md §2, RFC 4155 and
        UW c-client's VALID): no seconds, zones, remote from."""
        envs = [
            b"From alice@example.org Mon Jan  1 00:00:00 2024",
            b"From MAILER-DAEMON Fri May 10 12:00 2024",
            b"From bob@example.net  Sat Jun  1 01:02:03 2024",
            b"From carol Wed Dec  2 05:53 PST 1992",
            b"From dave@example.org Sun Jul 14 23:59:59 2024 +0200",
            b"From erin Mon Aug  5 10:00:00 2024 remote from uunet",
        ]
        mb = Mbox([lib.simple_message(i, envelope=e)
                   for i, e in enumerate(envs, 1)])
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.login() as c:
            self.assertEqual(c.ok("STAT"), b"+OK %d %d" % (
                len(envs), sum(m.octets() for m in mb.msgs)))
            for i, m in enumerate(mb.msgs, 1):
                c.ok("RETR %d" % i)
                self.assertEqual(c.multi(), m.wire())
            c.ok("QUIT")

    def test_session_log_line(self):
        mb = simple_mbox(3)
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        with s.connect() as c:
            c.ok("USER " + DEFAULT_USER)
            self.assertTrue(c.cmd("PASS Wrong-Secret-xyz").startswith(
                b"-ERR"))
        with s.login() as c:
            c.ok("RETR 2")
            c.multi()
            c.ok("DELE 2")
            c.ok("QUIT")
        s.wait_log(r"user=%s\b.*retr=1" % DEFAULT_USER)
        s.stop()
        log = s.log()
        # one end line per session (the start-up probe, the failed login
        # and the good one), each with user=, addr=, retr=, dele=
        ends = [l for l in log.splitlines()
                if re.search(r"\bretr=", l) and "dele=" in l]
        self.assertEqual(len(ends), 3, "session end lines:\n" + log)
        for l in ends:
            self.assertRegex(l, r"\buser=\S+")
            self.assertRegex(l, r"\baddr=\[?127\.0\.0\.1")
        sids = [re.search(r"session=(\w+)", l) for l in ends]
        if all(sids):
            self.assertEqual(len(set(m.group(1) for m in sids)), 3)
        good = [l for l in ends if re.search(r"\bretr=1\b", l)]
        self.assertEqual(len(good), 1, "\n".join(ends))
        self.assertRegex(good[0], r"\buser=%s\b" % DEFAULT_USER)
        self.assertRegex(good[0], r"\bdele=1\b")
        self.assertNotIn(DEFAULT_PASS, log)
        self.assertNotIn("Wrong-Secret-xyz", log)

    def test_plaintext_auth_no(self):
        s = lib.server(self, conf={"plaintext_auth": "no"})
        s.put_mbox(simple_mbox(1).data())
        s.start()
        with s.connect() as c:
            c.ok("CAPA")
            caps = c.multi().split(b"\r\n")
            self.assertNotIn(b"USER", caps)
            r = c.cmd("USER " + DEFAULT_USER)
            if r.startswith(b"+OK"):
                r = c.cmd("PASS " + DEFAULT_PASS)
            self.assertTrue(r.startswith(b"-ERR"), r)

    @unittest.skipUnless(lib.ipv6_loopback_ok(), "no IPv6 loopback")
    def test_ipv6_and_two_listeners(self):
        mb = simple_mbox(2)
        s = lib.server(self)
        s.put_mbox(mb.data())
        p4 = lib.free_port()
        p6 = lib.free_port(lib.socket.AF_INET6, "::1")
        s.start(listen=["pop3 127.0.0.1:%d" % p4, "pop3 [::1]:%d" % p6])
        self.assertTrue(lib.wait_port(p6, "::1"), "no listener on ::1")
        with s.connect(host="::1", port=p6) as c:
            c.ok("CAPA")
            self.assertIn(b"USER", c.multi().split(b"\r\n"))  # loopback
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            c.ok("QUIT")
        with s.connect(port=p4) as c:
            c.ok("QUIT")
        s.wait_log(r"addr=\[?::1")
        self.assertRegex(s.log(), r"addr=\[?::1")

    def test_sigterm_lets_sessions_finish(self):
        mb = simple_mbox(3)
        s = lib.server(self)
        s.put_mbox(mb.data())
        s.start()
        c = s.login()
        self.addCleanup(c.close)
        os.kill(s.proc.pid, signal.SIGTERM)
        # no more connections accepted; the listener waits for the
        # session (shutdown_grace, 30 s by default)
        self.assertTrue(s.wait_log(r"shutting down"))
        with self.assertRaises(OSError):
            lib.Pop.connect(s.port, timeout=2).greeting()
        self.assertIsNone(s.proc.poll())
        # the session goes on and its QUIT applies; then the listener ends
        c.ok("DELE 1")
        c.ok("QUIT")
        try:
            st = s.proc.wait(timeout=5 * lib.SLOW)
        except subprocess.TimeoutExpired:
            self.fail("pop3d -F still running 5s after its last session")
        self.assertEqual(st, 0)
        lib.same(self, s.read_mbox(), mb.without({0}))

    def test_sigint_stops(self):
        s = lib.server(self)
        s.start()
        os.kill(s.proc.pid, signal.SIGINT)
        try:
            s.proc.wait(timeout=5 * lib.SLOW)
        except subprocess.TimeoutExpired:
            self.fail("pop3d -F still running 5s after SIGINT")


if __name__ == "__main__":
    unittest.main()
