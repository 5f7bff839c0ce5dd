/*
 * auth.h: the only caller of crypt(3).  Users come from the databases
 * named by the userdb key, in order: a passwd-file of
 * "name:crypt-hash:uid:gid[:maildrop]" lines, the system accounts
 * (getpwnam + getspnam, shadow(5)), and PAM (make PAM=1; auth_pam.c).
 * Hygiene (style.md 5): an unknown, locked or refused user still costs one
 * crypt() on a dummy hash of the dearest method in use (or one PAM
 * attempt), every failure lasts the same (auth_timing.h), a NULL or '*'
 * result is failure, the comparison is constant-time, and the password is
 * wiped.  Runs in the session master (root or the invoking user), never in
 * the pre-auth child.
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <sys/types.h>

#include <crypt.h>
#include <stdbool.h>
#include <stddef.h>

#include "params.h"

/* The longest passwd-file line, without its newline: name:hash:uid:gid:
 * maildrop, each at its bound, plus separators. */
#define AUTH_LINE_MAX		(PARAM_USER_MAX + CRYPT_OUTPUT_SIZE + \
				 2 * 10 + PARAM_PATH_MAX + 8)

/* One entry of the passwd-file, as auth_parse_line reads it.  It holds a
 * hash: whoever fills one wipes it (explicit_bzero) when done. */
struct auth_entry {
	char	 name[PARAM_USER_MAX + 1];	/* auth_valid_username */
	char	 hash[CRYPT_OUTPUT_SIZE];	/* as written; may be locked */
	uid_t	 uid;
	gid_t	 gid;
	char	 maildrop[PARAM_PATH_MAX];	/* absolute, or "" */
};

struct auth_user {
	char	 name[PARAM_USER_MAX + 1];	/* the account's own name
						   (pw_name, the passwd-
						   file's), not the one
						   typed: for %u, locks and
						   logs */
	uid_t	 uid;
	gid_t	 gid;
	char	 maildrop[PARAM_PATH_MAX];	/* absolute, used as is; ""
						   when not set */
	char	 home[PARAM_PATH_MAX];		/* system and PAM users:
						   pw_dir; passwd-file users:
						   getpwuid(uid)'s; "" when
						   unknown */
};

#define AUTH_OK		0
#define AUTH_FAIL	1	/* unknown user, bad password, locked,
				   expired or refused account */
#define AUTH_ERROR	(-1)	/* cannot read the passwd-file or shadow,
				   PAM unavailable */

/*
 * Checks user/pass against passwd_file.  Always runs crypt() once, and
 * pads a failure to the floor of auth_timing.c.
 * On AUTH_OK fills *u.  On AUTH_FAIL or AUTH_ERROR a log-only reason goes
 * to errstr_r (never the password).  Wipes nothing: the caller owns and
 * wipes pass.
 */
int	auth_check(const char *passwd_file, const char *user,
	    const char *pass, struct auth_user *u, char *errstr_r,
	    size_t errlen);

struct conf;

/*
 * Checks a login against the user databases of c->userdb, in order: the
 * first database that knows the user decides, and a user no database
 * knows fails after one crypt on the dummy hash.  Same results and hygiene
 * as auth_check: exactly one crypt (or, for a PAM user, one PAM attempt)
 * on every path, and every failure padded to one floor (auth_timing.c),
 * a success not.  Refuses, whatever the password: uid 0 in every
 * database; locked accounts; for system users an expired account
 * (sp_expire) or password (sp_lstchg 0, or sp_lstchg + sp_max before
 * today); for system and PAM users a login shell listed in
 * c->nologin_shells (an empty pw_shell counts as /bin/sh).  System and PAM
 * users get u->name from pw_name (refused if it is no valid user name:
 * where NSS ignores case, "ALICE" logs in as alice), u->maildrop "" (the
 * c->maildrop template applies) and u->home from pw_dir; shadow and PAM
 * are asked with pw_name too.  PAM knows a user when getpwnam does (PAM
 * itself cannot tell an unknown user from a bad password); locking and
 * aging are then PAM's to judge.  rhost is the client's address for
 * PAM_RHOST, or NULL.  The reason of a refusal goes to errstr_r for the
 * log only, tagged with the database that decided, e.g. "locked account
 * (system)".
 */
int	auth_login(const struct conf *c, const char *user, const char *pass,
	    const char *rhost, struct auth_user *u, char *errstr_r,
	    size_t errlen);

/*
 * Measures, before any check, the cost of one crypt of each hash method
 * in use in c's user databases (auth_timing.c), as the first auth_login
 * of a process does anyway.  Optional: a long-lived parent (the listener,
 * at start-up and after SIGHUP) may call it so that the session masters
 * it forks inherit the costs and measure only what is new to them.
 */
void	auth_prepare(const struct conf *c);

/*
 * Makes a crypt(3) hash of pass with a fresh salt of the preferred method
 * (yescrypt where libxcrypt has it, else SHA-512).  Returns 0 / -1.
 */
int	auth_make_hash(const char *pass, char *buf, size_t len);

/*
 * Parses one passwd-file line, "name:crypt-hash:uid:gid[:maildrop]": the
 * one parser of the file, for pop3d's logins and rmcpd's users alike.
 * line holds len bytes without the newline (and without a '\r' before
 * it), and line[len] is '\0'; its ':' separators are overwritten.
 * Returns 1 with *e filled; 0 for a blank line or a comment ('#' after
 * optional blanks); -1 for a malformed line, with a static reason for the
 * log in *why_r (never a hash), *e then partly written.  Malformed, in
 * order: longer than AUTH_LINE_MAX or holding a NUL byte (a comment too),
 * not 4 or 5 fields, an invalid user name (auth_valid_username), a hash
 * of CRYPT_OUTPUT_SIZE bytes or more, a uid or gid that is not plain
 * decimal below 2^32 - 1, a maildrop that is neither empty nor an
 * absolute path shorter than PARAM_PATH_MAX.  A locked hash
 * (auth_hash_locked) or uid 0 is well formed: the callers refuse those
 * accounts, and such a line still counts as the user's first.
 */
int	auth_parse_line(char *line, size_t len, struct auth_entry *e,
	    const char **why_r);

/* true if a hash from the passwd-file, shadow or the RMCP secrets file
 * locks its account: empty, or starting with '*' or '!'. */
bool	auth_hash_locked(const char *hash);

/* Validates a user name before it goes anywhere near a path: 1-64 of
 * [A-Za-z0-9._-], not starting with '.' or '-'. */
bool	auth_valid_username(const char *name, size_t len);

/*
 * Checks phrase against a crypt(3) hash with exactly one crypt() and a
 * constant-time comparison; with hash NULL, crypt() runs on a dummy
 * setting of the preferred method and the answer is false (no timing
 * difference for a missing secret).  For secrets other than login
 * passwords (rmcpd's); the caller wipes phrase.
 */
bool	auth_verify(const char *phrase, const char *hash);

/* true if shell is one of c->nologin_shells (an empty shell is /bin/sh):
 * such system and PAM users are refused. */
bool	auth_shell_refused(const struct conf *c, const char *shell);

/* Constant-time comparison of a[0, n) and b[0, n). */
bool	auth_ct_equal(const void *a, const void *b, size_t n);

#endif
