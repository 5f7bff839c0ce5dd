"""
test_rmcp.py: rmcpd and rmcp (RFC 1339, design.md §6) on loopback.

rmcpd reads the same configuration file as pop3d (the rmcp_* keys) and
listens on a UDP port chosen free at run time on 127.0.0.1 and ::1.  The
tests speak the protocol with raw UDP sockets for byte-exact checks and
with the rmcp client; procmail delivers, and lib.Server's pop3d reads, so
that "new" and "old" are checked across real POP sessions.  Covered: the
(0,0,0) cases alike, consent (owner-execute bit, list), real ages, the
authenticated mode (a request for every name, the right secret answered
at once, wrong ones (0,0,0) and counted until the source is blocked),
malformed and privileged-port datagrams unanswered, the per-source rate
limit with another address still answered, 100,000 random datagrams
survived, the reply sent from the address the request came to, the
inetd, systemd and daemon launch modes, SIGHUP, the drop to rmcp_user
when started as root, and the client's watch mode.

As elsewhere in the suite, when run as root the servers run as "nobody"
(no privilege drop of their own); test_root_drop starts rmcpd as root.
"""

import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import lib
from lib import DEFAULT_USER, simple_message

ZERO = b"\0" * 12
AUTHREQ = b"\0\0\0\x01" + b"\0" * 8
NEW = b"\0" * 11 + b"\x01"          # obfuscated (0, 0, 1)
OLD = b"\0" * 7 + b"\x01" + b"\0" * 4   # obfuscated (0, 1, 0)
SECRET = "s3cret-rmcp"


def rmcpd_path(hooks=False):
    """The production rmcpd, or the test build's (test hooks in)."""
    return os.path.join(lib.BUILD, "rmcpd-test" if hooks else "rmcpd")


def rmcp_path():
    return os.path.join(lib.BUILD, "rmcp")


def free_udp_port():
    """A port free for UDP on 127.0.0.1 and ::1 (and the wildcards)."""
    for _ in range(100):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s4.bind(("0.0.0.0", 0))
            port = s4.getsockname()[1]
            if not lib.ipv6_loopback_ok():
                return port
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            try:
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s6.bind(("::", port))
                return port
            except OSError:
                continue
            finally:
                s6.close()
        finally:
            s4.close()
    raise AssertionError("no free UDP port")


def poll_dgram(user):
    return b"\0\0\0\0" + (user.encode() if isinstance(user, str) else user)


def auth_dgram(secret, mask=1):
    return struct.pack(">I", mask) + secret.encode()


class Udp:
    """A UDP client socket bound to src, talking to the responder."""

    def __init__(self, port, host="127.0.0.1", src=None):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind(src or (("::1" if fam == socket.AF_INET6 else
                                "127.0.0.1"), 0))
        self.server = (host, port)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        self.sock.sendto(data, self.server)

    def recv(self, timeout=3.0):
        """(data, source address) or None."""
        r, _, _ = select.select([self.sock], [], [], timeout * lib.SLOW)
        if not r:
            return None
        data, addr = self.sock.recvfrom(2048)
        return data, addr

    def ask(self, data, timeout=3.0):
        self.send(data)
        got = self.recv(timeout)
        return got[0] if got else None

    def poll(self, user, timeout=3.0):
        return self.ask(poll_dgram(user), timeout)

    def silent(self, data, wait=0.4):
        """True if data gets no reply within wait seconds."""
        self.send(data)
        return self.recv(wait) is None

    def drain(self, wait=0.0):
        while self.recv(wait) is not None:
            pass


class Rmcpd:
    """rmcpd on a lib.Server's configuration (same file as pop3d)."""

    def __init__(self, test, srv, conf=None, as_root=False, hooks=False):
        self.test = test
        self.srv = srv
        self.as_root = as_root
        self.hooks = hooks
        self.port = free_udp_port()
        self.proc = None
        self.log_path = None
        self.secrets = os.path.join(srv.tmp, "rmcp.secrets")
        srv.conf.update({
            "rmcp_enabled": "yes",
            "rmcp_listen": "127.0.0.1:%d%s" % (
                self.port, " [::1]:%d" % self.port
                if lib.ipv6_loopback_ok() else ""),
            "rmcp_user": "nobody",
            "rmcp_rate_burst": "100000",
            "rmcp_rate": "100000",
            "rmcp_secrets_file": self.secrets,
        })
        if conf:
            srv.conf.update(conf)
        test.addCleanup(self.stop)

    def write_secrets(self, lines, mode=0o600):
        data = "".join("%s:%s\n" % (u, lib.make_hash(p)) for u, p in lines)
        lib.write_file(self.secrets, data.encode(), mode, self.srv.owner)

    def write_files(self):
        listen = ["pop3 127.0.0.1:%d" % self.srv.port] if self.srv.port \
            else []
        self.srv.write_conf(listen)
        self.srv.write_passwd()

    def popen(self, args, stdin=subprocess.DEVNULL, env=None, cmd=None):
        self.write_files()
        self.log_path = self.srv.new_log("rmcpd")
        logf = open(self.log_path, "ab")
        kw = {} if self.as_root else self.srv.popen_kw()
        try:
            return subprocess.Popen(
                (cmd or []) + [rmcpd_path(self.hooks), "-f",
                               self.srv.conf_path] +
                list(args), stdin=stdin, stdout=logf, stderr=logf,
                start_new_session=True, env=self.srv.env(env), **kw)
        finally:
            logf.close()

    def start(self, args=("-F",), env=None):
        self.proc = self.popen(args, env=env)
        self.wait_ready()
        return self.proc

    def log(self):
        try:
            return lib.read_file(self.log_path).decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def wait_log(self, pattern, timeout=10.0):
        deadline = time.monotonic() + timeout * lib.SLOW
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log(), re.M)
            if m:
                return m
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.02)
        return re.search(pattern, self.log(), re.M)

    def wait_ready(self):
        if not self.wait_log(r"rmcpd\[\d+\]: ready"):
            raise AssertionError("rmcpd did not start (status %r); log:\n%s"
                                 % (self.proc.poll() if self.proc else None,
                                    self.log()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; a clean exit is status 0."""
        if self.proc is None:
            return None
        st = lib.kill_group(self.proc)
        self.proc = None
        return st

    def udp(self, host="127.0.0.1", src=None):
        u = Udp(self.port, host, src)
        self.test.addCleanup(u.close)
        return u

    def client(self, *args, env=None, timeout=20, input=None):
        return subprocess.run([rmcp_path(), "-p", str(self.port)] +
                              list(args), capture_output=True,
                              timeout=timeout * lib.SLOW, env=env,
                              input=input)


def words(reply):
    return struct.unpack(">III", reply)


class RmcpTest(unittest.TestCase):

    def setUp(self):
        self.srv = lib.server(self, users={
            "alice": "Alice-pw.1", "bob": "Bob-pw.2", "carol": "Carol-pw.3",
            "dave": "Dave-pw.4"})

    def mailbox(self, user, data, mode):
        self.srv.put_mbox(data, user, mode)

    def status(self, r, user, *args):
        p = r.client(*(list(args) + ["127.0.0.1", user]))
        return p.stdout.decode().strip(), p.returncode

    # -- new and old across procmail and POP3 sessions ---------------------

    def test_new_and_old_with_pop3(self):
        s = self.srv
        s.start()
        r = Rmcpd(self, s)
        self.mailbox("alice", b"", 0o700)         # consent, empty
        r.start()
        self.assertEqual(self.status(r, "alice"), ("none", 2))
        rc = lib.procmail_rc(s.tmp, s.maildrop("alice"))
        m1 = simple_message(1, "rmcp")
        lib.procmail_deliver(rc, m1.envelope + b"\n" + m1.content)
        self.assertEqual(os.stat(s.maildrop("alice")).st_mode & 0o777, 0o700)
        self.assertEqual(self.status(r, "alice"), ("new", 0))
        # A session that only looks leaves the mail new.
        with s.login("alice", "Alice-pw.1") as c:
            self.assertTrue(c.ok("STAT").startswith(b"+OK 1 "))
            c.ok("LIST")
            c.multi()
            c.ok("QUIT")
        self.assertEqual(self.status(r, "alice"), ("new", 0))
        # A session that reads makes it old.
        with s.login("alice", "Alice-pw.1") as c:
            c.ok("RETR 1")
            self.assertEqual(c.multi(), m1.wire())
            c.ok("QUIT")
        self.assertEqual(self.status(r, "alice"), ("old", 1))
        # Mail delivered later is new; TOP reads too.
        m2 = simple_message(2, "rmcp")
        lib.procmail_deliver(rc, m2.envelope + b"\n" + m2.content)
        self.assertEqual(self.status(r, "alice"), ("new", 0))
        with s.login("alice", "Alice-pw.1") as c:
            c.ok("TOP 2 0")
            c.multi()
            c.ok("DELE 1")
            c.ok("QUIT")
        self.assertEqual(self.status(r, "alice"), ("old", 1))
        # Read, and mail arrives during the session: new afterwards.
        with s.login("alice", "Alice-pw.1") as c:
            c.ok("RETR 1")
            c.multi()
            m3 = simple_message(3, "rmcp")
            lib.procmail_deliver(rc, m3.envelope + b"\n" + m3.content)
            c.ok("QUIT")
        self.assertEqual(self.status(r, "alice"), ("new", 0))
        # Deleting everything: an empty maildrop is "none".
        with s.login("alice", "Alice-pw.1") as c:
            c.ok("DELE 1")
            c.ok("DELE 2")
            c.ok("QUIT")
        self.assertEqual(s.read_mbox("alice"), b"")
        self.assertEqual(self.status(r, "alice"), ("none", 2))
        self.assertTrue(r.alive())

    def test_real_ages(self):
        r = Rmcpd(self, self.srv, {"rmcp_ages": "real"})
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        now = time.time()
        os.utime(self.srv.maildrop("alice"), (now - 3600, now - 100))
        r.start()
        u = r.udp()
        w0, a, rr = words(u.poll("alice"))
        self.assertEqual(w0, 0)
        self.assertTrue(100 <= a <= 104 and 3600 <= rr <= 3604, (a, rr))
        os.utime(self.srv.maildrop("alice"), (now - 100, now - 3600))
        w0, a, rr = words(u.poll("alice"))
        self.assertTrue(3600 <= a <= 3604 and 100 <= rr <= 104, (a, rr))
        self.assertEqual(self.status(r, "alice"), ("old", 1))
        # The responder never reads: its polls left the atime alone.
        st = os.stat(self.srv.maildrop("alice"))
        self.assertLess(abs(st.st_atime - (now - 100)), 1)

    # -- the (0, 0, 0) cases -----------------------------------------------

    def test_zero_cases_alike(self):
        mb = lib.simple_mbox(2).data()
        self.mailbox("alice", mb, 0o700)           # consent: answered
        self.mailbox("bob", b"", 0o700)            # empty
        self.mailbox("carol", mb, 0o600)           # no consent
        # dave: no maildrop
        os.symlink(self.srv.maildrop("alice"),
                   os.path.join(self.srv.maildir, "erin"))
        self.srv.passwd_extra.append("erin:%s:%d:%d" % (
            lib.make_hash("x"), lib.RUN_AS.uid, lib.RUN_AS.gid))
        r = Rmcpd(self, self.srv)
        r.start()
        u = r.udp()
        self.assertEqual(u.poll("alice"), NEW)
        for user in ("bob", "carol", "dave", "erin", "nosuchuser", "Alice",
                     "../alice", "alice/", "-alice", "a" * 64, "a" * 65,
                     b"al\0ice", b"caf\xc3\xa9"):
            self.assertEqual(u.poll(user), ZERO, user)
        # trailing NUL / CR LF are stripped (D-R1)
        self.assertEqual(u.poll(b"alice\r\n"), NEW)
        self.assertEqual(u.poll(b"alice\0"), NEW)
        # with the stdin of the client: exit status 2
        self.assertEqual(self.status(r, "carol"), ("none", 2))
        self.assertEqual(self.status(r, "dave"), ("none", 2))

    def test_consent_list(self):
        mb = lib.simple_mbox(1).data()
        self.mailbox("alice", mb, 0o700)
        self.mailbox("carol", mb, 0o600)
        r = Rmcpd(self, self.srv, {"rmcp_consent": "list",
                                   "rmcp_consent_users": "carol dave"})
        r.start()
        u = r.udp()
        self.assertEqual(u.poll("alice"), ZERO)
        self.assertEqual(u.poll("carol"), NEW)
        r.stop()
        r.srv.conf["rmcp_consent"] = "either"
        r.start()
        u = r.udp()
        self.assertEqual(u.poll("alice"), NEW)
        self.assertEqual(u.poll("carol"), NEW)

    # -- authenticated mode ------------------------------------------------

    def test_auth(self):
        mb = lib.simple_mbox(1).data()
        self.mailbox("alice", mb, 0o600)   # the secret is the consent
        self.mailbox("bob", mb, 0o600)
        r = Rmcpd(self, self.srv, {"rmcp_auth": "yes",
                                   "rmcp_auth_fail_max": "3"})
        r.write_secrets([("alice", SECRET), ("bob", "bob-secret")])
        r.start()
        u = r.udp()
        # D-R10: an authentication request for every name.
        for user in ("alice", "nosuchuser", "../x", "a" * 100):
            self.assertEqual(u.poll(user), AUTHREQ, user)
        self.assertEqual(u.poll("alice"), AUTHREQ)
        # The right secret: the status at once, and then freely.
        self.assertEqual(u.ask(auth_dgram(SECRET)), NEW)
        self.assertEqual(u.poll("alice"), NEW)
        self.assertEqual(u.poll("alice"), NEW)
        # An auth reply with nothing pending is dropped.
        self.assertTrue(u.silent(auth_dgram(SECRET)))
        # Another name from the same port: asked again, alice too.
        self.assertEqual(u.poll("bob"), AUTHREQ)
        self.assertEqual(u.poll("alice"), AUTHREQ)
        self.assertEqual(u.ask(auth_dgram(SECRET)), NEW)
        # Another port of the same host is another client.
        self.assertEqual(r.udp().poll("alice"), AUTHREQ)
        # The client.
        sf = os.path.join(self.srv.tmp, "secret")
        lib.write_file(sf, (SECRET + "\n").encode(), 0o600)
        self.assertEqual(self.status(r, "alice", "-a", "-s", sf), ("new", 0))
        p = r.client("127.0.0.1", "alice")
        self.assertEqual(p.returncode, 3)
        self.assertIn(b"asks for authentication", p.stderr)
        # Wrong secrets from 127.0.0.2: (0,0,0), counted, then blocked.
        w = r.udp(src=("127.0.0.2", 0))
        for n in (1, 2, 3):
            self.assertEqual(w.poll("bob"), AUTHREQ)
            self.assertEqual(w.ask(auth_dgram("guess%d" % n)), ZERO)
            self.assertTrue(r.wait_log(
                r"authentication failed user=bob addr=127\.0\.0\.2:\d+ "
                r"reason=\"wrong secret\" failures=%d" % n))
        self.assertTrue(w.silent(poll_dgram("bob")))
        self.assertTrue(r.wait_log(r"failures=3; source blocked"))
        # A wrong mask is a failure too (from another address).
        v = r.udp(src=("127.0.0.3", 0))
        self.assertEqual(v.poll("bob"), AUTHREQ)
        self.assertEqual(v.ask(auth_dgram("bob-secret", 0x01000000)), ZERO)
        self.assertEqual(v.poll("bob"), AUTHREQ)
        self.assertEqual(v.ask(auth_dgram("bob-secret")), NEW)
        # 127.0.0.1 is not blocked by 127.0.0.2's guesses.
        self.assertEqual(u.poll("alice"), NEW)
        self.assertTrue(r.alive())

    def test_auth_lifetimes(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o600)
        r = Rmcpd(self, self.srv, {"rmcp_auth": "yes",
                                   "rmcp_pending_lifetime": "1",
                                   "rmcp_auth_lifetime": "2"})
        r.write_secrets([("alice", SECRET)])
        r.start()
        u = r.udp()
        self.assertEqual(u.poll("alice"), AUTHREQ)
        time.sleep(1.3)
        self.assertTrue(u.silent(auth_dgram(SECRET)))      # pending gone
        self.assertEqual(u.poll("alice"), AUTHREQ)
        self.assertEqual(u.ask(auth_dgram(SECRET)), NEW)
        time.sleep(1.2)
        self.assertEqual(u.poll("alice"), NEW)             # renewed
        time.sleep(2.4)
        self.assertEqual(u.poll("alice"), AUTHREQ)         # idle: gone

    # -- what gets no reply ------------------------------------------------

    def test_malformed_and_oversized(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        r.start()
        u = r.udp()
        for d in (b"", b"\0", b"\0\0\0\0", b"\0\0\0\0\0", b"\0\0\0\0\r\n",
                  b"\0\0\0\0" + b"a" * 509, b"\0" * 600,
                  auth_dgram(SECRET), b"\x01\0\0\0alice"):
            self.assertTrue(u.silent(d), d[:20])
        # A 512-octet poll is answered (for a name that cannot exist).
        self.assertEqual(u.ask(b"\0\0\0\0" + b"a" * 508), ZERO)
        self.assertEqual(u.poll("alice"), NEW)
        self.assertTrue(r.wait_log(r"dropped a datagram of 513 octets from "
                                   r"127\.0\.0\.1:\d+: malformed"))

    @unittest.skipUnless(lib.IS_ROOT, "binding a port below 1024 needs root")
    def test_privileged_source_port(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        r.start()
        got = None
        for port in list(range(1023, 900, -1)) + [50, 7, 19]:
            try:
                got = r.udp(src=("127.0.0.1", port))
                break
            except OSError:
                continue
        self.assertIsNotNone(got, "no free port below 1024")
        self.assertTrue(got.silent(poll_dgram("alice"), 0.6))
        # The reflection case: a reply-shaped datagram from port 50.
        self.assertTrue(got.silent(ZERO, 0.3))
        self.assertEqual(r.udp().poll("alice"), NEW)
        self.assertTrue(r.wait_log(r"source port below 1024"))

    # -- rate limits and floods --------------------------------------------

    def test_rate_limit(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv, {"rmcp_rate": "30",
                                   "rmcp_rate_burst": "10"})
        r.start()
        u = r.udp()
        for _ in range(200):
            u.send(poll_dgram("alice"))
        n = 0
        while u.recv(0.5) is not None:
            n += 1
        self.assertTrue(10 <= n <= 12, n)
        # Another address is still answered meanwhile.
        v = r.udp(src=("127.0.0.2", 0))
        self.assertEqual(v.poll("alice"), NEW)
        if lib.ipv6_loopback_ok():
            self.assertEqual(r.udp("::1").poll("alice"), NEW)
        # The log says so, a few times, not 190.
        time.sleep(0.2)
        self.assertLessEqual(len(re.findall(r": rate limit", r.log())), 10)
        self.assertTrue(r.alive())

    def test_random_flood(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        r.start()
        self._flood(r, 100000, 4155)
        self.assertTrue(r.alive(), r.log()[-2000:])
        self.assertEqual(r.udp().poll("alice"), NEW)
        # Logging stayed bounded.
        self.assertLess(r.log().count("\n"), 300)
        r.stop()
        # The same in authenticated mode (crypt checks are budgeted).
        r.srv.conf["rmcp_auth"] = "yes"
        r.srv.conf["rmcp_auth_fail_max"] = "1000"
        r.write_secrets([("alice", SECRET)])
        r.start()
        self._flood(r, 30000, 1339)
        self.assertTrue(r.alive(), r.log()[-2000:])
        self.assertLess(r.log().count("\n"), 300)
        u = r.udp(src=("127.0.0.9", 0))     # the flooders may be blocked
        self.assertEqual(u.poll("alice"), AUTHREQ)
        self.assertEqual(u.ask(auth_dgram(SECRET)), NEW)
        self.assertEqual(r.stop(), 0)

    def _flood(self, r, count, seed):
        rnd = random.Random(seed)
        socks = [r.udp(src=("127.0.0.%d" % i, 0)) for i in (1, 2, 3)]
        if lib.ipv6_loopback_ok():
            socks.append(r.udp("::1"))
        blob = rnd.randbytes(1 << 16)
        t0 = time.monotonic()
        for i in range(count):
            k = rnd.randrange(8)
            n = rnd.randrange(0, 600)
            o = rnd.randrange(0, len(blob) - n)
            d = blob[o:o + n]
            if k < 3:       # a poll with a random name
                d = b"\0\0\0\0" + d[:rnd.randrange(0, 80)]
            elif k < 5:     # an authentication reply
                d = auth_dgram("", rnd.choice((1, 1, 2, 0x01000000))) + d
            s = socks[i % len(socks)]
            try:
                s.send(d)
            except OSError:
                pass            # ENOBUFS and the like: the point is sent
            if i % 2000 == 0:
                for x in socks:
                    x.drain()
        for x in socks:
            x.drain(0.05)
        self.assertLess(time.monotonic() - t0, 60 * lib.SLOW)

    # -- addresses and launch modes ----------------------------------------

    def test_reply_from_request_address(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        six = lib.ipv6_loopback_ok()
        r.srv.conf["rmcp_listen"] = "*:%d%s" % (
            r.port, " [::]:%d" % r.port if six else "")
        r.start()
        u = r.udp()
        for dst in ("127.0.0.1", "127.0.0.2", "127.0.0.53"):
            u.server = (dst, r.port)
            u.send(poll_dgram("alice"))
            got = u.recv()
            self.assertIsNotNone(got, dst)
            self.assertEqual(got[0], NEW)
            self.assertEqual(got[1], (dst, r.port))
        if six:
            v = r.udp("::1")
            v.send(poll_dgram("alice"))
            got = v.recv()
            self.assertEqual(got[0], NEW)
            self.assertEqual(got[1][:2], ("::1", r.port))
        self.assertTrue(r.wait_log(r"listening on udp \*:%d" % r.port))

    def test_inetd(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", r.port))
        try:
            r.proc = r.popen(["-i", "-e"], stdin=sock.fileno())
        finally:
            sock.close()
        r.wait_ready()
        u = r.udp()
        self.assertEqual(u.poll("alice"), NEW)
        self.assertEqual(u.poll("dave"), ZERO)
        self.assertEqual(r.stop(), 0)
        self.assertIn("datagrams=2 polls=2", r.log())

    @unittest.skipUnless(os.path.exists("/usr/bin/systemd-socket-activate"),
                         "no systemd-socket-activate")
    def test_systemd_socket_activation(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        r.proc = r.popen(["-F"], cmd=[
            "/usr/bin/systemd-socket-activate", "--datagram",
            "-l", "127.0.0.1:%d" % r.port])
        # It binds first, and starts rmcpd on the first datagram.
        u = r.udp()
        got = None
        for _ in range(50):
            got = u.poll("alice", 0.2)
            if got is not None:
                break
        self.assertEqual(got, NEW, r.log())
        self.assertTrue(r.wait_log(r"serving 1 socket passed by systemd"))
        u.drain(0.3)    # answers to the polls that started it
        self.assertEqual(u.poll("nosuch"), ZERO)

    def test_notify_ready(self):
        """Type=notify: READY=1 once it serves (after the drop)."""
        path = os.path.join(self.srv.tmp, "notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(ns.close)
        ns.bind(path)
        os.chmod(path, 0o777)
        r = Rmcpd(self, self.srv)
        r.start(env={"NOTIFY_SOCKET": path})
        ns.settimeout(5 * lib.SLOW)
        self.assertTrue(ns.recv(512).startswith(b"READY=1"))
        self.assertEqual(r.udp().poll("alice"), ZERO)

    def test_daemon_mode(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        p = r.popen(["-e"])
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
        m = r.wait_log(r"rmcpd\[(\d+)\]: ready")
        self.assertTrue(m, r.log())
        pid = int(m.group(1))
        self.assertNotEqual(pid, p.pid)
        try:
            self.assertEqual(r.udp().poll("alice"), NEW)
        finally:
            os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if lib.proc_status(pid) is None or \
                    lib.proc_status(pid).get("State", "").startswith("Z"):
                break
            time.sleep(0.05)
        self.assertTrue(r.wait_log(r"rmcpd\[%d\]: exiting" % pid))

    def test_sighup_reload(self):
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        self.mailbox("frank", lib.simple_mbox(1).data(), 0o700)
        r = Rmcpd(self, self.srv)
        r.start()
        u = r.udp()
        self.assertEqual(u.poll("frank"), ZERO)
        self.srv.users["frank"] = "Frank-pw.6"
        self.srv.write_passwd()
        r.proc.send_signal(signal.SIGHUP)
        self.assertTrue(r.wait_log(r"reloaded: 5 users"))
        self.assertEqual(u.poll("frank"), NEW)
        self.assertEqual(r.stop(), 0)

    @unittest.skipUnless(lib.IS_ROOT, "started as root only when root")
    def test_root_drop(self):
        srv = lib.server(self, as_root=True)
        srv.put_mbox(lib.simple_mbox(1).data(), DEFAULT_USER, 0o700)
        r = Rmcpd(self, srv, as_root=True)
        srv.conf["rmcp_auth"] = "no"
        r.start()
        st = lib.proc_status(r.proc.pid)
        nobody = lib.RunAs()
        self.assertEqual([int(x) for x in st["Uid"].split()],
                         [nobody.uid] * 4)
        self.assertEqual([int(x) for x in st["Gid"].split()],
                         [nobody.gid] * 4)
        self.assertEqual(st["Groups"].strip(), "")
        self.assertEqual(st["CapEff"], "0000000000000000")
        # The root-only passwd-file was read before the drop.
        self.assertEqual(os.stat(srv.passwd_path).st_mode & 0o777, 0o600)
        self.assertEqual(r.udp().poll(DEFAULT_USER), NEW)
        # SIGHUP cannot read it any more: the users read at start stay.
        r.proc.send_signal(signal.SIGHUP)
        self.assertTrue(r.wait_log(r"keeping what was read before"))
        self.assertEqual(r.udp().poll(DEFAULT_USER), NEW)
        # A missing rmcp_user stops the start.
        r.stop()
        srv.conf["rmcp_user"] = "no-such-rmcp-user"
        p = r.popen(["-F"])
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 1)
        self.assertIn("does not exist", r.log())

    def test_config_check_and_disabled(self):
        r = Rmcpd(self, self.srv)
        r.write_files()
        p = subprocess.run([rmcpd_path(), "-t", "-f", self.srv.conf_path],
                           capture_output=True, timeout=20,
                           **self.srv.popen_kw())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"configuration OK", p.stdout)
        self.srv.conf["rmcp_enabled"] = "no"
        r.write_files()
        p = subprocess.run([rmcpd_path(), "-F", "-f", self.srv.conf_path],
                           capture_output=True, timeout=20,
                           **self.srv.popen_kw())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"rmcp_enabled = yes", p.stderr)
        self.srv.conf["rmcp_enabled"] = "yes"
        self.srv.conf["rmcp_listen"] = "127.0.0.1"
        r.write_files()
        p = subprocess.run([rmcpd_path(), "-t", "-f", self.srv.conf_path],
                           capture_output=True, timeout=20,
                           **self.srv.popen_kw())
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, rb"postern\.conf:\d+: rmcp_listen")
        # pop3d reads the same file and accepts the rmcp_* keys.
        self.srv.conf["rmcp_listen"] = "127.0.0.1:%d" % r.port
        r.write_files()
        p = self.srv.run_pop3d(["-t", "-f", self.srv.conf_path])
        self.assertEqual(p.returncode, 0, p.stderr)

    # -- the client --------------------------------------------------------

    def test_client_watch(self):
        r = Rmcpd(self, self.srv)
        r.start()
        env = dict(os.environ, RMCP_TEST_INTERVAL="1")
        p = subprocess.Popen([rmcp_path(), "-w", "-n", "4", "-p",
                              str(r.port), "127.0.0.1", "alice"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)
        self.addCleanup(lib.kill_group, p, signal.SIGKILL, 1)
        t0 = time.monotonic()
        first = p.stdout.readline()
        self.assertEqual(first, b"none\n")
        self.mailbox("alice", lib.simple_mbox(1).data(), 0o700)
        out, err = p.communicate(timeout=20 * lib.SLOW)
        self.assertEqual(out, b"new\n", err)
        self.assertEqual(p.returncode, 0)
        # four polls a second apart: at least three seconds
        self.assertGreaterEqual(time.monotonic() - t0, 2.9)
        # no retransmission, no faster polls: the server saw four
        r.stop()
        self.assertIn("polls=4 ", r.log())
        # the interval has a floor of a minute without the test variable
        p = r.client("-w", "-i", "30", "127.0.0.1", "alice")
        self.assertEqual(p.returncode, 3)

    def test_client_errors(self):
        port = free_udp_port()
        t0 = time.monotonic()
        p = subprocess.run([rmcp_path(), "-t", "5", "-p", str(port),
                            "127.0.0.1", "alice"], capture_output=True,
                           timeout=20)
        self.assertEqual(p.returncode, 3)
        self.assertLess(time.monotonic() - t0, 4)   # port unreachable
        # Something that swallows polls: a timeout, no retransmission.
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", port))
        self.addCleanup(sink.close)
        t0 = time.monotonic()
        p = subprocess.run([rmcp_path(), "-t", "1", "-p", str(port),
                            "127.0.0.1", "alice"], capture_output=True,
                           timeout=20)
        self.assertEqual(p.returncode, 3)
        self.assertIn(b"no reply", p.stderr)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        n = 0
        while select.select([sink], [], [], 0.1)[0]:
            self.assertEqual(sink.recv(100), b"\0\0\0\0alice")
            n += 1
        self.assertEqual(n, 1)
        for bad in (["-p", "0"], ["-t", "x"], ["-s", "/dev/null"],
                    ["-w", "-n", "0"]):
            p = subprocess.run([rmcp_path()] + bad + ["127.0.0.1",
                               "alice"], capture_output=True, timeout=20)
            self.assertEqual(p.returncode, 3, bad)
