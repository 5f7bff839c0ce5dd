/*
 * check_pop2.c: the pure parts of the POP2 engine (src/pop2_auth.c,
 * src/pop2.c): RFC 937 backslash quoting as UW ipop2d accepts it, the
 * HELO argument split (user, then the rest of the line as the password),
 * FOLD name validation (no '/', no NUL, no leading '.', no control octet,
 * at most 255 octets), folder path formation from the folder directory
 * template, and the quoting of folder names in the log.  Table tests.
 */
#include <stdbool.h>
#include <string.h>

#include "testutil.h"

#include "params.h"
#include "pop2.h"

static const struct {
	const char	*in;
	size_t		 outlen;	/* 0: a large buffer */
	int		 ret;
	const char	*out;
} unquotes[] = {
	{ "",			0,	0,	"" },
	{ "plain",		0,	5,	"plain" },
	{ "a\\ b",		0,	3,	"a b" },	/* RFC: \  */
	{ "a\\\\b",		0,	3,	"a\\b" },	/* RFC: \\ */
	{ "\\x\\y",		0,	2,	"xy" },		/* UW: any */
	{ "\\\\\\ ",		0,	2,	"\\ " },
	/* a lone final backslash stands for itself */
	{ "end\\",		0,	4,	"end\\" },
	{ "\\",			0,	1,	"\\" },
	{ "a\\\\",		0,	2,	"a\\" },
	{ "sp ace",		0,	6,	"sp ace" },	/* UW */
	{ "\\\xe9t\xe9",	0,	3,	"\xe9t\xe9" },
	/* 4 octets: 3 and the NUL; the backslash costs nothing */
	{ "abc",		4,	3,	"abc" },
	{ "abcd",		4,	-1,	NULL },
	{ "a\\bc",		4,	3,	"abc" },
	{ "x",			1,	-1,	NULL },
};

START_TEST(test_unquote)
{
	char out[64];
	size_t olen = unquotes[_i].outlen ? unquotes[_i].outlen : sizeof(out);
	int r;

	memset(out, 'Z', sizeof(out));
	r = pop2_unquote(unquotes[_i].in, strlen(unquotes[_i].in), out, olen);
	ck_assert_msg(r == unquotes[_i].ret, "\"%s\": %d, want %d",
	    unquotes[_i].in, r, unquotes[_i].ret);
	if (r >= 0) {
		ck_assert_str_eq(out, unquotes[_i].out);
		ck_assert_uint_eq(strlen(out), (size_t)r);
	}
	/* never a write past the length given */
	if (olen < sizeof(out))
		ck_assert_int_eq(out[olen], 'Z');
}
END_TEST

START_TEST(test_unquote_len)
{
	char out[16];

	/* the length bounds the input, NULs included */
	ck_assert_int_eq(pop2_unquote("ab\\ cd", 4, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "ab ");
	ck_assert_int_eq(pop2_unquote("ab\\", 3, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "ab\\");
	ck_assert_int_eq(pop2_unquote("x", 1, out, 0), -1);
}
END_TEST

static const struct {
	const char	*arg;
	int		 ret;
	const char	*user;
	const char	*pass;
} helos[] = {
	{ "alice secret",		0,	"alice",	"secret" },
	{ "POSTEL SECRET",		0,	"POSTEL",	"SECRET" },
	{ "alice pass word",		0,	"alice",	"pass word" },
	{ "alice pass\\ word",		0,	"alice",	"pass word" },
	{ "alice a\\\\b",		0,	"alice",	"a\\b" },
	{ "  alice   spaced",		0,	"alice",	"spaced" },
	{ "alice trailing ",		0,	"alice",	"trailing " },
	{ "al\\ ice pw",		0,	"al ice",	"pw" },
	{ "al\\ice pw",			0,	"alice",	"pw" },
	{ "alice \\ lead",		0,	"alice",	" lead" },
	{ "alice pw\\",			0,	"alice",	"pw\\" },
	{ "alice\\",			-1,	NULL,		NULL },
	{ "",				-1,	NULL,		NULL },
	{ "   ",			-1,	NULL,		NULL },
	{ "alice",			-1,	NULL,		NULL },
	{ "alice   ",			-1,	NULL,		NULL },
	{ "\\  x",			0,	" ",		"x" },
};

START_TEST(test_helo_split)
{
	char user[PARAM_USER_MAX + 1], pass[PARAM_PASS_MAX + 1];
	const char *why = NULL;
	int r;

	r = pop2_helo_split(helos[_i].arg, user, sizeof(user), pass,
	    sizeof(pass), &why);
	ck_assert_msg(r == helos[_i].ret, "\"%s\": %d", helos[_i].arg, r);
	if (r == 0) {
		ck_assert_str_eq(user, helos[_i].user);
		ck_assert_str_eq(pass, helos[_i].pass);
	} else {
		ck_assert_ptr_nonnull(why);
		ck_assert(strpbrk(why, "\r\n") == NULL);
	}
}
END_TEST

START_TEST(test_helo_split_long)
{
	char user[PARAM_USER_MAX + 1], pass[PARAM_PASS_MAX + 1];
	char arg[2 * PARAM_PASS_MAX];
	const char *why = NULL;

	/* a user name longer than the buffer */
	memset(arg, 'u', PARAM_USER_MAX + 1);
	snprintf(arg + PARAM_USER_MAX + 1, sizeof(arg) - PARAM_USER_MAX - 1,
	    " pw");
	ck_assert_int_eq(pop2_helo_split(arg, user, sizeof(user), pass,
	    sizeof(pass), &why), -1);
	ck_assert_str_eq(why, "user name too long");
	/* the longest password fits, one more does not */
	memcpy(arg, "alice ", 6);
	memset(arg + 6, 'p', PARAM_PASS_MAX);
	arg[6 + PARAM_PASS_MAX] = '\0';
	ck_assert_int_eq(pop2_helo_split(arg, user, sizeof(user), pass,
	    sizeof(pass), &why), 0);
	ck_assert_uint_eq(strlen(pass), PARAM_PASS_MAX);
	arg[6 + PARAM_PASS_MAX] = 'p';
	arg[7 + PARAM_PASS_MAX] = '\0';
	ck_assert_int_eq(pop2_helo_split(arg, user, sizeof(user), pass,
	    sizeof(pass), &why), -1);
	ck_assert_str_eq(why, "password too long");
	/* quoting does not count against the limit */
	memset(arg + 6, '\\', 2);
	ck_assert_int_eq(pop2_helo_split(arg, user, sizeof(user), pass,
	    sizeof(pass), &why), 0);
}
END_TEST

static const struct {
	const char	*name;
	bool		 ok;
} names[] = {
	{ "work",		true },
	{ "INBOX",		true },
	{ "my box",		true },
	{ "caf\xc3\xa9",	true },
	{ "a.b",		true },
	{ "a..b",		true },
	{ "x-",			true },
	/* files named "~" and "%u": no expansion in names */
	{ "~",			true },
	{ "%u",			true },
	{ "",			false },
	{ ".",			false },
	{ "..",			false },
	{ ".hidden",		false },
	{ ".alice.pop",		false },	/* our session lock */
	{ "../x",		false },
	{ "a/b",		false },
	{ "/etc/passwd",	false },
	{ "x/",			false },
	{ "a\tb",		false },
	{ "a\rb",		false },
	{ "a\nb",		false },
	{ "\x1b[2J",		false },
	{ "a\x7f",		false },
};

START_TEST(test_folder_name)
{
	ck_assert_msg(pop2_folder_name_ok(names[_i].name,
	    strlen(names[_i].name)) == names[_i].ok, "\"%s\"",
	    names[_i].name);
}
END_TEST

START_TEST(test_folder_name_limits)
{
	char n[POP2_FOLDER_NAME_MAX + 2];

	memset(n, 'f', sizeof(n));
	ck_assert(pop2_folder_name_ok(n, POP2_FOLDER_NAME_MAX));
	ck_assert(!pop2_folder_name_ok(n, POP2_FOLDER_NAME_MAX + 1));
	/* an embedded NUL, counted by the length */
	ck_assert(!pop2_folder_name_ok("ab\0cd", 5));
	ck_assert(pop2_folder_name_ok("ab\0cd", 2));
}
END_TEST

static const struct {
	const char	*tmpl;
	const char	*user;
	const char	*home;
	const char	*name;
	const char	*path;		/* NULL: -1 */
} paths[] = {
	{ "~/Mail",		"joe",	"/home/joe",	"work",
	    "/home/joe/Mail/work" },
	{ "~/Mail/",		"joe",	"/home/joe/",	"work",
	    "/home/joe/Mail/work" },
	{ "/var/mail/f/%u",	"joe",	NULL,		"old box",
	    "/var/mail/f/joe/old box" },
	{ "/srv/%u/%%x",	"joe",	NULL,		"a",
	    "/srv/joe/%x/a" },
	{ "/",			"joe",	NULL,		"a",	"/a" },
	{ "~/Mail",		"joe",	NULL,		"work",	NULL },
	{ "~/Mail",		"joe",	"",		"work",	NULL },
	{ "Mail",		"joe",	"/home/joe",	"work",	NULL },
	{ "/m/%u",		"..",	NULL,		"work",	NULL },
	{ "/m/%u",		"a/b",	NULL,		"work",	NULL },
	{ "/m/%x",		"joe",	NULL,		"work",	NULL },
	{ "/m",			"joe",	NULL,		"../x",	NULL },
	{ "/m",			"joe",	NULL,		".x",	NULL },
	{ "/m",			"joe",	NULL,		"",	NULL },
};

START_TEST(test_folder_path)
{
	char buf[PARAM_PATH_MAX];
	int r;

	r = pop2_folder_path(paths[_i].tmpl, paths[_i].user, paths[_i].home,
	    paths[_i].name, buf, sizeof(buf));
	if (paths[_i].path == NULL) {
		ck_assert_msg(r == -1, "%s + %s: %s", paths[_i].tmpl,
		    paths[_i].name, buf);
		return;
	}
	ck_assert_msg(r == 0, "%s + %s: -1", paths[_i].tmpl, paths[_i].name);
	ck_assert_str_eq(buf, paths[_i].path);
}
END_TEST

START_TEST(test_folder_path_too_long)
{
	char buf[16];

	ck_assert_int_eq(pop2_folder_path("/m", "joe", NULL, "work", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/m/work");
	ck_assert_int_eq(pop2_folder_path("/mail/folders", "joe", NULL,
	    "work", buf, sizeof(buf)), -1);
	ck_assert_int_eq(pop2_folder_path("/mail/folder", "joe", NULL,
	    "w", buf, sizeof(buf)), 0);
	ck_assert_int_eq(pop2_folder_path("/mail/folder", "joe", NULL,
	    "wo", buf, sizeof(buf)), 0);		/* 15 + NUL */
	ck_assert_int_eq(pop2_folder_path("/mail/folder", "joe", NULL,
	    "wor", buf, sizeof(buf)), -1);
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;		/* 0: a large buffer */
	const char	*out;
} quotes[] = {
	{ "work",			0,	"work" },
	/* issue 8: a name that would forge fields unquoted */
	{ "x user=bob addr=10.9.9.9",	0,	"x user=bob addr=10.9.9.9" },
	{ "x\" user=bob addr=\"",	0,	"x\\x22 user=bob addr=\\x22" },
	{ "a\\b",			0,	"a\\x5cb" },
	{ "tab\tnl\n\xe9",		0,	"tab\\x09nl\\x0a\\xe9" },
	{ "/home/joe/Mail/in box",	0,	"/home/joe/Mail/in box" },
	/* cut with "...", never inside an escape */
	{ "abcdefgh",			8,	"abcd..." },
	{ "ab\"cdefgh",		8,	"ab..." },
	{ "abc",			4,	"abc" },
	{ "abcd",			4,	"..." },
};

START_TEST(test_log_quote)
{
	char buf[POP2_LOG_MAX];
	size_t len = quotes[_i].len ? quotes[_i].len : sizeof(buf);

	ck_assert_str_eq(pop2_log_quote(quotes[_i].in, buf, len),
	    quotes[_i].out);
	ck_assert_ptr_null(strchr(buf, '"'));
}
END_TEST

START_TEST(test_defaults)
{
	/* Compiled-in until the configuration says otherwise. */
	ck_assert_str_eq(POP2_FOLDER_DIR_DEFAULT, "~/Mail");
	ck_assert_int_eq(POP2_TIMEOUT_SESSION, 1800);
}
END_TEST

static Suite *
pop2_suite(void)
{
	Suite *s = suite_create("pop2");
	TCase *tc = tcase_create("pop2");

	tcase_add_loop_test(tc, test_unquote, 0,
	    (int)(sizeof(unquotes) / sizeof(unquotes[0])));
	tcase_add_test(tc, test_unquote_len);
	tcase_add_loop_test(tc, test_helo_split, 0,
	    (int)(sizeof(helos) / sizeof(helos[0])));
	tcase_add_test(tc, test_helo_split_long);
	tcase_add_loop_test(tc, test_folder_name, 0,
	    (int)(sizeof(names) / sizeof(names[0])));
	tcase_add_test(tc, test_folder_name_limits);
	tcase_add_loop_test(tc, test_folder_path, 0,
	    (int)(sizeof(paths) / sizeof(paths[0])));
	tcase_add_test(tc, test_folder_path_too_long);
	tcase_add_loop_test(tc, test_log_quote, 0,
	    (int)(sizeof(quotes) / sizeof(quotes[0])));
	tcase_add_test(tc, test_defaults);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(pop2_suite)
