/*
 * check_journal.c: the crash-safe rewrite.  Byte-exact results for several
 * range sets; a SIGKILL before every step (and mid-write), with and without
 * mail appended by a raw write or by procmail before recovery; crashes
 * during recovery itself; torn, corrupt and foreign journals; ENOSPC on a
 * small tmpfs.
 */
#include "journal_tu.h"

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
		/* journal.c stops at a block boundary, as a kill -9 does. */
		size_t half = ((size_t)crash_spec.from + (len -
		    (size_t)crash_spec.from) / 2) / 4096 * 4096 -
		    (size_t)crash_spec.from;

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
	struct stat st;

	committed_journal();
	ck_assert_int_eq(stat(jpath, &st), 0);
	/* After the commit: in the table of old digests (it starts after
	 * the 144-byte header and the path), or the data's last byte. */
	patch_journal(_i == 0 ? 200 : st.st_size - 41, 1);
	expect_kept_error();
}
END_TEST

/* A committed journal of another version is kept, never discarded. */
START_TEST(test_other_version)
{
	committed_journal();
	patch_journal(11, -1);		/* version 2 -> 1 */
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
	tcase_add_loop_test(tc, test_corrupt_data, 0, 2);
	tcase_add_test(tc, test_other_version);
	tcase_add_test(tc, test_journal_too_long);
	tcase_add_test(tc, test_foreign_journal);
	tcase_add_test(tc, test_linked_journal);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(journal_suite)
