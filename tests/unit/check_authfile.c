/*
 * check_authfile.c: the passwd-file line parser that pop3d's logins
 * (src/auth.c) and rmcpd's users (src/rmcpd_db.c) share,
 * auth_parse_line, and the locked-hash rule, auth_hash_locked: a table of
 * well-formed, blank, comment and malformed lines with the reason of
 * each, the bounds of every field at and past their limits, NUL bytes and
 * overlong lines (comments included); and the cost key of a hash that
 * auth_timing.c keeps per method, auth_timing_key.  Pure functions on
 * buffers: no files, no crypt().
 */
#include <crypt.h>

#include "testutil.h"

#include "auth.h"
#include "auth_timing.h"
#include "params.h"

#define H	"$6$salt$hash"

static const struct {
	const char	*line;
	const char	*name;
	const char	*hash;
	unsigned long	 uid;
	unsigned long	 gid;
	const char	*maildrop;
} good[] = {
	{ "alice:" H ":1000:100", "alice", H, 1000, 100, "" },
	{ "alice:" H ":1000:100:", "alice", H, 1000, 100, "" },
	{ "alice:" H ":1000:100:/var/mail/a", "alice", H, 1000, 100,
	    "/var/mail/a" },
	{ "a.b_c-d:x:0:0", "a.b_c-d", "x", 0, 0, "" },
	/* Locked hashes and uid 0 are well formed: callers refuse them. */
	{ "lock1:!" H ":1:1", "lock1", "!" H, 1, 1, "" },
	{ "lock2:*:1:1", "lock2", "*", 1, 1, "" },
	{ "lock3::1:1", "lock3", "", 1, 1, "" },
	{ "big:h:4294967294:4294967294", "big", "h", 4294967294UL,
	    4294967294UL, "" },
};

START_TEST(test_good)
{
	struct auth_entry e;
	const char *why = NULL;
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", good[_i].line);
	memset(&e, 0x5a, sizeof(e));
	ck_assert_msg(auth_parse_line(buf, strlen(buf), &e, &why) == 1,
	    "\"%s\": %s", good[_i].line, why != NULL ? why : "");
	ck_assert_str_eq(e.name, good[_i].name);
	ck_assert_str_eq(e.hash, good[_i].hash);
	ck_assert_uint_eq(e.uid, good[_i].uid);
	ck_assert_uint_eq(e.gid, good[_i].gid);
	ck_assert_str_eq(e.maildrop, good[_i].maildrop);
}
END_TEST

/* Lines that are no entry: with a reason malformed, else blank or a
 * comment. */
static const struct {
	const char	*line;
	const char	*why;
} bad[] = {
	{ "", NULL },
	{ " \t ", NULL },
	{ "#", NULL },
	{ "# alice:" H ":1000:100", NULL },
	{ "  \t# indented", NULL },
	{ "garbage line", "expected name:hash:uid:gid[:maildrop]" },
	{ "alice:" H ":1000", "expected name:hash:uid:gid[:maildrop]" },
	{ "alice:" H ":1:1:/x:y", "too many fields" },
	{ "alice:" H ":1:1:/x:", "too many fields" },
	{ ":" H ":1:1", "invalid user name" },
	{ "-dash:" H ":1:1", "invalid user name" },
	{ ".dot:" H ":1:1", "invalid user name" },
	{ " alice:" H ":1:1", "invalid user name" },
	{ "al/ice:" H ":1:1", "invalid user name" },
	{ "alice:" H ":abc:1", "bad uid" },
	{ "alice:" H "::1", "bad uid" },
	{ "alice:" H ":+1:1", "bad uid" },
	{ "alice:" H ": 1:1", "bad uid" },
	{ "alice:" H ":1 :1", "bad uid" },
	{ "alice:" H ":-1:1", "bad uid" },
	{ "alice:" H ":4294967295:1", "bad uid" },
	{ "alice:" H ":99999999999999999999:1", "bad uid" },
	{ "alice:" H ":1:x", "bad gid" },
	{ "alice:" H ":1:4294967295", "bad gid" },
	{ "alice:" H ":1:1:relative/box", "maildrop must be an absolute path" },
	{ "alice:" H ":1:1:~/Mail/inbox", "maildrop must be an absolute path" },
};

START_TEST(test_bad)
{
	struct auth_entry e;
	const char *why = NULL;
	char buf[256];
	int rc;

	snprintf(buf, sizeof(buf), "%s", bad[_i].line);
	rc = auth_parse_line(buf, strlen(buf), &e, &why);
	if (bad[_i].why == NULL) {
		ck_assert_msg(rc == 0, "\"%s\": %d (%s)", bad[_i].line, rc,
		    why != NULL ? why : "");
		return;
	}
	ck_assert_msg(rc == -1, "\"%s\": %d", bad[_i].line, rc);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, bad[_i].why);
}
END_TEST

/* A line of len bytes: prefix, then fill up to len. */
static char *
make_line(const char *prefix, char fill, size_t len)
{
	char *p = malloc(len + 1);

	ck_assert_ptr_nonnull(p);
	memset(p, fill, len);
	memcpy(p, prefix, strlen(prefix));
	p[len] = '\0';
	return p;
}

START_TEST(test_bounds)
{
	struct auth_entry e;
	const char *why;
	char *name, *hash, *md, line[AUTH_LINE_MAX + 2];
	size_t n;

	/* The longest name, hash and maildrop all fit, in one line. */
	name = make_line("", 'n', PARAM_USER_MAX);
	hash = make_line("$6$", 'h', CRYPT_OUTPUT_SIZE - 1);
	md = make_line("/", 'm', PARAM_PATH_MAX - 1);
	n = (size_t)snprintf(line, sizeof(line), "%s:%s:4294967294:"
	    "4294967294:%s", name, hash, md);
	ck_assert_uint_le(n, AUTH_LINE_MAX);
	ck_assert_int_eq(auth_parse_line(line, n, &e, &why), 1);
	ck_assert_str_eq(e.name, name);
	ck_assert_str_eq(e.hash, hash);
	ck_assert_str_eq(e.maildrop, md);
	free(name);
	free(hash);
	free(md);

	/* One more byte in each is too many. */
	name = make_line("", 'n', PARAM_USER_MAX + 1);
	n = (size_t)snprintf(line, sizeof(line), "%s:x:1:1", name);
	ck_assert_int_eq(auth_parse_line(line, n, &e, &why), -1);
	ck_assert_str_eq(why, "invalid user name");
	free(name);
	hash = make_line("$6$", 'h', CRYPT_OUTPUT_SIZE);
	n = (size_t)snprintf(line, sizeof(line), "a:%s:1:1", hash);
	ck_assert_int_eq(auth_parse_line(line, n, &e, &why), -1);
	ck_assert_str_eq(why, "hash too long");
	free(hash);
	md = make_line("/", 'm', PARAM_PATH_MAX);
	n = (size_t)snprintf(line, sizeof(line), "a:x:1:1:%s", md);
	ck_assert_int_eq(auth_parse_line(line, n, &e, &why), -1);
	ck_assert_str_eq(why, "maildrop too long");
	free(md);
}
END_TEST

START_TEST(test_long_line)
{
	struct auth_entry e;
	const char *why;
	char *line;

	/* At the bound a comment is a comment... */
	line = make_line("#", 'c', AUTH_LINE_MAX);
	ck_assert_int_eq(auth_parse_line(line, AUTH_LINE_MAX, &e, &why), 0);
	free(line);
	/* ...past it, even a comment is malformed (and logged). */
	line = make_line("#", 'c', AUTH_LINE_MAX + 1);
	why = NULL;
	ck_assert_int_eq(auth_parse_line(line, AUTH_LINE_MAX + 1, &e, &why),
	    -1);
	ck_assert_str_eq(why, "line too long");
	free(line);
	line = make_line("", ' ', AUTH_LINE_MAX + 1);
	ck_assert_int_eq(auth_parse_line(line, AUTH_LINE_MAX + 1, &e, &why),
	    -1);
	free(line);
}
END_TEST

static const struct {
	const char	*line;
	size_t		 len;
} nuls[] = {
	{ "alice\0:x:1:1", 12 },
	{ "alice:x:1:1\0", 12 },
	{ "\0alice:x:1:1", 12 },
	{ "#\0comment", 9 },
	{ "\0", 1 },
};

START_TEST(test_nul)
{
	struct auth_entry e;
	const char *why = NULL;
	char buf[32];

	memcpy(buf, nuls[_i].line, nuls[_i].len);
	buf[nuls[_i].len] = '\0';
	ck_assert_int_eq(auth_parse_line(buf, nuls[_i].len, &e, &why), -1);
	ck_assert_str_eq(why, "NUL byte in line");
}
END_TEST

static const struct {
	const char	*hash;
	bool		 locked;
} hashes[] = {
	{ "", true },
	{ "*", true },
	{ "*LK*", true },
	{ "!", true },
	{ "!" H, true },
	{ "!!", true },
	{ H, false },
	{ "x", false },
	{ " *", false },
	{ "$y$j9T$salt$hash", false },
};

START_TEST(test_locked)
{
	ck_assert_msg(auth_hash_locked(hashes[_i].hash) == hashes[_i].locked,
	    "\"%s\"", hashes[_i].hash);
}
END_TEST

/* The cost key of a hash (auth_timing_key): method and parameters, no
 * salt; and the length of its setting.  slen -1: refused. */
static const struct {
	const char	*hash;
	const char	*key;
	int		 slen;
} keys[] = {
	{ "$y$j9T$XDprnzPJF6Uu2jN1MZOPi/$KJUbe.OY8vXRh2UjHJSj6XREgO7m3n",
	    "$y$j9T$", 29 },
	{ "$y$j9T$XDprnzPJF6Uu2jN1MZOPi/", "$y$j9T$", 29 },
	{ "$gy$jCT$abc$def", "$gy$jCT$", 11 },
	{ "$6$salt$hash", "$6$", 7 },
	{ "$6$salt", "$6$", 7 },
	{ "$6$rounds=80000$salt$hash", "$6$rounds=80000$", 20 },
	{ "$5$rounds=1000$s$h", "$5$rounds=1000$", 16 },
	{ "$2b$10$zg79inYEFrCKoV2mI0ONouexY39O62eCqNR2pPwQnAsqoYyMffYPy",
	    "$2b$10$", 29 },
	{ "$2y$05$zg79inYEFrCKoV2mI0ONou", "$2y$05$", 29 },
	{ "$1$1F629.lk$K4F9HQVuoOrzBfdHSfNc1.", "$1$", 11 },
	{ "$md5,rounds=5000$salt$$hash", "$md5,rounds=5000$", 22 },
	{ "$7$CU..../....q/73$hash", "$7$CU..../....", 18 },
	{ "$sha1$40000$salt$hash", "$sha1$40000$", 16 },
	{ "_J9..dyyjf7QtxqDN31g", "_J9..", 9 },
	{ "KLmfsi8FV1WVc", "", 2 },
	{ "$9$unknownmethod", "$9$", 16 },
	/* Shapes crypt(3) cannot use. */
	{ "$2b$1x$zg79inYEFrCKoV2mI0ONouexY39O62eCqNR2pPwQnAsq", NULL, -1 },
	{ "$2b$10$short", NULL, -1 },
	{ "$y$j9T", NULL, -1 },
	{ "$7$CU..", NULL, -1 },
	{ "$$x", NULL, -1 },
	{ "$", NULL, -1 },
	{ "_J9..", NULL, -1 },
	{ "short", NULL, -1 },
	{ "", NULL, -1 },
	/* A key longer than AUTH_TIMING_KEY_MAX. */
	{ "$6$rounds=1234567890123456789012345678901234$s$h", NULL, -1 },
};

START_TEST(test_key)
{
	char key[AUTH_TIMING_KEY_MAX];
	size_t slen = 0;
	int rc;

	rc = auth_timing_key(keys[_i].hash, key, sizeof(key), &slen);
	if (keys[_i].slen == -1) {
		ck_assert_msg(rc == -1, "\"%s\" has key \"%s\"",
		    keys[_i].hash, key);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" refused", keys[_i].hash);
	ck_assert_str_eq(key, keys[_i].key);
	ck_assert_uint_eq(slen, (size_t)keys[_i].slen);
}
END_TEST

static Suite *
authfile_suite(void)
{
	Suite *s = suite_create("authfile");
	TCase *tc = tcase_create("authfile");

	tcase_add_loop_test(tc, test_good, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_bad, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_long_line);
	tcase_add_loop_test(tc, test_nul, 0,
	    (int)(sizeof(nuls) / sizeof(nuls[0])));
	tcase_add_loop_test(tc, test_locked, 0,
	    (int)(sizeof(hashes) / sizeof(hashes[0])));
	tcase_add_loop_test(tc, test_key, 0,
	    (int)(sizeof(keys) / sizeof(keys[0])));
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(authfile_suite)
