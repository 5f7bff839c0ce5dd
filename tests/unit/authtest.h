/*
 * authtest.h: helpers shared by the auth suites (check_auth.c,
 * check_auth_sys.c, check_auth_timing.c): a config naming a passwd-file
 * and a userdb list, a login that checks the hygiene of every answer, and
 * the clock for the timing checks.  Each suite gets its own err.
 */
#ifndef POSTERN_AUTHTEST_H
#define POSTERN_AUTHTEST_H

#include <crypt.h>
#include <stdint.h>
#include <time.h>

#include "testutil.h"

#include "auth.h"
#include "conf.h"

/* The reason of the last login or check. */
static char	err[1024];

/* A config with passwd_file = file and the userdb list db1 [db2]. */
static inline void
conf_for(struct conf *c, const char *file, int db1, int db2)
{
	conf_default(c);
	snprintf(c->passwd_file, sizeof(c->passwd_file), "%s", file);
	c->userdb[0] = db1;
	c->nuserdb = 1;
	if (db2 != 0) {
		c->userdb[1] = db2;
		c->nuserdb = 2;
	}
}

/* auth_login, checking that the password is never in the reason and
 * that *u is left alone on failure. */
static inline int
login(const struct conf *c, const char *user, const char *pass,
    struct auth_user *u)
{
	int rc;

	memset(u, 0x5a, sizeof(*u));
	rc = auth_login(c, user, pass, "192.0.2.1", u, err, sizeof(err));
	if (pass[0] != '\0')
		ck_assert_msg(strstr(err, pass) == NULL, "password in \"%s\"",
		    err);
	if (rc != AUTH_OK) {
		struct auth_user before;

		memset(&before, 0x5a, sizeof(before));
		ck_assert_mem_eq(u, &before, sizeof(*u));
	}
	return rc;
}

static inline int64_t
mono_ns(void)
{
	struct timespec t;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t), 0);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One crypt of hash: the fastest of three. */
static inline int64_t
crypt_ns(const char *hash)
{
	struct crypt_data cd;
	int64_t t0, t, best = INT64_MAX;
	int i;

	for (i = 0; i < 3; i++) {
		memset(&cd, 0, sizeof(cd));
		t0 = mono_ns();
		ck_assert_ptr_nonnull(crypt_rn("x", hash, &cd, sizeof(cd)));
		t = mono_ns() - t0;
		best = t < best ? t : best;
	}
	return best;
}

/* How long one login of user takes (want: its result). */
static inline int64_t
login_ns(const struct conf *c, const char *user, const char *pass, int want)
{
	struct auth_user u;
	int64_t t0 = mono_ns();

	ck_assert_int_eq(login(c, user, pass, &u), want);
	return mono_ns() - t0;
}

/* A wrong password for user costs at least one crypt of hash. */
static inline void
costs_a_crypt(const struct conf *c, const char *user, const char *hash)
{
	int64_t one = crypt_ns(hash), took;

	took = login_ns(c, user, "wrong", AUTH_FAIL);
	ck_assert_msg(took >= one, "%s (%s): %lld ns, one crypt %lld ns",
	    user, err, (long long)took, (long long)one);
}

#endif
