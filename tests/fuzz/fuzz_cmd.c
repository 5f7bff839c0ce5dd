/*
 * fuzz_cmd.c: libFuzzer target for the line reader and the dispatcher
 * (src/iobuf.c, src/cmd.c).  The input is a client's byte stream, fed
 * to an iobuf over a socketpair in chunks; every line is dispatched
 * against a table of dummy handlers whose replies go to /dev/null.  A
 * PASS hands the unread input to a fresh iobuf as the login does.
 *
 * Besides ASan/UBSan/LSan, the reader is checked against a model of
 * the limits: a segment up to and including LF of at most maxline
 * octets is a line (one CR before the LF stripped), a longer one is one
 * IOBUF_TOOLONG, an unterminated rest of maxline octets or more is one
 * IOBUF_TOOLONG, then IOBUF_EOF.  Any difference aborts.
 *
 * Input layout: data[0] bits 0-2 pick maxline, bit 3 delivers in small
 * chunks, bit 4 injects the first octets instead of sending them, bit 5
 * probes IOBUF_TIMEOUT between chunks; data[1] seeds the chunk sizes.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "iobuf.h"
#include "params.h"

#define ST_AUTH		0x1
#define ST_TRANS	0x2
#define WAIT_MS		5000	/* a line the model says is there */
#define PROBE_MS	2	/* >= 2: at least 1 ms is left to poll */
#define PROBES_MAX	4
#define CHUNKED_MAX	64	/* small chunks, then the rest at once */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const size_t maxlines[] = { 2, 3, 16, 17, 64, PARAM_LINE_MIN,
	PARAM_LINE_DEFAULT, PARAM_LINE_MAX };

#define CHECK(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #e);				\
		abort();						\
	}								\
} while (0)

struct fz {
	struct iobuf	 io;
	unsigned int	 state;
	int		 devnull;
};

/* The model: the next event expected from the stream s[pos, n). */
struct model {
	const char	*s;
	size_t		 n;
	size_t		 pos;
	size_t		 maxline;
	int		 type;		/* IOBUF_LINE, _TOOLONG or _EOF */
	size_t		 need;		/* octets sent before it can come */
	size_t		 len;		/* of the line */
	size_t		 next;		/* pos after it */
};

static void
model_peek(struct model *m)
{
	const char *lf;
	size_t seg;

	if (m->pos == m->n) {
		m->type = IOBUF_EOF;
		m->need = SIZE_MAX;	/* and the shutdown */
		m->next = m->n;
		return;
	}
	lf = memchr(m->s + m->pos, '\n', m->n - m->pos);
	seg = lf == NULL ? m->n - m->pos : (size_t)(lf - m->s) + 1 - m->pos;
	if (lf == NULL && seg < m->maxline) {
		m->type = IOBUF_EOF;
		m->need = SIZE_MAX;
		m->next = m->n;
	} else if (lf == NULL || seg > m->maxline) {
		m->type = IOBUF_TOOLONG;
		m->need = m->pos + m->maxline;
		m->next = m->pos + seg;
	} else {
		m->type = IOBUF_LINE;
		m->need = m->pos + seg;
		m->next = m->pos + seg;
		m->len = seg - 1;
		if (m->len > 0 && m->s[m->pos + m->len - 1] == '\r')
			m->len--;
	}
}

static void
check_args(int argc, char **argv, bool rest)
{
	int i;

	CHECK(argc >= 0 && argc <= CMD_ARGS_MAX && argv[argc] == NULL);
	for (i = 0; i < argc; i++) {
		CHECK(argv[i][0] != '\0');
		CHECK(rest || strchr(argv[i], ' ') == NULL);
	}
}

static int
h_ok(void *ctx, int argc, char **argv)
{
	struct fz *f = ctx;

	check_args(argc, argv, false);
	iobuf_printf(&f->io, "+OK %s\r\n", argc > 0 ? argv[0] : "");
	return CMD_CONTINUE;
}

static int
h_pass(void *ctx, int argc, char **argv)
{
	struct fz *f = ctx;

	check_args(argc, argv, true);
	CHECK(argc == 1);
	iobuf_printf(&f->io, "+OK %zu octets\r\n", strlen(argv[0]));
	return CMD_LOGIN;
}

/* Message numbers: every argument through the strict parser. */
static int
h_num(void *ctx, int argc, char **argv)
{
	struct fz *f = ctx;
	const char *why;
	uint64_t v;
	int i;

	check_args(argc, argv, false);
	for (i = 0; i < argc; i++) {
		why = NULL;
		if (cmd_parse_uint(argv[i], UINT32_MAX, &v, &why) == -1) {
			CHECK(why != NULL);
			iobuf_printf(&f->io, "-ERR %s: %s\r\n", why, argv[i]);
			return CMD_CONTINUE;
		}
		CHECK(v <= UINT32_MAX && strspn(argv[i], "0123456789") ==
		    strlen(argv[i]));
	}
	iobuf_printf(&f->io, "+OK %d\r\n", argc);
	return CMD_CONTINUE;
}

static int
h_quit(void *ctx, int argc, char **argv)
{
	struct fz *f = ctx;

	check_args(argc, argv, false);
	iobuf_printf(&f->io, "+OK bye\r\n");
	return CMD_CLOSE;
}

static const struct cmd_entry table[] = {
	{ "USER", ST_AUTH,		1, 1,		h_ok },
	{ "PASS", ST_AUTH,		1, CMD_REST,	h_pass },
	{ "CAPA", ST_AUTH | ST_TRANS,	0, 0,		h_ok },
	{ "STAT", ST_TRANS,		0, 0,		h_ok },
	{ "LIST", ST_TRANS,		0, 1,		h_num },
	{ "RETR", ST_TRANS,		1, 1,		h_num },
	{ "TOP",  ST_TRANS,		2, 2,		h_num },
	{ "UIDL", ST_TRANS,		0, 1,		h_num },
	{ "XTND", ST_TRANS,		0, 99,		h_ok },
	{ "NOOP", ST_TRANS,		0, 0,		h_ok },
	{ "QUIT", ST_AUTH | ST_TRANS,	0, 0,		h_quit },
	{ NULL,   0,			0, 0,		NULL }
};

/* The login hand-off: the unread input moves to a fresh reader. */
static void
handoff(struct fz *f)
{
	struct iobuf nb;
	const char *u;
	size_t ulen;

	u = iobuf_unread(&f->io, &ulen);
	CHECK(iobuf_init(&nb, f->io.rfd, f->io.wfd, f->io.maxline) == 0);
	CHECK(iobuf_inject(&nb, u, ulen) == 0);
	nb.wtimeout_ms = f->io.wtimeout_ms;
	iobuf_flush(&f->io);
	iobuf_free(&f->io);
	f->io = nb;
	f->state = ST_TRANS;
}

static void
dispatch(struct fz *f, char *line, size_t len)
{
	const struct cmd_entry *e = NULL;
	int err, res = -1;

	err = cmd_dispatch(table, f->state, line, len, f, &res, &e);
	switch (err) {
	case CMD_ERR_NONE:
		CHECK(e != NULL && (e->states & f->state) != 0);
		if (res == CMD_LOGIN)
			handoff(f);
		else if (res == CMD_CLOSE)
			f->state = ST_AUTH;	/* and carry on */
		else
			CHECK(res == CMD_CONTINUE);
		break;
	case CMD_ERR_STATE:
	case CMD_ERR_ARGS:
		CHECK(e != NULL);
		iobuf_printf(&f->io, "-ERR %s\r\n", cmd_strerror(err));
		break;
	case CMD_ERR_EMPTY:
	case CMD_ERR_UNKNOWN:
	case CMD_ERR_NUL:
		CHECK(e == NULL);
		iobuf_printf(&f->io, "-ERR %s\r\n", cmd_strerror(err));
		break;
	default:
		fprintf(stderr, "unknown reason %d\n", err);
		abort();
	}
	if (!iobuf_line_pending(&f->io))
		iobuf_flush(&f->io);
}

/* Takes the next event, which the model says is due, and checks it. */
static int
step(struct fz *f, struct model *m)
{
	const char *u;
	char *line;
	size_t len, ulen;
	int r;

	r = iobuf_getline(&f->io, &line, &len, WAIT_MS);
	if (r != m->type) {
		fprintf(stderr, "getline %d, model %d at %zu\n", r, m->type,
		    m->pos);
		abort();
	}
	if (r == IOBUF_LINE) {
		CHECK(len == m->len && line[len] == '\0');
		CHECK(memcmp(line, m->s + m->pos, len) == 0);
		dispatch(f, line, len);
	}
	m->pos = m->next;
	if (r == IOBUF_LINE) {
		/* pipelined input is intact, whatever dispatch did */
		u = iobuf_unread(&f->io, &ulen);
		CHECK(ulen <= m->n - m->pos);
		CHECK(memcmp(u, m->s + m->pos, ulen) == 0);
	}
	return r;
}

static void
run(struct fz *f, struct model *m, int sock, int ctl, uint32_t seed)
{
	size_t sent = 0, chunk;
	int chunks = 0, probes = (ctl & 0x20) ? PROBES_MAX : 0;
	bool shut = false;
	ssize_t w;
	char *line;
	size_t len;

	if (ctl & 0x10) {
		/* the first octets arrive by the hand-off, not the socket */
		sent = seed % (m->maxline + 1);
		if (sent > m->n)
			sent = m->n;
		CHECK(iobuf_inject(&f->io, m->s, sent) == 0);
	}
	for (;;) {
		model_peek(m);
		if (iobuf_line_pending(&f->io))
			CHECK(m->type == IOBUF_LINE && m->need <= sent);
		if (m->need <= sent || (shut && m->type == IOBUF_EOF)) {
			if (step(f, m) == IOBUF_EOF)
				return;
			continue;
		}
		if (sent == m->n) {
			CHECK(shutdown(sock, SHUT_WR) == 0);
			shut = true;
			continue;
		}
		chunk = m->n - sent;
		if ((ctl & 0x08) && chunks++ < CHUNKED_MAX) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % (2 * m->maxline + 1);
			if (chunk > m->n - sent)
				chunk = m->n - sent;
		}
		w = send(sock, m->s + sent, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			sent += (size_t)w;
		else
			CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
		if (w <= 0 || (m->need > sent && probes > 0 && probes--)) {
			/* Nothing is due: the reader must time out (and
			 * drain the socket meanwhile). */
			CHECK(iobuf_getline(&f->io, &line, &len, PROBE_MS) ==
			    IOBUF_TIMEOUT);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m;
	struct fz f;
	int sv[2];

	if (size < 2)
		return 0;
	memset(&m, 0, sizeof(m));
	m.s = (const char *)data + 2;
	m.n = size - 2;
	m.maxline = maxlines[data[0] & 7];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	memset(&f, 0, sizeof(f));
	f.state = ST_AUTH;
	CHECK((f.devnull = open("/dev/null", O_WRONLY)) != -1);
	CHECK(iobuf_init(&f.io, sv[0], f.devnull, m.maxline) == 0);
	f.io.wtimeout_ms = 1000;
	run(&f, &m, sv[1], data[0], data[1] * 2654435761u);
	CHECK(m.pos == m.n);
	iobuf_flush(&f.io);
	iobuf_free(&f.io);
	close(f.devnull);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
