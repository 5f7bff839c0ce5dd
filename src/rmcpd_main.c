/*
 * rmcpd_main.c: rmcpd's options and launch modes.  It reads the
 * configuration, the passwd-file and the secrets file, takes its UDP
 * sockets (binds the rmcp_listen addresses, or takes the socket inetd
 * passes on descriptor 0, or the ones systemd passes), goes to the
 * background unless told not to, and drops to rmcp_user for good before it
 * reads a datagram.  Then it splits in two: the responder (rmcpd.c) reads
 * the network, confined by sandbox.c (no open, no socket, no kill); the
 * loader keeps no network socket, reads the files again on SIGHUP, hands
 * them to the responder, forwards SIGTERM and reports how the responder
 * ended.  Starts as root (to bind port 50 and read root-only files), or
 * as any user for tests: then it stays that user.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "pop3.h"
#include "privsep.h"
#include "rmcp.h"
#include "sandbox.h"
#include "sd.h"
#include "util.h"

#define DEFAULT_CONF	SYSCONFDIR "/postern.conf"
/* inetd "wait": exit after this long without a datagram; inetd starts a
 * new responder with the next one. */
#define RMCPD_INETD_IDLE	600
#define RMCPD_ERR_MAX		1024
/* The responder's sockets and its channel to the loader. */
#define RMCPD_KEEP_MAX		(PARAM_LISTEN_MAX + 1)

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: rmcpd [-deFitV] [-f file]\n"
	    "  (no mode)  bind the rmcp_listen addresses, run in the "
	    "background\n"
	    "  -F  bind the rmcp_listen addresses, stay in the foreground\n"
	    "  -i  serve the UDP socket on descriptor 0 (inetd "
	    "\"dgram udp wait\")\n"
	    "  -t  check the configuration and exit\n"
	    "  -f  configuration file (default " DEFAULT_CONF ")\n"
	    "  -d  debug logging    -e  log to stderr    -V  version\n"
	    "  Sockets passed by systemd (LISTEN_FDS) are used instead of "
	    "binding.\n");
	exit(1);
}

/* Resolves rmcp_user when root.  Returns 0 (u filled, or as_root false),
 * or -1 with a reason. */
static int
resolve_user(const struct conf *c, bool *as_root, struct auth_user *u,
    char *errstr_r, size_t errlen)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	*as_root = geteuid() == 0;
	if (!*as_root)
		return 0;
	if ((pw = getpwnam(c->rmcp_user)) == NULL) {
		util_seterr(errstr_r, errlen, "rmcp_user \"%s\" does not "
		    "exist; create it (adduser --system --no-create-home "
		    "--group %s) or set rmcp_user in %s", c->rmcp_user,
		    c->rmcp_user, c->file);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		util_seterr(errstr_r, errlen, "rmcp_user \"%s\" has uid or "
		    "gid 0: rmcpd must not answer the network as root; name an "
		    "unprivileged user in %s", c->rmcp_user, c->file);
		return -1;
	}
	/* Validated by conf.c: at most PARAM_USER_MAX octets. */
	memcpy(u->name, c->rmcp_user, strnlen(c->rmcp_user,
	    sizeof(u->name) - 1));
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

/* The sockets systemd passed (ListenDatagram=).  Returns how many were
 * taken (0: none passed), or -1 with a reason. */
static int
take_systemd(struct rmcpd *d, char *errstr_r, size_t errlen)
{
	int n, i;

	n = sd_parse_listen_env(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getpid());
	sd_listen_forget();
	if (n == -1) {
		snprintf(errstr_r, errlen, "malformed LISTEN_PID or "
		    "LISTEN_FDS from the service manager");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (rmcpd_add_socket(d, SD_LISTEN_FDS_START + i, errstr_r,
		    errlen) == -1)
			return -1;
	if (n > 0)
		log_info("serving %d socket%s passed by systemd", n,
		    n == 1 ? "" : "s");
	return n;
}

static void
on_chld(int sig)
{
	(void)sig;	/* only so that a blocked SIGCHLD stays pending */
}

/* The responder's process: confined, then the loop.  Returns the exit
 * status. */
static int
responder(struct rmcpd *d, int ctl, int idle_exit)
{
	int keep[RMCPD_KEEP_MAX];
	char err[RMCPD_ERR_MAX];
	size_t n;
	int rc;

	n = rmcpd_socket_fds(d, keep, PARAM_LISTEN_MAX);
	keep[n++] = ctl;
	sandbox_close_fds(keep, n);
	if (sandbox_enter(SANDBOX_RMCPD, (unsigned int)n, err,
	    sizeof(err)) == -1) {
		log_warnx("responder sandbox: %s", err);
		return 1;
	}
	if (write(ctl, "R", 1) != 1)
		return 1;
	rc = rmcpd_run(d, idle_exit, ctl);
	rmcpd_log_stats(d);
	rmcpd_free(d);
	return rc;
}

/*
 * Forks the responder and stays as its loader: SIGHUP reloads, SIGTERM
 * and SIGINT are passed on, the responder's end is ours.  Returns the
 * exit status.
 */
static int
serve(struct rmcpd *d, const struct conf *c, int idle_exit)
{
	struct sigaction sa;
	sigset_t set, old;
	char why[128], ready;
	int ctl[2], sig, status = 0;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) == -1) {
		log_warn("socketpair");
		return 1;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("fork");
		return 1;
	case 0:
		close(ctl[0]);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		_exit(responder(d, ctl[1], idle_exit));
	default:
		break;
	}
	close(ctl[1]);
	rmcpd_close_sockets(d);
	/* One octet when the responder is confined and serving. */
	if (read(ctl[0], &ready, 1) == 1) {
		if (sd_notify_init())
			(void)sd_notify_send("READY=1\nSTATUS=answering RMCP "
			    "polls");
		log_info("ready: %s mode, %s ages, consent by %s, as uid %lu, "
		    "responder pid %ld", c->rmcp_auth ? "authenticated" :
		    "unauthenticated", c->rmcp_ages == RMCP_AGES_REAL ?
		    "real" : "obfuscated", c->rmcp_auth ? "secret" :
		    c->rmcp_consent == RMCP_CONSENT_EXECBIT ? "exec-bit" :
		    c->rmcp_consent == RMCP_CONSENT_LIST ? "list" :
		    "exec-bit or list", (unsigned long)geteuid(), (long)pid);
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			(void)rmcpd_reload(d, ctl[0]);
		else if (sig == SIGTERM || sig == SIGINT)
			(void)kill(pid, SIGTERM);
		else if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	close(ctl[0]);
	if (WIFSIGNALED(status)) {
		log_warnx("responder pid=%ld killed by %s", (long)pid,
		    sandbox_signal_text(WTERMSIG(status), why, sizeof(why)));
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int
main(int argc, char *argv[])
{
	static struct conf conf, dropconf;
	struct auth_user u;
	struct rmcpd *d;
	const char *file = NULL;
	char err[RMCPD_ERR_MAX];
	bool as_root;
	int ch, inetd = 0, fg = 0, test = 0, debug = 0, to_stderr = 0, n, rc;

	/* Nothing whoever started us left open reaches the responder. */
	sandbox_startup_fds();
	while ((ch = getopt(argc, argv, "def:FitV")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'e':
			to_stderr = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'F':
			fg = 1;
			break;
		case 'i':
			inetd = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("rmcpd (%s)\n", POP3_IMPLEMENTATION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc || (inetd && fg))
		usage();

	if (conf_load(&conf, file ? file : DEFAULT_CONF, file == NULL, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "rmcpd: %s\n", err);
		return 1;
	}
	if (resolve_user(&conf, &as_root, &u, err, sizeof(err)) == -1) {
		fprintf(stderr, "rmcpd: %s\n", err);
		return 1;
	}
	if (test) {
		/* Reads the files as a start would. */
		log_init("rmcpd", 1, conf.syslog_facility, conf.log_level);
		if ((d = rmcpd_new(&conf, err, sizeof(err))) == NULL) {
			fprintf(stderr, "rmcpd: %s: %s\n", conf.file, err);
			return 1;
		}
		rmcpd_free(d);
		printf("%s: configuration OK%s\n", conf.file,
		    conf.rmcp_enabled ? "" : " (rmcp_enabled = no: rmcpd "
		    "will not start)");
		return 0;
	}
	if (!conf.rmcp_enabled) {
		fprintf(stderr, "rmcpd: RMCP is off: set rmcp_enabled = yes "
		    "in %s\n", conf.file);
		return 1;
	}

	/* Under inetd, stderr may be the socket: syslog unless -e. */
	log_init("rmcpd", to_stderr || fg, conf.syslog_facility,
	    debug ? LOG_DEBUG : conf.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (!as_root)
		log_info("not started as root: running as uid %lu",
		    (unsigned long)geteuid());

	/* Everything root-only is read now, before the drop. */
	if ((d = rmcpd_new(&conf, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s", conf.file, err);
		return 1;
	}
	if (inetd)
		n = rmcpd_add_socket(d, STDIN_FILENO, err, sizeof(err)) == -1 ?
		    -1 : 1;
	else if ((n = take_systemd(d, err, sizeof(err))) == 0)
		n = rmcpd_bind(d, err, sizeof(err)) == -1 ? -1 : 1;
	else
		fg = 1;		/* systemd watches the process it started */
	if (n == -1) {
		log_warnx("%s", err);
		rmcpd_free(d);
		return 1;
	}
	if (!inetd && !fg && daemon(0, to_stderr) == -1) {
		log_warn("daemon");
		rmcpd_free(d);
		return 1;
	}
	if (as_root) {
		/* No supplementary group: rmcpd only needs search permission
		 * on the spool, which every user has on /var/mail. */
		dropconf = conf;
		dropconf.mail_group[0] = '\0';
		if (privsep_drop_user(&dropconf, &u, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			rmcpd_free(d);
			return 1;
		}
	}
	if (chdir("/") == -1)
		log_warn("chdir /");
	rc = serve(d, &conf, inetd ? RMCPD_INETD_IDLE : 0);
	log_info("exiting");
	rmcpd_free(d);
	return rc;
}
