/*
 * check_mbox.c: the mbox scanner: From_ line validation, splitting of
 * tricky mailboxes, damaged files, hidden metadata and the pseudo-message,
 * exact octet counts against what msgio really sends, UIDL stability,
 * uniqueness and syntax, and the memory cap (session_memory_max).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "mbox.h"
#include "msgio.h"

#define F1	"From alice@example.org Mon Jan  1 10:00:00 2024\n"
#define F2	"From bob@example.org Tue Feb 13 08:30:15 2024\n"
#define F3	"From MAILER-DAEMON Wed Mar  4 05:53 2020\n"

/* ---- From_ lines ---- */

static const struct {
	const char	*line;
	bool		 valid;
} from_cases[] = {
	{ "From a@b Sat Jan  3 01:05:34 1996", true },
	{ "From a@b Sat Jan 13 01:05:34 1996", true },
	{ "From a@b Wed Dec  2 05:53 1992", true },
	{ "From a@b Wed Dec  2 05:53 PST 1992", true },
	{ "From a@b Wed Dec  2 05:53:22 PST 1992", true },
	{ "From a@b Wed Dec  2 05:53 -0700 1992", true },
	{ "From a@b Wed Dec  2 05:53:22 +0100 1992", true },
	{ "From a@b Wed Dec  2 05:53 1992 PST", true },
	{ "From a@b Wed Dec  2 05:53:22 1992 -0700", true },
	{ "From a@b Wed Dec  2 05:53:22 1992 remote from uunet", true },
	{ "From a@b Wed Dec  2 05:53 PST 1992 remote from x", true },
	{ "From a@b Wed Dec  2 05:53:22 1992\r", true },
	{ "From a@b wed dec  2 05:53:22 1992", true },
	{ "From MAILER-DAEMON Mon Jan  1 00:00:00 2024", true },
	{ "From a b c Mon Jan  1 00:00:00 2024", true },
	{ "From \"a b\"@c Mon Jan  1 9:00:00 2024", true },
	{ "From <> Mon Jan  1 00:00:00 2024   ", true },
	{ "From here on we talk about it", false },
	{ "From a@b", false },
	{ "From ", false },
	{ "From", false },
	{ "from a@b Sat Jan  3 01:05:34 1996", false },
	{ ">From a@b Sat Jan  3 01:05:34 1996", false },
	{ "From Sat Jan  3 01:05:34 1996", false },
	{ "From  Sat Jan  3 01:05:34 1996", false },
	{ "From a@b Sat Jan  3 01:05:34", false },
	{ "From a@b Sat Jan  3 1996", false },
	{ "From a@b Sat Foo  3 01:05:34 1996", false },
	{ "From a@b Xyz Jan  3 01:05:34 1996", false },
	{ "From a@b Sat Jan 123 01:05:34 1996", false },
	{ "From a@b Sat Jan  3 25:05:34 1996", false },
	{ "From a@b Sat Jan  3 01:65:34 1996", false },
	{ "From a@b Sat Jan  3 01-05-34 1996", false },
	{ "From a@b Sat Jan  3 01:05:34 96", false },
	{ "From a@b Sat Jan  3 01:05:34 1996 remote from", false },
	{ "From a@b Sat, 3 Jan 1996 01:05:34 +0000", false },
	{ "From a@b Sat Jan  3 01:05:34 1996 +07", false },
};

START_TEST(test_from_line)
{
	const char *l = from_cases[_i].line;

	ck_assert_msg(mbox_is_from_line(l, strlen(l)) == from_cases[_i].valid,
	    "\"%s\" should be %s", l, from_cases[_i].valid ? "valid" :
	    "invalid");
}
END_TEST

START_TEST(test_hidden_header)
{
	static const struct {
		const char *l;
		bool hidden;
	} c[] = {
		{ "Status: RO", true }, { "status:", true },
		{ "X-Status: F", true }, { "X-KEYWORDS: $x", true },
		{ "X-UID: 3", true }, { "X-IMAP: 1 2", true },
		{ "X-IMAPbase: 1 2", true }, { "x-imapbase:", true },
		{ "Status", false }, { "Status : RO", false },
		{ "X-Statuses: 1", false }, { "X-UIDL: abc", false },
		{ "Subject: Status: RO", false }, { " Status: RO", false },
		{ "", false }, { "X-IMAPbas: 1", false },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ck_assert_msg(mbox_hidden_header(c[i].l, strlen(c[i].l)) ==
		    c[i].hidden, "%s", c[i].l);
	/* only a prefix is needed */
	ck_assert(mbox_hidden_header("X-IMAPbase:", MBOX_HIDDEN_PREFIX));
	ck_assert(!mbox_hidden_header("X-IMAPbase:", MBOX_HIDDEN_PREFIX - 1));
}
END_TEST

/* ---- helpers ---- */

struct obuf {
	char	*p;
	size_t	 len;
};

static int
sink(void *arg, const char *buf, size_t len)
{
	struct obuf *o = arg;

	o->p = realloc(o->p, o->len + len + 1);
	ck_assert_ptr_nonnull(o->p);
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	o->p[o->len] = '\0';
	return 0;
}

/* Streams message mm of buf through msgio in chunks of chunk octets. */
static uint64_t
stream(const char *buf, const struct mbox_msg *mm, bool dotstuff,
    bool mboxrd, size_t chunk, struct obuf *o)
{
	struct msgio *m = malloc(sizeof(*m));
	size_t pos = (size_t)mm->hdr, end = (size_t)mm->end, c;
	uint64_t oct;

	ck_assert_ptr_nonnull(m);
	memset(o, 0, sizeof(*o));
	msgio_init(m, dotstuff, mboxrd, -1, sink, o);
	for (; pos < end; pos += c) {
		c = chunk < end - pos ? chunk : end - pos;
		ck_assert_int_eq(msgio_feed(m, buf + pos, c), 0);
	}
	ck_assert_int_eq(msgio_finish(m), 0);
	oct = m->out_octets;
	free(m);
	return oct;
}

/* Scans, which must succeed, and checks the invariants of any scan. */
static void
scan_ok(const char *buf, size_t len, bool mboxrd, struct mbox_scan *s)
{
	off_t bad = 12345;
	char err[128] = "";
	size_t i;
	const struct mbox_msg *m;
	off_t prev = 0;

	ck_assert_msg(mbox_scan_buf(buf, len, mboxrd, s, &bad, err,
	    sizeof(err)) == 0, "scan failed: %s", err);
	ck_assert_int_eq(s->scanned, (off_t)len);
	if (s->has_pseudo)
		prev = s->pseudo_next;
	for (i = 0; i < s->count; i++) {
		m = &s->msgs[i];
		ck_assert_int_eq(m->off, prev);
		ck_assert_int_lt(m->off, m->hdr);
		ck_assert_int_le(m->hdr, m->end);
		ck_assert_int_le(m->end, m->next);
		ck_assert(m->next - m->end <= 2);
		ck_assert_uint_eq(m->sephash, mbox_sephash(buf + m->off,
		    (size_t)(m->hdr - m->off)));
		ck_assert(mbox_is_from_line(buf + m->off,
		    (size_t)(m->hdr - m->off) - (buf[m->hdr - 1] == '\n')));
		prev = m->next;
	}
	if (s->count > 0)
		ck_assert_int_eq(prev, (off_t)len);
}

static void
check_uid_syntax(const struct mbox_scan *s)
{
	size_t i, j, n;
	int c;

	for (i = 0; i < s->count; i++) {
		n = strlen(s->msgs[i].uid);
		/* RFC 1939 §7 */
		ck_assert_uint_ge(n, 1);
		ck_assert_uint_le(n, PARAM_UIDL_MAX);
		for (j = 0; j < n; j++) {
			c = (unsigned char)s->msgs[i].uid[j];
			ck_assert_int_ge(c, 0x21);
			ck_assert_int_le(c, 0x7e);
		}
	}
}

/* ---- splitting: table of mailboxes and the wire form of each message */

#define MAXM	4

static const struct split_case {
	const char	*name;
	const char	*mbox;
	bool		 pseudo;
	size_t		 count;
	const char	*wire[MAXM];
} split_cases[] = {
	{ "two messages", F1 "A: 1\n\nhello\n\n" F2 "B: 2\n\nbye\n", false,
	    2, { "A: 1\r\n\r\nhello\r\n", "B: 2\r\n\r\nbye\r\n" } },
	{ "From in body, no blank line before", F1 "A: 1\n\nx\n"
	    "From bob@x Tue Feb 13 08:30:15 2024\ny\n", false, 1,
	    { "A: 1\r\n\r\nx\r\nFrom bob@x Tue Feb 13 08:30:15 2024\r\n"
	    "y\r\n" } },
	{ "invalid From after blank line", F1 "A: 1\n\nx\n\n"
	    "From here on, we talk\n", false, 1,
	    { "A: 1\r\n\r\nx\r\n\r\nFrom here on, we talk\r\n" } },
	{ ">From kept (mboxo)", F1 "A: 1\n\n>From x\n\n>From " "bob@x Tue "
	    "Feb 13 08:30:15 2024\n", false, 1,
	    { "A: 1\r\n\r\n>From x\r\n\r\n>From bob@x Tue Feb 13 08:30:15 "
	    "2024\r\n" } },
	{ "crlf file", "From a@b Mon Jan  1 10:00:00 2024\r\nA: 1\r\n\r\n"
	    "x\r\n\r\nFrom c@d Mon Jan  1 10:00:01 2024\r\nB: 2\r\n\r\ny\r\n"
	    "\r\n", false, 2, { "A: 1\r\n\r\nx\r\n", "B: 2\r\n\r\ny\r\n" } },
	{ "no trailing newline", F1 "A: 1\n\nlast", false, 1,
	    { "A: 1\r\n\r\nlast\r\n" } },
	{ "timezone and remote from",
	    F1 "A: 1\n\nx\n\nFrom u Wed Dec  2 05:53 PST 1992\nB: 2\n\ny\n\n"
	    "From v Wed Dec  2 05:53:22 1992 -0700 remote from h\nC: 3\n",
	    false, 3, { "A: 1\r\n\r\nx\r\n", "B: 2\r\n\r\ny\r\n",
	    "C: 3\r\n" } },
	{ "only one terminator line dropped", F1 "A: 1\n\nx\n\n\n\n" F2
	    "B: 2\n\n\n\n", false, 2,
	    { "A: 1\r\n\r\nx\r\n\r\n\r\n", "B: 2\r\n\r\n\r\n" } },
	{ "empty bodies", F1 "\n" F2 "\n" F3, false, 3, { "", "", "" } },
	{ "consecutive separators", F1 F2 "A: 1\n\nx\n", false, 2,
	    { "", "A: 1\r\n\r\nx\r\n" } },
	{ "empty body, no newline", "From a@b Mon Jan  1 10:00:00 2024",
	    false, 1, { "" } },
	{ "crlf blank before separator", F1 "A: 1\r\n\r\n" F2 "B: 2\n",
	    false, 2, { "A: 1\r\n", "B: 2\r\n" } },
	{ "lf then crlf blank line", F1 "A: 1\n\r\n" F2 "B: 2\n",
	    false, 2, { "A: 1\r\n", "B: 2\r\n" } },
	{ "hidden headers and continuation", F1 "Status: RO\nX-Status: A\n"
	    "Subject: s\nX-Keywords: a\n b\n\tc\nX-UID: 9\nTo: t\n u\n\n"
	    "Status: in body\n", false, 1,
	    { "Subject: s\r\nTo: t\r\n u\r\n\r\nStatus: in body\r\n" } },
	{ "pseudo-message hidden", F1 "Subject: DON'T DELETE THIS MESSAGE -- "
	    "FOLDER INTERNAL DATA\nX-IMAP: 1234 0000000002\nStatus: RO\n\n"
	    "This text is part of the internal format.\n\n" F2
	    "X-UID: 1\nA: 1\n\nx\n", true, 1, { "A: 1\r\n\r\nx\r\n" } },
	{ "X-IMAPbase pseudo", F1 "X-IMAPbase: 1 2\n\n" F2 "A: 1\n", true,
	    1, { "A: 1\r\n" } },
	{ "X-IMAP later is not pseudo", F1 "A: 1\n\n" F2 "X-IMAP: 1\nB: 2\n",
	    false, 2, { "A: 1\r\n", "B: 2\r\n" } },
	{ "X-IMAP in body is not pseudo", F1 "A: 1\n\nX-IMAP: 1\n", false,
	    1, { "A: 1\r\n\r\nX-IMAP: 1\r\n" } },
	{ "dot lines counted unstuffed", F1 "A: 1\n\n.\n..x\n", false, 1,
	    { "A: 1\r\n\r\n.\r\n..x\r\n" } },
};

/*
 * Scans mbox[0, len) and checks it holds count messages whose wire forms
 * (RETR through msgio, fed in chunks of several sizes) are wire[i], with
 * octets and lines to match.
 */
static void
check_split(const char *name, const char *mbox, size_t len, bool pseudo,
    size_t count, const char *const *wire, const size_t *wlen)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 4096 };
	struct mbox_scan s;
	struct obuf o;
	uint64_t oct, lines;
	size_t i, wl, k;

	scan_ok(mbox, len, false, &s);
	ck_assert_int_eq(s.has_pseudo, pseudo);
	if (pseudo)
		ck_assert_int_eq(s.pseudo_next, s.msgs[0].off);
	ck_assert_uint_eq(s.count, count);
	check_uid_syntax(&s);
	for (i = 0; i < s.count; i++) {
		wl = wlen != NULL ? wlen[i] : strlen(wire[i]);
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			oct = stream(mbox, &s.msgs[i], false, false,
			    chunks[k], &o);
			ck_assert_msg(o.len == wl &&
			    memcmp(o.p ? o.p : "", wire[i], wl) == 0,
			    "%s: message %zu: wire form differs", name, i);
			ck_assert_uint_eq(oct, wl);
			free(o.p);
		}
		/* RFC 1939 §11: LIST is exactly what RETR sends */
		ck_assert_uint_eq(s.msgs[i].octets, wl);
		for (lines = 0, k = 0; k + 1 < wl; k++)
			if (wire[i][k] == '\r' && wire[i][k + 1] == '\n')
				lines++;
		ck_assert_uint_eq(s.msgs[i].lines, lines);
	}
	mbox_scan_free(&s);
	ck_assert_ptr_null(s.msgs);
}

START_TEST(test_split)
{
	const struct split_case *c = &split_cases[_i];

	check_split(c->name, c->mbox, strlen(c->mbox), c->pseudo, c->count,
	    c->wire, NULL);
}
END_TEST

START_TEST(test_split_nul)
{
	static const char mbox[] = F1 "A: \0\n\n\0x\0\n\n" F2 "\0";
	static const char *const wire[] = { "A: \0\r\n\r\n\0x\0\r\n",
	    "\0\r\n" };
	static const size_t wlen[] = { 13, 3 };

	check_split("nul", mbox, sizeof(mbox) - 1, false, 2, wire, wlen);
}
END_TEST

static const struct {
	const char	*mbox;
	size_t		 len;
} damaged_cases[] = {
	{ "Hello\n" F1 "A: 1\n", 0 },
	{ "\n" F1 "A: 1\n", 0 },
	{ "From nobody\nA: 1\n", 0 },
	{ "From nobody", 0 },
	{ ">From a@b Mon Jan  1 10:00:00 2024\n", 0 },
	{ "\0From a@b Mon Jan  1 10:00:00 2024\n", 37 },
	{ " From a@b Mon Jan  1 10:00:00 2024\n", 0 },
	{ "F", 0 },
};

START_TEST(test_damaged)
{
	const char *b = damaged_cases[_i].mbox;
	size_t len = damaged_cases[_i].len ? damaged_cases[_i].len : strlen(b);
	struct mbox_scan s;
	off_t bad = -7;
	char err[128] = "";

	ck_assert_int_eq(mbox_scan_buf(b, len, false, &s, &bad, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(bad, 0);
	ck_assert_str_ne(err, "");
	ck_assert_ptr_null(s.msgs);
	ck_assert_uint_eq(s.count, 0);
	/* a short reason buffer is cut, still terminated */
	ck_assert_int_eq(mbox_scan_buf(b, len, false, &s, &bad, err, 5), -1);
	ck_assert_uint_eq(strlen(err), 4);
}
END_TEST

START_TEST(test_empty_file)
{
	struct mbox_scan s;

	scan_ok("", 0, false, &s);
	ck_assert_uint_eq(s.count, 0);
	ck_assert(!s.has_pseudo);
	mbox_scan_free(&s);
}
END_TEST

START_TEST(test_long_lines)
{
	size_t big = 2 * 1024 * 1024, hl = strlen(F1), len, i;
	char *b = malloc(2 * (hl + big + 8));
	struct mbox_scan s;
	struct obuf o;

	ck_assert_ptr_nonnull(b);
	/* message 1: one huge line; message 2: a huge header line */
	memcpy(b, F1 "\n", hl + 1);
	len = hl + 1;
	memset(b + len, 'x', big);
	len += big;
	memcpy(b + len, "\n\n" F2, 2 + strlen(F2));
	len += 2 + strlen(F2);
	memcpy(b + len, "Subject: ", 9);
	len += 9;
	for (i = 0; i < big; i++)
		b[len++] = (char)('a' + i % 26);
	scan_ok(b, len, false, &s);
	ck_assert_uint_eq(s.count, 2);
	ck_assert_uint_eq(s.msgs[0].octets, 2 + big + 2);
	ck_assert_uint_eq(s.msgs[0].lines, 2);
	ck_assert_uint_eq(s.msgs[1].octets, 9 + big + 2);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(stream(b, &s.msgs[i], true, false, 65536,
		    &o), s.msgs[i].octets);
		ck_assert_uint_eq(o.len, s.msgs[i].octets);
		free(o.p);
	}
	mbox_scan_free(&s);
	free(b);
}
END_TEST

START_TEST(test_mboxrd_octets)
{
	const char *b = F1 "A: 1\n\n>From x\n>>From y\n>Fromz\n";
	struct mbox_scan s;
	struct obuf o;
	uint64_t plain;

	scan_ok(b, strlen(b), false, &s);
	plain = s.msgs[0].octets;
	mbox_scan_free(&s);
	scan_ok(b, strlen(b), true, &s);
	ck_assert_uint_eq(s.msgs[0].octets, plain - 2);
	ck_assert_uint_eq(stream(b, &s.msgs[0], false, true, 3, &o),
	    s.msgs[0].octets);
	ck_assert_str_eq(o.p, "A: 1\r\n\r\nFrom x\r\n>From y\r\n>Fromz\r\n");
	free(o.p);
	mbox_scan_free(&s);
}
END_TEST

/* ---- random mailboxes ---- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The last two may change the count or the ids of other messages. */
static const char *const hdr_lines[] = {
	"Subject: hello", "Status: RO", "X-Status: A", "X-UID: 12",
	"X-Keywords: junk", " folded", "\tfolded", "To: a@b",
	"Received: from x by y", "From: a@b", "X-UIDL: qp1", "x-imapbase: 1 2",
};
#define NHDR		(sizeof(hdr_lines) / sizeof(hdr_lines[0]))
static const char *const body_lines[] = {
	"", "", "hello", ".", "..", ".x", ">From x", ">>From y", "From z",
	"From a@b Mon Jan  1 10:00:00 2024", "Status: RO", "\r", "a\rb",
	"X-UID: 3", "0123456789012345678901234567890123456789012345678901",
};

struct mb {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
mb_add(struct mb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/*
 * Appends one random message (From_ line, header, body, terminator).
 * plain: no header line that could make it a pseudo-message or give it
 * the X-UIDL of another message.
 */
static void
random_msg(struct mb *b, bool crlf, bool plain, int serial)
{
	char from[128];
	const char *l, *eol = crlf ? "\r\n" : "\n";
	size_t i, n, from_end, el = crlf ? 2 : 1;
	int r;

	r = snprintf(from, sizeof(from), "From u%d@x Mon Jan  1 10:%02d:%02d "
	    "2024%s\n", (int)(rng() % 5), serial / 60 % 60, serial % 60,
	    crlf ? "\r" : "");
	ck_assert(r > 0 && (size_t)r < sizeof(from));
	mb_add(b, from, (size_t)r);
	from_end = b->len;
	for (i = 0, n = rng() % 6; i < n; i++) {
		l = hdr_lines[rng() % (plain ? NHDR - 2 : NHDR)];
		mb_add(b, l, strlen(l));
		if (rng() % 7 == 0)
			mb_add(b, "\0", 1);
		mb_add(b, eol, el);
	}
	if (rng() % 5 != 0)
		mb_add(b, eol, el);
	for (i = 0, n = rng() % 10; i < n; i++) {
		l = body_lines[rng() %
		    (sizeof(body_lines) / sizeof(body_lines[0]))];
		/* a valid From_ line may only appear where it cannot
		 * start a message: not after an empty line, not right
		 * after the From_ line */
		if (strncmp(l, "From ", 5) == 0 && (b->len == from_end ||
		    b->p[b->len - 2] == '\n' || (b->p[b->len - 2] == '\r' &&
		    b->p[b->len - 3] == '\n')))
			l = ">From quoted";
		mb_add(b, l, strlen(l));
		mb_add(b, eol, el);
	}
	mb_add(b, eol, el);
}

/*
 * Property: for random mailboxes, every message streamed through msgio in
 * random chunks produces exactly msgs[i].octets octets (with or without
 * dot-stuffing, which out_octets does not count), in either mbox variant.
 */
START_TEST(test_random_octets)
{
	struct mb b = { NULL, 0, 0 };
	struct mbox_scan s;
	struct obuf o;
	size_t i, nmsg, chunk, dots, k;
	uint64_t oct;
	bool rd, crlf;

	rng_state = 0x2545f4914f6cdd1dULL + (uint64_t)_i * 104729;
	crlf = _i % 3 == 0;
	nmsg = 1 + rng() % 60;
	for (i = 0; i < nmsg; i++)
		random_msg(&b, crlf, false, (int)i);
	if (rng() % 2)
		b.len--;		/* no final terminator */
	rd = _i % 2;
	scan_ok(b.p, b.len, rd, &s);
	ck_assert_uint_eq(s.count + s.has_pseudo, nmsg);
	check_uid_syntax(&s);
	for (i = 0; i < s.count; i++) {
		chunk = 1 + rng() % 50;
		oct = stream(b.p, &s.msgs[i], false, rd, chunk, &o);
		ck_assert_uint_eq(oct, s.msgs[i].octets);
		ck_assert_uint_eq(o.len, s.msgs[i].octets);
		free(o.p);
		oct = stream(b.p, &s.msgs[i], true, rd, chunk + 3, &o);
		ck_assert_uint_eq(oct, s.msgs[i].octets);
		for (dots = 0, k = 0; k < o.len; k++)
			if (o.p[k] == '.' && (k == 0 || o.p[k - 1] == '\n'))
				dots++;
		ck_assert_uint_eq(o.len, s.msgs[i].octets + dots);
		free(o.p);
	}
	mbox_scan_free(&s);
	free(b.p);
}
END_TEST

/* ---- UIDL ---- */

/* Removing any one message leaves the other ids (and sizes) unchanged. */
START_TEST(test_uidl_stable_on_delete)
{
	struct mb b = { NULL, 0, 0 };
	struct mbox_scan s, t;
	char *cut;
	size_t i, j, nmsg = 12, a, z;

	rng_state = 0x1234567ULL + (uint64_t)_i;
	for (i = 0; i < nmsg; i++)
		random_msg(&b, _i == 1, true, (int)i);
	scan_ok(b.p, b.len, false, &s);
	ck_assert_uint_eq(s.count, nmsg);
	cut = malloc(b.len);
	ck_assert_ptr_nonnull(cut);
	for (i = 0; i < nmsg; i++) {
		/* UPDATE removes [off, next) */
		a = (size_t)s.msgs[i].off;
		z = (size_t)s.msgs[i].next;
		memcpy(cut, b.p, a);
		memcpy(cut + a, b.p + z, b.len - z);
		scan_ok(cut, b.len - (z - a), false, &t);
		ck_assert_uint_eq(t.count, nmsg - 1);
		for (j = 0; j < nmsg - 1; j++) {
			ck_assert_str_eq(t.msgs[j].uid,
			    s.msgs[j < i ? j : j + 1].uid);
			ck_assert_uint_eq(t.msgs[j].octets,
			    s.msgs[j < i ? j : j + 1].octets);
		}
		mbox_scan_free(&t);
	}
	free(cut);
	mbox_scan_free(&s);
	free(b.p);
}
END_TEST

static bool
is_hex40(const char *u)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((u[i] >= '0' && u[i] <= '9') ||
		    (u[i] >= 'a' && u[i] <= 'f')))
			return false;
	return u[40] == '\0';
}

START_TEST(test_uidl_duplicates)
{
	const char *m = F1 "Subject: same\n\nbody\n\n";
	struct mb b = { NULL, 0, 0 };
	struct mbox_scan s;
	char want[PARAM_UIDL_MAX + 24];
	size_t i;

	for (i = 0; i < 4; i++)
		mb_add(&b, m, strlen(m));
	mb_add(&b, F2 "Subject: other\n\n", strlen(F2 "Subject: other\n\n"));
	mb_add(&b, m, strlen(m));
	scan_ok(b.p, b.len, false, &s);
	ck_assert_uint_eq(s.count, 6);
	ck_assert(is_hex40(s.msgs[0].uid));
	ck_assert(is_hex40(s.msgs[4].uid));
	ck_assert_str_ne(s.msgs[0].uid, s.msgs[4].uid);
	for (i = 1; i < 4; i++) {
		snprintf(want, sizeof(want), "%s-%zu", s.msgs[0].uid, i + 1);
		ck_assert_str_eq(s.msgs[i].uid, want);
	}
	snprintf(want, sizeof(want), "%s-5", s.msgs[0].uid);
	ck_assert_str_eq(s.msgs[5].uid, want);
	mbox_scan_free(&s);
	free(b.p);
}
END_TEST

/*
 * Many exact duplicates: unique ids, and fast.  A quadratic suffix search
 * costs n^2/2 = 4.5e8 probes here (tens of seconds); the linear one takes
 * milliseconds, so a 5 s bound leaves a wide margin even under ASan.
 */
START_TEST(test_uidl_many_duplicates)
{
	const char *m = F1 "X-UIDL: dup\n\n";
	struct mb b = { NULL, 0, 0 };
	struct mbox_scan s;
	struct timespec t0, t1;
	size_t i, n = 30000;
	char want[32];

	for (i = 0; i < n; i++)
		mb_add(&b, m, strlen(m));
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	scan_ok(b.p, b.len, false, &s);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
	ck_assert_uint_eq(s.count, n);
	ck_assert_str_eq(s.msgs[0].uid, "dup");
	for (i = 1; i < n; i++) {
		snprintf(want, sizeof(want), "dup-%zu", i + 1);
		ck_assert_str_eq(s.msgs[i].uid, want);
	}
	mbox_scan_free(&s);
	free(b.p);
}
END_TEST

static const struct {
	const char	*hdr;		/* header block */
	const char	*uid;		/* NULL: a digest id */
} xuidl_cases[] = {
	{ "X-UIDL: 3f2a9b7c11\n", "3f2a9b7c11" },
	{ "x-uidl:\t  qpop-<1>@x \t\r\n", "qpop-<1>@x" },
	{ "Subject: a\nX-UIDL: abc\nX-UIDL: def\n", "abc" },
	{ "X-UIDL: 1234567890123456789012345678901234567890123456789012345678"
	    "901234567890\n", "123456789012345678901234567890123456789012345"
	    "6789012345678901234567890" },
	{ "X-UIDL: 1234567890123456789012345678901234567890123456789012345678"
	    "9012345678901\n", NULL },
	{ "X-UIDL: has space\n", NULL },
	{ "X-UIDL:\n", NULL },
	{ "X-UIDL:    \n", NULL },
	{ "X-UIDL: caf\xc3\xa9\n", NULL },
	{ "X-UIDL: a\x01" "b\n", NULL },
	{ "X-UIDL: a\x7f\n", NULL },
	{ "X-UIDL: bad one\nX-UIDL: good\n", NULL },
	{ "A: 1\n\nX-UIDL: inbody\n", NULL },
	{ "X-UIDLS: nope\n", NULL },
};

START_TEST(test_uidl_xuidl)
{
	char buf[512];
	struct mbox_scan s;
	int r;

	r = snprintf(buf, sizeof(buf), F1 "%s\nbody\n", xuidl_cases[_i].hdr);
	ck_assert(r > 0 && (size_t)r < sizeof(buf));
	scan_ok(buf, (size_t)r, false, &s);
	ck_assert_uint_eq(s.count, 1);
	if (xuidl_cases[_i].uid != NULL)
		ck_assert_str_eq(s.msgs[0].uid, xuidl_cases[_i].uid);
	else
		ck_assert(is_hex40(s.msgs[0].uid));
	check_uid_syntax(&s);
	mbox_scan_free(&s);
}
END_TEST

/* Suffixes never collide with X-UIDL values, and long ids fall back. */
START_TEST(test_uidl_suffix_collisions)
{
	const char *b = F1 "X-UIDL: a-2\n\n" F1 "X-UIDL: a\n\n" F1
	    "X-UIDL: a\n\n" F1 "X-UIDL: a\n\n"
	    F2 "X-UIDL: 12345678901234567890123456789012345678901234567890"
	    "1234567890123456789\n\n"
	    F2 "X-UIDL: 12345678901234567890123456789012345678901234567890"
	    "1234567890123456789\n\n";
	struct mbox_scan s;
	size_t i, j;

	scan_ok(b, strlen(b), false, &s);
	ck_assert_uint_eq(s.count, 6);
	ck_assert_str_eq(s.msgs[0].uid, "a-2");
	ck_assert_str_eq(s.msgs[1].uid, "a");
	ck_assert_str_eq(s.msgs[2].uid, "a-3");
	ck_assert_str_eq(s.msgs[3].uid, "a-4");
	ck_assert_uint_eq(strlen(s.msgs[4].uid), 69);
	/* 69 + "-2" > 70: digest id plus suffix */
	ck_assert_uint_eq(strlen(s.msgs[5].uid), 42);
	ck_assert_int_eq(memcmp(s.msgs[5].uid + 40, "-2", 3), 0);
	for (i = 0; i < s.count; i++)
		for (j = i + 1; j < s.count; j++)
			ck_assert_str_ne(s.msgs[i].uid, s.msgs[j].uid);
	check_uid_syntax(&s);
	mbox_scan_free(&s);
}
END_TEST

/* The id follows the From_ line and the header, hidden fields aside. */
START_TEST(test_uidl_inputs)
{
	static const char *const v[] = {
		F1 "Subject: a\nTo: b\n\nbody\n",		/* 0 */
		F1 "Subject: a\nTo: b\n\nother body\n",		/* 0 */
		F1 "Status: RO\nSubject: a\nX-UID: 5\nTo: b\nX-Keywords: k\n"
		    " c\n\nbody\n",				/* 0 */
		F1 "Subject: a\nTo: c\n\nbody\n",		/* differs */
		F2 "Subject: a\nTo: b\n\nbody\n",		/* differs */
		F1 "Subject: a\r\nTo: b\r\n\r\nbody\r\n",	/* differs */
	};
	char first[PARAM_UIDL_MAX + 1];
	struct mbox_scan s;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		scan_ok(v[i], strlen(v[i]), false, &s);
		ck_assert_uint_eq(s.count, 1);
		ck_assert(is_hex40(s.msgs[0].uid));
		if (i == 0)
			memcpy(first, s.msgs[0].uid, sizeof(first));
		else if (i < 3)
			ck_assert_str_eq(s.msgs[0].uid, first);
		else
			ck_assert_str_ne(s.msgs[0].uid, first);
		mbox_scan_free(&s);
	}
}
END_TEST

/* The pseudo-message takes no id and changes none. */
START_TEST(test_uidl_pseudo)
{
	const char *with = F3 "X-IMAPbase: 1 2\nSubject: DON'T DELETE\n\ntext\n"
	    "\n" F1 "A: 1\n\n" F2 "A: 1\n\n";
	const char *without = F1 "A: 1\n\n" F2 "A: 1\n\n";
	struct mbox_scan s, t;

	scan_ok(with, strlen(with), false, &s);
	scan_ok(without, strlen(without), false, &t);
	ck_assert(s.has_pseudo);
	ck_assert_int_eq(s.pseudo_next, (off_t)strlen(F3 "X-IMAPbase: 1 2\n"
	    "Subject: DON'T DELETE\n\ntext\n\n"));
	ck_assert_uint_eq(s.count, 2);
	ck_assert_str_eq(s.msgs[0].uid, t.msgs[0].uid);
	ck_assert_str_eq(s.msgs[1].uid, t.msgs[1].uid);
	mbox_scan_free(&s);
	mbox_scan_free(&t);
}
END_TEST

/* ---- the memory cap ---- */

/*
 * A mailbox of n messages fits a cap of mbox_scan_bytes(n), and the table
 * never grows past it; one octet less refuses it, counting every message
 * (the pseudo-message is not one) and keeping none.
 */
START_TEST(test_memory_cap)
{
	static const size_t counts[] = { 1, 5, 63, 64, 65, 1000, 4097 };
	const char *pseudo = F3 "X-IMAPbase: 1 2\n\ntext\n\n";
	const char *m = F1 "Subject: x\n\nbody\n\n";
	struct mb b = { NULL, 0, 0 };
	struct mbox_scan s;
	size_t i, k, n, cap;
	off_t bad;
	char err[128];
	int r;

	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		n = counts[k];
		b.len = 0;
		mb_add(&b, pseudo, strlen(pseudo));
		for (i = 0; i < n; i++)
			mb_add(&b, m, strlen(m));
		cap = mbox_scan_bytes(n);
		r = mbox_scan_buf_max(b.p, b.len, false, cap, &s, &bad, err,
		    sizeof(err));
		ck_assert_msg(r == 0, "n=%zu: %d %s", n, r, err);
		ck_assert_uint_eq(s.count, n);
		ck_assert(s.has_pseudo);
		ck_assert_uint_le(s.cap, n);	/* never grown past the cap */
		mbox_scan_free(&s);

		err[0] = '\0';
		r = mbox_scan_buf_max(b.p, b.len, false, cap - 1, &s, &bad,
		    err, sizeof(err));
		ck_assert_int_eq(r, MBOX_SCAN_TOOBIG);
		ck_assert_uint_eq(s.count, n);
		ck_assert_ptr_null(s.msgs);
		ck_assert_uint_eq(s.cap, 0);
		ck_assert_msg(strstr(err, "messages need more than") != NULL,
		    "%s", err);
		mbox_scan_free(&s);		/* nothing to free: harmless */
	}
	/* No room at all: even one message is too many. */
	r = mbox_scan_buf_max(m, strlen(m), false, 0, &s, &bad, err,
	    sizeof(err));
	ck_assert_int_eq(r, MBOX_SCAN_TOOBIG);
	ck_assert_uint_eq(s.count, 1);
	/* An empty mailbox needs nothing. */
	ck_assert_int_eq(mbox_scan_buf_max("", 0, false, 0, &s, &bad, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(s.count, 0);
	/* About 200 octets a message, as postern.conf(5) says. */
	ck_assert_uint_ge(mbox_scan_bytes(1), 150);
	ck_assert_uint_le(mbox_scan_bytes(1), 250);
	ck_assert_uint_eq(mbox_scan_bytes(SIZE_MAX / 2), SIZE_MAX);
	free(b.p);
}
END_TEST

/*
 * The mailbox: many tiny messages.  200,000 of them under a cap
 * for 1,000 are refused quickly, with the full count, and without growing
 * a table for all of them (the scan stops keeping at the cap).
 */
START_TEST(test_memory_cap_many)
{
	const char *m = F1 "\n";
	struct mb b = { NULL, 0, 0 };
	struct mbox_scan s;
	struct timespec t0, t1;
	size_t i, n = 200000;
	off_t bad;
	char err[128];

	for (i = 0; i < n; i++)
		mb_add(&b, m, strlen(m));
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_int_eq(mbox_scan_buf_max(b.p, b.len, false,
	    mbox_scan_bytes(1000), &s, &bad, err, sizeof(err)),
	    MBOX_SCAN_TOOBIG);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
	ck_assert_uint_eq(s.count, n);
	/* mbox_scan_buf itself has no cap. */
	scan_ok(b.p, b.len, false, &s);
	ck_assert_uint_eq(s.count, n);
	mbox_scan_free(&s);
	free(b.p);
}
END_TEST

static Suite *
mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	TCase *tc;

	tc = tcase_create("lines");
	tcase_add_loop_test(tc, test_from_line, 0,
	    (int)(sizeof(from_cases) / sizeof(from_cases[0])));
	tcase_add_test(tc, test_hidden_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("split");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_split, 0,
	    (int)(sizeof(split_cases) / sizeof(split_cases[0])));
	tcase_add_test(tc, test_split_nul);
	tcase_add_loop_test(tc, test_damaged, 0,
	    (int)(sizeof(damaged_cases) / sizeof(damaged_cases[0])));
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_mboxrd_octets);
	tcase_add_loop_test(tc, test_random_octets, 0, 40);
	suite_add_tcase(s, tc);

	tc = tcase_create("uidl");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_uidl_stable_on_delete, 0, 3);
	tcase_add_test(tc, test_uidl_duplicates);
	tcase_add_test(tc, test_uidl_many_duplicates);
	tcase_add_loop_test(tc, test_uidl_xuidl, 0,
	    (int)(sizeof(xuidl_cases) / sizeof(xuidl_cases[0])));
	tcase_add_test(tc, test_uidl_suffix_collisions);
	tcase_add_test(tc, test_uidl_inputs);
	tcase_add_test(tc, test_uidl_pseudo);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_memory_cap);
	tcase_add_test(tc, test_memory_cap_many);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(mbox_suite)
