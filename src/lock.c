/*
 * lock.c: the mbox lock of design.md §2: an fcntl write lock on the whole
 * mbox plus the NFS-safe <mbox>.lock dotlock (unique temp file, linkat(),
 * link-count check), taken in the configured order by non-blocking
 * attempts with a bounded backoff; an attempt that cannot get every method
 * releases what it got, so a program using the other order never
 * deadlocks with us.  Every dotlock operation is relative to the
 * maildrop's directory fd from the confined walk (openat, linkat,
 * unlinkat, fstatat, never following a link), and the mail group is the
 * effective gid only around creating, linking and unlinking in a spool.
 * Stale dotlocks (a dead pid of this host, or untouched for
 * lock_conf.stale seconds while the fcntl lock is free) are removed after
 * a re-check; a dotlock owned by neither root, the user nor the mail
 * group was planted and is no lock at all.  On a full disk the dotlock is
 * made empty.  Runs in the session process as the mail user; lock_unplant
 * in the root master.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
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
#include "privsep.h"
#include "util.h"
#include "params.h"

/* Backoff between attempts: 10 ms doubling up to 500 ms. */
#define LOCK_BACKOFF_MIN_MS	10
#define LOCK_BACKOFF_MAX_MS	500
/* Longest dotlock content we read: "<pid> <hostname>\n". */
#define LOCK_CONTENT_MAX	(32 + PARAM_CONF_STR)
#define LOCK_HOST_MAX		256
/* Unique temp names tried before giving up. */
#define LOCK_TMP_TRIES		8

/* Result of one non-blocking try of a method. */
#define TRY_OK		0
#define TRY_BUSY	1
#define TRY_ERROR	(-1)

/* What an existing dotlock is to us. */
#define DL_GONE		0	/* vanished meanwhile: try again */
#define DL_BUSY		1	/* someone's lock */
#define DL_STALE	2	/* its owner is gone */
#define DL_PLANTED	3	/* not a lock: planted by an untrusted user */

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
 * Switches the mail group on or off around one dotlock operation in a
 * spool (INTERFACES 5).  Failing to switch it on only makes the operation
 * fail (EACCES); failing to switch it off must not leave the session with
 * it, so that is fatal.
 */
static void
mail_group(const struct mbox_lock *l, bool on)
{
	if (!l->spool)
		return;
	if (privsep_mail_group(on) == -1 && !on)
		fatalx("cannot give up the mail group after a dotlock "
		    "operation");
}

/* true if a dotlock of this owner is a lock we respect. */
static bool
trusted(uid_t uid, gid_t gid, uid_t user, gid_t mail_gid)
{
	return uid == 0 || uid == user || uid == geteuid() ||
	    (mail_gid != (gid_t)-1 && gid == mail_gid);
}

/*
 * The group that vouches for a dotlock's maker in directory dirfd: the
 * mail group, unless the directory is set-gid to it - then every file
 * made there has that group (a 3777 root:mail spool), whoever made it.
 */
static gid_t
trust_gid(int dirfd, gid_t mail_gid)
{
	struct stat st;

	if (mail_gid == (gid_t)-1 || (fstat(dirfd, &st) == 0 &&
	    (st.st_mode & S_ISGID) != 0 && st.st_gid == mail_gid))
		return (gid_t)-1;
	return mail_gid;
}

/*
 * Looks at the dotlock: its stat into st (never following a link) and, if
 * it is a regular file we may read, its content into buf ("" otherwise).
 * Returns 0, or -1 if there is none.
 */
static int
read_dotlock(const struct mbox_lock *l, char *buf, size_t len,
    struct stat *st)
{
	struct stat fst;
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if (fstatat(l->dirfd, l->dotlock, st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISREG(st->st_mode))
		return 0;
	fd = openat(l->dirfd, l->dotlock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return 0;		/* mode 0, say: judged by its stat */
	if (fstat(fd, &fst) == 0 && fst.st_dev == st->st_dev &&
	    fst.st_ino == st->st_ino) {
		n = read(fd, buf, len - 1);
		buf[n > 0 ? n : 0] = '\0';
		*st = fst;
	}
	close(fd);
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
 * What the existing dotlock is (its stat in *st_r).  Planted: owned by
 * neither root, the user nor the mail group.  Stale: a lock naming this
 * host and a pid that no longer exists, or any lock untouched for
 * c->stale seconds when the fcntl lock on the mbox is ours or free (its
 * owner, if it takes both locks, is gone).
 */
static int
judge_dotlock(struct mbox_lock *l, const struct lock_conf *c,
    struct stat *st_r)
{
	char buf[LOCK_CONTENT_MAX], host[LOCK_HOST_MAX];
	char myhost[LOCK_HOST_MAX];
	pid_t pid;
	time_t now;

	if (read_dotlock(l, buf, sizeof(buf), st_r) == -1)
		return DL_GONE;
	if (!trusted(st_r->st_uid, st_r->st_gid, l->uid, l->mail_gid))
		return DL_PLANTED;
	if (!S_ISREG(st_r->st_mode))
		return DL_BUSY;
	pid = parse_owner(buf, host, sizeof(host));
	if (pid > 0 && pid != getpid()) {
		host_name(myhost, sizeof(myhost));
		if (strcmp(host, myhost) == 0 && kill(pid, 0) == -1 &&
		    errno == ESRCH)
			return DL_STALE;
	}
	now = time(NULL);
	if (c->stale > 0 && now - st_r->st_mtime > (time_t)c->stale &&
	    (l->have_fcntl || fcntl_free(l->fd)))
		return DL_STALE;
	return DL_BUSY;
}

/*
 * Removes the dotlock judged as `judged`, unless it was replaced in the
 * meantime (another process removed it and took a fresh one).  Returns
 * 0, or -1 with errno (EPERM, EACCES: not ours to remove).
 */
static int
remove_judged(struct mbox_lock *l, const struct stat *judged)
{
	struct stat st;
	int r, e;

	if (fstatat(l->dirfd, l->dotlock, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (st.st_dev != judged->st_dev || st.st_ino != judged->st_ino ||
	    st.st_mtime != judged->st_mtime || st.st_size != judged->st_size)
		return 0;
	mail_group(l, true);
	r = unlinkat(l->dirfd, l->dotlock, 0);
	e = errno;
	mail_group(l, false);
	errno = e;
	return r == -1 && e != ENOENT ? -1 : 0;
}

/*
 * An existing dotlock stands in our way (just seen by a failed link or
 * O_EXCL create).  Returns TRY_OK to try again at once, TRY_BUSY, or
 * TRY_OK with l->planted set: go on with the fcntl lock alone.
 */
static int
existing_dotlock(struct mbox_lock *l, const struct lock_conf *c)
{
	struct stat st;
	int e;

	switch (judge_dotlock(l, c, &st)) {
	case DL_GONE:
		return TRY_OK;
	case DL_STALE:
		if (remove_judged(l, &st) == 0) {
			log_warnx("removed stale dotlock %s", l->shown);
			return TRY_OK;
		}
		log_warn("cannot remove stale dotlock %s", l->shown);
		return TRY_BUSY;
	case DL_PLANTED:
		if (remove_judged(l, &st) == 0) {
			log_warnx("removed dotlock %s planted by uid %lu (gid "
			    "%lu): not a lock of the user, root or the mail "
			    "group", l->shown, (unsigned long)st.st_uid,
			    (unsigned long)st.st_gid);
			return TRY_OK;
		}
		e = errno;
		if (c->order[0] == LOCK_FCNTL || c->order[1] == LOCK_FCNTL) {
			/* It keeps every dotlock user out as well as ours
			 * would; the fcntl lock keeps out the rest. */
			log_warnx("dotlock %s was planted by uid %lu and cannot "
			    "be removed (%s); locking with fcntl alone",
			    l->shown, (unsigned long)st.st_uid, strerror(e));
			l->planted = true;
			return TRY_OK;
		}
		log_warnx("dotlock %s was planted by uid %lu and cannot be "
		    "removed (%s)", l->shown, (unsigned long)st.st_uid,
		    strerror(e));
		return TRY_BUSY;
	default:
		return TRY_BUSY;
	}
}

/* Records the dotlock just made (fd: it, or its temp link). */
static void
took_dotlock(struct mbox_lock *l, const struct stat *st, bool empty)
{
	l->have_dotlock = true;
	l->empty_dotlock = empty;
	l->lock_dev = st->st_dev;
	l->lock_ino = st->st_ino;
}

/*
 * The disk is full: an empty dotlock made directly with O_CREAT | O_EXCL
 * (atomic on local file systems), so that users can still read and
 * delete mail.  Judged stale by its age alone.
 */
static int
try_empty_dotlock(struct mbox_lock *l, const struct lock_conf *c,
    char *errstr_r, size_t errlen)
{
	struct stat st;
	int fd, e, tries;

	for (tries = 0; tries < 2; tries++) {
		mail_group(l, true);
		fd = openat(l->dirfd, l->dotlock, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
		e = errno;
		mail_group(l, false);
		if (fd != -1) {
			if (fstat(fd, &st) == -1)
				memset(&st, 0, sizeof(st));
			close(fd);
			took_dotlock(l, &st, true);
			log_warnx("no room for the content of dotlock %s: made "
			    "it empty", l->shown);
			return TRY_OK;
		}
		if (e != EEXIST) {
			util_seterr(errstr_r, errlen, "dotlock: create %s: %s",
			    l->shown, strerror(e));
			return TRY_ERROR;
		}
		if (existing_dotlock(l, c) != TRY_OK)
			return TRY_BUSY;
		if (l->planted)
			return TRY_OK;
	}
	return TRY_BUSY;
}

static bool
full_disk(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

/* Creates the unique temp file with content; its name into tmp.  Returns
 * TRY_OK (fd closed), TRY_BUSY for "disk full" (nothing left), or
 * TRY_ERROR. */
static int
make_temp(struct mbox_lock *l, const char *host, const char *content,
    size_t clen, char *tmp, size_t tmplen, char *errstr_r, size_t errlen)
{
	int fd = -1, e = 0, r, tries;
	ssize_t w;

	for (tries = 0; tries < LOCK_TMP_TRIES && fd == -1; tries++) {
		r = snprintf(tmp, tmplen, "%s.%s.%ld.%08lx", l->dotlock, host,
		    (long)getpid(), (unsigned long)random());
		if (r < 0 || (size_t)r >= tmplen) {
			util_seterr(errstr_r, errlen, "dotlock: name too long");
			return TRY_ERROR;
		}
		mail_group(l, true);
		fd = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
		e = errno;
		mail_group(l, false);
		if (fd == -1 && e != EEXIST)
			break;
	}
	if (fd == -1) {
		if (full_disk(e))
			return TRY_BUSY;
		util_seterr(errstr_r, errlen, "dotlock: create %s/%s: %s",
		    l->shown[0] != '\0' ? l->shown : ".", tmp, strerror(e));
		return TRY_ERROR;
	}
	w = write(fd, content, clen);
	e = errno;
	if (close(fd) == -1 && w == (ssize_t)clen) {
		w = -1;
		e = errno;
	}
	if (w == (ssize_t)clen)
		return TRY_OK;
	mail_group(l, true);
	(void)unlinkat(l->dirfd, tmp, 0);
	mail_group(l, false);
	if (w >= 0 || full_disk(e))
		return TRY_BUSY;	/* a short write: no room */
	util_seterr(errstr_r, errlen, "dotlock: write %s: %s", tmp,
	    strerror(e));
	return TRY_ERROR;
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
	char tmp[NAME_MAX + 1], host[LOCK_HOST_MAX];
	char content[LOCK_CONTENT_MAX];
	struct stat st;
	int n, r, link_errno, tries;

	host_name(host, sizeof(host));
	n = snprintf(content, sizeof(content), "%ld %s\n", (long)getpid(),
	    host);
	if (n < 0 || (size_t)n >= sizeof(content)) {
		util_seterr(errstr_r, errlen, "dotlock: host name too long");
		return TRY_ERROR;
	}
	r = make_temp(l, host, content, (size_t)n, tmp, sizeof(tmp), errstr_r,
	    errlen);
	if (r == TRY_BUSY)
		return try_empty_dotlock(l, c, errstr_r, errlen);
	if (r == TRY_ERROR)
		return TRY_ERROR;

	for (tries = 0; tries < 2; tries++) {
		mail_group(l, true);
		r = linkat(l->dirfd, tmp, l->dirfd, l->dotlock, 0);
		link_errno = errno;
		mail_group(l, false);
		if (fstatat(l->dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_nlink == 2) {
			took_dotlock(l, &st, false);
			break;
		}
		if (r == 0 || link_errno != EEXIST) {
			util_seterr(errstr_r, errlen, "dotlock: link %s: %s",
			    l->shown, r == 0 ? "link count not 2" :
			    strerror(link_errno));
			break;
		}
		/* Held by someone: if stale, remove it and try once more. */
		if (tries > 0 || existing_dotlock(l, c) != TRY_OK ||
		    l->planted)
			break;
	}
	mail_group(l, true);
	(void)unlinkat(l->dirfd, tmp, 0);
	mail_group(l, false);
	if (l->have_dotlock || l->planted)
		return TRY_OK;
	return r == 0 || link_errno != EEXIST ? TRY_ERROR : TRY_BUSY;
}

/* Releases the dotlock if it is still ours (it may have been judged stale
 * and replaced by someone else, whose lock we must not remove). */
static void
release_dotlock(struct mbox_lock *l)
{
	char buf[LOCK_CONTENT_MAX], host[LOCK_HOST_MAX], myhost[LOCK_HOST_MAX];
	struct stat st;
	bool ours;
	pid_t pid;
	int r, e;

	l->planted = false;
	if (!l->have_dotlock)
		return;
	l->have_dotlock = false;
	if (read_dotlock(l, buf, sizeof(buf), &st) == -1) {
		log_warnx("dotlock %s vanished while held", l->shown);
		return;
	}
	ours = st.st_dev == l->lock_dev && st.st_ino == l->lock_ino;
	if (ours && !l->empty_dotlock) {
		pid = parse_owner(buf, host, sizeof(host));
		host_name(myhost, sizeof(myhost));
		ours = pid == getpid() && strcmp(host, myhost) == 0;
	}
	if (!ours) {
		log_warnx("dotlock %s was taken over while held", l->shown);
		return;
	}
	mail_group(l, true);
	r = unlinkat(l->dirfd, l->dotlock, 0);
	e = errno;
	mail_group(l, false);
	if (r == -1)
		log_warnx("unlink %s: %s", l->shown, strerror(e));
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

/* l's names: "<name>.lock" and its path for messages. */
static int
lock_names(struct mbox_lock *l, const struct lock_target *t)
{
	int n;

	n = snprintf(l->dotlock, sizeof(l->dotlock), "%s.lock", t->name);
	if (n < 0 || (size_t)n >= sizeof(l->dotlock) || t->name[0] == '\0' ||
	    strchr(t->name, '/') != NULL)
		return -1;
	(void)snprintf(l->shown, sizeof(l->shown), "%s%s%s",
	    t->dir != NULL ? t->dir : "", t->dir != NULL &&
	    strcmp(t->dir, "/") != 0 ? "/" : "", l->dotlock);
	return 0;
}

int
lock_mbox(struct mbox_lock *l, const struct lock_target *t,
    const struct lock_conf *c, char *errstr_r, size_t errlen)
{
	static bool seeded;
	int64_t deadline, left, backoff = LOCK_BACKOFF_MIN_MS;
	int i, r;

	memset(l, 0, sizeof(*l));
	l->fd = t->fd;
	l->dirfd = t->dirfd;
	l->spool = t->spool;
	l->uid = t->uid;
	l->mail_gid = trust_gid(t->dirfd, t->mail_gid);
	l->order[0] = c->order[0];
	l->order[1] = c->order[1];
	if (lock_names(l, t) == -1) {
		util_seterr(errstr_r, errlen, "mbox name too long for a "
		    "dotlock");
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
	util_seterr(errstr_r, errlen, "%s is locked by another process",
	    l->shown);
	return LOCK_BUSY;
}

void
lock_mbox_touch(struct mbox_lock *l)
{
	if (l->have_dotlock && utimensat(l->dirfd, l->dotlock, NULL,
	    AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("touch %s", l->shown);
}

int
lock_unplant(int dirfd, const char *dir, const char *name, uid_t uid,
    gid_t mail_gid)
{
	char dotlock[NAME_MAX + 1];
	struct stat st;
	int n;

	n = snprintf(dotlock, sizeof(dotlock), "%s.lock", name);
	if (n < 0 || (size_t)n >= sizeof(dotlock))
		return 0;
	if (fstatat(dirfd, dotlock, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (trusted(st.st_uid, st.st_gid, uid, trust_gid(dirfd, mail_gid)))
		return 0;
	/* Only this name, in this directory (the fd, not a path): the worst
	 * a racing planter can make us remove is its own next file. */
	if (unlinkat(dirfd, dotlock, 0) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("cannot remove dotlock %s/%s planted by uid %lu", dir,
		    dotlock, (unsigned long)st.st_uid);
		return -1;
	}
	log_warnx("removed dotlock %s/%s planted by uid %lu (gid %lu): not a "
	    "lock of the user, root or the mail group", dir, dotlock,
	    (unsigned long)st.st_uid, (unsigned long)st.st_gid);
	return 1;
}

/* The pid in a temp name "<dotlock>.<host>.<pid>.<8 hex>" of ours, or -1. */
static pid_t
temp_owner(const char *name, const char *prefix, size_t plen)
{
	const char *p = name + plen;
	long long v = 0;
	size_t i;

	if (strncmp(name, prefix, plen) != 0 || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > INT32_MAX)
			return -1;
	if (*p++ != '.' || v <= 0)
		return -1;
	for (i = 0; i < 8; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return -1;
	return p[8] == '\0' ? (pid_t)v : -1;
}

int
lock_mbox_sweep(struct mbox_lock *l)
{
	char prefix[NAME_MAX + 1], host[LOCK_HOST_MAX];
	struct dirent *e;
	struct stat st;
	size_t plen;
	pid_t pid;
	DIR *d;
	int fd, n = 0, r;

	host_name(host, sizeof(host));
	r = snprintf(prefix, sizeof(prefix), "%s.%s.", l->dotlock, host);
	if (r < 0 || (size_t)r >= sizeof(prefix))
		return 0;
	plen = (size_t)r;
	fd = openat(l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;	/* unreadable: the files only take room */
	}
	while ((e = readdir(d)) != NULL) {
		pid = temp_owner(e->d_name, prefix, plen);
		if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		/* Made by a session of this user: never anyone else's. */
		if (fstatat(l->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		mail_group(l, true);
		r = unlinkat(l->dirfd, e->d_name, 0);
		mail_group(l, false);
		if (r == 0) {
			log_warnx("removed %s, a temp file of dotlock %s left "
			    "by dead pid %ld", e->d_name, l->shown, (long)pid);
			n++;
		}
	}
	closedir(d);
	return n;
}
