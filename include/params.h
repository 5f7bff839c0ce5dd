/*
 * params.h: every limit and fixed size in postern, with the rule that
 * justifies it.  Runtime-configurable limits take their defaults from here.
 */
#ifndef POSTERN_PARAMS_H
#define POSTERN_PARAMS_H

#include <limits.h>
#include <stddef.h>

/* RFC 2449 §4: commands up to 255 octets.  Be generous but bounded. */
#define PARAM_LINE_DEFAULT	1024
#define PARAM_LINE_MIN		256
#define PARAM_LINE_MAX		8192

/* RFC 1939 §3: arguments up to 40 characters; user names we cap at 64. */
#define PARAM_USER_MAX		64
/* Passwords: long enough for any password manager, bounded. */
#define PARAM_PASS_MAX		511	/* libxcrypt: CRYPT_MAX_PASSPHRASE_SIZE - 1 */

/* RFC 1939 §3: responses up to 512 octets including CRLF. */
#define PARAM_RESP_MAX		512

/* RFC 1939 §3: autologout timer at least 10 minutes after login. */
#define PARAM_TIMEOUT_TRANS	600
#define PARAM_TIMEOUT_AUTH	180

/*
 * The whole AUTHORIZATION state, not just one line (timeout_auth): a
 * client sending CAPA every few seconds must not hold a slot for ever.
 * A real client (fetchmail, getmail, Thunderbird) logs in within a
 * second with CAPA, perhaps STLS and CAPA again, USER and PASS: at most
 * ten lines even with auth_max_tries failures.  Dovecot's pop3-login
 * closed after 10 bad commands for years (3 since 2.3).
 */
#define PARAM_TIMEOUT_AUTH_TOTAL	300	/* seconds */
#define PARAM_AUTH_COMMANDS	50
#define PARAM_AUTH_ERRORS	10

/*
 * What a session may spend on its message table (about 190 octets a
 * message): 512 MiB holds about 2.8 million messages, far more than any
 * mailbox a POP client can use, and a box of tiny messages delivered by
 * anyone on the Internet cannot make one login take the host's memory.
 */
#define PARAM_SESSION_MEMORY	((size_t)512 * 1024 * 1024)
#define PARAM_SESSION_MEMORY_MIN	1024L
/* 1 TiB where long is 64 bits; the largest long elsewhere. */
#define PARAM_SESSION_MEMORY_MAX	(LONG_MAX > 0x7fffffffL ? \
					 (long)(1LL << 40) : LONG_MAX)

/* Failed logins: per-connection tries, delay after each failure (ms). */
#define PARAM_AUTH_TRIES	3
#define PARAM_AUTH_DELAY_MS	2000

/* Output buffer: RETR streams in chunks of this size. */
#define PARAM_OBUF_SIZE		(64 * 1024)
/* pread() chunk when streaming a message from the maildrop. */
#define PARAM_READ_CHUNK	(128 * 1024)

/* RFC 1939 §7: a unique-id is 1-70 characters in 0x21-0x7E. */
#define PARAM_UIDL_MAX		70

/* Mbox lock: total wait before -ERR [IN-USE], stale dotlock age. */
#define PARAM_LOCK_TIMEOUT	30
#define PARAM_DOTLOCK_STALE	300

/* The credentials message from the pre-auth child: user, pass, pipelined
 * input.  The privileged side bounds every length it reads. */
#define PARAM_HANDOFF_MAX	(PARAM_USER_MAX + PARAM_PASS_MAX + \
				 2 * PARAM_LINE_MAX + 64)

#define PARAM_PATH_MAX		1024
#define PARAM_CONF_STR		256
#define PARAM_LISTEN_MAX	16

#endif
