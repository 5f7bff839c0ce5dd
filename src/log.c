/*
 * log.c: logging in the OpenBSD shape (log_warn adds strerror, fatal exits)
 * to syslog or, in the foreground, to stderr.  Every line carries the
 * session id once one is set.  Used by every process and privilege level;
 * it holds no secrets and never logs a password (callers mask PASS).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	1024
#define LOG_SESSION_MAX	32

static int	 log_to_stderr = 1;
static int	 log_level = LOG_INFO;
static char	 log_sid[LOG_SESSION_MAX];
static const char *log_ident = "postern";

void
log_init(const char *ident, int to_stderr, int facility, int level)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	log_level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_setlevel(int level)
{
	log_level = level;
}

void
log_session(const char *id)
{
	if (id == NULL)
		log_sid[0] = '\0';
	else
		snprintf(log_sid, sizeof(log_sid), "%s", id);
}

static void	vlog(int, const char *, va_list, int)
	    __attribute__((format(printf, 2, 0)));

static void
vlog(int pri, const char *fmt, va_list ap, int errnum)
{
	char msg[LOG_LINE_MAX];
	int n;

	if (pri > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(errnum));
	if (log_to_stderr) {
		/* one line, one write: children share stderr */
		fprintf(stderr, "%s[%ld]: %s%s%s%s\n", log_ident,
		    (long)getpid(), log_sid[0] ? "session=" : "", log_sid,
		    log_sid[0] ? " " : "", msg);
		fflush(stderr);
		return;
	}
	if (log_sid[0])
		syslog(pri, "session=%s %s", log_sid, msg);
	else
		syslog(pri, "%s", msg);
}

#define LOG_FN(name, pri, with_errno)					\
void									\
name(const char *fmt, ...)						\
{									\
	int saved = errno;						\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	vlog(pri, fmt, ap, with_errno ? saved : 0);			\
	va_end(ap);							\
	errno = saved;							\
}

LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_notice, LOG_NOTICE, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

char *
log_sanitize(const char *s, size_t len, char *buf, size_t buflen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	if (buflen == 0)
		return buf;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 + 4 >= buflen)
				goto trunc;
			buf[o++] = (char)c;
		} else {
			if (o + 4 + 4 >= buflen)
				goto trunc;
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o] = '\0';
	return buf;
trunc:
	if (buflen >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o < buflen ? o : buflen - 1] = '\0';
	return buf;
}
