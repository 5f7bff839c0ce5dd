"""
test_accounts.py: system accounts and PAM as user databases (userdb), and
the session's groups after login (design.md §1 and §4, style.md 5 and 6).
Root only: it creates system accounts for the test (named
postern-t<role>-<pid>, so that runs at the same time do not meet; removed
afterwards, also after a failure; leftovers of crashed runs, whose pid is
gone, are removed first) and a spool made like Debian's /var/mail
(root:mail, 2775) holding each user's mbox (the user's, group mail,
0660).

  - userdb = system: login, RETR, DELE, QUIT rewrites the mbox (owner,
    group and mode kept); the session runs as the user with no
    supplementary group and the mail group only as its saved
    set-group-ID, which it switches to for its dotlocks in the 2775 spool
    (without it the dotlock fails); nothing is left in the spool;
  - locked, expired, "must change", nologin-shell and uid-0 accounts are
    refused with the same -ERR [AUTH] as a bad password, the log naming
    the reason and never the password;
  - userdb = passwd-file system: a name in both is the passwd-file's;
  - userdb = pam (only when pop3d was built with make PAM=1): login,
    wrong password, locked account, through the "pop3" PAM service.
"""

import grp
import os
import pwd
import re
import shutil
import subprocess
import time
import unittest

import lib
from lib import simple_mbox

SUFFIX = "-%d" % os.getpid()
PRE = "postern-tpre" + SUFFIX           # the pre-auth user
OK = "postern-teok" + SUFFIX            # logs in
PAM_USER = "postern-tpam" + SUFFIX      # the PAM test's own account
NAMES = re.compile(r"^postern-t(?:e[a-z]+|pre|pam)-([1-9][0-9]*)$")
PASS = "Sys-pw.41c"             # the system password of every account
FILE_PASS = "File-pw.9d2"       # OK's password in the passwd-file
BAD_AUTH = b"-ERR [AUTH] invalid user name or password"

# name -> (command run on it after the password is set, logged reason)
LOCKED = "postern-telock" + SUFFIX
REFUSED = {
    LOCKED: (["usermod", "-L"], "locked account (system)"),
    "postern-teexp" + SUFFIX: (["chage", "-E", "2000-01-01"],
                               "account expired (system)"),
    "postern-techg" + SUFFIX: (["chage", "-d", "0"],
                               "password must be changed (system)"),
    "postern-tenol" + SUFFIX: (["usermod", "-s", "/usr/sbin/nologin"],
                               "nologin shell /usr/sbin/nologin (system)"),
}

PAM_CONF = "/etc/pam.d/pop3"
PAM_SRC = os.path.join(lib.HERE, "..", "..", "etc", "pam.d", "pop3")


def run(cmd, data=None):
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(cmd),
                                         p.stderr.decode(errors="replace")))


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


def remove_leftovers():
    """Removes the accounts of earlier runs whose process is gone."""
    names = set(p.pw_name for p in pwd.getpwall()) | \
        set(g.gr_name for g in grp.getgrall())
    for name in sorted(names):
        m = NAMES.match(name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            remove_user(name)
        except OSError:
            pass


def add_user(name, password=None, hashed=True, system=False):
    remove_leftovers()
    remove_user(name)           # ours, of a crashed run with our pid
    if system:
        run(["useradd", "-r", "-M", "-U", "-d", "/nonexistent", "-s",
             "/usr/sbin/nologin", name])
    else:
        run(["useradd", "-M", "-U", "-s", "/bin/sh", name])
    if password is not None:
        line = "%s:%s\n" % (name, lib.make_hash(password) if hashed
                            else password)
        run(["chpasswd"] + (["-e"] if hashed else []), line.encode())
    return pwd.getpwnam(name)


def ids(status, key):
    return [int(x) for x in status[key].split()]


def mail_gid():
    try:
        return grp.getgrnam("mail").gr_gid
    except KeyError:
        raise unittest.SkipTest("no group \"mail\" on this system")


class Base(unittest.TestCase):
    """A server as root whose maildrops are in a spool like Debian's."""

    def make_server(self, conf=None, users=None):
        s = lib.server(self, as_root=True, users=users or {})
        chroot = os.path.join(s.tmp, "empty")
        os.mkdir(chroot, 0o755)
        # Debian's /var/mail: root:mail, setgid, group-writable.
        self.spool = os.path.join(s.tmp, "spool")
        os.mkdir(self.spool)
        os.chown(self.spool, 0, self.mail_gid)
        os.chmod(self.spool, 0o2775)
        s.conf.update({"pre_auth_user": PRE, "chroot": chroot,
                       "maildrop": os.path.join(self.spool, "%u"),
                       "userdb": "system"})
        if conf:
            s.conf.update(conf)
        return s

    def put_mbox(self, user, data, mode=0o660):
        path = os.path.join(self.spool, user.pw_name)
        lib.write_file(path, data, mode)
        os.chown(path, user.pw_uid, self.mail_gid)
        return path

    def session_of(self, s, uid, timeout=5.0):
        """(pid, status) of the session process running as uid."""
        deadline = time.monotonic() + timeout * lib.SLOW
        while time.monotonic() < deadline:
            for pid in lib.descendants_of(s.proc.pid):
                st = lib.proc_status(pid)
                if st and ids(st, "Uid") == [uid] * 4:
                    return pid, st
            time.sleep(0.05)
        self.fail("no session process runs as uid %d" % uid)

    def refused(self, s, user, password, reason):
        """Logs in with the same reply as a bad password; the new part of
        the log gives the reason (a prefix of it is enough)."""
        start = len(s.log())
        with s.connect() as c:
            c.ok("USER " + user)
            r = c.cmd("PASS " + password)
            self.assertEqual(r, BAD_AUTH, "%s: %r" % (user, r))
        pat = re.compile(r"auth failed user=%s .*reason=\"%s" % (
            re.escape(user), re.escape(reason)))
        deadline = time.monotonic() + 5 * lib.SLOW
        while not pat.search(s.log()[start:]):
            if time.monotonic() > deadline:
                self.fail("no log line matching %r in:\n%s" % (
                    pat.pattern, s.log()[start:][-3000:]))
            time.sleep(0.05)


@unittest.skipUnless(lib.IS_ROOT, "not running as root: system accounts "
                     "are made and used only when the suite runs as root")
class AccountsTest(Base):

    @classmethod
    def setUpClass(cls):
        cls.mail_gid = mail_gid()
        for name in [PRE, OK] + list(REFUSED):
            cls.addClassCleanup(remove_user, name)
        cls.pre = add_user(PRE, system=True)
        cls.ok = add_user(OK, PASS)
        for name, (cmd, _) in REFUSED.items():
            add_user(name, PASS)
            run(cmd + [name])

    def test_system_user_session(self):
        u = self.ok
        mb = simple_mbox(3)
        s = self.make_server()
        path = self.put_mbox(u, mb.data())
        s.start()
        with s.connect() as c:
            c.ok("USER " + OK)
            c.ok("PASS " + PASS)
            c.ok("STAT")
            pid, st = self.session_of(s, u.pw_uid)
            # no supplementary group (not root's, not the user's); the
            # mail group only as the saved set-group-ID
            self.assertEqual(ids(st, "Gid"), [u.pw_gid, u.pw_gid,
                                              self.mail_gid, u.pw_gid])
            self.assertEqual(ids(st, "Groups"), [])
            c.ok("RETR 2")
            self.assertEqual(c.multi(), mb.msgs[1].wire())
            c.ok("DELE 1")
            c.ok("DELE 3")
            c.ok("QUIT")
            c.expect_eof()
        # UPDATE took the dotlock in the 2775 spool and rewrote the box
        lib.same(self, lib.read_file(path), mb.without({0, 2}))
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (u.pw_uid, self.mail_gid, 0o660))
        self.assertEqual(sorted(os.listdir(self.spool)), [OK],
                         "session lock, dotlock or journal left behind")
        # the user's state directory, made by the master as root
        st = os.stat(os.path.join(s.statedir, OK))
        self.assertEqual((st.st_uid, st.st_mode & 0o7777),
                         (u.pw_uid, 0o700))
        self.assertEqual(os.listdir(os.path.join(s.statedir, OK)), [])
        self.assertNotIn(PASS, s.log())

    def test_no_mail_group_no_dotlock(self):
        # The control: without the mail group the session cannot make
        # the dotlock in the spool, so the login is refused and the mbox
        # untouched.  (Mode 0600: a group-writable maildrop of group mail
        # is refused outright when mail is not the mail_group.)
        u = self.ok
        data = simple_mbox(2).data()
        s = self.make_server(conf={"mail_group": "none"})
        path = self.put_mbox(u, data, 0o600)
        s.start()
        with s.connect() as c:
            c.ok("USER " + OK)
            r = c.cmd("PASS " + PASS)
            self.assertTrue(r.startswith(b"-ERR [SYS/"), r)
        self.assertTrue(s.wait_log(r"dotlock: create .*Permission denied"),
                        s.log()[-3000:])
        lib.same(self, lib.read_file(path), data)

    def test_missing_mail_group(self):
        # A mail_group that does not exist: said once, and the session
        # runs with no supplementary group at all.
        u = self.ok
        s = self.make_server(conf={"mail_group": "postern-tnogroup"})
        self.put_mbox(u, simple_mbox(1).data(), 0o600)
        os.chmod(self.spool, 0o1777)    # writable without the group
        s.start()
        for _ in range(2):
            with s.connect() as c:
                c.ok("USER " + OK)
                c.ok("PASS " + PASS)
                pid, st = self.session_of(s, u.pw_uid)
                self.assertEqual(ids(st, "Groups"), [])
                c.ok("QUIT")
                c.expect_eof()
        n = len(re.findall(r'mail_group "postern-tnogroup" does not exist',
                           s.log()))
        self.assertEqual(n, 1, s.log()[-3000:])

    def test_refused_accounts(self):
        s = self.make_server()
        s.start()
        # a wrong password, for the reply every refusal must look like
        self.refused(s, OK, "wrong-" + PASS, "bad password (system)")
        for name, (_, reason) in REFUSED.items():
            with self.subTest(user=name):
                self.refused(s, name, PASS, reason)
        self.refused(s, "root", PASS, "uid 0 refused (system)")
        self.refused(s, "postern-tnone", PASS, "unknown user")
        self.assertNotIn(PASS, s.log())

    def test_passwd_file_first(self):
        u = self.ok
        data = simple_mbox(2).data()
        # OK is in the passwd-file too, with its own password
        s = self.make_server(conf={"userdb": "passwd-file system"},
                             users={OK: FILE_PASS})
        s.uidgid = (u.pw_uid, u.pw_gid)
        self.put_mbox(u, data)
        s.start()
        self.refused(s, OK, PASS, "bad password (passwd-file)")
        with s.connect() as c:
            c.ok("USER " + OK)
            c.ok("PASS " + FILE_PASS)
            c.ok("STAT")
            c.ok("QUIT")
        # names only the system knows are still found
        self.refused(s, LOCKED, PASS, "locked account (system)")
        s.stop()
        # the other way round, the system decides
        s.conf["userdb"] = "system passwd-file"
        s.start()
        self.refused(s, OK, FILE_PASS, "bad password (system)")
        c = s.login(OK, PASS)
        c.ok("QUIT")
        c.close()


def pam_built():
    """True if this pop3d accepts userdb = pam (make PAM=1)."""
    s = lib.Server(as_root=True)
    try:
        s.conf["userdb"] = "pam"
        s.prepare([])
        p = subprocess.run([lib.POP3D, "-t", "-f", s.conf_path],
                           capture_output=True, timeout=30 * lib.SLOW)
        return b"without PAM" not in p.stdout + p.stderr
    finally:
        shutil.rmtree(s.tmp, ignore_errors=True)


@unittest.skipUnless(lib.IS_ROOT, "not running as root: PAM logins are "
                     "tested only when the suite runs as root")
class PamTest(Base):
    """The same spool and server, with userdb = pam."""

    @classmethod
    def setUpClass(cls):
        if not pam_built():
            raise unittest.SkipTest("pop3d built without PAM (make PAM=1)")
        cls.mail_gid = mail_gid()
        if not os.path.exists(PAM_CONF) and os.path.exists(PAM_SRC):
            # installed for the test, removed after it
            shutil.copyfile(PAM_SRC, PAM_CONF)
            cls.addClassCleanup(os.unlink, PAM_CONF)
        for name in (PRE, PAM_USER):
            cls.addClassCleanup(remove_user, name)
        cls.pre = add_user(PRE, system=True)
        # chpasswd hashes it the system's way, as passwd(1) would
        cls.pam = add_user(PAM_USER, PASS, hashed=False)

    def test_pam_login(self):
        u = self.pam
        mb = simple_mbox(2)
        s = self.make_server(conf={"userdb": "pam"})
        path = self.put_mbox(u, mb.data())
        s.start()
        self.refused(s, PAM_USER, "wrong-" + PASS,
                     "bad password or locked account (PAM: ")
        self.refused(s, "root", PASS, "uid 0 refused (pam)")
        with s.connect() as c:
            c.ok("USER " + PAM_USER)
            c.ok("PASS " + PASS)
            pid, st = self.session_of(s, u.pw_uid)
            self.assertEqual(ids(st, "Groups"), [])
            self.assertEqual(ids(st, "Gid")[2], self.mail_gid)
            c.ok("RETR 1")
            self.assertEqual(c.multi(), mb.msgs[0].wire())
            c.ok("DELE 1")
            c.ok("QUIT")
            c.expect_eof()
        lib.same(self, lib.read_file(path), mb.without({0}))
        # locked with usermod -L: PAM refuses the right password
        run(["usermod", "-L", PAM_USER])
        self.refused(s, PAM_USER, PASS,
                     "bad password or locked account (PAM: ")
        run(["usermod", "-U", PAM_USER])
        c = s.login(PAM_USER, PASS)
        c.ok("QUIT")
        c.close()
        self.assertNotIn(PASS, s.log())


if __name__ == "__main__":
    unittest.main()
