"""
test_crash.py: kill -9 at every step of UPDATE (design.md §2 "UPDATE
without loss"), with mail appended by procmail before anyone logs in
again.  The test hook POSTERN_TEST_CRASH_AT=N makes the session process
SIGKILL itself just before journal step N of QUIT's UPDATE:
  1 create journal, 2 write data, 3 fsync, 4 commit record, 5 in-place
  rewrite, 6 fsync, 7 truncate, 8 fsync, 9 unlink journal.
N:K fires at the K-th time step N is reached: 5:2 is halfway through the
in-place rewrite ("killed mid-write"), at a 4 KiB boundary of the file as
a real kill -9 stops a write, so the messages are large enough for the
rewritten region to span several blocks.  POSTERN_TEST_MASTER_CRASH_AT does
the same in the per-connection master, whose recovery runs the same
steps (5-9).  Each session runs as `pop3d -i` on a socketpair so that
only the crashing one has the variables.  The hooks exist only in the
test build (pop3d-test, lib.Server(hooks=True)); the production pop3d
ignores the variables (test_sandbox.py checks that).

  - The master recovers at once (design.md §1): right after the kill,
    with no new login, the file holds exactly all messages (a kill
    before the commit, N <= 4) or exactly the survivors, with no dotlock
    and no journal left, and the log says so.  procmail then delivers
    without waiting, and the next login shows that state plus its mail.
  - Recovery at the next login still works when no master recovered:
    the master killed first (an administrator's kill -9, an OOM kill),
    or the master's own recovery killed halfway.  The file is then in
    the crash state; procmail breaks a dotlock older than LOCKTIMEOUT,
    so the test sets the dead dotlock's mtime an hour back.
  - POP2: the master recovers the mailbox the session had selected when
    it died (the spool INBOX it holds, a folder, INBOX selected again).
  - The master holds no copy of the client socket.
"""

import os
import time
import unittest

import lib
from campaign import leftovers
from lib import DEFAULT_PASS, DEFAULT_USER

DELETE = {0, 4, 5}          # 0-based: the first and two in the middle
STEPS = ("1", "2", "3", "4", "5", "5:2", "6", "7", "8", "9")
# Recovery at the next login runs journal_recover as the master's does;
# one step per distinct crash state is enough there.
NO_MASTER_STEPS = ("1", "4", "5:2", "7", "9")
# How long "at once" may take (a kill -9 to a recovered file).
RECOVERY_WAIT = 2.0


def big_mbox(n, tag):
    """n messages of about 4 KiB: step 5:2 needs several blocks."""
    return lib.Mbox([lib.simple_message(i, tag, body_lines=120)
                     for i in range(1, n + 1)])


def session_pid(master):
    """The session process: the master's only child once logged in."""
    for _ in range(100):
        kids = lib.children_of(master)
        if len(kids) == 1:
            return kids[0]
        time.sleep(0.01)
    raise AssertionError("pop3d -i pid %d has children %r, not one session "
                         "process" % (master, lib.children_of(master)))


def gone(tc, pid, timeout=5.0):
    deadline = time.monotonic() + timeout * lib.SLOW
    while lib.proc_status(pid) is not None:
        if time.monotonic() > deadline:
            tc.fail("pid %d still there: %r" % (pid, lib.proc_status(pid)))
        time.sleep(0.01)


@unittest.skipUnless(os.path.exists(lib.PROCMAIL), "procmail not installed")
class CrashTest(unittest.TestCase):

    def crash_session(self, s, step, kill_master=False, env=None):
        """Login, DELE, QUIT with the hook at `step`; with kill_master, the
        master is killed -9 first.  Returns the master's exit status."""
        e = {"POSTERN_TEST_CRASH_AT": str(step)}
        e.update(env or {})
        c, p = s.spawn_i(env=e)
        with c:
            c.greeting()
            c.login()
            sp = session_pid(p.pid)
            if kill_master:
                os.kill(p.pid, 9)
                p.wait(timeout=10 * lib.SLOW)
            for i in sorted(DELETE):
                c.ok("DELE %d" % (i + 1))
            r = c.cmd("QUIT")
            self.assertFalse(r.startswith(b"+OK"),
                             "QUIT answered %r: the crash hook did not fire"
                             % r)
            c.expect_eof(10)
        try:
            rc = p.wait(timeout=10 * lib.SLOW)
        except Exception:
            self.fail("pop3d -i still running after the crash")
        if kill_master:
            # reparented: gone once init has reaped it (until then its
            # pid exists, and its dotlock does not look stale)
            gone(self, sp)
        else:
            self.assertIsNone(lib.proc_status(sp), "session process alive")
        return rc

    def recover_and_check(self, s, msgs, expect_file):
        c, p = s.spawn_i()
        with c:
            c.greeting()
            c.login()
            c.ok("UIDL")
            uids = c.multi().split(b"\r\n")[:-1]
            self.assertEqual(len(set(u.split()[1] for u in uids)), len(msgs))
            lib.assert_serves(self, c, msgs)
            c.ok("QUIT")
            self.assertEqual(c.expect_eof(), b"")
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
        lib.same(self, s.read_mbox(), expect_file)
        self.assertEqual(leftovers(s.tmp), [])

    def check_crash_state(self, s, step, orig, new):
        """What the file and the journal look like right after the kill
        when nobody recovered (proves the hook stopped where it says)."""
        data = s.read_mbox()
        journal = os.path.exists(s.journal())
        n = int(step.split(":")[0])
        if n == 1:
            self.assertFalse(journal, "journal exists before step 1")
        else:
            self.assertTrue(journal, "no journal after the kill")
        self.assertTrue(os.path.exists(s.dotlock()), "no dotlock left")
        if n <= 4 or step == "5":
            lib.same(self, data, orig, "file before the rewrite")
        elif step == "5:2":
            # killed halfway through the in-place rewrite
            self.assertEqual(len(data), len(orig), "size changed")
            self.assertTrue(data != orig,
                            "step 5:2: nothing rewritten yet (the hook fired "
                            "before the rewrite, not halfway through it)")
            self.assertTrue(data[:len(new)] != new,
                            "step 5:2: the rewrite was already complete")
        elif n in (6, 7):
            self.assertEqual(len(data), len(orig), "truncated before step 7")
            lib.same(self, data[:len(new)], new, "rewritten region")
        else:
            lib.same(self, data, new, "file after the truncate")

    def wait_recovered(self, s, want):
        """The master recovers without a login: the file is `want` with no
        dotlock and no journal within RECOVERY_WAIT seconds of the kill."""
        deadline = time.monotonic() + RECOVERY_WAIT * lib.SLOW
        while True:
            data, left = s.read_mbox(), leftovers(s.tmp)
            if (data == want and not left) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        lib.same(self, data, want, "file after the master's recovery")
        self.assertEqual(left, [], "left after the master's recovery")

    def deliver(self, s, rc, tag):
        """procmail appends one message; returns (message, bytes added)."""
        if os.path.exists(s.dotlock()):
            old = time.time() - 3600
            os.utime(s.dotlock(), (old, old))
        before = s.read_mbox()
        extra = lib.simple_message(99, tag)
        lib.procmail_deliver(rc, extra.envelope + b"\n" + extra.content)
        after = s.read_mbox()
        self.assertEqual(after[:len(before)], before)
        appended = after[len(before):]
        self.assertEqual(appended, extra.envelope + b"\n" + extra.content +
                         b"\n")
        return extra, appended

    def setup(self, s, tag):
        mb = big_mbox(10, tag)
        s.put_mbox(mb.data())
        s.prepare()
        rc = lib.procmail_rc(s.tmp, s.maildrop(),
                             extra="LOCKTIMEOUT=60\nSUSPEND=0\n")
        return mb, rc

    def test_crash_every_step(self):
        """The master recovers at once after a kill at any step."""
        for step in STEPS:
            with self.subTest(step=step), lib.Server(self, hooks=True) as s:
                mb, rc = self.setup(s, "crash%s" % step.replace(":", "-"))
                orig, new = mb.data(), mb.without(DELETE)
                early = int(step.split(":")[0]) <= 4
                self.assertEqual(self.crash_session(s, step), 1)
                self.wait_recovered(s, orig if early else new)
                self.assertTrue(s.wait_log(
                    r"recovery user=alice maildrop=\"[^\"]*/alice\" "
                    r"session=\"killed by signal 9\": (completed the "
                    r"interrupted update|no committed update)"), s.log())
                t0 = time.monotonic()
                extra, appended = self.deliver(s, rc, "after-crash-%s" % step)
                # no stale dotlock left for procmail to wait on
                self.assertLess(time.monotonic() - t0, 5 * lib.SLOW)
                if early:
                    kept, expect = mb.msgs, orig
                else:
                    kept, expect = mb.kept(DELETE), new
                self.recover_and_check(s, kept + [extra], expect + appended)

    def test_crash_every_step_without_master(self):
        """With the master gone, the next login recovers, after procmail
        appended to the half-updated file."""
        for step in NO_MASTER_STEPS:
            with self.subTest(step=step), lib.Server(self, hooks=True) as s:
                mb, rc = self.setup(s, "nomaster%s" % step.replace(":", "-"))
                orig, new = mb.data(), mb.without(DELETE)
                self.crash_session(s, step, kill_master=True)
                self.check_crash_state(s, step, orig, new)
                extra, appended = self.deliver(s, rc, "after-crash-%s" % step)
                if int(step.split(":")[0]) <= 4:
                    kept, expect = mb.msgs, orig
                else:
                    kept, expect = mb.kept(DELETE), new
                self.recover_and_check(s, kept + [extra], expect + appended)

    def test_master_recovery_interrupted(self):
        """The master's own recovery killed at a step of its own: the
        journal stays, and the next login completes it."""
        for mstep in ("5", "5:2", "7", "9"):
            with self.subTest(master_step=mstep), \
                    lib.Server(self, hooks=True) as s:
                mb, rc = self.setup(s, "mcrash%s" % mstep.replace(":", "-"))
                self.assertEqual(self.crash_session(
                    s, "7", env={"POSTERN_TEST_MASTER_CRASH_AT": mstep}), -9)
                self.assertTrue(os.path.exists(s.journal()),
                                "the master's recovery was not interrupted")
                extra, appended = self.deliver(s, rc, "after-%s" % mstep)
                self.recover_and_check(s, mb.kept(DELETE) + [extra],
                                       mb.without(DELETE) + appended)

    def test_own_stale_dotlock(self):
        """With no master to recover, the next session breaks the dead
        session's dotlock at once (its pid is gone) instead of waiting
        for it to age."""
        with lib.Server(self, conf={"lock_timeout": "10"},
                        hooks=True) as s:
            mb = big_mbox(10, "stale")
            s.put_mbox(mb.data())
            s.prepare()
            self.crash_session(s, 5, kill_master=True)
            self.assertTrue(os.path.exists(s.dotlock()))
            t0 = time.monotonic()
            self.recover_and_check(s, mb.kept(DELETE), mb.without(DELETE))
            self.assertLess(time.monotonic() - t0, 8 * lib.SLOW)

    def test_master_holds_no_client_socket(self):
        """Only the session process holds the connection: the master
        keeps the maildrop, not the client."""
        with lib.Server(self, hooks=True) as s:
            mb = lib.simple_mbox(3, "sock")
            s.put_mbox(mb.data())
            s.prepare()
            c, p = s.spawn_i()
            with c:
                c.greeting()
                c.login()
                sp = session_pid(p.pid)
                sock = os.readlink("/proc/%d/fd/0" % sp)
                self.assertTrue(sock.startswith("socket:"), sock)

                def links(pid):
                    d = "/proc/%d/fd" % pid
                    return [os.readlink(os.path.join(d, f))
                            for f in os.listdir(d)]
                self.assertNotIn(sock, links(p.pid))
                self.assertIn(s.maildrop(), links(p.pid))
                c.ok("QUIT")
                c.expect_eof()
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)

    def test_session_lock_free_at_quit(self):
        """The session lock is free once QUIT is answered, even while the
        master (which shares the maildrop's open file) has not exited: a
        client that logs in again at once is not refused [IN-USE].  The
        master is stopped to make the window as wide as it can be."""
        import fcntl
        import signal
        with lib.Server(self, hooks=True) as s:
            mb = lib.simple_mbox(3, "quitlock")
            s.put_mbox(mb.data())
            s.prepare()
            c, p = s.spawn_i()
            with c:
                c.greeting()
                c.login()
                session_pid(p.pid)
                os.kill(p.pid, signal.SIGSTOP)
                try:
                    c.ok("DELE 1")
                    c.ok("QUIT")
                    c.expect_eof()
                    with open(s.maildrop(), "rb") as f:
                        try:
                            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        except BlockingIOError:
                            self.fail("session lock still held after QUIT")
                        fcntl.flock(f, fcntl.LOCK_UN)
                finally:
                    os.kill(p.pid, signal.SIGCONT)
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
            self.assertEqual(s.read_mbox(), mb.without({0}))


@unittest.skipUnless(os.path.exists(lib.PROCMAIL), "procmail not installed")
class Pop2CrashTest(unittest.TestCase):
    """The master recovers the mailbox a POP2 session had selected."""

    def make(self, s):
        self.inbox = big_mbox(6, "inbox")
        self.saved = big_mbox(6, "saved")
        s.put_mbox(self.inbox.data())
        self.fdir = os.path.join(s.tmp, "folders", DEFAULT_USER)
        os.makedirs(self.fdir, 0o700)
        lib.RUN_AS.chown_tree(os.path.join(s.tmp, "folders"))
        self.fsaved = os.path.join(self.fdir, "saved")
        lib.write_file(self.fsaved, self.saved.data(), 0o600, lib.RUN_AS)
        s.conf["pop2_folder_dir"] = os.path.join(s.tmp, "folders", "%u")
        s.prepare([])

    def session(self, s, step):
        from pop2client import Pop2Client
        pop, p = s.spawn_i(args=("-e", "-p", "pop2"),
                           env={"POSTERN_TEST_CRASH_AT": step})
        c = Pop2Client(pop.sock, timeout=10 * lib.SLOW)
        self.addCleanup(c.close)
        c.greeting()
        c.helo(DEFAULT_USER, DEFAULT_PASS)
        return c, p

    def ackd_first(self, c):
        c.read(1)
        c.retr()
        c.ackd()

    def crashed(self, c, p, line):
        c.send(line + b"\r\n")
        self.assertEqual(c.expect_eof(), b"")
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 1)

    def wait_file(self, s, path, want):
        deadline = time.monotonic() + RECOVERY_WAIT * lib.SLOW
        while True:
            data, left = lib.read_file(path), leftovers(s.tmp)
            if (data == want and not left) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        lib.same(self, data, want, path)
        self.assertEqual(left, [])

    def test_crash_in_fold_commit_of_inbox(self):
        """Killed while FOLD commits INBOX: the master recovers the INBOX
        it opened at login."""
        with lib.Server(self, hooks=True) as s:
            self.make(s)
            c, p = self.session(s, "7")
            self.ackd_first(c)
            self.crashed(c, p, b"FOLD saved")
            self.wait_file(s, s.maildrop(), self.inbox.without({0}))
            lib.same(self, lib.read_file(self.fsaved), self.saved.data())
            self.assertTrue(s.wait_log(r"recovery user=alice maildrop=\"[^"
                                       r"\"]*/mail/alice\""), s.log())

    def test_crash_in_folder(self):
        """Killed while QUIT commits a folder: the master recovers the
        folder, which the session told it about before opening it."""
        with lib.Server(self, hooks=True) as s:
            self.make(s)
            c, p = self.session(s, "5:2")
            c.fold("saved")
            self.ackd_first(c)
            self.crashed(c, p, b"QUIT")
            self.wait_file(s, self.fsaved, self.saved.without({0}))
            lib.same(self, s.read_mbox(), self.inbox.data())
            self.assertTrue(s.wait_log(r"recovery user=alice maildrop=\"[^"
                                       r"\"]*/saved\""), s.log())

    def test_crash_in_inbox_selected_again(self):
        """FOLD saved, FOLD INBOX, then killed in QUIT: INBOX, which the
        master let go of at the first FOLD, is recovered by path."""
        with lib.Server(self, hooks=True) as s:
            self.make(s)
            c, p = self.session(s, "7")
            c.fold("saved")
            c.fold("INBOX")
            self.ackd_first(c)
            self.crashed(c, p, b"QUIT")
            self.wait_file(s, s.maildrop(), self.inbox.without({0}))
            lib.same(self, lib.read_file(self.fsaved), self.saved.data())


if __name__ == "__main__":
    unittest.main()
