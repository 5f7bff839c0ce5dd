/*
 * journal_fmt.c: the on-disk journal of journal.c (layout in
 * journal_fmt.h) and the check, before any redo, that a maildrop's bytes
 * are explained by it.  At commit one sequential pass over the old bytes
 * [from, old_end) records a SHA-256 per segment (4 KiB blocks aligned to
 * file offsets, cut at new_end) and copies the kept ranges into the
 * journal; after a crash the check compares each segment of the file with
 * the journal's new content (bytes) or old content (digest).  Pure file
 * I/O on descriptors the caller opened; runs in the session process (or
 * pop3d -R) as the mail user with the mbox lock held.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "journal.h"
#include "journal_fmt.h"
#include "util.h"

#define J_MAGIC		"PSTRNJ01"
#define J_COMMIT_MAGIC	"PSTRNC01"
#define J_MAGIC_LEN	8
#define J_VERSION	2	/* 1: one digest of the old tail, no path */
#define J_FIXED_SIZE	(J_MAGIC_LEN + 4 + 4 + 7 * 8 + 4 + 4 + \
			    2 * J_DIGEST_LEN)
#define J_COMMIT_SIZE	(J_MAGIC_LEN + J_DIGEST_LEN)
/* Segments in one chunk: its blocks, plus the cut at new_end. */
#define J_TAB_MAX	(J_CHUNK / J_BLOCK + 1)
/* Offsets far below INT64_MAX: no sum of two of them overflows. */
#define J_OFF_MAX	((off_t)1 << 60)

void
journal_fmt_errtext(int e, char *buf, size_t len)
{
	const char *name = NULL;

	if (e == ENOSPC)
		name = "ENOSPC";
	else if (e == EIO)
		name = "EIO";
	else if (e == EDQUOT)
		name = "EDQUOT";
	if (name != NULL)
		(void)snprintf(buf, len, "%s (%s)", strerror(e), name);
	else
		(void)snprintf(buf, len, "%s", strerror(e));
}

/* Blocks of J_BLOCK touched by [a, b). */
static uint64_t
nblocks(off_t a, off_t b)
{
	return a < b ? (uint64_t)((b - 1) / J_BLOCK - a / J_BLOCK + 1) : 0;
}

/* The end of the segment starting at s. */
static off_t
seg_end(const struct jhdr *h, off_t s)
{
	off_t e = (s / J_BLOCK + 1) * J_BLOCK;

	if (s < h->new_end && e > h->new_end)
		e = h->new_end;
	if (e > h->old_end)
		e = h->old_end;
	return e;
}

/* The table index of the segment starting at s. */
static uint64_t
seg_index(const struct jhdr *h, off_t s)
{
	if (s < h->new_end)
		return (uint64_t)(s / J_BLOCK - h->from / J_BLOCK);
	return nblocks(h->from, h->new_end) +
	    (uint64_t)(s / J_BLOCK - h->new_end / J_BLOCK);
}

/* The end of the chunk starting at c, at most lim: chunks hold whole
 * segments because J_CHUNK is a multiple of J_BLOCK. */
static off_t
chunk_end(off_t c, off_t lim)
{
	off_t e = (c / J_CHUNK + 1) * J_CHUNK;

	return e < lim ? e : lim;
}

static void
derive(struct jhdr *h)
{
	h->data_len = h->new_end - h->from;
	h->nseg = nblocks(h->from, h->new_end) +
	    nblocks(h->new_end, h->old_end);
	h->table_off = J_FIXED_SIZE + (off_t)h->path_len;
	h->data_off = h->table_off + (off_t)h->nseg * J_DIGEST_LEN;
	h->commit_off = h->data_off + h->data_len;
}

int
journal_fmt_init(struct jhdr *h, off_t from, off_t new_end, off_t old_end,
    const struct stat *st, const char *path)
{
	size_t len = strlen(path);

	memset(h, 0, sizeof(*h));
	if (len == 0 || len >= sizeof(h->path) || old_end > J_OFF_MAX)
		return -1;
	memcpy(h->path, path, len + 1);
	h->path_len = len;
	h->from = from;
	h->new_end = new_end;
	h->old_end = old_end;
	h->dev = (uint64_t)st->st_dev;
	h->ino = (uint64_t)st->st_ino;
	derive(h);
	return 0;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The fixed header and the path into p (J_FIXED_SIZE + path_len). */
static void
encode_hdr(const struct jhdr *h, unsigned char *p)
{
	unsigned char *q = p + J_MAGIC_LEN;

	memcpy(p, J_MAGIC, J_MAGIC_LEN);
	put32(q, J_VERSION);
	put32(q + 4, 0);			/* flags */
	put64(q + 8, (uint64_t)h->from);
	put64(q + 16, (uint64_t)h->new_end);
	put64(q + 24, (uint64_t)h->old_end);
	put64(q + 32, (uint64_t)h->data_len);
	put64(q + 40, h->dev);
	put64(q + 48, h->ino);
	put64(q + 56, h->nseg);
	put32(q + 64, J_BLOCK);
	put32(q + 68, (uint32_t)h->path_len);
	memcpy(q + 72, h->table_digest, J_DIGEST_LEN);
	memcpy(q + 72 + J_DIGEST_LEN, h->data_digest, J_DIGEST_LEN);
	memcpy(p + J_FIXED_SIZE, h->path, h->path_len);
}

/*
 * Decodes the fixed header p into h (not the path).  Returns 0, 1 if it
 * is not a sane header (torn, or not a journal), or 2 if it is a journal
 * of another version.
 */
static int
decode_fixed(const unsigned char *p, struct jhdr *h)
{
	const unsigned char *q = p + J_MAGIC_LEN;
	uint64_t v[4];
	int i;

	memset(h, 0, sizeof(*h));
	if (memcmp(p, J_MAGIC, J_MAGIC_LEN) != 0)
		return 1;
	if (get32(q) != J_VERSION)
		return 2;
	for (i = 0; i < 4; i++) {
		v[i] = get64(q + 8 + 8 * i);
		if (v[i] > (uint64_t)J_OFF_MAX)
			return 1;
	}
	h->from = (off_t)v[0];
	h->new_end = (off_t)v[1];
	h->old_end = (off_t)v[2];
	h->dev = get64(q + 40);
	h->ino = get64(q + 48);
	h->path_len = get32(q + 68);
	if (get32(q + 4) != 0 || h->from > h->new_end ||
	    h->new_end > h->old_end || (off_t)v[3] != h->new_end - h->from ||
	    get32(q + 64) != J_BLOCK || h->path_len == 0 ||
	    h->path_len >= sizeof(h->path))
		return 1;
	derive(h);
	if (get64(q + 56) != h->nseg)
		return 1;
	memcpy(h->table_digest, q + 72, J_DIGEST_LEN);
	memcpy(h->data_digest, q + 72 + J_DIGEST_LEN, J_DIGEST_LEN);
	return 0;
}

int
journal_fmt_copy(int in, off_t ioff, int out, off_t ooff, off_t len,
    char *buf, bool crash_half)
{
	off_t done = 0, half, chunk, end;
	bool halfway = !crash_half || len == 0;

	/* Writes end at block boundaries of the output file: a kill between
	 * two of them leaves every block wholly old or wholly new, as the
	 * kernel does within one write.  So does the crash hook's halfway
	 * point (the first boundary if the middle has none before it). */
	half = (ooff + len / 2) / J_BLOCK * J_BLOCK - ooff;
	if (half <= 0)
		half = J_BLOCK - ooff % J_BLOCK;
	if (half > len)
		half = len;
	while (done < len) {
		end = (ooff + done) / J_BLOCK * J_BLOCK + J_BUF_SIZE;
		chunk = end - (ooff + done);
		if (chunk > len - done)
			chunk = len - done;
		if (!halfway && done < half && done + chunk > half)
			chunk = half - done;
		if (util_pread_full(in, buf, (size_t)chunk, ioff + done) == -1 ||
		    util_pwrite_full(out, buf, (size_t)chunk, ooff + done) == -1)
			return -1;
		done += chunk;
		if (!halfway && done >= half) {
			halfway = true;
			journal_crash_point(5);
		}
	}
	return 0;
}

/* SHA-256 of fd's bytes [off, off + len).  Returns 0 or -1 (errno). */
static int
digest_range(int fd, off_t off, off_t len, char *buf, unsigned char *out)
{
	EVP_MD_CTX *md;
	off_t done, chunk;
	int r = -1;

	if ((md = EVP_MD_CTX_new()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (done = 0; done < len; done += chunk) {
		chunk = len - done < J_BUF_SIZE ? len - done : J_BUF_SIZE;
		if (util_pread_full(fd, buf, (size_t)chunk, off + done) == -1)
			goto out;
		if (EVP_DigestUpdate(md, buf, (size_t)chunk) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(md, out, NULL) == 1)
		r = 0;
out:
	if (r == -1 && errno == 0)
		errno = EIO;
	EVP_MD_CTX_free(md);
	return r;
}

static int
seg_digest(const void *p, off_t len, unsigned char *out)
{
	if (EVP_Digest(p, (size_t)len, out, NULL, EVP_sha256(), NULL) != 1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* 1 if the len bytes at p have the digest want, 0 if not, -1 (errno). */
static int
seg_is(const void *p, off_t len, const unsigned char *want)
{
	unsigned char d[J_DIGEST_LEN];

	if (seg_digest(p, len, d) == -1)
		return -1;
	return memcmp(d, want, J_DIGEST_LEN) == 0;
}

/*
 * Writes the part of ranges[*ri..n) inside [c, ce) (buf holds fd's bytes
 * there) to jfd at *out, hashing it into md.  Ranges are ascending, so the
 * pieces come in the order of the new content.  Returns 0 or -1 (errno).
 */
static int
put_data(int jfd, const struct journal_range *ranges, size_t n, size_t *ri,
    off_t c, off_t ce, const char *buf, off_t *out, EVP_MD_CTX *md)
{
	const struct journal_range *r;
	off_t lo, hi, rend;

	for (; *ri < n; (*ri)++) {
		r = &ranges[*ri];
		rend = r->off + r->len;
		if (r->len == 0)
			continue;
		if (r->off >= ce)
			return 0;
		lo = r->off > c ? r->off : c;
		hi = rend < ce ? rend : ce;
		if (util_pwrite_full(jfd, buf + (lo - c), (size_t)(hi - lo),
		    *out) == -1)
			return -1;
		if (EVP_DigestUpdate(md, buf + (lo - c), (size_t)(hi - lo))
		    != 1) {
			errno = EIO;
			return -1;
		}
		*out += hi - lo;
		if (rend > ce)
			return 0;	/* the rest is in the next chunk */
	}
	return 0;
}

/* The table and data pass of journal_fmt_write.  Returns 0 or -1. */
static int
write_body(int jfd, int fd, struct jhdr *h,
    const struct journal_range *ranges, size_t n, char *buf)
{
	unsigned char tab[J_TAB_MAX * J_DIGEST_LEN];
	EVP_MD_CTX *tmd = EVP_MD_CTX_new(), *dmd = EVP_MD_CTX_new();
	off_t c, ce, s, e, out = h->data_off;
	uint64_t ti = 0;
	size_t k, ri = 0;
	int r = -1;

	errno = 0;
	if (tmd == NULL || dmd == NULL ||
	    EVP_DigestInit_ex(tmd, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(dmd, EVP_sha256(), NULL) != 1)
		goto out;
	for (c = h->from; c < h->old_end; c = ce) {
		ce = chunk_end(c, h->old_end);
		if (util_pread_full(fd, buf, (size_t)(ce - c), c) == -1)
			goto out;
		for (k = 0, s = c; s < ce; s = e, k++) {
			e = seg_end(h, s);
			if (seg_digest(buf + (s - c), e - s,
			    tab + k * J_DIGEST_LEN) == -1)
				goto out;
		}
		if (util_pwrite_full(jfd, tab, k * J_DIGEST_LEN, h->table_off +
		    (off_t)(ti * J_DIGEST_LEN)) == -1 ||
		    EVP_DigestUpdate(tmd, tab, k * J_DIGEST_LEN) != 1 ||
		    put_data(jfd, ranges, n, &ri, c, ce, buf, &out, dmd) == -1)
			goto out;
		ti += k;
	}
	if (ti != h->nseg || out != h->commit_off) {
		errno = EINVAL;		/* ranges outside [from, old_end) */
		goto out;
	}
	if (EVP_DigestFinal_ex(tmd, h->table_digest, NULL) == 1 &&
	    EVP_DigestFinal_ex(dmd, h->data_digest, NULL) == 1)
		r = 0;
out:
	if (r == -1 && errno == 0)
		errno = EIO;
	EVP_MD_CTX_free(tmd);
	EVP_MD_CTX_free(dmd);
	return r;
}

int
journal_fmt_write(int jfd, int fd, struct jhdr *h,
    const struct journal_range *ranges, size_t n, char *buf,
    char *errstr_r, size_t errlen)
{
	unsigned char hdr[J_FIXED_SIZE + PARAM_PATH_MAX];
	unsigned char commit[J_COMMIT_SIZE];
	size_t hlen = J_FIXED_SIZE + h->path_len;
	char etext[128];
	const char *what;

	journal_crash_point(2);
	what = "write";
	if (write_body(jfd, fd, h, ranges, n, buf) == -1)
		goto fail;
	encode_hdr(h, hdr);
	if (util_pwrite_full(jfd, hdr, hlen, 0) == -1)
		goto fail;

	journal_crash_point(3);
	what = "fsync";
	if (fsync(jfd) == -1)
		goto fail;

	journal_crash_point(4);
	what = "commit";
	memcpy(commit, J_COMMIT_MAGIC, J_MAGIC_LEN);
	if (seg_digest(hdr, (off_t)hlen, commit + J_MAGIC_LEN) == -1 ||
	    util_pwrite_full(jfd, commit, sizeof(commit), h->commit_off) == -1 ||
	    fsync(jfd) == -1)
		goto fail;
	return 0;
fail:
	journal_fmt_errtext(errno, etext, sizeof(etext));
	util_seterr(errstr_r, errlen, "journal %s: %s", what, etext);
	return -1;
}

int
journal_fmt_read(int jfd, struct jhdr *h, char *buf, char *errstr_r,
    size_t errlen)
{
	unsigned char hdr[J_FIXED_SIZE + PARAM_PATH_MAX];
	unsigned char commit[J_COMMIT_SIZE], digest[J_DIGEST_LEN];
	size_t hlen;
	struct stat st;
	int r;

	if (fstat(jfd, &st) == -1) {
		util_seterr(errstr_r, errlen, "journal: fstat: %s",
		    strerror(errno));
		return -1;
	}
	if (st.st_size < J_FIXED_SIZE)
		return 0;
	if (util_pread_full(jfd, hdr, J_FIXED_SIZE, 0) == -1)
		goto ioerr;
	if ((r = decode_fixed(hdr, h)) == 2) {
		util_seterr(errstr_r, errlen, "journal: of version %lu, not "
		    "%d; kept", (unsigned long)get32(hdr + J_MAGIC_LEN),
		    J_VERSION);
		return -1;
	}
	hlen = J_FIXED_SIZE + h->path_len;
	if (r != 0 || st.st_size < h->commit_off + J_COMMIT_SIZE)
		return 0;
	if (util_pread_full(jfd, hdr + J_FIXED_SIZE, h->path_len,
	    J_FIXED_SIZE) == -1 ||
	    util_pread_full(jfd, commit, sizeof(commit), h->commit_off) == -1)
		goto ioerr;
	if (memcmp(commit, J_COMMIT_MAGIC, J_MAGIC_LEN) != 0 ||
	    seg_digest(hdr, (off_t)hlen, digest) == -1 ||
	    memcmp(digest, commit + J_MAGIC_LEN, J_DIGEST_LEN) != 0)
		return 0;
	/* Committed: from here on a mismatch is damage, never discard. */
	memcpy(h->path, hdr + J_FIXED_SIZE, h->path_len);
	h->path[h->path_len] = '\0';
	if (strlen(h->path) != h->path_len) {
		util_seterr(errstr_r, errlen, "journal: committed but its path "
		    "holds a NUL; kept");
		return -1;
	}
	if (st.st_size != h->commit_off + J_COMMIT_SIZE) {
		util_seterr(errstr_r, errlen, "journal: committed but %lld bytes "
		    "long, expected %lld; kept", (long long)st.st_size,
		    (long long)(h->commit_off + J_COMMIT_SIZE));
		return -1;
	}
	if (digest_range(jfd, h->table_off, h->data_off - h->table_off, buf,
	    digest) == -1)
		goto ioerr;
	if (memcmp(digest, h->table_digest, J_DIGEST_LEN) != 0) {
		util_seterr(errstr_r, errlen, "journal: committed but its table "
		    "of old digests does not match its digest; kept");
		return -1;
	}
	if (digest_range(jfd, h->data_off, h->data_len, buf, digest) == -1)
		goto ioerr;
	if (memcmp(digest, h->data_digest, J_DIGEST_LEN) != 0) {
		util_seterr(errstr_r, errlen, "journal: committed but its data "
		    "does not match its digest; kept");
		return -1;
	}
	return 1;
ioerr:
	util_seterr(errstr_r, errlen, "journal: read: %s", strerror(errno));
	return -1;
}

/*
 * Compares [from, new_end) of fd with the journal, segment by segment:
 * the new content (bytes at the same place in the journal's data) first,
 * the old content (digest) if not.  Sets js->region and js->region_at.
 * Returns 0 or -1 (errno).
 */
static int
check_region(int fd, int jfd, const struct jhdr *h, char *buf,
    struct journal_state *js)
{
	unsigned char tab[J_TAB_MAX * J_DIGEST_LEN];
	char *cur = buf, *nw = buf + J_CHUNK;
	uint64_t nnew = 0, nold = 0, ns;
	off_t c, ce, s, e;
	size_t k;
	int r;

	js->region_at = -1;
	for (c = h->from; c < h->new_end; c = ce) {
		ce = chunk_end(c, h->new_end);
		ns = nblocks(c, ce);
		if (util_pread_full(fd, cur, (size_t)(ce - c), c) == -1 ||
		    util_pread_full(jfd, nw, (size_t)(ce - c),
		    h->data_off + (c - h->from)) == -1 ||
		    util_pread_full(jfd, tab, ns * J_DIGEST_LEN, h->table_off +
		    (off_t)(seg_index(h, c) * J_DIGEST_LEN)) == -1)
			return -1;
		for (k = 0, s = c; s < ce; s = e, k++) {
			e = seg_end(h, s);
			if (memcmp(cur + (s - c), nw + (s - c),
			    (size_t)(e - s)) == 0) {
				nnew++;
				continue;
			}
			if ((r = seg_is(cur + (s - c), e - s,
			    tab + k * J_DIGEST_LEN)) == -1)
				return -1;
			if (r == 0) {
				js->region = JOURNAL_PART_FOREIGN;
				js->region_at = s;
				return 0;
			}
			if (nold++ == 0)
				js->region_at = s;
		}
	}
	if (h->from == h->new_end)
		js->region = JOURNAL_PART_EMPTY;
	else if (nold == 0)
		js->region = JOURNAL_PART_NEW;
	else
		js->region = nnew == 0 ? JOURNAL_PART_OLD : JOURNAL_PART_MIXED;
	return 0;
}

/* Does [new_end, old_end) of fd (size bytes) still hold the old bytes?
 * Sets js->tail and js->tail_at.  Returns 0 or -1 (errno). */
static int
check_tail(int fd, int jfd, const struct jhdr *h, off_t size, char *buf,
    struct journal_state *js)
{
	unsigned char tab[J_TAB_MAX * J_DIGEST_LEN];
	off_t c, ce, s, e;
	size_t k;
	int r;

	js->tail_at = -1;
	if (h->new_end == h->old_end) {
		js->tail = JOURNAL_PART_EMPTY;
		return 0;
	}
	if (size < h->old_end) {
		js->tail = JOURNAL_PART_SHORT;
		js->tail_at = size;
		return 0;
	}
	for (c = h->new_end; c < h->old_end; c = ce) {
		ce = chunk_end(c, h->old_end);
		if (util_pread_full(fd, buf, (size_t)(ce - c), c) == -1 ||
		    util_pread_full(jfd, tab, nblocks(c, ce) * J_DIGEST_LEN,
		    h->table_off + (off_t)(seg_index(h, c) * J_DIGEST_LEN))
		    == -1)
			return -1;
		for (k = 0, s = c; s < ce; s = e, k++) {
			e = seg_end(h, s);
			if ((r = seg_is(buf + (s - c), e - s,
			    tab + k * J_DIGEST_LEN)) == -1)
				return -1;
			if (r == 0) {
				js->tail = JOURNAL_PART_FOREIGN;
				js->tail_at = s;
				return 0;
			}
		}
	}
	js->tail = JOURNAL_PART_OLD;
	return 0;
}

/*
 * The verdict.  Why the prefix [0, from) is not checked: the redo writes
 * only from `from` on and moves only mail appended past old_end, so a
 * foreign change confined to the prefix that leaves the region explained
 * survives the redo untouched; a foreign change that adds or removes bytes
 * in the prefix shifts everything after it, and the shifted region then
 * holds neither the old nor the new bytes at their offsets (or the file is
 * shorter): refused.  The truncate happens only after the in-place rewrite
 * was fsynced, so "truncated" (the old tail is gone) is explained only by
 * an all-new region.
 */
static void
verdict(const struct jhdr *h, const char *maildrop, struct journal_state *js)
{
	char *r = js->reason;
	size_t rl = sizeof(js->reason);

	js->explained = false;
	if (strcmp(h->path, maildrop) != 0)
		util_seterr(r, rl, "the journal is for %s", h->path);
	else if (h->dev != js->cur_dev || h->ino != js->cur_ino)
		util_seterr(r, rl, "the maildrop is not the file the journal "
		    "was written for (device/inode %llu/%llu, the journal's "
		    "%llu/%llu)", (unsigned long long)js->cur_dev,
		    (unsigned long long)js->cur_ino,
		    (unsigned long long)h->dev, (unsigned long long)h->ino);
	else if (js->region == JOURNAL_PART_SHORT)
		util_seterr(r, rl, "the maildrop is %lld bytes, shorter than "
		    "the %s of the rewritten region (%lld)",
		    (long long)js->size, js->size < h->from ? "start" : "end",
		    (long long)(js->size < h->from ? h->from : h->new_end));
	else if (js->region == JOURNAL_PART_FOREIGN)
		util_seterr(r, rl, "the block at offset %lld of the rewritten "
		    "region holds neither its old nor its new content",
		    (long long)js->region_at);
	else if (js->tail == JOURNAL_PART_OLD ||
	    js->tail == JOURNAL_PART_EMPTY) {
		js->explained = true;
		js->appended = js->size - h->old_end;
	} else if (js->region == JOURNAL_PART_NEW ||
	    js->region == JOURNAL_PART_EMPTY) {
		js->explained = js->truncated = true;
		js->appended = js->size - h->new_end;
	} else
		util_seterr(r, rl, "the old bytes past the region changed at "
		    "offset %lld, but the truncate cannot have happened: the "
		    "block at offset %lld still holds old content",
		    (long long)js->tail_at, (long long)js->region_at);
}

int
journal_fmt_check(int fd, int jfd, const struct jhdr *h,
    const char *maildrop, char *buf, struct journal_state *js)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -1;
	js->status = JOURNAL_COMMITTED;
	(void)snprintf(js->recorded, sizeof(js->recorded), "%s", h->path);
	js->dev = h->dev;
	js->ino = h->ino;
	js->cur_dev = (uint64_t)st.st_dev;
	js->cur_ino = (uint64_t)st.st_ino;
	js->from = h->from;
	js->new_end = h->new_end;
	js->old_end = h->old_end;
	js->size = st.st_size;
	js->truncated = false;
	js->appended = 0;
	js->reason[0] = '\0';
	if (st.st_size < h->new_end) {
		js->region = js->tail = JOURNAL_PART_SHORT;
		js->region_at = js->tail_at = st.st_size;
	} else if (check_region(fd, jfd, h, buf, js) == -1 ||
	    check_tail(fd, jfd, h, st.st_size, buf, js) == -1)
		return -1;
	verdict(h, maildrop, js);
	return 0;
}
