/*
 * rmcpd_db.c: the users and secrets rmcpd knows, as one in-memory table
 * each, so that answering a poll costs the same lookup for every name and
 * needs no file (the responder's sandbox allows no open; an NSS look-up
 * per poll also made unknown names 50 us slower than known ones).  The
 * user table merges the databases of userdb in order, the first that
 * knows a name deciding, as pop3d does: the passwd-file
 * ("name:hash:uid:gid[:maildrop]", the same file and rules as auth.c,
 * each line parsed by auth_parse_line: malformed lines skipped and
 * logged, the first line of a name wins, locked accounts and uid 0 are no
 * users) and the system accounts (getpwent: uid 0 and nologin shells are
 * no users); each name maps to its maildrop path by the same template
 * expansion.  The RMCP secrets file ("name:crypt-hash") is the second
 * table.  Loading runs at start as root, before the privileges are
 * dropped, and again on SIGHUP in rmcpd's loader process as the
 * unprivileged rmcp_user (then only if the files are readable to it),
 * which hands the tables to the confined responder over a socket
 * (rmcpd_db_send, rmcpd_db_recv); lookups run in the responder.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "maildrop.h"
#include "params.h"
#include "rmcp.h"
#include "util.h"

/* The order of an entry: its database's place in userdb, then its line
 * (or its place in the system's list) in that database. */
#define RMCPD_RANK_SHIFT	40
/* The line number of an order, for a log line. */
#define RMCPD_LINENO(o)		((unsigned long long)((o) & \
				    ((1ull << RMCPD_RANK_SHIFT) - 1)))
/* The hand-off of the tables to the responder: a header, then the
 * names, paths and hashes, each NUL-terminated. */
#define RMCPD_DB_MAGIC		0x524d4442u	/* "RMDB" */
#define RMCPD_DB_MAX		(256u << 20)	/* octets of a hand-off */

struct rmcpd_user {
	char		 name[RMCP_NAME_MAX + 1];
	char		*path;		/* NULL: locked, uid 0, nologin
					   shell or no path: no usable user */
	uint64_t	 line;		/* first wins, as in auth.c */
	size_t		 decoy;		/* the nearest entry with a path
					   (SIZE_MAX: none) */
};

struct rmcpd_secret {
	char		 name[RMCP_NAME_MAX + 1];
	char		*hash;
	uint64_t	 line;
};

struct rmcpd_db_hdr {
	uint32_t	 magic;
	uint32_t	 complete;	/* 0: a reload that read not all */
	uint64_t	 nusers, nsecrets, len;
};
/* --- The passwd-file and the secrets file ------------------------------ */

/*
 * Opens a file of hashes as auth.c does: a regular file owned by root or
 * by us, not writable by group or others; the secrets file must not be
 * readable by others either.  Returns the stream or NULL with a reason.
 */
static FILE *
open_private(const char *file, const char *what, bool secret,
    char *errstr_r, size_t errlen)
{
	struct stat sb;
	FILE *fp;

	if ((fp = fopen(file, "r")) == NULL) {
		snprintf(errstr_r, errlen, "cannot read %s %s: %s", what, file,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &sb) == -1) {
		snprintf(errstr_r, errlen, "%s %s: %s", what, file,
		    strerror(errno));
		fclose(fp);
		return NULL;
	}
	if (!util_file_trusted(&sb) ||
	    (secret && (sb.st_mode & S_IROTH) != 0)) {
		snprintf(errstr_r, errlen, "%s %s refused: it must be a "
		    "regular file owned by root (or the server's user), "
		    "writable by the owner only%s", what, file, secret ?
		    " and not readable by others" : "");
		fclose(fp);
		return NULL;
	}
	return fp;
}

/*
 * Splits a secrets line, "name:crypt-hash", into *name_r and *hash_r.
 * Returns 1, 0 for a locked hash (a locked secret is none), or -1 with
 * *why_r for a malformed line.
 */
static int
parse_secret(char *line, char **name_r, char **hash_r, const char **why_r)
{
	char *p;

	if ((p = strchr(line, ':')) == NULL || strchr(p + 1, ':') != NULL) {
		*why_r = "expected name:hash";
		return -1;
	}
	*p++ = '\0';
	if (!auth_valid_username(line, strlen(line))) {
		*why_r = "invalid user name";
		return -1;
	}
	if (strlen(p) >= CRYPT_OUTPUT_SIZE) {
		*why_r = "hash too long";
		return -1;
	}
	if (auth_hash_locked(p))
		return 0;
	*name_r = line;
	*hash_r = p;
	return 1;
}

/* The maildrop of a passwd-file user: its own fifth field, else the
 * template with the home of its uid, as pop3d resolves it. */
static char *
file_user_path(const struct conf *c, const char *name, uid_t uid,
    const char *own)
{
	char buf[PARAM_PATH_MAX];
	struct passwd *pw;
	const char *home = NULL;

	if (own[0] != '\0')
		return strdup(own);
	if (c->maildrop[0] == '~' && (pw = getpwuid(uid)) != NULL)
		home = pw->pw_dir;
	if (maildrop_expand(c->maildrop, name, home, buf, sizeof(buf)) == -1)
		return NULL;
	return strdup(buf);
}

/* Room for one more element of sz bytes.  Returns 0 / -1 (no memory). */
static int
grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	void *na;

	if (n < *cap)
		return 0;
	if ((na = realloc(*arr, (*cap == 0 ? 64 : *cap * 2) * sz)) == NULL)
		return -1;
	*cap = *cap == 0 ? 64 : *cap * 2;
	*arr = na;
	return 0;
}

/* One secrets line into the growing array.  Returns 0, or -1 on a
 * malformed line (*why_r) or no memory (*why_r NULL). */
static int
add_secret(char *line, void **arr, size_t *n, size_t *cap, uint64_t lineno,
    const char **why_r)
{
	struct rmcpd_secret *s;
	char *name, *hash;
	int r;

	*why_r = NULL;
	if ((r = parse_secret(line, &name, &hash, why_r)) != 1)
		return r;
	if (grow(arr, *n, cap, sizeof(*s)) == -1)
		return -1;
	s = (struct rmcpd_secret *)*arr + *n;
	memcpy(s->name, name, strlen(name) + 1);
	s->line = lineno;
	if ((s->hash = strdup(hash)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* One passwd-file line (len bytes, no newline, not blank or a comment)
 * into the growing array, parsed by auth.c.  Returns as add_secret. */
static int
add_user(const struct conf *c, char *line, size_t len, void **arr,
    size_t *n, size_t *cap, uint64_t lineno, const char **why_r)
{
	struct auth_entry e;
	struct rmcpd_user *u;
	int rc;

	*why_r = NULL;
	if ((rc = auth_parse_line(line, len, &e, why_r)) != 1)
		goto done;
	rc = -1;
	if (grow(arr, *n, cap, sizeof(*u)) == -1)
		goto done;
	/* A locked account or uid 0 is no user to pop3d, but the
	 * passwd-file still knows it: it decides. */
	u = (struct rmcpd_user *)*arr + *n;
	memcpy(u->name, e.name, strlen(e.name) + 1);
	u->line = lineno;
	u->path = auth_hash_locked(e.hash) || e.uid == 0 ? NULL :
	    file_user_path(c, e.name, e.uid, e.maildrop);
	(*n)++;
	rc = 0;
done:
	explicit_bzero(&e, sizeof(e));
	return rc;
}

/* Both element types start with the name, then sort by line. */
static int
cmp_entry(const void *a, const void *b, size_t off)
{
	const char *na = a, *nb = b;
	uint64_t la, lb;
	int r;

	if ((r = strcmp(na, nb)) != 0)
		return r;
	memcpy(&la, (const char *)a + off, sizeof(la));
	memcpy(&lb, (const char *)b + off, sizeof(lb));
	return la < lb ? -1 : la > lb;
}

static int
cmp_user(const void *a, const void *b)
{
	return cmp_entry(a, b, offsetof(struct rmcpd_user, line));
}

static int
cmp_secret(const void *a, const void *b)
{
	return cmp_entry(a, b, offsetof(struct rmcpd_secret, line));
}

static int
cmp_name_secret(const void *a, const void *b)
{
	return strcmp(((const struct rmcpd_secret *)a)->name,
	    ((const struct rmcpd_secret *)b)->name);
}

static void
free_users(struct rmcpd_user *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(u[i].path);
	free(u);
}

static void
free_secrets_at(struct rmcpd_secret *s, size_t i)
{
	if (s[i].hash != NULL) {
		explicit_bzero(s[i].hash, strlen(s[i].hash));
		free(s[i].hash);
		s[i].hash = NULL;
	}
}

static void
free_secrets(struct rmcpd_secret *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_secrets_at(s, i);
	free(s);
}

/*
 * Sorts arr[0, *n) (users or secrets) by name and order and keeps the
 * first entry of each name.
 */
static void
sort_unique(void *arr, size_t *n, bool secrets)
{
	size_t sz, i, o;

	sz = secrets ? sizeof(struct rmcpd_secret) : sizeof(struct rmcpd_user);
	if (*n > 0)
		qsort(arr, *n, sz, secrets ? cmp_secret : cmp_user);
	for (i = o = 0; i < *n; i++) {
		if (o > 0 && strcmp((char *)arr + (o - 1) * sz,
		    (char *)arr + i * sz) == 0) {
			if (secrets)
				free_secrets_at(arr, i);
			else
				free(((struct rmcpd_user *)arr)[i].path);
			continue;
		}
		if (o != i)
			memcpy((char *)arr + o * sz, (char *)arr + i * sz, sz);
		o++;
	}
	*n = o;
}

/*
 * Appends the lines of the passwd-file (secrets false) or the secrets
 * file to the growing array *arr (*n entries, room for *cap), each with
 * the order rank:line.  Malformed lines are logged and skipped, as auth.c
 * does.  Returns 0 / -1 with a reason (the entries appended so far stay
 * for the caller to free).
 */
static int
load_file(const struct conf *c, const char *file, bool secrets,
    uint64_t rank, void **arr, size_t *n, size_t *cap, char *errstr_r,
    size_t errlen)
{
	const char *what = secrets ? "secrets file" : "passwd-file", *why;
	size_t len, lcap = 0;
	uint64_t lineno = rank << RMCPD_RANK_SHIFT;
	char *line = NULL, *p;
	ssize_t got;
	FILE *fp;
	int r, rc = -1;

	if ((fp = open_private(file, what, secrets, errstr_r, errlen)) == NULL)
		return -1;
	errno = 0;
	while ((got = getline(&line, &lcap, fp)) != -1) {
		lineno++;
		len = (size_t)got;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		/* A secrets line is shorter, but the same bound serves. */
		if (len > AUTH_LINE_MAX || memchr(line, '\0', len) != NULL) {
			log_warnx("%s:%llu: malformed line skipped: too long "
			    "or NUL byte", file, RMCPD_LINENO(lineno));
			continue;
		}
		if (secrets)
			r = add_secret(line, arr, n, cap, lineno, &why);
		else
			r = add_user(c, line, len, arr, n, cap, lineno, &why);
		if (r == -1) {
			if (why == NULL) {
				snprintf(errstr_r, errlen, "%s: out of memory",
				    file);
				goto out;
			}
			log_warnx("%s:%llu: malformed line skipped: %s", file,
			    RMCPD_LINENO(lineno), why);
		}
	}
	if (ferror(fp)) {
		snprintf(errstr_r, errlen, "cannot read %s %s: %s", what, file,
		    strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	rc = 0;
out:
	if (line != NULL)
		explicit_bzero(line, lcap);
	free(line);
	fclose(fp);
	return rc;
}

/*
 * Appends the system accounts (getpwent: every NSS source that lists
 * its accounts) with the order rank:place.  uid 0 and the nologin_shells
 * are no users, as for pop3d; names pop3d would refuse are left out.
 * Returns 0 / -1 with a reason.
 */
static int
load_system(const struct conf *c, uint64_t rank, void **arr, size_t *n,
    size_t *cap, char *errstr_r, size_t errlen)
{
	char buf[PARAM_PATH_MAX];
	struct rmcpd_user *u;
	struct passwd *pw;
	uint64_t k = rank << RMCPD_RANK_SHIFT;
	size_t len;
	int e;

	setpwent();
	for (;;) {
		errno = 0;
		if ((pw = getpwent()) == NULL)
			break;
		len = strlen(pw->pw_name);
		if (len > RMCP_NAME_MAX ||
		    !auth_valid_username(pw->pw_name, len))
			continue;
		if (grow(arr, *n, cap, sizeof(*u)) == -1) {
			errno = ENOMEM;
			break;
		}
		u = (struct rmcpd_user *)*arr + *n;
		memcpy(u->name, pw->pw_name, len + 1);
		u->line = ++k;
		u->path = NULL;
		(*n)++;
		if (pw->pw_uid == 0 || auth_shell_refused(c, pw->pw_shell) ||
		    maildrop_expand(c->maildrop, pw->pw_name, pw->pw_dir, buf,
		    sizeof(buf)) == -1)
			continue;
		if ((u->path = strdup(buf)) == NULL) {
			errno = ENOMEM;
			break;
		}
	}
	e = errno;
	endpwent();
	if (e != 0 && e != ENOENT) {
		snprintf(errstr_r, errlen, "cannot list the system accounts: "
		    "%s", strerror(e));
		return -1;
	}
	return 0;
}

/* Points every user at the nearest entry with a path (the next one, or
 * before the end the last one): what a poll for a name that has none,
 * or is not there, stats instead. */
static void
set_decoys(struct rmcpd_user *u, size_t n)
{
	size_t i, near = SIZE_MAX;

	for (i = n; i-- > 0; ) {
		if (u[i].path != NULL)
			near = i;
		u[i].decoy = near;
	}
	for (i = 0, near = SIZE_MAX; i < n; i++) {
		if (u[i].path != NULL)
			near = i;
		if (u[i].decoy == SIZE_MAX)
			u[i].decoy = near;
	}
}

/* The user table of c->userdb: each database in order, the first that
 * knows a name deciding.  Returns 0 / -1 with a reason. */
static int
load_users(const struct conf *c, struct rmcpd_user **users_r, size_t *n_r,
    char *errstr_r, size_t errlen)
{
	void *arr = NULL;
	size_t i, n = 0, cap = 0;
	bool system_done = false;
	int rc = 0;

	for (i = 0; i < c->nuserdb && rc == 0; i++) {
		if (c->userdb[i] == USERDB_FILE)
			rc = load_file(c, c->passwd_file, false, i, &arr, &n,
			    &cap, errstr_r, errlen);
		else if (!system_done) {
			/* pam: the accounts are the system's, as pop3d
			 * finds their home */
			system_done = true;
			rc = load_system(c, i, &arr, &n, &cap, errstr_r,
			    errlen);
		}
	}
	if (rc == -1) {
		free_users(arr, n);
		return -1;
	}
	sort_unique(arr, &n, false);
	set_decoys(arr, n);
	*users_r = arr;
	*n_r = n;
	return 0;
}

/* --- Lookups ----------------------------------------------------------- */

int
rmcpd_db_lookup(const struct rmcpd_db *db, const char *name, char *buf,
    size_t len)
{
	const struct rmcpd_user *u, *v;
	size_t lo = 0, hi = db->nusers, mid;
	int r, n;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (strnlen(name, RMCP_NAME_MAX + 1) > RMCP_NAME_MAX ||
	    db->nusers == 0)
		return 0;
	/* One entry per name, the database that decides; the same number
	 * of steps for a name that is there and one that is not. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = strcmp(db->users[mid].name, name)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == db->nusers)
		lo--;
	u = &db->users[lo];
	/* Found, or the nearest maildrop, which an unknown name stats:
	 * cold or warm in the cache as a real one is. */
	v = u->path != NULL ? u : u->decoy != SIZE_MAX ?
	    &db->users[u->decoy] : NULL;
	if (v != NULL) {
		n = snprintf(buf, len, "%s", v->path);
		if (n < 0 || (size_t)n >= len)
			buf[0] = '\0';
	}
	return strcmp(u->name, name) == 0 && u->path != NULL &&
	    buf[0] != '\0';
}

int
rmcpd_db_load(struct rmcpd_db *db, const struct conf *c, bool users,
    bool secrets, char *errstr_r, size_t errlen)
{
	struct rmcpd_user *ua;
	char err[512];
	void *arr = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (errlen > 0)
		errstr_r[0] = '\0';
	if (users) {
		if (load_users(c, &ua, &n, err, sizeof(err)) == -1) {
			snprintf(errstr_r, errlen, "%s", err);
			rc = -1;
		} else {
			free_users(db->users, db->nusers);
			db->users = ua;
			db->nusers = n;
		}
	}
	if (secrets) {
		n = 0;
		if (load_file(c, c->rmcp_secrets_file, true, 0, &arr, &n, &cap,
		    err, sizeof(err)) == -1) {
			free_secrets(arr, n);
			if (rc == 0)
				snprintf(errstr_r, errlen, "%s", err);
			rc = -1;
		} else {
			sort_unique(arr, &n, true);
			free_secrets(db->secrets, db->nsecrets);
			db->secrets = arr;
			db->nsecrets = n;
		}
	}
	return rc;
}

const char *
rmcpd_db_secret(const struct rmcpd_db *db, const char *name)
{
	struct rmcpd_secret key, *s;
	size_t n = strnlen(name, RMCP_NAME_MAX + 1);

	if (db->nsecrets == 0 || n > RMCP_NAME_MAX)
		return NULL;
	memset(&key, 0, sizeof(key));
	memcpy(key.name, name, n);
	s = bsearch(&key, db->secrets, db->nsecrets, sizeof(*s),
	    cmp_name_secret);
	return s != NULL ? s->hash : NULL;
}

void
rmcpd_db_free(struct rmcpd_db *db)
{
	free_users(db->users, db->nusers);
	free_secrets(db->secrets, db->nsecrets);
	memset(db, 0, sizeof(*db));
}

/* --- The hand-off from the loader to the responder --------------------- */

/* Appends s with its NUL at *o of buf[0, len); false if it would not
 * fit (the count before it was wrong: never). */
static bool
put_str(char *buf, size_t len, size_t *o, const char *s)
{
	size_t l = strlen(s) + 1;

	if (l > len - *o)
		return false;
	memcpy(buf + *o, s, l);
	*o += l;
	return true;
}

int
rmcpd_db_send(int fd, const struct rmcpd_db *db, bool complete)
{
	struct rmcpd_db_hdr h;
	size_t i, len = 0, o = 0;
	bool ok = true;
	char *buf;
	int rc;

	/* name NUL, flag NUL, path NUL; name NUL, hash NUL */
	for (i = 0; i < db->nusers; i++)
		len += strlen(db->users[i].name) + 3 + (db->users[i].path ?
		    strlen(db->users[i].path) + 1 : 0);
	for (i = 0; i < db->nsecrets; i++)
		len += strlen(db->secrets[i].name) +
		    strlen(db->secrets[i].hash) + 2;
	if (len > RMCPD_DB_MAX || (buf = malloc(len + 1)) == NULL) {
		log_warnx("reload: %zu users and %zu secrets are too much to "
		    "hand over", db->nusers, db->nsecrets);
		return -1;
	}
	for (i = 0; ok && i < db->nusers; i++) {
		ok = put_str(buf, len, &o, db->users[i].name) &&
		    /* "+": a path follows; "-": no usable user */
		    put_str(buf, len, &o, db->users[i].path ? "+" : "-") &&
		    (db->users[i].path == NULL ||
		    put_str(buf, len, &o, db->users[i].path));
	}
	for (i = 0; ok && i < db->nsecrets; i++)
		ok = put_str(buf, len, &o, db->secrets[i].name) &&
		    put_str(buf, len, &o, db->secrets[i].hash);
	memset(&h, 0, sizeof(h));
	h.magic = RMCPD_DB_MAGIC;
	h.complete = complete ? 1 : 0;
	h.nusers = db->nusers;
	h.nsecrets = db->nsecrets;
	h.len = o;
	rc = !ok || util_send_full(fd, &h, sizeof(h)) == -1 ||
	    util_send_full(fd, buf, o) == -1 ? -1 : 0;
	explicit_bzero(buf, o);
	free(buf);
	return rc;
}

/* The next NUL-terminated string of at most max octets at *o of
 * buf[0, len), or NULL. */
static const char *
get_str(const char *buf, size_t len, size_t *o, size_t max)
{
	const char *s = buf + *o, *nul;

	if (*o >= len || (nul = memchr(s, '\0', len - *o)) == NULL ||
	    (size_t)(nul - s) > max)
		return NULL;
	*o += (size_t)(nul - s) + 1;
	return s;
}

/* Parses a hand-off into db: names valid and strictly ascending (the
 * lookups bsearch), every length bounded.  Returns 0 / -1. */
static int
parse_db(const char *buf, size_t len, const struct rmcpd_db_hdr *h,
    struct rmcpd_db *db)
{
	const char *name, *flag, *v, *prev;
	size_t o = 0;
	uint64_t i;

	if (h->nusers > len / 3 || h->nsecrets > len / 3 ||
	    (db->users = calloc(h->nusers + 1, sizeof(*db->users))) == NULL ||
	    (db->secrets = calloc(h->nsecrets + 1, sizeof(*db->secrets))) ==
	    NULL)
		return -1;
	for (i = 0, prev = ""; i < h->nusers; i++, prev = name) {
		if ((name = get_str(buf, len, &o, RMCP_NAME_MAX)) == NULL ||
		    !auth_valid_username(name, strlen(name)) ||
		    strcmp(prev, name) >= 0 ||
		    (flag = get_str(buf, len, &o, 1)) == NULL)
			return -1;
		memcpy(db->users[i].name, name, strlen(name) + 1);
		db->nusers++;
		if (strcmp(flag, "-") == 0)
			continue;
		if (strcmp(flag, "+") != 0 || (v = get_str(buf, len, &o,
		    PARAM_PATH_MAX - 1)) == NULL ||
		    (db->users[i].path = strdup(v)) == NULL)
			return -1;
	}
	set_decoys(db->users, db->nusers);
	for (i = 0, prev = ""; i < h->nsecrets; i++, prev = name) {
		if ((name = get_str(buf, len, &o, RMCP_NAME_MAX)) == NULL ||
		    !auth_valid_username(name, strlen(name)) ||
		    strcmp(prev, name) >= 0 || (v = get_str(buf, len, &o,
		    CRYPT_OUTPUT_SIZE - 1)) == NULL ||
		    (db->secrets[i].hash = strdup(v)) == NULL)
			return -1;
		memcpy(db->secrets[i].name, name, strlen(name) + 1);
		db->nsecrets++;
	}
	return o == len ? 0 : -1;
}

int
rmcpd_db_recv(int fd, struct rmcpd_db *db_r, bool *complete_r)
{
	struct rmcpd_db_hdr h;
	struct rmcpd_db db;
	char *buf;
	int rc;

	memset(&db, 0, sizeof(db));
	if (util_read_full(fd, &h, sizeof(h)) == -1)
		return -1;
	if (h.magic != RMCPD_DB_MAGIC || h.len > RMCPD_DB_MAX ||
	    (buf = malloc(h.len + 1)) == NULL) {
		log_warnx("reload: a malformed hand-off from the loader");
		return -1;
	}
	rc = util_read_full(fd, buf, h.len);
	if (rc == 0 && (rc = parse_db(buf, h.len, &h, &db)) == -1)
		log_warnx("reload: a malformed hand-off from the loader");
	explicit_bzero(buf, h.len);
	free(buf);
	if (rc == -1) {
		rmcpd_db_free(&db);
		return -1;
	}
	*db_r = db;
	*complete_r = h.complete != 0;
	return 0;
}
