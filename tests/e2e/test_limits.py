"""
test_limits.py: the checks of the configuration and of the session's
groups (issue 8, §6).

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
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, simple_mbox
import test_accounts as accounts


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
