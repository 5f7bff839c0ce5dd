/*
 * testutil.h: small helpers shared by the Check suites.
 */
#ifndef POSTERN_TESTUTIL_H
#define POSTERN_TESTUTIL_H

#include <sys/mount.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes a fresh temporary directory under $TMPDIR (or /tmp) into buf. */
static inline void
tu_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/postern-test.XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

/* Writes len bytes of data to path (mode 0600), replacing it. */
static inline void
tu_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* Reads a whole file into a malloc'd buffer (NUL-terminated). */
static inline char *
tu_read_file(const char *path, size_t *len_r)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size),
	    (ssize_t)st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	if (len_r != NULL)
		*len_r = (size_t)st.st_size;
	return buf;
}

/* Removes a directory tree made by tu_tmpdir (best effort). */
static inline void
tu_rmtree(const char *dir)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

/*
 * Makes directory path and mounts a small tmpfs on it (mount(2) data
 * opts, e.g. "size=64k"): false, with a note on stderr, where that is not
 * possible (not root); the test then skips its case.
 */
static inline bool
tu_mount_tmpfs(const char *path, const char *opts)
{
	ck_assert_int_eq(mkdir(path, 0700), 0);
	if (mount("tmpfs", path, "tmpfs", 0, opts) == 0)
		return true;
	fprintf(stderr, "cannot mount a tmpfs on %s (%s): skipping a "
	    "full-disk case\n", path, strerror(errno));
	return false;
}

/* Fills the file system to its last block with the new file path. */
static inline void
tu_fill_fs(const char *path)
{
	char buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	memset(buf, 0, sizeof(buf));
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(errno, ENOSPC);
	/* The last partial block, too. */
	while (write(fd, buf, 1) > 0)
		;
	ck_assert_int_eq(close(fd), 0);
}

/* The standard main() of a suite: runs it, prints Check's summary. */
#define TU_MAIN(suite_fn)						\
int									\
main(void)								\
{									\
	SRunner *sr = srunner_create(suite_fn());			\
	int nfail;							\
									\
	srunner_run_all(sr, CK_NORMAL);					\
	nfail = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

#endif
