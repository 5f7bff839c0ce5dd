/*
 * session.c: the per-connection driver.  Runs as the session master (root
 * when started as root; else the invoking user): forks the pre-auth child
 * that speaks AUTHORIZATION unprivileged in a chroot, reads the
 * credentials it hands over, checks them with auth.c, drops to the mail
 * user through privsep.c and opens and bursts the maildrop.  Then it forks
 * the session process, which serves TRANSACTION and UPDATE on the client
 * socket, lets go of that socket and waits: if the session process dies
 * abnormally the master, as the user and still holding the maildrop,
 * recovers the maildrop at once (design.md §1), whatever the launch mode.
 * The session process writes the one log line of a session that got past
 * login; the pre-auth child writes it for sessions that did not.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "maildrop.h"
#include "pop2.h"
#include "pop3.h"
#include "privsep.h"
#include "sandbox.h"
#include "session.h"
#include "util.h"

static int	listener_report_fd = -1;
static int	listener_penalty_ms;

void
session_set_listener(int report_fd, int penalty_ms)
{
	listener_report_fd = report_fd;
	listener_penalty_ms = penalty_ms;
}

/* Tells the listener how a login from this address went (best effort:
 * a lost datagram only weakens the penalty). */
static void
report_login(const struct session *s, bool ok)
{
	struct session_report r;

	if (listener_report_fd == -1 || s->family == 0)
		return;
	memset(&r, 0, sizeof(r));
	r.ok = ok ? 1 : 0;
	r.family = s->family;
	memcpy(r.addr, s->rawaddr, sizeof(r.addr));
	(void)send(listener_report_fd, &r, sizeof(r), MSG_DONTWAIT |
	    MSG_NOSIGNAL);
}

/* The delay before a failed login's reply: the configured delay plus
 * the address's penalty, which doubles with each failure up to the cap. */
static int
failure_delay_ms(struct session *s)
{
	const struct conf *c = s->conf;
	long pen = s->penalty_ms;

	if (c->auth_penalty_max_ms > 0 && s->tries > 1)
		pen = pen > 0 ? pen * 2 : c->auth_fail_delay_ms > 0 ?
		    c->auth_fail_delay_ms : 250;
	if (pen > c->auth_penalty_max_ms)
		pen = c->auth_penalty_max_ms;
	s->penalty_ms = (int)pen;
	return c->auth_fail_delay_ms + s->penalty_ms;
}

void
session_reply(struct session *s, const char *fmt, ...)
{
	char line[PARAM_RESP_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	/* RFC 1939 §3: 512 octets with the CRLF. */
	n = vsnprintf(line, PARAM_RESP_MAX - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > PARAM_RESP_MAX - 2)
		n = PARAM_RESP_MAX - 2;
	log_debug("S: %.*s", n, line);
	line[n++] = '\r';
	line[n++] = '\n';
	iobuf_write(&s->io, line, (size_t)n);
}

int
session_handoff(struct session *s, struct privsep_creds *cr, char *text_r,
    size_t textlen)
{
	const char *pend;
	size_t plen;
	int v;

	pend = iobuf_unread(&s->io, &plen);
	if (plen > sizeof(cr->pending))
		plen = sizeof(cr->pending);
	memcpy(cr->pending, pend, plen);
	cr->pending_len = plen;
	/* Everything we owe the client goes out before the master speaks. */
	iobuf_flush(&s->io);
	v = privsep_send_creds(s->psfd, cr, text_r, textlen);
	explicit_bzero(cr, sizeof(*cr));
	return v;
}

int
session_flush_if_idle(struct session *s)
{
	if (iobuf_line_pending(&s->io))
		return 0;	/* more pipelined commands: batch replies */
	return iobuf_flush(&s->io);
}

double
session_elapsed(const struct session *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - s->start.tv_sec) +
	    (double)(now.tv_nsec - s->start.tv_nsec) / 1e9;
}

/* Names the peer and decides whether it is local (loopback or AF_UNIX):
 * plaintext passwords are accepted only there unless configured. */
static void
peer_name(struct session *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	s->local = false;
	snprintf(s->addr, sizeof(s->addr), "unknown");
	if (getpeername(s->rfd, (struct sockaddr *)&ss, &len) == -1) {
		/* a pipe or socketpair on stdin: a local test harness */
		s->local = errno == ENOTSOCK;
		snprintf(s->addr, sizeof(s->addr), "local");
		return;
	}
	switch (ss.ss_family) {
	case AF_INET:
		sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, s->addr, sizeof(s->addr));
		s->local = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
		s->family = AF_INET;
		memcpy(s->rawaddr, &sin->sin_addr, 4);
		break;
	case AF_INET6:
		sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, s->addr,
		    sizeof(s->addr));
		s->local = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    sin6->sin6_addr.s6_addr[12] == 127);
		s->family = AF_INET6;
		memcpy(s->rawaddr, &sin6->sin6_addr, 16);
		break;
	case AF_UNIX:
		s->local = true;
		snprintf(s->addr, sizeof(s->addr), "local");
		break;
	}
}

static void
make_id(struct session *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[SESSION_ID_LEN / 2];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint32_t v = (uint32_t)getpid() ^ (uint32_t)time(NULL);

		memcpy(r, &v, sizeof(r));
	}
	for (i = 0; i < sizeof(r); i++) {
		s->id[2 * i] = hex[r[i] >> 4];
		s->id[2 * i + 1] = hex[r[i] & 0xf];
	}
	s->id[SESSION_ID_LEN] = '\0';
}

/* Verifies one hand-off and, on success, prepares the TRANSACTION state.
 * Returns PRIVSEP_* and the text for the child (or "" for OK), worded for
 * the session's protocol: POP3's "-ERR [CODE] ..." (RFC 3206), POP2's
 * "- ..." (RFC 937: the child then closes, whatever the verdict). */
static int
check_login(struct session *s, struct privsep_creds *cr, char *text,
    size_t textlen)
{
	const struct conf *c = s->conf;
	char err[256], path[PARAM_PATH_MAX], safe[PARAM_USER_MAX * 4 + 8];
	struct maildrop_args ma;
	bool pop2 = s->proto == PROTO_POP2;
	int r, delay, jdirfd;

	log_sanitize(cr->user, strlen(cr->user), safe, sizeof(safe));
	if (!auth_valid_username(cr->user, strlen(cr->user))) {
		/* the child checks this too; trust nothing it says */
		r = AUTH_FAIL;
		snprintf(err, sizeof(err), "invalid user name");
	} else
		r = auth_login(c, cr->user, cr->pass, s->family != 0 ?
		    s->addr : NULL, &s->au, err, sizeof(err));
	explicit_bzero(cr->pass, sizeof(cr->pass));
	if (r == AUTH_ERROR) {
		log_warnx("authentication error user=%s addr=%s: %s", safe,
		    s->addr, err);
		snprintf(text, textlen, "%s cannot check passwords now; try "
		    "again later", pop2 ? "-" : "-ERR [SYS/TEMP]");
		return PRIVSEP_CLOSE;
	}
	if (r != AUTH_OK) {
		s->tries++;
		log_notice("auth failed user=%s addr=%s try=%d reason=\"%s\"",
		    safe, s->addr, s->tries, err);
		report_login(s, false);
		/* The delay is the master's: the child cannot skip it. */
		delay = failure_delay_ms(s);
		if (delay > 0) {
			struct timespec ts;

			ts.tv_sec = delay / 1000;
			ts.tv_nsec = (long)(delay % 1000) * 1000000L;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		}
		if (s->tries >= c->auth_max_tries) {
			snprintf(text, textlen, "%s invalid user name or "
			    "password; too many failures, closing",
			    pop2 ? "-" : "-ERR [AUTH]");
			return PRIVSEP_CLOSE;
		}
		snprintf(text, textlen, "%s invalid user name or password",
		    pop2 ? "-" : "-ERR [AUTH]");
		return PRIVSEP_FAIL;
	}

	report_login(s, true);
	/* The account's own name from here on (auth.c): paths, locks, logs. */
	snprintf(s->user, sizeof(s->user), "%s", s->au.name);
	if (s->au.maildrop[0] != '\0')
		r = snprintf(path, sizeof(path), "%s", s->au.maildrop) >=
		    (int)sizeof(path) ? -1 : 0;
	else
		r = maildrop_expand(c->maildrop, s->user,
		    s->au.home[0] != '\0' ? s->au.home : NULL, path,
		    sizeof(path));
	if (r == -1) {
		log_warnx("user=%s: cannot form the maildrop path from "
		    "\"%s\"", s->user, c->maildrop);
		snprintf(text, textlen, "%s maildrop location misconfigured; "
		    "tell your administrator", pop2 ? "-" : "-ERR [SYS/PERM]");
		return PRIVSEP_CLOSE;
	}
	/* Still root: the user's state directory (journals), and a dotlock
	 * planted in a sticky spool, which the user could not remove. */
	jdirfd = privsep_state_dir(c, &s->au, s->user, err, sizeof(err));
	if (jdirfd != -1 && geteuid() == 0)
		maildrop_unplant(path, s->au.uid, privsep_conf_mail_gid(c));
	if (jdirfd == -1 || privsep_drop_user(c, &s->au, err,
	    sizeof(err)) == -1) {
		log_warnx("user=%s: %s", s->user, err);
		snprintf(text, textlen, "%s this account cannot be served; "
		    "tell your administrator", pop2 ? "-" : "-ERR [SYS/PERM]");
		return PRIVSEP_CLOSE;
	}
	memset(&ma, 0, sizeof(ma));
	ma.user = s->user;
	ma.jdirfd = jdirfd;		/* kept open for the whole session */
	ma.lock = &c->lock;
	ma.mboxrd = c->mboxrd;
	r = maildrop_open(&s->md, path, &ma, err, sizeof(err));
	switch (r) {
	case MD_OK:
		text[0] = '\0';
		return PRIVSEP_OK;
	case MD_INUSE:
		log_info("user=%s addr=%s maildrop in use", s->user, s->addr);
		/* design.md §6: POP2's HELO on a locked maildrop. */
		snprintf(text, textlen, "%s %s", pop2 ? "- mailbox busy:" :
		    "-ERR [IN-USE]", err);
		return PRIVSEP_CLOSE;
	case MD_PERM:
		log_warnx("user=%s maildrop %s refused: %s", s->user, path,
		    err);
		snprintf(text, textlen, "%s %s", pop2 ? "-" :
		    "-ERR [SYS/PERM]", err);
		return PRIVSEP_CLOSE;
	default:
		log_warnx("user=%s maildrop %s: %s", s->user, path, err);
		snprintf(text, textlen, "%s %s", pop2 ? "-" :
		    "-ERR [SYS/TEMP]", err);
		return PRIVSEP_CLOSE;
	}
}

/* The master's side of AUTHORIZATION.  Returns 0 when logged in, else
 * the exit status. */
static int
master_authorize(struct session *s, pid_t child)
{
	struct privsep_creds cr;
	char text[PARAM_RESP_MAX];
	int v, status = 0;

	for (;;) {
		if (privsep_recv_creds(s->psfd, &cr) == -1) {
			/* The child ended the session (QUIT, timeout,
			 * disconnect, too many errors) and logged it. */
			while (waitpid(child, &status, 0) == -1 &&
			    errno == EINTR)
				;
			if (!WIFSIGNALED(status))
				return 0x100;
			/* It ends with _exit, never by a signal: it crashed,
			 * or its sandbox killed it (SIGSYS).  The client
			 * gets a clean refusal, not a silent close. */
			log_warnx("pre-auth child pid=%ld killed by %s; "
			    "closing the session", (long)child,
			    sandbox_signal_text(WTERMSIG(status), text,
			    sizeof(text)));
			session_reply(s, "%s internal error; try again later",
			    s->proto == PROTO_POP2 ? "-" : "-ERR [SYS/TEMP]");
			iobuf_flush(&s->io);
			return 1;
		}
		v = check_login(s, &cr, text, sizeof(text));
		if (v == PRIVSEP_OK && iobuf_inject(&s->io, cr.pending,
		    cr.pending_len) == -1)
			v = PRIVSEP_CLOSE;	/* cannot happen: bounded */
		explicit_bzero(&cr, sizeof(cr));
		if (privsep_send_verdict(s->psfd, v, text) == -1) {
			v = PRIVSEP_CLOSE;
			break;
		}
		if (v != PRIVSEP_FAIL)
			break;
	}
	/* The child writes nothing more; wait so output never interleaves. */
	while (waitpid(child, &status, 0) == -1 && errno == EINTR)
		;
	close(s->psfd);
	s->psfd = -1;
	/* maildrop_open cleans up after itself when it fails. */
	return v == PRIVSEP_OK ? 0 : 1;
}

/*
 * The test hook of journal.h (POSTERN_TEST_CRASH_AT) is meant for the
 * session process, the one that runs UPDATE: a test kills it and watches
 * the master recover.  The master's own journal work (recovery at login,
 * and after a dead session) crashes only where POSTERN_TEST_MASTER_CRASH_AT
 * says, so a test can interrupt that recovery on purpose and see the next
 * login complete it.  journal_crash_point() reads the variable once per
 * process, so the master sets its own value before it first runs, and the
 * session process, a new pid, gets the original back.
 */
#ifdef POSTERN_TEST_HOOKS
#define SESSION_CRASH_ENV	"POSTERN_TEST_CRASH_AT"
#define MASTER_CRASH_ENV	"POSTERN_TEST_MASTER_CRASH_AT"
#define CRASH_ENV_MAX		32

static char	session_crash_at[CRASH_ENV_MAX];

static void
crash_hook_master(void)
{
	const char *v;

	if ((v = getenv(SESSION_CRASH_ENV)) != NULL &&
	    (size_t)snprintf(session_crash_at, sizeof(session_crash_at), "%s",
	    v) >= sizeof(session_crash_at))
		session_crash_at[0] = '\0';	/* not a valid step anyway */
	if ((v = getenv(MASTER_CRASH_ENV)) != NULL)
		(void)setenv(SESSION_CRASH_ENV, v, 1);
	else
		(void)unsetenv(SESSION_CRASH_ENV);
}

static void
crash_hook_session(void)
{
	if (session_crash_at[0] != '\0')
		(void)setenv(SESSION_CRASH_ENV, session_crash_at, 1);
	else
		(void)unsetenv(SESSION_CRASH_ENV);
}
#else
/* The production build has no crash points (journal.h). */
#define crash_hook_master()	do { } while (0)
#define crash_hook_session()	do { } while (0)
#endif

/* The session process's exit status when an UPDATE failed: a committed
 * journal may remain (EIO mid-rewrite), which the master completes. */
#define SESSION_EXIT_UPDATE_FAILED	3
/* How long the session waits for the master to let go of a mailbox. */
#define SESSION_SELECT_WAIT_MS		5000

int
session_selecting(struct session *s, const char *path, bool folder)
{
	char msg[PARAM_PATH_MAX + 1], ack;
	struct pollfd pfd;
	size_t len = strlen(path);

	if (s->ctlfd == -1 || len == 0 || len >= PARAM_PATH_MAX)
		return -1;
	/* One message: 'F' (a POP2 folder) or 'I' (INBOX), then the path. */
	msg[0] = folder ? 'F' : 'I';
	memcpy(msg + 1, path, len);
	if (send(s->ctlfd, msg, len + 1, MSG_NOSIGNAL) != (ssize_t)len + 1)
		goto gone;
	pfd.fd = s->ctlfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, SESSION_SELECT_WAIT_MS) == 1 &&
	    recv(s->ctlfd, &ack, 1, 0) == 1)
		return 0;
gone:
	/* No master (killed by an administrator): no recovery after a
	 * crash of ours, but the session itself goes on. */
	log_warnx("user=%s: the session master is gone; a crash now would "
	    "be recovered only at the next login", s->user);
	close(s->ctlfd);
	s->ctlfd = -1;
	return -1;
}

/* The session process: TRANSACTION and UPDATE on the client socket.
 * Returns its exit status. */
static int
session_serve(struct session *s)
{
	int r;

	s->io.wtimeout_ms = s->conf->timeout_trans * 1000;
	if (s->proto == PROTO_POP2)
		r = pop2_run(s);
	else {
		s->state = POP3_ST_TRANS;
		r = pop3_trans_run(s);
	}
	/* The engines' shared end reason for a failed UPDATE. */
	if (r == 0 && s->end != NULL && strcmp(s->end, "update-failed") == 0)
		r = SESSION_EXIT_UPDATE_FAILED;
	return r;
}

/* true if fd is open and is the same file as (dev, ino). */
static bool
same_file(int fd, const struct stat *st)
{
	struct stat fst;

	return fstat(fd, &fst) == 0 && fst.st_dev == st->st_dev &&
	    fst.st_ino == st->st_ino;
}

/*
 * The master after the fork: closes every copy of the client socket (a
 * client sees the end of the session the moment the session process
 * dies; under inetd stderr may be the socket too: fds 0-2 become
 * /dev/null so that nothing lands on their numbers), the listener's
 * report socket and the input buffer, and outlives the signals that end
 * the session (the listener's shutdown signals the whole process group:
 * the session ends, the master recovers).
 */
static void
master_let_go(struct session *s)
{
	struct sigaction sa;
	struct stat st[2];
	bool have[2];
	int fd, nullfd;

	have[0] = fstat(s->rfd, &st[0]) == 0;
	have[1] = fstat(s->wfd, &st[1]) == 0;
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (fd = 0; fd <= 2; fd++) {
		if ((!have[0] || !same_file(fd, &st[0])) &&
		    (!have[1] || !same_file(fd, &st[1])))
			continue;
		if (nullfd != -1)
			(void)dup2(nullfd, fd);
		else
			(void)close(fd);
	}
	if (nullfd > 2)
		close(nullfd);
	if (s->rfd > 2)
		close(s->rfd);
	if (s->wfd > 2 && s->wfd != s->rfd)
		close(s->wfd);
	s->rfd = s->wfd = -1;
	if (listener_report_fd != -1) {
		close(listener_report_fd);
		listener_report_fd = -1;
	}
	iobuf_free(&s->io);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* What the master knows of the session's mailbox. */
struct selected {
	bool	 held;		/* s->md, opened at login, is still it */
	bool	 folder;	/* else: a POP2 folder (or INBOX again) */
	int	 jdirfd;	/* the user's state directory */
	char	 path[PARAM_PATH_MAX];	/* "" if unknown */
};

/* Recovers the mailbox the master does not hold (a POP2 folder, or INBOX
 * selected again): opening it as the session did takes the session lock,
 * the mbox lock and completes a journal (maildrop_open).  A session lock
 * held by another session means that session has recovered it. */
static int
recover_path(struct session *s, const struct selected *sel, char *err,
    size_t errlen)
{
	const struct conf *c = s->conf;
	struct maildrop_args a;
	struct maildrop md;
	int r;

	memset(&a, 0, sizeof(a));
	a.user = s->user;
	a.jdirfd = sel->jdirfd;
	a.lock = &c->lock;
	a.mboxrd = c->mboxrd;
	a.folder = sel->folder;
	r = maildrop_open(&md, sel->path, &a, err, errlen);
	if (r == MD_OK) {
		util_seterr(err, errlen, "reopened: lock released, any "
		    "interrupted update completed");
		maildrop_close(&md);
	} else if (r == MD_INUSE)
		util_seterr(err, errlen, "in use by another session, which "
		    "completes any interrupted update");
	return r;
}

/*
 * What a session process's end asks of the master: why[] is empty after
 * a clean end; else it says why the mailbox may need recovery (a signal,
 * an error exit, or a failed UPDATE that may leave a committed journal).
 */
static void
end_reason(bool reaped, int status, char *why, size_t len)
{
	why[0] = '\0';
	if (!reaped)
		snprintf(why, len, "lost (waitpid failed)");
	else if (WIFSIGNALED(status))
		snprintf(why, len, "killed by signal %d", WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) ==
	    SESSION_EXIT_UPDATE_FAILED)
		snprintf(why, len, "update failed");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(why, len, "exit status %d", WEXITSTATUS(status));
}

/*
 * Recovers the session's mailbox after an abnormal end (why): the one the
 * master holds (held), or the one the session last named (sel), and logs
 * one line: user, maildrop, why, what was done.
 */
static void
master_recover(struct session *s, const struct selected *sel,
    const char *why)
{
	char err[512], safe[PARAM_PATH_MAX];
	const char *path = sel->held ? s->md.path : sel->path;
	int r;

	if (sel->held)
		r = maildrop_recover(&s->md, err, sizeof(err));
	else if (sel->path[0] != '\0')
		r = recover_path(s, sel, err, sizeof(err));
	else {
		r = MD_TEMP;
		snprintf(err, sizeof(err), "no mailbox known; the next "
		    "session recovers it");
	}
	log_sanitize(path, strlen(path), safe, sizeof(safe));
	if (r == MD_OK || r == MD_INUSE)
		log_notice("recovery user=%s maildrop=\"%s\" session=\"%s\": "
		    "%s", s->user, safe, why, err);
	else
		log_warnx("recovery user=%s maildrop=\"%s\" session=\"%s\" "
		    "failed: %s", s->user, safe, why, err);
}

/*
 * The master's side after a login: forks the session process and waits
 * for it, learning from it (POP2's FOLD) which mailbox it may be writing;
 * after an abnormal end recovers that mailbox at once.  Returns the exit
 * status of the connection (in the session process: the session's).
 */
static int
master_watch(struct session *s)
{
	char msg[PARAM_PATH_MAX + 1], why[64];
	struct selected sel;
	ssize_t n;
	pid_t pid, w;
	int ctl[2], status = 0;

	/* An inherited SIG_IGN would reap the session behind our back. */
	signal(SIGCHLD, SIG_DFL);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) ==
	    -1) {
		log_warn("socketpair");
		goto refuse;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("fork");
		close(ctl[0]);
		close(ctl[1]);
		goto refuse;
	case 0:
		close(ctl[0]);
		s->ctlfd = ctl[1];
		if (listener_report_fd != -1) {
			close(listener_report_fd);
			listener_report_fd = -1;
		}
		crash_hook_session();
		return session_serve(s);
	default:
		break;
	}
	close(ctl[1]);
	master_let_go(s);

	memset(&sel, 0, sizeof(sel));
	sel.held = true;
	sel.jdirfd = s->md.jdirfd;
	for (;;) {
		n = recv(ctl[0], msg, sizeof(msg) - 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the session process is gone */
		/* Same uid, but checked as any peer: a bounded, absolute,
		 * NUL-free path of a mailbox the session is about to open. */
		msg[n] = '\0';
		sel.folder = msg[0] == 'F';
		if ((msg[0] != 'F' && msg[0] != 'I') || n < 2 ||
		    msg[1] != '/' || memchr(msg, '\0', (size_t)n) != NULL) {
			log_warnx("user=%s: bad message from the session "
			    "process", s->user);
			sel.path[0] = '\0';
		} else
			snprintf(sel.path, sizeof(sel.path), "%s", msg + 1);
		if (sel.held) {
			/* It left the mailbox we opened: let go of it so
			 * that its session lock is free for FOLD INBOX. */
			maildrop_close(&s->md);
			sel.held = false;
		}
		(void)send(ctl[0], "k", 1, MSG_NOSIGNAL);
	}
	close(ctl[0]);
	while ((w = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	end_reason(w == pid, status, why, sizeof(why));
	if (why[0] != '\0')
		master_recover(s, &sel, why);
	if (sel.held)
		maildrop_close(&s->md);
	/* A failed UPDATE was the client's answer, not a failure of ours. */
	return w == pid && WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
	    WEXITSTATUS(status) == SESSION_EXIT_UPDATE_FAILED) ? 0 : 1;

refuse:
	session_reply(s, "%s cannot start the session; try again later",
	    s->proto == PROTO_POP2 ? "-" : "-ERR [SYS/TEMP]");
	iobuf_flush(&s->io);
	maildrop_close(&s->md);
	return 1;
}

int
session_run(const struct conf *c, const struct privsep_preauth *pa, int rfd,
    int wfd)
{
	return session_run_proto(c, pa, PROTO_POP3, rfd, wfd);
}

int
session_run_proto(const struct conf *c, const struct privsep_preauth *pa,
    int proto, int rfd, int wfd)
{
	struct session *s;
	int sp[2], r;
	pid_t pid;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("calloc");
		return 1;
	}
	s->conf = c;
	s->pa = pa;
	maildrop_set_memory_max(c->session_memory_max);
	s->proto = proto;
	s->rfd = rfd;
	s->wfd = wfd;
	s->psfd = s->ctlfd = -1;
	maildrop_init(&s->md);
	s->penalty_ms = listener_penalty_ms;
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	make_id(s);
	log_session(s->id);
	peer_name(s);
	s->plaintext_ok = c->plaintext == PLAINTEXT_ALWAYS ||
	    (c->plaintext == PLAINTEXT_LOOPBACK && s->local);
	if (iobuf_init(&s->io, rfd, wfd, (size_t)c->max_line) == -1) {
		log_warn("iobuf_init");
		free(s);
		return 1;
	}
	log_info("connect addr=%s", s->addr);
	crash_hook_master();

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1) {
		log_warn("socketpair");
		return 1;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("fork");
		return 1;
	case 0:
		close(sp[0]);
		s->psfd = sp[1];
		/* The pre-auth child reports nothing to the listener. */
		if (listener_report_fd != -1) {
			close(listener_report_fd);
			listener_report_fd = -1;
		}
		privsep_drop_preauth(pa, rfd, wfd, s->psfd);
		if (proto == PROTO_POP2)
			pop2_auth_run(s);
		pop3_auth_run(s);
		/* NOTREACHED */
	default:
		break;
	}
	close(sp[1]);
	s->psfd = sp[0];
	if ((r = master_authorize(s, pid)) != 0) {
		iobuf_free(&s->io);
		free(s);
		return r == 0x100 ? 0 : r;
	}
	r = master_watch(s);
	iobuf_free(&s->io);
	free(s);
	return r;
}
