"""
test_sandbox.py: confinement of the processes that read the network
before login (issue 8 §6, src/sandbox.c), and the test hooks that exist
only in the test build.

- The production pop3d has no test hook: POSTERN_TEST_CRASH_AT and
  POSTERN_TEST_SANDBOX_SYSCALL change nothing (an UPDATE with the crash
  variable set ends as it should).
- pop3d-test's hook POSTERN_TEST_SANDBOX_SYSCALL=open|socket|kill makes
  the pre-auth child try that call when it hands a login over: the
  seccomp filter kills it (SIGSYS), the master logs why and sends the
  client a clean "-ERR [SYS/TEMP]" (POP3) or "- ..." (POP2), and the
  master itself survives the attempted kill.
- The pre-auth child holds only the descriptors it needs (a pipe left at
  fd 251 by whoever started pop3d is gone from the master too), and
  /proc shows its limits, NoNewPrivs and its seccomp filter.
- With syslog, the child's log lines still arrive after its chroot: the
  test runs pop3d as root in a mount namespace of its own whose /dev/log
  is the test's socket.
- rmcpd's responder: the same confinement after its bind, a forbidden
  call ends it with a log line from the process that loads the files.

Reading /proc/PID/fd of a confined child (not dumpable) needs root: those
tests are skipped otherwise.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER

import test_rmcp

DELETE = {0, 4, 5}
SIGSYS_LOG = (r"pre-auth child pid=\d+ killed by signal %d \(SIGSYS\): a "
              r"system call outside its seccomp allow-list" %
              signal.SIGSYS)
POP3_ERR = b"-ERR [SYS/TEMP] internal error; try again later"
POP2_ERR = b"- internal error; try again later"


def wait_for(fn, timeout=5.0):
    """fn() until it returns something true, or None at the deadline."""
    deadline = time.monotonic() + timeout * lib.SLOW
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.02)


def fds(pid):
    """{fd: readlink target} of a process ({} once it is gone)."""
    d = "/proc/%d/fd" % pid
    out = {}
    try:
        for n in os.listdir(d):
            out[int(n)] = os.readlink(os.path.join(d, n))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def limits(pid):
    """{"Max processes": ("0", "0"), ...} from /proc/PID/limits."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        next(f)
        for l in f:
            m = re.match(r"(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)", l)
            if m:
                out[m.group(1)] = (m.group(2), m.group(3))
    return out


def confined(pid):
    """True once pid runs under its seccomp filter (it closed what it
    does not keep before that)."""
    st = lib.proc_status(pid)
    return st is not None and st.get("Seccomp") == "2"


def server_side_socket(client):
    """"socket:[inode]" of the server's end of a loopback TCP connection,
    from /proc/net/tcp (the row whose remote port is our local port)."""
    port = client.getsockname()[1]
    with open("/proc/net/tcp") as f:
        next(f)
        for l in f:
            fl = l.split()
            if int(fl[2].split(":")[1], 16) == port:
                return "socket:[%s]" % fl[9]
    return None


class HooksTest(unittest.TestCase):
    """The production build has no test hook."""

    def test_production_ignores_crash_hook(self):
        for step in ("1", "5:2", "9"):
            with self.subTest(step=step), lib.Server(self) as s:
                mb = lib.simple_mbox(10, "prod%s" % step.replace(":", "-"))
                s.put_mbox(mb.data())
                c, p = s.spawn_i(env={"POSTERN_TEST_CRASH_AT": step,
                                      "POSTERN_TEST_SANDBOX_SYSCALL": "open"})
                with c:
                    c.greeting()
                    c.login()
                    for i in sorted(DELETE):
                        c.ok("DELE %d" % (i + 1))
                    self.assertTrue(c.cmd("QUIT").startswith(b"+OK"),
                                    "the production pop3d crashed at "
                                    "step %s:\n%s" % (step, s.log()))
                    self.assertEqual(c.expect_eof(), b"")
                self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)
                lib.same(self, s.read_mbox(), mb.without(DELETE))
                self.assertFalse(os.path.exists(s.journal()))

    def test_test_build_has_the_hook(self):
        """The same session in pop3d-test dies at the step (so the test
        above proves something)."""
        with lib.Server(self, hooks=True) as s:
            mb = lib.simple_mbox(10, "hook")
            s.put_mbox(mb.data())
            c, p = s.spawn_i(env={"POSTERN_TEST_CRASH_AT": "1"})
            with c:
                c.greeting()
                c.login()
                c.ok("DELE 1")
                self.assertFalse(c.cmd("QUIT").startswith(b"+OK"))
            # the session process dies at the step; its master recovers
            # and exits 1
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), 1)
            self.assertTrue(s.wait_log(r'session="killed by signal 9"'),
                            s.log())
            lib.same(self, s.read_mbox(), mb.data())


class PreauthSeccompTest(unittest.TestCase):
    """A forbidden system call ends the pre-auth child; the session is
    refused cleanly."""

    def run_call(self, call, pop2=False):
        with lib.Server(self, hooks=True) as s:
            mb = lib.simple_mbox(3, "sys")
            s.put_mbox(mb.data())
            args = ("-e", "-p", "pop2") if pop2 else ("-e",)
            c, p = s.spawn_i(env={"POSTERN_TEST_SANDBOX_SYSCALL": call},
                             args=args)
            with c:
                g = c.reply()
                if pop2:
                    self.assertTrue(g.startswith(b"+ POP2 "), g)
                    c.send(("HELO %s %s\r\n" % (DEFAULT_USER, DEFAULT_PASS))
                           .encode())
                    r = c.reply()
                    self.assertEqual(r, POP2_ERR)
                else:
                    self.assertTrue(g.startswith(b"+OK "), g)
                    c.ok("USER " + DEFAULT_USER)
                    r = c.cmd("PASS " + DEFAULT_PASS)
                    self.assertEqual(r, POP3_ERR, s.log())
                self.assertEqual(c.expect_eof(), b"")
            # The master answered, so the kill did not reach it.
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), 1)
            self.assertTrue(s.wait_log(SIGSYS_LOG), s.log())
            lib.same(self, s.read_mbox(), mb.data())
            # The same server serves a normal login.
            c, p = s.spawn_i(args=args)
            with c:
                c.reply()
                if pop2:
                    c.send(("HELO %s %s\r\n" % (DEFAULT_USER, DEFAULT_PASS))
                           .encode())
                    self.assertTrue(c.reply().startswith(b"#3"))
                    c.send(b"QUIT\r\n")
                    self.assertTrue(c.reply().startswith(b"+"))
                else:
                    c.login()
                    c.ok("QUIT")
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0)

    def test_forbidden_calls_pop3(self):
        for call in ("open", "socket", "kill"):
            with self.subTest(call=call):
                self.run_call(call)

    def test_forbidden_call_pop2(self):
        self.run_call("open", pop2=True)

    def test_listener_survives(self):
        """Standalone: the session is refused, the listener goes on."""
        with lib.Server(self, hooks=True) as s:
            s.put_mbox(lib.simple_mbox(2).data())
            s.start(env={"POSTERN_TEST_SANDBOX_SYSCALL": "socket"})
            for _ in range(2):
                with s.connect() as c:
                    c.ok("USER " + DEFAULT_USER)
                    self.assertEqual(c.cmd("PASS " + DEFAULT_PASS),
                                     POP3_ERR)
                    c.expect_eof()
            self.assertIsNone(s.proc.poll())
            self.assertEqual(len(re.findall(SIGSYS_LOG, s.log())), 2)


@unittest.skipUnless(lib.IS_ROOT, "/proc/PID/fd of a confined child "
                     "(not dumpable) is readable only by root")
class PreauthConfinementTest(unittest.TestCase):

    def preauth_child(self, master):
        kids = wait_for(lambda: [k for k in lib.children_of(master)
                                 if confined(k)])
        self.assertTrue(kids, "no confined pre-auth child")
        return kids[0]

    def check_status(self, pid, fsize_limited):
        st = lib.proc_status(pid)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")          # filter mode
        self.assertEqual(st["Seccomp_filters"], "1")
        lim = limits(pid)
        self.assertEqual(lim["Max processes"], ("0", "0"))
        self.assertEqual(lim["Max open files"], ("1", "1"))
        self.assertEqual(lim["Max core file size"], ("0", "0"))
        self.assertEqual(lim["Max file size"], ("0", "0") if fsize_limited
                         else ("unlimited", "unlimited"))

    def test_inetd_stray_pipe_and_limits(self):
        """pop3d -i started with a pipe at fd 251 and stderr on a pipe:
        neither the master nor the child keeps the pipe; the child holds
        the client socket (0, 1), stderr and the hand-off; RLIMIT_FSIZE
        is 0 (stderr is no file)."""
        with lib.Server(self) as s:
            s.put_mbox(lib.simple_mbox(2).data())
            s.prepare()
            r, w = os.pipe()
            os.dup2(r, 251)
            os.close(r)
            try:
                c, p = s.spawn_i(stderr=subprocess.PIPE, pass_fds=(251,))
            finally:
                os.close(251)
            with c:
                c.greeting()
                child = self.preauth_child(p.pid)
                self.assertNotIn(251, fds(p.pid), "the master kept fd 251")
                got = fds(child)
                self.assertEqual(sorted(got)[:3], [0, 1, 2], got)
                self.assertEqual(len(got), 4, got)
                self.assertEqual(got[0], got[1])
                self.assertTrue(got[0].startswith("socket:"), got)
                self.assertTrue(got[2].startswith("pipe:"), got)
                psfd = max(got)
                self.assertTrue(got[psfd].startswith("socket:"), got)
                self.assertNotEqual(got[psfd], got[0])
                self.check_status(child, True)
                c.login()
                c.ok("QUIT")
            os.close(w)
            err = p.stderr.read()
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0, err)
            self.assertIn(b"login user=alice", err)

    def test_standalone_child(self):
        """pop3d -F: the child keeps the accepted socket, the hand-off and
        stderr (a log file: RLIMIT_FSIZE stays, and its log line
        arrives), not the listener's stdin and stdout."""
        with lib.Server(self) as s:
            s.start()
            with s.connect() as c:
                # the one child holding our connection (wait_port's probe
                # made a session too)
                sock = server_side_socket(c.sock)
                child = wait_for(lambda: [
                    k for k in lib.descendants_of(s.proc.pid)
                    if confined(k) and sock in fds(k).values()])
                self.assertTrue(child, "no confined child holds %s" % sock)
                child = child[0]
                got = fds(child)
                self.assertEqual(len(got), 3, got)
                self.assertIn(2, got)
                self.assertEqual(got[2], os.path.realpath(s.log_path))
                socks = [v for k, v in got.items() if k != 2]
                self.assertTrue(all(v.startswith("socket:") for v in socks),
                                got)
                self.check_status(child, False)
                c.ok("QUIT")
            self.assertTrue(s.wait_log(r"pop3d\[%d\]: session=\S+ end "
                                       r"user=- .*end=quit" % child),
                            s.log())


@unittest.skipUnless(lib.IS_ROOT and shutil.which("unshare"),
                     "needs root and unshare(1) for a /dev/log of its own")
class PreauthSyslogTest(unittest.TestCase):

    def test_child_logs_to_syslog_from_chroot(self):
        """As root, logging to syslog: the child, in its empty chroot and
        sandbox, still logs through the socket openlog(LOG_NDELAY)
        connected before the chroot."""
        with lib.Server(self, as_root=True) as s:
            chroot = os.path.join(s.tmp, "empty")
            os.mkdir(chroot, 0o755)
            s.conf.update({"pre_auth_user": "nobody", "chroot": chroot})
            s.prepare()
            logsock = os.path.join(s.tmp, "log.sock")
            ls = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.addCleanup(ls.close)
            ls.bind(logsock)
            os.chmod(logsock, 0o666)
            script = ("mount -t tmpfs tmpfs /dev && "
                      "mknod -m 666 /dev/null c 1 3 && touch /dev/log && "
                      "mount --bind %s /dev/log && exec %s -f %s -i" % (
                          logsock, lib.POP3D, s.conf_path))
            c, p = s.spawn_i(argv=["unshare", "-m", "sh", "-c", script])
            with c:
                c.greeting()
                child = wait_for(lambda: [k for k in lib.children_of(p.pid)
                                          if confined(k)])[0]
                self.assertEqual(os.readlink("/proc/%d/root" % child),
                                 chroot)
                c.ok("USER " + DEFAULT_USER)
                c.ok("QUIT")
                c.expect_eof()
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), 0, s.log())
            lines = []
            ls.settimeout(2 * lib.SLOW)
            try:
                while True:
                    lines.append(ls.recv(4096).decode("utf-8", "replace"))
            except socket.timeout:
                pass
            text = "\n".join(lines)
            self.assertRegex(text, r"pop3d\[%d\]: session=\S+ connect"
                             % p.pid)
            self.assertRegex(text, r"pop3d\[%d\]: session=\S+ end "
                             r"user=alice .*end=quit" % child)


class RmcpdSandboxTest(unittest.TestCase):
    """rmcpd's responder after its bind: confined, and a forbidden call
    ends it with a log line from its loader."""

    def setUp(self):
        self.srv = lib.server(self)
        self.srv.put_mbox(lib.simple_mbox(1).data(), DEFAULT_USER, 0o700)

    def responder(self, r):
        kids = wait_for(lambda: [k for k in lib.children_of(r.proc.pid)
                                 if confined(k)])
        self.assertTrue(kids, "no responder process:\n" + r.log())
        return kids[0]

    def test_confined(self):
        r = test_rmcp.Rmcpd(self, self.srv)
        r.start()
        u = r.udp()
        self.assertEqual(u.poll(DEFAULT_USER), test_rmcp.NEW)
        pid = self.responder(r)
        st = lib.proc_status(pid)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        lim = limits(pid)
        self.assertEqual(lim["Max processes"], ("0", "0"))
        self.assertEqual(lim["Max core file size"], ("0", "0"))
        # The loader has no network socket and no filter.
        self.assertEqual(lib.proc_status(r.proc.pid)["Seccomp"], "0")
        if lib.IS_ROOT:
            got = fds(pid)
            loader = fds(r.proc.pid)
            socks = [v for v in got.values() if v.startswith("socket:")]
            # the UDP sockets (IPv4, and IPv6 where there is ::1) and the
            # channel to the loader; stderr (the log file)
            self.assertEqual(len(socks), 2 + (1 if lib.ipv6_loopback_ok()
                                              else 0), got)
            self.assertEqual(len(got), len(socks) + 1, got)
            self.assertEqual(len([v for v in loader.values()
                                  if v.startswith("socket:")]), 1, loader)
        # A reload reaches the confined responder.
        self.srv.put_mbox(lib.simple_mbox(1).data(), "frank", 0o700)
        self.assertEqual(u.poll("frank"), test_rmcp.ZERO)
        self.srv.users["frank"] = "Frank-pw.6"
        self.srv.write_passwd()
        r.proc.send_signal(signal.SIGHUP)
        self.assertTrue(r.wait_log(r"reloaded: 2 users"), r.log())
        self.assertEqual(u.poll("frank"), test_rmcp.NEW)
        self.assertEqual(r.stop(), 0)

    def test_forbidden_call(self):
        for call in ("open", "socket", "kill"):
            with self.subTest(call=call):
                r = test_rmcp.Rmcpd(self, self.srv, hooks=True)
                r.start(env={"POSTERN_TEST_SANDBOX_SYSCALL": call})
                self.assertIsNone(r.udp().poll(DEFAULT_USER, timeout=1))
                self.assertEqual(r.proc.wait(timeout=10 * lib.SLOW), 1)
                self.assertTrue(r.wait_log(
                    r"responder pid=\d+ killed by signal %d \(SIGSYS\)"
                    % signal.SIGSYS), r.log())
                r.proc = None


if __name__ == "__main__":
    unittest.main()
