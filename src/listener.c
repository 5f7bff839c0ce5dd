/*
 * listener.c: the standalone listener.  Binds the configured addresses,
 * accepts connections, forks a session master for each and reaps the
 * children.  It runs as root (or the invoking user) and never reads what a
 * client sends; a failed accept or fork is logged and survived, never
 * fatal (style.md: the listener never dies because of a peer).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "session.h"

static int			 lfds[PARAM_LISTEN_MAX];
static size_t			 nlfds;
static volatile sig_atomic_t	 got_term;
static volatile sig_atomic_t	 got_chld;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

int
listener_bind(const struct conf *c, char *errstr_r, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	const struct conf_listen *l;
	const char *host;
	size_t i;
	int fd, on = 1, gai;

	nlfds = 0;
	for (i = 0; i < c->nlisten; i++) {
		l = &c->listen[i];
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
		host = strcmp(l->host, "*") == 0 ? NULL : l->host;
		if (host == NULL)
			hints.ai_family = AF_INET;
		if ((gai = getaddrinfo(host, l->port, &hints, &res)) != 0) {
			snprintf(errstr_r, errlen, "listen %s:%s: %s", l->host,
			    l->port, gai_strerror(gai));
			return -1;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype |
			    SOCK_CLOEXEC, ai->ai_protocol);
			if (fd == -1)
				continue;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
			    sizeof(on));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
				    sizeof(on));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
			    listen(fd, 128) == -1) {
				snprintf(errstr_r, errlen, "listen %s:%s: %s",
				    l->host, l->port, strerror(errno));
				close(fd);
				freeaddrinfo(res);
				return -1;
			}
			if (nlfds == PARAM_LISTEN_MAX) {
				close(fd);
				break;
			}
			lfds[nlfds++] = fd;
			log_info("listening on %s:%s (%s)", l->host, l->port,
			    l->proto == PROTO_POP2 ? "pop2" : "pop3");
			break;
		}
		freeaddrinfo(res);
		if (ai == NULL) {
			snprintf(errstr_r, errlen, "listen %s:%s: no usable "
			    "address", l->host, l->port);
			return -1;
		}
	}
	return 0;
}

static void
reap(void)
{
	int status;

	while (waitpid(-1, &status, WNOHANG) > 0)
		;
}

static void
serve(const struct conf *c, const struct privsep_preauth *pa, int fd)
{
	size_t i;

	for (i = 0; i < nlfds; i++)
		close(lfds[i]);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	exit(session_run(c, pa, fd, fd));
}

int
listener_run(const struct conf *c, const struct privsep_preauth *pa)
{
	struct pollfd pfd[PARAM_LISTEN_MAX];
	struct sigaction sa;
	struct timespec pause_ts = { 0, 100 * 1000000L };
	size_t i;
	pid_t pid;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);

	while (!got_term) {
		for (i = 0; i < nlfds; i++) {
			pfd[i].fd = lfds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		r = poll(pfd, nlfds, 1000);
		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (r <= 0)
			continue;
		for (i = 0; i < nlfds; i++) {
			if ((pfd[i].revents & POLLIN) == 0)
				continue;
			fd = accept4(lfds[i], NULL, NULL, SOCK_CLOEXEC);
			if (fd == -1) {
				if (errno != EINTR && errno != EAGAIN &&
				    errno != ECONNABORTED) {
					log_warn("accept");
					/* EMFILE and friends: breathe */
					nanosleep(&pause_ts, NULL);
				}
				continue;
			}
			/* The session's socket is its stdin/stdout: no
			 * close-on-exec needed, but nothing execs. */
			switch ((pid = fork())) {
			case -1:
				log_warn("fork");
				break;
			case 0:
				serve(c, pa, fd);
				/* NOTREACHED */
			default:
				break;
			}
			close(fd);
		}
	}
	log_info("shutting down");
	for (i = 0; i < nlfds; i++)
		close(lfds[i]);
	reap();
	return 0;
}
