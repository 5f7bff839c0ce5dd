/*
 * check_msgio.c: the stored-to-wire converter: CRLF, hidden headers, mboxrd
 * unescaping, dot-stuffing, TOP limits, exact octet counts, and that any
 * chunking of the input gives the same output as one block.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "msgio.h"

struct obuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 calls;
	size_t	 min_piece;	/* smallest piece but the last one */
	size_t	 last_piece;
	int	 fail_after;	/* calls before the sink fails; -1 never */
};

static int
sink(void *arg, const char *buf, size_t len)
{
	struct obuf *o = arg;

	ck_assert_uint_gt(len, 0);
	if (o->fail_after >= 0 && (int)o->calls >= o->fail_after)
		return -1;
	if (o->calls > 0 && o->last_piece < o->min_piece)
		o->min_piece = o->last_piece;
	o->calls++;
	o->last_piece = len;
	if (o->len + len + 1 > o->cap) {
		o->cap = (o->len + len + 1) * 2;
		o->p = realloc(o->p, o->cap);
		ck_assert_ptr_nonnull(o->p);
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	o->p[o->len] = '\0';
	return 0;
}

static void
obuf_init(struct obuf *o)
{
	memset(o, 0, sizeof(*o));
	o->min_piece = SIZE_MAX;
	o->fail_after = -1;
}

/*
 * Converts in[0, n) fed in chunks of the sizes in chunks[] (cycled; NULL
 * or 0 means one block).  Returns the struct msgio's out_octets.
 */
static uint64_t
convert(const char *in, size_t n, bool dotstuff, bool mboxrd, int64_t limit,
    const size_t *chunks, size_t nchunks, struct obuf *o, uint64_t *lines_r)
{
	struct msgio *m = malloc(sizeof(*m));
	size_t pos = 0, c, ci = 0;
	uint64_t oct;

	ck_assert_ptr_nonnull(m);
	obuf_init(o);
	msgio_init(m, dotstuff, mboxrd, limit, sink, o);
	while (pos < n) {
		c = nchunks > 0 ? chunks[ci++ % nchunks] : n;
		if (c == 0 || c > n - pos)
			c = n - pos;
		ck_assert_int_eq(msgio_feed(m, in + pos, c), 0);
		pos += c;
	}
	ck_assert_int_eq(msgio_feed(m, in, 0), 0);
	ck_assert_int_eq(msgio_finish(m), 0);
	oct = m->out_octets;
	if (lines_r != NULL)
		*lines_r = m->out_lines;
	free(m);
	return oct;
}

static size_t
count_crlf(const char *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			k++;
	return k;
}

#define DS	1	/* dot-stuff */
#define RD	2	/* mboxrd */

static const struct conv_case {
	const char	*name;
	const char	*in;
	size_t		 inlen;		/* 0: strlen */
	int		 flags;
	int64_t		 limit;
	const char	*out;
	size_t		 outlen;	/* 0: strlen */
	uint64_t	 lines;
} conv_cases[] = {
	{ "lf", "a\nb\n", 0, 0, -1, "a\r\nb\r\n", 0, 2 },
	{ "crlf kept once", "a\r\nb\r\n", 0, 0, -1, "a\r\nb\r\n", 0, 2 },
	{ "no final lf", "a\nb", 0, 0, -1, "a\r\nb\r\n", 0, 2 },
	{ "final cr only", "a\nb\r", 0, 0, -1, "a\r\nb\r\n", 0, 2 },
	{ "one cr stripped", "a\r\r\n", 0, 0, -1, "a\r\r\n", 0, 1 },
	{ "bare cr inside", "a\rb\n\r\n", 0, 0, -1, "a\rb\r\n\r\n", 0, 2 },
	{ "empty", "", 0, 0, -1, "", 0, 0 },
	{ "one empty line", "\n", 0, 0, -1, "\r\n", 0, 1 },
	{ "lone cr", "\r", 0, 0, -1, "\r\n", 0, 1 },
	{ "nul bytes", "a\0b\n\0\n", 6, 0, -1, "a\0b\r\n\0\r\n", 8, 2 },
	{ "dots stuffed", "H: 1\n\n.a\n..\n.\nb.\n", 0, DS, -1,
	    "H: 1\r\n\r\n..a\r\n...\r\n..\r\nb.\r\n", 0, 6 },
	{ "dots plain", "H: 1\n\n.a\n..\n.\n", 0, 0, -1,
	    "H: 1\r\n\r\n.a\r\n..\r\n.\r\n", 0, 5 },
	{ "dot in header", ".H: 1\n\n", 0, DS, -1, "..H: 1\r\n\r\n", 0, 2 },
	{ "hidden headers",
	    "Status: RO\nSubject: x\nX-Status: A\nX-Keywords: a\n b\n\tc\n"
	    "X-UID: 5\nx-imap: 1\nX-IMAPbase: 1 2\nstatus:\nFrom: y\n\n"
	    "Status: body\n X\n", 0, 0, -1,
	    "Subject: x\r\nFrom: y\r\n\r\nStatus: body\r\n X\r\n", 0, 5 },
	{ "continuation of kept header", "Subject: a\n b\nStatus: O\n c\n"
	    "\td\nTo: z\n e\n\nx\n", 0, 0, -1,
	    "Subject: a\r\n b\r\nTo: z\r\n e\r\n\r\nx\r\n", 0, 6 },
	{ "near misses kept", "X-Statusx: 1\nStatus : 2\nXStatus: 3\n"
	    "X-UIDL: 4\nStatus\nX-IMAPbas: 5\n", 0, 0, -1,
	    "X-Statusx: 1\r\nStatus : 2\r\nXStatus: 3\r\nX-UIDL: 4\r\n"
	    "Status\r\nX-IMAPbas: 5\r\n", 0, 6 },
	{ "hidden crlf", "Status: RO\r\nA: 1\r\n\r\nStatus: b\r\n", 0, 0, -1,
	    "A: 1\r\n\r\nStatus: b\r\n", 0, 3 },
	{ "hidden last, no lf", "A: 1\nStatus: RO", 0, 0, -1, "A: 1\r\n", 0,
	    1 },
	{ "crlf blank ends header", "A: 1\r\n\r\nX-UID: 3\r\n", 0, 0, -1,
	    "A: 1\r\n\r\nX-UID: 3\r\n", 0, 3 },
	{ "blank with spaces is header", "Status: 1\n \nA: 2\n", 0, 0, -1,
	    "A: 2\r\n", 0, 1 },
	{ "mboxo keeps >From", "\n>From x\n>>From y\n", 0, 0, -1,
	    "\r\n>From x\r\n>>From y\r\n", 0, 3 },
	{ "mboxrd unescapes", "\n>From x\n>>From y\n>Fromx\n>\n>>\nFrom z\n"
	    ">>>From \n> From\n", 0, RD, -1,
	    "\r\nFrom x\r\n>From y\r\n>Fromx\r\n>\r\n>>\r\nFrom z\r\n"
	    ">>From \r\n> From\r\n", 0, 9 },
	{ "mboxrd cr", "\n>From \r\n>>\r\n>Fro", 0, RD, -1,
	    "\r\nFrom \r\n>>\r\n>Fro\r\n", 0, 4 },
	{ "mboxrd in header", ">From a\nB: 1\n", 0, RD, -1,
	    "From a\r\nB: 1\r\n", 0, 2 },
	{ "mboxrd and dots", "\n.>From a\n>.x\n", 0, RD | DS, -1,
	    "\r\n..>From a\r\n>.x\r\n", 0, 3 },
	{ "top 0", "H: 1\nStatus: R\n\nb1\nb2\n", 0, 0, 0,
	    "H: 1\r\n\r\n", 0, 2 },
	{ "top 2", "H: 1\n\nb1\nb2\nb3\n", 0, 0, 2,
	    "H: 1\r\n\r\nb1\r\nb2\r\n", 0, 4 },
	{ "top beyond body", "H: 1\n\nb1\nb2", 0, 0, 10,
	    "H: 1\r\n\r\nb1\r\nb2\r\n", 0, 4 },
	{ "top no blank line", "H: 1\nH: 2\n", 0, 0, 0,
	    "H: 1\r\nH: 2\r\n", 0, 2 },
	{ "top 1 stuffed", "H: 1\r\n\r\n.b1\r\n.b2\r\n", 0, DS, 1,
	    "H: 1\r\n\r\n..b1\r\n", 0, 3 },
	{ "top counts empty lines", "H: 1\n\n\n\nx\n", 0, 0, 2,
	    "H: 1\r\n\r\n\r\n\r\n", 0, 4 },
};

static void
check_case(const struct conv_case *c, const size_t *chunks, size_t nchunks)
{
	struct obuf o;
	size_t inlen = c->inlen ? c->inlen : strlen(c->in);
	size_t outlen = c->outlen ? c->outlen : strlen(c->out);
	uint64_t oct, lines, stuffed = 0;
	size_t i;

	oct = convert(c->in, inlen, c->flags & DS, c->flags & RD, c->limit,
	    chunks, nchunks, &o, &lines);
	ck_assert_msg(o.len == outlen &&
	    memcmp(o.p ? o.p : "", c->out, outlen) == 0,
	    "%s: output differs (got %zu octets)", c->name, o.len);
	ck_assert_uint_eq(lines, c->lines);
	ck_assert_uint_eq(count_crlf(o.p ? o.p : "", o.len) >= lines, 1);
	/* out_octets leaves the stuffed dots out (RFC 1939 §11) */
	if (c->flags & DS)
		for (i = 0; i < o.len; i++)
			if (o.p[i] == '.' && (i == 0 || o.p[i - 1] == '\n'))
				stuffed++;
	ck_assert_uint_eq(oct + stuffed, o.len);
	free(o.p);
}

START_TEST(test_convert_whole)
{
	const struct conv_case *c = &conv_cases[_i];
	uint64_t lines;
	size_t inlen = c->inlen ? c->inlen : strlen(c->in);
	size_t outlen = c->outlen ? c->outlen : strlen(c->out);

	check_case(c, NULL, 0);
	/* msgio_octets: the size of the untruncated, unstuffed output */
	if (c->limit < 0 && !(c->flags & DS)) {
		ck_assert_uint_eq(msgio_octets(c->in, inlen, c->flags & RD,
		    &lines), outlen);
		ck_assert_uint_eq(lines, c->lines);
	}
}
END_TEST

START_TEST(test_convert_chunked)
{
	const struct conv_case *c = &conv_cases[_i];
	size_t inlen = c->inlen ? c->inlen : strlen(c->in);
	size_t one = 1, split[2], k;

	/* one octet at a time, then every split into two and three */
	check_case(c, &one, 1);
	for (k = 1; k < inlen; k++) {
		split[0] = k;
		split[1] = inlen;
		check_case(c, split, 2);
		split[1] = 1;
		check_case(c, split, 2);
	}
}
END_TEST

/* xorshift64: reproducible pseudo-random input */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const char *const pieces[] = {
	"Status: RO", "X-Status: F", "X-UID: 7", "X-Keywords: a", " cont",
	"\tcont", "Subject: hi", ".", "..", ".x", ">From x", ">>From y",
	">>>", ">Fro", "From z", "\r", "", "X-IMAPbase: 1 2", "x-imap: 3",
	"body", "\r\r", "a\rb", "X-UIDL: abc", "statUS: x", "X-IMAPbase",
	"0123456789abcdefghijklmnopqrstuvwxyz0123456789",
};

/* A random stored message of about nlines lines into *len_r. */
static char *
random_message(size_t nlines, size_t *len_r)
{
	size_t cap = 64 + nlines * 64, n = 0, i, k, pl;
	char *b = malloc(cap);
	const char *pc;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < nlines; i++) {
		pc = pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
		pl = strlen(pc);
		memcpy(b + n, pc, pl);
		n += pl;
		if (rng() % 8 == 0)
			b[n++] = '\0';
		if (rng() % 4 == 0)
			b[n++] = '\r';
		if (i + 1 < nlines || rng() % 2)
			b[n++] = '\n';
		for (k = rng() % 3; k > 0 && rng() % 4 == 0; k--)
			b[n++] = '\n';	/* blank lines, some in the header */
		ck_assert_uint_lt(n + 64, cap);
	}
	*len_r = n;
	return b;
}

/*
 * Property: for random messages, every random chunking gives the output
 * of the one-block feed, and out_octets/out_lines equal msgio_octets.
 */
START_TEST(test_random_chunking)
{
	struct obuf whole, part;
	size_t len, chunks[8], i, k;
	uint64_t oct, oct2, lines, lines2, octs;
	char *msg;
	int64_t limit;
	bool ds, rd;

	rng_state = 0x9e3779b97f4a7c15ULL + (uint64_t)_i * 7919;
	for (k = 0; k < 200; k++) {
		msg = random_message(1 + rng() % 40, &len);
		ds = rng() % 2;
		rd = rng() % 2;
		limit = rng() % 3 == 0 ? (int64_t)(rng() % 5) : -1;
		oct = convert(msg, len, ds, rd, limit, NULL, 0, &whole,
		    &lines);
		for (i = 0; i < 8; i++)
			chunks[i] = 1 + rng() % 20;
		oct2 = convert(msg, len, ds, rd, limit, chunks, 8, &part,
		    &lines2);
		ck_assert_uint_eq(whole.len, part.len);
		ck_assert_int_eq(memcmp(whole.p ? whole.p : "",
		    part.p ? part.p : "", whole.len), 0);
		ck_assert_uint_eq(oct, oct2);
		ck_assert_uint_eq(lines, lines2);
		if (limit < 0) {
			octs = msgio_octets(msg, len, rd, &lines2);
			ck_assert_uint_eq(octs, oct);
			ck_assert_uint_eq(lines2, lines);
			if (!ds)
				ck_assert_uint_eq(whole.len, oct);
			else
				ck_assert_uint_ge(whole.len, oct);
		}
		free(whole.p);
		free(part.p);
		free(msg);
	}
}
END_TEST

/* Many short lines reach the sink in large pieces, not line by line. */
START_TEST(test_sink_pieces)
{
	size_t n = 200000, i;
	char *in = malloc(n);
	struct obuf o;
	uint64_t oct;

	ck_assert_ptr_nonnull(in);
	for (i = 0; i < n; i++)
		in[i] = i % 10 == 9 ? '\n' : 'a';
	oct = convert(in, n, true, false, -1, NULL, 0, &o, NULL);
	ck_assert_uint_eq(oct, n + n / 10);
	ck_assert_uint_eq(o.len, oct);
	ck_assert_uint_le(o.calls, (n + n / 10) / (MSGIO_OBUF / 2) + 2);
	ck_assert_uint_ge(o.min_piece, MSGIO_OBUF / 2);
	free(o.p);
	free(in);
}
END_TEST

/* A line longer than any buffer, split anywhere, comes out whole. */
START_TEST(test_long_line)
{
	size_t n = 3 * 1024 * 1024 + 17, i, chunks[] = { 4093, 1, 65536 };
	char *in = malloc(n);
	struct obuf o;
	uint64_t oct, lines;

	ck_assert_ptr_nonnull(in);
	for (i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	in[0] = '.';
	in[n - 1] = '\r';
	oct = convert(in, n, true, false, -1, chunks, 3, &o, &lines);
	ck_assert_uint_eq(lines, 1);
	ck_assert_uint_eq(oct, n - 1 + 2);
	ck_assert_uint_eq(o.len, n + 2);	/* the stuffed dot */
	ck_assert_int_eq(o.p[0], '.');
	ck_assert_int_eq(memcmp(o.p + 1, in, n - 1), 0);
	ck_assert_int_eq(memcmp(o.p + n, "\r\n", 2), 0);
	ck_assert_uint_eq(msgio_octets(in, n, false, NULL), oct);
	free(o.p);
	free(in);
}
END_TEST

/* A failing sink makes feed/finish fail, and they stay failed. */
START_TEST(test_sink_failure)
{
	struct msgio *m = malloc(sizeof(*m));
	struct obuf o;
	size_t n = 100000, i;
	char *in = malloc(n);
	int r = 0;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(in);
	for (i = 0; i < n; i++)
		in[i] = i % 50 == 49 ? '\n' : 'x';
	obuf_init(&o);
	o.fail_after = _i;
	msgio_init(m, false, false, -1, sink, &o);
	for (i = 0; i < n && r == 0; i += 1000)
		r = msgio_feed(m, in + i, 1000);
	if (r == 0)
		r = msgio_finish(m);
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(msgio_feed(m, "a\n", 2), -1);
	ck_assert_int_eq(msgio_finish(m), -1);
	ck_assert_uint_eq(o.calls, (size_t)_i);
	free(o.p);
	free(in);
	free(m);
}
END_TEST

/* A small message is held until finish: one sink call. */
START_TEST(test_finish_flushes)
{
	struct msgio *m = malloc(sizeof(*m));
	struct obuf o;

	ck_assert_ptr_nonnull(m);
	obuf_init(&o);
	msgio_init(m, true, false, -1, sink, &o);
	ck_assert_int_eq(msgio_feed(m, "A: 1\n\nhello\n.", 13), 0);
	ck_assert_uint_eq(o.calls, 0);
	ck_assert_int_eq(msgio_finish(m), 0);
	ck_assert_uint_eq(o.calls, 1);
	ck_assert_str_eq(o.p, "A: 1\r\n\r\nhello\r\n..\r\n");
	ck_assert_uint_eq(m->out_octets, strlen(o.p) - 1);
	ck_assert_uint_eq(m->out_lines, 4);
	free(o.p);
	free(m);
}
END_TEST

/* done tells the caller that TOP needs no more input. */
START_TEST(test_top_done)
{
	struct msgio *m = malloc(sizeof(*m));
	struct obuf o;
	const char *in = "H: 1\n\nb1\nb2\n";

	ck_assert_ptr_nonnull(m);
	obuf_init(&o);
	msgio_init(m, false, false, 1, sink, &o);
	ck_assert_int_eq(msgio_feed(m, in, 8), 0);	/* up to b1 */
	ck_assert(!m->done);
	ck_assert_int_eq(msgio_feed(m, in + 8, strlen(in) - 8), 0);
	ck_assert(m->done);
	ck_assert_int_eq(msgio_finish(m), 0);
	ck_assert_str_eq(o.p, "H: 1\r\n\r\nb1\r\n");
	free(o.p);
	obuf_init(&o);
	msgio_init(m, false, false, 2, sink, &o);
	ck_assert_int_eq(msgio_feed(m, in, strlen(in)), 0);
	ck_assert(!m->done);
	ck_assert_int_eq(msgio_finish(m), 0);
	free(o.p);
	free(m);
}
END_TEST

static Suite *
msgio_suite(void)
{
	Suite *s = suite_create("msgio");
	TCase *tc = tcase_create("convert");
	size_t nc = sizeof(conv_cases) / sizeof(conv_cases[0]);

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_convert_whole, 0, (int)nc);
	tcase_add_loop_test(tc, test_convert_chunked, 0, (int)nc);
	tcase_add_loop_test(tc, test_random_chunking, 0, 10);
	tcase_add_test(tc, test_sink_pieces);
	tcase_add_test(tc, test_long_line);
	tcase_add_loop_test(tc, test_sink_failure, 0, 3);
	tcase_add_test(tc, test_finish_flushes);
	tcase_add_test(tc, test_top_done);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(msgio_suite)
