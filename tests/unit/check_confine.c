/*
 * check_confine.c: what a maildrop session may open (issue 8 §1-2, §5):
 * the confined open of maildrops and POP2 folders (symbolic links at any
 * level, hard links, owners, writers, folder directories, by openat2 and
 * by the component walk), the session lock as an flock on the maildrop
 * (MDAs' fcntl locks still work, nothing is created), a Debian spool
 * opened with the mail group only as the saved set-group-ID, the
 * pop3d -t check of a template's fixed directory, and a full spool that
 * still serves and deletes.
 */
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "maildrop.h"
#include "maildrop_tu.h"
#include "privsep.h"
#include "safeopen.h"

/*
 * The session lock is an flock on the maildrop itself: a second session
 * is refused, an MDA's fcntl lock is not disturbed, nothing is created.
 */
START_TEST(test_session_flock)
{
	struct maildrop md, md2;
	struct flock fl;
	char err[256], buf[256];
	pid_t pid;
	int fd, status;

	make_mbox(NULL);
	open_ok(&md);
	fd = open(mbox, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	/* An MDA (procmail, Postfix local: fcntl + dotlock) still gets in. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		_exit(fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Another session. */
	ck_assert_int_eq(md_open(&md2, mbox, err, sizeof(err)), MD_INUSE);
	ck_assert_msg(strstr(err, "another session") != NULL, "%s", err);
	ck_assert_str_eq(names(dir, buf, sizeof(buf)), "mbox");
	maildrop_close(&md);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
	ck_assert_str_eq(names(dir, buf, sizeof(buf)), "mbox");
}
END_TEST

/* The confined open: links at any level, hard links, owners, writers. */
START_TEST(test_confined)
{
	struct maildrop md;
	char err[256], p[700], q[700];

	make_mbox(NULL);
	safeopen_force_walk(_i == 1);
	/* A directory on the way is a link (~/Mail -> /var/mail). */
	snprintf(p, sizeof(p), "%s/Mail", dir);
	ck_assert_int_eq(symlink(dir, p), 0);
	snprintf(p, sizeof(p), "%s/Mail/mbox", dir);
	ck_assert_int_eq(md_open(&md, p, err, sizeof(err)), MD_PERM);
	ck_assert_msg(strstr(err, "ask your administrator") != NULL, "%s",
	    err);
	ck_assert_int_eq(md.fd, -1);
	/* A hard link to the maildrop: refused by both names. */
	snprintf(q, sizeof(q), "%s/hard", dir);
	ck_assert_int_eq(link(mbox, q), 0);
	ck_assert_int_eq(md_open(&md, q, err, sizeof(err)), MD_PERM);
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
	ck_assert_int_eq(unlink(q), 0);
	open_ok(&md);
	maildrop_close(&md);
	/* Writable by others. */
	ck_assert_int_eq(chmod(mbox, 0606), 0);
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
	ck_assert_int_eq(chmod(mbox, 0600), 0);
	if (geteuid() != 0)
		return;
	/* Another user's, or group-writable by a group not ours. */
	ck_assert_int_eq(chown(mbox, T_UID, T_GID), 0);
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
	ck_assert_int_eq(chown(mbox, 0, T_GID), 0);
	ck_assert_int_eq(chmod(mbox, 0660), 0);
	ck_assert_int_eq(md_open(&md, mbox, err, sizeof(err)), MD_PERM);
	ck_assert_int_eq(chown(mbox, 0, 0), 0);
	open_ok(&md);
	maildrop_close(&md);
	safeopen_force_walk(false);
}
END_TEST

/* A POP2 folder: its directory must be the user's; never the spool. */
START_TEST(test_folder)
{
	struct maildrop md;
	char err[256], p[700], f[700];

	make_mbox(NULL);
	ma.folder = true;
	snprintf(p, sizeof(p), "%s/Mail", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(f, sizeof(f), "%s/Mail/work", dir);
	tu_write_file(f, texts[0], strlen(texts[0]));
	ck_assert_msg(md_open(&md, f, err, sizeof(err)) == MD_OK, "%s", err);
	ck_assert(!md.spool);
	ck_assert_uint_eq(md.scan.count, 1);
	maildrop_close(&md);
	/* Missing: an empty mailbox, nothing made. */
	snprintf(f, sizeof(f), "%s/Mail/nosuch", dir);
	ck_assert_int_eq(md_open(&md, f, err, sizeof(err)), MD_OK);
	ck_assert_int_eq(md.fd, -1);
	ck_assert_int_eq(access(f, F_OK), -1);
	maildrop_close(&md);
	/* A directory anyone may write to. */
	ck_assert_int_eq(chmod(p, 0777), 0);
	snprintf(f, sizeof(f), "%s/Mail/work", dir);
	ck_assert_int_eq(md_open(&md, f, err, sizeof(err)), MD_PERM);
	ck_assert_msg(strstr(err, "this folder") != NULL, "%s", err);
	ck_assert_int_eq(chmod(p, 0700), 0);
	/* The folder directory is a link to the spool: the attack. */
	snprintf(f, sizeof(f), "%s/Mail2", dir);
	ck_assert_int_eq(symlink(dir, f), 0);
	snprintf(f, sizeof(f), "%s/Mail2/mbox", dir);
	ck_assert_int_eq(md_open(&md, f, err, sizeof(err)), MD_PERM);
	if (geteuid() == 0) {
		/* Someone else's directory (a spool, say). */
		ck_assert_int_eq(chown(p, T_UID, T_GID), 0);
		snprintf(f, sizeof(f), "%s/Mail/work", dir);
		ck_assert_int_eq(md_open(&md, f, err, sizeof(err)), MD_PERM);
	}
	ma.folder = false;
}
END_TEST

/*
 * A Debian spool (root:mail 0775 here, not set-gid), a maildrop of
 * user:mail 0660, the session dropped by privsep_drop_user: it opens
 * with the mail group only as the saved set-group-ID, makes its dotlock
 * with it (group mail) and leaves nothing behind; a POP2 folder in the
 * spool is refused (not the user's directory, and never the mail group).
 */
START_TEST(test_spool_mail_group)
{
	struct group *gr = getgrnam("mail");
	pid_t pid;
	int status;

	if (geteuid() != 0 || gr == NULL) {
		fprintf(stderr, "check_maildrop: not root or no group mail, "
		    "skipping the spool case\n");
		return;
	}
	make_mbox(NULL);
	ck_assert_int_eq(chown(dir, 0, gr->gr_gid), 0);
	ck_assert_int_eq(chmod(dir, 0775), 0);
	ck_assert_int_eq(chown(mbox, T_UID, gr->gr_gid), 0);
	ck_assert_int_eq(chmod(mbox, 0660), 0);
	ck_assert_int_eq(chown(sdir, T_UID, T_GID), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct maildrop md;
		struct auth_user u;
		struct conf c;
		char err[256], buf[256];
		gid_t rg, eg, sg;

		conf_default(&c);
		memset(&u, 0, sizeof(u));
		u.uid = T_UID;
		u.gid = T_GID;
		if (privsep_drop_user(&c, &u, err, sizeof(err)) == -1)
			_exit(1);
		if (md_open(&md, mbox, err, sizeof(err)) != MD_OK || !md.spool)
			_exit(2);
		mark(&md, 0);
		if (maildrop_update(&md, err, sizeof(err)) != MD_OK)
			_exit(3);
		maildrop_close(&md);
		if (getresgid(&rg, &eg, &sg) == -1 || eg != T_GID ||
		    sg != gr->gr_gid)
			_exit(4);
		if (strcmp(names(dir, buf, sizeof(buf)), "mbox") != 0)
			_exit(5);
		ma.folder = true;
		if (md_open(&md, mbox, err, sizeof(err)) != MD_PERM)
			_exit(6);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	{
		size_t len;
		char *want = concat(NULL, 0x1e, &len);

		assert_file(want, len);
		free(want);
	}
}
END_TEST

/* pop3d -t: a link in the fixed part of the template names the real
 * path to configure. */
START_TEST(test_check_conf)
{
	struct conf c;
	char err[1024], p[700], real[PATH_MAX], want[PATH_MAX + 64];

	conf_default(&c);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s", sdir);
	if (geteuid() == 0)
		ck_assert_int_eq(chmod(sdir, 0755), 0);
	snprintf(p, sizeof(p), "%s/spool", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(c.maildrop, sizeof(c.maildrop), "%s/spool/%%u", dir);
	ck_assert_msg(maildrop_check_conf(&c, err, sizeof(err)) == 0, "%s",
	    err);
	/* RHEL: /var/mail -> spool/mail */
	snprintf(p, sizeof(p), "%s/mail", dir);
	ck_assert_int_eq(symlink("spool", p), 0);
	snprintf(c.maildrop, sizeof(c.maildrop), "%s/mail/%%u", dir);
	ck_assert_int_eq(maildrop_check_conf(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(realpath(dir, real));
	snprintf(want, sizeof(want), "configure maildrop = %s/spool/%%u",
	    real);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "is a symbolic link to spool") != NULL, "%s",
	    err);
	/* The same for an absolute pop2_folder_dir. */
	snprintf(c.maildrop, sizeof(c.maildrop), "/var/mail/%%u");
	snprintf(c.pop2_folder_dir, sizeof(c.pop2_folder_dir), "%s/mail/%%u",
	    dir);
	ck_assert_int_eq(maildrop_check_conf(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "pop2_folder_dir") != NULL, "%s", err);
	/* Home templates are judged at each login; a missing directory is
	 * no error (no mail yet). */
	snprintf(c.pop2_folder_dir, sizeof(c.pop2_folder_dir), "~/Mail");
	snprintf(c.maildrop, sizeof(c.maildrop), "%s/nosuch/%%u", dir);
	ck_assert_msg(maildrop_check_conf(&c, err, sizeof(err)) == 0, "%s",
	    err);
	/* The state directory is checked too. */
	snprintf(c.state_dir, sizeof(c.state_dir), "%s/nosuch", dir);
	ck_assert_int_eq(maildrop_check_conf(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "state_dir") != NULL, "%s", err);
}
END_TEST

/* A full spool: the login still works (an empty dotlock) and deleting
 * works when the state directory has room. */
START_TEST(test_full_spool)
{
	char small[600], box[700], fill[700], err[256], buf[256];
	struct maildrop md;
	size_t len;
	char *want;

	if (geteuid() != 0)
		return;
	snprintf(small, sizeof(small), "%s/small", dir);
	if (!tu_mount_tmpfs(small, "size=64k"))
		return;
	snprintf(box, sizeof(box), "%s/mbox", small);
	want = concat(NULL, 0x1f, &len);
	tu_write_file(box, want, len);
	free(want);
	snprintf(fill, sizeof(fill), "%s/filler", small);
	tu_fill_fs(fill);
	ck_assert_msg(md_open(&md, box, err, sizeof(err)) == MD_OK, "%s", err);
	ck_assert_uint_eq(md.scan.count, NMSG);
	mark(&md, 0);
	mark(&md, 3);
	ck_assert_msg(maildrop_update(&md, err, sizeof(err)) == MD_OK, "%s",
	    err);
	maildrop_close(&md);
	want = concat(NULL, 0x16, &len);
	{
		size_t glen;
		char *got = tu_read_file(box, &glen);

		ck_assert(glen == len && memcmp(got, want, len) == 0);
		free(got);
	}
	free(want);
	ck_assert_str_eq(names(small, buf, sizeof(buf)), "filler mbox");
	ck_assert_int_eq(umount2(small, MNT_DETACH), 0);
}
END_TEST

static Suite *
confine_suite(void)
{
	Suite *s = suite_create("confine");
	TCase *tc = tcase_create("confine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_session_flock);
	tcase_add_loop_test(tc, test_confined, 0, 2);
	tcase_add_test(tc, test_folder);
	tcase_add_test(tc, test_spool_mail_group);
	tcase_add_test(tc, test_check_conf);
	tcase_add_test(tc, test_full_spool);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(confine_suite)
