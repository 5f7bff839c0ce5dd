"""
test_root.py: privilege separation when pop3d runs as root (design.md §1,
style.md practice 6).  Creates two system users for the test and removes
them afterwards (also after a failure, and leftovers of a crashed earlier
run are removed first):
  postern-e2e  the pre_auth_user: the child that parses input before login
  postern-e2m  the mail user the passwd-file maps the POP user to
Checks from /proc that the pre-auth child runs as postern-e2e inside the
chroot and that after login the session runs as postern-e2m only; that
uid 0 in the passwd-file is refused; that pre_auth_user = root and a bad
chroot stop the server from starting.
"""

import grp
import os
import pwd
import subprocess
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, simple_mbox

PRE = "postern-e2e"
MAIL = "postern-e2m"


def remove_user(name):
    try:
        pwd.getpwnam(name)
        subprocess.run(["userdel", name], capture_output=True, timeout=30)
    except KeyError:
        pass
    try:
        grp.getgrnam(name)
        subprocess.run(["groupdel", name], capture_output=True, timeout=30)
    except KeyError:
        pass


def add_user(name):
    remove_user(name)           # a leftover of a crashed run
    p = subprocess.run(["useradd", "-r", "-M", "-U", "-d", "/nonexistent",
                        "-s", "/usr/sbin/nologin", name],
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("useradd %s: %s" % (name, p.stderr.decode()))
    return pwd.getpwnam(name)


def ids(status, key):
    return [int(x) for x in status[key].split()]


def mail_gid(default):
    """The gid of the default mail_group ("mail"), the saved set-group-ID
    of a session; default when there is no such group."""
    try:
        return grp.getgrnam("mail").gr_gid
    except KeyError:
        return default


@unittest.skipUnless(lib.IS_ROOT, "not running as root: privilege "
                     "separation is tested only when the suite runs as root")
class RootTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.addClassCleanup(remove_user, PRE)
        cls.addClassCleanup(remove_user, MAIL)
        cls.pre = add_user(PRE)
        cls.mail = add_user(MAIL)

    def make_server(self, uidgid=None, conf=None):
        s = lib.server(self, as_root=True)
        self.chroot = os.path.join(s.tmp, "empty")
        os.mkdir(self.chroot, 0o755)
        s.conf.update({"pre_auth_user": PRE, "chroot": self.chroot})
        if conf:
            s.conf.update(conf)
        s.uidgid = uidgid or (self.mail.pw_uid, self.mail.pw_gid)
        os.chown(s.maildir, self.mail.pw_uid, self.mail.pw_gid)
        return s

    def put_mbox(self, s, data):
        s.put_mbox(data)
        os.chown(s.maildrop(), self.mail.pw_uid, self.mail.pw_gid)

    def find(self, root_pid, pred, timeout=5.0):
        deadline = time.monotonic() + timeout * lib.SLOW
        while time.monotonic() < deadline:
            for pid in lib.descendants_of(root_pid):
                st = lib.proc_status(pid)
                if st and pred(pid, st):
                    return pid, st
            time.sleep(0.05)
        return None, None

    def test_privilege_separation(self):
        mb = simple_mbox(3)
        s = self.make_server()
        self.put_mbox(s, mb.data())
        s.start()
        pre_uid, pre_gid = self.pre.pw_uid, self.pre.pw_gid
        with s.connect() as c:
            # before login: the child reading the network is postern-e2e
            pid, st = self.find(s.proc.pid, lambda p, st:
                                ids(st, "Uid") == [pre_uid] * 4)
            self.assertIsNotNone(pid, "no process runs as %s" % PRE)
            self.assertEqual(ids(st, "Gid"), [pre_gid] * 4)
            self.assertIn(st["Groups"].split(), ([], [str(pre_gid)]))
            self.assertEqual(os.readlink("/proc/%d/root" % pid),
                             os.path.realpath(self.chroot))
            self.assertEqual(os.readlink("/proc/%d/cwd" % pid),
                             os.path.realpath(self.chroot))
            # after login: the session is postern-e2m and nothing else:
            # no supplementary group, the mail group only as the saved
            # set-group-ID (INTERFACES 5)
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            c.ok("STAT")
            muid, mgid = self.mail.pw_uid, self.mail.pw_gid
            pid, st = self.find(s.proc.pid, lambda p, st:
                                ids(st, "Uid") == [muid] * 4)
            self.assertIsNotNone(pid, "no process runs as %s" % MAIL)
            self.assertEqual(ids(st, "Gid"), [mgid, mgid, mail_gid(mgid),
                                              mgid])
            self.assertEqual(st["Groups"].split(), [])
            # the pre-auth child is gone and no session process kept root
            deadline = time.monotonic() + 5 * lib.SLOW
            while True:
                others = [(p, lib.proc_status(p))
                          for p in lib.descendants_of(s.proc.pid)]
                others = [(p, t) for p, t in others
                          if t and ids(t, "Uid") != [muid] * 4]
                if not others or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(
                [(p, t["Name"], t["Uid"], t["Gid"]) for p, t in others], [],
                "session processes not running as %s" % MAIL)
            c.ok("RETR 1")
            self.assertEqual(c.multi(), mb.msgs[0].wire())
            c.ok("DELE 1")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.without({0}))
        st = os.stat(s.maildrop())
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (self.mail.pw_uid, self.mail.pw_gid, 0o600))
        # nothing left behind: no session lock file, no dotlock
        self.assertEqual(sorted(os.listdir(s.maildir)), [DEFAULT_USER])

    def test_uid0_refused(self):
        for uidgid in ((0, 0), (0, self.mail.pw_gid)):
            with self.subTest(uidgid=uidgid):
                s = self.make_server(uidgid=uidgid)
                data = simple_mbox(2).data()
                self.put_mbox(s, data)
                s.start()
                before = lib.tree(s.maildir)
                with s.connect() as c:
                    c.ok("USER " + DEFAULT_USER)
                    r = c.cmd("PASS " + DEFAULT_PASS)
                    self.assertTrue(r.startswith(b"-ERR"), r)
                self.assertEqual(lib.tree(s.maildir), before)
                lib.same(self, s.read_mbox(), data)
                s.stop()

    def refuses_to_start(self, s, words):
        p = s.start(wait=False)
        try:
            st = p.wait(timeout=3 * lib.SLOW)
        except subprocess.TimeoutExpired:
            st = None
        if st is None:
            self.fail("pop3d -F started anyway; log:\n" + s.log())
        self.assertNotEqual(st, 0)
        log = s.log()
        self.assertTrue(any(w in log for w in words),
                        "no clear message (%r) in: %r" % (words, log))

    def test_pre_auth_root_refused(self):
        s = self.make_server(conf={"pre_auth_user": "root"})
        self.refuses_to_start(s, ("pre_auth_user", "root"))

    def test_missing_pre_auth_user_refused(self):
        name = "postern-nosuch-%d" % os.getpid()
        s = self.make_server(conf={"pre_auth_user": name})
        self.refuses_to_start(s, ("does not exist", name))
        # pop3d -t names the problem too, and exits non-zero
        r = s.run_pop3d(["-t", "-f", s.conf_path])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(name, (r.stdout + r.stderr).decode())

    def test_bad_chroot_refused(self):
        for case in ("not empty", "not root's", "missing", "group-writable"):
            with self.subTest(case=case):
                s = self.make_server()
                if case == "not empty":
                    lib.write_file(os.path.join(self.chroot, "x"), b"x")
                elif case == "not root's":
                    os.chown(self.chroot, self.pre.pw_uid, self.pre.pw_gid)
                elif case == "missing":
                    os.rmdir(self.chroot)
                else:
                    os.chmod(self.chroot, 0o775)
                self.refuses_to_start(s, ("chroot", self.chroot))


if __name__ == "__main__":
    unittest.main()
