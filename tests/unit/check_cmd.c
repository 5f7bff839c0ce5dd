/*
 * check_cmd.c: the tokenizer, table dispatcher and strict number parser
 * (src/cmd.c).  Table tests for cmd_parse_uint (signs, spaces, junk,
 * overflow without wrap-around, non-ASCII digits) and for cmd_dispatch
 * against a small table (case, state, arity, spacing, CMD_REST, empty
 * lines, NUL octets, too many arguments, the handler's result and the
 * entry reported back).
 */
#include <stdbool.h>
#include <stdint.h>

#include "testutil.h"

#include "cmd.h"

#define WHY_NAN		"not a number"
#define WHY_BIG		"number too large"
#define SENTINEL	UINT64_C(0xdeadbeefcafe)

static const struct {
	const char	*s;
	uint64_t	 max;
	int		 ret;
	uint64_t	 v;		/* when ret == 0 */
	const char	*why;		/* when ret == -1; NULL: any reason */
} uints[] = {
	{ "0",			UINT32_MAX,	0,	0,		NULL },
	{ "1",			UINT32_MAX,	0,	1,		NULL },
	{ "42",			UINT32_MAX,	0,	42,		NULL },
	{ "007",		UINT32_MAX,	0,	7,		NULL },
	{ "4294967295",		UINT32_MAX,	0,	UINT32_MAX,	NULL },
	{ "4294967296",		UINT32_MAX,	-1,	0,		WHY_BIG },
	{ "4294967297",		UINT32_MAX,	-1,	0,		WHY_BIG },
	{ "18446744073709551615", UINT32_MAX,	-1,	0,		WHY_BIG },
	/* 2^64 wraps to 0 in a careless parser */
	{ "18446744073709551616", UINT32_MAX,	-1,	0,		WHY_BIG },
	{ "18446744073709551616", UINT64_MAX,	-1,	0,		WHY_BIG },
	{ "18446744073709551617", UINT64_MAX,	-1,	0,		WHY_BIG },
	{ "18446744073709551615", UINT64_MAX,	0,	UINT64_MAX,	NULL },
	{ "99999999999999999999999999", UINT64_MAX, -1,	0,		WHY_BIG },
	{ "5",			5,		0,	5,		NULL },
	{ "6",			5,		-1,	0,		WHY_BIG },
	{ "0",			0,		0,	0,		NULL },
	{ "1",			0,		-1,	0,		WHY_BIG },
	{ "-1",			UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "-0",			UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "+1",			UINT32_MAX,	-1,	0,		WHY_NAN },
	{ " 1",			UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "1 ",			UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "\t1",		UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "1x",			UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "x1",			UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "1.0",		UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "1e3",		UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "",			UINT32_MAX,	-1,	0,		NULL },
	{ "0x10",		UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "\xd9\xa3",		UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "1\xd9\xa3",		UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "\xef\xbc\x91",	UINT32_MAX,	-1,	0,		WHY_NAN },
	{ "1\xff",		UINT32_MAX,	-1,	0,		WHY_NAN },
};

START_TEST(test_parse_uint)
{
	uint64_t v = SENTINEL;
	const char *why = NULL;
	int r;

	r = cmd_parse_uint(uints[_i].s, uints[_i].max, &v, &why);
	ck_assert_msg(r == uints[_i].ret, "\"%s\" max %ju: returned %d",
	    uints[_i].s, (uintmax_t)uints[_i].max, r);
	if (r == 0) {
		ck_assert_msg(v == uints[_i].v, "\"%s\": %ju, want %ju",
		    uints[_i].s, (uintmax_t)v, (uintmax_t)uints[_i].v);
		return;
	}
	ck_assert_msg(v == SENTINEL, "\"%s\": *v_r set on failure",
	    uints[_i].s);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_gt(strlen(why), 0);
	if (uints[_i].why != NULL)
		ck_assert_msg(strcmp(why, uints[_i].why) == 0,
		    "\"%s\": reason \"%s\", want \"%s\"", uints[_i].s, why,
		    uints[_i].why);
}
END_TEST

/* The dispatcher against a small table. */
#define ST_A	0x1
#define ST_B	0x2

struct calls {
	int	 n;			/* handler calls */
	int	 argc;
	char	 argv[CMD_ARGS_MAX + 1][64];
	bool	 argv_null;		/* argv[argc] == NULL */
	int	 ret;			/* what the handlers return */
};

static int
h_record(void *ctx, int argc, char **argv)
{
	struct calls *c = ctx;
	int i;

	c->n++;
	c->argc = argc;
	for (i = 0; i < argc && i <= CMD_ARGS_MAX; i++)
		snprintf(c->argv[i], sizeof(c->argv[i]), "%s", argv[i]);
	c->argv_null = argv[argc] == NULL;
	return c->ret;
}

static int
h_close(void *ctx, int argc, char **argv)
{
	h_record(ctx, argc, argv);
	return CMD_CLOSE;
}

static const struct cmd_entry table[] = {
	{ "USER",	ST_A,		1, 1,		h_record },
	{ "PASS",	ST_A,		1, CMD_REST,	h_record },
	{ "STAT",	ST_B,		0, 0,		h_record },
	{ "LIST",	ST_B,		0, 1,		h_record },
	{ "TOP",	ST_B,		2, 2,		h_record },
	{ "MANY",	ST_B,		0, 10,		h_record },
	{ "QUIT",	ST_A | ST_B,	0, 0,		h_close },
	{ NULL,		0,		0, 0,		NULL }
};

static const struct {
	const char	*line;
	unsigned int	 state;
	int		 err;
	const char	*entry;		/* name of *entry_r, or NULL */
	int		 argc;		/* when err == CMD_ERR_NONE */
	const char	*argv[CMD_ARGS_MAX];
} lines[] = {
	{ "USER alice",		ST_A, CMD_ERR_NONE, "USER", 1, { "alice" } },
	{ "user alice",		ST_A, CMD_ERR_NONE, "USER", 1, { "alice" } },
	{ "uSeR Alice",		ST_A, CMD_ERR_NONE, "USER", 1, { "Alice" } },
	{ "USER   alice",	ST_A, CMD_ERR_NONE, "USER", 1, { "alice" } },
	{ "USER alice  ",	ST_A, CMD_ERR_NONE, "USER", 1, { "alice" } },
	{ "USER",		ST_A, CMD_ERR_ARGS, "USER", 0, { NULL } },
	{ "USER ",		ST_A, CMD_ERR_ARGS, "USER", 0, { NULL } },
	{ "USER a b",		ST_A, CMD_ERR_ARGS, "USER", 0, { NULL } },
	{ "USER alice",		ST_B, CMD_ERR_STATE, "USER", 0, { NULL } },
	{ "PASS my secret pass", ST_A, CMD_ERR_NONE, "PASS", 1,
	    { "my secret pass" } },
	{ "pass x",		ST_A, CMD_ERR_NONE, "PASS", 1, { "x" } },
	{ "PASS a  b ",		ST_A, CMD_ERR_NONE, "PASS", 1, { "a  b " } },
	/* only the one separating space goes */
	{ "PASS  lead",		ST_A, CMD_ERR_NONE, "PASS", 1, { " lead" } },
	{ "PASS",		ST_A, CMD_ERR_ARGS, "PASS", 0, { NULL } },
	{ "PASS ",		ST_A, CMD_ERR_ARGS, "PASS", 0, { NULL } },
	{ "PASS x",		ST_B, CMD_ERR_STATE, "PASS", 0, { NULL } },
	{ "STAT",		ST_B, CMD_ERR_NONE, "STAT", 0, { NULL } },
	{ "stat  ",		ST_B, CMD_ERR_NONE, "STAT", 0, { NULL } },
	{ "STAT",		ST_A, CMD_ERR_STATE, "STAT", 0, { NULL } },
	{ "STAT 1",		ST_B, CMD_ERR_ARGS, "STAT", 0, { NULL } },
	{ "LIST",		ST_B, CMD_ERR_NONE, "LIST", 0, { NULL } },
	{ "LIST 1",		ST_B, CMD_ERR_NONE, "LIST", 1, { "1" } },
	{ "LIST 1 2",		ST_B, CMD_ERR_ARGS, "LIST", 0, { NULL } },
	{ "TOP 1 10",		ST_B, CMD_ERR_NONE, "TOP", 2, { "1", "10" } },
	{ "TOP   1    10   ",	ST_B, CMD_ERR_NONE, "TOP", 2, { "1", "10" } },
	{ "TOP 1",		ST_B, CMD_ERR_ARGS, "TOP", 0, { NULL } },
	{ "TOP 1 10 x",		ST_B, CMD_ERR_ARGS, "TOP", 0, { NULL } },
	{ "MANY a b c d",	ST_B, CMD_ERR_NONE, "MANY", 4,
	    { "a", "b", "c", "d" } },
	/* max_args 10, but never more than CMD_ARGS_MAX */
	{ "MANY a b c d e",	ST_B, CMD_ERR_ARGS, "MANY", 0, { NULL } },
	{ "MANY a b c d e f g h i j k", ST_B, CMD_ERR_ARGS, "MANY", 0,
	    { NULL } },
	{ "QUIT",		ST_A, CMD_ERR_NONE, "QUIT", 0, { NULL } },
	{ "QUIT",		ST_B, CMD_ERR_NONE, "QUIT", 0, { NULL } },
	{ "FOO",		ST_A, CMD_ERR_UNKNOWN, NULL, 0, { NULL } },
	{ "FOO bar",		ST_B, CMD_ERR_UNKNOWN, NULL, 0, { NULL } },
	{ "STA",		ST_B, CMD_ERR_UNKNOWN, NULL, 0, { NULL } },
	{ "STATX",		ST_B, CMD_ERR_UNKNOWN, NULL, 0, { NULL } },
	{ "USER\talice",	ST_A, CMD_ERR_UNKNOWN, NULL, 0, { NULL } },
	{ "\xd5SER alice",	ST_A, CMD_ERR_UNKNOWN, NULL, 0, { NULL } },
	{ "",			ST_A, CMD_ERR_EMPTY, NULL, 0, { NULL } },
	{ " ",			ST_A, CMD_ERR_EMPTY, NULL, 0, { NULL } },
	{ "      ",		ST_B, CMD_ERR_EMPTY, NULL, 0, { NULL } },
};

static const struct cmd_entry *
entry_named(const char *name)
{
	const struct cmd_entry *e;

	for (e = table; e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e;
	ck_abort_msg("no entry %s", name);
	return NULL;
}

/* Copies s[0, len) into an exact heap buffer (len + 1 octets, as
 * iobuf_getline hands out) so that ASan sees any overrun. */
static char *
dup_line(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

START_TEST(test_dispatch)
{
	const struct cmd_entry *e = table;	/* must be reset */
	struct calls c;
	char *line = dup_line(lines[_i].line, strlen(lines[_i].line));
	int err, res = -12345, i;

	memset(&c, 0, sizeof(c));
	c.ret = CMD_CONTINUE;
	err = cmd_dispatch(table, lines[_i].state, line, strlen(line), &c,
	    &res, &e);
	ck_assert_msg(err == lines[_i].err, "\"%s\": err %d, want %d",
	    lines[_i].line, err, lines[_i].err);
	if (lines[_i].entry == NULL)
		ck_assert_msg(e == NULL, "\"%s\": entry set", lines[_i].line);
	else
		ck_assert_msg(e == entry_named(lines[_i].entry),
		    "\"%s\": entry %s, want %s", lines[_i].line,
		    e ? e->name : "NULL", lines[_i].entry);
	if (err != CMD_ERR_NONE) {
		ck_assert_msg(c.n == 0, "\"%s\": handler ran", lines[_i].line);
		ck_assert_int_eq(res, -12345);
		free(line);
		return;
	}
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(res, e->fn == h_close ? CMD_CLOSE : CMD_CONTINUE);
	ck_assert_msg(c.argc == lines[_i].argc, "\"%s\": argc %d, want %d",
	    lines[_i].line, c.argc, lines[_i].argc);
	ck_assert(c.argv_null);
	for (i = 0; i < c.argc; i++)
		ck_assert_msg(strcmp(c.argv[i], lines[_i].argv[i]) == 0,
		    "\"%s\": argv[%d] \"%s\", want \"%s\"", lines[_i].line,
		    i, c.argv[i], lines[_i].argv[i]);
	free(line);
}
END_TEST

/* A NUL octet anywhere in the line: refused before anything else. */
static const struct {
	const char	*line;
	size_t		 len;
} nuls[] = {
	{ "\0",			1 },
	{ "\0STAT",		5 },
	{ "STAT\0",		5 },
	{ "USER a\0b",		8 },
	{ "PASS se\0cret",	12 },
	{ "FOO\0",		4 },
	{ " \0 ",		3 },
};

START_TEST(test_dispatch_nul)
{
	const struct cmd_entry *e = table;
	struct calls c;
	char *line = dup_line(nuls[_i].line, nuls[_i].len);
	int err, res = -12345;

	memset(&c, 0, sizeof(c));
	err = cmd_dispatch(table, ST_A | ST_B, line, nuls[_i].len, &c, &res,
	    &e);
	ck_assert_int_eq(err, CMD_ERR_NUL);
	ck_assert_ptr_null(e);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(res, -12345);
	free(line);
}
END_TEST

/* Whatever the handler returns comes back in *result_r. */
START_TEST(test_dispatch_result)
{
	static const int rets[] = { CMD_CONTINUE, CMD_CLOSE, CMD_LOGIN, 42,
	    -7 };
	const struct cmd_entry *e;
	struct calls c;
	char line[32];
	size_t i;
	int res;

	for (i = 0; i < sizeof(rets) / sizeof(rets[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.ret = rets[i];
		res = -12345;
		snprintf(line, sizeof(line), "LIST %zu", i);
		ck_assert_int_eq(cmd_dispatch(table, ST_B, line, strlen(line),
		    &c, &res, &e), CMD_ERR_NONE);
		ck_assert_int_eq(res, rets[i]);
		ck_assert_ptr_eq(e, &table[3]);
		ck_assert_int_eq(c.n, 1);
	}
}
END_TEST

/* The length given is what counts, not a NUL further on. */
START_TEST(test_dispatch_len)
{
	const struct cmd_entry *e;
	struct calls c;
	char line[] = "USER alice bob";
	int res;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(cmd_dispatch(table, ST_A, line, 10, &c, &res, &e),
	    CMD_ERR_NONE);
	ck_assert_int_eq(c.argc, 1);
	ck_assert_str_eq(c.argv[0], "alice");
}
END_TEST

START_TEST(test_strerror)
{
	static const int errs[] = { CMD_ERR_EMPTY, CMD_ERR_UNKNOWN,
	    CMD_ERR_STATE, CMD_ERR_ARGS, CMD_ERR_NUL };
	size_t i, j, n = sizeof(errs) / sizeof(errs[0]);

	for (i = 0; i < n; i++) {
		const char *s = cmd_strerror(errs[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_int_gt(strlen(s), 0);
		/* goes to the client after "-ERR ": printable, one line */
		ck_assert(strpbrk(s, "\r\n") == NULL);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s, cmd_strerror(errs[j]));
	}
	ck_assert_ptr_nonnull(cmd_strerror(9999));
}
END_TEST

static Suite *
cmd_suite(void)
{
	Suite *s = suite_create("cmd");
	TCase *tc = tcase_create("cmd");

	tcase_add_loop_test(tc, test_parse_uint, 0,
	    (int)(sizeof(uints) / sizeof(uints[0])));
	tcase_add_loop_test(tc, test_dispatch, 0,
	    (int)(sizeof(lines) / sizeof(lines[0])));
	tcase_add_loop_test(tc, test_dispatch_nul, 0,
	    (int)(sizeof(nuls) / sizeof(nuls[0])));
	tcase_add_test(tc, test_dispatch_result);
	tcase_add_test(tc, test_dispatch_len);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(cmd_suite)
