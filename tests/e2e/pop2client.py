"""
pop2client.py: a POP2 client (RFC 937) written for postern's tests.

It speaks the client side of the RFC's decision table (p.20): it reads
the greeting, sends HELO with the RFC's backslash quoting, selects
folders with FOLD, and reads messages with READ / RETR and one of ACKS,
ACKD or NACK.  Message data is length-delimited by the "=ccc" that comes
before it (no dot-stuffing, no terminator), so the client reads exactly
ccc octets and checks that the next reply follows at once.  Every read is
bounded by a deadline and by a byte count; a "-" reply raises Pop2Error
(the server closes after it).  Standard library only.

    c = Pop2Client.connect(port)
    c.greeting()
    n = c.helo("alice", "pass word")
    msgs = c.download_all(delete=True)     # [bytes, ...] in order
    c.quit()
"""

import re
import select
import socket
import time

MAXDATA = 64 * 1024 * 1024      # one message, at most
MAXLINE = 4096                  # one reply line, at most (RFC: 512)

COUNT_RE = re.compile(rb"#(\d+)(?: .*)?$", re.S)
LENGTH_RE = re.compile(rb"=(\d+)(?: .*)?$", re.S)
GREET_RE = re.compile(rb"\+ POP2 ([A-Za-z0-9.-]+)(?: .*)?$", re.S)


class Pop2Error(AssertionError):
    """The server said "- ..." (and closes), or broke the protocol."""

    def __init__(self, msg, reply=None):
        super().__init__(msg)
        self.reply = reply


def quote(arg):
    """RFC 937 p.6: backslash quotes a space and a backslash."""
    if isinstance(arg, str):
        arg = arg.encode()
    return arg.replace(b"\\", b"\\\\").replace(b" ", b"\\ ")


class Pop2Client:
    """One POP2 connection.  `state` follows the client state diagram
    (p.17): CALL, NMBR, SIZE, XFER, EXIT."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        self.state = "CALL"
        self.count = None       # last #nnn
        self.length = None      # last =ccc
        self.transcript = []

    @classmethod
    def connect(cls, port, host="127.0.0.1", timeout=10.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
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

    # -- bytes --------------------------------------------------------
    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Pop2Error("timeout waiting for the server\n" + self.show())
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise Pop2Error("timeout waiting for the server\n" + self.show())
        try:
            d = self.sock.recv(256 * 1024)
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if not d:
            self.eof = True
        self.buf += d

    def readline(self, timeout=None):
        """One line with its CRLF, or b"" at EOF (a partial last line is
        returned as it is)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self.buf:
            if len(self.buf) > MAXLINE:
                raise Pop2Error("reply line too long: %r" % self.buf[:80])
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

    def read_exact(self, n, timeout=None):
        """Exactly n octets of message data."""
        if n > MAXDATA:
            raise Pop2Error("message too large: %d" % n)
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            if self.eof:
                raise Pop2Error("EOF after %d of %d data octets" % (
                    len(self.buf), n))
            self._fill(deadline)
        d, self.buf = self.buf[:n], self.buf[n:]
        self.transcript.append(("S", d))
        return d

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(("C", data))
        self.sock.sendall(data)

    def reply(self, timeout=None):
        """One reply line without its CRLF (b"" at EOF).  A "-" reply
        raises Pop2Error; a line without CRLF is a protocol error."""
        l = self.readline(timeout)
        if not l:
            raise Pop2Error("connection closed\n" + self.show(), b"")
        if not l.endswith(b"\r\n"):
            raise Pop2Error("reply without CRLF: %r" % l[:80], l)
        l = l[:-2]
        if l.startswith(b"-"):
            self.state = "EXIT"
            raise Pop2Error("server error: %r" % l, l)
        return l

    def command(self, line):
        """Sends one command line; returns the reply line."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.reply()

    def _count(self, r):
        m = COUNT_RE.match(r)
        if not m:
            raise Pop2Error("expected #nnn, got %r" % r, r)
        self.count = int(m.group(1))
        self.state = "NMBR"
        return self.count

    def _length(self, r):
        m = LENGTH_RE.match(r)
        if not m:
            raise Pop2Error("expected =ccc, got %r" % r, r)
        self.length = int(m.group(1))
        self.state = "SIZE"
        return self.length

    # -- the protocol -------------------------------------------------
    def greeting(self):
        """Returns the host the greeting names (p.10)."""
        r = self.reply()
        m = GREET_RE.match(r)
        if not m:
            raise Pop2Error("bad greeting %r" % r, r)
        return m.group(1).decode()

    def helo(self, user, password):
        """Returns the count of the default mailbox."""
        return self._count(self.command(b"HELO " + quote(user) + b" " +
                                        quote(password)))

    def fold(self, mailbox):
        return self._count(self.command(b"FOLD " + quote(mailbox)))

    def read(self, n=None):
        return self._length(self.command(
            b"READ" if n is None else b"READ %d" % n))

    def retr(self):
        """The data of the current message: exactly the last =ccc."""
        if not self.length:
            raise Pop2Error("RETR of a zero-length message closes the "
                            "connection (p.8)")
        self.send(b"RETR\r\n")
        self.state = "XFER"
        return self.read_exact(self.length)

    def acks(self):
        return self._length(self.command(b"ACKS"))

    def ackd(self):
        return self._length(self.command(b"ACKD"))

    def nack(self):
        return self._length(self.command(b"NACK"))

    def quit(self):
        """Returns the "+" reply; the server then closes."""
        r = self.command(b"QUIT")
        if not r.startswith(b"+"):
            raise Pop2Error("QUIT answered %r" % r, r)
        self.state = "EXIT"
        return r

    def nothing_pending(self, wait=0.3):
        """True if nothing is buffered and no byte arrives within wait
        seconds."""
        if self.buf:
            return False
        r, _, _ = select.select([self.sock], [], [], wait)
        return not r

    def expect_eof(self, timeout=None):
        """Waits for the server to close; returns what came before."""
        deadline = time.monotonic() + (timeout or self.timeout)
        got = b""
        while True:
            got += self.buf
            self.buf = b""
            if self.eof:
                return got
            self._fill(deadline)

    def download_all(self, delete=True, check=None):
        """Reads every message of the selected mailbox from message 1 on
        with READ / RETR / ACKD (or ACKS), as the client decision table
        does (actions 3a, 4a, 5a/b), and returns the data of each.  A
        message of zero octets (empty or already deleted) is skipped
        with READ n+1.  check(i, data), if given, is called for each."""
        out = []
        n = self.count or 0
        msn = 1
        size = self.read(1) if n > 0 else 0
        while msn <= n:
            if size == 0:
                msn += 1
                if msn <= n:
                    size = self.read(msn)
                continue
            data = self.retr()
            if check:
                check(msn, data)
            out.append(data)
            size = self.ackd() if delete else self.acks()
            msn += 1
        return out

    def show(self):
        out = []
        for who, d in self.transcript[-30:]:
            t = d if len(d) < 200 else d[:200] + b"...(%d)" % len(d)
            out.append("%s: %r" % (who, t))
        return "\n".join(out)
