/*
 * check_journal.c: the crash-safe rewrite.  Byte-exact results for several
 * range sets; a SIGKILL before every step (and mid-write), with and without
 * mail appended by a raw write or by procmail before recovery; crashes
 * during recovery itself; torn, corrupt and foreign journals; ENOSPC on a
 * small tmpfs.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "testutil.h"

#define APPEND_NONE	0
#define APPEND_WRITE	1
#define APPEND_PROCMAIL	2
#define APPEND_BIG	3	/* longer than what the rewrite removes */
#define BIG_BODY	(200 * 1024)
#define PROCMAIL	"/usr/bin/procmail"

struct spec {
	off_t			 size;
	off_t			 from;
	size_t			 n;
	struct journal_range	 r[4];
};

static char dir[512], mbox[600], jname[64], jpath[700], tpath[710];
static unsigned char *orig;
static int appended, jdir = -1;

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
	snprintf(mbox, sizeof(mbox), "%s/mbox", dir);
	ck_assert_int_eq(journal_name(mbox, jname, sizeof(jname)), 0);
	snprintf(jpath, sizeof(jpath), "%s/%s", dir, jname);
	snprintf(tpath, sizeof(tpath), "%s.tmp", jpath);
	jdir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(jdir, 0);
	orig = NULL;
	appended = 0;
}

static void
teardown(void)
{
	free(orig);
	if (jdir != -1)
		close(jdir);
	jdir = -1;
	tu_rmtree(dir);
}

/* The library calls on the test's maildrop and journal directory. */
static int
rewrite(int fd, off_t from, const struct journal_range *r, size_t n,
    off_t old_end, char *err, size_t errlen)
{
	return journal_rewrite(fd, jdir, jname, mbox, from, r, n, old_end,
	    err, errlen);
}

static int
recover(int fd, char *err, size_t errlen)
{
	return journal_recover(fd, jdir, jname, mbox, err, errlen);
}

/* Deterministic text-like content: lines of varying length. */
static void
fill(unsigned char *p, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (x >> 16) % 61 == 0 ? '\n' :
		    (unsigned char)(' ' + (x >> 16) % 95);
	}
}

static void
make_mbox(off_t size, unsigned seed)
{
	orig = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(orig);
	fill(orig, (size_t)size, seed);
	tu_write_file(mbox, orig, (size_t)size);
}

/* The file as the spec's rewrite leaves it. */
static unsigned char *
kept(const struct spec *sp, size_t *len_r)
{
	unsigned char *b = malloc((size_t)sp->size + 1);
	size_t len = (size_t)sp->from, i;

	ck_assert_ptr_nonnull(b);
	memcpy(b, orig, len);
	for (i = 0; i < sp->n; i++) {
		memcpy(b + len, orig + sp->r[i].off, (size_t)sp->r[i].len);
		len += (size_t)sp->r[i].len;
	}
	*len_r = len;
	return b;
}

static void
assert_file(const unsigned char *want, size_t want_len)
{
	size_t len, i;
	char *got = tu_read_file(mbox, &len);

	for (i = 0; i < len && i < want_len; i++)
		if ((unsigned char)got[i] != want[i])
			break;
	ck_assert_msg(len == want_len && i == len,
	    "file differs: %zu bytes, want %zu, first difference at %zu",
	    len, want_len, i);
	free(got);
}

static void
assert_no_journal(void)
{
	ck_assert_int_eq(access(jpath, F_OK), -1);
	ck_assert_int_eq(access(tpath, F_OK), -1);
}

static int
open_mbox(void)
{
	int fd = open(mbox, O_RDWR);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static off_t
file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(mbox, &st), 0);
	return st.st_size;
}

/*
 * Appends a new message as an MDA would: a raw write, or procmail with a
 * locking recipe.  Returns the bytes appended (malloc'd) in *len_r.
 */
static unsigned char *
append_mail(int mode, size_t *len_r)
{
	char msg[256], path[700], cmd[1600];
	unsigned char *b;
	char *all;
	off_t before = file_size();
	size_t len;
	unsigned char *big;
	int n, fd;

	n = snprintf(msg, sizeof(msg), "From new%d@example.org Fri Nov 24 "
	    "10:00:0%d 2023\nSubject: arrived after the crash %d\n\n"
	    "new mail %d\n", appended, appended % 10, appended, appended);
	appended++;
	if (mode == APPEND_PROCMAIL && access(PROCMAIL, X_OK) == 0) {
		snprintf(path, sizeof(path), "%s/rc", dir);
		snprintf(cmd, sizeof(cmd), ":0:\n%s\n", mbox);
		tu_write_file(path, cmd, strlen(cmd));
		snprintf(path, sizeof(path), "%s/msg", dir);
		tu_write_file(path, msg, (size_t)n);
		snprintf(cmd, sizeof(cmd), "%s -m %s/rc < %s", PROCMAIL, dir,
		    path);
		ck_assert_int_eq(system(cmd), 0);
	} else {
		if (mode == APPEND_PROCMAIL)
			fprintf(stderr, "check_journal: no %s, appending "
			    "with write()\n", PROCMAIL);
		fd = open(mbox, O_WRONLY | O_APPEND);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, msg, (size_t)n), n);
		if (mode == APPEND_BIG) {
			big = malloc(BIG_BODY);
			ck_assert_ptr_nonnull(big);
			fill(big, BIG_BODY, (unsigned)appended);
			big[BIG_BODY - 1] = '\n';
			ck_assert_int_eq(write(fd, big, BIG_BODY), BIG_BODY);
			free(big);
		}
		close(fd);
	}
	all = tu_read_file(mbox, &len);
	ck_assert_int_gt((off_t)len, before);
	*len_r = len - (size_t)before;
	b = malloc(*len_r);
	ck_assert_ptr_nonnull(b);
	memcpy(b, all + before, *len_r);
	free(all);
	return b;
}

/* Concatenates a and b into a fresh buffer (a is freed). */
static unsigned char *
cat(unsigned char *a, size_t *alen, const unsigned char *b, size_t blen)
{
	a = realloc(a, *alen + blen + 1);
	ck_assert_ptr_nonnull(a);
	memcpy(a + *alen, b, blen);
	*alen += blen;
	return a;
}

/* Runs op (0 rewrite, 1 recover) in a child with the crash hook set.
 * Returns true if the child was killed by the hook. */
static bool
crash_child(int op, const char *at, const struct spec *sp)
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[256];
		int fd, r;

		if (at != NULL && setenv("POSTERN_TEST_CRASH_AT", at, 1) != 0)
			_exit(5);
		if ((fd = open(mbox, O_RDWR)) == -1)
			_exit(6);
		if (op == 0)
			r = rewrite(fd, sp->from, sp->r, sp->n,
			    sp->size, err, sizeof(err));
		else
			r = recover(fd, err, sizeof(err));
		if (r == -1)
			fprintf(stderr, "child: %s\n", err);
		_exit(r == -1 ? 2 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		ck_assert_int_eq(WTERMSIG(status), SIGKILL);
		return true;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %d", status);
	return false;
}

static const struct spec specs[] = {
	/* a middle and the tail removed */
	{ 1000, 100, 1, { { 300, 400 } } },
	/* everything removed */
	{ 1000, 0, 0, { { 0, 0 } } },
	/* the tail removed */
	{ 1000, 500, 0, { { 0, 0 } } },
	/* several holes, the last range runs to the end */
	{ 1000, 0, 3, { { 10, 10 }, { 30, 10 }, { 50, 950 } } },
	/* across the 1 MiB copy buffer, several times */
	{ 3 * 1024 * 1024 + 17, 1000, 2,
	    { { 1005, 2 * 1024 * 1024 }, { 2 * 1024 * 1024 + 1100,
	    1024 * 1024 - 1083 } } },
	/* nothing removed: the same content */
	{ 1000, 0, 1, { { 0, 1000 } } },
	/* empty ranges */
	{ 1000, 200, 3, { { 200, 0 }, { 300, 0 }, { 400, 600 } } },
	/* nothing at all */
	{ 1000, 1000, 0, { { 0, 0 } } },
	/* adjacent ranges, first byte removed */
	{ 5000, 0, 2, { { 1, 2000 }, { 2001, 2999 } } },
};

START_TEST(test_rewrite_exact)
{
	const struct spec *sp = &specs[_i];
	unsigned char *want;
	struct stat st0, st1;
	char err[256];
	size_t len;
	int fd;

	make_mbox(sp->size, (unsigned)_i);
	want = kept(sp, &len);
	fd = open_mbox();
	ck_assert_int_eq(fstat(fd, &st0), 0);
	ck_assert_msg(rewrite(fd, sp->from, sp->r, sp->n,
	    sp->size, err, sizeof(err)) == 0, "rewrite: %s", err);
	ck_assert_int_eq(fstat(fd, &st1), 0);
	ck_assert(st0.st_ino == st1.st_ino && st0.st_dev == st1.st_dev);
	assert_file(want, len);
	assert_no_journal();
	/* Nothing to recover afterwards. */
	ck_assert_int_eq(recover(fd, err, sizeof(err)), 0);
	assert_file(want, len);
	free(want);
	close(fd);
}
END_TEST

START_TEST(test_rewrite_bad_args)
{
	static const struct journal_range desc[2] = {
		{ 500, 10 }, { 300, 10 } };
	static const struct journal_range over[2] = {
		{ 300, 100 }, { 350, 10 } };
	static const struct journal_range out[1] = { { 900, 101 } };
	static const struct journal_range before[1] = { { 50, 10 } };
	char err[256];
	int fd;

	make_mbox(1000, 7);
	fd = open_mbox();
	ck_assert_int_eq(rewrite(fd, 100, desc, 2, 1000, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rewrite(fd, 100, over, 2, 1000, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rewrite(fd, 100, out, 1, 1000, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rewrite(fd, 100, before, 1, 1000, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rewrite(fd, 1001, NULL, 0, 1000, err,
	    sizeof(err)), -1);
	/* old_end is not the file's size: it changed under the caller. */
	ck_assert_int_eq(rewrite(fd, 100, NULL, 0, 999, err,
	    sizeof(err)), -1);
	assert_file(orig, 1000);
	assert_no_journal();
	/* A journal already there (recovery not run): refused. */
	tu_write_file(jpath, "x", 1);
	ck_assert_int_eq(rewrite(fd, 100, NULL, 0, 1000, err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "exists") != NULL);
	assert_file(orig, 1000);
	ck_assert_int_eq(access(jpath, F_OK), 0);
	close(fd);
}
END_TEST

START_TEST(test_name)
{
	char buf[64];

	/* python3 -c 'import hashlib;
	 *     print(hashlib.sha256(b"/var/mail/joe").hexdigest()[:16])' */
	ck_assert_int_eq(journal_name("/var/mail/joe", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a0b287e21acf1284.journal");
	ck_assert_int_eq(journal_name("/var/mail/joe/", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "01a920c31438b776.journal");
	ck_assert_int_eq(journal_name("joe", buf, sizeof(buf)), -1);
	ck_assert_int_eq(journal_name("", buf, sizeof(buf)), -1);
	ck_assert_int_eq(journal_name("/var/mail/joe", buf, 24), -1);
	ck_assert_int_eq(journal_name("/var/mail/joe", buf, 25), 0);
}
END_TEST

/* Only a plain name inside the directory fd. */
START_TEST(test_bad_jname)
{
	static const char *const bad[] = {
		"", ".", "..", "../x.journal", "a/b", ".hidden"
	};
	char err[256];
	size_t i;
	int fd;

	make_mbox(1000, 7);
	fd = open_mbox();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(journal_rewrite(fd, jdir, bad[i], mbox, 100,
		    NULL, 0, 1000, err, sizeof(err)), -1);
		ck_assert_int_eq(journal_recover(fd, jdir, bad[i], mbox, err,
		    sizeof(err)), -1);
	}
	ck_assert_int_eq(journal_recover(fd, -1, jname, mbox, err,
	    sizeof(err)), -1);
	assert_file(orig, 1000);
	close(fd);
}
END_TEST

/* The crash spec list: steps 1-9, and 5:2 = killed mid-write. */
static const char *const steps[] = {
	"1", "2", "3", "4", "5", "5:2", "6", "7", "8", "9"
};
#define NSTEPS	(sizeof(steps) / sizeof(steps[0]))

/* 300 KB, a deletion at the start, one in the middle, the tail. */
static const struct spec crash_spec = {
	300000, 1000, 2, { { 5000, 145000 }, { 200000, 90000 } }
};

START_TEST(test_crash_rewrite)
{
	const char *at = steps[_i % NSTEPS];
	int mode = (int)(_i / NSTEPS), fd, r;
	bool committed = at[0] >= '5';
	unsigned char *want, *add;
	char err[256];
	size_t len, alen;

	make_mbox(crash_spec.size, 42);
	ck_assert(crash_child(0, at, &crash_spec));
	if (committed)
		want = kept(&crash_spec, &len);
	else {
		len = (size_t)crash_spec.size;
		want = malloc(len);
		ck_assert_ptr_nonnull(want);
		memcpy(want, orig, len);
	}
	/* Step 1 kills before the journal exists; later ones leave it. */
	ck_assert_int_eq(access(jpath, F_OK), strcmp(at, "1") == 0 ? -1 : 0);
	if (strcmp(at, "5:2") == 0) {
		/* Killed mid-write: the new content is half written. */
		size_t got_len;
		char *got = tu_read_file(mbox, &got_len);
		size_t half = (len - (size_t)crash_spec.from) / 2;

		ck_assert(got_len == (size_t)crash_spec.size);
		ck_assert(memcmp(got, want, (size_t)crash_spec.from + half)
		    == 0);
		ck_assert(memcmp(got, want, len) != 0);
		ck_assert(memcmp(got, orig, got_len) != 0);
		free(got);
	}
	if (mode != APPEND_NONE) {
		add = append_mail(mode, &alen);
		want = cat(want, &len, add, alen);
		free(add);
	}
	fd = open_mbox();
	r = recover(fd, err, sizeof(err));
	ck_assert_msg(r == (committed ? 1 : 0), "recover %d: %s", r, err);
	assert_file(want, len);
	assert_no_journal();
	ck_assert_int_eq(recover(fd, err, sizeof(err)), 0);
	assert_file(want, len);
	free(want);
	close(fd);
}
END_TEST

/* Crashes during recovery: rewrite killed at a committed step, maybe mail,
 * recovery killed at step M, maybe more mail, recovery again. */
static const char *const rsteps[] = { "5", "5:2", "6", "7", "8", "9" };
static const char *const msteps[] = {
	"1", "2", "3", "4", "10", "5", "5:2", "5:3", "5:4", "6", "6:2",
	"7", "8", "9"
};
#define NR	(sizeof(rsteps) / sizeof(rsteps[0]))
#define NM	(sizeof(msteps) / sizeof(msteps[0]))

static const struct spec small_spec = {
	64000, 500, 2, { { 2000, 28000 }, { 40000, 20000 } }
};

static bool
in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

START_TEST(test_crash_recover)
{
	static const char *const plain[] = { "5", "5:2", "6", "7", "8", "9" };
	static const char *const after_trunc[] = { "5", "5:2", "6", "9" };
	const char *rat = rsteps[_i % (NR * NM) / NM];
	const char *mat = msteps[_i % NM];
	bool with_mail = _i >= (int)(NR * NM), truncated, killed, expect;
	unsigned char *want, *add;
	char err[256];
	size_t len, alen;
	int fd, r;

	make_mbox(small_spec.size, 9);
	ck_assert(crash_child(0, rat, &small_spec));
	want = kept(&small_spec, &len);
	truncated = strcmp(rat, "8") == 0 || strcmp(rat, "9") == 0;
	if (with_mail) {
		add = append_mail(APPEND_WRITE, &alen);
		want = cat(want, &len, add, alen);
		free(add);
	}
	killed = crash_child(1, mat, NULL);
	/* Which hooks recovery reaches tells the path it took. */
	if (truncated)
		expect = in_list(mat, after_trunc, 4);
	else if (with_mail)
		expect = true;		/* redo, roll, apply the new one */
	else
		expect = in_list(mat, plain, 6);
	ck_assert_msg(killed == expect, "rewrite@%s recover@%s: killed %d",
	    rat, mat, killed);
	if (with_mail) {
		/* Longer than the removed bytes: the digest, not the size,
		 * must tell that the truncate had happened. */
		add = append_mail(APPEND_BIG, &alen);
		want = cat(want, &len, add, alen);
		free(add);
	}
	fd = open_mbox();
	r = recover(fd, err, sizeof(err));
	ck_assert_msg(r == (killed ? 1 : 0), "recover %d: %s", r, err);
	assert_file(want, len);
	assert_no_journal();
	free(want);
	close(fd);
}
END_TEST

/* Leaves a committed journal with the maildrop not yet touched. */
static void
committed_journal(void)
{
	make_mbox(small_spec.size, 3);
	ck_assert(crash_child(0, "5", &small_spec));
	ck_assert_int_eq(access(jpath, F_OK), 0);
	assert_file(orig, (size_t)small_spec.size);
}

static void
patch_journal(off_t off, int delta)
{
	unsigned char c;
	int fd = open(jpath, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c = (unsigned char)(c + delta);
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void
expect_discarded(void)
{
	char err[256];
	int fd = open_mbox();

	ck_assert_int_eq(recover(fd, err, sizeof(err)), 0);
	assert_file(orig, (size_t)small_spec.size);
	assert_no_journal();
	close(fd);
}

static void
expect_kept_error(void)
{
	char err[256];
	int fd = open_mbox();

	err[0] = '\0';
	ck_assert_int_eq(recover(fd, err, sizeof(err)), -1);
	ck_assert(err[0] != '\0');
	assert_file(orig, (size_t)small_spec.size);
	ck_assert_int_eq(access(jpath, F_OK), 0);
	close(fd);
}

START_TEST(test_uncommitted)
{
	make_mbox(small_spec.size, 3);
	ck_assert(crash_child(0, "4", &small_spec));
	ck_assert_int_eq(access(jpath, F_OK), 0);
	expect_discarded();
}
END_TEST

START_TEST(test_torn_commit)
{
	struct stat st;

	committed_journal();
	ck_assert_int_eq(stat(jpath, &st), 0);
	ck_assert_int_eq(truncate(jpath, st.st_size - 1), 0);
	expect_discarded();
}
END_TEST

START_TEST(test_corrupt_header)
{
	committed_journal();
	patch_journal(20, 1);		/* inside the "from" field */
	expect_discarded();
}
END_TEST

START_TEST(test_garbage_journal)
{
	unsigned char junk[500];

	make_mbox(small_spec.size, 3);
	fill(junk, sizeof(junk), 77);
	tu_write_file(jpath, junk, sizeof(junk));
	expect_discarded();
	tu_write_file(jpath, "", 0);
	expect_discarded();
}
END_TEST

START_TEST(test_corrupt_data)
{
	committed_journal();
	patch_journal(200, 1);		/* in the data, after the commit */
	expect_kept_error();
}
END_TEST

START_TEST(test_journal_too_long)
{
	int fd;

	committed_journal();
	fd = open(jpath, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "zz", 2), 2);
	close(fd);
	expect_kept_error();
}
END_TEST

START_TEST(test_foreign_journal)
{
	char other[700];

	committed_journal();
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	ck_assert_int_eq(rename(jpath, other), 0);
	ck_assert_int_eq(symlink(other, jpath), 0);
	expect_kept_error();
	ck_assert_int_eq(unlink(jpath), 0);
	ck_assert_int_eq(rename(other, jpath), 0);
	if (geteuid() != 0) {
		fprintf(stderr, "check_journal: not root, skipping the "
		    "foreign-owner journal case\n");
		return;
	}
	ck_assert_int_eq(chown(jpath, 65534, 65534), 0);
	expect_kept_error();
}
END_TEST

/* A hard link to the journal (planted or left) is refused, kept. */
START_TEST(test_linked_journal)
{
	char other[700], err[256];
	int fd;

	make_mbox(small_spec.size, 3);
	ck_assert(crash_child(0, "5", &small_spec));
	snprintf(other, sizeof(other), "%s/link", dir);
	ck_assert_int_eq(link(jpath, other), 0);
	fd = open_mbox();
	ck_assert_int_eq(recover(fd, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "one link") != NULL, "reason: %s", err);
	assert_file(orig, (size_t)small_spec.size);
	ck_assert_int_eq(access(jpath, F_OK), 0);
	ck_assert_int_eq(unlink(other), 0);
	ck_assert_int_eq(recover(fd, err, sizeof(err)), 1);
	close(fd);
}
END_TEST

START_TEST(test_enospc)
{
	char small[600], box[700], sjpath[800], sjname[64], err[256];
	unsigned char *data;
	struct journal_range r = { 1100, 0 };
	off_t size = 200 * 1024;
	size_t len;
	char *got;
	int fd, sdir;

	snprintf(small, sizeof(small), "%s/small", dir);
	ck_assert_int_eq(mkdir(small, 0700), 0);
	if (mount("tmpfs", small, "tmpfs", 0, "size=256k") == -1) {
		fprintf(stderr, "check_journal: cannot mount a tmpfs (%s), "
		    "skipping the ENOSPC case\n", strerror(errno));
		return;
	}
	snprintf(box, sizeof(box), "%s/mbox", small);
	ck_assert_int_eq(journal_name(box, sjname, sizeof(sjname)), 0);
	snprintf(sjpath, sizeof(sjpath), "%s/%s", small, sjname);
	sdir = open(small, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(sdir, 0);
	data = malloc((size_t)size);
	ck_assert_ptr_nonnull(data);
	fill(data, (size_t)size, 5);
	tu_write_file(box, data, (size_t)size);
	fd = open(box, O_RDWR);
	ck_assert_int_ge(fd, 0);
	/* Delete 1000 bytes near the start: the journal needs ~199 KB. */
	r.len = size - r.off;
	err[0] = '\0';
	ck_assert_int_eq(journal_rewrite(fd, sdir, sjname, box, 100, &r, 1,
	    size, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "ENOSPC") != NULL, "reason: %s", err);
	ck_assert_int_eq(access(sjpath, F_OK), -1);
	got = tu_read_file(box, &len);
	ck_assert(len == (size_t)size && memcmp(got, data, len) == 0);
	free(got);
	ck_assert_int_eq(journal_recover(fd, sdir, sjname, box, err,
	    sizeof(err)), 0);
	close(fd);
	close(sdir);
	free(data);
	ck_assert_int_eq(umount2(small, MNT_DETACH), 0);
}
END_TEST

static Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc;

	tc = tcase_create("rewrite");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_rewrite_exact, 0,
	    (int)(sizeof(specs) / sizeof(specs[0])));
	tcase_add_test(tc, test_rewrite_bad_args);
	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_bad_jname);
	tcase_add_test(tc, test_enospc);
	suite_add_tcase(s, tc);

	tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	/* every step x (no mail, raw append, procmail, big append) */
	tcase_add_loop_test(tc, test_crash_rewrite, 0, (int)(NSTEPS * 4));
	/* every committed step x every recovery step x (no mail, mail) */
	tcase_add_loop_test(tc, test_crash_recover, 0, (int)(NR * NM * 2));
	suite_add_tcase(s, tc);

	tc = tcase_create("damaged");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_uncommitted);
	tcase_add_test(tc, test_torn_commit);
	tcase_add_test(tc, test_corrupt_header);
	tcase_add_test(tc, test_garbage_journal);
	tcase_add_test(tc, test_corrupt_data);
	tcase_add_test(tc, test_journal_too_long);
	tcase_add_test(tc, test_foreign_journal);
	tcase_add_test(tc, test_linked_journal);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(journal_suite)
