"""
campaign.py: the kill campaign of issue 8 §3, shared by
tests/e2e/test_killcampaign.py (a bounded run in make check) and
bench/killcampaign.py (the long one, >= 1000 runs on a 50 MB box).

One run: write the maildrop (n messages), log in, DELE a random subset,
send QUIT and, at a random moment of the UPDATE that follows, kill -9 the
session process (the leaf of the connection's process tree: the child of
the per-connection master; with a build where the master serves the
session itself, the master).  Then, WITHOUT a new login, wait up to two
seconds: the file must hold exactly all messages or exactly the
survivors, byte for byte, with no dotlock and no journal left anywhere
under the test directory.  In some runs procmail delivers one more
message during the UPDATE; its mail must then be at the end of either
state.  Outcomes: "all", "survivors", "other" (with the reason).

The kill moments are spread over the UPDATE's duration, measured first
by a few runs without a kill (QUIT sent to its +OK, the median); a run
whose QUIT was answered "+OK" before the kill counts as "late" (the
UPDATE was over: only the other runs killed a session mid-UPDATE).
"""

import os
import random
import signal
import subprocess
import time

import lib
from lib import DEFAULT_PASS, DEFAULT_USER

# Without a new login, the state must be clean this soon after the kill.
SETTLE = 2.0
# procmail waits for our dotlock with LOCKSLEEP=1; it must be done by then.
PROCMAIL_WAIT = 20.0
ENVELOPE = b"From gen@example.org Mon Jan  1 00:00:00 2024"


def make_mbox(nmsgs, size, seed):
    """An mbox of nmsgs plain messages, about size bytes in all, of
    random sizes (0.2 to 1.8 times the mean)."""
    rnd = random.Random(seed)
    mean = max(size // nmsgs, 200)
    msgs = []
    for i in range(1, nmsgs + 1):
        want = int(mean * rnd.uniform(0.2, 1.8))
        head = (b"From: gen@example.org\nTo: alice@example.org\n"
                b"Subject: campaign %d\nMessage-ID: <c%d.%d@e2e.example>\n\n"
                % (i, seed, i))
        line = b"message %d: the quick brown fox jumps over the lazy dog\n" % i
        body = line * max(1, (want - len(head)) // len(line))
        msgs.append(lib.Msg(head + body, ENVELOPE))
    return lib.Mbox(msgs)


def leftovers(top):
    """Dotlocks (and their temp files) and journals under top."""
    out = []
    for d, dirs, files in os.walk(top):
        for n in files:
            if n.endswith(".lock") or ".lock." in n or ".journal" in n:
                out.append(os.path.relpath(os.path.join(d, n), top))
    return sorted(out)


def leaf(pid):
    """Follows single children down from pid: the process serving the
    session once the login is over (the pre-auth child is gone)."""
    for _ in range(10):
        kids = lib.children_of(pid)
        if len(kids) != 1:
            return pid
        pid = kids[0]
    return pid


class Campaign:
    """One maildrop, one server, runs one after the other.

    mode: "inetd" (a `pop3d -i` per run, on a socketpair) or "listener"
    (one `pop3d -F`, a TCP connection per run)."""

    def __init__(self, mode, nmsgs, size, seed=1, procmail_every=4,
                 log=None):
        assert mode in ("inetd", "listener")
        self.mode = mode
        self.rnd = random.Random(seed)
        self.seed = seed
        self.procmail_every = procmail_every
        self.log = log or (lambda *a: None)
        self.mbox = make_mbox(nmsgs, size, seed)
        self.orig = self.mbox.data()
        self.segs = [self.mbox.segment(i) for i in range(nmsgs)]
        self.s = lib.Server(None, conf={"lock_timeout": "30"})
        self.rc = lib.procmail_rc(self.s.tmp, self.s.maildrop(),
                                  extra="LOCKTIMEOUT=3600\nSUSPEND=0\n")
        if mode == "listener":
            self.s.start()
        else:
            self.s.prepare([])
        self.update_time = None
        self.nrun = 0
        self.late = 0           # runs whose session ended before the kill

    def close(self):
        self.s.__exit__(None, None, None)

    # -- one session ----------------------------------------------------
    def connect(self):
        """Returns (client, process to wait for or None, connection pid)."""
        if self.mode == "inetd":
            c, p = self.s.spawn_i()
            self.s.extra_procs.remove(p)
            c.greeting()
            return c, p, p.pid
        c = self.s.connect()
        return c, None, None

    def session_pid(self, conn_pid):
        if conn_pid is not None:
            return leaf(conn_pid)
        kids = lib.children_of(self.s.proc.pid)
        if len(kids) != 1:
            raise AssertionError("listener has %d children" % len(kids))
        return leaf(kids[0])

    def idle(self, p):
        """Waits until the previous connection's processes are gone."""
        deadline = time.monotonic() + 30 * lib.SLOW
        if p is not None:
            p.wait(timeout=30 * lib.SLOW)
        elif self.mode == "listener":
            while lib.children_of(self.s.proc.pid):
                if time.monotonic() > deadline:
                    raise AssertionError("listener children stay")
                time.sleep(0.005)

    def login_and_delete(self, deleted):
        c, p, cpid = self.connect()
        c.ok("USER " + DEFAULT_USER)
        c.ok("PASS " + DEFAULT_PASS)
        # pipelined: one write for every DELE
        c.send(b"".join(b"DELE %d\r\n" % (i + 1) for i in sorted(deleted)))
        for i in sorted(deleted):
            r = c.reply()
            if not r.startswith(b"+OK"):
                raise AssertionError("DELE %d: %r" % (i + 1, r))
        return c, p, self.session_pid(cpid)

    def reset(self):
        lib.write_file(self.s.maildrop(), self.orig, 0o600, lib.RUN_AS)
        for f in leftovers(self.s.tmp):
            os.unlink(os.path.join(self.s.tmp, f))

    def pick(self):
        n = len(self.segs)
        k = self.rnd.randint(1, n - 1)
        return set(self.rnd.sample(range(n), k))

    def survivors(self, deleted):
        return b"".join(s for i, s in enumerate(self.segs) if i not in deleted)

    def calibrate(self, n=5):
        """Seconds from QUIT to its +OK, the median of n runs."""
        times = []
        for _ in range(n):
            self.reset()
            deleted = self.pick()
            c, p, sp = self.login_and_delete(deleted)
            t0 = time.monotonic()
            r = c.cmd("QUIT")
            times.append(time.monotonic() - t0)
            c.expect_eof(30 * lib.SLOW)
            c.close()
            self.idle(p)
            if not r.startswith(b"+OK"):
                raise AssertionError("QUIT: %r" % r)
            if self.s.read_mbox() != self.survivors(deleted):
                raise AssertionError("calibration: wrong file after QUIT")
        self.update_time = sorted(times)[n // 2]
        return self.update_time

    def procmail_start(self, tag):
        msg = lib.Msg(b"From: mda@example.org\nSubject: delivered %s\n\n"
                      b"delivered during the update\n" % tag, ENVELOPE)
        data = msg.envelope + b"\n" + msg.content
        p = subprocess.Popen([lib.PROCMAIL, self.rc], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd="/",
                             **lib.RUN_AS.popen_kw())
        p.stdin.write(data)
        p.stdin.close()
        return p, data + b"\n"

    def run(self):
        """One run; returns (outcome, detail)."""
        self.nrun += 1
        self.reset()
        deleted = self.pick()
        surv = self.survivors(deleted)
        pm = None
        appended = b""
        use_pm = self.procmail_every and self.nrun % self.procmail_every == 0
        c, p, sp = self.login_and_delete(deleted)
        delay = self.rnd.uniform(0, self.update_time)
        pm_at = self.rnd.uniform(0, delay) if use_pm else None
        t0 = time.monotonic()
        c.send(b"QUIT\r\n")
        if pm_at is not None:
            time.sleep(pm_at)
            pm, appended = self.procmail_start(b"%d" % self.nrun)
        time.sleep(max(0.0, delay - (time.monotonic() - t0)))
        try:
            os.kill(sp, signal.SIGKILL)
            killed = True
        except ProcessLookupError:
            killed = False
        t_kill = time.monotonic()
        # "+OK" before the end: the UPDATE was over before the kill
        late = c.expect_eof(30 * lib.SLOW).startswith(b"+OK") or not killed
        c.close()
        detail = ""
        if pm is not None:
            try:
                pm.wait(timeout=PROCMAIL_WAIT * lib.SLOW)
            except subprocess.TimeoutExpired:
                pm.kill()
                pm.wait()
                detail = "procmail still waiting for the lock; "
            t_kill = max(t_kill, time.monotonic())
        want = {self.orig + appended: "all", surv + appended: "survivors"}
        deadline = t_kill + SETTLE * lib.SLOW
        while True:
            data, left = self.s.read_mbox(), leftovers(self.s.tmp)
            if (data in want and not left) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self.idle(p)
        if data in want and not left and not detail:
            self.late += late
            return want[data], ("finished" if late else "killed")
        if data in want:
            detail += "file holds %s" % want[data]
        else:
            detail += "file holds neither (%d bytes: all %d, survivors %d%s)" \
                % (len(data), len(self.orig), len(surv),
                   ", +%d appended" % len(appended) if appended else "")
        if left:
            detail += "; left: %s" % ", ".join(left)
        return "other", detail.strip()


def run(mode, runs, nmsgs, size, seed=1, procmail_every=4, log=None,
        stop_on_other=False):
    """A campaign of `runs` runs (stop_on_other: up to the first "other").
    Returns (counts, others, update_time); counts has "all", "survivors",
    "other" and "late" (how many sessions had ended before their kill)."""
    counts = {"all": 0, "survivors": 0, "other": 0}
    others = []
    c = Campaign(mode, nmsgs, size, seed, procmail_every, log)
    try:
        c.calibrate()
        for i in range(runs):
            outcome, detail = c.run()
            counts[outcome] += 1
            if outcome == "other":
                others.append("run %d: %s" % (i + 1, detail))
                if log:
                    log("run %d: other: %s" % (i + 1, detail))
                if stop_on_other:
                    break
    finally:
        c.close()
    counts["late"] = c.late
    return counts, others, c.update_time
