/*
 * maildrop.c: a user's mbox maildrop for one POP session.  Opening takes
 * the session lock, then the short mbox lock, completes any committed
 * journal, bursts the file through one read-only mmap and mbox.c, and
 * releases the mbox lock again so that mail keeps being delivered.
 * Messages are streamed by pread() in large chunks through msgio.c.
 * UPDATE retakes the mbox lock, checks that the file still holds the burst
 * messages, removes the deleted ones through journal.c (keeping mail that
 * arrived during the session), keeps mode, owner and group, and sets the
 * times that RMCP and biff read: a session that read mail leaves the box
 * "old" (atime now), mail delivered later makes it "new" (mtime after
 * atime).  Runs in the session process as the mail user (never root).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "lock.h"
#include "log.h"
#include "util.h"
#include "maildrop.h"
#include "mbox.h"
#include "msgio.h"
#include "params.h"

#define MD_ERR_MAX	256	/* internal reasons, logged */

/* Appends s[0, n) to buf at *o; -1 if it does not fit. */
static int
put(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
	if (n >= len - *o)
		return -1;
	memcpy(buf + *o, s, n);
	*o += n;
	buf[*o] = '\0';
	return 0;
}

int
maildrop_expand(const char *tmpl, const char *user, const char *home,
    char *buf, size_t len)
{
	const char *p = tmpl;
	size_t o = 0, hl;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (p[0] == '~') {
		if (p[1] != '/' || home == NULL || home[0] != '/')
			return -1;
		hl = strlen(home);
		while (hl > 0 && home[hl - 1] == '/')
			hl--;		/* "/home/joe/" + "/Mail" */
		if (put(buf, len, &o, home, hl) == -1)
			return -1;
		p++;
	}
	for (; *p != '\0'; p++) {
		if (*p != '%') {
			if (put(buf, len, &o, p, 1) == -1)
				return -1;
			continue;
		}
		p++;
		if (*p == '%') {
			if (put(buf, len, &o, "%", 1) == -1)
				return -1;
		} else if (*p == 'u') {
			/* Validated by the caller; never a path step here. */
			if (user == NULL || *user == '\0' ||
			    strchr(user, '/') != NULL ||
			    strcmp(user, ".") == 0 || strcmp(user, "..") == 0)
				return -1;
			if (put(buf, len, &o, user, strlen(user)) == -1)
				return -1;
		} else
			return -1;	/* unknown escape, or a final % */
	}
	return buf[0] == '/' ? 0 : -1;
}

int
maildrop_session_lock_path(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/'), *base;
	int n;

	base = slash != NULL ? slash + 1 : path;
	if (*base == '\0')
		return -1;
	if (slash != NULL)
		n = snprintf(buf, len, "%.*s/.%s.pop", (int)(slash - path),
		    path, base);
	else
		n = snprintf(buf, len, ".%s.pop", base);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

void
maildrop_close(struct maildrop *md)
{
	if (md->fd >= 0)
		close(md->fd);
	md->fd = -1;
	if (md->session_fd >= 0)
		lock_session_release(md->session_fd);
	md->session_fd = -1;
	mbox_scan_free(&md->scan);
	free(md->deleted);
	md->deleted = NULL;
	md->ndeleted = 0;
	md->octets = 0;
}

/* Bursts the open, mbox-locked maildrop.  Returns MD_*. */
static int
burst(struct maildrop *md, char *errstr_r, size_t errlen)
{
	char err[MD_ERR_MAX];
	void *map = NULL;
	off_t bad = -1;
	size_t i;
	int r;

	if (fstat(md->fd, &md->st) == -1) {
		log_warn("maildrop %s: fstat", md->path);
		util_seterr(errstr_r, errlen, "cannot read the maildrop");
		return MD_TEMP;
	}
	md->size = md->st.st_size;
	if ((uintmax_t)md->size > SIZE_MAX) {
		log_warnx("maildrop %s: too large to map", md->path);
		util_seterr(errstr_r, errlen, "maildrop too large");
		return MD_PERM;
	}
	if (md->size > 0) {
		map = mmap(NULL, (size_t)md->size, PROT_READ, MAP_SHARED,
		    md->fd, 0);
		if (map == MAP_FAILED) {
			log_warn("maildrop %s: mmap", md->path);
			util_seterr(errstr_r, errlen, "cannot read the maildrop");
			return MD_TEMP;
		}
	}
	err[0] = '\0';
	r = mbox_scan_buf(map != NULL ? map : "", (size_t)md->size,
	    md->mboxrd, &md->scan, &bad, err, sizeof(err));
	if (map != NULL)
		(void)munmap(map, (size_t)md->size);
	if (r == -1) {
		if (bad >= 0) {
			log_warnx("maildrop %s: damaged at offset %lld: %s",
			    md->path, (long long)bad, err);
			util_seterr(errstr_r, errlen, "mailbox is damaged at "
			    "offset %lld; ask your administrator",
			    (long long)bad);
			return MD_PERM;
		}
		log_warnx("maildrop %s: %s", md->path, err);
		util_seterr(errstr_r, errlen, "cannot read the maildrop");
		return MD_TEMP;
	}
	md->deleted = calloc(md->scan.count > 0 ? md->scan.count : 1,
	    sizeof(*md->deleted));
	if (md->deleted == NULL) {
		log_warnx("maildrop %s: out of memory", md->path);
		util_seterr(errstr_r, errlen, "out of memory");
		return MD_TEMP;
	}
	for (i = 0; i < md->scan.count; i++)
		md->octets += md->scan.msgs[i].octets;
	return MD_OK;
}

int
maildrop_open(struct maildrop *md, const char *path,
    const struct lock_conf *lc, bool mboxrd, char *errstr_r, size_t errlen)
{
	char lpath[PARAM_PATH_MAX], err[MD_ERR_MAX];
	struct mbox_lock ml;
	bool busy;
	int n, r;

	memset(md, 0, sizeof(*md));
	md->fd = md->session_fd = -1;
	md->mboxrd = mboxrd;
	if (lc != NULL)
		md->lock = *lc;
	else
		lock_conf_default(&md->lock);
	n = snprintf(md->path, sizeof(md->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(md->path) ||
	    maildrop_session_lock_path(path, lpath, sizeof(lpath)) == -1) {
		log_warnx("maildrop %s: bad path", path);
		util_seterr(errstr_r, errlen, "bad maildrop path");
		return MD_PERM;
	}

	md->session_fd = lock_session(lpath, &busy, err, sizeof(err));
	if (md->session_fd == -1) {
		if (busy) {
			util_seterr(errstr_r, errlen, "maildrop is in use by "
			    "another session");
			return MD_INUSE;
		}
		log_warnx("maildrop %s: %s", path, err);
		util_seterr(errstr_r, errlen, "cannot lock the maildrop");
		return MD_TEMP;
	}

	/* O_NOATIME: only UPDATE decides what the atime says (RMCP).  The
	 * kernel allows it to the owner and to root; else read plainly. */
	md->fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOATIME);
	md->noatime = md->fd != -1;
	if (md->fd == -1 && errno == EPERM)
		md->fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (md->fd == -1) {
		if (errno == ENOENT) {
			/* No file is an empty maildrop; none is created. */
			md->deleted = calloc(1, sizeof(*md->deleted));
			if (md->deleted != NULL)
				return MD_OK;
			util_seterr(errstr_r, errlen, "out of memory");
			r = MD_TEMP;
		} else {
			n = errno;
			log_warn("maildrop %s: open", path);
			util_seterr(errstr_r, errlen, "cannot open the maildrop");
			/* A symlink, a directory, no permission: only an
			 * administrator can fix these. */
			r = n == ELOOP || n == EISDIR || n == ENOTDIR ||
			    n == EACCES || n == EPERM ? MD_PERM : MD_TEMP;
		}
		maildrop_close(md);
		return r;
	}
	if (fstat(md->fd, &md->st) == -1 || !S_ISREG(md->st.st_mode)) {
		log_warnx("maildrop %s: not a regular file", path);
		util_seterr(errstr_r, errlen, "maildrop is not a regular file");
		maildrop_close(md);
		return MD_PERM;
	}

	r = lock_mbox(&ml, md->fd, path, &md->lock, err, sizeof(err));
	if (r != LOCK_OK) {
		if (r == LOCK_BUSY) {
			util_seterr(errstr_r, errlen, "maildrop is locked by "
			    "another program");
			r = MD_INUSE;
		} else {
			log_warnx("maildrop %s: %s", path, err);
			util_seterr(errstr_r, errlen, "cannot lock the maildrop");
			r = MD_TEMP;
		}
		maildrop_close(md);
		return r;
	}
	r = journal_recover(md->fd, path, err, sizeof(err));
	if (r == -1) {
		log_warnx("maildrop %s: recovery failed: %s", path, err);
		util_seterr(errstr_r, errlen, "an unfinished update of the "
		    "maildrop could not be completed");
		r = MD_TEMP;
	} else {
		if (r == 1)
			log_notice("maildrop %s: completed an interrupted "
			    "update", path);
		r = burst(md, errstr_r, errlen);
	}
	lock_mbox_release(&ml);
	if (r != MD_OK)
		maildrop_close(md);
	return r;
}

int
maildrop_stream(struct maildrop *md, size_t idx, bool dotstuff,
    int64_t body_limit, msgio_sink sink, void *arg)
{
	const struct mbox_msg *msg;
	struct msgio *m;
	char *buf;
	off_t pos;
	size_t want;
	ssize_t n;
	int r = -1;

	if (md->fd < 0 || idx >= md->scan.count)
		return -1;
	msg = &md->scan.msgs[idx];
	m = malloc(sizeof(*m));
	buf = malloc(PARAM_READ_CHUNK);
	if (m == NULL || buf == NULL)
		goto out;
	msgio_init(m, dotstuff, md->mboxrd, body_limit, sink, arg);
	for (pos = msg->hdr; pos < msg->end && !m->done; pos += n) {
		want = (size_t)(msg->end - pos) < PARAM_READ_CHUNK ?
		    (size_t)(msg->end - pos) : PARAM_READ_CHUNK;
		n = pread(md->fd, buf, want, pos);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			/* The file shrank under us, or a read error. */
			log_warnx("maildrop %s: short read at offset %lld",
			    md->path, (long long)pos);
			goto out;
		}
		if (msgio_feed(m, buf, (size_t)n) == -1)
			goto out;
	}
	if (msgio_finish(m) == -1)
		goto out;
	r = 0;
out:
	free(buf);
	free(m);
	return r;
}

/* true if every burst message's From_ line is still where it was. */
static bool
separators_unchanged(const struct maildrop *md)
{
	const struct mbox_msg *msg;
	const char *map;
	size_t i;
	bool ok = true;

	if (md->scan.count == 0)
		return true;
	map = mmap(NULL, (size_t)md->size, PROT_READ, MAP_SHARED, md->fd, 0);
	if (map == MAP_FAILED) {
		log_warn("maildrop %s: mmap", md->path);
		return false;
	}
	for (i = 0; i < md->scan.count && ok; i++) {
		msg = &md->scan.msgs[i];
		ok = msg->hdr <= md->size && mbox_sephash(map + msg->off,
		    (size_t)(msg->hdr - msg->off)) == msg->sephash;
	}
	(void)munmap((void *)(uintptr_t)map, (size_t)md->size);
	return ok;
}

/* Appends [off, off + len) to ranges, merging with an adjacent last one. */
static void
add_range(struct journal_range *r, size_t *n, off_t off, off_t len)
{
	if (len == 0)
		return;
	if (*n > 0 && r[*n - 1].off + r[*n - 1].len == off) {
		r[*n - 1].len += len;
		return;
	}
	r[*n].off = off;
	r[*n].len = len;
	(*n)++;
}

/*
 * Removes the deleted messages of the locked maildrop (current stat st).
 * Returns MD_*.
 */
static int
remove_deleted(struct maildrop *md, const struct stat *st, char *errstr_r,
    size_t errlen)
{
	const struct mbox_msg *msgs = md->scan.msgs;
	struct journal_range *ranges;
	char err[MD_ERR_MAX];
	size_t first, i, n = 0;
	off_t from;
	int r;

	for (first = 0; first < md->scan.count; first++)
		if (md->deleted[first])
			break;
	if (first == md->scan.count)
		return MD_OK;
	from = msgs[first].off;
	ranges = calloc(md->scan.count - first + 1, sizeof(*ranges));
	if (ranges == NULL) {
		util_seterr(errstr_r, errlen, "out of memory; nothing deleted");
		return MD_TEMP;
	}
	for (i = first + 1; i < md->scan.count; i++)
		if (!md->deleted[i])
			add_range(ranges, &n, msgs[i].off,
			    msgs[i].next - msgs[i].off);
	/* Mail delivered during the session. */
	add_range(ranges, &n, md->size, st->st_size - md->size);

	r = journal_rewrite(md->fd, md->path, from, ranges, n, st->st_size,
	    err, sizeof(err));
	free(ranges);
	if (r == -1) {
		log_warnx("maildrop %s: update failed: %s", md->path, err);
		if (strstr(err, "ENOSPC") != NULL ||
		    strstr(err, "EDQUOT") != NULL)
			util_seterr(errstr_r, errlen, "disk full, messages not "
			    "deleted");
		else
			util_seterr(errstr_r, errlen, "could not update the "
			    "maildrop; try again later");
		return MD_TEMP;
	}
	return MD_OK;
}

/* Mode bits (the owner-execute bit is RMCP consent), owner and group as
 * they were before the rewrite. */
static void
keep_attributes(const struct maildrop *md, const struct stat *before)
{
	struct stat st;

	if (fstat(md->fd, &st) == -1) {
		log_warn("maildrop %s: fstat", md->path);
		return;
	}
	if ((st.st_uid != before->st_uid || st.st_gid != before->st_gid) &&
	    fchown(md->fd, before->st_uid, before->st_gid) == -1)
		log_warn("maildrop %s: fchown", md->path);
	if ((st.st_mode & 07777) != (before->st_mode & 07777) &&
	    fchmod(md->fd, before->st_mode & 07777) == -1)
		log_warn("maildrop %s: fchmod", md->path);
}

int
maildrop_update(struct maildrop *md, char *errstr_r, size_t errlen)
{
	char err[MD_ERR_MAX];
	struct mbox_lock ml;
	struct stat st, pst;
	struct timespec ts[2];
	int r;

	if (md->fd < 0)
		return MD_OK;		/* no file: nothing to do */
	r = lock_mbox(&ml, md->fd, md->path, &md->lock, err, sizeof(err));
	if (r != LOCK_OK) {
		if (r == LOCK_BUSY) {
			util_seterr(errstr_r, errlen, "maildrop is locked by "
			    "another program; nothing deleted");
			return MD_INUSE;
		}
		log_warnx("maildrop %s: %s", md->path, err);
		util_seterr(errstr_r, errlen, "cannot lock the maildrop; nothing "
		    "deleted");
		return MD_TEMP;
	}
	if (fstat(md->fd, &st) == -1) {
		log_warn("maildrop %s: fstat", md->path);
		util_seterr(errstr_r, errlen, "cannot read the maildrop; nothing "
		    "deleted");
		r = MD_TEMP;
		goto out;
	}
	r = MD_OK;
	if (md->ndeleted > 0) {
		/* The same file (not replaced), not shorter, and every
		 * message still starting where the burst saw it. */
		if (lstat(md->path, &pst) == -1 ||
		    pst.st_dev != md->st.st_dev ||
		    pst.st_ino != md->st.st_ino ||
		    st.st_size < md->size || !separators_unchanged(md)) {
			log_warnx("maildrop %s: changed by another program "
			    "during the session; nothing deleted", md->path);
			util_seterr(errstr_r, errlen, "maildrop was changed by "
			    "another program; nothing deleted");
			r = MD_TEMP;
			goto out;
		}
		lock_mbox_touch(&ml);
		r = remove_deleted(md, &st, errstr_r, errlen);
		keep_attributes(md, &st);
		if (r != MD_OK)
			goto out;
		/* The offsets no longer describe the file. */
		mbox_scan_free(&md->scan);
		md->ndeleted = 0;
		md->octets = 0;
	}
	/* mtime as it was before our rewrite (the last delivery).  A session
	 * that read mail makes the box "old" to RMCP and biff: atime now.
	 * One that did not leaves the atime as it was (O_NOATIME kept our
	 * reads from moving it; without it, as the burst found it).  Mail
	 * that arrived during the session was not shown: the box must still
	 * read as "new", so the last read stays before that delivery. */
	ts[1] = st.st_mtim;
	if (md->read_mail) {
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_NOW;
	} else
		ts[0] = md->noatime ? st.st_atim : md->st.st_atim;
	if (st.st_size > md->size && (md->read_mail ||
	    ts[0].tv_sec >= st.st_mtim.tv_sec)) {
		ts[0] = st.st_mtim;
		ts[0].tv_sec--;
	}
	if (futimens(md->fd, ts) == -1)
		log_warn("maildrop %s: futimens", md->path);
out:
	lock_mbox_release(&ml);
	return r;
}

int
maildrop_recover(struct maildrop *md, char *errstr_r, size_t errlen)
{
	char err[MD_ERR_MAX];
	struct mbox_lock ml;
	int r;

	if (md->fd < 0) {
		/* The session never had a file to rewrite. */
		util_seterr(errstr_r, errlen, "no maildrop file, nothing to "
		    "recover");
		return MD_OK;
	}
	/* The dead session's dotlock names a pid that is gone on this host:
	 * lock.c removes it at once (the caller has reaped that pid). */
	r = lock_mbox(&ml, md->fd, md->path, &md->lock, err, sizeof(err));
	if (r != LOCK_OK) {
		util_seterr(errstr_r, errlen, "%s", r == LOCK_BUSY ?
		    "locked by another program past the lock timeout; the "
		    "next session recovers it" : err);
		return r == LOCK_BUSY ? MD_INUSE : MD_TEMP;
	}
	r = journal_recover(md->fd, md->path, err, sizeof(err));
	lock_mbox_release(&ml);
	switch (r) {
	case 1:
		util_seterr(errstr_r, errlen, "completed the interrupted "
		    "update");
		return MD_OK;
	case 0:
		util_seterr(errstr_r, errlen, "no committed update to "
		    "complete; lock released");
		return MD_OK;
	default:
		util_seterr(errstr_r, errlen, "recovery failed: %s", err);
		return MD_TEMP;
	}
}
