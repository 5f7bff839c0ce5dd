/*
 * mkjournal.c: a test tool (not installed) that leaves the state of a
 * crash in the middle of an UPDATE: it runs journal_rewrite on MAILDROP
 * with the journal in JDIR in a child killed by the crash hook just
 * before STEP (POSTERN_TEST_CRASH_AT), so that e2e tests can change the
 * maildrop before anything recovers it.  Ranges are OFF:LEN of the old
 * file, ascending, the new content of [FROM, ...).  Exit 0 if the child
 * was killed by the hook, 1 otherwise, 2 on bad arguments.
 *
 *   mkjournal JDIR MAILDROP STEP FROM [OFF:LEN ...]
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"

#define MJ_RANGES_MAX	64

/* A decimal offset; -1 if s is not one. */
static off_t
number(const char *s, char end, const char **rest)
{
	char *e;
	long long v;

	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno != 0 || e == s || *e != end || v < 0 || *s == '-' ||
	    *s == '+')
		return -1;
	if (rest != NULL)
		*rest = e + 1;
	return (off_t)v;
}

int
main(int argc, char **argv)
{
	struct journal_range r[MJ_RANGES_MAX];
	char jname[64], err[512];
	const char *rest;
	struct stat st;
	off_t from;
	size_t n = 0;
	pid_t pid;
	int i, fd, dfd, status;

	if (argc < 5 || argc - 5 > MJ_RANGES_MAX ||
	    (from = number(argv[4], '\0', NULL)) == -1) {
		fprintf(stderr, "usage: mkjournal JDIR MAILDROP STEP FROM "
		    "[OFF:LEN ...]\n");
		return 2;
	}
	for (i = 5; i < argc; i++, n++) {
		if ((r[n].off = number(argv[i], ':', &rest)) == -1 ||
		    (r[n].len = number(rest, '\0', NULL)) == -1) {
			fprintf(stderr, "mkjournal: bad range %s\n", argv[i]);
			return 2;
		}
	}
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY)) == -1 ||
	    (fd = open(argv[2], O_RDWR)) == -1 || fstat(fd, &st) == -1 ||
	    journal_name(argv[2], jname, sizeof(jname)) == -1) {
		fprintf(stderr, "mkjournal: %s\n", strerror(errno));
		return 2;
	}
	if ((pid = fork()) == -1)
		return 2;
	if (pid == 0) {
		if (setenv("POSTERN_TEST_CRASH_AT", argv[3], 1) != 0)
			_exit(3);
		if (journal_rewrite(fd, dfd, jname, argv[2], from, r, n,
		    st.st_size, err, sizeof(err)) == -1)
			fprintf(stderr, "mkjournal: %s\n", err);
		_exit(4);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL) {
		fprintf(stderr, "mkjournal: the crash hook did not fire "
		    "(status %d)\n", status);
		return 1;
	}
	return 0;
}
