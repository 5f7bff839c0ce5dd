/*
 * recover_cmd.h: pop3d -R, the administrator's command for a journal that
 * recovery refused (the maildrop was changed by a program that knows
 * nothing of it) or could not use: shows the state, applies the journal
 * anyway, or discards it.  Runs in pop3d started by the administrator:
 * as root it opens the user's state directory, then drops to the user
 * (privsep_drop_user) before it opens and locks the maildrop.
 */
#ifndef POSTERN_RECOVER_CMD_H
#define POSTERN_RECOVER_CMD_H

#include <stdio.h>

/* Exit codes of pop3d -R (pop3d(8)). */
#define RECOVER_OK	0	/* nothing to do, or done; show: recovery
				   would complete the journal */
#define RECOVER_REFUSED	1	/* recovery refuses it (foreign, damaged,
				   the maildrop missing); apply refused */
#define RECOVER_USAGE	2
#define RECOVER_ERROR	3	/* cannot open, lock or read */

/*
 * pop3d -R TARGET [ACTION]: TARGET is the maildrop's absolute path (INBOX
 * or a POP2 folder) or a system user's name (its maildrop template
 * expanded); user (-u, or NULL) names whose state directory holds the
 * journal when it is not the file owner's name (passwd-file users).
 * ACTION is "show" (default), "apply" or "discard".  Prints the report to
 * out, errors to stderr.  Returns RECOVER_*.
 */
struct conf;
int	recover_cmd_run(const struct conf *c, const char *target,
	    const char *user, const char *action, FILE *out);

#endif
