/*
 * maildrop.h: a user's mbox maildrop for one session: confined opening
 * (safeopen.h), the session lock (flock on the maildrop itself), the mbox
 * lock, journal recovery, mmap burst via mbox.c, message streaming via
 * msgio.c, and UPDATE via journal.c with the journal in the user's state
 * directory.  Runs in the session process as the mail user (never root);
 * maildrop_unplant() and maildrop_check_conf() run as root.
 */
#ifndef POSTERN_MAILDROP_H
#define POSTERN_MAILDROP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lock.h"
#include "mbox.h"
#include "msgio.h"

struct maildrop {
	char		 path[PARAM_PATH_MAX];
	char		 dir[PARAM_PATH_MAX];	/* its directory, for messages */
	char		 name[NAME_MAX + 1];	/* its name in dirfd */
	char		 user[PARAM_USER_MAX + 1];	/* for messages */
	int		 fd;		/* -1 when the file did not exist; holds
					   the session lock (flock) */
	int		 dirfd;		/* its directory (confined walk, O_PATH),
					   for the dotlock; -1 with no file */
	int		 jdirfd;	/* the state directory (borrowed) */
	bool		 spool;		/* the directory is not the user's:
					   dotlocks with the mail group */
	struct stat	 st;		/* at burst */
	off_t		 size;		/* bytes scanned at burst */
	struct mbox_scan scan;
	bool		*deleted;	/* per message */
	size_t		 ndeleted;
	uint64_t	 octets;	/* sum over all messages */
	bool		 mboxrd;
	struct lock_conf lock;
	bool		 noatime;	/* opened O_NOATIME: our reads leave
					   the atime alone */
	bool		 read_mail;	/* RETR or TOP sent a message: UPDATE
					   makes the box read as "old" */
};

/* Result codes; the caller maps them to response codes. */
#define MD_OK		0
#define MD_INUSE	1	/* -ERR [IN-USE] */
#define MD_TEMP		2	/* -ERR [SYS/TEMP] */
#define MD_PERM		3	/* -ERR [SYS/PERM] (damaged mailbox...) */

/* What maildrop_open needs besides the path. */
struct maildrop_args {
	const char		*user;		/* canonical name, for messages */
	int			 jdirfd;	/* the user's state directory
						   (privsep_state_dir), borrowed:
						   open until maildrop_close */
	const struct lock_conf	*lock;		/* NULL: the defaults */
	bool			 mboxrd;
	bool			 folder;	/* a POP2 folder: its directory
						   must be the user's, and the
						   mail group is never used */
};

/*
 * Expands a maildrop template: %u user, %% percent, a leading ~/ the
 * home directory (home may be NULL: then ~ is an error).  Returns 0 / -1.
 */
int	maildrop_expand(const char *tmpl, const char *user, const char *home,
	    char *buf, size_t len);

/* An empty maildrop struct (no file, no descriptors): maildrop_close()
 * is safe on it. */
void	maildrop_init(struct maildrop *md);

/*
 * Opens the maildrop at path (absolute) without following a symbolic link
 * at any level (safeopen.h) and checks it: a regular file with one link,
 * owned by the user (the euid), not writable by others nor by a group
 * other than the user's own or, for a spool maildrop, the mail group; for
 * a->folder the directory must be the user's, too (safeopen_check_dir).
 * Then takes the session lock, flock(LOCK_EX | LOCK_NB) on the maildrop
 * itself (it does not conflict with the fcntl and dotlock locks of MDAs,
 * and nothing is created for it), then the mbox lock (dotlock relative to
 * the directory fd; with the mail group only when the directory is not
 * the user's and this is no folder), finishes any committed journal (in
 * a->jdirfd), bursts the file, releases the mbox lock.
 * The file is opened O_NOATIME, so that neither the burst nor RETR changes
 * its atime: only maildrop_update() does.  A missing file is an empty
 * maildrop (nothing is created, no lock is needed).  Returns MD_* with a
 * client-safe reason in errstr_r (the log gets details: which component is
 * a symbolic link and its real path, who owns the file, the offset of a
 * damaged mbox).
 */
int	maildrop_open(struct maildrop *md, const char *path,
	    const struct maildrop_args *a, char *errstr_r, size_t errlen);

/*
 * The first half of maildrop_open(), for pop3d -R: the confined open and
 * checks, the session lock and the mbox lock (into ml), with neither
 * recovery nor burst.  Returns MD_OK with md->fd >= 0 and the mbox lock
 * held (the caller releases it with lock_mbox_release(ml), then calls
 * maildrop_close()), MD_OK with md->fd == -1 for a missing file (nothing
 * is locked), or MD_* with a reason (md closed).
 */
int	maildrop_open_locked(struct maildrop *md, const char *path,
	    const struct maildrop_args *a, struct mbox_lock *ml,
	    char *errstr_r, size_t errlen);

/*
 * Streams message idx (0-based) through msgio with the given body line
 * limit (-1 = all; TOP n) and dot-stuffing as asked, to sink.  Returns 0,
 * or -1 (read error, file changed, or sink failure).
 */
int	maildrop_stream(struct maildrop *md, size_t idx, bool dotstuff,
	    int64_t body_limit, msgio_sink sink, void *arg);

/*
 * UPDATE: takes the mbox lock, checks the file still holds the burst
 * messages (same inode, not shorter, separators unchanged), removes the
 * deleted messages through the journal, keeps mail appended meanwhile,
 * keeps mode/owner/group and the mtime of the last delivery, and sets the
 * times for RMCP and biff (RFC 1339 p.2): atime now if the session read
 * mail (md->read_mail), else as it was before the session; if mail arrived
 * during the session, atime stays just before that delivery's mtime so
 * that the box still reads as "new".  Releases the lock.  With nothing
 * deleted only the times are set.  Returns MD_*; on failure the
 * maildrop is untouched (or will be completed by recovery).  After a
 * successful update that deleted messages the message list is emptied
 * (its offsets no longer describe the file); md stays open until
 * maildrop_close().
 */
int	maildrop_update(struct maildrop *md, char *errstr_r, size_t errlen);

/*
 * Sets session_memory_max for the bursts of this process (default
 * PARAM_SESSION_MEMORY): a maildrop whose message table would need more
 * is refused with MD_PERM, "mailbox too large for this server (N
 * messages)", and logged with the count and the cap.
 */
void	maildrop_set_memory_max(size_t max_bytes);

/* Releases locks and memory (no UPDATE). */
void	maildrop_close(struct maildrop *md);

/*
 * In the root master before the drop: removes a dotlock of the maildrop
 * at path that was planted by another local user (owned neither by root
 * nor by uid, group not mail_gid) from a spool directory (one not owned by
 * uid), where the session could not remove it (a sticky spool).  Best
 * effort; logs what it did.
 */
void	maildrop_unplant(const char *path, uid_t uid, gid_t mail_gid);

struct conf;

/*
 * For pop3d -t and start-up: the fixed directory of the maildrop template
 * (and of an absolute pop2_folder_dir) must not hold a symbolic link at
 * any level (e.g. RHEL's /var/mail -> spool/mail): the message names the
 * real path to configure instead; and state_dir must be usable
 * (privsep_state_dir_check).  Returns 0, or -1 with the message.
 */
int	maildrop_check_conf(const struct conf *c, char *errstr_r,
	    size_t errlen);

/*
 * After the session process that served md died (killed, or ended by
 * an error during UPDATE), the per-connection master, running as the
 * same user and still holding md's open file (and with it the session
 * lock), recovers the maildrop at once: takes the mbox lock (the dead
 * session's dotlock names a pid that is gone, so it is stale and
 * removed: reap that pid first), completes a committed journal, and
 * releases the lock.  md is as maildrop_open left it (the burst is not
 * used).  Returns MD_OK (errstr_r says what was done, for the log),
 * MD_INUSE (the mbox lock stayed held by someone else: the next session
 * recovers), MD_PERM (the journal does not explain the maildrop's
 * content: nothing written, journal kept, pop3d -R decides), or MD_TEMP
 * (the journal is kept; reason in errstr_r).  Never talks to a client:
 * errstr_r may name paths.
 */
int	maildrop_recover(struct maildrop *md, char *errstr_r, size_t errlen);

#endif
