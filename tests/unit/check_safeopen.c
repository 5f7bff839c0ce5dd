/*
 * check_safeopen.c: confined opening, by openat2 and by the component walk
 * (safeopen_force_walk): symbolic links at the last level, in the middle
 * and as the directory itself, "..", missing and non-directory components,
 * O_PATH and O_DIRECTORY opens, safeopen_parent; the checks of what was
 * opened (type, link count, owner, writers, the mail group of a spool);
 * and the state directory of privsep.c (made and checked as root, and as
 * the invoking user when not root).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "privsep.h"
#include "safeopen.h"
#include "testutil.h"

#define T_UID	65534
#define T_GID	65534

static char dir[512], real[PATH_MAX];

static void
setup(void)
{
	char p[700];

	tu_tmpdir(dir, sizeof(dir));
	ck_assert_ptr_nonnull(realpath(dir, real));
	snprintf(p, sizeof(p), "%s/real", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/real/f", dir);
	tu_write_file(p, "data", 4);
	safeopen_force_walk(false);
}

static void
teardown(void)
{
	safeopen_force_walk(false);
	tu_rmtree(dir);
}

/* _i: 0 = openat2 where the kernel has it, 1 = the component walk. */
static void
mode(int i)
{
	safeopen_force_walk(i == 1);
}

static void
path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", dir, rel);
}

START_TEST(test_plain)
{
	char p[700], err[1024], buf[8];
	int fd, dfd;

	mode(_i);
	path(p, sizeof(p), "real/f");
	fd = safeopen_at(AT_FDCWD, NULL, p, O_RDONLY, 0, err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 4);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	/* Beneath a directory fd, with repeated and trailing slashes. */
	dfd = open(dir, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	fd = safeopen_at(dfd, dir, "real//f", O_RDONLY, 0, err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	fd = safeopen_at(dfd, dir, "./real/./f", O_RDONLY, 0, err,
	    sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	fd = safeopen_at(dfd, dir, "real/", O_RDONLY | O_DIRECTORY, 0, err,
	    sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	/* Created. */
	fd = safeopen_at(dfd, dir, "real/new", O_WRONLY | O_CREAT | O_EXCL,
	    0600, err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	path(p, sizeof(p), "real/new");
	ck_assert_int_eq(access(p, F_OK), 0);
	/* "/" itself. */
	fd = safeopen_at(AT_FDCWD, NULL, "/", O_PATH | O_DIRECTORY, 0, err,
	    sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	close(dfd);
}
END_TEST

START_TEST(test_link_last)
{
	char p[700], t[700], err[1024];

	mode(_i);
	path(t, sizeof(t), "real/f");
	path(p, sizeof(p), "link");
	ck_assert_int_eq(symlink(t, p), 0);
	errno = 0;
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_msg(strstr(err, "link is a symbolic link to ") != NULL,
	    "%s", err);
	/* O_PATH opens a link itself: refused all the same. */
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_PATH, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* O_CREAT does not create the link's target. */
	ck_assert_int_eq(unlink(p), 0);
	path(t, sizeof(t), "real/target");
	ck_assert_int_eq(symlink(t, p), 0);
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_WRONLY | O_CREAT,
	    0600, err, sizeof(err)), -1);
	ck_assert_int_eq(access(t, F_OK), -1);
	/* A link to a directory, opened as one. */
	ck_assert_int_eq(unlink(p), 0);
	path(t, sizeof(t), "real");
	ck_assert_int_eq(symlink(t, p), 0);
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_PATH | O_DIRECTORY,
	    0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is a symbolic link") != NULL, "%s", err);
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDONLY |
	    O_DIRECTORY, 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is a symbolic link") != NULL, "%s", err);
}
END_TEST

/* The attack of issue 8: ~/Mail -> /var/mail, then FOLD bob. */
START_TEST(test_link_middle)
{
	char p[700], t[700], err[1024], want[2 * PATH_MAX];
	int dfd;

	mode(_i);
	path(t, sizeof(t), "real");
	path(p, sizeof(p), "Mail");
	ck_assert_int_eq(symlink(t, p), 0);
	path(p, sizeof(p), "Mail/f");
	errno = 0;
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDWR, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* It names the component, its target and the real path. */
	snprintf(want, sizeof(want), "%s/Mail is a symbolic link to %s "
	    "(its real path is %s/real)", dir, t, real);
	ck_assert_str_eq(err, want);
	/* A relative link, beneath a directory fd. */
	dfd = open(dir, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	path(p, sizeof(p), "rel");
	ck_assert_int_eq(symlink("real", p), 0);
	ck_assert_int_eq(safeopen_at(dfd, dir, "rel/f", O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_msg(strstr(err, "/rel is a symbolic link to real") != NULL,
	    "%s", err);
	/* A link near the root: everything under it is refused. */
	path(p, sizeof(p), "root");
	ck_assert_int_eq(symlink("/", p), 0);
	snprintf(p, sizeof(p), "%s/root/etc/passwd", dir);
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(safeopen_at(dfd, dir, "root/etc/passwd", O_RDONLY, 0,
	    err, sizeof(err)), -1);
	close(dfd);
}
END_TEST

START_TEST(test_dotdot)
{
	char p[700], err[1024];
	int dfd;

	mode(_i);
	dfd = open(dir, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	errno = 0;
	ck_assert_int_eq(safeopen_at(dfd, dir, "../x", O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(err, "\"..\"") != NULL, "%s", err);
	ck_assert_int_eq(safeopen_at(dfd, dir, "real/../real/f", O_RDONLY, 0,
	    err, sizeof(err)), -1);
	path(p, sizeof(p), "real/../real/f");
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* "..x" and "x.." are names, not "..". */
	path(p, sizeof(p), "real/..x");
	tu_write_file(p, "", 0);
	ck_assert_int_ge(safeopen_at(dfd, dir, "real/..x", O_RDONLY, 0, err,
	    sizeof(err)), 0);
	close(dfd);
}
END_TEST

START_TEST(test_missing_notdir)
{
	char p[700], err[1024];

	mode(_i);
	path(p, sizeof(p), "nosuch/f");
	errno = 0;
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	path(p, sizeof(p), "real/nosuch");
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(strstr(err, "real/nosuch: No such file") != NULL, "%s",
	    err);
	path(p, sizeof(p), "real/f/g");
	ck_assert_int_eq(safeopen_at(AT_FDCWD, NULL, p, O_RDONLY, 0, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOTDIR);
}
END_TEST

START_TEST(test_parent)
{
	char p[700], err[1024];
	const char *base;
	struct stat st, want;
	int fd;

	mode(_i);
	path(p, sizeof(p), "real/f");
	fd = safeopen_parent(p, &base, err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert_str_eq(base, "f");
	ck_assert_int_eq(fstat(fd, &st), 0);
	path(p, sizeof(p), "real");
	ck_assert_int_eq(stat(p, &want), 0);
	ck_assert(st.st_ino == want.st_ino && S_ISDIR(st.st_mode));
	close(fd);
	fd = safeopen_parent("/etc", &base, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(base, "etc");
	close(fd);
	ck_assert_int_eq(safeopen_parent("/etc/", &base, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(safeopen_parent("etc/passwd", &base, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(safeopen_parent("/etc/..", &base, err, sizeof(err)),
	    -1);
	/* A link as the directory. */
	path(p, sizeof(p), "lnk");
	ck_assert_int_eq(symlink("real", p), 0);
	path(p, sizeof(p), "lnk/f");
	ck_assert_int_eq(safeopen_parent(p, &base, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ELOOP);
}
END_TEST

static struct safeopen_owner
owner(void)
{
	struct safeopen_owner o;

	o.name = "tester";
	o.uid = geteuid();
	o.gid = getgid();
	o.mail_gid = 8;
	return o;
}

static int
check(const char *rel, int how, char *err, size_t errlen)
{
	struct safeopen_owner o = owner();
	struct stat st;
	char p[700];
	int fd, r;

	path(p, sizeof(p), rel);
	fd = open(p, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	err[0] = '\0';
	r = safeopen_check_file(fd, p, &o, how, &st, err, errlen);
	close(fd);
	return r;
}

START_TEST(test_check_file)
{
	char p[700], h[700], err[1024];

	path(p, sizeof(p), "real/f");
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_msg(check("real/f", 0, err, sizeof(err)) == 0, "%s", err);
	/* Not a regular file. */
	ck_assert_int_eq(check("real", 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "a directory") != NULL, "%s", err);
	path(h, sizeof(h), "fifo");
	ck_assert_int_eq(mkfifo(h, 0600), 0);
	ck_assert_int_eq(check("fifo", 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "special file") != NULL, "%s", err);
	/* A hard link: both names are refused. */
	path(h, sizeof(h), "hard");
	ck_assert_int_eq(link(p, h), 0);
	ck_assert_int_eq(check("hard", 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "2 hard links") != NULL, "%s", err);
	ck_assert_int_eq(check("real/f", 0, err, sizeof(err)), -1);
	ck_assert_int_eq(unlink(h), 0);
	/* Writable by others. */
	ck_assert_int_eq(chmod(p, 0602), 0);
	ck_assert_int_eq(check("real/f", SAFEOPEN_SPOOL, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "writable by others") != NULL, "%s", err);
	/* Group-writable: the user's own group. */
	ck_assert_int_eq(chmod(p, 0660), 0);
	ck_assert_int_eq(chown(p, geteuid(), getgid()), 0);
	ck_assert_msg(check("real/f", 0, err, sizeof(err)) == 0, "%s", err);
	if (geteuid() != 0) {
		fprintf(stderr, "check_safeopen: not root, skipping the owner "
		    "and group cases\n");
		return;
	}
	/* The mail group: only for a spool maildrop. */
	ck_assert_int_eq(chown(p, 0, 8), 0);
	ck_assert_msg(check("real/f", SAFEOPEN_SPOOL, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(check("real/f", 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "writable by group 8") != NULL, "%s", err);
	/* Another group. */
	ck_assert_int_eq(chown(p, 0, T_GID), 0);
	ck_assert_int_eq(check("real/f", SAFEOPEN_SPOOL, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(chmod(p, 0640), 0);	/* readable only: fine */
	ck_assert_int_eq(check("real/f", 0, err, sizeof(err)), 0);
	/* Another owner. */
	ck_assert_int_eq(chown(p, T_UID, T_GID), 0);
	ck_assert_int_eq(check("real/f", SAFEOPEN_SPOOL, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "owned by uid 65534, not tester (uid 0)") !=
	    NULL, "%s", err);
}
END_TEST

START_TEST(test_check_dir)
{
	struct safeopen_owner o = owner();
	struct stat st;
	char p[700], err[1024];
	int fd;

	path(p, sizeof(p), "real");
	fd = open(p, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(safeopen_check_dir(fd, p, &o, &st, err, sizeof(err)),
	    0);
	ck_assert_int_eq(chmod(p, 0777), 0);
	ck_assert_int_eq(safeopen_check_dir(fd, p, &o, &st, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "writable by others") != NULL, "%s", err);
	ck_assert_int_eq(chmod(p, 0770), 0);
	ck_assert_int_eq(safeopen_check_dir(fd, p, &o, &st, err, sizeof(err)),
	    0);
	if (geteuid() == 0) {
		/* The mail group never counts for a folder directory. */
		ck_assert_int_eq(chown(p, 0, 8), 0);
		ck_assert_int_eq(safeopen_check_dir(fd, p, &o, &st, err,
		    sizeof(err)), -1);
		ck_assert_int_eq(chown(p, T_UID, 0), 0);
		ck_assert_int_eq(chmod(p, 0700), 0);
		ck_assert_int_eq(safeopen_check_dir(fd, p, &o, &st, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, "owned by uid 65534") != NULL, "%s",
		    err);
	}
	close(fd);
	path(p, sizeof(p), "real/f");
	fd = open(p, O_RDONLY);
	ck_assert_int_eq(safeopen_check_dir(fd, p, &o, &st, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "not a directory") != NULL, "%s", err);
	close(fd);
}
END_TEST

/* The state directory: made for the user as root, checked. */
START_TEST(test_state_dir)
{
	struct auth_user u;
	struct conf c;
	struct stat st;
	char p[700], err[1024];
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "check_safeopen: not root, skipping the root "
		    "state directory cases\n");
		return;
	}
	conf_default(&c);
	memset(&u, 0, sizeof(u));
	u.uid = T_UID;
	u.gid = T_GID;
	path(c.state_dir, sizeof(c.state_dir), "state");
	/* Missing: says how to make it. */
	ck_assert_int_eq(privsep_state_dir_check(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "install -d") != NULL, "%s", err);
	ck_assert_int_eq(mkdir(c.state_dir, 0755), 0);
	ck_assert_msg(privsep_state_dir_check(&c, err, sizeof(err)) == 0, "%s",
	    err);
	umask(022);
	fd = privsep_state_dir(&c, &u, "alice", err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_uid, T_UID);
	ck_assert_int_eq(st.st_gid, T_GID);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	/* Again: the same directory. */
	fd = privsep_state_dir(&c, &u, "alice", err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	close(fd);
	/* Opened up, or someone else's: refused. */
	path(p, sizeof(p), "state/alice");
	ck_assert_int_eq(chmod(p, 0750), 0);
	ck_assert_int_eq(privsep_state_dir(&c, &u, "alice", err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "mode 0700") != NULL, "%s", err);
	ck_assert_int_eq(chmod(p, 0700), 0);
	u.uid = T_UID - 1;
	ck_assert_int_eq(privsep_state_dir(&c, &u, "alice", err, sizeof(err)),
	    -1);
	u.uid = T_UID;
	/* A planted link or file in its place. */
	path(p, sizeof(p), "state/bob");
	ck_assert_int_eq(symlink("/tmp", p), 0);
	ck_assert_int_eq(privsep_state_dir(&c, &u, "bob", err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "symbolic link") != NULL, "%s", err);
	ck_assert_int_eq(privsep_state_dir(&c, &u, "../x", err, sizeof(err)),
	    -1);
	/* state_dir itself: root's and writable by nobody else. */
	ck_assert_int_eq(chmod(c.state_dir, 0775), 0);
	ck_assert_int_eq(privsep_state_dir_check(&c, err, sizeof(err)), -1);
	ck_assert_int_eq(privsep_state_dir(&c, &u, "alice", err, sizeof(err)),
	    -1);
	ck_assert_int_eq(chmod(c.state_dir, 0755), 0);
	ck_assert_int_eq(chown(c.state_dir, T_UID, T_GID), 0);
	ck_assert_int_eq(privsep_state_dir_check(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "owned by root") != NULL, "%s", err);
	ck_assert_int_eq(chown(c.state_dir, 0, 0), 0);
	/* Reached through a link: refused. */
	path(p, sizeof(p), "statelink");
	ck_assert_int_eq(symlink("state", p), 0);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", p);
	ck_assert_int_eq(privsep_state_dir_check(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "symbolic link") != NULL, "%s", err);
}
END_TEST

/* Not started as root: state_dir must be the invoking user's. */
START_TEST(test_state_dir_not_root)
{
	char sd[700];
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "check_safeopen: not root, skipping\n");
		return;
	}
	path(sd, sizeof(sd), "ustate");
	ck_assert_int_eq(mkdir(sd, 0755), 0);
	ck_assert_int_eq(chown(sd, T_UID, T_GID), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct auth_user u;
		struct conf c;
		struct stat st;
		char err[1024];
		int fd;

		if (setgroups(0, NULL) == -1 ||
		    setresgid(T_GID, T_GID, T_GID) == -1 ||
		    setresuid(T_UID, T_UID, T_UID) == -1)
			_exit(90);
		conf_default(&c);
		snprintf(c.state_dir, sizeof(c.state_dir), "%s", sd);
		memset(&u, 0, sizeof(u));
		u.uid = 4242;		/* ignored when not root */
		u.gid = 4242;
		if (privsep_state_dir_check(&c, err, sizeof(err)) == -1)
			_exit(1);
		fd = privsep_state_dir(&c, &u, "alice", err, sizeof(err));
		if (fd == -1 || fstat(fd, &st) == -1 || st.st_uid != T_UID ||
		    (st.st_mode & 07777) != 0700)
			_exit(2);
		/* A state_dir of someone else's (root's). */
		snprintf(c.state_dir, sizeof(c.state_dir), "%s", dir);
		if (privsep_state_dir_check(&c, err, sizeof(err)) != -1 ||
		    strstr(err, "must be owned by uid 65534") == NULL)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *
safeopen_suite(void)
{
	Suite *s = suite_create("safeopen");
	TCase *tc = tcase_create("safeopen");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_plain, 0, 2);
	tcase_add_loop_test(tc, test_link_last, 0, 2);
	tcase_add_loop_test(tc, test_link_middle, 0, 2);
	tcase_add_loop_test(tc, test_dotdot, 0, 2);
	tcase_add_loop_test(tc, test_missing_notdir, 0, 2);
	tcase_add_loop_test(tc, test_parent, 0, 2);
	tcase_add_test(tc, test_check_file);
	tcase_add_test(tc, test_check_dir);
	tcase_add_test(tc, test_state_dir);
	tcase_add_test(tc, test_state_dir_not_root);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(safeopen_suite)
