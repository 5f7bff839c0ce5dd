/*
 * daemon.h: pop3d as a daemon (no -i, -F or -t): the pid file and the
 * detach.  Used by main.c and the listener at start-up and exit, as root
 * or the invoking user.
 */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Creates (mode 0644) and locks the pid file before detaching, so that a
 * refusal reaches the terminal.  Refuses when another pop3d holds the
 * lock, or when the file names a running process whose command is pop3d;
 * a stale file is taken over.  The path must be absolute (a daemon runs
 * in "/").  Returns 0, or -1 with a reason.
 */
int	daemon_pidfile_open(const char *path, char *errstr_r, size_t errlen);

/*
 * Detaches: fork, setsid, fork again (never a session leader, so never a
 * controlling terminal), chdir("/"), umask 022, writes the pid file (when
 * one is open), points stdin and stdout (and stderr unless keep_stderr)
 * at /dev/null, and only then lets the original process exit 0 (1 if the
 * daemon failed before that): the pid file exists when the starter
 * returns, as systemd's Type=forking expects.  Returns 0 in the daemon,
 * or -1 with a reason in the original process (nothing forked).
 */
int	daemon_detach(bool keep_stderr, char *errstr_r, size_t errlen);

/* Removes the pid file (still locked, so still ours) and closes it;
 * nothing if none is open.  At exit, or after a failed start. */
void	daemon_pidfile_remove(void);

/* Closes the pid file without removing it (a forked session must not
 * keep the lock). */
void	daemon_pidfile_close(void);

#endif
