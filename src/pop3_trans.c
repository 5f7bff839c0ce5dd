/*
 * pop3_trans.c: the POP3 TRANSACTION and UPDATE states (RFC 1939 §5, §6),
 * plus TOP, UIDL (RFC 1939 §7), CAPA (RFC 2449) and RFC 1081's LAST.  Runs
 * in the session process after the login, as the mail user (never root),
 * with the maildrop burst and the session lock held.  Message numbers are
 * 1-based msn on the wire and 0-based idx inside; they are never mixed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "log.h"
#include "maildrop.h"
#include "pop3.h"

static int	trans_stat(void *, int, char **);
static int	trans_list(void *, int, char **);
static int	trans_retr(void *, int, char **);
static int	trans_dele(void *, int, char **);
static int	trans_noop(void *, int, char **);
static int	trans_rset(void *, int, char **);
static int	trans_quit(void *, int, char **);
static int	trans_top(void *, int, char **);
static int	trans_uidl(void *, int, char **);
static int	trans_last(void *, int, char **);
static int	trans_capa(void *, int, char **);
static int	trans_refused(void *, int, char **);

static const struct cmd_entry trans_table[] = {
	{ "STAT", POP3_ST_TRANS, 0, 0, trans_stat },
	{ "LIST", POP3_ST_TRANS, 0, 1, trans_list },
	{ "RETR", POP3_ST_TRANS, 1, 1, trans_retr },
	{ "DELE", POP3_ST_TRANS, 1, 1, trans_dele },
	{ "NOOP", POP3_ST_TRANS, 0, 0, trans_noop },
	{ "RSET", POP3_ST_TRANS, 0, 0, trans_rset },
	{ "QUIT", POP3_ST_TRANS, 0, 0, trans_quit },
	{ "TOP", POP3_ST_TRANS, 2, 2, trans_top },
	{ "UIDL", POP3_ST_TRANS, 0, 1, trans_uidl },
	{ "LAST", POP3_ST_TRANS, 0, 0, trans_last },
	{ "CAPA", POP3_ST_TRANS, 0, 0, trans_capa },
	{ "RPOP", POP3_ST_TRANS, 0, 4, trans_refused },
	{ "XTND", POP3_ST_TRANS, 0, 4, trans_refused },
	/* AUTHORIZATION commands: "not valid in this state". */
	{ "USER", 0, 0, 0, NULL }, { "PASS", 0, 0, 0, NULL },
	{ "APOP", 0, 0, 0, NULL }, { "AUTH", 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/*
 * Parses a message number argument strictly (style.md 3): digits only,
 * 1..count, not deleted.  Replies -ERR with the reason and returns -1, or
 * returns 0 with the 0-based index.
 */
static int
get_msg(struct session *s, const char *arg, size_t *idx_r)
{
	const char *why;
	uint64_t msn;

	if (cmd_parse_uint(arg, UINT32_MAX, &msn, &why) == -1) {
		session_reply(s, "-ERR invalid message number \"%.40s\": %s",
		    arg, why);
		return -1;
	}
	if (msn == 0 || msn > s->md.scan.count) {
		session_reply(s, "-ERR no such message: %" PRIu64 " (the "
		    "maildrop has %zu)", msn, s->md.scan.count);
		return -1;
	}
	if (s->md.deleted[msn - 1]) {
		session_reply(s, "-ERR message %" PRIu64 " is deleted", msn);
		return -1;
	}
	*idx_r = (size_t)(msn - 1);
	return 0;
}

static void
note_access(struct session *s, size_t idx)
{
	if (idx + 1 > s->last)
		s->last = idx + 1;
}

static int
trans_stat(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	uint64_t octets = 0;
	size_t i, n = 0;

	(void)argc;
	(void)argv;
	for (i = 0; i < s->md.scan.count; i++)
		if (!s->md.deleted[i]) {
			n++;
			octets += s->md.scan.msgs[i].octets;
		}
	/* RFC 1939 §5: "+OK nn mm", exact octets (§11). */
	session_reply(s, "+OK %zu %" PRIu64, n, octets);
	return CMD_CONTINUE;
}

static int
trans_list(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	size_t i;

	if (argc == 1) {
		if (get_msg(s, argv[0], &i) == 0)
			session_reply(s, "+OK %zu %" PRIu64, i + 1,
			    s->md.scan.msgs[i].octets);
		return CMD_CONTINUE;
	}
	session_reply(s, "+OK %zu messages (%" PRIu64 " octets)",
	    s->md.scan.count - s->md.ndeleted, s->md.octets);
	for (i = 0; i < s->md.scan.count; i++)
		if (!s->md.deleted[i])
			session_reply(s, "%zu %" PRIu64, i + 1,
			    s->md.scan.msgs[i].octets);
	session_reply(s, ".");
	return CMD_CONTINUE;
}

static int
sink_iobuf(void *arg, const char *buf, size_t len)
{
	return iobuf_write(arg, buf, len);
}

/* Streams a message (RETR, or TOP with a body limit) and the terminator.
 * A failure mid-stream leaves the client with a broken reply: close. */
static int
send_message(struct session *s, size_t idx, int64_t limit)
{
	if (maildrop_stream(&s->md, idx, true, limit, sink_iobuf,
	    &s->io) == -1 || iobuf_write(&s->io, ".\r\n", 3) == -1) {
		log_warnx("user=%s: cannot send message %zu", s->user,
		    idx + 1);
		s->end = "error";
		return CMD_CLOSE;
	}
	return CMD_CONTINUE;
}

static int
trans_retr(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	size_t i;

	(void)argc;
	if (get_msg(s, argv[0], &i) == -1)
		return CMD_CONTINUE;
	session_reply(s, "+OK %" PRIu64 " octets", s->md.scan.msgs[i].octets);
	note_access(s, i);
	s->md.read_mail = true;		/* RMCP: the box reads as old */
	s->nretr++;
	s->oretr += s->md.scan.msgs[i].octets;
	return send_message(s, i, -1);
}

static int
trans_top(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	const char *why;
	uint64_t n;
	size_t i;

	(void)argc;
	if (get_msg(s, argv[0], &i) == -1)
		return CMD_CONTINUE;
	/* RFC 1939 §7: n must be non-negative; beyond the body, send all. */
	if (cmd_parse_uint(argv[1], UINT32_MAX, &n, &why) == -1) {
		session_reply(s, "-ERR invalid line count \"%.40s\": %s",
		    argv[1], why);
		return CMD_CONTINUE;
	}
	session_reply(s, "+OK top of message follows");
	note_access(s, i);
	s->md.read_mail = true;		/* RMCP: the box reads as old */
	return send_message(s, i, (int64_t)n);
}

static int
trans_dele(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	size_t i;

	(void)argc;
	if (get_msg(s, argv[0], &i) == -1)
		return CMD_CONTINUE;
	s->md.deleted[i] = true;
	s->md.ndeleted++;
	s->md.octets -= s->md.scan.msgs[i].octets;
	note_access(s, i);
	session_reply(s, "+OK message %zu deleted", i + 1);
	return CMD_CONTINUE;
}

static int
trans_noop(void *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	session_reply(ctx, "+OK still here");
	return CMD_CONTINUE;
}

static int
trans_rset(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < s->md.scan.count; i++)
		if (s->md.deleted[i]) {
			s->md.deleted[i] = false;
			s->md.octets += s->md.scan.msgs[i].octets;
		}
	s->md.ndeleted = 0;
	/* RFC 1081 (and UW): RSET restores LAST's session-start value,
	 * which is 0 as no read state is kept across sessions. */
	s->last = 0;
	session_reply(s, "+OK maildrop has %zu messages (%" PRIu64
	    " octets)", s->md.scan.count, s->md.octets);
	return CMD_CONTINUE;
}

static int
trans_uidl(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	size_t i;

	if (argc == 1) {
		if (get_msg(s, argv[0], &i) == 0)
			session_reply(s, "+OK %zu %s", i + 1,
			    s->md.scan.msgs[i].uid);
		return CMD_CONTINUE;
	}
	session_reply(s, "+OK unique-id listing follows");
	for (i = 0; i < s->md.scan.count; i++)
		if (!s->md.deleted[i])
			session_reply(s, "%zu %s", i + 1,
			    s->md.scan.msgs[i].uid);
	session_reply(s, ".");
	return CMD_CONTINUE;
}

static int
trans_last(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;

	(void)argc;
	(void)argv;
	session_reply(s, "+OK %" PRIu64, s->last);
	return CMD_CONTINUE;
}

static int
trans_capa(void *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pop3_capa(ctx);
	return CMD_CONTINUE;
}

static int
trans_refused(void *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	session_reply(ctx, "-ERR command not supported");
	return CMD_CONTINUE;
}

static int
trans_quit(void *ctx, int argc, char **argv)
{
	struct session *s = ctx;
	char err[256];
	size_t i, left;
	int r;

	(void)argc;
	(void)argv;
	left = s->md.scan.count - s->md.ndeleted;
	/* Before UPDATE: the statistics are of what is being deleted. */
	s->ndele = s->md.ndeleted;
	s->odele = 0;
	for (i = 0; i < s->md.scan.count; i++)
		if (s->md.deleted[i])
			s->odele += s->md.scan.msgs[i].octets;
	/* RFC 1939 §6: the UPDATE state. */
	r = maildrop_update(&s->md, err, sizeof(err));
	if (r != MD_OK) {
		log_warnx("user=%s update failed: %s", s->user, err);
		session_reply(s, "-ERR [SYS/TEMP] some deleted messages not "
		    "removed: %s", err);
		s->ndele = s->odele = 0;
		s->end = "update-failed";
		return CMD_CLOSE;
	}
	session_reply(s, "+OK bye (%zu messages left)", left);
	s->end = "quit";
	return CMD_CLOSE;
}

int
pop3_trans_run(struct session *s)
{
	const struct cmd_entry *e;
	const struct conf *c = s->conf;
	char *line, safe[64];
	size_t len;
	int r, res, err;

	session_reply(s, "+OK %s has %zu messages (%" PRIu64 " octets)",
	    s->user, s->md.scan.count, s->md.octets);
	log_info("login user=%s addr=%s messages=%zu octets=%" PRIu64,
	    s->user, s->addr, s->md.scan.count, s->md.octets);
	for (;;) {
		if (session_flush_if_idle(s) == -1) {
			s->end = "disconnect";
			break;
		}
		r = iobuf_getline(&s->io, &line, &len,
		    c->timeout_trans * 1000);
		if (r == IOBUF_TOOLONG) {
			session_reply(s, "-ERR line too long (limit %d "
			    "octets)", c->max_line);
			continue;
		}
		if (r == IOBUF_TIMEOUT) {
			/* RFC 1939 §3: autologout never enters UPDATE. */
			s->end = "timeout";
			break;
		}
		if (r != IOBUF_LINE) {
			s->end = "disconnect";
			break;
		}
		log_debug("C: %s", log_sanitize(line, len, safe,
		    sizeof(safe)));
		err = cmd_dispatch(trans_table, s->state, line, len, s, &res,
		    &e);
		if (err == CMD_ERR_STATE)
			session_reply(s, "-ERR %s: already logged in",
			    cmd_strerror(err));
		else if (err != CMD_ERR_NONE)
			session_reply(s, "-ERR %s", cmd_strerror(err));
		else if (res == CMD_CLOSE)
			break;
	}
	/* Let go of the maildrop (and its session lock) before the last
	 * reply leaves: a client may log in again at once. */
	maildrop_close(&s->md);
	iobuf_flush(&s->io);
	log_info("end user=%s addr=%s retr=%" PRIu64 "/%" PRIu64
	    " dele=%" PRIu64 "/%" PRIu64 " time=%.1fs end=%s", s->user,
	    s->addr, s->nretr, s->oretr, s->ndele, s->odele,
	    session_elapsed(s), s->end ? s->end : "error");
	return 0;
}
