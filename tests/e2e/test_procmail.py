"""
test_procmail.py: nothing is lost or duplicated while procmail delivers
into the maildrop and POP sessions read and delete from it at the same
time.  procmail uses its default locking for $DEFAULT (the $DEFAULT.lock
dotlock and a kernel lock), as on a Debian mail host.
"""

import os
import random
import re
import threading
import time
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER, simple_mbox

N_MESSAGES = 200
DEADLINE = 100          # seconds for the whole concurrent phase


@unittest.skipUnless(os.path.exists(lib.PROCMAIL), "procmail not installed")
class ProcmailTest(unittest.TestCase):

    def setUp(self):
        # many short sessions from 127.0.0.1: past the default
        # max_conn_per_min (60), which the listener enforces
        self.srv = lib.server(self, conf={"max_conn_per_min": "100000"})
        self.rc = lib.procmail_rc(self.srv.tmp, self.srv.maildrop())

    def deliver(self, m):
        lib.procmail_deliver(self.rc, m.envelope + b"\n" + m.content)

    def test_delivery_during_session_is_kept(self):
        mb = simple_mbox(3)
        s = self.srv
        s.put_mbox(mb.data())
        s.start()
        new = lib.simple_message(10, "during")
        with s.login() as c:
            c.ok("DELE 1")
            c.ok("RETR 2")
            c.multi()
            t0 = time.monotonic()
            self.deliver(new)    # the session lock does not block an MDA
            self.assertLess(time.monotonic() - t0, 5 * lib.SLOW)
            # not shown in this session
            self.assertEqual(c.ok("STAT"), b"+OK 2 %d" % sum(
                m.octets() for m in mb.msgs[1:]))
            self.assertTrue(c.cmd("LIST 4").startswith(b"-ERR"))
            c.ok("QUIT")
        seg = new.envelope + b"\n" + new.content + b"\n"
        lib.same(self, s.read_mbox(), mb.without({0}) + seg)
        with s.login() as c:
            self.assertEqual(c.ok("STAT")[:6], b"+OK 3 ")
            c.ok("RETR 3")
            self.assertEqual(c.multi(), new.wire())
            # delete everything while more mail arrives
            for i in (1, 2, 3):
                c.ok("DELE %d" % i)
            new2 = lib.simple_message(11, "during")
            self.deliver(new2)
            c.ok("QUIT")
        lib.same(self, s.read_mbox(),
                         new2.envelope + b"\n" + new2.content + b"\n")

    def test_nothing_lost(self):
        s = self.srv
        s.conf["lock_timeout"] = "10"
        s.put_mbox(b"")
        s.start()
        rnd = random.Random(4155)
        n = N_MESSAGES if lib.SLOW == 1 else N_MESSAGES // 2
        msgs = {}
        order = []
        for i in range(n):
            m = lib.simple_message(i, "pm", body_lines=rnd.randint(1, 25),
                                   envelope=b"From pm-%d@example.org Mon Jan"
                                   b"  1 00:00:00 2024" % i)
            mid = m.header("Message-ID")
            msgs[mid] = m
            order.append(mid)
        deadline = time.monotonic() + DEADLINE * lib.SLOW
        errors = []
        deleted = {}             # mid -> session number
        stats = {"sessions": 0, "in_use": 0, "dropped": 0, "quit": 0,
                 "retr": 0}
        lock = threading.Lock()
        done = threading.Event()

        def deliverer(mids):
            try:
                for mid in mids:
                    if time.monotonic() > deadline:
                        errors.append("delivery did not finish in time")
                        return
                    self.deliver(msgs[mid])
            except Exception as e:          # reported by the main thread
                errors.append("procmail: %r" % e)

        def reader(seed):
            r = random.Random(seed)
            nsess = 0
            while nsess < 5000 and time.monotonic() < deadline:
                final = done.is_set()
                nsess += 1
                try:
                    with s.connect() as c:
                        c.ok("USER " + DEFAULT_USER)
                        rep = c.cmd("PASS " + DEFAULT_PASS)
                        if not rep.startswith(b"+OK"):
                            if b"[IN-USE]" not in rep:
                                errors.append("PASS: %r" % rep)
                                return
                            with lock:
                                stats["in_use"] += 1
                            time.sleep(r.uniform(0.01, 0.1))
                            continue
                        cnt = int(c.ok("STAT").split()[1])
                        c.ok("UIDL")
                        c.multi()
                        got = []
                        for k in range(1, cnt + 1):
                            c.ok("RETR %d" % k)
                            w = c.multi()
                            mo = re.search(rb"(?im)^Message-ID: (<[^>]*>)", w)
                            mid = mo.group(1) if mo else None
                            if mid not in msgs or msgs[mid].wire() != w:
                                errors.append("RETR %d: unexpected message "
                                              "%r" % (k, w[:300]))
                                return
                            got.append(mid)
                        # the final session only checks what is left
                        dele = [k for k in range(1, cnt + 1)
                                if not final and r.random() < 0.5]
                        for k in dele:
                            c.ok("DELE %d" % k)
                        with lock:
                            stats["sessions"] += 1
                            stats["retr"] += cnt
                        if not final and r.random() < 0.25:
                            with lock:
                                stats["dropped"] += 1
                            continue        # drop the connection: no UPDATE
                        rep = c.cmd("QUIT")
                        if rep.startswith(b"+OK"):
                            with lock:
                                stats["quit"] += 1
                                for k in dele:
                                    mid = got[k - 1]
                                    if mid in deleted:
                                        errors.append("%r retrieved and "
                                                      "deleted twice" % mid)
                                    deleted[mid] = nsess
                        elif not rep.startswith(b"-ERR"):
                            errors.append("QUIT: %r" % rep)
                            return
                        if final:
                            return
                except Exception as e:
                    errors.append("reader: %r" % e)
                    return
            errors.append("reader stopped by its bound (%d sessions)"
                          % nsess)

        half = len(order) // 2
        dthreads = [threading.Thread(target=deliverer, args=(order[:half],)),
                    threading.Thread(target=deliverer, args=(order[half:],))]
        rthreads = [threading.Thread(target=reader, args=(k,))
                    for k in (1, 2)]
        for t in dthreads + rthreads:
            t.daemon = True
            t.start()
        for t in dthreads:
            t.join(max(1, deadline - time.monotonic()))
        done.set()
        for t in rthreads:
            t.join(max(1, deadline + 10 - time.monotonic()))
        alive = [t for t in dthreads + rthreads if t.is_alive()]
        self.assertFalse(alive, "threads still running at the deadline")
        self.assertEqual(errors, [], "stats %r" % stats)

        # every message: deleted after retrieval, or in the mbox; not both
        data = s.read_mbox()
        left = {}
        for env, content in lib.split_mbox(data):
            mo = re.search(rb"(?im)^Message-ID: (<[^>]*>)", content)
            self.assertTrue(mo, "a message without Message-ID in the mbox: "
                            "%r" % content[:200])
            mid = mo.group(1)
            self.assertIn(mid, msgs, "unknown message in the mbox")
            self.assertNotIn(mid, left, "duplicate in the mbox: %r" % mid)
            self.assertEqual((env, content), (msgs[mid].envelope,
                                              msgs[mid].content))
            left[mid] = True
        both = set(left) & set(deleted)
        self.assertEqual(both, set(), "deleted yet still in the mbox")
        lost = set(msgs) - set(left) - set(deleted)
        self.assertEqual(lost, set(), "lost messages")
        print("[%d sessions, %d QUIT, %d dropped, %d IN-USE, %d deleted, "
              "%d left] " % (stats["sessions"], stats["quit"],
                             stats["dropped"], stats["in_use"], len(deleted),
                             len(left)), end="", flush=True)


if __name__ == "__main__":
    unittest.main()
