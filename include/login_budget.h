/*
 * login_budget.h: the bounds of the whole AUTHORIZATION state, beside the
 * per-line timeout_auth: its total time (timeout_auth_total), the lines a
 * client may send before login (auth_max_commands) and how many of them
 * may be bad (auth_max_errors).  Without them a client sending CAPA every
 * few seconds holds a session slot for ever.  Used by the pre-auth
 * engines (pop3_auth.c, pop2_auth.c) in the pre-auth child, as the
 * unprivileged pre-auth user.
 */
#ifndef POSTERN_LOGIN_BUDGET_H
#define POSTERN_LOGIN_BUDGET_H

#include <stdbool.h>

#include "conf.h"

struct session;

/* Which limit was reached. */
#define LOGIN_LIMIT_NONE	0
#define LOGIN_LIMIT_TIME	1	/* timeout_auth_total */
#define LOGIN_LIMIT_COMMANDS	2	/* auth_max_commands */
#define LOGIN_LIMIT_ERRORS	3	/* auth_max_errors */

struct login_budget {
	const struct conf *conf;
	long long	 deadline_ms;	/* CLOCK_MONOTONIC, ms */
	int		 commands;	/* lines read, good or bad */
	int		 errors;	/* bad lines */
	int		 limit;		/* LOGIN_LIMIT_* reached */
};

/* Starts the clock of the AUTHORIZATION state (at the greeting). */
void	login_budget_start(struct login_budget *b, const struct conf *c);

/* How long the next read or write may wait, in ms: timeout_auth, or what
 * is left of timeout_auth_total when that is less (0 when none is). */
int	login_budget_wait_ms(const struct login_budget *b);

/* After a read timed out: true if the whole state's time is up (then
 * b->limit is LOGIN_LIMIT_TIME), false if it was only the per-line
 * timeout. */
bool	login_budget_expired(struct login_budget *b);

/* Counts one more line from the client (a command, an overlong line):
 * true if it is one too many (then b->limit is LOGIN_LIMIT_COMMANDS and
 * the line must not run). */
bool	login_budget_command(struct login_budget *b);

/* Counts one more bad line (unknown, refused, wrong state or arguments):
 * true if it is one too many (then b->limit is LOGIN_LIMIT_ERRORS and its
 * usual reply is not sent). */
bool	login_budget_error(struct login_budget *b);

/*
 * Ends the session for the limit b->limit: one reply, prefix ("-ERR"
 * for POP3, "-" for POP2) and a text naming the limit, and one log line
 * with the session's fields; sets s->end.  The caller closes.
 */
void	login_budget_refuse(const struct login_budget *b, struct session *s,
	    const char *prefix);

#endif
