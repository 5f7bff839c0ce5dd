/*
 * check_auth_sys.c: auth_login for system accounts made for the test, when
 * run as root (useradd; password set with chpasswd -e to a hash of
 * auth_make_hash): good and bad passwords, locked, expired account,
 * expired password, "must change", nologin shell, a passwd-file entry
 * shadowing a system user, PAM when built with it, every failure costing
 * at least one yescrypt, and the account's own name coming back where NSS
 * ignores case (getpwnam_r is wrapped here to do so).  The accounts are
 * named postern-tu<role>-<pid> and removed by a teardown that always runs
 * (leftovers of crashed runs, whose pid is gone, are removed first).
 * Not root: nothing is run.
 */
#include <crypt.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>

#include "authtest.h"

#include "auth.h"
#include "auth_pam.h"
#include "conf.h"
#include "log.h"
#include "params.h"

/*
 * An NSS source that matches names without regard to case, as sssd or
 * LDAP may: while fold_case is set, getpwnam_r looks up the name in lower
 * case.  With odd_name it answers a pw_name that no path may hold.  The
 * suite links auth.c statically, so auth.c's getpwnam_r is this one; it
 * calls libc's for the look-up itself.
 */
static bool	fold_case, odd_name;

int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
    struct passwd **r)
{
	static char odd[] = "odd@name";
	int (*real)(const char *, struct passwd *, char *, size_t,
	    struct passwd **);
	char low[PARAM_USER_MAX + 1];
	size_t i;
	int rc;

	*(void **)&real = dlsym(RTLD_NEXT, "getpwnam_r");
	for (i = 0; fold_case && name[i] != '\0' && i < PARAM_USER_MAX; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	rc = real(fold_case ? low : name, pw, buf, len, r);
	if (odd_name && *r != NULL)
		pw->pw_name = odd;
	return rc;
}

/*
 * System accounts, when root: postern-tu<role>-<pid>, so that runs at the
 * same time do not meet.  Each has the password SYS_PASS, so that a
 * refusal is seen with the right password.
 */
#define SYS_PASS	"Sys pw.ok"
#define SYS_FILE_PASS	"file pw"
#define SYS_PREFIX	"postern-tu"
#define LEFTOVERS_MAX	64	/* accounts of crashed runs removed at once */

static const struct {
	const char	*role;
	const char	*after;		/* run with the name after it */
	const char	*reason;	/* NULL: logs in */
} sys_accounts[] = {
	{ "ok", NULL, NULL },
	{ "lock", "usermod -L", "locked account (system)" },
	{ "exp", "chage -E 2000-01-01", "account expired (system)" },
	{ "pwx", "chage -d 2000-01-01 -M 30", "password expired (system)" },
	{ "chg", "chage -d 0", "password must be changed (system)" },
	{ "nol", "usermod -s /usr/sbin/nologin",
	    "nologin shell /usr/sbin/nologin (system)" },
};
#define NSYS	(sizeof(sys_accounts) / sizeof(sys_accounts[0]))

static char	tu[NSYS][PARAM_USER_MAX];	/* the names of this run */
#define U_OK	tu[0]
#define U_LOCK	tu[1]
#define U_EXP	tu[2]
#define U_CHG	tu[4]
#define U_NOL	tu[5]
static char	sysdir[512];
static char	syspw[sizeof(sysdir) + 32];
static bool	sys_ready;
static char	h_sys[CRYPT_OUTPUT_SIZE];	/* SYS_PASS, yescrypt */

static int
run(const char *cmd, const char *name)
{
	char line[512];

	snprintf(line, sizeof(line), "%.256s %.64s >/dev/null 2>&1", cmd,
	    name);
	return system(line);
}

/* A postern-tu*-PID name whose run is gone (crashed before teardown). */
static bool
leftover(const char *name)
{
	const char *dash = strrchr(name, '-');
	char *end;
	long pid;

	if (strncmp(name, SYS_PREFIX, strlen(SYS_PREFIX)) != 0 ||
	    dash == NULL || dash[1] < '1' || dash[1] > '9')
		return false;
	pid = strtol(dash + 1, &end, 10);
	return *end == '\0' && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

static void
remove_leftovers(void)
{
	char gone[LEFTOVERS_MAX][PARAM_USER_MAX + 1];
	struct passwd *pw;
	struct group *gr;
	size_t n = 0, i;

	setpwent();
	while ((pw = getpwent()) != NULL && n < LEFTOVERS_MAX)
		if (leftover(pw->pw_name))
			snprintf(gone[n++], sizeof(gone[0]), "%s",
			    pw->pw_name);
	endpwent();
	setgrent();
	while ((gr = getgrent()) != NULL && n < LEFTOVERS_MAX)
		if (leftover(gr->gr_name))
			snprintf(gone[n++], sizeof(gone[0]), "%s",
			    gr->gr_name);
	endgrent();
	for (i = 0; i < n; i++) {
		(void)run("userdel", gone[i]);
		(void)run("groupdel", gone[i]);
	}
}

static void
remove_accounts(void)
{
	size_t i;

	for (i = 0; i < NSYS; i++) {
		if (tu[i][0] == '\0')
			continue;
		if (getpwnam(tu[i]) != NULL)
			(void)run("userdel", tu[i]);
		(void)run("groupdel", tu[i]);
	}
	if (sysdir[0] != '\0')
		tu_rmtree(sysdir);
	sysdir[0] = '\0';
}

/* Unchecked fixture (in the parent): no ck_assert, just sys_ready. */
static void
make_accounts(void)
{
	char hf[CRYPT_OUTPUT_SIZE], text[1024];
	const char *t = getenv("TMPDIR");
	FILE *fp;
	size_t i;
	int n;

	sys_ready = false;
	remove_leftovers();
	for (i = 0; i < NSYS; i++)
		snprintf(tu[i], sizeof(tu[i]), "%s%s-%ld", SYS_PREFIX,
		    sys_accounts[i].role, (long)getpid());
	snprintf(sysdir, sizeof(sysdir), "%s/postern-test.XXXXXX",
	    t != NULL ? t : "/tmp");
	if (mkdtemp(sysdir) == NULL) {
		sysdir[0] = '\0';
		return;
	}
	if (auth_make_hash(SYS_PASS, h_sys, sizeof(h_sys)) == -1 ||
	    auth_make_hash(SYS_FILE_PASS, hf, sizeof(hf)) == -1)
		return;
	for (i = 0; i < NSYS; i++) {
		if (run("useradd -M -s /bin/sh", tu[i]) != 0 ||
		    (fp = popen("chpasswd -e", "w")) == NULL) {
			fprintf(stderr, "check_auth_sys: useradd %s\n", tu[i]);
			return;
		}
		fprintf(fp, "%s:%s\n", tu[i], h_sys);
		if (pclose(fp) != 0 || (sys_accounts[i].after != NULL &&
		    run(sys_accounts[i].after, tu[i]) != 0)) {
			fprintf(stderr, "check_auth_sys: setting up %s\n",
			    tu[i]);
			return;
		}
	}
	/* A passwd-file entry for U_OK with its own password and ids, to
	 * see which database decides. */
	snprintf(syspw, sizeof(syspw), "%s/passwd", sysdir);
	n = snprintf(text, sizeof(text), "%s:%s:4242:4243:"
	    "/var/mail/filebox\n", U_OK, hf);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    (fp = fopen(syspw, "w")) == NULL)
		return;
	fputs(text, fp);
	if (fclose(fp) != 0 || chmod(syspw, 0600) != 0)
		return;
	sys_ready = true;
}

static void
sys_setup(void)
{
	err[0] = '\0';
	log_init("check_auth_sys", 1, LOG_MAIL, LOG_ERR);
	ck_assert_msg(sys_ready, "the test accounts could not be made");
}

START_TEST(test_sys_ok)
{
	struct conf c;
	struct auth_user u;
	struct passwd *pw;

	conf_for(&c, syspw, USERDB_SYSTEM, 0);
	ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u), AUTH_OK);
	ck_assert_str_eq(err, "");
	ck_assert_ptr_nonnull(pw = getpwnam(U_OK));
	ck_assert_str_eq(u.name, U_OK);
	ck_assert_uint_eq(u.uid, pw->pw_uid);
	ck_assert_uint_eq(u.gid, pw->pw_gid);
	ck_assert_str_eq(u.home, pw->pw_dir);
	ck_assert_str_eq(u.maildrop, "");	/* the template applies */
	ck_assert_int_eq(login(&c, U_OK, "Sys pw.o", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password (system)");
	ck_assert_int_eq(login(&c, U_OK, "", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password (system)");
}
END_TEST

START_TEST(test_sys_refused)
{
	struct conf c;
	struct auth_user u;
	size_t i = (size_t)_i + 1;

	conf_for(&c, syspw, USERDB_SYSTEM, 0);
	ck_assert_int_eq(login(&c, tu[i], SYS_PASS, &u), AUTH_FAIL);
	ck_assert_msg(strcmp(err, sys_accounts[i].reason) == 0,
	    "%s: reason \"%s\", want \"%s\"", tu[i], err,
	    sys_accounts[i].reason);
}
END_TEST

START_TEST(test_sys_shells)
{
	struct conf c;
	struct auth_user u;

	/* nologin_shells = none (""): any shell is fine. */
	conf_for(&c, syspw, USERDB_SYSTEM, 0);
	c.nologin_shells[0] = '\0';
	ck_assert_int_eq(login(&c, U_NOL, SYS_PASS, &u), AUTH_OK);
	/* A list of our own, with /bin/sh in it, and odd spacing. */
	snprintf(c.nologin_shells, sizeof(c.nologin_shells), "%s",
	    "  /bin/false\t/bin/sh  ");
	ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "nologin shell /bin/sh (system)");
	snprintf(c.nologin_shells, sizeof(c.nologin_shells), "%s",
	    "/bin/shx /bin/s");
	ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u), AUTH_OK);
}
END_TEST

START_TEST(test_sys_order)
{
	struct conf c;
	struct auth_user u;
	struct passwd *pw;

	ck_assert_ptr_nonnull(pw = getpwnam(U_OK));
	/* The passwd-file knows the name: it decides. */
	conf_for(&c, syspw, USERDB_FILE, USERDB_SYSTEM);
	ck_assert_int_eq(login(&c, U_OK, SYS_FILE_PASS, &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, 4242);
	ck_assert_uint_eq(u.gid, 4243);
	ck_assert_str_eq(u.maildrop, "/var/mail/filebox");
	ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password (passwd-file)");
	/* Users only the system knows are still found. */
	ck_assert_int_eq(login(&c, U_LOCK, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "locked account (system)");
	/* The other way round. */
	conf_for(&c, syspw, USERDB_SYSTEM, USERDB_FILE);
	ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u), AUTH_OK);
	ck_assert_uint_eq(u.uid, pw->pw_uid);
	ck_assert_str_eq(u.maildrop, "");
	ck_assert_int_eq(login(&c, U_OK, SYS_FILE_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password (system)");
}
END_TEST

START_TEST(test_sys_pam)
{
	struct conf c;
	struct auth_user u;
	struct passwd *pw;

	conf_for(&c, syspw, USERDB_PAM, 0);
	if (!auth_pam_available()) {
		/* conf.c refuses userdb = pam then; here it is an error. */
		ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u),
		    AUTH_ERROR);
		ck_assert_ptr_nonnull(strstr(err, "without PAM"));
		fprintf(stderr, "check_auth_sys: built without PAM: PAM logins "
		    "not tested (make PAM=1)\n");
		return;
	}
	ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u), AUTH_OK);
	ck_assert_ptr_nonnull(pw = getpwnam(U_OK));
	ck_assert_uint_eq(u.uid, pw->pw_uid);
	ck_assert_uint_eq(u.gid, pw->pw_gid);
	ck_assert_str_eq(u.home, pw->pw_dir);
	ck_assert_str_eq(u.maildrop, "");
	ck_assert_int_eq(login(&c, U_OK, "wrong", &u), AUTH_FAIL);
	ck_assert_ptr_nonnull(strstr(err, "(PAM: "));
	ck_assert_int_eq(login(&c, U_OK, "", &u), AUTH_FAIL);
	ck_assert_int_eq(login(&c, U_LOCK, SYS_PASS, &u), AUTH_FAIL);
	/* Debian's common-account turns pam_unix's "expired" into
	 * pam_deny's failure: only the step that refused is known. */
	ck_assert_int_eq(login(&c, U_EXP, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_msg(strstr(err, "account") != NULL, "err=%s", err);
	ck_assert_int_eq(login(&c, U_CHG, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_msg(strstr(err, "password expired") != NULL, "err=%s",
	    err);
	ck_assert_int_eq(login(&c, U_NOL, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "nologin shell /usr/sbin/nologin (pam)");
	ck_assert_int_eq(login(&c, "postern-tunone", SYS_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "unknown user");
}
END_TEST

/* A known system user's wrong password costs at least one yescrypt, and
 * so do a locked, an expired, a uid-0, a nologin and an unknown name. */
START_TEST(test_sys_timing)
{
	const char *users[] = { U_OK, "postern-tunone", U_LOCK, U_EXP,
	    "root", U_NOL };
	struct conf c;
	size_t i;

	conf_for(&c, syspw, USERDB_SYSTEM, 0);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		costs_a_crypt(&c, users[i], h_sys);
	/* The passwd-file's entry decides; unknown in both. */
	conf_for(&c, syspw, USERDB_FILE, USERDB_SYSTEM);
	costs_a_crypt(&c, U_OK, h_sys);
	costs_a_crypt(&c, "postern-tunone", h_sys);
}
END_TEST

/*
 * The account's own name comes back (and its shadow entry is read by
 * it), not the name typed: "ALICE" must not open a maildrop or a session
 * lock of its own where NSS ignores case (issue 8, section 6).
 */
START_TEST(test_sys_canonical)
{
	char typed[PARAM_USER_MAX + 1];
	struct conf c;
	struct auth_user u;
	size_t i;

	for (i = 0; U_OK[i] != '\0'; i++)
		typed[i] = (char)toupper((unsigned char)U_OK[i]);
	typed[i] = '\0';
	conf_for(&c, syspw, USERDB_SYSTEM, 0);
	/* glibc's files source is case-sensitive... */
	ck_assert_int_eq(login(&c, typed, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "unknown user");
	/* ...one that is not finds the account, named as it is named. */
	fold_case = true;
	ck_assert_int_eq(login(&c, typed, SYS_PASS, &u), AUTH_OK);
	ck_assert_str_eq(u.name, U_OK);
	ck_assert_int_eq(login(&c, typed, "wrong", &u), AUTH_FAIL);
	ck_assert_str_eq(err, "bad password (system)");
	fold_case = false;
	/* A name that cannot go into a path is refused. */
	odd_name = true;
	ck_assert_int_eq(login(&c, U_OK, SYS_PASS, &u), AUTH_FAIL);
	ck_assert_str_eq(err, "account name not usable as a user name "
	    "(system)");
	odd_name = false;
}
END_TEST

static Suite *
auth_sys_suite(void)
{
	Suite *s = suite_create("auth_sys");
	TCase *tc = tcase_create("system");

	if (geteuid() != 0) {
		printf("check_auth_sys: not root: the system-account tests "
		    "(which create accounts with useradd) are skipped\n");
		return s;
	}
	tcase_set_timeout(tc, 240);
	tcase_add_unchecked_fixture(tc, make_accounts, remove_accounts);
	tcase_add_checked_fixture(tc, sys_setup, NULL);
	tcase_add_test(tc, test_sys_ok);
	tcase_add_loop_test(tc, test_sys_refused, 0, (int)NSYS - 1);
	tcase_add_test(tc, test_sys_shells);
	tcase_add_test(tc, test_sys_order);
	tcase_add_test(tc, test_sys_pam);
	tcase_add_test(tc, test_sys_timing);
	tcase_add_test(tc, test_sys_canonical);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(auth_sys_suite)
