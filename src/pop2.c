/*
 * pop2.c: the POP2 MBOX, ITEM and NEXT states (RFC 937 pp.7-10, 22-23,
 * design.md §6), run in the session process after the login, as the mail
 * user (never root), with the spool maildrop burst and its session lock
 * held.  The command table is the server decision table: a command is
 * valid only in the states the RFC gives it, and anything else - an
 * unknown command, a wrong state, a bad argument, a timeout - is "- text"
 * and the end of the connection, without committing anything.  Deletions
 * (ACKD) are committed through maildrop_update() only on QUIT and on
 * FOLD, which releases the mailbox and selects another one: INBOX (the
 * spool maildrop) or one file inside the user's mail folder directory,
 * which must be the user's own directory, reached without a symbolic link
 * at any level, opened without the mail group, with the file checked as a
 * maildrop is (maildrop_open with folder set).  Folder names reach the
 * log sanitised and quoted, so a name cannot forge fields.  The current
 * message
 * indicator is 1-based, as on the wire; "=ccc" is the exact number of
 * octets RETR sends (CRLF line ends, no dot-stuffing, no terminator).
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "log.h"
#include "maildrop.h"
#include "pop2.h"

/* A folder name or path in the log: every octet as \xHH at worst. */

struct pop2 {
	struct session	*s;
	uint64_t	 cur;		/* current message indicator (1-based;
					   0 or past the end: none) */
	char		 folder[POP2_FOLDER_NAME_MAX + 1];	/* selected,
					   for replies */
	char		 qfolder[POP2_LOG_MAX];	/* the same for the log */
	char		 inbox[PARAM_PATH_MAX];	/* the spool maildrop */
	int		 jdirfd;	/* the user's state directory */
};

static int	p2_fold(void *, int, char **);
static int	p2_read(void *, int, char **);
static int	p2_retr(void *, int, char **);
static int	p2_acks(void *, int, char **);
static int	p2_ackd(void *, int, char **);
static int	p2_nack(void *, int, char **);
static int	p2_quit(void *, int, char **);

/* RFC 937 p.22, the server decision table; empty cells are "- error". */
static const struct cmd_entry pop2_table[] = {
	/* A mailbox name may hold spaces (<mailbox> = <string>). */
	{ "FOLD", POP2_ST_SELECTED, 1, CMD_REST, p2_fold },
	{ "READ", POP2_ST_SELECTED, 0, 1, p2_read },
	{ "RETR", POP2_ST_ITEM, 0, 0, p2_retr },
	{ "ACKS", POP2_ST_NEXT, 0, 0, p2_acks },
	{ "ACKD", POP2_ST_NEXT, 0, 0, p2_ackd },
	{ "NACK", POP2_ST_NEXT, 0, 0, p2_nack },
	/* Not in NEXT: the client acknowledges the message first. */
	{ "QUIT", POP2_ST_SELECTED, 0, 0, p2_quit },
	{ "HELO", 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};

const char *
pop2_folder_dir(const struct conf *c)
{
	return c->pop2_folder_dir[0] != '\0' ? c->pop2_folder_dir :
	    POP2_FOLDER_DIR_DEFAULT;
}

int
pop2_timeout_session(const struct conf *c)
{
	return c->pop2_timeout_session > 0 ? c->pop2_timeout_session :
	    POP2_TIMEOUT_SESSION;
}

const char *
pop2_log_quote(const char *s, char *buf, size_t len)
{
	char piece[16];
	size_t o = 0, cut = 0, pl;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (; *s != '\0'; s++) {
		/* log_sanitize's rule for each octet, and '"' escaped too. */
		if (*s == '"')
			snprintf(piece, sizeof(piece), "\\x22");
		else
			log_sanitize(s, 1, piece, sizeof(piece));
		pl = strlen(piece);
		if (o + pl + 1 > len) {
			/* Cut after the last whole piece "..." fits behind. */
			snprintf(buf + cut, len - cut, "...");
			return buf;
		}
		memcpy(buf + o, piece, pl + 1);
		o += pl;
		if (o + 4 <= len)
			cut = o;
	}
	return buf;
}

/* Names the selected mailbox, for replies and (quoted) for the log. */
static void
set_folder(struct pop2 *p, const char *name)
{
	snprintf(p->folder, sizeof(p->folder), "%s", name);
	pop2_log_quote(p->folder, p->qfolder, sizeof(p->qfolder));
}

bool
pop2_folder_name_ok(const char *name, size_t len)
{
	size_t i;

	/* design.md §6: no '/', no NUL, no leading '.': the name is one
	 * file in the folder directory, never "..", never a hidden file
	 * (our session locks and journals are dot files). */
	if (len == 0 || len > POP2_FOLDER_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if (name[i] == '/' || name[i] == '\0' ||
		    (unsigned char)name[i] < 0x20 ||
		    (unsigned char)name[i] == 0x7f)
			return false;
	}
	return true;
}

int
pop2_folder_path(const char *tmpl, const char *user, const char *home,
    const char *name, char *buf, size_t len)
{
	char dir[PARAM_PATH_MAX];
	size_t dl;
	int n;

	if (!pop2_folder_name_ok(name, strlen(name)) ||
	    maildrop_expand(tmpl, user, home, dir, sizeof(dir)) == -1)
		return -1;
	dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	n = snprintf(buf, len, "%.*s/%s", (int)(dl == 1 ? 0 : dl), dir,
	    name);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* The octets of message msn as RETR sends them; 0 when it does not
 * exist or is marked deleted (RFC 937 p.7). */
static uint64_t
msg_octets(const struct pop2 *p, uint64_t msn)
{
	const struct maildrop *md = &p->s->md;

	if (msn == 0 || msn > md->scan.count || md->deleted[msn - 1])
		return 0;
	return md->scan.msgs[msn - 1].octets;
}

/* "=ccc" for the current message; the session is then in ITEM. */
static int
reply_length(struct pop2 *p)
{
	struct session *s = p->s;
	uint64_t o = msg_octets(p, p->cur);

	s->state = POP2_ST_ITEM;
	if (o > 0)
		session_reply(s, "=%" PRIu64 " characters in message %" PRIu64,
		    o, p->cur);
	else if (p->cur > s->md.scan.count)
		session_reply(s, "=0 no more messages");
	else if (p->cur > 0 && s->md.deleted[p->cur - 1])
		session_reply(s, "=0 message %" PRIu64 " is deleted", p->cur);
	else
		session_reply(s, "=0 no such message");
	return CMD_CONTINUE;
}

/* Commits the ACKD deletions of the selected mailbox (and sets its
 * atime).  Returns MD_* with a client-safe reason. */
static int
commit(struct pop2 *p, char *err, size_t errlen)
{
	struct session *s = p->s;
	uint64_t odele = 0;
	size_t i, ndele = s->md.ndeleted;
	int r;

	for (i = 0; i < s->md.scan.count; i++)
		if (s->md.deleted[i])
			odele += s->md.scan.msgs[i].octets;
	r = maildrop_update(&s->md, err, errlen);
	if (r != MD_OK) {
		log_warnx("user=%s folder=\"%s\" update failed: %s", s->user,
		    p->qfolder, err);
		return r;
	}
	s->ndele += ndele;
	s->odele += odele;
	return MD_OK;
}

/* Leaves no mailbox selected: an empty one, as after a failed FOLD. */
static void
unselect(struct pop2 *p)
{
	struct maildrop *md = &p->s->md;

	maildrop_close(md);
	maildrop_init(md);
}

/*
 * Resolves FOLD's (unquoted) name to a path: INBOX, in any case, is the
 * spool maildrop (*folder_r false); anything else is one file inside the
 * folder directory (design.md §6), opened by maildrop_open with folder
 * set, which walks it without following links and checks the directory
 * and the file (a missing file is an empty mailbox, p.7: nothing is
 * opened or created).  Returns NULL with path set, or why the name is
 * refused.
 */
static const char *
fold_path(const struct pop2 *p, const char *name, int n, char *path,
    size_t len, bool *folder_r)
{
	const struct session *s = p->s;

	*folder_r = false;
	if (n != -1 && strcasecmp(name, POP2_INBOX) == 0) {
		snprintf(path, len, "%s", p->inbox);
		return NULL;
	}
	if (n == -1 || !pop2_folder_name_ok(name, (size_t)n))
		return "folder name not allowed";
	if (pop2_folder_path(pop2_folder_dir(s->conf), s->user,
	    s->au.home[0] != '\0' ? s->au.home : NULL, name, path, len) == -1)
		return "no mail folder directory";
	*folder_r = true;
	return NULL;
}

static int
p2_fold(void *ctx, int argc, char **argv)
{
	struct pop2 *p = ctx;
	struct session *s = p->s;
	const struct conf *c = s->conf;
	char name[POP2_FOLDER_NAME_MAX + 1], path[PARAM_PATH_MAX];
	char err[256], qpath[POP2_LOG_MAX];
	struct maildrop_args a;
	const char *why;
	bool folder;
	int n, r;

	(void)argc;
	n = pop2_unquote(argv[0], strlen(argv[0]), name, sizeof(name));
	/* RFC 937 p.9: the old mailbox is released - its deletions made -
	 * whatever the new one turns out to be. */
	if (commit(p, err, sizeof(err)) != MD_OK) {
		session_reply(s, "- some deleted messages not removed: %s",
		    err);
		s->end = "update-failed";
		return CMD_CLOSE;
	}
	unselect(p);
	p->cur = 1;
	set_folder(p, "");
	s->state = POP2_ST_MBOX;

	why = fold_path(p, name, n, path, sizeof(path), &folder);
	if (why != NULL) {
		/* design.md §6: refused names are "#0". */
		log_info("user=%s fold=\"%s\" refused: %s", s->user,
		    pop2_log_quote(argv[0], qpath, sizeof(qpath)), why);
		session_reply(s, "#0 messages: %s", why);
		return CMD_CONTINUE;
	}
	pop2_log_quote(path, qpath, sizeof(qpath));
	memset(&a, 0, sizeof(a));
	a.user = s->user;
	a.jdirfd = p->jdirfd;
	a.lock = &c->lock;
	a.mboxrd = c->mboxrd;
	a.folder = folder;
	/* Before any lock is taken: the master recovers this one if we die. */
	(void)session_selecting(s, path, folder);
	r = maildrop_open(&s->md, path, &a, err, sizeof(err));
	if (r != MD_OK) {
		/* design.md §6 (D-P3): a FOLD that fails is "#0". */
		log_info("user=%s fold=\"%s\": %s", s->user, qpath, err);
		unselect(p);
		session_reply(s, "#0 messages: %s", err);
		return CMD_CONTINUE;
	}
	set_folder(p, folder ? name : POP2_INBOX);
	log_info("user=%s fold=\"%s\" messages=%zu octets=%" PRIu64, s->user,
	    qpath, s->md.scan.count, s->md.octets);
	session_reply(s, "#%zu messages in %s", s->md.scan.count, p->folder);
	return CMD_CONTINUE;
}

/* READ's argument: a decimal number (any size: past the end is "=0");
 * anything else is junk.  Returns 0 / -1. */
static int
parse_msn(const char *arg, uint64_t count, uint64_t *msn_r)
{
	const char *why;
	uint64_t v;
	size_t len = strlen(arg);

	if (len == 0 || strspn(arg, "0123456789") != len)
		return -1;
	if (cmd_parse_uint(arg, UINT64_MAX, &v, &why) == -1 || v > count)
		v = count + 1;		/* too large: no such message */
	*msn_r = v;
	return 0;
}

static int
p2_read(void *ctx, int argc, char **argv)
{
	struct pop2 *p = ctx;
	struct session *s = p->s;
	uint64_t msn;

	if (argc == 1) {
		if (parse_msn(argv[0], s->md.scan.count, &msn) == -1) {
			session_reply(s, "- invalid message number \"%.40s\"",
			    argv[0]);
			s->end = "bad-command";
			return CMD_CLOSE;
		}
		/* RFC 937 p.7: READ n sets the current message. */
		p->cur = msn;
	}
	return reply_length(p);
}

struct count_sink {
	struct iobuf	*io;
	uint64_t	 n;
};

static int
sink_count(void *arg, const char *buf, size_t len)
{
	struct count_sink *cs = arg;

	cs->n += len;
	return iobuf_write(cs->io, buf, len);
}

static int
p2_retr(void *ctx, int argc, char **argv)
{
	struct pop2 *p = ctx;
	struct session *s = p->s;
	struct count_sink cs;
	uint64_t o = msg_octets(p, p->cur);

	(void)argc;
	(void)argv;
	if (o == 0) {
		/* RFC 937 p.8: asked for a message of zero characters, the
		 * server closes the connection. */
		session_reply(s, "- no message to send");
		s->end = "bad-command";
		return CMD_CLOSE;
	}
	cs.io = &s->io;
	cs.n = 0;
	/* No dot-stuffing, no terminator: "=ccc" said how much. */
	if (maildrop_stream(&s->md, (size_t)(p->cur - 1), false, -1,
	    sink_count, &cs) == -1 || cs.n != o) {
		/* The client counts octets: after a short or long message
		 * it cannot find the next reply.  Close. */
		log_warnx("user=%s folder=\"%s\": cannot send message %"
		    PRIu64 " (%" PRIu64 " of %" PRIu64 " octets)", s->user,
		    p->qfolder, p->cur, cs.n, o);
		s->end = "error";
		return CMD_CLOSE;
	}
	s->md.read_mail = true;		/* RMCP: the box reads as old */
	s->nretr++;
	s->oretr += o;
	s->state = POP2_ST_NEXT;
	return CMD_CONTINUE;
}

static int
p2_acks(void *ctx, int argc, char **argv)
{
	struct pop2 *p = ctx;

	(void)argc;
	(void)argv;
	p->cur++;
	return reply_length(p);
}

static int
p2_ackd(void *ctx, int argc, char **argv)
{
	struct pop2 *p = ctx;
	struct maildrop *md = &p->s->md;
	size_t i = (size_t)(p->cur - 1);

	(void)argc;
	(void)argv;
	/* NEXT follows a RETR of this message, which exists and is not
	 * deleted.  Marked only: no renumbering until the release. */
	if (!md->deleted[i]) {
		md->deleted[i] = true;
		md->ndeleted++;
		md->octets -= md->scan.msgs[i].octets;
	}
	p->cur++;
	return reply_length(p);
}

static int
p2_nack(void *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* The same message again. */
	return reply_length(ctx);
}

static int
p2_quit(void *ctx, int argc, char **argv)
{
	struct pop2 *p = ctx;
	struct session *s = p->s;
	char err[256];

	(void)argc;
	(void)argv;
	if (commit(p, err, sizeof(err)) != MD_OK) {
		session_reply(s, "- some deleted messages not removed: %s",
		    err);
		s->end = "update-failed";
		return CMD_CLOSE;
	}
	session_reply(s, "+ OK bye");
	s->end = "quit";
	return CMD_CLOSE;
}

int
pop2_run(struct session *s)
{
	const struct cmd_entry *e;
	struct pop2 p;
	char *line, safe[64];
	size_t len;
	int r, res, err, tmo;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.cur = 1;
	snprintf(p.inbox, sizeof(p.inbox), "%s", s->md.path);
	p.jdirfd = s->md.jdirfd;
	set_folder(&p, POP2_INBOX);
	tmo = pop2_timeout_session(s->conf) * 1000;
	s->io.wtimeout_ms = tmo;
	s->state = POP2_ST_MBOX;
	/* RFC 937 p.7: HELO's reply is the count in the default mailbox,
	 * deleted messages included (nothing is renumbered). */
	session_reply(s, "#%zu messages for %s", s->md.scan.count, s->user);
	log_info("login user=%s addr=%s messages=%zu octets=%" PRIu64
	    " proto=pop2", s->user, s->addr, s->md.scan.count,
	    s->md.octets);
	for (;;) {
		if (session_flush_if_idle(s) == -1) {
			s->end = "disconnect";
			break;
		}
		r = iobuf_getline(&s->io, &line, &len, tmo);
		if (r == IOBUF_TOOLONG) {
			session_reply(s, "- command line too long (limit %d "
			    "octets)", s->conf->max_line);
			s->end = "bad-command";
			break;
		}
		if (r == IOBUF_TIMEOUT) {
			/* Never a commit: only QUIT and FOLD commit. */
			session_reply(s, "- autologout; idle for too long");
			s->end = "timeout";
			break;
		}
		if (r != IOBUF_LINE) {
			s->end = "disconnect";
			break;
		}
		log_debug("C: %s", log_sanitize(line, len, safe,
		    sizeof(safe)));
		err = cmd_dispatch(pop2_table, s->state, line, len, &p, &res,
		    &e);
		if (err == CMD_ERR_NONE && res == CMD_CLOSE)
			break;
		if (err == CMD_ERR_NONE)
			continue;
		/* RFC 937 p.23, action 1: "- error" and close. */
		if (err == CMD_ERR_STATE && s->state == POP2_ST_NEXT)
			session_reply(s, "- %s not valid now: send ACKS, ACKD "
			    "or NACK", e->name);
		else if (err == CMD_ERR_STATE)
			session_reply(s, "- %s not valid now", e->name);
		else
			session_reply(s, "- %s", cmd_strerror(err));
		s->end = "bad-command";
		break;
	}
	/* Let go of the maildrop (and its session lock) before the last
	 * reply leaves: a client may log in again at once. */
	maildrop_close(&s->md);
	iobuf_flush(&s->io);
	log_info("end user=%s addr=%s retr=%" PRIu64 "/%" PRIu64
	    " dele=%" PRIu64 "/%" PRIu64 " time=%.1fs end=%s proto=pop2",
	    s->user, s->addr, s->nretr, s->oretr, s->ndele, s->odele,
	    session_elapsed(s), s->end ? s->end : "error");
	return 0;
}
