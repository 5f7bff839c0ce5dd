/*
 * listener.c: the standalone listener (pop3d as a daemon, pop3d -F, and
 * systemd Accept=no).  Takes its sockets from systemd (sd.c) or binds
 * the listen lines, and accepts (daemon.c has detached it before): each
 * connection passes the limits (listener_tab.c) before a session
 * master is forked for it in a process group of its own; refusals get one
 * -ERR line and a close.  Sessions report login results over a datagram
 * socketpair, checked against the sender's pid, for the growing
 * per-address penalty.  SIGTERM/SIGINT stop accepting and give sessions
 * shutdown_grace seconds; SIGHUP re-reads the config; SIGUSR1 logs the
 * counters.  Runs as root (or the invoking user) and never reads a byte a
 * client sends; a failed accept or fork is logged and survived, never
 * fatal (style.md: the listener never dies because of a peer).
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

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

#include "auth.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "sd.h"
#include "session.h"

#define LISTEN_BACKLOG		128
/* Connections taken from one socket per wake-up (fairness). */
#define ACCEPT_BURST		16
/* After EMFILE and friends: stop accepting this long, keep serving. */
#define ACCEPT_PAUSE_MS		100
/* Idle wake-ups for expiry, and the clock of the shutdown. */
#define TICK_MS			1000
/* After the grace: SIGTERM, this long, SIGKILL, this long, give up. */
#define KILL_WAIT_MS		5000
/* Reports read per wake-up. */
#define REPORTS_BURST		64
#define SOCKNAME_MAX		(INET6_ADDRSTRLEN + 16)

/* RFC 3206 [SYS/TEMP] for POP3; RFC 937's "-" and a text for POP2. */
#define REFUSE_ADDR	"too many connections from your address; try " \
			"again later"
#define REFUSE_BUSY	"server busy; try again later"

enum { RUNNING, DRAINING, KILLING, KILLED };

struct lsock {
	int	 fd;
	int	 proto;
};

struct counters {
	unsigned long long	 accepted;
	unsigned long long	 refused_busy, refused_addr, refused_rate;
	unsigned long long	 auth_fail, auth_ok, bad_reports;
	unsigned long long	 accept_errors, fork_errors;
};

static struct lsock		 lsocks[PARAM_LISTEN_MAX];
static size_t			 nlsocks;

static volatile sig_atomic_t	 got_term, got_hup, got_usr1, got_chld;

/* The listener's state: two config slots so that a reload never
 * disturbs the running one until it is known good. */
static struct {
	struct conf		 confs[2];
	struct privsep_preauth	 pas[2];
	int			 cur;
	struct listener_opts	 opts;
	struct listener_tab	 tab;
	int			 rep[2];	/* [0] ours, [1] sessions' */
	sigset_t		 oldmask;
	int64_t			 now_ms, now;
	int64_t			 pause_until_ms, deadline_ms;
	int			 stopping;
	uint64_t		 evicted_seen;
	struct counters		 n;
	struct listener_throttle busy_log, err_log, report_log, full_log;
} lis;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGCHLD:
		got_chld = 1;
		break;
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGUSR1:
		got_usr1 = 1;
		break;
	default:
		got_term = 1;
		break;
	}
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
tick(void)
{
	lis.now_ms = mono_ms();
	lis.now = lis.now_ms / 1000;
}

/* "192.0.2.1:110", "[2001:db8::1]:110", "unix socket". */
static void
sockaddr_str(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t buflen)
{
	char host[INET6_ADDRSTRLEN], serv[16];

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, buflen, "%s", sa->sa_family == AF_UNIX ?
		    "unix socket" : "unknown address");
		return;
	}
	snprintf(buf, buflen, sa->sa_family == AF_INET6 ? "[%s]:%s" :
	    "%s:%s", host, serv);
}

static const char *
proto_name(int proto)
{
	return proto == PROTO_POP2 ? "pop2" : "pop3";
}

int
listener_check_conf(const struct conf *c, char *errstr_r, size_t errlen)
{
	struct stat st;
	size_t i;

	for (i = 0; i < c->nuserdb; i++)
		if (c->userdb[i] == USERDB_FILE)
			break;
	if (i == c->nuserdb || stat(c->passwd_file, &st) == -1)
		return 0;
	/* The hashes are as secret as the passwords (offline guessing). */
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		snprintf(errstr_r, errlen, "passwd_file %s is readable by "
		    "others; chmod 600 %s", c->passwd_file, c->passwd_file);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(errstr_r, errlen, "passwd_file %s is writable by "
		    "others; chmod 600 %s", c->passwd_file, c->passwd_file);
		return -1;
	}
	return 0;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
bind_one(const struct conf_listen *l, char *errstr_r, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	const char *host;
	int fd = -1, on = 1, gai, err = 0;

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
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(errstr_r, errlen, "listen %s:%s: %s", l->host,
		    l->port, err != 0 ? strerror(err) : "no usable address");
	return fd;
}

/* Maps a systemd socket without a pop3/pop2 name by its address. */
static int
proto_by_address(const struct conf *c, int fd, char *name, size_t namelen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int i;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(name, namelen, "unknown address");
		return PROTO_POP3;
	}
	sockaddr_str((struct sockaddr *)&ss, len, name, namelen);
	if ((i = listener_match_listen(c, (struct sockaddr *)&ss, len)) >= 0)
		return c->listen[i].proto;
	log_info("systemd socket %s (fd %d) has no pop3/pop2 name and "
	    "matches no listen line in %s: serving pop3 there", name, fd,
	    c->file);
	return PROTO_POP3;
}

int
listener_open(const struct conf *c, char *errstr_r, size_t errlen)
{
	int fds[PARAM_LISTEN_MAX], protos[PARAM_LISTEN_MAX];
	char name[SOCKNAME_MAX];
	size_t i;
	int n, fd;

	nlsocks = 0;
	if ((n = sd_listen_take(fds, protos, PARAM_LISTEN_MAX, errstr_r,
	    errlen)) == -1)
		return -1;
	for (i = 0; i < (size_t)n; i++) {
		if (protos[i] == 0)
			protos[i] = proto_by_address(c, fds[i], name,
			    sizeof(name));
		else
			snprintf(name, sizeof(name), "named %s",
			    proto_name(protos[i]));
		if (set_nonblock(fds[i]) == -1)
			log_warn("O_NONBLOCK on systemd socket fd %d", fds[i]);
		lsocks[nlsocks].fd = fds[i];
		lsocks[nlsocks++].proto = protos[i];
		log_info("listening on systemd socket fd %d, %s (%s)", fds[i],
		    name, proto_name(protos[i]));
	}
	if (n > 0)
		return 0;
	for (i = 0; i < c->nlisten; i++) {
		if ((fd = bind_one(&c->listen[i], errstr_r, errlen)) == -1) {
			while (nlsocks > 0)
				close(lsocks[--nlsocks].fd);
			return -1;
		}
		lsocks[nlsocks].fd = fd;
		lsocks[nlsocks++].proto = c->listen[i].proto;
		log_info("listening on %s:%s (%s)", c->listen[i].host,
		    c->listen[i].port, proto_name(c->listen[i].proto));
	}
	return 0;
}

static void
refuse(int fd, int proto, const char *text)
{
	char msg[PARAM_RESP_MAX];
	int n;

	n = snprintf(msg, sizeof(msg), "%s %s\r\n", proto == PROTO_POP2 ?
	    "-" : "-ERR [SYS/TEMP]", text);
	/* One try, never blocking: a fresh socket's buffer takes it. */
	if (n > 0 && (size_t)n < sizeof(msg))
		(void)send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
log_refusal(uint32_t peer, const char *addr, const char *limit, int value)
{
	struct listener_peer *p = listener_tab_peer(&lis.tab, peer);
	uint32_t n;

	if (!listener_throttle(p != NULL ? &p->refusals : &lis.busy_log,
	    lis.now, LISTENER_LOG_INTERVAL, &n))
		return;
	if (n > 0)
		log_notice("refused addr=%s limit=%s (%d) suppressed=%u "
		    "(refusals not logged in the last %d s)", addr, limit,
		    value, n, LISTENER_LOG_INTERVAL);
	else
		log_notice("refused addr=%s limit=%s (%d)", addr, limit,
		    value);
}

static void __attribute__((noreturn))
serve(int fd, int proto, int penalty_ms)
{
	const struct conf *c = &lis.confs[lis.cur];
	struct sigaction sa;
	size_t i;

	/* Its own process group: the shutdown ends the session master
	 * and its pre-auth child together, and ^C on a -F terminal
	 * reaches only the listener, which shuts down in order. */
	(void)setpgid(0, 0);
	for (i = 0; i < nlsocks; i++)
		close(lsocks[i].fd);
	if (lis.rep[0] != -1)
		close(lis.rep[0]);
	daemon_pidfile_close();
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	/* "kill -HUP pop3d" is meant for the listener. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigprocmask(SIG_SETMASK, &lis.oldmask, NULL);
	session_set_listener(lis.rep[1], penalty_ms);
	exit(session_run_proto(c, &lis.pas[lis.cur], proto, fd, fd));
}

/* One accepted connection: limits, then a session or a refusal. */
static void
handle(int fd, const struct sockaddr_storage *ss, socklen_t sl, int proto)
{
	const struct conf *c = &lis.confs[lis.cur];
	struct listener_limits lim;
	struct listener_addr a;
	struct listener_peer *p;
	char addr[SOCKNAME_MAX], host[INET6_ADDRSTRLEN];
	uint32_t peer, n;
	pid_t pid;
	int r, penalty;

	if (getnameinfo((const struct sockaddr *)ss, sl, host, sizeof(host),
	    NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(host, sizeof(host), "local");
	log_sanitize(host, strlen(host), addr, sizeof(addr));
	listener_addr_from_sockaddr((const struct sockaddr *)ss, sl, &a);
	lim.max_sessions = c->max_sessions;
	lim.max_sessions_per_addr = c->max_sessions_per_addr;
	lim.max_conn_per_min = c->max_conn_per_min;
	r = listener_tab_admit(&lis.tab, &a, lis.now, &lim, &peer);
	if (lis.tab.evicted != lis.evicted_seen) {
		lis.evicted_seen = lis.tab.evicted;
		if (listener_throttle(&lis.full_log, lis.now, 60, &n))
			log_warnx("address table full (%zu addresses): "
			    "forgetting the least recently seen",
			    lis.tab.count);
	}
	switch (r) {
	case LISTENER_ADMIT:
		break;
	case LISTENER_BUSY:
		lis.n.refused_busy++;
		refuse(fd, proto, REFUSE_BUSY);
		log_refusal(peer, addr, "max_sessions", c->max_sessions);
		return;
	case LISTENER_PER_ADDR:
		lis.n.refused_addr++;
		refuse(fd, proto, REFUSE_ADDR);
		log_refusal(peer, addr, "max_sessions_per_addr",
		    c->max_sessions_per_addr);
		return;
	default:
		lis.n.refused_rate++;
		refuse(fd, proto, REFUSE_ADDR);
		log_refusal(peer, addr, "max_conn_per_min",
		    c->max_conn_per_min);
		return;
	}
	p = listener_tab_peer(&lis.tab, peer);
	penalty = listener_penalty_ms(listener_peer_failures(p, lis.now),
	    c->auth_penalty_max_ms);
	if (listener_tab_child_reserve(&lis.tab) == -1 ||
	    (pid = fork()) == -1) {
		lis.n.fork_errors++;
		if (listener_throttle(&lis.err_log, lis.now,
		    LISTENER_LOG_INTERVAL, &n))
			log_warn("cannot start a session for %s", addr);
		listener_tab_release(&lis.tab, peer, lis.now);
		refuse(fd, proto, REFUSE_BUSY);
		lis.pause_until_ms = lis.now_ms + ACCEPT_PAUSE_MS;
		return;
	}
	if (pid == 0)
		serve(fd, proto, penalty);
	/* Also here: whichever runs first, the group exists for kill(). */
	(void)setpgid(pid, pid);
	listener_tab_child_add(&lis.tab, pid, peer);
	lis.n.accepted++;
	if (penalty > 0)
		log_info("addr=%s pid=%ld penalty_ms=%d after %u failed logins",
		    addr, (long)pid, penalty,
		    listener_peer_failures(p, lis.now));
	close(fd);
}

static void
accept_on(const struct lsock *ls)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint32_t n;
	int fd, k;

	for (k = 0; k < ACCEPT_BURST && lis.stopping == RUNNING; k++) {
		sl = sizeof(ss);
		fd = accept4(ls->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_CLOEXEC);
		if (fd != -1) {
			handle(fd, &ss, sl, ls->proto);
			continue;
		}
		switch (errno) {
		case EAGAIN:
		case EINTR:
			return;
		/* accept(2): network errors of the new connection */
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case EOPNOTSUPP:
		case ENETUNREACH:
			continue;
		default:
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM: breathe */
			lis.n.accept_errors++;
			if (listener_throttle(&lis.err_log, lis.now,
			    LISTENER_LOG_INTERVAL, &n))
				log_warn("accept (pausing %d ms)",
				    ACCEPT_PAUSE_MS);
			lis.pause_until_ms = lis.now_ms + ACCEPT_PAUSE_MS;
			return;
		}
	}
}

static void
bad_report(const char *why, long pid)
{
	uint32_t n;

	lis.n.bad_reports++;
	if (listener_throttle(&lis.report_log, lis.now, LISTENER_LOG_INTERVAL,
	    &n))
		log_warnx("ignored a login report: %s (pid %ld)", why, pid);
}

/* Login results from the sessions: untrusted datagrams, checked for
 * size, for a sender that is one of our children, and for that child's
 * own client address. */
static void
read_reports(void)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct session_report rep;
	struct listener_addr a;
	struct listener_peer *p;
	struct cmsghdr *cmsg;
	struct msghdr mh;
	struct iovec iov;
	struct ucred uc;
	uint8_t buf[sizeof(struct session_report) + 1];
	uint32_t peer;
	ssize_t n;
	bool cred;
	int k;

	for (k = 0; k < REPORTS_BURST && lis.rep[0] != -1; k++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		n = recvmsg(lis.rep[0], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("login reports");
			return;
		}
		cred = false;
		for (cmsg = CMSG_FIRSTHDR(&mh); cmsg != NULL;
		    cmsg = CMSG_NXTHDR(&mh, cmsg))
			if (cmsg->cmsg_level == SOL_SOCKET &&
			    cmsg->cmsg_type == SCM_CREDENTIALS &&
			    cmsg->cmsg_len == CMSG_LEN(sizeof(uc))) {
				memcpy(&uc, CMSG_DATA(cmsg), sizeof(uc));
				cred = true;
			}
		if (!cred) {
			bad_report("no sender credentials", 0);
			continue;
		}
		if (n != (ssize_t)sizeof(rep) ||
		    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
			bad_report("wrong size", (long)uc.pid);
			continue;
		}
		memcpy(&rep, buf, sizeof(rep));
		peer = listener_tab_child_peer(&lis.tab, uc.pid);
		if ((p = listener_tab_peer(&lis.tab, peer)) == NULL) {
			bad_report("not from a session of ours", (long)uc.pid);
			continue;
		}
		listener_addr_from_raw(rep.family, rep.addr, &a);
		if (rep.ok > 1 || !listener_addr_eq(&a, &p->addr)) {
			bad_report("not about the session's client",
			    (long)uc.pid);
			continue;
		}
		listener_tab_report(&lis.tab, peer, rep.ok == 1, lis.now);
		if (rep.ok == 1)
			lis.n.auth_ok++;
		else
			lis.n.auth_fail++;
	}
}

static void
reap(void)
{
	pid_t pid;
	int status;

	/* A session's last report is queued before it exits: read it
	 * while its pid still names its address. */
	read_reports();
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (!listener_tab_child_remove(&lis.tab, pid, lis.now))
			continue;
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM &&
		    WTERMSIG(status) != SIGKILL)
			log_warnx("session pid %ld ended by signal %d",
			    (long)pid, WTERMSIG(status));
	}
}

static void
kill_group(pid_t pid, void *arg)
{
	int sig = *(int *)arg;

	if (kill(-pid, sig) == -1)
		(void)kill(pid, sig);
}

static void
kill_sessions(int sig)
{
	log_info("ending %zu session%s with %s", lis.tab.nchildren,
	    lis.tab.nchildren == 1 ? "" : "s", sig == SIGKILL ? "SIGKILL" :
	    "SIGTERM");
	listener_tab_children(&lis.tab, kill_group, &sig);
}

static void
begin_stop(void)
{
	const struct conf *c = &lis.confs[lis.cur];

	(void)sd_notify_send("STOPPING=1\nSTATUS=shutting down");
	while (nlsocks > 0)
		close(lsocks[--nlsocks].fd);
	lis.stopping = DRAINING;
	lis.deadline_ms = lis.now_ms + (int64_t)c->shutdown_grace * 1000;
	log_info("shutting down: not accepting; %zu session%s may finish "
	    "within %d s", lis.tab.nchildren, lis.tab.nchildren == 1 ? "" : "s",
	    c->shutdown_grace);
}

/* The shutdown's next step when its deadline has come; false: done. */
static bool
stop_step(void)
{
	if (lis.tab.nchildren == 0)
		return false;
	if (lis.now_ms < lis.deadline_ms)
		return true;
	switch (lis.stopping) {
	case DRAINING:
		kill_sessions(SIGTERM);
		lis.stopping = KILLING;
		break;
	case KILLING:
		kill_sessions(SIGKILL);
		lis.stopping = KILLED;
		break;
	default:
		log_warnx("%zu session%s did not end; leaving",
		    lis.tab.nchildren, lis.tab.nchildren == 1 ? "" : "s");
		return false;
	}
	lis.deadline_ms = lis.now_ms + KILL_WAIT_MS;
	return true;
}

/* Logs listen lines that differ: they need a restart. */
static void
listen_changes(const struct conf *old, const struct conf *new)
{
	const struct conf_listen *a, *b;
	size_t i, j;
	int k;

	for (k = 0; k < 2; k++) {
		const struct conf *x = k == 0 ? new : old;
		const struct conf *y = k == 0 ? old : new;

		for (i = 0; i < x->nlisten; i++) {
			a = &x->listen[i];
			for (j = 0; j < y->nlisten; j++) {
				b = &y->listen[j];
				if (a->proto == b->proto &&
				    strcmp(a->host, b->host) == 0 &&
				    strcmp(a->port, b->port) == 0)
					break;
			}
			if (j == y->nlisten)
				log_warnx("%s: listen %s %s:%s %s; the sockets "
				    "change only when pop3d restarts",
				    new->file, proto_name(a->proto), a->host,
				    a->port, k == 0 ? "is new" : "was removed");
		}
	}
}

static void
reload(void)
{
	const struct conf *c = &lis.confs[lis.cur];
	struct conf *nc = &lis.confs[1 - lis.cur];
	char err[1024];

	(void)sd_notify_sendf("RELOADING=1\nMONOTONIC_USEC=%lld\n"
	    "STATUS=reloading", (long long)lis.now_ms * 1000);
	if (conf_load(nc, c->file, lis.opts.conf_missing_ok, err,
	    sizeof(err)) == -1)
		log_warnx("reload: %s; keeping the running configuration", err);
	else if (privsep_preauth_init(nc, &lis.pas[1 - lis.cur], err,
	    sizeof(err)) == -1 || listener_check_conf(nc, err,
	    sizeof(err)) == -1)
		log_warnx("reload: %s: %s; keeping the running configuration",
		    nc->file, err);
	else {
		listen_changes(c, nc);
		lis.cur = 1 - lis.cur;
		if (!lis.opts.debug)
			log_setlevel(nc->log_level);
		log_info("reloaded %s: new sessions use it", nc->file);
		auth_prepare(nc);
	}
	(void)sd_notify_sendf("READY=1\nSTATUS=accepting connections "
	    "(%zu sessions)", lis.tab.nchildren);
}

static void
log_counters(void)
{
	size_t peers, penalised;

	listener_tab_stats(&lis.tab, lis.now, &peers, &penalised);
	log_info("counters: sessions=%zu accepted=%llu refused_busy=%llu "
	    "refused_per_addr=%llu refused_rate=%llu "
	    "auth_failures=%llu auth_ok=%llu penalised_addrs=%zu "
	    "tracked_addrs=%zu evicted_addrs=%llu bad_reports=%llu "
	    "accept_errors=%llu fork_errors=%llu", lis.tab.nchildren,
	    lis.n.accepted, lis.n.refused_busy, lis.n.refused_addr,
	    lis.n.refused_rate, lis.n.auth_fail, lis.n.auth_ok,
	    penalised, peers, (unsigned long long)lis.tab.evicted,
	    lis.n.bad_reports, lis.n.accept_errors, lis.n.fork_errors);
}

static int
setup(const struct conf *c, const struct privsep_preauth *pa,
    const struct listener_opts *o)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
	    SIGCHLD };
	struct sigaction sa;
	sigset_t block;
	uint8_t key[16];
	size_t i;
	int on = 1;

	lis.confs[0] = *c;
	lis.pas[0] = *pa;
	lis.cur = 0;
	lis.opts = *o;
	lis.rep[0] = lis.rep[1] = -1;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		log_warn("getrandom");
		return -1;
	}
	if (listener_tab_init(&lis.tab, 0, key) == -1) {
		log_warn("address table");
		return -1;
	}
	explicit_bzero(key, sizeof(key));
	/* SO_PASSCRED: the kernel names each report's sender. */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, lis.rep) == -1 ||
	    setsockopt(lis.rep[0], SOL_SOCKET, SO_PASSCRED, &on,
	    sizeof(on)) == -1) {
		log_warn("report socket");
		return -1;
	}
	(void)shutdown(lis.rep[1], SHUT_RD);

	/* Signals are blocked except inside ppoll(): none is missed
	 * between a check of the flags and the wait. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &lis.oldmask);
	return 0;
}

int
listener_run(const struct conf *c, const struct privsep_preauth *pa,
    const struct listener_opts *o)
{
	struct pollfd pfd[PARAM_LISTEN_MAX + 1];
	struct timespec ts;
	sigset_t waitmask;
	int64_t wait_ms, last_expire = 0;
	size_t i, npfd;
	bool listening;

	if (setup(c, pa, o) == -1)
		return 1;
	waitmask = lis.oldmask;
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGCHLD);
	tick();
	if (o->daemon)
		(void)sd_notify_sendf("READY=1\nMAINPID=%ld\nSTATUS="
		    "accepting connections", (long)getpid());
	else
		(void)sd_notify_send("READY=1\nSTATUS=accepting connections");
	log_info("ready: %zu listening socket%s, max_sessions=%d "
	    "max_sessions_per_addr=%d max_conn_per_min=%d", nlsocks,
	    nlsocks == 1 ? "" : "s", c->max_sessions,
	    c->max_sessions_per_addr, c->max_conn_per_min);

	for (;;) {
		tick();
		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (got_term) {
			got_term = 0;
			if (lis.stopping == RUNNING)
				begin_stop();
			else if (lis.stopping == DRAINING) {
				log_info("signalled again: not waiting for "
				    "the sessions");
				lis.deadline_ms = lis.now_ms;
			}
		}
		if (got_hup) {
			got_hup = 0;
			if (lis.stopping == RUNNING)
				reload();
		}
		if (got_usr1) {
			got_usr1 = 0;
			log_counters();
		}
		if (lis.stopping != RUNNING && !stop_step())
			break;

		pfd[0].fd = lis.rep[0];
		pfd[0].events = POLLIN;
		npfd = 1;
		listening = lis.stopping == RUNNING &&
		    lis.now_ms >= lis.pause_until_ms;
		for (i = 0; listening && i < nlsocks; i++) {
			pfd[npfd].fd = lsocks[i].fd;
			pfd[npfd++].events = POLLIN;
		}
		wait_ms = TICK_MS;
		if (lis.stopping == RUNNING && !listening)
			wait_ms = lis.pause_until_ms - lis.now_ms;
		else if (lis.stopping != RUNNING &&
		    lis.deadline_ms - lis.now_ms < wait_ms)
			wait_ms = lis.deadline_ms - lis.now_ms;
		if (wait_ms < 0)
			wait_ms = 0;
		ts.tv_sec = (time_t)(wait_ms / 1000);
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
		for (i = 0; i < npfd; i++)
			pfd[i].revents = 0;
		if (ppoll(pfd, npfd, &ts, &waitmask) == -1) {
			if (errno != EINTR) {
				log_warn("ppoll");
				lis.pause_until_ms = mono_ms() +
				    ACCEPT_PAUSE_MS;
			}
			continue;
		}
		tick();
		if (pfd[0].revents & POLLIN)
			read_reports();
		for (i = 1; i < npfd; i++)
			if (pfd[i].revents & (POLLIN | POLLERR))
				accept_on(&lsocks[i - 1]);
		if (lis.now != last_expire) {
			last_expire = lis.now;
			(void)listener_tab_expire(&lis.tab, lis.now);
		}
	}

	while (nlsocks > 0)
		close(lsocks[--nlsocks].fd);
	close(lis.rep[0]);
	close(lis.rep[1]);
	lis.rep[0] = lis.rep[1] = -1;
	listener_tab_free(&lis.tab);
	daemon_pidfile_remove();
	log_info("stopped");
	return 0;
}
