/*
 * mbox.c: bursts an mbox (RFC 4155, read as mboxo) held in a byte buffer
 * into messages: finds the From_ separators with memmem over the whole
 * buffer, validates them loosely from the end of the line as UW c-client's
 * VALID() does, records per message its offsets, exact wire size and line
 * count (computed by msgio, so LIST and RETR agree), a hash of its From_
 * line, and a unique id for UIDL derived from the message itself (an
 * X-UIDL header, else a SHA-256 digest of the From_ line and the header
 * block), hides the UW/Dovecot folder pseudo-message.  Pure: no I/O, no
 * logging; runs in the session process as the mail user.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "mbox.h"
#include "msgio.h"
#include "params.h"

#define MBOX_MSGS_INIT	64
#define DIGEST_HEX	40	/* hex digits of SHA-256 kept in an id */
#define SUFFIX_MAX	24	/* "-" and a 64-bit decimal, with room */

struct hdr_info {
	const char	*xuidl;		/* first X-UIDL value, trimmed */
	size_t		 xuidl_len;
	bool		 has_xuidl;
	bool		 imap;		/* X-IMAP: or X-IMAPbase: seen */
};

/* One slot of the uniqueness table: message index + 1 (0 = free) and
 * the next suffix to try when that id turns up again as a base. */
struct uid_slot {
	size_t		 idx1;
	uint64_t	 next;
};

struct uid_table {
	struct uid_slot	*slot;
	size_t		 mask;
};

static const char *const hidden_names[] = {
	"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase",
};

static bool	ci_eq(const char *, const char *, size_t);
static bool	field_is(const char *, size_t, const char *);
static bool	prev_tok(const char *, const char **, const char **,
		    size_t *);
static bool	all_digits(const char *, size_t);
static bool	is_zone(const char *, size_t);
static bool	is_year(const char *, size_t);
static bool	is_time(const char *, size_t);
static bool	in_list(const char *, size_t, const char *);
static ssize_t	empty_line_before(const char *, size_t, size_t);
static size_t	find_next(const char *, size_t, size_t, size_t *);
static int	hdr_scan(const char *, const struct mbox_msg *,
		    EVP_MD_CTX *, const EVP_MD *, struct hdr_info *, char *);
static bool	xuidl_value(const char *, size_t, struct hdr_info *);
static int	push_msg(struct mbox_scan *, const struct mbox_msg *,
		    size_t);
static uint64_t	str_hash(const char *);
static struct uid_slot *uid_find(struct uid_table *,
		    const struct mbox_scan *, const char *);
static int	uid_unique(struct mbox_scan *, const char *, EVP_MD_CTX *,
		    const EVP_MD *);

/* ASCII case-insensitive compare of a[0, n) with the NUL-free b[0, n). */
static bool
ci_eq(const char *a, const char *b, size_t n)
{
	size_t i;
	unsigned char x, y;

	for (i = 0; i < n; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

/* true if line[0, len) starts with the field name, then ':'. */
static bool
field_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && line[n] == ':' && ci_eq(line, name, n);
}

bool
mbox_hidden_header(const char *line, size_t len)
{
	size_t i;

	/* design.md §2: mailbox metadata is hidden from clients.  Most
	 * header lines start with neither 'S' nor 'X': reject them fast. */
	if (len < 6 || (line[0] != 'S' && line[0] != 's' && line[0] != 'X' &&
	    line[0] != 'x'))
		return false;
	for (i = 0; i < sizeof(hidden_names) / sizeof(hidden_names[0]); i++)
		if (field_is(line, len, hidden_names[i]))
			return true;
	return false;
}

uint64_t
mbox_sephash(const char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 offset basis */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 0x100000001b3ULL;		/* FNV 64 prime */
	}
	return h;
}

/*
 * The token ending at or before *endp (blanks skipped), not going below
 * lo: sets *tok, *tlen, moves *endp to the token's start.
 */
static bool
prev_tok(const char *lo, const char **endp, const char **tok, size_t *tlen)
{
	const char *e = *endp, *s;

	while (e > lo && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (s = e; s > lo && s[-1] != ' ' && s[-1] != '\t'; s--)
		;
	if (s == e)
		return false;
	*tok = s;
	*tlen = (size_t)(e - s);
	*endp = s;
	return true;
}

static bool
all_digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return n > 0;
}

/* A time zone: a name (PST, CEST, UT) or a numeric offset (-0700). */
static bool
is_zone(const char *p, size_t n)
{
	size_t i;

	if (n == 5 && (p[0] == '+' || p[0] == '-'))
		return all_digits(p + 1, 4);
	if (n < 1 || n > 5)
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= 'a' && p[i] <= 'z')))
			return false;
	return true;
}

static bool
is_year(const char *p, size_t n)
{
	return n == 4 && all_digits(p, 4);
}

/* hh:mm or hh:mm:ss (a one-digit hour is tolerated). */
static bool
is_time(const char *p, size_t n)
{
	int h, mi, sec = 0;

	if (n == 4 || n == 7) {
		/* h:mm[:ss] */
		if (!all_digits(p, 1))
			return false;
		h = p[0] - '0';
		p += 1;
		n -= 1;
	} else if (n == 5 || n == 8) {
		if (!all_digits(p, 2))
			return false;
		h = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		n -= 2;
	} else
		return false;
	if (p[0] != ':' || !all_digits(p + 1, 2))
		return false;
	mi = (p[1] - '0') * 10 + (p[2] - '0');
	if (n == 6) {
		if (p[3] != ':' || !all_digits(p + 4, 2))
			return false;
		sec = (p[4] - '0') * 10 + (p[5] - '0');
	}
	return h < 24 && mi < 60 && sec <= 60;
}

/* true if p[0, n) is one of the 3-letter names in list (no case). */
static bool
in_list(const char *p, size_t n, const char *list)
{
	if (n != 3)
		return false;
	for (; *list != '\0'; list += 3)
		if (ci_eq(p, list, 3))
			return true;
	return false;
}

/*
 * RFC 4155 Appendix A / protocol-notes §5.3: "From " sender SP date, the
 * date checked loosely from the end of the line, as UW c-client's VALID()
 * does, because the sender may contain spaces.  Accepted:
 *	www mmm dd hh:mm[:ss] [zone] yyyy [zone] [remote from host]
 * zone a name or a numeric offset.  The sender must not be empty.
 */
bool
mbox_is_from_line(const char *line, size_t len)
{
	const char *lo, *e, *t, *t2, *t3, *save;
	size_t n, n2, n3;

	if (len < 5 || memcmp(line, "From ", 5) != 0)
		return false;
	lo = line + 5;
	e = line + len;
	if (e > lo && e[-1] == '\r')
		e--;
	/* smail/Solaris: "... remote from host"; if present, e ends up
	 * before "remote". */
	save = e;
	if (!(prev_tok(lo, &e, &t, &n) && prev_tok(lo, &e, &t2, &n2) &&
	    prev_tok(lo, &e, &t3, &n3) && n2 == 4 && ci_eq(t2, "from", 4) &&
	    n3 == 6 && ci_eq(t3, "remote", 6)))
		e = save;
	if (!prev_tok(lo, &e, &t, &n))
		return false;
	if (is_year(t, n)) {
		/* ... hh:mm[:ss] [zone] yyyy */
		if (!prev_tok(lo, &e, &t, &n))
			return false;
		if (is_zone(t, n) && !prev_tok(lo, &e, &t, &n))
			return false;
	} else if (is_zone(t, n)) {
		/* ... hh:mm[:ss] yyyy zone */
		if (!prev_tok(lo, &e, &t, &n) || !is_year(t, n) ||
		    !prev_tok(lo, &e, &t, &n))
			return false;
	} else
		return false;
	if (!is_time(t, n))
		return false;
	/* day of month, space-padded in ctime(3) format */
	if (!prev_tok(lo, &e, &t, &n) || n > 2 || !all_digits(t, n))
		return false;
	if (!prev_tok(lo, &e, &t, &n) ||
	    !in_list(t, n, "JanFebMarAprMayJunJulAugSepOctNovDec"))
		return false;
	if (!prev_tok(lo, &e, &t, &n) ||
	    !in_list(t, n, "SunMonTueWedThuFriSat"))
		return false;
	/* A sender: something other than blanks before the weekday. */
	return prev_tok(lo, &e, &t, &n);
}

/*
 * If the line ending just before pos (buf[pos - 1] == '\n') is empty ("\n"
 * or "\r\n") and starts at or after lo (lo follows a line end), returns its
 * start; else -1.
 */
static ssize_t
empty_line_before(const char *buf, size_t lo, size_t pos)
{
	if (pos < lo + 1 || buf[pos - 1] != '\n')
		return -1;
	if (pos - 1 == lo || buf[pos - 2] == '\n')
		return (ssize_t)(pos - 1);
	if (buf[pos - 2] == '\r' && pos >= lo + 2 &&
	    (pos - 2 == lo || buf[pos - 3] == '\n'))
		return (ssize_t)(pos - 2);
	return -1;
}

/*
 * Finds the separator after the message whose From_ line ends at hdr:
 * returns its offset (len if none) and sets *end_r, the end of the message
 * as served (the one empty line before the separator, or at the end of
 * the buffer, left out).  A From_ line directly after the From_ line
 * counts as a separator too: the message in between is empty.
 */
static size_t
find_next(const char *buf, size_t len, size_t hdr, size_t *end_r)
{
	const char *hit, *lf;
	size_t pos, p, ll;
	ssize_t el;

	pos = hdr - 1;		/* the From_ line's LF, or its last octet */
	while (pos < len && (hit = memmem(buf + pos, len - pos, "\nFrom ",
	    6)) != NULL) {
		p = (size_t)(hit - buf) + 1;
		pos = p;
		/* RFC 4155: a separator follows an empty line. */
		if (p == hdr)
			el = (ssize_t)p;
		else if ((el = empty_line_before(buf, hdr, p)) == -1)
			continue;
		lf = memchr(buf + p, '\n', len - p);
		ll = (size_t)((lf != NULL ? lf : buf + len) - (buf + p));
		if (!mbox_is_from_line(buf + p, ll))
			continue;
		*end_r = (size_t)el;
		return p;
	}
	/* The last message: an empty line at the very end is its mbox
	 * terminator, as it would be once more mail is appended. */
	el = len > hdr ? empty_line_before(buf, hdr, len) : -1;
	*end_r = el != -1 ? (size_t)el : len;
	return len;
}

/* Parses an X-UIDL field; true if its value is a usable unique-id. */
static bool
xuidl_value(const char *line, size_t n, struct hdr_info *hi)
{
	const char *v = line + 7, *e = line + n;	/* after "X-UIDL:" */
	const char *q;

	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	/* RFC 1939 §7: 1 to 70 characters in the range 0x21 to 0x7E. */
	if (e == v || (size_t)(e - v) > PARAM_UIDL_MAX)
		return false;
	for (q = v; q < e; q++)
		if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e)
			return false;
	hi->xuidl = v;
	hi->xuidl_len = (size_t)(e - v);
	return true;
}

/*
 * Walks the header block of message *mm: notes the first X-UIDL and any
 * X-IMAP/X-IMAPbase field, and writes to id_r (DIGEST_HEX + 1) the hex of
 * SHA-256 over the From_ line and the header lines as stored, hidden
 * metadata left out (MUAs and IMAP servers rewrite Status:/X-UID:; the id
 * must not change when they do).
 */
static int
hdr_scan(const char *buf, const struct mbox_msg *mm, EVP_MD_CTX *ctx,
    const EVP_MD *md, struct hdr_info *hi, char *id_r)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	const char *p = buf + mm->hdr, *e = buf + mm->end, *run, *lf, *q;
	size_t n, i;
	bool skipping = false, hidden;

	memset(hi, 0, sizeof(*hi));
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, buf + mm->off,
	    (size_t)(mm->hdr - mm->off)) != 1)
		return -1;
	for (run = p; p < e; p = q) {
		lf = memchr(p, '\n', (size_t)(e - p));
		q = lf != NULL ? lf + 1 : e;
		n = (size_t)((lf != NULL ? lf : e) - p);
		if (n == 0 || (n == 1 && p[0] == '\r'))
			break;		/* end of the header block */
		if (skipping && (p[0] == ' ' || p[0] == '\t'))
			hidden = true;
		else
			hidden = skipping = mbox_hidden_header(p, n);
		if (hidden) {
			if (field_is(p, n, "X-IMAP") ||
			    field_is(p, n, "X-IMAPbase"))
				hi->imap = true;
			if (p > run &&
			    EVP_DigestUpdate(ctx, run, (size_t)(p - run)) != 1)
				return -1;
			run = q;
		} else if (!hi->has_xuidl && field_is(p, n, "X-UIDL")) {
			/* qpopper's header; only the first one counts */
			hi->has_xuidl = true;
			if (!xuidl_value(p, n, hi))
				hi->xuidl = NULL;
		}
	}
	if (p > run && EVP_DigestUpdate(ctx, run, (size_t)(p - run)) != 1)
		return -1;
	if (EVP_DigestFinal_ex(ctx, dg, &dlen) != 1 || dlen * 2 < DIGEST_HEX)
		return -1;
	for (i = 0; i < DIGEST_HEX / 2; i++) {
		id_r[2 * i] = hex[dg[i] >> 4];
		id_r[2 * i + 1] = hex[dg[i] & 0xf];
	}
	id_r[DIGEST_HEX] = '\0';
	return 0;
}

/* The most a scan holds per message: its entry, and the uniqueness table
 * (a power of two of at least twice the count: at most four slots). */
#define MSG_PEAK	(sizeof(struct mbox_msg) + 4 * sizeof(struct uid_slot))

size_t
mbox_scan_bytes(size_t count)
{
	return count > SIZE_MAX / MSG_PEAK ? SIZE_MAX : count * MSG_PEAK;
}

/* Appends mm, growing the table up to max_msgs entries.  0, -1 out of
 * memory, or 1 when the table is full at max_msgs. */
static int
push_msg(struct mbox_scan *s, const struct mbox_msg *mm, size_t max_msgs)
{
	struct mbox_msg *nm;
	size_t ncap;

	if (s->count == s->cap) {
		if (s->cap >= max_msgs)
			return 1;
		ncap = s->cap == 0 ? MBOX_MSGS_INIT : s->cap * 2;
		if (ncap < s->cap || ncap > max_msgs)
			ncap = max_msgs;	/* never past the cap */
		if (ncap > SIZE_MAX / sizeof(*nm) ||
		    (nm = realloc(s->msgs, ncap * sizeof(*nm))) == NULL)
			return -1;
		s->msgs = nm;
		s->cap = ncap;
	}
	s->msgs[s->count++] = *mm;
	return 0;
}

static uint64_t
str_hash(const char *str)
{
	return mbox_sephash(str, strlen(str));
}

/* The slot holding id str, or the free slot where it would go. */
static struct uid_slot *
uid_find(struct uid_table *t, const struct mbox_scan *s, const char *str)
{
	size_t i = (size_t)str_hash(str) & t->mask;

	while (t->slot[i].idx1 != 0 &&
	    strcmp(s->msgs[t->slot[i].idx1 - 1].uid, str) != 0)
		i = (i + 1) & t->mask;
	return &t->slot[i];
}

/*
 * Makes the ids unique in file order (RFC 1939 §7): a later exact
 * duplicate of id X becomes, ...; when that would not fit in 70
 * characters (a long X-UIDL), the digest id takes X's place.  Each id that
 * is seen again keeps the next suffix to try, so n duplicates cost O(n).
 */
static int
uid_unique(struct mbox_scan *s, const char *buf, EVP_MD_CTX *ctx,
    const EVP_MD *md)
{
	struct uid_table t;
	struct uid_slot *sl, *base_sl;
	struct hdr_info hi;
	char cand[PARAM_UIDL_MAX + SUFFIX_MAX + 1], dig[DIGEST_HEX + 1];
	size_t i, sz;
	uint64_t k;
	int r;

	for (sz = 16; sz < 2 * s->count + 1; sz *= 2)
		;
	if ((t.slot = calloc(sz, sizeof(*t.slot))) == NULL)
		return -1;
	t.mask = sz - 1;
	for (i = 0; i < s->count; i++) {
		base_sl = uid_find(&t, s, s->msgs[i].uid);
		if (base_sl->idx1 == 0) {
			base_sl->idx1 = i + 1;
			base_sl->next = 2;
			continue;
		}
		dig[0] = '\0';
		for (k = base_sl->next;; k++) {
			r = snprintf(cand, sizeof(cand), "%s-%llu",
			    s->msgs[i].uid, (unsigned long long)k);
			if (r >= 0 && (size_t)r > PARAM_UIDL_MAX) {
				if (dig[0] == '\0' && hdr_scan(buf,
				    &s->msgs[i], ctx, md, &hi, dig) == -1)
					goto fail;
				r = snprintf(cand, sizeof(cand), "%s-%llu",
				    dig, (unsigned long long)k);
			}
			/* cannot happen: both forms are bounded */
			if (r < 0 || (size_t)r > PARAM_UIDL_MAX)
				goto fail;
			sl = uid_find(&t, s, cand);
			if (sl->idx1 == 0)
				break;
		}
		base_sl->next = k + 1;
		memcpy(s->msgs[i].uid, cand, (size_t)r + 1);
		sl->idx1 = i + 1;
		sl->next = 2;
	}
	free(t.slot);
	return 0;
fail:
	free(t.slot);
	return -1;
}

int
mbox_scan_buf(const char *buf, size_t len, bool mboxrd, struct mbox_scan *s,
    off_t *bad_off_r, char *errstr_r, size_t errlen)
{
	return mbox_scan_buf_max(buf, len, mboxrd, SIZE_MAX, s, bad_off_r,
	    errstr_r, errlen);
}

/* The messages of buf[off, len), counted without being kept. */
static size_t
count_rest(const char *buf, size_t len, size_t off)
{
	const char *lf;
	size_t hdr, end, n = 0;

	while (off < len) {
		lf = memchr(buf + off, '\n', len - off);
		hdr = lf != NULL ? (size_t)(lf - buf) + 1 : len;
		off = find_next(buf, len, hdr, &end);
		n++;
	}
	return n;
}

int
mbox_scan_buf_max(const char *buf, size_t len, bool mboxrd, size_t max_bytes,
    struct mbox_scan *s, off_t *bad_off_r, char *errstr_r, size_t errlen)
{
	struct mbox_msg mm;
	struct hdr_info hi;
	EVP_MD_CTX *ctx = NULL;
	EVP_MD *md = NULL;
	const char *lf, *why;
	size_t off, hdr, end, next, n, max_msgs = max_bytes / MSG_PEAK;
	char dig[DIGEST_HEX + 1];
	int r;

	memset(s, 0, sizeof(*s));
	s->scanned = (off_t)len;
	*bad_off_r = -1;
	if (len == 0)
		return 0;		/* an empty mailbox */
	lf = memchr(buf, '\n', len);
	if (!mbox_is_from_line(buf, (size_t)((lf != NULL ? lf : buf + len) -
	    buf))) {
		/* design.md §2: damaged; refuse rather than guess. */
		*bad_off_r = 0;
		why = len >= 5 && memcmp(buf, "From ", 5) == 0 ?
		    "mbox damaged: invalid From_ line at offset 0" :
		    "mbox damaged: no From_ line at offset 0";
		goto fail;
	}
	why = "mbox scan: out of memory or digest failure";
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		goto fail;
	for (off = 0; off < len; off = next) {
		lf = memchr(buf + off, '\n', len - off);
		hdr = lf != NULL ? (size_t)(lf - buf) + 1 : len;
		next = find_next(buf, len, hdr, &end);
		memset(&mm, 0, sizeof(mm));
		mm.off = (off_t)off;
		mm.hdr = (off_t)hdr;
		mm.end = (off_t)end;
		mm.next = (off_t)next;
		mm.sephash = mbox_sephash(buf + off, hdr - off);
		/* RFC 1939 §11: the size is what RETR sends; msgio's own
		 * code computes it. */
		mm.octets = msgio_octets(buf + hdr, end - hdr, mboxrd,
		    &mm.lines);
		if (hdr_scan(buf, &mm, ctx, md, &hi, dig) == -1)
			goto fail;
		if (off == 0 && hi.imap) {
			/* The UW/Dovecot "FOLDER INTERNAL DATA" message. */
			s->has_pseudo = true;
			s->pseudo_next = (off_t)next;
			continue;
		}
		if (hi.xuidl != NULL) {
			memcpy(mm.uid, hi.xuidl, hi.xuidl_len);
			mm.uid[hi.xuidl_len] = '\0';
		} else
			memcpy(mm.uid, dig, sizeof(dig));
		if ((r = push_msg(s, &mm, max_msgs)) == -1)
			goto fail;
		if (r == 1) {
			/* Over the cap: say how many there are, keep none. */
			n = s->count + count_rest(buf, len, off);
			EVP_MD_free(md);
			EVP_MD_CTX_free(ctx);
			mbox_scan_free(s);
			s->count = n;
			s->scanned = 0;
			if (errlen > 0)
				(void)snprintf(errstr_r, errlen, "%zu messages "
				    "need more than %zu octets", n, max_bytes);
			return MBOX_SCAN_TOOBIG;
		}
	}
	if (uid_unique(s, buf, ctx, md) == -1)
		goto fail;
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	return 0;
fail:
	if (errlen > 0 &&
	    (size_t)snprintf(errstr_r, errlen, "%s", why) >= errlen)
		errstr_r[errlen - 1] = '\0';	/* cut short, still a reason */
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	mbox_scan_free(s);
	s->scanned = 0;
	return -1;
}

void
mbox_scan_free(struct mbox_scan *s)
{
	free(s->msgs);
	s->msgs = NULL;
	s->count = 0;
	s->cap = 0;
}
