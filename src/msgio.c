/*
 * msgio.c: converts a message as stored in an mbox into its wire form, one
 * block at a time: hidden metadata headers dropped, one trailing CR
 * stripped per line, LF turned into CRLF, optional mboxrd unescaping,
 * POP3 dot-stuffing and TOP line limits.  The caller feeds chunks of any
 * size (a line, a CR LF pair or a header name may straddle two chunks)
 * and gets converted bytes in large pieces through a sink.  The same code,
 * with no sink, counts the wire size for the scanner, so LIST and RETR can
 * never disagree.  Pure computation, no I/O; runs in the session process
 * as the mail user.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mbox.h"
#include "msgio.h"

/* What happens to the rest of the current line (struct msgio state). */
#define ST_SEND		0	/* copied out */
#define ST_DROP		1	/* hidden header or past the TOP limit */
#define ST_GT_FIRST	2	/* mboxrd: next octet is the line's first '>',
				   held back until we know whether the line
				   is ^>+From_ */
#define ST_GT_RUN	3	/* mboxrd: inside the run of '>' */
#define ST_GT_FROM	4	/* mboxrd: matching "From " after the run */

static const char from_[] = "From ";
#define FROM_LEN	5

static int	out_flush(struct msgio *);
static int	out_put(struct msgio *, const char *, size_t, bool);
static void	line_start(struct msgio *, const char *, size_t, bool);
static int	line_bytes(struct msgio *, const char *, size_t);
static int	line_end(struct msgio *);

void
msgio_init(struct msgio *m, bool dotstuff, bool mboxrd, int64_t body_limit,
    msgio_sink sink, void *arg)
{
	/* obuf is last and left alone: clearing 16 KiB per message would
	 * dominate the scan of a mailbox of small messages. */
	memset(m, 0, offsetof(struct msgio, obuf));
	m->dotstuff = dotstuff;
	m->mboxrd = mboxrd;
	m->body_limit = body_limit;
	m->sink = sink;
	m->sink_arg = arg;
	m->in_header = true;
	m->at_bol = true;
	m->state = ST_SEND;
}

static int
out_flush(struct msgio *m)
{
	size_t n = m->olen;

	m->olen = 0;
	if (n == 0 || m->sink == NULL || m->failed)
		return m->failed ? -1 : 0;
	if (m->sink(m->sink_arg, m->obuf, n) == -1) {
		m->failed = true;
		return -1;
	}
	return 0;
}

/*
 * Queues p[0, n) for the sink.  counted is false only for the stuffed dot,
 * which RFC 1939 §11 says is not part of the size.
 */
static int
out_put(struct msgio *m, const char *p, size_t n, bool counted)
{
	if (counted)
		m->out_octets += n;
	if (m->sink == NULL || n == 0)
		return 0;
	if (m->failed)
		return -1;
	if (n > MSGIO_OBUF - m->olen && out_flush(m) == -1)
		return -1;
	if (n >= MSGIO_OBUF) {
		/* A long run goes straight out, without a copy. */
		if (m->sink(m->sink_arg, p, n) == -1) {
			m->failed = true;
			return -1;
		}
		return 0;
	}
	memcpy(m->obuf + m->olen, p, n);
	m->olen += n;
	return 0;
}

/*
 * Decides what to do with the line that starts here.  pre[0, plen) is its
 * beginning: at least MSGIO_CARRY octets, or the whole line (whole is
 * true) when it is shorter.  Sets m->state, and m->done once the TOP
 * limit is reached.
 */
static void
line_start(struct msgio *m, const char *pre, size_t plen, bool whole)
{
	m->at_bol = false;
	m->cr_pending = false;
	m->from_match = 0;
	if (m->in_header) {
		if (whole && (plen == 0 || (plen == 1 && pre[0] == '\r'))) {
			/* The empty line ending the header block: sent. */
			m->in_header = false;
			m->skipping = false;
		} else if (m->skipping && plen > 0 &&
		    (pre[0] == ' ' || pre[0] == '\t')) {
			/* Continuation of a hidden field (RFC 5322 §2.2.3). */
			m->state = ST_DROP;
			return;
		} else {
			m->skipping = mbox_hidden_header(pre, plen);
			if (m->skipping) {
				m->state = ST_DROP;
				return;
			}
		}
	} else {
		/* RFC 1939 §7 TOP: the header, the blank line, n lines. */
		if (m->body_limit >= 0 && m->body_lines >= m->body_limit) {
			m->done = true;
			m->state = ST_DROP;
			return;
		}
		m->body_lines++;
	}
	m->out_lines++;
	if (plen > 0 && m->mboxrd && pre[0] == '>') {
		m->state = ST_GT_FIRST;
		return;
	}
	/* RFC 1939 §3: a line starting with '.' gets one more '.'. */
	if (plen > 0 && m->dotstuff && pre[0] == '.')
		(void)out_put(m, ".", 1, false);
	m->state = ST_SEND;
}

/* Handles p[0, n), octets of the current line (no LF among them). */
static int
line_bytes(struct msgio *m, const char *p, size_t n)
{
	size_t k;

	while (n > 0) {
		switch (m->state) {
		case ST_DROP:
			return 0;
		case ST_SEND:
			/* One trailing CR per line is stripped (a stored CRLF
			 * is not doubled); a CR at the end of a chunk waits
			 * to see whether the LF follows. */
			if (m->cr_pending) {
				m->cr_pending = false;
				if (out_put(m, "\r", 1, true) == -1)
					return -1;
			}
			if (p[n - 1] == '\r') {
				m->cr_pending = true;
				n--;
			}
			return out_put(m, p, n, true);
		case ST_GT_FIRST:
			/* Hold the first '>'; the others are identical, so
			 * sending them first changes nothing. */
			p++;
			n--;
			m->state = ST_GT_RUN;
			break;
		case ST_GT_RUN:
			for (k = 0; k < n && p[k] == '>'; k++)
				;
			if (out_put(m, p, k, true) == -1)
				return -1;
			p += k;
			n -= k;
			if (n > 0)
				m->state = ST_GT_FROM;
			break;
		case ST_GT_FROM:
			while (n > 0 && m->from_match < FROM_LEN &&
			    *p == from_[m->from_match]) {
				p++;
				n--;
				m->from_match++;
			}
			if (m->from_match == FROM_LEN) {
				/* ^>+From_: drop the held '>' (mboxrd). */
				if (out_put(m, from_, FROM_LEN, true) == -1)
					return -1;
				m->state = ST_SEND;
			} else if (n > 0) {
				if (out_put(m, ">", 1, true) == -1 ||
				    out_put(m, from_, m->from_match,
				    true) == -1)
					return -1;
				m->state = ST_SEND;
			}
			break;
		}
	}
	return 0;
}

/* The current line ended (LF, or the end of the message). */
static int
line_end(struct msgio *m)
{
	int state = m->state;

	m->at_bol = true;
	m->state = ST_SEND;
	m->cr_pending = false;		/* the one trailing CR: dropped */
	switch (state) {
	case ST_DROP:
		return 0;
	case ST_GT_FIRST:
	case ST_GT_RUN:
	case ST_GT_FROM:
		/* Not ^>+From_: the held '>' and what matched go out. */
		if (out_put(m, ">", 1, true) == -1 ||
		    out_put(m, from_, m->from_match, true) == -1)
			return -1;
		break;
	default:
		break;
	}
	return out_put(m, "\r\n", 2, true);
}

int
msgio_feed(struct msgio *m, const char *buf, size_t len)
{
	const char *p = buf, *e = buf + len, *lf;
	size_t n, c, plen;

	if (m->failed)
		return -1;
	while (p < e && !m->done) {
		if (m->at_bol && m->carry_len > 0) {
			/* Complete the line start kept from the last chunk
			 * to MSGIO_CARRY octets or to its LF. */
			c = MSGIO_CARRY - m->carry_len;
			if (c > (size_t)(e - p))
				c = (size_t)(e - p);
			lf = memchr(p, '\n', c);
			n = lf != NULL ? (size_t)(lf - p) : c;
			memcpy(m->carry + m->carry_len, p, n);
			m->carry_len += n;
			p += n;
			if (lf == NULL && m->carry_len < MSGIO_CARRY)
				return 0;
			line_start(m, m->carry, m->carry_len, lf != NULL);
			c = m->carry_len;
			m->carry_len = 0;
			if (m->done)
				break;
			if (line_bytes(m, m->carry, c) == -1)
				return -1;
			if (lf != NULL) {
				p = lf + 1;
				if (line_end(m) == -1)
					return -1;
			}
			continue;
		}
		lf = memchr(p, '\n', (size_t)(e - p));
		n = (size_t)((lf != NULL ? lf : e) - p);
		if (m->at_bol) {
			if (lf == NULL && n < MSGIO_CARRY) {
				/* Too little of the line to decide on. */
				memcpy(m->carry, p, n);
				m->carry_len = n;
				return 0;
			}
			plen = n < MSGIO_CARRY ? n : MSGIO_CARRY;
			line_start(m, p, plen, lf != NULL && plen == n);
			if (m->done)
				break;
		}
		if (line_bytes(m, p, n) == -1)
			return -1;
		if (lf == NULL)
			break;
		p = lf + 1;
		if (line_end(m) == -1)
			return -1;
	}
	return m->failed ? -1 : 0;
}

int
msgio_finish(struct msgio *m)
{
	size_t c;

	if (m->failed)
		return -1;
	if (!m->done) {
		if (m->at_bol && m->carry_len > 0) {
			line_start(m, m->carry, m->carry_len, true);
			c = m->carry_len;
			m->carry_len = 0;
			if (!m->done && (line_bytes(m, m->carry, c) == -1 ||
			    line_end(m) == -1))
				return -1;
		} else if (!m->at_bol) {
			/* protocol-notes §5.4: a final line without LF
			 * still gets CRLF. */
			if (line_end(m) == -1)
				return -1;
		}
	}
	return out_flush(m);
}

uint64_t
msgio_octets(const char *buf, size_t len, bool mboxrd, uint64_t *lines_r)
{
	struct msgio m;

	/* Exactly the streaming code, minus the output. */
	msgio_init(&m, false, mboxrd, -1, NULL, NULL);
	(void)msgio_feed(&m, buf, len);
	(void)msgio_finish(&m);
	if (lines_r != NULL)
		*lines_r = m.out_lines;
	return m.out_octets;
}
