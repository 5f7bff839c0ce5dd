/*
 * util.h: small helpers shared by the modules: the errstr_r formatter,
 * whole-buffer positional I/O and the trusted-file rule.  No privilege of
 * its own.
 */
#ifndef POSTERN_UTIL_H
#define POSTERN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Formats a reason into errstr_r (NULL or errlen 0: nothing); a cut
 * reason is fine. */
void	util_seterr(char *errstr_r, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

struct stat;

/*
 * true if sb (fstat() of an open file) is a regular file owned by root or
 * by the effective user and writable by nobody else: the rule for every
 * file that says who may log in or how (the configuration, the
 * passwd-file, rmcpd's hash files), since whoever can write one can log
 * in as anyone.
 */
bool	util_file_trusted(const struct stat *sb);

/* true if word is one of the words (separated by blanks) of list. */
bool	util_word_listed(const char *list, const char *word);

/* Reads or writes exactly len octets at off, retrying on EINTR.  Returns
 * 0, or -1 with errno set (a short file or a zero-length write: EIO). */
int	util_pread_full(int fd, void *buf, size_t len, off_t off);
int	util_pwrite_full(int fd, const void *buf, size_t len, off_t off);
/* Reads (read(2)) or sends (send(2), MSG_NOSIGNAL) exactly len octets on
 * a socket or pipe, retrying on EINTR.  Returns 0, or -1 when the peer is
 * gone or on an error. */
int	util_read_full(int fd, void *buf, size_t len);
int	util_send_full(int fd, const void *buf, size_t len);

#endif
