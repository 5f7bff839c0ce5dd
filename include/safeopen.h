/*
 * safeopen.h: confined opening (design.md §1).  Every file a session opens
 * or creates - maildrops, POP2 folders, dotlocks, journals - is reached
 * without following a symbolic link at ANY level of its path, and what was
 * opened is checked (type, owner, link count, who may write it) before it
 * is used.  Runs in whichever process calls it: the root master (the state
 * directory, a planted dotlock) or the session as the mail user.
 */
#ifndef POSTERN_SAFEOPEN_H
#define POSTERN_SAFEOPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* No such group (an owner without a mail group). */
#define SAFEOPEN_NO_GID		((gid_t)-1)

/*
 * Test hook: true makes every open take the component-by-component walk,
 * as on a kernel without openat2(2); false lets openat2 be used again.
 */
void	safeopen_force_walk(bool on);

/*
 * Opens path with open(2) flags (O_NOFOLLOW and O_CLOEXEC are added; mode
 * for O_CREAT) without following a symbolic link at any level: an
 * absolute path is walked from "/", a relative one beneath dirfd (never
 * leaving it).  A ".." component is refused.  Uses openat2(2) with
 * RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH where the kernel has it, else
 * walks component by component (O_PATH | O_NOFOLLOW, each checked to be a
 * directory) and opens the last one with O_NOFOLLOW.  `where` names dirfd
 * in messages (NULL for an absolute path).  Returns the fd, or -1 with
 * errno set (ENOENT: something is missing) and a reason naming the
 * component in errstr_r, e.g. "/var/mail is a symbolic link to
 * spool/mail (its real path is /var/spool/mail)".  A final component that
 * is a symbolic link fails with ELOOP, also under O_PATH.
 */
int	safeopen_at(int dirfd, const char *where, const char *path, int flags,
	    mode_t mode, char *errstr_r, size_t errlen);

/*
 * Opens the directory that holds the last component of the absolute path
 * (O_PATH | O_DIRECTORY, confined as above) and sets *base_r to that
 * component inside path ("alice" of "/var/mail/alice").  Returns the fd or
 * -1 (errno, reason) as safeopen_at; a path ending in '/' or naming "/",
 * "." or ".." has no last component: EINVAL.
 */
int	safeopen_parent(const char *path, const char **base_r, char *errstr_r,
	    size_t errlen);

/* Whom an opened file must belong to. */
struct safeopen_owner {
	const char	*name;		/* the user, for messages */
	uid_t		 uid;
	gid_t		 gid;		/* the user's own group */
	gid_t		 mail_gid;	/* SAFEOPEN_NO_GID: none */
};

/* Fills o for the calling process: the euid, the real gid, mail_gid
 * (the mail group the caller trusts, or SAFEOPEN_NO_GID) and name. */
void	safeopen_owner_self(struct safeopen_owner *o, const char *name,
	    gid_t mail_gid);

/* How a regular file is checked. */
#define SAFEOPEN_SPOOL	0x01	/* a spool maildrop: its group may be the
				   mail group (Debian's user:mail 0660) */

/*
 * Checks the open file fd (path for messages): a regular file, one link
 * (st_nlink == 1: no hard link to someone else's file), owned by o->uid,
 * not writable by others, and group-writable only when its group is the
 * user's own (or, with SAFEOPEN_SPOOL, the mail group).  Fills *st_r.
 * Returns 0, or -1 with a reason for the log.
 */
int	safeopen_check_file(int fd, const char *path,
	    const struct safeopen_owner *o, int how, struct stat *st_r,
	    char *errstr_r, size_t errlen);

/*
 * Checks the open directory fd (path for messages): a directory owned by
 * o->uid, not writable by others, group-writable only when its group is
 * the user's own.  Fills *st_r.  Returns 0, or -1 with a reason.
 */
int	safeopen_check_dir(int fd, const char *path,
	    const struct safeopen_owner *o, struct stat *st_r, char *errstr_r,
	    size_t errlen);

#endif
