/*
 * util.c: the errstr_r formatter, whole-buffer positional I/O used by
 * the maildrop modules, whole-message socket I/O for the hand-offs, and
 * the trusted-file rule of the configuration and the user databases.
 * Runs wherever its callers run.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void
util_seterr(char *errstr_r, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errstr_r == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(errstr_r, errlen, fmt, ap);	/* truncation is fine */
	va_end(ap);
}

int
util_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int
util_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pread(fd, p, len, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

bool
util_word_listed(const char *list, const char *word)
{
	const char *p = list;
	size_t n, len = strlen(word);

	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			return false;
		n = strcspn(p, " \t");
		if (n == len && memcmp(p, word, n) == 0)
			return true;
		p += n;
	}
}

bool
util_file_trusted(const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && (sb->st_mode & (S_IWGRP | S_IWOTH)) ==
	    0 && (sb->st_uid == 0 || sb->st_uid == geteuid());
}

/* Moves exactly len octets: read(2) when out is false, else send(2). */
static int
xfer_full(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
util_read_full(int fd, void *buf, size_t len)
{
	return xfer_full(fd, buf, len, false);
}

int
util_send_full(int fd, const void *buf, size_t len)
{
	return xfer_full(fd, (void *)(uintptr_t)buf, len, true);
}
