/*
 * conf.h: the configuration file, plain "key = value" lines with '#'
 * comments (design.md §4).  Unknown keys and bad values are errors that
 * name the file and the line.  Parsed by the master before any fork.
 */
#ifndef POSTERN_CONF_H
#define POSTERN_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "lock.h"
#include "params.h"

#define PLAINTEXT_NEVER		0
#define PLAINTEXT_LOOPBACK	1	/* default: USER/PASS only on loopback */
#define PLAINTEXT_ALWAYS	2

#define PROTO_POP3		1
#define PROTO_POP2		2

/* Where users come from, tried in the order configured (userdb). */
#define USERDB_FILE		1	/* passwd_file */
#define USERDB_SYSTEM		2	/* getpwnam + getspnam (shadow) */
#define USERDB_PAM		3	/* PAM service "pop3" (make PAM=1) */
#define USERDB_MAX		3

/* rmcp_consent: what gives a user's consent to unauthenticated RMCP
 * polls (RFC 1339 p.4); a bit mask. */
#define RMCP_CONSENT_EXECBIT	1	/* owner-execute bit on the maildrop */
#define RMCP_CONSENT_LIST	2	/* named in rmcp_consent_users */
#define RMCP_CONSENT_EITHER	3
/* rmcp_ages: the RFC's obfuscated (0,1)/(1,0) replies, or real ages. */
#define RMCP_AGES_OBFUSCATED	0
#define RMCP_AGES_REAL		1
/* rmcp_consent_users: space-separated names, one config line. */
#define CONF_RMCP_USERS_MAX	2048

struct conf_listen {
	int	 proto;				/* PROTO_* */
	char	 host[PARAM_CONF_STR];		/* "127.0.0.1", "::", "*" */
	char	 port[16];
};

struct conf {
	char	 file[PARAM_PATH_MAX];		/* the file read, for messages */
	char	 hostname[PARAM_CONF_STR];	/* greeting; default gethostname */
	char	 pre_auth_user[PARAM_CONF_STR];	/* default "postern" */
	char	 chroot_dir[PARAM_PATH_MAX];	/* default "/var/empty" */
	char	 passwd_file[PARAM_PATH_MAX];	/* default SYSCONFDIR/postern.passwd */
	char	 maildrop[PARAM_PATH_MAX];	/* template, default /var/mail/%u */
	int	 timeout_auth;			/* seconds, default 180 */
	int	 timeout_trans;			/* seconds, default 600 */
	int	 auth_fail_delay_ms;		/* default 2000 */
	int	 auth_max_tries;		/* default 3 */
	int	 max_line;			/* default 1024 */
	int	 plaintext;			/* PLAINTEXT_*, default loopback */
	bool	 mboxrd;			/* default false (mboxo) */
	struct lock_conf lock;			/* lock_order, lock_timeout,
						   dotlock_stale */
	char	 pop2_folder_dir[PARAM_PATH_MAX];	/* POP2 FOLD names
						   resolve here; a maildrop
						   template (%u, ~/), default
						   ~/Mail */
	int	 pop2_timeout_session;		/* seconds after a POP2 login,
						   default 1800 */
	int	 log_level;			/* LOG_INFO; "debug" -> LOG_DEBUG */
	int	 syslog_facility;		/* LOG_MAIL */
	struct conf_listen listen[PARAM_LISTEN_MAX];
	size_t	 nlisten;			/* default one: pop3 *:110 */

	/* Accounts. */
	int	 userdb[USERDB_MAX];		/* USERDB_*, default passwd-file */
	size_t	 nuserdb;
	char	 nologin_shells[PARAM_CONF_STR * 2];	/* space-separated
						   absolute paths refused as
						   login shells (system and
						   PAM users) */
	char	 mail_group[PARAM_CONF_STR];	/* group the session keeps for
						   dotlocks in the spool;
						   "" = none; default mail */
	char	 state_dir[PARAM_PATH_MAX];	/* per-user state (journals):
						   <state_dir>/<user>/;
						   default LOCALSTATEDIR
						   /lib/postern */

	/* The standalone listener. */
	int	 max_sessions;			/* in all, default 200 */
	int	 max_sessions_per_addr;		/* per IPv4 address or IPv6
						   /64, default 10 */
	int	 max_conn_per_min;		/* new connections per address
						   per minute, default 60 */
	int	 auth_penalty_max_ms;		/* per-address growing delay
						   after failed logins, cap;
						   0 = off; default 15000 */
	char	 pid_file[PARAM_PATH_MAX];	/* daemon mode; default
						   /run/pop3d.pid */
	int	 shutdown_grace;		/* seconds sessions may finish
						   after SIGTERM, default 30 */

	/* rmcpd: RFC 1339 with design.md §6 (the rmcp_* keys). */
	int	 rmcp_enabled;			/* 0/1, default 0 */
	struct conf_listen rmcp_listen[PARAM_LISTEN_MAX];	/* proto 0 */
	size_t	 nrmcp_listen;			/* default *:50 [::]:50 */
	char	 rmcp_user[PARAM_CONF_STR];	/* runs as; default rmcpd */
	int	 rmcp_consent;			/* RMCP_CONSENT_*, default
						   exec-bit */
	char	 rmcp_consent_users[CONF_RMCP_USERS_MAX];	/* "" none */
	int	 rmcp_ages;			/* RMCP_AGES_*, default
						   obfuscated */
	int	 rmcp_auth;			/* 0/1, default 0 */
	char	 rmcp_secrets_file[PARAM_PATH_MAX];	/* default
						   SYSCONFDIR/rmcp.secrets */
	int	 rmcp_rate;			/* datagrams per minute per
						   source, default 30 */
	int	 rmcp_rate_burst;		/* default 10 */
	int	 rmcp_auth_fail_max;		/* failed authentications
						   before a block, default 5 */
	int	 rmcp_auth_fail_block;		/* seconds, default 900 */
	int	 rmcp_pending_lifetime;		/* seconds, default 120 */
	int	 rmcp_auth_lifetime;		/* seconds idle, default 900 */
	int	 rmcp_table_size;		/* entries per table, default
						   4096 */
};

/* The number of keys the parser knows (each documented in
 * etc/postern.conf and postern.conf(5)). */
size_t	conf_nkeys(void);

/* Fills c with the defaults. */
void	conf_default(struct conf *c);

/*
 * Reads file into c (defaults first).  Returns 0, or -1 with a message of
 * the form "FILE:LINE: what is wrong" in errstr_r.  A missing file is an
 * error unless missing_ok (then the defaults stand).
 */
int	conf_load(struct conf *c, const char *file, bool missing_ok,
	    char *errstr_r, size_t errlen);

/*
 * Parses one HOST:PORT (s[0, len)): HOST an IPv4 address, '*' or [IPv6],
 * PORT a number or a service name of svcproto ("tcp", "udp").  key names
 * the setting in messages, example is a good value ("*:110").  Returns 0,
 * or -1 with a message.
 */
int	conf_parse_hostport(const char *key, const char *s, size_t len,
	    const char *svcproto, const char *example, struct conf_listen *l,
	    char *errstr_r, size_t errlen);

/* Parses one "proto host:port" / "[v6]:port" listen value. */
int	conf_parse_listen(struct conf_listen *l, const char *value,
	    char *errstr_r, size_t errlen);

#endif
