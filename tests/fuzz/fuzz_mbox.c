/*
 * fuzz_mbox.c: libFuzzer harness for the mbox scanner and msgio.  The input
 * is an mbox file.  It is scanned as mboxo and as mboxrd; every message is
 * streamed through msgio in one block and in small chunks, with and
 * without dot-stuffing, and with a TOP limit, and the harness traps unless
 * the streamed octet count equals the scanner's octets, the output equals
 * that of a naive line-by-line reference converter written here from
 * protocol-notes §5.4, the offsets tile the file, and the ids are unique
 * RFC 1939 §7 ids.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *	tests/fuzz/fuzz_mbox.c src/mbox.c src/msgio.c -lcrypto
 *
 * With -DFUZZ_STANDALONE it builds with any compiler into a program that
 * runs the corpus files named on its command line once.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbox.h"
#include "msgio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) { fprintf(stderr, "%s:%d: %s\n", \
			    __FILE__, __LINE__, #x); abort(); } } while (0)

struct out {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int
sink(void *arg, const char *buf, size_t len)
{
	struct out *o = arg;
	char *np;

	CHECK(len > 0);
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		np = realloc(o->p, o->cap);
		CHECK(np != NULL);
		o->p = np;
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	return 0;
}

static void
out_add(struct out *o, const char *p, size_t n)
{
	if (n > 0)
		(void)sink(o, p, n);
}

/* Hidden field names, independently of mbox_hidden_header(). */
static bool
ref_hidden(const char *l, size_t n)
{
	static const char *const names[] = { "status:", "x-status:",
	    "x-keywords:", "x-uid:", "x-imap:", "x-imapbase:" };
	size_t i, k, nl;
	char c;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		nl = strlen(names[i]);
		for (k = 0; k < nl && k < n; k++) {
			c = l[k] >= 'A' && l[k] <= 'Z' ? l[k] + 32 : l[k];
			if (c != names[i][k])
				break;
		}
		if (k == nl)
			return true;
	}
	return false;
}

/* The reference: one line at a time, the rules as written. */
static void
ref_convert(const char *msg, size_t len, bool dotstuff, bool mboxrd,
    int64_t limit, struct out *o)
{
	const char *l, *lf, *e = msg + len;
	size_t n, k;
	bool in_header = true, skipping = false;
	int64_t body = 0;

	o->len = 0;
	for (l = msg; l < e; l = lf != NULL ? lf + 1 : e) {
		lf = memchr(l, '\n', (size_t)(e - l));
		n = (size_t)((lf != NULL ? lf : e) - l);
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (in_header) {
			if (n == 0) {
				in_header = false;
			} else if (skipping && (l[0] == ' ' || l[0] == '\t')) {
				continue;
			} else if ((skipping = ref_hidden(l, n)))
				continue;
		} else if (limit >= 0 && body++ >= limit)
			break;
		if (mboxrd && n > 0 && l[0] == '>') {
			for (k = 0; k < n && l[k] == '>'; k++)
				;
			if (n - k >= 5 && memcmp(l + k, "From ", 5) == 0) {
				l++;
				n--;
			}
		}
		if (dotstuff && n > 0 && l[0] == '.')
			out_add(o, ".", 1);
		out_add(o, l, n);
		out_add(o, "\r\n", 2);
	}
}

static bool
same(const struct out *a, const struct out *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Streams msg[0, len) in chunks of chunk octets (0: one block). */
static uint64_t
run(const char *msg, size_t len, bool dotstuff, bool mboxrd, int64_t limit,
    size_t chunk, struct out *o, uint64_t *lines_r)
{
	static struct msgio m;		/* 16 KiB: keep it off the stack */
	size_t pos, c;

	o->len = 0;
	msgio_init(&m, dotstuff, mboxrd, limit, sink, o);
	for (pos = 0; pos < len; pos += c) {
		c = chunk == 0 || chunk > len - pos ? len - pos : chunk;
		CHECK(msgio_feed(&m, msg + pos, c) == 0);
	}
	CHECK(msgio_finish(&m) == 0);
	*lines_r = m.out_lines;
	return m.out_octets;
}

static int
cmp_uid(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
check_scan(const char *buf, size_t len, bool mboxrd, size_t chunk)
{
	struct mbox_scan s;
	struct out whole = { NULL, 0, 0 }, part = { NULL, 0, 0 };
	struct out ref = { NULL, 0, 0 };
	const struct mbox_msg *mm;
	const char **ids;
	const char *msg;
	off_t bad, prev;
	char err[128];
	size_t i, j, n, ulen;
	uint64_t oct, lines, lines2;

	if (mbox_scan_buf(buf, len, mboxrd, &s, &bad, err, sizeof(err)) != 0) {
		/* the only refusal: no valid From_ line at the start */
		CHECK(bad == 0);
		CHECK(len > 0);
		return;
	}
	CHECK(s.scanned == (off_t)len);
	prev = s.has_pseudo ? s.pseudo_next : 0;
	ids = malloc((s.count + 1) * sizeof(*ids));
	CHECK(ids != NULL);
	for (i = 0; i < s.count; i++) {
		mm = &s.msgs[i];
		CHECK(mm->off == prev);
		CHECK(mm->off < mm->hdr && mm->hdr <= mm->end &&
		    mm->end <= mm->next && mm->next <= (off_t)len);
		CHECK(mm->sephash == mbox_sephash(buf + mm->off,
		    (size_t)(mm->hdr - mm->off)));
		prev = mm->next;
		ulen = strlen(mm->uid);
		CHECK(ulen >= 1 && ulen <= PARAM_UIDL_MAX);
		for (j = 0; j < ulen; j++)
			CHECK(mm->uid[j] >= 0x21 && mm->uid[j] <= 0x7e);
		ids[i] = mm->uid;

		msg = buf + mm->hdr;
		n = (size_t)(mm->end - mm->hdr);
		/* RETR without stuffing: exactly octets octets */
		oct = run(msg, n, false, mboxrd, -1, 0, &whole, &lines);
		CHECK(oct == mm->octets && whole.len == mm->octets);
		ref_convert(msg, n, false, mboxrd, -1, &ref);
		CHECK(same(&whole, &ref));
		CHECK(lines == mm->lines);
		CHECK(msgio_octets(msg, n, mboxrd, &lines2) == oct &&
		    lines2 == lines);
		/* any chunking gives the same bytes */
		oct = run(msg, n, false, mboxrd, -1, chunk, &part, &lines);
		CHECK(oct == mm->octets && same(&part, &whole));
		/* stuffing adds octets that out_octets does not count */
		oct = run(msg, n, true, mboxrd, -1, chunk + 1, &part, &lines);
		CHECK(oct == mm->octets && part.len >= whole.len);
		ref_convert(msg, n, true, mboxrd, -1, &ref);
		CHECK(same(&part, &ref));
		/* TOP is a prefix of RETR */
		oct = run(msg, n, false, mboxrd, (int64_t)(i % 3), chunk,
		    &part, &lines);
		CHECK(oct == part.len && part.len <= whole.len &&
		    (part.len == 0 || memcmp(part.p, whole.p, part.len) == 0));
		CHECK(lines <= mm->lines);
		ref_convert(msg, n, false, mboxrd, (int64_t)(i % 3), &ref);
		CHECK(same(&part, &ref));
	}
	CHECK(s.count == 0 || prev == (off_t)len);
	qsort(ids, s.count, sizeof(*ids), cmp_uid);
	for (i = 1; i < s.count; i++)
		CHECK(strcmp(ids[i - 1], ids[i]) != 0);
	free(ids);
	free(whole.p);
	free(part.p);
	free(ref.p);
	mbox_scan_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t chunk = 1 + (size_t)(mbox_sephash(buf, size) % 23);

	check_scan(buf, size, false, chunk);
	check_scan(buf, size, true, chunk);
	return 0;
}

#ifdef FUZZ_STANDALONE
int
main(int argc, char **argv)
{
	FILE *f;
	char *b;
	long n;
	int i;

	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "rb")) == NULL ||
		    fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0) {
			perror(argv[i]);
			return 1;
		}
		CHECK((b = malloc((size_t)n + 1)) != NULL);
		CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
		fclose(f);
		(void)LLVMFuzzerTestOneInput((const uint8_t *)b, (size_t)n);
		free(b);
	}
	printf("fuzz_mbox: %d inputs ok\n", argc - 1);
	return 0;
}
#endif
