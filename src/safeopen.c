/*
 * safeopen.c: confined opening (design.md §1).  A path is resolved without
 * following a symbolic link at any level: by openat2(2) with
 * RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH from a directory fd ("/" for an
 * absolute path) where the kernel has it, else component by component,
 * each one opened O_PATH | O_NOFOLLOW and checked to be a directory before
 * the next is looked up in it, the last one opened O_NOFOLLOW.  Either way
 * nobody who can write a directory on the way can redirect us: a link is
 * refused, never followed, and the reason names it (with its real path,
 * for the administrator to configure).  The checks afterwards (type, owner,
 * st_nlink, writers) are made on the open descriptor, so they judge the
 * very file that is used.  Runs in the root master (state directory,
 * planted dotlocks) and in the session as the mail user.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "safeopen.h"
#include "util.h"

/* Set by the test hook, or once openat2 turned out to be missing. */
static bool	force_walk;
static bool	no_openat2;

void
safeopen_force_walk(bool on)
{
	force_walk = on;
}

/* true if path has a ".." component. */
static bool
has_dotdot(const char *path)
{
	const char *p = path;
	size_t n;

	for (;;) {
		p += strspn(p, "/");
		if (*p == '\0')
			return false;
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
	}
}

/* "where/path", or path alone, for messages. */
static void
shown_path(char *buf, size_t len, const char *where, const char *path)
{
	if (where == NULL || where[0] == '\0')
		(void)snprintf(buf, len, "%s", path);
	else
		(void)snprintf(buf, len, "%s/%s", where, path);
}

/*
 * The reason an open of comp in dfd (shown as `shown`) failed with e: a
 * symbolic link is named with its target and, for an absolute path, the
 * real path an administrator should configure instead.  Returns the errno
 * to report: ELOOP for a link (O_DIRECTORY says ENOTDIR), else e.
 */
static int
reason(int dfd, const char *comp, const char *shown, int e, char *errstr_r,
    size_t errlen)
{
	char target[PARAM_PATH_MAX], real[PATH_MAX];
	struct stat st;
	ssize_t n;

	if ((e == ELOOP || e == ENOTDIR || e == EEXIST || e == EMLINK) &&
	    fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		n = readlinkat(dfd, comp, target, sizeof(target) - 1);
		if (n < 0)
			n = 0;
		target[n] = '\0';
		if (shown[0] == '/' && realpath(shown, real) != NULL)
			util_seterr(errstr_r, errlen, "%s is a symbolic link to "
			    "%s (its real path is %s)", shown, target, real);
		else
			util_seterr(errstr_r, errlen, "%s is a symbolic link to "
			    "%s", shown, target);
		return ELOOP;
	}
	util_seterr(errstr_r, errlen, "%s: %s", shown, strerror(e));
	return e;
}

/* true if the O_PATH fd refers to a symbolic link (O_PATH | O_NOFOLLOW
 * opens the link itself). */
static bool
is_link_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISLNK(st.st_mode);
}

/*
 * openat2 beneath base.  Returns the fd, or -1 with errno (ENOSYS: no
 * openat2 in this kernel).
 */
static int
try_openat2(int base, const char *rel, int flags, mode_t mode)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC);
	/* openat2 insists on a zero mode without O_CREAT / O_TMPFILE. */
	how.mode = (flags & O_CREAT) != 0 ||
	    (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
	fd = syscall(SYS_openat2, base, rel, &how, sizeof(how));
	if (fd >= 0 && (flags & O_PATH) != 0 && is_link_fd((int)fd)) {
		close((int)fd);
		errno = ELOOP;
		return -1;
	}
	return (int)fd;
}

/*
 * The component walk beneath base: every component but the last opened
 * O_PATH | O_NOFOLLOW and checked to be a directory, the last opened with
 * flags | O_NOFOLLOW.  shown0 is what base stands for in messages ("" for
 * "/").  Returns the fd, or -1 with errno and a reason.
 */
static int
walk(int base, const char *shown0, const char *rel, int flags, mode_t mode,
    char *errstr_r, size_t errlen)
{
	char comp[NAME_MAX + 1], shown[PARAM_PATH_MAX];
	const char *p = rel, *next;
	struct stat st;
	size_t n, sl;
	int cur = base, fd = -1, e = 0;
	bool last;

	(void)snprintf(shown, sizeof(shown), "%s", shown0);
	for (;;) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		next = p + n;
		next += strspn(next, "/");
		last = *next == '\0';
		if (n == 0) {
			/* Only for an empty rel: the base itself. */
			n = 1;
			p = ".";
		}
		if (n > NAME_MAX) {
			e = ENAMETOOLONG;
			util_seterr(errstr_r, errlen, "%s/%.*s...: %s", shown,
			    32, p, strerror(e));
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		sl = strlen(shown);
		(void)snprintf(shown + sl, sizeof(shown) - sl, "%s%s",
		    sl > 0 && shown[sl - 1] == '/' ? "" : "/", comp);
		if (last) {
			fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC,
			    mode);
			e = errno;
			if (fd >= 0 && (flags & O_PATH) != 0 && is_link_fd(fd)) {
				close(fd);
				fd = -1;
				e = ELOOP;
			}
			if (fd == -1)
				e = reason(cur, comp, shown, e, errstr_r,
				    errlen);
			break;
		}
		fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 || fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode)) {
			e = fd == -1 ? errno : S_ISLNK(st.st_mode) ? ELOOP :
			    ENOTDIR;
			if (fd != -1)
				close(fd);
			fd = -1;
			e = reason(cur, comp, shown, e, errstr_r, errlen);
			break;
		}
		if (cur != base)
			close(cur);
		cur = fd;
		fd = -1;
		p = next;
	}
	if (cur != base)
		close(cur);
	errno = e;
	return fd;
}

int
safeopen_at(int dirfd, const char *where, const char *path, int flags,
    mode_t mode, char *errstr_r, size_t errlen)
{
	char shown[PARAM_PATH_MAX];
	const char *rel = path;
	int base = dirfd, fd = -1, e;

	shown_path(shown, sizeof(shown), path[0] == '/' ? NULL : where, path);
	if (has_dotdot(path)) {
		util_seterr(errstr_r, errlen, "%s: a \"..\" component is not "
		    "allowed", shown);
		errno = EINVAL;
		return -1;
	}
	if (path[0] == '/') {
		base = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (base == -1) {
			util_seterr(errstr_r, errlen, "/: %s", strerror(errno));
			return -1;
		}
		rel += strspn(rel, "/");
		where = "";
	}
	if (*rel == '\0')
		rel = ".";
	e = ENOSYS;
	if (!force_walk && !no_openat2) {
		fd = try_openat2(base, rel, flags, mode);
		e = errno;
		if (fd == -1 && e == ENOSYS)
			no_openat2 = true;
		else if (fd == -1 && e != ELOOP && e != ENOTDIR)
			util_seterr(errstr_r, errlen, "%s: %s", shown,
			    strerror(e));
	}
	/* No openat2, or a link on the way: the walk names the component
	 * (and opens safely itself if the link went away meanwhile). */
	if (fd == -1 && (e == ENOSYS || e == ELOOP || e == ENOTDIR)) {
		fd = walk(base, where != NULL ? where : ".", rel, flags, mode,
		    errstr_r, errlen);
		e = errno;
	}
	if (base != dirfd)
		close(base);
	errno = e;
	return fd;
}

int
safeopen_parent(const char *path, const char **base_r, char *errstr_r,
    size_t errlen)
{
	char dir[PARAM_PATH_MAX];
	const char *slash = strrchr(path, '/'), *b;
	size_t dl;

	b = slash != NULL ? slash + 1 : path;
	if (path[0] != '/' || *b == '\0' || strcmp(b, ".") == 0 ||
	    strcmp(b, "..") == 0) {
		util_seterr(errstr_r, errlen, "%s: not an absolute path to a "
		    "file", path);
		errno = EINVAL;
		return -1;
	}
	dl = (size_t)(slash - path);
	if (dl == 0)
		dl = 1;				/* "/x": the root */
	if (dl >= sizeof(dir)) {
		util_seterr(errstr_r, errlen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	*base_r = b;
	return safeopen_at(AT_FDCWD, NULL, dir, O_PATH | O_DIRECTORY, 0,
	    errstr_r, errlen);
}

void
safeopen_owner_self(struct safeopen_owner *o, const char *name,
    gid_t mail_gid)
{
	o->name = name;
	o->uid = geteuid();
	o->gid = getgid();
	o->mail_gid = mail_gid;
}

/* Who may write st besides its owner.  Returns 0, or -1 with a reason. */
static int
check_writers(const struct stat *st, const char *path,
    const struct safeopen_owner *o, bool mail_ok, char *errstr_r,
    size_t errlen)
{
	if ((st->st_mode & S_IWOTH) != 0) {
		util_seterr(errstr_r, errlen, "%s is writable by others "
		    "(mode %04o)", path, (unsigned)(st->st_mode & 07777));
		return -1;
	}
	if ((st->st_mode & S_IWGRP) != 0 && st->st_gid != o->gid &&
	    !(mail_ok && o->mail_gid != SAFEOPEN_NO_GID &&
	    st->st_gid == o->mail_gid)) {
		util_seterr(errstr_r, errlen, "%s is writable by group %lu, "
		    "which is %s %s's group (%lu)%s", path,
		    (unsigned long)st->st_gid, mail_ok ? "neither" : "not",
		    o->name, (unsigned long)o->gid,
		    mail_ok ? " nor the mail group" : "");
		return -1;
	}
	return 0;
}

static int
check_owner(const struct stat *st, const char *path,
    const struct safeopen_owner *o, char *errstr_r, size_t errlen)
{
	if (st->st_uid != o->uid) {
		util_seterr(errstr_r, errlen, "%s is owned by uid %lu, not %s "
		    "(uid %lu)", path, (unsigned long)st->st_uid, o->name,
		    (unsigned long)o->uid);
		return -1;
	}
	return 0;
}

int
safeopen_check_file(int fd, const char *path, const struct safeopen_owner *o,
    int how, struct stat *st_r, char *errstr_r, size_t errlen)
{
	if (fstat(fd, st_r) == -1) {
		util_seterr(errstr_r, errlen, "%s: fstat: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st_r->st_mode)) {
		util_seterr(errstr_r, errlen, "%s is %s, not a regular file",
		    path, S_ISDIR(st_r->st_mode) ? "a directory" :
		    "a special file");
		return -1;
	}
	if (st_r->st_nlink != 1) {
		/* A hard link: possibly to another user's file. */
		util_seterr(errstr_r, errlen, "%s has %lu hard links (a file "
		    "of ours has exactly one)", path,
		    (unsigned long)st_r->st_nlink);
		return -1;
	}
	if (check_owner(st_r, path, o, errstr_r, errlen) == -1)
		return -1;
	return check_writers(st_r, path, o, (how & SAFEOPEN_SPOOL) != 0,
	    errstr_r, errlen);
}

int
safeopen_check_dir(int fd, const char *path, const struct safeopen_owner *o,
    struct stat *st_r, char *errstr_r, size_t errlen)
{
	if (fstat(fd, st_r) == -1) {
		util_seterr(errstr_r, errlen, "%s: fstat: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st_r->st_mode)) {
		util_seterr(errstr_r, errlen, "%s is not a directory", path);
		return -1;
	}
	if (check_owner(st_r, path, o, errstr_r, errlen) == -1)
		return -1;
	return check_writers(st_r, path, o, false, errstr_r, errlen);
}
