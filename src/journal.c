/*
 * journal.c: the crash-safe in-place rewrite of a maildrop's tail and its
 * recovery (design.md §2 "UPDATE without loss").  journal_rewrite writes a
 * redo journal (journal_name(): "<16 hex of SHA-256(path)>.journal" in the
 * user's state directory, reached only through its fd with *at() calls
 * and O_NOFOLLOW) holding the new content of the rewritten region and a
 * digest of every old 4 KiB block (journal_fmt.c), fsyncs it, commits it,
 * and then applies it as recovery would: the same code completes an
 * update after a crash.  Recovery first checks that the maildrop's bytes
 * are explained by the journal and writes nothing if they are not (a MUA
 * changed the file since the crash); the old tail's blocks tell whether
 * the truncate had happened and where mail appended since starts; such
 * mail is rolled into a fresh journal (temp name, fsync, rename, fsync of
 * the directory) before it is moved, so a crash during recovery is safe
 * too.  The maildrop keeps its inode for life.  The caller holds the mbox
 * lock.  Runs in the session process (or pop3d -R) as the mail user.
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
#include "journal_fmt.h"
#include "log.h"
#include "util.h"

#define J_SUFFIX	".journal"
#define J_TMP_SUFFIX	".tmp"
#define J_NAME_HEX	16	/* hex digits of SHA-256(maildrop path) */
#define J_NAME_MAX	64	/* a journal name and its temp suffix */
/* Recovery rounds: each roll needs mail appended since the last crash. */
#define J_ROUNDS_MAX	8
/* Crash hook: the step before the rename of a rolled journal. */
#define J_STEP_ROLL_RENAME	10
#define J_STEPS		10

/* How a round of recovery treats the journal it finds. */
#define J_VERIFY	0	/* apply only what the bytes explain */
#define J_TRUSTED	1	/* just written from the locked file */
#define J_FORCE		2	/* the administrator says it is right */

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

/* Where the journal lives and the buffers of one call. */
struct jctx {
	int		 dirfd;			/* the journal directory */
	const char	*jname;			/* the journal, in dirfd */
	char		 tname[J_NAME_MAX];	/* the rolled journal's temp */
	const char	*maildrop;		/* its absolute path */
	char		*buf;			/* J_BUF_SIZE bytes, or NULL */
};

int
journal_name(const char *maildrop, char *buf, size_t len)
{
	unsigned char md[J_DIGEST_LEN];
	size_t i;
	int n;

	/* The absolute path names the maildrop: INBOX and every folder get
	 * their own journal in one flat state directory. */
	if (maildrop == NULL || maildrop[0] != '/' ||
	    EVP_Digest(maildrop, strlen(maildrop), md, NULL, EVP_sha256(),
	    NULL) != 1 || len < J_NAME_HEX + sizeof(J_SUFFIX))
		return -1;
	for (i = 0; i < J_NAME_HEX / 2; i++)
		(void)snprintf(buf + 2 * i, 3, "%02x", md[i]);
	n = snprintf(buf + J_NAME_HEX, len - J_NAME_HEX, "%s", J_SUFFIX);
	return n < 0 || (size_t)n >= len - J_NAME_HEX ? -1 : 0;
}

/*
 * Sets up ctx for jname in dirfd (with a J_BUF_SIZE buffer if need_buf).
 * Returns 0, or -1 with errstr_r set.
 */
static int
jctx_init(struct jctx *ctx, int dirfd, const char *jname,
    const char *maildrop, bool need_buf, char *errstr_r, size_t errlen)
{
	int n;

	memset(ctx, 0, sizeof(*ctx));
	ctx->dirfd = dirfd;
	ctx->jname = jname;
	ctx->maildrop = maildrop;
	/* One name in the directory: never a path, never a dot entry. */
	if (dirfd < 0 || jname == NULL || jname[0] == '\0' ||
	    jname[0] == '.' || strchr(jname, '/') != NULL) {
		util_seterr(errstr_r, errlen, "journal: bad journal name");
		return -1;
	}
	n = snprintf(ctx->tname, sizeof(ctx->tname), "%s%s", jname,
	    J_TMP_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(ctx->tname)) {
		util_seterr(errstr_r, errlen, "journal: bad journal name");
		return -1;
	}
	if (need_buf && (maildrop == NULL || maildrop[0] != '/')) {
		util_seterr(errstr_r, errlen, "journal: bad maildrop path");
		return -1;
	}
	if (need_buf && (ctx->buf = malloc(J_BUF_SIZE)) == NULL) {
		util_seterr(errstr_r, errlen, "journal: out of memory");
		return -1;
	}
	return 0;
}

/* fsyncs the journal directory (entries created, renamed or removed). */
static int
jdir_fsync(const struct jctx *ctx)
{
	if (fsync(ctx->dirfd) == -1 && errno != EINVAL)
		return -1;	/* EINVAL: the file system cannot sync dirs */
	return 0;
}

/*
 * Opens name in the journal directory without following a symlink and
 * checks it is a regular file with one link owned by the euid (no one
 * else can have planted or linked it).  Returns the fd, or -1 with errno
 * set (ENOENT: none) and, except for ENOENT, errstr_r.
 */
static int
jopen(const struct jctx *ctx, const char *name, int flags, char *errstr_r,
    size_t errlen)
{
	char etext[128];
	struct stat st;
	int fd, e;

	fd = openat(ctx->dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		e = errno;
		journal_fmt_errtext(e, etext, sizeof(etext));
		if (e != ENOENT)
			util_seterr(errstr_r, errlen, "journal %s: %s", name,
			    e == ELOOP ? "is a symbolic link" : etext);
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_uid != geteuid()) {
		util_seterr(errstr_r, errlen, "journal %s: not a regular file "
		    "with one link owned by uid %ld", name, (long)geteuid());
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/*
 * Moves mail appended after old_end (the truncate had not happened) into a
 * fresh committed journal that replaces the current one: from = new_end,
 * data = [old_end, size).  Returns 0, or -1 (the current journal stays).
 */
static int
roll_journal(int fd, const struct jhdr *h, struct jctx *ctx,
    char *errstr_r, size_t errlen)
{
	struct journal_range r;
	struct jhdr h2;
	struct stat st;
	int tfd;

	if (fstat(fd, &st) == -1) {
		util_seterr(errstr_r, errlen, "journal: fstat: %s",
		    strerror(errno));
		return -1;
	}
	r.off = h->old_end;
	r.len = st.st_size - h->old_end;
	if (journal_fmt_init(&h2, h->new_end, h->new_end + r.len, st.st_size,
	    &st, ctx->maildrop) == -1) {
		util_seterr(errstr_r, errlen, "journal: bad maildrop path");
		return -1;
	}
	if (unlinkat(ctx->dirfd, ctx->tname, 0) == -1 && errno != ENOENT) {
		util_seterr(errstr_r, errlen, "journal: unlink %s: %s",
		    ctx->tname, strerror(errno));
		return -1;
	}
	journal_crash_point(1);
	tfd = jopen(ctx, ctx->tname, O_RDWR | O_CREAT | O_EXCL, errstr_r,
	    errlen);
	if (tfd == -1) {
		if (errno == ENOENT)
			util_seterr(errstr_r, errlen, "journal: create %s: %s",
			    ctx->tname, strerror(errno));
		return -1;
	}
	if (journal_fmt_write(tfd, fd, &h2, &r, 1, ctx->buf, errstr_r, errlen)
	    == -1)
		goto fail;
	if (close(tfd) == -1) {
		tfd = -1;
		util_seterr(errstr_r, errlen, "journal: close: %s",
		    strerror(errno));
		goto fail;
	}
	tfd = -1;
	journal_crash_point(J_STEP_ROLL_RENAME);
	if (renameat(ctx->dirfd, ctx->tname, ctx->dirfd, ctx->jname) == -1) {
		util_seterr(errstr_r, errlen, "journal: rename: %s",
		    strerror(errno));
		goto fail;
	}
	if (jdir_fsync(ctx) == -1) {
		/* The new journal is in place; its next reading is fine. */
		util_seterr(errstr_r, errlen, "journal: fsync of directory: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	if (tfd != -1)
		close(tfd);
	(void)unlinkat(ctx->dirfd, ctx->tname, 0);
	return -1;
}

/*
 * Decides whether the journal may be applied (mode J_*) and, if so, how:
 * *truncated_r is the reading "the truncate had happened".  Returns 0,
 * JOURNAL_FOREIGN or -1, with errstr_r set for the last two.
 */
static int
may_apply(int fd, int jfd, const struct jhdr *h, int mode,
    struct jctx *ctx, bool *truncated_r, char *errstr_r, size_t errlen)
{
	struct journal_state js;
	char etext[128];

	*truncated_r = false;
	if (mode == J_TRUSTED)
		return 0;	/* the old tail is there: we just read it */
	memset(&js, 0, sizeof(js));
	if (journal_fmt_check(fd, jfd, h, ctx->maildrop, ctx->buf, &js)
	    == -1) {
		journal_fmt_errtext(errno, etext, sizeof(etext));
		util_seterr(errstr_r, errlen, "journal: check: %s; committed "
		    "journal kept", etext);
		return -1;
	}
	if (js.explained) {
		*truncated_r = js.truncated;
		return 0;
	}
	if (mode != J_FORCE || js.size < h->from ||
	    strcmp(h->path, ctx->maildrop) != 0) {
		util_seterr(errstr_r, errlen, "journal %s: %s; nothing written, "
		    "journal kept", ctx->jname, js.reason);
		return JOURNAL_FOREIGN;
	}
	log_warnx("journal %s: applied as the administrator asked, although "
	    "%s", ctx->jname, js.reason);
	*truncated_r = js.tail != JOURNAL_PART_OLD &&
	    js.tail != JOURNAL_PART_EMPTY;
	return 0;
}

/*
 * Applies a committed journal (steps 5-9).  Returns 0 (done, journal
 * removed), 1 (mail appended after a crash was rolled into a new journal:
 * apply again), JOURNAL_FOREIGN or -1.
 */
static int
apply_journal(int fd, int jfd, const struct jhdr *h, int mode,
    struct jctx *ctx, char *errstr_r, size_t errlen)
{
	char etext[128];
	struct stat st;
	bool truncated;
	const char *what;
	int r;

	if ((r = may_apply(fd, jfd, h, mode, ctx, &truncated, errstr_r,
	    errlen)) != 0)
		return r;

	/* Step 5 (redo, idempotent): never touches [new_end, old_end). */
	journal_crash_point(5);
	what = "rewrite";
	if (journal_fmt_copy(jfd, h->data_off, fd, h->from, h->data_len,
	    ctx->buf, true) == -1)
		goto fail;
	journal_crash_point(6);
	what = "fsync";
	if (fsync(fd) == -1 || fstat(fd, &st) == -1)
		goto fail;

	/* Otherwise everything past new_end was appended after the truncate
	 * and is already where it belongs. */
	if (!truncated && h->new_end < h->old_end) {
		if (st.st_size > h->old_end) {
			log_warnx("journal %s: keeping %lld bytes appended "
			    "after a crash", ctx->jname,
			    (long long)(st.st_size - h->old_end));
			if (roll_journal(fd, h, ctx, errstr_r, errlen) == -1)
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
	journal_crash_point(9);
	what = "unlink";
	if (unlinkat(ctx->dirfd, ctx->jname, 0) == -1)
		goto fail;
	if (jdir_fsync(ctx) == -1)
		log_warn("journal: fsync of the directory of %s", ctx->jname);
	return 0;
fail:
	journal_fmt_errtext(errno, etext, sizeof(etext));
	util_seterr(errstr_r, errlen, "journal %s: %s; committed journal kept",
	    what, etext);
	return -1;
}

/* Removes an uncommitted journal (and a temp one).  Returns 0 or -1. */
static int
remove_journal(struct jctx *ctx, char *errstr_r, size_t errlen)
{
	if (unlinkat(ctx->dirfd, ctx->jname, 0) == -1) {
		util_seterr(errstr_r, errlen, "journal: unlink %s: %s",
		    ctx->jname, strerror(errno));
		return -1;
	}
	(void)unlinkat(ctx->dirfd, ctx->tname, 0);
	(void)jdir_fsync(ctx);
	return 0;
}

/*
 * The recovery loop shared by journal_recover, journal_force and
 * journal_rewrite; mode is for the journal found first (a journal rolled
 * here is trusted: it was just written from the locked file).
 */
static int
recover(int fd, struct jctx *ctx, int mode, char *errstr_r, size_t errlen)
{
	struct jhdr h;
	int jfd, r, round, applied = 0;

	for (round = 0; round < J_ROUNDS_MAX; round++) {
		jfd = jopen(ctx, ctx->jname, O_RDONLY, errstr_r, errlen);
		if (jfd == -1) {
			if (errno != ENOENT)
				return -1;
			/* A temp journal without its journal is a torn roll
			 * that can no longer matter. */
			(void)unlinkat(ctx->dirfd, ctx->tname, 0);
			return applied;
		}
		r = journal_fmt_read(jfd, &h, ctx->buf, errstr_r, errlen);
		if (r == 0) {
			close(jfd);
			log_warnx("journal %s: not committed; removed, "
			    "maildrop left as it is", ctx->jname);
			return remove_journal(ctx, errstr_r, errlen) == -1 ?
			    -1 : applied;
		}
		if (r == -1) {
			close(jfd);
			return -1;
		}
		r = apply_journal(fd, jfd, &h, round == 0 ? mode : J_TRUSTED,
		    ctx, errstr_r, errlen);
		close(jfd);
		if (r < 0)
			return r;
		applied = 1;
		if (r == 0)
			return 1;
	}
	util_seterr(errstr_r, errlen, "journal %s: too many recovery rounds; "
	    "kept", ctx->jname);
	return -1;
}

/* journal_recover and journal_force. */
static int
recover_mode(int fd, int jdirfd, const char *jname, const char *maildrop,
    int mode, char *errstr_r, size_t errlen)
{
	struct jctx ctx;
	int r;

	if (jctx_init(&ctx, jdirfd, jname, maildrop, true, errstr_r, errlen)
	    == -1) {
		free(ctx.buf);
		return -1;
	}
	r = recover(fd, &ctx, mode, errstr_r, errlen);
	free(ctx.buf);
	return r;
}

int
journal_recover(int fd, int jdirfd, const char *jname, const char *maildrop,
    char *errstr_r, size_t errlen)
{
	return recover_mode(fd, jdirfd, jname, maildrop, J_VERIFY, errstr_r,
	    errlen);
}

int
journal_force(int fd, int jdirfd, const char *jname, const char *maildrop,
    char *errstr_r, size_t errlen)
{
	return recover_mode(fd, jdirfd, jname, maildrop, J_FORCE, errstr_r,
	    errlen);
}

int
journal_inspect(int fd, int jdirfd, const char *jname, const char *maildrop,
    struct journal_state *js, char *errstr_r, size_t errlen)
{
	struct jctx ctx;
	struct jhdr h;
	struct stat st;
	int jfd, r = -1;

	memset(js, 0, sizeof(*js));
	if (fstat(fd, &st) == -1) {
		util_seterr(errstr_r, errlen, "maildrop: fstat: %s",
		    strerror(errno));
		return -1;
	}
	js->size = st.st_size;
	js->cur_dev = (uint64_t)st.st_dev;
	js->cur_ino = (uint64_t)st.st_ino;
	if (jctx_init(&ctx, jdirfd, jname, maildrop, true, errstr_r, errlen)
	    == -1)
		goto out;
	jfd = jopen(&ctx, jname, O_RDONLY, js->reason, sizeof(js->reason));
	if (jfd == -1) {
		js->status = errno == ENOENT ? JOURNAL_NONE : JOURNAL_DAMAGED;
		r = 0;
		goto out;
	}
	switch (journal_fmt_read(jfd, &h, ctx.buf, js->reason,
	    sizeof(js->reason))) {
	case 0:
		js->status = JOURNAL_UNCOMMITTED;
		r = 0;
		break;
	case 1:
		r = journal_fmt_check(fd, jfd, &h, maildrop, ctx.buf, js);
		if (r == -1)
			util_seterr(errstr_r, errlen, "check: %s",
			    strerror(errno));
		break;
	default:
		js->status = JOURNAL_DAMAGED;
		r = 0;
		break;
	}
	close(jfd);
out:
	free(ctx.buf);
	return r;
}

int
journal_discard(int jdirfd, const char *jname, char *errstr_r, size_t errlen)
{
	struct jctx ctx;
	int r = 1;

	if (jctx_init(&ctx, jdirfd, jname, NULL, false, errstr_r, errlen)
	    == -1)
		return -1;
	/* Whatever the name holds, even a symlink: unlinkat follows none. */
	if (unlinkat(jdirfd, jname, 0) == -1) {
		if (errno != ENOENT) {
			util_seterr(errstr_r, errlen, "journal: unlink %s: %s",
			    jname, strerror(errno));
			return -1;
		}
		r = 0;
	}
	(void)unlinkat(jdirfd, ctx.tname, 0);
	if (jdir_fsync(&ctx) == -1) {
		util_seterr(errstr_r, errlen, "journal: fsync of directory: %s",
		    strerror(errno));
		return -1;
	}
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
journal_rewrite(int fd, int jdirfd, const char *jname, const char *maildrop,
    off_t from, const struct journal_range *ranges, size_t n, off_t old_end,
    char *errstr_r, size_t errlen)
{
	char etext[128];
	struct jctx ctx;
	struct jhdr h;
	struct stat st;
	off_t new_end;
	int jfd = -1, r;

	memset(&ctx, 0, sizeof(ctx));
	if (check_ranges(from, ranges, n, old_end, &new_end) == -1) {
		util_seterr(errstr_r, errlen, "journal: bad ranges");
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size != old_end) {
		util_seterr(errstr_r, errlen, "journal: maildrop size is not %lld; "
		    "untouched", (long long)old_end);
		return -1;
	}
	if (jctx_init(&ctx, jdirfd, jname, maildrop, true, errstr_r, errlen)
	    == -1)
		goto untouched;
	if (journal_fmt_init(&h, from, new_end, old_end, &st, maildrop) == -1) {
		util_seterr(errstr_r, errlen, "journal: bad maildrop path");
		goto untouched;
	}

	journal_crash_point(1);
	jfd = jopen(&ctx, jname, O_RDWR | O_CREAT | O_EXCL, errstr_r, errlen);
	if (jfd == -1) {
		if (errno == EEXIST)
			util_seterr(errstr_r, errlen, "journal: create %s: a "
			    "journal already exists", jname);
		else if (errno == ENOENT) {
			journal_fmt_errtext(errno, etext, sizeof(etext));
			util_seterr(errstr_r, errlen, "journal: create %s: %s",
			    jname, etext);
		}
		goto untouched;
	}
	if (jdir_fsync(&ctx) == -1) {
		journal_fmt_errtext(errno, etext, sizeof(etext));
		util_seterr(errstr_r, errlen, "journal: fsync of directory: %s",
		    etext);
		goto abort;
	}
	if (journal_fmt_write(jfd, fd, &h, ranges, n, ctx.buf, errstr_r,
	    errlen) == -1)
		goto abort;
	if (close(jfd) == -1) {
		jfd = -1;
		journal_fmt_errtext(errno, etext, sizeof(etext));
		util_seterr(errstr_r, errlen, "journal: close: %s", etext);
		goto abort;
	}
	jfd = -1;

	/* Committed: steps 5-9 are exactly what recovery does. */
	r = recover(fd, &ctx, J_TRUSTED, errstr_r, errlen);
	free(ctx.buf);
	if (r == 1)
		return 0;
	if (r == 0)
		util_seterr(errstr_r, errlen, "journal: vanished before it was "
		    "applied");
	else
		log_warnx("journal %s: update incomplete, recovery will "
		    "finish it", jname);
	return -1;

abort:
	/* Before the commit: the maildrop was not touched. */
	if (jfd != -1)
		close(jfd);
	if (unlinkat(jdirfd, jname, 0) == -1)
		log_warn("journal: unlink %s", jname);
	(void)jdir_fsync(&ctx);
untouched:
	free(ctx.buf);
	r = (int)strlen(errstr_r != NULL ? errstr_r : "");
	if (errstr_r != NULL && (size_t)r < errlen)
		(void)snprintf(errstr_r + r, errlen - (size_t)r,
		    "; maildrop untouched");
	return -1;
}
