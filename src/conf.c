/*
 * conf.c: reads the configuration file of design.md §4, plain "key = value"
 * lines with '#' comment lines, into a struct conf that starts from the
 * defaults in params.h.  Every key is in one table with its own check; an
 * unknown key, a bad value or a key given twice (only "listen" repeats)
 * stops the load with "FILE:LINE: what is wrong; what is allowed".  Runs in
 * the master (root, or the invoking user in test mode) before any fork and
 * before any privilege is dropped; it opens nothing but the file it reads.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "lock.h"
#include "params.h"
#include "rmcp.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/var"
#endif

/* Longer than any key plus any value (the longest is PARAM_PATH_MAX). */
#define CONF_LINE_MAX	4096
/* One message before "FILE:LINE: " is put in front of it. */
#define CONF_MSG_MAX	512
/* At most this many octets of a bad value are quoted back. */
#define CONF_SHOW	64
/* Service names as /etc/services spells them; fits conf_listen.port. */
#define CONF_SERV_MAX	15

struct conf_state {
	struct conf	*c;
	size_t		 lineno;
	size_t		*first;		/* per key: line first seen, 0 never */
	size_t		 listen_line[PARAM_LISTEN_MAX];
};

struct conf_word {
	const char	*name;
	int		 value;
};

struct conf_key;
typedef int (*conf_set_fn)(struct conf_state *, const struct conf_key *,
    const char *, char *, size_t);

struct conf_key {
	const char		*name;
	conf_set_fn		 set;
	size_t			 off;	/* field in struct conf */
	size_t			 size;	/* its size, for strings */
	long			 min;	/* range, for numbers */
	long			 max;
	const char		*unit;
	const struct conf_word	*words;	/* choices, NULL-terminated */
};

static int	set_hostname(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_user(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_path(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_maildrop(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_folder_dir(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_int(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_word(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_mbox_format(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_listen(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_lock_order(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_userdb(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_shells(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_group(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_rmcp_listen(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);
static int	set_rmcp_users(struct conf_state *, const struct conf_key *,
		    const char *, char *, size_t);

static const struct conf_word userdb_words[] = {
	{ "passwd-file",	USERDB_FILE },
	{ "system",		USERDB_SYSTEM },
	{ "pam",		USERDB_PAM },
	{ NULL,			0 }
};

static const struct conf_word plaintext_words[] = {
	{ "loopback",	PLAINTEXT_LOOPBACK },
	{ "yes",	PLAINTEXT_ALWAYS },
	{ "no",		PLAINTEXT_NEVER },
	{ NULL,		0 }
};

static const struct conf_word mbox_words[] = {
	{ "mboxo",	0 },
	{ "mboxrd",	1 },
	{ NULL,		0 }
};

static const struct conf_word level_words[] = {
	{ "debug",	LOG_DEBUG },
	{ "info",	LOG_INFO },
	{ "notice",	LOG_NOTICE },
	{ "warning",	LOG_WARNING },
	{ NULL,		0 }
};

static const struct conf_word facility_words[] = {
	{ "mail",	LOG_MAIL },
	{ "daemon",	LOG_DAEMON },
	{ "auth",	LOG_AUTH },
	{ "authpriv",	LOG_AUTHPRIV },
	{ "local0",	LOG_LOCAL0 },
	{ "local1",	LOG_LOCAL1 },
	{ "local2",	LOG_LOCAL2 },
	{ "local3",	LOG_LOCAL3 },
	{ "local4",	LOG_LOCAL4 },
	{ "local5",	LOG_LOCAL5 },
	{ "local6",	LOG_LOCAL6 },
	{ "local7",	LOG_LOCAL7 },
	{ NULL,		0 }
};

static const struct conf_word yesno_words[] = {
	{ "yes",	1 },
	{ "no",		0 },
	{ NULL,		0 }
};

static const struct conf_word consent_words[] = {
	{ "exec-bit",	RMCP_CONSENT_EXECBIT },
	{ "list",	RMCP_CONSENT_LIST },
	{ "either",	RMCP_CONSENT_EITHER },
	{ NULL,		0 }
};

static const struct conf_word ages_words[] = {
	{ "obfuscated",	RMCP_AGES_OBFUSCATED },
	{ "real",	RMCP_AGES_REAL },
	{ NULL,		0 }
};

#define STR(f)	offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
#define NUM(f)	offsetof(struct conf, f), 0

/* The ranges are documented in postern.conf(5); keep them in step. */
static const struct conf_key keys[] = {
	{ "hostname",		set_hostname,	STR(hostname), 0, 0, NULL, NULL },
	{ "listen",		set_listen,	0, 0, 0, 0, NULL, NULL },
	{ "pre_auth_user",	set_user,	STR(pre_auth_user), 0, 0, NULL,
	    NULL },
	{ "chroot",		set_path,	STR(chroot_dir), 0, 0, NULL, NULL },
	{ "passwd_file",	set_path,	STR(passwd_file), 0, 0, NULL, NULL },
	{ "maildrop",		set_maildrop,	STR(maildrop), 0, 0, NULL, NULL },
	{ "timeout_auth",	set_int,	NUM(timeout_auth), 10, 3600,
	    "seconds", NULL },
	/* RFC 1939 §3 asks for at least 600; lower is the admin's choice. */
	{ "timeout_session",	set_int,	NUM(timeout_trans), 10, 86400,
	    "seconds", NULL },
	/* RFC 937 leaves both open; UW ipop2d: 30 minutes after login. */
	{ "pop2_folder_dir",	set_folder_dir,	STR(pop2_folder_dir), 0, 0,
	    NULL, NULL },
	{ "pop2_timeout_session", set_int,	NUM(pop2_timeout_session), 10,
	    86400, "seconds", NULL },
	{ "auth_fail_delay",	set_int,	NUM(auth_fail_delay_ms), 0, 60000,
	    "milliseconds", NULL },
	{ "auth_max_tries",	set_int,	NUM(auth_max_tries), 1, 100,
	    "tries", NULL },
	{ "max_line_length",	set_int,	NUM(max_line), PARAM_LINE_MIN,
	    PARAM_LINE_MAX, "octets", NULL },
	{ "plaintext_auth",	set_word,	NUM(plaintext), 0, 0, NULL,
	    plaintext_words },
	{ "mbox_format",	set_mbox_format, 0, 0, 0, 0, NULL,
	    mbox_words },
	{ "lock_order",		set_lock_order,	0, 0, 0, 0, NULL, NULL },
	{ "lock_timeout",	set_int,	NUM(lock.timeout), 1, 600,
	    "seconds", NULL },
	{ "dotlock_stale",	set_int,	NUM(lock.stale), 10, 86400,
	    "seconds", NULL },
	{ "log_level",		set_word,	NUM(log_level), 0, 0, NULL,
	    level_words },
	{ "syslog_facility",	set_word,	NUM(syslog_facility), 0, 0, NULL,
	    facility_words },
	{ "userdb",		set_userdb,	0, 0, 0, 0, NULL, userdb_words },
	{ "nologin_shells",	set_shells,	STR(nologin_shells), 0, 0, NULL,
	    NULL },
	{ "mail_group",		set_group,	STR(mail_group), 0, 0, NULL,
	    NULL },
	{ "state_dir",		set_path,	STR(state_dir), 0, 0, NULL, NULL },
	{ "max_sessions",	set_int,	NUM(max_sessions), 1, 100000,
	    "sessions", NULL },
	{ "max_sessions_per_addr", set_int,	NUM(max_sessions_per_addr), 1,
	    100000, "sessions", NULL },
	{ "max_conn_per_min",	set_int,	NUM(max_conn_per_min), 1, 100000,
	    "connections", NULL },
	{ "auth_penalty_max",	set_int,	NUM(auth_penalty_max_ms), 0,
	    60000, "milliseconds", NULL },
	{ "pid_file",		set_path,	STR(pid_file), 0, 0, NULL, NULL },
	{ "shutdown_grace",	set_int,	NUM(shutdown_grace), 0, 3600,
	    "seconds", NULL },
	/* rmcpd (RFC 1339, design.md §6); rmcpd(8) explains each. */
	{ "rmcp_enabled",	set_word,	NUM(rmcp_enabled), 0, 0, NULL,
	    yesno_words },
	{ "rmcp_listen",	set_rmcp_listen, 0, 0, 0, 0, NULL, NULL },
	{ "rmcp_user",		set_user,	STR(rmcp_user), 0, 0, NULL,
	    NULL },
	{ "rmcp_consent",	set_word,	NUM(rmcp_consent), 0, 0, NULL,
	    consent_words },
	{ "rmcp_consent_users",	set_rmcp_users,	STR(rmcp_consent_users), 0, 0,
	    NULL, NULL },
	{ "rmcp_ages",		set_word,	NUM(rmcp_ages), 0, 0, NULL,
	    ages_words },
	{ "rmcp_auth",		set_word,	NUM(rmcp_auth), 0, 0, NULL,
	    yesno_words },
	{ "rmcp_secrets_file",	set_path,	STR(rmcp_secrets_file), 0, 0,
	    NULL, NULL },
	/* RFC 1339 p.4: a client polls once a minute (and authenticates
	 * once); the default leaves room for a few hosts behind one NAT. */
	{ "rmcp_rate",		set_int,	NUM(rmcp_rate), 1, 10000000,
	    "datagrams per minute", NULL },
	{ "rmcp_rate_burst",	set_int,	NUM(rmcp_rate_burst), 1,
	    10000000, "datagrams", NULL },
	{ "rmcp_auth_fail_max",	set_int,	NUM(rmcp_auth_fail_max), 1,
	    1000, "failures", NULL },
	{ "rmcp_auth_fail_block", set_int,	NUM(rmcp_auth_fail_block), 1,
	    86400, "seconds", NULL },
	{ "rmcp_pending_lifetime", set_int,	NUM(rmcp_pending_lifetime), 1,
	    3600, "seconds", NULL },
	{ "rmcp_auth_lifetime",	set_int,	NUM(rmcp_auth_lifetime), 1,
	    86400, "seconds", NULL },
	{ "rmcp_table_size",	set_int,	NUM(rmcp_table_size),
	    RMCP_TABLE_MIN, RMCP_TABLE_MAX, "entries", NULL },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

size_t
conf_nkeys(void)
{
	return NKEYS;
}

/* Copies s into a fixed buffer; -1 if it does not fit. */
static int
copy_str(char *dst, size_t size, const char *s)
{
	int n;

	n = snprintf(dst, size, "%s", s);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			dst[0] = '\0';
		return -1;
	}
	return 0;
}

/* An extra hint for a bad value. */
static const char *
hint(const char *v)
{
	/* The usual mistake: "key = value # comment". */
	return strchr(v, '#') != NULL ?
	    " (comments must be on a line of their own)" : "";
}

static int
store_str(const struct conf_key *k, struct conf *c, const char *v,
    char *msg, size_t msglen)
{
	if (copy_str((char *)c + k->off, k->size, v) == -1) {
		snprintf(msg, msglen, "%s: value too long (%zu octets; at "
		    "most %zu)", k->name, strlen(v), k->size - 1);
		return -1;
	}
	return 0;
}

static int
set_hostname(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	const char *p;

	/* It goes into the greeting (and APOP's <...@host>): no spaces. */
	for (p = v; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_') {
			snprintf(msg, msglen, "%s: \"%.*s\" is not allowed; "
			    "use letters, digits, '.', '-' and '_'%s",
			    k->name, CONF_SHOW, v, hint(v));
			return -1;
		}
	}
	return store_str(k, st->c, v, msg, msglen);
}

static int
set_user(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	if (!auth_valid_username(v, strlen(v))) {
		snprintf(msg, msglen, "%s: \"%.*s\" is not a valid user name; "
		    "use 1-%d letters, digits, '.', '_' or '-', not starting "
		    "with '.' or '-'%s", k->name, CONF_SHOW, v, PARAM_USER_MAX,
		    hint(v));
		return -1;
	}
	return store_str(k, st->c, v, msg, msglen);
}

static int
set_path(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	/* The daemon changes directory; a relative path would move. */
	if (v[0] != '/') {
		snprintf(msg, msglen, "%s: \"%.*s\" is not an absolute path; "
		    "it must start with '/'", k->name, CONF_SHOW, v);
		return -1;
	}
	return store_str(k, st->c, v, msg, msglen);
}

/* A path template: absolute or "~/...", escapes %u and %% only.
 * Returns 0, or -1 with a message. */
static int
check_template(const struct conf_key *k, const char *v, char *msg,
    size_t msglen)
{
	const char *p;

	if (v[0] != '/' && strncmp(v, "~/", 2) != 0) {
		snprintf(msg, msglen, "%s: \"%.*s\" must be an absolute path "
		    "or start with \"~/\"", k->name, CONF_SHOW, v);
		return -1;
	}
	for (p = v; (p = strchr(p, '%')) != NULL; p += 2) {
		if (p[1] != 'u' && p[1] != '%') {
			snprintf(msg, msglen, "%s: \"%.*s\": unknown escape "
			    "\"%%%.1s\"; allowed are %%u (the user name) and "
			    "%%%% (a percent sign)", k->name, CONF_SHOW, v,
			    p + 1);
			return -1;
		}
	}
	return 0;
}

/* The maildrop template must name a file, not a directory. */
static int
set_maildrop(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	size_t len = strlen(v);

	if (check_template(k, v, msg, msglen) == -1)
		return -1;
	if ((v[0] == '~' && len == 2) || v[len - 1] == '/') {
		snprintf(msg, msglen, "%s: \"%.*s\" names a directory; it must "
		    "name the mbox file, e.g. /var/mail/%%u", k->name,
		    CONF_SHOW, v);
		return -1;
	}
	return store_str(k, st->c, v, msg, msglen);
}

/* POP2's folder directory template. */
static int
set_folder_dir(struct conf_state *st, const struct conf_key *k,
    const char *v, char *msg, size_t msglen)
{
	if (check_template(k, v, msg, msglen) == -1)
		return -1;
	return store_str(k, st->c, v, msg, msglen);
}

/*
 * Strict decimal: digits only, no sign, no blanks, no junk.  Too many
 * digits give LONG_MAX, which every range check then refuses.
 */
static int
parse_long(const char *s, long *r)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || (errno != 0 && errno != ERANGE))
		return -1;
	*r = v;
	return 0;
}

static int
set_int(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	long n;

	if (parse_long(v, &n) == -1) {
		snprintf(msg, msglen, "%s: \"%.*s\" is not a number; allowed: "
		    "%ld to %ld %s%s", k->name, CONF_SHOW, v, k->min, k->max,
		    k->unit, hint(v));
		return -1;
	}
	if (n < k->min || n > k->max) {
		snprintf(msg, msglen, "%s: %.*s is out of range; allowed: %ld "
		    "to %ld %s", k->name, CONF_SHOW, v, k->min, k->max,
		    k->unit);
		return -1;
	}
	*(int *)(void *)((char *)st->c + k->off) = (int)n;
	return 0;
}

/* Finds v among k's words (any case).  0 with *r, or -1 with msg. */
static int
find_word(const struct conf_key *k, const char *v, int *r, char *msg,
    size_t msglen)
{
	const struct conf_word *w;
	char list[CONF_MSG_MAX] = "";
	size_t used = 0;
	int n;

	for (w = k->words; w->name != NULL; w++) {
		if (strcasecmp(v, w->name) == 0) {
			*r = w->value;
			return 0;
		}
	}
	for (w = k->words; w->name != NULL; w++) {
		n = snprintf(list + used, sizeof(list) - used, "%s%s",
		    w == k->words ? "" : ", ", w->name);
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;		/* a shorter list is still a hint */
		used += (size_t)n;
	}
	snprintf(msg, msglen, "%s: \"%.*s\" is not allowed; use one of: %s%s",
	    k->name, CONF_SHOW, v, list, hint(v));
	return -1;
}

static int
set_word(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	int w;

	if (find_word(k, v, &w, msg, msglen) == -1)
		return -1;
	*(int *)(void *)((char *)st->c + k->off) = w;
	return 0;
}

static int
set_mbox_format(struct conf_state *st, const struct conf_key *k,
    const char *v, char *msg, size_t msglen)
{
	int w;

	if (find_word(k, v, &w, msg, msglen) == -1)
		return -1;
	st->c->mboxrd = w != 0;
	return 0;
}

static int
set_lock_order(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	struct lock_conf tmp;

	/* Parse into a copy: a failed parse leaves the order untouched. */
	tmp = st->c->lock;
	if (lock_conf_parse_order(&tmp, v) == -1) {
		snprintf(msg, msglen, "%s: \"%.*s\" is not allowed; use "
		    "\"fcntl\", \"dotlock\", or both separated by a space, in "
		    "the order they are taken%s", k->name, CONF_SHOW, v,
		    hint(v));
		return -1;
	}
	st->c->lock.order[0] = tmp.order[0];
	st->c->lock.order[1] = tmp.order[1];
	return 0;
}

/* "passwd-file", "system", "pam": one or more, each once, in order. */
static int
set_userdb(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	char buf[PARAM_CONF_STR], *w, *save = NULL;
	int list[USERDB_MAX], n = 0, u, i;

	if (copy_str(buf, sizeof(buf), v) == -1) {
		snprintf(msg, msglen, "%s: value too long", k->name);
		return -1;
	}
	for (w = strtok_r(buf, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (find_word(k, w, &u, msg, msglen) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (list[i] == u) {
				snprintf(msg, msglen, "%s: \"%s\" is named "
				    "twice", k->name, w);
				return -1;
			}
#ifndef POSTERN_PAM
		if (u == USERDB_PAM) {
			snprintf(msg, msglen, "%s: pop3d was built without "
			    "PAM; rebuild with \"make PAM=1\" or use "
			    "passwd-file or system", k->name);
			return -1;
		}
#endif
		list[n++] = u;
	}
	if (n == 0) {
		snprintf(msg, msglen, "%s: name at least one of passwd-file, "
		    "system, pam", k->name);
		return -1;
	}
	memcpy(st->c->userdb, list, sizeof(list[0]) * (size_t)n);
	st->c->nuserdb = (size_t)n;
	return 0;
}

/* Space-separated absolute paths (or "none"). */
static int
set_shells(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	const char *p = v;

	if (strcmp(v, "none") == 0)
		return store_str(k, st->c, "", msg, msglen);
	while (*p != '\0') {
		if (*p != '/') {
			snprintf(msg, msglen, "%s: \"%.*s\": each shell must "
			    "be an absolute path (or the whole value \"none\")",
			    k->name, CONF_SHOW, v);
			return -1;
		}
		p += strcspn(p, " \t");
		p += strspn(p, " \t");
	}
	return store_str(k, st->c, v, msg, msglen);
}

/* A group name, or "none". */
static int
set_group(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	if (strcmp(v, "none") == 0)
		return store_str(k, st->c, "", msg, msglen);
	if (!auth_valid_username(v, strlen(v))) {
		snprintf(msg, msglen, "%s: \"%.*s\" is not a valid group "
		    "name (or \"none\")%s", k->name, CONF_SHOW, v, hint(v));
		return -1;
	}
	return store_str(k, st->c, v, msg, msglen);
}

static int
set_listen(struct conf_state *st, const struct conf_key *k, const char *v,
    char *msg, size_t msglen)
{
	struct conf *c = st->c;
	struct conf_listen l;
	size_t i;

	if (conf_parse_listen(&l, v, msg, msglen) == -1)
		return -1;
	/* The first listen line replaces the default listener. */
	if (st->first[k - keys] == st->lineno)
		c->nlisten = 0;
	for (i = 0; i < c->nlisten; i++) {
		if (strcmp(c->listen[i].host, l.host) == 0 &&
		    strcmp(c->listen[i].port, l.port) == 0) {
			snprintf(msg, msglen, "listen: %s port %s is already "
			    "listed on line %zu", l.host, l.port,
			    st->listen_line[i]);
			return -1;
		}
	}
	if (c->nlisten >= PARAM_LISTEN_MAX) {
		snprintf(msg, msglen, "listen: too many listeners (at most "
		    "%d)", PARAM_LISTEN_MAX);
		return -1;
	}
	st->listen_line[c->nlisten] = st->lineno;
	c->listen[c->nlisten++] = l;
	return 0;
}

/* "*:50 [::]:50": every address rmcpd binds, on one line. */
static int
set_rmcp_listen(struct conf_state *st, const struct conf_key *k,
    const char *v, char *msg, size_t msglen)
{
	struct conf_listen l[PARAM_LISTEN_MAX];
	const char *p = v;
	size_t n = 0, len, i;

	(void)k;
	while (*p != '\0') {
		len = strcspn(p, " \t");
		if (n == PARAM_LISTEN_MAX) {
			snprintf(msg, msglen, "rmcp_listen: too many addresses "
			    "(at most %d)", PARAM_LISTEN_MAX);
			return -1;
		}
		if (conf_parse_hostport("rmcp_listen", p, len, "udp",
		    "*:50", &l[n], msg, msglen) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (strcmp(l[i].host, l[n].host) == 0 &&
			    strcmp(l[i].port, l[n].port) == 0) {
				snprintf(msg, msglen, "rmcp_listen: %s port %s "
				    "is listed twice", l[n].host, l[n].port);
				return -1;
			}
		n++;
		p += len;
		p += strspn(p, " \t");
	}
	memcpy(st->c->rmcp_listen, l, n * sizeof(l[0]));
	st->c->nrmcp_listen = n;
	return 0;
}

/* Space-separated user names, or "none". */
static int
set_rmcp_users(struct conf_state *st, const struct conf_key *k,
    const char *v, char *msg, size_t msglen)
{
	const char *p = v;
	size_t len;

	if (strcmp(v, "none") == 0)
		return store_str(k, st->c, "", msg, msglen);
	while (*p != '\0') {
		len = strcspn(p, " \t");
		if (!auth_valid_username(p, len)) {
			snprintf(msg, msglen, "%s: \"%.*s\" is not a valid "
			    "user name; use 1-%d letters, digits, '.', '_' or "
			    "'-', not starting with '.' or '-', separated by "
			    "spaces (or the whole value \"none\")%s", k->name,
			    (int)(len < CONF_SHOW ? len : CONF_SHOW), p,
			    PARAM_USER_MAX, hint(v));
			return -1;
		}
		p += len;
		p += strspn(p, " \t");
	}
	return store_str(k, st->c, v, msg, msglen);
}

void
conf_default(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	if (gethostname(c->hostname, sizeof(c->hostname)) == -1 ||
	    c->hostname[0] == '\0') {
		(void)copy_str(c->hostname, sizeof(c->hostname), "localhost");
	}
	c->hostname[sizeof(c->hostname) - 1] = '\0';
	(void)copy_str(c->pre_auth_user, sizeof(c->pre_auth_user), "postern");
	(void)copy_str(c->chroot_dir, sizeof(c->chroot_dir), "/var/empty");
	(void)copy_str(c->passwd_file, sizeof(c->passwd_file),
	    SYSCONFDIR "/postern.passwd");
	(void)copy_str(c->maildrop, sizeof(c->maildrop), "/var/mail/%u");
	c->timeout_auth = PARAM_TIMEOUT_AUTH;
	c->timeout_trans = PARAM_TIMEOUT_TRANS;
	(void)copy_str(c->pop2_folder_dir, sizeof(c->pop2_folder_dir),
	    "~/Mail");
	c->pop2_timeout_session = 1800;
	c->auth_fail_delay_ms = PARAM_AUTH_DELAY_MS;
	c->auth_max_tries = PARAM_AUTH_TRIES;
	c->max_line = PARAM_LINE_DEFAULT;
	c->plaintext = PLAINTEXT_LOOPBACK;
	c->mboxrd = false;
	lock_conf_default(&c->lock);
	c->log_level = LOG_INFO;
	c->syslog_facility = LOG_MAIL;
	c->listen[0].proto = PROTO_POP3;
	(void)copy_str(c->listen[0].host, sizeof(c->listen[0].host), "*");
	(void)copy_str(c->listen[0].port, sizeof(c->listen[0].port), "110");
	c->nlisten = 1;
	c->userdb[0] = USERDB_FILE;
	c->nuserdb = 1;
	(void)copy_str(c->nologin_shells, sizeof(c->nologin_shells),
	    "/usr/sbin/nologin /sbin/nologin /bin/false /usr/bin/false");
	(void)copy_str(c->mail_group, sizeof(c->mail_group), "mail");
	(void)copy_str(c->state_dir, sizeof(c->state_dir),
	    LOCALSTATEDIR "/lib/postern");
	c->max_sessions = 200;
	c->max_sessions_per_addr = 10;
	c->max_conn_per_min = 60;
	c->auth_penalty_max_ms = 15000;
	(void)copy_str(c->pid_file, sizeof(c->pid_file), "/run/pop3d.pid");
	c->shutdown_grace = 30;
	c->rmcp_enabled = 0;
	(void)copy_str(c->rmcp_listen[0].host, sizeof(c->rmcp_listen[0].host),
	    "*");
	(void)copy_str(c->rmcp_listen[0].port, sizeof(c->rmcp_listen[0].port),
	    "50");
	(void)copy_str(c->rmcp_listen[1].host, sizeof(c->rmcp_listen[1].host),
	    "::");
	(void)copy_str(c->rmcp_listen[1].port, sizeof(c->rmcp_listen[1].port),
	    "50");
	c->nrmcp_listen = 2;
	(void)copy_str(c->rmcp_user, sizeof(c->rmcp_user), "rmcpd");
	c->rmcp_consent = RMCP_CONSENT_EXECBIT;
	c->rmcp_ages = RMCP_AGES_OBFUSCATED;
	c->rmcp_auth = 0;
	(void)copy_str(c->rmcp_secrets_file, sizeof(c->rmcp_secrets_file),
	    SYSCONFDIR "/rmcp.secrets");
	c->rmcp_rate = 30;
	c->rmcp_rate_burst = 10;
	c->rmcp_auth_fail_max = 5;
	c->rmcp_auth_fail_block = 900;
	c->rmcp_pending_lifetime = 120;
	c->rmcp_auth_lifetime = 900;
	c->rmcp_table_size = RMCP_TABLE_DEFAULT;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static void
unknown_key(const char *key, char *msg, size_t msglen)
{
	size_t i, used;
	int n;

	n = snprintf(msg, msglen, "unknown key \"%.*s\"; known keys:",
	    CONF_SHOW, key);
	if (n < 0 || (size_t)n >= msglen)
		return;
	used = (size_t)n;
	for (i = 0; i < NKEYS; i++) {
		n = snprintf(msg + used, msglen - used, "%s %s",
		    i == 0 ? "" : ",", keys[i].name);
		if (n < 0 || (size_t)n >= msglen - used)
			return;		/* truncated: still a useful hint */
		used += (size_t)n;
	}
}

/* Handles one line (without its newline).  0, or -1 with msg. */
static int
conf_line(struct conf_state *st, char *line, size_t len, char *msg,
    size_t msglen)
{
	const struct conf_key *k;
	char *key, *val, *eq;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
			snprintf(msg, msglen, "control character 0x%02x at "
			    "column %zu; only printable text and tabs are "
			    "allowed", (unsigned char)line[i], i + 1);
			return -1;
		}
		if (line[i] == 0x7f) {
			snprintf(msg, msglen, "control character 0x7f at "
			    "column %zu", i + 1);
			return -1;
		}
	}
	key = trim(line);
	if (key[0] == '\0' || key[0] == '#')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		snprintf(msg, msglen, "expected \"key = value\", got \"%.*s\"",
		    CONF_SHOW, key);
		return -1;
	}
	*eq = '\0';
	key = trim(key);
	val = trim(eq + 1);
	if (key[0] == '\0') {
		snprintf(msg, msglen, "missing key before '='");
		return -1;
	}
	for (k = keys; k < keys + NKEYS; k++)
		if (strcmp(k->name, key) == 0)
			break;
	if (k == keys + NKEYS) {
		unknown_key(key, msg, msglen);
		return -1;
	}
	if (st->first[k - keys] != 0 && k->set != set_listen) {
		snprintf(msg, msglen, "%s: given twice (first on line %zu); "
		    "only listen may repeat", k->name, st->first[k - keys]);
		return -1;
	}
	if (val[0] == '\0') {
		snprintf(msg, msglen, "%s: missing value after '='", k->name);
		return -1;
	}
	if (st->first[k - keys] == 0)
		st->first[k - keys] = st->lineno;
	return k->set(st, k, val, msg, msglen);
}

int
conf_load(struct conf *c, const char *file, bool missing_ok, char *errstr_r,
    size_t errlen)
{
	struct conf_state st;
	struct stat sb;
	size_t first[NKEYS];
	char msg[CONF_MSG_MAX];
	char *line = NULL;
	size_t cap = 0, len;
	ssize_t n;
	FILE *fp;
	int rc = -1;

	conf_default(c);
	if (file == NULL || file[0] == '\0') {
		snprintf(errstr_r, errlen, "no configuration file name");
		return -1;
	}
	if (copy_str(c->file, sizeof(c->file), file) == -1) {
		snprintf(errstr_r, errlen, "%.64s...: file name too long (at "
		    "most %zu octets)", file, sizeof(c->file) - 1);
		return -1;
	}
	if ((fp = fopen(file, "r")) == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(errstr_r, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) == -1) {
		snprintf(errstr_r, errlen, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(errstr_r, errlen, "%s: not a regular file", file);
		goto out;
	}

	memset(&st, 0, sizeof(st));
	memset(first, 0, sizeof(first));
	st.c = c;
	st.first = first;
	errno = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		st.lineno++;
		len = (size_t)n;
		if (len > CONF_LINE_MAX) {
			snprintf(errstr_r, errlen, "%s:%zu: line too long (at "
			    "most %d octets)", file, st.lineno, CONF_LINE_MAX);
			goto out;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')	/* DOS line ends */
			line[--len] = '\0';
		if (conf_line(&st, line, len, msg, sizeof(msg)) == -1) {
			snprintf(errstr_r, errlen, "%s:%zu: %s", file,
			    st.lineno, msg);
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(errstr_r, errlen, "%s: read error: %s", file,
		    strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(fp);
	return rc;
}
