/*
 * listener.h: the standalone listener (pop3d as a daemon, pop3d -F, and
 * systemd Accept=no): takes its sockets from systemd or binds the
 * config's listen lines, enforces the per-address limits before it forks,
 * forks one session master per connection, reaps children, collects the
 * sessions' login reports and handles SIGTERM, SIGHUP and SIGUSR1.  Runs
 * as root (or the invoking user); it never parses a byte a client sends.
 * The per-address bookkeeping (listener_tab.c) is pure and unit-tested.
 */
#ifndef POSTERN_LISTENER_H
#define POSTERN_LISTENER_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "privsep.h"

/* ---- the process (listener.c) ---- */

struct listener_opts {
	bool	 daemon;	/* detached: pid file, syslog */
	bool	 debug;		/* -d: the level stays debug across reloads */
	bool	 conf_missing_ok; /* the default file may be absent */
};

/*
 * Checks what must hold before any session is served, in every mode
 * (pop3d -t and -i too): when userdb includes passwd-file, the passwd_file
 * must not be readable or writable by group or others.  A missing file is
 * left to the login (auth.c says so).  Returns 0, or -1 with a reason that
 * says how to fix it.
 */
int	listener_check_conf(const struct conf *c, char *errstr_r,
	    size_t errlen);

/*
 * Takes the listening sockets: systemd's (LISTEN_FDS for this process,
 * mapped to protocols by LISTEN_FDNAMES or by address) or else binds every
 * listen line.  Unsets LISTEN_* either way.  Returns 0, or -1 with a
 * reason.
 */
int	listener_open(const struct conf *c, char *errstr_r, size_t errlen);

/*
 * Accepts until SIGTERM (or SIGINT), then lets sessions finish for
 * c->shutdown_grace seconds, ends the rest and returns the exit status
 * (0).  Never exits because of a peer or a failed accept or fork.  c and
 * pa are copied; SIGHUP re-reads c->file into a new copy.
 */
int	listener_run(const struct conf *c, const struct privsep_preauth *pa,
	    const struct listener_opts *o);

/* ---- pure bookkeeping (listener_tab.c): no sockets, no clock ---- */

/* Seconds without a failed login after which an address's count is
 * forgotten; without any activity, after which its entry is dropped. */
#define LISTENER_FAIL_FORGET	(15 * 60)
/* The connection-rate window (max_conn_per_min). */
#define LISTENER_RATE_WINDOW	60
/* At most one refusal log line per address per this many seconds. */
#define LISTENER_LOG_INTERVAL	10
/* The first penalty after one failure, doubled with each further one. */
#define LISTENER_PENALTY_BASE	250
/* Addresses remembered at most (each entry is under 100 octets). */
#define LISTENER_PEERS_MAX	65536

/*
 * A client address as the limits see it: an IPv4 address, or the /64 of
 * an IPv6 address (one customer's LAN); IPv4-mapped IPv6 counts as IPv4.
 * family 0 groups everything else (AF_UNIX listeners).
 */
struct listener_addr {
	uint8_t	 family;	/* AF_INET, AF_INET6 or 0 */
	uint8_t	 addr[16];	/* network order; unused octets zero */
};

/* From an accepted peer's sockaddr (any family, any length). */
void	listener_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
	    struct listener_addr *a_r);
/* From a session report's family and 16 octets (an IPv4 address in the
 * first 4).  Unknown families give family 0. */
void	listener_addr_from_raw(int family, const uint8_t addr[16],
	    struct listener_addr *a_r);
bool	listener_addr_eq(const struct listener_addr *a,
	    const struct listener_addr *b);
/* Printable form ("192.0.2.1", "2001:db8:1:2::/64", "local"). */
void	listener_addr_str(const struct listener_addr *a, char *buf,
	    size_t len);

/*
 * The listen line a bound socket serves (systemd sockets without a
 * usable name): the index of the line with the same port and address,
 * else of a "*" line with that port (IPv4-mapped IPv6 compares as IPv4);
 * -1 if none matches.
 */
int	listener_match_listen(const struct conf *c, const struct sockaddr *sa,
	    socklen_t len);

/* SipHash-2-4 of data under a 16-octet secret key (the table's hash:
 * clients pick their addresses, so the bucket must be unpredictable). */
uint64_t listener_siphash(const uint8_t key[16], const void *data,
	    size_t len);

/* Connections of one address in a sliding 60-second window, estimated
 * from the current and the previous fixed window. */
struct listener_rate {
	int64_t		 start;	/* of the current window; 0 = none yet */
	uint32_t	 cur, prev;
};

/* true if one more connection at now keeps the estimate within max;
 * counts nothing. */
bool	listener_rate_ok(struct listener_rate *r, int64_t now, int max);
/* Counts one connection at now. */
void	listener_rate_add(struct listener_rate *r, int64_t now);

/* 0 without failures (or max_ms 0), else min(max_ms, 250 * 2^(n-1)). */
int	listener_penalty_ms(unsigned int failures, int max_ms);

/* One log line per interval; the others are counted. */
struct listener_throttle {
	int64_t		 last;
	uint32_t	 suppressed;
	bool		 used;
};

/* true: log now, with *suppressed_r lines suppressed since the last one;
 * false: counted, stay quiet. */
bool	listener_throttle(struct listener_throttle *t, int64_t now,
	    int64_t interval, uint32_t *suppressed_r);

#define LISTENER_NIL	UINT32_MAX

struct listener_peer {
	struct listener_addr	 addr;
	uint32_t		 next;		/* hash chain, or free list */
	uint32_t		 lru_prev, lru_next; /* idle list */
	uint32_t		 sessions;	/* alive now */
	uint32_t		 failures;	/* failed logins (decaying) */
	int64_t			 last_fail;
	int64_t			 touched;	/* last accept or report */
	struct listener_rate	 rate;
	struct listener_throttle refusals;
	bool			 in_use;
};

struct listener_child {
	pid_t		 pid;
	uint32_t	 peer;
	uint32_t	 next;			/* hash chain, or free list */
};

/*
 * The listener's memory of addresses and children.  Peers live in a
 * growing array (indexes stay valid, pointers do not survive the next
 * listener_tab_get or listener_tab_admit), hashed by SipHash.  A peer with
 * live sessions is never evicted; idle ones sit on a list by last use,
 * so eviction when full and expiry are O(1) per entry.
 */
struct listener_tab {
	uint8_t			 key[16];
	size_t			 max;		/* peers at most */
	uint32_t		*buckets;
	size_t			 nbuckets;	/* a power of two */
	struct listener_peer	*peers;
	size_t			 npeers;	/* slots ever used */
	size_t			 peers_cap;	/* slots allocated */
	size_t			 count;		/* peers in use */
	uint32_t		 free_peer;
	uint32_t		 lru_head, lru_tail; /* head: most recent */
	size_t			 active;	/* sessions alive, in all */
	uint32_t		*cbuckets;
	size_t			 ncbuckets;
	struct listener_child	*children;
	size_t			 nchildren_slots;
	size_t			 children_cap;
	uint32_t		 free_child;
	size_t			 nchildren;
	uint64_t		 evicted;	/* peers dropped while full */
};

/* max peers (0: LISTENER_PEERS_MAX); key: the hash secret.  0 / -1. */
int	listener_tab_init(struct listener_tab *t, size_t max,
	    const uint8_t key[16]);
void	listener_tab_free(struct listener_tab *t);

/* The peer of a, or LISTENER_NIL. */
uint32_t listener_tab_find(const struct listener_tab *t,
	    const struct listener_addr *a);
/* The peer of a, made (evicting the least recently used idle peer when
 * full) if needed; LISTENER_NIL when full of busy peers or out of
 * memory.  Marks it used at now. */
uint32_t listener_tab_get(struct listener_tab *t,
	    const struct listener_addr *a, int64_t now);
struct listener_peer *listener_tab_peer(struct listener_tab *t, uint32_t i);

struct listener_limits {
	int	 max_sessions;		/* in all */
	int	 max_sessions_per_addr;
	int	 max_conn_per_min;
};

#define LISTENER_ADMIT		0
#define LISTENER_BUSY		1	/* max_sessions, or no memory */
#define LISTENER_PER_ADDR	2	/* max_sessions_per_addr */
#define LISTENER_RATE		3	/* max_conn_per_min */

/*
 * Decides on a new connection from a at now.  LISTENER_ADMIT counts it
 * (one session more for the address and in all, one connection in the
 * rate window) and sets *peer_r; the caller then forks and calls
 * listener_tab_child_add, or listener_tab_release if the fork failed.
 * A refusal sets *peer_r to the address's peer when it has one (for the
 * log throttle), else LISTENER_NIL, and counts nothing.
 */
int	listener_tab_admit(struct listener_tab *t,
	    const struct listener_addr *a, int64_t now,
	    const struct listener_limits *lim, uint32_t *peer_r);
/* Undoes an admission's session count (no child was made). */
void	listener_tab_release(struct listener_tab *t, uint32_t peer,
	    int64_t now);

/* Makes room for one child (before fork, so that adding cannot fail).
 * 0 / -1. */
int	listener_tab_child_reserve(struct listener_tab *t);
/* Records child pid of peer (after listener_tab_child_reserve). */
void	listener_tab_child_add(struct listener_tab *t, pid_t pid,
	    uint32_t peer);
/* The peer of child pid, or LISTENER_NIL if pid is not ours. */
uint32_t listener_tab_child_peer(const struct listener_tab *t, pid_t pid);
/* Forgets a reaped child and its session; false if pid was not ours. */
bool	listener_tab_child_remove(struct listener_tab *t, pid_t pid,
	    int64_t now);
/* Calls fn for every child (shutdown). */
void	listener_tab_children(const struct listener_tab *t,
	    void (*fn)(pid_t, void *), void *arg);

/* Failed logins of a peer at now (0 once forgotten). */
unsigned int listener_peer_failures(const struct listener_peer *p,
	    int64_t now);
/* A login result for peer: a success forgets the failures, a failure
 * counts one more. */
void	listener_tab_report(struct listener_tab *t, uint32_t peer, bool ok,
	    int64_t now);

/* Drops idle peers unused for LISTENER_FAIL_FORGET seconds; returns how
 * many. */
size_t	listener_tab_expire(struct listener_tab *t, int64_t now);
/* Peers remembered, and those with failures still counted (O(n): for
 * SIGUSR1 only). */
void	listener_tab_stats(const struct listener_tab *t, int64_t now,
	    size_t *peers_r, size_t *penalised_r);

#endif
