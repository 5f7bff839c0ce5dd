/*
 * login_budget.c: the bounds of the whole AUTHORIZATION state (total time,
 * lines, bad lines) that the pre-auth engines of POP3 and POP2 share, so
 * that a client can hold a session slot only as long as a login takes:
 * timeout_auth alone bounds one line, and a client sending CAPA every few
 * seconds would otherwise stay for ever (20 addresses would hold all 200
 * slots).  Runs in the pre-auth child, as the unprivileged pre-auth user.
 */
#include <stdio.h>
#include <time.h>

#include "conf.h"
#include "log.h"
#include "login_budget.h"
#include "session.h"

/* Per LOGIN_LIMIT_*: the key that sets it, and what the client is told. */
static const struct {
	const char	*key;
	const char	*text;
} limits[] = {
	{ NULL,			NULL },
	{ "timeout_auth_total",	"login took too long" },
	{ "auth_max_commands",	"too many commands before login" },
	{ "auth_max_errors",	"too many bad commands before login" },
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
login_budget_start(struct login_budget *b, const struct conf *c)
{
	b->conf = c;
	b->deadline_ms = mono_ms() + (long long)c->timeout_auth_total * 1000;
	b->commands = 0;
	b->errors = 0;
	b->limit = LOGIN_LIMIT_NONE;
}

int
login_budget_wait_ms(const struct login_budget *b)
{
	long long left = b->deadline_ms - mono_ms();
	long long line = (long long)b->conf->timeout_auth * 1000;

	if (left < 0)
		left = 0;
	return (int)(left < line ? left : line);
}

bool
login_budget_expired(struct login_budget *b)
{
	if (mono_ms() < b->deadline_ms)
		return false;
	b->limit = LOGIN_LIMIT_TIME;
	return true;
}

/* One more of counter *n: true (with b->limit) if it passes max. */
static bool
spend(struct login_budget *b, int *n, int max, int limit)
{
	if (++*n <= max)
		return false;
	b->limit = limit;
	return true;
}

bool
login_budget_command(struct login_budget *b)
{
	return spend(b, &b->commands, b->conf->auth_max_commands,
	    LOGIN_LIMIT_COMMANDS);
}

bool
login_budget_error(struct login_budget *b)
{
	return spend(b, &b->errors, b->conf->auth_max_errors,
	    LOGIN_LIMIT_ERRORS);
}

void
login_budget_refuse(const struct login_budget *b, struct session *s,
    const char *prefix)
{
	const struct conf *c = b->conf;
	int max;

	switch (b->limit) {
	case LOGIN_LIMIT_TIME:
		max = c->timeout_auth_total;
		break;
	case LOGIN_LIMIT_COMMANDS:
		max = c->auth_max_commands;
		break;
	case LOGIN_LIMIT_ERRORS:
		max = c->auth_max_errors;
		break;
	default:
		return;		/* a caller's bug; nothing to say */
	}
	session_reply(s, "%s %s (%s = %d); closing", prefix,
	    limits[b->limit].text, limits[b->limit].key, max);
	log_notice("login limit reached user=%s addr=%s proto=%s limit=%s "
	    "max=%d commands=%d errors=%d time=%.1fs", s->user[0] ?
	    s->user : "-", s->addr, s->proto == PROTO_POP2 ? "pop2" : "pop3",
	    limits[b->limit].key, max, b->commands, b->errors,
	    session_elapsed(s));
	s->end = "limit";
}
