/*
 * maildrop.h: a user's mbox maildrop for one session: session lock, mbox
 * lock, journal recovery, mmap burst via mbox.c, message streaming via
 * msgio.c, and UPDATE via journal.c.  Runs in the session process as the
 * mail user (never root).
 */
#ifndef POSTERN_MAILDROP_H
#define POSTERN_MAILDROP_H

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
	int		 fd;		/* -1 when the file did not exist */
	int		 session_fd;	/* session lock */
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

/*
 * Expands a maildrop template: %u user, %% percent, a leading ~/ the
 * home directory (home may be NULL: then ~ is an error).  Returns 0 / -1.
 */
int	maildrop_expand(const char *tmpl, const char *user, const char *home,
	    char *buf, size_t len);

/*
 * Opens the maildrop at path: takes the session lock, then the mbox lock,
 * finishes any committed journal, bursts the file, releases the mbox lock.
 * The file is opened O_NOATIME where the kernel allows it (the owner, or
 * root), so that neither the burst nor RETR changes its atime: only
 * maildrop_update() does.
 * A missing file is an empty maildrop.  Returns MD_* with a client-safe
 * reason in errstr_r (the log gets details, including the offset of a
 * damaged mbox).
 */
int	maildrop_open(struct maildrop *md, const char *path,
	    const struct lock_conf *lc, bool mboxrd, char *errstr_r,
	    size_t errlen);

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

/* Releases locks and memory (no UPDATE). */
void	maildrop_close(struct maildrop *md);

/* Session lock path: "<dir>/.<base>.pop". */
int	maildrop_session_lock_path(const char *path, char *buf, size_t len);

/*
 * After the session process that served md died (killed, or ended by
 * an error during UPDATE), the per-connection master, running as the
 * same user and still holding md's open file (and with it the session
 * lock), recovers the maildrop at once: takes the mbox lock (the dead
 * session's dotlock names a pid that is gone, so it is stale and
 * removed: reap that pid first), completes a committed journal, and
 * releases the lock.  md needs only fd, path and lock (no burst).
 * Returns MD_OK (errstr_r says what was done, for the log), MD_INUSE
 * (the mbox lock stayed held by someone else: the next session
 * recovers), or MD_TEMP (the journal is kept; reason in errstr_r).
 * Never talks to a client: errstr_r may name paths.
 */
int	maildrop_recover(struct maildrop *md, char *errstr_r, size_t errlen);

#endif
