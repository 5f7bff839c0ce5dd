/*
 * pop2_auth.c: the POP2 AUTH state (RFC 937 pp.7, 22-23), run only in the
 * pre-auth child, as the unprivileged pre-auth user inside an empty
 * chroot when started as root.  It sends the greeting, reads HELO with
 * its backslash quoting (UW ipop2d's superset of the RFC's), and hands
 * the user name, the password and any pipelined input to the session
 * master, which answers the client itself ("#nnn") when the login
 * succeeds.  POP2 has one rule for trouble: "if anything goes wrong close
 * the connection" (p.2), so every error here is "- text" and the end.
 * The state is bounded in time as a whole too (login_budget.c).  It never
 * sees a maildrop or a password hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "cmd.h"
#include "log.h"
#include "login_budget.h"
#include "pop2.h"
#include "privsep.h"

static int	auth_helo(void *, int, char **);
static int	auth_quit(void *, int, char **);

static const struct cmd_entry auth_table[] = {
	/* HELO's argument is the rest of the line: the password may hold
	 * unquoted spaces (UW). */
	{ "HELO", POP2_ST_AUTH, 1, CMD_REST, auth_helo },
	{ "QUIT", POP2_ST_AUTH, 0, 0, auth_quit },
	/* The commands of the later states, to say "not yet". */
	{ "FOLD", 0, 0, 0, NULL }, { "READ", 0, 0, 0, NULL },
	{ "RETR", 0, 0, 0, NULL }, { "ACKS", 0, 0, 0, NULL },
	{ "ACKD", 0, 0, 0, NULL }, { "NACK", 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};

int
pop2_unquote(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (outlen == 0)
		return -1;
	for (i = 0; i < inlen; i++) {
		/* RFC 937 p.6: "\ " is a space, "\\" a backslash; UW takes
		 * any octet after the backslash literally.  A final lone
		 * backslash has nothing to quote: it is itself. */
		if (in[i] == '\\' && i + 1 < inlen)
			i++;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = in[i];
	}
	out[o] = '\0';
	return (int)o;
}

int
pop2_helo_split(const char *arg, char *user_r, size_t userlen,
    char *pass_r, size_t passlen, const char **why_r)
{
	const char *u, *p;

	for (u = arg; *u == ' '; u++)
		;
	/* The user ends at the first space that is not quoted. */
	for (p = u; *p != '\0' && *p != ' '; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	if (p == u) {
		*why_r = "missing user name and password";
		return -1;
	}
	if (pop2_unquote(u, (size_t)(p - u), user_r, userlen) == -1) {
		*why_r = "user name too long";
		return -1;
	}
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*why_r = "missing password";
		return -1;
	}
	if (pop2_unquote(p, strlen(p), pass_r, passlen) == -1) {
		explicit_bzero(pass_r, passlen);
		*why_r = "password too long";
		return -1;
	}
	return 0;
}

static int
auth_helo(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	struct privsep_creds *cr;
	char text[PARAM_RESP_MAX];
	const char *why;
	int v;

	(void)argc;
	if (!s->plaintext_ok) {
		explicit_bzero(argv[0], strlen(argv[0]));
		session_reply(s, "- plaintext login is not allowed on this "
		    "connection; ask your administrator");
		s->end = "refused";
		return CMD_CLOSE;
	}
	if ((cr = calloc(1, sizeof(*cr))) == NULL) {
		explicit_bzero(argv[0], strlen(argv[0]));
		session_reply(s, "- out of memory; try again later");
		s->end = "error";
		return CMD_CLOSE;
	}
	v = pop2_helo_split(argv[0], cr->user, sizeof(cr->user), cr->pass,
	    sizeof(cr->pass), &why);
	explicit_bzero(argv[0], strlen(argv[0]));
	/* Validated before it can go anywhere near a path (design.md
	 * §4); the master checks it again. */
	if (v == 0 && !auth_valid_username(cr->user, strlen(cr->user))) {
		v = -1;
		why = "invalid user name";
	}
	if (v == -1) {
		explicit_bzero(cr, sizeof(*cr));
		free(cr);
		session_reply(s, "- %s", why);
		s->end = "bad-helo";
		return CMD_CLOSE;
	}
	snprintf(s->user, sizeof(s->user), "%s", cr->user);
	v = session_handoff(s, cr, text, sizeof(text));
	free(cr);
	switch (v) {
	case PRIVSEP_OK:
		/* The master answers "#nnn" and serves the client now. */
		_exit(0);
	case PRIVSEP_FAIL:
		/* RFC 937 p.23, action 3(b): "- error" and close. */
		s->end = "auth-failed";
		break;
	case PRIVSEP_CLOSE:
		s->end = "refused";
		break;
	default:
		snprintf(text, sizeof(text), "- internal error; try again");
		s->end = "error";
		break;
	}
	/* The master words its texts for POP2 ("- ..."); never send a
	 * POP3 "-ERR" here, which a POP2 client reads as "-" anyway. */
	session_reply(s, "%s", text[0] == '-' ? text : "- login refused");
	return CMD_CLOSE;
}

static int
auth_quit(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;

	(void)argc;
	(void)argv;
	/* RFC 937 p.23, action 4. */
	session_reply(s, "+ OK bye");
	s->end = "quit";
	return CMD_CLOSE;
}

void
pop2_auth_run(struct session *s)
{
	const struct cmd_entry *e;
	struct login_budget budget;
	char *line, safe[64];
	size_t len;
	int r, res, err;

	s->state = POP2_ST_AUTH;
	login_budget_start(&budget, s->conf);
	s->io.wtimeout_ms = login_budget_wait_ms(&budget);
	/* RFC 937 p.10 and UW: nothing between "+" and "POP2", then the
	 * host. */
	session_reply(s, "+ POP2 %s postern server ready",
	    s->conf->hostname);
	iobuf_flush(&s->io);
	for (;;) {
		r = iobuf_getline(&s->io, &line, &len,
		    login_budget_wait_ms(&budget));
		/* A line dripped an octet at a time is cut off here.  Every
		 * bad line and every HELO end the state (RFC 937 p.23), so
		 * auth_max_errors is never reached in POP2; the command
		 * count is kept for the day that changes. */
		if ((r == IOBUF_TIMEOUT && login_budget_expired(&budget)) ||
		    ((r == IOBUF_LINE || r == IOBUF_TOOLONG) &&
		    login_budget_command(&budget))) {
			login_budget_refuse(&budget, s, "-");
			break;
		}
		s->io.wtimeout_ms = login_budget_wait_ms(&budget);
		if (r == IOBUF_TOOLONG) {
			session_reply(s, "- command line too long (limit %d "
			    "octets)", s->conf->max_line);
			s->end = "bad-command";
			break;
		}
		if (r == IOBUF_TIMEOUT) {
			/* RFC 937 p.22: a timeout is action 1. */
			session_reply(s, "- autologout; idle for too long");
			s->end = "timeout";
			break;
		}
		if (r != IOBUF_LINE) {
			s->end = "disconnect";
			break;
		}
		if (len >= 5 && strncasecmp(line, "HELO ", 5) == 0)
			log_debug("C: HELO ****");
		else
			log_debug("C: %s", log_sanitize(line, len, safe,
			    sizeof(safe)));
		err = cmd_dispatch(auth_table, s->state, line, len, s, &res,
		    &e);
		if (err == CMD_ERR_NONE && res == CMD_CLOSE)
			break;
		if (err == CMD_ERR_NONE)
			continue;
		/* RFC 937 p.23, action 1: "- error" and close. */
		if (err == CMD_ERR_STATE)
			session_reply(s, "- %s not valid before HELO",
			    e->name);
		else
			session_reply(s, "- %s", cmd_strerror(err));
		s->end = "bad-command";
		break;
	}
	iobuf_flush(&s->io);
	log_info("end user=%s addr=%s retr=0/0 dele=0/0 time=%.1fs end=%s "
	    "proto=pop2", s->user[0] ? s->user : "-", s->addr,
	    session_elapsed(s), s->end ? s->end : "error");
	_exit(0);
}
