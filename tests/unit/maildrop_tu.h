/*
 * maildrop_tu.h: the fixture and helpers shared by the maildrop suites
 * (check_maildrop, check_confine): NMSG messages of known text in a
 * temporary spool directory, a separate state directory for the
 * journals, the arguments every open passes, and the expected files.
 */
#ifndef POSTERN_MAILDROP_TU_H
#define POSTERN_MAILDROP_TU_H

#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildrop.h"
#include "testutil.h"

#define T_UID		65534	/* nobody / nogroup on Debian */
#define T_GID		65534

#define NMSG		5
#define TEXT_MAX	512

static char dir[512], mbox[600], sdir[512];
static char texts[NMSG][TEXT_MAX];	/* each message as stored */
static struct lock_conf lc;
static struct maildrop_args ma;		/* what every open here passes */

static inline void
setup(void)
{
	int i;

	tu_tmpdir(dir, sizeof(dir));
	tu_tmpdir(sdir, sizeof(sdir));
	snprintf(mbox, sizeof(mbox), "%s/mbox", dir);
	for (i = 0; i < NMSG; i++)
		snprintf(texts[i], TEXT_MAX,
		    "From sender%d@example.org Thu Nov 23 10:%02d:00 2023\n"
		    "Subject: message %d\n"
		    "Status: RO\n"
		    "\n"
		    "body of %d\n"
		    ".dot line\n"
		    "\n", i, i, i, i);
	lock_conf_default(&lc);
	lc.timeout = 1;
	memset(&ma, 0, sizeof(ma));
	ma.user = "tester";
	ma.lock = &lc;
	ma.jdirfd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(ma.jdirfd, 0);
}

static inline void
teardown(void)
{
	close(ma.jdirfd);
	tu_rmtree(dir);
	tu_rmtree(sdir);
}

/* maildrop_open(path) with the suite's arguments. */
static inline int
md_open(struct maildrop *md, const char *path, char *err, size_t errlen)
{
	return maildrop_open(md, path, &ma, err, errlen);
}

/* The names in directory d, sorted, space-separated, into buf. */
static inline const char *
names(const char *d, char *buf, size_t len)
{
	struct dirent **list;
	size_t o = 0;
	int n, i;

	n = scandir(d, &list, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") != 0 &&
		    strcmp(list[i]->d_name, "..") != 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    o > 0 ? " " : "", list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return buf;
}

/* The concatenation of the messages whose bit is set in mask, after an
 * optional prefix. */
static inline char *
concat(const char *prefix, unsigned mask, size_t *len_r)
{
	char *b = malloc(NMSG * TEXT_MAX + (prefix != NULL ? strlen(prefix) :
	    0) + 1);
	size_t len = 0;
	int i;

	ck_assert_ptr_nonnull(b);
	b[0] = '\0';
	if (prefix != NULL) {
		len = strlen(prefix);
		memcpy(b, prefix, len + 1);
	}
	for (i = 0; i < NMSG; i++)
		if (mask & (1u << i)) {
			memcpy(b + len, texts[i], strlen(texts[i]) + 1);
			len += strlen(texts[i]);
		}
	*len_r = len;
	return b;
}

static inline void
make_mbox(const char *prefix)
{
	size_t len;
	char *b = concat(prefix, (1u << NMSG) - 1, &len);

	tu_write_file(mbox, b, len);
	free(b);
}

static inline void
assert_file(const char *want, size_t want_len)
{
	size_t len;
	char *got = tu_read_file(mbox, &len);

	ck_assert_msg(len == want_len && memcmp(got, want, len) == 0,
	    "maildrop differs (%zu bytes, want %zu):\n%s", len, want_len,
	    got);
	free(got);
}

static inline void
open_ok(struct maildrop *md)
{
	char err[256];

	err[0] = '\0';
	ck_assert_msg(md_open(md, mbox, err, sizeof(err))
	    == MD_OK, "open: %s", err);
}

static inline void
mark(struct maildrop *md, size_t i)
{
	ck_assert(i < md->scan.count && !md->deleted[i]);
	md->deleted[i] = true;
	md->ndeleted++;
}

#endif
