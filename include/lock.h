/*
 * lock.h: the two maildrop locks of design.md §2.
 *  - the short mbox lock: fcntl F_SETLK on the mbox, then the NFS-safe
 *    <mbox>.lock dotlock (Debian policy's order; configurable), bounded
 *    non-blocking retries with backoff;
 *  - the session lock: an fcntl lock on a separate file held for the whole
 *    POP session, so two sessions never interleave while MDAs keep
 *    delivering.
 * Runs in the session process as the mail user.
 */
#ifndef POSTERN_LOCK_H
#define POSTERN_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "params.h"

#define LOCK_FCNTL	0x01
#define LOCK_DOTLOCK	0x02

struct lock_conf {
	int	 order[2];	/* LOCK_FCNTL / LOCK_DOTLOCK / 0, in order */
	int	 timeout;	/* seconds in all before giving up */
	int	 stale;		/* seconds untouched before a dotlock is
				   stale (when the fcntl lock can be had) */
};

struct mbox_lock {
	int	 fd;		/* the mbox, opened by the caller */
	bool	 have_fcntl;
	bool	 have_dotlock;
	int	 order[2];	/* as taken, for release in reverse */
	char	 dotlock[PARAM_PATH_MAX];
};

/* Results of the acquiring functions. */
#define LOCK_OK		0
#define LOCK_BUSY	1	/* held by someone else past the timeout */
#define LOCK_ERROR	(-1)	/* system error; reason in errstr_r */

void	lock_conf_default(struct lock_conf *c);
/* Parses "fcntl dotlock" (either order, one or both).  Returns 0 / -1. */
int	lock_conf_parse_order(struct lock_conf *c, const char *s);

/*
 * Takes the mbox lock on fd (the open maildrop at path) by c's methods in
 * c's order.  Returns LOCK_OK (l filled), LOCK_BUSY or LOCK_ERROR.  On
 * failure nothing is held.
 */
int	lock_mbox(struct mbox_lock *l, int fd, const char *path,
	    const struct lock_conf *c, char *errstr_r, size_t errlen);
/* Refreshes the dotlock's mtime during long updates. */
void	lock_mbox_touch(struct mbox_lock *l);
/* Releases in reverse order.  Safe on a lock not held. */
void	lock_mbox_release(struct mbox_lock *l);

/*
 * Takes the session lock file at path (created 0600 if missing; must be a
 * regular file owned by the caller's euid, never a symlink).  Returns the
 * held fd (>= 0), or -1 with *busy_r true if another session holds it, or
 * -1 with *busy_r false and a reason on error.
 */
int	lock_session(const char *path, bool *busy_r, char *errstr_r,
	    size_t errlen);
void	lock_session_release(int fd);

#endif
