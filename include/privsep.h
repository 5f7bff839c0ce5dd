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

/* In the pre-auth child: closes every descriptor but rfd, wfd (the
 * client), psfd (the hand-off), stderr and the syslog socket; chroot,
 * chdir("/"), setgroups, setresgid, setresuid, then checks that root
 * cannot be regained; then, root or not, sandbox_enter(SANDBOX_PREAUTH):
 * limits, no-new-privs, the seccomp allow-list.  Fatal on any failure
 * (the child must never parse input as root or unconfined). */
void	privsep_drop_preauth(const struct privsep_preauth *p, int rfd,
	    int wfd, int psfd);

struct auth_user;

/* In the session master after a good login: drop to u->uid / u->gid for
 * good (never uid 0) with c->mail_group (getgrnam) as the only
 * supplementary group, so that the session can make dotlocks in a
 * group-writable spool; never root's groups nor the user's own.  A
 * mail_group that does not exist is logged once (per daemon) and the drop
 * goes on without it; "" means none.  Then checks that root cannot be
 * regained and that getgroups() holds only that group.  When not root,
 * changes nothing.  Returns 0, or -1 with a reason (the caller refuses the
 * login). */
int	privsep_drop_user(const struct conf *c, const struct auth_user *u,
	    char *errstr_r, size_t errlen);

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
