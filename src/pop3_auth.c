/*
 * pop3_auth.c: the POP3 AUTHORIZATION state (RFC 1939 §4, §7), run only in
 * the pre-auth child, as the unprivileged pre-auth user inside an empty
 * chroot when started as root.  It never sees a maildrop or a password
 * hash: on PASS it hands the user name, the password and any pipelined
 * input to the session master and waits for the verdict.  The whole state
 * is bounded in time, lines and bad lines (login_budget.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cmd.h"
#include "log.h"
#include "login_budget.h"
#include "pop3.h"
#include "privsep.h"

static int	auth_user(void *, int, char **);
static int	auth_pass(void *, int, char **);
static int	auth_quit(void *, int, char **);
static int	auth_capa(void *, int, char **);
static int	auth_refused(void *, int, char **);

/* The pre-auth child serves one connection: one budget per process. */
static struct login_budget budget;

static const struct cmd_entry auth_table[] = {
	{ "USER", POP3_ST_ANY_AUTH, 1, 1, auth_user },
	{ "PASS", POP3_ST_AUTH_USER, 1, CMD_REST, auth_pass },
	{ "QUIT", POP3_ST_ANY_AUTH, 0, 0, auth_quit },
	{ "CAPA", POP3_ST_ANY_AUTH, 0, 0, auth_capa },
	/* RFC 1081 RPOP trusted .rhosts; RFC 1082 XTND is MH-only; APOP
	 * and AUTH need secrets and mechanisms not configured here. */
	{ "RPOP", POP3_ST_ANY_AUTH, 0, 4, auth_refused },
	{ "APOP", POP3_ST_ANY_AUTH, 0, 4, auth_refused },
	{ "AUTH", POP3_ST_ANY_AUTH, 0, 4, auth_refused },
	{ "XTND", POP3_ST_ANY_AUTH, 0, 4, auth_refused },
	/* Known TRANSACTION commands, to answer "not in this state". */
	{ "STAT", 0, 0, 0, NULL }, { "LIST", 0, 0, 0, NULL },
	{ "RETR", 0, 0, 0, NULL }, { "DELE", 0, 0, 0, NULL },
	{ "NOOP", 0, 0, 0, NULL }, { "RSET", 0, 0, 0, NULL },
	{ "TOP", 0, 0, 0, NULL }, { "UIDL", 0, 0, 0, NULL },
	{ "LAST", 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};

void
pop3_capa(struct session *s)
{
	/* RFC 2449 §5: advertise only what is true on this connection. */
	session_reply(s, "+OK capability list follows");
	session_reply(s, "TOP");
	session_reply(s, "UIDL");
	session_reply(s, "RESP-CODES");
	session_reply(s, "AUTH-RESP-CODE");
	session_reply(s, "PIPELINING");
	if (s->state != POP3_ST_TRANS && s->plaintext_ok)
		session_reply(s, "USER");
	if (s->state == POP3_ST_TRANS)
		session_reply(s, "IMPLEMENTATION %s", POP3_IMPLEMENTATION);
	session_reply(s, ".");
}

/*
 * A bad line: counts it and sends its reply (fmt), or, when it is one bad
 * line too many, the limit's reply instead.  Returns CMD_CONTINUE, or
 * CMD_CLOSE when the limit was reached.
 */
static int __attribute__((format(printf, 2, 3)))
auth_error(struct session *s, const char *fmt, ...)
{
	char text[PARAM_RESP_MAX];
	va_list ap;

	if (login_budget_error(&budget)) {
		login_budget_refuse(&budget, s, "-ERR");
		return CMD_CLOSE;
	}
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);	/* cut is fine */
	va_end(ap);
	session_reply(s, "%s", text);
	return CMD_CONTINUE;
}

static int
auth_capa(void *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pop3_capa(ctx);
	return CMD_CONTINUE;
}

static int
auth_user(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	size_t len = strlen(argv[0]);

	(void)argc;
	if (!s->plaintext_ok)
		return auth_error(s, "-ERR plaintext login is not allowed on "
		    "this connection; use a secure connection or ask your "
		    "administrator");
	/* Validated before it can go anywhere near a path (design.md §4).
	 * RFC 3206 §4: no [AUTH] code on USER. */
	if (!auth_valid_username(argv[0], len)) {
		s->state = POP3_ST_AUTH;
		return auth_error(s, "-ERR invalid user name: use 1-%d "
		    "letters, digits, '.', '_' or '-'", PARAM_USER_MAX);
	}
	memcpy(s->user, argv[0], len + 1);
	s->state = POP3_ST_AUTH_USER;
	session_reply(s, "+OK send PASS");
	return CMD_CONTINUE;
}

static int
auth_pass(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	struct privsep_creds *cr;
	char text[PARAM_RESP_MAX];
	int v;

	(void)argc;
	s->state = POP3_ST_AUTH;
	if (strlen(argv[0]) > PARAM_PASS_MAX) {
		explicit_bzero(argv[0], strlen(argv[0]));
		return auth_error(s, "-ERR [AUTH] password too long");
	}
	if ((cr = calloc(1, sizeof(*cr))) == NULL) {
		session_reply(s, "-ERR [SYS/TEMP] out of memory");
		return CMD_CLOSE;
	}
	snprintf(cr->user, sizeof(cr->user), "%s", s->user);
	snprintf(cr->pass, sizeof(cr->pass), "%s", argv[0]);
	explicit_bzero(argv[0], strlen(argv[0]));
	v = session_handoff(s, cr, text, sizeof(text));
	free(cr);
	switch (v) {
	case PRIVSEP_OK:
		/* The master serves the client now; leave without a word. */
		_exit(0);
	case PRIVSEP_FAIL:
		session_reply(s, "%s", text);
		return CMD_CONTINUE;
	case PRIVSEP_CLOSE:
		session_reply(s, "%s", text);
		s->end = "refused";
		return CMD_CLOSE;
	default:
		session_reply(s, "-ERR [SYS/TEMP] internal error; try again");
		s->end = "error";
		return CMD_CLOSE;
	}
}

static int
auth_quit(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;

	(void)argc;
	(void)argv;
	session_reply(s, "+OK bye");
	s->end = "quit";
	return CMD_CLOSE;
}

static int
auth_refused(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;

	(void)argc;
	(void)argv;
	return auth_error(s, "-ERR command not supported; use USER and PASS");
}

void
pop3_auth_run(struct session *s)
{
	const struct cmd_entry *e;
	char *line, safe[64];
	size_t len;
	int r, res, err;

	s->state = POP3_ST_AUTH;
	login_budget_start(&budget, s->conf);
	s->io.wtimeout_ms = login_budget_wait_ms(&budget);
	/* RFC 1939 §4: the greeting is a positive response. */
	session_reply(s, "+OK %s POP3 server ready", s->conf->hostname);
	iobuf_flush(&s->io);
	for (;;) {
		r = iobuf_getline(&s->io, &line, &len,
		    login_budget_wait_ms(&budget));
		if (r == IOBUF_TIMEOUT && login_budget_expired(&budget)) {
			login_budget_refuse(&budget, s, "-ERR");
			break;
		}
		if (r == IOBUF_TIMEOUT) {
			/* RFC 1939 §3: close without a reply. */
			s->end = "timeout";
			break;
		}
		if (r != IOBUF_LINE && r != IOBUF_TOOLONG) {
			s->end = "disconnect";
			break;
		}
		if (login_budget_command(&budget)) {
			login_budget_refuse(&budget, s, "-ERR");
			break;
		}
		/* Every write waits no longer than the state has left. */
		s->io.wtimeout_ms = login_budget_wait_ms(&budget);
		if (r == IOBUF_TOOLONG)
			res = auth_error(s, "-ERR line too long (limit %d "
			    "octets)", s->conf->max_line);
		else {
			if (len >= 5 && strncasecmp(line, "PASS ", 5) == 0)
				log_debug("C: PASS ****");
			else
				log_debug("C: %s", log_sanitize(line, len,
				    safe, sizeof(safe)));
			err = cmd_dispatch(auth_table, s->state, line, len,
			    s, &res, &e);
			if (err == CMD_ERR_STATE && e != NULL &&
			    strcmp(e->name, "PASS") == 0)
				res = auth_error(s, "-ERR send USER first");
			else if (err == CMD_ERR_STATE)
				res = auth_error(s, "-ERR %s: log in first",
				    cmd_strerror(err));
			else if (err != CMD_ERR_NONE)
				res = auth_error(s, "-ERR %s",
				    cmd_strerror(err));
		}
		if (res == CMD_CLOSE)
			break;
		if (session_flush_if_idle(s) == -1) {
			s->end = "disconnect";
			break;
		}
	}
	iobuf_flush(&s->io);
	log_info("end user=%s addr=%s retr=0/0 dele=0/0 time=%.1fs end=%s",
	    s->user[0] ? s->user : "-", s->addr, session_elapsed(s),
	    s->end ? s->end : "error");
	_exit(0);
}
