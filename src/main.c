/*
 * main.c: pop3d's options and mode choice (daemon, -F foreground
 * listener, -i one connection on stdin/stdout, -t check); everything else
 * lives in the modules (the tests link them without this file).  Runs as
 * whoever started it: root for a real deployment, any user for tests and
 * the demo.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "maildrop.h"
#include "pop3.h"
#include "privsep.h"
#include "sd.h"
#include "session.h"

#define DEFAULT_CONF	SYSCONFDIR "/postern.conf"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: pop3d [-deFitV] [-f file] [-i [-p pop3|pop2]]\n"
	    "       pop3d -P    (read a password on stdin, print a hash)\n"
	    "  (no -i, -F, -t)  daemon: detach, write pid_file, log to "
	    "syslog\n"
	    "  -i  serve one connection on stdin/stdout (inetd, systemd "
	    "Accept=yes)\n"
	    "  -p  the protocol -i speaks: pop3 (default) or pop2\n"
	    "  -F  standalone listener in the foreground (systemd "
	    "Accept=no)\n"
	    "  -t  check the configuration and exit\n"
	    "  -f  configuration file (default " DEFAULT_CONF ")\n"
	    "  -d  debug logging    -e  log to stderr (a daemon keeps it)\n"
	    "  -V  version\n");
	exit(1);
}

/* pop3d -P: one password line on stdin, its crypt(3) hash on stdout. */
static int
make_hash(void)
{
	char pass[PARAM_PASS_MAX + 2], hash[256];
	size_t len;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password: ");
	if (fgets(pass, sizeof(pass), stdin) == NULL) {
		fprintf(stderr, "pop3d: no password on standard input\n");
		return 1;
	}
	len = strcspn(pass, "\r\n");
	if (pass[len] == '\0' && len > PARAM_PASS_MAX) {
		fprintf(stderr, "pop3d: password longer than %d octets\n",
		    PARAM_PASS_MAX);
		return 1;
	}
	pass[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "pop3d: empty password refused\n");
		return 1;
	}
	if (auth_make_hash(pass, hash, sizeof(hash)) == -1) {
		explicit_bzero(pass, sizeof(pass));
		fprintf(stderr, "pop3d: cannot make a hash\n");
		return 1;
	}
	explicit_bzero(pass, sizeof(pass));
	printf("%s\n", hash);
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct conf conf;
	struct privsep_preauth pa;
	struct listener_opts lo;
	const char *file = NULL;
	char err[1024], abs[PARAM_PATH_MAX];
	int ch, inetd = 0, fg = 0, test = 0, debug = 0, to_stderr = 0;
	int proto = 0;
	bool as_daemon;

	while ((ch = getopt(argc, argv, "def:Fip:PtV")) != -1) {
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
		case 'p':
			if (strcmp(optarg, "pop3") == 0)
				proto = PROTO_POP3;
			else if (strcmp(optarg, "pop2") == 0)
				proto = PROTO_POP2;
			else
				usage();
			break;
		case 'P':
			return make_hash();
		case 't':
			test = 1;
			break;
		case 'V':
			printf("pop3d (%s)\n", POP3_IMPLEMENTATION);
			return 0;
		default:
			usage();
		}
	}
	/* A listener's protocols come from its listen lines. */
	if (optind != argc || (inetd && fg) || (proto != 0 && !inetd))
		usage();
	as_daemon = !inetd && !fg && !test;

	/* A daemon works in "/": SIGHUP must find a relative file again. */
	if (as_daemon && file != NULL && file[0] != '/') {
		if (realpath(file, abs) == NULL) {
			fprintf(stderr, "pop3d: %s: %s\n", file,
			    strerror(errno));
			return 1;
		}
		file = abs;
	}
	if (conf_load(&conf, file ? file : DEFAULT_CONF, file == NULL, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "pop3d: %s\n", err);
		return 1;
	}
	if (test) {
		if (privsep_preauth_init(&conf, &pa, err, sizeof(err)) == -1 ||
		    listener_check_conf(&conf, err, sizeof(err)) == -1 ||
		    maildrop_check_conf(&conf, err, sizeof(err)) == -1) {
			fprintf(stderr, "pop3d: %s: %s\n", conf.file, err);
			return 1;
		}
		printf("%s: configuration OK\n", conf.file);
		return 0;
	}

	/* Under inetd, stderr is the client's socket: syslog unless -e.
	 * A daemon talks to the terminal until it has detached. */
	log_init("pop3d", to_stderr || !inetd, conf.syslog_facility,
	    debug ? LOG_DEBUG : conf.log_level);
	signal(SIGPIPE, SIG_IGN);

	if (privsep_preauth_init(&conf, &pa, err, sizeof(err)) == -1 ||
	    listener_check_conf(&conf, err, sizeof(err)) == -1 ||
	    maildrop_check_conf(&conf, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", conf.file, err);
		return 1;
	}
	if (!pa.as_root)
		log_info("not started as root: serving as uid %lu without "
		    "privilege separation by user or chroot",
		    (unsigned long)geteuid());

	if (inetd) {
		sd_listen_forget();
		return session_run_proto(&conf, &pa, proto != 0 ? proto :
		    PROTO_POP3, STDIN_FILENO, STDOUT_FILENO);
	}

	(void)sd_notify_init();
	if (as_daemon && daemon_pidfile_open(conf.pid_file, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if (listener_open(&conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		daemon_pidfile_remove();
		return 1;
	}
	if (as_daemon) {
		if (daemon_detach(to_stderr, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			daemon_pidfile_remove();
			return 1;
		}
		log_init("pop3d", to_stderr, conf.syslog_facility,
		    debug ? LOG_DEBUG : conf.log_level);
		log_info("started as a daemon, pid %ld", (long)getpid());
	}
	memset(&lo, 0, sizeof(lo));
	lo.daemon = as_daemon;
	lo.debug = debug != 0;
	lo.conf_missing_ok = file == NULL;
	return listener_run(&conf, &pa, &lo);
}
