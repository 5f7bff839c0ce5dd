/*
 * pop2.h: the POP2 engine (RFC 937, design.md §6).  pop2_auth.c speaks
 * the AUTH state (greeting, HELO) in the pre-auth child, unprivileged in
 * an empty chroot; pop2.c speaks the MBOX, ITEM and NEXT states in the
 * session process as the mail user.  The argument helpers below are pure
 * (no I/O, no state) so that the unit suite and both processes share them.
 */
#ifndef POSTERN_POP2_H
#define POSTERN_POP2_H

#include <stdbool.h>
#include <stddef.h>

#include "session.h"

/* RFC 937 p.22, the server's states (LSTN and DONE need no bit). */
#define POP2_ST_AUTH		0x01	/* before HELO (pre-auth child) */
#define POP2_ST_MBOX		0x02	/* a mailbox selected */
#define POP2_ST_ITEM		0x04	/* after READ or an acknowledgment */
#define POP2_ST_NEXT		0x08	/* after RETR: ACKS, ACKD or NACK */
#define POP2_ST_SELECTED	(POP2_ST_MBOX | POP2_ST_ITEM)

/* The defaults of the POP2 configuration keys (design.md §6; UW ipop2d
 * waits 30 minutes for a command after the login, 3 before it, which is
 * timeout_auth's default). */
#define POP2_FOLDER_DIR_DEFAULT	"~/Mail"
#define POP2_TIMEOUT_SESSION	1800
/* A folder is one file name inside the folder directory (NAME_MAX). */
#define POP2_FOLDER_NAME_MAX	255
/* The name that selects the spool maildrop again (UW's). */
#define POP2_INBOX		"INBOX"

/* Pre-auth child: greeting and HELO; hands the credentials to the
 * master.  Never returns. */
void	pop2_auth_run(struct session *s) __attribute__((noreturn));

/* Session master after a good HELO, as the mail user with the spool
 * maildrop open: answers the HELO ("#nnn") and serves until QUIT,
 * timeout or disconnect.  Closes the maildrop.  Returns the exit
 * status. */
int	pop2_run(struct session *s);

/* The folder directory template and the post-login timeout (seconds)
 * of configuration c, or the defaults above. */
const char *pop2_folder_dir(const struct conf *c);
int	pop2_timeout_session(const struct conf *c);

/*
 * RFC 937 quoting as UW ipop2d accepts it: a backslash makes the next
 * octet literal ("\ " a space, "\\" a backslash, "\x" an x); a backslash
 * that ends the input stands for itself.  Copies in[0, inlen) unquoted
 * into out (NUL-terminated).  Returns the length, or -1 if it does not
 * fit in outlen.
 */
int	pop2_unquote(const char *in, size_t inlen, char *out, size_t outlen);

/*
 * Splits a HELO argument (the rest of the line after "HELO ") into the
 * user, up to the first unquoted space, and the password, the rest of the
 * line after the spaces that follow the user (UW: a password may hold
 * unquoted spaces); both unquoted.  Extra spaces before the user are
 * skipped.  Returns 0, or -1 with a client-safe reason in *why_r (missing
 * user or password, too long).
 */
int	pop2_helo_split(const char *arg, char *user_r, size_t userlen,
	    char *pass_r, size_t passlen, const char **why_r);

/*
 * true if name (already unquoted) may name a folder inside the folder
 * directory: 1-POP2_FOLDER_NAME_MAX octets, no '/', no NUL (len counts
 * every octet), not starting with '.', no control octet (C0, DEL).
 */
bool	pop2_folder_name_ok(const char *name, size_t len);

/* A folder name or path in the log: every octet as \xHH at worst. */
#define POP2_LOG_MAX	(4 * PARAM_PATH_MAX + 8)

/*
 * s as the content of a quoted log field (fold="..."): log_sanitize()d
 * (controls, 8-bit octets and '\\' as \xHH), and each '"' as \x22, so
 * that a folder named `x" user=bob addr=10.9.9.9` can neither end the
 * quotes nor forge fields.  Cut to fit len (ending in "...").  Returns
 * buf.
 */
const char *pop2_log_quote(const char *s, char *buf, size_t len);

/*
 * The path of folder name (checked with pop2_folder_name_ok) in the
 * folder directory template tmpl (maildrop_expand rules: %u, %%, a
 * leading ~/ for home).  Returns 0, or -1 (bad name, bad template, no
 * home for ~, too long).
 */
int	pop2_folder_path(const char *tmpl, const char *user, const char *home,
	    const char *name, char *buf, size_t len);

#endif
