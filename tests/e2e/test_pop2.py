"""
test_pop2.py: POP2 (RFC 937) as design.md §6 decides it.  Sessions run
under `pop3d -i -p pop2` on a socketpair (as inetd would) and, for the
listener, under `pop3d -F` with `listen = pop2 ...`.

  - transcripts of the RFC's example sessions (pp.4, 13-14), with
    messages built to the RFC's sizes (=537, =234, =10123);
  - the server decision table (p.22): every command in every state, a
    "-" and a close for every empty cell, the maildrop untouched;
  - "=ccc" byte-exact against the octets RETR sends, for the tricky
    corpus (CRLF, dots, 8-bit, hidden headers, no final newline) and
    against POP3's LIST of the same maildrop;
  - FOLD into another mbox and back, deletions committed at FOLD; QUIT
    commits, a dropped connection, an error or a timeout does not;
  - HELO with backslash quoting, bad logins, a busy maildrop;
  - bad input: FOLD with ../x, /etc/passwd, dot files, symlinks, overlong
    names; READ with junk; overlong lines; no file touched.
test_pop2_system.py has the rest: procmail, listeners, root, a full disk.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, Mbox, Msg, simple_mbox
from pop2client import Pop2Client, quote

_SUPPORT = {}


def pop2_missing(need_folders=False):
    """Why the pop3d under test cannot run these tests yet, or None:
    `-p pop2` for -i, and the pop2_folder_dir key for FOLD tests."""
    if "p" not in _SUPPORT:
        p = subprocess.run([lib.POP3D, "-?"], capture_output=True,
                           timeout=10)
        _SUPPORT["p"] = b"pop2" in p.stdout + p.stderr
    if not _SUPPORT["p"]:
        return "pop3d has no -p pop2 option yet (main.c)"
    if need_folders and "f" not in _SUPPORT:
        d = tempfile.mkdtemp(prefix="postern-e2e.")
        try:
            path = os.path.join(d, "c.conf")
            with open(path, "w") as f:
                f.write("pop2_folder_dir = /tmp/%u\n")
            p = subprocess.run([lib.POP3D, "-t", "-f", path],
                               capture_output=True, timeout=10)
            _SUPPORT["f"] = b"unknown key" not in p.stdout + p.stderr
        finally:
            shutil.rmtree(d, ignore_errors=True)
    if need_folders and not _SUPPORT["f"]:
        return "postern.conf has no pop2_folder_dir key yet (conf.c)"
    return None


def sized_message(size, tag, minimal=False):
    """A message whose wire form is exactly `size` octets (minimal: only
    a Subject header, for small sizes)."""
    tag = tag.encode()
    head = [b"From: rfc937@example.org", b"To: alice@example.org",
            b"Subject: " + tag, b"Message-ID: <%s@e2e.example>" % tag, b""]
    if minimal:
        head = [b"Subject: " + tag, b""]
    left = size - sum(len(l) + 2 for l in head)
    assert left >= 2, size
    body, i = [], 0
    while left > 0:
        k = min(70, left - 2)
        if left - (k + 2) == 1:
            k -= 1
        body.append((b"%s line %d " % (tag, i) + b"y" * 70)[:k])
        left -= k + 2
        i += 1
    m = Msg(b"\n".join(head + body) + b"\n")
    assert m.octets() == size, (m.octets(), size)
    return m


class Base(unittest.TestCase):
    """A Server with alice's spool and her folder directory."""

    def setUp(self):
        why = pop2_missing()
        if why:
            self.skipTest(why)

    def require_folders(self):
        """For tests that FOLD into folders or set pop2_* keys."""
        why = pop2_missing(need_folders=True)
        if why:
            self.skipTest(why)

    def make(self, mbox=None, conf=None, users=None):
        s = lib.server(self, users=users)
        s.put_mbox(mbox.data() if mbox is not None else b"")
        self.folders = os.path.join(s.tmp, "folders")
        os.mkdir(self.folders, 0o755)
        os.mkdir(os.path.join(self.folders, DEFAULT_USER), 0o700)
        lib.RUN_AS.chown_tree(self.folders)
        if _SUPPORT.get("f"):
            s.conf["pop2_folder_dir"] = os.path.join(self.folders, "%u")
        if conf:
            s.conf.update(conf)
        s.prepare([])
        return s

    def folder(self, name, user=DEFAULT_USER):
        return os.path.join(self.folders, user, name)

    def put_folder(self, name, data):
        lib.write_file(self.folder(name), data, 0o600, lib.RUN_AS)

    def session(self, s, greet=True):
        """`pop3d -i -p pop2` on a socketpair; returns the client."""
        pop, p = s.spawn_i(args=("-e", "-p", "pop2"))
        c = Pop2Client(pop.sock, timeout=10 * lib.SLOW)
        self.addCleanup(c.close)
        self.last_proc = p
        if greet:
            self.assertEqual(c.greeting(), "e2e.example")
        return c

    def login(self, s, user=DEFAULT_USER, password=DEFAULT_PASS):
        c = self.session(s)
        c.helo(user, password)
        return c

    def expect_error(self, c, line):
        """line gets "- text" and the connection closes."""
        c.send(line + b"\r\n" if isinstance(line, bytes) else
               line.encode() + b"\r\n")
        r = c.readline()
        self.assertTrue(r.startswith(b"- ") and r.endswith(b"\r\n"),
                        "%r -> %r\n%s" % (line, r, c.show()))
        self.assertEqual(c.expect_eof(), b"")
        return r

    def wait_exit(self):
        self.assertEqual(self.last_proc.wait(timeout=10 * lib.SLOW), 0)


# --------------------------------------------------------------------------
# The RFC's example sessions, as transcripts

EOF = object()


class DATA:
    """Stands for message n's wire form in a transcript."""

    def __init__(self, n):
        self.n = n


class TranscriptTest(Base):
    def replay(self, c, script, msgs):
        """script: (client line or None, server regex | DATA | EOF)."""
        for line, want in script:
            if line is not None:
                c.send(line.encode() + b"\r\n")
            if want is EOF:
                self.assertEqual(c.expect_eof(), b"", c.show())
            elif isinstance(want, DATA):
                m = msgs[want.n - 1]
                lib.same(self, c.read_exact(m.octets()), m.wire(),
                         "message %d" % want.n)
            else:
                r = c.readline()
                self.assertTrue(r.endswith(b"\r\n"), r)
                self.assertRegex(r[:-2], want, "after %r\n%s" % (
                    line, c.show()))

    def test_normal_scenario(self):
        """p.4: HELO, READ 13 (=537), RETR, ACKS (=0), QUIT."""
        msgs = [lib.simple_message(i) for i in range(1, 13)]
        msgs.append(sized_message(537, "thirteen"))
        mb = Mbox(msgs)
        s = self.make(mb)
        c = self.session(s, greet=False)
        self.replay(c, [
            (None, rb"^\+ POP2 e2e\.example( .*)?$"),
            ("HELO %s %s" % (DEFAULT_USER, DEFAULT_PASS), rb"^#13( .*)?$"),
            ("READ 13", rb"^=537( .*)?$"),
            ("RETR", DATA(13)),
            ("ACKS", rb"^=0( .*)?$"),
            ("QUIT", rb"^\+( .*)?$"),
            (None, EOF)], msgs)
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.data())

    def test_example_1(self):
        """p.13: READ, RETR, ACKD twice; both messages deleted."""
        msgs = [sized_message(537, "one"), sized_message(234, "two")]
        mb = Mbox(msgs)
        s = self.make(mb)
        c = self.session(s, greet=False)
        self.replay(c, [
            (None, rb"^\+ POP2 e2e\.example .*$"),
            ("HELO %s %s" % (DEFAULT_USER, DEFAULT_PASS), rb"^#2 .*$"),
            ("READ", rb"^=537 .*$"),
            ("RETR", DATA(1)),
            ("ACKD", rb"^=234 .*$"),
            ("RETR", DATA(2)),
            ("ACKD", rb"^=0 .*$"),
            ("QUIT", rb"^\+ .*$"),
            (None, EOF)], msgs)
        self.wait_exit()
        self.assertEqual(s.read_mbox(), b"")

    def test_example_2(self):
        """p.14: FOLD to a mailbox of 27, READ 27 (=10123), RETR, ACKS.
        The RFC's FOLD /usr/spool/mail/smith is a path; ours are names in
        the folder directory (design.md §6), so the path itself is #0."""
        self.require_folders()
        spool = simple_mbox(35)
        fmsgs = [lib.simple_message(i, "f") for i in range(1, 27)]
        fmsgs.append(sized_message(10123, "twentyseven"))
        fold = Mbox(fmsgs)
        s = self.make(spool)
        self.put_folder("smith", fold.data())
        c = self.session(s, greet=False)
        self.replay(c, [
            (None, rb"^\+ POP2 e2e\.example .*$"),
            ("HELO %s %s" % (DEFAULT_USER, DEFAULT_PASS), rb"^#35 .*$"),
            ("FOLD " + s.maildrop(), rb"^#0 .*$"),
            ("FOLD smith", rb"^#27 .*$"),
            ("READ  27", rb"^=10123 .*$"),
            ("RETR", DATA(27)),
            ("ACKS", rb"^=0 .*$"),
            ("QUIT", rb"^\+ .*$"),
            (None, EOF)], fmsgs)
        self.wait_exit()
        lib.same(self, s.read_mbox(), spool.data())
        lib.same(self, lib.read_file(self.folder("smith")), fold.data())

    def test_example_3(self):
        """p.14: an empty mailbox.  READ is "=0" (the decision table's
        =CCC, design.md §6); RETR of it closes the connection."""
        s = self.make(None)
        os.unlink(s.maildrop())         # no file at all: also empty
        c = self.session(s, greet=False)
        self.replay(c, [
            (None, rb"^\+ POP2 e2e\.example .*$"),
            ("HELO %s %s" % (DEFAULT_USER, DEFAULT_PASS), rb"^#0 .*$"),
            ("READ", rb"^=0 .*$"),
            ("RETR", rb"^- .*$"),
            (None, EOF)], [])
        self.wait_exit()
        self.assertFalse(os.path.exists(s.maildrop()))


# --------------------------------------------------------------------------
# The server decision table, every command in every state

# what each command gets in each state: "#", "=", "data", "+" or "-"
TABLE = {
    "AUTH": {"HELO": "#", "QUIT": "+"},
    "MBOX": {"FOLD": "#", "READ": "=", "QUIT": "+"},
    "ITEM": {"FOLD": "#", "READ": "=", "RETR": "data", "QUIT": "+"},
    "NEXT": {"ACKS": "=", "ACKD": "=", "NACK": "="},
}
COMMANDS = {
    "HELO": "HELO %s %s" % (DEFAULT_USER, DEFAULT_PASS),
    "FOLD": "FOLD INBOX",
    "READ": "READ 1",
    "RETR": "RETR",
    "ACKS": "ACKS",
    "ACKD": "ACKD",
    "NACK": "NACK",
    "QUIT": "QUIT",
    # "other" (p.22): POP3's commands, junk, an empty line
    "USER": "USER " + DEFAULT_USER,
    "STAT": "STAT",
    "NOOP": "NOOP",
    "XYZZY": "XYZZY 1",
    "EMPTY": "",
}


class DecisionTableTest(Base):

    def enter(self, s, state, mb):
        c = self.session(s)
        if state == "AUTH":
            return c
        self.assertEqual(c.helo(DEFAULT_USER, DEFAULT_PASS), len(mb.msgs))
        if state == "MBOX":
            return c
        self.assertEqual(c.read(1), mb.msgs[0].octets())
        if state == "ITEM":
            return c
        lib.same(self, c.retr(), mb.msgs[0].wire())
        return c

    def test_every_command_in_every_state(self):
        mb = simple_mbox(3)
        s = self.make(mb)
        for state in ("AUTH", "MBOX", "ITEM", "NEXT"):
            for cmd, line in COMMANDS.items():
                with self.subTest(state=state, command=cmd):
                    want = TABLE[state].get(cmd, "-")
                    c = self.enter(s, state, mb)
                    if want == "-":
                        self.expect_error(c, line)
                    elif want == "data":
                        c.send(line.encode() + b"\r\n")
                        lib.same(self, c.read_exact(mb.msgs[0].octets()),
                                 mb.msgs[0].wire())
                        # nothing else: the client must acknowledge
                        self.assertTrue(c.nothing_pending())
                    else:
                        r = c.command(line)
                        self.assertTrue(r.startswith(want.encode()), r)
                        if want == "+":
                            self.assertEqual(c.expect_eof(), b"")
                    c.close()
                    self.wait_exit()
                    # nothing committed: the ACKD of NEXT had no QUIT
                    lib.same(self, s.read_mbox(), mb.data())

    def test_keywords_any_case(self):
        mb = simple_mbox(2)
        s = self.make(mb)
        c = self.session(s)
        c.send(b"helo %s %s\r\n" % (DEFAULT_USER.encode(),
                                    DEFAULT_PASS.encode()))
        self.assertRegex(c.reply(), rb"^#2 ")
        self.assertRegex(c.command("rEaD 2"), rb"^=%d " %
                         mb.msgs[1].octets())
        c.send(b"Retr\r\n")
        lib.same(self, c.read_exact(mb.msgs[1].octets()), mb.msgs[1].wire())
        self.assertRegex(c.command("ackd"), rb"^=0 ")
        self.assertRegex(c.command("quit"), rb"^\+ ")
        c.expect_eof()
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.without({1}))

    def test_quit_in_next_is_an_error(self):
        """QUIT before the acknowledgment: "-", nothing committed."""
        mb = simple_mbox(2)
        s = self.make(mb)
        c = self.login(s)
        c.read(1)
        c.retr()
        c.ackd()
        c.retr()
        self.expect_error(c, "QUIT")
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.data())

    def test_arguments_where_none_belong(self):
        mb = simple_mbox(2)
        s = self.make(mb)
        for state, line in (("ITEM", "RETR 1"), ("NEXT", "ACKS 1"),
                            ("NEXT", "ACKD now"), ("NEXT", "NACK x"),
                            ("MBOX", "QUIT now"), ("MBOX", "READ 1 2"),
                            ("AUTH", "QUIT x"), ("AUTH", "HELO"),
                            ("AUTH", "HELO " + DEFAULT_USER),
                            ("MBOX", "FOLD")):
            with self.subTest(line=line):
                c = self.enter(s, state, mb)
                self.expect_error(c, line)
                self.wait_exit()
                lib.same(self, s.read_mbox(), mb.data())


# --------------------------------------------------------------------------
# =ccc, the data, the counts

class LengthTest(Base):

    def test_ccc_is_exactly_what_retr_sends(self):
        mb = lib.standard_mbox()
        s = self.make(mb)
        c = self.login(s)
        self.assertEqual(c.count, len(mb.msgs))
        for i, m in enumerate(mb.msgs, 1):
            with self.subTest(message=i):
                self.assertEqual(c.read(i), m.octets())
                data = c.retr()
                lib.same(self, data, m.wire(), "message %d" % i)
                # nothing but the data: the next reply comes at once
                self.assertEqual(c.buf, b"")
                self.assertEqual(c.nack(), m.octets())
                self.assertEqual(c.buf, b"")
        # no Status header added, 8-bit octets kept (design.md §6)
        c.read(3)
        d = c.retr()
        self.assertIn(b"caf\xe9 na\xefve \xff\x80", d)
        self.assertNotIn(b"Status:", d.split(b"\r\n\r\n")[0])
        c.acks()
        c.quit()
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.data())

    def test_ccc_equals_pop3_list(self):
        """The same maildrop through POP3: LIST sizes == =ccc."""
        mb = lib.standard_mbox()
        s = self.make(mb)
        c = self.login(s)
        sizes = [c.read(i) for i in range(1, len(mb.msgs) + 1)]
        c.quit()
        self.wait_exit()
        p, proc = s.spawn_i()
        with p:
            p.greeting()
            p.login()
            p.ok("LIST")
            listed = [int(l.split()[1]) for l in
                      p.multi().split(b"\r\n") if l]
            p.ok("QUIT")
        self.assertEqual(sizes, listed)

    def test_read_without_argument_and_acks_walk(self):
        """The current message indicator: READ without n, ACKS and ACKD
        advance it, NACK does not; past the end and deleted are =0."""
        mb = simple_mbox(4)
        o = [m.octets() for m in mb.msgs]
        s = self.make(mb)
        c = self.login(s)
        self.assertEqual(c.read(), o[0])          # current starts at 1
        c.retr()
        self.assertEqual(c.nack(), o[0])          # same message
        c.retr()
        self.assertEqual(c.ackd(), o[1])          # 1 marked, now 2
        self.assertEqual(c.read(1), 0)            # deleted: =0
        self.assertRegex(c.transcript[-1][1], rb"^=0 .*deleted")
        self.assertEqual(c.read(), 0)             # still 1, deleted
        self.assertEqual(c.read(4), o[3])
        c.retr()
        self.assertEqual(c.acks(), 0)             # past the end
        self.assertEqual(c.read(), 0)
        self.assertEqual(c.read(0), 0)
        self.assertEqual(c.read(5), 0)
        self.assertEqual(c.read(99999999999999999999999999), 0)
        self.assertEqual(c.read(2), o[1])         # and back
        # messages are not renumbered before the release
        c.send(b"FOLD INBOX\r\n")
        self.assertRegex(c.reply(), rb"^#3 ")
        self.assertEqual(c.read(1), o[1])
        c.quit()
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.without({0}))

    def test_count_includes_deleted_until_release(self):
        mb = simple_mbox(3)
        s = self.make(mb)
        c = self.login(s)
        c.read(2)
        c.retr()
        c.ackd()
        self.assertEqual(c.read(3), mb.msgs[2].octets())
        c.quit()
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.without({1}))

    def test_empty_message_is_zero_and_not_sent(self):
        """A message with no octets on the wire is "=0" (p.5); RETR of
        it closes the connection (p.8)."""
        mb = Mbox([lib.simple_message(1), Msg(b""), lib.simple_message(3)])
        s = self.make(mb)
        c = self.login(s)
        self.assertEqual(c.count, 3)
        self.assertEqual(c.read(2), 0)
        self.expect_error(c, "RETR")
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.data())


# --------------------------------------------------------------------------
# Commits: QUIT and FOLD only

class CommitTest(Base):
    def test_fold_and_back_commits_at_fold(self):
        self.require_folders()
        spool = simple_mbox(3, "spool")
        work = simple_mbox(4, "work")
        s = self.make(spool)
        self.put_folder("work", work.data())
        c = self.login(s)
        self.assertEqual(c.count, 3)
        c.read(2)
        lib.same(self, c.retr(), spool.msgs[1].wire())
        c.ackd()
        self.assertEqual(c.fold("work"), 4)
        # committed at FOLD, while the session goes on
        lib.same(self, s.read_mbox(), spool.without({1}))
        self.assertEqual(c.read(), work.msgs[0].octets())  # current = 1
        lib.same(self, c.retr(), work.msgs[0].wire())
        c.ackd()
        lib.same(self, c.retr(), work.msgs[1].wire())
        c.ackd()
        self.assertEqual(c.fold("INBOX"), 2)
        lib.same(self, lib.read_file(self.folder("work")),
                 work.without({0, 1}))
        # INBOX again, renumbered after the release
        self.assertEqual(c.read(2), spool.msgs[2].octets())
        lib.same(self, c.retr(), spool.msgs[2].wire())
        c.ackd()
        self.assertEqual(c.fold("inbox"), 1)       # UW: any case
        lib.same(self, s.read_mbox(), spool.without({1, 2}))
        # a deletion followed by a dropped connection: not committed
        c.read(1)
        c.retr()
        c.ackd()
        c.close()
        self.wait_exit()
        lib.same(self, s.read_mbox(), spool.without({1, 2}))
        lib.same(self, lib.read_file(self.folder("work")),
                 work.without({0, 1}))

    def test_quit_commits(self):
        mb = simple_mbox(3)
        s = self.make(mb)
        c = self.login(s)
        c.read(1)
        c.retr()
        c.ackd()
        c.retr()
        c.acks()
        c.retr()
        c.ackd()
        self.assertRegex(c.quit(), rb"^\+ ")
        self.assertEqual(c.expect_eof(), b"")
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.without({0, 2}))
        self.assertTrue(s.wait_log(r"end user=%s .*retr=3/%d dele=2/%d .*"
                                   r"end=quit" % (DEFAULT_USER, sum(
                                       m.octets() for m in mb.msgs), sum(
                                       mb.msgs[i].octets() for i in (0, 2)))))

    def test_dropped_connection_commits_nothing(self):
        mb = simple_mbox(3)
        s = self.make(mb)
        for how in ("close", "shutdown", "error"):
            with self.subTest(how=how):
                c = self.login(s)
                c.read(1)
                c.retr()
                c.ackd()
                c.retr()
                c.ackd()
                if how == "error":
                    self.expect_error(c, "BOGUS")
                elif how == "shutdown":
                    c.sock.shutdown(socket.SHUT_WR)
                    self.assertEqual(c.expect_eof(), b"")
                c.close()
                self.wait_exit()
                lib.same(self, s.read_mbox(), mb.data())

    def test_fold_into_missing_or_locked_folder_is_zero(self):
        """A FOLD that fails is #0 (design.md §6): no such folder, no
        permission, locked; the old mailbox is still released."""
        self.require_folders()
        spool = simple_mbox(2)
        s = self.make(spool, conf={"lock_timeout": "1"})
        self.put_folder("locked", simple_mbox(2, "l").data())
        self.put_folder("noperm", simple_mbox(2, "n").data())
        os.chmod(self.folder("noperm"), 0)
        c = self.login(s)
        c.read(1)
        c.retr()
        c.ackd()
        before = lib.tree(self.folders)
        self.assertEqual(c.fold("nosuch"), 0)
        lib.same(self, s.read_mbox(), spool.without({0}))
        self.assertFalse(os.path.exists(self.folder("nosuch")))
        self.assertEqual(c.fold("noperm"), 0)       # servers are never root
        # an MDA holds the dotlock of "locked" past lock_timeout
        lock = self.folder("locked") + ".lock"
        lib.write_file(lock, b"%d %s\n" % (os.getpid(),
                                           socket.gethostname().encode()),
                       0o644, lib.RUN_AS)
        self.assertEqual(c.fold("locked"), 0)
        os.unlink(lock)
        self.assertEqual(c.read(), 0)              # nothing selected
        self.assertEqual(c.fold("locked"), 2)
        c.quit()
        self.wait_exit()
        # nothing is left behind in the folder directory (the session
        # lock is an flock on the folder itself, the journal lives in the
        # state directory)
        new = lib.tree(self.folders) - before
        self.assertEqual(new, set())

    def test_timeout_commits_nothing(self):
        """RFC 937 p.22: a timeout is "- error" and close, in AUTH and
        after the login; nothing committed."""
        self.require_folders()
        mb = simple_mbox(2)
        s = self.make(mb, conf={"pop2_timeout_session": "10",
                                "timeout_auth": "10"})
        c = self.login(s)
        proc = self.last_proc
        pre = self.session(s)               # idle before HELO
        c.read(1)
        c.retr()
        c.ackd()
        t0 = time.monotonic()
        for cl in (c, pre):
            r = cl.readline(timeout=40 * lib.SLOW)
            self.assertRegex(r, rb"^- .*idle.*\r\n$")
            self.assertEqual(cl.expect_eof(), b"")
        self.assertGreaterEqual(time.monotonic() - t0, 9)
        self.assertEqual(proc.wait(timeout=10 * lib.SLOW), 0)
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.data())
        self.assertTrue(s.wait_log(r"user=alice .*end=timeout proto=pop2"))
        self.assertTrue(s.wait_log(r"user=- .*end=timeout proto=pop2"))


# --------------------------------------------------------------------------
# HELO

class HeloTest(Base):

    def test_backslash_quoting(self):
        pw = "pa ss\\wo rd"
        users = {DEFAULT_USER: pw}
        mb = simple_mbox(1)
        s = self.make(mb, users=users)
        for line in (b"HELO alice " + quote(pw),      # RFC: \  and \\
                     b"HELO alice pa ss\\\\wo rd",     # UW: spaces as sent
                     b"HELO   al\\ice  p\\a\\ ss\\\\wo\\ rd",
                     b"HELO " + quote("alice") + b" " + quote(pw)):
            with self.subTest(line=line):
                c = self.session(s)
                r = c.command(line)
                self.assertRegex(r, rb"^#1 ")
                c.quit()
                self.wait_exit()

    def test_bad_password_closes(self):
        """p.23, action 3(b): "- error" and close; one try only."""
        s = self.make(simple_mbox(1))
        for line in ("HELO alice wrong", "HELO alice " + DEFAULT_PASS + "x",
                     "HELO nobody-here " + DEFAULT_PASS,
                     "HELO ../alice " + DEFAULT_PASS,
                     "HELO alice\\/x " + DEFAULT_PASS,
                     "HELO " + "a" * 300 + " x"):
            with self.subTest(line=line):
                c = self.session(s)
                r = self.expect_error(c, line)
                self.assertNotIn(b"ERR", r)
                self.wait_exit()

    def test_busy_maildrop(self):
        """design.md §6: HELO on a locked maildrop is "- mailbox busy"."""
        mb = simple_mbox(2)
        s = self.make(mb)
        first = self.login(s)
        c = self.session(s)
        r = self.expect_error(c, "HELO %s %s" % (DEFAULT_USER,
                                                   DEFAULT_PASS))
        self.assertRegex(r, rb"^- mailbox busy")
        first.read(1)
        first.retr()
        first.ackd()
        first.quit()
        lib.same(self, s.read_mbox(), mb.without({0}))

    def test_plaintext_refused_when_configured(self):
        s = self.make(simple_mbox(1), conf={"plaintext_auth": "no"})
        c = self.session(s)
        self.expect_error(c, "HELO %s %s" % (DEFAULT_USER, DEFAULT_PASS))
        self.wait_exit()

    def test_quit_before_helo(self):
        s = self.make(simple_mbox(1))
        c = self.session(s)
        self.assertRegex(c.quit(), rb"^\+ ")
        self.assertEqual(c.expect_eof(), b"")
        self.wait_exit()

    def test_pipelined_after_helo(self):
        """Commands sent with HELO survive the hand-off to the master."""
        mb = simple_mbox(2)
        s = self.make(mb)
        c = self.session(s)
        c.send(b"HELO %s %s\r\nREAD 2\r\nRETR\r\nACKD\r\nQUIT\r\n" % (
            DEFAULT_USER.encode(), DEFAULT_PASS.encode()))
        self.assertRegex(c.reply(), rb"^#2 ")
        self.assertEqual(c._length(c.reply()), mb.msgs[1].octets())
        lib.same(self, c.read_exact(mb.msgs[1].octets()), mb.msgs[1].wire())
        self.assertRegex(c.reply(), rb"^=0 ")
        self.assertRegex(c.reply(), rb"^\+ ")
        self.assertEqual(c.expect_eof(), b"")
        self.wait_exit()
        lib.same(self, s.read_mbox(), mb.without({1}))


# --------------------------------------------------------------------------
# Bad input

class BadInputTest(Base):
    def test_fold_names_outside_the_folder_directory(self):
        """design.md §6: '/', NUL, a leading '.', and (ours) control
        octets and names over 255 octets are "#0"; nothing is opened,
        nothing created, the session goes on."""
        self.require_folders()
        spool = simple_mbox(2)
        s = self.make(spool)
        # bait: what a traversal would reach
        lib.write_file(os.path.join(self.folders, "x"),
                       simple_mbox(5).data(), 0o600, lib.RUN_AS)
        self.put_folder(".hidden", simple_mbox(3).data())
        os.symlink(s.maildrop(), self.folder("link"))
        os.symlink("/etc", self.folder("etc"))
        # lstat: the bait link to /etc must not make /etc's own changes
        # (another test adding users) ours
        snap = {p: os.lstat(os.path.join(s.tmp, p)).st_mtime_ns
                for p in lib.tree(s.tmp)}
        names = [b"../x", b"/etc/passwd", b"..", b".", b".hidden",
                 b"etc/passwd", b"link", b"a\x01b", b"a\x7fb",
                 b"x" * 256, b"y" * 400, b"..\\/x", b"\\.hidden",
                 b"sub/../../x"]
        c = self.login(s)
        for n in names:
            with self.subTest(name=n):
                c.send(b"FOLD " + n + b"\r\n")
                r = c.reply()
                self.assertRegex(r, rb"^#0( .*)?$")
                self.assertEqual(c.read(1), 0)
        c.quit()
        self.wait_exit()
        lib.same(self, s.read_mbox(), spool.data())
        after = {p: os.lstat(os.path.join(s.tmp, p)).st_mtime_ns
                 for p in lib.tree(s.tmp)}
        # only the logs, the spool (its atime, a dotlock come and gone)
        # and the user's state directory (made at the login) may change;
        # the folder directory is as it was
        changed = {p for p in set(snap) | set(after)
                   if snap.get(p) != after.get(p)}
        self.assertTrue(all(p.endswith(".log") or p in (
            "mail", "mail/alice", "state", "state/alice") for p in changed),
            changed)

    def test_fold_names_cannot_forge_log_fields(self):
        """Issue 8: a folder name reaches the log sanitised and inside
        one quoted field, so `x user=bob addr=10.9.9.9` adds no user= or
        addr= field to the line, and a '"' cannot end the quotes."""
        self.require_folders()
        s = self.make(simple_mbox(1))
        self.put_folder('z" user=bob', simple_mbox(1).data())
        c = self.login(s)
        for n in (b"x user=bob addr=10.9.9.9",
                  b'y" user=bob addr=10.9.9.9 x="', b'z" user=bob'):
            c.send(b"FOLD " + n + b"\r\n")
            self.assertRegex(c.reply(), rb"^#[01] ")
        c.quit()
        self.wait_exit()
        field = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
        lines = [l for l in s.log().splitlines() if "fold=" in l]
        self.assertEqual(len(lines), 3, s.log())
        for l in lines:
            keys = [k for k, _ in field.findall(l)]
            self.assertEqual(keys.count("user"), 1, l)
            self.assertNotIn("addr", keys, l)
            self.assertIn("bob", l)
        self.assertEqual(sum("\\x22" in l for l in lines), 2, lines)

    def test_read_junk(self):
        mb = simple_mbox(2)
        s = self.make(mb)
        for arg in ("x", "-1", "+1", "1x", "0x1", "1.0", " 1 2", "1e3",
                    "\xa31", "\u0661"):
            with self.subTest(arg=arg):
                c = self.login(s)
                c.read(1)
                c.retr()
                c.ackd()
                r = self.expect_error(c, ("READ " + arg).encode("utf-8"))
                self.assertRegex(r, rb"^- ")
                self.wait_exit()
                lib.same(self, s.read_mbox(), mb.data())

    def test_overlong_and_nul_lines(self):
        mb = simple_mbox(2)
        s = self.make(mb)
        for state, line in (("AUTH", b"HELO alice " + b"p" * 5000),
                            ("MBOX", b"FOLD " + b"f" * 2000),
                            ("MBOX", b"READ " + b"1" * 3000),
                            ("MBOX", b"READ\x001"),
                            ("AUTH", b"HELO alice\x00 x")):
            with self.subTest(state=state, line=line[:20]):
                c = self.session(s)
                if state == "MBOX":
                    c.helo(DEFAULT_USER, DEFAULT_PASS)
                self.expect_error(c, line)
                self.wait_exit()
                lib.same(self, s.read_mbox(), mb.data())
