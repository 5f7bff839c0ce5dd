/*
 * check_maildrop.c: open, burst, stream and UPDATE on temporary mailboxes:
 * deletions anywhere, mail delivered during the session, attributes and
 * times, files changed under the session, locks held by others, damaged
 * and missing mailboxes, recovery of a journal at open, a full disk; the
 * journal lives in the state directory and nothing is left behind.  (What
 * a session may open: check_confine.c.)
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "maildrop.h"
#include "maildrop_tu.h"

static const char pseudo[] =
    "From MAILER-DAEMON Thu Nov 23 09:00:00 2023\n"
    "Date: Thu, 23 Nov 2023 09:00:00 +0000\n"
    "From: Mail System Internal Data <MAILER-DAEMON@example.org>\n"
    "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
    "Message-ID: <1700730000@example.org>\n"
    "X-IMAP: 1700730000 0000000003\n"
    "Status: RO\n"
    "\n"
    "This text is part of the internal format of your mail folder.\n"
    "\n";

static const char newmail[] =
    "From late@example.org Fri Nov 24 11:00:00 2023\n"
    "Subject: delivered during the session\n"
    "\n"
    "late\n"
    "\n";

/* The wire form of message i (POP3, dot-stuffed, no terminator). */
static void
wire(int i, char *buf, size_t len)
{
	snprintf(buf, len, "Subject: message %d\r\n\r\nbody of %d\r\n"
	    "..dot line\r\n", i, i);
}

static void
append(const char *s)
{
	int fd = open(mbox, O_WRONLY | O_APPEND);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void
set_times(const char *path, time_t atime, time_t mtime)
{
	struct timespec ts[2];

	ts[0].tv_sec = atime;
	ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

struct sinkbuf {
	char	*p;
	size_t	 len;
};

static int
sink(void *arg, const char *buf, size_t len)
{
	struct sinkbuf *sb = arg;

	sb->p = realloc(sb->p, sb->len + len + 1);
	ck_assert_ptr_nonnull(sb->p);
	memcpy(sb->p + sb->len, buf, len);
	sb->len += len;
	sb->p[sb->len] = '\0';
	return 0;
}

static char *
stream(struct maildrop *md, size_t idx, bool dotstuff, int64_t limit)
{
	struct sinkbuf sb = { NULL, 0 };

	ck_assert_int_eq(maildrop_stream(md, idx, dotstuff, limit, sink,
	    &sb), 0);
	if (sb.p == NULL)
		sb.p = strdup("");
	return sb.p;
}

/* A child that opens the maildrop (or takes a raw fcntl lock on the mbox)
 * and holds it until the returned fd is closed. */
static pid_t
hold(bool raw_fcntl, int *go_r)
{
	int ready[2], go[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct maildrop md;
		struct flock fl;
		char err[256];
		int fd;

		close(ready[0]);
		close(go[1]);
		if (raw_fcntl) {
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			fd = open(mbox, O_RDWR);
			if (fd == -1 || fcntl(fd, F_SETLK, &fl) == -1)
				_exit(3);
		} else if (md_open(&md, mbox, err, sizeof(err)) != MD_OK)
			_exit(3);
		if (write(ready[1], "x", 1) != 1)
			_exit(4);
		(void)read(go[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*go_r = go[1];
	return pid;
}

static void
release(pid_t pid, int go)
{
	int status;

	close(go);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(test_expand)
{
	static const struct {
		const char	*tmpl, *user, *home, *want;
	} t[] = {
		{ "/var/mail/%u", "joe", NULL, "/var/mail/joe" },
		{ "~/Mail/inbox", "joe", "/home/joe", "/home/joe/Mail/inbox" },
		{ "~/Mail/inbox", "joe", "/home/joe/", "/home/joe/Mail/inbox" },
		{ "/srv/%u/%u%%x", "ann", NULL, "/srv/ann/ann%x" },
		{ "~/%u", "joe", "/", "/joe" },
		{ "~/Mail", "joe", NULL, NULL },		/* no home */
		{ "~/Mail", "joe", "relative", NULL },
		{ "~joe/Mail", "joe", "/home/joe", NULL },
		{ "Mail/%u", "joe", NULL, NULL },	/* not absolute */
		{ "%u", "joe", NULL, NULL },
		{ "/var/mail/%s", "joe", NULL, NULL },	/* unknown escape */
		{ "/var/mail/%", "joe", NULL, NULL },
		{ "/var/mail/%u", "../etc", NULL, NULL },
		{ "/var/mail/%u", "..", NULL, NULL },
		{ "/var/mail/%u", "", NULL, NULL },
		{ "/var/mail/%u", "a-name-much-too-long-for-the-buffer",
		    NULL, NULL },
	};
	char buf[40];
	size_t i;
	int r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = maildrop_expand(t[i].tmpl, t[i].user, t[i].home, buf,
		    sizeof(buf));
		ck_assert_msg(r == (t[i].want != NULL ? 0 : -1),
		    "expand %s: %d", t[i].tmpl, r);
		if (t[i].want != NULL)
			ck_assert_str_eq(buf, t[i].want);
	}
}
END_TEST

START_TEST(test_open_stream)
{
	struct maildrop md;
	char want[TEXT_MAX], lpath[700], *got;
	uint64_t sum = 0;
	size_t i;

	make_mbox(NULL);
	open_ok(&md);
	ck_assert_uint_eq(md.scan.count, NMSG);
	ck_assert_int_ge(md.fd, 0);
	ck_assert(md.mboxrd == false);
	/* No session lock file, no dotlock: the mbox alone. */
	ck_assert_str_eq(names(dir, lpath, sizeof(lpath)), "mbox");
	for (i = 0; i < NMSG; i++) {
		wire((int)i, want, sizeof(want));
		got = stream(&md, i, true, -1);
		ck_assert_str_eq(got, want);
		free(got);
		/* RFC 1939 §11: the size leaves the stuffing out. */
		ck_assert_uint_eq(md.scan.msgs[i].octets, strlen(want) - 1);
		sum += md.scan.msgs[i].octets;
	}
	ck_assert_uint_eq(md.octets, sum);
	got = stream(&md, 2, false, -1);
	ck_assert_str_eq(got, "Subject: message 2\r\n\r\nbody of 2\r\n"
	    ".dot line\r\n");
	free(got);
	got = stream(&md, 3, true, 0);		/* TOP 3 0 */
	ck_assert_str_eq(got, "Subject: message 3\r\n\r\n");
	free(got);
	ck_assert_int_eq(maildrop_stream(&md, NMSG, true, -1, sink, NULL),
	    -1);
	/* The mbox lock was given back after the burst. */
	ck_assert_int_eq(access(mbox, F_OK), 0);
	snprintf(lpath, sizeof(lpath), "%s.lock", mbox);
	ck_assert_int_eq(access(lpath, F_OK), -1);
	maildrop_close(&md);
	ck_assert_int_eq(md.fd, -1);
	ck_assert_int_eq(md.dirfd, -1);
	maildrop_close(&md);		/* twice is harmless */
}
END_TEST

START_TEST(test_stream_shrunk)
{
	struct maildrop md;
	struct sinkbuf sb = { NULL, 0 };

	make_mbox(NULL);
	open_ok(&md);
	ck_assert_int_eq(truncate(mbox, md.scan.msgs[NMSG - 1].hdr + 3), 0);
	ck_assert_int_eq(maildrop_stream(&md, NMSG - 1, true, -1, sink, &sb),
	    -1);
	free(sb.p);
	maildrop_close(&md);
}
END_TEST

START_TEST(test_missing)
{
	struct maildrop md;
	char err[256];

	open_ok(&md);
	ck_assert_uint_eq(md.scan.count, 0);
	ck_assert_int_eq(md.fd, -1);
	ck_assert_int_eq(access(mbox, F_OK), -1);
	ck_assert_int_eq(maildrop_update(&md, err, sizeof(err)), MD_OK);
	ck_assert_int_eq(access(mbox, F_OK), -1);
	maildrop_close(&md);
	/* An empty file is an empty maildrop too. */
	tu_write_file(mbox, "", 0);
	open_ok(&md);
	ck_assert_uint_eq(md.scan.count, 0);
	ck_assert_int_eq(maildrop_update(&md, err, sizeof(err)), MD_OK);
	maildrop_close(&md);
}
END_TEST

/* Deletion sets (bit i = message i deleted). */
static const unsigned delsets[] = {
	0x01, 0x04, 0x10, 0x1f, 0x0a, 0x03, 0x18, 0x11, 0x00
};

START_TEST(test_delete)
{
	unsigned del = delsets[_i], keep = ((1u << NMSG) - 1) & ~del;
	char uids[NMSG][PARAM_UIDL_MAX + 1], err[256], jpath[700], *want;
	char jname[64];
	struct maildrop md;
	struct stat st0, st1;
	size_t len, i, k;

	make_mbox(NULL);
	ck_assert_int_eq(stat(mbox, &st0), 0);
	open_ok(&md);
	for (i = 0; i < NMSG; i++) {
		memcpy(uids[i], md.scan.msgs[i].uid, sizeof(uids[i]));
		if (del & (1u << i))
			mark(&md, i);
	}
	ck_assert_msg(maildrop_update(&md, err, sizeof(err)) == MD_OK,
	    "update: %s", err);
	maildrop_close(&md);
	want = concat(NULL, keep, &len);
	assert_file(want, len);
	free(want);
	ck_assert_int_eq(stat(mbox, &st1), 0);
	ck_assert(st0.st_ino == st1.st_ino);	/* never renamed over */
	ck_assert_int_eq(journal_name(mbox, jname, sizeof(jname)), 0);
	snprintf(jpath, sizeof(jpath), "%s/%s", sdir, jname);
	ck_assert_int_eq(access(jpath, F_OK), -1);
	/* Nothing left behind, in the spool or in the state directory. */
	ck_assert_str_eq(names(dir, jpath, sizeof(jpath)), "mbox");
	ck_assert_str_eq(names(sdir, jpath, sizeof(jpath)), "");
	/* The rest keep their unique ids. */
	open_ok(&md);
	for (i = 0, k = 0; i < NMSG; i++) {
		if (!(keep & (1u << i)))
			continue;
		ck_assert(k < md.scan.count);
		ck_assert_str_eq(md.scan.msgs[k].uid, uids[i]);
		k++;
	}
	ck_assert_uint_eq(md.scan.count, k);
	maildrop_close(&md);
}
END_TEST

START_TEST(test_new_mail_kept)
{
	unsigned del = _i == 0 ? 0x02 : _i == 1 ? 0x1f : 0x10;
	struct maildrop md;
	struct stat st;
	char err[256], *want;
	time_t delivered = time(NULL) - 30;
	size_t len;

	make_mbox(NULL);
	set_times(mbox, time(NULL) - 100, time(NULL) - 100);
	open_ok(&md);
	append(newmail);		/* an MDA, during the session */
	set_times(mbox, time(NULL) - 100, delivered);
	for (len = 0; len < NMSG; len++)
		if (del & (1u << len))
			mark(&md, len);
	ck_assert_msg(maildrop_update(&md, err, sizeof(err)) == MD_OK,
	    "update: %s", err);
	maildrop_close(&md);
	want = concat(NULL, ((1u << NMSG) - 1) & ~del, &len);
	want = realloc(want, len + sizeof(newmail));
	ck_assert_ptr_nonnull(want);
	memcpy(want + len, newmail, sizeof(newmail));
	assert_file(want, len + strlen(newmail));
	free(want);
	/* mtime stays the delivery's; atime is now. */
	ck_assert_int_eq(stat(mbox, &st), 0);
	ck_assert_int_eq(st.st_mtime, delivered);
	ck_assert(st.st_atime >= time(NULL) - 5);
}
END_TEST

START_TEST(test_attributes)
{
	bool deleting = _i == 1;
	struct maildrop md;
	struct stat st;
	char err[256], *want;
	time_t old = time(NULL) - 1000;
	uid_t uid = geteuid();		/* the maildrop is the user's */
	gid_t gid = geteuid() == 0 ? 65534 : getegid();
	size_t len;

	make_mbox(NULL);
	ck_assert_int_eq(chmod(mbox, 0700), 0);	/* RMCP consent */
	if (geteuid() == 0)
		ck_assert_int_eq(chown(mbox, uid, gid), 0);
	set_times(mbox, old, old);
	open_ok(&md);
	if (deleting)
		mark(&md, 1);
	ck_assert_msg(maildrop_update(&md, err, sizeof(err)) == MD_OK,
	    "update: %s", err);
	maildrop_close(&md);
	want = concat(NULL, deleting ? 0x1d : 0x1f, &len);
	assert_file(want, len);
	free(want);
	ck_assert_int_eq(stat(mbox, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(st.st_uid, uid);
	ck_assert_int_eq(st.st_gid, gid);
	ck_assert_int_eq(st.st_mtime, old);
	ck_assert(st.st_atime > st.st_mtime);
	ck_assert(st.st_atime >= time(NULL) - 5);
}
END_TEST

/* Another program changes the file during the session. */
START_TEST(test_changed)
{
	struct maildrop md;
	char err[256], other[700], *got;
	size_t len, off;
	int fd;

	make_mbox(NULL);
	open_ok(&md);
	mark(&md, 0);
	switch (_i) {
	case 0:		/* truncated */
		ck_assert_int_eq(truncate(mbox, md.scan.msgs[3].off), 0);
		break;
	case 1:		/* rewritten in place, same size: a From_ moved */
		off = (size_t)md.scan.msgs[3].off + 5;	/* "sender3" */
		fd = open(mbox, O_RDWR);
		ck_assert_int_eq(pwrite(fd, "S", 1, (off_t)off), 1);
		close(fd);
		break;
	case 2:		/* replaced by a new file */
		snprintf(other, sizeof(other), "%s/copy", dir);
		got = tu_read_file(mbox, &len);
		tu_write_file(other, got, len);
		free(got);
		ck_assert_int_eq(rename(other, mbox), 0);
		break;
	}
	got = tu_read_file(mbox, &len);
	err[0] = '\0';
	ck_assert_int_eq(maildrop_update(&md, err, sizeof(err)), MD_TEMP);
	ck_assert_msg(strstr(err, "changed by another program") != NULL,
	    "reason: %s", err);
	assert_file(got, len);
	free(got);
	maildrop_close(&md);
}
END_TEST

START_TEST(test_inuse)
{
	struct maildrop md;
	char err[256];
	pid_t pid;
	int go;

	make_mbox(NULL);
	/* Another POP session. */
	pid = hold(false, &go);
	err[0] = '\0';
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_INUSE);
	ck_assert(err[0] != '\0');
	release(pid, go);
	/* An MDA holding the mbox lock past the timeout. */
	pid = hold(true, &go);
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_INUSE);
	release(pid, go);
	/* Nothing stayed held by the failed opens. */
	open_ok(&md);
	ck_assert_uint_eq(md.scan.count, NMSG);
	/* UPDATE while an MDA holds the lock: nothing deleted. */
	mark(&md, 0);
	pid = hold(true, &go);
	ck_assert_int_eq(maildrop_update(&md, err, sizeof(err)), MD_INUSE);
	release(pid, go);
	maildrop_close(&md);
	{
		size_t len;
		char *want = concat(NULL, 0x1f, &len);

		assert_file(want, len);
		free(want);
	}
}
END_TEST

START_TEST(test_damaged)
{
	static const char bad[] = "garbage before the first message\n"
	    "From a@example.org Thu Nov 23 10:00:00 2023\n\nx\n";
	struct maildrop md;
	char err[256];

	tu_write_file(mbox, bad, strlen(bad));
	err[0] = '\0';
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
	ck_assert_msg(strstr(err, "damaged at offset 0") != NULL, "%s", err);
	ck_assert_int_eq(md.fd, -1);
	assert_file(bad, strlen(bad));
	/* Not left locked: the same answer again, not "in use". */
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
}
END_TEST

START_TEST(test_not_regular)
{
	struct maildrop md;
	char err[256], target[700];

	snprintf(target, sizeof(target), "%s/real", dir);
	tu_write_file(target, texts[0], strlen(texts[0]));
	ck_assert_int_eq(symlink(target, mbox), 0);
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
	ck_assert_int_eq(unlink(mbox), 0);
	ck_assert_int_eq(mkdir(mbox, 0700), 0);
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
}
END_TEST

START_TEST(test_pseudo)
{
	struct maildrop md;
	char err[256], *want;
	size_t i, len;

	make_mbox(pseudo);
	open_ok(&md);
	ck_assert(md.scan.has_pseudo);
	ck_assert_int_eq(md.scan.pseudo_next, (off_t)strlen(pseudo));
	ck_assert_uint_eq(md.scan.count, NMSG);
	for (i = 0; i < NMSG; i++)
		mark(&md, i);
	ck_assert_int_eq(maildrop_update(&md, err, sizeof(err)), MD_OK);
	maildrop_close(&md);
	want = concat(pseudo, 0, &len);
	assert_file(want, len);
	free(want);
}
END_TEST

/* A committed journal left by a crash is completed at the next open. */
START_TEST(test_open_recovers)
{
	struct journal_range r[1];
	struct maildrop md;
	pid_t pid;
	char *want;
	size_t len;
	int status;

	make_mbox(NULL);
	/* Remove message 1: keep 2..4 after it. */
	r[0].off = (off_t)(strlen(texts[0]) + strlen(texts[1]));
	r[0].len = (off_t)(strlen(texts[2]) + strlen(texts[3]) +
	    strlen(texts[4]));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[256], jname[64];
		int fd = open(mbox, O_RDWR);
		int jdir = open(sdir, O_RDONLY | O_DIRECTORY);

		setenv("POSTERN_TEST_CRASH_AT", "7", 1);
		if (journal_name(mbox, jname, sizeof(jname)) == -1)
			_exit(1);
		(void)journal_rewrite(fd, jdir, jname, mbox,
		    (off_t)strlen(texts[0]), r, 1, r[0].off + r[0].len, err,
		    sizeof(err));
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	append(newmail);
	open_ok(&md);
	ck_assert_uint_eq(md.scan.count, NMSG);	/* 4 kept + the new one */
	maildrop_close(&md);
	want = concat(NULL, 0x1d, &len);
	want = realloc(want, len + sizeof(newmail));
	ck_assert_ptr_nonnull(want);
	memcpy(want + len, newmail, sizeof(newmail));
	assert_file(want, len + strlen(newmail));
	free(want);
}
END_TEST

START_TEST(test_disk_full)
{
	char small[600], box[700], state[700], err[256], *orig, *got;
	struct maildrop md;
	size_t len, glen, i;
	int fd;

	snprintf(small, sizeof(small), "%s/small", dir);
	if (!tu_mount_tmpfs(small, "size=256k"))
		return;
	snprintf(box, sizeof(box), "%s/mbox", small);
	/* ~200 KB of mail: rewriting from message 0 needs a journal as big. */
	fd = open(box, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(write(fd, texts[i % NMSG],
		    strlen(texts[i % NMSG])), (ssize_t)strlen(texts[i % NMSG]));
	close(fd);
	orig = tu_read_file(box, &len);
	/* The journal's room is the state directory's: put it there too. */
	snprintf(state, sizeof(state), "%s/state", small);
	ck_assert_int_eq(mkdir(state, 0700), 0);
	close(ma.jdirfd);
	ma.jdirfd = open(state, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(ma.jdirfd, 0);
	ck_assert_int_eq(md_open(&md, box, err, sizeof(err)), MD_OK);
	ck_assert_uint_eq(md.scan.count, 2000);
	mark(&md, 0);
	err[0] = '\0';
	ck_assert_int_eq(maildrop_update(&md, err, sizeof(err)), MD_TEMP);
	ck_assert_msg(strstr(err, "disk full, messages not deleted") != NULL,
	    "reason: %s", err);
	maildrop_close(&md);
	got = tu_read_file(box, &glen);
	ck_assert(glen == len && memcmp(got, orig, len) == 0);
	free(got);
	free(orig);
	ck_assert_str_eq(names(state, err, sizeof(err)), "");
	ck_assert_str_eq(names(small, err, sizeof(err)), "mbox state");
	close(ma.jdirfd);
	ma.jdirfd = open(sdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(umount2(small, MNT_DETACH), 0);
}
END_TEST

static Suite *
maildrop_suite(void)
{
	Suite *s = suite_create("maildrop");
	TCase *tc = tcase_create("maildrop");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_expand);
	tcase_add_test(tc, test_open_stream);
	tcase_add_test(tc, test_stream_shrunk);
	tcase_add_test(tc, test_missing);
	tcase_add_loop_test(tc, test_delete, 0,
	    (int)(sizeof(delsets) / sizeof(delsets[0])));
	tcase_add_loop_test(tc, test_new_mail_kept, 0, 3);
	tcase_add_loop_test(tc, test_attributes, 0, 2);
	tcase_add_loop_test(tc, test_changed, 0, 3);
	tcase_add_test(tc, test_inuse);
	tcase_add_test(tc, test_damaged);
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_pseudo);
	tcase_add_test(tc, test_open_recovers);
	tcase_add_test(tc, test_disk_full);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(maildrop_suite)
