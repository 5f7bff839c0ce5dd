"""
test_killcampaign.py: the bounded kill campaign of issue 8 §3 (campaign.py
has the procedure; bench/killcampaign.py runs the long one).

A maildrop of 200 messages (about 4 MB); in each run a random subset is
deleted, QUIT sent, and the session process killed -9 at a random moment
of the UPDATE (spread over its measured duration); with no new login,
two seconds later the file must hold exactly all messages or exactly the
survivors, byte for byte, with no dotlock and no journal left.  procmail
delivers during every fourth run; its message must be kept.  Any other
state fails the test.  Run under `pop3d -i` (inetd, systemd Accept=yes)
and under the standalone listener; fewer runs under the sanitizers.
"""

import os
import sys
import unittest

import campaign
import lib

RUNS = 40 if lib.SLOW == 1.0 else 12
MESSAGES = 200
SIZE = 4 << 20


@unittest.skipUnless(os.path.exists(lib.PROCMAIL), "procmail not installed")
class KillCampaignTest(unittest.TestCase):

    def campaign(self, mode, seed):
        counts, others, upd = campaign.run(mode, RUNS, MESSAGES, SIZE,
                                           seed=seed, procmail_every=4,
                                           stop_on_other=True)
        sys.stdout.write("[%s: UPDATE %.3f s; all %d, survivors %d (%d "
                         "done before the kill), other %d] " % (
                             mode, upd, counts["all"], counts["survivors"],
                             counts["late"], counts["other"]))
        sys.stdout.flush()
        self.assertEqual(others, [], "a run ended in another state (the "
                         "campaign stops at the first)")
        self.assertEqual(counts["all"] + counts["survivors"], RUNS)

    def test_inetd(self):
        self.campaign("inetd", 8)

    def test_listener(self):
        self.campaign("listener", 9)


if __name__ == "__main__":
    unittest.main()
