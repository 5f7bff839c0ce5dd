/*
 * auth.c: the only caller of crypt(3).  Checks a user name and password
 * against a passwd-file of "name:crypt-hash:uid:gid[:maildrop]" lines and
 * makes new hashes for it.  Hygiene (style.md practice 5): every check
 * costs exactly one crypt_rn(), on a per-process dummy setting of the same
 * method when the user is unknown, locked or refused, so that timing does
 * not tell which; a NULL or '*' result is failure; the comparison is
 * constant-time over the whole hash; crypt's scratch data is wiped and no
 * password ever reaches a message.  Runs in the session master (root, or
 * the invoking user in test mode), never in the pre-auth child.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "params.h"

/* Preferred method: yescrypt (libxcrypt's default on Debian 12)... */
#define AUTH_PREFIX		"$y$"
/* ...else SHA-512, which every libxcrypt and glibc crypt has. */
#define AUTH_PREFIX_FALLBACK	"$6$"
/* A fixed last resort for the dummy setting if no salt can be made. */
#define AUTH_DUMMY_FIXED	"$6$postern.dummy$"
/* name:hash:uid:gid:maildrop, each at its bound, plus separators. */
#define AUTH_LINE_MAX		(PARAM_USER_MAX + CRYPT_OUTPUT_SIZE + \
				 2 * 10 + PARAM_PATH_MAX + 8)
#define AUTH_FIELDS		5
/* Longest password checked: ours, or libxcrypt's if that is lower. */
#define AUTH_PASS_MAX		(PARAM_PASS_MAX < CRYPT_MAX_PASSPHRASE_SIZE ? \
				 PARAM_PASS_MAX : CRYPT_MAX_PASSPHRASE_SIZE - 1)

struct auth_entry {
	char	 name[PARAM_USER_MAX + 1];
	char	 hash[CRYPT_OUTPUT_SIZE];
	uid_t	 uid;
	gid_t	 gid;
	char	 maildrop[PARAM_PATH_MAX];
};

/* Made once per process; a setting string costs as much as a hash. */
static char	auth_dummy[CRYPT_GENSALT_OUTPUT_SIZE];

bool
auth_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *pa = a, *pb = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= pa[i] ^ pb[i];
	return d == 0;
}

bool
auth_valid_username(const char *name, size_t len)
{
	size_t i;
	unsigned char ch;

	if (name == NULL || len == 0 || len > PARAM_USER_MAX)
		return false;
	if (name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)name[i];
		/* Not isalnum(): the locale must not widen the set. */
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-')
			continue;
		return false;
	}
	return true;
}

/* A fresh setting of the preferred method, salt from the OS. */
static int
auth_gensalt(char *buf, size_t len)
{
	int ilen = len > INT_MAX ? INT_MAX : (int)len;

	/* NULL rbytes: libxcrypt reads getrandom()/dev/urandom itself. */
	if (crypt_gensalt_rn(AUTH_PREFIX, 0, NULL, 0, buf, ilen) != NULL &&
	    buf[0] != '*')
		return 0;
	if (crypt_gensalt_rn(AUTH_PREFIX_FALLBACK, 0, NULL, 0, buf,
	    ilen) != NULL && buf[0] != '*')
		return 0;
	return -1;
}

static const char *
auth_dummy_setting(void)
{
	if (auth_dummy[0] == '\0' &&
	    auth_gensalt(auth_dummy, sizeof(auth_dummy)) == -1) {
		log_warnx("auth: cannot make a salt, using a fixed dummy");
		snprintf(auth_dummy, sizeof(auth_dummy), "%s",
		    AUTH_DUMMY_FIXED);
	}
	return auth_dummy;
}

int
auth_make_hash(const char *pass, char *buf, size_t len)
{
	struct crypt_data cd;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	int rc = -1;

	if (pass == NULL || strnlen(pass, AUTH_PASS_MAX + 1) > AUTH_PASS_MAX)
		return -1;
	if (auth_gensalt(setting, sizeof(setting)) == -1)
		return -1;
	memset(&cd, 0, sizeof(cd));
	h = crypt_rn(pass, setting, &cd, sizeof(cd));
	if (h != NULL && h[0] != '*' && strlen(h) < len) {
		memcpy(buf, h, strlen(h) + 1);
		rc = 0;
	}
	explicit_bzero(&cd, sizeof(cd));
	return rc;
}

/* Strict decimal id: digits only, fits uid_t/gid_t, not (id_t)-1. */
static int
auth_parse_id(const char *s, unsigned long *r)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= UINT32_MAX)
		return -1;
	*r = v;
	return 0;
}

/*
 * Parses one passwd-file line (no newline) into e.  Returns 1 for an
 * entry, 0 for a comment or blank line, -1 with *why for a malformed one.
 */
static int
auth_parse_line(char *line, struct auth_entry *e, const char **why)
{
	char *f[AUTH_FIELDS], *p;
	unsigned long id;
	size_t n = 0;

	p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return 0;
	f[n++] = line;
	for (p = line; (p = strchr(p, ':')) != NULL; ) {
		*p++ = '\0';
		if (n == AUTH_FIELDS) {
			*why = "too many fields";
			return -1;
		}
		f[n++] = p;
	}
	if (n < 4) {
		*why = "expected name:hash:uid:gid[:maildrop]";
		return -1;
	}
	if (!auth_valid_username(f[0], strlen(f[0]))) {
		*why = "invalid user name";
		return -1;
	}
	memcpy(e->name, f[0], strlen(f[0]) + 1);
	if (strlen(f[1]) >= sizeof(e->hash)) {
		*why = "hash too long";
		return -1;
	}
	memcpy(e->hash, f[1], strlen(f[1]) + 1);
	if (auth_parse_id(f[2], &id) == -1) {
		*why = "bad uid";
		return -1;
	}
	e->uid = (uid_t)id;
	if (auth_parse_id(f[3], &id) == -1) {
		*why = "bad gid";
		return -1;
	}
	e->gid = (gid_t)id;
	e->maildrop[0] = '\0';
	if (n == 5 && f[4][0] != '\0') {
		/* Used as is, not as a template: it must be absolute. */
		if (f[4][0] != '/') {
			*why = "maildrop must be an absolute path";
			return -1;
		}
		if (strlen(f[4]) >= sizeof(e->maildrop)) {
			*why = "maildrop too long";
			return -1;
		}
		memcpy(e->maildrop, f[4], strlen(f[4]) + 1);
	}
	return 1;
}

/*
 * Finds user in the passwd-file.  Returns 1 (e filled), 0 (no such user)
 * or -1 with a reason in errstr_r.
 */
static int
auth_lookup(const char *file, const char *user, struct auth_entry *e,
    char *errstr_r, size_t errlen)
{
	struct stat sb;
	FILE *fp;
	char *line = NULL;
	const char *why = NULL;
	size_t cap = 0, lineno = 0, len;
	ssize_t n;
	int found = 0, r;

	if ((fp = fopen(file, "r")) == NULL) {
		snprintf(errstr_r, errlen, "cannot read passwd-file: %s: %s",
		    file, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) == -1) {
		snprintf(errstr_r, errlen, "cannot read passwd-file: %s: %s",
		    file, strerror(errno));
		fclose(fp);
		return -1;
	}
	/* Whoever can write it can log in as anyone but root. */
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (sb.st_uid != 0 && sb.st_uid != geteuid())) {
		snprintf(errstr_r, errlen, "passwd-file %s refused: it must be "
		    "a regular file owned by root (or the server's user) and "
		    "not writable by group or others", file);
		fclose(fp);
		return -1;
	}
	errno = 0;
	while (found == 0 && (n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		r = -1;
		if (len > AUTH_LINE_MAX)
			why = "line too long";
		else if (memchr(line, '\0', len) != NULL)
			why = "NUL byte in line";
		else
			r = auth_parse_line(line, e, &why);
		if (r == -1)
			log_warnx("%s:%zu: malformed line skipped: %s", file,
			    lineno, why);
		else if (r == 1 && strcmp(e->name, user) == 0)
			found = 1;
	}
	if (found == 0 && ferror(fp)) {
		snprintf(errstr_r, errlen, "cannot read passwd-file: %s: %s",
		    file, strerror(errno != 0 ? errno : EIO));
		found = -1;
	}
	if (line != NULL)
		explicit_bzero(line, cap);	/* it held hashes */
	free(line);
	fclose(fp);
	return found;
}

/* The home directory of the system account with e's uid, if any. */
static void
auth_home(const struct auth_entry *e, char *buf, size_t len)
{
	struct passwd *pw;
	int n;

	buf[0] = '\0';
	if ((pw = getpwuid(e->uid)) == NULL || pw->pw_dir == NULL)
		return;
	n = snprintf(buf, len, "%s", pw->pw_dir);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';		/* truncated: unknown rather than wrong */
}

int
auth_check(const char *passwd_file, const char *user, const char *pass,
    struct auth_user *u, char *errstr_r, size_t errlen)
{
	struct auth_entry e;
	struct crypt_data cd;
	char got[CRYPT_OUTPUT_SIZE], want[CRYPT_OUTPUT_SIZE];
	const char *reason = NULL, *phrase, *setting, *h;
	size_t glen, wlen;
	int rc = AUTH_FAIL, found = 0;
	unsigned int same;
	bool real = false;

	memset(&e, 0, sizeof(e));
	if (errlen > 0)
		errstr_r[0] = '\0';
	phrase = pass;
	if (pass == NULL || strnlen(pass, AUTH_PASS_MAX + 1) > AUTH_PASS_MAX) {
		reason = "password too long";
		phrase = "";
	} else if (user == NULL ||
	    !auth_valid_username(user, strnlen(user, PARAM_USER_MAX + 1)))
		reason = "invalid user name";
	else if ((found = auth_lookup(passwd_file, user, &e, errstr_r,
	    errlen)) == -1)
		rc = AUTH_ERROR;
	else if (found == 0)
		reason = "unknown user";
	else if (e.hash[0] == '\0' || e.hash[0] == '*' || e.hash[0] == '!')
		reason = "locked account";
	else if (e.uid == 0)
		reason = "uid 0 refused";
	else
		real = true;

	/* Exactly one crypt on every path, real or dummy. */
	setting = real ? e.hash : auth_dummy_setting();
	memset(&cd, 0, sizeof(cd));
	h = crypt_rn(phrase, setting, &cd, sizeof(cd));
	if (real) {
		if (h == NULL || h[0] == '*' ||
		    (glen = strlen(h)) >= sizeof(got)) {
			reason = "unusable hash (method not supported?)";
		} else {
			/* Both zero-padded to one size: compare it all, and
			 * the lengths too, with no early exit. */
			memset(got, 0, sizeof(got));
			memset(want, 0, sizeof(want));
			wlen = strlen(e.hash);	/* < sizeof(want): parsed */
			memcpy(got, h, glen);
			memcpy(want, e.hash, wlen);
			same = (unsigned int)auth_ct_equal(got, want,
			    sizeof(got)) & (unsigned int)(glen == wlen);
			if (same) {
				rc = AUTH_OK;
				reason = NULL;
			} else
				reason = "bad password";
		}
	}
	explicit_bzero(&cd, sizeof(cd));
	explicit_bzero(got, sizeof(got));
	explicit_bzero(want, sizeof(want));

	if (rc == AUTH_OK) {
		memset(u, 0, sizeof(*u));
		memcpy(u->name, e.name, sizeof(u->name));
		u->uid = e.uid;
		u->gid = e.gid;
		memcpy(u->maildrop, e.maildrop, sizeof(u->maildrop));
		auth_home(&e, u->home, sizeof(u->home));
	} else if (reason != NULL)
		snprintf(errstr_r, errlen, "%s", reason);
	explicit_bzero(&e, sizeof(e));
	return rc;
}

int
auth_login(const struct conf *c, const char *user, const char *pass,
    struct auth_user *u, char *errstr_r, size_t errlen)
{
	return auth_check(c->passwd_file, user, pass, u, errstr_r, errlen);
}
