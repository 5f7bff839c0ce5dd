"""
test_enospc.py: a full disk during UPDATE (design.md §2: "ENOSPC or EIO
during UPDATE aborts it with the maildrop untouched and -ERR to the
client"), and a full spool at login (issue 8 §5: an empty dotlock, so
that users can still read and delete).  The maildrop, and for the first
test the state directory with the journal, live on a 1 MiB tmpfs mounted
for the test (root only; skipped otherwise, or where mounting is not
permitted).
"""

import os
import subprocess
import tempfile
import unittest

import lib
from lib import Mbox, Msg

MIB = 1024 * 1024


def big_mbox():
    """A small first message, then ~700 KiB: deleting message 1 needs a
    journal of ~700 KiB, which does not fit next to the file."""
    msgs = [lib.simple_message(1, "small")]
    for i in range(2, 9):
        body = b"".join(b"line %05d of a large message %d %s\n" % (
            j, i, b"z" * 40) for j in range(1400))
        msgs.append(Msg(b"From: big@example.org\nSubject: big %d\n"
                        b"Message-ID: <big.%d@e2e.example>\n\n" % (i, i) +
                        body))
    return Mbox(msgs)


@unittest.skipUnless(lib.IS_ROOT, "needs root to mount a tmpfs "
                     "(run the suite as root to test ENOSPC)")
class EnospcTest(unittest.TestCase):

    def setUp(self):
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
        os.mkdir(os.path.join(self.mnt, "mail"), 0o755)
        lib.RUN_AS.chown(os.path.join(self.mnt, "mail"))
        # the journal's room is the state directory's
        self.state = os.path.join(self.mnt, "state")
        os.mkdir(self.state, 0o755)
        lib.RUN_AS.chown(self.state)

    def fill(self):
        """Fills the tmpfs to the last block; returns the filler's path."""
        filler = os.path.join(self.mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for _ in range(4096):
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        self.assertLess(os.statvfs(self.mnt).f_bavail, 1)
        return filler

    def test_full_disk_update(self):
        mb = big_mbox()
        data = mb.data()
        self.assertGreater(len(data), 600 * 1024)
        self.assertLess(len(data), 800 * 1024)
        maildir = os.path.join(self.mnt, "mail")
        s = lib.server(self, conf={"maildrop": os.path.join(maildir, "%u"),
                                   "state_dir": self.state})
        s.maildir = maildir
        s.put_mbox(data)
        s.start()
        with s.login() as c:
            c.ok("DELE 1")
            r = c.cmd("QUIT")
            self.assertTrue(r.startswith(b"-ERR [SYS/TEMP]"), r)
        lib.same(self, s.read_mbox(), data)
        self.assertFalse(os.path.exists(s.journal()), "journal left over")
        # the maildrop still serves every message
        with s.login() as c:
            self.assertEqual(c.ok("STAT"), b"+OK %d %d" % (
                len(mb.msgs), sum(m.octets() for m in mb.msgs)))
            c.ok("RETR 8")
            self.assertEqual(c.multi(), mb.msgs[7].wire())
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), data)

        # the disk fills up completely during a session: QUIT cannot
        # update (not even lock), says so, and nothing changes
        with s.login() as c:
            c.ok("DELE 1")
            c.ok("DELE 3")
            filler = self.fill()
            r = c.cmd("QUIT")
            self.assertTrue(r.startswith(b"-ERR [SYS/TEMP]"), r)
        lib.same(self, s.read_mbox(), data)

        # room again: the same deletion now works
        os.unlink(filler)
        smaller = Mbox(mb.msgs[:2] + mb.msgs[5:])   # fits beside a journal
        s.put_mbox(smaller.data())
        with s.login() as c:
            c.ok("DELE 1")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), smaller.without({0}))

    def test_full_spool_login(self):
        """A spool without one free block: the dotlock's temp file cannot
        be written, so the session makes an empty dotlock and the user can
        still log in, read and delete (the journal has room in the state
        directory, on another file system)."""
        mb = lib.simple_mbox(5)
        maildir = os.path.join(self.mnt, "mail")
        s = lib.server(self, conf={"maildrop": os.path.join(maildir, "%u")})
        s.maildir = maildir
        s.put_mbox(mb.data())
        filler = self.fill()
        s.start()
        with s.login() as c:
            self.assertEqual(c.ok("STAT"), b"+OK 5 %d" % sum(
                m.octets() for m in mb.msgs))
            c.ok("RETR 2")
            self.assertEqual(c.multi(), mb.msgs[1].wire())
            c.ok("DELE 1")
            c.ok("DELE 4")
            c.ok("QUIT")
        lib.same(self, s.read_mbox(), mb.without({0, 3}))
        self.assertTrue(s.wait_log(r"no room for the content of dotlock "
                                   r".*: made it empty"), s.log()[-2000:])
        # nothing left behind: no dotlock, no session lock, no journal
        self.assertEqual(sorted(os.listdir(maildir)), [lib.DEFAULT_USER])
        self.assertFalse(os.path.exists(s.journal()))
        os.unlink(filler)
