"""
test_daemon.py: pop3d as a real daemon (listener.c, sd.c, daemon.c).

  - systemd Accept=no under systemd-socket-activate: the passed socket is
    used instead of the listen lines, READY=1 and STOPPING=1 arrive on a
    NOTIFY_SOCKET, sockets map to protocols by LISTEN_FDNAMES or address;
  - systemd Accept=yes (systemd-socket-activate --inetd -a, pop3d -i);
  - daemon mode: detached, pid file written before the starter returns,
    a second start refused, a stale pid file taken over, SIGTERM removes
    the file;
  - limits before fork: sessions per address (127.0.0.x sources), the
    connection rate, the total; refusal log lines throttled;
  - the per-address auth-failure penalty reported by the sessions;
  - SIGHUP with a good and a bad config, SIGUSR1 counters, SIGTERM with
    sessions inside and past the grace period;
  - a group/world-readable passwd_file refused in every mode;
  - EMFILE on accept: the listener pauses and survives.
Every wait is bounded; every process is ended in a cleanup.
"""

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, simple_mbox

SSA = shutil.which("systemd-socket-activate")


class Notify:
    """A NOTIFY_SOCKET reader: an AF_UNIX datagram socket in tmp."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)      # the server may run as nobody
        self.got = []
        self.seen = 0

    def mark(self):
        """From now on, wait() looks only at datagrams not seen yet."""
        self.seen = len(self.got)

    def wait(self, what, timeout=10.0):
        """Waits for a datagram holding the line `what`; returns it."""
        deadline = time.monotonic() + timeout * lib.SLOW
        for i in range(self.seen, len(self.got)):
            if what in self.got[i].split("\n"):
                self.seen = i + 1
                return self.got[i]
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                d = self.sock.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                break
            self.got.append(d)
            if what in d.split("\n"):
                self.seen = len(self.got)
                return d
        raise AssertionError("no %r notification; got %r" % (what,
                                                             self.got))

    def close(self):
        self.sock.close()


def connect_from(port, src, timeout=10.0):
    """A raw Pop client whose socket is bound to the source address src
    (any 127.0.0.0/8 address is ours on Linux)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout * lib.SLOW)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return lib.Pop(s, timeout)


def pid_alive(pid):
    st = lib.proc_status(pid)
    return st is not None and not st.get("State", "").startswith("Z")


def wait_gone(pid, timeout=10.0):
    deadline = time.monotonic() + timeout * lib.SLOW
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class DaemonBase(unittest.TestCase):

    def server(self, conf=None, mbox=None):
        s = lib.server(self, conf=conf)
        s.put_mbox((mbox or simple_mbox(3)).data())
        return s

    def popen(self, s, argv, env=None, name="pop3d"):
        """Runs argv (as the servers run) with stderr into a log of s."""
        logf = open(s.new_log(name), "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 stdout=logf, stderr=logf,
                                 start_new_session=True, env=s.env(env),
                                 **s.popen_kw())
        finally:
            logf.close()
        self.addCleanup(lib.kill_group, p)
        return p

    def count(self, s, pattern):
        return len(re.findall(pattern, s.log(), re.M))


# --------------------------------------------------------------------------
# systemd

@unittest.skipUnless(SSA, "systemd-socket-activate not installed")
class SystemdTest(DaemonBase):

    def activate(self, s, ports, extra=(), names=None, notify=None,
                 args=("-F", "-e")):
        """systemd-socket-activate with -l 127.0.0.1:PORT for each port,
        running pop3d (Accept=no unless extra says --inetd -a)."""
        argv = [SSA]
        for p in ports:
            argv += ["-l", "127.0.0.1:%d" % p]
        if names:
            argv += ["--fdname=" + ":".join(names)]
        if notify:
            argv += ["-E", "NOTIFY_SOCKET=" + notify.path]
        argv += list(extra) + [lib.POP3D, "-f", s.conf_path] + list(args)
        p = self.popen(s, argv, name="ssa")
        for port in ports:
            self.assertTrue(lib.wait_port(port, proc=p),
                            "systemd-socket-activate did not listen on %d:"
                            "\n%s" % (port, s.log()))
        return p

    def test_accept_no_notify(self):
        mb = simple_mbox(3)
        s = self.server(mbox=mb)
        own = lib.free_port()
        s.prepare(["pop3 127.0.0.1:%d" % own])  # not where systemd listens
        n = Notify(s.tmp)
        self.addCleanup(n.close)
        port = lib.free_port()
        p = self.activate(s, [port], names=["pop3"], notify=n)
        # the probe of wait_port made systemd-socket-activate exec pop3d
        ready = n.wait("READY=1")
        self.assertIn("STATUS=", ready)
        with connect_from(port, "127.0.0.1") as c:
            c.greeting()
            c.login()
            self.assertEqual(c.ok("STAT"), b"+OK 3 %d" % sum(
                m.octets() for m in mb.msgs))
            c.ok("QUIT")
        self.assertRegex(s.log(), r"listening on systemd socket fd 3")
        with self.assertRaises(OSError):
            lib.Pop.connect(own, timeout=2)
        # a reload: RELOADING=1, then READY=1 again
        os.kill(p.pid, signal.SIGHUP)
        n.wait("RELOADING=1")
        n.wait("READY=1")
        self.assertTrue(s.wait_log(r"reloaded "))
        os.kill(p.pid, signal.SIGTERM)
        n.wait("STOPPING=1")
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
        self.assertRegex(s.log(), r"stopped")

    def test_fdnames_and_addresses(self):
        s = self.server()
        p1, p2, p3 = lib.free_port(), lib.free_port(), lib.free_port()
        # p1 named pop3; p2 named otherwise and found by its listen line;
        # p3 matches nothing: pop3 with a log line
        s.prepare(["pop3 127.0.0.1:%d" % p2, "pop3 127.0.0.1:%d" % p1])
        self.activate(s, [p1, p2, p3], names=["pop3", "pop3d", "other"])
        for port in (p1, p2, p3):
            with connect_from(port, "127.0.0.1") as c:
                c.greeting()
                c.ok("QUIT")
        log = s.log()
        self.assertRegex(log, r"systemd socket fd 3, named pop3 \(pop3\)")
        self.assertRegex(log, r"systemd socket fd 4, 127\.0\.0\.1:%d "
                         r"\(pop3\)" % p2)
        self.assertRegex(log, r"systemd socket 127\.0\.0\.1:%d \(fd 5\) "
                         r"has no pop3/pop2 name and matches no listen"
                         % p3)

    def test_pop2_by_address(self):
        s = self.server()
        p2 = lib.free_port()
        s.prepare(["pop2 *:%d" % p2])
        self.activate(s, [p2], names=["unknown"])
        with connect_from(p2, "127.0.0.1") as c:
            g = c.readline()
        # served by POP2, or refused the POP2 way; never a POP3 greeting
        self.assertRegex(g, rb"^(\+ POP2 |- )")
        self.assertRegex(s.log(), r"fd 3, 127\.0\.0\.1:%d \(pop2\)" % p2)

    def test_unusable_sockets_refused(self):
        # a datagram socket, and a connection (Accept=yes without
        # --inetd) handed to the listener: logged, and no start
        s = self.server()
        s.prepare([])
        port = lib.free_port()
        p = self.popen(s, [SSA, "-d", "-l", "127.0.0.1:%d" % port,
                           lib.POP3D, "-f", s.conf_path, "-F", "-e"],
                       name="ssa-dgram")
        deadline = time.monotonic() + 10 * lib.SLOW
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while p.poll() is None and time.monotonic() < deadline:
            u.sendto(b"x", ("127.0.0.1", port))     # makes it exec pop3d
            time.sleep(0.1)
        u.close()
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 1, s.log())
        self.assertRegex(s.log(), r"fd 3 is not a stream socket")
        self.assertRegex(s.log(), r"none is a listening stream socket")
        port = lib.free_port()
        p = self.popen(s, [SSA, "-a", "-l", "127.0.0.1:%d" % port,
                           lib.POP3D, "-f", s.conf_path, "-F", "-e"],
                       name="ssa-conn")
        self.assertTrue(lib.wait_port(port, proc=p))
        self.assertTrue(s.wait_log(r"fd 3 is not listening \(Accept=yes "
                                   r"units run pop3d -i\)"), s.log())

    def test_accept_yes(self):
        mb = simple_mbox(2)
        s = self.server(mbox=mb)
        s.prepare([])
        port = lib.free_port()
        self.activate(s, [port], extra=["--inetd", "-a"],
                      args=("-i", "-e"))
        for i in range(2):
            with connect_from(port, "127.0.0.1") as c:
                c.greeting()
                c.login()
                self.assertEqual(c.ok("STAT"), b"+OK %d %d" % (
                    2 - i, sum(m.octets() for m in mb.msgs[i:])))
                c.ok("DELE 1")
                c.ok("QUIT")
                self.assertEqual(c.expect_eof(), b"")
        self.assertEqual(s.read_mbox(), b"")


# --------------------------------------------------------------------------
# Daemon mode

class DaemonModeTest(DaemonBase):

    def start_daemon(self, s, expect_ok=True):
        """`pop3d -f CONF -e` (daemon mode, stderr kept for the log);
        returns (starter status, daemon pid or None)."""
        p = self.popen(s, [lib.POP3D, "-f", s.conf_path, "-e"],
                       name="daemon")
        st = p.wait(timeout=20 * lib.SLOW)
        pid = None
        if st == 0:
            pid = int(open(self.pidfile).read())
            self.addCleanup(kill_pid, pid)
        if expect_ok:
            self.assertEqual(st, 0, s.log())
        return st, pid

    def test_daemon_pidfile(self):
        s = self.server()
        port = lib.free_port()
        self.pidfile = os.path.join(s.tmp, "run", "pop3d.pid")
        os.mkdir(os.path.dirname(self.pidfile), 0o755)
        lib.RUN_AS.chown(os.path.dirname(self.pidfile))
        s.conf["pid_file"] = self.pidfile
        s.prepare(["pop3 127.0.0.1:%d" % port])
        st, pid = self.start_daemon(s)
        # the file exists when the starter returns; the daemon detached
        status = lib.proc_status(pid)
        self.assertIsNotNone(status)
        self.assertEqual(status["Umask"], "0022")
        self.assertEqual(os.readlink("/proc/%d/cwd" % pid), "/")
        self.assertEqual(os.readlink("/proc/%d/fd/0" % pid), "/dev/null")
        self.assertEqual(os.readlink("/proc/%d/fd/1" % pid), "/dev/null")
        self.assertNotEqual(os.getsid(pid), os.getsid(0))
        self.assertNotEqual(os.getsid(pid), pid)    # not a session leader
        with connect_from(port, "127.0.0.1") as c:
            c.greeting()
            c.login()
            c.ok("QUIT")
        # a second start is refused and leaves the file alone
        st2, _ = self.start_daemon(s, expect_ok=False)
        self.assertNotEqual(st2, 0)
        self.assertRegex(s.log(), r"already running \(pid %d" % pid)
        self.assertEqual(int(open(self.pidfile).read()), pid)
        self.assertTrue(pid_alive(pid))
        # SIGTERM: exits and removes the file
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_gone(pid), "daemon still running")
        self.assertFalse(os.path.exists(self.pidfile))

    def test_stale_pidfile(self):
        s = self.server()
        port = lib.free_port()
        self.pidfile = os.path.join(s.tmp, "pop3d.pid")
        # names a live process that is not pop3d (this test runner)
        lib.write_file(self.pidfile, b"%d\n" % os.getpid(), 0o644, lib.RUN_AS)
        s.conf["pid_file"] = self.pidfile
        s.prepare(["pop3 127.0.0.1:%d" % port])
        st, pid = self.start_daemon(s)
        self.assertNotEqual(pid, os.getpid())
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(wait_gone(pid))
        self.assertFalse(os.path.exists(self.pidfile))

    def test_pidfile_unwritable(self):
        s = self.server()
        s.conf["pid_file"] = "/proc/postern-no/pop3d.pid"
        s.prepare(["pop3 127.0.0.1:%d" % lib.free_port()])
        self.pidfile = s.conf["pid_file"]
        st, _ = self.start_daemon(s, expect_ok=False)
        self.assertNotEqual(st, 0)
        self.assertRegex(s.log(), r"pid file /proc/postern-no/pop3d\.pid")


# --------------------------------------------------------------------------
# Limits, penalty, signals

class LimitsTest(DaemonBase):

    def test_sessions_per_addr(self):
        s = self.server(conf={"max_sessions_per_addr": "2"})
        s.start()
        a = connect_from(s.port, "127.0.0.5")
        b = connect_from(s.port, "127.0.0.5")
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        a.greeting()
        b.greeting()
        for _ in range(3):
            with connect_from(s.port, "127.0.0.5") as x:
                self.assertEqual(x.readline(), b"-ERR [SYS/TEMP] too many "
                                 b"connections from your address; try "
                                 b"again later\r\n")
                self.assertEqual(x.expect_eof(), b"")
        with connect_from(s.port, "127.0.0.6") as d:
            d.greeting()
            d.login()
            d.ok("QUIT")
        # the two sessions keep working
        b.ok("CAPA")
        b.multi()
        a.login()
        a.ok("STAT")
        a.ok("QUIT")
        a.expect_eof()
        # one refusal line for three refusals (at most one per 10 s)
        self.assertEqual(self.count(
            s, r"refused addr=127\.0\.0\.5 limit=max_sessions_per_addr"), 1)
        # a freed slot is usable again once the session is reaped
        for _ in range(50):
            with connect_from(s.port, "127.0.0.5") as x:
                if x.readline().startswith(b"+OK"):
                    break
            time.sleep(0.1)
        else:
            self.fail("no slot after a session ended")

    def test_conn_rate(self):
        s = self.server(conf={"max_conn_per_min": "3"})
        s.start()
        for _ in range(3):
            with connect_from(s.port, "127.0.0.7") as c:
                c.greeting()
                c.ok("QUIT")
        with connect_from(s.port, "127.0.0.7") as c:
            self.assertRegex(c.readline(), rb"^-ERR \[SYS/TEMP\] too many "
                             rb"connections from your address")
        with connect_from(s.port, "127.0.0.8") as c:
            c.greeting()
        self.assertTrue(s.wait_log(r"refused addr=127\.0\.0\.7 "
                                   r"limit=max_conn_per_min \(3\)"))

    def test_max_sessions(self):
        s = self.server(conf={"max_sessions": "2"})
        s.start()
        # the start-up probe's session must have ended first
        self.assertTrue(s.wait_log(r"end=disconnect"))
        a = connect_from(s.port, "127.0.0.9")
        b = connect_from(s.port, "127.0.0.10")
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        a.greeting()
        b.greeting()
        with connect_from(s.port, "127.0.0.11") as c:
            self.assertEqual(c.readline(), b"-ERR [SYS/TEMP] server busy; "
                             b"try again later\r\n")
        self.assertTrue(s.wait_log(r"refused addr=127\.0\.0\.11 "
                                   r"limit=max_sessions \(2\)"))

    def test_auth_penalty(self):
        s = self.server(conf={"auth_fail_delay": "0",
                              "auth_penalty_max": "1000",
                              "auth_max_tries": "1"})
        s.start()
        for i in range(3):
            with connect_from(s.port, "127.0.0.12") as c:
                c.greeting()
                c.ok("USER " + DEFAULT_USER)
                t0 = time.monotonic()
                self.assertRegex(c.cmd("PASS wrong"), rb"^-ERR \[AUTH\]")
                dt = time.monotonic() - t0
                c.expect_eof()
            # the penalty of the failures before this connection
            want = (0, 250, 500)[i]
            if want:
                self.assertGreaterEqual(dt, want / 1000.0 * 0.9)
                self.assertTrue(s.wait_log(
                    r"addr=127\.0\.0\.12 pid=\d+ penalty_ms=%d after %d "
                    r"failed" % (want, i)), s.log())
        # another address is not penalised; a good login resets
        with connect_from(s.port, "127.0.0.13") as c:
            c.greeting()
            c.ok("USER " + DEFAULT_USER)
            t0 = time.monotonic()
            c.cmd("PASS wrong")
            self.assertLess(time.monotonic() - t0, 0.2 * lib.SLOW)
        with connect_from(s.port, "127.0.0.12") as c:
            c.greeting()
            c.login()
            c.ok("QUIT")
            c.expect_eof()
        n = self.count(s, r"addr=127\.0\.0\.12 pid=\d+ penalty_ms=")
        with connect_from(s.port, "127.0.0.12") as c:
            c.greeting()
            c.ok("QUIT")
        os.kill(s.proc.pid, signal.SIGUSR1)
        self.assertTrue(s.wait_log(r"counters: .*auth_failures=4 auth_ok=1"))
        self.assertEqual(self.count(
            s, r"addr=127\.0\.0\.12 pid=\d+ penalty_ms="), n)
        self.assertNotRegex(s.log(), r"ignored a login report")


class SignalsTest(DaemonBase):

    def test_sighup(self):
        s = self.server()
        s.start()
        with s.connect() as c:
            self.assertIn(b"e2e.example", c.transcript[-1][1])
        old = s.connect()
        self.addCleanup(old.close)
        s.conf["hostname"] = "reloaded.example"
        s.write_conf(["pop3 127.0.0.1:%d" % s.port,
                      "pop3 127.0.0.1:%d" % lib.free_port()])
        os.kill(s.proc.pid, signal.SIGHUP)
        self.assertTrue(s.wait_log(r"reloaded .*postern\.conf"), s.log())
        self.assertRegex(s.log(), r"listen pop3 127\.0\.0\.1:\d+ is new; "
                         r"the sockets change only when pop3d restarts")
        with s.connect() as c:
            self.assertIn(b"reloaded.example", c.transcript[-1][1])
        # a bad file: logged with its line, the running config stays
        with open(s.conf_path, "a") as f:
            f.write("hostname_typo = x\n")
        os.kill(s.proc.pid, signal.SIGHUP)
        self.assertTrue(s.wait_log(r"%s:\d+: unknown key .*keeping the "
                                   r"running configuration"
                                   % re.escape(s.conf_path)), s.log())
        with s.connect() as c:
            self.assertIn(b"reloaded.example", c.transcript[-1][1])
            c.login()
            c.ok("QUIT")
        # the session from before the reloads still works
        old.login()
        old.ok("STAT")
        old.ok("QUIT")
        self.assertIsNone(s.proc.poll())

    def test_sigusr1(self):
        s = self.server(conf={"max_sessions_per_addr": "1"})
        s.start()
        a = connect_from(s.port, "127.0.0.20")
        self.addCleanup(a.close)
        a.greeting()
        with connect_from(s.port, "127.0.0.20") as x:
            x.readline()
        os.kill(s.proc.pid, signal.SIGUSR1)
        m = s.wait_log(r"counters: sessions=(\d+) accepted=(\d+) "
                       r"refused_busy=0 refused_per_addr=1 refused_rate=0 "
                       r".*penalised_addrs=0")
        self.assertTrue(m, s.log())
        self.assertGreaterEqual(int(m.group(1)), 1)
        self.assertGreaterEqual(int(m.group(2)), 2)

    def test_sigterm_grace_cut(self):
        mb = simple_mbox(3)
        s = self.server(conf={"shutdown_grace": "2"}, mbox=mb)
        s.start()
        c = s.login()
        self.addCleanup(c.close)
        c.ok("DELE 1")
        t0 = time.monotonic()
        os.kill(s.proc.pid, signal.SIGTERM)
        self.assertTrue(s.wait_log(r"shutting down: not accepting; 1 "
                                   r"session may finish within 2 s"))
        with self.assertRaises(OSError):
            lib.Pop.connect(s.port, timeout=2).greeting()
        c.ok("NOOP")                    # still served within the grace
        self.assertEqual(c.expect_eof(timeout=10), b"")  # then cut
        st = s.proc.wait(timeout=10 * lib.SLOW)
        self.assertEqual(st, 0)
        self.assertGreaterEqual(time.monotonic() - t0, 1.5)
        self.assertRegex(s.log(), r"ending 1 session with SIGTERM")
        lib.same(self, s.read_mbox(), mb.data())    # DELE not applied

    def test_sigterm_session_finishes(self):
        mb = simple_mbox(3)
        s = self.server(conf={"shutdown_grace": "30"}, mbox=mb)
        s.start()
        c = s.login()
        self.addCleanup(c.close)
        os.kill(s.proc.pid, signal.SIGTERM)
        self.assertTrue(s.wait_log(r"shutting down"))
        c.ok("DELE 1")
        c.ok("QUIT")
        t0 = time.monotonic()
        self.assertEqual(s.proc.wait(timeout=10 * lib.SLOW), 0)
        self.assertLess(time.monotonic() - t0, 5 * lib.SLOW)
        lib.same(self, s.read_mbox(), mb.without({0}))


class StartupTest(DaemonBase):

    def test_passwd_file_mode(self):
        s = self.server()
        s.prepare(["pop3 127.0.0.1:%d" % lib.free_port()])
        for mode, what in ((0o640, "readable"), (0o604, "readable"),
                           (0o620, "writable"), (0o602, "writable")):
            os.chmod(s.passwd_path, mode)
            want = "passwd_file %s is %s by others; chmod 600 %s" % (
                s.passwd_path, what, s.passwd_path)
            for args in (["-t"], ["-F", "-e"], ["-e"]):
                with self.subTest(mode=oct(mode), args=args):
                    p = s.run_pop3d(["-f", s.conf_path] + args)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertIn(want, (p.stdout + p.stderr).decode())
            with self.subTest(mode=oct(mode), args="-i"):
                c, p = s.spawn_i()
                with c:
                    self.assertEqual(c.expect_eof(), b"")
                self.assertNotEqual(p.wait(timeout=10 * lib.SLOW), 0)
                self.assertIn(want, s.log())
        os.chmod(s.passwd_path, 0o600)
        p = s.run_pop3d(["-f", s.conf_path, "-t"])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_emfile_pause(self):
        s = self.server()
        s.prepare([])
        port = lib.free_port()
        s.prepare(["pop3 127.0.0.1:%d" % port])

        def few_fds():
            # 0-2, the listening socket, the report pair: nothing left
            # for accept()
            resource.setrlimit(resource.RLIMIT_NOFILE, (6, 6))
        logf = open(s.new_log("pop3d"), "ab")
        try:
            p = subprocess.Popen([lib.POP3D, "-f", s.conf_path, "-F"],
                                 stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=logf, start_new_session=True,
                                 env=s.env(), preexec_fn=few_fds,
                                 **s.popen_kw())
        finally:
            logf.close()
        self.addCleanup(lib.kill_group, p)
        self.assertTrue(s.wait_log(r"ready:"), s.log())
        clients = []
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            clients.append(c)
        self.assertTrue(s.wait_log(r"accept \(pausing 100 ms\)"), s.log())
        time.sleep(1)
        self.assertIsNone(p.poll(), "the listener died:\n" + s.log())
        self.assertLessEqual(self.count(s, r"accept \(pausing"), 2)
        for c in clients:
            c.close()
        os.kill(p.pid, signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)


if __name__ == "__main__":
    unittest.main()
