/*
 * check_recover.c: maildrop_recover(), as the per-connection master uses
 * it: the maildrop is opened and burst, a forked "session process" runs
 * UPDATE and is killed at a journal step (POSTERN_TEST_CRASH_AT), and the
 * parent, still holding the open maildrop, recovers it at once: all
 * messages (a kill before the commit) or exactly the survivors, no
 * dotlock, no journal.  Also: nothing to do, the mbox lock held by a live
 * process, a dead attempt's dotlock temp file, no maildrop file.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildrop_tu.h"

#define ALL		((1u << NMSG) - 1)
#define DELETED		((1u << 0) | (1u << 3))	/* messages 1 and 4 */

/* Dotlocks (and their temp files) and journals in directory path. */
static int
leftovers_in(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".lock") != NULL ||
		    strstr(e->d_name, ".journal") != NULL)
			n++;
	closedir(d);
	return n;
}

/* ... beside the maildrop and in the state directory. */
static int
leftovers(void)
{
	char a[4096], b[4096];
	int n = leftovers_in(dir) + leftovers_in(sdir);

	if (n > 0)
		fprintf(stderr, "check_recover: left: [%s] [%s]\n",
		    names(dir, a, sizeof(a)), names(sdir, b, sizeof(b)));
	return n;
}

static void
assert_mask(unsigned mask)
{
	size_t len;
	char *want = concat(NULL, mask, &len);

	assert_file(want, len);
	free(want);
}

/* The maildrop opened and burst, messages 1 and 4 marked deleted. */
static void
open_box(struct maildrop *md)
{
	int i;

	make_mbox(NULL);
	open_ok(md);
	ck_assert_uint_eq(md->scan.count, NMSG);
	for (i = 0; i < NMSG; i++)
		if (DELETED & (1u << i))
			mark(md, (size_t)i);
}

static const char *const steps[] = {
	"1", "2", "4", "5", "5:2", "6", "7", "8", "9"
};

START_TEST(test_recover_after_kill)
{
	struct maildrop md;
	char err[256];
	pid_t pid;
	int status;
	bool early = steps[_i][0] <= '4' && steps[_i][1] == '\0';

	open_box(&md);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("POSTERN_TEST_CRASH_AT", steps[_i], 1);
		(void)maildrop_update(&md, err, sizeof(err));
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "step %s: the session was not killed", steps[_i]);
	ck_assert_int_gt(leftovers_in(dir), 0);	/* at least its dotlock */

	ck_assert_int_eq(maildrop_recover(&md, err, sizeof(err)), MD_OK);
	if (early)
		ck_assert_msg(strstr(err, "no committed update") != NULL,
		    "step %s: %s", steps[_i], err);
	else
		ck_assert_msg(strstr(err, "completed") != NULL, "step %s: %s",
		    steps[_i], err);
	maildrop_close(&md);
	assert_mask(early ? ALL : ALL & ~DELETED);
	ck_assert_int_eq(leftovers(), 0);
}
END_TEST

START_TEST(test_recover_nothing_to_do)
{
	struct maildrop md;
	char err[256];

	open_box(&md);
	ck_assert_int_eq(maildrop_recover(&md, err, sizeof(err)), MD_OK);
	ck_assert_msg(strstr(err, "no committed update") != NULL, "%s", err);
	maildrop_close(&md);
	assert_mask(ALL);
	ck_assert_int_eq(leftovers(), 0);
}
END_TEST

/* A dotlock of a live process (ours) is not stale: nothing is touched
 * and the next session recovers. */
START_TEST(test_recover_lock_held)
{
	struct maildrop md;
	char err[256], lock[700], content[64];

	open_box(&md);
	snprintf(lock, sizeof(lock), "%s.lock", mbox);
	snprintf(content, sizeof(content), "%ld localhost\n", (long)getpid());
	tu_write_file(lock, content, strlen(content));
	ck_assert_int_eq(maildrop_recover(&md, err, sizeof(err)), MD_INUSE);
	ck_assert_int_eq(access(lock, F_OK), 0);
	maildrop_close(&md);
	assert_mask(ALL);
}
END_TEST

/* A kill between a dotlock attempt's temp file and its unlink leaves the
 * temp file: the recovery removes a dead pid's, never a live one's. */
START_TEST(test_recover_sweeps_temp_files)
{
	struct maildrop md;
	char err[256], host[256], dead[1024], live[1024];
	pid_t pid;
	int status;

	open_box(&md);
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	ck_assert_ptr_null(strpbrk(host, "/ \t\n"));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_lt(snprintf(dead, sizeof(dead), "%s.lock.%s.%ld.0badcafe",
	    mbox, host, (long)pid), (int)sizeof(dead));
	ck_assert_int_lt(snprintf(live, sizeof(live), "%s.lock.%s.%ld.0badcafe",
	    mbox, host, (long)getppid()), (int)sizeof(live));
	tu_write_file(dead, "", 0);
	tu_write_file(live, "", 0);
	ck_assert_int_eq(maildrop_recover(&md, err, sizeof(err)), MD_OK);
	maildrop_close(&md);
	ck_assert_int_eq(access(dead, F_OK), -1);
	ck_assert_int_eq(access(live, F_OK), 0);
	ck_assert_int_eq(unlink(live), 0);
	ck_assert_int_eq(leftovers(), 0);
}
END_TEST

START_TEST(test_recover_no_file)
{
	struct maildrop md;
	char err[256];

	open_ok(&md);
	ck_assert_int_eq(md.fd, -1);
	ck_assert_int_eq(maildrop_recover(&md, err, sizeof(err)), MD_OK);
	maildrop_close(&md);
	ck_assert_int_eq(access(mbox, F_OK), -1);
}
END_TEST

static Suite *
recover_suite(void)
{
	Suite *s = suite_create("recover");
	TCase *tc = tcase_create("recover");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_recover_after_kill, 0,
	    (int)(sizeof(steps) / sizeof(steps[0])));
	tcase_add_test(tc, test_recover_nothing_to_do);
	tcase_add_test(tc, test_recover_lock_held);
	tcase_add_test(tc, test_recover_sweeps_temp_files);
	tcase_add_test(tc, test_recover_no_file);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(recover_suite)
