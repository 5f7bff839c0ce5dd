"""
test_limits.py: the limits before and around login (issue 8, §5 and §6).

  - the AUTHORIZATION state is bounded as a whole, not only per line: a
    client dripping CAPA (or one line an octet at a time) is cut off at
    timeout_auth_total, the lines before login at auth_max_commands and
    the bad ones at auth_max_errors; each limit gets one reply naming it
    ("-ERR ..." for POP3, "- ..." for POP2), a log line with the session's
    fields, and the close; a real login stays far inside the defaults;
  - session_memory_max: a maildrop whose message table would not fit is
    refused with -ERR [SYS/PERM] (POP2 "- ...") naming the count, logged
    with the path, the count and the cap, and left untouched;
  - pop3d refuses (at start-up and in pop3d -t) a configuration file that
    is writable by group or others or owned by another user, and a
    mail_group that gives away the system (gid 0, shadow, disk, ...);
  - root only: a session group of gid 0 or shadow's (a passwd-file gid, a
    system account's primary group) is refused at login with
    -ERR [SYS/PERM] and logged.  The accounts and groups made for it are
    named as test_accounts.py names its own (postern-te<role>-<pid>) and
    are removed afterwards, leftovers of crashed runs by test_accounts.
"""

import grp
import os
import pwd
import re
import select
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, simple_mbox
from pop2client import Pop2Client, quote
import test_accounts as accounts

LIMIT_CONF = {"timeout_auth": "10"}


def tiny_mbox(n):
    """n minimal messages, the cheapest way to a long message table."""
    return b"".join(b"From a@b Mon Jan  1 00:00:00 2024\nSubject: %d\n\n"
                    b"x\n\n" % i for i in range(n))


class PreauthBase(unittest.TestCase):

    def make(self, conf=None, mbox=None):
        c = dict(LIMIT_CONF)
        c.update(conf or {})
        s = lib.server(self, conf=c)
        s.put_mbox(mbox if mbox is not None else simple_mbox(2).data())
        s.prepare([])
        return s

    def pop3(self, s):
        """`pop3d -i` on a socketpair (as inetd runs it)."""
        c, p = s.spawn_i()
        self.addCleanup(c.close)
        c.greeting()
        return c, p

    def pop2(self, s):
        pop, p = s.spawn_i(args=("-e", "-p", "pop2"))
        c = Pop2Client(pop.sock, timeout=10 * lib.SLOW)
        self.addCleanup(c.close)
        self.assertEqual(c.greeting(), "e2e.example")
        return c, p

    def capas(self, c, n):
        for _ in range(n):
            c.ok("CAPA")
            c.multi()

    def limit_logged(self, s, limit, proto="pop3"):
        m = s.wait_log(r"login limit reached user=\S+ addr=\S+ proto=%s "
                       r"limit=%s max=\d+ commands=\d+ errors=\d+ "
                       r"time=[0-9.]+s" % (proto, limit))
        self.assertTrue(m, s.log()[-3000:])
        self.assertTrue(s.wait_log(r"end user=\S+ addr=\S+ .*end=limit"),
                        s.log()[-3000:])
        return m


class TotalTimeTest(PreauthBase):
    """timeout_auth_total bounds the whole state, however busy."""

    def drip(self, c, pieces, until, step):
        """Sends the pieces in turn, one every step seconds, reading what
        comes, until the server closes or `until` seconds pass.  Returns
        (elapsed, what came, closed)."""
        t0 = time.monotonic()
        got, c.buf = c.buf, b""
        i = 0
        while time.monotonic() - t0 < until:
            try:
                c.sock.sendall(pieces[i % len(pieces)])
            except OSError:
                break
            i += 1
            end = time.monotonic() + step
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([c.sock], [], [], left)
                if not r:
                    break
                try:
                    d = c.sock.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    return time.monotonic() - t0, got, True
                got += d
        return time.monotonic() - t0, got, False

    def test_pop3_capa_drip(self):
        s = self.make({"timeout_auth_total": "3"})
        c, p = self.pop3(s)
        dt, got, closed = self.drip(c, [b"CAPA\r\n"], 8 * lib.SLOW, 0.5)
        self.assertTrue(closed, "still open after %.1fs" % dt)
        lines = got.split(b"\r\n")
        self.assertEqual(lines[-2:], [b"-ERR login took too long "
                         b"(timeout_auth_total = 3); closing", b""],
                         got[-300:])
        self.assertGreaterEqual(lines.count(b"+OK capability list follows"),
                                4)
        self.assertGreaterEqual(dt, 2.5)
        self.assertLess(dt, 3 + 2 * lib.SLOW, "closed after %.1fs" % dt)
        m = self.limit_logged(s, "timeout_auth_total")
        self.assertIn("max=3 ", m.group(0))
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)

    def test_pop3_partial_line_drip(self):
        """One line an octet a second: the per-line timeout (10 s) would
        wait for it; the whole state's 3 s do not."""
        s = self.make({"timeout_auth_total": "3"})
        c, _ = self.pop3(s)
        dt, got, closed = self.drip(c, [b"C", b"A", b"P", b"A", b" "],
                                    8 * lib.SLOW, 1.0)
        self.assertTrue(closed, "still open after %.1fs" % dt)
        self.assertEqual(got, b"-ERR login took too long (timeout_auth_total"
                         b" = 3); closing\r\n")
        self.assertLess(dt, 3 + 2 * lib.SLOW)
        self.limit_logged(s, "timeout_auth_total")

    def test_pop3_after_user(self):
        """USER given, PASS never: the user is in the log line."""
        s = self.make({"timeout_auth_total": "2"})
        c, _ = self.pop3(s)
        c.ok("USER " + DEFAULT_USER)
        t0 = time.monotonic()
        self.assertEqual(c.reply(5), b"-ERR login took too long "
                         b"(timeout_auth_total = 2); closing")
        self.assertEqual(c.expect_eof(), b"")
        self.assertLess(time.monotonic() - t0, 2 + 2 * lib.SLOW)
        self.assertTrue(s.wait_log(r"login limit reached user=%s " %
                                   DEFAULT_USER), s.log()[-2000:])

    def test_idle_is_still_timeout_auth(self):
        """Below the total, an idle line ends as before: RFC 1939 §3's
        autologout, without a reply."""
        s = self.make({"timeout_auth": "10", "timeout_auth_total": "60"})
        c, _ = self.pop3(s)
        t0 = time.monotonic()
        self.assertEqual(c.expect_eof(20), b"")
        self.assertGreaterEqual(time.monotonic() - t0, 9)
        self.assertTrue(s.wait_log(r"end user=- .*end=timeout"), s.log())

    def test_pop2_partial_line_drip(self):
        s = self.make({"timeout_auth_total": "3"})
        c, p = self.pop2(s)
        dt, got, closed = self.drip(c, [bytes([b]) for b in b"HELO alice "],
                                    8 * lib.SLOW, 1.0)
        self.assertTrue(closed, "still open after %.1fs" % dt)
        self.assertEqual(got, b"- login took too long (timeout_auth_total = "
                         b"3); closing\r\n")
        self.assertLess(dt, 3 + 2 * lib.SLOW, "closed after %.1fs" % dt)
        self.limit_logged(s, "timeout_auth_total", "pop2")
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)


class CountTest(PreauthBase):
    """auth_max_commands and auth_max_errors."""

    def test_pop3_commands(self):
        s = self.make({"auth_max_commands": "5"})
        c, _ = self.pop3(s)
        self.capas(c, 5)
        self.assertEqual(c.cmd("CAPA"), b"-ERR too many commands before "
                         b"login (auth_max_commands = 5); closing")
        self.assertEqual(c.expect_eof(), b"")
        m = self.limit_logged(s, "auth_max_commands")
        self.assertIn("max=5 commands=6 errors=0", m.group(0))

    def test_pop3_commands_pipelined(self):
        """Eight pipelined lines: five answered, the sixth gets the limit,
        the rest are never run (no QUIT reply)."""
        s = self.make({"auth_max_commands": "5"})
        c, _ = self.pop3(s)
        c.send(b"CAPA\r\n" * 5 + b"NOOP\r\nQUIT\r\nQUIT\r\n")
        for _ in range(5):
            self.assertTrue(c.reply().startswith(b"+OK"))
            c.multi()
        self.assertEqual(c.reply(), b"-ERR too many commands before login "
                         b"(auth_max_commands = 5); closing")
        self.assertEqual(c.expect_eof(), b"")

    def test_pop3_login_at_the_limit(self):
        """CAPA, USER, PASS: a real client's login fits in 3."""
        s = self.make({"auth_max_commands": "3", "auth_max_errors": "1"})
        c, _ = self.pop3(s)
        self.capas(c, 1)
        c.login()
        c.ok("STAT")
        # after login the budget is gone: more than 3 commands are fine
        for _ in range(5):
            c.ok("NOOP")
        c.ok("QUIT")

    def test_pop3_errors(self):
        s = self.make({"auth_max_errors": "4"})
        c, _ = self.pop3(s)
        bad = [b"FOO", b"STAT", b"APOP alice 0123456789abcdef",
               b"X" * 3000]
        for line in bad:
            r = c.cmd(line)
            self.assertTrue(r.startswith(b"-ERR") and b"bad commands" not in
                            r, (line[:20], r))
            self.capas(c, 1)    # good commands do not count
        self.assertEqual(c.cmd("USER a/b"), b"-ERR too many bad commands "
                         b"before login (auth_max_errors = 4); closing")
        self.assertEqual(c.expect_eof(), b"")
        m = self.limit_logged(s, "auth_max_errors")
        self.assertIn("max=4 commands=9 errors=5", m.group(0))

    def test_pop3_failed_passwords_are_not_errors(self):
        """Bad passwords count against auth_max_tries only."""
        s = self.make({"auth_max_errors": "1", "auth_max_tries": "3"})
        c, _ = self.pop3(s)
        for i in range(2):
            c.ok("USER " + DEFAULT_USER)
            r = c.cmd("PASS wrong-%d" % i)
            self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
        self.assertTrue(c.cmd("NOOP").startswith(b"-ERR"))   # error 1
        c.login()
        c.ok("QUIT")

    def test_pop3_default_limits(self):
        """The defaults: 50 lines, 10 bad ones."""
        s = self.make()
        c, _ = self.pop3(s)
        for _ in range(10):
            self.assertTrue(c.cmd("FOO").startswith(b"-ERR unknown"))
        self.assertIn(b"auth_max_errors = 10", c.cmd("FOO"))
        c.expect_eof()
        c, _ = self.pop3(s)
        self.capas(c, 50)
        self.assertIn(b"auth_max_commands = 50", c.cmd("CAPA"))

    def test_pop2_one_command_before_login(self):
        """RFC 937: HELO or QUIT end the AUTH state and a bad line closes
        it, so POP2 never reaches auth_max_commands or auth_max_errors;
        at their smallest a POP2 login still works."""
        s = self.make({"auth_max_commands": "1", "auth_max_errors": "1"})
        c, p = self.pop2(s)
        self.assertEqual(c.helo(DEFAULT_USER, DEFAULT_PASS), 2)
        c.quit()
        c, p = self.pop2(s)
        c.send(b"FOO\r\n")
        r = c.readline()
        self.assertTrue(r.startswith(b"- ") and b"auth_max" not in r, r)
        self.assertEqual(c.expect_eof(), b"")


class MemoryCapTest(PreauthBase):
    """session_memory_max."""

    CAP = 4096      # room for 21 messages of about 192 octets

    def test_pop3_refused_and_logged(self):
        data = tiny_mbox(100)
        s = self.make({"session_memory_max": "4k"}, data)
        before = lib.tree(s.tmp)
        c, p = self.pop3(s)
        c.ok("USER " + DEFAULT_USER)
        self.assertEqual(c.cmd("PASS " + DEFAULT_PASS),
                         b"-ERR [SYS/PERM] mailbox too large for this "
                         b"server (100 messages); ask your administrator")
        self.assertEqual(c.expect_eof(), b"")
        m = s.wait_log(r"maildrop (\S+): too large: messages=100 "
                       r"session_memory_max=4096 \(room for (\d+) "
                       r"messages\)")
        self.assertTrue(m, s.log()[-3000:])
        self.assertEqual(m.group(1), s.maildrop())
        self.assertEqual(s.read_mbox(), data)
        # nothing appears but the user's (empty) state directory
        self.assertEqual({x for x in lib.tree(s.tmp) - before
                          if not x.endswith(".log") and
                          x != "state/alice"}, set())
        room = int(m.group(2))
        self.assertGreater(room, 10)
        self.assertLess(room, 100)

    def test_pop3_fits(self):
        s = self.make({"session_memory_max": "4k"}, tiny_mbox(10))
        c, _ = self.pop3(s)
        c.login()
        self.assertTrue(c.ok("STAT").startswith(b"+OK 10 "))
        c.ok("QUIT")

    def test_pop2_refused(self):
        s = self.make({"session_memory_max": "4k"}, tiny_mbox(200))
        c, _ = self.pop2(s)
        c.send(b"HELO " + quote(DEFAULT_USER) + b" " + quote(DEFAULT_PASS) +
               b"\r\n")
        self.assertEqual(c.readline(), b"- mailbox too large for this "
                         b"server (200 messages); ask your administrator"
                         b"\r\n")
        self.assertEqual(c.expect_eof(), b"")
        self.assertTrue(s.wait_log(r"too large: messages=200 "), s.log())


class ConfigCheckTest(unittest.TestCase):
    """pop3d -t (and a start) refuse an unsafe configuration."""

    def check(self, s, ok, want=None):
        p = s.run_pop3d(["-t", "-f", s.conf_path])
        out = (p.stdout + p.stderr).decode(errors="replace")
        if ok:
            self.assertEqual(p.returncode, 0, out)
            self.assertIn("configuration OK", out)
        else:
            self.assertNotEqual(p.returncode, 0, out)
            self.assertIn(want, out)
        return out

    def test_file_mode(self):
        s = lib.server(self)
        s.prepare([])
        self.check(s, True)
        uid = os.stat(s.conf_path).st_uid
        for mode in (0o664, 0o646, 0o620, 0o602):
            with self.subTest(mode=oct(mode)):
                os.chmod(s.conf_path, mode)
                self.check(s, False, "%s: refused (owner uid %d, mode %04o):"
                           " a configuration file must be owned by root" %
                           (s.conf_path, uid, mode))
        # a start is refused the same way
        os.chmod(s.conf_path, 0o664)
        p = s.run_pop3d(["-f", s.conf_path, "-F", "-e"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("refused (owner uid", (p.stdout + p.stderr).decode())
        os.chmod(s.conf_path, 0o644)
        self.check(s, True)

    @unittest.skipUnless(lib.IS_ROOT, "needs root to give the file to "
                         "another user")
    def test_file_owner(self):
        other = pwd.getpwnam("daemon").pw_uid
        # run as nobody: a file of daemon's is refused, root's is fine
        s = lib.server(self)
        s.prepare([])
        os.chown(s.conf_path, other, -1)
        self.check(s, False, "refused (owner uid %d, mode 0644): a "
                   "configuration file must be owned by root or by the "
                   "user pop3d runs as" % other)
        os.chown(s.conf_path, 0, -1)
        self.check(s, True)
        # run as root: only root's
        s = lib.server(self, as_root=True)
        chroot = os.path.join(s.tmp, "empty")
        os.mkdir(chroot, 0o755)
        s.conf.update({"pre_auth_user": "nobody", "chroot": chroot})
        s.prepare([])
        self.check(s, True)
        os.chown(s.conf_path, lib.RUN_AS.uid, -1)
        self.check(s, False, "refused (owner uid %d, mode 0644): a "
                   "configuration file must be owned by root and writable "
                   "by its owner only" % lib.RUN_AS.uid)

    def test_mail_group(self):
        for g, why in (("root", "root's group owns much of the system"),
                       ("shadow", "it reads every password hash"),
                       ("disk", "every block device"),
                       ("kmem", "kernel memory"),
                       ("sudo", "become root"), ("wheel", "become root"),
                       ("adm", "system logs"), ("tty", "every terminal"),
                       ("docker", "the docker socket is root"),
                       ("systemd-journal", "the whole journal")):
            with self.subTest(group=g):
                s = lib.server(self, conf={"mail_group": g})
                s.prepare([])
                self.check(s, False, 'mail_group "%s" refused: ' % g)
                self.check(s, False, why)
        for g in ("mail", "none"):
            with self.subTest(group=g):
                s = lib.server(self, conf={"mail_group": g})
                s.prepare([])
                self.check(s, True)

    @unittest.skipUnless(lib.IS_ROOT, "needs root to add groups")
    def test_mail_group_by_gid(self):
        """Another name for gid 0, or for shadow's gid, is refused too."""
        names = []
        g0 = "postern-tegzero" + accounts.SUFFIX
        names.append((g0, 0, "gid 0 is root's group"))
        try:
            names.append(("postern-tegshad" + accounts.SUFFIX,
                          grp.getgrnam("shadow").gr_gid,
                          "it reads every password hash"))
        except KeyError:
            pass
        accounts.remove_leftovers()
        for name, gid, why in names:
            self.addCleanup(accounts.remove_user, name)
            accounts.run(["groupadd", "-o", "-g", str(gid), name])
            with self.subTest(group=name):
                s = lib.server(self, conf={"mail_group": name})
                s.prepare([])
                self.check(s, False, 'mail_group "%s" refused: %s' % (
                    name, why))
                # and the listener does not start
                p = s.run_pop3d(["-f", s.conf_path, "-F", "-e"])
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("mail_group", (p.stdout + p.stderr).decode())


@unittest.skipUnless(lib.IS_ROOT, "not running as root: session groups "
                     "are set only when pop3d runs as root")
class SessionGroupTest(unittest.TestCase):
    """A session never runs with gid 0 (nor shadow's) as its group."""

    ZERO = "postern-tezero" + accounts.SUFFIX     # primary group 0
    PRE = "postern-tepre" + accounts.SUFFIX

    @classmethod
    def setUpClass(cls):
        for name in (cls.ZERO, cls.PRE):
            cls.addClassCleanup(accounts.remove_user, name)
        cls.pre = accounts.add_user(cls.PRE, system=True)
        accounts.remove_user(cls.ZERO)
        accounts.run(["useradd", "-M", "-g", "0", "-s", "/bin/sh",
                      cls.ZERO])
        accounts.run(["chpasswd", "-e"], ("%s:%s\n" % (
            cls.ZERO, lib.make_hash(accounts.PASS))).encode())
        cls.zero = pwd.getpwnam(cls.ZERO)
        # the mail user of the passwd-file entries: the pre-auth user
        # will do, it is unprivileged and not root's group
        cls.mail = cls.pre

    def make(self, uidgid=None, conf=None):
        s = lib.server(self, as_root=True)
        chroot = os.path.join(s.tmp, "empty")
        os.mkdir(chroot, 0o755)
        s.conf.update({"pre_auth_user": self.PRE, "chroot": chroot,
                       "mail_group": "none"})
        s.conf.update(conf or {})
        if uidgid:
            s.uidgid = uidgid
        os.chmod(s.maildir, 0o1777)
        return s

    def refused(self, s, user, password, log_pat):
        before = lib.tree(s.maildir)
        with s.connect() as c:
            c.ok("USER " + user)
            r = c.cmd("PASS " + password)
            self.assertEqual(r, b"-ERR [SYS/PERM] this account cannot be "
                             b"served; tell your administrator")
            c.expect_eof()
        self.assertTrue(s.wait_log(log_pat), s.log()[-3000:])
        self.assertEqual(lib.tree(s.maildir), before)

    def test_passwd_file_gid_0(self):
        s = self.make(uidgid=(self.mail.pw_uid, 0))
        data = simple_mbox(2).data()
        s.put_mbox(data)
        s.start()
        self.refused(s, DEFAULT_USER, DEFAULT_PASS,
                     r"user=%s: refusing to serve a maildrop with group 0: "
                     r"gid 0 is root's group" % DEFAULT_USER)
        self.assertEqual(s.read_mbox(), data)

    def test_passwd_file_gid_shadow(self):
        try:
            gid = grp.getgrnam("shadow").gr_gid
        except KeyError:
            self.skipTest("no group shadow here")
        s = self.make(uidgid=(self.mail.pw_uid, gid))
        s.put_mbox(simple_mbox(1).data())
        s.start()
        self.refused(s, DEFAULT_USER, DEFAULT_PASS,
                     r"refusing to serve a maildrop with group %d: it reads "
                     r"every password hash" % gid)

    def test_system_user_primary_group_0(self):
        s = self.make(conf={"userdb": "system"})
        s.start()
        self.refused(s, self.ZERO, accounts.PASS,
                     r"user=%s: refusing to serve a maildrop with group 0"
                     % re.escape(self.ZERO))
        self.assertNotIn(accounts.PASS, s.log())

    def test_good_group_still_served(self):
        """The control: the same set-up with the user's own group."""
        s = self.make(uidgid=(self.mail.pw_uid, self.mail.pw_gid))
        s.put_mbox(simple_mbox(2).data())
        os.chown(s.maildrop(), self.mail.pw_uid, self.mail.pw_gid)
        s.start()
        c = s.login()
        self.assertTrue(c.ok("STAT").startswith(b"+OK 2 "))
        c.ok("QUIT")
        c.close()


if __name__ == "__main__":
    unittest.main()
