"""
test_pop2_system.py: POP2 (RFC 937) with the rest of the system; the
protocol itself is in test_pop2.py, whose helpers this module uses.

  - a full download with pop2client.py (READ / RETR / ACKD) while
    procmail delivers: every message byte for byte, none lost, none twice;
  - listeners: `listen = pop2 ...` beside a POP3 listener, and a systemd
    socket named pop2 (systemd-socket-activate);
  - as root: the privilege separation of POP2 sessions (the pre-auth
    child chrooted and unprivileged, the session as the mail user, FOLD
    as the mail user), and a commit at FOLD or QUIT on a full disk.
"""

import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, Mbox, simple_mbox
from pop2client import Pop2Client, Pop2Error
from test_pop2 import Base
import test_root


# --------------------------------------------------------------------------
# A full download while procmail delivers

@unittest.skipUnless(os.path.exists(lib.PROCMAIL), "procmail not installed")
class DownloadTest(Base):

    def test_download_everything_while_procmail_delivers(self):
        rnd = random.Random(937)
        first = [lib.simple_message(i, "old", body_lines=rnd.randint(0, 40))
                 for i in range(40)]
        # the tricky corpus, without its duplicate and its last message
        # (no final newline: mail appended after it would join it)
        first += [m for i, m in enumerate(lib.standard_messages())
                  if i not in (7, 8)]
        s = self.make(Mbox(first))
        rc = lib.procmail_rc(s.tmp, s.maildrop())
        n_new = 60 if lib.SLOW == 1 else 30
        new = [lib.simple_message(i, "new", body_lines=rnd.randint(1, 30),
                                  envelope=b"From new-%d@example.org Mon "
                                  b"Jan  1 00:00:00 2024" % i)
               for i in range(n_new)]
        want = {m.wire() for m in first + new}
        self.assertEqual(len(want), len(first) + len(new))
        errors = []

        def deliver():
            try:
                for m in new:
                    lib.procmail_deliver(rc, m.envelope + b"\n" + m.content)
                    time.sleep(rnd.uniform(0, 0.02))
            except Exception as e:      # reported below
                errors.append(repr(e))

        t = threading.Thread(target=deliver)
        t.start()
        got = []
        deadline = time.monotonic() + 90 * lib.SLOW
        try:
            sessions = 0
            while time.monotonic() < deadline:
                sessions += 1
                c = self.session(s)
                try:
                    n = c.helo(DEFAULT_USER, DEFAULT_PASS)
                except Pop2Error as e:
                    if e.reply and e.reply.startswith(b"- mailbox busy"):
                        time.sleep(0.1)
                        continue
                    raise
                data = c.download_all(delete=True)
                self.assertEqual(len(data), n, "every message of #%d" % n)
                got.extend(data)
                c.quit()
                self.wait_exit()
                if not t.is_alive() and n == 0:
                    break
                time.sleep(0.05)
        finally:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertFalse(t.is_alive(), "procmail did not finish")
        # every message byte for byte, none lost, none twice
        self.assertEqual(len(got), len(want))
        self.assertEqual(set(got), want)
        self.assertEqual(s.read_mbox(), b"")
        self.assertGreater(sessions, 1)


# --------------------------------------------------------------------------
# The listener: `listen = pop2 ...` beside a POP3 listener

class ListenerTest(Base):

    def test_pop2_and_pop3_listeners(self):
        mb = simple_mbox(2)
        s = self.make(mb)
        p2, p3 = lib.free_port(), lib.free_port()
        s.port = p3
        s.start(listen=["pop3 127.0.0.1:%d" % p3, "pop2 127.0.0.1:%d" % p2])
        self.assertTrue(lib.wait_port(p2, proc=s.proc))
        with Pop2Client.connect(p2, timeout=10 * lib.SLOW) as c:
            g = c.readline()
            if g.startswith(b"+OK"):
                self.skipTest("the listener does not serve POP2 yet "
                              "(listener.c: session_run_proto)")
            self.assertRegex(g, rb"^\+ POP2 e2e\.example .*\r\n$")
            self.assertEqual(c.helo(DEFAULT_USER, DEFAULT_PASS), 2)
            c.read(2)
            lib.same(self, c.retr(), mb.msgs[1].wire())
            c.ackd()
            c.quit()
            self.assertEqual(c.expect_eof(), b"")
        self.assertTrue(s.wait_log(r"end user=alice .* end=quit proto=pop2"))
        with s.login() as c:
            self.assertEqual(c.ok("STAT"), b"+OK 1 %d" % mb.msgs[0].octets())
            c.ok("QUIT")


    @unittest.skipUnless(shutil.which("systemd-socket-activate"),
                         "systemd-socket-activate not installed")
    def test_systemd_socket_named_pop2(self):
        """A socket passed by systemd with FileDescriptorName=pop2."""
        mb = simple_mbox(2)
        s = self.make(mb)
        port = lib.free_port()
        logf = open(s.new_log("socket-activate"), "ab")
        try:
            sp = subprocess.Popen(
                ["systemd-socket-activate", "-l", "127.0.0.1:%d" % port,
                 "--fdname=pop2", lib.POP3D, "-f", s.conf_path, "-F"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, env=s.env(), **s.popen_kw())
        finally:
            logf.close()
        self.addCleanup(lib.kill_group, sp)
        self.assertTrue(lib.wait_port(port, proc=sp))
        with Pop2Client.connect(port, timeout=10 * lib.SLOW) as c:
            g = c.readline()
            if g.startswith(b"+OK"):
                self.skipTest("systemd sockets named pop2 serve POP3")
            self.assertRegex(g, rb"^\+ POP2 e2e\.example .*\r\n$")
            self.assertEqual(c.helo(DEFAULT_USER, DEFAULT_PASS), 2)
            c.quit()


# --------------------------------------------------------------------------
# Privilege separation as root: the same as POP3's (test_root.py)

PRE2 = "postern-e2p"
MAIL2 = "postern-e2q"


@unittest.skipUnless(lib.IS_ROOT, "not running as root: privilege "
                     "separation is tested only when the suite runs as root")
class RootTest(Base):
    @classmethod
    def setUpClass(cls):
        import test_root
        cls.addClassCleanup(test_root.remove_user, PRE2)
        cls.addClassCleanup(test_root.remove_user, MAIL2)
        cls.pre = test_root.add_user(PRE2)
        cls.mail = test_root.add_user(MAIL2)

    def find(self, root_pid, uid, timeout=5.0):
        deadline = time.monotonic() + timeout * lib.SLOW
        while time.monotonic() < deadline:
            for pid in lib.descendants_of(root_pid):
                st = lib.proc_status(pid)
                if st and [int(x) for x in st["Uid"].split()] == [uid] * 4:
                    return pid, st
            time.sleep(0.05)
        return None, None

    def test_privilege_separation_and_fold_as_the_mail_user(self):
        self.require_folders()
        mb = simple_mbox(3)
        work = simple_mbox(2, "work")
        s = lib.server(self, as_root=True)
        chroot = os.path.join(s.tmp, "empty")
        os.mkdir(chroot, 0o755)
        folders = os.path.join(s.tmp, "folders")
        os.makedirs(os.path.join(folders, DEFAULT_USER), 0o700)
        s.conf.update({"pre_auth_user": PRE2, "chroot": chroot,
                       "pop2_folder_dir": os.path.join(folders, "%u")})
        s.uidgid = (self.mail.pw_uid, self.mail.pw_gid)
        muid, mgid = self.mail.pw_uid, self.mail.pw_gid
        os.chown(s.maildir, muid, mgid)
        s.put_mbox(mb.data())
        os.chown(s.maildrop(), muid, mgid)
        wpath = os.path.join(folders, DEFAULT_USER, "work")
        lib.write_file(wpath, work.data())
        for p in (os.path.join(folders, DEFAULT_USER), wpath):
            os.chown(p, muid, mgid)
        s.prepare([])
        pop, proc = s.spawn_i(args=("-e", "-p", "pop2"))
        c = Pop2Client(pop.sock, timeout=10 * lib.SLOW)
        self.addCleanup(c.close)
        c.greeting()
        # before HELO: the child reading the network is PRE2, chrooted
        pid, st = self.find(proc.pid, self.pre.pw_uid)
        self.assertIsNotNone(pid, "no process runs as %s" % PRE2)
        self.assertEqual(os.readlink("/proc/%d/root" % pid),
                         os.path.realpath(chroot))
        self.assertEqual(c.helo(DEFAULT_USER, DEFAULT_PASS), 3)
        # after: the session master itself is MAIL2, nothing is root
        st = lib.proc_status(proc.pid)
        self.assertEqual([int(x) for x in st["Uid"].split()], [muid] * 4)
        # no supplementary group; the mail group only as the saved
        # set-group-ID (INTERFACES 5)
        self.assertEqual([int(x) for x in st["Gid"].split()],
                         [mgid, mgid, test_root.mail_gid(mgid), mgid])
        self.assertEqual(st["Groups"].split(), [])
        c.read(1)
        c.retr()
        c.ackd()
        self.assertEqual(c.fold("work"), 2)
        c.read(2)
        lib.same(self, c.retr(), work.msgs[1].wire())
        c.ackd()
        c.quit()
        self.assertEqual(proc.wait(timeout=10 * lib.SLOW), 0)
        lib.same(self, s.read_mbox(), mb.without({0}))
        lib.same(self, lib.read_file(wpath), work.without({1}))
        for p in (s.maildrop(), wpath):
            st = os.stat(p)
            self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                             (muid, mgid, 0o600))
        # nothing left behind in the folder directory
        self.assertEqual(os.listdir(os.path.join(folders, DEFAULT_USER)),
                         ["work"])


# --------------------------------------------------------------------------
# A commit that cannot be made (design.md §2: ENOSPC aborts UPDATE)

@unittest.skipUnless(lib.IS_ROOT, "needs root to mount a tmpfs")
class EnospcTest(Base):

    def test_full_disk_at_fold_and_quit(self):
        """A FOLD or QUIT whose deletions cannot be made says "-" and
        closes; the maildrop is as it was."""
        import test_enospc
        self.mnt = tempfile.mkdtemp(prefix="postern-e2e-tmpfs.")
        self.addCleanup(os.rmdir, self.mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=1m,mode=0755", "tmpfs", self.mnt],
                           capture_output=True, timeout=20)
        if p.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: %s" %
                          p.stderr.decode().strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt],
                        timeout=20)
        maildir = os.path.join(self.mnt, "mail")
        os.mkdir(maildir, 0o755)
        lib.RUN_AS.chown(maildir)
        # the journal's room is the state directory's: on the tmpfs too
        state = os.path.join(self.mnt, "state")
        os.mkdir(state, 0o755)
        lib.RUN_AS.chown(state)
        mb = test_enospc.big_mbox()
        data = mb.data()
        s = self.make(None, conf={"maildrop": os.path.join(maildir, "%u"),
                                  "state_dir": state})
        s.maildir = maildir
        s.put_mbox(data)
        for cmd in ("FOLD INBOX", "QUIT"):
            with self.subTest(cmd=cmd):
                c = self.login(s)
                c.read(1)
                c.retr()
                c.ackd()
                r = self.expect_error(c, cmd)
                self.assertRegex(r, rb"^- some deleted messages not "
                                 rb"removed")
                self.wait_exit()
                lib.same(self, s.read_mbox(), data)
                self.assertFalse(os.path.exists(s.journal()))
