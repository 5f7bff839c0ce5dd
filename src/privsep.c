/*
 * privsep.c: the privilege boundary.  This is the only file that calls
 * chroot, setgroups, setresgid or setresuid (style.md: the file boundary is
 * the privilege boundary).  The pre-auth child drops to an unprivileged
 * user in an empty chroot before it reads a byte from the network
 * (popa3d's model); the session master, which started as root, creates
 * the user's state directory and then drops to the mail user after a good
 * login, with no supplementary group at all and the mail group only as
 * its saved set-group-ID, so that it can switch to it for the one thing it
 * is for (dotlocks in a spool like Debian's root:mail 2775 /var/mail) and
 * nothing else ever runs with it; it never regains root; both drops are
 * verified afterwards.  The master reads the child's hand-off as it would
 * read a network peer: every length is bounded.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "privsep.h"
#include "safeopen.h"
#include "util.h"
#include "sandbox.h"

/* Supplementary groups a dropped process keeps: its own at most. */
#define PRIVSEP_GROUPS_MAX	1
/* The mode of a user's state directory (INTERFACES 2). */
#define PRIVSEP_STATE_MODE	0700

/*
 * Groups that give away the system to a process that holds one: a session
 * process (exposed to the network after login) must never run with one,
 * neither as mail_group nor as the user's own group.  gid 0 is refused
 * whatever its name.
 */
static const struct {
	const char	*name;
	const char	*why;
} privsep_unsafe_groups[] = {
	{ "root",		"root's group owns much of the system" },
	{ "wheel",		"its members become root (su, sudo)" },
	{ "sudo",		"its members become root (sudo)" },
	{ "admin",		"its members become root (sudo, older Ubuntu)" },
	{ "shadow",		"it reads every password hash (/etc/shadow)" },
	{ "disk",		"it reads and writes every block device" },
	{ "kmem",		"it reads kernel memory" },
	{ "tty",		"it writes to every terminal" },
	{ "adm",		"it reads the system logs" },
	{ "systemd-journal",	"it reads the whole journal" },
	{ "staff",		"it writes /usr/local, where root finds "
				"programs" },
	{ "docker",		"the docker socket is root" },
	{ "lxd",		"the LXD socket is root" },
	{ "libvirt",		"the libvirt socket is root" },
	{ "input",		"it reads every keyboard" },
};

#define PRIVSEP_NUNSAFE	\
	(sizeof(privsep_unsafe_groups) / sizeof(privsep_unsafe_groups[0]))
/* Descriptors one poll() of the pre-auth child watches (iobuf.c). */
#define PRIVSEP_PREAUTH_NOFILE	1

/* true if dir holds nothing but "." and "..". */
static bool
dir_is_empty(const char *dir)
{
	struct dirent *de;
	DIR *d;
	bool empty = true;

	if ((d = opendir(dir)) == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

/* Whether a missing mail_group was logged: once per daemon, the
 * sessions inherit the flag from the listener. */
static bool	mail_group_warned;

/*
 * Resolves c->mail_group.  Returns 1 with *gid_r, or 0 when none is
 * configured or the group does not exist (logged once: the session then
 * goes without it, and dotlocks in a group-writable spool will fail).
 */
static int
mail_group_gid(const struct conf *c, gid_t *gid_r)
{
	struct group *gr;

	if (c->mail_group[0] == '\0')
		return 0;
	errno = 0;
	if ((gr = getgrnam(c->mail_group)) != NULL) {
		*gid_r = gr->gr_gid;
		return 1;
	}
	if (!mail_group_warned) {
		mail_group_warned = true;
		log_warnx("mail_group \"%s\" does not exist%s%s; sessions "
		    "run without it (set mail_group = none to silence this)",
		    c->mail_group, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
	}
	return 0;
}

/* Why a group of this name must not be a session's, or NULL. */
static const char *
group_name_unsafe(const char *name)
{
	size_t i;

	for (i = 0; i < PRIVSEP_NUNSAFE; i++)
		if (strcmp(name, privsep_unsafe_groups[i].name) == 0)
			return privsep_unsafe_groups[i].why;
	return NULL;
}

/* Why gid must not be a session's, or NULL: gid 0, or a gid whose name
 * is listed (so that another name for shadow's gid is shadow too). */
static const char *
group_unsafe(gid_t gid)
{
	const struct group *gr;

	if (gid == 0)
		return "gid 0 is root's group";
	if ((gr = getgrgid(gid)) != NULL)
		return group_name_unsafe(gr->gr_name);
	return NULL;
}

/* The start-up check of mail_group (also as a non-root user: pop3d -t
 * must say what a root start would refuse).  0, or -1 with a reason. */
static int
mail_group_check(const struct conf *c, char *errstr_r, size_t errlen)
{
	const struct group *gr;
	const char *why;

	if (c->mail_group[0] == '\0')
		return 0;
	why = group_name_unsafe(c->mail_group);
	if (why == NULL && (gr = getgrnam(c->mail_group)) != NULL)
		why = group_unsafe(gr->gr_gid);
	if (why == NULL)
		return 0;
	snprintf(errstr_r, errlen, "mail_group \"%s\" refused: %s; every "
	    "session would keep it.  Name the spool's group (usually mail) "
	    "or none in %s", c->mail_group, why, c->file);
	return -1;
}

int
privsep_preauth_init(const struct conf *c, struct privsep_preauth *p,
    char *errstr_r, size_t errlen)
{
	struct passwd *pw;
	struct stat st;
	gid_t gid;

	memset(p, 0, sizeof(*p));
	if (mail_group_check(c, errstr_r, errlen) == -1)
		return -1;
	if (geteuid() != 0) {
		p->as_root = false;
		return 0;
	}
	p->as_root = true;
	if ((pw = getpwnam(c->pre_auth_user)) == NULL) {
		snprintf(errstr_r, errlen, "pre_auth_user \"%s\" does not "
		    "exist; create it (adduser --system --no-create-home "
		    "--group %s) or set pre_auth_user in %s",
		    c->pre_auth_user, c->pre_auth_user, c->file);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(errstr_r, errlen, "pre_auth_user \"%s\" has uid or "
		    "gid 0: the pre-auth code must never run as root; name "
		    "an unprivileged user in %s", c->pre_auth_user, c->file);
		return -1;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	if (c->chroot_dir[0] != '/') {
		snprintf(errstr_r, errlen, "chroot \"%s\" is not an absolute "
		    "path", c->chroot_dir);
		return -1;
	}
	if (stat(c->chroot_dir, &st) == -1) {
		snprintf(errstr_r, errlen, "chroot \"%s\": %s; create it "
		    "(install -d -o root -g root -m 0755 %s)", c->chroot_dir,
		    strerror(errno), c->chroot_dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(errstr_r, errlen, "chroot \"%s\" must be a directory "
		    "owned by root and writable by nobody else",
		    c->chroot_dir);
		return -1;
	}
	if (!dir_is_empty(c->chroot_dir)) {
		snprintf(errstr_r, errlen, "chroot \"%s\" must be empty: the "
		    "pre-auth code must find nothing there", c->chroot_dir);
		return -1;
	}
	if ((size_t)snprintf(p->chroot_dir, sizeof(p->chroot_dir), "%s",
	    c->chroot_dir) >= sizeof(p->chroot_dir)) {
		snprintf(errstr_r, errlen, "chroot path too long");
		return -1;
	}
	/* A missing mail_group is worth a word at start-up, not an error. */
	(void)mail_group_gid(c, &gid);
	return 0;
}

/* true if the supplementary groups are exactly groups[0, n). */
static bool
groups_are(const gid_t *groups, size_t n)
{
	gid_t got[PRIVSEP_GROUPS_MAX + 1];
	size_t i, j;
	int m;

	if ((m = getgroups(PRIVSEP_GROUPS_MAX + 1, got)) == -1 ||
	    (size_t)m != n)
		return false;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n && got[j] != groups[i]; j++)
			;
		if (j == n)
			return false;
	}
	return true;
}

/*
 * Drops to uid/gid with exactly the supplementary groups[0, ngroups)
 * (style.md 6: setgroups, setresgid, setresuid); then proves that root
 * cannot be regained and that nothing else was kept.
 */
static int
drop_ids(uid_t uid, gid_t gid, gid_t sgid, const gid_t *groups,
    size_t ngroups, char *errstr_r, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(ngroups, groups) == -1 ||
	    setresgid(gid, gid, sgid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(errstr_r, errlen, "cannot drop privileges to "
		    "uid %lu gid %lu: %s", (unsigned long)uid,
		    (unsigned long)gid, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || seteuid(0) != -1 ||
	    (gid != 0 && setgid(0) != -1)) {
		snprintf(errstr_r, errlen, "root could be regained after "
		    "dropping privileges");
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) ==
	    -1 || ru != uid || eu != uid || su != uid || rg != gid ||
	    eg != gid || sg != sgid || !groups_are(groups, ngroups)) {
		snprintf(errstr_r, errlen, "ids or groups are not the ones "
		    "dropped to (uid %lu gid %lu and %zu groups)",
		    (unsigned long)uid, (unsigned long)gid, ngroups);
		return -1;
	}
	return 0;
}

void
privsep_drop_preauth(const struct privsep_preauth *p, int rfd, int wfd,
    int psfd)
{
	const int keep[] = { rfd, wfd, psfd };
	char err[256];

	/* Before the chroot: /proc names what is open. */
	sandbox_close_fds(keep, sizeof(keep) / sizeof(keep[0]));
	if (p->as_root) {
		/* style.md 6: chroot, chdir, setgroups, setresgid,
		 * setresuid. */
		if (chroot(p->chroot_dir) == -1)
			fatal("chroot %s", p->chroot_dir);
		if (chdir("/") == -1)
			fatal("chdir /");
		if (drop_ids(p->uid, p->gid, p->gid, &p->gid, 1, err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
	}
	/* Not root: the same uid as the master, and the same confinement. */
	if (sandbox_enter(SANDBOX_PREAUTH, PRIVSEP_PREAUTH_NOFILE, err,
	    sizeof(err)) == -1)
		fatalx("pre-auth sandbox: %s", err);
}

/* Before a session drops to gid with groups[0, n): none may give away
 * the system (the group database may have changed since start-up, and a
 * passwd-file entry names any gid).  0, or -1 with a reason. */
static int
session_groups_check(gid_t gid, const gid_t *groups, size_t n,
    char *errstr_r, size_t errlen)
{
	const char *why;
	size_t i;

	if ((why = group_unsafe(gid)) != NULL) {
		snprintf(errstr_r, errlen, "refusing to serve a maildrop with "
		    "group %lu: %s", (unsigned long)gid, why);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((why = group_unsafe(groups[i])) != NULL) {
			snprintf(errstr_r, errlen, "refusing to keep the mail "
			    "group %lu: %s", (unsigned long)groups[i], why);
			return -1;
		}
	return 0;
}

/* The mail group kept by privsep_drop_user (a trusted group for the
 * checks of safeopen.c and lock.c), and whether it is the saved
 * set-group-ID that privsep_mail_group() switches to. */
static gid_t	kept_mail_gid = SAFEOPEN_NO_GID;
static bool	mail_gid_saved;

gid_t
privsep_conf_mail_gid(const struct conf *c)
{
	gid_t gid;

	return mail_group_gid(c, &gid) == 1 ? gid : SAFEOPEN_NO_GID;
}

int
privsep_drop_user(const struct conf *c, const struct auth_user *u,
    char *errstr_r, size_t errlen)
{
	mail_gid_saved = false;
	kept_mail_gid = privsep_conf_mail_gid(c);
	if (geteuid() != 0)
		return 0;	/* already the invoking user: nothing to do */
	if (u->uid == 0) {
		snprintf(errstr_r, errlen, "refusing to serve a maildrop as "
		    "uid 0");
		return -1;
	}
	if (session_groups_check(u->gid, &kept_mail_gid, kept_mail_gid !=
	    SAFEOPEN_NO_GID ? 1 : 0, errstr_r, errlen) == -1)
		return -1;
	/* No supplementary group at all (neither root's nor the user's
	 * own); the mail group only as the saved set-group-ID, switched
	 * on around dotlock operations in the spool and nowhere else. */
	if (drop_ids(u->uid, u->gid, kept_mail_gid != SAFEOPEN_NO_GID ?
	    kept_mail_gid : u->gid, NULL, 0, errstr_r, errlen) == -1)
		return -1;
	mail_gid_saved = kept_mail_gid != SAFEOPEN_NO_GID &&
	    kept_mail_gid != u->gid;
	return 0;
}

gid_t
privsep_mail_gid(void)
{
	return kept_mail_gid;
}

int
privsep_mail_group(bool on)
{
	gid_t want;

	if (!mail_gid_saved)
		return 0;
	want = on ? kept_mail_gid : getgid();
	if (setresgid((gid_t)-1, want, (gid_t)-1) == -1 || getegid() != want)
		return -1;
	return 0;
}

/*
 * Opens state_dir itself (no symlink at any level) and checks it: as
 * root owned by root and writable by nobody else, else owned by the euid.
 * Returns an O_RDONLY | O_DIRECTORY fd, or -1 with a reason.
 */
static int
open_state_root(const struct conf *c, char *errstr_r, size_t errlen)
{
	char why[PARAM_PATH_MAX + 128];
	struct stat st;
	int fd, e;

	fd = safeopen_at(AT_FDCWD, NULL, c->state_dir, O_RDONLY | O_DIRECTORY,
	    0, why, sizeof(why));
	if (fd == -1) {
		e = errno;
		snprintf(errstr_r, errlen, "state_dir: %s%s%s%s", why,
		    e == ENOENT ? "; create it (install -d -m 0755 " : "",
		    e == ENOENT ? c->state_dir : "", e == ENOENT ? ")" : "");
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(errstr_r, errlen, "state_dir %s: %s", c->state_dir,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && (st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
		snprintf(errstr_r, errlen, "state_dir %s must be a directory "
		    "owned by root and writable by nobody else (chown root %s; "
		    "chmod 0755 %s)", c->state_dir, c->state_dir, c->state_dir);
		close(fd);
		return -1;
	}
	if (geteuid() != 0 && st.st_uid != geteuid()) {
		snprintf(errstr_r, errlen, "state_dir %s is owned by uid %lu; "
		    "not started as root, it must be owned by uid %lu",
		    c->state_dir, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
		close(fd);
		return -1;
	}
	return fd;
}

int
privsep_state_dir_check(const struct conf *c, char *errstr_r, size_t errlen)
{
	int fd = open_state_root(c, errstr_r, errlen);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

int
privsep_state_dir(const struct conf *c, const struct auth_user *u,
    const char *name, char *errstr_r, size_t errlen)
{
	char why[PARAM_PATH_MAX + 128];
	struct stat st;
	uid_t want = geteuid() == 0 ? u->uid : geteuid();
	gid_t wantg = geteuid() == 0 ? u->gid : getegid();
	bool made = false;
	int sfd, fd;

	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		snprintf(errstr_r, errlen, "bad state directory name");
		return -1;
	}
	if ((sfd = open_state_root(c, errstr_r, errlen)) == -1)
		return -1;
	if (mkdirat(sfd, name, PRIVSEP_STATE_MODE) == 0)
		made = true;
	else if (errno != EEXIST) {
		snprintf(errstr_r, errlen, "state directory %s/%s: mkdir: %s",
		    c->state_dir, name, strerror(errno));
		close(sfd);
		return -1;
	}
	fd = safeopen_at(sfd, c->state_dir, name, O_RDONLY | O_DIRECTORY, 0,
	    why, sizeof(why));
	close(sfd);
	if (fd == -1) {
		snprintf(errstr_r, errlen, "state directory: %s", why);
		return -1;
	}
	/* Made by us in a directory nobody else may write: give it to the
	 * user (the umask may have narrowed its mode, too). */
	if (made && ((geteuid() == 0 && fchown(fd, want, wantg) == -1) ||
	    fchmod(fd, PRIVSEP_STATE_MODE) == -1)) {
		snprintf(errstr_r, errlen, "state directory %s/%s: %s",
		    c->state_dir, name, strerror(errno));
		close(fd);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != want || (st.st_mode & 077) != 0) {
		snprintf(errstr_r, errlen, "state directory %s/%s must be a "
		    "directory owned by uid %lu with no group or other access "
		    "(mode 0700)", c->state_dir, name, (unsigned long)want);
		close(fd);
		return -1;
	}
	return fd;
}

/* Wire format of the hand-off, both ways: a header of three 32-bit
 * lengths (or verdict + text length), then the bytes. */
struct handoff_hdr {
	uint32_t	 a, b, c;
};

int
privsep_send_creds(int fd, const struct privsep_creds *cr, char *text_r,
    size_t textlen)
{
	struct handoff_hdr h;
	char text[PARAM_RESP_MAX];
	size_t ulen = strlen(cr->user), plen = strlen(cr->pass);

	/* Test build: the child has parsed a login from the network. */
	sandbox_test_point();
	h.a = (uint32_t)ulen;
	h.b = (uint32_t)plen;
	h.c = (uint32_t)cr->pending_len;
	if (util_send_full(fd, &h, sizeof(h)) == -1 ||
	    util_send_full(fd, cr->user, ulen) == -1 ||
	    util_send_full(fd, cr->pass, plen) == -1 ||
	    util_send_full(fd, cr->pending, cr->pending_len) == -1)
		return -1;
	if (util_read_full(fd, &h, sizeof(h)) == -1 || h.b >= sizeof(text) ||
	    util_read_full(fd, text, h.b) == -1)
		return -1;
	text[h.b] = '\0';
	snprintf(text_r, textlen, "%s", text);
	if (h.a != PRIVSEP_OK && h.a != PRIVSEP_FAIL && h.a != PRIVSEP_CLOSE)
		return -1;
	return (int)h.a;
}

int
privsep_recv_creds(int fd, struct privsep_creds *cr)
{
	struct handoff_hdr h;

	memset(cr, 0, sizeof(*cr));
	if (util_read_full(fd, &h, sizeof(h)) == -1)
		return -1;
	/* The child is as trusted as the network: bound everything. */
	if (h.a == 0 || h.a > PARAM_USER_MAX || h.b > PARAM_PASS_MAX ||
	    h.c > sizeof(cr->pending)) {
		log_warnx("pre-auth child sent a malformed hand-off "
		    "(lengths %u/%u/%u)", h.a, h.b, h.c);
		return -1;
	}
	if (util_read_full(fd, cr->user, h.a) == -1 ||
	    util_read_full(fd, cr->pass, h.b) == -1 ||
	    util_read_full(fd, cr->pending, h.c) == -1) {
		explicit_bzero(cr, sizeof(*cr));
		return -1;
	}
	cr->user[h.a] = '\0';
	cr->pass[h.b] = '\0';
	cr->pending_len = h.c;
	if (memchr(cr->user, '\0', h.a) != NULL ||
	    memchr(cr->pass, '\0', h.b) != NULL) {
		explicit_bzero(cr, sizeof(*cr));
		return -1;
	}
	return 0;
}

int
privsep_send_verdict(int fd, int verdict, const char *text)
{
	struct handoff_hdr h;
	size_t len = strlen(text);

	if (len >= PARAM_RESP_MAX)
		len = PARAM_RESP_MAX - 1;
	h.a = (uint32_t)verdict;
	h.b = (uint32_t)len;
	h.c = 0;
	if (util_send_full(fd, &h, sizeof(h)) == -1 ||
	    util_send_full(fd, text, len) == -1)
		return -1;
	return 0;
}
