/*
 * rmcp.h: the Remote Mail Checking Protocol (RFC 1339) with the decisions
 * of design.md §6.  Three layers:
 *
 *   - the codec (rmcp.c): the four datagrams of protocol-notes §1.2, the
 *     ages of a reply and the client's reading of one; pure functions;
 *   - the responder's state (rmcp.c): the pending and authenticated
 *     tables, the per-source rate limit and failure count, and the state
 *     machine that says what to do with a datagram; pure, no I/O, the
 *     time is a parameter;
 *   - the responder (rmcpd.c): users, secrets, the stat of a maildrop,
 *     the sockets and the loop.  It runs unprivileged after binding.
 *
 * The client (rmcp_main.c) uses the codec only.
 */
#ifndef POSTERN_RMCP_H
#define POSTERN_RMCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "params.h"

/* RFC 1339 p.1: UDP port 50; clients send from an unreserved port. */
#define RMCP_PORT		50
#define RMCP_PRIV_PORT		1024	/* D-R3: sources below are dropped */
#define RMCP_WORD		4	/* one 32-bit word, big-endian */
#define RMCP_REPLY_LEN		12	/* three words (p.2) */
/* D-R2: a word and at least one octet; at most 512 octets. */
#define RMCP_DGRAM_MIN		5
#define RMCP_DGRAM_MAX		512
/* D-R1: user names of 1-64 octets (the name limit of every protocol). */
#define RMCP_NAME_MAX		PARAM_USER_MAX
#define RMCP_SECRET_MAX		(RMCP_DGRAM_MAX - RMCP_WORD)
/* p.3 bit 0: the cleartext password, the only method offered. */
#define RMCP_AUTH_CLEARTEXT	0x00000001u
/* Table sizes (D-R11), and the default of rmcp_table_size. */
#define RMCP_TABLE_MIN		16
#define RMCP_TABLE_DEFAULT	4096
#define RMCP_TABLE_MAX		262144
/* crypt(3) checks per second over all sources: spoofed sources can make
 * pending entries at will, so this bounds the CPU they can burn. */
#define RMCP_VERIFY_PER_SEC	20

/* --- Codec ------------------------------------------------------------ */

/* A client's reading of a reply (the client's exit status, too). */
#define RMCP_NEW		0
#define RMCP_OLD		1
#define RMCP_NONE		2
#define RMCP_AUTHREQ		3

/* What a datagram to the server is (protocol-notes §1.2 A and D). */
#define RMCP_REQ_MALFORMED	0
#define RMCP_REQ_POLL		1
#define RMCP_REQ_AUTH		2

struct rmcp_req {
	int		 kind;		/* RMCP_REQ_* */
	uint32_t	 word0;
	/* POLL: the user name, trailing NUL/CR/LF stripped.  name_ok is
	 * false when it breaks D-R1 (too long, not printable, '/', leading
	 * '.' or '-'): such a user cannot exist and reads as unknown. */
	char		 name[RMCP_NAME_MAX + 1];
	bool		 name_ok;
	/* AUTH: the authentication data, pointing into the datagram. */
	const uint8_t	*data;
	size_t		 datalen;
};

/*
 * Parses a datagram sent to the server.  Returns r->kind: MALFORMED for
 * fewer than 5 or more than 512 octets, or a poll whose name is empty
 * after stripping; POLL when word 0 is zero; AUTH otherwise (whether an
 * authentication is pending is the state machine's business).
 */
int	rmcp_parse_request(const void *buf, size_t len, struct rmcp_req *r);

/* true if name[0, len) is a D-R1 name: 1-64 octets 0x21-0x7e, no '/',
 * not starting with '.' or '-'. */
bool	rmcp_name_ok(const char *name, size_t len);

/* Writes the 12-octet reply (w0, a, r) big-endian into out. */
void	rmcp_put_reply(uint8_t out[RMCP_REPLY_LEN], uint32_t w0, uint32_t a,
	    uint32_t r);

/* Reads a reply: 0 with the words, or -1 unless len is exactly 12. */
int	rmcp_get_reply(const void *buf, size_t len, uint32_t *w0_r,
	    uint32_t *a_r, uint32_t *r_r);

/*
 * The client's reading of (w0, a, r), RFC 1339 p.2: AUTHREQ if w0 != 0;
 * NONE if a and r are 0; NEW if r >= a (so the tie, which the RFC makes
 * both, reads as new); OLD otherwise.
 */
int	rmcp_reply_status(uint32_t w0, uint32_t a, uint32_t r);

/* "new", "old", "none", "authreq". */
const char *rmcp_status_name(int status);

/* Builds a poll for name (1-64 octets) into buf.  Returns its length,
 * or 0 if name is empty or too long or buf too small. */
size_t	rmcp_put_poll(uint8_t *buf, size_t len, const char *name);

/* Builds an authentication reply (mask, then data[0, datalen)).  Returns
 * its length, or 0 if it would exceed 512 octets or len. */
size_t	rmcp_put_auth(uint8_t *buf, size_t len, uint32_t mask,
	    const void *data, size_t datalen);

/*
 * The ages of a status reply for a maildrop last appended at mtime and
 * last read at atime.  "New" means mtime >= atime (nanoseconds: a file
 * written in the same clock tick as it was read or created has new mail).
 * real: A = max(0, now - mtime) + 1 and R = max(0, now - atime) + 1 in
 * seconds (future times clamped: clock skew), saturating, with a tie
 * broken by one second towards the nanosecond verdict so that the reply
 * is never both new and old; otherwise the RFC's obfuscated (0, 1) for
 * new and (1, 0) for old (p.3).
 */
void	rmcp_ages(const struct timespec *now, const struct timespec *mtime,
	    const struct timespec *atime, bool real, uint32_t *a_r,
	    uint32_t *r_r);

/* --- Addresses and tables (the responder's state) --------------------- */

struct sockaddr;

/* A source: IPv4 (an IPv4-mapped IPv6 address counts as IPv4) or IPv6. */
struct rmcp_addr {
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 addr[16];	/* IPv4 in the first 4 */
	uint16_t	 port;		/* host order */
};

/* Fills a from an AF_INET or AF_INET6 socket address.  Returns 0 / -1. */
int	rmcp_addr_from_sa(struct rmcp_addr *a, const struct sockaddr *sa,
	    size_t salen);

/* The rate-limit key of a: the IPv4 address or the IPv6 /64, port 0. */
void	rmcp_addr_prefix(const struct rmcp_addr *a, struct rmcp_addr *p_r);

/* "192.0.2.1:1234" or "[2001:db8::1]:1234" into buf. */
char	*rmcp_addr_str(const struct rmcp_addr *a, char *buf, size_t len);

#define RMCP_ADDR_STRLEN	64

/* One entry of a table.  Tables are LRU lists: every touch sets t and
 * moves the entry to the front, so the oldest t is at the tail. */
struct rmcp_entry {
	struct rmcp_addr key;
	int64_t		 t;		/* last touch, ms, monotonic clock */
	uint32_t	 prev, next;	/* LRU list */
	uint32_t	 hnext;		/* hash chain */
	bool		 used;
	/* pending and authenticated: the user name */
	bool		 name_ok;
	char		 name[RMCP_NAME_MAX + 1];
	/* rate: millitokens; failures: the count */
	int64_t		 tokens;
	uint32_t	 count;
};

struct rmcp_table {
	struct rmcp_entry *e;
	uint32_t	*bucket;
	uint32_t	 cap, nbucket, n;
	uint32_t	 head, tail, freelist;
	uint64_t	 k0, k1;	/* hash key: no chosen collisions */
	uint64_t	 evicted;	/* entries pushed out while full */
};

/* Allocates a table of cap entries (RMCP_TABLE_MIN..RMCP_TABLE_MAX),
 * hashed with the 16-octet seed.  Returns 0 / -1 (memory). */
int	rmcp_table_init(struct rmcp_table *t, size_t cap,
	    const uint8_t seed[16]);
void	rmcp_table_free(struct rmcp_table *t);

/* The entry of key k, or NULL.  Does not touch it. */
struct rmcp_entry *rmcp_table_find(struct rmcp_table *t,
	    const struct rmcp_addr *k);

/* The entry of key k, made (zeroed, *isnew_r true) if missing; a full
 * table first drops its least recently touched entry.  The entry is
 * touched at now.  Never NULL. */
struct rmcp_entry *rmcp_table_get(struct rmcp_table *t,
	    const struct rmcp_addr *k, int64_t now, bool *isnew_r);

void	rmcp_table_touch(struct rmcp_table *t, struct rmcp_entry *e,
	    int64_t now);
void	rmcp_table_remove(struct rmcp_table *t, struct rmcp_entry *e);

/* Drops every entry not touched for life ms (t + life <= now).  Returns
 * how many. */
size_t	rmcp_table_expire(struct rmcp_table *t, int64_t now, int64_t life);

/* --- The state machine -------------------------------------------------- */

struct rmcp_limits {
	bool		 auth;		/* authenticated mode */
	int64_t		 pending_ms;	/* pending lifetime (D-R11: 120 s) */
	int64_t		 authed_ms;	/* idle lifetime (D-R11: 15 min) */
	uint32_t	 rate;		/* datagrams per minute per source */
	uint32_t	 burst;
	uint32_t	 fail_max;	/* failures before a block */
	int64_t		 fail_block_ms;
	size_t		 table_size;
};

struct rmcp_stats {
	uint64_t	 datagrams, polls, status, authreq, authok, authfail;
	uint64_t	 malformed, privport, rate, blocked, nopending, busy;
};

struct rmcp_state {
	struct rmcp_limits lim;
	struct rmcp_table pending, authed, rate, fails;
	int64_t		 verify_tokens, verify_t;
	struct rmcp_stats stats;
};

/* What to do with a datagram. */
#define RMCP_ACT_DROP		0	/* nothing: see why */
#define RMCP_ACT_STATUS		1	/* the status of name */
#define RMCP_ACT_AUTHREQ	2	/* (mask, 0, 0) */
#define RMCP_ACT_VERIFY		3	/* check data against name's secret,
					   then rmcp_verified() */
#define RMCP_ACT_ZERO		4	/* (0, 0, 0): a failed authentication */

#define RMCP_WHY_NONE		0
#define RMCP_WHY_MALFORMED	1
#define RMCP_WHY_PRIVPORT	2
#define RMCP_WHY_RATE		3
#define RMCP_WHY_BLOCKED	4	/* too many failed authentications */
#define RMCP_WHY_NOPENDING	5	/* auth reply, nothing pending */
#define RMCP_WHY_BUSY		6	/* the crypt(3) budget is spent */
#define RMCP_WHY_BADMASK	7	/* ZERO: not the one offered bit */
#define RMCP_WHY_BADSECRET	8	/* ZERO: wrong secret */

struct rmcp_action {
	int		 act;		/* RMCP_ACT_* */
	int		 why;		/* RMCP_WHY_* */
	bool		 name_ok;	/* STATUS, VERIFY */
	char		 name[RMCP_NAME_MAX + 1];
	const uint8_t	*data;		/* VERIFY: into the datagram */
	size_t		 datalen;
	uint32_t	 failures;	/* ZERO: the source's count */
};

/* Sets up the tables.  seed keys their hashes (random in the daemon,
 * fixed in tests).  Returns 0 / -1 (memory). */
int	rmcp_state_init(struct rmcp_state *s, const struct rmcp_limits *lim,
	    const uint8_t seed[16]);
void	rmcp_state_free(struct rmcp_state *s);

/*
 * Decides what to do with datagram buf[0, len) from src at now (ms,
 * monotonic).  In order: a source port below 1024 is dropped; each
 * datagram costs the source (IPv4 address, IPv6 /64) a token; a source
 * blocked after fail_max failures is dropped for fail_block_ms; malformed
 * datagrams are dropped.  Without auth a poll gets STATUS and anything
 * else is dropped.  With auth (protocol-notes §1.5) a poll from an
 * authenticated (address, port) for its user gets STATUS, any other poll
 * gets AUTHREQ and a pending entry (a different name removes the
 * authentication); an auth reply with a live pending entry gets VERIFY
 * (or ZERO if the mask is not the one offered bit, or DROP when the
 * crypt budget is spent), without one DROP.  Returns a->act.
 */
int	rmcp_input(struct rmcp_state *s, const struct rmcp_addr *src,
	    const void *buf, size_t len, int64_t now, struct rmcp_action *a);

/*
 * The outcome of a VERIFY: ok makes (src, name) authenticated and gives
 * STATUS (D-R8, at once); a failure counts against the source and gives
 * ZERO (D-R9).  Returns a->act.
 */
int	rmcp_verified(struct rmcp_state *s, const struct rmcp_addr *src,
	    const char *name, bool name_ok, bool ok, int64_t now,
	    struct rmcp_action *a);

/* --- The responder's users and secrets (rmcpd_db.c) ------------------- */

struct conf;
struct rmcpd_user;
struct rmcpd_secret;

struct rmcpd_db {
	struct rmcpd_user	*users;		/* sorted, one per name */
	size_t			 nusers;
	struct rmcpd_secret	*secrets;	/* sorted, one per name */
	size_t			 nsecrets;
};

/*
 * Reads the users (users: the databases of c->userdb in order, the first
 * that knows a name deciding: the passwd-file, and the system accounts
 * that getpwent lists) and the secrets file (secrets) into db.  Each
 * replaces what db held only when it was read whole; on any failure the
 * rest of db stays.  Returns 0, or -1 with the first reason.
 */
int	rmcpd_db_load(struct rmcpd_db *db, const struct conf *c, bool users,
	    bool secrets, char *errstr_r, size_t errlen);
void	rmcpd_db_free(struct rmcpd_db *db);

/*
 * The maildrop path of name (a valid user name), as pop3d finds it: the
 * passwd-file's fifth field or c->maildrop expanded with the home; uid 0,
 * locked passwd-file lines and c->nologin_shells are no users.  One
 * binary search in memory, the same for every name: no file, no NSS.
 * Returns 1 with the path; 0 for no usable user, with the maildrop path
 * of the user next to name in the table in buf, or "" (the decoy a poll
 * for an unknown name stats, so that it costs what a known one does).
 */
int	rmcpd_db_lookup(const struct rmcpd_db *db, const char *name,
	    char *buf, size_t len);

/*
 * The loader's hand-off of db to the confined responder over the stream
 * socket fd (complete false: a reload read not every file).  Returns 0,
 * or -1 (logged, or the responder is gone).
 */
int	rmcpd_db_send(int fd, const struct rmcpd_db *db, bool complete);
/* The responder's side: a new db into *db_r (the caller frees the old
 * one), names checked and every length bounded.  Returns 0, or -1 (the
 * loader is gone, or a malformed hand-off: logged). */
int	rmcpd_db_recv(int fd, struct rmcpd_db *db_r, bool *complete_r);

/* name's RMCP secret (a crypt hash), or NULL. */
const char *rmcpd_db_secret(const struct rmcpd_db *db, const char *name);


/* --- The responder (rmcpd.c) ------------------------------------------ */

struct rmcpd;

/*
 * Makes a responder for the configuration: loads the passwd-file (when
 * userdb names it) and, in authenticated mode, the secrets file; both are
 * read now, as root, before privileges are dropped.  Returns NULL with a
 * reason in errstr_r.  c must outlive it.
 */
struct rmcpd *rmcpd_new(const struct conf *c, char *errstr_r,
	    size_t errlen);
void	rmcpd_free(struct rmcpd *d);

/* SIGHUP, in the loader: reads the users and the secrets file again (on
 * any error keeping the part it had, logged) and, with fd != -1, hands
 * the tables to the responder (rmcpd_db_send), which logs "reloaded".
 * Returns 0, or -1 when a file could not be read or the hand-off
 * failed. */
int	rmcpd_reload(struct rmcpd *d, int fd);

/* Adds a bound UDP socket (bound here, by inetd or by systemd); turns on
 * the destination-address information.  Returns 0 / -1 with a reason. */
int	rmcpd_add_socket(struct rmcpd *d, int fd, char *errstr_r,
	    size_t errlen);

/* Binds every rmcp_listen address.  Returns 0 / -1 with a reason. */
int	rmcpd_bind(struct rmcpd *d, char *errstr_r, size_t errlen);

/*
 * Answers a datagram that arrived from src: returns 1 with the reply in
 * reply, or 0 when nothing is to be sent.  The sockets' loop calls it;
 * tests call it directly.
 */
int	rmcpd_answer(struct rmcpd *d, const struct rmcp_addr *src,
	    const void *buf, size_t len, uint8_t reply[RMCP_REPLY_LEN]);

/*
 * The status words (A, R) of user name (name_ok as from the codec) for a
 * poll, by a stat of the maildrop and never an open: (0, 0) for an
 * unknown user, a missing, empty or not regular file, and, when consent
 * is needed, a maildrop without it.  *why_r says which, for the debug
 * log.
 */
void	rmcpd_status(struct rmcpd *d, const char *name, bool name_ok,
	    bool consent_needed, uint32_t *a_r, uint32_t *r_r,
	    const char **why_r);

/*
 * The responder: serves the sockets until SIGTERM or SIGINT (0), or,
 * with idle_exit > 0, until no datagram came for idle_exit seconds (inetd
 * "wait").  SIGHUP is ignored (the loader handles it); a hand-off on
 * ctlfd (-1: none) replaces the tables, and its end (the loader is gone)
 * ends the loop (1).  Never returns because of a peer.
 */
int	rmcpd_run(struct rmcpd *d, int idle_exit, int ctlfd);

/* The sockets' descriptors (at most max) into fds_r; returns how many. */
size_t	rmcpd_socket_fds(const struct rmcpd *d, int *fds_r, size_t max);
/* The loader holds no network socket: closes them all. */
void	rmcpd_close_sockets(struct rmcpd *d);

/* Logs the counters (at exit). */
void	rmcpd_log_stats(struct rmcpd *d);

#endif
