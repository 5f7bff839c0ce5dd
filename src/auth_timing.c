/*
 * auth_timing.c: a failed login costs the same whoever the user is and
 * whatever the method of their hash (issue 8, item 4).  Part of the
 * auth module: with auth.c the only caller of crypt(3).  It keeps the
 * (method, cost) pairs in use, those of the passwd-file's last complete
 * scan, of the shadow entries (enumerated once per process) and of the
 * preferred method, each with a setting to run a dummy crypt on (on a
 * fresh salt: no user's) and the measured cost of one crypt; auth.c
 * spends its dummy crypt on the dearest of them and pads every failed
 * check to one floor.
 *
 * Why both, and why this floor.  A wrong password costs the user's own
 * method (a $6$ hash about 1 ms, yescrypt about 16 ms, bcrypt or scrypt
 * far more), an unknown, locked or refused name the dummy's, and the
 * look-ups themselves differ (one NSS call or two, a shadow entry or
 * not).  A dummy of the dearest method makes the refusals without a hash
 * cost at least what any real hash costs, but it cannot make a cheap
 * real hash dear: the padding does.  The floor is AUTH_TIMING_FACTOR
 * times the dearest crypt plus AUTH_TIMING_SLACK_MS, rounded up to a
 * power of two milliseconds (so that the noise of one measurement seldom
 * gives two session masters different floors), and counts from before
 * the first look-up: large enough that a check which does its
 * work (one crypt at most that cost, the look-ups, a scan of a passwd-file
 * of many thousand lines) ends before it on an ordinary machine, so that
 * every failure ends at the same instant however long its own work took;
 * small beside auth_fail_delay, which comes after it.  A check that runs
 * over (a loaded machine, a slow NSS source, a hash of a method no scan
 * saw) is padded to the next multiple of the floor, which keeps the
 * leak to the chance of crossing a multiple, and is logged once.  Costs
 * are measured with a password of the longest length accepted, since
 * SHA-crypt's cost grows with it.  Successful logins are not padded:
 * only someone who knows the password sees one, and it tells them
 * nothing they did not know.
 *
 * Methods are read from the whole passwd-file on every check (the scan
 * reads to the end anyway), so that the floor never depends on which
 * name was asked; a system user's own hash is never added at login for
 * the same reason, only what the shadow enumeration saw.  Runs in the
 * session master (root, or the invoking user in test mode).
 */
#include <sys/types.h>
#include <sys/random.h>

#include <crypt.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "auth_timing.h"
#include "log.h"

/* Preferred method: yescrypt (libxcrypt's default on Debian 12)... */
#define AUTH_PREFIX		"$y$"
/* ...else SHA-512, which every libxcrypt and glibc crypt has. */
#define AUTH_PREFIX_FALLBACK	"$6$"
/* A fixed last resort for the dummy setting if no salt can be made. */
#define AUTH_DUMMY_FIXED	"$6$postern.dummy$"
/* getspent_r scratch: far more than any real entry needs. */
#define AUTH_SHADOW_BUF		16384
#define NS_PER_MS		((int64_t)1000000)
#define NS_PER_S		((int64_t)1000000000)

/* Where a method was seen (struct auth_method's src). */
#define SRC_DEFAULT	0x1	/* the preferred method */
#define SRC_FILE	0x2	/* the passwd-file's last complete scan */
#define SRC_SCAN	0x4	/* the scan under way */
#define SRC_SHADOW	0x8	/* this process's shadow enumeration */

struct auth_method {
	char		 key[AUTH_TIMING_KEY_MAX];
	char		 setting[CRYPT_OUTPUT_SIZE]; /* measured: fresh salt */
	int64_t		 cost_ns;	/* one crypt, or -1 */
	bool		 usable;	/* crypt(3) takes the setting */
	unsigned int	 src;		/* SRC_*; 0: not in use */
};

static struct auth_method	methods[AUTH_TIMING_METHODS];
static size_t			nmethods;
static char			default_setting[CRYPT_GENSALT_OUTPUT_SIZE];
static bool			full_logged, over_logged;

static int64_t
ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NS_PER_S + t->tv_nsec;
}

static bool
id_is(const char *id, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(id, want, len) == 0;
}

int
auth_timing_key(const char *hash, char *key, size_t keylen,
    size_t *setting_len_r)
{
	const char *id, *p, *q, *last;
	size_t n = strlen(hash), idlen, klen, slen;

	if (hash[0] == '$') {
		id = hash + 1;
		if ((p = strchr(id, '$')) == NULL || p == id)
			return -1;
		idlen = (size_t)(p - id);
		if (id_is(id, idlen, "2a") || id_is(id, idlen, "2b") ||
		    id_is(id, idlen, "2x") || id_is(id, idlen, "2y")) {
			/* "$2b$10$" and 22 characters of salt. */
			if (p[1] < '0' || p[1] > '9' || p[2] < '0' ||
			    p[2] > '9' || p[3] != '$')
				return -1;
			klen = (size_t)(p + 4 - hash);
			slen = klen + 22;
			if (n < slen)
				return -1;
		} else {
			if (id_is(id, idlen, "y") || id_is(id, idlen, "gy") ||
			    id_is(id, idlen, "sha1") ||
			    ((id_is(id, idlen, "5") || id_is(id, idlen, "6")) &&
			    strncmp(p + 1, "rounds=", 7) == 0)) {
				/* The parameters are the next field. */
				if ((q = strchr(p + 1, '$')) == NULL)
					return -1;
				klen = (size_t)(q + 1 - hash);
			} else if (id_is(id, idlen, "7")) {
				/* scrypt: N, r and p in 11 characters. */
				klen = (size_t)(p + 1 - hash) + 11;
				if (n < klen)
					return -1;
			} else
				/* No parameters, or inside the id ("$md5,
				 * rounds=N$"): $1$, $5$, $6$, $md5... */
				klen = (size_t)(p + 1 - hash);
			/* The hash part follows the last '$', if any is past
			 * the key. */
			last = strrchr(hash, '$');
			slen = last >= hash + klen ? (size_t)(last - hash) : n;
		}
	} else if (hash[0] == '_') {
		/* BSDi: '_', 4 characters of count, 4 of salt. */
		klen = 5;
		slen = 9;
		if (n < slen)
			return -1;
	} else {
		/* Traditional DES (and bigcrypt): two characters of salt. */
		if (n < 13 || strspn(hash, "./0123456789ABCDEFGHIJKLMNOPQRSTUVW"
		    "XYZabcdefghijklmnopqrstuvwxyz") < 2)
			return -1;
		klen = 0;
		slen = 2;
	}
	if (klen >= keylen || slen == 0)
		return -1;
	memcpy(key, hash, klen);
	key[klen] = '\0';
	*setting_len_r = slen;
	return 0;
}

/* Records the method of hash as seen by src. */
static void
note(const char *hash, unsigned int src)
{
	struct auth_method *m = NULL;
	char key[AUTH_TIMING_KEY_MAX];
	size_t slen, i;

	if (auth_hash_locked(hash) ||
	    auth_timing_key(hash, key, sizeof(key), &slen) == -1 ||
	    slen >= sizeof(m->setting))
		return;
	for (i = 0; i < nmethods; i++)
		if (strcmp(methods[i].key, key) == 0) {
			methods[i].src |= src;
			return;
		}
	if (nmethods < AUTH_TIMING_METHODS)
		m = &methods[nmethods++];
	else
		/* Full: reuse one no database names any more. */
		for (i = 0; i < nmethods && m == NULL; i++)
			if (methods[i].src == 0)
				m = &methods[i];
	if (m == NULL) {
		if (!full_logged)
			log_warnx("auth: more than %d hash methods and costs "
			    "in use; failed logins for the others may take "
			    "longer than the floor", AUTH_TIMING_METHODS);
		full_logged = true;
		return;
	}
	memcpy(m->key, key, strlen(key) + 1);
	memcpy(m->setting, hash, slen);
	m->setting[slen] = '\0';
	m->cost_ns = -1;
	m->usable = false;
	m->src = src;
}

int
auth_timing_gensalt(char *buf, size_t len)
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

const char *
auth_timing_default(void)
{
	if (default_setting[0] == '\0') {
		if (auth_timing_gensalt(default_setting,
		    sizeof(default_setting)) == -1) {
			log_warnx("auth: cannot make a salt, using a fixed "
			    "dummy");
			snprintf(default_setting, sizeof(default_setting),
			    "%s", AUTH_DUMMY_FIXED);
		}
		/* First, so that its fresh setting is the one kept. */
		note(default_setting, SRC_DEFAULT);
	}
	return default_setting;
}

void
auth_timing_scan_begin(void)
{
	size_t i;

	(void)auth_timing_default();
	for (i = 0; i < nmethods; i++)
		methods[i].src &= ~(unsigned int)SRC_SCAN;
}

void
auth_timing_note(const char *hash)
{
	note(hash, SRC_SCAN);
}

void
auth_timing_scan_end(bool complete)
{
	struct auth_method *m;
	size_t i;

	for (i = 0; i < nmethods; i++) {
		m = &methods[i];
		if (complete)
			m->src &= ~(unsigned int)SRC_FILE;
		if (m->src & SRC_SCAN)
			m->src |= SRC_FILE;
		m->src &= ~(unsigned int)SRC_SCAN;
	}
}

void
auth_timing_note_shadow(void)
{
	struct spwd sp, *spp;
	char buf[AUTH_SHADOW_BUF];

	(void)auth_timing_default();
	setspent();
	while (getspent_r(&sp, buf, sizeof(buf), &spp) == 0 && spp != NULL)
		if (sp.sp_pwdp != NULL)
			note(sp.sp_pwdp, SRC_SHADOW);
	endspent();
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&sp, sizeof(sp));
}

/*
 * Replaces the salt of a setting whose key is klen long with random
 * characters, but for its last one: some methods (yescrypt) allow only a
 * few values there.  The dummy then holds no user's salt (a parent that
 * measured passes its tables to the pre-auth children it forks).
 */
static void
fresh_salt(char *setting, size_t klen)
{
	static const char b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz";
	unsigned char r[CRYPT_OUTPUT_SIZE];
	size_t i, last = 0, len = strlen(setting);

	for (i = klen; i < len; i++)
		if (strchr(b64, setting[i]) != NULL)
			last = i;
	if (last <= klen || getrandom(r, last - klen, 0) !=
	    (ssize_t)(last - klen))
		return;
	for (i = klen; i < last; i++)
		if (strchr(b64, setting[i]) != NULL)
			setting[i] = b64[r[i - klen] % 64];
	explicit_bzero(r, sizeof(r));
}

/* How long one crypt of setting takes with the longest password accepted
 * (SHA-crypt costs grow with it), or -1 if crypt(3) refuses it. */
static int64_t
time_crypt(const char *setting)
{
	static char probe[AUTH_PASS_MAX + 1];
	struct crypt_data cd;
	struct timespec a, b;
	const char *h;

	if (probe[0] == '\0')
		memset(probe, 'p', AUTH_PASS_MAX);
	memset(&cd, 0, sizeof(cd));
	clock_gettime(CLOCK_MONOTONIC, &a);
	h = crypt_rn(probe, setting, &cd, sizeof(cd));
	clock_gettime(CLOCK_MONOTONIC, &b);
	explicit_bzero(&cd, sizeof(cd));
	return h != NULL && h[0] != '*' ? ts_ns(&b) - ts_ns(&a) : -1;
}

/* Measures m on a fresh salt, or on the one seen if crypt(3) refuses
 * that (a method this file knows too little about). */
static void
measure_one(struct auth_method *m)
{
	char fresh[sizeof(m->setting)];
	int64_t t;

	memcpy(fresh, m->setting, sizeof(fresh));
	fresh_salt(fresh, strlen(m->key));
	if ((t = time_crypt(fresh)) >= 0)
		memcpy(m->setting, fresh, sizeof(fresh));
	else
		t = time_crypt(m->setting);
	m->usable = t >= 0;
	m->cost_ns = t >= 0 ? t : 0;
	explicit_bzero(fresh, sizeof(fresh));
}

void
auth_timing_measure(void)
{
	size_t i;

	(void)auth_timing_default();
	for (i = 0; i < nmethods; i++)
		if (methods[i].src != 0 && methods[i].cost_ns < 0)
			measure_one(&methods[i]);
}

/* The dearest usable method in use; the default when nothing else is. */
static const struct auth_method *
dearest(void)
{
	const struct auth_method *best = NULL;
	size_t i;

	auth_timing_measure();
	for (i = 0; i < nmethods; i++)
		if (methods[i].src != 0 && methods[i].usable &&
		    (best == NULL || methods[i].cost_ns > best->cost_ns))
			best = &methods[i];
	return best;
}

const char *
auth_timing_dummy(void)
{
	const struct auth_method *m = dearest();

	return m != NULL ? m->setting : auth_timing_default();
}

int64_t
auth_timing_floor_ns(void)
{
	const struct auth_method *m = dearest();
	int64_t want, floor_ns = NS_PER_MS;

	want = (m != NULL ? m->cost_ns : 0) * AUTH_TIMING_FACTOR +
	    AUTH_TIMING_SLACK_MS * NS_PER_MS;
	/* A power of two milliseconds: one measurement's noise then
	 * seldom moves the floor from one process to the next. */
	while (floor_ns < want && floor_ns < INT64_MAX / 2)
		floor_ns *= 2;
	return floor_ns;
}

void
auth_timing_pad(const struct timespec *t0, bool warn)
{
	struct timespec now, until;
	int64_t floor_ns = auth_timing_floor_ns(), took, k, end;

	clock_gettime(CLOCK_MONOTONIC, &now);
	took = ts_ns(&now) - ts_ns(t0);
	k = took <= floor_ns ? 1 : (took + floor_ns - 1) / floor_ns;
	if (k > 1 && warn && !over_logged) {
		log_warnx("auth: a failed check took %" PRId64 " ms, over "
		    "the %" PRId64 " ms floor; padded to %" PRId64 " floors",
		    took / NS_PER_MS, floor_ns / NS_PER_MS, k);
		over_logged = true;
	}
	end = ts_ns(t0) + k * floor_ns;
	until.tv_sec = (time_t)(end / NS_PER_S);
	until.tv_nsec = (long)(end % NS_PER_S);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until,
	    NULL) == EINTR)
		;
}

int
auth_timing_describe(char *buf, size_t len)
{
	const struct auth_method *m = dearest(), *x;
	int64_t floor_ns = auth_timing_floor_ns();
	size_t i, off;
	int n;

	n = snprintf(buf, len, "floor %" PRId64 ".%03" PRId64 " ms, dummy "
	    "%s;", floor_ns / NS_PER_MS, floor_ns % NS_PER_MS / 1000,
	    m == NULL ? "none" : m->key[0] != '\0' ? m->key : "DES");
	for (i = 0; i < nmethods && n >= 0; i++) {
		x = &methods[i];
		if (x->src == 0)
			continue;
		off = (size_t)n < len ? (size_t)n : len;
		n += snprintf(buf + off, len - off, " %s %" PRId64 ".%03"
		    PRId64 " ms%s%s%s%s", x->key[0] != '\0' ? x->key : "DES",
		    x->cost_ns / NS_PER_MS, x->cost_ns % NS_PER_MS / 1000,
		    x->usable ? "" : " (unusable)",
		    x->src & SRC_DEFAULT ? " default" : "",
		    x->src & SRC_FILE ? " file" : "",
		    x->src & SRC_SHADOW ? " shadow" : "");
	}
	return n;
}
