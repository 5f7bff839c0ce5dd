/*
 * rmcpd_db.c: the users and secrets rmcpd knows.  Reads the passwd-file
 * ("name:hash:uid:gid[:maildrop]", the same file and rules as auth.c,
 * each line parsed by auth_parse_line: malformed lines skipped and
 * logged, the first line of a name wins, locked accounts and uid 0 are no
 * users) and the RMCP secrets file
 * ("name:crypt-hash") into sorted arrays, and finds a user's maildrop path
 * in the databases of userdb as pop3d does, with the same name validation
 * and template expansion.  Loading runs at start as root, before the
 * privileges are dropped, and again on SIGHUP as the unprivileged
 * rmcp_user (then only if the files are readable to it); lookups run as
 * rmcp_user.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
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

#define RMCPD_NSS_BUF		16384

struct rmcpd_user {
	char		 name[RMCP_NAME_MAX + 1];
	char		*path;		/* NULL: locked, uid 0, or no
					   path: no usable user */
	size_t		 line;		/* first line wins, as in auth.c */
};

struct rmcpd_secret {
	char		 name[RMCP_NAME_MAX + 1];
	char		*hash;
	size_t		 line;
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
add_secret(char *line, void **arr, size_t *n, size_t *cap, size_t lineno,
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
    size_t *n, size_t *cap, size_t lineno, const char **why_r)
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
	size_t la, lb;
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
cmp_name_user(const void *a, const void *b)
{
	return strcmp(((const struct rmcpd_user *)a)->name,
	    ((const struct rmcpd_user *)b)->name);
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
 * Reads the passwd-file (secrets false) or the secrets file into a sorted
 * array with one entry per name (the first line wins).  Malformed lines
 * are logged and skipped, as auth.c does.  Returns 0 / -1 with a reason.
 */
static int
load_file(const struct conf *c, const char *file, bool secrets, void **arr_r,
    size_t *n_r, char *errstr_r, size_t errlen)
{
	const char *what = secrets ? "secrets file" : "passwd-file", *why;
	size_t cap = 0, n = 0, lineno = 0, len, i, o, sz, lcap = 0;
	char *line = NULL, *p;
	void *arr = NULL;
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
			log_warnx("%s:%zu: malformed line skipped: too long or "
			    "NUL byte", file, lineno);
			continue;
		}
		if (secrets)
			r = add_secret(line, &arr, &n, &cap, lineno, &why);
		else
			r = add_user(c, line, len, &arr, &n, &cap, lineno,
			    &why);
		if (r == -1) {
			if (why == NULL) {
				snprintf(errstr_r, errlen, "%s: out of memory",
				    file);
				goto out;
			}
			log_warnx("%s:%zu: malformed line skipped: %s", file,
			    lineno, why);
		}
	}
	if (ferror(fp)) {
		snprintf(errstr_r, errlen, "cannot read %s %s: %s", what, file,
		    strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	sz = secrets ? sizeof(struct rmcpd_secret) : sizeof(struct rmcpd_user);
	if (n > 0)
		qsort(arr, n, sz, secrets ? cmp_secret : cmp_user);
	/* Keep the first line of each name. */
	for (i = o = 0; i < n; i++) {
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
	n = o;
	*arr_r = arr;
	*n_r = n;
	arr = NULL;
	n = 0;
	rc = 0;
out:
	if (line != NULL)
		explicit_bzero(line, lcap);
	free(line);
	fclose(fp);
	if (arr != NULL) {
		if (secrets)
			free_secrets(arr, n);
		else
			free_users(arr, n);
	}
	return rc;
}

/* --- Lookups ----------------------------------------------------------- */



/*
 * The maildrop path of name, looked up in the databases of userdb in
 * order as pop3d does (the first that knows the name decides).  Returns 1
 * with the path, 0 for no such (usable) user: a locked or uid 0 line of
 * the passwd-file ends the search, as it does for pop3d.  The shadow file is not
 * read (it is root's): a locked or expired system account still has a
 * maildrop status.
 */
int
rmcpd_db_lookup(const struct rmcpd_db *db, const struct conf *c,
    const char *name, char *buf, size_t len)
{
	struct rmcpd_user key, *u;
	struct passwd pw, *pwp;
	char nss[RMCPD_NSS_BUF];
	size_t i;
	int n;

	if (strlen(name) > RMCP_NAME_MAX)
		return 0;
	for (i = 0; i < c->nuserdb; i++) {
		if (c->userdb[i] == USERDB_FILE) {
			memset(&key, 0, sizeof(key));
			memcpy(key.name, name, strlen(name) + 1);
			/* One entry per name: any match is the first line. */
			u = db->nusers == 0 ? NULL : bsearch(&key, db->users,
			    db->nusers, sizeof(*u), cmp_name_user);
			if (u == NULL)
				continue;
			if (u->path == NULL)
				return 0;
			n = snprintf(buf, len, "%s", u->path);
			return n >= 0 && (size_t)n < len;
		}
		pwp = NULL;
		if (getpwnam_r(name, &pw, nss, sizeof(nss), &pwp) != 0 ||
		    pwp == NULL)
			continue;
		if (pw.pw_uid == 0 || auth_shell_refused(c, pw.pw_shell))
			return 0;
		return maildrop_expand(c->maildrop, name, pw.pw_dir, buf,
		    len) == 0;
	}
	return 0;
}

int
rmcpd_db_load(struct rmcpd_db *db, const struct conf *c, bool users,
    bool secrets, char *errstr_r, size_t errlen)
{
	char err[512];
	void *arr;
	size_t i, n;
	int rc = 0;

	if (errlen > 0)
		errstr_r[0] = '\0';
	db->use_file = false;
	for (i = 0; i < c->nuserdb; i++)
		if (c->userdb[i] == USERDB_FILE)
			db->use_file = true;
	if (users && db->use_file) {
		if (load_file(c, c->passwd_file, false, &arr, &n, err,
		    sizeof(err)) == -1) {
			snprintf(errstr_r, errlen, "%s", err);
			rc = -1;
		} else {
			free_users(db->users, db->nusers);
			db->users = arr;
			db->nusers = n;
		}
	}
	if (secrets) {
		if (load_file(c, c->rmcp_secrets_file, true, &arr, &n, err,
		    sizeof(err)) == -1) {
			if (rc == 0)
				snprintf(errstr_r, errlen, "%s", err);
			rc = -1;
		} else {
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
