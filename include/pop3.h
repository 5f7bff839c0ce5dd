/*
 * pop3.h: the POP3 engines (RFC 1939, RFC 2449, RFC 3206).  pop3_auth.c
 * speaks AUTHORIZATION in the pre-auth child; pop3_trans.c speaks
 * TRANSACTION and UPDATE in the session process as the mail user.
 */
#ifndef POSTERN_POP3_H
#define POSTERN_POP3_H

#include "session.h"

#define POP3_ST_AUTH		0x01	/* AUTHORIZATION, no USER yet */
#define POP3_ST_AUTH_USER	0x02	/* AUTHORIZATION after USER */
#define POP3_ST_TRANS		0x04	/* TRANSACTION */
#define POP3_ST_ANY_AUTH	(POP3_ST_AUTH | POP3_ST_AUTH_USER)
#define POP3_ST_ANY		(POP3_ST_ANY_AUTH | POP3_ST_TRANS)

#define POP3_IMPLEMENTATION	"postern-0.1"

/* Pre-auth child: greeting, AUTHORIZATION until credentials are handed
 * off and accepted, or the client quits, times out or fails too often.
 * Never returns. */
void	pop3_auth_run(struct session *s) __attribute__((noreturn));

/* Session master after the hand-off: TRANSACTION until QUIT (then
 * UPDATE), timeout or disconnect.  Returns the exit status. */
int	pop3_trans_run(struct session *s);

/* The CAPA response (RFC 2449 §5), for either state. */
void	pop3_capa(struct session *s);

#endif
