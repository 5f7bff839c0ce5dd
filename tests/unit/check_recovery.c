/*
 * check_recovery.c: recovery rewrites only what the journal explains.
 * A journal left by a crash, then the maildrop changed by a program that
 * knows nothing of it (a MUA emptying or rewriting the box, a file
 * replaced, a shrink), must be refused with nothing written and the
 * journal kept; a torn rewrite (each block old or new, as after a power
 * loss) with or without mail appended before or after the truncate must
 * be completed.  Also journal_inspect, journal_force and journal_discard
 * (pop3d -R), and the cost of a commit on a 100 MB region
 * (POSTERN_BENCH=1).
 */
#include <time.h>

#include "journal_tu.h"

#define BLOCK	4096

/* The box: M1 deleted (from 0), M2 and M3 kept; 16 blocks. */
static const struct spec m_spec = {
	64000, 0, 2, { { 2000, 28000 }, { 40000, 20000 } }
};
/* From inside a block, the region ending inside another. */
static const struct spec spec = {
	64000, 500, 2, { { 2000, 28000 }, { 40000, 20000 } }
};

/* The file's current content (malloc'd), its length in *len_r. */
static unsigned char *
snapshot(size_t *len_r)
{
	return (unsigned char *)tu_read_file(mbox, len_r);
}

/* A committed journal, the maildrop killed before step `at`. */
static void
crashed_at(const struct spec *sp, const char *at, unsigned seed)
{
	make_mbox(sp->size, seed);
	ck_assert(crash_child(0, at, sp));
	ck_assert_int_eq(access(jpath, F_OK), 0);
}

static void
set_size(off_t size)
{
	ck_assert_int_eq(truncate(mbox, size), 0);
}

static void
put_bytes(off_t off, const void *p, size_t len)
{
	int fd = open_mbox();

	ck_assert_int_eq(pwrite(fd, p, len, off), (ssize_t)len);
	close(fd);
}

static void
flip_byte(off_t off)
{
	unsigned char c;
	int fd = open_mbox();

	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x55;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/*
 * Recovery must refuse with a reason holding `why`, write nothing and keep
 * the journal; journal_inspect agrees.
 */
static void
expect_foreign(const char *why)
{
	struct journal_state js;
	unsigned char *before;
	char err[512];
	size_t len;
	int fd;

	before = snapshot(&len);
	fd = open_mbox();
	err[0] = '\0';
	ck_assert_msg(recover(fd, err, sizeof(err)) == JOURNAL_FOREIGN,
	    "recover: %s", err);
	ck_assert_msg(strstr(err, why) != NULL, "reason: %s", err);
	assert_file(before, len);
	ck_assert_int_eq(access(jpath, F_OK), 0);
	ck_assert_int_eq(journal_inspect(fd, jdir, jname, mbox, &js, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(js.status, JOURNAL_COMMITTED);
	ck_assert(!js.explained);
	ck_assert_msg(strstr(js.reason, why) != NULL, "reason: %s",
	    js.reason);
	ck_assert_int_eq(js.size, (off_t)len);
	/* Asking again changes nothing either. */
	ck_assert_int_eq(recover(fd, err, sizeof(err)), JOURNAL_FOREIGN);
	assert_file(before, len);
	close(fd);
	free(before);
}

/* Recovery completes the journal: the file is want, no journal left. */
static void
expect_applied(const unsigned char *want, size_t len)
{
	char err[512];
	int fd = open_mbox();

	ck_assert_msg(recover(fd, err, sizeof(err)) == 1, "recover: %s", err);
	assert_file(want, len);
	assert_no_journal();
	close(fd);
}

/*
 * The reproduction: killed before the truncate, a MUA empties
 * the box, procmail delivers M4 (small: the file is shorter than the
 * region; big: the region's first block holds M4).  Before the check,
 * recovery wrote M2 and M3 over M4.
 */
START_TEST(test_mua_emptied)
{
	unsigned char *m4;
	char err[512];
	size_t len;
	int fd;

	crashed_at(&m_spec, "7", 11);
	set_size(0);
	m4 = append_mail(_i == 0 ? APPEND_PROCMAIL : APPEND_BIG, &len);
	expect_foreign(_i == 0 ? "shorter than the end" : "block at offset 0 ");
	assert_file(m4, len);
	/* The administrator discards the journal: the box keeps M4. */
	ck_assert_int_eq(journal_discard(jdir, jname, err, sizeof(err)), 1);
	assert_no_journal();
	fd = open_mbox();
	ck_assert_int_eq(recover(fd, err, sizeof(err)), 0);
	close(fd);
	assert_file(m4, len);
	ck_assert_int_eq(journal_discard(jdir, jname, err, sizeof(err)), 0);
	free(m4);
}
END_TEST

/* Shrunk below `from`, or below new_end (at every crash point). */
START_TEST(test_shrunk)
{
	static const char *const at[] = { "5", "7", "8" };

	crashed_at(&spec, at[_i % 3], 12);
	if (_i < 3) {
		set_size(spec.from - 1);
		expect_foreign("shorter than the start of the rewritten "
		    "region (500)");
	} else {
		set_size(20000);
		expect_foreign("shorter than the end of the rewritten region "
		    "(48500)");
	}
}
END_TEST

/* One byte neither old nor new, in the region's first (partial),
 * a middle and its last block, over an old or a new region. */
START_TEST(test_block_neither)
{
	static const off_t where[] = { 500, 10000, 48499 };
	static const char *const want[] = {
		"block at offset 500 ", "block at offset 8192 ",
		"block at offset 45056 "
	};

	crashed_at(&spec, _i < 3 ? "5" : "7", 13);
	flip_byte(where[_i % 3]);
	expect_foreign(want[_i % 3]);
}
END_TEST

/* The old tail changed while the region still holds old blocks: the
 * truncate cannot have happened, so no reading explains it. */
START_TEST(test_tail_changed)
{
	crashed_at(&spec, _i == 0 ? "5" : "5:2", 14);
	if (_i == 2) {
		/* Shrunk into the tail. */
		set_size(60000);
	} else
		flip_byte(50000);
	expect_foreign("the truncate cannot have happened");
}
END_TEST

/* The maildrop replaced by another file (a MUA writing a copy and
 * renaming it over), with the same bytes: not the journal's file. */
START_TEST(test_other_inode)
{
	char other[700];
	unsigned char *now;
	size_t len;

	crashed_at(&spec, "7", 15);
	now = snapshot(&len);
	snprintf(other, sizeof(other), "%s/copy", dir);
	tu_write_file(other, now, len);
	ck_assert_int_eq(rename(other, mbox), 0);
	expect_foreign("not the file the journal was written for");
	free(now);
}
END_TEST

/* A journal recorded for another maildrop path is never applied. */
START_TEST(test_other_path)
{
	char err[512], other[700];
	int fd;

	crashed_at(&spec, "7", 16);
	snprintf(other, sizeof(other), "%s/other", dir);
	fd = open_mbox();
	ck_assert_int_eq(journal_recover(fd, jdir, jname, other, err,
	    sizeof(err)), JOURNAL_FOREIGN);
	ck_assert_msg(strstr(err, "the journal is for ") != NULL, "%s", err);
	ck_assert_int_eq(journal_force(fd, jdir, jname, other, err,
	    sizeof(err)), JOURNAL_FOREIGN);
	ck_assert_int_eq(access(jpath, F_OK), 0);
	close(fd);
}
END_TEST

/*
 * After a power loss each block of the region may be old or new on its
 * own: every such mix is explained and completed, with mail appended
 * before the recovery or not.  Patterns: even blocks new, odd blocks
 * new, only the first (partial) block, only the last one, all but the
 * last.
 */
START_TEST(test_power_loss_mix)
{
	int pattern = _i % 5, mode = _i / 5;
	unsigned char *want, *add;
	size_t len, alen;
	off_t s, e;
	int k;

	crashed_at(&spec, "5", 17);		/* region untouched */
	want = kept(&spec, &len);
	for (s = spec.from, k = 0; s < (off_t)len; s = e, k++) {
		e = (s / BLOCK + 1) * BLOCK;
		if (e > (off_t)len)
			e = (off_t)len;
		if ((pattern == 0 && k % 2 == 0) ||
		    (pattern == 1 && k % 2 == 1) ||
		    (pattern == 2 && k == 0) ||
		    (pattern == 3 && e == (off_t)len) ||
		    (pattern == 4 && e < (off_t)len))
			put_bytes(s, want + s, (size_t)(e - s));
	}
	if (mode == 1) {
		add = append_mail(APPEND_PROCMAIL, &alen);
		want = cat(want, &len, add, alen);
		free(add);
	}
	expect_applied(want, len);
	free(want);
}
END_TEST

/* Killed before the truncate (7) or after it (8, 9), then mail by
 * procmail or a big raw append: inspect reads it right, recovery keeps
 * the mail. */
START_TEST(test_append_readings)
{
	static const char *const at[] = { "7", "8", "9" };
	struct journal_state js;
	unsigned char *want, *add;
	char err[512];
	size_t len, alen;
	bool truncated = _i % 3 != 0;
	int fd;

	crashed_at(&spec, at[_i % 3], 18);
	want = kept(&spec, &len);
	add = append_mail(_i < 3 ? APPEND_PROCMAIL : APPEND_BIG, &alen);
	want = cat(want, &len, add, alen);
	free(add);
	fd = open_mbox();
	ck_assert_int_eq(journal_inspect(fd, jdir, jname, mbox, &js, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(js.status, JOURNAL_COMMITTED);
	ck_assert_msg(js.explained, "%s", js.reason);
	ck_assert_int_eq(js.region, JOURNAL_PART_NEW);
	ck_assert_int_eq(js.truncated, truncated);
	ck_assert_int_eq(js.tail, truncated ? (_i < 3 ? JOURNAL_PART_SHORT :
	    JOURNAL_PART_FOREIGN) : JOURNAL_PART_OLD);
	ck_assert_int_eq(js.appended, (off_t)alen);
	ck_assert_int_eq(js.from, spec.from);
	ck_assert_int_eq(js.new_end, 48500);
	ck_assert_int_eq(js.old_end, spec.size);
	ck_assert_str_eq(js.recorded, mbox);
	close(fd);
	expect_applied(want, len);
	free(want);
}
END_TEST

/* journal_inspect on no journal, an uncommitted one, an untouched and a
 * half-written region, and a damaged journal. */
START_TEST(test_inspect)
{
	struct journal_state js;
	char err[512];
	int fd;

	make_mbox(spec.size, 19);
	fd = open_mbox();
	ck_assert_int_eq(journal_inspect(fd, jdir, jname, mbox, &js, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(js.status, JOURNAL_NONE);
	ck_assert_int_eq(js.size, spec.size);
	close(fd);

	ck_assert(crash_child(0, "4", &spec));
	fd = open_mbox();
	ck_assert_int_eq(journal_inspect(fd, jdir, jname, mbox, &js, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(js.status, JOURNAL_UNCOMMITTED);
	ck_assert_int_eq(recover(fd, err, sizeof(err)), 0);
	close(fd);

	free(orig);
	crashed_at(&spec, "5", 19);
	fd = open_mbox();
	ck_assert_int_eq(journal_inspect(fd, jdir, jname, mbox, &js, err,
	    sizeof(err)), 0);
	ck_assert(js.explained && !js.truncated);
	ck_assert_int_eq(js.region, JOURNAL_PART_OLD);
	ck_assert_int_eq(js.region_at, spec.from);
	ck_assert_int_eq(js.tail, JOURNAL_PART_OLD);
	close(fd);
	ck_assert_int_eq(journal_discard(jdir, jname, err, sizeof(err)), 1);

	free(orig);
	crashed_at(&spec, "5:2", 19);
	fd = open_mbox();
	ck_assert_int_eq(journal_inspect(fd, jdir, jname, mbox, &js, err,
	    sizeof(err)), 0);
	ck_assert(js.explained && !js.truncated);
	ck_assert_int_eq(js.region, JOURNAL_PART_MIXED);
	ck_assert_int_eq(js.region_at % BLOCK, 0);
	close(fd);

	/* Damaged after its commit: the last byte of its data. */
	{
		struct stat st;
		unsigned char c = 0;
		int jfd = open(jpath, O_RDWR);

		ck_assert_int_ge(jfd, 0);
		ck_assert_int_eq(fstat(jfd, &st), 0);
		ck_assert_int_eq(pwrite(jfd, &c, 1, st.st_size - 41), 1);
		close(jfd);
	}
	fd = open_mbox();
	ck_assert_int_eq(journal_inspect(fd, jdir, jname, mbox, &js, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(js.status, JOURNAL_DAMAGED);
	ck_assert_msg(strstr(js.reason, "data does not match") != NULL, "%s",
	    js.reason);
	ck_assert_int_eq(recover(fd, err, sizeof(err)), -1);
	ck_assert_int_eq(access(jpath, F_OK), 0);
	close(fd);
}
END_TEST

/*
 * journal_force (pop3d -R ... apply): a block neither old nor new is
 * overwritten and the intact tail removed; a file shrunk into the region
 * gets the region back and keeps nothing past it; another inode gets the
 * region; a file shorter than `from` is refused.
 */
START_TEST(test_force)
{
	unsigned char *want;
	char err[512];
	size_t len;
	int fd, r;

	crashed_at(&spec, "7", 20);
	want = kept(&spec, &len);
	if (_i == 0)
		flip_byte(10000);
	else if (_i == 1)
		set_size(20000);
	else if (_i == 2) {
		char other[700];
		unsigned char *now;
		size_t nlen;

		now = snapshot(&nlen);
		snprintf(other, sizeof(other), "%s/copy", dir);
		tu_write_file(other, now, nlen);
		ck_assert_int_eq(rename(other, mbox), 0);
		free(now);
	} else
		set_size(spec.from - 1);
	fd = open_mbox();
	ck_assert_int_eq(recover(fd, err, sizeof(err)), JOURNAL_FOREIGN);
	r = journal_force(fd, jdir, jname, mbox, err, sizeof(err));
	close(fd);
	if (_i == 3) {
		ck_assert_int_eq(r, JOURNAL_FOREIGN);
		ck_assert_int_eq(file_size(), spec.from - 1);
		ck_assert_int_eq(access(jpath, F_OK), 0);
	} else {
		ck_assert_msg(r == 1, "force %d: %s", r, err);
		assert_file(want, len);
		assert_no_journal();
	}
	free(want);
}
END_TEST

/* Mail appended after a forced redo's intact tail is kept. */
START_TEST(test_force_keeps_mail)
{
	unsigned char *want, *add;
	char err[512];
	size_t len, alen;
	int fd;

	crashed_at(&spec, "7", 21);
	want = kept(&spec, &len);
	flip_byte(600);
	add = append_mail(APPEND_PROCMAIL, &alen);
	want = cat(want, &len, add, alen);
	free(add);
	fd = open_mbox();
	ck_assert_int_eq(recover(fd, err, sizeof(err)), JOURNAL_FOREIGN);
	ck_assert_msg(journal_force(fd, jdir, jname, mbox, err, sizeof(err))
	    == 1, "force: %s", err);
	close(fd);
	assert_file(want, len);
	assert_no_journal();
	free(want);
}
END_TEST

/* Discard removes whatever the name holds (a symlink too, not its
 * target) and a temp journal; the maildrop stays as it is. */
START_TEST(test_discard)
{
	char err[512], target[700];
	unsigned char *now;
	size_t len;

	crashed_at(&spec, "5:2", 22);
	now = snapshot(&len);
	tu_write_file(tpath, "x", 1);
	ck_assert_int_eq(journal_discard(jdir, jname, err, sizeof(err)), 1);
	assert_no_journal();
	assert_file(now, len);
	snprintf(target, sizeof(target), "%s/target", dir);
	tu_write_file(target, "t", 1);
	ck_assert_int_eq(symlink(target, jpath), 0);
	ck_assert_int_eq(journal_discard(jdir, jname, err, sizeof(err)), 1);
	ck_assert_int_eq(access(target, F_OK), 0);
	ck_assert_int_eq(journal_discard(jdir, "../x", err, sizeof(err)), -1);
	free(now);
}
END_TEST

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * POSTERN_BENCH=1: the time of journal_rewrite on a 100 MB region (the
 * first 1 MB of a 101 MB file deleted), warm cache, median of 5.
 */
START_TEST(test_bench_commit)
{
	const off_t size = 101 * 1000 * 1000, from = 1000;
	struct journal_range r = { 1000 * 1000, 0 };
	double t[5], x;
	char err[512];
	int fd, i, j;

	if (getenv("POSTERN_BENCH") == NULL)
		return;
	r.len = size - r.off;
	for (i = 0; i < 5; i++) {
		free(orig);
		make_mbox(size, 23);
		fd = open_mbox();
		x = now_s();
		ck_assert_msg(rewrite(fd, from, &r, 1, size, err, sizeof(err))
		    == 0, "%s", err);
		t[i] = now_s() - x;
		close(fd);
	}
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			if (t[j] < t[i]) {
				x = t[i];
				t[i] = t[j];
				t[j] = x;
			}
	fprintf(stderr, "check_recovery: journal_rewrite of a 100 MB region: "
	    "median %.3f s (min %.3f, max %.3f)\n", t[2], t[0], t[4]);
}
END_TEST

static Suite *
recovery_suite(void)
{
	Suite *s = suite_create("recovery");
	TCase *tc;

	tc = tcase_create("foreign");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_mua_emptied, 0, 2);
	tcase_add_loop_test(tc, test_shrunk, 0, 6);
	tcase_add_loop_test(tc, test_block_neither, 0, 6);
	tcase_add_loop_test(tc, test_tail_changed, 0, 3);
	tcase_add_test(tc, test_other_inode);
	tcase_add_test(tc, test_other_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("explained");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_power_loss_mix, 0, 10);
	tcase_add_loop_test(tc, test_append_readings, 0, 6);
	tcase_add_test(tc, test_inspect);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_force, 0, 4);
	tcase_add_test(tc, test_force_keeps_mail);
	tcase_add_test(tc, test_discard);
	suite_add_tcase(s, tc);

	tc = tcase_create("bench");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_bench_commit);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(recovery_suite)
