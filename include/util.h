/*
 * util.h: small helpers shared by the modules: the errstr_r formatter and
 * whole-buffer positional I/O.  No privilege of its own.
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

/* true if word is one of the words (separated by blanks) of list. */
bool	util_word_listed(const char *list, const char *word);

/* Reads or writes exactly len octets at off, retrying on EINTR.  Returns
 * 0, or -1 with errno set (a short file or a zero-length write: EIO). */
int	util_pread_full(int fd, void *buf, size_t len, off_t off);
int	util_pwrite_full(int fd, const void *buf, size_t len, off_t off);

#endif
