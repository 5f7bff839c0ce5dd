/*
 * lock.h: the mbox lock of design.md §2: fcntl F_SETLK on the mbox, then
 * the NFS-safe <mbox>.lock dotlock (Debian policy's order; configurable),
 * bounded non-blocking retries with backoff.  Every dotlock operation is
 * made relative to the maildrop's directory fd, obtained by a confined
 * walk (safeopen.h), with *at() calls that never follow a link; the mail
 * group is switched on only around creating, linking and unlinking a
 * dotlock in the spool directory.  (The session lock is an flock() on the
 * maildrop itself: maildrop.c.)  Runs in the session process as the mail
 * user; lock_unplant() in the root master before it drops.
 */
#ifndef POSTERN_LOCK_H
#define POSTERN_LOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "params.h"

#define LOCK_FCNTL	0x01
#define LOCK_DOTLOCK	0x02

struct lock_conf {
	int	 order[2];	/* LOCK_FCNTL / LOCK_DOTLOCK / 0, in order */
	int	 timeout;	/* seconds in all before giving up */
	int	 stale;		/* seconds untouched before a dotlock is
				   stale (when the fcntl lock can be had) */
};

/* What is locked, and who may own a dotlock we respect. */
struct lock_target {
	int		 fd;		/* the open mbox */
	int		 dirfd;		/* its directory (a confined open) */
	const char	*dir;		/* that directory's path, for messages */
	const char	*name;		/* the mbox's name in dirfd */
	bool		 spool;		/* a spool directory: dotlocks are made
					   and removed with the mail group */
	uid_t		 uid;		/* the user */
	gid_t		 mail_gid;	/* (gid_t)-1: none */
};

struct mbox_lock {
	int	 fd;		/* the mbox, opened by the caller */
	int	 dirfd;		/* its directory, owned by the caller */
	bool	 spool;
	uid_t	 uid;
	gid_t	 mail_gid;	/* vouches for a dotlock's maker; -1 where
				   the directory gives every file that
				   group (set-gid to it) */
	bool	 have_fcntl;
	bool	 have_dotlock;
	bool	 empty_dotlock;	/* made without content (a full disk) */
	bool	 planted;	/* an untrusted dotlock stands in its place */
	dev_t	 lock_dev;	/* of our dotlock */
	ino_t	 lock_ino;
	int	 order[2];	/* as taken, for release in reverse */
	char	 dotlock[NAME_MAX + 1];		/* "<mbox>.lock" in dirfd */
	char	 shown[PARAM_PATH_MAX];		/* its path, for messages */
};

/* Results of the acquiring functions. */
#define LOCK_OK		0
#define LOCK_BUSY	1	/* held by someone else past the timeout */
#define LOCK_ERROR	(-1)	/* system error; reason in errstr_r */

void	lock_conf_default(struct lock_conf *c);
/* Parses "fcntl dotlock" (either order, one or both).  Returns 0 / -1. */
int	lock_conf_parse_order(struct lock_conf *c, const char *s);

/*
 * Takes the mbox lock on t->fd by c's methods in c's order.  The dotlock
 * "<t->name>.lock" is made in t->dirfd (unique temp file, linkat, link
 * count); when the disk is full (ENOSPC, EDQUOT) an empty dotlock is made
 * directly (O_CREAT | O_EXCL), judged stale by its age alone.  An existing
 * dotlock is respected only when it belongs to root, to the user or to
 * the mail group (unless the directory is set-gid to the mail group, which
 * then proves nothing); any other one was planted: it is removed where we
 * may,
 * and where we may not (a sticky spool) we go on with the fcntl lock alone
 * when that is among c's methods (the planted file keeps dotlock users out
 * meanwhile), else LOCK_BUSY.  Returns LOCK_OK (l filled; t->dirfd must
 * stay open until the release), LOCK_BUSY or LOCK_ERROR.  On failure
 * nothing is held.
 */
int	lock_mbox(struct mbox_lock *l, const struct lock_target *t,
	    const struct lock_conf *c, char *errstr_r, size_t errlen);
/* Refreshes the dotlock's mtime during long updates. */
void	lock_mbox_touch(struct mbox_lock *l);
/* Releases in reverse order.  Safe on a lock not held. */
void	lock_mbox_release(struct mbox_lock *l);

/*
 * In the root master before the drop: removes "<name>.lock" from dirfd
 * (dir for the log) when it is owned neither by root nor by uid and its
 * group is not mail_gid - planted by another local user in a sticky spool,
 * where the session could not remove it.  Returns 1 if one was removed,
 * 0 if there was none to remove, -1 on error (logged; the session goes on
 * and decides).
 */
int	lock_unplant(int dirfd, const char *dir, const char *name, uid_t uid,
	    gid_t mail_gid);

/*
 * With l held: removes the temp files "<mbox>.lock.<host>.<pid>.<8 hex>"
 * that dotlock attempts of processes of this host, now dead, left in l's
 * directory (a kill -9 between creating the temp file and unlinking it),
 * if they are owned by the euid; a live process's are its own.  For the
 * master after a dead session (maildrop_recover).  Reads the directory:
 * not for every lock.  Returns how many it removed (each is logged).
 */
int	lock_mbox_sweep(struct mbox_lock *l);

#endif
