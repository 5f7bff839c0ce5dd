/*
 * sandbox.h: confinement of the processes that read the network with no
 * user logged in (design.md §1): pop3d's pre-auth child and rmcpd's
 * responder.  After their privilege drop they keep only the descriptors
 * they use, get resource limits that forbid new processes, files and
 * descriptors, PR_SET_NO_NEW_PRIVS, and a seccomp allow-list (libseccomp)
 * whose default action kills the process: no open, no socket, no kill or
 * ptrace of the other processes of their uid.  Also the descriptor
 * hygiene of both programs at start-up.
 */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

#include <stddef.h>

/* Which allow-list sandbox_enter() installs. */
#define SANDBOX_PREAUTH	1	/* pop3d's pre-auth child */
#define SANDBOX_RMCPD	2	/* rmcpd's responder */

/*
 * At start-up, before anything else opens a descriptor: makes sure 0, 1
 * and 2 are open (on /dev/null if not, so that no later descriptor
 * becomes a stray stderr) and closes every other descriptor but the
 * sockets systemd passed (3 .. 3 + LISTEN_FDS - 1 when LISTEN_PID is this
 * process).  Whoever started the program may have left anything open (a
 * pipe of the shell at 251 was seen).  Never fails.
 */
void	sandbox_startup_fds(void);

/*
 * Closes every descriptor but keep[0, nkeep), standard error (the log in
 * the foreground) and the socket syslog(3) holds (openlog LOG_NDELAY, to
 * _PATH_LOG).  Call it before a chroot: it reads /proc/self/fd (without
 * /proc it tries every descriptor below the limit) and finds the syslog
 * socket by the inode of _PATH_LOG.  Never fails.
 */
void	sandbox_close_fds(const int *keep, size_t nkeep);

/*
 * Confines the calling process for good, after its privilege drop:
 * RLIMIT_NPROC 0, RLIMIT_FSIZE 0 (unless standard error is a regular
 * file: a log file given as stderr keeps working), RLIMIT_CORE 0,
 * RLIMIT_NOFILE nofile (at least 1: poll(2) refuses more descriptors
 * than the limit), not dumpable, PR_SET_NO_NEW_PRIVS, and the seccomp
 * allow-list of profile (SANDBOX_*).  Returns 0, or -1 with a reason
 * (then the caller must not go on: it exits).
 */
int	sandbox_enter(int profile, unsigned int nofile, char *errstr_r,
	    size_t errlen);

/*
 * For the log line of a confined process that died by signal sig:
 * "signal 31 (SIGSYS): a system call outside its seccomp allow-list" (the
 * explanation only for SIGSYS) into buf.  Returns buf.
 */
char	*sandbox_signal_text(int sig, char *buf, size_t len);

/*
 * Test build only (POSTERN_TEST_HOOKS): when sandbox_enter() found
 * POSTERN_TEST_SANDBOX_SYSCALL=open|socket|kill in the environment, the
 * first call makes that forbidden system call, so that the tests see the
 * filter end the process.  pop3d calls it when the pre-auth child hands
 * credentials over, rmcpd for each datagram.  A no-op otherwise.
 */
#ifdef POSTERN_TEST_HOOKS
void	sandbox_test_point(void);
#else
static inline void
sandbox_test_point(void)
{
}
#endif

#endif
