"""
test_sandbox.py: the test hooks exist only in the test build (issue 8
§6): the production pop3d has no test hook, so POSTERN_TEST_CRASH_AT
changes nothing (an UPDATE with the variable set ends as it should),
while pop3d-test (lib.Server(hooks=True)) dies at the step.
"""

import os
import signal
import unittest

import lib

DELETE = {0, 4, 5}


class HooksTest(unittest.TestCase):
    """The production build has no test hook."""

    def test_production_ignores_crash_hook(self):
        for step in ("1", "5:2", "9"):
            with self.subTest(step=step), lib.Server(self) as s:
                mb = lib.simple_mbox(10, "prod%s" % step.replace(":", "-"))
                s.put_mbox(mb.data())
                c, p = s.spawn_i(env={"POSTERN_TEST_CRASH_AT": step})
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
            self.assertEqual(p.wait(timeout=10 * lib.SLOW), -signal.SIGKILL)
            lib.same(self, s.read_mbox(), mb.data())


if __name__ == "__main__":
    unittest.main()
