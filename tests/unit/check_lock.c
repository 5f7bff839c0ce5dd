/*
 * check_lock.c: the mbox lock (fcntl + NFS-safe dotlock) and the session
 * lock against competitors in forked processes; stale dotlock handling;
 * planted session lock files.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "testutil.h"

#define MODE_FCNTL	1
#define MODE_DOTLOCK	2
#define MODE_SESSION	3

static char dir[512], mbox[600], dotlock[700];

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
	snprintf(mbox, sizeof(mbox), "%s/mbox", dir);
	snprintf(dotlock, sizeof(dotlock), "%s/mbox.lock", dir);
	tu_write_file(mbox, "From a@b Thu Nov 23 10:00:00 2023\n\nx\n", 37);
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
conf(struct lock_conf *c, const char *order, int timeout)
{
	lock_conf_default(c);
	ck_assert_int_eq(lock_conf_parse_order(c, order), 0);
	c->timeout = timeout;
}

static int
open_mbox(void)
{
	int fd = open(mbox, O_RDWR);

	ck_assert_int_ge(fd, 0);
	return fd;
}

struct competitor {
	pid_t	 pid;
	int	 go;		/* closing it lets the child release and exit */
};

/* Forks a process that takes a lock of the given mode and holds it until
 * released by stop_competitor(). */
static void
start_competitor(struct competitor *cp, int mode)
{
	int ready[2], go[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	cp->pid = fork();
	ck_assert_int_ge(cp->pid, 0);
	if (cp->pid == 0) {
		struct mbox_lock l;
		struct lock_conf lc;
		char err[256], path[700];
		bool busy;
		int fd = -1, r = -1;

		close(ready[0]);
		close(go[1]);
		lock_conf_default(&lc);
		lc.timeout = 0;
		if (mode == MODE_SESSION) {
			snprintf(path, sizeof(path), "%s/.mbox.pop", dir);
			r = lock_session(path, &busy, err, sizeof(err));
			r = r >= 0 ? 0 : -1;
		} else {
			fd = open(mbox, O_RDWR);
			lc.order[0] = mode == MODE_FCNTL ? LOCK_FCNTL :
			    LOCK_DOTLOCK;
			lc.order[1] = 0;
			r = lock_mbox(&l, fd, mbox, &lc, err, sizeof(err));
		}
		if (r != 0)
			_exit(3);
		if (write(ready[1], "x", 1) != 1)
			_exit(4);
		(void)read(go[0], &c, 1);
		if (mode != MODE_SESSION)
			lock_mbox_release(&l);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	cp->go = go[1];
}

static void
stop_competitor(struct competitor *cp)
{
	int status;

	close(cp->go);
	ck_assert_int_eq(waitpid(cp->pid, &status, 0), cp->pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* true if another process could take an fcntl lock on the mbox now. */
static bool
fcntl_free(void)
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct flock fl;
		int fd = open(mbox, O_RDWR);

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		_exit(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int
count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
write_dotlock(const char *content, time_t age)
{
	struct timespec ts[2];

	tu_write_file(dotlock, content, strlen(content));
	if (age > 0) {
		ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		ck_assert_int_eq(utimensat(AT_FDCWD, dotlock, ts, 0), 0);
	}
}

static void
my_host(char *buf, size_t len)
{
	ck_assert_int_eq(gethostname(buf, len), 0);
	buf[len - 1] = '\0';
}

static pid_t
dead_pid(void)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return pid;
}

START_TEST(test_conf)
{
	static const struct {
		const char	*s;
		int		 r, o0, o1;
	} t[] = {
		{ "fcntl dotlock", 0, LOCK_FCNTL, LOCK_DOTLOCK },
		{ "dotlock fcntl", 0, LOCK_DOTLOCK, LOCK_FCNTL },
		{ "fcntl", 0, LOCK_FCNTL, 0 },
		{ "dotlock", 0, LOCK_DOTLOCK, 0 },
		{ "  dotlock\tfcntl ", 0, LOCK_DOTLOCK, LOCK_FCNTL },
		{ "", -1, 0, 0 },
		{ "flock", -1, 0, 0 },
		{ "fcntl fcntl", -1, 0, 0 },
		{ "fcntl dotlock fcntl", -1, 0, 0 },
		{ "fcntldotlock", -1, 0, 0 },
		{ "FCNTL", -1, 0, 0 },
	};
	struct lock_conf c;
	size_t i;

	lock_conf_default(&c);
	ck_assert_int_eq(c.order[0], LOCK_FCNTL);
	ck_assert_int_eq(c.order[1], LOCK_DOTLOCK);
	ck_assert_int_eq(c.timeout, PARAM_LOCK_TIMEOUT);
	ck_assert_int_eq(c.stale, PARAM_DOTLOCK_STALE);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		lock_conf_default(&c);
		c.order[0] = c.order[1] = 77;
		ck_assert_msg(lock_conf_parse_order(&c, t[i].s) == t[i].r,
		    "parse \"%s\"", t[i].s);
		if (t[i].r == 0) {
			ck_assert_int_eq(c.order[0], t[i].o0);
			ck_assert_int_eq(c.order[1], t[i].o1);
		} else
			ck_assert_int_eq(c.order[0], 77);	/* unchanged */
	}
}
END_TEST

START_TEST(test_lock_and_release)
{
	struct mbox_lock l;
	struct lock_conf c;
	char err[256], host[256], want[300], *got;
	int fd = open_mbox();

	conf(&c, "fcntl dotlock", 1);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	ck_assert(l.have_fcntl && l.have_dotlock);
	my_host(host, sizeof(host));
	snprintf(want, sizeof(want), "%ld %s\n", (long)getpid(), host);
	got = tu_read_file(dotlock, NULL);
	ck_assert_str_eq(got, want);
	free(got);
	/* mbox and mbox.lock only: the temp link file is gone. */
	ck_assert_int_eq(count_entries(), 2);
	ck_assert(!fcntl_free());
	lock_mbox_release(&l);
	ck_assert(!l.have_fcntl && !l.have_dotlock);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	ck_assert(fcntl_free());
	lock_mbox_release(&l);		/* safe when not held */
	close(fd);
}
END_TEST

START_TEST(test_fcntl_busy)
{
	struct competitor cp;
	struct mbox_lock l;
	struct lock_conf c;
	char err[256];
	double t0, dt;
	int fd = open_mbox();

	start_competitor(&cp, MODE_FCNTL);
	conf(&c, "fcntl dotlock", 1);
	t0 = now_s();
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 0.9 && dt < 3.0, "waited %.2f s", dt);
	ck_assert(!l.have_fcntl && !l.have_dotlock);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	ck_assert_int_eq(count_entries(), 1);
	stop_competitor(&cp);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	lock_mbox_release(&l);
	close(fd);
}
END_TEST

START_TEST(test_dotlock_busy)
{
	struct competitor cp;
	struct mbox_lock l;
	struct lock_conf c;
	char err[256];
	double t0, dt;
	int fd = open_mbox();

	start_competitor(&cp, MODE_DOTLOCK);
	conf(&c, "fcntl dotlock", 1);
	t0 = now_s();
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 0.9 && dt < 3.0, "waited %.2f s", dt);
	/* We never wait holding the fcntl lock. */
	ck_assert(fcntl_free());
	ck_assert_int_eq(access(dotlock, F_OK), 0);
	ck_assert_int_eq(count_entries(), 2);
	/* A timeout of 0 is one attempt. */
	c.timeout = 0;
	t0 = now_s();
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	ck_assert(now_s() - t0 < 0.5);
	stop_competitor(&cp);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	lock_mbox_release(&l);
	close(fd);
}
END_TEST

START_TEST(test_dotlock_first_order)
{
	struct competitor cp;
	struct mbox_lock l;
	struct lock_conf c;
	char err[256];
	int fd = open_mbox();

	start_competitor(&cp, MODE_FCNTL);
	conf(&c, "dotlock fcntl", 1);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	/* The dotlock taken first was given back. */
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	stop_competitor(&cp);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	ck_assert(l.have_fcntl && l.have_dotlock);
	lock_mbox_release(&l);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	ck_assert(fcntl_free());
	close(fd);
}
END_TEST

START_TEST(test_stale_dead_pid)
{
	struct mbox_lock l;
	struct lock_conf c;
	char err[256], host[256], buf[300], *got;
	double t0;
	int fd = open_mbox();

	my_host(host, sizeof(host));
	snprintf(buf, sizeof(buf), "%ld %s\n", (long)dead_pid(), host);
	write_dotlock(buf, 0);
	conf(&c, "fcntl dotlock", 1);
	t0 = now_s();
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	ck_assert(now_s() - t0 < 0.5);
	snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(), host);
	got = tu_read_file(dotlock, NULL);
	ck_assert_str_eq(got, buf);
	free(got);
	lock_mbox_release(&l);
	close(fd);
}
END_TEST

START_TEST(test_not_stale)
{
	struct mbox_lock l;
	struct lock_conf c;
	char err[256], host[256], buf[300], *got;
	int fd = open_mbox();

	conf(&c, "fcntl dotlock", 1);
	c.timeout = 0;
	/* A dead pid on another host cannot be judged: busy while fresh. */
	snprintf(buf, sizeof(buf), "%ld other-host.example\n",
	    (long)dead_pid());
	write_dotlock(buf, 0);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	got = tu_read_file(dotlock, NULL);
	ck_assert_str_eq(got, buf);
	free(got);
	/* A live pid on this host. */
	my_host(host, sizeof(host));
	snprintf(buf, sizeof(buf), "%ld %s\n", (long)getppid(), host);
	write_dotlock(buf, 0);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	/* Content we do not understand, fresh. */
	write_dotlock("", 0);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	ck_assert_int_eq(access(dotlock, F_OK), 0);
	close(fd);
}
END_TEST

START_TEST(test_stale_old)
{
	struct competitor cp;
	struct mbox_lock l;
	struct lock_conf c;
	char err[256];
	int fd = open_mbox();

	conf(&c, "dotlock", 1);
	c.stale = 300;
	/* Old, but its owner may still hold the fcntl lock: not stale. */
	write_dotlock("", 600);
	start_competitor(&cp, MODE_FCNTL);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	ck_assert_int_eq(access(dotlock, F_OK), 0);
	stop_competitor(&cp);
	/* Young (200 s < 300 s) with the fcntl lock free: still busy. */
	write_dotlock("0\n", 200);
	c.timeout = 0;
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_BUSY);
	/* Old and the fcntl lock free: stale. */
	write_dotlock("12345 other-host.example\n", 600);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	ck_assert(l.have_dotlock && !l.have_fcntl);
	lock_mbox_release(&l);
	/* With both methods, old: we hold the fcntl lock, so stale. */
	write_dotlock("", 600);
	conf(&c, "fcntl dotlock", 1);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	lock_mbox_release(&l);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	close(fd);
}
END_TEST

START_TEST(test_touch)
{
	struct mbox_lock l;
	struct lock_conf c;
	struct timespec ts[2];
	struct stat st;
	char err[256];
	int fd = open_mbox();

	conf(&c, "fcntl dotlock", 1);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, dotlock, ts, 0), 0);
	lock_mbox_touch(&l);
	ck_assert_int_eq(stat(dotlock, &st), 0);
	ck_assert(st.st_mtime >= time(NULL) - 5);
	lock_mbox_release(&l);
	close(fd);
}
END_TEST

START_TEST(test_release_taken_over)
{
	struct mbox_lock l;
	struct lock_conf c;
	char err[256], *got;
	int fd = open_mbox();

	conf(&c, "dotlock", 1);
	ck_assert_int_eq(lock_mbox(&l, fd, mbox, &c, err, sizeof(err)),
	    LOCK_OK);
	/* Someone judged ours stale and took it: theirs must survive. */
	ck_assert_int_eq(unlink(dotlock), 0);
	write_dotlock("1 other-host.example\n", 0);
	lock_mbox_release(&l);
	got = tu_read_file(dotlock, NULL);
	ck_assert_str_eq(got, "1 other-host.example\n");
	free(got);
	close(fd);
}
END_TEST

START_TEST(test_session_busy)
{
	struct competitor cp;
	struct stat st;
	char err[256], path[700];
	bool busy;
	int fd;

	snprintf(path, sizeof(path), "%s/.mbox.pop", dir);
	start_competitor(&cp, MODE_SESSION);
	busy = false;
	ck_assert_int_eq(lock_session(path, &busy, err, sizeof(err)), -1);
	ck_assert(busy);
	stop_competitor(&cp);
	fd = lock_session(path, &busy, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert(!busy);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	lock_session_release(fd);
	/* The file stays (unlinking lock files races); relocking works. */
	ck_assert_int_eq(access(path, F_OK), 0);
	fd = lock_session(path, &busy, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	lock_session_release(fd);
}
END_TEST

START_TEST(test_session_planted)
{
	char err[256], path[700], target[700];
	bool busy;

	snprintf(path, sizeof(path), "%s/.mbox.pop", dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	/* A symlink, dangling: refused, and nothing created at its target. */
	ck_assert_int_eq(symlink(target, path), 0);
	busy = true;
	err[0] = '\0';
	ck_assert_int_eq(lock_session(path, &busy, err, sizeof(err)), -1);
	ck_assert(!busy);
	ck_assert(err[0] != '\0');
	ck_assert_int_eq(access(target, F_OK), -1);
	/* A symlink to an existing file of ours. */
	tu_write_file(target, "", 0);
	ck_assert_int_eq(lock_session(path, &busy, err, sizeof(err)), -1);
	ck_assert(!busy);
	ck_assert_int_eq(unlink(path), 0);
	/* A directory. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(lock_session(path, &busy, err, sizeof(err)), -1);
	ck_assert(!busy);
	ck_assert_int_eq(rmdir(path), 0);
	/* A file owned by someone else. */
	if (geteuid() != 0) {
		fprintf(stderr, "check_lock: not root, skipping the "
		    "foreign-owner session lock case\n");
		return;
	}
	tu_write_file(path, "", 0);
	ck_assert_int_eq(chown(path, 65534, 65534), 0);
	err[0] = '\0';
	ck_assert_int_eq(lock_session(path, &busy, err, sizeof(err)), -1);
	ck_assert(!busy);
	ck_assert(strstr(err, "owned") != NULL);
}
END_TEST

static Suite *
lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_conf);
	tcase_add_test(tc, test_lock_and_release);
	tcase_add_test(tc, test_fcntl_busy);
	tcase_add_test(tc, test_dotlock_busy);
	tcase_add_test(tc, test_dotlock_first_order);
	tcase_add_test(tc, test_stale_dead_pid);
	tcase_add_test(tc, test_not_stale);
	tcase_add_test(tc, test_stale_old);
	tcase_add_test(tc, test_touch);
	tcase_add_test(tc, test_release_taken_over);
	tcase_add_test(tc, test_session_busy);
	tcase_add_test(tc, test_session_planted);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(lock_suite)
