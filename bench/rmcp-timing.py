#!/usr/bin/env python3
"""
rmcp-timing.py: does rmcpd answer a known user faster or slower than an
unknown one?  (issue 8, item 4: the answer must not tell them apart.)

Starts BUILD/rmcpd -F on a free loopback UDP port with a throw-away
configuration, passwd-file and maildrops, then sends polls one at a time
from one socket and times each round trip.  The classes are interleaved
in a shuffled order so that drift hits them alike:

  consent     a known user whose maildrop has the owner-execute bit
  no-consent  a known user whose maildrop lacks it
  unknown     a name no user database knows (a fresh random one per
              poll, as one who lists names would send)

for each user database layout: "passwd-file" (the default), "system"
(the accounts of NSS: getpwnam in the old code), and "passwd-file
system" (a name the file does not know falls through to NSS).  System
accounts need a shell that is not refused: the configuration sets
nologin_shells = none, and the known system users are "daemon" (consent)
and "bin" (no consent), which every Debian system has.

Prints the median, the quartiles and the count per class in
microseconds.  Standard library only.  Not a test: run it by hand,

    python3 bench/rmcp-timing.py [BUILD_DIR] [-n POLLS_PER_CLASS]

as root (rmcpd then drops to "nobody") or as any user.
"""

import argparse
import os
import pwd
import random
import select
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time

LAYOUTS = ("passwd-file", "system", "passwd-file system")
FILE_USERS = {"consent": "alice", "no-consent": "bob"}
SYSTEM_USERS = {"consent": "daemon", "no-consent": "bin"}
HASH = "$6$abcdefgh$" + "x" * 86      # never checked: no rmcp_auth


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def known(layout):
    """The known user of each class for a layout."""
    return SYSTEM_USERS if layout == "system" else FILE_USERS


def setup(tmp, layout, port):
    mail = os.path.join(tmp, "mail")
    os.makedirs(mail, exist_ok=True)
    os.chmod(tmp, 0o755)
    os.chmod(mail, 0o755)
    mbox = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\nhi\n\n"
    for cls, user in list(FILE_USERS.items()) + list(SYSTEM_USERS.items()):
        p = os.path.join(mail, user)
        with open(p, "wb") as f:
            f.write(mbox)
        os.chmod(p, 0o700 if cls == "consent" else 0o600)
    passwd = os.path.join(tmp, "passwd")
    with open(passwd, "w") as f:
        for user in FILE_USERS.values():
            f.write("%s:%s:1000:1000\n" % (user, HASH))
    os.chmod(passwd, 0o600)
    conf = os.path.join(tmp, "postern.conf")
    with open(conf, "w") as f:
        f.write("userdb = %s\n" % layout)
        f.write("passwd_file = %s\n" % passwd)
        f.write("maildrop = %s/%%u\n" % mail)
        f.write("nologin_shells = none\n")
        f.write("rmcp_enabled = yes\n")
        f.write("rmcp_listen = 127.0.0.1:%d\n" % port)
        f.write("rmcp_user = nobody\n")
        f.write("rmcp_rate = 10000000\n")
        f.write("rmcp_rate_burst = 10000000\n")
        f.write("log_level = notice\n")
    return conf


def start(build, conf, logpath):
    logf = open(logpath, "ab")
    try:
        p = subprocess.Popen([os.path.join(build, "rmcpd"), "-f", conf,
                              "-F", "-e"], stdin=subprocess.DEVNULL,
                             stdout=logf, stderr=logf)
    finally:
        logf.close()
    return p


def wait_ready(sock, server, proc, logpath):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        sock.sendto(b"\0\0\0\0alice", server)
        r, _, _ = select.select([sock], [], [], 0.1)
        if r:
            sock.recv(64)
            return
    with open(logpath, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    sys.exit("rmcpd did not answer (status %r); log:\n%s" % (proc.poll(),
                                                            log))


def unknown_name(rnd):
    """A fresh name each time, as an attacker who lists names would send
    (a repeated one hits the kernel's cache of failed look-ups)."""
    return "".join(rnd.choice(string.ascii_lowercase)
                   for _ in range(9)) + "x"


def measure(sock, server, layout, n, rnd):
    users = known(layout)
    order = [c for c in ("consent", "no-consent", "unknown")
             for _ in range(n)]
    rnd.shuffle(order)
    times = {"consent": [], "no-consent": [], "unknown": []}
    replies = {}
    # Warm up every path (page cache, NSS modules, branch predictors).
    for _ in range(50):
        for cls in ("consent", "no-consent", "unknown"):
            name = users.get(cls) or unknown_name(rnd)
            sock.sendto(b"\0\0\0\0" + name.encode(), server)
            select.select([sock], [], [], 2)
            sock.recv(64)
    for cls in order:
        name = users.get(cls) or unknown_name(rnd)
        dgram = b"\0\0\0\0" + name.encode()
        t0 = time.perf_counter_ns()
        sock.sendto(dgram, server)
        r, _, _ = select.select([sock], [], [], 2)
        if not r:
            sys.exit("no reply to a poll for %s" % name)
        data = sock.recv(64)
        t1 = time.perf_counter_ns()
        times[cls].append((t1 - t0) / 1000.0)
        replies.setdefault(cls, set()).add(data)
    return times, replies


def word_str(data):
    return "(%d,%d,%d)" % tuple(int.from_bytes(data[i:i + 4], "big")
                               for i in (0, 4, 8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("-n", type=int, default=1000,
                    help="polls per class and layout (default 1000)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    rnd = random.Random(args.seed)
    for u in list(SYSTEM_USERS.values()) + ["nobody"]:
        pwd.getpwnam(u)         # every Debian system has them
    print("rmcpd = %s, %d polls per class, loopback UDP round trips in "
          "microseconds" % (os.path.join(build, "rmcpd"), args.n))
    for layout in LAYOUTS:
        tmp = tempfile.mkdtemp(prefix="rmcp-timing.")
        proc = None
        try:
            port = free_udp_port()
            conf = setup(tmp, layout, port)
            logpath = os.path.join(tmp, "rmcpd.log")
            proc = start(build, conf, logpath)
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            server = ("127.0.0.1", port)
            wait_ready(sock, server, proc, logpath)
            times, replies = measure(sock, server, layout, args.n, rnd)
            sock.close()
            print("\nuserdb = %s" % layout)
            meds = {}
            for cls in ("consent", "no-consent", "unknown"):
                t = sorted(times[cls])
                q = statistics.quantiles(t, n=4)
                meds[cls] = statistics.median(t)
                print("  %-11s median %7.1f  q1 %7.1f  q3 %7.1f  n %d  "
                      "reply %s" % (cls, meds[cls], q[0], q[2], len(t),
                                    " ".join(sorted(word_str(r) for r in
                                                    replies[cls]))))
            print("  unknown - consent: %+.1f us, unknown - no-consent: "
                  "%+.1f us" % (meds["unknown"] - meds["consent"],
                               meds["unknown"] - meds["no-consent"]))
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
