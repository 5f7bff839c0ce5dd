/*
 * mbox.h: pure mbox scanning on a byte buffer (RFC 4155, read as mboxo).
 * No I/O, no allocation kept beyond the message array, which a caller
 * may bound: testable and fuzzable.
 * Runs in the session process as the mail user.
 */
#ifndef POSTERN_MBOX_H
#define POSTERN_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "params.h"

struct mbox_msg {
	off_t	 off;		/* start of the From_ line in the file */
	off_t	 hdr;		/* first octet after the From_ line */
	off_t	 end;		/* end of the message as served: excludes the
				   one empty line before the next separator */
	off_t	 next;		/* start of the next From_ line (or EOF):
				   [off, next) is what UPDATE removes */
	uint64_t octets;	/* exact wire size (RFC 1939 §11): CRLF line
				   ends, hidden headers out, no dot-stuffing,
				   no terminator */
	uint64_t lines;		/* number of lines served */
	uint64_t sephash;	/* FNV-1a of the From_ line, to detect a file
				   changed under us before UPDATE */
	char	 uid[PARAM_UIDL_MAX + 1];	/* UIDL, NUL-terminated */
};

struct mbox_scan {
	struct mbox_msg	*msgs;		/* malloc'd, caller frees with
					   mbox_scan_free() */
	size_t		 count;		/* messages served */
	size_t		 cap;
	bool		 has_pseudo;	/* a hidden FOLDER INTERNAL DATA
					   message sits at offset 0 */
	off_t		 pseudo_next;	/* its end, when has_pseudo */
	off_t		 scanned;	/* bytes covered: the buffer length */
};

/*
 * Scans buf[0, len) as an mbox; buf[0] must be the start of the file (all
 * offsets in *s are offsets into buf).  On success fills *s (messages in
 * file order, pseudo-message left out, UIDLs assigned and made unique) and
 * returns 0.  An empty buffer is an empty mailbox.  If the buffer does not
 * begin with a valid From_ line returns -1 with a reason in errstr_r and
 * *bad_off_r = 0 (the offset of the trouble); on an internal failure (out
 * of memory, digest error) returns -1 with *bad_off_r = -1.  On -1, *s
 * holds nothing to free.  mboxrd: count ">From " lines as unescaped
 * ("From ").
 */
int	mbox_scan_buf(const char *buf, size_t len, bool mboxrd,
	    struct mbox_scan *s, off_t *bad_off_r, char *errstr_r,
	    size_t errlen);

/*
 * mbox_scan_buf with a bound on the memory the scan holds (the message
 * table and the uniqueness table): never more than max_bytes.  A mailbox
 * of count messages fits when mbox_scan_bytes(count) <= max_bytes; one
 * that does not gives MBOX_SCAN_TOOBIG, with s->count the number of
 * messages in buf (counted, not kept: s->msgs is NULL, nothing to free)
 * and a reason in errstr_r.  Else as mbox_scan_buf.
 */
#define MBOX_SCAN_TOOBIG	(-2)
int	mbox_scan_buf_max(const char *buf, size_t len, bool mboxrd,
	    size_t max_bytes, struct mbox_scan *s, off_t *bad_off_r,
	    char *errstr_r, size_t errlen);

/* The memory a scan of count messages is allowed (about 200 octets a
 * message; SIZE_MAX if that does not fit). */
size_t	mbox_scan_bytes(size_t count);
void	mbox_scan_free(struct mbox_scan *s);

/* true if line[0, len) (no LF) is a valid From_ separator line. */
bool	mbox_is_from_line(const char *line, size_t len);

/* true if the header line starting at line[0, len) is hidden metadata
 * (Status:, X-Status:, X-Keywords:, X-UID:, X-IMAP:, X-IMAPbase:; field
 * names case-insensitive).  Only the first MBOX_HIDDEN_PREFIX octets are
 * looked at, so a prefix of the line of at least that length (or the
 * whole line) gives the same answer as the whole line. */
#define MBOX_HIDDEN_PREFIX	11	/* strlen("X-IMAPbase:") */
bool	mbox_hidden_header(const char *line, size_t len);

/* FNV-1a 64 of buf[0, len): the struct mbox_msg sephash is this over
 * [off, hdr), the From_ line including its line end as stored. */
uint64_t mbox_sephash(const char *buf, size_t len);

#endif
