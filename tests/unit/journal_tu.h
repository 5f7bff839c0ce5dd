/*
 * journal_tu.h: the fixture and helpers shared by the journal suites
 * (check_journal, check_recovery): a maildrop of deterministic text in a
 * temporary directory that is also the journal directory, the expected
 * results of a rewrite, appends as an MDA would make them, and the
 * library calls run in a child killed by the crash hook.
 */
#ifndef POSTERN_JOURNAL_TU_H
#define POSTERN_JOURNAL_TU_H

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

static inline void
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

static inline void
teardown(void)
{
	free(orig);
	if (jdir != -1)
		close(jdir);
	jdir = -1;
	tu_rmtree(dir);
}

/* The library calls on the test's maildrop and journal directory. */
static inline int
rewrite(int fd, off_t from, const struct journal_range *r, size_t n,
    off_t old_end, char *err, size_t errlen)
{
	return journal_rewrite(fd, jdir, jname, mbox, from, r, n, old_end,
	    err, errlen);
}

static inline int
recover(int fd, char *err, size_t errlen)
{
	return journal_recover(fd, jdir, jname, mbox, err, errlen);
}

/* Deterministic text-like content: lines of varying length. */
static inline void
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

static inline void
make_mbox(off_t size, unsigned seed)
{
	orig = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(orig);
	fill(orig, (size_t)size, seed);
	tu_write_file(mbox, orig, (size_t)size);
}

/* The file as the spec's rewrite leaves it. */
static inline unsigned char *
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

static inline void
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

static inline void
assert_no_journal(void)
{
	ck_assert_int_eq(access(jpath, F_OK), -1);
	ck_assert_int_eq(access(tpath, F_OK), -1);
}

static inline int
open_mbox(void)
{
	int fd = open(mbox, O_RDWR);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static inline off_t
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
static inline unsigned char *
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
static inline unsigned char *
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
static inline bool
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

#endif
