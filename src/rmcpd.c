/*
 * rmcpd.c: the RFC 1339 responder.  One long-lived process answers polls
 * on its UDP sockets, one reply per request and never a retransmission:
 * rmcp.c decides what to answer, rmcpd_db.c finds the user and the
 * maildrop path as pop3d does, and this file stats the maildrop (never
 * opens or reads it: that would change its atime and so the answer),
 * checks RMCP secrets with crypt(3), binds or adopts the sockets, and
 * sends each reply from the address the request came to (IP_PKTINFO,
 * IPV6_RECVPKTINFO).  rmcpd_new() and rmcpd_bind() run as root at start
 * (the passwd-file and the secrets file are read then); everything after
 * rmcpd_main.c's drop runs as the unprivileged rmcp_user, or as the
 * invoking user when not started as root: rmcpd_run() in the responder,
 * confined by sandbox.c (it can stat, never open), rmcpd_reload() in the
 * loader, which hands what it read to the responder.  Every valid name
 * costs the same work, known or not.  A peer's datagram never makes it
 * exit; its log lines are rate-limited per kind.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "util.h"
#include "maildrop.h"
#include "params.h"
#include "rmcp.h"
#include "sandbox.h"

/* Datagrams read from one socket before the others get a turn. */
#define RMCPD_BATCH		64
/* Rate-limited logging: lines per kind per window. */
#define RMCPD_LOG_WINDOW_MS	60000
#define RMCPD_LOG_BURST		10
#define RMCPD_LOG_BURST_DEBUG	200
/* The home a decoy maildrop path is formed with when the user table
 * offers none. */
#define RMCPD_DECOY_HOME	"/nonexistent"

/* Kinds of log lines, each with its own budget. */
#define RL_DROP		0
#define RL_AUTH		1	/* failed authentications */
#define RL_AUTHOK	2
#define RL_IO		3
#define RL_STAT		4
#define RL_DEBUG	5
#define RL_KINDS	6

struct rmcpd_rlog {
	int64_t		 start;
	unsigned int	 n;
	unsigned long	 suppressed;
};

struct rmcpd_sock {
	int		 fd;
	int		 family;	/* of the socket */
};

struct rmcpd {
	const struct conf	*c;
	struct rmcp_state	 st;
	struct rmcpd_db		 db;
	struct rmcpd_sock	 socks[PARAM_LISTEN_MAX];
	size_t			 nsocks;
	struct rmcpd_rlog	 rl[RL_KINDS];
};

static volatile sig_atomic_t	got_term;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void	rlog(struct rmcpd *, int, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Logs at most a burst of lines of one kind per minute, then says how
 * many it left out: a flood of bad datagrams cannot flood the log. */
static void
rlog(struct rmcpd *d, int kind, int pri, const char *fmt, ...)
{
	static const char *names[RL_KINDS] = { "dropped datagrams",
	    "failed authentications", "authentications", "socket errors",
	    "maildrop errors", "polls" };
	struct rmcpd_rlog *r = &d->rl[kind];
	char msg[512];
	int64_t now = mono_ms();
	va_list ap;

	if (now - r->start >= RMCPD_LOG_WINDOW_MS || r->start == 0) {
		if (r->suppressed > 0)
			log_notice("%lu log lines about %s suppressed in the "
			    "last minute", r->suppressed, names[kind]);
		r->start = now;
		r->n = 0;
		r->suppressed = 0;
	}
	if (r->n >= (kind == RL_DEBUG ? RMCPD_LOG_BURST_DEBUG :
	    RMCPD_LOG_BURST)) {
		r->suppressed++;
		return;
	}
	r->n++;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	switch (pri) {
	case LOG_WARNING:
		log_warnx("%s", msg);
		break;
	case LOG_NOTICE:
		log_notice("%s", msg);
		break;
	case LOG_INFO:
		log_info("%s", msg);
		break;
	default:
		log_debug("%s", msg);
		break;
	}
}

int
rmcpd_reload(struct rmcpd *d, int fd)
{
	char err[512];
	int rc = 0;

	if (rmcpd_db_load(&d->db, d->c, true, d->c->rmcp_auth != 0, err,
	    sizeof(err)) == -1) {
		log_warnx("reload: %s; keeping what was read before (a "
		    "root-only file is read again by a restart)", err);
		rc = -1;
	}
	if (fd != -1 && rmcpd_db_send(fd, &d->db, rc == 0) == -1)
		return -1;
	return rc;
}

/* The responder: a hand-off from the loader replaces the tables.
 * Returns 0, or -1 when the loader is gone or sent garbage. */
static int
take_db(struct rmcpd *d, int fd)
{
	struct rmcpd_db db;
	bool complete;

	if (rmcpd_db_recv(fd, &db, &complete) == -1)
		return -1;
	rmcpd_db_free(&d->db);
	d->db = db;
	log_info("reloaded: %zu users, %zu RMCP secrets%s", d->db.nusers,
	    d->db.nsecrets, complete ? "" : " (a file could not be read: "
	    "its part as before)");
	return 0;
}

void
rmcpd_status(struct rmcpd *d, const char *name, bool name_ok,
    bool consent_needed, uint32_t *a_r, uint32_t *r_r, const char **why_r)
{
	const struct conf *c = d->c;
	char path[PARAM_PATH_MAX];
	struct timespec now;
	struct stat sb;
	bool known, xbit, listed;
	int r, e;

	*a_r = *r_r = 0;
	/* Every name goes through pop3d's validation before a path. */
	if (!name_ok || !auth_valid_username(name, strlen(name))) {
		*why_r = "unknown user";
		return;
	}
	/*
	 * From here every valid name costs the same, known or not (no
	 * enumeration by timing): one lookup in memory, one lstat (for an
	 * unknown name, of its neighbour's maildrop: a fresh name's own
	 * path would cost a directory search that a warm known one does
	 * not), the consent test, the clock and the ages; only then is the
	 * answer chosen.
	 */
	known = rmcpd_db_lookup(&d->db, name, path, sizeof(path)) == 1;
	if (path[0] == '\0' && maildrop_expand(c->maildrop, name,
	    RMCPD_DECOY_HOME, path, sizeof(path)) == -1)
		snprintf(path, sizeof(path), "%s", RMCPD_DECOY_HOME);
	/* lstat: a symbolic link is no maildrop to pop3d (O_NOFOLLOW). */
	r = lstat(path, &sb);
	e = errno;
	if (r == -1)
		memset(&sb, 0, sizeof(sb));
	xbit = (c->rmcp_consent & RMCP_CONSENT_EXECBIT) != 0 &&
	    (sb.st_mode & S_IXUSR) != 0;
	listed = (c->rmcp_consent & RMCP_CONSENT_LIST) != 0 &&
	    util_word_listed(c->rmcp_consent_users, name);
	clock_gettime(CLOCK_REALTIME, &now);
	rmcp_ages(&now, &sb.st_mtim, &sb.st_atim,
	    c->rmcp_ages == RMCP_AGES_REAL, a_r, r_r);
	if (!known)
		*why_r = "unknown user";
	else if (r == -1 && (e == ENOENT || e == ENOTDIR))
		*why_r = "no maildrop";
	else if (r == -1) {
		rlog(d, RL_STAT, LOG_WARNING, "maildrop %s: %s%s", path,
		    strerror(e), e == EACCES ? " (rmcpd needs search "
		    "permission on every directory above it)" : "");
		*why_r = "cannot stat the maildrop";
	} else if (!S_ISREG(sb.st_mode))
		*why_r = "not a regular file";
	else if (sb.st_size == 0)		/* D-R15 */
		*why_r = "empty maildrop";
	else if (consent_needed && !xbit && !listed)
		*why_r = "no consent";
	else {
		*why_r = rmcp_status_name(rmcp_reply_status(0, *a_r, *r_r));
		return;
	}
	*a_r = *r_r = 0;
}

/* --- Secrets ------------------------------------------------------------ */

/*
 * Checks data[0, len) against name's RMCP secret with exactly one crypt,
 * on a dummy setting when there is no such secret (style.md 5), and a
 * constant-time comparison of the whole hash.
 */
static bool
check_secret(struct rmcpd *d, const char *name, bool name_ok,
    const uint8_t *data, size_t len)
{
	const char *hash = NULL;
	char phrase[RMCP_SECRET_MAX + 1];
	bool ok;

	if (len > RMCP_SECRET_MAX)
		return false;
	memcpy(phrase, data, len);
	phrase[len] = '\0';
	if (name_ok)
		hash = rmcpd_db_secret(&d->db, name);
	/* auth.c: one crypt, dummy setting when there is no secret. */
	ok = auth_verify(phrase, hash);
	explicit_bzero(phrase, sizeof(phrase));
	return ok;
}

/* --- One datagram ----------------------------------------------------- */

static const char *
why_str(int why)
{
	switch (why) {
	case RMCP_WHY_MALFORMED:
		return "malformed";
	case RMCP_WHY_PRIVPORT:
		return "source port below 1024";
	case RMCP_WHY_RATE:
		return "rate limit";
	case RMCP_WHY_BLOCKED:
		return "source blocked after failed authentications";
	case RMCP_WHY_NOPENDING:
		return "authentication reply with nothing pending";
	case RMCP_WHY_BUSY:
		return "too many authentications per second";
	case RMCP_WHY_BADMASK:
		return "not the offered authentication type";
	case RMCP_WHY_BADSECRET:
		return "wrong secret";
	default:
		return "?";
	}
}

int
rmcpd_answer(struct rmcpd *d, const struct rmcp_addr *src, const void *buf,
    size_t len, uint8_t reply[RMCP_REPLY_LEN])
{
	struct rmcp_action a;
	char addr[RMCP_ADDR_STRLEN];
	const char *why = "";
	uint32_t ar, rr;
	bool ok;

	/* Test build: the responder has a datagram from the network. */
	sandbox_test_point();
	rmcp_addr_str(src, addr, sizeof(addr));
	if (rmcp_input(&d->st, src, buf, len, mono_ms(), &a) ==
	    RMCP_ACT_VERIFY) {
		ok = check_secret(d, a.name, a.name_ok, a.data, a.datalen);
		rmcp_verified(&d->st, src, a.name, a.name_ok, ok, mono_ms(),
		    &a);
		if (ok)
			rlog(d, RL_AUTHOK, LOG_INFO, "authenticated user=%s "
			    "addr=%s", a.name, addr);
	}
	switch (a.act) {
	case RMCP_ACT_AUTHREQ:
		rmcp_put_reply(reply, RMCP_AUTH_CLEARTEXT, 0, 0);
		rlog(d, RL_DEBUG, LOG_DEBUG, "poll addr=%s user=%s reply="
		    "authreq", addr, a.name_ok ? a.name : "(invalid)");
		return 1;
	case RMCP_ACT_ZERO:
		rmcp_put_reply(reply, 0, 0, 0);
		rlog(d, RL_AUTH, LOG_NOTICE, "authentication failed user=%s "
		    "addr=%s reason=\"%s\" failures=%u%s", a.name_ok ?
		    a.name : "(invalid)", addr, why_str(a.why), a.failures,
		    a.failures == d->st.lim.fail_max ? "; source blocked" :
		    "");
		return 1;
	case RMCP_ACT_STATUS:
		rmcpd_status(d, a.name, a.name_ok, !d->st.lim.auth, &ar, &rr,
		    &why);
		rmcp_put_reply(reply, 0, ar, rr);
		rlog(d, RL_DEBUG, LOG_DEBUG, "poll addr=%s user=%s reply=%u,%u "
		    "(%s)", addr, a.name_ok ? a.name : "(invalid)", ar, rr,
		    why);
		return 1;
	default:
		rlog(d, RL_DROP, LOG_INFO, "dropped a datagram of %zu octets "
		    "from %s: %s", len, addr, why_str(a.why));
		return 0;
	}
}

/* --- Sockets ----------------------------------------------------------- */

int
rmcpd_add_socket(struct rmcpd *d, int fd, char *errstr_r, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int type = 0, on = 1, fl;

	sl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1 ||
	    type != SOCK_DGRAM) {
		snprintf(errstr_r, errlen, "descriptor %d is not a datagram "
		    "socket", fd);
		return -1;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		snprintf(errstr_r, errlen, "descriptor %d is not an IPv4 or "
		    "IPv6 socket", fd);
		return -1;
	}
	if (d->nsocks == PARAM_LISTEN_MAX) {
		snprintf(errstr_r, errlen, "too many sockets (at most %d)",
		    PARAM_LISTEN_MAX);
		return -1;
	}
	/* Where each request came to, so that the reply leaves from it. */
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_RECVPKTINFO, &on, sizeof(on)) == -1) {
		snprintf(errstr_r, errlen, "IPV6_RECVPKTINFO: %s",
		    strerror(errno));
		return -1;
	}
	/* IPv4: its own option; on a dual-stack IPv6 socket a best effort
	 * for the IPv4 datagrams. */
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1 &&
	    ss.ss_family == AF_INET) {
		snprintf(errstr_r, errlen, "IP_PKTINFO: %s", strerror(errno));
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(errstr_r, errlen, "fcntl: %s", strerror(errno));
		return -1;
	}
	d->socks[d->nsocks].fd = fd;
	d->socks[d->nsocks].family = ss.ss_family;
	d->nsocks++;
	return 0;
}

/* Binds one rmcp_listen address.  0, 1 (skipped: no IPv6 on this host)
 * or -1 with a reason. */
static int
bind_one(struct rmcpd *d, const struct conf_listen *l, char *errstr_r,
    size_t errlen)
{
	struct addrinfo hints, *res;
	const char *host;
	int fd, gai, on = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	host = strcmp(l->host, "*") == 0 ? NULL : l->host;
	if (host == NULL)
		hints.ai_family = AF_INET;	/* '*' is every IPv4 address */
	if ((gai = getaddrinfo(host, l->port, &hints, &res)) != 0) {
		snprintf(errstr_r, errlen, "rmcp_listen %s:%s: %s", l->host,
		    l->port, gai_strerror(gai));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 && res->ai_family == AF_INET6 &&
	    errno == EAFNOSUPPORT && strcmp(l->host, "::") == 0) {
		log_warnx("rmcp_listen [::]:%s: no IPv6 on this host; "
		    "skipped", l->port);
		freeaddrinfo(res);
		return 1;
	}
	if (fd == -1) {
		snprintf(errstr_r, errlen, "rmcp_listen %s:%s: socket: %s",
		    l->host, l->port, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	/* D-R13: IPv4 and IPv6 on sockets of their own. */
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		e = errno;
		close(fd);
		freeaddrinfo(res);
		if (e == EADDRNOTAVAIL && strcmp(l->host, "::") == 0) {
			log_warnx("rmcp_listen [::]:%s: %s; skipped", l->port,
			    strerror(e));
			return 1;
		}
		snprintf(errstr_r, errlen, "rmcp_listen %s%s%s:%s: bind: %s",
		    strchr(l->host, ':') ? "[" : "", l->host,
		    strchr(l->host, ':') ? "]" : "", l->port, strerror(e));
		return -1;
	}
	freeaddrinfo(res);
	if (rmcpd_add_socket(d, fd, errstr_r, errlen) == -1) {
		close(fd);
		return -1;
	}
	log_info("listening on udp %s%s%s:%s", strchr(l->host, ':') ? "[" : "",
	    l->host, strchr(l->host, ':') ? "]" : "", l->port);
	return 0;
}

int
rmcpd_bind(struct rmcpd *d, char *errstr_r, size_t errlen)
{
	size_t i, before = d->nsocks;

	for (i = 0; i < d->c->nrmcp_listen; i++)
		if (bind_one(d, &d->c->rmcp_listen[i], errstr_r, errlen) == -1)
			return -1;
	if (d->nsocks == before) {
		snprintf(errstr_r, errlen, "rmcp_listen: no address could be "
		    "bound");
		return -1;
	}
	return 0;
}

/* Where a datagram came to, from its control messages. */
struct dst {
	bool		 have4, have6;
	struct in_pktinfo in4;
	struct in6_pktinfo in6;
};

static void
get_dst(struct msghdr *msg, struct dst *dst)
{
	struct cmsghdr *cm;

	memset(dst, 0, sizeof(*dst));
	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(dst->in4))) {
			memcpy(&dst->in4, CMSG_DATA(cm), sizeof(dst->in4));
			dst->have4 = true;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(dst->in6))) {
			memcpy(&dst->in6, CMSG_DATA(cm), sizeof(dst->in6));
			dst->have6 = true;
		}
	}
}

static bool
v4_unicast(uint32_t a)
{
	a = ntohl(a);
	return !IN_MULTICAST(a) && a != INADDR_BROADCAST;
}

/* A poll sent to a broadcast or multicast address would be answered by
 * every responder on the link: one poll, many replies.  Not answered. */
static bool
dst_unicast(const struct dst *dst)
{
	const uint8_t *b;
	uint32_t a;

	if (dst->have6) {
		if (IN6_IS_ADDR_MULTICAST(&dst->in6.ipi6_addr))
			return false;
		if (IN6_IS_ADDR_V4MAPPED(&dst->in6.ipi6_addr)) {
			b = dst->in6.ipi6_addr.s6_addr + 12;
			memcpy(&a, b, 4);
			return v4_unicast(a);
		}
		return true;
	}
	if (dst->have4)
		/* A subnet broadcast arrives with the interface's own
		 * address as ipi_spec_dst. */
		return v4_unicast(dst->in4.ipi_addr.s_addr) &&
		    dst->in4.ipi_addr.s_addr == dst->in4.ipi_spec_dst.s_addr;
	return true;
}

/* Sends the reply to from, from the address the request came to. */
static void
send_reply(struct rmcpd *d, const struct rmcpd_sock *s,
    const struct sockaddr_storage *from, socklen_t fromlen,
    const struct dst *dst, const uint8_t *reply)
{
	union {
		struct cmsghdr	 align;
		char		 b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct in6_pktinfo p6;
	struct in_pktinfo p4;
	struct cmsghdr *cm;
	struct msghdr msg;
	struct iovec iov;
	char addr[RMCP_ADDR_STRLEN];
	struct rmcp_addr ra;

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)(uintptr_t)reply;
	iov.iov_len = RMCP_REPLY_LEN;
	msg.msg_name = (void *)(uintptr_t)from;
	msg.msg_namelen = fromlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.b;
	cm = (struct cmsghdr *)(void *)cbuf.b;
	if (s->family == AF_INET6 && (dst->have6 || dst->have4)) {
		memset(&p6, 0, sizeof(p6));
		if (dst->have6)
			p6 = dst->in6;
		else {
			/* An IPv4 datagram on a dual-stack socket. */
			p6.ipi6_addr.s6_addr[10] = 0xff;
			p6.ipi6_addr.s6_addr[11] = 0xff;
			memcpy(p6.ipi6_addr.s6_addr + 12,
			    &dst->in4.ipi_addr, 4);
		}
		msg.msg_controllen = CMSG_SPACE(sizeof(p6));
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(p6));
		memcpy(CMSG_DATA(cm), &p6, sizeof(p6));
	} else if (s->family == AF_INET && dst->have4) {
		memset(&p4, 0, sizeof(p4));
		p4.ipi_spec_dst = dst->in4.ipi_addr;
		msg.msg_controllen = CMSG_SPACE(sizeof(p4));
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(p4));
		memcpy(CMSG_DATA(cm), &p4, sizeof(p4));
	} else
		msg.msg_control = NULL;
	if (sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
		/* A full socket buffer drops the reply, as the network
		 * may: the client polls again in a minute. */
		rmcp_addr_from_sa(&ra, (const struct sockaddr *)from, fromlen);
		rlog(d, RL_IO, LOG_WARNING, "reply to %s not sent: %s",
		    rmcp_addr_str(&ra, addr, sizeof(addr)), strerror(errno));
	}
}

/* Reads and answers up to a batch of datagrams from one socket. */
static void
serve_socket(struct rmcpd *d, const struct rmcpd_sock *s)
{
	union {
		struct cmsghdr	 align;
		char		 b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				   CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
	} cbuf;
	uint8_t buf[RMCP_DGRAM_MAX + 1], reply[RMCP_REPLY_LEN];
	struct sockaddr_storage from;
	struct rmcp_addr src;
	struct msghdr msg;
	struct iovec iov;
	struct dst dst;
	ssize_t n;
	size_t len;
	int i;

	for (i = 0; i < RMCPD_BATCH; i++) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.b;
		msg.msg_controllen = sizeof(cbuf.b);
		n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ECONNREFUSED)
				rlog(d, RL_IO, LOG_WARNING, "recvmsg: %s",
				    strerror(errno));
			return;
		}
		/* Anything longer than 512 octets is malformed, whole or
		 * cut by the buffer. */
		len = (size_t)n;
		if ((msg.msg_flags & MSG_TRUNC) != 0)
			len = sizeof(buf);
		if (rmcp_addr_from_sa(&src, (struct sockaddr *)&from,
		    msg.msg_namelen) == -1)
			continue;
		get_dst(&msg, &dst);
		if (!dst_unicast(&dst)) {
			rlog(d, RL_DROP, LOG_INFO, "dropped a datagram sent "
			    "to a broadcast or multicast address");
			continue;
		}
		if (rmcpd_answer(d, &src, buf, len, reply) == 1)
			send_reply(d, s, &from, msg.msg_namelen, &dst, reply);
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	got_term = 1;
}

int
rmcpd_run(struct rmcpd *d, int idle_exit, int ctlfd)
{
	struct pollfd pfd[PARAM_LISTEN_MAX + 1];
	struct sigaction sa;
	int64_t last = mono_ms();
	size_t i, n;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* The loader reloads; "kill -HUP" of every rmcpd reaches us too. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	while (!got_term) {
		for (i = 0; i < d->nsocks; i++) {
			pfd[i].fd = d->socks[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		n = d->nsocks;
		if (ctlfd != -1) {
			pfd[n].fd = ctlfd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
		r = poll(pfd, n, 1000);
		if (r == -1) {
			if (errno != EINTR) {
				log_warn("poll");
				return 1;	/* a broken invariant */
			}
			continue;
		}
		if (r == 0) {
			if (idle_exit > 0 &&
			    mono_ms() - last >= (int64_t)idle_exit * 1000) {
				log_info("idle for %d s: exiting", idle_exit);
				break;
			}
			continue;
		}
		for (i = 0; i < d->nsocks; i++) {
			if ((pfd[i].revents & POLLNVAL) != 0) {
				log_warnx("socket %d closed under rmcpd",
				    pfd[i].fd);
				return 1;
			}
			if ((pfd[i].revents & (POLLIN | POLLERR)) != 0) {
				last = mono_ms();
				serve_socket(d, &d->socks[i]);
			}
		}
		if (ctlfd != -1 && pfd[d->nsocks].revents != 0 &&
		    take_db(d, ctlfd) == -1) {
			log_warnx("the loader process is gone: exiting");
			return 1;
		}
	}
	return 0;
}

size_t
rmcpd_socket_fds(const struct rmcpd *d, int *fds_r, size_t max)
{
	size_t i;

	for (i = 0; i < d->nsocks && i < max; i++)
		fds_r[i] = d->socks[i].fd;
	return i;
}

void
rmcpd_close_sockets(struct rmcpd *d)
{
	size_t i;

	for (i = 0; i < d->nsocks; i++)
		close(d->socks[i].fd);
	d->nsocks = 0;
}

void
rmcpd_log_stats(struct rmcpd *d)
{
	const struct rmcp_stats *s = &d->st.stats;
	unsigned long n = 0;
	int k;

	for (k = 0; k < RL_KINDS; k++) {
		n += d->rl[k].suppressed;
		d->rl[k].suppressed = 0;
	}
	if (n > 0)
		log_notice("%lu log lines suppressed in the last minute", n);
	log_info("datagrams=%llu polls=%llu status=%llu authreq=%llu "
	    "authok=%llu authfail=%llu dropped: malformed=%llu privport=%llu "
	    "rate=%llu blocked=%llu nopending=%llu busy=%llu",
	    (unsigned long long)s->datagrams, (unsigned long long)s->polls,
	    (unsigned long long)s->status, (unsigned long long)s->authreq,
	    (unsigned long long)s->authok, (unsigned long long)s->authfail,
	    (unsigned long long)s->malformed, (unsigned long long)s->privport,
	    (unsigned long long)s->rate, (unsigned long long)s->blocked,
	    (unsigned long long)s->nopending, (unsigned long long)s->busy);
}

/* --- Life cycle --------------------------------------------------------- */

struct rmcpd *
rmcpd_new(const struct conf *c, char *errstr_r, size_t errlen)
{
	struct rmcp_limits lim;
	struct rmcpd *d;
	uint8_t seed[16];

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(errstr_r, errlen, "out of memory");
		return NULL;
	}
	d->c = c;
	memset(&lim, 0, sizeof(lim));
	lim.auth = c->rmcp_auth != 0;
	lim.pending_ms = (int64_t)c->rmcp_pending_lifetime * 1000;
	lim.authed_ms = (int64_t)c->rmcp_auth_lifetime * 1000;
	lim.rate = (uint32_t)c->rmcp_rate;
	lim.burst = (uint32_t)c->rmcp_rate_burst;
	lim.fail_max = (uint32_t)c->rmcp_auth_fail_max;
	lim.fail_block_ms = (int64_t)c->rmcp_auth_fail_block * 1000;
	lim.table_size = (size_t)c->rmcp_table_size;
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		snprintf(errstr_r, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if (rmcp_state_init(&d->st, &lim, seed) == -1) {
		snprintf(errstr_r, errlen, "out of memory for the tables");
		goto fail;
	}
	if (rmcpd_db_load(&d->db, c, true, lim.auth, errstr_r, errlen) == -1)
		goto fail;
	return d;
fail:
	rmcpd_free(d);
	return NULL;
}

void
rmcpd_free(struct rmcpd *d)
{
	if (d == NULL)
		return;
	rmcpd_close_sockets(d);
	rmcpd_db_free(&d->db);
	rmcp_state_free(&d->st);
	free(d);
}
