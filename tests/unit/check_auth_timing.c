/*
 * check_auth_timing.c: what a failed login costs (src/auth_timing.c and
 * its use in src/auth.c).  Every class of failure, from the passwd-file
 * and from the system accounts any run can see (unknown, bad password
 * for a yescrypt and a $6$ user, locked, uid 0, unusable hash, invalid
 * name, overlong password, nologin shell, an unreadable passwd-file),
 * ends no earlier than the floor; a success is not padded; auth_prepare
 * measures the methods before any check; the dummy is the dearest method
 * in the file, on a salt of its own; the methods in use follow the whole
 * file on every check (a line added after the user's is seen); a check
 * that runs over the floor ends on a multiple of it.  Bounds are
 * one-sided (no upper bound on a failure): the padding is a sleep until a
 * deadline, so a lower bound holds on any machine.
 */
#include <crypt.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authtest.h"

#include "auth.h"
#include "auth_timing.h"
#include "conf.h"
#include "log.h"
#include "params.h"

static char	tmpdir[512];
static char	pwfile[sizeof(tmpdir) + 32];
static char	h_yes[CRYPT_OUTPUT_SIZE];	/* "ann pw", yescrypt */
static char	h_sha[CRYPT_OUTPUT_SIZE];	/* "ben pw", $6$ */

/* A hash of pw on a fresh setting of prefix, with count (0: default). */
static void
make_hash(const char *prefix, unsigned long count, const char *pw,
    char *buf, size_t len)
{
	struct crypt_data cd;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;

	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, count, NULL, 0,
	    setting, (int)sizeof(setting)));
	memset(&cd, 0, sizeof(cd));
	ck_assert_ptr_nonnull(h = crypt_rn(pw, setting, &cd, sizeof(cd)));
	ck_assert_uint_lt(strlen(h), len);
	memcpy(buf, h, strlen(h) + 1);
}

static void
write_passwd(const char *path, const char *extra)
{
	char text[8192];
	int n;

	n = snprintf(text, sizeof(text),
	    "ann:%s:1000:1000\n"
	    "ben:%s:1001:1001\n"
	    "lok:!%s:1002:1002\n"
	    "zero:%s:0:0\n"
	    "odd:$9$nosuchmethod:1003:1003\n"
	    "%s", h_yes, h_sha, h_yes, h_yes, extra);
	ck_assert(n > 0 && (size_t)n < sizeof(text));
	tu_write_file(path, text, (size_t)n);
}

/* Once, in the parent: hashing is the slow part. */
static void
make_files(void)
{
	tu_tmpdir(tmpdir, sizeof(tmpdir));
	snprintf(pwfile, sizeof(pwfile), "%s/passwd", tmpdir);
	ck_assert_int_eq(auth_make_hash("ann pw", h_yes, sizeof(h_yes)), 0);
	make_hash("$6$", 0, "ben pw", h_sha, sizeof(h_sha));
	write_passwd(pwfile, "");
}

static void
remove_files(void)
{
	tu_rmtree(tmpdir);
}

static void
setup(void)
{
	err[0] = '\0';
	log_init("check_auth_timing", 1, LOG_MAIL, LOG_ERR);
}

static const struct {
	const char	*user;
	const char	*pass;		/* NULL: longer than accepted */
	int		 db1, db2;
	bool		 missing;	/* no such passwd-file */
	int		 rc;
	const char	*reason;
} classes[] = {
	{ "ann", "wrong", USERDB_FILE, 0, false, AUTH_FAIL, "bad password" },
	{ "ben", "wrong", USERDB_FILE, 0, false, AUTH_FAIL, "bad password" },
	{ "nosuch", "wrong", USERDB_FILE, 0, false, AUTH_FAIL, "unknown" },
	{ "lok", "wrong", USERDB_FILE, 0, false, AUTH_FAIL, "locked" },
	{ "zero", "wrong", USERDB_FILE, 0, false, AUTH_FAIL, "uid 0" },
	{ "odd", "wrong", USERDB_FILE, 0, false, AUTH_FAIL, "unusable" },
	{ "-bad", "wrong", USERDB_FILE, 0, false, AUTH_FAIL, "invalid" },
	{ "ann", NULL, USERDB_FILE, 0, false, AUTH_FAIL, "too long" },
	{ "ann", "wrong", USERDB_FILE, 0, true, AUTH_ERROR, "cannot read" },
	{ "root", "wrong", USERDB_FILE, USERDB_SYSTEM, false, AUTH_FAIL,
	    "uid 0 refused (system)" },
	{ "daemon", "wrong", USERDB_SYSTEM, 0, false, AUTH_FAIL,
	    "nologin shell" },
	{ "postern-tunone", "wrong", USERDB_FILE, USERDB_SYSTEM, false,
	    AUTH_FAIL, "unknown" },
};

/* Every class of failure ends no earlier than the floor. */
START_TEST(test_floor_every_class)
{
	char missing[sizeof(tmpdir) + 32], *longpw;
	struct passwd *pw;
	struct conf c;
	int64_t took, floor_ns;

	if (strcmp(classes[_i].user, "daemon") == 0 &&
	    ((pw = getpwnam("daemon")) == NULL ||
	    strcmp(pw->pw_shell, "/usr/sbin/nologin") != 0)) {
		fprintf(stderr, "check_auth_timing: no daemon user with "
		    "/usr/sbin/nologin: nologin class skipped\n");
		return;
	}
	snprintf(missing, sizeof(missing), "%s/no-such-file", tmpdir);
	conf_for(&c, classes[_i].missing ? missing : pwfile,
	    classes[_i].db1, classes[_i].db2);
	ck_assert_ptr_nonnull(longpw = malloc(PARAM_PASS_MAX + 2));
	memset(longpw, 'p', PARAM_PASS_MAX + 1);
	longpw[PARAM_PASS_MAX + 1] = '\0';
	took = login_ns(&c, classes[_i].user, classes[_i].pass != NULL ?
	    classes[_i].pass : longpw, classes[_i].rc);
	free(longpw);
	ck_assert_msg(strstr(err, classes[_i].reason) != NULL,
	    "%s: reason \"%s\"", classes[_i].user, err);
	floor_ns = auth_timing_floor_ns();
	/* The floor covers the dearest method twice over. */
	ck_assert_int_ge(floor_ns, AUTH_TIMING_SLACK_MS * 1000000);
	ck_assert_msg(took >= floor_ns, "%s (%s): %lld ns, floor %lld ns",
	    classes[_i].user, err, (long long)took, (long long)floor_ns);
}
END_TEST

/* A success is not padded: a $6$ login takes far less than the floor. */
START_TEST(test_success_not_padded)
{
	struct conf c;
	int64_t took;

	conf_for(&c, pwfile, USERDB_FILE, 0);
	(void)login_ns(&c, "ben", "ben pw", AUTH_OK);	/* prepares */
	took = login_ns(&c, "ben", "ben pw", AUTH_OK);
	ck_assert_msg(took < auth_timing_floor_ns() / 2, "%lld ns, floor "
	    "%lld ns", (long long)took, (long long)auth_timing_floor_ns());
}
END_TEST

/* auth_prepare measures the file's methods before any check. */
START_TEST(test_prepare)
{
	char desc[1024];
	const char *y, *six;
	double ycost, sixcost;
	struct conf c;

	conf_for(&c, pwfile, USERDB_FILE, 0);
	auth_prepare(&c);
	auth_timing_describe(desc, sizeof(desc));
	/* The dummy is the dearer of the two methods as measured here (on
	 * a sanitizer build a long $6$ password may cost more than
	 * yescrypt). */
	ck_assert_msg((y = strstr(desc, "; $y$j9T$ ")) != NULL, "%s", desc);
	ck_assert_msg((six = strstr(desc, " $6$ ")) != NULL, "%s", desc);
	ycost = strtod(y + strlen("; $y$j9T$ "), NULL);
	sixcost = strtod(six + strlen(" $6$ "), NULL);
	ck_assert_msg(strstr(desc, ycost >= sixcost ? "dummy $y$j9T$;" :
	    "dummy $6$;") != NULL, "%s", desc);
	ck_assert_msg(strstr(desc, "$6$ 0.000") == NULL &&
	    strstr(desc, "$y$j9T$ 0.000") == NULL, "%s", desc);
	ck_assert_msg(strstr(desc, "$9$ 0.000 ms (unusable) file") != NULL,
	    "%s", desc);
}
END_TEST

/* SHA-512 with many rounds: dearer than yescrypt's default. */
#define DEAR_ROUNDS	60000
#define DEAR_KEY	"$6$rounds=60000$"

/*
 * The dummy is the dearest method of the file, wherever its line is, and
 * the methods follow the file on every check: a line added after the
 * user's is seen by the next check of that user, and forgotten once
 * removed.
 */
START_TEST(test_dearest_whole_file)
{
	char file[sizeof(tmpdir) + 32], dear[CRYPT_OUTPUT_SIZE];
	char line[CRYPT_OUTPUT_SIZE + 64], desc[1024];
	struct conf c;
	int64_t before;

	snprintf(file, sizeof(file), "%s/passwd.%d", tmpdir, (int)getpid());
	write_passwd(file, "");
	conf_for(&c, file, USERDB_FILE, 0);
	(void)login_ns(&c, "ann", "wrong", AUTH_FAIL);
	auth_timing_describe(desc, sizeof(desc));
	ck_assert_msg(strstr(desc, DEAR_KEY) == NULL, "%s", desc);
	before = auth_timing_floor_ns();

	make_hash("$6$", DEAR_ROUNDS, "dear pw", dear, sizeof(dear));
	snprintf(line, sizeof(line), "last:%s:1010:1010\n", dear);
	write_passwd(file, line);
	/* ann is on the first line; the new method is on the last. */
	(void)login_ns(&c, "ann", "wrong", AUTH_FAIL);
	auth_timing_describe(desc, sizeof(desc));
	ck_assert_msg(strstr(desc, "dummy " DEAR_KEY ";") != NULL, "%s", desc);
	/* Its method and cost, on a salt of its own, not last's. */
	ck_assert_int_eq(strncmp(auth_timing_dummy(), DEAR_KEY,
	    strlen(DEAR_KEY)), 0);
	ck_assert_int_ne(strncmp(auth_timing_dummy(), dear,
	    strlen(DEAR_KEY) + 8), 0);
	ck_assert_msg(strstr(desc, DEAR_KEY " ") != NULL, "%s", desc);
	ck_assert_int_gt(auth_timing_floor_ns(), before);
	/* An unknown name now costs the dear dummy and the higher floor. */
	ck_assert_int_ge(login_ns(&c, "nosuch", "wrong", AUTH_FAIL),
	    auth_timing_floor_ns());

	write_passwd(file, "");
	(void)login_ns(&c, "ann", "wrong", AUTH_FAIL);
	auth_timing_describe(desc, sizeof(desc));
	ck_assert_msg(strstr(desc, DEAR_KEY) == NULL, "%s", desc);
	ck_assert_int_eq(auth_timing_floor_ns(), before);
	unlink(file);
}
END_TEST

/*
 * A check that runs over the floor ends on a multiple of it: a user whose
 * method the tables could not keep (all AUTH_TIMING_METHODS slots hold
 * cheaper ones) costs more than the floor, and is padded to two floors
 * or more; the overrun is logged.
 */
START_TEST(test_overrun_multiple)
{
	char file[sizeof(tmpdir) + 32], logf[sizeof(tmpdir) + 32], *text;
	char h[CRYPT_OUTPUT_SIZE], body[16384];
	struct conf c;
	size_t off = 0;
	int64_t took, floor_ns;
	int i, n, fd;

	snprintf(file, sizeof(file), "%s/passwd.%d", tmpdir, (int)getpid());
	/* The default method plus 15 cheap ones fill the table... */
	for (i = 1; i < AUTH_TIMING_METHODS; i++) {
		make_hash("$6$", 1000 + (unsigned long)i, "x", h, sizeof(h));
		n = snprintf(body + off, sizeof(body) - off,
		    "c%d:%s:%d:%d\n", i, h, 2000 + i, 2000 + i);
		ck_assert(n > 0 && (size_t)n < sizeof(body) - off);
		off += (size_t)n;
	}
	/* ...so the last, dear one is not kept: its crypt (a short
	 * password, about 20 ms per 100000 rounds) runs over the floor. */
	make_hash("$6$", 999999, "x", h, sizeof(h));
	n = snprintf(body + off, sizeof(body) - off, "dear:%s:3000:3000\n",
	    h);
	ck_assert(n > 0 && (size_t)n < sizeof(body) - off);
	tu_write_file(file, body, off + (size_t)n);

	snprintf(logf, sizeof(logf), "%s/log.%d", tmpdir, (int)getpid());
	ck_assert_int_ge(fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600),
	    0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	log_init("check_auth_timing", 1, LOG_MAIL, LOG_INFO);
	conf_for(&c, file, USERDB_FILE, 0);
	(void)login_ns(&c, "c1", "wrong", AUTH_FAIL);	/* prepares */
	took = login_ns(&c, "dear", "wrong", AUTH_FAIL);
	floor_ns = auth_timing_floor_ns();
	fflush(stderr);
	text = tu_read_file(logf, NULL);
	ck_assert_msg(strstr(text, "more than 16 hash methods") != NULL,
	    "%s", text);
	ck_assert_msg(took >= 2 * floor_ns, "%lld ns, floor %lld ns",
	    (long long)took, (long long)floor_ns);
	ck_assert_msg(strstr(text, "over the") != NULL, "%s", text);
	free(text);
	unlink(file);
	unlink(logf);
}
END_TEST

static Suite *
auth_timing_suite(void)
{
	Suite *s = suite_create("auth_timing");
	TCase *tc = tcase_create("auth_timing");

	/* Every failure sleeps to the floor; the dear hashes take long. */
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, make_files, remove_files);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_floor_every_class, 0,
	    (int)(sizeof(classes) / sizeof(classes[0])));
	tcase_add_test(tc, test_success_not_padded);
	tcase_add_test(tc, test_prepare);
	tcase_add_test(tc, test_dearest_whole_file);
	tcase_add_test(tc, test_overrun_multiple);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(auth_timing_suite)
