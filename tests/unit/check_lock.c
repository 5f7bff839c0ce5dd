/*
 * check_lock.c: the mbox lock (fcntl + NFS-safe dotlock, relative to the
 * directory fd) against competitors in forked processes; stale dotlock
 * handling; planted dotlocks (removed, or fcntl alone in a sticky spool,
 * or removed by the root master); the empty dotlock on a full disk; the
 * mail group switched on only around dotlock operations in a spool
 * (getresgid, the group of the files made).
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <sys/mount.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "lock.h"
#include "privsep.h"
#include "testutil.h"

#define MODE_FCNTL	1
#define MODE_DOTLOCK	2

/* Ids a test drops to (nobody / nogroup on Debian). */
#define T_UID		65534
#define T_GID		65534
#define T_OTHER		65533	/* another local user */

static char dir[512], mbox[600], dotlock[700];
static int dirfd_ = -1;

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
	snprintf(mbox, sizeof(mbox), "%s/mbox", dir);
	snprintf(dotlock, sizeof(dotlock), "%s/mbox.lock", dir);
	tu_write_file(mbox, "From a@b Thu Nov 23 10:00:00 2023\n\nx\n", 37);
	dirfd_ = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dirfd_, 0);
}

static void
teardown(void)
{
	if (dirfd_ >= 0)
		close(dirfd_);
	dirfd_ = -1;
	tu_rmtree(dir);
}

/* The lock target of the mbox open on fd (in dir, the user's own). */
static const struct lock_target *
tgt(int fd)
{
	static struct lock_target t;

	t.fd = fd;
	t.dirfd = dirfd_;
	t.dir = dir;
	t.name = "mbox";
	t.spool = false;
	t.uid = geteuid();
	t.mail_gid = (gid_t)-1;
	return &t;
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
		char err[256];
		int fd = -1, r = -1;

		close(ready[0]);
		close(go[1]);
		lock_conf_default(&lc);
		lc.timeout = 0;
		fd = open(mbox, O_RDWR);
		lc.order[0] = mode == MODE_FCNTL ? LOCK_FCNTL : LOCK_DOTLOCK;
		lc.order[1] = 0;
		r = lock_mbox(&l, tgt(fd), &lc, err, sizeof(err));
		if (r != 0)
			_exit(3);
		if (write(ready[1], "x", 1) != 1)
			_exit(4);
		(void)read(go[0], &c, 1);
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 0.9 && dt < 3.0, "waited %.2f s", dt);
	ck_assert(!l.have_fcntl && !l.have_dotlock);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	ck_assert_int_eq(count_entries(), 1);
	stop_competitor(&cp);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	ck_assert(now_s() - t0 < 0.5);
	stop_competitor(&cp);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	/* The dotlock taken first was given back. */
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	stop_competitor(&cp);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	got = tu_read_file(dotlock, NULL);
	ck_assert_str_eq(got, buf);
	free(got);
	/* A live pid on this host. */
	my_host(host, sizeof(host));
	snprintf(buf, sizeof(buf), "%ld %s\n", (long)getppid(), host);
	write_dotlock(buf, 0);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	/* Content we do not understand, fresh. */
	write_dotlock("", 0);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	ck_assert_int_eq(access(dotlock, F_OK), 0);
	stop_competitor(&cp);
	/* Young (200 s < 300 s) with the fcntl lock free: still busy. */
	write_dotlock("0\n", 200);
	c.timeout = 0;
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	/* Old and the fcntl lock free: stale. */
	write_dotlock("12345 other-host.example\n", 600);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_OK);
	ck_assert(l.have_dotlock && !l.have_fcntl);
	lock_mbox_release(&l);
	/* With both methods, old: we hold the fcntl lock, so stale. */
	write_dotlock("", 600);
	conf(&c, "fcntl dotlock", 1);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
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

static bool
root_or_skip(const char *what)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "check_lock: not root, skipping %s\n", what);
	return false;
}

/* Drops this (forked) process to uid/gid with no groups. */
static void
become(uid_t uid, gid_t gid)
{
	if (geteuid() == uid)
		return;
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		_exit(90);
}

/* In a forked child: as the user T_UID, locks the mbox open on fd by
 * order.  Returns what lock_mbox returned. */
static int
child_lock(int fd, const char *order, struct mbox_lock *l)
{
	struct lock_target t = *tgt(fd);
	struct lock_conf c;
	char err[256];

	become(T_UID, T_GID);
	t.uid = T_UID;
	conf(&c, order, 0);
	return lock_mbox(l, &t, &c, err, sizeof(err));
}

static int
wait_child(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child killed by signal %d",
	    WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* A dotlock planted by another user is no lock: removed, and ours made. */
START_TEST(test_planted_removed)
{
	struct mbox_lock l;
	struct lock_conf c;
	char err[256], host[256], buf[300], *got;
	struct stat st;
	int fd = open_mbox();

	if (!root_or_skip("the planted dotlock case"))
		return;
	conf(&c, "fcntl dotlock", 0);
	write_dotlock("1 other-host.example\n", 0);
	ck_assert_int_eq(chown(dotlock, T_OTHER, T_OTHER), 0);
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_OK);
	ck_assert(l.have_dotlock && !l.planted);
	my_host(host, sizeof(host));
	snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(), host);
	got = tu_read_file(dotlock, NULL);
	ck_assert_str_eq(got, buf);
	free(got);
	ck_assert_int_eq(stat(dotlock, &st), 0);
	ck_assert_int_eq(st.st_uid, geteuid());
	lock_mbox_release(&l);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	close(fd);
}
END_TEST

/* Root's, the user's and the mail group's dotlocks are respected. */
START_TEST(test_trusted_kept)
{
	struct lock_target t;
	struct mbox_lock l;
	struct lock_conf c;
	char err[256], *got;
	int fd = open_mbox();

	if (!root_or_skip("the trusted dotlock cases"))
		return;
	conf(&c, "fcntl dotlock", 0);
	write_dotlock("junk\n", 0);		/* root's */
	ck_assert_int_eq(lock_mbox(&l, tgt(fd), &c, err, sizeof(err)),
	    LOCK_BUSY);
	/* another uid, but the mail group's: an MDA's */
	ck_assert_int_eq(chown(dotlock, T_OTHER, 8), 0);
	t = *tgt(fd);
	t.mail_gid = 8;
	ck_assert_int_eq(lock_mbox(&l, &t, &c, err, sizeof(err)), LOCK_BUSY);
	got = tu_read_file(dotlock, NULL);
	ck_assert_str_eq(got, "junk\n");
	free(got);
	/* ...but not in a directory set-gid to the mail group, where every
	 * file gets the group: there it was planted, and removed. */
	ck_assert_int_eq(chown(dir, 0, 8), 0);
	ck_assert_int_eq(chmod(dir, 02775), 0);
	ck_assert_int_eq(lock_unplant(dirfd_, dir, "mbox", 12345, 8), 1);
	write_dotlock("junk\n", 0);
	ck_assert_int_eq(chown(dotlock, T_OTHER, 8), 0);
	ck_assert_int_eq(lock_mbox(&l, &t, &c, err, sizeof(err)), LOCK_OK);
	ck_assert(l.have_dotlock);
	lock_mbox_release(&l);
	ck_assert_int_eq(chmod(dir, 0700), 0);
	write_dotlock("junk\n", 0);
	/* the user's own */
	ck_assert_int_eq(chown(dotlock, T_OTHER, 8), 0);
	t.uid = T_OTHER;
	t.mail_gid = (gid_t)-1;
	ck_assert_int_eq(lock_mbox(&l, &t, &c, err, sizeof(err)), LOCK_BUSY);
	ck_assert_int_eq(lock_unplant(dirfd_, dir, "mbox", T_OTHER, 8), 0);
	ck_assert_int_eq(lock_unplant(dirfd_, dir, "mbox", 12345, 8), 0);
	ck_assert_int_eq(access(dotlock, F_OK), 0);
	close(fd);
}
END_TEST

/*
 * In a sticky spool the user cannot remove another user's planted
 * dotlock: the session goes on with fcntl alone (or is busy without
 * fcntl); the root master removes it (lock_unplant).
 */
START_TEST(test_planted_sticky)
{
	struct stat st;
	pid_t pid;
	int fd;

	if (!root_or_skip("the sticky spool case"))
		return;
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(chown(mbox, T_UID, T_GID), 0);
	write_dotlock("4242 planted.example\n", 0);
	ck_assert_int_eq(chown(dotlock, T_OTHER, T_OTHER), 0);
	fd = open_mbox();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct mbox_lock l;

		if (child_lock(fd, "fcntl dotlock", &l) != LOCK_OK)
			_exit(1);
		if (!l.planted || l.have_dotlock || !l.have_fcntl)
			_exit(2);
		lock_mbox_release(&l);
		if (access(dotlock, F_OK) != 0)
			_exit(3);	/* not ours: left alone */
		if (child_lock(fd, "dotlock", &l) != LOCK_BUSY)
			_exit(4);
		_exit(0);
	}
	ck_assert_int_eq(wait_child(pid), 0);
	/* The root master, before it drops. */
	ck_assert_int_eq(lock_unplant(dirfd_, dir, "mbox", T_UID, 8), 1);
	ck_assert_int_eq(access(dotlock, F_OK), -1);
	ck_assert_int_eq(lock_unplant(dirfd_, dir, "mbox", T_UID, 8), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct mbox_lock l;

		if (child_lock(fd, "dotlock", &l) != LOCK_OK ||
		    !l.have_dotlock)
			_exit(1);
		if (stat(dotlock, &st) != 0 || st.st_uid != T_UID)
			_exit(2);
		lock_mbox_release(&l);
		_exit(access(dotlock, F_OK) == -1 ? 0 : 3);
	}
	ck_assert_int_eq(wait_child(pid), 0);
	close(fd);
}
END_TEST

/* A full disk: an empty dotlock, removed at the release; an empty one
 * left behind is stale by its age alone. */
START_TEST(test_full_disk_empty_dotlock)
{
	char small[700], box[800], lk[800], fill[800], err[256];
	struct lock_target t;
	struct mbox_lock l;
	struct lock_conf c;
	struct timespec ts[2];
	struct stat st;
	int fd, sfd, ffd;

	if (!root_or_skip("the full-disk dotlock case"))
		return;
	snprintf(small, sizeof(small), "%s/small", dir);
	if (!tu_mount_tmpfs(small, "size=64k,mode=0755"))
		return;
	snprintf(box, sizeof(box), "%s/mbox", small);
	snprintf(lk, sizeof(lk), "%s/mbox.lock", small);
	snprintf(fill, sizeof(fill), "%s/filler", small);
	tu_write_file(box, "From a@b Thu Nov 23 10:00:00 2023\n\nx\n", 37);
	tu_fill_fs(fill);
	fd = open(box, O_RDWR);
	sfd = open(small, O_PATH | O_DIRECTORY);
	ck_assert(fd >= 0 && sfd >= 0);
	t = *tgt(fd);
	t.dirfd = sfd;
	t.dir = small;
	conf(&c, "fcntl dotlock", 0);
	ck_assert_int_eq(lock_mbox(&l, &t, &c, err, sizeof(err)), LOCK_OK);
	ck_assert(l.have_dotlock && l.empty_dotlock && l.have_fcntl);
	ck_assert_int_eq(stat(lk, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	lock_mbox_release(&l);
	ck_assert_int_eq(access(lk, F_OK), -1);
	/* An empty dotlock of someone else's: busy while fresh... */
	ffd = open(lk, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(ffd, 0);
	close(ffd);
	ck_assert_int_eq(lock_mbox(&l, &t, &c, err, sizeof(err)), LOCK_BUSY);
	/* ...stale when old (the fcntl lock is free). */
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 2 * c.stale;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, lk, ts, 0), 0);
	ck_assert_int_eq(lock_mbox(&l, &t, &c, err, sizeof(err)), LOCK_OK);
	ck_assert(l.empty_dotlock);
	lock_mbox_release(&l);
	ck_assert_int_eq(access(lk, F_OK), -1);
	close(fd);
	close(sfd);
	ck_assert_int_eq(umount2(small, MNT_DETACH), 0);
}
END_TEST

/*
 * INTERFACES 5: after privsep_drop_user the mail group is only the saved
 * set-group-ID, no supplementary group is left, and lock.c makes it the
 * effective gid only around dotlock operations in a spool: a dotlock made
 * in a root:mail 0775 (not set-gid) directory gets group mail, and the
 * same without the spool flag is refused.
 */
START_TEST(test_mail_group_only_for_spool_dotlocks)
{
	struct group *gr = getgrnam("mail");
	gid_t mail;
	pid_t pid;
	int fd;

	if (!root_or_skip("the mail group case"))
		return;
	if (gr == NULL) {
		fprintf(stderr, "check_lock: no group mail, skipping\n");
		return;
	}
	mail = gr->gr_gid;
	ck_assert_int_eq(chown(dir, 0, mail), 0);
	ck_assert_int_eq(chmod(dir, 0775), 0);
	ck_assert_int_eq(chown(mbox, T_UID, T_GID), 0);
	fd = open_mbox();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct lock_target t = *tgt(fd);
		struct auth_user u;
		struct mbox_lock l;
		struct lock_conf lc;
		struct conf c;
		struct stat st;
		char err[256];
		gid_t rg, eg, sg, groups[4];

		conf_default(&c);		/* mail_group = mail */
		memset(&u, 0, sizeof(u));
		u.uid = T_UID;
		u.gid = T_GID;
		if (privsep_drop_user(&c, &u, err, sizeof(err)) == -1)
			_exit(1);
		if (getresgid(&rg, &eg, &sg) == -1 || rg != T_GID ||
		    eg != T_GID || sg != mail || getgroups(4, groups) != 0)
			_exit(2);
		if (privsep_mail_gid() != mail ||
		    privsep_mail_group(true) == -1 || getegid() != mail ||
		    privsep_mail_group(false) == -1 || getegid() != T_GID)
			_exit(3);
		t.uid = T_UID;
		t.mail_gid = mail;
		conf(&lc, "fcntl dotlock", 0);
		/* Not a spool: the mail group stays off, the create fails. */
		if (lock_mbox(&l, &t, &lc, err, sizeof(err)) != LOCK_ERROR ||
		    strstr(err, "Permission denied") == NULL)
			_exit(4);
		t.spool = true;
		if (lock_mbox(&l, &t, &lc, err, sizeof(err)) != LOCK_OK)
			_exit(5);
		if (stat(dotlock, &st) != 0 || st.st_gid != mail ||
		    st.st_uid != T_UID)
			_exit(6);
		if (getresgid(&rg, &eg, &sg) == -1 || eg != T_GID)
			_exit(7);
		lock_mbox_release(&l);
		if (access(dotlock, F_OK) != -1 || getegid() != T_GID)
			_exit(8);
		_exit(0);
	}
	ck_assert_int_eq(wait_child(pid), 0);
	close(fd);
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
	tcase_add_test(tc, test_planted_removed);
	tcase_add_test(tc, test_trusted_kept);
	tcase_add_test(tc, test_planted_sticky);
	tcase_add_test(tc, test_full_disk_empty_dotlock);
	tcase_add_test(tc, test_mail_group_only_for_spool_dotlocks);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(lock_suite)
