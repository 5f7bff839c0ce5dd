#!/usr/bin/env python3
"""
auth-timing.py: how long pop3d takes to refuse a login, per class of
failure (issue 8, item 4).  A benchmark, not a test: it prints numbers
and judges nothing.

It starts a real `pop3d -F` on a free loopback port with a passwd-file
holding a yescrypt user, a SHA-512 ($6$) user and a locked user, with
auth_fail_delay = 0 and auth_penalty_max = 0 (so that only the check
itself is timed), and times, from the PASS command sent to the -ERR
read, N failed logins of each class, interleaved in random order:

    yescrypt-bad   a yescrypt user, wrong password
    sha512-bad     a $6$ user, wrong password
    unknown        a name no database knows
    locked         a passwd-file user whose hash starts with '!'
    nologin-sys    a system user with a nologin shell (e.g. nobody)
    uid0-sys       root, refused whatever the password

The system classes need userdb = passwd-file system, hence root (shadow
is root's to read); otherwise they are skipped with a note.  Each
connection tries every class equally often (up to auth_max_tries - 1
tries in all) and its first try is thrown away: the master's first
check measures the methods in use, and each master measures for itself,
so that its floor may differ from another's on a loaded machine.

Usage:  bench/auth-timing.py [-n N] [--pop3d build/pop3d] [--seed S]
Python 3 standard library only (the SHA-512 hash comes from the crypt
module where Python still has it, else from `openssl passwd -6`).
"""

import argparse
import os
import pwd
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
MAX_TRIES = 100         # auth_max_tries' upper bound in conf.c
NOLOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false",
           "/usr/bin/false")


def yescrypt_hash(pop3d, password):
    p = subprocess.run([pop3d, "-P"], input=password.encode() + b"\n",
                       capture_output=True, timeout=60, check=True)
    h = p.stdout.strip().decode()
    if not h.startswith("$y$"):
        sys.exit("pop3d -P made %r, not a yescrypt hash" % h)
    return h


def sha512_hash(password):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
        if h and h.startswith("$6$"):
            return h
    except ImportError:
        pass
    p = subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                       input=password.encode() + b"\n",
                       capture_output=True, timeout=60, check=True)
    h = p.stdout.strip().decode()
    if not h.startswith("$6$"):
        sys.exit("cannot make a SHA-512 crypt hash (no crypt module, "
                 "no openssl)")
    return h


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def nologin_system_user():
    for name in ("nobody", "daemon", "bin", "sys"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if pw.pw_uid != 0 and pw.pw_shell in NOLOGIN:
            return name
    return None


class Pop:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError("server closed the connection")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def send(self, text):
        self.s.sendall(text.encode() + b"\r\n")

    def close(self):
        self.s.close()


def percentile(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=60,
                    help="tries per class (default 60, at least 50)")
    ap.add_argument("--pop3d", default=os.path.join(TOP, "build", "pop3d"))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--floors", action="store_true",
                    help="log at debug level and print the floor each "
                    "session master derived (pop3d with auth_timing.c)")
    a = ap.parse_args()
    pop3d = os.path.abspath(a.pop3d)
    rnd = random.Random(a.seed)
    root = os.geteuid() == 0

    tmp = tempfile.mkdtemp(prefix="postern-bench.")
    proc = None
    try:
        os.chmod(tmp, 0o755)
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty, 0o755)
        mail = os.path.join(tmp, "mail")
        os.mkdir(mail, 0o755)
        yh = yescrypt_hash(pop3d, "yes-pw.1")
        sh = sha512_hash("sha-pw.2")
        ids = "65534:65534" if root else "%d:%d" % (os.getuid(),
                                                     os.getgid())
        passwd = os.path.join(tmp, "passwd")
        with open(passwd, "w") as f:
            f.write("pbyes:%s:%s\n" % (yh, ids))
            f.write("pbsha:%s:%s\n" % (sh, ids))
            f.write("pblocked:!%s:%s\n" % (yh, ids))
        os.chmod(passwd, 0o600)

        classes = [("yescrypt-bad", "pbyes"), ("sha512-bad", "pbsha"),
                   ("unknown", "pbnosuchuser"), ("locked", "pblocked")]
        notes = []
        nol = nologin_system_user() if root else None
        if root and nol is not None:
            classes.append(("nologin-sys", nol))
        else:
            notes.append("nologin-sys skipped: %s" % (
                "needs root (userdb system reads shadow)" if not root
                else "no system user with a nologin shell"))
        if root:
            classes.append(("uid0-sys", "root"))
        else:
            notes.append("uid0-sys skipped: needs root")

        port = free_port()
        state = os.path.join(tmp, "state")
        os.mkdir(state, 0o755)
        conf = os.path.join(tmp, "postern.conf")
        with open(conf, "w") as f:
            f.write("hostname = bench.example\n"
                    "listen = pop3 127.0.0.1:%d\n"
                    "passwd_file = %s\n"
                    "userdb = %s\n"
                    "maildrop = %s/%%u\n"
                    "auth_fail_delay = 0\n"
                    "auth_penalty_max = 0\n"
                    "auth_max_tries = %d\n"
                    "auth_max_commands = 100000\n"
                    "auth_max_errors = 100000\n"
                    "max_conn_per_min = 100000\n"
                    "state_dir = %s\n"
                    "log_level = %s\n" % (
                        port, passwd,
                        "passwd-file system" if root else "passwd-file",
                        mail, MAX_TRIES, state,
                        "debug" if a.floors else "warning"))
            if root:
                f.write("pre_auth_user = nobody\nchroot = %s\n" % empty)
        log = open(os.path.join(tmp, "pop3d.log"), "wb")
        proc = subprocess.Popen([pop3d, "-f", conf, "-F"],
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    sys.exit("pop3d did not start:\n" + open(
                        log.name, errors="replace").read())
                time.sleep(0.05)

        # Each connection (one session master, with its own measured
        # floor) tries every class equally often, in random order, after
        # one warm-up try: so every class meets the same connections.
        per = (MAX_TRIES - 1) // len(classes)
        times = {name: [] for name, _ in classes}
        first = []
        left = a.n
        while left > 0:
            k = min(per, left)
            left -= k
            plan = [cl for cl in classes for _ in range(k)]
            rnd.shuffle(plan)
            c = Pop(port)
            c.line()                            # greeting
            chunk = [rnd.choice(classes)] + plan
            for j, (name, user) in enumerate(chunk):
                c.send("USER " + user)
                c.line()
                t0 = time.perf_counter_ns()
                c.send("PASS bench-wrong-password")
                r = c.line()
                t1 = time.perf_counter_ns()
                if not r.startswith(b"-ERR"):
                    sys.exit("unexpected reply to PASS: %r" % r)
                if j == 0:
                    first.append((t1 - t0) / 1e6)
                else:
                    times[name].append((t1 - t0) / 1e6)
            c.send("QUIT")
            c.close()

        print("pop3d: %s" % pop3d)
        print("%-14s %5s %10s %10s %10s %10s" % (
            "class", "n", "median ms", "p90 ms", "min ms", "max ms"))
        med = {}
        for name, _ in classes:
            xs = times[name]
            med[name] = statistics.median(xs)
            print("%-14s %5d %10.3f %10.3f %10.3f %10.3f" % (
                name, len(xs), med[name], percentile(xs, 90), min(xs),
                max(xs)))
        lo = min(med, key=med.get)
        hi = max(med, key=med.get)
        print("max difference between medians: %.3f ms (%s - %s)" % (
            med[hi] - med[lo], hi, lo))
        print("first try of a connection (thrown away): median %.3f ms "
              "over %d" % (statistics.median(first), len(first)))
        for n in notes:
            print("note: " + n)
        if a.floors:
            log.flush()
            for l in open(log.name, errors="replace"):
                if "failed checks take" in l or "over the" in l:
                    print("log: " + l.rstrip()[-200:])
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
