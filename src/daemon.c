/*
 * daemon.c: what pop3d does to become a daemon: the pid file (created and
 * locked before detaching, written by the detached process, removed when
 * the listener exits) and the detach itself (fork, setsid, fork, "/",
 * umask 022, /dev/null).  Runs in the listener process at start-up, as
 * root or the invoking user, before any session exists.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "params.h"
#include "util.h"

static int	 pidfile_fd = -1;
static char	 pidfile_path[PARAM_PATH_MAX];

/* true if pid is alive and its command is pop3d. */
static bool
running_pop3d(long pid)
{
	char path[64], comm[32];
	ssize_t n;
	int fd;

	if (kill((pid_t)pid, 0) == -1 && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;	/* the lock is the real test */
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return strcmp(comm, "pop3d\n") == 0;
}

int
daemon_pidfile_open(const char *path, char *errstr_r, size_t errlen)
{
	char buf[32], *end;
	ssize_t n;
	long pid;
	int fd;

	if (path[0] != '/') {
		snprintf(errstr_r, errlen, "pid_file \"%s\" is not an "
		    "absolute path", path);
		return -1;
	}
	if ((size_t)snprintf(pidfile_path, sizeof(pidfile_path), "%s",
	    path) >= sizeof(pidfile_path)) {
		snprintf(errstr_r, errlen, "pid_file path too long");
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644)) == -1) {
		snprintf(errstr_r, errlen, "pid file %s: %s (set pid_file in "
		    "the configuration, or run pop3d -F)", path,
		    strerror(errno));
		return -1;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || (*end != '\n' && *end != '\0') || pid > INT_MAX)
		pid = 0;
	/* A running pop3d holds the lock for its whole life. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (pid > 0)
			snprintf(errstr_r, errlen, "pop3d is already running "
			    "(pid %ld holds %s)", pid, path);
		else
			snprintf(errstr_r, errlen, "pop3d is already running "
			    "(%s is locked)", path);
		close(fd);
		return -1;
	}
	if (pid > 0 && pid != (long)getpid() && running_pop3d(pid)) {
		snprintf(errstr_r, errlen, "pid file %s names pop3d pid %ld, "
		    "which is running; stop it first", path, pid);
		close(fd);
		return -1;
	}
	pidfile_fd = fd;
	return 0;
}

static int
pidfile_write(void)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pidfile_fd, 0) == -1 ||
	    util_pwrite_full(pidfile_fd, buf, (size_t)n, 0) == -1)
		return -1;
	return 0;
}

void
daemon_pidfile_remove(void)
{
	if (pidfile_fd == -1)
		return;
	/* Still locked: nobody else can have taken it over. */
	(void)unlink(pidfile_path);
	close(pidfile_fd);
	pidfile_fd = -1;
}

int
daemon_detach(bool keep_stderr, char *errstr_r, size_t errlen)
{
	ssize_t n;
	pid_t pid;
	char ok = 0;
	int p[2], fd, status;

	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(errstr_r, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		snprintf(errstr_r, errlen, "fork: %s", strerror(errno));
		return -1;
	case 0:
		break;
	default:
		/* The starter returns once the pid file is written. */
		close(p[1]);
		do
			n = read(p[0], &ok, 1);
		while (n == -1 && errno == EINTR);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		_exit(n == 1 && ok == '1' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1) {
		log_warn("setsid");
		_exit(1);
	}
	switch (fork()) {
	case -1:
		log_warn("fork");
		_exit(1);
	case 0:
		break;
	default:
		_exit(0);	/* never a session leader: no terminal again */
	}
	if (chdir("/") == -1) {
		log_warn("chdir /");
		_exit(1);
	}
	umask(022);
	if (pidfile_fd != -1 && pidfile_write() == -1) {
		log_warn("pid file %s", pidfile_path);
		_exit(1);
	}
	if ((fd = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    (!keep_stderr && dup2(fd, STDERR_FILENO) == -1)) {
		log_warn("/dev/null");
		_exit(1);
	}
	if (fd > STDERR_FILENO)
		close(fd);
	(void)write(p[1], "1", 1);
	close(p[1]);
	return 0;
}

void
daemon_pidfile_close(void)
{
	if (pidfile_fd != -1)
		close(pidfile_fd);
	pidfile_fd = -1;
}
