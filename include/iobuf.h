/*
 * iobuf.h: the one bounded line reader and batching writer used by every
 * protocol (design.md §3).  Reads are poll() deadlines, never alarm();
 * an overlong line is reported once and its tail discarded; writes are
 * collected and sent in large pieces.  Used by the pre-auth child (as the
 * unprivileged user) and by the session (as the mail user).
 */
#ifndef POSTERN_IOBUF_H
#define POSTERN_IOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

#define IOBUF_LINE	0	/* a line, CR LF (or LF) stripped */
#define IOBUF_TOOLONG	1	/* a line over the limit; its tail will be
				   discarded up to the next LF */
#define IOBUF_EOF	2
#define IOBUF_TIMEOUT	3
#define IOBUF_ERROR	4

struct iobuf {
	int		 rfd;
	int		 wfd;
	size_t		 maxline;	/* octets, CRLF included */
	char		*rbuf;		/* maxline + 1 octets */
	size_t		 rstart;	/* unread data is rbuf[rstart, rend) */
	size_t		 rend;
	bool		 discarding;	/* inside the tail of an overlong line */
	bool		 eof;
	char		*wbuf;		/* PARAM_OBUF_SIZE octets */
	size_t		 wlen;
	int		 wtimeout_ms;	/* bound on a blocked write */
	bool		 werror;	/* a write failed: the peer is gone */
	uint64_t	 out_total;
};

/* Sets up b on the given descriptors.  Returns 0, or -1 (ENOMEM). */
int	iobuf_init(struct iobuf *b, int rfd, int wfd, size_t maxline);
void	iobuf_free(struct iobuf *b);

/*
 * Returns the next line (IOBUF_LINE: *line_r points into b, valid until
 * the next call, NUL-terminated, may contain NULs, *len_r excludes the
 * line end), or IOBUF_TOOLONG / IOBUF_EOF / IOBUF_TIMEOUT / IOBUF_ERROR.
 * Waits at most timeout_ms for input (-1: forever).
 */
int	iobuf_getline(struct iobuf *b, char **line_r, size_t *len_r,
	    int timeout_ms);

/* true if a complete line is already buffered (more pipelined input). */
bool	iobuf_line_pending(const struct iobuf *b);

/* Unread input: pointer and length (for the login hand-off). */
const char *iobuf_unread(const struct iobuf *b, size_t *len_r);
/* Prepends nothing, appends data to the unread input (the session side of
 * the hand-off).  Returns 0, or -1 if it does not fit. */
int	iobuf_inject(struct iobuf *b, const char *data, size_t len);

/* Queues output; flushes when the buffer fills.  Return 0 / -1. */
int	iobuf_write(struct iobuf *b, const void *data, size_t len);
int	iobuf_printf(struct iobuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	iobuf_flush(struct iobuf *b);

#endif
