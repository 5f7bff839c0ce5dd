"""
test_writes.py: replies are batched into few, large writes (design.md §3:
one buffered writer that flushes when a command's reply is complete and no
more input is pending).  strace counts the session's send calls while a
burst of pipelined commands is answered, and while RETR streams a large
message.
"""

import os
import re
import shutil
import subprocess
import unittest

import lib
from lib import DEFAULT_PASS, DEFAULT_USER

STRACE = shutil.which("strace")
SEND_RE = re.compile(rb"^\d+\s+(?:sendto|write)\((\d+), .*= (\d+)$", re.M)


@unittest.skipUnless(STRACE, "strace not installed")
class WritesTest(unittest.TestCase):

    @staticmethod
    def strace_env():
        # LeakSanitizer cannot run under ptrace: keep ASan, skip leaks.
        opts = os.environ.get("ASAN_OPTIONS", "")
        return {"ASAN_OPTIONS": (opts + ":" if opts else "") +
                "detect_leaks=0"}

    def traced_session(self, s, script):
        """Runs pop3d -i under strace; script(client) drives it.  Returns
        the list of (fd, bytes) of every send/write to the client."""
        trace = os.path.join(s.tmp, "trace")
        s.prepare()
        a, b = lib.socket.socketpair()
        logf = open(s.new_log("strace"), "ab")
        try:
            p = subprocess.Popen(
                [STRACE, "-f", "-qq", "-e", "trace=sendto,write",
                 "-o", trace, lib.POP3D, "-f", s.conf_path, "-i", "-e"],
                stdin=b.fileno(), stdout=b.fileno(), stderr=logf,
                start_new_session=True, env=s.env(self.strace_env()),
                **s.popen_kw())
        finally:
            logf.close()
            b.close()
        s.extra_procs.append(p)
        c = lib.Pop(a)
        with c:
            c.greeting()
            script(c)
        p.wait(timeout=20 * lib.SLOW)
        with open(trace, "rb") as f:
            data = f.read()
        # fd 1 is the client socket; stderr (the log) is fd 2
        sends = [(int(m.group(1)), int(m.group(2)))
                 for m in SEND_RE.finditer(data) if m.group(1) == b"1"]
        self.assertTrue(sends, "strace saw no send to the client")
        print("[%d sends, %d octets]" % (len(sends), sum(n for _, n in sends)),
              end=" ", flush=True)
        return sends

    def test_pipelined_burst_one_write(self):
        with lib.Server(self) as s:
            s.put_mbox(lib.simple_mbox(3, "w").data())

            def script(c):
                c.login(DEFAULT_USER, DEFAULT_PASS)
                c.send(b"NOOP\r\n" * 100 + b"STAT\r\nLIST\r\nUIDL\r\n")
                for _ in range(101):
                    self.assertTrue(c.reply().startswith(b"+OK"))
                c.reply()
                c.multi()
                c.reply()
                c.multi()
                c.ok("QUIT")
            sends = self.traced_session(s, script)
        # greeting, USER, PASS (+OK login), the burst, QUIT: the burst of
        # 103 replies is one write (two if the kernel split the input).
        self.assertLessEqual(len(sends), 6, sends)

    def test_retr_streams_in_large_writes(self):
        with lib.Server(self) as s:
            big = lib.simple_message(1, "big", body_lines=40000)
            mb = lib.Mbox([big])
            s.put_mbox(mb.data())

            def script(c):
                c.login(DEFAULT_USER, DEFAULT_PASS)
                c.ok("RETR 1")
                self.assertEqual(c.multi(), big.wire())
                c.ok("QUIT")
            sends = self.traced_session(s, script)
        total = sum(n for _, n in sends)
        self.assertGreater(total, big.octets())
        # 64 KiB output buffer: about total / 64 KiB writes, never per line
        self.assertLessEqual(len(sends), total // (32 * 1024) + 6, sends)


if __name__ == "__main__":
    unittest.main()
