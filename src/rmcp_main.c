/*
 * rmcp_main.c: rmcp, the RFC 1339 client.  Sends one poll for a user to a
 * host's UDP port 50 from an unreserved port, answers an authentication
 * request with a secret when asked to (-a), and prints "new", "old" or
 * "none" (exit 0, 1, 2; 3 on an error or no reply).  It never retransmits
 * (RFC 1339 p.4): a lost datagram is a timeout.  With -w it keeps polling
 * from the same socket (the RFC wants one port for an authenticated
 * client), no more than once a minute, and prints each change.  Runs as
 * the invoking user; needs no privilege.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "rmcp.h"

#define RMCP_EXIT_ERROR		3
/* p.4: no more than one poll (and one authentication) per minute. */
#define RMCP_INTERVAL_MIN	60
#define RMCP_TIMEOUT_DEFAULT	10
#define RMCP_TIMEOUT_MAX	3600
/* Test-only: a shorter watch interval (seconds); see rmcp(1). */
#define RMCP_TEST_ENV		"RMCP_TEST_INTERVAL"

struct client {
	int		 fd;
	const char	*host;
	const char	*user;
	char		 secret[RMCP_SECRET_MAX + 2];
	size_t		 secretlen;
	bool		 auth;
	bool		 verbose;
	int		 timeout;	/* seconds per reply */
};

static volatile sig_atomic_t	got_stop;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: rmcp [-av] [-p port] [-s file] [-t timeout] [-w [-i "
	    "interval] [-n count]]\n"
	    "            host user\n"
	    "  prints new, old or none and exits 0, 1 or 2 (3: error or no "
	    "reply)\n"
	    "  -a  answer an authentication request with a secret (from -s "
	    "file,\n"
	    "      else asked on the terminal)\n"
	    "  -p  port (default 50)    -t  seconds to wait for a reply "
	    "(default %d)\n"
	    "  -w  watch: poll every interval seconds (-i, at least %d), "
	    "print changes;\n"
	    "      -n stops after count polls\n"
	    "  -v  show the reply's words on standard error\n",
	    RMCP_TIMEOUT_DEFAULT, RMCP_INTERVAL_MIN);
	exit(RMCP_EXIT_ERROR);
}

/* A decimal in [min, max], or exits with a message. */
static long
number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v = -1;

	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0')
			v = -1;
	}
	if (v < min || v > max) {
		fprintf(stderr, "rmcp: %s \"%s\": a number from %ld to %ld\n",
		    what, s, min, max);
		exit(RMCP_EXIT_ERROR);
	}
	return v;
}

/* Strips a final newline (and CR); -1 if nothing is left or it is too
 * long. */
static int
chomp(char *buf, size_t *len_r)
{
	size_t n = strcspn(buf, "\r\n");

	if (buf[n] == '\0' && n > RMCP_SECRET_MAX)
		return -1;
	buf[n] = '\0';
	*len_r = n;
	return n == 0 ? -1 : 0;
}

static int
secret_from_file(struct client *cl, const char *file)
{
	struct stat sb;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, "rmcp: %s: %s\n", file, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) == 0 && (sb.st_mode & S_IROTH) != 0)
		fprintf(stderr, "rmcp: warning: %s is readable by others\n",
		    file);
	if (fgets(cl->secret, sizeof(cl->secret), fp) == NULL ||
	    chomp(cl->secret, &cl->secretlen) == -1)
		fprintf(stderr, "rmcp: %s: no secret on its first line (1-%d "
		    "octets)\n", file, RMCP_SECRET_MAX);
	else
		rc = 0;
	fclose(fp);
	return rc;
}

static int
secret_from_tty(struct client *cl)
{
	struct termios old, quiet;
	FILE *tty;
	int rc = -1, fd;

	if ((tty = fopen("/dev/tty", "r+")) == NULL) {
		fprintf(stderr, "rmcp: -a: no terminal to ask for the secret; "
		    "use -s file\n");
		return -1;
	}
	fd = fileno(tty);
	fprintf(tty, "RMCP secret for %s@%s: ", cl->user, cl->host);
	fflush(tty);
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (fgets(cl->secret, sizeof(cl->secret), tty) != NULL &&
	    chomp(cl->secret, &cl->secretlen) == 0)
		rc = 0;
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (rc == -1)
		fprintf(stderr, "rmcp: no secret given (1-%d octets)\n",
		    RMCP_SECRET_MAX);
	return rc;
}

/* A connected UDP socket to host:port from an unreserved local port. */
static int
open_socket(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rmcp_addr la;
	int fd = -1, gai, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "rmcp: %s: %s\n", host, gai_strerror(gai));
		return -1;
	}
	/* The first address that takes a socket: a poll goes once. */
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd != -1 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd == -1) {
		fprintf(stderr, "rmcp: %s: %s\n", host, strerror(e != 0 ? e :
		    EADDRNOTAVAIL));
		return -1;
	}
	/* p.2: "a randomly chosen unreserved UDP port"; the responder drops
	 * anything else. */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    rmcp_addr_from_sa(&la, (struct sockaddr *)&ss, sl) == -1 ||
	    la.port < RMCP_PRIV_PORT) {
		fprintf(stderr, "rmcp: no unreserved local port\n");
		close(fd);
		return -1;
	}
	return fd;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for one 12-octet reply.  0 with the words, 1 on timeout, -1 on
 * an error (said). */
static int
get_reply(struct client *cl, uint32_t *w0, uint32_t *a, uint32_t *r)
{
	uint8_t buf[RMCP_DGRAM_MAX + 1];
	int64_t deadline = now_ms() + (int64_t)cl->timeout * 1000, left;
	struct pollfd pfd;
	ssize_t n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0 || got_stop)
			return 1;
		pfd.fd = cl->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;	/* EINTR or the deadline */
		n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "rmcp: %s: %s\n", cl->host,
			    errno == ECONNREFUSED ? "no RMCP responder there "
			    "(port unreachable)" : strerror(errno));
			return -1;
		}
		/* The socket is connected: only the server gets here.  Not
		 * a reply (wrong size): keep waiting. */
		if (rmcp_get_reply(buf, (size_t)n, w0, a, r) == 0)
			break;
	}
	if (cl->verbose)
		fprintf(stderr, "rmcp: reply %lu %lu %lu\n", (unsigned long)*w0,
		    (unsigned long)*a, (unsigned long)*r);
	return 0;
}

static int
send_dgram(struct client *cl, const uint8_t *buf, size_t len)
{
	if (send(cl->fd, buf, len, 0) == (ssize_t)len)
		return 0;
	fprintf(stderr, "rmcp: %s: %s\n", cl->host, strerror(errno));
	return -1;
}

/* One poll (and one authentication).  RMCP_NEW/OLD/NONE, RMCP_AUTHREQ
 * (refused: asked without -a), or -1 on an error or no reply. */
static int
poll_once(struct client *cl)
{
	uint8_t buf[RMCP_DGRAM_MAX];
	uint32_t w0, a, r;
	size_t len;
	int st;

	len = rmcp_put_poll(buf, sizeof(buf), cl->user);
	if (send_dgram(cl, buf, len) == -1)
		return -1;
	if ((st = get_reply(cl, &w0, &a, &r)) != 0) {
		if (st == 1 && !got_stop)
			fprintf(stderr, "rmcp: no reply from %s within %d s\n",
			    cl->host, cl->timeout);
		return -1;
	}
	if (w0 == 0)
		return rmcp_reply_status(w0, a, r);
	if (!cl->auth) {
		fprintf(stderr, "rmcp: %s asks for authentication (mask "
		    "0x%08lx); use -a\n", cl->host, (unsigned long)w0);
		return RMCP_AUTHREQ;
	}
	if ((w0 & RMCP_AUTH_CLEARTEXT) == 0) {
		fprintf(stderr, "rmcp: %s offers no authentication type rmcp "
		    "knows (mask 0x%08lx)\n", cl->host, (unsigned long)w0);
		return RMCP_AUTHREQ;
	}
	len = rmcp_put_auth(buf, sizeof(buf), RMCP_AUTH_CLEARTEXT, cl->secret,
	    cl->secretlen);
	st = send_dgram(cl, buf, len);
	explicit_bzero(buf, sizeof(buf));
	if (st == -1)
		return -1;
	if ((st = get_reply(cl, &w0, &a, &r)) != 0) {
		if (st == 1 && !got_stop)
			fprintf(stderr, "rmcp: no reply to the authentication "
			    "from %s within %d s\n", cl->host, cl->timeout);
		return -1;
	}
	if (w0 != 0) {
		fprintf(stderr, "rmcp: %s asks for authentication again\n",
		    cl->host);
		return RMCP_AUTHREQ;
	}
	/* A wrong secret reads as (0, 0, 0), "none", by design (D-R9). */
	return rmcp_reply_status(w0, a, r);
}

static void
on_signal(int sig)
{
	(void)sig;
	got_stop = 1;
}

/* -w: polls every interval seconds from one socket, prints each change.
 * Returns the exit status of the last answer. */
static int
watch(struct client *cl, long interval, long count)
{
	struct sigaction sa;
	struct timespec ts;
	int64_t next, left;
	long i;
	int st, last = -1, rc = RMCP_EXIT_ERROR;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (i = 0; (count == 0 || i < count) && !got_stop; i++) {
		next = now_ms() + interval * 1000;
		st = poll_once(cl);
		if (st == RMCP_AUTHREQ)
			return RMCP_EXIT_ERROR;	/* p.2: SHOULD stop */
		if (st >= 0) {
			rc = st;
			if (st != last) {
				printf("%s\n", rmcp_status_name(st));
				fflush(stdout);
				last = st;
			}
		}
		if (count != 0 && i + 1 == count)
			break;
		while (!got_stop && (left = next - now_ms()) > 0) {
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000L;
			(void)nanosleep(&ts, NULL);
		}
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	struct client cl;
	const char *port = "50", *file = NULL, *env;
	long interval = RMCP_INTERVAL_MIN, count = 0;
	int ch, st, watching = 0;

	memset(&cl, 0, sizeof(cl));
	cl.timeout = RMCP_TIMEOUT_DEFAULT;
	while ((ch = getopt(argc, argv, "ai:n:p:s:t:vw")) != -1) {
		switch (ch) {
		case 'a':
			cl.auth = true;
			break;
		case 'i':
			interval = number(optarg, RMCP_INTERVAL_MIN, 86400,
			    "interval");
			break;
		case 'n':
			count = number(optarg, 1, 1000000000L, "count");
			break;
		case 'p':
			port = optarg;
			(void)number(optarg, 1, 65535, "port");
			break;
		case 's':
			file = optarg;
			break;
		case 't':
			cl.timeout = (int)number(optarg, 1, RMCP_TIMEOUT_MAX,
			    "timeout");
			break;
		case 'v':
			cl.verbose = true;
			break;
		case 'w':
			watching = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || (file != NULL && !cl.auth))
		usage();
	cl.host = argv[optind];
	cl.user = argv[optind + 1];
	if (strlen(cl.user) == 0 || strlen(cl.user) > RMCP_NAME_MAX) {
		fprintf(stderr, "rmcp: user name of 1-%d octets\n",
		    RMCP_NAME_MAX);
		return RMCP_EXIT_ERROR;
	}
	/* Test-only: the e2e suite cannot wait minutes between polls. */
	if ((env = getenv(RMCP_TEST_ENV)) != NULL && env[0] != '\0')
		interval = number(env, 1, 86400, RMCP_TEST_ENV);
	if (cl.auth && (file != NULL ? secret_from_file(&cl, file) :
	    secret_from_tty(&cl)) == -1)
		return RMCP_EXIT_ERROR;
	if ((cl.fd = open_socket(cl.host, port)) == -1) {
		explicit_bzero(cl.secret, sizeof(cl.secret));
		return RMCP_EXIT_ERROR;
	}
	if (watching)
		st = watch(&cl, interval, count);
	else {
		st = poll_once(&cl);
		if (st >= 0 && st != RMCP_AUTHREQ)
			printf("%s\n", rmcp_status_name(st));
		if (st < 0 || st == RMCP_AUTHREQ)
			st = RMCP_EXIT_ERROR;
	}
	explicit_bzero(cl.secret, sizeof(cl.secret));
	close(cl.fd);
	return st;
}
