/*
 * session.h: one client connection, from the greeting to the end line in
 * the log.  The session master (root when started as root) forks the
 * pre-auth child, checks the credentials it hands over, drops to the mail
 * user, opens the maildrop and forks the session process, which serves
 * TRANSACTION and UPDATE; the master keeps the maildrop, not the client
 * socket, and recovers the maildrop at once if the session process dies
 * abnormally (design.md §1).
 */
#ifndef POSTERN_SESSION_H
#define POSTERN_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"
#include "conf.h"
#include "iobuf.h"
#include "maildrop.h"
#include "privsep.h"

#define SESSION_ID_LEN	8

struct session {
	const struct conf		*conf;
	const struct privsep_preauth	*pa;
	struct iobuf	 io;
	int		 rfd, wfd;
	int		 proto;		/* PROTO_POP3 / PROTO_POP2 */
	unsigned int	 state;		/* POP3_ST_* or POP2_ST_* */
	char		 id[SESSION_ID_LEN + 1];
	char		 addr[64];	/* printable peer address */
	bool		 local;		/* loopback or AF_UNIX */
	bool		 plaintext_ok;
	struct timespec	 start;
	/* AUTHORIZATION (pre-auth child) */
	int		 psfd;		/* the hand-off socket */
	char		 user[PARAM_USER_MAX + 1];
	int		 tries;
	int		 penalty_ms;	/* current per-address penalty */
	uint8_t		 family;	/* of the peer, for reports */
	uint8_t		 rawaddr[16];
	/* TRANSACTION (session process, as the mail user) */
	int		 ctlfd;		/* to the master (session_selecting) */
	struct auth_user au;
	struct maildrop	 md;
	uint64_t	 last;		/* RFC 1081 LAST */
	uint64_t	 nretr, oretr;	/* messages and octets retrieved */
	uint64_t	 ndele, odele;	/* deleted (committed or not) */
	const char	*end;		/* how the session ended */
};

/*
 * Set by the standalone listener in a forked child before session_run():
 * report_fd is a datagram socket back to the listener (-1: none), on which
 * the session reports each login result for its client address, and
 * penalty_ms is the per-address auth-failure penalty already earned by
 * that address (Dovecot-style growing delay).
 */
void	session_set_listener(int report_fd, int penalty_ms);

/* What a session tells the listener about its client address. */
struct session_report {
	uint8_t	 ok;		/* 1 login succeeded, 0 failed */
	uint8_t	 family;	/* AF_INET / AF_INET6 */
	uint8_t	 addr[16];	/* the address, network order */
};

/*
 * Serves one connection on rfd/wfd (the same socket for a TCP client).
 * pa says who the pre-auth child becomes.  Returns the process's exit
 * status; the caller exits with it.
 */
int	session_run(const struct conf *c, const struct privsep_preauth *pa,
	    int rfd, int wfd);
/* The same for a listener of protocol proto (PROTO_POP3, PROTO_POP2). */
int	session_run_proto(const struct conf *c,
	    const struct privsep_preauth *pa, int proto, int rfd, int wfd);

/*
 * Pre-auth child: hands cr (user and password filled in) to the master
 * with the client's unread pipelined input (style.md 4), after flushing
 * everything owed to the client; waits for the verdict and its reply text.
 * Wipes cr.  Returns PRIVSEP_OK / PRIVSEP_FAIL / PRIVSEP_CLOSE, or -1 if
 * the master is gone.
 */
int	session_handoff(struct session *s, struct privsep_creds *cr,
	    char *text_r, size_t textlen);

/*
 * Session process: tells the master that the mailbox it is about to open
 * (POP2's FOLD) is path (a folder, or INBOX: opened as maildrop_open's
 * folder says), after it has closed the one it had, and waits until the
 * master has let go of the mailbox it held (and with it the session
 * lock).  If this session process then dies, the master recovers path
 * instead of the login's maildrop.  Returns 0, or -1 if there is no
 * master any more (the session goes on; a crash would be recovered at
 * the next login).
 */
int	session_selecting(struct session *s, const char *path, bool folder);

/* Shared by the protocol engines. */
void	session_reply(struct session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Flushes output unless more pipelined commands are already buffered. */
int	session_flush_if_idle(struct session *s);

/* Elapsed seconds since the session began. */
double	session_elapsed(const struct session *s);

#endif
