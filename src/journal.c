/*
 * journal.c: the crash-safe in-place rewrite of a maildrop's tail and its
 * recovery (design.md §2 "UPDATE without loss").  journal_rewrite writes a
 * redo journal "<dir>/.<base>.journal" holding the new content of the
 * rewritten region, fsyncs it, commits it, and then applies it exactly as
 * recovery would: the same code completes an update after a crash.  The
 * journal records a SHA-256 of the old bytes [new_end, old_end), which the
 * in-place rewrite never touches, so recovery can tell whether the truncate
 * had happened and where mail appended since the crash starts; such mail is
 * rolled into a fresh journal (temp name, fsync, rename, fsync of the
 * directory) before it is moved, so a crash during recovery is safe too.
 * The maildrop keeps its inode for life.  The caller holds the mbox lock.
 * Runs in the session process as the mail user.
 *
 * Journal layout (integers big-endian):
 *   header  magic[8] version[4] flags[4] from[8] new_end[8] old_end[8]
 *           data_len[8] sha256(old [new_end, old_end))[32] sha256(data)[32]
 *   data    data_len bytes: the new content of [from, new_end)
 *   commit  magic[8] sha256(header)[32], written and fsynced only after the
 *           header and the data are on disk.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "journal.h"
#include "log.h"
#include "util.h"
#include "params.h"

#define J_MAGIC		"PSTRNJ01"
#define J_COMMIT_MAGIC	"PSTRNC01"
#define J_MAGIC_LEN	8
#define J_VERSION	1
#define J_DIGEST_LEN	32			/* SHA-256 */
#define J_HDR_SIZE	(J_MAGIC_LEN + 4 + 4 + 4 * 8 + 2 * J_DIGEST_LEN)
#define J_COMMIT_SIZE	(J_MAGIC_LEN + J_DIGEST_LEN)
#define J_BUF_SIZE	(1024 * 1024)		/* copy buffer: large blocks */
#define J_TMP_SUFFIX	".tmp"
/* Recovery rounds: each roll needs mail appended since the last crash. */
#define J_ROUNDS_MAX	8
/* Crash hook: the step before the rename of a rolled journal. */
#define J_STEP_ROLL_RENAME	10
#define J_STEPS		10

struct jhdr {
	off_t		 from;
	off_t		 new_end;
	off_t		 old_end;
	off_t		 data_len;
	unsigned char	 old_digest[J_DIGEST_LEN];
	unsigned char	 data_digest[J_DIGEST_LEN];
};

/* strerror plus the errno name for the errors callers must recognise. */
static void
errno_text(int e, char *buf, size_t len)
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

#ifdef POSTERN_TEST_HOOKS
void
journal_crash_point(int step)
{
	static pid_t env_pid = -1;
	static int at_step, at_hit;
	static int hits[J_STEPS + 1];
	const char *s;
	char *end;
	long v;

	/* Read the environment once per process (forked tests set it). */
	if (env_pid != getpid()) {
		env_pid = getpid();
		at_step = at_hit = 0;
		memset(hits, 0, sizeof(hits));
		if ((s = getenv("POSTERN_TEST_CRASH_AT")) != NULL) {
			errno = 0;
			v = strtol(s, &end, 10);
			if (errno == 0 && end != s && v >= 1 && v <= J_STEPS) {
				at_step = (int)v;
				at_hit = 1;
				if (*end == ':') {
					s = end + 1;
					v = strtol(s, &end, 10);
					at_hit = (end != s && v >= 1 &&
					    v < INT_MAX) ? (int)v : 0;
				}
				if (*end != '\0')
					at_step = 0;
			}
		}
	}
	if (at_step == 0 || step != at_step)
		return;
	if (++hits[step] == at_hit) {
		(void)kill(getpid(), SIGKILL);
		for (;;)
			pause();
	}
}
#endif

static int
split_path(const char *path, const char *suffix, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/'), *base;
	int n;

	base = slash != NULL ? slash + 1 : path;
	if (*base == '\0')
		return -1;
	if (slash != NULL)
		n = snprintf(buf, len, "%.*s/.%s%s", (int)(slash - path), path,
		    base, suffix);
	else
		n = snprintf(buf, len, ".%s%s", base, suffix);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

int
journal_path(const char *maildrop, char *buf, size_t len)
{
	return split_path(maildrop, ".journal", buf, len);
}

/* fsyncs the directory holding path (entries created or removed). */
static int
dir_fsync(const char *path)
{
	char dir[PARAM_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, r;

	if (slash == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		(void)snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -1;
	else
		(void)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path),
		    path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	if (r == -1 && errno == EINVAL)
		r = 0;		/* the file system cannot sync directories */
	close(fd);
	return r;
}

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
encode_hdr(const struct jhdr *h, unsigned char *p)
{
	memcpy(p, J_MAGIC, J_MAGIC_LEN);
	p += J_MAGIC_LEN;
	put64(p, (uint64_t)J_VERSION << 32);	/* version[4] flags[4] */
	p += 8;
	put64(p, (uint64_t)h->from);
	put64(p + 8, (uint64_t)h->new_end);
	put64(p + 16, (uint64_t)h->old_end);
	put64(p + 24, (uint64_t)h->data_len);
	p += 32;
	memcpy(p, h->old_digest, J_DIGEST_LEN);
	memcpy(p + J_DIGEST_LEN, h->data_digest, J_DIGEST_LEN);
}

/* Returns 0, or -1 if p is not a sane header. */
static int
decode_hdr(const unsigned char *p, struct jhdr *h)
{
	uint64_t v[4];
	int i;

	if (memcmp(p, J_MAGIC, J_MAGIC_LEN) != 0 ||
	    get64(p + J_MAGIC_LEN) != (uint64_t)J_VERSION << 32)
		return -1;
	for (i = 0; i < 4; i++) {
		v[i] = get64(p + J_MAGIC_LEN + 8 + 8 * i);
		if (v[i] > (uint64_t)INT64_MAX)
			return -1;
	}
	h->from = (off_t)v[0];
	h->new_end = (off_t)v[1];
	h->old_end = (off_t)v[2];
	h->data_len = (off_t)v[3];
	if (h->from > h->new_end || h->new_end > h->old_end ||
	    h->data_len != h->new_end - h->from)
		return -1;
	p += J_MAGIC_LEN + 8 + 32;
	memcpy(h->old_digest, p, J_DIGEST_LEN);
	memcpy(h->data_digest, p + J_DIGEST_LEN, J_DIGEST_LEN);
	return 0;
}

/*
 * Copies len bytes of in at ioff to out at ooff (out < 0: only hashes),
 * through buf, hashing them into md if not NULL.  With crash_half, the copy
 * stops at its halfway point for journal_crash_point(5).  Returns 0 or -1
 * (errno set).
 */
static int
copy_range(int in, off_t ioff, int out, off_t ooff, off_t len, char *buf,
    EVP_MD_CTX *md, bool crash_half)
{
	off_t done = 0, half = len / 2, chunk;
	bool halfway = !crash_half || len == 0;

	while (done < len) {
		chunk = len - done;
		if (chunk > J_BUF_SIZE)
			chunk = J_BUF_SIZE;
		if (!halfway && done < half && done + chunk > half)
			chunk = half - done;
		if (util_pread_full(in, buf, (size_t)chunk, ioff + done) == -1)
			return -1;
		if (md != NULL &&
		    EVP_DigestUpdate(md, buf, (size_t)chunk) != 1) {
			errno = EIO;
			return -1;
		}
		if (out >= 0 && util_pwrite_full(out, buf, (size_t)chunk,
		    ooff + done) == -1)
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
	int r = -1;

	if ((md = EVP_MD_CTX_new()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    copy_range(fd, off, -1, 0, len, buf, md, false) == 0 &&
	    EVP_DigestFinal_ex(md, out, NULL) == 1)
		r = 0;
	else if (errno == 0)
		errno = EIO;
	EVP_MD_CTX_free(md);
	return r;
}

/*
 * Steps 2-4: writes into jfd (new, empty) the header, the concatenation of
 * fd's ranges (the new content of [h->from, h->new_end)), fsyncs, then
 * writes the commit record and fsyncs again.  h has from, new_end and
 * old_end set.  Returns 0 or -1 with errstr_r set.
 */
static int
write_journal(int jfd, int fd, struct jhdr *h,
    const struct journal_range *ranges, size_t n, char *buf,
    char *errstr_r, size_t errlen)
{
	unsigned char hdr[J_HDR_SIZE], commit[J_COMMIT_SIZE];
	char etext[128];
	EVP_MD_CTX *md;
	off_t pos = J_HDR_SIZE;
	size_t i;
	const char *what;

	h->data_len = h->new_end - h->from;
	what = "digest of the old tail";
	if (digest_range(fd, h->new_end, h->old_end - h->new_end, buf,
	    h->old_digest) == -1)
		goto fail;

	journal_crash_point(2);
	what = "write";
	if ((md = EVP_MD_CTX_new()) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		errno = EIO;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (copy_range(fd, ranges[i].off, jfd, pos, ranges[i].len,
		    buf, md, false) == -1) {
			EVP_MD_CTX_free(md);
			goto fail;
		}
		pos += ranges[i].len;
	}
	if (EVP_DigestFinal_ex(md, h->data_digest, NULL) != 1) {
		EVP_MD_CTX_free(md);
		errno = EIO;
		goto fail;
	}
	EVP_MD_CTX_free(md);
	encode_hdr(h, hdr);
	if (util_pwrite_full(jfd, hdr, sizeof(hdr), 0) == -1)
		goto fail;

	journal_crash_point(3);
	what = "fsync";
	if (fsync(jfd) == -1)
		goto fail;

	journal_crash_point(4);
	what = "commit";
	memcpy(commit, J_COMMIT_MAGIC, J_MAGIC_LEN);
	if (EVP_Digest(hdr, sizeof(hdr), commit + J_MAGIC_LEN, NULL,
	    EVP_sha256(), NULL) != 1) {
		errno = EIO;
		goto fail;
	}
	if (util_pwrite_full(jfd, commit, sizeof(commit), pos) == -1 ||
	    fsync(jfd) == -1)
		goto fail;
	return 0;
fail:
	errno_text(errno, etext, sizeof(etext));
	util_seterr(errstr_r, errlen, "journal %s: %s", what, etext);
	return -1;
}

/*
 * Reads and checks the journal.  Returns 1 (committed and intact), 0 (not
 * committed, or torn before the commit: safe to discard, the maildrop was
 * not touched yet) or -1 (committed but damaged, or I/O error: keep it).
 */
static int
read_journal(int jfd, struct jhdr *h, char *buf, char *errstr_r,
    size_t errlen)
{
	unsigned char hdr[J_HDR_SIZE], commit[J_COMMIT_SIZE];
	unsigned char digest[J_DIGEST_LEN];
	struct stat st;
	off_t want;

	if (fstat(jfd, &st) == -1) {
		util_seterr(errstr_r, errlen, "journal: fstat: %s",
		    strerror(errno));
		return -1;
	}
	if (st.st_size < J_HDR_SIZE)
		return 0;
	if (util_pread_full(jfd, hdr, sizeof(hdr), 0) == -1) {
		util_seterr(errstr_r, errlen, "journal: read: %s",
		    strerror(errno));
		return -1;
	}
	if (decode_hdr(hdr, h) == -1 ||
	    h->data_len > INT64_MAX - J_HDR_SIZE - J_COMMIT_SIZE)
		return 0;
	want = J_HDR_SIZE + h->data_len + J_COMMIT_SIZE;
	if (st.st_size < want)
		return 0;
	if (util_pread_full(jfd, commit, sizeof(commit), want - J_COMMIT_SIZE)
	    == -1) {
		util_seterr(errstr_r, errlen, "journal: read: %s",
		    strerror(errno));
		return -1;
	}
	if (memcmp(commit, J_COMMIT_MAGIC, J_MAGIC_LEN) != 0 ||
	    EVP_Digest(hdr, sizeof(hdr), digest, NULL, EVP_sha256(), NULL)
	    != 1 || memcmp(digest, commit + J_MAGIC_LEN, J_DIGEST_LEN) != 0)
		return 0;
	/* Committed: from here on a mismatch is damage, never discard. */
	if (st.st_size != want) {
		util_seterr(errstr_r, errlen, "journal: committed but %lld bytes "
		    "long, expected %lld; kept", (long long)st.st_size,
		    (long long)want);
		return -1;
	}
	if (digest_range(jfd, J_HDR_SIZE, h->data_len, buf, digest) == -1) {
		util_seterr(errstr_r, errlen, "journal: read: %s",
		    strerror(errno));
		return -1;
	}
	if (memcmp(digest, h->data_digest, J_DIGEST_LEN) != 0) {
		util_seterr(errstr_r, errlen, "journal: committed but its data "
		    "does not match its digest; kept");
		return -1;
	}
	return 1;
}

/*
 * Moves mail appended after old_end (the truncate had not happened) into a
 * fresh committed journal that replaces the current one: from = new_end,
 * data = [old_end, size).  Returns 0, or -1 (the current journal stays).
 */
static int
roll_journal(int fd, const struct jhdr *h, off_t size, const char *jpath,
    const char *tpath, char *buf, char *errstr_r, size_t errlen)
{
	struct journal_range r;
	struct jhdr h2;
	int tfd;

	if (unlink(tpath) == -1 && errno != ENOENT) {
		util_seterr(errstr_r, errlen, "journal: unlink %s: %s", tpath,
		    strerror(errno));
		return -1;
	}
	journal_crash_point(1);
	tfd = open(tpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (tfd == -1) {
		util_seterr(errstr_r, errlen, "journal: create %s: %s", tpath,
		    strerror(errno));
		return -1;
	}
	memset(&h2, 0, sizeof(h2));
	r.off = h->old_end;
	r.len = size - h->old_end;
	h2.from = h->new_end;
	h2.new_end = h->new_end + r.len;
	h2.old_end = size;
	if (write_journal(tfd, fd, &h2, &r, 1, buf, errstr_r, errlen) == -1)
		goto fail;
	if (close(tfd) == -1) {
		tfd = -1;
		util_seterr(errstr_r, errlen, "journal: close: %s",
		    strerror(errno));
		goto fail;
	}
	tfd = -1;
	journal_crash_point(J_STEP_ROLL_RENAME);
	if (rename(tpath, jpath) == -1) {
		util_seterr(errstr_r, errlen, "journal: rename: %s",
		    strerror(errno));
		goto fail;
	}
	if (dir_fsync(jpath) == -1) {
		/* The new journal is in place; its next reading is fine. */
		util_seterr(errstr_r, errlen, "journal: fsync of directory: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	if (tfd != -1)
		close(tfd);
	(void)unlink(tpath);
	return -1;
}

/*
 * Applies a committed journal (steps 5-9).  Returns 0 (done, journal
 * removed), 1 (mail appended after a crash was rolled into a new journal:
 * apply again) or -1.
 */
static int
apply_journal(int fd, int jfd, const struct jhdr *h, const char *jpath,
    const char *tpath, char *buf, char *errstr_r, size_t errlen)
{
	unsigned char digest[J_DIGEST_LEN];
	char etext[128];
	struct stat st;
	bool truncated;
	const char *what;

	what = "fstat";
	if (fstat(fd, &st) == -1)
		goto fail;
	if (st.st_size < h->from) {
		util_seterr(errstr_r, errlen, "journal: maildrop is shorter (%lld) "
		    "than the journal's start (%lld); kept",
		    (long long)st.st_size, (long long)h->from);
		return -1;
	}

	/* Step 5 (redo, idempotent): never touches [new_end, old_end). */
	journal_crash_point(5);
	what = "rewrite";
	if (copy_range(jfd, J_HDR_SIZE, fd, h->from, h->data_len, buf, NULL,
	    true) == -1)
		goto fail;
	journal_crash_point(6);
	what = "fsync";
	if (fsync(fd) == -1 || fstat(fd, &st) == -1)
		goto fail;

	/* Did the truncate happen?  The old tail's digest decides. */
	truncated = true;
	if (st.st_size >= h->old_end) {
		what = "digest";
		if (digest_range(fd, h->new_end, h->old_end - h->new_end, buf,
		    digest) == -1)
			goto fail;
		truncated = memcmp(digest, h->old_digest, J_DIGEST_LEN) != 0;
	}
	if (!truncated && h->new_end < h->old_end) {
		if (st.st_size > h->old_end) {
			log_warnx("journal %s: keeping %lld bytes appended "
			    "after a crash", jpath,
			    (long long)(st.st_size - h->old_end));
			if (roll_journal(fd, h, st.st_size, jpath, tpath, buf,
			    errstr_r, errlen) == -1)
				return -1;
			return 1;
		}
		journal_crash_point(7);
		what = "ftruncate";
		if (ftruncate(fd, h->new_end) == -1)
			goto fail;
		journal_crash_point(8);
		what = "fsync";
		if (fsync(fd) == -1)
			goto fail;
	}
	/* Otherwise everything past new_end was appended after the truncate
	 * and is already where it belongs. */
	journal_crash_point(9);
	what = "unlink";
	if (unlink(jpath) == -1)
		goto fail;
	if (dir_fsync(jpath) == -1)
		log_warn("journal: fsync of the directory of %s", jpath);
	return 0;
fail:
	errno_text(errno, etext, sizeof(etext));
	util_seterr(errstr_r, errlen, "journal %s: %s; committed journal kept",
	    what, etext);
	return -1;
}

/* The recovery loop shared by journal_recover and journal_rewrite. */
static int
recover(int fd, const char *jpath, const char *tpath, char *buf,
    char *errstr_r, size_t errlen)
{
	struct jhdr h;
	struct stat st;
	int jfd, r, round, applied = 0;

	for (round = 0; round < J_ROUNDS_MAX; round++) {
		jfd = open(jpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		if (jfd == -1) {
			if (errno != ENOENT) {
				util_seterr(errstr_r, errlen, "journal %s: %s",
				    jpath, errno == ELOOP ?
				    "is a symbolic link" : strerror(errno));
				return -1;
			}
			/* A temp journal without its journal is a torn roll
			 * that can no longer matter. */
			(void)unlink(tpath);
			return applied;
		}
		if (fstat(jfd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid()) {
			util_seterr(errstr_r, errlen, "journal %s: not a regular "
			    "file owned by uid %ld", jpath, (long)geteuid());
			close(jfd);
			return -1;
		}
		r = read_journal(jfd, &h, buf, errstr_r, errlen);
		if (r == 0) {
			close(jfd);
			log_warnx("journal %s: not committed; removed, "
			    "maildrop left as it is", jpath);
			if (unlink(jpath) == -1) {
				util_seterr(errstr_r, errlen, "journal: unlink "
				    "%s: %s", jpath, strerror(errno));
				return -1;
			}
			(void)unlink(tpath);
			(void)dir_fsync(jpath);
			return applied;
		}
		if (r == -1) {
			close(jfd);
			return -1;
		}
		r = apply_journal(fd, jfd, &h, jpath, tpath, buf, errstr_r,
		    errlen);
		close(jfd);
		if (r == -1)
			return -1;
		applied = 1;
		if (r == 0)
			return 1;
	}
	util_seterr(errstr_r, errlen, "journal %s: too many recovery rounds; "
	    "kept", jpath);
	return -1;
}

static int
tmp_path(const char *jpath, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s", jpath, J_TMP_SUFFIX);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
journal_recover(int fd, const char *maildrop, char *errstr_r, size_t errlen)
{
	char jpath[PARAM_PATH_MAX], tpath[PARAM_PATH_MAX + 8];
	char *buf;
	int r;

	if (journal_path(maildrop, jpath, sizeof(jpath)) == -1 ||
	    tmp_path(jpath, tpath, sizeof(tpath)) == -1) {
		util_seterr(errstr_r, errlen, "journal: bad maildrop path");
		return -1;
	}
	if ((buf = malloc(J_BUF_SIZE)) == NULL) {
		util_seterr(errstr_r, errlen, "journal: out of memory");
		return -1;
	}
	r = recover(fd, jpath, tpath, buf, errstr_r, errlen);
	free(buf);
	return r;
}

static int
check_ranges(off_t from, const struct journal_range *ranges, size_t n,
    off_t old_end, off_t *new_end_r)
{
	off_t prev = from, total = 0;
	size_t i;

	if (from < 0 || from > old_end)
		return -1;
	for (i = 0; i < n; i++) {
		if (ranges[i].off < prev || ranges[i].len < 0 ||
		    ranges[i].len > old_end - ranges[i].off)
			return -1;
		prev = ranges[i].off + ranges[i].len;
		total += ranges[i].len;
	}
	*new_end_r = from + total;	/* <= old_end: ranges do not overlap */
	return 0;
}

int
journal_rewrite(int fd, const char *maildrop, off_t from,
    const struct journal_range *ranges, size_t n, off_t old_end,
    char *errstr_r, size_t errlen)
{
	char jpath[PARAM_PATH_MAX], tpath[PARAM_PATH_MAX + 8], etext[128];
	struct jhdr h;
	struct stat st;
	char *buf = NULL;
	int jfd = -1, r;

	memset(&h, 0, sizeof(h));
	h.from = from;
	h.old_end = old_end;
	if (check_ranges(from, ranges, n, old_end, &h.new_end) == -1) {
		util_seterr(errstr_r, errlen, "journal: bad ranges");
		return -1;
	}
	if (journal_path(maildrop, jpath, sizeof(jpath)) == -1 ||
	    tmp_path(jpath, tpath, sizeof(tpath)) == -1) {
		util_seterr(errstr_r, errlen, "journal: bad maildrop path");
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size != old_end) {
		util_seterr(errstr_r, errlen, "journal: maildrop size is not %lld; "
		    "untouched", (long long)old_end);
		return -1;
	}
	if ((buf = malloc(J_BUF_SIZE)) == NULL) {
		util_seterr(errstr_r, errlen, "journal: out of memory; maildrop "
		    "untouched");
		return -1;
	}

	journal_crash_point(1);
	jfd = open(jpath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (jfd == -1) {
		errno_text(errno, etext, sizeof(etext));
		util_seterr(errstr_r, errlen, "journal: create %s: %s; maildrop "
		    "untouched", jpath, errno == EEXIST ?
		    "a journal already exists" : etext);
		free(buf);
		return -1;
	}
	if (dir_fsync(jpath) == -1) {
		errno_text(errno, etext, sizeof(etext));
		util_seterr(errstr_r, errlen, "journal: fsync of directory: %s",
		    etext);
		goto abort;
	}
	if (write_journal(jfd, fd, &h, ranges, n, buf, errstr_r, errlen)
	    == -1)
		goto abort;
	if (close(jfd) == -1) {
		jfd = -1;
		errno_text(errno, etext, sizeof(etext));
		util_seterr(errstr_r, errlen, "journal: close: %s", etext);
		goto abort;
	}
	jfd = -1;

	/* Committed: steps 5-9 are exactly what recovery does. */
	r = recover(fd, jpath, tpath, buf, errstr_r, errlen);
	free(buf);
	if (r == 1)
		return 0;
	if (r == 0)
		util_seterr(errstr_r, errlen, "journal: vanished before it was "
		    "applied");
	else
		log_warnx("journal %s: update incomplete, recovery will "
		    "finish it", jpath);
	return -1;

abort:
	/* Before the commit: the maildrop was not touched. */
	if (jfd != -1)
		close(jfd);
	if (unlink(jpath) == -1)
		log_warn("journal: unlink %s", jpath);
	(void)dir_fsync(jpath);
	free(buf);
	r = (int)strlen(errstr_r != NULL ? errstr_r : "");
	if (errstr_r != NULL && (size_t)r < errlen)
		(void)snprintf(errstr_r + r, errlen - (size_t)r,
		    "; maildrop untouched");
	return -1;
}
