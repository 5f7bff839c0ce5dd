/*
 * check_rmcpd.c: the RFC 1339 responder on real files (src/rmcpd.c,
 * src/rmcpd_db.c): the answers from temporary maildrops through
 * rmcpd_answer() (the (0,0,0) cases alike, consent by the owner-execute
 * bit or a list, real ages, secrets), the passwd-file and secrets file
 * rules and reloads, the rmcp_* configuration keys (src/conf.c), and the
 * maildrop times after a POP session (src/maildrop.c) that keep RMCP's
 * "new" and "old" true.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "testutil.h"

#include "auth.h"
#include "conf.h"
#include "maildrop.h"
#include "rmcp.h"

static char	dir[512];
static char	path[sizeof(dir) + 64];

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

static struct rmcp_addr
addr(const char *ip, uint16_t port)
{
	struct rmcp_addr a;

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(inet_pton(AF_INET, ip, a.addr), 1);
	a.family = 4;
	a.port = port;
	return a;
}

static size_t
mkpoll(uint8_t *buf, const char *name)
{
	size_t n = rmcp_put_poll(buf, RMCP_DGRAM_MAX, name);

	ck_assert_uint_gt(n, 0);
	return n;
}

static size_t
mkauth(uint8_t *buf, uint32_t mask, const char *secret)
{
	return rmcp_put_auth(buf, RMCP_DGRAM_MAX, mask, secret,
	    strlen(secret));
}

/* --- The responder on real maildrops ------------------------------------ */

static struct conf rc;
static struct rmcpd *rd;

static void
put(const char *name, const char *data, mode_t mode)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tu_write_file(path, data, strlen(data));
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void
times(const char *name, time_t atime, time_t mtime)
{
	struct timespec ts[2] = { { atime, 0 }, { mtime, 0 } };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW),
	    0);
}

/* A passwd-file for alice..erin and a responder on it. */
static void
responder(bool auth, int ages, int consent, const char *list)
{
	char pw[4096], hash[256], tmpl[sizeof(dir) + 8], err[512];
	const char *users[] = { "alice", "bob", "carol", "dave", "erin" };
	size_t i, o = 0;

	ck_assert_int_eq(auth_make_hash("good", hash, sizeof(hash)), 0);
	for (i = 0; i < 5; i++)
		o += (size_t)snprintf(pw + o, sizeof(pw) - o, "%s:%s:%lu:%lu\n",
		    users[i], hash, 1000UL + i, 1000UL);
	snprintf(pw + o, sizeof(pw) - o, "# comment\nbroken line\n"
	    "locked:!%s:1100:1000\nroot:%s:0:0\nalice:%s:1:1:/elsewhere\n",
	    hash, hash, hash);
	put("passwd", pw, 0600);
	snprintf(pw, sizeof(pw), "carol:%s\n# x\nalice:%s\nbad line\n"
	    "alice:$6$zzzzzzzz$\n", hash, hash);
	put("secrets", pw, 0600);
	conf_default(&rc);
	snprintf(rc.passwd_file, sizeof(rc.passwd_file), "%s/passwd", dir);
	snprintf(rc.rmcp_secrets_file, sizeof(rc.rmcp_secrets_file),
	    "%s/secrets", dir);
	snprintf(tmpl, sizeof(tmpl), "%s/%%u", dir);
	snprintf(rc.maildrop, sizeof(rc.maildrop), "%s", tmpl);
	rc.rmcp_enabled = 1;
	rc.rmcp_auth = auth;
	rc.rmcp_ages = ages;
	rc.rmcp_consent = consent;
	snprintf(rc.rmcp_consent_users, sizeof(rc.rmcp_consent_users), "%s",
	    list);
	rc.rmcp_rate_burst = 10000;
	rd = rmcpd_new(&rc, err, sizeof(err));
	ck_assert_msg(rd != NULL, "rmcpd_new: %s", err);
}

/* Sends a poll (and, with secret, the authentication) from port; returns
 * the last reply's words in w[3], or -1 when nothing was sent back. */
static int
ask(const char *name, uint16_t port, const char *secret, uint32_t w[3])
{
	struct rmcp_addr src = addr("127.0.0.1", port);
	uint8_t b[RMCP_DGRAM_MAX], out[RMCP_REPLY_LEN];

	if (rmcpd_answer(rd, &src, b, mkpoll(b, name), out) != 1)
		return -1;
	ck_assert_int_eq(rmcp_get_reply(out, sizeof(out), &w[0], &w[1],
	    &w[2]), 0);
	if (secret == NULL || w[0] == 0)
		return 0;
	if (rmcpd_answer(rd, &src, b, mkauth(b, w[0], secret), out) != 1)
		return -1;
	return rmcp_get_reply(out, sizeof(out), &w[0], &w[1], &w[2]);
}

static int
status_of(const char *name, uint16_t port, const char *secret)
{
	uint32_t w[3];

	ck_assert_int_eq(ask(name, port, secret, w), 0);
	return rmcp_reply_status(w[0], w[1], w[2]);
}

static const char mail[] = "From a@b Mon Jan  1 00:00:00 2024\n"
    "Subject: x\n\nhi\n\n";

START_TEST(test_responder_zero)
{
	time_t now = time(NULL);
	uint32_t w[3];
	char long_name[100];

	responder(false, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EXECBIT, "");
	put("alice", mail, 0700);		/* consent, mail */
	times("alice", now - 100, now - 50);
	put("bob", "", 0700);			/* empty */
	put("carol", mail, 0600);		/* no consent */
	/* dave: no file.  erin: a symbolic link, then a directory. */
	snprintf(path, sizeof(path), "%s/erin", dir);
	ck_assert_int_eq(symlink("alice", path), 0);
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NEW);
	ck_assert_int_eq(ask("alice", 2000, NULL, w), 0);
	ck_assert(w[0] == 0 && w[1] == 0 && w[2] == 1);
	/* All alike: (0, 0, 0). */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[64] = '\0';
	{
		const char *zero[] = { "bob", "carol", "dave", "erin",
		    "nosuch", "locked", "root", "Alice", "a+b", long_name };
		size_t i;

		for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
			ck_assert_int_eq(ask(zero[i], 2000, NULL, w), 0);
			ck_assert_msg(w[0] == 0 && w[1] == 0 && w[2] == 0,
			    "%s: %u %u %u", zero[i], w[0], w[1], w[2]);
		}
	}
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(status_of("erin", 2000, NULL), RMCP_NONE);
	/* Old after a read; the stat did not make it so. */
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NEW);
	times("alice", now - 10, now - 50);
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_OLD);
	/* A reserved source port: no reply at all. */
	ck_assert_int_eq(ask("alice", 100, NULL, w), -1);
	rmcpd_free(rd);
}
END_TEST

START_TEST(test_responder_consent_ages)
{
	time_t now = time(NULL);
	uint32_t w[3];

	responder(false, RMCP_AGES_REAL, RMCP_CONSENT_LIST, "bob carol");
	put("alice", mail, 0700);
	put("bob", mail, 0600);
	put("carol", mail, 0600);
	times("bob", now - 3600, now - 100);
	times("carol", now - 100, now - 3600);
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NONE);
	ck_assert_int_eq(ask("bob", 2000, NULL, w), 0);
	ck_assert_msg(w[1] >= 101 && w[1] <= 103 && w[2] >= 3601 &&
	    w[2] <= 3603, "%u %u", w[1], w[2]);
	ck_assert_int_eq(ask("carol", 2000, NULL, w), 0);
	ck_assert_msg(w[2] >= 101 && w[2] <= 103 && w[1] >= 3601 &&
	    w[1] <= 3603, "%u %u", w[1], w[2]);
	rmcpd_free(rd);
	responder(false, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EITHER, "bob");
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NEW);
	ck_assert_int_eq(status_of("bob", 2000, NULL), RMCP_NEW);
	ck_assert_int_eq(status_of("carol", 2000, NULL), RMCP_NONE);
	rmcpd_free(rd);
}
END_TEST

START_TEST(test_responder_auth)
{
	uint32_t w[3];

	responder(true, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EXECBIT, "");
	/* The secret is the consent: no owner-execute bit needed. */
	put("alice", mail, 0600);
	put("carol", mail, 0600);
	ck_assert_int_eq(ask("alice", 3000, NULL, w), 0);
	ck_assert(w[0] == 1 && w[1] == 0 && w[2] == 0);
	ck_assert_int_eq(ask("nosuch", 3001, NULL, w), 0);
	ck_assert(w[0] == 1 && w[1] == 0 && w[2] == 0);
	ck_assert_int_eq(status_of("alice", 3000, "good"), RMCP_NEW);
	ck_assert_int_eq(status_of("alice", 3000, NULL), RMCP_NEW);
	/* carol's secret is good too, but another name means again. */
	ck_assert_int_eq(ask("carol", 3000, NULL, w), 0);
	ck_assert_uint_eq(w[0], 1);
	ck_assert_int_eq(status_of("carol", 3000, "wrong"), RMCP_NONE);
	ck_assert_int_eq(status_of("carol", 3002, "good"), RMCP_NEW);
	/* bob has no secret; alice's second line (the "$6$" one) lost. */
	ck_assert_int_eq(status_of("bob", 3003, "good"), RMCP_NONE);
	ck_assert_int_eq(status_of("nosuch", 3004, "good"), RMCP_NONE);
	ck_assert_int_eq(status_of("alice", 3005, "goodx"), RMCP_NONE);
	ck_assert_int_eq(status_of("alice", 3006, "good"), RMCP_NEW);
	rmcpd_free(rd);
}
END_TEST

START_TEST(test_responder_files)
{
	char err[512];

	responder(false, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EXECBIT, "");
	rmcpd_free(rd);
	/* Refused: writable by the group; a secrets file others read. */
	snprintf(path, sizeof(path), "%s/passwd", dir);
	ck_assert_int_eq(chmod(path, 0620), 0);
	ck_assert_ptr_null(rmcpd_new(&rc, err, sizeof(err)));
	ck_assert_msg(strstr(err, "refused") != NULL, "%s", err);
	ck_assert_int_eq(chmod(path, 0640), 0);
	rc.rmcp_auth = 1;
	snprintf(path, sizeof(path), "%s/secrets", dir);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_ptr_null(rmcpd_new(&rc, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not readable by others") != NULL, "%s",
	    err);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_ptr_nonnull(rd = rmcpd_new(&rc, err, sizeof(err)));
	/* A reload that fails keeps what it had. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmcpd_reload(rd), -1);
	put("alice", mail, 0700);
	ck_assert_int_eq(status_of("alice", 4000, "good"), RMCP_NEW);
	rmcpd_free(rd);
	/* A missing passwd-file stops the start. */
	snprintf(path, sizeof(path), "%s/passwd", dir);
	ck_assert_int_eq(unlink(path), 0);
	rc.rmcp_auth = 0;
	ck_assert_ptr_null(rmcpd_new(&rc, err, sizeof(err)));
	/* System accounts: root (uid 0) and nologin shells are nobody. */
	rc.userdb[0] = USERDB_SYSTEM;
	ck_assert_ptr_nonnull(rd = rmcpd_new(&rc, err, sizeof(err)));
	ck_assert_int_eq(status_of("root", 4000, NULL), RMCP_NONE);
	rmcpd_free(rd);
}
END_TEST

/* --- The configuration keys --------------------------------------------- */

static int
load(struct conf *c, const char *text, char *err, size_t errlen)
{
	snprintf(path, sizeof(path), "%s/postern.conf", dir);
	tu_write_file(path, text, strlen(text));
	return conf_load(c, path, false, err, errlen);
}

static const char *bad_conf[] = {
	"rmcp_enabled = maybe\n",
	"rmcp_listen = 127.0.0.1\n",
	"rmcp_listen = ::1:50\n",
	"rmcp_listen = [::1]50\n",
	"rmcp_listen = host.example:50\n",
	"rmcp_listen = *:0\n",
	"rmcp_listen = *:65536\n",
	"rmcp_listen = *:nosuchservice\n",
	"rmcp_listen = *:50 *:50\n",
	"rmcp_user = -x\n",
	"rmcp_consent = always\n",
	"rmcp_consent_users = alice ../bob\n",
	"rmcp_ages = exact\n",
	"rmcp_auth = 1\n",
	"rmcp_secrets_file = relative\n",
	"rmcp_rate = 0\n",
	"rmcp_rate_burst = -1\n",
	"rmcp_auth_fail_max = 0\n",
	"rmcp_auth_fail_block = 86401\n",
	"rmcp_pending_lifetime = 0\n",
	"rmcp_auth_lifetime = x\n",
	"rmcp_table_size = 15\n",
	"rmcp_table_size = 262145\n",
	"rmcp_auth = yes\nrmcp_auth = no\n",
};

START_TEST(test_conf_bad)
{
	struct conf c;
	char err[2048], want[64];
	int line = strchr(bad_conf[_i], '\n')[1] != '\0' ? 2 : 1;

	ck_assert_int_eq(load(&c, bad_conf[_i], err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "postern.conf:%d: rmcp_", line);
	ck_assert_msg(strstr(err, want) != NULL, "%s: %s", bad_conf[_i], err);
}
END_TEST

START_TEST(test_conf_good)
{
	struct conf c;
	char err[2048];

	conf_default(&c);
	ck_assert_int_eq(c.rmcp_enabled, 0);
	ck_assert_uint_eq(c.nrmcp_listen, 2);
	ck_assert_str_eq(c.rmcp_listen[0].host, "*");
	ck_assert_str_eq(c.rmcp_listen[1].host, "::");
	ck_assert_str_eq(c.rmcp_listen[1].port, "50");
	ck_assert_str_eq(c.rmcp_user, "rmcpd");
	ck_assert_int_eq(c.rmcp_consent, RMCP_CONSENT_EXECBIT);
	ck_assert_int_eq(c.rmcp_ages, RMCP_AGES_OBFUSCATED);
	ck_assert_int_eq(c.rmcp_table_size, 4096);
	ck_assert_int_eq(c.rmcp_pending_lifetime, 120);
	ck_assert_int_eq(c.rmcp_auth_lifetime, 900);
	ck_assert_msg(load(&c, "rmcp_enabled = yes\n"
	    "rmcp_listen = 127.0.0.1:5050\t[::1]:5050  *:6000\n"
	    "rmcp_user = nobody\nrmcp_consent = either\n"
	    "rmcp_consent_users = alice bob\nrmcp_ages = real\n"
	    "rmcp_auth = yes\nrmcp_secrets_file = /etc/x\nrmcp_rate = 60\n"
	    "rmcp_rate_burst = 5\nrmcp_auth_fail_max = 3\n"
	    "rmcp_auth_fail_block = 60\nrmcp_pending_lifetime = 5\n"
	    "rmcp_auth_lifetime = 7\nrmcp_table_size = 16\n", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.rmcp_enabled, 1);
	ck_assert_uint_eq(c.nrmcp_listen, 3);
	ck_assert_str_eq(c.rmcp_listen[1].host, "::1");
	ck_assert_str_eq(c.rmcp_listen[1].port, "5050");
	ck_assert_str_eq(c.rmcp_listen[2].port, "6000");
	ck_assert_int_eq(c.rmcp_consent, RMCP_CONSENT_EITHER);
	ck_assert_str_eq(c.rmcp_consent_users, "alice bob");
	ck_assert_int_eq(c.rmcp_ages, RMCP_AGES_REAL);
	ck_assert_int_eq(c.rmcp_auth, 1);
	ck_assert_int_eq(c.rmcp_table_size, 16);
	ck_assert_int_eq(load(&c, "rmcp_consent_users = none\n", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.rmcp_consent_users, "");
}
END_TEST

/* --- The maildrop's times after a POP session (RFC 1339 p.2) ---------- */

static void
md_open(struct maildrop *md)
{
	struct maildrop_args a;
	struct lock_conf lc;
	char err[256];

	lock_conf_default(&lc);
	lc.timeout = 2;
	snprintf(path, sizeof(path), "%s/mbox", dir);
	memset(&a, 0, sizeof(a));
	a.user = "tester";
	/* The journal directory (the state directory in a session); the
	 * test process ends with the test, and the fd with it. */
	a.jdirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	a.lock = &lc;
	ck_assert_msg(maildrop_open(md, path, &a, err, sizeof(err)) == MD_OK,
	    "open: %s", err);
}

static int
md_sink(void *arg, const char *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

static void
md_stat(struct stat *st)
{
	snprintf(path, sizeof(path), "%s/mbox", dir);
	ck_assert_int_eq(stat(path, st), 0);	/* never read it here */
}

/* 0: nothing read; 1: RETR; 2: nothing read, mail arrived; 3: read and
 * mail arrived; 4: open and close only. */
START_TEST(test_maildrop_times)
{
	time_t now = time(NULL), at = now - 1000, mt = now - 500;
	struct maildrop md;
	struct stat st;
	char err[256];
	int fd;

	put("mbox", mail, 0700);
	times("mbox", at, mt);			/* new mail */
	md_open(&md);
	if (_i == 1 || _i == 3) {
		ck_assert_int_eq(maildrop_stream(&md, 0, true, -1, md_sink,
		    NULL), 0);
		md.read_mail = true;
	}
	if (_i == 2 || _i == 3) {
		fd = open(path, O_WRONLY | O_APPEND);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, mail, strlen(mail)),
		    (ssize_t)strlen(mail));
		close(fd);
		times("mbox", at, now - 30);	/* the delivery */
		snprintf(path, sizeof(path), "%s/mbox", dir);
	}
	if (_i != 4)
		ck_assert_msg(maildrop_update(&md, err, sizeof(err)) == MD_OK,
		    "update: %s", err);
	maildrop_close(&md);
	md_stat(&st);
	switch (_i) {
	case 0:
	case 4:		/* untouched: still new */
		ck_assert_int_eq(st.st_atime, at);
		ck_assert_int_eq(st.st_mtime, mt);
		break;
	case 1:		/* read: old */
		ck_assert_int_eq(st.st_mtime, mt);
		ck_assert(st.st_atime >= now - 5);
		break;
	case 2:		/* not read, new mail: still new, atime kept */
		ck_assert_int_eq(st.st_atime, at);
		ck_assert_int_eq(st.st_mtime, now - 30);
		break;
	case 3:		/* read, then new mail: new */
		ck_assert_int_eq(st.st_mtime, now - 30);
		ck_assert_int_eq(st.st_atime, now - 31);
		break;
	}
	ck_assert(_i == 1 ? st.st_atim.tv_sec > st.st_mtim.tv_sec :
	    st.st_atim.tv_sec < st.st_mtim.tv_sec);
}
END_TEST

static Suite *
rmcpd_suite(void)
{
	Suite *s = suite_create("rmcpd");
	TCase *resp = tcase_create("responder");
	TCase *conf = tcase_create("conf");
	TCase *md = tcase_create("maildrop");

	tcase_add_checked_fixture(resp, setup, teardown);
	tcase_add_test(resp, test_responder_zero);
	tcase_add_test(resp, test_responder_consent_ages);
	tcase_add_test(resp, test_responder_auth);
	tcase_add_test(resp, test_responder_files);
	suite_add_tcase(s, resp);

	tcase_add_checked_fixture(conf, setup, teardown);
	tcase_add_loop_test(conf, test_conf_bad, 0,
	    sizeof(bad_conf) / sizeof(bad_conf[0]));
	tcase_add_test(conf, test_conf_good);
	suite_add_tcase(s, conf);

	tcase_add_checked_fixture(md, setup, teardown);
	tcase_add_loop_test(md, test_maildrop_times, 0, 5);
	suite_add_tcase(s, md);
	return s;
}

TU_MAIN(rmcpd_suite)
