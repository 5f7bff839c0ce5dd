/*
 * maildrop.c: a user's mbox maildrop for one POP session.  Opening walks
 * the path without following a symbolic link at any level (safeopen.c),
 * checks the file (and a POP2 folder's directory) belongs to the user,
 * takes the session lock - flock() on the maildrop itself - then the short
 * mbox lock (its dotlock relative to the directory fd), completes any
 * committed journal (kept in the user's state directory, never beside the
 * maildrop), bursts the file through one read-only mmap and mbox.c, and
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
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "util.h"
#include "maildrop.h"
#include "mbox.h"
#include "msgio.h"
#include "params.h"
#include "privsep.h"
#include "safeopen.h"

#define MD_ERR_MAX	256	/* internal reasons, logged */
#define MD_JNAME_MAX	64	/* journal_name(): 25 octets */

/* session_memory_max: what a burst may spend on the message table. */
static size_t	maildrop_memory_max = PARAM_SESSION_MEMORY;

void
maildrop_set_memory_max(size_t max_bytes)
{
	maildrop_memory_max = max_bytes;
}

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
	r = mbox_scan_buf_max(map != NULL ? map : "", (size_t)md->size,
	    md->mboxrd, maildrop_memory_max, &md->scan, &bad, err,
	    sizeof(err));
	if (map != NULL)
		(void)munmap(map, (size_t)md->size);
	if (r == MBOX_SCAN_TOOBIG) {
		log_warnx("maildrop %s: too large: messages=%zu "
		    "session_memory_max=%zu (room for %zu messages)", md->path,
		    md->scan.count, maildrop_memory_max,
		    maildrop_memory_max / mbox_scan_bytes(1));
		util_seterr(errstr_r, errlen, "mailbox too large for this "
		    "server (%zu messages); ask your administrator",
		    md->scan.count);
		md->scan.count = 0;
		return MD_PERM;
	}
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

void
maildrop_init(struct maildrop *md)
{
	memset(md, 0, sizeof(*md));
	md->fd = md->dirfd = md->jdirfd = -1;
}

void
maildrop_close(struct maildrop *md)
{
	/* The session lock (flock) belongs to the open file, which the
	 * per-connection master shares: unlock it explicitly, so that it is
	 * free the moment the session lets go of the maildrop (a client that
	 * logs in again right after QUIT), not when the master exits. */
	if (md->fd >= 0) {
		(void)flock(md->fd, LOCK_UN);
		close(md->fd);
	}
	md->fd = -1;
	if (md->dirfd >= 0)
		close(md->dirfd);
	md->dirfd = -1;
	mbox_scan_free(&md->scan);
	free(md->deleted);
	md->deleted = NULL;
	md->ndeleted = 0;
	md->octets = 0;
}

/* The mbox lock of the open maildrop.  Returns LOCK_*. */
static int
md_lock(struct maildrop *md, struct mbox_lock *ml, char *err, size_t errlen)
{
	struct lock_target t;

	t.fd = md->fd;
	t.dirfd = md->dirfd;
	t.dir = md->dir;
	t.name = md->name;
	t.spool = md->spool;
	t.uid = geteuid();
	t.mail_gid = privsep_mail_gid();
	return lock_mbox(ml, &t, &md->lock, err, errlen);
}

/* The journal's name in the state directory.  Returns 0 / -1. */
static int
md_journal(const struct maildrop *md, char *jname, size_t jlen, char *err,
    size_t errlen)
{
	if (md->jdirfd < 0) {
		util_seterr(err, errlen, "no state directory for the journal");
		return -1;
	}
	if (journal_name(md->path, jname, jlen) == -1) {
		util_seterr(err, errlen, "no journal name for %s", md->path);
		return -1;
	}
	return 0;
}

/* MD_PERM for what only an administrator can fix (a symbolic link, a
 * directory, no permission), else MD_TEMP. */
static int
md_open_error(int e)
{
	return e == ELOOP || e == EISDIR || e == ENOTDIR || e == EACCES ||
	    e == EPERM || e == EINVAL || e == ENAMETOOLONG ? MD_PERM : MD_TEMP;
}

/* A missing maildrop: empty, nothing created, no lock needed. */
static int
md_missing(struct maildrop *md, char *errstr_r, size_t errlen)
{
	if (md->dirfd >= 0)
		close(md->dirfd);
	md->dirfd = -1;
	md->deleted = calloc(1, sizeof(*md->deleted));
	if (md->deleted != NULL)
		return MD_OK;
	util_seterr(errstr_r, errlen, "out of memory");
	return MD_TEMP;
}

/*
 * The confined open: the directory (checked for a folder), then the file
 * beneath it, checked.  Returns MD_OK with md->fd >= 0, MD_OK with
 * md->fd == -1 for a missing file, or MD_* with a reason.
 */
static int
md_open_file(struct maildrop *md, bool folder, char *errstr_r,
    size_t errlen)
{
	char why[MD_ERR_MAX + PARAM_PATH_MAX];
	struct safeopen_owner own;
	struct stat dst;
	const char *base;
	int flags = O_RDWR | O_NONBLOCK | O_NOCTTY, e;

	safeopen_owner_self(&own, md->user, privsep_mail_gid());
	md->dirfd = safeopen_parent(md->path, &base, why, sizeof(why));
	if (md->dirfd == -1) {
		if ((e = errno) == ENOENT)
			return md_missing(md, errstr_r, errlen);
		log_warnx("maildrop %s refused: %s", md->path, why);
		goto refused;
	}
	(void)snprintf(md->name, sizeof(md->name), "%s", base);
	(void)snprintf(md->dir, sizeof(md->dir), "%.*s", base - md->path > 1 ?
	    (int)(base - md->path - 1) : 1, md->path);
	if (folder) {
		if (safeopen_check_dir(md->dirfd, md->dir, &own, &dst, why,
		    sizeof(why)) == -1) {
			log_warnx("folder directory refused: %s", why);
			e = EPERM;
			goto refused;
		}
	} else if (fstat(md->dirfd, &dst) == -1) {
		e = errno;
		log_warn("maildrop %s: fstat of its directory", md->path);
		goto refused;
	}
	/* Not the user's directory: a spool, whose dotlocks need the mail
	 * group.  Never for a folder (INTERFACES 5). */
	md->spool = !folder && dst.st_uid != own.uid;

	/* O_NOATIME: only UPDATE decides what the atime says (RMCP).  The
	 * kernel allows it to the owner and to root; else read plainly (and
	 * be refused below: not the user's file). */
	md->fd = safeopen_at(md->dirfd, md->dir, base, flags | O_NOATIME, 0,
	    why, sizeof(why));
	md->noatime = md->fd != -1;
	if (md->fd == -1 && errno == EPERM)
		md->fd = safeopen_at(md->dirfd, md->dir, base, flags, 0, why,
		    sizeof(why));
	if (md->fd == -1) {
		if ((e = errno) == ENOENT)
			return md_missing(md, errstr_r, errlen);
		log_warnx("maildrop %s refused: %s", md->path, why);
		goto refused;
	}
	if (safeopen_check_file(md->fd, md->path, &own, md->spool ?
	    SAFEOPEN_SPOOL : 0, &md->st, why, sizeof(why)) == -1) {
		log_warnx("maildrop refused: %s", why);
		e = EPERM;
		goto refused;
	}
	return MD_OK;
refused:
	util_seterr(errstr_r, errlen, "%s cannot be opened safely; ask your "
	    "administrator", folder ? "this folder" : "the maildrop");
	maildrop_close(md);
	return md_open_error(e);
}

int
maildrop_open_locked(struct maildrop *md, const char *path,
    const struct maildrop_args *a, struct mbox_lock *ml, char *errstr_r,
    size_t errlen)
{
	char err[MD_ERR_MAX];
	int n, r;

	maildrop_init(md);
	md->jdirfd = a->jdirfd;
	md->mboxrd = a->mboxrd;
	if (a->lock != NULL)
		md->lock = *a->lock;
	else
		lock_conf_default(&md->lock);
	(void)snprintf(md->user, sizeof(md->user), "%s", a->user != NULL ?
	    a->user : "the user");
	n = snprintf(md->path, sizeof(md->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(md->path)) {
		log_warnx("maildrop %s: path too long", path);
		util_seterr(errstr_r, errlen, "bad maildrop path");
		return MD_PERM;
	}
	if ((r = md_open_file(md, a->folder, errstr_r, errlen)) != MD_OK ||
	    md->fd == -1)
		return r;

	/* The session lock: on the maildrop itself, so there is nothing to
	 * plant and nothing left behind; MDAs (dotlock + fcntl) go on
	 * delivering, and a master that inherits the fd keeps it. */
	if (flock(md->fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			util_seterr(errstr_r, errlen, "maildrop is in use by "
			    "another session");
			r = MD_INUSE;
		} else {
			log_warn("maildrop %s: flock", path);
			util_seterr(errstr_r, errlen, "cannot lock the maildrop");
			r = MD_TEMP;
		}
		maildrop_close(md);
		return r;
	}

	r = md_lock(md, ml, err, sizeof(err));
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
	return MD_OK;
}

int
maildrop_open(struct maildrop *md, const char *path,
    const struct maildrop_args *a, char *errstr_r, size_t errlen)
{
	char err[MD_ERR_MAX], jname[MD_JNAME_MAX];
	struct mbox_lock ml;
	int r;

	if ((r = maildrop_open_locked(md, path, a, &ml, errstr_r, errlen))
	    != MD_OK || md->fd == -1)
		return r;
	r = md_journal(md, jname, sizeof(jname), err, sizeof(err));
	if (r == 0)
		r = journal_recover(md->fd, md->jdirfd, jname, path, err,
		    sizeof(err));
	if (r == JOURNAL_FOREIGN) {
		log_warnx("maildrop %s: the journal %s in the state directory "
		    "does not explain the maildrop's content: %s; nothing "
		    "written (see pop3d -R %s)", path, jname, err, path);
		util_seterr(errstr_r, errlen, "an interrupted update cannot be "
		    "completed safely: the mailbox was changed by another "
		    "program; ask your administrator (pop3d -R)");
		r = MD_PERM;
	} else if (r == -1) {
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
	char err[MD_ERR_MAX], jname[MD_JNAME_MAX];
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

	r = md_journal(md, jname, sizeof(jname), err, sizeof(err));
	if (r == 0)
		r = journal_rewrite(md->fd, md->jdirfd, jname, md->path, from,
		    ranges, n, st->st_size, err, sizeof(err));
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
	r = md_lock(md, &ml, err, sizeof(err));
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
		if (fstatat(md->dirfd, md->name, &pst, AT_SYMLINK_NOFOLLOW) ==
		    -1 ||
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

void
maildrop_unplant(const char *path, uid_t uid, gid_t mail_gid)
{
	char why[MD_ERR_MAX + PARAM_PATH_MAX], dir[PARAM_PATH_MAX];
	const char *base;
	struct stat st;
	int dfd;

	/* Confined as everything else: root never follows a link here. */
	if ((dfd = safeopen_parent(path, &base, why, sizeof(why))) == -1)
		return;		/* the session says what is wrong */
	if (fstat(dfd, &st) == 0 && st.st_uid != uid) {
		(void)snprintf(dir, sizeof(dir), "%.*s", base - path > 1 ?
		    (int)(base - path - 1) : 1, path);
		(void)lock_unplant(dfd, dir, base, uid, mail_gid);
	}
	close(dfd);
}

/* The fixed directory at the start of template tmpl ("/var/mail" of
 * "/var/mail/%u"), or "" when there is none to check (~/..., "/%u"). */
static void
fixed_dir(const char *tmpl, char *buf, size_t len)
{
	size_t n = strcspn(tmpl, "%");

	buf[0] = '\0';
	if (tmpl[0] != '/')
		return;
	while (n > 0 && tmpl[n - 1] != '/')
		n--;
	if (n > 1)
		(void)snprintf(buf, len, "%.*s", (int)(n - 1), tmpl);
}

/* A symbolic link in the fixed part of template tmpl (the value of key)
 * is an error that names the real path to configure. */
static int
check_fixed(const char *key, const char *tmpl, char *errstr_r,
    size_t errlen)
{
	char dir[PARAM_PATH_MAX], why[MD_ERR_MAX + PARAM_PATH_MAX];
	char real[PATH_MAX];
	int fd, e;

	fixed_dir(tmpl, dir, sizeof(dir));
	if (dir[0] == '\0')
		return 0;
	fd = safeopen_at(AT_FDCWD, NULL, dir, O_PATH | O_DIRECTORY, 0, why,
	    sizeof(why));
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	/* Missing (no mail yet) or not ours to see: judged at login. */
	if ((e = errno) == ENOENT || e == EACCES)
		return 0;
	if (realpath(dir, real) != NULL && strcmp(real, dir) != 0)
		util_seterr(errstr_r, errlen, "%s = %s: %s; sessions never "
		    "follow a symbolic link: configure %s = %s%s", key, tmpl,
		    why, key, real, tmpl + strlen(dir));
	else
		util_seterr(errstr_r, errlen, "%s = %s: %s", key, tmpl, why);
	return -1;
}

int
maildrop_check_conf(const struct conf *c, char *errstr_r, size_t errlen)
{
	if (check_fixed("maildrop", c->maildrop, errstr_r, errlen) == -1 ||
	    check_fixed("pop2_folder_dir", c->pop2_folder_dir, errstr_r,
	    errlen) == -1)
		return -1;
	return privsep_state_dir_check(c, errstr_r, errlen);
}

int
maildrop_recover(struct maildrop *md, char *errstr_r, size_t errlen)
{
	char err[MD_ERR_MAX], jname[MD_JNAME_MAX];
	struct mbox_lock ml;
	int r;

	if (md->fd < 0) {
		/* The session never had a file to rewrite. */
		util_seterr(errstr_r, errlen, "no maildrop file, nothing to "
		    "recover");
		return MD_OK;
	}
	if (md_journal(md, jname, sizeof(jname), err, sizeof(err)) == -1) {
		util_seterr(errstr_r, errlen, "%s", err);
		return MD_TEMP;
	}
	/* The dead session's dotlock names a pid that is gone on this host:
	 * lock.c removes it at once (the caller has reaped that pid). */
	r = md_lock(md, &ml, err, sizeof(err));
	if (r != LOCK_OK) {
		util_seterr(errstr_r, errlen, "%s", r == LOCK_BUSY ?
		    "locked by another program past the lock timeout; the "
		    "next session recovers it" : err);
		return r == LOCK_BUSY ? MD_INUSE : MD_TEMP;
	}
	/* A kill between a dotlock attempt's temp file and its unlink. */
	(void)lock_mbox_sweep(&ml);
	r = journal_recover(md->fd, md->jdirfd, jname, md->path, err,
	    sizeof(err));
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
	case JOURNAL_FOREIGN:
		util_seterr(errstr_r, errlen, "the journal %s in the state "
		    "directory does not explain the maildrop's content: %s; "
		    "nothing written (see pop3d -R %s)", jname, err, md->path);
		return MD_PERM;
	default:
		util_seterr(errstr_r, errlen, "recovery failed: %s", err);
		return MD_TEMP;
	}
}
