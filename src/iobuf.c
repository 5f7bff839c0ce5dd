/*
 * iobuf.c: the bounded line reader and the batching writer shared by all
 * protocols.  A line is at most maxline octets including its line end
 * (RFC 2449 §4 asks for 255; we are generous but bounded); a longer line
 * is reported once as IOBUF_TOOLONG and the rest of it, up to the next LF,
 * is discarded so its tail is never taken for a command.  Output collects
 * in one buffer and goes out in large writes, which is what keeps
 * PIPELINING and one-command-at-a-time clients from waiting on delayed
 * ACKs.  Runs wherever a protocol runs: the unprivileged pre-auth child
 * and the session process.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iobuf.h"

int
iobuf_init(struct iobuf *b, int rfd, int wfd, size_t maxline)
{
	memset(b, 0, sizeof(*b));
	b->rfd = rfd;
	b->wfd = wfd;
	b->maxline = maxline;
	b->wtimeout_ms = PARAM_TIMEOUT_TRANS * 1000;
	if ((b->rbuf = malloc(maxline + 1)) == NULL)
		return -1;
	if ((b->wbuf = malloc(PARAM_OBUF_SIZE)) == NULL) {
		free(b->rbuf);
		b->rbuf = NULL;
		return -1;
	}
	return 0;
}

void
iobuf_free(struct iobuf *b)
{
	if (b->rbuf != NULL)
		explicit_bzero(b->rbuf, b->maxline + 1);
	free(b->rbuf);
	free(b->wbuf);
	b->rbuf = b->wbuf = NULL;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until the deadline (-1: none).
 * Returns 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	int r, ms;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		if (deadline < 0)
			ms = -1;
		else {
			long long left = deadline - now_ms();

			/* At or past the deadline, still look once. */
			ms = left <= 0 ? 0 : left > 1000000 ? 1000000 :
			    (int)left;
		}
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 1;
		if (r == 0) {
			if (deadline >= 0 && now_ms() >= deadline)
				return 0;
			continue;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* Finds a complete line in the buffer; returns its LF position or NULL. */
static char *
find_lf(const struct iobuf *b)
{
	return memchr(b->rbuf + b->rstart, '\n', b->rend - b->rstart);
}

bool
iobuf_line_pending(const struct iobuf *b)
{
	return !b->discarding && b->rend > b->rstart && find_lf(b) != NULL;
}

int
iobuf_getline(struct iobuf *b, char **line_r, size_t *len_r, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	char *lf, *line;
	size_t len;
	ssize_t n;
	int r;

	for (;;) {
		if (b->rend > b->rstart && (lf = find_lf(b)) != NULL) {
			line = b->rbuf + b->rstart;
			len = (size_t)(lf - line);
			b->rstart += len + 1;
			if (b->discarding) {
				/* the end of an overlong line: drop it */
				b->discarding = false;
				continue;
			}
			if (len > 0 && line[len - 1] == '\r')
				len--;
			line[len] = '\0';
			*line_r = line;
			*len_r = len;
			return IOBUF_LINE;
		}
		/* No complete line buffered. */
		if (b->rend - b->rstart >= b->maxline) {
			/* Full buffer and no LF: the line is too long. */
			b->rstart = b->rend = 0;
			if (!b->discarding) {
				b->discarding = true;
				return IOBUF_TOOLONG;
			}
		}
		if (b->discarding && b->rend > b->rstart) {
			/* Nothing here is worth keeping. */
			b->rstart = b->rend = 0;
		}
		if (b->eof)
			return IOBUF_EOF;
		if (b->rstart > 0) {
			memmove(b->rbuf, b->rbuf + b->rstart,
			    b->rend - b->rstart);
			b->rend -= b->rstart;
			b->rstart = 0;
		}
		r = wait_fd(b->rfd, POLLIN, deadline);
		if (r == 0)
			return IOBUF_TIMEOUT;
		if (r < 0)
			return IOBUF_ERROR;
		n = read(b->rfd, b->rbuf + b->rend, b->maxline - b->rend);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return IOBUF_ERROR;
		}
		if (n == 0) {
			/* A final line without LF is not a command. */
			b->eof = true;
			return IOBUF_EOF;
		}
		b->rend += (size_t)n;
	}
}

const char *
iobuf_unread(const struct iobuf *b, size_t *len_r)
{
	*len_r = b->discarding ? 0 : b->rend - b->rstart;
	return b->rbuf + b->rstart;
}

int
iobuf_inject(struct iobuf *b, const char *data, size_t len)
{
	if (b->rstart > 0) {
		memmove(b->rbuf, b->rbuf + b->rstart, b->rend - b->rstart);
		b->rend -= b->rstart;
		b->rstart = 0;
	}
	if (len > b->maxline - b->rend)
		return -1;
	memcpy(b->rbuf + b->rend, data, len);
	b->rend += len;
	return 0;
}

/* Writes all of data[0, len) to the descriptor, bounded in time. */
static int
write_all(struct iobuf *b, const char *data, size_t len)
{
	long long deadline = now_ms() + b->wtimeout_ms;
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(b->wfd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK) {
			/* A pipe (pop3d -i under a test harness): wait for
			 * room, then write no more than fits atomically, so
			 * the write cannot block past the deadline. */
			r = wait_fd(b->wfd, POLLOUT, deadline);
			if (r <= 0) {
				b->werror = true;
				return -1;
			}
			n = write(b->wfd, data, len > PIPE_BUF ? PIPE_BUF :
			    len);
		}
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			b->out_total += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = wait_fd(b->wfd, POLLOUT, deadline);
			if (r > 0)
				continue;
		}
		b->werror = true;
		return -1;
	}
	return 0;
}

int
iobuf_flush(struct iobuf *b)
{
	int r;

	if (b->werror)
		return -1;
	if (b->wlen == 0)
		return 0;
	r = write_all(b, b->wbuf, b->wlen);
	b->wlen = 0;
	return r;
}

int
iobuf_write(struct iobuf *b, const void *data, size_t len)
{
	const char *p = data;
	size_t room;

	if (b->werror)
		return -1;
	while (len > 0) {
		if (b->wlen == 0 && len >= PARAM_OBUF_SIZE)
			/* Large and nothing queued: no copy. */
			return write_all(b, p, len);
		room = PARAM_OBUF_SIZE - b->wlen;
		if (room > len)
			room = len;
		memcpy(b->wbuf + b->wlen, p, room);
		b->wlen += room;
		p += room;
		len -= room;
		if (b->wlen == PARAM_OBUF_SIZE && iobuf_flush(b) == -1)
			return -1;
	}
	return 0;
}

int
iobuf_printf(struct iobuf *b, const char *fmt, ...)
{
	char line[PARAM_RESP_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (n > PARAM_RESP_MAX) {
		/* RFC 1939 §3: a response line fits in 512 octets; keep the
		 * CRLF when the text had to be cut. */
		n = PARAM_RESP_MAX;
		line[n - 2] = '\r';
		line[n - 1] = '\n';
	}
	return iobuf_write(b, line, (size_t)n);
}
