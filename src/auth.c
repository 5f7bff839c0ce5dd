/*
 * auth.c: the only caller of crypt(3).  Checks a user name and password
 * against the user databases of the userdb key, in order, the first that
 * knows the user deciding: a passwd-file of
 * "name:crypt-hash:uid:gid[:maildrop]" lines, the system accounts
 * (getpwnam + getspnam, with shadow(5)'s locking and aging), and PAM
 * (asked through auth_pam.c); and makes new hashes for the passwd-file.
 * Hygiene (style.md practice 5): every check costs exactly one crypt_rn()
 * (or, for a PAM user, one PAM attempt), on a dummy setting of the
 * dearest method in use when the user is unknown, locked or refused, and
 * every failure is padded to one floor (auth_timing.c), so that timing
 * tells neither which nor the user's method; uid 0 is refused in every
 * database; a NULL
 * or '*' result is failure; the comparison is constant-time over the whole
 * hash; crypt's scratch data and the shadow entries are wiped and no
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
#include <shadow.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "auth_pam.h"
#include "auth_timing.h"
#include "conf.h"
#include "log.h"
#include "util.h"
#include "params.h"

#define AUTH_FIELDS		5
/* A log-only reason for a refusal (a nologin shell is named in it). */
#define AUTH_REASON_MAX		256
/* getpwnam_r / getspnam_r scratch: far more than any real entry needs. */
#define AUTH_NSS_BUF		16384

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

int
auth_make_hash(const char *pass, char *buf, size_t len)
{
	struct crypt_data cd;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	int rc = -1;

	if (pass == NULL || strnlen(pass, AUTH_PASS_MAX + 1) > AUTH_PASS_MAX)
		return -1;
	if (auth_timing_gensalt(setting, sizeof(setting)) == -1)
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

bool
auth_hash_locked(const char *hash)
{
	return hash[0] == '\0' || hash[0] == '*' || hash[0] == '!';
}

int
auth_parse_line(char *line, size_t len, struct auth_entry *e,
    const char **why_r)
{
	char *f[AUTH_FIELDS], *p;
	unsigned long id;
	size_t n = 0;

	/* Before the comment test: an overlong or NUL-split comment is as
	 * suspect as any other such line. */
	if (len > AUTH_LINE_MAX) {
		*why_r = "line too long";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		*why_r = "NUL byte in line";
		return -1;
	}
	p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return 0;
	f[n++] = line;
	for (p = line; (p = strchr(p, ':')) != NULL; ) {
		*p++ = '\0';
		if (n == AUTH_FIELDS) {
			*why_r = "too many fields";
			return -1;
		}
		f[n++] = p;
	}
	if (n < 4) {
		*why_r = "expected name:hash:uid:gid[:maildrop]";
		return -1;
	}
	if (!auth_valid_username(f[0], strlen(f[0]))) {
		*why_r = "invalid user name";
		return -1;
	}
	memcpy(e->name, f[0], strlen(f[0]) + 1);
	if (strlen(f[1]) >= sizeof(e->hash)) {
		*why_r = "hash too long";
		return -1;
	}
	memcpy(e->hash, f[1], strlen(f[1]) + 1);
	if (auth_parse_id(f[2], &id) == -1) {
		*why_r = "bad uid";
		return -1;
	}
	e->uid = (uid_t)id;
	if (auth_parse_id(f[3], &id) == -1) {
		*why_r = "bad gid";
		return -1;
	}
	e->gid = (gid_t)id;
	e->maildrop[0] = '\0';
	if (n == 5 && f[4][0] != '\0') {
		/* Used as is, not as a template: it must be absolute. */
		if (f[4][0] != '/') {
			*why_r = "maildrop must be an absolute path";
			return -1;
		}
		if (strlen(f[4]) >= sizeof(e->maildrop)) {
			*why_r = "maildrop too long";
			return -1;
		}
		memcpy(e->maildrop, f[4], strlen(f[4]) + 1);
	}
	return 1;
}

/*
 * Finds user in the passwd-file, the first line naming it winning, or
 * with user NULL only notes the methods in use; warn logs each malformed
 * line.  The scan always reads
 * to the end and does the same work on every line whether it matches or
 * not (a constant-time comparison of zero-padded names, one copy of the
 * entry, to *e or to a spare), so that neither the time nor the log
 * tells where, or whether, the name is; every hash's method goes to
 * auth_timing.  Returns 1 (e filled), 0 (no such user) or -1 with a
 * reason in errstr_r (also when the file cannot be read to its end).
 */
static int
auth_lookup(const char *file, const char *user, bool warn,
    struct auth_entry *e, char *errstr_r, size_t errlen)
{
	struct auth_entry cur, spare;
	struct stat sb;
	FILE *fp;
	char *line = NULL, want[sizeof(cur.name)];
	const char *why = NULL;
	size_t cap = 0, lineno = 0, len;
	ssize_t n;
	unsigned int hit;
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
	if (!util_file_trusted(&sb)) {
		snprintf(errstr_r, errlen, "passwd-file %s refused: it must be "
		    "a regular file owned by root (or the server's user) and "
		    "not writable by group or others", file);
		fclose(fp);
		return -1;
	}
	/* An empty want matches no line: names are never empty. */
	memset(want, 0, sizeof(want));
	if (user != NULL && strlen(user) < sizeof(want))
		memcpy(want, user, strlen(user));
	memset(&cur, 0, sizeof(cur));
	auth_timing_scan_begin();
	errno = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		memset(cur.name, 0, sizeof(cur.name));
		if ((r = auth_parse_line(line, len, &cur, &why)) == -1) {
			if (warn)
				log_warnx("%s:%zu: malformed line skipped: %s",
				    file, lineno, why);
		} else if (r == 1) {
			auth_timing_note(cur.hash);
			hit = (unsigned int)auth_ct_equal(cur.name, want,
			    sizeof(want)) & (unsigned int)(found == 0);
			memcpy(hit ? e : &spare, &cur, sizeof(cur));
			found |= (int)hit;
		}
	}
	if (ferror(fp)) {
		snprintf(errstr_r, errlen, "cannot read passwd-file: %s: %s",
		    file, strerror(errno != 0 ? errno : EIO));
		found = -1;
	}
	auth_timing_scan_end(found != -1);
	if (line != NULL)
		explicit_bzero(line, cap);	/* it held hashes */
	free(line);
	explicit_bzero(&cur, sizeof(cur));
	explicit_bzero(&spare, sizeof(spare));
	fclose(fp);
	return found;
}

/* Copies s into buf if it fits, else leaves "" (unknown rather than
 * wrong). */
static void
auth_copy(char *buf, size_t len, const char *s)
{
	int n;

	n = snprintf(buf, len, "%s", s != NULL ? s : "");
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}

/* The home directory of the system account with uid, if any. */
static void
auth_home(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	buf[0] = '\0';
	if ((pw = getpwuid(uid)) != NULL)
		auth_copy(buf, len, pw->pw_dir);
}

/*
 * Runs crypt once: on hash, or on the dummy setting when hash is NULL
 * (then the result is thrown away).  true only when hash is given and
 * phrase matches it; else *why_r says why (NULL for the dummy).
 */
static bool
auth_crypt(const char *phrase, const char *hash, const char *dummy,
    const char **why_r)
{
	struct crypt_data cd;
	char got[CRYPT_OUTPUT_SIZE], want[CRYPT_OUTPUT_SIZE];
	const char *h;
	size_t glen = 0, wlen = 0;
	bool ok = false;

	*why_r = NULL;
	memset(&cd, 0, sizeof(cd));
	h = crypt_rn(phrase, hash != NULL ? hash : dummy, &cd, sizeof(cd));
	if (hash != NULL) {
		if (h == NULL || h[0] == '*' ||
		    (glen = strlen(h)) >= sizeof(got) ||
		    (wlen = strlen(hash)) >= sizeof(want)) {
			*why_r = "unusable hash (method not supported?)";
		} else {
			/* Both zero-padded to one size: compare it all, and
			 * the lengths too, with no early exit. */
			memset(got, 0, sizeof(got));
			memset(want, 0, sizeof(want));
			memcpy(got, h, glen);
			memcpy(want, hash, wlen);
			ok = ((unsigned int)auth_ct_equal(got, want,
			    sizeof(got)) & (unsigned int)(glen == wlen)) != 0;
			if (!ok)
				*why_r = "bad password";
		}
	}
	explicit_bzero(&cd, sizeof(cd));
	explicit_bzero(got, sizeof(got));
	explicit_bzero(want, sizeof(want));
	return ok;
}

/* A user as the database that knows it describes it, before any
 * password is looked at. */
struct auth_cand {
	int		 db;		/* USERDB_*; 0 until one knows the user */
	char		 hash[CRYPT_OUTPUT_SIZE];	/* passwd-file, system */
	struct auth_user u;
	char		 refuse[AUTH_REASON_MAX];	/* why the account is
						   refused whatever the
						   password; "" if it is not */
};

/* The passwd-file part of a lookup: 1 (k filled), 0 or -1 (errstr_r). */
static int
auth_find_file(const char *file, const char *user, struct auth_cand *k,
    char *errstr_r, size_t errlen)
{
	struct auth_entry e;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = auth_lookup(file, user, true, &e, errstr_r, errlen)) == 1) {
		k->db = USERDB_FILE;
		memcpy(k->hash, e.hash, sizeof(k->hash));
		memcpy(k->u.name, e.name, sizeof(k->u.name));
		k->u.uid = e.uid;
		k->u.gid = e.gid;
		memcpy(k->u.maildrop, e.maildrop, sizeof(k->u.maildrop));
		if (auth_hash_locked(e.hash))
			auth_copy(k->refuse, sizeof(k->refuse),
			    "locked account");
		else if (e.uid == 0)
			auth_copy(k->refuse, sizeof(k->refuse),
			    "uid 0 refused");
		else
			auth_home(e.uid, k->u.home, sizeof(k->u.home));
	}
	explicit_bzero(&e, sizeof(e));
	return r;
}

bool
auth_shell_refused(const struct conf *c, const char *shell)
{
	/* An empty pw_shell means /bin/sh (passwd(5)). */
	return util_word_listed(c->nologin_shells,
	    shell == NULL || shell[0] == '\0' ? "/bin/sh" : shell);
}

/* getpwnam_r and getspnam_r report "no such entry" in several ways. */
static bool
auth_nss_absent(int r)
{
	return r == 0 || r == ENOENT || r == ESRCH || r == EBADF ||
	    r == EPERM;
}

/*
 * Why a shadow entry is refused whatever the password, or NULL.  As
 * pam_unix does: the account has expired on day sp_expire itself; a last
 * change of 0 means the password must be changed first; a password older
 * than sp_max days has expired.  sp_inact (the grace period in which
 * pam_unix still lets the user change an expired password) is not
 * consulted: a POP client cannot change a password, so an expired one is
 * refused from its first day on, in the grace period and after it.
 */
static const char *
auth_aging(const struct spwd *sp)
{
	long today = (long)(time(NULL) / (60 * 60 * 24));

	if (sp->sp_expire >= 0 && today >= sp->sp_expire)
		return "account expired";
	if (sp->sp_lstchg == 0)
		return "password must be changed";
	if (sp->sp_lstchg > 0 && sp->sp_max >= 0 &&
	    sp->sp_lstchg + sp->sp_max < today)
		return "password expired";
	return NULL;
}

/*
 * The shadow part of a system user: the hash (from getspnam when
 * pw_passwd is "x", else pw_passwd itself) into k, or a reason to refuse
 * in k->refuse.  Returns 0, or -1 with errstr_r when the shadow database
 * cannot be read (it is root's to read).
 */
static int
auth_shadow(const char *user, const char *pw_passwd, struct auth_cand *k,
    char *errstr_r, size_t errlen)
{
	struct spwd sp, *spp = NULL;
	char buf[AUTH_NSS_BUF];
	const char *hash = pw_passwd != NULL ? pw_passwd : "", *why = NULL;
	int r, rc = 0;

	if (strcmp(hash, "x") == 0) {
		r = getspnam_r(user, &sp, buf, sizeof(buf), &spp);
		/* NSS hides an unreadable /etc/shadow behind the next
		 * module ("files systemd"): no entry for a non-root reader
		 * says nothing about the account. */
		if (spp == NULL && (!auth_nss_absent(r) || geteuid() != 0)) {
			snprintf(errstr_r, errlen, "cannot read the shadow "
			    "entry: %s (userdb system needs pop3d started as "
			    "root)", r != 0 ? strerror(r) : "not found");
			rc = -1;
			goto done;
		}
		/* No shadow entry for an "x": nothing to check against. */
		hash = spp != NULL && spp->sp_pwdp != NULL ? spp->sp_pwdp :
		    NULL;
	}
	if (hash == NULL)
		why = "locked account (no shadow entry)";
	else if (auth_hash_locked(hash))
		why = "locked account";
	else if (spp != NULL)
		why = auth_aging(spp);
	if (why == NULL && strlen(hash) >= sizeof(k->hash))
		why = "unusable hash (too long)";
	if (why != NULL)
		auth_copy(k->refuse, sizeof(k->refuse), why);
	else
		memcpy(k->hash, hash, strlen(hash) + 1);
done:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&sp, sizeof(sp));
	return rc;
}

/*
 * The system-account part of a lookup (getpwnam, then getspnam when
 * shadow; for PAM only getpwnam, PAM reads the rest).  Returns 1 (k
 * filled), 0 (no such user) or -1 with errstr_r.
 */
static int
auth_find_system(const struct conf *c, const char *user, bool shadow,
    struct auth_cand *k, char *errstr_r, size_t errlen)
{
	struct passwd pw, *pwp = NULL;
	char buf[AUTH_NSS_BUF];
	int r, rc = 1;

	r = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
	if (pwp == NULL) {
		if (auth_nss_absent(r))
			rc = 0;
		else {
			snprintf(errstr_r, errlen, "cannot look up the system "
			    "account: %s", strerror(r));
			rc = -1;
		}
		goto done;
	}
	k->db = shadow ? USERDB_SYSTEM : USERDB_PAM;
	/* The account's own name, not the one typed: where NSS matches
	 * names without regard to case, "ALICE" must not reach a maildrop
	 * or a session lock of its own beside alice's.  It goes into paths
	 * (%u), so it must pass the same check. */
	if (pw.pw_name != NULL &&
	    auth_valid_username(pw.pw_name, strlen(pw.pw_name)))
		auth_copy(k->u.name, sizeof(k->u.name), pw.pw_name);
	k->u.uid = pw.pw_uid;
	k->u.gid = pw.pw_gid;
	k->u.maildrop[0] = '\0';	/* the c->maildrop template applies */
	auth_copy(k->u.home, sizeof(k->u.home), pw.pw_dir);
	if (k->u.name[0] == '\0')
		auth_copy(k->refuse, sizeof(k->refuse), "account name not "
		    "usable as a user name");
	else if (pw.pw_uid == 0)
		auth_copy(k->refuse, sizeof(k->refuse), "uid 0 refused");
	else if (auth_shell_refused(c, pw.pw_shell))
		snprintf(k->refuse, sizeof(k->refuse), "nologin shell %s",
		    pw.pw_shell != NULL && pw.pw_shell[0] != '\0' ?
		    pw.pw_shell : "/bin/sh");
	else if (shadow && auth_shadow(k->u.name, pw.pw_passwd, k, errstr_r,
	    errlen) == -1)
		rc = -1;
done:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static const char *
auth_db_name(int db)
{
	switch (db) {
	case USERDB_FILE:
		return "passwd-file";
	case USERDB_SYSTEM:
		return "system";
	case USERDB_PAM:
		return "pam";
	default:
		return "?";
	}
}

/*
 * Once per process (a fork measures again only what is new to it): the
 * methods in use in the passwd-file and the shadow database, and the
 * cost of each, so that the first check is padded like the others and
 * the measuring falls outside every check.
 */
static void
auth_prepare_dbs(const char *passwd_file, const int *db, size_t ndb)
{
	static pid_t file_done, shadow_done;
	struct auth_entry e;
	char err[AUTH_REASON_MAX], line[AUTH_REASON_MAX * 2];
	pid_t pid = getpid();
	bool use_file = false, use_shadow = false, first = false;
	size_t i;

	for (i = 0; i < ndb; i++) {
		use_file |= db[i] == USERDB_FILE;
		use_shadow |= db[i] == USERDB_SYSTEM;
	}
	if (use_file && file_done != pid) {
		/* Errors and malformed lines are the checks' to report. */
		(void)auth_lookup(passwd_file, NULL, false, &e, err,
		    sizeof(err));
		explicit_bzero(&e, sizeof(e));
		file_done = pid;
		first = true;
	} else if (!use_file) {
		/* Nothing of a passwd-file is in use. */
		auth_timing_scan_begin();
		auth_timing_scan_end(true);
	}
	/* Only root reads shadow; the check then says so. */
	if (use_shadow && shadow_done != pid && geteuid() == 0) {
		auth_timing_note_shadow();
		shadow_done = pid;
		first = true;
	}
	auth_timing_measure();
	if (first && auth_timing_describe(line, sizeof(line)) > 0)
		log_debug("auth: failed checks take %s", line);
}

/*
 * Both entry points: looks user up in db[0, ndb) in order until one knows
 * it, then spends exactly one crypt (real, or on the dummy of the dearest
 * method in use) or one PAM attempt, and pads every failure to the floor
 * of auth_timing.c (which says why).  tag adds the deciding database to a
 * refusal's reason.
 */
static int
auth_run(const struct conf *c, const char *passwd_file, const int *db,
    size_t ndb, bool tag, const char *user, const char *pass,
    const char *rhost, struct auth_user *u, char *errstr_r, size_t errlen)
{
	struct auth_cand k;
	struct timespec t0;
	const char *reason = NULL, *phrase = pass, *why;
	size_t i;
	int rc = AUTH_FAIL, found = 0;
	bool ok, pam = false;

	memset(&k, 0, sizeof(k));
	if (errlen > 0)
		errstr_r[0] = '\0';
	auth_prepare_dbs(passwd_file, db, ndb);
	/* From here on a failure ends at the floor, whatever it did. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pass == NULL || strnlen(pass, AUTH_PASS_MAX + 1) > AUTH_PASS_MAX) {
		reason = "password too long";
		phrase = "";
	} else if (user == NULL ||
	    !auth_valid_username(user, strnlen(user, PARAM_USER_MAX + 1)))
		reason = "invalid user name";
	else {
		for (i = 0; i < ndb && found == 0; i++)
			if (db[i] == USERDB_FILE)
				found = auth_find_file(passwd_file, user, &k,
				    errstr_r, errlen);
			else if (c != NULL && (db[i] == USERDB_SYSTEM ||
			    db[i] == USERDB_PAM))
				found = auth_find_system(c, user,
				    db[i] == USERDB_SYSTEM, &k, errstr_r,
				    errlen);
		if (found == -1)
			rc = AUTH_ERROR;
		else if (found == 0)
			reason = "unknown user";
		else if (k.refuse[0] != '\0')
			reason = k.refuse;
	}

	if (rc != AUTH_ERROR && reason == NULL && k.db == USERDB_PAM) {
		/* PAM's modules spend the one hashing themselves (and
		 * pam_unix's delay runs over the floor by design). */
		pam = true;
		rc = auth_pam_check(k.u.name, phrase, rhost, errstr_r,
		    errlen);
	} else {
		/* Exactly one crypt on every other path, real or dummy. */
		ok = auth_crypt(phrase, rc != AUTH_ERROR && reason == NULL ?
		    k.hash : NULL, auth_timing_dummy(), &why);
		if (rc != AUTH_ERROR && reason == NULL) {
			if (ok)
				rc = AUTH_OK;
			else
				reason = why;
		}
	}

	if (rc == AUTH_OK)
		memcpy(u, &k.u, sizeof(*u));
	else if (reason != NULL && tag && k.db != 0)
		snprintf(errstr_r, errlen, "%s (%s)", reason,
		    auth_db_name(k.db));
	else if (reason != NULL)
		snprintf(errstr_r, errlen, "%s", reason);
	explicit_bzero(&k, sizeof(k));
	/* Only someone who knows the password sees a success. */
	if (rc != AUTH_OK)
		auth_timing_pad(&t0, !pam);
	return rc;
}

int
auth_check(const char *passwd_file, const char *user, const char *pass,
    struct auth_user *u, char *errstr_r, size_t errlen)
{
	static const int file_only[] = { USERDB_FILE };

	return auth_run(NULL, passwd_file, file_only, 1, false, user, pass,
	    NULL, u, errstr_r, errlen);
}

void
auth_prepare(const struct conf *c)
{
	auth_prepare_dbs(c->passwd_file, c->userdb, c->nuserdb);
}

int
auth_login(const struct conf *c, const char *user, const char *pass,
    const char *rhost, struct auth_user *u, char *errstr_r, size_t errlen)
{
	return auth_run(c, c->passwd_file, c->userdb, c->nuserdb, true, user,
	    pass, rhost, u, errstr_r, errlen);
}

bool
auth_verify(const char *phrase, const char *hash)
{
	const char *why;

	return auth_crypt(phrase, hash, auth_timing_default(), &why);
}
