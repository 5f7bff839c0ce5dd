/*
 * sd.c: systemd socket activation and readiness notification, done by
 * hand because both protocols are small and stable (design.md §1): the
 * sockets of an Accept=no unit arrive as descriptors 3..3+n-1 with
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, and state changes go as
 * datagrams to NOTIFY_SOCKET.  Runs in the standalone listener (root, or
 * the invoking user) at start-up and on state changes; it never touches a
 * client connection.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "sd.h"

/* Past any descriptor limit: a LISTEN_FDS this large is garbage. */
#define SD_LISTEN_FDS_MAX	65536
/* One notification datagram: a few "KEY=value" lines. */
#define SD_NOTIFY_MAX	512

static struct sockaddr_un	sd_notify_sun;
static socklen_t		sd_notify_len;

/* A plain decimal (no sign, no blank) up to max; -1 otherwise. */
static long
parse_decimal(const char *s, long max)
{
	long v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

int
sd_parse_listen_env(const char *listen_pid, const char *listen_fds,
    pid_t self)
{
	long pid, n;

	if (listen_pid == NULL || listen_fds == NULL)
		return 0;
	if ((pid = parse_decimal(listen_pid, LONG_MAX)) <= 0)
		return -1;
	if (pid != (long)self)
		return 0;	/* for our parent, or a stale environment */
	n = parse_decimal(listen_fds, INT_MAX - SD_LISTEN_FDS_START);
	if (n <= 0)
		return -1;
	return (int)n;
}

/* The protocol named by the k-th (0-based) name, or 0. */
static int
name_proto(const char *names, size_t k)
{
	const char *p = names;
	size_t len;

	for (; p != NULL; k--) {
		len = strcspn(p, ":");
		if (k == 0) {
			if (len == 4 && strncasecmp(p, "pop3", 4) == 0)
				return PROTO_POP3;
			if (len == 4 && strncasecmp(p, "pop2", 4) == 0)
				return PROTO_POP2;
			return 0;
		}
		p = p[len] == ':' ? p + len + 1 : NULL;
	}
	return 0;
}

void
sd_parse_fdnames(const char *names, int *protos_r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		protos_r[i] = name_proto(names, i);
}

void
sd_listen_forget(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* true if fd is a listening stream socket; else logs why not. */
static bool
usable_listener(int fd)
{
	struct stat st;
	socklen_t len;
	int type, acc;

	if (fstat(fd, &st) == -1) {
		log_warn("systemd socket fd %d", fd);
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("systemd passed fd %d, which is not a socket", fd);
		return false;
	}
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		log_warnx("systemd socket fd %d is not a stream socket "
		    "(ListenStream= is needed)", fd);
		return false;
	}
	len = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
	    acc == 0) {
		log_warnx("systemd socket fd %d is not listening (Accept=yes "
		    "units run pop3d -i)", fd);
		return false;
	}
	return true;
}

int
sd_listen_take(int *fds_r, int *protos_r, size_t max, char *errstr_r,
    size_t errlen)
{
	const char *names;
	int n, fd, flags, taken = 0;

	n = sd_parse_listen_env(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getpid());
	if (n == -1) {
		snprintf(errstr_r, errlen, "malformed LISTEN_PID \"%.20s\" or "
		    "LISTEN_FDS \"%.20s\"", getenv("LISTEN_PID"),
		    getenv("LISTEN_FDS"));
		sd_listen_forget();
		return -1;
	}
	if (n == 0) {
		sd_listen_forget();
		return 0;
	}
	if (n > SD_LISTEN_FDS_MAX) {
		snprintf(errstr_r, errlen, "LISTEN_FDS=%d: more descriptors "
		    "than a listener can hold", n);
		sd_listen_forget();
		return -1;
	}
	if ((size_t)n > max)
		log_warnx("systemd passed %d sockets; using the first %zu "
		    "usable ones", n, max);
	names = getenv("LISTEN_FDNAMES");
	for (fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		if ((size_t)taken == max || !usable_listener(fd)) {
			close(fd);
			continue;
		}
		if ((flags = fcntl(fd, F_GETFD)) == -1 ||
		    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
			log_warn("fcntl systemd socket fd %d", fd);
			close(fd);
			continue;
		}
		fds_r[taken] = fd;
		protos_r[taken] = name_proto(names,
		    (size_t)(fd - SD_LISTEN_FDS_START));
		taken++;
	}
	sd_listen_forget();
	if (taken == 0) {
		snprintf(errstr_r, errlen, "systemd passed %d descriptors but "
		    "none is a listening stream socket", n);
		return -1;
	}
	return taken;
}

int
sd_parse_notify_addr(const char *value, struct sockaddr_un *sun_r,
    socklen_t *len_r)
{
	size_t len;

	if (value == NULL || (value[0] != '/' && value[0] != '@'))
		return -1;
	len = strlen(value);
	if (len < 2 || len > sizeof(sun_r->sun_path) - 1)
		return -1;
	memset(sun_r, 0, sizeof(*sun_r));
	sun_r->sun_family = AF_UNIX;
	memcpy(sun_r->sun_path, value, len);
	if (value[0] == '@') {
		/* Abstract: a leading NUL, and the length says where the
		 * name ends (no terminating NUL). */
		sun_r->sun_path[0] = '\0';
		*len_r = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len);
	} else
		*len_r = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len + 1);
	return 0;
}

bool
sd_notify_init(void)
{
	const char *v = getenv("NOTIFY_SOCKET");

	sd_notify_len = 0;
	if (v != NULL && sd_parse_notify_addr(v, &sd_notify_sun,
	    &sd_notify_len) == -1) {
		log_warnx("NOTIFY_SOCKET \"%.40s\" is not a socket path; no "
		    "notifications", v);
		sd_notify_len = 0;
	}
	unsetenv("NOTIFY_SOCKET");
	return sd_notify_len != 0;
}

int
sd_notify_send(const char *state)
{
	ssize_t n;
	size_t len = strlen(state);
	int fd;

	if (sd_notify_len == 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify socket");
		return -1;
	}
	do {
		n = sendto(fd, state, len, MSG_NOSIGNAL | MSG_DONTWAIT,
		    (const struct sockaddr *)&sd_notify_sun, sd_notify_len);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n != (ssize_t)len) {
		log_warn("notify \"%.20s\" to NOTIFY_SOCKET", state);
		return -1;
	}
	return 0;
}

int
sd_notify_sendf(const char *fmt, ...)
{
	char msg[SD_NOTIFY_MAX];
	va_list ap;
	int n;

	if (sd_notify_len == 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		log_warnx("notification too long; not sent");
		return -1;
	}
	return sd_notify_send(msg);
}
