/*
 * cmd.h: the line tokenizer and table dispatcher shared by all protocols
 * (design.md §3), and the one strict number parser.  The table is the
 * state machine: the dispatcher checks the state and the arity, handlers
 * never re-check them.  Runs wherever a protocol runs.
 */
#ifndef POSTERN_CMD_H
#define POSTERN_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMD_ARGS_MAX	4
#define CMD_REST	(-1)	/* max_args: one argument, the rest of the
				   line as sent (PASS: spaces allowed) */

/* What a handler tells the loop. */
#define CMD_CONTINUE	0
#define CMD_CLOSE	1	/* reply sent; close the connection */
#define CMD_LOGIN	2	/* pre-auth: credentials handed off */

struct cmd_entry {
	const char	*name;
	unsigned int	 states;	/* mask of states it is valid in */
	int		 min_args;
	int		 max_args;	/* or CMD_REST */
	int		(*fn)(void *ctx, int argc, char **argv);
};

/* Why dispatch did not call a handler. */
#define CMD_ERR_NONE		0
#define CMD_ERR_EMPTY		1
#define CMD_ERR_UNKNOWN		2
#define CMD_ERR_STATE		3
#define CMD_ERR_ARGS		4
#define CMD_ERR_NUL		5

/*
 * Splits line[0, len) (modified in place; line[len] must be writable:
 * it becomes the NUL terminator) into a keyword and arguments,
 * finds the keyword (case-insensitive) in table (ended by a NULL name)
 * and, if it is valid in state with the right arity, calls its handler
 * and stores its result in *result_r.  Returns CMD_ERR_NONE when a handler
 * ran, else the reason (the caller words the -ERR for its protocol);
 * *entry_r is the entry found, if any.
 */
int	cmd_dispatch(const struct cmd_entry *table, unsigned int state,
	    char *line, size_t len, void *ctx, int *result_r,
	    const struct cmd_entry **entry_r);

/* A short client-safe text for a CMD_ERR_* reason. */
const char *cmd_strerror(int err);

/*
 * Parses a decimal number strictly: digits only (no sign, no space, no
 * trailing junk), no overflow, value <= max.  Returns 0 with *v_r set, or
 * -1 with a client-safe *why_r ("not a number", "number too large").
 */
int	cmd_parse_uint(const char *s, uint64_t max, uint64_t *v_r,
	    const char **why_r);

#endif
