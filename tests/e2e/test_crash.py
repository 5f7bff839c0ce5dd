"""
test_crash.py: kill -9 at every step of UPDATE (design.md §2 "UPDATE
without loss"), with mail appended by procmail between the kill and the
recovery.  The test hook POSTERN_TEST_CRASH_AT=N makes the session
SIGKILL itself just before journal step N of QUIT's UPDATE:
  1 create journal, 2 write data, 3 fsync, 4 commit record, 5 in-place
  rewrite, 6 fsync, 7 truncate, 8 fsync, 9 unlink journal.
N:K fires at the K-th time step N is reached: 5:2 is halfway through the
in-place rewrite ("killed mid-write"), at a 4 KiB boundary of the file as
a real kill -9 stops a write, so the messages are large enough for the
rewritten region to span several blocks.
The hook exists only in the test build (pop3d-test, lib.Server(hooks=True));
the production pop3d ignores the variable (test_sandbox.py checks that).
Each session runs as `pop3d -i` on a socketpair so that only the crashing
one has the variable.  Then a normal login must show exactly the undeleted
messages (all of them if the crash came before the commit, N <= 4) plus
the new one, byte-exact, and the file must hold exactly that.

The killed session leaves its <mbox>.lock dotlock behind.  procmail breaks
a dotlock older than LOCKTIMEOUT; instead of waiting that long, the test
sets the dead dotlock's mtime an hour back (as if the time had passed).
"""

import os
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER

DELETE = {0, 4, 5}          # 0-based: the first and two in the middle


@unittest.skipUnless(os.path.exists(lib.PROCMAIL), "procmail not installed")
class CrashTest(unittest.TestCase):

    def crash_session(self, s, step):
        """Login, DELE, QUIT with the hook at `step`; returns the status
        of the pop3d process."""
        c, p = s.spawn_i(env={"POSTERN_TEST_CRASH_AT": str(step)})
        with c:
            c.greeting()
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            for i in sorted(DELETE):
                c.ok("DELE %d" % (i + 1))
            r = c.cmd("QUIT")
            self.assertFalse(r.startswith(b"+OK"),
                             "QUIT answered %r: the crash hook did not fire"
                             % r)
            c.expect_eof(10)
        try:
            return p.wait(timeout=10 * lib.SLOW)
        except Exception:
            self.fail("pop3d -i still running after the crash")

    def recover_and_check(self, s, msgs, expect_file):
        c, p = s.spawn_i()
        with c:
            c.greeting()
            c.ok("USER " + DEFAULT_USER)
            c.ok("PASS " + DEFAULT_PASS)
            self.assertEqual(c.ok("STAT"), b"+OK %d %d" % (
                len(msgs), sum(m.octets() for m in msgs)))
            c.ok("UIDL")
            uids = c.multi().split(b"\r\n")[:-1]
            self.assertEqual(len(set(u.split()[1] for u in uids)), len(msgs))
            for i, m in enumerate(msgs, 1):
                c.ok("RETR %d" % i)
                self.assertEqual(c.multi(), m.wire(), "message %d" % i)
            c.ok("QUIT")
            self.assertEqual(c.expect_eof(), b"")
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
        lib.same(self, s.read_mbox(), expect_file)
        self.assertFalse(os.path.exists(s.journal()), "journal left over")
        self.assertFalse(os.path.exists(s.dotlock()), "dotlock left over")

    def check_crash_state(self, s, step, orig, new):
        """What the file and the journal look like right after the kill
        (proves the hook stopped where it says)."""
        data = s.read_mbox()
        journal = os.path.exists(s.journal())
        n = int(step.split(":")[0])
        if n == 1:
            self.assertFalse(journal, "journal exists before step 1")
        else:
            self.assertTrue(journal, "no journal after the kill")
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

    def test_crash_every_step(self):
        for step in ("1", "2", "3", "4", "5", "5:2", "6", "7", "8", "9"):
            with self.subTest(step=step), lib.Server(self, hooks=True) as s:
                tag = "crash%s" % step.replace(":", "-")
                mb = lib.Mbox([lib.simple_message(i, tag, body_lines=120)
                               for i in range(1, 11)])
                orig = mb.data()
                new = mb.without(DELETE)
                s.put_mbox(orig)
                s.prepare()
                rc = lib.procmail_rc(s.tmp, s.maildrop(),
                                     extra="LOCKTIMEOUT=60\nSUSPEND=0\n")
                self.crash_session(s, step)
                self.check_crash_state(s, step, orig, new)
                # an MDA appends before anyone recovers
                if os.path.exists(s.dotlock()):
                    old = time.time() - 3600
                    os.utime(s.dotlock(), (old, old))
                before = s.read_mbox()
                extra = lib.simple_message(99, "after-crash-%s" % step)
                lib.procmail_deliver(rc, extra.envelope + b"\n" +
                                     extra.content)
                after = s.read_mbox()
                self.assertEqual(after[:len(before)], before)
                appended = after[len(before):]
                self.assertEqual(appended, extra.envelope + b"\n" +
                                 extra.content + b"\n")
                if int(step.split(":")[0]) <= 4:
                    kept, expect = mb.msgs, orig
                else:
                    kept, expect = mb.kept(DELETE), new
                self.recover_and_check(s, kept + [extra], expect + appended)

    def test_own_stale_dotlock(self):
        """After a crash the next session breaks the dead session's dotlock
        at once (its pid is gone) instead of waiting for it to age."""
        with lib.Server(self, conf={"lock_timeout": "10"},
                        hooks=True) as s:
            mb = lib.simple_mbox(10, "stale")
            s.put_mbox(mb.data())
            s.prepare()
            self.crash_session(s, 5)
            t0 = time.monotonic()
            self.recover_and_check(s, mb.kept(DELETE), mb.without(DELETE))
            self.assertLess(time.monotonic() - t0, 8 * lib.SLOW)


if __name__ == "__main__":
    unittest.main()
