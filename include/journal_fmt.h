/*
 * journal_fmt.h: the on-disk journal of journal.c and the check of a
 * maildrop's bytes against it.  Internal to journal.c (and its tests):
 * callers use journal.h.
 *
 * Layout (integers big-endian):
 *   fixed   magic[8] version[4] flags[4] from[8] new_end[8] old_end[8]
 *           data_len[8] dev[8] ino[8] nseg[8] block[4] path_len[4]
 *           sha256(table)[32] sha256(data)[32]
 *   path    path_len bytes: the maildrop's absolute path (no NUL)
 *   table   nseg digests (SHA-256, 32 bytes each) of the old bytes of the
 *           segments of [from, old_end): the region cut at every multiple
 *           of the block size and at new_end, in file order
 *   data    data_len bytes: the new content of [from, new_end)
 *   commit  magic[8] sha256(fixed, path)[32], written and fsynced only
 *           after everything before it is on disk.
 */
#ifndef POSTERN_JOURNAL_FMT_H
#define POSTERN_JOURNAL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "journal.h"
#include "params.h"

#define J_DIGEST_LEN	32			/* SHA-256 */
/*
 * The unit in which a crash may leave old and new bytes mixed: a kill -9
 * stops a write at a page boundary and writeback is in pages, so after a
 * power loss each 4 KiB block of a file system with 4 KiB blocks is old or
 * new as a whole.  A finer tear (a drive with 512-byte atomic sectors
 * under a 4 KiB page) reads as foreign: refused, never destroyed.
 */
#define J_BLOCK		4096
#define J_BUF_SIZE	(1024 * 1024)		/* ctx buffer: two chunks */
#define J_CHUNK		(J_BUF_SIZE / 2)	/* a multiple of J_BLOCK */

struct jhdr {
	off_t		 from;
	off_t		 new_end;
	off_t		 old_end;
	off_t		 data_len;
	uint64_t	 dev;
	uint64_t	 ino;
	uint64_t	 nseg;
	size_t		 path_len;
	char		 path[PARAM_PATH_MAX];
	unsigned char	 table_digest[J_DIGEST_LEN];
	unsigned char	 data_digest[J_DIGEST_LEN];
	/* Derived from the above by journal_fmt_init. */
	off_t		 table_off;
	off_t		 data_off;
	off_t		 commit_off;
};

/* strerror plus the errno name for the errors callers must recognise
 * (ENOSPC, EIO, EDQUOT). */
void	journal_fmt_errtext(int e, char *buf, size_t len);

/*
 * Sets h up for a rewrite of [from, old_end) into [from, new_end) of the
 * file st (device and inode) at path.  Returns 0, or -1 (bad path).
 */
int	journal_fmt_init(struct jhdr *h, off_t from, off_t new_end,
	    off_t old_end, const struct stat *st, const char *path);

/*
 * Steps 2-4: one sequential pass over fd's [from, old_end) that writes into
 * jfd (new, empty) the digest of every old segment and the concatenation
 * of ranges (the new content), then the fixed header and path, fsync, the
 * commit record, fsync.  buf has J_BUF_SIZE bytes.  Returns 0 or -1 with
 * errstr_r set.
 */
int	journal_fmt_write(int jfd, int fd, struct jhdr *h,
	    const struct journal_range *ranges, size_t n, char *buf,
	    char *errstr_r, size_t errlen);

/*
 * Reads and checks a journal.  Returns 1 (committed and intact), 0 (not
 * committed, or torn before the commit: safe to discard, the maildrop was
 * not touched yet) or -1 (committed but damaged, of an unknown version, or
 * an I/O error: keep it; errstr_r says why).
 */
int	journal_fmt_read(int jfd, struct jhdr *h, char *buf, char *errstr_r,
	    size_t errlen);

/*
 * Compares the maildrop (fd, the path maildrop) with the committed journal
 * jfd (header h) block by block and fills js (status, sizes, parts,
 * verdict and reason).  Writes nothing.  Returns 0, or -1 on an I/O error
 * (errno set).
 */
int	journal_fmt_check(int fd, int jfd, const struct jhdr *h,
	    const char *maildrop, char *buf, struct journal_state *js);

/*
 * Copies len bytes of in at ioff to out at ooff through buf (J_BUF_SIZE);
 * with crash_half, calls journal_crash_point(5) at the halfway point.
 * Returns 0 or -1 (errno set).
 */
int	journal_fmt_copy(int in, off_t ioff, int out, off_t ooff, off_t len,
	    char *buf, bool crash_half);

#endif
