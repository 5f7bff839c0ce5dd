/*
 * check_auth.c: the passwd-file and crypt(3) checks (src/auth.c): yescrypt,
 * SHA-512 and bcrypt hashes, wrong passwords, unknown, locked and uid 0
 * users, malformed lines (skipped and logged with file:line), the file's
 * own safety checks, user-name validation, auth_ct_equal, auth_make_hash,
 * and a check that every failure costs at least one yescrypt.
 * auth_login over the userdb list: ordering, and the system users that
 * any run can see (root, daemon); check_auth_sys.c makes accounts of its
 * own.
 */
#include <crypt.h>
#include <limits.h>
#include <pwd.h>

#include "authtest.h"

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "params.h"

/* Small enough for tu_rmtree's command buffer. */
static char	tmpdir[512];
static char	pwfile[sizeof(tmpdir) + 32];
static char	h_alice[CRYPT_OUTPUT_SIZE];	/* yescrypt, auth_make_hash */

/* Hash of pw with a fresh salt of the method prefix. */
static void
hash_with(const char *prefix, const char *pw, char *buf, size_t len)
{
	struct crypt_data cd;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;

	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, 0, NULL, 0, setting,
	    (int)sizeof(setting)));
	memset(&cd, 0, sizeof(cd));
	h = crypt_rn(pw, setting, &cd, sizeof(cd));
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(strncmp(h, prefix, strlen(prefix)), 0);
	ck_assert_uint_lt(strlen(h), len);
	memcpy(buf, h, strlen(h) + 1);
}

/* Once per test case, in the parent: hashing is the slow part. */
static void
make_passwd(void)
{
	char h_bob[CRYPT_OUTPUT_SIZE], h_carol[CRYPT_OUTPUT_SIZE];
	char h_other[CRYPT_OUTPUT_SIZE], text[8192];
	int n;

	tu_tmpdir(tmpdir, sizeof(tmpdir));
	snprintf(pwfile, sizeof(pwfile), "%s/passwd", tmpdir);
	ck_assert_int_eq(auth_make_hash("alice pw", h_alice, sizeof(h_alice)),
	    0);
	hash_with("$6$", "bob-pw", h_bob, sizeof(h_bob));
	hash_with("$2b$", "carol:pw", h_carol, sizeof(h_carol));
	ck_assert_int_eq(auth_make_hash("other", h_other, sizeof(h_other)), 0);
	n = snprintf(text, sizeof(text),
	    "# postern passwd-file for check_auth\n"	/* 1 */
	    "\n"					/* 2 */
	    "alice:%s:1000:1000:/var/mail/alice-box\n"	/* 3 */
	    "bob:%s:1001:100\n"				/* 4 */
	    "carol:%s:1002:1002:\r\n"			/* 5 */
	    "   # indented comment\n"			/* 6 */
	    "garbage line\n"				/* 7 */
	    "frank:%s:abc:1004\n"			/* 8 */
	    "frank:%s:1004:1004:/home/frank/mbox\n"	/* 9 */
	    "gina:%s:1005:1005\n"			/* 10 */
	    "gina:%s:1006:1006\n"			/* 11 */
	    "-dash:%s:1007:1007\n"			/* 12 */
	    "hank:%s:1008:1008:x:y\n"			/* 13 */
	    "ivan:%s:1009:1009:relative/box\n"		/* 14 */
	    "lock1:!%s:1010:1010\n"			/* 15 */
	    "lock2:*:1011:1011\n"			/* 16 */
	    "lock3::1012:1012\n"			/* 17 */
	    "toor:%s:0:0\n"				/* 18 */
	    "ursula:$9$unknownmethod:1013:1013\n"	/* 19 */
	    "victor:%s:4294967295:1\n"			/* 20 */
	    "walt:%s:1:1\n"				/* 21 */
	    "yves:%s:1016:1016:~/Mail/inbox\n"		/* 22 */
	    "daemon:%s:1:1\n"				/* 23 */
	    "xena:%s:1015:1015\n",			/* 24 */
	    h_alice, h_bob, h_carol, h_alice, h_alice, h_alice, h_other,
	    h_alice, h_alice, h_alice, h_alice, h_alice, h_alice, h_alice,
	    h_alice, h_alice, h_alice);
	ck_assert(n > 0 && (size_t)n < sizeof(text));
	tu_write_file(pwfile, text, (size_t)n);
}

static void
remove_passwd(void)
{
	tu_rmtree(tmpdir);
}

static void
setup(void)
{
	err[0] = '\0';
	/* Malformed-line warnings only where a test looks for them. */
	log_init("check_auth", 1, LOG_MAIL, LOG_ERR);
}

static int
check(const char *user, const char *pass, struct auth_user *u)
{
	int rc;

	memset(u, 0x5a, sizeof(*u));
	rc = auth_check(pwfile, user, pass, u, err, sizeof(err));
	/* Whatever happened, the password is not in the reason. */
	if (pass[0] != '\0')
		ck_assert_msg(strstr(err, pass) == NULL, "password in \"%s\"",
		    err);
	return rc;
}

START_TEST(test_ok_yescrypt)
{
	struct auth_user u;

	ck_assert_int_eq(strncmp(h_alice, "$y$", 3), 0);
	ck_assert_int_eq(check("alice", "alice pw", &u), AUTH_OK);
	ck_assert_str_eq(u.name, "alice");
	ck_assert_uint_eq(u.uid, 1000);
	ck_assert_uint_eq(u.gid, 1000);
	ck_assert_str_eq(u.maildrop, "/var/mail/alice-box");
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_ok_sha512)
{
	struct auth_user u;

	ck_assert_int_eq(check("bob", "bob-pw", &u), AUTH_OK);
	ck_assert_str_eq(u.name, "bob");
	ck_assert_uint_eq(u.uid, 1001);
	ck_assert_uint_eq(u.gid, 100);
	ck_assert_str_eq(u.maildrop, "");	/* no maildrop field */
}
END_TEST

START_TEST(test_ok_bcrypt)
{
	struct auth_user u;

	/* CRLF line end and an empty maildrop field. */
	ck_assert_int_eq(check("carol", "carol:pw", &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 1002);
	ck_assert_str_eq(u.maildrop, "");
}
END_TEST

START_TEST(test_home)
{
	struct auth_user u;
	struct passwd *pw;
	const char *want;

	ck_assert_int_eq(check("walt", "alice pw", &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 1);
	want = (pw = getpwuid(1)) != NULL ? pw->pw_dir : "";
	ck_assert_str_eq(u.home, want);
}
END_TEST

static const struct {
	const char	*user;
	const char	*pass;
	const char	*reason;
} fails[] = {
	{ "alice", "alice pw ", "bad password" },
	{ "alice", "alice p", "bad password" },
	{ "alice", "", "bad password" },
	{ "alice", "ALICE PW", "bad password" },
	{ "bob", "alice pw", "bad password" },
	{ "carol", "carol", "bad password" },
	{ "Alice", "alice pw", "unknown user" },
	{ "nobody", "alice pw", "unknown user" },
	{ "lock1", "alice pw", "locked account" },
	{ "lock2", "alice pw", "locked account" },
	{ "lock3", "", "locked account" },
	{ "lock3", "alice pw", "locked account" },
	{ "toor", "alice pw", "uid 0 refused" },
	{ "ursula", "x", "unusable hash" },
	/* Malformed lines are skipped, so these users do not exist. */
	{ "hank", "alice pw", "unknown user" },
	{ "ivan", "alice pw", "unknown user" },
	{ "victor", "alice pw", "unknown user" },
	{ "yves", "alice pw", "unknown user" },
	{ "-dash", "alice pw", "invalid user name" },
	{ "../alice", "alice pw", "invalid user name" },
	{ "", "alice pw", "invalid user name" },
};

START_TEST(test_fail)
{
	struct auth_user u, before;

	ck_assert_int_eq(check(fails[_i].user, fails[_i].pass, &u), AUTH_FAIL);
	ck_assert_msg(strstr(err, fails[_i].reason) != NULL,
	    "%s: reason \"%s\", want \"%s\"", fails[_i].user, err,
	    fails[_i].reason);
	/* *u is left alone on failure. */
	memset(&before, 0x5a, sizeof(before));
	ck_assert_mem_eq(&u, &before, sizeof(u));
}
END_TEST

START_TEST(test_first_match)
{
	struct auth_user u;

	/* frank's first line is malformed; the second one counts. */
	ck_assert_int_eq(check("frank", "alice pw", &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 1004);
	ck_assert_str_eq(u.maildrop, "/home/frank/mbox");
	/* gina is listed twice: the first line wins. */
	ck_assert_int_eq(check("gina", "alice pw", &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 1005);
	ck_assert_int_eq(check("gina", "other", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password");
}
END_TEST

/* The scan reads the whole file whoever is asked for: xena is on the
 * last line, alice on line 3, nobody nowhere. */
static const struct {
	const char	*user;
	int		 rc;
} scans[] = {
	{ "xena", AUTH_OK }, { "alice", AUTH_OK }, { "nobody", AUTH_FAIL },
};

START_TEST(test_malformed_logged)
{
	char logf[sizeof(tmpdir) + 32], want[sizeof(pwfile) + 64], *text;
	struct auth_user u;
	static const int lines[] = { 7, 8, 12, 13, 14, 20, 22 };
	size_t i;
	int fd;

	snprintf(logf, sizeof(logf), "%s/log.%d", tmpdir, (int)getpid());
	fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	log_init("check_auth", 1, LOG_MAIL, LOG_DEBUG);
	ck_assert_int_eq(check(scans[_i].user, "alice pw", &u), scans[_i].rc);
	fflush(stderr);
	text = tu_read_file(logf, NULL);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(want, sizeof(want), "%s:%d: malformed line skipped",
		    pwfile, lines[i]);
		ck_assert_msg(strstr(text, want) != NULL, "no \"%s\" in "
		    "\"%s\"", want, text);
	}
	/* Nothing else is malformed, and no hash reaches the log. */
	snprintf(want, sizeof(want), "%s:%d:", pwfile, 9);
	ck_assert_ptr_null(strstr(text, want));
	ck_assert_ptr_null(strstr(text, h_alice));
	/* The method and cost may be logged (auth_timing), not the salt. */
	ck_assert_ptr_null(strstr(text, strrchr(h_alice, '$') - 8));
	free(text);
}
END_TEST

START_TEST(test_file_errors)
{
	struct auth_user u;
	char missing[sizeof(tmpdir) + 32], copy[sizeof(tmpdir) + 32];
	char *text;
	size_t len;

	snprintf(missing, sizeof(missing), "%s/no-such-file", tmpdir);
	ck_assert_int_eq(auth_check(missing, "alice", "alice pw", &u, err,
	    sizeof(err)), AUTH_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "cannot read passwd-file"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));

	/* A directory, and a file others could write, are refused. */
	ck_assert_int_eq(auth_check(tmpdir, "alice", "alice pw", &u, err,
	    sizeof(err)), AUTH_ERROR);
	snprintf(copy, sizeof(copy), "%s/passwd.%d", tmpdir, (int)getpid());
	text = tu_read_file(pwfile, &len);
	tu_write_file(copy, text, len);
	free(text);
	ck_assert_int_eq(chmod(copy, 0620), 0);
	ck_assert_int_eq(auth_check(copy, "alice", "alice pw", &u, err,
	    sizeof(err)), AUTH_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "not writable by group or others"));
	ck_assert_int_eq(chmod(copy, 0602), 0);
	ck_assert_int_eq(auth_check(copy, "alice", "alice pw", &u, err,
	    sizeof(err)), AUTH_ERROR);
	ck_assert_int_eq(chmod(copy, 0644), 0);
	ck_assert_int_eq(auth_check(copy, "alice", "alice pw", &u, err,
	    sizeof(err)), AUTH_OK);
	unlink(copy);
}
END_TEST

/* The longest password checked: ours, or libxcrypt's if lower. */
#define PASS_MAX	(PARAM_PASS_MAX < CRYPT_MAX_PASSPHRASE_SIZE ? \
			 PARAM_PASS_MAX : CRYPT_MAX_PASSPHRASE_SIZE - 1)

START_TEST(test_long_password)
{
	struct auth_user u;
	char *pw, h[CRYPT_OUTPUT_SIZE];

	pw = malloc(PARAM_PASS_MAX + 2);
	ck_assert_ptr_nonnull(pw);
	memset(pw, 'p', PARAM_PASS_MAX + 1);
	pw[PARAM_PASS_MAX + 1] = '\0';
	ck_assert_int_eq(check("alice", pw, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "password too long");
	ck_assert_int_eq(auth_make_hash(pw, h, sizeof(h)), -1);
	pw[PASS_MAX + 1] = '\0';
	ck_assert_int_eq(check("alice", pw, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "password too long");
	/* PASS_MAX itself is checked (and wrong here)... */
	pw[PASS_MAX] = '\0';
	ck_assert_int_eq(check("alice", pw, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password");
	/* ...and can be right. */
	ck_assert_int_eq(auth_make_hash(pw, h, sizeof(h)), 0);
	free(pw);
}
END_TEST

static const struct {
	const char	*name;
	size_t		 len;		/* 0: strlen(name) */
	bool		 ok;
} names[] = {
	{ "", 0, false },
	{ "a", 0, true },
	{ "alice", 0, true },
	{ "a.b_c-d9", 0, true },
	{ "_apt", 0, true },
	{ "A0", 0, true },
	{ "x-", 0, true },
	{ "x.", 0, true },
	{ "../x", 0, false },
	{ "a/b", 0, false },
	{ ".hidden", 0, false },
	{ "-x", 0, false },
	{ "name\0x", 6, false },
	{ "name\0x", 4, true },
	{ "caf\xc3\xa9", 0, false },
	{ "\xff", 0, false },
	{ "a b", 0, false },
	{ "a:b", 0, false },
	{ "a@b", 0, false },
	{ "a\n", 0, false },
	{ "a%u", 0, false },
	{ "a~", 0, false },
};

START_TEST(test_username)
{
	size_t len = names[_i].len != 0 ? names[_i].len :
	    strlen(names[_i].name);

	ck_assert_msg(auth_valid_username(names[_i].name, len) ==
	    names[_i].ok, "name %d", _i);
}
END_TEST

START_TEST(test_username_length)
{
	char name[PARAM_USER_MAX + 2];

	memset(name, 'u', sizeof(name));
	ck_assert(auth_valid_username(name, PARAM_USER_MAX));
	ck_assert(!auth_valid_username(name, PARAM_USER_MAX + 1));
	ck_assert(!auth_valid_username(name, 0));
	ck_assert(!auth_valid_username(NULL, 1));
}
END_TEST

START_TEST(test_ct_equal)
{
	unsigned char a[64], b[64];

	memset(a, 0x11, sizeof(a));
	memcpy(b, a, sizeof(b));
	ck_assert(auth_ct_equal(a, b, sizeof(a)));
	ck_assert(auth_ct_equal(a, b, 0));
	b[0] ^= 0x80;
	ck_assert(!auth_ct_equal(a, b, sizeof(a)));
	ck_assert(auth_ct_equal(a + 1, b + 1, sizeof(a) - 1));
	b[0] = a[0];
	b[63] ^= 0x01;
	ck_assert(!auth_ct_equal(a, b, sizeof(a)));
	ck_assert(auth_ct_equal(a, b, sizeof(a) - 1));
	ck_assert(auth_ct_equal("abc", "abd", 2));
	ck_assert(!auth_ct_equal("abc", "abd", 3));
}
END_TEST

START_TEST(test_make_hash)
{
	struct crypt_data cd;
	char h1[CRYPT_OUTPUT_SIZE], h2[CRYPT_OUTPUT_SIZE], small[16];
	const char *r;

	ck_assert_int_eq(auth_make_hash("secret", h1, sizeof(h1)), 0);
	ck_assert_int_eq(auth_make_hash("secret", h2, sizeof(h2)), 0);
	ck_assert_int_eq(strncmp(h1, "$y$", 3), 0);
	ck_assert_str_ne(h1, h2);		/* fresh salt each time */
	memset(&cd, 0, sizeof(cd));
	r = crypt_rn("secret", h1, &cd, sizeof(cd));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r, h1);
	ck_assert_int_eq(auth_make_hash("secret", small, sizeof(small)), -1);
}
END_TEST

START_TEST(test_login_file)
{
	struct conf c;
	struct auth_user u;

	/* The default userdb is the passwd-file alone: as auth_check, but
	 * a refusal names the database that decided. */
	conf_default(&c);
	ck_assert_uint_eq(c.nuserdb, 1);
	ck_assert_int_eq(c.userdb[0], USERDB_FILE);
	snprintf(c.passwd_file, sizeof(c.passwd_file), "%s", pwfile);
	ck_assert_int_eq(login(&c, "alice", "alice pw", &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 1000);
	ck_assert_str_eq(u.maildrop, "/var/mail/alice-box");
	ck_assert_int_eq(login(&c, "alice", "wrong", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password (passwd-file)");
	ck_assert_int_eq(login(&c, "lock2", "alice pw", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "locked account (passwd-file)");
	ck_assert_int_eq(login(&c, "toor", "alice pw", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "uid 0 refused (passwd-file)");
	ck_assert_int_eq(login(&c, "nobody", "alice pw", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "unknown user");
	ck_assert_int_eq(login(&c, "../x", "alice pw", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "invalid user name");
}
END_TEST

START_TEST(test_login_system_visible)
{
	struct conf c;
	struct auth_user u;
	struct passwd *pw;

	/* root is refused in every database, before any shadow read. */
	conf_for(&c, pwfile, USERDB_SYSTEM, 0);
	ck_assert_int_eq(login(&c, "root", "x", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "uid 0 refused (system)");
	conf_for(&c, pwfile, USERDB_PAM, 0);
	ck_assert_int_eq(login(&c, "root", "x", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "uid 0 refused (pam)");
	/* Unknown everywhere. */
	conf_for(&c, pwfile, USERDB_FILE, USERDB_SYSTEM);
	ck_assert_int_eq(login(&c, "postern-tunone", "x", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "unknown user");
	/* daemon's shell is a nologin one on Debian. */
	if ((pw = getpwnam("daemon")) == NULL ||
	    strcmp(pw->pw_shell, "/usr/sbin/nologin") != 0) {
		fprintf(stderr, "check_auth: no daemon user with "
		    "/usr/sbin/nologin: nologin test skipped\n");
		return;
	}
	conf_for(&c, pwfile, USERDB_SYSTEM, 0);
	ck_assert_int_eq(login(&c, "daemon", "x", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "nologin shell /usr/sbin/nologin (system)");
	conf_for(&c, pwfile, USERDB_PAM, 0);
	ck_assert_int_eq(login(&c, "daemon", "x", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "nologin shell /usr/sbin/nologin (pam)");
	/* The passwd-file's daemon shadows the system one... */
	conf_for(&c, pwfile, USERDB_FILE, USERDB_SYSTEM);
	ck_assert_int_eq(login(&c, "daemon", "alice pw", &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 1);
	ck_assert_str_eq(u.maildrop, "");
	ck_assert_int_eq(login(&c, "daemon", "x", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password (passwd-file)");
	/* ...unless the system accounts come first. */
	conf_for(&c, pwfile, USERDB_SYSTEM, USERDB_FILE);
	ck_assert_int_eq(login(&c, "daemon", "alice pw", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "nologin shell /usr/sbin/nologin (system)");
	/* Files-only users are still found after the system accounts. */
	ck_assert_int_eq(login(&c, "alice", "alice pw", &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 1000);
}
END_TEST

START_TEST(test_login_errors)
{
	struct conf c;
	struct auth_user u;
	char missing[sizeof(tmpdir) + 32];

	/* An unreadable passwd-file is an error, not "unknown": the
	 * system accounts behind it must not decide in its place. */
	snprintf(missing, sizeof(missing), "%s/no-such-file", tmpdir);
	conf_for(&c, missing, USERDB_FILE, USERDB_SYSTEM);
	ck_assert_int_eq(login(&c, "alice", "alice pw", &u), AUTH_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "cannot read passwd-file"));
	/* Not root: the shadow entry cannot be read, and that is said. */
	if (geteuid() != 0 && getpwnam("sync") != NULL &&
	    strcmp(getpwnam("sync")->pw_passwd, "x") == 0) {
		conf_for(&c, pwfile, USERDB_SYSTEM, 0);
		snprintf(c.nologin_shells, sizeof(c.nologin_shells), "%s", "");
		ck_assert_int_eq(login(&c, "sync", "x", &u), AUTH_ERROR);
		ck_assert_ptr_nonnull(strstr(err, "needs pop3d started as "
		    "root"));
	}
}
END_TEST

/*
 * Unknown, locked and refused users cost a crypt on a dummy of the
 * dearest method, and every failure is padded to the floor of
 * auth_timing.c: each costs at least one yescrypt, also a wrong password
 * of bob, whose $6$ hash cost its own 1 ms beside yescrypt's 16 before
 * (issue 8).  check_auth_timing.c checks the floor itself.
 */
START_TEST(test_timing)
{
	static const char *users[] = { "alice", "bob", "carol", "nobody",
	    "lock2", "toor" };
	struct conf c;
	size_t i;

	conf_for(&c, pwfile, USERDB_FILE, 0);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		costs_a_crypt(&c, users[i], h_alice);
	/* Unknown in every database; root, refused before any shadow. */
	conf_for(&c, pwfile, USERDB_FILE, USERDB_SYSTEM);
	costs_a_crypt(&c, "postern-tunone", h_alice);
	costs_a_crypt(&c, "root", h_alice);
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	/* yescrypt is slow by design, more so under the sanitizers. */
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, make_passwd, remove_passwd);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_ok_yescrypt);
	tcase_add_test(tc, test_ok_sha512);
	tcase_add_test(tc, test_ok_bcrypt);
	tcase_add_test(tc, test_home);
	tcase_add_loop_test(tc, test_fail, 0,
	    (int)(sizeof(fails) / sizeof(fails[0])));
	tcase_add_test(tc, test_first_match);
	tcase_add_loop_test(tc, test_malformed_logged, 0,
	    (int)(sizeof(scans) / sizeof(scans[0])));
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_long_password);
	tcase_add_loop_test(tc, test_username, 0,
	    (int)(sizeof(names) / sizeof(names[0])));
	tcase_add_test(tc, test_username_length);
	tcase_add_test(tc, test_ct_equal);
	tcase_add_test(tc, test_make_hash);
	tcase_add_test(tc, test_login_file);
	tcase_add_test(tc, test_login_system_visible);
	tcase_add_test(tc, test_login_errors);
	tcase_add_test(tc, test_timing);
	suite_add_tcase(s, tc);

	return s;
}

TU_MAIN(auth_suite)
