/*
 * privsep.h: the privilege boundary (design.md §1).  The ONLY module that
 * calls chroot, setgroups, setresgid and setresuid, and the one that
 * carries credentials from the pre-auth child to the session master.
 */
#ifndef POSTERN_PRIVSEP_H
#define POSTERN_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "params.h"

struct conf;

/* Who the pre-auth child becomes, resolved before any fork or chroot. */
struct privsep_preauth {
	bool	 as_root;	/* false: not started as root, no drop */
	uid_t	 uid;
	gid_t	 gid;
	char	 chroot_dir[PARAM_PATH_MAX];
};

/*
 * Resolves and checks the pre-auth user and chroot from the config:
 * refuses a missing user, uid 0 / gid 0, a chroot that is not an absolute,
 * empty, root-owned directory writable by nobody else.  A mail_group that
 * does not exist is logged here once (a warning, not an error).  When not
 * root, fills as_root = false and succeeds.  Returns 0, or -1 with a
 * reason.
 */
int	privsep_preauth_init(const struct conf *c, struct privsep_preauth *p,
	    char *errstr_r, size_t errlen);

/* In the pre-auth child: chroot, chdir("/"), setgroups, setresgid,
 * setresuid, then checks that root cannot be regained.  Fatal on any
 * failure (the child must never parse input as root). */
void	privsep_drop_preauth(const struct privsep_preauth *p);

struct auth_user;

/*
 * In the session master after a good login: drops to u->uid / u->gid for
 * good (never uid 0) with NO supplementary group, and c->mail_group
 * (getgrnam) only as the saved set-group-ID: setresgid(gid, gid, mail),
 * so that privsep_mail_group() can switch the effective gid to it around
 * the dotlock operations in the spool and nothing else runs with it
 * (INTERFACES 5).  A mail_group that does not exist is logged once (per
 * daemon) and the drop goes on without it; "" means none.  Then checks
 * that root cannot be regained and that the ids and the (empty) groups are
 * the ones dropped to.  When not root, changes nothing (but still records
 * the mail group for privsep_mail_gid()).  Returns 0, or -1 with a reason
 * (the caller refuses the login).
 */
int	privsep_drop_user(const struct conf *c, const struct auth_user *u,
	    char *errstr_r, size_t errlen);

/* c->mail_group's gid, or (gid_t)-1 when none is configured or it does
 * not exist (logged once). */
gid_t	privsep_conf_mail_gid(const struct conf *c);

/* The mail group's gid recorded by privsep_drop_user (a trusted group for
 * maildrop and dotlock checks), or (gid_t)-1 when there is none. */
gid_t	privsep_mail_gid(void);

/*
 * After privsep_drop_user: true switches the effective gid to the mail
 * group (the saved set-group-ID), false back to the user's gid.  Only
 * lock.c calls it, around creating, linking and unlinking a dotlock in
 * the spool directory.  A no-op when no mail group was kept (or not
 * root).  Returns 0, or -1 (the caller gives up the operation and, for
 * false, the session: it must not go on with the mail group).
 */
int	privsep_mail_group(bool on);

/*
 * Checks c->state_dir (at start-up and by pop3d -t): reached without a
 * symbolic link at any level, a directory; as root owned by root and
 * writable by nobody else, else owned by the euid.  Returns 0, or -1 with
 * a reason that says how to fix it.
 */
int	privsep_state_dir_check(const struct conf *c, char *errstr_r,
	    size_t errlen);

/*
 * In the session master before privsep_drop_user: the user's state
 * directory <state_dir>/<name> (name: the canonical user name), where the
 * journals live (INTERFACES 2).  Checks state_dir as above; creates <name>
 * if missing (mode 0700, owner u->uid:u->gid as root, else the euid's)
 * and refuses it unless it is a real directory owned by the user with no
 * group or other access.  Returns its O_RDONLY | O_DIRECTORY fd
 * (close-on-exec; the caller owns it), or -1 with a reason for the log.
 */
int	privsep_state_dir(const struct conf *c, const struct auth_user *u,
	    const char *name, char *errstr_r, size_t errlen);

/* The hand-off: the child sends user, password and the unread pipelined
 * input; the master answers with a verdict. */
struct privsep_creds {
	char	 user[PARAM_USER_MAX + 1];
	char	 pass[PARAM_PASS_MAX + 1];
	char	 pending[PARAM_LINE_MAX];
	size_t	 pending_len;
};

#define PRIVSEP_OK	0	/* the master serves the client now */
#define PRIVSEP_FAIL	1	/* bad credentials: child replies, goes on */
#define PRIVSEP_CLOSE	2	/* child sends the text and closes */

/* Child side: sends creds, waits for the verdict and its reply text.
 * Returns PRIVSEP_* or -1 (master gone). */
int	privsep_send_creds(int fd, const struct privsep_creds *cr,
	    char *text_r, size_t textlen);
/* Master side: reads creds from the untrusted child, bounding every
 * length.  Returns 0, or -1 (child gone or malformed message). */
int	privsep_recv_creds(int fd, struct privsep_creds *cr);
/* Master side: sends the verdict and its reply text.  Returns 0 / -1. */
int	privsep_send_verdict(int fd, int verdict, const char *text);

#endif
