/*
 * authtest.h: helpers shared by the auth suites (check_auth.c,
 * check_auth_sys.c): a config naming a passwd-file and a userdb list,
 * a login that checks the hygiene of every answer, and the timing of a
 * failure against another.  Each suite gets its own err.
 */
#ifndef POSTERN_AUTHTEST_H
#define POSTERN_AUTHTEST_H

#include <stdlib.h>
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

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* How long one failing auth_login takes, in seconds. */
static inline double
time_login(const struct conf *c, const char *user, const char *pass)
{
	struct timespec t0, t1;
	struct auth_user u;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_int_eq(auth_login(c, user, pass, NULL, &u, err,
	    sizeof(err)), AUTH_FAIL);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	return (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Median ratio of time_login(bad) / time_login(good), interleaved. */
static inline double
login_ratio(const struct conf *c, const char *known, const char *other)
{
	enum { RUNS = 7 };
	double k[RUNS], o[RUNS];
	int i;

	(void)time_login(c, other, "warm-up");
	for (i = 0; i < RUNS; i++) {
		k[i] = time_login(c, known, "wrong");
		o[i] = time_login(c, other, "wrong");
	}
	qsort(k, RUNS, sizeof(double), cmp_double);
	qsort(o, RUNS, sizeof(double), cmp_double);
	return o[RUNS / 2] / k[RUNS / 2];
}


#endif
