/*
 * journal.h: the crash-safe in-place rewrite of a maildrop's tail and its
 * recovery (design.md §2 "UPDATE without loss").
 *
 * An update replaces the file's bytes from offset `from` onward by the
 * concatenation of the kept ranges (old file offsets) given.  Steps:
 *  1 create the journal (O_EXCL, 0600, in the journal directory)
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
 * The journal lives in a directory the caller opened (O_RDONLY |
 * O_DIRECTORY: the user's state directory, never the spool): every journal
 * file is created, opened, renamed and removed relative to that fd with
 * O_NOFOLLOW, and an opened journal must be a regular file with one link
 * owned by the euid.  Its name is journal_name(maildrop path); the roll of
 * appended mail uses that name plus ".tmp".
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
 * Test hook: when the environment has POSTERN_TEST_CRASH_AT=N the process
 * kills itself with SIGKILL just before step N.  N:K kills at the K-th
 * call for step N instead of the first: step 5 is called before the
 * in-place rewrite and again halfway through it, so 5:2 is "killed
 * mid-write".  Recovery calls the same steps (rolling appended mail into a
 * fresh journal runs 1-4, then 10 just before that journal's rename,
 * then 5-9 again).  The variable is read once per process.
 */
void	journal_crash_point(int step);

/*
 * The journal's file name for an absolute maildrop path: 16 hex digits of
 * SHA-256(path) and ".journal" (25 bytes with the NUL), so that INBOX and
 * every POP2 folder of a user have their own journal in one directory.
 * Returns 0, or -1 (path not absolute, or buf too small).
 */
int	journal_name(const char *maildrop, char *buf, size_t len);

/* journal_recover: the maildrop's current bytes are not explained by the
 * journal (another program changed it); nothing was written. */
#define JOURNAL_FOREIGN	(-2)

/*
 * Rewrites the maildrop (fd, locked, current size old_end, at the path
 * maildrop) from `from`
 * onward as the concatenation of ranges[0..n) (each inside [from, old_end),
 * ascending).  Returns 0 on success.  On -1 the maildrop is untouched, or
 * a committed journal remains that journal_recover() completes; errstr_r
 * says which and why (ENOSPC, EIO).
 */
int	journal_rewrite(int fd, int jdirfd, const char *jname,
	    const char *maildrop, off_t from,
	    const struct journal_range *ranges, size_t n, off_t old_end,
	    char *errstr_r, size_t errlen);

/*
 * Completes or discards a journal left by a crash.  The caller holds the
 * mbox lock on fd.  Returns 1 if a committed journal was applied, 0 if
 * there was none (or an uncommitted one, now removed), -1 on error (the
 * journal is kept; the caller refuses the login with [SYS/TEMP]),
 * JOURNAL_FOREIGN (nothing written, journal kept; the caller refuses the
 * login with [SYS/PERM] and logs both paths and the "pop3d -R" hint).
 * A journal that is a symlink, not a regular file, has other links or is
 * not owned by the euid is an error.
 */
int	journal_recover(int fd, int jdirfd, const char *jname,
	    const char *maildrop, char *errstr_r, size_t errlen);

#endif
