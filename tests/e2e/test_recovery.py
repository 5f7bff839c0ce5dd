"""
test_recovery.py: recovery rewrites only what the journal explains, and
the administrator's pop3d -R (design.md §2 "UPDATE without loss",
pop3d(8) "AFTER A CRASH").

The crash state is made by tests/unit/mkjournal (built with the unit
suites): it runs journal_rewrite on the maildrop, with the journal in the
user's state directory, in a child that the crash hook kills just before
the truncate (step 7).  Nothing of pop3d runs then, so nothing can recover
the maildrop before the test changes it as a journal-unaware program (a
MUA) would: the test holds whether recovery runs at the next login or
right after a session dies.  Then procmail delivers M4 and a login must be
refused with -ERR [SYS/PERM], the file untouched and the journal kept;
pop3d -R shows why, and discard (or apply) lets the next login serve the
right mail.
"""

import os
import re
import subprocess
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER

MKJOURNAL = os.path.join(lib.BUILD, "tests", "mkjournal")
BLOCK = 4096


def messages(tag, n=3, body_lines=150):
    """Messages of a few 4 KiB blocks each, so that the rewritten region
    spans several blocks."""
    return [lib.simple_message(i, tag, body_lines=body_lines)
            for i in range(1, n + 1)]


@unittest.skipUnless(os.path.exists(lib.PROCMAIL), "procmail not installed")
@unittest.skipUnless(os.path.exists(MKJOURNAL), "no tests/mkjournal (make "
                     "check-build)")
class RecoveryTest(unittest.TestCase):

    def setup_box(self, s, tag):
        """Three messages; a first login creates the state directory."""
        mb = lib.Mbox(messages(tag))
        s.put_mbox(mb.data())
        s.prepare()
        c, p = s.spawn_i()
        with c:
            c.greeting()
            c.login()
            c.ok("QUIT")
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
        return mb

    def crash_before_truncate(self, s, mb, jdir=None, owner=None):
        """M1 deleted, M2 and M3 kept: the journal committed and the
        region rewritten, killed before the truncate."""
        seg = [mb.segment(i) for i in range(len(mb.msgs))]
        jdir = jdir or os.path.join(s.statedir, DEFAULT_USER)
        p = subprocess.run([MKJOURNAL, jdir, s.maildrop(), "7", "0",
                            "%d:%d" % (len(seg[0]), len(seg[1]) +
                                       len(seg[2]))],
                           capture_output=True, timeout=30 * lib.SLOW,
                           **(owner or lib.RUN_AS).popen_kw())
        self.assertEqual(p.returncode, 0, p.stderr)
        new = seg[1] + seg[2]
        data = s.read_mbox()
        self.assertEqual(len(data), len(mb.data()), "truncated already")
        lib.same(self, data[:len(new)], new, "rewritten region")
        return new

    def deliver(self, s, msg):
        rc = lib.procmail_rc(s.tmp, s.maildrop(),
                             extra="LOCKTIMEOUT=60\nSUSPEND=0\n")
        raw = msg.envelope + b"\n" + msg.content
        lib.procmail_deliver(rc, raw)
        return raw + b"\n"

    def login_refused(self, s):
        c, p = s.spawn_i()
        with c:
            c.greeting()
            c.ok("USER " + DEFAULT_USER)
            r = c.cmd("PASS " + DEFAULT_PASS)
            c.expect_eof(10)
        p.wait(timeout=10 * lib.SLOW)
        return r

    def login_serves(self, s, msgs):
        c, p = s.spawn_i()
        with c:
            c.greeting()
            c.login()
            lib.assert_serves(self, c, msgs)
            c.ok("QUIT")
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)

    def admin(self, s, *args, as_root=False, conf=None):
        """pop3d -f CONF -u alice -R MAILDROP ARGS; returns (rc, stdout)."""
        cmd = [lib.POP3D, "-f", conf or s.conf_path, "-u", DEFAULT_USER,
               "-R", s.maildrop()] + list(args)
        kw = {} if as_root else s.popen_kw()
        env = s.env()
        if as_root:
            # LeakSanitizer cannot trace a process that dropped from
            # root (it is no longer dumpable): keep ASan, skip leaks.
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                                   ":detect_leaks=0").lstrip(":")
        p = subprocess.run(cmd, capture_output=True, timeout=30 * lib.SLOW,
                           env=env, **kw)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        lib.same(self, b"", b"".join(
            l for l in p.stderr.splitlines(True)
            if any(x in l for x in lib.SANITIZER_PATTERNS)), "sanitizer")
        return p.returncode, out, err

    def test_mua_emptied_box(self):
        """The issue's reproduction: killed before the truncate, a MUA
        empties the box, procmail delivers M4.  Recovery used to write M2
        and M3 back over M4."""
        with lib.Server(self) as s:
            mb = self.setup_box(s, "emptied")
            new = self.crash_before_truncate(s, mb)
            journal = s.journal()
            self.assertTrue(os.path.exists(journal))
            with open(s.maildrop(), "r+b") as f:    # the MUA
                f.truncate(0)
            m4 = lib.simple_message(4, "emptied-m4", body_lines=600)
            m4raw = self.deliver(s, m4)
            self.assertGreater(len(m4raw), len(new))
            lib.same(self, s.read_mbox(), m4raw, "M4 delivered")

            r = self.login_refused(s)
            self.assertTrue(r.startswith(b"-ERR [SYS/PERM]"), r)
            self.assertIn(b"changed by another program", r)
            self.assertIn(b"pop3d -R", r)
            lib.same(self, s.read_mbox(), m4raw, "file after the login")
            self.assertTrue(os.path.exists(journal), "journal removed")
            log = s.log()
            self.assertIn(s.maildrop(), log)
            self.assertIn(os.path.basename(journal), log)
            self.assertIn("block at offset 0 ", log)

            rc, out, err = self.admin(s)
            self.assertEqual(rc, 1, out + err)
            self.assertIn("maildrop: %s\n" % s.maildrop(), out)
            self.assertIn("journal: %s\n" % journal, out)
            self.assertIn("status: committed\n", out)
            self.assertIn("from: 0\nnew_end: %d\nold_end: %d\n"
                          % (len(new), len(mb.data())), out)
            self.assertIn("size: %d\n" % len(m4raw), out)
            self.assertIn("region: [0, %d) foreign: neither old nor new "
                          "from offset 0\n" % len(new), out)
            self.assertRegex(out, r"tail: \[%d, %d\) not the old bytes "
                             r"from offset \d+\n" % (len(new),
                                                     len(mb.data())))
            self.assertIn("verdict: refused: the block at offset 0 ", out)
            # What is past the region is the rest of M4, no message of
            # its own: apply would drop it, so discard is the right call.
            self.assertIn("apply: would rewrite [0, %d) and drop the %d "
                          "bytes past it (they start no message)\n"
                          % (len(new), len(m4raw) - len(new)), out)
            lib.same(self, s.read_mbox(), m4raw, "file after -R")

            # The administrator knows the MUA emptied the box: discard.
            rc, out, err = self.admin(s, "discard")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("discard: done: journal removed; the maildrop "
                          "holds %d bytes\n" % len(m4raw), out)
            self.assertFalse(os.path.exists(journal))
            lib.same(self, s.read_mbox(), m4raw, "file after discard")
            rc, out, err = self.admin(s)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("status: none\n", out)

            self.login_serves(s, [m4])
            lib.same(self, s.read_mbox(), m4raw, "file after the login")

    def test_apply_over_a_foreign_block(self):
        """A MUA rewrote a header of M2 in place after the crash: refused;
        the administrator says the journal is right: apply restores M2
        and M3, truncates the old tail and keeps M4, delivered since."""
        with lib.Server(self) as s:
            mb = self.setup_box(s, "applied")
            new = self.crash_before_truncate(s, mb)
            data = s.read_mbox()
            at = data.index(b"Subject: applied 2")
            with open(s.maildrop(), "r+b") as f:    # the MUA
                f.seek(at)
                f.write(b"Subject: APPLIED 2")
            m4 = lib.simple_message(4, "applied-m4")
            m4raw = self.deliver(s, m4)
            before = s.read_mbox()

            r = self.login_refused(s)
            self.assertTrue(r.startswith(b"-ERR [SYS/PERM]"), r)
            lib.same(self, s.read_mbox(), before, "file after the login")

            rc, out, err = self.admin(s, "show")
            self.assertEqual(rc, 1, out + err)
            self.assertIn("region: [0, %d) foreign: neither old nor new "
                          "from offset %d\n" % (len(new), at // BLOCK * BLOCK),
                          out)
            self.assertIn("tail: [%d, %d) old (the truncate was not done)\n"
                          % (len(new), len(mb.data())), out)
            self.assertIn("apply: would rewrite [0, %d), keep the %d bytes "
                          "appended past %d and truncate at %d\n"
                          % (len(new), len(m4raw), len(mb.data()),
                             len(new)), out)

            rc, out, err = self.admin(s, "apply")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("apply: done: journal removed; the maildrop "
                          "holds %d bytes\n" % (len(new) + len(m4raw)), out)
            self.assertIn("applied as the administrator asked", err)
            lib.same(self, s.read_mbox(), new + m4raw, "file after apply")
            self.assertFalse(os.path.exists(s.journal()))
            self.login_serves(s, mb.msgs[1:] + [m4])

    def test_explained_journal_is_completed(self):
        """No foreign change: -R says recovery will complete it, and the
        next login does, keeping M4."""
        with lib.Server(self) as s:
            mb = self.setup_box(s, "explained")
            new = self.crash_before_truncate(s, mb)
            m4 = lib.simple_message(4, "explained-m4")
            m4raw = self.deliver(s, m4)
            rc, out, err = self.admin(s)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("region: [0, %d) new (the journal's content)\n"
                          % len(new), out)
            self.assertIn("verdict: applied by recovery at the next login: "
                          "it rewrites [0, %d), keeps the %d bytes appended "
                          "past %d and truncates at %d\n"
                          % (len(new), len(m4raw), len(mb.data()),
                             len(new)), out)
            self.login_serves(s, mb.msgs[1:] + [m4])
            lib.same(self, s.read_mbox(), new + m4raw, "recovered file")
            self.assertFalse(os.path.exists(s.journal()))

    def test_usage_and_errors(self):
        with lib.Server(self) as s:
            self.setup_box(s, "usage")
            rc, out, err = self.admin(s, "bogus")
            self.assertEqual(rc, 2, out + err)
            self.assertIn("unknown action", err)
            rc, out, err = self.admin(s, "show", "more")
            self.assertEqual(rc, 2, out + err)
            rc, out, err = self.admin(s, conf=os.path.join(s.tmp, "none"))
            self.assertEqual(rc, 3, out + err)
            # a user name instead of a path, with -u: refused
            p = s.run_pop3d(["-f", s.conf_path, "-u", "bob", "-R", "alice"])
            self.assertEqual(p.returncode, 2, p.stderr)
            rc, out, err = self.admin(s, "discard")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("discard: nothing to do\n", out)
            # a user name: the maildrop from the template
            p = s.run_pop3d(["-f", s.conf_path, "-R", DEFAULT_USER])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"maildrop: %s\nuser: %s\n" % (
                s.maildrop().encode(), DEFAULT_USER.encode()), p.stdout)
            self.assertIn(b"status: none\n", p.stdout)

    @unittest.skipUnless(lib.IS_ROOT, "needs root")
    def test_as_root_drops_to_the_owner(self):
        """As root, -R opens the state directory (root-owned state_dir)
        and then works as the maildrop's owner: the journal, owned by the
        user, is read as committed (as root it would be refused as not the
        euid's), and a maildrop of uid 0 is refused."""
        with lib.Server(self) as s:
            mb = lib.Mbox(messages("root"))
            s.put_mbox(mb.data())
            s.prepare()
            state = os.path.join(s.tmp, "rootstate")
            os.mkdir(state, 0o755)
            jdir = os.path.join(state, DEFAULT_USER)
            os.mkdir(jdir, 0o700)
            lib.RUN_AS.chown(jdir)
            conf = os.path.join(s.tmp, "root.conf")
            text = lib.read_file(s.conf_path).decode()
            text = re.sub(r"(?m)^state_dir\s*=.*$", "state_dir = " + state,
                          text)
            lib.write_file(conf, text.encode(), 0o600)
            new = self.crash_before_truncate(s, mb, jdir=jdir)
            rc, out, err = self.admin(s, as_root=True, conf=conf)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("status: committed\n", out)
            self.assertIn("region: [0, %d) new" % len(new), out)
            rc, out, err = self.admin(s, "discard", as_root=True, conf=conf)
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(os.listdir(jdir), [])
            os.chown(s.maildrop(), 0, 0)
            rc, out, err = self.admin(s, as_root=True, conf=conf)
            self.assertEqual(rc, 3, out + err)
            self.assertIn("uid 0", err)
