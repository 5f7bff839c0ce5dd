/*
 * sandbox.c: confinement of the processes that read the network before
 * anyone logged in: pop3d's pre-auth child (called by privsep.c after its
 * chroot and drop) and rmcpd's responder (after its bind and drop).
 * Every pre-auth child of a server runs as the same uid, so a child that
 * a bug handed to an attacker must not reach its siblings or anything
 * else: it keeps only its descriptors, may create no process, file or
 * descriptor (resource limits), gains no privilege by exec
 * (PR_SET_NO_NEW_PRIVS), and a seccomp allow-list (libseccomp) kills it
 * at the first system call its loop never makes: open, socket, kill,
 * ptrace, process_vm_*, execve and the rest.  Both allow-lists are what
 * the loops, glibc's malloc, stdio, syslog(3) and time functions need
 * with the time zone loaded before the chroot (log_init's tzset) and the
 * syslog socket connected before it (LOG_NDELAY).  Runs in the process
 * being confined, as its unprivileged user; sandbox_startup_fds() runs at
 * the start of pop3d and rmcpd, as whoever started them.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"
#include "sd.h"

/*
 * Sanitizer builds (make SANITIZE=1) use the same filter, plus nothing:
 * ASan's run time needs only sigaltstack beyond the loops' calls.
 * LeakSanitizer's check at exit() runs a tracer thread (clone, ptrace),
 * which the filter, RLIMIT_NPROC and the non-dumpable flag all forbid, so
 * the confined processes end with _exit() once their output is flushed
 * (the pre-auth child always did; rmcpd's responder does) and the check
 * never runs in them: what they allocate is not checked, what they
 * inherited is, at their parent's exit.  A sanitizer report inside one is
 * cut short where it would start llvm-symbolizer: its first lines reach
 * the log, then SIGSYS ends the process.
 */

/* Without /proc, descriptors are closed up to this many. */
#define SANDBOX_FD_SCAN_MAX	65536

/*
 * What both loops use: I/O on the descriptors they hold, poll, time,
 * memory, signals returning, the end.  Names that do not exist on an
 * architecture are skipped (poll is ppoll on some).
 */
static const char *const allow_common[] = {
	"read", "readv", "write", "writev", "recvfrom", "sendto",
	"poll", "ppoll", "close",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"time", "getpid", "gettid", "getrandom",
	"brk", "munmap", "mremap", "madvise",
	"rt_sigreturn", "rt_sigprocmask", "restart_syscall", "futex",
	"sched_yield", "sigaltstack", "exit", "exit_group",
	NULL
};

/* The pre-auth child: nothing more (the client socket, the hand-off and
 * the log are read, written and polled). */
static const char *const allow_preauth[] = {
	NULL
};

/* rmcpd's responder: datagrams with their control messages, the stat of
 * a maildrop (never an open), its signal handlers. */
static const char *const allow_rmcpd[] = {
	"recvmsg", "sendmsg", "stat", "lstat", "fstat", "newfstatat",
	"fstatat64", "statx", "rt_sigaction",
	NULL
};

#ifdef POSTERN_TEST_HOOKS
#define TEST_CALL_OPEN		1
#define TEST_CALL_SOCKET	2
#define TEST_CALL_KILL		3
static int	test_call;
static pid_t	test_parent;
#endif

/* true if fd is in keep[0, n). */
static bool
kept(int fd, const int *keep, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* true if fd is a socket connected to the syslog socket _PATH_LOG.
 * On systemd /dev/log is a symbolic link to journald's socket, and the
 * peer's name is the link's target: compare the inodes. */
static bool
is_syslog_socket(int fd, const struct stat *logst)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun), ol = sizeof(int);
	struct stat st;
	int dom;

	if (logst == NULL || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom,
	    &ol) == -1 || dom != AF_UNIX)
		return false;
	memset(&sun, 0, sizeof(sun));
	if (getpeername(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    sun.sun_path[0] == '\0')
		return false;
	sun.sun_path[sizeof(sun.sun_path) - 1] = '\0';
	return stat(sun.sun_path, &st) == 0 && st.st_dev == logst->st_dev &&
	    st.st_ino == logst->st_ino;
}

/* Closes every descriptor from lo up. */
static void
close_from(int lo)
{
	long max;
	int fd;

	if (close_range((unsigned int)lo, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9. */
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > SANDBOX_FD_SCAN_MAX)
		max = SANDBOX_FD_SCAN_MAX;
	for (fd = lo; fd < max; fd++)
		(void)close(fd);
}

void
sandbox_startup_fds(void)
{
	int fd, n;

	for (fd = 0; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != fd)
			_exit(1);	/* cannot happen: fd was free */
	n = sd_parse_listen_env(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getpid());
	close_from(SD_LISTEN_FDS_START + (n > 0 ? n : 0));
}

void
sandbox_close_fds(const int *keep, size_t nkeep)
{
	struct stat logst, *lp = &logst;
	struct dirent *de;
	char *end;
	long v, max;
	DIR *d;
	int fd, dfd;

	if (stat(_PATH_LOG, &logst) == -1 || !S_ISSOCK(logst.st_mode))
		lp = NULL;
	if ((d = opendir("/proc/self/fd")) != NULL) {
		dfd = dirfd(d);
		while ((de = readdir(d)) != NULL) {
			errno = 0;
			v = strtol(de->d_name, &end, 10);
			if (errno != 0 || end == de->d_name || *end != '\0' ||
			    v < 0 || v > INT_MAX)
				continue;	/* "." and ".." */
			fd = (int)v;
			if (fd == dfd || fd == STDERR_FILENO ||
			    kept(fd, keep, nkeep) || is_syslog_socket(fd, lp))
				continue;
			(void)close(fd);
		}
		closedir(d);
		return;
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > SANDBOX_FD_SCAN_MAX)
		max = SANDBOX_FD_SCAN_MAX;
	for (fd = 0; fd < max; fd++)
		if (fd != STDERR_FILENO && !kept(fd, keep, nkeep) &&
		    !is_syslog_socket(fd, lp))
			(void)close(fd);
}

static int
set_limit(int res, rlim_t v, const char *name, char *errstr_r,
    size_t errlen)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(res, &rl) == -1) {
		snprintf(errstr_r, errlen, "setrlimit %s: %s", name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Adds one ALLOW rule per name known on this architecture. */
static int
allow_names(scmp_filter_ctx ctx, const char *const *names)
{
	int nr, rc;

	for (; *names != NULL; names++) {
		if ((nr = seccomp_syscall_resolve_name(*names)) ==
		    __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0)
			return rc;
	}
	return 0;
}

/* Adds the rules with arguments: memory never executable (no new code
 * in a compromised process), and socket(AF_UNIX) failing with EACCES
 * instead of killing: glibc's syslog() reconnects that way when the log
 * daemon was restarted, and a lost log line is no reason to end a
 * session.  Every other socket() kills. */
static int
allow_args(scmp_filter_ctx ctx)
{
	static const char *const noexec[] = { "mmap", "mmap2", "mprotect",
	    NULL };
	/* (argument, test, value, ...): prot & PROT_EXEC == 0; domain */
	const struct scmp_arg_cmp no_exec = { 2, SCMP_CMP_MASKED_EQ, PROT_EXEC,
	    0 };
	const struct scmp_arg_cmp unix_domain = { 0, SCMP_CMP_EQ, AF_UNIX, 0 };
	const char *const *p;
	int nr, rc;

	for (p = noexec; *p != NULL; p++) {
		if ((nr = seccomp_syscall_resolve_name(*p)) == __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1,
		    &no_exec)) < 0)
			return rc;
	}
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES),
	    SCMP_SYS(socket), 1, &unix_domain);
}

static int
install_filter(int profile, char *errstr_r, size_t errlen)
{
	scmp_filter_ctx ctx;
	uint32_t kill_act;
	int rc;

	/* SCMP_ACT_KILL_PROCESS needs Linux 4.14; KILL ends the thread,
	 * which in these single-threaded processes is the process. */
	kill_act = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS :
	    SCMP_ACT_KILL;
	if ((ctx = seccomp_init(kill_act)) == NULL) {
		snprintf(errstr_r, errlen, "seccomp_init failed");
		return -1;
	}
	if ((rc = allow_names(ctx, allow_common)) < 0 ||
	    (rc = allow_names(ctx, profile == SANDBOX_RMCPD ? allow_rmcpd :
	    allow_preauth)) < 0 || (rc = allow_args(ctx)) < 0) {
		snprintf(errstr_r, errlen, "seccomp rule: %s", strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		snprintf(errstr_r, errlen, "cannot install the seccomp "
		    "filter: %s (a kernel without seccomp cannot run the "
		    "sandbox)", strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

int
sandbox_enter(int profile, unsigned int nofile, char *errstr_r,
    size_t errlen)
{
	struct stat st;
	bool file_log;

	/* A log file on stderr grows with every line: RLIMIT_FSIZE 0 would
	 * end the process with SIGXFSZ at its first one. */
	file_log = fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	if (nofile < 1)
		nofile = 1;
	if (set_limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC", errstr_r, errlen) ==
	    -1 || (!file_log && set_limit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE",
	    errstr_r, errlen) == -1) || set_limit(RLIMIT_CORE, 0,
	    "RLIMIT_CORE", errstr_r, errlen) == -1 ||
	    set_limit(RLIMIT_NOFILE, nofile, "RLIMIT_NOFILE", errstr_r,
	    errlen) == -1)
		return -1;
	/* No core, no ptrace by a sibling of the same uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(errstr_r, errlen, "prctl: %s", strerror(errno));
		return -1;
	}
#ifdef POSTERN_TEST_HOOKS
	{
		const char *v = getenv("POSTERN_TEST_SANDBOX_SYSCALL");

		test_parent = getppid();
		test_call = v == NULL ? 0 : strcmp(v, "open") == 0 ?
		    TEST_CALL_OPEN : strcmp(v, "socket") == 0 ?
		    TEST_CALL_SOCKET : strcmp(v, "kill") == 0 ?
		    TEST_CALL_KILL : 0;
	}
#endif
	return install_filter(profile, errstr_r, errlen);
}

char *
sandbox_signal_text(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	snprintf(buf, len, "signal %d (SIG%s)%s", sig, abbrev != NULL ?
	    abbrev : "?", sig == SIGSYS ? ": a system call outside its "
	    "seccomp allow-list" : "");
	return buf;
}

#ifdef POSTERN_TEST_HOOKS
void
sandbox_test_point(void)
{
	int call = test_call;

	test_call = 0;
	switch (call) {
	case TEST_CALL_OPEN:
		(void)open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		break;
	case TEST_CALL_SOCKET:
		(void)socket(AF_INET, SOCK_STREAM, 0);
		break;
	case TEST_CALL_KILL:
		/* The master: were it allowed, the session would vanish. */
		(void)kill(test_parent, SIGTERM);
		break;
	default:
		break;
	}
}
#endif
