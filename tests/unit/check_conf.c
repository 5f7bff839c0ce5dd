/*
 * check_conf.c: the configuration parser (src/conf.c): defaults, every
 * key with good and bad values (table tests), FILE:LINE in messages,
 * duplicates, listen parsing, missing files, comments and whitespace,
 * overlong values, and the example etc/postern.conf; the owner and mode a
 * configuration file needs, and the mail_group and session groups that
 * privsep.c refuses.
 */
#include <sys/stat.h>

#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <syslog.h>

#include "testutil.h"

#include "auth.h"
#include "conf.h"
#include "lock.h"
#include "params.h"
#include "privsep.h"

/* Small enough for tu_rmtree's command buffer. */
static char	tmpdir[512];
static char	cpath[sizeof(tmpdir) + 32];
static char	err[2048];

static void
setup(void)
{
	tu_tmpdir(tmpdir, sizeof(tmpdir));
	snprintf(cpath, sizeof(cpath), "%s/postern.conf", tmpdir);
	err[0] = '\0';
}

static void
teardown(void)
{
	tu_rmtree(tmpdir);
}

static int
load_text(struct conf *c, const char *text)
{
	tu_write_file(cpath, text, strlen(text));
	return conf_load(c, cpath, false, err, sizeof(err));
}

/* err starts with "cpath:line: " and contains want. */
static void
assert_err(int line, const char *want)
{
	char prefix[sizeof(cpath) + 64];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", cpath, line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "message \"%s\" does not start with \"%s\"", err, prefix);
	ck_assert_msg(strstr(err, want) != NULL,
	    "message \"%s\" lacks \"%s\"", err, want);
}

START_TEST(test_defaults)
{
	struct conf c;
	char host[PARAM_CONF_STR];

	memset(&c, 0xa5, sizeof(c));
	conf_default(&c);
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	ck_assert_str_eq(c.hostname, host);
	ck_assert_str_eq(c.pre_auth_user, "postern");
	ck_assert_str_eq(c.chroot_dir, "/var/empty");
	ck_assert_str_eq(c.passwd_file, SYSCONFDIR "/postern.passwd");
	ck_assert_str_eq(c.maildrop, "/var/mail/%u");
	ck_assert_int_eq(c.timeout_auth, 180);
	ck_assert_int_eq(c.timeout_trans, 600);
	ck_assert_int_eq(c.auth_fail_delay_ms, 2000);
	ck_assert_int_eq(c.auth_max_tries, 3);
	ck_assert_int_eq(c.timeout_auth_total, 300);
	ck_assert_int_eq(c.auth_max_commands, 50);
	ck_assert_int_eq(c.auth_max_errors, 10);
	ck_assert_uint_eq(c.session_memory_max, 512UL * 1024 * 1024);
	ck_assert_int_eq(c.max_line, 1024);
	ck_assert_int_eq(c.plaintext, PLAINTEXT_LOOPBACK);
	ck_assert(!c.mboxrd);
	ck_assert_int_eq(c.lock.order[0], LOCK_FCNTL);
	ck_assert_int_eq(c.lock.order[1], LOCK_DOTLOCK);
	ck_assert_int_eq(c.lock.timeout, 30);
	ck_assert_int_eq(c.lock.stale, 300);
	ck_assert_int_eq(c.log_level, LOG_INFO);
	ck_assert_int_eq(c.syslog_facility, LOG_MAIL);
	ck_assert_uint_eq(c.nlisten, 1);
	ck_assert_int_eq(c.listen[0].proto, PROTO_POP3);
	ck_assert_str_eq(c.listen[0].host, "*");
	ck_assert_str_eq(c.listen[0].port, "110");
}
END_TEST

enum ftype { F_INT, F_STR, F_BOOL, F_ORDER, F_SIZE };

#define FI(f)	F_INT, offsetof(struct conf, f)
#define FS(f)	F_STR, offsetof(struct conf, f)
#define FZ(f)	F_SIZE, offsetof(struct conf, f)

static const struct {
	const char	*text;
	enum ftype	 type;
	size_t		 off;
	long		 ival;
	const char	*sval;
} valid[] = {
	{ "hostname = mail.example.org", FS(hostname), 0, "mail.example.org" },
	{ "hostname = pop_3-x.Example.", FS(hostname), 0, "pop_3-x.Example." },
	{ "pre_auth_user = _postern", FS(pre_auth_user), 0, "_postern" },
	{ "pre_auth_user = nobody", FS(pre_auth_user), 0, "nobody" },
	{ "chroot = /var/lib/postern/empty", FS(chroot_dir), 0,
	    "/var/lib/postern/empty" },
	{ "chroot = /", FS(chroot_dir), 0, "/" },
	{ "passwd_file = /etc/postern/users", FS(passwd_file), 0,
	    "/etc/postern/users" },
	{ "maildrop = ~/Mail/inbox", FS(maildrop), 0, "~/Mail/inbox" },
	{ "maildrop = /var/spool/mail/%u", FS(maildrop), 0,
	    "/var/spool/mail/%u" },
	{ "maildrop = /srv/100%%/%u.mbox", FS(maildrop), 0,
	    "/srv/100%%/%u.mbox" },
	{ "maildrop = /srv/one shared box", FS(maildrop), 0,
	    "/srv/one shared box" },
	{ "timeout_auth = 10", FI(timeout_auth), 10, NULL },
	{ "timeout_auth = 3600", FI(timeout_auth), 3600, NULL },
	{ "timeout_session = 10", FI(timeout_trans), 10, NULL },
	{ "timeout_session = 600", FI(timeout_trans), 600, NULL },
	{ "timeout_session = 86400", FI(timeout_trans), 86400, NULL },
	{ "auth_fail_delay = 0", FI(auth_fail_delay_ms), 0, NULL },
	{ "auth_fail_delay = 60000", FI(auth_fail_delay_ms), 60000, NULL },
	{ "auth_max_tries = 1", FI(auth_max_tries), 1, NULL },
	{ "auth_max_tries = 100", FI(auth_max_tries), 100, NULL },
	{ "timeout_auth_total = 1", FI(timeout_auth_total), 1, NULL },
	{ "timeout_auth_total = 86400", FI(timeout_auth_total), 86400, NULL },
	{ "auth_max_commands = 1", FI(auth_max_commands), 1, NULL },
	{ "auth_max_commands = 100000", FI(auth_max_commands), 100000,
	    NULL },
	{ "auth_max_errors = 1", FI(auth_max_errors), 1, NULL },
	{ "auth_max_errors = 100000", FI(auth_max_errors), 100000, NULL },
	{ "session_memory_max = 1024", FZ(session_memory_max), 1024, NULL },
	{ "session_memory_max = 1k", FZ(session_memory_max), 1024, NULL },
	{ "session_memory_max = 3K", FZ(session_memory_max), 3072, NULL },
	{ "session_memory_max = 4096", FZ(session_memory_max), 4096, NULL },
	{ "session_memory_max = 7m", FZ(session_memory_max), 7340032, NULL },
	{ "session_memory_max = 512M", FZ(session_memory_max), 536870912,
	    NULL },
	{ "session_memory_max = 2G", FZ(session_memory_max), 2147483648L,
	    NULL },
	{ "session_memory_max = 1024G", FZ(session_memory_max),
	    1099511627776L, NULL },
	{ "session_memory_max = 0002M", FZ(session_memory_max), 2097152,
	    NULL },
	{ "max_line_length = 256", FI(max_line), 256, NULL },
	{ "max_line_length = 8192", FI(max_line), 8192, NULL },
	{ "max_line_length = 0002048", FI(max_line), 2048, NULL },
	{ "plaintext_auth = yes", FI(plaintext), PLAINTEXT_ALWAYS, NULL },
	{ "plaintext_auth = no", FI(plaintext), PLAINTEXT_NEVER, NULL },
	{ "plaintext_auth = loopback", FI(plaintext), PLAINTEXT_LOOPBACK,
	    NULL },
	{ "plaintext_auth = NO", FI(plaintext), PLAINTEXT_NEVER, NULL },
	{ "mbox_format = mboxrd", F_BOOL, offsetof(struct conf, mboxrd), 1,
	    NULL },
	{ "mbox_format = mboxo", F_BOOL, offsetof(struct conf, mboxrd), 0,
	    NULL },
	{ "lock_order = dotlock fcntl", F_ORDER, 0,
	    LOCK_DOTLOCK * 16 + LOCK_FCNTL, NULL },
	{ "lock_order = fcntl", F_ORDER, 0, LOCK_FCNTL * 16, NULL },
	{ "lock_order = dotlock", F_ORDER, 0, LOCK_DOTLOCK * 16, NULL },
	{ "lock_order =  fcntl \t dotlock ", F_ORDER, 0,
	    LOCK_FCNTL * 16 + LOCK_DOTLOCK, NULL },
	{ "lock_timeout = 1", FI(lock.timeout), 1, NULL },
	{ "lock_timeout = 600", FI(lock.timeout), 600, NULL },
	{ "dotlock_stale = 10", FI(lock.stale), 10, NULL },
	{ "dotlock_stale = 86400", FI(lock.stale), 86400, NULL },
	{ "log_level = debug", FI(log_level), LOG_DEBUG, NULL },
	{ "log_level = info", FI(log_level), LOG_INFO, NULL },
	{ "log_level = notice", FI(log_level), LOG_NOTICE, NULL },
	{ "log_level = warning", FI(log_level), LOG_WARNING, NULL },
	{ "syslog_facility = mail", FI(syslog_facility), LOG_MAIL, NULL },
	{ "syslog_facility = daemon", FI(syslog_facility), LOG_DAEMON, NULL },
	{ "syslog_facility = auth", FI(syslog_facility), LOG_AUTH, NULL },
	{ "syslog_facility = authpriv", FI(syslog_facility), LOG_AUTHPRIV,
	    NULL },
	{ "syslog_facility = local0", FI(syslog_facility), LOG_LOCAL0, NULL },
	{ "syslog_facility = local7", FI(syslog_facility), LOG_LOCAL7, NULL },
	/* Whitespace around key, '=' and value; none at all; CRLF. */
	{ "  \ttimeout_auth\t=\t  45  \t", FI(timeout_auth), 45, NULL },
	{ "timeout_auth=46", FI(timeout_auth), 46, NULL },
	{ "timeout_auth = 47\r", FI(timeout_auth), 47, NULL },
};

START_TEST(test_valid)
{
	struct conf c;
	char text[256];

	snprintf(text, sizeof(text), "# a comment\n\n%s\n", valid[_i].text);
	ck_assert_msg(load_text(&c, text) == 0, "\"%s\": %s", valid[_i].text,
	    err);
	switch (valid[_i].type) {
	case F_INT:
		ck_assert_int_eq(*(int *)(void *)((char *)&c + valid[_i].off),
		    valid[_i].ival);
		break;
	case F_BOOL:
		ck_assert_int_eq(c.mboxrd, valid[_i].ival);
		break;
	case F_STR:
		ck_assert_str_eq((char *)&c + valid[_i].off, valid[_i].sval);
		break;
	case F_SIZE:
		ck_assert_uint_eq(*(size_t *)(void *)((char *)&c +
		    valid[_i].off), (size_t)valid[_i].ival);
		break;
	case F_ORDER:
		ck_assert_int_eq(c.lock.order[0], valid[_i].ival / 16);
		ck_assert_int_eq(c.lock.order[1], valid[_i].ival % 16);
		break;
	}
}
END_TEST

static const struct {
	const char	*text;
	const char	*want;
} invalid[] = {
	{ "hostname = a b", "hostname: \"a b\" is not allowed; use letters" },
	{ "hostname = <x>", "is not allowed" },
	{ "hostname = h\xc3\xa9", "is not allowed" },
	{ "pre_auth_user = -x", "not a valid user name" },
	{ "pre_auth_user = .x", "not a valid user name" },
	{ "pre_auth_user = a/b", "not a valid user name" },
	{ "chroot = var/empty", "chroot: \"var/empty\" is not an absolute "
	    "path; it must start with '/'" },
	{ "passwd_file = postern.passwd", "passwd_file: \"postern.passwd\" "
	    "is not an absolute path" },
	{ "maildrop = Mail/%u", "must be an absolute path or start with "
	    "\"~/\"" },
	{ "maildrop = ~user/Mail", "must be an absolute path" },
	{ "maildrop = /var/mail/%h", "unknown escape \"%h\"; allowed are "
	    "%u (the user name) and %% (a percent sign)" },
	{ "maildrop = /var/mail/%", "unknown escape" },
	{ "maildrop = /var/mail/", "names a directory" },
	{ "maildrop = ~/", "names a directory" },
	{ "timeout_auth = 9", "timeout_auth: 9 is out of range; allowed: 10 "
	    "to 3600 seconds" },
	{ "timeout_auth = 3601", "out of range" },
	{ "timeout_auth = abc", "timeout_auth: \"abc\" is not a number; "
	    "allowed: 10 to 3600 seconds" },
	{ "timeout_auth = -5", "is not a number" },
	{ "timeout_auth = +50", "is not a number" },
	{ "timeout_auth = 50s", "is not a number" },
	{ "timeout_auth = 5 0", "is not a number" },
	{ "timeout_auth = 0x20", "is not a number" },
	{ "timeout_auth = 99999999999999999999999", "timeout_auth: "
	    "99999999999999999999999 is out of range" },
	{ "timeout_auth = 180 # three minutes", "comments must be on a line "
	    "of their own" },
	{ "timeout_auth =", "timeout_auth: missing value after '='" },
	{ "timeout_auth =   ", "missing value" },
	{ "timeout_session = 9", "timeout_session: 9 is out of range; "
	    "allowed: 10 to 86400 seconds" },
	{ "timeout_session = 86401", "out of range" },
	{ "auth_fail_delay = 60001", "allowed: 0 to 60000 milliseconds" },
	{ "auth_fail_delay = -1", "is not a number" },
	{ "auth_max_tries = 0", "allowed: 1 to 100" },
	{ "auth_max_tries = 101", "out of range" },
	{ "timeout_auth_total = 0", "timeout_auth_total: 0 is out of range; "
	    "allowed: 1 to 86400 seconds" },
	{ "timeout_auth_total = 86401", "out of range" },
	{ "auth_max_commands = 0", "auth_max_commands: 0 is out of range; "
	    "allowed: 1 to 100000 commands" },
	{ "auth_max_commands = 100001", "out of range" },
	{ "auth_max_errors = 0", "auth_max_errors: 0 is out of range; "
	    "allowed: 1 to 100000 errors" },
	{ "auth_max_errors = x", "is not a number" },
	{ "session_memory_max = 1023", "session_memory_max: \"1023\" is "
	    "not allowed; use a number of octets with an optional suffix k, "
	    "M or G, from 1k to 1024G" },
	{ "session_memory_max = 0", "is not allowed" },
	{ "session_memory_max = 1025G", "is not allowed" },
	{ "session_memory_max = 2T", "is not allowed" },
	{ "session_memory_max = 512MB", "is not allowed" },
	{ "session_memory_max = 512 M", "is not allowed" },
	{ "session_memory_max = 1.5M", "is not allowed" },
	{ "session_memory_max = -1M", "is not allowed" },
	{ "session_memory_max = +1M", "is not allowed" },
	{ "session_memory_max = M", "is not allowed" },
	{ "session_memory_max = 0x100000", "is not allowed" },
	{ "session_memory_max = 99999999999999999999999G", "is not allowed" },
	{ "session_memory_max = 9223372036854775807", "is not allowed" },
	{ "session_memory_max = 512M # half a gig", "comments must be on a "
	    "line of their own" },
	{ "max_line_length = 255", "allowed: 256 to 8192 octets" },
	{ "max_line_length = 8193", "out of range" },
	{ "plaintext_auth = maybe", "plaintext_auth: \"maybe\" is not "
	    "allowed; use one of: loopback, yes, no" },
	{ "plaintext_auth = true", "use one of" },
	{ "mbox_format = maildir", "use one of: mboxo, mboxrd" },
	{ "lock_order = flock", "lock_order: \"flock\" is not allowed" },
	{ "lock_order = fcntl fcntl", "is not allowed" },
	{ "lock_order = fcntl dotlock fcntl", "is not allowed" },
	{ "lock_order = fcntl,dotlock", "is not allowed" },
	{ "lock_timeout = 0", "allowed: 1 to 600 seconds" },
	{ "lock_timeout = 601", "out of range" },
	{ "dotlock_stale = 9", "allowed: 10 to 86400 seconds" },
	{ "dotlock_stale = 86401", "out of range" },
	{ "log_level = err", "use one of: debug, info, notice, warning" },
	{ "syslog_facility = local8", "use one of: mail, daemon, auth, "
	    "authpriv, local0" },
	{ "syslog_facility = user", "use one of" },
	{ "timeout = 5", "unknown key \"timeout\"; known keys: hostname, "
	    "listen, pre_auth_user" },
	{ "Timeout_Auth = 50", "unknown key \"Timeout_Auth\"" },
	{ "timeout_auth 50", "expected \"key = value\", got \"timeout_auth "
	    "50\"" },
	{ "= 50", "missing key before '='" },
	{ "hostname = a\001b", "control character 0x01 at column 13" },
	{ "hostname = a\033[1mb", "control character 0x1b" },
	{ "hostname = a\177b", "control character 0x7f" },
	{ "listen = *:110", "listen: \"*:110\" is not a protocol; expected "
	    "\"PROTO HOST:PORT\" with PROTO pop3 or pop2" },
	{ "listen = pop3 *:0", "listen: bad port \"0\"; allowed: 1 to 65535" },
};

START_TEST(test_invalid)
{
	struct conf c;
	char text[512];

	snprintf(text, sizeof(text), "# one\n\n  # three\n%s\n",
	    invalid[_i].text);
	ck_assert_msg(load_text(&c, text) == -1, "\"%s\" accepted",
	    invalid[_i].text);
	assert_err(4, invalid[_i].want);
}
END_TEST

START_TEST(test_nul_in_line)
{
	struct conf c;
	static const char text[] = "hostname = ab\0cd\n";

	tu_write_file(cpath, text, sizeof(text) - 1);
	ck_assert_int_eq(conf_load(&c, cpath, false, err, sizeof(err)), -1);
	assert_err(1, "control character 0x00 at column 14");
}
END_TEST

START_TEST(test_line_numbers)
{
	struct conf c;

	ck_assert_int_eq(load_text(&c,
	    "# postern.conf\n"
	    "\n"
	    "hostname = pop.example.org\n"
	    "\t# indented comment\n"
	    "   \n"
	    "timeout_auth = 60\n"
	    "auth_max_tries = 1000\n"
	    "log_level = debug\n"), -1);
	assert_err(7, "auth_max_tries: 1000 is out of range");
	/* No trailing newline on the last line. */
	ck_assert_int_eq(load_text(&c, "\n\nlog_level = loud"), -1);
	assert_err(3, "log_level: \"loud\"");
	ck_assert_int_eq(load_text(&c, "\n\nlog_level = notice"), 0);
	ck_assert_int_eq(c.log_level, LOG_NOTICE);
	/* A mistake does not leave a half-read file behind it. */
	ck_assert_str_eq(c.file, cpath);
}
END_TEST

START_TEST(test_comments_whitespace)
{
	struct conf c;

	ck_assert_int_eq(load_text(&c,
	    "#hostname = commented.out\n"
	    "# timeout_auth = nonsense\n"
	    "\t \n"
	    "\r\n"
	    "hostname = h.example   \n"
	    "maildrop = /var/mail/a b #not a comment\n"), 0);
	ck_assert_str_eq(c.hostname, "h.example");
	ck_assert_str_eq(c.maildrop, "/var/mail/a b #not a comment");
	ck_assert_int_eq(c.timeout_auth, 180);
	/* An empty file gives the defaults. */
	ck_assert_int_eq(load_text(&c, ""), 0);
	ck_assert_str_eq(c.maildrop, "/var/mail/%u");
	ck_assert_uint_eq(c.nlisten, 1);
}
END_TEST

START_TEST(test_duplicates)
{
	struct conf c;

	ck_assert_int_eq(load_text(&c,
	    "timeout_auth = 20\n# x\ntimeout_auth = 20\n"), -1);
	assert_err(3, "timeout_auth: given twice (first on line 1); only "
	    "listen may repeat");
	ck_assert_int_eq(load_text(&c,
	    "hostname = a\nmaildrop = ~/mbox\nhostname = b\n"), -1);
	assert_err(3, "hostname: given twice (first on line 1)");
	ck_assert_int_eq(load_text(&c,
	    "lock_order = fcntl\nlock_order = fcntl\n"), -1);
	assert_err(2, "given twice");
}
END_TEST

START_TEST(test_listen_repeat)
{
	struct conf c;

	ck_assert_int_eq(load_text(&c,
	    "listen = pop3 127.0.0.1:1110\n"
	    "timeout_auth = 30\n"
	    "listen = pop2 [::1]:1109\n"
	    "listen = pop3 *:995\n"), 0);
	/* The first listen line replaced the default "pop3 *:110". */
	ck_assert_uint_eq(c.nlisten, 3);
	ck_assert_int_eq(c.listen[0].proto, PROTO_POP3);
	ck_assert_str_eq(c.listen[0].host, "127.0.0.1");
	ck_assert_str_eq(c.listen[0].port, "1110");
	ck_assert_int_eq(c.listen[1].proto, PROTO_POP2);
	ck_assert_str_eq(c.listen[1].host, "::1");
	ck_assert_str_eq(c.listen[1].port, "1109");
	ck_assert_str_eq(c.listen[2].host, "*");
	ck_assert_str_eq(c.listen[2].port, "995");

	ck_assert_int_eq(load_text(&c,
	    "listen = pop3 127.0.0.1:1110\n"
	    "listen = pop2 127.0.0.1:1110\n"), -1);
	assert_err(2, "listen: 127.0.0.1 port 1110 is already listed on "
	    "line 1");
	/* The same listener spelt with a leading zero is still a duplicate. */
	ck_assert_int_eq(load_text(&c,
	    "listen = pop3 *:110\nlisten = pop3 *:0110\n"), -1);
	assert_err(2, "already listed on line 1");
}
END_TEST

START_TEST(test_listen_max)
{
	struct conf c;
	char text[4096], *p = text;
	size_t i, left = sizeof(text);
	int n;

	for (i = 0; i < PARAM_LISTEN_MAX; i++) {
		n = snprintf(p, left, "listen = pop3 127.0.0.1:%zu\n",
		    1100 + i);
		ck_assert(n > 0 && (size_t)n < left);
		p += n;
		left -= (size_t)n;
	}
	ck_assert_int_eq(load_text(&c, text), 0);
	ck_assert_uint_eq(c.nlisten, PARAM_LISTEN_MAX);
	ck_assert_str_eq(c.listen[PARAM_LISTEN_MAX - 1].port, "1115");
	snprintf(p, left, "listen = pop2 127.0.0.1:109\n");
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(PARAM_LISTEN_MAX + 1, "listen: too many listeners (at "
	    "most 16)");
}
END_TEST

static const struct {
	const char	*value;
	int		 proto;
	const char	*host;
	const char	*port;
} listen_ok[] = {
	{ "pop3 127.0.0.1:110", PROTO_POP3, "127.0.0.1", "110" },
	{ "pop2 *:109", PROTO_POP2, "*", "109" },
	{ "pop3 [::1]:1110", PROTO_POP3, "::1", "1110" },
	{ "pop3 [::]:110", PROTO_POP3, "::", "110" },
	{ "pop3 [2001:db8::7]:65535", PROTO_POP3, "2001:db8::7", "65535" },
	{ "pop3 [::ffff:127.0.0.1]:1", PROTO_POP3, "::ffff:127.0.0.1", "1" },
	{ "POP3 0.0.0.0:110", PROTO_POP3, "0.0.0.0", "110" },
	{ "  pop2\t \t10.1.2.3:2109  ", PROTO_POP2, "10.1.2.3", "2109" },
};

START_TEST(test_listen_ok)
{
	struct conf_listen l;

	ck_assert_msg(conf_parse_listen(&l, listen_ok[_i].value, err,
	    sizeof(err)) == 0, "\"%s\": %s", listen_ok[_i].value, err);
	ck_assert_int_eq(l.proto, listen_ok[_i].proto);
	ck_assert_str_eq(l.host, listen_ok[_i].host);
	ck_assert_str_eq(l.port, listen_ok[_i].port);
}
END_TEST

static const struct {
	const char	*value;
	const char	*want;
} listen_bad[] = {
	{ "*:110", "is not a protocol" },
	{ "[::1]:110", "is not a protocol" },
	{ "imap *:143", "\"imap\" is not a protocol" },
	{ "pop3", "one address after the protocol" },
	{ "pop3 *:110 extra", "one address after the protocol" },
	{ "pop3 *:110 pop2 *:109", "one address after the protocol" },
	{ "pop3 *", "has no port" },
	{ "pop3 *:", "bad port \"\"" },
	{ "pop3 *:0", "bad port \"0\"; allowed: 1 to 65535 or a service" },
	{ "pop3 *:65536", "bad port \"65536\"" },
	{ "pop3 *:99999999999999999999", "bad port" },
	{ "pop3 *:-1", "bad port \"-1\"" },
	{ "pop3 *:+110", "bad port" },
	{ "pop3 *:11 0", "one address" },
	{ "pop3 *:110x", "bad port" },
	{ "pop3 *:POP3", "bad port" },
	{ "pop3 *:no-such-service-x", "bad port" },
	{ "pop3 *:nosuchservice", "unknown service \"nosuchservice\"" },
	{ "pop3 ::1:110", "an IPv6 address goes in brackets" },
	{ "pop3 [::1]110", "expected [IPv6]:PORT" },
	{ "pop3 [::1", "expected [IPv6]:PORT" },
	{ "pop3 [::1]", "expected [IPv6]:PORT" },
	{ "pop3 [1.2.3.4]:110", "\"1.2.3.4\" is not an IPv6 address" },
	{ "pop3 [fe80::1%eth0]:110", "is not an IPv6 address" },
	{ "pop3 localhost:110", "\"localhost\" is not an address; HOST is an "
	    "IPv4 address, * (all addresses) or [IPv6]" },
	{ "pop3 256.1.1.1:110", "is not an address" },
	{ "pop3 :110", "\"\" is not an address" },
	{ "pop3 **:110", "is not an address" },
};

START_TEST(test_listen_bad)
{
	struct conf_listen l;

	ck_assert_msg(conf_parse_listen(&l, listen_bad[_i].value, err,
	    sizeof(err)) == -1, "\"%s\" accepted", listen_bad[_i].value);
	ck_assert_msg(strncmp(err, "listen: ", 8) == 0 &&
	    strstr(err, listen_bad[_i].want) != NULL,
	    "\"%s\": message \"%s\" lacks \"%s\"", listen_bad[_i].value, err,
	    listen_bad[_i].want);
}
END_TEST

START_TEST(test_listen_service)
{
	struct conf_listen l;
	struct servent *se;

	if ((se = getservbyname("pop3", "tcp")) == NULL)
		return;		/* no /etc/services here: nothing to test */
	ck_assert_int_eq(conf_parse_listen(&l, "pop3 *:pop3", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(l.port, "110");
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf c;
	char missing[sizeof(tmpdir) + 32];

	snprintf(missing, sizeof(missing), "%s/nonexistent.conf", tmpdir);
	ck_assert_int_eq(conf_load(&c, missing, true, err, sizeof(err)), 0);
	ck_assert_str_eq(c.maildrop, "/var/mail/%u");
	ck_assert_int_eq(c.timeout_auth, 180);

	ck_assert_int_eq(conf_load(&c, missing, false, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, missing));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));

	/* missing_ok covers only a missing file, not an unreadable one. */
	ck_assert_int_eq(conf_load(&c, tmpdir, true, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_int_eq(conf_load(&c, "", true, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_overlong)
{
	struct conf c;
	char text[8192], val[PARAM_PATH_MAX + 2];

	/* hostname: 255 octets fit, 256 do not. */
	memset(val, 'h', 255);
	val[255] = '\0';
	snprintf(text, sizeof(text), "hostname = %s\n", val);
	ck_assert_int_eq(load_text(&c, text), 0);
	ck_assert_uint_eq(strlen(c.hostname), 255);
	memset(val, 'h', 256);
	val[256] = '\0';
	snprintf(text, sizeof(text), "hostname = %s\n", val);
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(1, "hostname: value too long (256 octets; at most 255)");

	/* Paths: PARAM_PATH_MAX - 1 fit. */
	val[0] = '/';
	memset(val + 1, 'd', PARAM_PATH_MAX - 2);
	val[PARAM_PATH_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "chroot = %s\n", val);
	ck_assert_int_eq(load_text(&c, text), 0);
	val[PARAM_PATH_MAX - 1] = 'd';
	val[PARAM_PATH_MAX] = '\0';
	snprintf(text, sizeof(text), "\nchroot = %s\n", val);
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(2, "chroot: value too long (1024 octets; at most 1023)");
	snprintf(text, sizeof(text), "passwd_file = %s\n", val);
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(1, "passwd_file: value too long");
	snprintf(text, sizeof(text), "maildrop = %s\n", val);
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(1, "maildrop: value too long");

	/* A user name of 65 octets. */
	memset(val, 'u', 65);
	val[65] = '\0';
	snprintf(text, sizeof(text), "pre_auth_user = %s\n", val);
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(1, "not a valid user name");

	/* A listen address longer than the buffer. */
	memset(val, '1', 300);
	val[300] = '\0';
	snprintf(text, sizeof(text), "listen = pop3 %s\n", val);
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(1, "listen: address too long");

	/* A line longer than any value could be. */
	memset(text, ' ', 5000);
	memcpy(text + 5000, "# x\n", 5);
	ck_assert_int_eq(load_text(&c, text), -1);
	assert_err(1, "line too long");
}
END_TEST

/* Finds etc/postern.conf from the source tree. */
static int
example_path(char *buf, size_t len)
{
	const char *src = getenv("POSTERN_SRCDIR");
	char dir[512], *slash;

	if (src != NULL) {
		snprintf(buf, len, "%s/etc/postern.conf", src);
		if (access(buf, R_OK) == 0)
			return 0;
	}
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	snprintf(buf, len, "%s/../../etc/postern.conf", dir);
	if (access(buf, R_OK) == 0)
		return 0;
	snprintf(buf, len, "etc/postern.conf");
	return access(buf, R_OK);
}

static void
assert_default_values(const struct conf *c)
{
	struct conf d;

	conf_default(&d);
	ck_assert_str_eq(c->pre_auth_user, d.pre_auth_user);
	ck_assert_str_eq(c->chroot_dir, d.chroot_dir);
	ck_assert_str_eq(c->maildrop, d.maildrop);
	ck_assert_int_eq(c->timeout_auth, d.timeout_auth);
	ck_assert_int_eq(c->timeout_trans, d.timeout_trans);
	ck_assert_int_eq(c->auth_fail_delay_ms, d.auth_fail_delay_ms);
	ck_assert_int_eq(c->auth_max_tries, d.auth_max_tries);
	ck_assert_int_eq(c->timeout_auth_total, d.timeout_auth_total);
	ck_assert_int_eq(c->auth_max_commands, d.auth_max_commands);
	ck_assert_int_eq(c->auth_max_errors, d.auth_max_errors);
	ck_assert_uint_eq(c->session_memory_max, d.session_memory_max);
	ck_assert_int_eq(c->max_line, d.max_line);
	ck_assert_int_eq(c->plaintext, d.plaintext);
	ck_assert_int_eq(c->mboxrd, d.mboxrd);
	ck_assert_mem_eq(&c->lock, &d.lock, sizeof(d.lock));
	ck_assert_int_eq(c->log_level, d.log_level);
	ck_assert_int_eq(c->syslog_facility, d.syslog_facility);
	ck_assert_uint_eq(c->nlisten, d.nlisten);
	ck_assert_int_eq(c->listen[0].proto, d.listen[0].proto);
	ck_assert_str_eq(c->listen[0].host, d.listen[0].host);
	ck_assert_str_eq(c->listen[0].port, d.listen[0].port);
}

START_TEST(test_example_file)
{
	struct conf c;
	char ex[1024], *text, *out, *p, *line, *nl;
	size_t len, n = 0, keys = 0;

	ck_assert_msg(example_path(ex, sizeof(ex)) == 0,
	    "etc/postern.conf not found (set POSTERN_SRCDIR)");
	/* As shipped: every key commented out, the defaults stand.  Read
	 * from a copy of ours: a checkout made with umask 002 is group-
	 * writable, which conf_load rightly refuses. */
	text = tu_read_file(ex, &len);
	ck_assert_msg(load_text(&c, text) == 0, "%s", err);
	assert_default_values(&c);

	/* Every "#key = default" line, uncommented, gives the same. */
	out = malloc(len + 1);
	ck_assert_ptr_nonnull(out);
	for (line = text; *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		nl = nl != NULL ? nl + 1 : line + strlen(line);
		p = line;
		if (p[0] == '#' && p[1] >= 'a' && p[1] <= 'z' &&
		    strstr(p, " = ") != NULL &&
		    strstr(p, " = ") < nl) {
			p++;
			keys++;
		}
		memcpy(out + n, p, (size_t)(nl - p));
		n += (size_t)(nl - p);
	}
	out[n] = '\0';
	ck_assert_uint_eq(keys, conf_nkeys());	/* every key, listen once */
	ck_assert_int_eq(load_text(&c, out), 0);
	assert_default_values(&c);
	ck_assert_str_eq(c.hostname, "mail.example.org");
	ck_assert_str_eq(c.passwd_file, "/etc/postern.passwd");
	free(text);
	free(out);
}
END_TEST

/* The passwd-file's rule (auth.c): owned by root or by us, writable by
 * the owner only. */
START_TEST(test_file_owner_mode)
{
	static const char text[] = "timeout_auth = 45\n";
	struct conf c;
	char want[sizeof(cpath) + 64];
	static const mode_t bad[] = { 0620, 0602, 0660, 0666, 0622, 0777 };
	size_t i;

	tu_write_file(cpath, text, sizeof(text) - 1);
	ck_assert_msg(conf_load(&c, cpath, false, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(c.timeout_auth, 45);
	/* Read permission for others is fine: nothing in it is secret. */
	ck_assert_int_eq(chmod(cpath, 0644), 0);
	ck_assert_int_eq(conf_load(&c, cpath, false, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s: refused (owner uid %lu, mode ",
	    cpath, (unsigned long)geteuid());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(chmod(cpath, bad[i]), 0);
		ck_assert_msg(conf_load(&c, cpath, false, err, sizeof(err)) ==
		    -1, "mode %04o accepted", (unsigned)bad[i]);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0 &&
		    strstr(err, "writable by its owner only") != NULL,
		    "mode %04o: %s", (unsigned)bad[i], err);
	}
	ck_assert_int_eq(chmod(cpath, 0600), 0);
	/* Another owner: only root can make one. */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(cpath, 65534, 65534), 0);
		ck_assert_int_eq(conf_load(&c, cpath, false, err, sizeof(err)),
		    -1);
		ck_assert_msg(strstr(err, "refused (owner uid 65534, mode "
		    "0600): a configuration file must be owned by root and "
		    "writable by its owner only") != NULL, "%s", err);
	}
}
END_TEST

/* privsep_preauth_init refuses a mail_group that gives away the system,
 * also when not root (pop3d -t as any user). */
static const struct {
	const char	*group;
	const char	*want;		/* NULL: accepted */
} mail_groups[] = {
	{ "root",		"mail_group \"root\" refused: " },
	{ "shadow",		"refused: it reads every password hash" },
	{ "disk",		"refused: it reads and writes every block device" },
	{ "kmem",		"refused: it reads kernel memory" },
	{ "sudo",		"refused: its members become root" },
	{ "wheel",		"refused: its members become root" },
	{ "adm",		"refused: it reads the system logs" },
	{ "tty",		"refused: it writes to every terminal" },
	{ "docker",		"refused: the docker socket is root" },
	{ "lxd",		"refused" },
	{ "systemd-journal",	"refused" },
	{ "mail",		NULL },
	{ "postern-nosuchgroup", NULL },
};

START_TEST(test_mail_group)
{
	struct conf c;
	struct privsep_preauth pa;
	int r;

	conf_default(&c);
	snprintf(c.mail_group, sizeof(c.mail_group), "%s",
	    mail_groups[_i].group);
	snprintf(c.pre_auth_user, sizeof(c.pre_auth_user), "nobody");
	snprintf(c.chroot_dir, sizeof(c.chroot_dir), "%s", tmpdir);
	err[0] = '\0';
	r = privsep_preauth_init(&c, &pa, err, sizeof(err));
	if (mail_groups[_i].want != NULL) {
		ck_assert_int_eq(r, -1);
		ck_assert_msg(strstr(err, mail_groups[_i].want) != NULL &&
		    strstr(err, "mail_group") != NULL, "%s: %s",
		    mail_groups[_i].group, err);
	} else
		ck_assert_msg(strstr(err, "mail_group") == NULL, "%s: %s",
		    mail_groups[_i].group, err);
}
END_TEST

/* Root only: the drop refuses a session group of gid 0 or shadow's before
 * it changes anything (Check runs each test in a child anyway). */
START_TEST(test_session_group)
{
	struct conf c;
	struct auth_user u;
	struct group *gr;

	if (geteuid() != 0)
		return;
	conf_default(&c);
	c.mail_group[0] = '\0';
	memset(&u, 0, sizeof(u));
	u.uid = 65534;
	u.gid = 0;
	ck_assert_int_eq(privsep_drop_user(&c, &u, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "group 0: gid 0 is root's group") != NULL,
	    "%s", err);
	ck_assert_int_eq(geteuid(), 0);
	if ((gr = getgrnam("shadow")) != NULL) {
		u.gid = gr->gr_gid;
		ck_assert_int_eq(privsep_drop_user(&c, &u, err, sizeof(err)),
		    -1);
		ck_assert_msg(strstr(err, "every password hash") != NULL,
		    "%s", err);
		ck_assert_int_eq(geteuid(), 0);
	}
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_loop_test(tc, test_valid, 0,
	    (int)(sizeof(valid) / sizeof(valid[0])));
	tcase_add_loop_test(tc, test_invalid, 0,
	    (int)(sizeof(invalid) / sizeof(invalid[0])));
	tcase_add_test(tc, test_nul_in_line);
	tcase_add_test(tc, test_line_numbers);
	tcase_add_test(tc, test_comments_whitespace);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_listen_repeat);
	tcase_add_test(tc, test_listen_max);
	tcase_add_loop_test(tc, test_listen_ok, 0,
	    (int)(sizeof(listen_ok) / sizeof(listen_ok[0])));
	tcase_add_loop_test(tc, test_listen_bad, 0,
	    (int)(sizeof(listen_bad) / sizeof(listen_bad[0])));
	tcase_add_test(tc, test_listen_service);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_example_file);
	tcase_add_test(tc, test_file_owner_mode);
	tcase_add_loop_test(tc, test_mail_group, 0,
	    (int)(sizeof(mail_groups) / sizeof(mail_groups[0])));
	tcase_add_test(tc, test_session_group);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(conf_suite)
