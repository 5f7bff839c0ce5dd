/*
 * log.h: logging in the OpenBSD shape.  To syslog (facility mail by
 * default) or, in the foreground, to stderr.  Every line carries the
 * session id when one is set; peer strings go through log_sanitize().
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

void	log_init(const char *ident, int to_stderr, int facility, int level);
void	log_setlevel(int level);
/* Sets the session id prepended as "session=ID " (NULL clears). */
void	log_session(const char *id);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* Copies at most len octets of s into buf (size buflen) with anything
 * outside 0x20-0x7E as \xHH, truncated with "..." ; returns buf. */
char	*log_sanitize(const char *s, size_t len, char *buf, size_t buflen);

#endif
