"""
lib.py: helpers and runner for postern's end-to-end suite (tests/e2e/).

The suite starts the real pop3d on loopback ports chosen at run time and
drives it with real clients (Python's poplib, fetchmail, curl, procmail
for delivery) and with a minimal raw POP3 client for byte-exact checks.

Run it as  tests/e2e/run.sh BUILD_DIR  (or  python3 tests/e2e/lib.py
--run BUILD_DIR [test_module ...]).  Standard library only.

Privileges: when the suite runs as root, every server of the ordinary
tests runs as the unprivileged user "nobody" (the non-root contract: uid
and gid in the passwd-file are ignored, the server runs as the invoking
user); test_root.py and test_enospc.py use root itself.

Every helper is bounded in count and time; Server cleans up its
processes and its temporary directory on exit, also on failure (set
POSTERN_E2E_KEEP=1 to keep the directories for a post-mortem).
"""

import hashlib
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(os.environ.get("POSTERN_E2E_BUILD", "build"))
POP3D = os.path.join(BUILD, "pop3d")
# The test build (make check-build): the same program with the test hooks
# compiled in (POSTERN_TEST_CRASH_AT, POSTERN_TEST_SANDBOX_SYSCALL).  The
# production pop3d has none: Server(hooks=True) runs this one.
POP3D_TEST = os.path.join(BUILD, "pop3d-test")

# Sanitizer builds are several times slower: scale the waits, not the
# server's own timeouts.
SLOW = 3.0 if ("san" in os.path.basename(BUILD) or
               os.environ.get("POSTERN_E2E_SLOW")) else 1.0

IS_ROOT = os.geteuid() == 0
SANITIZED = "san" in os.path.basename(BUILD)

# Header lines the server hides from clients (design.md §2).
HIDDEN_HEADERS = (b"status", b"x-status", b"x-keywords", b"x-uid",
                  b"x-imap", b"x-imapbase")

SANITIZER_PATTERNS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer",
                      b"runtime error:", b"SUMMARY: UndefinedBehavior",
                      b"SUMMARY: AddressSanitizer",
                      b"Sanitizer has encountered a fatal error")

DEFAULT_USER = "alice"
DEFAULT_PASS = "Alice-pw.7f3"


# --------------------------------------------------------------------------
# The user servers run as

class RunAs:
    """Who the ordinary test processes (pop3d, socat, procmail, fetchmail)
    run as: ourselves, or "nobody" when we are root."""

    def __init__(self):
        if IS_ROOT:
            pw = pwd.getpwnam("nobody")
            self.uid, self.gid, self.name = pw.pw_uid, pw.pw_gid, "nobody"
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
            self.name = pwd.getpwuid(self.uid).pw_name

    def popen_kw(self):
        """Keyword arguments for subprocess that drop to this user."""
        if not IS_ROOT:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown(self, path):
        if IS_ROOT:
            os.chown(path, self.uid, self.gid)

    def chown_tree(self, top):
        if not IS_ROOT:
            return
        for d, dirs, files in os.walk(top):
            os.chown(d, self.uid, self.gid)
            for f in files:
                os.lchown(os.path.join(d, f), self.uid, self.gid)


RUN_AS = RunAs()


# --------------------------------------------------------------------------
# Messages and mboxes

def header_name(line):
    i = line.find(b":")
    if i <= 0:
        return None
    return line[:i].strip().lower()


class Msg:
    """One message as stored in an mbox (without its From_ line and without
    the mbox terminator), and what POP3 must make of it."""

    def __init__(self, content, envelope=None):
        assert isinstance(content, bytes)
        self.content = content
        self.envelope = envelope or \
            b"From sender@example.org Mon Jan  1 00:00:00 2024"

    def lines(self):
        """The stored lines, each without its LF and one trailing CR."""
        c = self.content
        ls = c.split(b"\n")
        if c.endswith(b"\n"):
            ls.pop()
        return [l[:-1] if l.endswith(b"\r") else l for l in ls]

    def visible(self):
        """(header lines, body lines or None) after hiding metadata.
        body is None when the message has no empty line (all header)."""
        hdr, body, in_hdr, hiding = [], None, True, False
        for l in self.lines():
            if in_hdr:
                if l == b"":
                    in_hdr, body = False, []
                    continue
                if l[:1] in (b" ", b"\t"):
                    if not hiding:
                        hdr.append(l)
                    continue
                hiding = header_name(l) in HIDDEN_HEADERS
                if hiding:
                    continue
                hdr.append(l)
            else:
                body.append(l)
        return hdr, body

    def wire_lines(self):
        hdr, body = self.visible()
        if body is None:
            return hdr
        return hdr + [b""] + body

    def wire(self):
        """The message as RETR sends it, before dot-stuffing: CRLF lines."""
        return b"".join(l + b"\r\n" for l in self.wire_lines())

    def octets(self):
        return len(self.wire())

    def top(self, n):
        """What TOP msg n sends, before dot-stuffing."""
        hdr, body = self.visible()
        if body is None:
            out = hdr
        else:
            out = hdr + [b""] + body[:n]
        return b"".join(l + b"\r\n" for l in out)

    def lf(self):
        """The wire form with CRLF turned into LF (what an MDA gets)."""
        return self.wire().replace(b"\r\n", b"\n")

    def header(self, name):
        for l in self.lines():
            if l == b"":
                break
            if header_name(l) == name.lower().encode():
                return l.split(b":", 1)[1].strip()
        return None


class Mbox:
    """An mbox built from messages: each one is its From_ line, its content
    and one empty terminator line, except that the last one may lack both
    its final newline and the terminator (final_newline=False)."""

    def __init__(self, msgs, final_newline=True):
        self.msgs = list(msgs)
        self.final_newline = final_newline
        if not final_newline:
            assert not self.msgs[-1].content.endswith(b"\n")

    def segment(self, i):
        m = self.msgs[i]
        seg = m.envelope + b"\n" + m.content
        if i == len(self.msgs) - 1 and not self.final_newline:
            return seg
        return seg + b"\n"

    def data(self):
        return b"".join(self.segment(i) for i in range(len(self.msgs)))

    def without(self, deleted):
        """The file after deleting the 0-based indexes in `deleted`."""
        return b"".join(self.segment(i) for i in range(len(self.msgs))
                        if i not in deleted)

    def kept(self, deleted):
        return [m for i, m in enumerate(self.msgs) if i not in deleted]


def split_mbox(data):
    """Splits mbox bytes at From_ lines that start the file or follow an
    empty line; returns [(envelope, content)] with the terminator removed
    (only for the test corpora, whose bodies hold no such lines)."""
    if not data:
        return []
    assert data.startswith(b"From "), data[:80]
    parts = re.split(rb"(?:(?<=\n\n)|^)(?=From [^\n]*\n)", data)
    out = []
    for p in parts:
        if not p:
            continue
        env, _, rest = p.partition(b"\n")
        out.append((env, rest))
    res = []
    for i, (env, rest) in enumerate(out):
        if i < len(out) - 1 or rest.endswith(b"\n\n"):
            assert rest.endswith(b"\n"), rest[-40:]
            rest = rest[:-1]
        res.append((env, rest))
    return res


def standard_messages():
    """A realistic corpus with the tricky cases of design.md §2."""
    ms = []
    # 1: plain
    ms.append(Msg(
        b"Return-Path: <bob@example.net>\n"
        b"Received: from mx.example.net (mx.example.net [192.0.2.7])\n"
        b"\tby mail.example.org with ESMTP id 4F1A2; Mon, 1 Jan 2024 00:00:00 +0000\n"
        b"From: Bob <bob@example.net>\n"
        b"To: Alice <alice@example.org>\n"
        b"Subject: Lunch on Tuesday\n"
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
        b"Message-ID: <m1@example.net>\n"
        b"\n"
        b"Hi Alice,\n"
        b"\n"
        b"are we still on for lunch?\n"
        b"Bob\n",
        b"From bob@example.net Mon Jan  1 00:00:00 2024"))
    # 2: dots, hidden metadata headers, look-alike headers
    ms.append(Msg(
        b"From: Carol <carol@example.com>\n"
        b"To: alice@example.org\n"
        b"Subject: dots and hidden headers\n"
        b"Status: RO\n"
        b"X-Status: A\n"
        b"X-Keywords: $Label1 Junk\n"
        b"X-UID: 7\n"
        b"X-Status-Note: visible, not metadata\n"
        b"Message-ID: <m2@example.com>\n"
        b"\n"
        b".leading dot\n"
        b"..two dots\n"
        b".\n"
        b"..\n"
        b" . space then dot\n"
        b"Status: in the body, so visible\n"
        b"end.\n",
        b"From MAILER-DAEMON Tue Feb 13 10:20:30 2024"))
    # 3: From lines, 8-bit bytes, a long line
    ms.append(Msg(
        b"From: dave@example.org\n"
        b"To: alice@example.org\n"
        b"Subject: =?ISO-8859-1?Q?caf=E9?=\n"
        b"Message-ID: <m3@example.org>\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n"
        b"\n"
        b">From an escaped line\n"
        b"a line\n"
        b"From the desk of Dave (not a separator: no empty line before)\n"
        b"\n"
        b"From here on nothing is an envelope\n"
        b"caf\xe9 na\xefve \xff\x80 Gr\xc3\xbc\xc3\x9fe \xe2\x82\xac\n"
        + b"x" * 3000 + b"\n"
        b"tab\there\n",
        b"From dave@example.org  Wed Mar  6 08:09:10 2024"))
    # 4: stored with CRLF line ends, a bare CR inside a line
    ms.append(Msg(
        b"From: erin@example.org\r\n"
        b"To: alice@example.org\r\n"
        b"Subject: stored with CRLF\r\n"
        b"Message-ID: <m4@example.org>\r\n"
        b"\r\n"
        b"first\r\n"
        b"bare\rCR inside\r\n"
        b".dot after CRLF\r\n"
        b"last\r\n"))
    # 5: a qpopper X-UIDL header
    ms.append(Msg(
        b"From: frank@example.org\n"
        b"To: alice@example.org\n"
        b"Subject: qpopper id\n"
        b"X-UIDL: 3a7b2c9d0e1f4a5b6c7d8e9f00112233\n"
        b"Message-ID: <m5@example.org>\n"
        b"\n"
        b"one\ntwo\nthree\nfour\nfive\n"))
    # 6: headers only, no empty line
    ms.append(Msg(
        b"From: grace@example.org\n"
        b"To: alice@example.org\n"
        b"Subject: headers only\n"))
    # 7: the body ends with an empty line of its own
    ms.append(Msg(
        b"From: heidi@example.org\n"
        b"Subject: trailing empty line\n"
        b"Message-ID: <m7@example.org>\n"
        b"\n"
        b"text\n"
        b"\n"))
    # 8: an exact duplicate of message 1 (same envelope, same headers)
    ms.append(Msg(ms[0].content, ms[0].envelope))
    # 9: the last message has no trailing newline
    ms.append(Msg(
        b"From: ivan@example.org\n"
        b"Subject: no newline at end of file\n"
        b"Message-ID: <m9@example.org>\n"
        b"\n"
        b"line one\n"
        b"line two without newline"))
    return ms


def standard_mbox():
    return Mbox(standard_messages(), final_newline=False)


def simple_message(i, tag="m", body_lines=4, envelope=None):
    """A plain, unique message without lines that an MDA would escape."""
    body = b"".join(b"%s line %d of message %d\n" % (
        b"." if j % 3 == 1 else b"", j, i) for j in range(body_lines))
    return Msg(
        b"From: gen@example.org\n"
        b"To: alice@example.org\n"
        b"Subject: %s %d\n"
        b"Message-ID: <%s.%d@e2e.example>\n"
        b"\n" % (tag.encode(), i, tag.encode(), i) + body,
        envelope or b"From gen@example.org Mon Jan  1 00:00:00 2024")


def simple_mbox(n, tag="m"):
    return Mbox([simple_message(i, tag) for i in range(1, n + 1)])


# --------------------------------------------------------------------------
# A minimal raw POP3 client

class ProtocolError(AssertionError):
    pass


class Pop:
    """Line-oriented POP3 client over a socket, for byte-exact checks.
    Every read is bounded by a deadline and by a byte count."""

    MAXBUF = 16 * 1024 * 1024

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.timeout = timeout * SLOW
        self.buf = b""
        self.eof = False
        self.transcript = []

    @classmethod
    def connect(cls, port, host="127.0.0.1", timeout=10.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout * SLOW)
        s.connect((host, port))
        return cls(s, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise ProtocolError("timeout waiting for the server; "
                                "transcript:\n" + self.show())
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise ProtocolError("timeout waiting for the server; "
                                "transcript:\n" + self.show())
        try:
            d = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if not d:
            self.eof = True
        self.buf += d
        if len(self.buf) > self.MAXBUF:
            raise ProtocolError("reply too large")

    def readline(self, timeout=None):
        """One line with its line end, or b"" at EOF."""
        deadline = time.monotonic() + (timeout * SLOW if timeout
                                       else self.timeout)
        while b"\n" not in self.buf:
            if self.eof:
                d, self.buf = self.buf, b""
                if d:
                    self.transcript.append(("S", d))
                return d
            self._fill(deadline)
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        self.transcript.append(("S", line))
        return line

    def reply(self, timeout=None):
        """One status line without CRLF; checks the CRLF."""
        l = self.readline(timeout)
        if l and not l.endswith(b"\r\n"):
            raise ProtocolError("reply line without CRLF: %r" % l)
        return l[:-2] if l else l

    def send(self, data):
        self.transcript.append(("C", data))
        self.sock.sendall(data)

    def cmd(self, line):
        """Sends one command, returns its status line (no CRLF)."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.reply()

    def ok(self, line):
        r = self.cmd(line)
        if not r.startswith(b"+OK"):
            raise ProtocolError("%r -> %r\n%s" % (line, r, self.show()))
        return r

    def multi_raw(self, timeout=None):
        """The raw lines of a multi-line body (dot-stuffed, CRLF kept),
        without the terminator."""
        out = []
        while True:
            l = self.readline(timeout)
            if not l:
                raise ProtocolError("EOF inside a multi-line reply")
            if not l.endswith(b"\r\n"):
                raise ProtocolError("line without CRLF: %r" % l[:80])
            if l == b".\r\n":
                return out
            out.append(l)

    def multi(self, timeout=None):
        """The body of a multi-line reply, unstuffed, CRLF kept."""
        return unstuff(self.multi_raw(timeout))

    def greeting(self):
        g = self.reply()
        if not g.startswith(b"+OK "):
            raise ProtocolError("bad greeting %r" % g)
        return g

    def login(self, user=DEFAULT_USER, password=DEFAULT_PASS):
        self.ok("USER " + user)
        return self.ok("PASS " + password)

    def expect_eof(self, timeout=5.0):
        """Reads until EOF; returns what came.  Fails on timeout."""
        deadline = time.monotonic() + timeout * SLOW
        got = b""
        while True:
            while self.buf:
                got += self.buf
                self.buf = b""
            if self.eof:
                return got
            self._fill(deadline)

    def nothing_pending(self, wait=0.3):
        """True if no byte arrives within `wait` seconds."""
        if self.buf:
            return False
        r, _, _ = select.select([self.sock], [], [], wait * SLOW)
        return not r

    def show(self):
        out = []
        for who, d in self.transcript[-40:]:
            t = d if len(d) < 300 else d[:300] + b"...(%d)" % len(d)
            out.append("%s: %r" % (who, t))
        return "\n".join(out)


def unstuff(raw_lines):
    return b"".join(l[1:] if l.startswith(b".") else l for l in raw_lines)


def stuffed(data):
    """Dot-stuffs CRLF data as a server must send it."""
    out = []
    for l in data.split(b"\r\n")[:-1]:
        out.append((b"." + l if l.startswith(b".") else l) + b"\r\n")
    return b"".join(out)


# --------------------------------------------------------------------------
# Processes

def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def ipv6_loopback_ok():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
            return True
        finally:
            s.close()
    except OSError:
        return False


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    """Waits until something accepts on host:port; True/False."""
    deadline = time.monotonic() + timeout * SLOW
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect((host, port))
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    return False


def kill_group(proc, sig_first=signal.SIGTERM, wait=5.0):
    """Ends a process started with start_new_session=True and anything left
    in its process group.  Returns the leader's exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig_first)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait * SLOW)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    return proc.returncode


_HASHES = {}


def make_hash(password):
    """A crypt(3) hash made by `pop3d -P` (cached per password)."""
    if password not in _HASHES:
        p = subprocess.run([POP3D, "-P"], input=password.encode() + b"\n",
                           capture_output=True, timeout=30 * SLOW)
        if p.returncode != 0:
            raise AssertionError("pop3d -P failed (%d): %r" % (
                p.returncode, p.stderr))
        h = p.stdout.strip().decode()
        if not h.startswith("$") or "\n" in h or ":" in h:
            raise AssertionError("pop3d -P printed %r" % p.stdout)
        _HASHES[password] = h
    return _HASHES[password]


def proc_status(pid):
    """/proc/PID/status as a dict of str -> str, or None if gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            d = {}
            for l in f:
                k, _, v = l.partition(":")
                d[k] = v.strip()
            return d
    except (FileNotFoundError, ProcessLookupError):
        return None


def children_of(pid):
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                st = f.read()
        except OSError:
            continue
        # the comm field may hold spaces; ppid is after the last ')'
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(e))
    return out


def descendants_of(pid):
    out, todo = [], [pid]
    for _ in range(1000):
        if not todo:
            break
        p = todo.pop()
        kids = children_of(p)
        out.extend(kids)
        todo.extend(kids)
    return out


def write_file(path, data, mode=0o600, owner=None):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    if owner is not None:
        owner.chown(path)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def assert_serves(tc, c, msgs):
    """After a login on client c: STAT counts msgs and RETR sends each of
    them byte for byte."""
    tc.assertEqual(c.ok("STAT"), b"+OK %d %d" % (
        len(msgs), sum(m.octets() for m in msgs)))
    for i, m in enumerate(msgs, 1):
        c.ok("RETR %d" % i)
        tc.assertEqual(c.multi(), m.wire(), "message %d" % i)


def same(tc, got, want, what="bytes"):
    """assertEqual for long byte strings: on a difference, says where the
    first one is and shows a little context instead of both strings."""
    if got == want:
        return
    n = min(len(got), len(want))
    i = next((k for k in range(n) if got[k] != want[k]), n)
    tc.fail("%s differ: %d vs %d bytes (got vs expected), first difference "
            "at offset %d:\n  got:      %r\n  expected: %r" % (
                what, len(got), len(want), i, got[max(0, i - 60):i + 60],
                want[max(0, i - 60):i + 60]))


def journal_name(maildrop):
    """journal.c's journal_name(): 16 hex digits of SHA-256 of the
    absolute maildrop path, plus ".journal"."""
    return hashlib.sha256(os.path.abspath(maildrop).encode()).hexdigest()[:16] \
        + ".journal"


def journal_path(maildrop, state_dir, user=DEFAULT_USER):
    """Where pop3d keeps the journal of maildrop: in the user's state
    directory <state_dir>/<user>/, never beside the maildrop."""
    return os.path.join(state_dir, user, journal_name(maildrop))


def tree(top):
    """Relative paths of every entry under top (for "no file created")."""
    out = set()
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(d, n), top))
    return out


# --------------------------------------------------------------------------
# The server under test

# (temp dir, log tail) of every Server that ended during the current test;
# the runner prints them under a failed test's report.
LOG_TAILS = []


def server(test, **kw):
    """A Server that the test case cleans up (also on failure)."""
    s = Server(test, **kw)
    test.addCleanup(s.__exit__, None, None, None)
    return s

class Server:
    """A temporary installation of pop3d: directory, config, passwd-file,
    maildrops; start() runs `pop3d -F` on a free loopback port.

        with Server(self) as s:
            s.put_mbox(standard_mbox().data())
            s.start()
            with s.connect() as c: ...
    """

    def __init__(self, test=None, users=None, conf=None, as_root=False,
                 log_level="info", hooks=False):
        self.test = test
        # start, spawn_i and run_pop3d run pop3d-test with hooks=True
        self.pop3d = POP3D_TEST if hooks else POP3D
        self.as_root = as_root
        self.owner = None if as_root else RUN_AS
        self.users = dict(users) if users is not None else \
            {DEFAULT_USER: DEFAULT_PASS}
        self.tmp = tempfile.mkdtemp(prefix="postern-e2e.")
        os.chmod(self.tmp, 0o755)
        self.maildir = os.path.join(self.tmp, "mail")
        os.mkdir(self.maildir, 0o755)
        # state_dir: the journals, in <state_dir>/<user>/ (pop3d makes
        # those); the servers' own, like everything under tmp
        self.statedir = os.path.join(self.tmp, "state")
        os.mkdir(self.statedir, 0o755)
        self.conf_path = os.path.join(self.tmp, "postern.conf")
        self.passwd_path = os.path.join(self.tmp, "passwd")
        self.port = None
        self.proc = None
        self.logs = []          # paths of every stderr we collected
        self.extra_procs = []
        self.conf = {
            "hostname": "e2e.example",
            "passwd_file": self.passwd_path,
            "maildrop": os.path.join(self.maildir, "%u"),
            "state_dir": self.statedir,
            "timeout_auth": "30",
            "timeout_session": "60",
            "auth_fail_delay": "100",
            "auth_max_tries": "3",
            "lock_timeout": "10",
            "log_level": log_level,
            # every test connects from 127.0.0.1, often more than the
            # default 60 a minute; the limit tests set their own
            "max_conn_per_min": "100000",
        }
        if conf:
            self.conf.update(conf)
        self.passwd_extra = []  # raw lines appended to the passwd-file
        self.uidgid = None      # (uid, gid) written for the users
        if self.owner:
            self.owner.chown_tree(self.tmp)

    # -- files ----------------------------------------------------------
    def write_conf(self, listen=None):
        lines = ["# written by tests/e2e/lib.py"]
        for k, v in self.conf.items():
            if v is None:
                continue
            if isinstance(v, (list, tuple)):
                lines.extend("%s = %s" % (k, x) for x in v)
            else:
                lines.append("%s = %s" % (k, v))
        for l in listen or []:
            lines.append("listen = %s" % l)
        write_file(self.conf_path, ("\n".join(lines) + "\n").encode(),
                   0o644, self.owner)

    def write_passwd(self):
        uid, gid = self.uidgid or (RUN_AS.uid, RUN_AS.gid)
        lines = []
        for u, p in self.users.items():
            lines.append("%s:%s:%d:%d" % (u, make_hash(p), uid, gid))
        lines.extend(self.passwd_extra)
        write_file(self.passwd_path, ("\n".join(lines) + "\n").encode(),
                   0o600, self.owner)

    def maildrop(self, user=DEFAULT_USER):
        return os.path.join(self.maildir, user)

    def put_mbox(self, data, user=DEFAULT_USER, mode=0o600):
        write_file(self.maildrop(user), data, mode, self.owner)

    def read_mbox(self, user=DEFAULT_USER):
        return read_file(self.maildrop(user))

    def journal(self, user=DEFAULT_USER, maildrop=None):
        """The journal of user's maildrop (or of another maildrop of the
        user's, a POP2 folder) in the user's state directory."""
        return journal_path(maildrop or self.maildrop(user),
                            self.conf.get("state_dir") or self.statedir,
                            user)

    def dotlock(self, user=DEFAULT_USER):
        return self.maildrop(user) + ".lock"

    def new_log(self, name):
        p = os.path.join(self.tmp, "%s.%d.log" % (name, len(self.logs)))
        self.logs.append(p)
        return p

    def prepare(self, listen=None):
        self.write_conf(listen)
        self.write_passwd()

    # -- processes ------------------------------------------------------
    def popen_kw(self):
        return {} if self.as_root or not self.owner else \
            self.owner.popen_kw()

    def env(self, extra=None):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("POSTERN_TEST_")}
        e["HOME"] = self.tmp
        if self.as_root and SANITIZED:
            # A session started as root keeps the mail group as its saved
            # set-group-ID: ptrace needs CAP_SYS_PTRACE then (which is what
            # keeps the user from borrowing the group), and LeakSanitizer
            # cannot stop the process to look.  Leaks are checked by the
            # unit suites and the servers that do not drop.
            opts = e.get("ASAN_OPTIONS", "")
            e["ASAN_OPTIONS"] = (opts + ":" if opts else "") + \
                "detect_leaks=0"
        if extra:
            e.update(extra)
        return e

    def start(self, listen=None, args=(), env=None, wait=True):
        """Starts `pop3d -f CONF -F` listening on a free loopback port
        (or on `listen`, a list of listen values) and waits until it
        accepts a connection."""
        if listen is None:
            self.port = free_port()
            listen = ["pop3 127.0.0.1:%d" % self.port]
        self.prepare(listen)
        self.log_path = self.new_log("pop3d")
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.pop3d, "-f", self.conf_path, "-F"] + list(args),
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, env=self.env(env),
                **self.popen_kw())
        finally:
            logf.close()
        if not wait:
            return self.proc
        host = "127.0.0.1"
        m = re.match(r"pop3 \[?([^\]]*?)\]?:(\d+)$", listen[0])
        if m:
            host, port = m.group(1), int(m.group(2))
            if self.port is None:
                self.port = port
        else:
            port = self.port
        if not wait_port(port, host, 10, self.proc):
            raise AssertionError("pop3d -F did not start (status %r); "
                                 "log:\n%s" % (self.proc.poll(),
                                               self.log()))
        return self.proc

    def stop(self):
        """SIGTERM, then SIGKILL for anything left; returns the status."""
        st = kill_group(self.proc)
        return st

    def connect(self, host="127.0.0.1", port=None, greet=True):
        c = Pop.connect(port or self.port, host)
        if greet:
            c.greeting()
        return c

    def login(self, user=DEFAULT_USER, password=DEFAULT_PASS, tries=20):
        """Connects and logs in, retrying while [IN-USE] (a previous
        session still finishing).  Returns the client."""
        last = None
        for _ in range(tries):
            c = self.connect()
            c.ok("USER " + user)
            r = c.cmd("PASS " + password)
            if r.startswith(b"+OK"):
                return c
            c.close()
            last = r
            if b"[IN-USE]" not in r:
                break
            time.sleep(0.2 * SLOW)
        raise ProtocolError("login failed: %r" % last)

    def spawn_i(self, env=None, args=("-e",), argv=None, stderr=None,
                pass_fds=()):
        """Runs `pop3d -f CONF -i -e` (or the command argv, as the
        servers' user unless as_root) on one end of a socketpair (as inetd
        would); returns (client, process).  Its stderr goes to a new log,
        or to `stderr` (subprocess.PIPE, say); pass_fds as for Popen."""
        if not os.path.exists(self.conf_path):
            self.prepare([])
        a, b = socket.socketpair()
        logf = open(self.new_log("pop3d-i"), "ab") if stderr is None \
            else None
        try:
            p = subprocess.Popen(
                argv or [self.pop3d, "-f", self.conf_path, "-i"] +
                list(args), stdin=b.fileno(), stdout=b.fileno(),
                stderr=logf or stderr, pass_fds=pass_fds,
                start_new_session=True, env=self.env(env),
                **self.popen_kw())
        finally:
            if logf is not None:
                logf.close()
            b.close()
        self.extra_procs.append(p)
        return Pop(a), p

    def run_pop3d(self, args, input=None, timeout=20, env=None):
        return subprocess.run([self.pop3d] + list(args), input=input,
                              capture_output=True, timeout=timeout * SLOW,
                              env=self.env(env), **self.popen_kw())

    def log(self):
        out = []
        for p in self.logs:
            try:
                out.append(read_file(p).decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)

    def wait_log(self, pattern, timeout=5.0):
        """Waits until the collected logs match the regex; returns it."""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            m = re.search(pattern, self.log(), re.M)
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.05)

    def sanitizer_reports(self):
        bad = []
        for p in self.logs:
            try:
                d = read_file(p)
            except OSError:
                continue
            for pat in SANITIZER_PATTERNS:
                if pat in d:
                    i = d.index(pat)
                    bad.append(d[max(0, i - 200):i + 2000].decode(
                        "utf-8", "replace"))
                    break
        return bad

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        try:
            self.stop()
            for p in self.extra_procs:
                kill_group(p, signal.SIGKILL, 2)
            san = self.sanitizer_reports()
            LOG_TAILS.append((self.tmp, self.log()[-4000:]))
            if san and et is None:
                raise AssertionError("sanitizer report in the server log:"
                                     "\n" + "\n".join(san))
        finally:
            if not os.environ.get("POSTERN_E2E_KEEP"):
                shutil.rmtree(self.tmp, ignore_errors=True)
            else:
                sys.stderr.write("kept %s\n" % self.tmp)
        return False


# --------------------------------------------------------------------------
# procmail

PROCMAIL = shutil.which("procmail") or "/usr/bin/procmail"


def procmail_rc(dirpath, mbox, owner=RUN_AS, extra=""):
    """Writes a procmailrc delivering to mbox with procmail's own default
    locking (dotlock $DEFAULT.lock and kernel locks); returns its path."""
    rc = os.path.join(dirpath, "procmailrc.%d" % os.getpid())
    write_file(rc, ("MAILDIR=%s\nDEFAULT=%s\nLOGFILE=%s\nLOCKSLEEP=1\n%s"
                    % (dirpath, mbox, os.path.join(dirpath, "procmail.log"),
                       extra)).encode(), 0o600, owner)
    return rc


def procmail_deliver(rc, data, owner=RUN_AS, timeout=30):
    """Delivers one message (bytes starting with its From_ line)."""
    p = subprocess.run([PROCMAIL, rc], input=data, capture_output=True,
                       timeout=timeout * SLOW, cwd="/",
                       **owner.popen_kw())
    if p.returncode != 0:
        raise AssertionError("procmail failed (%d): %r" % (p.returncode,
                                                          p.stderr))
    return p


# --------------------------------------------------------------------------
# The runner

class Result(unittest.TestResult):
    """Prints one line per test and counts passed / failed / skipped; a
    test with failed subtests counts once, as failed.  Errors outside a
    test (setUpClass, an import error) count as one failure each."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.npass = self.nfail = self.nskip = 0
        self.reports = []
        self._state = None      # None outside a test

    @staticmethod
    def _name(test):
        return test.id() if hasattr(test, "id") else str(test)

    def startTest(self, test):
        super().startTest(test)
        self._t0 = time.monotonic()
        self._state, self._why = "ok", ""
        self._nreports = len(self.reports)
        del LOG_TAILS[:]
        self.stream.write("%s ... " % self._name(test))
        self.stream.flush()
        signal.alarm(int(TEST_TIMEOUT * SLOW))

    def stopTest(self, test):
        signal.alarm(0)
        dt = time.monotonic() - self._t0
        if self._state == "ok":
            self.npass += 1
            self.stream.write("ok (%.1fs)\n" % dt)
        elif self._state == "skip":
            self.nskip += 1
            self.stream.write("skipped: %s\n" % self._why)
        else:
            self.nfail += 1
            self.stream.write("%s (%.1fs)\n" % (self._state, dt))
            logs = "".join("\n--- pop3d log, %s (tail) ---\n%s" % t
                           for t in LOG_TAILS if t[1].strip())
            if logs and len(self.reports) > self._nreports:
                k, n, text = self.reports[-1]
                self.reports[-1] = (k, n, text + logs)
        self.stream.flush()
        self._state = None
        super().stopTest(test)

    def _outside(self, kind, test, err):
        self.nfail += 1
        self.stream.write("%s ... %s\n" % (self._name(test), kind))
        self.stream.flush()
        self.reports.append((kind, self._name(test),
                             self._exc_info_to_string(err, test)))

    def _fail(self, kind, test, err):
        if self._state is None:
            self._outside(kind, test, err)
            return
        if kind == "ERROR":
            self._state = "ERROR"
        elif self._state != "ERROR":
            self._state = "FAIL"
        self.reports.append((kind, self._name(test),
                             self._exc_info_to_string(err, test)))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail("FAIL", test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail("ERROR", test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "FAIL" if issubclass(err[0], test.failureException) \
                else "ERROR"
            self._fail(kind, subtest, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if self._state is None:
            self.nskip += 1
            self.stream.write("%s ... skipped: %s\n" % (self._name(test),
                                                        reason))
            return
        if self._state == "ok":
            self._state, self._why = "skip", reason

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail("FAIL", test, (AssertionError,
                                  AssertionError("unexpected success"),
                                  None))


TEST_TIMEOUT = 120


class TestTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise TestTimeout("test took longer than %ds" % int(TEST_TIMEOUT * SLOW))


def tool_versions():
    out = []
    for cmd in (["curl", "--version"], ["fetchmail", "--version"],
                ["procmail", "-v"], ["socat", "-V"]):
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=10,
                               stdin=subprocess.DEVNULL)
            txt = (p.stdout + p.stderr).decode("utf-8", "replace")
            lines = [l for l in txt.splitlines()
                     if l.strip() and "WARNING" not in l
                     and not l.startswith("socat by")]
            out.append(lines[0].strip() if lines else cmd[0] + ": ?")
        except (OSError, subprocess.TimeoutExpired):
            out.append(cmd[0] + ": not found")
    out.append("Python %s" % sys.version.split()[0])
    return out


def main(argv):
    if len(argv) < 2 or argv[0] != "--run":
        sys.stderr.write("usage: lib.py --run BUILD_DIR [test_module ...]\n")
        return 2
    build = os.path.abspath(argv[1])
    os.environ["POSTERN_E2E_BUILD"] = build
    global BUILD, POP3D, POP3D_TEST, SLOW, SANITIZED
    BUILD, POP3D = build, os.path.join(build, "pop3d")
    POP3D_TEST = os.path.join(build, "pop3d-test")
    SANITIZED = "san" in os.path.basename(build)
    SLOW = 3.0 if ("san" in os.path.basename(build) or
                   os.environ.get("POSTERN_E2E_SLOW")) else 1.0
    sys.modules["lib"] = sys.modules[__name__]
    sys.path.insert(0, HERE)
    print("e2e: pop3d = %s%s, running as %s%s" % (
        POP3D, "" if os.access(POP3D, os.X_OK) else " (MISSING)",
        pwd.getpwuid(os.geteuid()).pw_name,
        " (servers as %s)" % RUN_AS.name if IS_ROOT else ""))
    for v in tool_versions():
        print("e2e: client: %s" % v)
    sys.stdout.flush()
    if not os.access(POP3D, os.X_OK):
        print("e2e: %s not found or not executable: build it first" % POP3D)
        print("0 passed, 1 failed")
        return 1
    loader = unittest.TestLoader()
    if len(argv) > 2:
        suite = unittest.TestSuite()
        for name in argv[2:]:
            suite.addTests(loader.loadTestsFromName(name))
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    signal.signal(signal.SIGALRM, _on_alarm)
    res = Result(sys.stdout)
    t0 = time.monotonic()
    suite.run(res)
    for kind, name, text in res.reports:
        print("\n==== %s: %s\n%s" % (kind, name, text.rstrip()))
    print("\ne2e: %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed, %d skipped" % (res.npass, res.nfail,
                                                 res.nskip))
    return 0 if res.nfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
