/*
 * msgio.h: conversion of a stored message to its wire form, block by block:
 * hidden headers dropped, one trailing CR stripped per line, LF -> CRLF,
 * optional mboxrd unescaping, POP3 dot-stuffing, TOP line limits.
 * Pure: the caller feeds chunks and drains the output to its writer.
 * Runs in the session process as the mail user.
 */
#ifndef POSTERN_MSGIO_H
#define POSTERN_MSGIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Partial line start kept across chunks (>= MBOX_HIDDEN_PREFIX). */
#define MSGIO_CARRY	16
/* Output collected before it is handed to the sink. */
#define MSGIO_OBUF	(16 * 1024)

/* Output sink: called with converted bytes; returns 0, or -1 to abort. */
typedef int	(*msgio_sink)(void *arg, const char *buf, size_t len);

struct msgio {
	/* settings */
	bool		 dotstuff;	/* POP3: prefix '.' to lines starting
					   with '.' */
	bool		 mboxrd;	/* unescape one '>' of ^>+From_ */
	int64_t		 body_limit;	/* TOP n: body lines to send, -1 all */
	msgio_sink	 sink;
	void		*sink_arg;
	/* state, zeroed by msgio_init */
	bool		 in_header;
	bool		 at_bol;
	bool		 skipping;	/* inside a hidden header (and its
					   continuation lines) */
	bool		 done;		/* TOP limit reached: the caller may
					   stop feeding */
	int64_t		 body_lines;
	size_t		 carry_len;	/* partial line start kept across
					   chunks, at most MSGIO_CARRY */
	char		 carry[MSGIO_CARRY];
	uint64_t	 out_octets;	/* octets sent, excluding dot-stuffing */
	uint64_t	 out_lines;	/* lines sent */
	int		 state;		/* how the rest of the line is handled */
	size_t		 from_match;	/* mboxrd: octets of "From " matched
					   after a ^>+ run */
	bool		 cr_pending;	/* a CR held back: it may be the
					   line's last octet */
	bool		 failed;	/* the sink returned -1 */
	size_t		 olen;		/* octets waiting in obuf */
	char		 obuf[MSGIO_OBUF];	/* last: msgio_init does not
					   clear it */
};

/* sink may be NULL: nothing is sent, only out_octets/out_lines counted. */
void	msgio_init(struct msgio *m, bool dotstuff, bool mboxrd,
	    int64_t body_limit, msgio_sink sink, void *arg);
/* Feeds buf[0, len), the next stored bytes of the message (starting just
 * after the From_ line).  Returns 0, or -1 if the sink failed. */
int	msgio_feed(struct msgio *m, const char *buf, size_t len);
/* Ends the message: a final line without LF gets its CRLF, and the output
 * still buffered is handed to the sink.  Does not send the POP3
 * terminator.  Returns 0 or -1. */
int	msgio_finish(struct msgio *m);

/*
 * Wire size and line count of a stored message body buf[0, len) (after the
 * From_ line, up to the message's end): what msgio would send without
 * dot-stuffing.  The scanner uses the same rules.
 */
uint64_t msgio_octets(const char *buf, size_t len, bool mboxrd,
	    uint64_t *lines_r);

#endif
