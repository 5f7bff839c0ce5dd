#!/usr/bin/env python3
"""
bench/killcampaign.py: the long kill campaign of issue 8 §3.

    bench/killcampaign.py [-b BUILD] [-n RUNS] [-j WORKERS] [-s MB]
                          [-m MESSAGES] [--mode inetd|listener]
                          [--procmail-every K] [--seed N] [--e2e DIR]

Each worker has its own server and maildrop (MB megabytes, MESSAGES
messages) and does its share of RUNS runs of tests/e2e/campaign.py: log
in, DELE a random subset, QUIT, kill -9 the session process at a random
moment of UPDATE, and, with no new login, check two seconds later that
the file holds exactly all messages or exactly the survivors with no
dotlock and no journal left (procmail delivers during every K-th run).
Prints the counts (all / survivors / other), every "other" with its
reason, the measured UPDATE time and the wall time.  Exits 1 if any run
ended "other".  Run as root (servers run as nobody) or as any user.
Defaults: build/, 1000 runs, 2 workers, a 50 MB box of 1000 messages.
"""

import argparse
import multiprocessing
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "..", "tests", "e2e")


def worker(a):
    opts, w, runs = a
    os.environ["POSTERN_E2E_BUILD"] = os.path.abspath(opts.build)
    sys.path.insert(0, os.path.abspath(opts.e2e))
    import campaign  # noqa: E402 (needs the build in the environment)

    def log(msg):
        sys.stderr.write("worker %d: %s\n" % (w, msg))
        sys.stderr.flush()
    try:
        return campaign.run(opts.mode, runs, opts.messages,
                            opts.size << 20, seed=opts.seed + w,
                            procmail_every=opts.procmail_every, log=log)
    except Exception:
        # the parent cannot unpickle lib's exceptions: send the text
        return "worker %d failed:\n%s" % (w, traceback.format_exc())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("-b", "--build", default="build")
    ap.add_argument("-n", "--runs", type=int, default=1000)
    ap.add_argument("-j", "--workers", type=int, default=2)
    ap.add_argument("-s", "--size", type=int, default=50, help="MB")
    ap.add_argument("-m", "--messages", type=int, default=1000)
    ap.add_argument("--mode", choices=("inetd", "listener"),
                    default="inetd")
    ap.add_argument("--procmail-every", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--e2e", default=E2E,
                    help="where lib.py and campaign.py are (an older "
                    "checkout's lib.py for an older build)")
    opts = ap.parse_args()
    if not os.access(os.path.join(opts.build, "pop3d"), os.X_OK):
        sys.exit("%s/pop3d: not built" % opts.build)
    shares = [opts.runs // opts.workers + (1 if w < opts.runs % opts.workers
                                           else 0)
              for w in range(opts.workers)]
    t0 = time.monotonic()
    with multiprocessing.get_context("fork").Pool(opts.workers) as pool:
        res = pool.map(worker, [(opts, w, n) for w, n in enumerate(shares)])
    wall = time.monotonic() - t0
    counts = {"all": 0, "survivors": 0, "other": 0, "late": 0}
    others = []
    failed = [r for r in res if isinstance(r, str)]
    if failed:
        sys.exit("\n".join(failed))
    for w, (c, o, upd) in enumerate(res):
        for k in counts:
            counts[k] += c[k]
        others.extend("worker %d %s" % (w, x) for x in o)
        print("worker %d: %d runs, UPDATE took %.3f s (median): %s" % (
            w, shares[w], upd, ", ".join("%s %d" % kv for kv in c.items())))
    for x in others:
        print("other: " + x)
    print("killcampaign: %s, %d runs, %d MB, %d messages, mode %s, "
          "procmail every %d: all %d, survivors %d (%d had ended before "
          "the kill), other %d; %.0f s" % (
              opts.build, opts.runs, opts.size, opts.messages, opts.mode,
              opts.procmail_every, counts["all"], counts["survivors"],
              counts["late"], counts["other"], wall))
    return 1 if counts["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
