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
 * The journal records from, new_end, old_end, the maildrop's path, device
 * and inode, and a digest of the old bytes of every 4 KiB block of
 * [from, old_end) (cut at new_end too).  After a crash, recovery first
 * checks that the file's bytes are explained by the journal: each block of
 * [from, new_end) holds the journal's new content or the old one (a torn
 * or half-synced rewrite), and [new_end, old_end) still holds the old bytes
 * (the truncate had not happened: mail appended since starts at old_end)
 * or, only if the whole region is new, anything (the truncate had
 * happened: everything past new_end was appended since).  If so it redoes
 * step 5 and goes on; appended bytes are kept by rolling them into a fresh
 * journal first, so recovery itself is crash-safe at every instant.  If
 * not (a journal-unaware program such as a MUA changed the file after the
 * crash), it writes nothing and keeps the journal for the administrator
 * (pop3d -R).
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "params.h"

struct journal_range {
	off_t	 off;
	off_t	 len;
};

/* journal_state.status */
#define JOURNAL_NONE		0	/* no journal */
#define JOURNAL_UNCOMMITTED	1	/* torn before its commit: recovery
					   removes it, the maildrop is as it
					   was */
#define JOURNAL_COMMITTED	2
#define JOURNAL_DAMAGED		3	/* committed but damaged, or not a
					   file recovery may use: reason */

/* How a part of the maildrop compares with the journal. */
#define JOURNAL_PART_EMPTY	0	/* the part has no bytes */
#define JOURNAL_PART_NEW	1	/* every block holds the new content */
#define JOURNAL_PART_OLD	2	/* every block holds the old content */
#define JOURNAL_PART_MIXED	3	/* each block new or old: a torn
					   rewrite */
#define JOURNAL_PART_FOREIGN	4	/* a block holds neither (at *_at) */
#define JOURNAL_PART_SHORT	5	/* the file ends before the part's
					   end (at *_at = the size) */

/* What journal_inspect() found: the admin's view (pop3d -R). */
struct journal_state {
	int		 status;	/* JOURNAL_NONE ... */
	char		 recorded[PARAM_PATH_MAX]; /* maildrop path in it */
	uint64_t	 dev;		/* recorded device and inode */
	uint64_t	 ino;
	uint64_t	 cur_dev;	/* the maildrop's now */
	uint64_t	 cur_ino;
	off_t		 from;		/* the rewritten region */
	off_t		 new_end;
	off_t		 old_end;
	off_t		 size;		/* the maildrop's size now */
	int		 region;	/* [from, new_end): JOURNAL_PART_* */
	off_t		 region_at;	/* first foreign block, or (NEW
					   excepted) the first old one */
	int		 tail;		/* [new_end, old_end): EMPTY, OLD,
					   FOREIGN (not the old bytes),
					   SHORT */
	off_t		 tail_at;	/* first offset not old */
	bool		 explained;	/* journal_recover() would apply it */
	bool		 truncated;	/* the reading: the truncate had
					   happened */
	off_t		 appended;	/* mail appended since the crash:
					   past old_end, or past new_end if
					   truncated */
	char		 reason[256];	/* why not explained (or damaged) */
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

/*
 * Reads the journal and compares the maildrop with it, writing nothing:
 * fills js.  The caller holds the mbox lock on fd.  Returns 0 (js says
 * what was found, also for a missing, torn or damaged journal), or -1
 * with errstr_r set (fstat of fd or out of memory).
 */
int	journal_inspect(int fd, int jdirfd, const char *jname,
	    const char *maildrop, struct journal_state *js, char *errstr_r,
	    size_t errlen);

/*
 * pop3d -R ... apply: like journal_recover(), but applies a committed
 * journal even when the maildrop's bytes are not explained by it (the
 * administrator says the journal is right): writes its new content over
 * [from, new_end); then, if [new_end, old_end) still holds the old bytes,
 * keeps mail appended past old_end (moved to new_end) and truncates the
 * rest, otherwise keeps everything past new_end as it is, exactly as
 * recovery does after a truncate.  Refuses (JOURNAL_FOREIGN, nothing
 * written) a maildrop shorter than `from` (the journal does not hold the
 * bytes before it) and a journal recorded for another path.  Returns as
 * journal_recover().
 */
int	journal_force(int fd, int jdirfd, const char *jname,
	    const char *maildrop, char *errstr_r, size_t errlen);

/*
 * pop3d -R ... discard: removes the journal (and a temp one) whatever it
 * holds, leaving the maildrop as it is.  The caller holds the mbox lock.
 * Returns 1 (removed), 0 (there was none) or -1 with errstr_r set.
 */
int	journal_discard(int jdirfd, const char *jname, char *errstr_r,
	    size_t errlen);

#endif
