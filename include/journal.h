/*
 * journal.h: the crash-safe in-place rewrite of a maildrop's tail and its
 * recovery (design.md §2 "UPDATE without loss").
 *
 * An update replaces the file's bytes from offset `from` onward by the
 * concatenation of the kept ranges (old file offsets) given.  Steps:
 *  1 create the journal (O_EXCL, 0600, next to the maildrop)
 *  2 write header + data; 3 fsync; 4 write the commit record; fsync
 *  5 rewrite [from, new_end) in place (touching no byte in [new_end, old_end))
 *  6 fsync the maildrop; 7 ftruncate(new_end); 8 fsync
 *  9 unlink the journal (and fsync its directory)
 * The commit record holds from, new_end, old_end and a digest of the old
 * bytes [new_end, old_end).  After a crash, recovery redoes step 5 and then
 * reads the file: if [new_end, old_end) still holds exactly those bytes the
 * truncate had not happened and mail appended since starts at old_end;
 * otherwise everything past new_end was appended after the truncate.
 * Appended bytes are kept by rolling them into a fresh journal first, so
 * recovery itself is crash-safe at every instant.
 *
 * The caller holds the mbox lock throughout.  Runs as the mail user.
 */
#ifndef POSTERN_JOURNAL_H
#define POSTERN_JOURNAL_H

#include <stddef.h>
#include <sys/types.h>

struct journal_range {
	off_t	 off;
	off_t	 len;
};

/*
 * Test hook, compiled only into the test build (-DPOSTERN_TEST_HOOKS:
 * pop3d-test and the unit suites; the production programs have none):
 * when the environment has POSTERN_TEST_CRASH_AT=N the process
 * kills itself with SIGKILL just before step N.  N:K kills at the K-th
 * call for step N instead of the first: step 5 is called before the
 * in-place rewrite and again halfway through it, so 5:2 is "killed
 * mid-write".  Recovery calls the same steps (rolling appended mail into a
 * fresh journal runs 1-4, then 10 just before that journal's rename,
 * then 5-9 again).  The variable is read once per process.
 */
#ifdef POSTERN_TEST_HOOKS
void	journal_crash_point(int step);
#else
static inline void
journal_crash_point(int step)
{
	(void)step;
}
#endif

/* The journal path for a maildrop path: "<dir>/.<base>.journal". */
int	journal_path(const char *maildrop, char *buf, size_t len);

/*
 * Rewrites the maildrop (fd, locked, current size old_end) from `from`
 * onward as the concatenation of ranges[0..n) (each inside [from, old_end),
 * ascending).  Returns 0 on success.  On -1 the maildrop is untouched, or
 * a committed journal remains that journal_recover() completes; errstr_r
 * says which and why (ENOSPC, EIO).
 */
int	journal_rewrite(int fd, const char *maildrop, off_t from,
	    const struct journal_range *ranges, size_t n, off_t old_end,
	    char *errstr_r, size_t errlen);

/*
 * Completes or discards a journal left by a crash.  The caller holds the
 * mbox lock on fd.  Returns 1 if a committed journal was applied, 0 if
 * there was none (or an uncommitted one, now removed), -1 on error (the
 * journal is kept; the caller refuses the login with [SYS/TEMP]).
 * A journal not owned by the euid, or not a regular file, is an error.
 */
int	journal_recover(int fd, const char *maildrop, char *errstr_r,
	    size_t errlen);

#endif
