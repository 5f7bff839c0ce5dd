/*
 * cmd.c: tokenizer, table dispatcher and strict number parser shared by
 * every protocol engine.  Keywords are case-insensitive (RFC 1939 §3);
 * arguments are separated by single spaces, extra spaces are skipped for
 * the bogus clients UW ipop3d also tolerates.  Runs in the pre-auth child
 * (unprivileged) and in the session process.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"

static char *
skip_spaces(char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

int
cmd_dispatch(const struct cmd_entry *table, unsigned int state, char *line,
    size_t len, void *ctx, int *result_r, const struct cmd_entry **entry_r)
{
	const struct cmd_entry *e;
	char *argv[CMD_ARGS_MAX + 1];
	char *p, *kw;
	int argc = 0;

	*entry_r = NULL;
	if (memchr(line, '\0', len) != NULL)
		return CMD_ERR_NUL;
	line[len] = '\0';
	p = skip_spaces(line);
	if (*p == '\0')
		return CMD_ERR_EMPTY;
	kw = p;
	while (*p != '\0' && *p != ' ')
		p++;
	if (*p == ' ')
		*p++ = '\0';
	for (e = table; e->name != NULL; e++)
		if (strcasecmp(e->name, kw) == 0)
			break;
	if (e->name == NULL)
		return CMD_ERR_UNKNOWN;
	*entry_r = e;
	if ((e->states & state) == 0)
		return CMD_ERR_STATE;

	if (e->max_args == CMD_REST) {
		/* One argument: the rest of the line, spaces included
		 * (a password may contain them).  Only the one separating
		 * space is skipped. */
		if (*p != '\0')
			argv[argc++] = p;
	} else {
		for (;;) {
			p = skip_spaces(p);
			if (*p == '\0')
				break;
			if (argc == CMD_ARGS_MAX || argc == e->max_args)
				return CMD_ERR_ARGS;
			argv[argc++] = p;
			while (*p != '\0' && *p != ' ')
				p++;
			if (*p == ' ')
				*p++ = '\0';
		}
	}
	if (argc < e->min_args)
		return CMD_ERR_ARGS;
	argv[argc] = NULL;
	*result_r = e->fn(ctx, argc, argv);
	return CMD_ERR_NONE;
}

const char *
cmd_strerror(int err)
{
	switch (err) {
	case CMD_ERR_EMPTY:
		return "empty command";
	case CMD_ERR_UNKNOWN:
		return "unknown command";
	case CMD_ERR_STATE:
		return "command not valid in this state";
	case CMD_ERR_ARGS:
		return "wrong number of arguments";
	case CMD_ERR_NUL:
		return "NUL octet in command";
	default:
		return "error";
	}
}

int
cmd_parse_uint(const char *s, uint64_t max, uint64_t *v_r,
    const char **why_r)
{
	uint64_t v = 0;
	unsigned int d;

	if (*s == '\0') {
		*why_r = "missing number";
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			*why_r = "not a number";
			return -1;
		}
		d = (unsigned int)(*s - '0');
		if (v > (UINT64_MAX - d) / 10 || v * 10 + d > max) {
			*why_r = "number too large";
			return -1;
		}
		v = v * 10 + d;
	}
	*v_r = v;
	return 0;
}
