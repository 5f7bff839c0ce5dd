/*
 * lock.c: the two maildrop locks of design.md §2.  The short mbox lock is an
 * fcntl write lock on the whole mbox plus the NFS-safe <mbox>.lock dotlock
 * (unique temp file, link(), link-count check), taken in the configured
 * order by non-blocking attempts with a bounded backoff; an attempt that
 * cannot get every method releases what it got, so a program using the
 * other order never deadlocks with us.  Stale dotlocks (a dead pid of this
 * host, or untouched for lock_conf.stale seconds while the fcntl lock is
 * free) are removed after a re-check.  The session lock is an fcntl lock on
 * a separate file that must be a regular file owned by the euid.  Runs in
 * the session process as the mail user.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"
#include "util.h"
#include "params.h"

/* Backoff between attempts: 10 ms doubling up to 500 ms. */
#define LOCK_BACKOFF_MIN_MS	10
#define LOCK_BACKOFF_MAX_MS	500
/* Longest dotlock content we read: "<pid> <hostname>\n". */
#define LOCK_CONTENT_MAX	(32 + PARAM_CONF_STR)
#define LOCK_HOST_MAX		256

/* Result of one non-blocking try of a method. */
#define TRY_OK		0
#define TRY_BUSY	1
#define TRY_ERROR	(-1)

void
lock_conf_default(struct lock_conf *c)
{
	c->order[0] = LOCK_FCNTL;
	c->order[1] = LOCK_DOTLOCK;
	c->timeout = PARAM_LOCK_TIMEOUT;
	c->stale = PARAM_DOTLOCK_STALE;
}

static int
method_of(const char *w, size_t len)
{
	if (len == 5 && strncmp(w, "fcntl", 5) == 0)
		return LOCK_FCNTL;
	if (len == 7 && strncmp(w, "dotlock", 7) == 0)
		return LOCK_DOTLOCK;
	return 0;
}

int
lock_conf_parse_order(struct lock_conf *c, const char *s)
{
	int order[2] = { 0, 0 };
	size_t n = 0, len;
	int m;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		len = strcspn(s, " \t");
		m = method_of(s, len);
		if (m == 0 || n == 2 || (n == 1 && order[0] == m))
			return -1;
		order[n++] = m;
		s += len;
	}
	if (n == 0)
		return -1;
	c->order[0] = order[0];
	c->order[1] = order[1];
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
fcntl_lock(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;		/* the whole file, including growth */
	return fcntl(fd, F_SETLK, &fl);
}

/* true if nobody else holds an fcntl lock that conflicts with ours. */
static bool
fcntl_free(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1)
		return false;
	return fl.l_type == F_UNLCK;
}

static int
try_fcntl(struct mbox_lock *l, char *errstr_r, size_t errlen)
{
	if (fcntl_lock(l->fd, F_WRLCK) == 0) {
		l->have_fcntl = true;
		return TRY_OK;
	}
	if (errno == EAGAIN || errno == EACCES)
		return TRY_BUSY;
	util_seterr(errstr_r, errlen, "fcntl lock: %s", strerror(errno));
	return TRY_ERROR;
}

static void
host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1)
		(void)snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	/* Keep the dotlock name and content one clean word. */
	for (; *buf != '\0'; buf++)
		if (*buf == '/' || *buf == ' ' || *buf == '\n' ||
		    *buf == '\t')
			*buf = '_';
}

/*
 * Reads a dotlock: its content into buf and its stat into st.  Returns 0,
 * or -1 (gone, or unreadable).
 */
static int
read_dotlock(const char *path, char *buf, size_t len, struct stat *st)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Parses "<pid> <host>".  Returns the pid (> 0) or -1. */
static pid_t
parse_owner(const char *s, char *host, size_t hostlen)
{
	long long v = 0;
	size_t i = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > INT32_MAX)
			return -1;
	}
	if (*s != ' ' || v <= 0)
		return -1;
	for (s++; *s != '\0' && *s != '\n' && *s != ' ' && i + 1 < hostlen;
	    s++)
		host[i++] = *s;
	host[i] = '\0';
	if (i == 0)
		return -1;
	return (pid_t)v;
}

/*
 * Is the dotlock at path stale?  A lock naming this host and a pid that no
 * longer exists is; so is any lock untouched for c->stale seconds when the
 * fcntl lock on the mbox is ours or free (its owner, if it takes both
 * locks, is gone).  On true, *st_r is the stat of the judged file.
 */
static bool
dotlock_stale(struct mbox_lock *l, const struct lock_conf *c,
    struct stat *st_r)
{
	char buf[LOCK_CONTENT_MAX], host[LOCK_HOST_MAX];
	char myhost[LOCK_HOST_MAX];
	pid_t pid;
	time_t now;

	if (read_dotlock(l->dotlock, buf, sizeof(buf), st_r) == -1)
		return false;
	pid = parse_owner(buf, host, sizeof(host));
	if (pid > 0 && pid != getpid()) {
		host_name(myhost, sizeof(myhost));
		if (strcmp(host, myhost) == 0 && kill(pid, 0) == -1 &&
		    errno == ESRCH)
			return true;
	}
	now = time(NULL);
	if (c->stale > 0 && now - st_r->st_mtime > (time_t)c->stale &&
	    (l->have_fcntl || fcntl_free(l->fd)))
		return true;
	return false;
}

/*
 * Removes the stale dotlock judged as `judged`, unless it was replaced in
 * the meantime (another process removed it and took a fresh one).
 */
static void
remove_stale(struct mbox_lock *l, const struct stat *judged)
{
	struct stat st;

	if (lstat(l->dotlock, &st) == -1)
		return;
	if (st.st_dev != judged->st_dev || st.st_ino != judged->st_ino ||
	    st.st_mtime != judged->st_mtime || st.st_size != judged->st_size)
		return;
	if (unlink(l->dotlock) == 0)
		log_warnx("removed stale dotlock %s", l->dotlock);
}

/*
 * One NFS-safe attempt: a unique temp file in the same directory, linked
 * to the dotlock name; link() may report failure over NFS when it worked,
 * so the temp file's link count decides.
 */
static int
try_dotlock(struct mbox_lock *l, const struct lock_conf *c, char *errstr_r,
    size_t errlen)
{
	char tmp[PARAM_PATH_MAX], host[LOCK_HOST_MAX];
	char content[LOCK_CONTENT_MAX];
	struct stat st;
	int fd, n, r, link_errno, tries;

	host_name(host, sizeof(host));
	n = snprintf(content, sizeof(content), "%ld %s\n", (long)getpid(),
	    host);
	if (n < 0 || (size_t)n >= sizeof(content)) {
		util_seterr(errstr_r, errlen, "dotlock: host name too long");
		return TRY_ERROR;
	}
	for (tries = 0;; tries++) {
		r = snprintf(tmp, sizeof(tmp), "%s.%s.%ld.%08lx", l->dotlock,
		    host, (long)getpid(), (unsigned long)random());
		if (r < 0 || (size_t)r >= sizeof(tmp)) {
			util_seterr(errstr_r, errlen, "dotlock: path too long");
			return TRY_ERROR;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd != -1)
			break;
		if (errno != EEXIST || tries >= 8) {
			util_seterr(errstr_r, errlen, "dotlock: create %s: %s",
			    tmp, strerror(errno));
			return TRY_ERROR;
		}
	}
	if (write(fd, content, (size_t)n) != n) {
		util_seterr(errstr_r, errlen, "dotlock: write %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return TRY_ERROR;
	}
	if (close(fd) == -1) {
		util_seterr(errstr_r, errlen, "dotlock: close %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		return TRY_ERROR;
	}

	for (tries = 0; tries < 2; tries++) {
		r = link(tmp, l->dotlock);
		link_errno = errno;
		if (lstat(tmp, &st) == 0 && st.st_nlink == 2) {
			unlink(tmp);
			l->have_dotlock = true;
			return TRY_OK;
		}
		if (r == 0 || link_errno != EEXIST) {
			util_seterr(errstr_r, errlen, "dotlock: link %s: %s",
			    l->dotlock, r == 0 ? "link count not 2" :
			    strerror(link_errno));
			unlink(tmp);
			return TRY_ERROR;
		}
		/* Held by someone: if stale, remove it and try once more. */
		if (tries > 0 || !dotlock_stale(l, c, &st))
			break;
		remove_stale(l, &st);
	}
	unlink(tmp);
	return TRY_BUSY;
}

/* Releases the dotlock if it is still ours (it may have been judged stale
 * and replaced by someone else, whose lock we must not remove). */
static void
release_dotlock(struct mbox_lock *l)
{
	char buf[LOCK_CONTENT_MAX], host[LOCK_HOST_MAX], myhost[LOCK_HOST_MAX];
	struct stat st;
	pid_t pid;

	if (!l->have_dotlock)
		return;
	l->have_dotlock = false;
	if (read_dotlock(l->dotlock, buf, sizeof(buf), &st) == -1) {
		log_warnx("dotlock %s vanished while held", l->dotlock);
		return;
	}
	pid = parse_owner(buf, host, sizeof(host));
	host_name(myhost, sizeof(myhost));
	if (pid != getpid() || strcmp(host, myhost) != 0) {
		log_warnx("dotlock %s was taken over while held", l->dotlock);
		return;
	}
	if (unlink(l->dotlock) == -1)
		log_warn("unlink %s", l->dotlock);
}

static void
release_fcntl(struct mbox_lock *l)
{
	if (!l->have_fcntl)
		return;
	l->have_fcntl = false;
	if (fcntl_lock(l->fd, F_UNLCK) == -1)
		log_warn("fcntl unlock");
}

void
lock_mbox_release(struct mbox_lock *l)
{
	int i;

	for (i = 1; i >= 0; i--) {
		if (l->order[i] == LOCK_DOTLOCK)
			release_dotlock(l);
		else if (l->order[i] == LOCK_FCNTL)
			release_fcntl(l);
	}
	/* Whatever the recorded order, nothing stays held. */
	release_dotlock(l);
	release_fcntl(l);
}

int
lock_mbox(struct mbox_lock *l, int fd, const char *path,
    const struct lock_conf *c, char *errstr_r, size_t errlen)
{
	static bool seeded;
	int64_t deadline, left, backoff = LOCK_BACKOFF_MIN_MS;
	int i, r, n;

	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->order[0] = c->order[0];
	l->order[1] = c->order[1];
	n = snprintf(l->dotlock, sizeof(l->dotlock), "%s.lock", path);
	if (n < 0 || (size_t)n >= sizeof(l->dotlock)) {
		util_seterr(errstr_r, errlen, "mbox path too long");
		return LOCK_ERROR;
	}
	if (c->order[0] != LOCK_FCNTL && c->order[0] != LOCK_DOTLOCK) {
		util_seterr(errstr_r, errlen, "no mbox lock method configured");
		return LOCK_ERROR;
	}
	if (!seeded) {
		srandom((unsigned)getpid() ^ (unsigned)time(NULL));
		seeded = true;
	}
	deadline = now_ms() + (int64_t)(c->timeout > 0 ? c->timeout : 0) *
	    1000;
	for (;;) {
		r = TRY_OK;
		for (i = 0; i < 2 && r == TRY_OK; i++) {
			if (c->order[i] == LOCK_FCNTL)
				r = try_fcntl(l, errstr_r, errlen);
			else if (c->order[i] == LOCK_DOTLOCK)
				r = try_dotlock(l, c, errstr_r, errlen);
		}
		if (r == TRY_OK)
			return LOCK_OK;
		/* All or nothing: never wait holding one lock. */
		lock_mbox_release(l);
		if (r == TRY_ERROR)
			return LOCK_ERROR;
		left = deadline - now_ms();
		if (left <= 0)
			break;
		sleep_ms(backoff < left ? backoff : left);
		backoff *= 2;
		if (backoff > LOCK_BACKOFF_MAX_MS)
			backoff = LOCK_BACKOFF_MAX_MS;
	}
	util_seterr(errstr_r, errlen, "%s is locked by another process", path);
	return LOCK_BUSY;
}

void
lock_mbox_touch(struct mbox_lock *l)
{
	if (l->have_dotlock && utimensat(AT_FDCWD, l->dotlock, NULL,
	    AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("touch %s", l->dotlock);
}

int
lock_session(const char *path, bool *busy_r, char *errstr_r, size_t errlen)
{
	struct stat st;
	int fd;

	*busy_r = false;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		util_seterr(errstr_r, errlen, "session lock %s: %s", path,
		    errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		util_seterr(errstr_r, errlen, "session lock %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		util_seterr(errstr_r, errlen, "session lock %s: not a regular file "
		    "owned by uid %ld", path, (long)geteuid());
		close(fd);
		return -1;
	}
	if (fcntl_lock(fd, F_WRLCK) == -1) {
		if (errno == EAGAIN || errno == EACCES)
			*busy_r = true;
		util_seterr(errstr_r, errlen, "session lock %s: %s", path,
		    *busy_r ? "held by another session" : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
lock_session_release(int fd)
{
	if (fd < 0)
		return;
	(void)fcntl_lock(fd, F_UNLCK);
	close(fd);
}
