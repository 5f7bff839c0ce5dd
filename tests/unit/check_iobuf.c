/*
 * check_iobuf.c: the bounded line reader and the batching writer
 * (src/iobuf.c) over a real socketpair.  The peer is either written in
 * advance, written step by step between reads, or a forked writer that
 * sends in chunks.  Covers line ends, pipelining, split lines, the exact
 * line limit and the discarding of overlong tails, NUL octets, EOF,
 * timeouts, the login hand-off (unread / inject), output batching, large
 * writes, a vanished peer and the 512-octet response limit.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "testutil.h"

#include "iobuf.h"
#include "params.h"

#define SMALL_LINE	16		/* a maxline that is quick to fill */
#define WAIT_MS		5000		/* "forever" for data that will come */
#define SHORT_MS	150		/* the timeout under test */
#define IDLE_MS		30		/* no more data is expected */

static int	sv[2] = { -1, -1 };	/* sv[0]: ours, sv[1]: the client */

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void
teardown(void)
{
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	sv[0] = sv[1] = -1;
}

static void
peer_close(void)
{
	ck_assert_int_eq(close(sv[1]), 0);
	sv[1] = -1;
}

/* The client sends data[0, len). */
static void
put(const void *data, size_t len)
{
	ck_assert_int_eq(write(sv[1], data, len), (ssize_t)len);
}

static void
puts_peer(const char *s)
{
	put(s, strlen(s));
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
rname(int r)
{
	static const char *names[] = { "LINE", "TOOLONG", "EOF", "TIMEOUT",
	    "ERROR" };

	return r >= 0 && r <= IOBUF_ERROR ? names[r] : "?";
}

static void
expect_ret(struct iobuf *b, int want, int timeout_ms)
{
	char *line;
	size_t len;
	int r;

	r = iobuf_getline(b, &line, &len, timeout_ms);
	ck_assert_msg(r == want, "getline: %s, want %s%s%.*s", rname(r),
	    rname(want), r == IOBUF_LINE ? ": " : "",
	    r == IOBUF_LINE ? (int)len : 0, r == IOBUF_LINE ? line : "");
}

/* The next line is want[0, wlen). */
static void
expect_linen(struct iobuf *b, const char *want, size_t wlen)
{
	char *line = NULL;
	size_t len = 0;
	int r;

	r = iobuf_getline(b, &line, &len, WAIT_MS);
	ck_assert_msg(r == IOBUF_LINE, "getline: %s, want line \"%.*s\"",
	    rname(r), (int)wlen, want);
	ck_assert_msg(len == wlen, "line length %zu, want %zu", len, wlen);
	ck_assert_msg(memcmp(line, want, wlen) == 0, "line \"%.*s\", "
	    "want \"%.*s\"", (int)len, line, (int)wlen, want);
	ck_assert_msg(line[len] == '\0', "line not NUL-terminated");
}

static void
expect_line(struct iobuf *b, const char *want)
{
	expect_linen(b, want, strlen(want));
}

/*
 * Forks a writer that sends data[0, len) in pieces of chunk octets,
 * delay_us apart, then closes its end.  Our copy of the client end is
 * closed so that the reader sees EOF when the writer is done.
 */
static pid_t
writer(const char *data, size_t len, size_t chunk, useconds_t delay_us)
{
	pid_t pid;
	size_t n;
	ssize_t w;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(sv[0]);
		while (len > 0) {
			n = len < chunk ? len : chunk;
			if ((w = write(sv[1], data, n)) <= 0)
				_exit(1);
			data += w;
			len -= (size_t)w;
			if (delay_us > 0)
				usleep(delay_us);
		}
		_exit(0);
	}
	peer_close();
	return pid;
}

static void
reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "writer failed (status %#x)", status);
}

/* An overlong line body: no LF, but full of things that look like
 * commands and line ends, so a tail taken for a command would show. */
static void
fill_body(char *p, size_t len)
{
	static const char pat[] = "QUIT\rDELE 1 NOOP \r";
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat[i % (sizeof(pat) - 1)];
}

START_TEST(test_line_ends)
{
	struct iobuf b;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	puts_peer("USER alice\r\nPASS x\nQUIT\r\n\r\n\nA\rB\r\nC\r\r\n");
	expect_line(&b, "USER alice");
	expect_line(&b, "PASS x");
	expect_line(&b, "QUIT");
	expect_line(&b, "");
	expect_line(&b, "");
	expect_line(&b, "A\rB");
	expect_line(&b, "C\r");		/* one line end, one CR */
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_pipelined)
{
	struct iobuf b;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	puts_peer("A\r\nBB\r\nCCC\r\nDD");
	/* nothing read yet: nothing pending */
	ck_assert(!iobuf_line_pending(&b));
	expect_line(&b, "A");
	ck_assert(iobuf_line_pending(&b));
	expect_line(&b, "BB");
	ck_assert(iobuf_line_pending(&b));
	expect_line(&b, "CCC");
	/* only a partial line left */
	ck_assert(!iobuf_line_pending(&b));
	puts_peer("D\r\n");
	expect_line(&b, "DDD");
	ck_assert(!iobuf_line_pending(&b));
	iobuf_free(&b);
}
END_TEST

/* A forked client sends each octet on its own. */
START_TEST(test_split_writer)
{
	static const char data[] = "RETR 12345\r\nDELE 1\nQUIT\r\n";
	struct iobuf b;
	pid_t pid;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	pid = writer(data, sizeof(data) - 1, 1, 1000);
	expect_line(&b, "RETR 12345");
	expect_line(&b, "DELE 1");
	expect_line(&b, "QUIT");
	expect_ret(&b, IOBUF_EOF, WAIT_MS);
	reap(pid);
	iobuf_free(&b);
}
END_TEST

/* Each octet is read on its own, with a timeout between them: the
 * partial line survives every IOBUF_TIMEOUT. */
START_TEST(test_split_timeouts)
{
	static const char data[] = "TOP 1 10\r\n";
	struct iobuf b;
	size_t i;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	for (i = 0; i < sizeof(data) - 2; i++) {
		put(data + i, 1);
		expect_ret(&b, IOBUF_TIMEOUT, 10);
		ck_assert(!iobuf_line_pending(&b));
	}
	put(data + i, 1);
	expect_line(&b, "TOP 1 10");
	iobuf_free(&b);
}
END_TEST

/*
 * One line of len octets (line end included) under a limit of maxline,
 * followed by "NOOP\r\n", sent by a forked writer in pieces of chunk.
 */
static const struct {
	size_t		 maxline;
	size_t		 len;
	const char	*eol;
	size_t		 chunk;
	useconds_t	 delay_us;
} sizes[] = {
	/* exactly the limit: accepted */
	{ SMALL_LINE,		SMALL_LINE,	"\r\n",	4096, 0 },
	{ SMALL_LINE,		SMALL_LINE,	"\n",	4096, 0 },
	{ SMALL_LINE,		SMALL_LINE,	"\r\n",	1, 200 },
	{ SMALL_LINE,		SMALL_LINE,	"\r\n",	SMALL_LINE - 1, 2000 },
	{ PARAM_LINE_MIN,	PARAM_LINE_MIN,	"\r\n",	4096, 0 },
	{ PARAM_LINE_DEFAULT,	PARAM_LINE_DEFAULT, "\r\n", 4096, 0 },
	{ PARAM_LINE_DEFAULT,	PARAM_LINE_DEFAULT, "\r\n", 100, 1000 },
	{ PARAM_LINE_MAX,	PARAM_LINE_MAX,	"\r\n",	65536, 0 },
	/* one more: too long */
	{ SMALL_LINE,		SMALL_LINE + 1,	"\r\n",	4096, 0 },
	{ SMALL_LINE,		SMALL_LINE + 1,	"\n",	4096, 0 },
	{ SMALL_LINE,		SMALL_LINE + 1,	"\r\n",	1, 200 },
	{ SMALL_LINE,		SMALL_LINE + 2,	"\r\n",	4096, 0 },
	{ SMALL_LINE,		2 * SMALL_LINE,	"\r\n",	4096, 0 },
	{ SMALL_LINE,		2 * SMALL_LINE + 1, "\r\n", 4096, 0 },
	{ PARAM_LINE_MIN,	PARAM_LINE_MIN + 1, "\r\n", 4096, 0 },
	{ PARAM_LINE_DEFAULT,	PARAM_LINE_DEFAULT + 1, "\r\n", 4096, 0 },
	{ PARAM_LINE_DEFAULT,	PARAM_LINE_DEFAULT + 1, "\r\n", 100, 1000 },
	{ PARAM_LINE_MAX,	PARAM_LINE_MAX + 1, "\r\n", 65536, 0 },
	/* tails far longer than the buffer, in one go or in pieces */
	{ SMALL_LINE,		5000,		"\r\n",	7, 0 },
	{ SMALL_LINE,		5000,		"\r\n",	1000, 500 },
	{ PARAM_LINE_DEFAULT,	100000,		"\r\n",	100000, 0 },
	{ PARAM_LINE_DEFAULT,	1000000,	"\n",	4093, 0 },
};

START_TEST(test_limit)
{
	size_t maxline = sizes[_i].maxline, len = sizes[_i].len;
	size_t elen = strlen(sizes[_i].eol), body = len - elen;
	bool toolong = len > maxline;
	struct iobuf b;
	char *data;
	pid_t pid;

	data = malloc(len + 6);
	ck_assert_ptr_nonnull(data);
	fill_body(data, body);
	memcpy(data + body, sizes[_i].eol, elen);
	memcpy(data + len, "NOOP\r\n", 6);
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], maxline), 0);
	pid = writer(data, len + 6, sizes[_i].chunk, sizes[_i].delay_us);
	if (toolong)
		expect_ret(&b, IOBUF_TOOLONG, WAIT_MS);
	else
		expect_linen(&b, data, body);
	/* once only, and the tail is not a command */
	expect_line(&b, "NOOP");
	expect_ret(&b, IOBUF_EOF, WAIT_MS);
	reap(pid);
	iobuf_free(&b);
	free(data);
}
END_TEST

/* A line of exactly the limit after pipelined data (the buffer must be
 * compacted, not counted from its start). */
START_TEST(test_limit_after_pipelined)
{
	char data[3 + SMALL_LINE + 1];
	struct iobuf b;

	memcpy(data, "A\r\n", 3);
	fill_body(data + 3, SMALL_LINE - 2);
	memcpy(data + 3 + SMALL_LINE - 2, "\r\n", 2);
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], SMALL_LINE), 0);
	put(data, 3 + SMALL_LINE);
	expect_line(&b, "A");
	expect_linen(&b, data + 3, SMALL_LINE - 2);
	/* and an overlong one right after a pipelined line */
	puts_peer("NOOP\r\n0123456789abcdefXYZ\r\nSTAT\r\n");
	expect_line(&b, "NOOP");
	expect_ret(&b, IOBUF_TOOLONG, WAIT_MS);
	expect_line(&b, "STAT");
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	iobuf_free(&b);
}
END_TEST

/* The tail of an overlong line arrives in several later reads. */
START_TEST(test_toolong_tail_later)
{
	char body[3 * SMALL_LINE];
	struct iobuf b;

	fill_body(body, sizeof(body));
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], SMALL_LINE), 0);
	put(body, SMALL_LINE + 4);
	expect_ret(&b, IOBUF_TOOLONG, WAIT_MS);
	put(body, 10);
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	put(body, sizeof(body));
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	ck_assert(!iobuf_line_pending(&b));
	put("\r", 1);
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	puts_peer("\nNOOP\r\n");
	expect_line(&b, "NOOP");
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_two_toolong)
{
	char data[200];
	struct iobuf b;
	size_t n = 0;

	fill_body(data, 40);
	memcpy(data + 40, "\r\n", 2);
	fill_body(data + 42, SMALL_LINE - 1);
	memcpy(data + 42 + SMALL_LINE - 1, "\r\n", 2);
	n = 42 + SMALL_LINE + 1;
	memcpy(data + n, "NOOP\r\n", 6);
	n += 6;
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], SMALL_LINE), 0);
	put(data, n);
	expect_ret(&b, IOBUF_TOOLONG, WAIT_MS);
	expect_ret(&b, IOBUF_TOOLONG, WAIT_MS);
	expect_line(&b, "NOOP");
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_nul)
{
	struct iobuf b;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	put("AB\0CD\r\n\0\r\n\0\0\0\nE\0\r\n", 19);
	expect_linen(&b, "AB\0CD", 5);
	expect_linen(&b, "\0", 1);
	expect_linen(&b, "\0\0\0", 3);
	expect_linen(&b, "E\0", 2);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_eof)
{
	struct iobuf b;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	puts_peer("NOOP\r\nQUI");
	peer_close();
	expect_line(&b, "NOOP");
	/* a last line without LF is not a command */
	expect_ret(&b, IOBUF_EOF, WAIT_MS);
	expect_ret(&b, IOBUF_EOF, WAIT_MS);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_eof_empty)
{
	struct iobuf b;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	peer_close();
	expect_ret(&b, IOBUF_EOF, WAIT_MS);
	iobuf_free(&b);
}
END_TEST

/* EOF in the middle of an overlong line, and of its tail. */
START_TEST(test_eof_toolong)
{
	char body[3 * SMALL_LINE];
	struct iobuf b;

	fill_body(body, sizeof(body));
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], SMALL_LINE), 0);
	put(body, sizeof(body));
	peer_close();
	expect_ret(&b, IOBUF_TOOLONG, WAIT_MS);
	expect_ret(&b, IOBUF_EOF, WAIT_MS);
	expect_ret(&b, IOBUF_EOF, WAIT_MS);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_timeout)
{
	struct iobuf b;
	long long t0, dt;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	t0 = now_ms();
	expect_ret(&b, IOBUF_TIMEOUT, SHORT_MS);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= SHORT_MS - 1 && dt < SHORT_MS + 500,
	    "timed out after %lld ms, want %d", dt, SHORT_MS);
	/* a partial line survives the timeout */
	puts_peer("NO");
	t0 = now_ms();
	expect_ret(&b, IOBUF_TIMEOUT, SHORT_MS);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= SHORT_MS - 1 && dt < SHORT_MS + 500,
	    "timed out after %lld ms, want %d", dt, SHORT_MS);
	puts_peer("OP\r\n");
	expect_line(&b, "NOOP");
	iobuf_free(&b);
}
END_TEST

/* The timeout is a deadline: a client trickling octets without ever
 * ending the line does not extend it. */
START_TEST(test_timeout_trickle)
{
	char body[200];
	struct iobuf b;
	long long t0, dt;
	pid_t pid;
	int status;

	fill_body(body, sizeof(body));
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	pid = writer(body, sizeof(body), 1, 20000);
	t0 = now_ms();
	expect_ret(&b, IOBUF_TIMEOUT, SHORT_MS);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= SHORT_MS - 1 && dt < SHORT_MS + 500,
	    "timed out after %lld ms, want %d", dt, SHORT_MS);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_unread)
{
	static const char rest[] = "PASS b\r\nSTAT\r\nLI";
	struct iobuf b;
	const char *u;
	size_t ulen;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	u = iobuf_unread(&b, &ulen);
	ck_assert_uint_eq(ulen, 0);
	puts_peer("USER a\r\n");
	puts_peer(rest);
	expect_line(&b, "USER a");
	u = iobuf_unread(&b, &ulen);
	ck_assert_uint_eq(ulen, sizeof(rest) - 1);
	ck_assert(memcmp(u, rest, ulen) == 0);
	expect_line(&b, "PASS b");
	u = iobuf_unread(&b, &ulen);
	ck_assert_uint_eq(ulen, 8);
	ck_assert(memcmp(u, "STAT\r\nLI", ulen) == 0);
	expect_line(&b, "STAT");
	u = iobuf_unread(&b, &ulen);
	ck_assert_uint_eq(ulen, 2);
	ck_assert(memcmp(u, "LI", ulen) == 0);
	iobuf_free(&b);
}
END_TEST

START_TEST(test_inject)
{
	char big[SMALL_LINE + 1];
	struct iobuf b;
	const char *u;
	size_t ulen;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	ck_assert_int_eq(iobuf_inject(&b, "PASS b\r\nSTAT\r\n", 14), 0);
	ck_assert(iobuf_line_pending(&b));
	expect_line(&b, "PASS b");
	ck_assert(iobuf_line_pending(&b));
	expect_line(&b, "STAT");
	ck_assert(!iobuf_line_pending(&b));
	/* then the socket */
	puts_peer("QUIT\r\n");
	expect_line(&b, "QUIT");
	/* a partial line completed from the socket */
	ck_assert_int_eq(iobuf_inject(&b, "LI", 2), 0);
	ck_assert(!iobuf_line_pending(&b));
	puts_peer("ST\r\n");
	expect_line(&b, "LIST");
	/* injected data is appended to what is already buffered */
	puts_peer("DELE 1\r\nRS");
	expect_line(&b, "DELE 1");
	ck_assert_int_eq(iobuf_inject(&b, "ET\r\n", 4), 0);
	ck_assert(iobuf_line_pending(&b));
	expect_line(&b, "RSET");
	expect_ret(&b, IOBUF_TIMEOUT, IDLE_MS);
	iobuf_free(&b);

	/* bounds: exactly maxline fits, one more does not */
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], SMALL_LINE), 0);
	ck_assert_int_eq(iobuf_inject(&b, big, SMALL_LINE + 1), -1);
	ck_assert_int_eq(iobuf_inject(&b, big, SMALL_LINE - 2), 0);
	ck_assert_int_eq(iobuf_inject(&b, "\r\n\r", 3), -1);
	ck_assert_int_eq(iobuf_inject(&b, "\r\n", 2), 0);
	u = iobuf_unread(&b, &ulen);
	ck_assert_uint_eq(ulen, SMALL_LINE);
	ck_assert(memcmp(u, big, SMALL_LINE - 2) == 0);
	expect_linen(&b, big, SMALL_LINE - 2);
	iobuf_free(&b);
}
END_TEST

/* The login hand-off: the unread input of one reader, injected into a
 * fresh one on the same socket, reads on as if nothing had happened. */
START_TEST(test_handoff)
{
	struct iobuf b1, b2;
	const char *u;
	size_t ulen;

	ck_assert_int_eq(iobuf_init(&b1, sv[0], sv[0], PARAM_LINE_DEFAULT),
	    0);
	ck_assert_int_eq(iobuf_init(&b2, sv[0], sv[0], PARAM_LINE_DEFAULT),
	    0);
	puts_peer("USER a\r\nPASS b\r\nSTAT\r\nLIST 1\r\nRE");
	expect_line(&b1, "USER a");
	expect_line(&b1, "PASS b");
	u = iobuf_unread(&b1, &ulen);
	ck_assert_int_eq(iobuf_inject(&b2, u, ulen), 0);
	iobuf_free(&b1);
	puts_peer("TR 1\r\n");
	expect_line(&b2, "STAT");
	expect_line(&b2, "LIST 1");
	expect_line(&b2, "RETR 1");
	expect_ret(&b2, IOBUF_TIMEOUT, IDLE_MS);
	iobuf_free(&b2);
}
END_TEST

/* Reads exactly len octets from the client end, then checks nothing
 * more is there. */
static void
get_exact(char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	char extra;

	while (got < len) {
		n = read(sv[1], buf + got, len - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(recv(sv[1], &extra, 1, MSG_DONTWAIT), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void
assert_nothing_sent(void)
{
	char c;

	errno = 0;
	ck_assert_int_eq(recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
}

START_TEST(test_write_batching)
{
	char want[8192], got[sizeof(want)];
	struct iobuf b;
	size_t wlen = 0;
	int i, n;

	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	for (i = 1; i <= 200; i++) {
		n = snprintf(want + wlen, sizeof(want) - wlen, "%d %d\r\n",
		    i, i * 117);
		ck_assert(n > 0 && (size_t)n < sizeof(want) - wlen);
		if (i % 2)
			ck_assert_int_eq(iobuf_write(&b, want + wlen,
			    (size_t)n), 0);
		else
			ck_assert_int_eq(iobuf_printf(&b, "%d %d\r\n", i,
			    i * 117), 0);
		wlen += (size_t)n;
		assert_nothing_sent();
	}
	ck_assert_int_eq(iobuf_write(&b, "", 0), 0);
	assert_nothing_sent();
	ck_assert_int_eq(iobuf_flush(&b), 0);
	get_exact(got, wlen);
	ck_assert(memcmp(got, want, wlen) == 0);
	ck_assert_uint_eq(b.out_total, wlen);
	/* an empty flush sends nothing */
	ck_assert_int_eq(iobuf_flush(&b), 0);
	assert_nothing_sent();
	iobuf_free(&b);
}
END_TEST

/* A full buffer goes out by itself. */
START_TEST(test_write_fills)
{
	char *want, *got;
	struct iobuf b;
	size_t off;

	want = malloc(PARAM_OBUF_SIZE + 10);
	got = malloc(PARAM_OBUF_SIZE + 10);
	ck_assert(want != NULL && got != NULL);
	fill_body(want, PARAM_OBUF_SIZE + 10);
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	for (off = 0; off < PARAM_OBUF_SIZE - 1; off += 1000)
		ck_assert_int_eq(iobuf_write(&b, want + off,
		    off + 1000 > PARAM_OBUF_SIZE - 1 ?
		    PARAM_OBUF_SIZE - 1 - off : 1000), 0);
	assert_nothing_sent();
	ck_assert_int_eq(iobuf_write(&b, want + PARAM_OBUF_SIZE - 1, 11), 0);
	get_exact(got, PARAM_OBUF_SIZE);
	ck_assert(memcmp(got, want, PARAM_OBUF_SIZE) == 0);
	ck_assert_int_eq(iobuf_flush(&b), 0);
	get_exact(got, 10);
	ck_assert(memcmp(got, want + PARAM_OBUF_SIZE, 10) == 0);
	iobuf_free(&b);
	free(want);
	free(got);
}
END_TEST

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 13);
}

/*
 * Writes (small, large, small) with a large part far bigger than the
 * output buffer and the socket buffer; a forked reader compares every
 * octet.
 */
static const struct {
	size_t	pre;
	size_t	large;
	size_t	post;
} larges[] = {
	{ 0,	PARAM_OBUF_SIZE,		0 },
	{ 0,	4 * PARAM_OBUF_SIZE + 123,	0 },
	{ 3,	4 * PARAM_OBUF_SIZE + 123,	5 },
	{ PARAM_OBUF_SIZE - 1, 2 * PARAM_OBUF_SIZE, 1 },
	{ 1000,	PARAM_OBUF_SIZE - 1000,		1000 },
	{ 0,	16 * 1024 * 1024 + 7,		0 },
};

START_TEST(test_write_large)
{
	size_t total = larges[_i].pre + larges[_i].large + larges[_i].post;
	char *data, *buf;
	struct iobuf b;
	size_t i, got;
	ssize_t n;
	pid_t pid;
	int status;

	data = malloc(total);
	ck_assert_ptr_nonnull(data);
	for (i = 0; i < total; i++)
		data[i] = (char)pattern(i);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(sv[0]);
		if ((buf = malloc(65536)) == NULL)
			_exit(2);
		for (got = 0;; got += (size_t)n) {
			if ((n = read(sv[1], buf, 65536)) <= 0)
				break;
			if (got + (size_t)n > total ||
			    memcmp(buf, data + got, (size_t)n) != 0)
				_exit(3);
			usleep(got % 3 == 0 ? 100 : 0);	/* a slow reader */
		}
		_exit(n == 0 && got == total ? 0 : 4);
	}
	peer_close();
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	ck_assert_int_eq(iobuf_write(&b, data, larges[_i].pre), 0);
	ck_assert_int_eq(iobuf_write(&b, data + larges[_i].pre,
	    larges[_i].large), 0);
	ck_assert_int_eq(iobuf_write(&b, data + larges[_i].pre +
	    larges[_i].large, larges[_i].post), 0);
	ck_assert_int_eq(iobuf_flush(&b), 0);
	ck_assert_uint_eq(b.out_total, total);
	close(sv[0]);
	sv[0] = -1;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "reader saw wrong data (status %#x)", status);
	iobuf_free(&b);
	free(data);
}
END_TEST

/* The client is gone: -1, and no SIGPIPE. */
START_TEST(test_write_closed_peer)
{
	char *big;
	struct iobuf b;

	ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	peer_close();
	ck_assert_int_eq(iobuf_write(&b, "+OK\r\n", 5), 0);	/* queued */
	ck_assert_int_eq(iobuf_flush(&b), -1);
	ck_assert(b.werror);
	ck_assert_int_eq(iobuf_write(&b, "+OK\r\n", 5), -1);
	ck_assert_int_eq(iobuf_printf(&b, "+OK %d\r\n", 1), -1);
	ck_assert_int_eq(iobuf_flush(&b), -1);
	iobuf_free(&b);

	/* a large write, which bypasses the buffer */
	big = calloc(1, 2 * PARAM_OBUF_SIZE);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	ck_assert_int_eq(iobuf_write(&b, big, 2 * PARAM_OBUF_SIZE), -1);
	ck_assert_int_eq(iobuf_flush(&b), -1);
	iobuf_free(&b);
	free(big);
}
END_TEST

/* Responses: as given up to 512 octets, cut to 512 ending in CRLF. */
static const struct {
	size_t	text;		/* octets of "x" after "+OK " */
	size_t	want;		/* octets sent */
} resps[] = {
	{ 0,					6 },
	{ 100,					106 },
	{ PARAM_RESP_MAX - 7,			PARAM_RESP_MAX - 1 },
	{ PARAM_RESP_MAX - 6,			PARAM_RESP_MAX },
	{ PARAM_RESP_MAX - 5,			PARAM_RESP_MAX },
	{ PARAM_RESP_MAX - 4,			PARAM_RESP_MAX },
	{ PARAM_RESP_MAX + 100,			PARAM_RESP_MAX },
	{ 10000,				PARAM_RESP_MAX },
};

START_TEST(test_printf_limit)
{
	char text[10001], got[PARAM_RESP_MAX + 1];
	struct iobuf b;
	size_t i;

	memset(text, 'x', resps[_i].text);
	text[resps[_i].text] = '\0';
	ck_assert_int_eq(iobuf_init(&b, sv[0], sv[0], PARAM_LINE_DEFAULT), 0);
	ck_assert_int_eq(iobuf_printf(&b, "+OK %s\r\n", text), 0);
	ck_assert_int_eq(iobuf_flush(&b), 0);
	ck_assert_uint_eq(b.out_total, resps[_i].want);
	get_exact(got, resps[_i].want);
	ck_assert(memcmp(got, "+OK ", 4) == 0);
	for (i = 4; i < resps[_i].want - 2; i++)
		ck_assert_int_eq(got[i], 'x');
	ck_assert(memcmp(got + resps[_i].want - 2, "\r\n", 2) == 0);
	iobuf_free(&b);
}
END_TEST

static Suite *
iobuf_suite(void)
{
	Suite *s = suite_create("iobuf");
	TCase *tr = tcase_create("read");
	TCase *tw = tcase_create("write");

	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_set_timeout(tr, 60);
	tcase_add_test(tr, test_line_ends);
	tcase_add_test(tr, test_pipelined);
	tcase_add_test(tr, test_split_writer);
	tcase_add_test(tr, test_split_timeouts);
	tcase_add_loop_test(tr, test_limit, 0,
	    (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tr, test_limit_after_pipelined);
	tcase_add_test(tr, test_toolong_tail_later);
	tcase_add_test(tr, test_two_toolong);
	tcase_add_test(tr, test_nul);
	tcase_add_test(tr, test_eof);
	tcase_add_test(tr, test_eof_empty);
	tcase_add_test(tr, test_eof_toolong);
	tcase_add_test(tr, test_timeout);
	tcase_add_test(tr, test_timeout_trickle);
	tcase_add_test(tr, test_unread);
	tcase_add_test(tr, test_inject);
	tcase_add_test(tr, test_handoff);
	suite_add_tcase(s, tr);

	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_set_timeout(tw, 60);
	tcase_add_test(tw, test_write_batching);
	tcase_add_test(tw, test_write_fills);
	tcase_add_loop_test(tw, test_write_large, 0,
	    (int)(sizeof(larges) / sizeof(larges[0])));
	tcase_add_test(tw, test_write_closed_peer);
	tcase_add_loop_test(tw, test_printf_limit, 0,
	    (int)(sizeof(resps) / sizeof(resps[0])));
	suite_add_tcase(s, tw);
	return s;
}

TU_MAIN(iobuf_suite)
