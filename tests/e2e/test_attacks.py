"""
test_attacks.py: issue 8 sections 1 and 2 tried as an attacker and as an
unlucky admin would, on a Debian-like system.  Root only: it creates
system accounts for the test (A the attacker or the user, B the victim,
C another local user, and test_accounts.py's pre-auth user; named
postern-tex<role>-<pid> so that test_accounts.py's clean-up of crashed
runs finds them; removed afterwards), their homes in a temp dir, and per
test test_accounts.py's spool like Debian's /var/mail (root:mail 2775,
each maildrop user:mail 0660), the default mail_group and
pop2_folder_dir (~/Mail), userdb = system and a root-owned state_dir
(when the build knows the key).

  1. confinement: ~/Mail a symlink to the spool (the reproduced attack:
     FOLD B must be #0, B's maildrop untouched, nothing of A's in the
     spool, B still gets all mail), a maildrop template whose directory
     is a symlink to B's, a home that is a symlink, a spool reached
     through an admin's symlink, a symlinked or hard linked folder, a
     folder file or directory of another user, a group-writable folder
     directory, a maildrop planted by C in a sticky spool;
  2. nothing left behind by a POP3 session or a POP2 session that FOLDs;
  3. nothing plantable: session-lock and journal names and dotlocks
     (files, symlinks, a directory, a FIFO; the mail group's, through a
     setgid sticky spool; one re-planted in a tight loop) planted by C
     in a sticky spool, or in a folder directory writable by a group C
     is in, lock nobody out; a bad state_dir is refused; procmail
     delivers during a session;
  4. the mail group is only the saved gid of a session, and a folder
     directory open only to group mail stays closed;
  5. a POP2 folder name cannot forge log fields.
"""

import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import lib
import test_accounts as accounts
from lib import simple_mbox
from pop2client import Pop2Client
from test_pop2 import pop2_missing

SUFFIX = accounts.SUFFIX
NAME_A = "postern-texa" + SUFFIX
NAME_B = "postern-texb" + SUFFIX
NAME_C = "postern-texc" + SUFFIX
PASS = "Atk-pw.5e1"
OLD = 3600                      # a planted dotlock's age in seconds


class Account:
    """A system user of the test; has RunAs's popen_kw and chown, so
    lib.procmail_rc and lib.procmail_deliver run as it."""

    def __init__(self, name, home):
        pw = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, pw.pw_uid, pw.pw_gid
        self.home = home
        self.mail = os.path.join(home, "Mail")

    def popen_kw(self):
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path):
        os.lchown(path, self.uid, self.gid)

    def run(self, *argv, groups=()):
        """Runs argv as this user (with the supplementary groups);
        fails the test if it fails."""
        kw = self.popen_kw()
        kw["extra_groups"] = list(groups)
        p = subprocess.run(list(argv), capture_output=True, timeout=30,
                           cwd="/", **kw)
        if p.returncode != 0:
            raise AssertionError("as %s: %s: %s" % (
                self.name, " ".join(argv), p.stderr.decode("replace")))
        return p


def add_account(name, home):
    accounts.add_user(name, PASS)
    accounts.run(["usermod", "-d", home, name])
    return Account(name, home)


def entries(d):
    """name -> (uid, gid, mode) of every entry of directory d (lstat)."""
    out = {}
    for n in os.listdir(d):
        st = os.lstat(os.path.join(d, n))
        out[n] = (st.st_uid, st.st_gid, st.st_mode)
    return out


def key_known(key, value):
    """True if the pop3d under test knows the config key (pop3d -t)."""
    d = tempfile.mkdtemp(prefix="postern-e2e.")
    try:
        path = os.path.join(d, "c.conf")
        with open(path, "w") as f:
            f.write("%s = %s\n" % (key, value))
        p = subprocess.run([lib.POP3D, "-t", "-f", path],
                           capture_output=True, timeout=10 * lib.SLOW)
        return b"unknown key" not in p.stdout + p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


# One log field: key=value, the value bare or in double quotes with
# backslash escapes; what is not a field is skipped word by word.
FIELD = re.compile(r'\s*(?:([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)'
                   r'|"(?:[^"\\]|\\.)*"|\S+)')


def log_fields(line):
    """[(key, value)] of a log line, as a log parser would read it."""
    out, i = [], 0
    while i < len(line):
        m = FIELD.match(line, i)
        if not m or m.end() == i:
            break
        if m.group(1):
            out.append((m.group(1), m.group(2)))
        i = m.end()
    return out


@unittest.skipUnless(lib.IS_ROOT, "not running as root: the attacks need "
                     "system accounts and a spool owned by root:mail")
class Base(accounts.Base):
    """test_accounts.py's spool and server, and the accounts of the test."""

    @classmethod
    def setUpClass(cls):
        why = pop2_missing(need_folders=True)
        if why:
            raise unittest.SkipTest(why)
        cls.mail_gid = accounts.mail_gid()
        cls.top = os.path.realpath(tempfile.mkdtemp(
            prefix="postern-e2e-homes."))
        cls.addClassCleanup(shutil.rmtree, cls.top, True)
        os.chmod(cls.top, 0o755)
        os.mkdir(os.path.join(cls.top, "home"), 0o755)
        for name in (accounts.PRE, NAME_A, NAME_B, NAME_C):
            cls.addClassCleanup(accounts.remove_user, name)
        accounts.add_user(accounts.PRE, system=True)
        cls.a, cls.b, cls.c = (
            add_account(n, os.path.join(cls.top, "home", n))
            for n in (NAME_A, NAME_B, NAME_C))
        cls.has_state_dir = key_known("state_dir", "/nonexistent")

    def setUp(self):
        for u in (self.a, self.b, self.c):
            if os.path.islink(u.home):
                os.unlink(u.home)
            shutil.rmtree(u.home, ignore_errors=True)
            os.mkdir(u.home, 0o755)
            os.mkdir(u.mail, 0o700)
            u.chown(u.home)
            u.chown(u.mail)
        s = self.s = self.make_server()
        self.state = os.path.join(s.tmp, "state")
        if not os.path.isdir(self.state):
            os.mkdir(self.state, 0o755)     # lib.Server makes it, or not
        if self.has_state_dir:
            s.conf["state_dir"] = self.state
        self.mb_a = simple_mbox(2, "alice")
        self.mb_b = simple_mbox(3, "bob")
        self.drop_a = self.put_spool(self.a, self.mb_a.data())
        self.drop_b = self.put_spool(self.b, self.mb_b.data())
        s.prepare([])

    # -- files ----------------------------------------------------------
    def put_spool(self, u, data):
        path = os.path.join(self.spool, u.name)
        lib.write_file(path, data, 0o660)
        os.chown(path, u.uid, self.mail_gid)
        return path

    def put_folder(self, u, name, data, mode=0o600):
        path = os.path.join(u.mail, name)
        lib.write_file(path, data, mode)
        u.chown(path)
        return path

    def state_problems(self, u):
        """What the state dir holds that it should not after a session:
        anything but the user's own directory, or a journal in it."""
        out = []
        for n in os.listdir(self.state):
            p = os.path.join(self.state, n)
            st = os.lstat(p)
            if n != u.name or not os.path.isdir(p) or os.path.islink(p) or \
                    st.st_uid != u.uid:
                out.append("state dir holds %r" % n)
                continue
            left = [x for x in os.listdir(p) if "journal" in x]
            if left:
                out.append("journal left in the state dir: %r" % left)
        return out

    def plant(self, path, data=b"", age=0, groups=()):
        """C creates path (0644) holding data, mtime `age` seconds old."""
        self.c.run("sh", "-c", 'umask 022 && printf %s "$1" > "$2"', "sh",
                   data.decode(), path, groups=groups)
        if age:
            t = time.time() - age
            self.c.run("touch", "-d", "@%d" % t, path, groups=groups)
        self.assertEqual(os.lstat(path).st_uid, self.c.uid)

    def journal_names(self, maildrop):
        """The journal names of main and of state_dir (INTERFACES.md 2)."""
        base = os.path.basename(maildrop)
        h = hashlib.sha256(maildrop.encode()).hexdigest()[:16]
        return [".%s.journal" % base, ".%s.journal.tmp" % base,
                h + ".journal", h + ".journal.tmp"]

    # -- sessions -------------------------------------------------------
    def pop3(self, u, password=PASS):
        """`pop3d -i` logged in as u; returns (client, process, reply)."""
        c, p = self.s.spawn_i()
        self.addCleanup(c.close)
        c.greeting()
        c.ok("USER " + u.name)
        return c, p, c.cmd("PASS " + password)

    def try_pop3(self, u):
        """As pop3, for a server that may refuse to start (no +OK
        greeting): then the reply is the greeting line."""
        c, p = self.s.spawn_i()
        self.addCleanup(c.close)
        r = c.readline()
        if r.startswith(b"+OK"):
            c.ok("USER " + u.name)
            r = c.cmd("PASS " + PASS)
        return c, p, r

    def pop2(self, u):
        """`pop3d -i -p pop2` after HELO as u: (client, process, count)."""
        pop, p = self.s.spawn_i(args=("-e", "-p", "pop2"))
        c = Pop2Client(pop.sock, timeout=10 * lib.SLOW)
        self.addCleanup(c.close)
        c.greeting()
        return c, p, c.helo(u.name, PASS)

    def ended(self, p):
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0,
                         "the session did not end cleanly")

    def session_procs(self, p, u, timeout=5.0):
        """[(pid, status)] of the processes under p running as u."""
        deadline = time.monotonic() + timeout * lib.SLOW
        while True:
            out = []
            for pid in [p.pid] + lib.descendants_of(p.pid):
                st = lib.proc_status(pid)
                if st and accounts.ids(st, "Uid") == [u.uid] * 4:
                    out.append((pid, st))
            if out or time.monotonic() > deadline:
                return out
            time.sleep(0.05)

    def gets_all(self, u, mb):
        """u logs in over POP3 and gets every message of mb; no
        deletion."""
        c, p, r = self.pop3(u)
        self.assertTrue(r.startswith(b"+OK"), "%s cannot log in: %r\n%s" %
                        (u.name, r, self.s.log()[-3000:]))
        self.assertEqual(c.ok("STAT"), b"+OK %d %d" % (
            len(mb.msgs), sum(m.octets() for m in mb.msgs)))
        for i, m in enumerate(mb.msgs):
            c.ok("RETR %d" % (i + 1))
            lib.same(self, c.multi(), m.wire(), "message %d" % (i + 1))
        c.ok("QUIT")
        c.expect_eof()
        self.ended(p)

    def read_delete_first(self):
        """A logs in over POP3, reads message 1, deletes it and QUITs;
        the maildrop then holds the rest."""
        c, p, r = self.pop3(self.a)
        self.assertTrue(r.startswith(b"+OK"), "A cannot log in: %r\n%s" %
                        (r, self.s.log()[-3000:]))
        self.assertEqual(c.ok("STAT")[:6], b"+OK 2 ")
        c.ok("RETR 1")
        lib.same(self, c.multi(), self.mb_a.msgs[0].wire())
        c.ok("DELE 1")
        c.ok("QUIT")
        c.expect_eof()
        self.ended(p)
        lib.same(self, lib.read_file(self.drop_a), self.mb_a.without({0}))

    def fold_attack(self, u, name):
        """u logs in over POP2, FOLDs to name and, if that shows mail,
        takes message 1 and deletes it (READ, RETR, ACKD), then QUITs.
        Returns (FOLD's count, [message data taken])."""
        c, p, _ = self.pop2(u)
        n = c.fold(name)
        got = []
        if c.read(1) > 0:
            got.append(c.retr())
            c.ackd()
        c.quit()
        c.expect_eof()
        self.ended(p)
        return n, got

    def foreign_problems(self, d, before, u):
        """What is new in directory d (listed as `before`): new entries,
        and entries now owned by u."""
        out = []
        now = entries(d)
        for n in sorted(set(now) - set(before)):
            out.append("new in %s: %r (uid %d)" % (d, n, now[n][0]))
        for n in sorted(set(now) & set(before)):
            if now[n][0] == u.uid and before[n][0] != u.uid:
                out.append("%s/%s now owned by %s" % (d, n, u.name))
        return out


# --------------------------------------------------------------------------
# 1. Confinement

class ConfinementTest(Base):

    def victim_untouched(self, problems, spool_before):
        if lib.read_file(self.drop_b) != self.mb_b.data():
            problems.append("B's maildrop was changed")
        problems += self.foreign_problems(self.spool, spool_before, self.a)

    def test_mail_symlink_to_spool(self):
        """The reproduced attack: ln -s <spool> ~/Mail; FOLD B."""
        os.rmdir(self.a.mail)
        self.a.run("ln", "-s", self.spool, self.a.mail)
        before = entries(self.spool)
        n, got = self.fold_attack(self.a, self.b.name)
        problems = []
        if n != 0:
            problems.append("FOLD %s answered #%d, not #0" % (self.b.name, n))
        if got:
            problems.append("A retrieved %d of B's messages" % len(got))
        self.victim_untouched(problems, before)
        self.assertEqual(problems, [], self.s.log()[-3000:])
        self.gets_all(self.b, self.mb_b)
        lib.same(self, lib.read_file(self.drop_a), self.mb_a.data())

    def home_layout(self):
        """maildrop = ~/Mail/inbox, and B keeps his ~/Mail open to the
        mail group (as for an MDA running with it): B:mail 2770, inbox
        B:mail 0660, which would let A's session in if it kept the mail
        group.  (Outside the spool pop3d may refuse that layout for B
        himself; what counts is that B's inbox stays as it is.)  Returns
        B's inbox path."""
        self.s.conf["maildrop"] = "~/Mail/inbox"
        self.s.prepare([])
        os.chown(self.b.mail, self.b.uid, self.mail_gid)
        os.chmod(self.b.mail, 0o2770)
        inbox = os.path.join(self.b.mail, "inbox")
        lib.write_file(inbox, self.mb_b.data(), 0o660)
        os.chown(inbox, self.b.uid, self.mail_gid)
        return inbox

    def pop3_attack(self, inbox):
        """A logs in over POP3 and tries to read and delete message 1;
        returns the problems found."""
        before = entries(self.b.mail)
        c, p, r = self.pop3(self.a)
        problems = []
        if r.startswith(b"+OK"):
            st = c.ok("STAT")
            if st != b"+OK 0 0":
                problems.append("A's STAT shows %r" % st)
                c.ok("RETR 1")
                c.multi()
                c.ok("DELE 1")
            c.ok("QUIT")
        c.expect_eof()
        p.wait(timeout=10 * lib.SLOW)
        if lib.read_file(inbox) != self.mb_b.data():
            problems.append("B's inbox was changed")
        problems += self.foreign_problems(self.b.mail, before, self.a)
        return problems

    def test_maildrop_dir_symlink_to_other_users_dir(self):
        """~/Mail/inbox with ~/Mail -> B's ~/Mail."""
        inbox = self.home_layout()
        os.rmdir(self.a.mail)
        self.a.run("ln", "-s", self.b.mail, self.a.mail)
        problems = self.pop3_attack(inbox)
        self.assertEqual(problems, [], self.s.log()[-3000:])

    def test_home_is_symlink_to_other_users_home(self):
        """A's home (as passwd has it) is a symlink to B's home."""
        inbox = self.home_layout()
        shutil.rmtree(self.a.home)
        os.symlink(self.b.home, self.a.home)
        problems = self.pop3_attack(inbox)
        self.assertEqual(problems, [], self.s.log()[-3000:])

    def test_spool_path_through_admin_symlink(self):
        """The unlucky admin: maildrop = <tmp>/varmail/%u, where varmail
        is root's symlink to the spool.  Refused, and the log says
        why."""
        link = os.path.join(self.s.tmp, "varmail")
        os.symlink(self.spool, link)
        self.s.conf["maildrop"] = os.path.join(link, "%u")
        self.s.prepare([])
        before = entries(self.spool)
        c, p, r = self.try_pop3(self.a)
        self.assertFalse(r.startswith(b"+OK"), "logged in: %r" % r)
        p.wait(timeout=10 * lib.SLOW)
        self.assertTrue(self.s.wait_log(r"symbolic link"),
                        "the log does not say why:\n" + self.s.log())
        self.assertEqual(entries(self.spool), before)
        lib.same(self, lib.read_file(self.drop_a), self.mb_a.data())

    def test_planted_maildrop_in_sticky_spool(self):
        """A has no maildrop yet; in a 1777 spool C plants one (0666)
        full of mail "for" A.  A must not be served C's file."""
        os.chmod(self.spool, 0o1777)
        os.unlink(self.drop_a)
        fake = simple_mbox(2, "fake").data()
        self.plant(self.drop_a, fake)
        self.c.run("chmod", "666", self.drop_a)
        c, p, r = self.pop3(self.a)
        if r.startswith(b"+OK"):
            self.assertEqual(c.ok("STAT"), b"+OK 0 0",
                             "A is served C's planted maildrop")
            c.ok("QUIT")
        c.expect_eof()
        p.wait(timeout=10 * lib.SLOW)
        lib.same(self, lib.read_file(self.drop_a), fake)
        self.assertEqual(os.lstat(self.drop_a).st_uid, self.c.uid)

    def test_folder_symlink_to_victim(self):
        """A final-component symlink: ~/Mail/loot -> <spool>/B."""
        self.a.run("ln", "-s", self.drop_b, os.path.join(self.a.mail,
                                                          "loot"))
        before = entries(self.spool)
        n, got = self.fold_attack(self.a, "loot")
        problems = []
        if n != 0:
            problems.append("FOLD loot answered #%d, not #0" % n)
        self.victim_untouched(problems, before)
        self.assertEqual(problems, [], self.s.log()[-3000:])
        self.gets_all(self.b, self.mb_b)

    def test_folder_hard_link_to_victim(self):
        """~/Mail/hl is a hard link to B's maildrop (st_nlink 2)."""
        hl = os.path.join(self.a.mail, "hl")
        p = subprocess.run(["ln", self.drop_b, hl], capture_output=True,
                           timeout=30, cwd="/", **self.a.popen_kw())
        if p.returncode != 0:
            # fs.protected_hardlinks = 1: A cannot; root simulates a
            # link made before, or on a system that allows it
            os.link(self.drop_b, hl)
        self.addCleanup(lambda: os.path.lexists(hl) and os.unlink(hl))
        before = entries(self.spool)
        n, got = self.fold_attack(self.a, "hl")
        problems = []
        if n != 0:
            problems.append("FOLD hl answered #%d, not #0" % n)
        if got:
            problems.append("A retrieved %d of B's messages" % len(got))
        self.victim_untouched(problems, before)
        self.assertEqual(problems, [], self.s.log()[-3000:])
        os.unlink(hl)
        self.gets_all(self.b, self.mb_b)

    def test_folder_file_of_other_user(self):
        """~/Mail/gift is B's file (B:mail 0660), e.g. left by an admin."""
        gift = os.path.join(self.a.mail, "gift")
        lib.write_file(gift, self.mb_b.data(), 0o660)
        os.chown(gift, self.b.uid, self.mail_gid)
        before = entries(self.a.mail)
        n, got = self.fold_attack(self.a, "gift")
        problems = []
        if n != 0:
            problems.append("FOLD gift answered #%d, not #0" % n)
        if lib.read_file(gift) != self.mb_b.data():
            problems.append("B's file was changed")
        problems += self.foreign_problems(self.a.mail, before, self.a)
        self.assertEqual(problems, [], self.s.log()[-3000:])

    def folder_dir_refused(self, owner, group, mode):
        """~/Mail owned by owner:group with mode holds A's own folder
        "work"; FOLD work must be #0 and leave the directory as it
        was."""
        work = self.put_folder(self.a, "work", simple_mbox(2, "w").data())
        os.chown(self.a.mail, owner, group)
        os.chmod(self.a.mail, mode)
        before = entries(self.a.mail)
        n, got = self.fold_attack(self.a, "work")
        problems = []
        if n != 0:
            problems.append("FOLD work answered #%d, not #0" % n)
        if lib.read_file(work) != simple_mbox(2, "w").data():
            problems.append("the folder was changed")
        problems += self.foreign_problems(self.a.mail, before, self.a)
        self.assertEqual(problems, [], self.s.log()[-3000:])

    def test_folder_dir_of_other_user(self):
        """~/Mail is B's (B:mail 2775): B could swap A's folders."""
        self.folder_dir_refused(self.b.uid, self.mail_gid, 0o2775)

    def test_folder_dir_group_writable(self):
        """~/Mail is A's but writable by C's group."""
        self.folder_dir_refused(self.a.uid, self.c.gid, 0o770)


# --------------------------------------------------------------------------
# 2. Nothing left behind

class LeftoversTest(Base):

    def test_pop3_session_leaves_nothing(self):
        spool, mail = entries(self.spool), entries(self.a.mail)
        self.read_delete_first()
        self.assertEqual(entries(self.spool), spool)
        self.assertEqual(entries(self.a.mail), mail)
        self.assertEqual(self.state_problems(self.a), [])

    def test_pop2_fold_leaves_nothing(self):
        saved = simple_mbox(3, "saved")
        path = self.put_folder(self.a, "saved", saved.data())
        spool, mail = entries(self.spool), entries(self.a.mail)
        c, p, n = self.pop2(self.a)
        self.assertEqual(n, 2)
        c.read(1)
        c.retr()
        c.ackd()
        self.assertEqual(c.fold("saved"), 3)
        c.read(2)
        lib.same(self, c.retr(), saved.msgs[1].wire())
        c.ackd()
        self.assertEqual(c.fold("INBOX"), 1)
        c.quit()
        c.expect_eof()
        self.ended(p)
        lib.same(self, lib.read_file(self.drop_a), self.mb_a.without({0}))
        lib.same(self, lib.read_file(path), saved.without({1}))
        self.assertEqual(entries(self.spool), spool)
        self.assertEqual(entries(self.a.mail), mail)
        self.assertEqual(self.state_problems(self.a), [])


# --------------------------------------------------------------------------
# 3. Nothing plantable

class PlantedTest(Base):

    def test_planted_in_sticky_spool(self):
        """C plants .A.pop and journal-named files in a 1777 spool; A
        still logs in, reads and deletes."""
        os.chmod(self.spool, 0o1777)
        planted = [".%s.pop" % self.a.name] + \
            self.journal_names(self.drop_a)
        for n in planted:
            self.plant(os.path.join(self.spool, n), b"planted by C\n")
        before = entries(self.spool)
        self.read_delete_first()
        self.assertEqual(entries(self.spool), before)

    def test_planted_dotlock_in_sticky_spool(self):
        """C plants A.lock in a 1777 spool: an hour old, fresh, a
        symlink to B's maildrop, a directory, a FIFO.  A still logs in,
        reads and deletes; B's maildrop is untouched; a planted file or
        symlink is gone afterwards (else it keeps procmail out)."""
        os.chmod(self.spool, 0o1777)
        self.s.conf["lock_timeout"] = "2"
        self.s.prepare([])
        lock = self.drop_a + ".lock"
        cases = {
            "old file": lambda: self.plant(lock, b"1 nohost\n", age=OLD),
            "fresh file": lambda: self.plant(lock, b"1 nohost\n"),
            "symlink": lambda: self.c.run("ln", "-s", self.drop_b, lock),
            "directory": lambda: self.c.run("mkdir", lock),
            "fifo": lambda: self.c.run("mkfifo", lock),
        }
        for case, make in cases.items():
            with self.subTest(case=case):
                self.put_spool(self.a, self.mb_a.data())
                make()
                try:
                    self.read_delete_first()
                    lib.same(self, lib.read_file(self.drop_b),
                             self.mb_b.data())
                    if case in ("old file", "fresh file", "symlink"):
                        self.assertFalse(os.path.lexists(lock),
                                         "the planted %s stays" % case)
                finally:
                    if os.path.isdir(lock) and not os.path.islink(lock):
                        os.rmdir(lock)
                    elif os.path.lexists(lock):
                        os.unlink(lock)

    def test_replanted_dotlock_race(self):
        """C plants A.lock again as soon as it is gone (a tight loop)
        while A logs in, reads and deletes."""
        os.chmod(self.spool, 0o1777)
        self.s.conf["lock_timeout"] = "2"
        self.s.prepare([])
        lock = self.drop_a + ".lock"
        self.plant(lock)
        loop = subprocess.Popen(
            ["sh", "-c", 'while :; do [ -e "$1" ] || : > "$1"; done', "sh",
             lock], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, cwd="/", start_new_session=True,
            **self.c.popen_kw())
        self.addCleanup(lib.kill_group, loop, signal.SIGKILL, 2)
        for _ in range(3):
            self.put_spool(self.a, self.mb_a.data())
            self.read_delete_first()
        self.assertIsNone(loop.poll(), "C's loop ended")

    def test_planted_mail_group_dotlock_in_setgid_sticky_spool(self):
        """A 3777 root:mail spool gives C's planted A.lock the mail
        group; an hour old and with the fcntl lock free, it is stale."""
        os.chmod(self.spool, 0o3777)
        self.s.conf["lock_timeout"] = "2"
        self.s.prepare([])
        lock = self.drop_a + ".lock"
        self.plant(lock, b"1 nohost\n", age=OLD)
        self.assertEqual(os.lstat(lock).st_gid, self.mail_gid)
        self.read_delete_first()

    def test_planted_in_group_writable_folder_dir(self):
        """~/Mail is A:A 2770 and C is in A's group (a shared team
        group): C plants .saved.pop and journal names there; A still
        reads and deletes in the folder over POP2."""
        saved = simple_mbox(2, "saved")
        path = self.put_folder(self.a, "saved", saved.data())
        os.chmod(self.a.mail, 0o2770)
        for n in [".saved.pop"] + self.journal_names(path):
            self.plant(os.path.join(self.a.mail, n), b"planted by C\n",
                       groups=[self.a.gid])
        before = entries(self.a.mail)
        c, p, n = self.pop2(self.a)
        self.assertEqual(n, 2)
        self.assertEqual(c.fold("saved"), 2, self.s.log()[-3000:])
        c.read(1)
        lib.same(self, c.retr(), saved.msgs[0].wire())
        c.ackd()
        c.quit()
        c.expect_eof()
        self.ended(p)
        lib.same(self, lib.read_file(path), saved.without({0}))
        self.assertEqual(entries(self.a.mail), before)

    def test_state_dir_not_plantable(self):
        """The journals' state_dir: an admin made it 1777 and C planted
        <state_dir>/A as a symlink to his home; or <state_dir>/A is C's
        (a uid reused).  A's deletion journal must not land in C's
        hands: nothing appears in C's home or C's directory."""
        if not self.has_state_dir:
            self.skipTest("no state_dir key in this build")
        mine = os.path.join(self.state, self.a.name)
        cases = {
            "sticky, symlink": (0o1777, lambda: self.c.run(
                "ln", "-s", self.c.home, mine)),
            "C's directory": (0o755, lambda: (
                os.mkdir(mine, 0o777), self.c.chown(mine),
                os.chmod(mine, 0o777))),
        }
        for case, (mode, make) in cases.items():
            with self.subTest(case=case):
                os.chmod(self.state, mode)
                self.put_spool(self.a, self.mb_a.data())
                make()
                try:
                    home = entries(self.c.home)
                    c, p, r = self.try_pop3(self.a)
                    if r.startswith(b"+OK"):
                        c.ok("DELE 1")
                        c.cmd("QUIT")
                    c.expect_eof()
                    p.wait(timeout=10 * lib.SLOW)
                    self.assertEqual(entries(self.c.home), home)
                    if not os.path.islink(mine):
                        self.assertEqual(os.listdir(mine), [])
                    self.assertIn(lib.read_file(self.drop_a), (
                        self.mb_a.data(), self.mb_a.without({0})))
                finally:
                    if os.path.islink(mine):
                        os.unlink(mine)
                    else:
                        shutil.rmtree(mine, ignore_errors=True)

    @unittest.skipUnless(os.path.exists(lib.PROCMAIL),
                         "procmail not installed")
    def test_delivery_during_session(self):
        """procmail (setgid mail, run as A as an MTA's local delivery
        would) delivers while A's POP3 session is open."""
        rc = lib.procmail_rc(self.a.home, self.drop_a, owner=self.a)
        new = lib.simple_message(10, "during")
        c, p, r = self.pop3(self.a)
        self.assertTrue(r.startswith(b"+OK"), r)
        c.ok("DELE 1")
        t0 = time.monotonic()
        lib.procmail_deliver(rc, new.envelope + b"\n" + new.content,
                             owner=self.a, timeout=10)
        self.assertLess(time.monotonic() - t0, 5 * lib.SLOW)
        self.assertEqual(c.ok("STAT")[:6], b"+OK 1 ")
        c.ok("QUIT")
        c.expect_eof()
        self.ended(p)
        seg = new.envelope + b"\n" + new.content + b"\n"
        lib.same(self, lib.read_file(self.drop_a),
                 self.mb_a.without({0}) + seg)


# --------------------------------------------------------------------------
# 4. The mail group is only for dotlocks

class MailGroupTest(Base):

    def test_mail_group_only_saved(self):
        c, p, r = self.pop3(self.a)
        self.assertTrue(r.startswith(b"+OK"), r)
        c.ok("STAT")
        procs = self.session_procs(p, self.a)
        self.assertNotEqual(procs, [], "no process runs as A")
        for pid, st in procs:
            gid = accounts.ids(st, "Gid")      # real, effective, saved, fs
            self.assertEqual(st["Groups"].split(), [],
                             "pid %d has supplementary groups" % pid)
            self.assertEqual([gid[0], gid[1], gid[3]], [self.a.gid] * 3,
                             "pid %d: Gid %r" % (pid, gid))
            self.assertIn(gid[2], (self.a.gid, self.mail_gid),
                          "pid %d: Gid %r" % (pid, gid))
        # ... and the dotlock in the 2775 spool still works
        c.ok("DELE 2")
        c.ok("QUIT")
        c.expect_eof()
        self.ended(p)
        lib.same(self, lib.read_file(self.drop_a), self.mb_a.without({1}))

    def test_fold_into_mail_group_dir(self):
        """~/Mail is root:mail 2770: only the mail group reaches A's
        folder in it, and a session must not use it there."""
        work = self.put_folder(self.a, "work", simple_mbox(2, "w").data())
        os.chown(self.a.mail, 0, self.mail_gid)
        os.chmod(self.a.mail, 0o2770)
        before = entries(self.a.mail)
        n, got = self.fold_attack(self.a, "work")
        self.assertEqual((n, got), (0, []), "the session used group mail")
        lib.same(self, lib.read_file(work), simple_mbox(2, "w").data())
        self.assertEqual(entries(self.a.mail), before)


# --------------------------------------------------------------------------
# 5. Log forging

class LogForgingTest(Base):

    def test_fold_name_forges_no_field(self):
        for name in ("x user=bob addr=10.9.9.9",
                     'y" user=bob addr="10.9.9.9'):
            with self.subTest(name=name):
                self.put_folder(self.a, name, simple_mbox(1, "f").data())
                start = len(self.s.log())
                c, p, _ = self.pop2(self.a)
                self.assertEqual(c.fold(name), 1)
                c.quit()
                c.expect_eof()
                self.ended(p)
                lines = [l for l in self.s.log()[start:].splitlines()
                         if "fold" in l]
                self.assertNotEqual(lines, [], "FOLD was not logged")
                for l in lines:
                    f = log_fields(l)
                    self.assertNotIn(("user", "bob"), f, l)
                    self.assertNotIn("10.9.9.9", [v for k, v in f], l)
                    self.assertNotIn('"10.9.9.9"', [v for k, v in f], l)
                    self.assertEqual([v for k, v in f if k == "user"],
                                     [self.a.name], l)
                if '"' not in name:
                    self.assertTrue(any(name in l for l in lines if
                                        re.search(r'="[^"]*%s[^"]*"' %
                                                  re.escape(name), l)),
                                    "the name is not quoted: %r" % lines)


if __name__ == "__main__":
    unittest.main()
