/*
 * recover_cmd.c: pop3d -R (recover_cmd.h).  Finds the user and the
 * maildrop, opens the user's state directory (as root, before the drop),
 * drops to the user as a session would, opens the maildrop confined and
 * takes its session and mbox locks, then shows the journal against the
 * file (journal_inspect), applies it although the bytes are not explained
 * (journal_force) or discards it (journal_discard).  Runs in a pop3d that
 * the administrator started, root or the invoking user; never in a
 * session.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "journal.h"
#include "lock.h"
#include "maildrop.h"
#include "privsep.h"
#include "recover_cmd.h"
#include "util.h"

#define RC_ERR_MAX	(PARAM_PATH_MAX + 256)
#define RC_JNAME_MAX	64	/* journal_name(): 25 octets */

#define ACT_SHOW	0
#define ACT_APPLY	1
#define ACT_DISCARD	2

/* What -R works on. */
struct rc_target {
	char		 path[PARAM_PATH_MAX];	/* the maildrop */
	struct auth_user u;			/* name, uid, gid */
};

static int
copy(char *buf, size_t len, const char *s)
{
	int n = snprintf(buf, len, "%s", s);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * TARGET is a path: the user is -u or the file's owner, the ids the
 * file's owner's (the invoking user's when not root).  Returns 0 or -1.
 */
static int
resolve_path(struct rc_target *t, const char *target, const char *user,
    char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	struct stat st;
	bool exists;

	if (copy(t->path, sizeof(t->path), target) == -1) {
		util_seterr(err, errlen, "%s: path too long", target);
		return -1;
	}
	exists = lstat(t->path, &st) == 0;
	if (exists)
		pw = getpwuid(st.st_uid);
	else if (user != NULL)
		pw = getpwnam(user);
	if (user == NULL && pw == NULL) {
		util_seterr(err, errlen, "%s: %s; name the user with -u",
		    t->path, exists ? "its owner has no account" :
		    "no such maildrop");
		return -1;
	}
	if (copy(t->u.name, sizeof(t->u.name), user != NULL ? user :
	    pw->pw_name) == -1 || !auth_valid_username(t->u.name,
	    strlen(t->u.name))) {
		util_seterr(err, errlen, "invalid user name");
		return -1;
	}
	if (geteuid() != 0) {
		t->u.uid = geteuid();
		t->u.gid = getegid();
	} else if (exists) {
		t->u.uid = st.st_uid;
		t->u.gid = pw != NULL ? pw->pw_gid : st.st_gid;
	} else if (pw != NULL) {
		t->u.uid = pw->pw_uid;
		t->u.gid = pw->pw_gid;
	} else {
		util_seterr(err, errlen, "%s: no such maildrop, and %s is no "
		    "system account", t->path, t->u.name);
		return -1;
	}
	return 0;
}

/* TARGET is a system user's name: its maildrop from the template. */
static int
resolve_user(const struct conf *c, struct rc_target *t, const char *name,
    char *err, size_t errlen)
{
	struct passwd *pw;

	if (!auth_valid_username(name, strlen(name))) {
		util_seterr(err, errlen, "invalid user name");
		return -1;
	}
	if ((pw = getpwnam(name)) == NULL && geteuid() == 0) {
		util_seterr(err, errlen, "no system user %s: give the "
		    "maildrop's path (and -u %s for a passwd-file user)", name,
		    name);
		return -1;
	}
	if (copy(t->u.name, sizeof(t->u.name), pw != NULL ? pw->pw_name :
	    name) == -1 || maildrop_expand(c->maildrop, t->u.name,
	    pw != NULL ? pw->pw_dir : NULL, t->path, sizeof(t->path)) == -1) {
		util_seterr(err, errlen, "cannot form %s's maildrop path from "
		    "\"%s\"", name, c->maildrop);
		return -1;
	}
	t->u.uid = geteuid() == 0 ? pw->pw_uid : geteuid();
	t->u.gid = geteuid() == 0 ? pw->pw_gid : getegid();
	return 0;
}

static const char *
part_text(int part)
{
	switch (part) {
	case JOURNAL_PART_EMPTY:
		return "empty";
	case JOURNAL_PART_NEW:
		return "new (the journal's content)";
	case JOURNAL_PART_OLD:
		return "old (as before the update)";
	case JOURNAL_PART_MIXED:
		return "mixed (each block old or new: a torn rewrite)";
	case JOURNAL_PART_FOREIGN:
		return "foreign";
	default:
		return "short";
	}
}

/*
 * What "apply" would do with a journal recovery refuses.  rest_mail: the
 * bytes past new_end start a message (a From_ line), as mail appended
 * after the truncate would; only then are they kept when the old tail is
 * gone, else they are the remains of what the other program wrote.
 */
static void
print_apply(FILE *out, const struct journal_state *js, const char *path,
    bool rest_mail)
{
	long long rest = (long long)(js->size - js->new_end);

	if (js->size < js->from || strcmp(js->recorded, path) != 0) {
		fprintf(out, "apply: would be refused\n");
		return;
	}
	fprintf(out, "apply: would rewrite [%lld, %lld)", (long long)js->from,
	    (long long)js->new_end);
	if (js->tail == JOURNAL_PART_OLD)
		fprintf(out, ", keep the %lld bytes appended past %lld and "
		    "truncate at %lld\n", (long long)(js->size - js->old_end),
		    (long long)js->old_end, (long long)js->new_end);
	else if (rest <= 0 || js->tail == JOURNAL_PART_EMPTY)
		fprintf(out, "\n");
	else if (rest_mail)
		fprintf(out, " and keep the %lld bytes past it (they start a "
		    "message)\n", rest);
	else
		fprintf(out, " and drop the %lld bytes past it (they start no "
		    "message)\n", rest);
}

/* See print_apply. */
static bool
rest_is_mail(int fd, const struct journal_state *js)
{
	char b[5];

	if (js->size <= js->new_end)
		return true;
	return pread(fd, b, sizeof(b), js->new_end) == (ssize_t)sizeof(b) &&
	    memcmp(b, "From ", sizeof(b)) == 0;
}

/* The report of a committed journal (js) against the maildrop. */
static void
print_committed(FILE *out, const struct journal_state *js, const char *path,
    bool rest_mail)
{
	fprintf(out, "recorded: %s, device %llu, inode %llu\n", js->recorded,
	    (unsigned long long)js->dev, (unsigned long long)js->ino);
	fprintf(out, "from: %lld\nnew_end: %lld\nold_end: %lld\n",
	    (long long)js->from, (long long)js->new_end,
	    (long long)js->old_end);
	fprintf(out, "region: [%lld, %lld) %s", (long long)js->from,
	    (long long)js->new_end, part_text(js->region));
	if (js->region == JOURNAL_PART_FOREIGN)
		fprintf(out, ": neither old nor new from offset %lld",
		    (long long)js->region_at);
	else if (js->region == JOURNAL_PART_SHORT)
		fprintf(out, ": the file ends at %lld", (long long)js->size);
	else if (js->region == JOURNAL_PART_MIXED)
		fprintf(out, ", first old block at %lld",
		    (long long)js->region_at);
	fprintf(out, "\ntail: [%lld, %lld) ", (long long)js->new_end,
	    (long long)js->old_end);
	if (js->tail == JOURNAL_PART_OLD)
		fprintf(out, "old (the truncate was not done)\n");
	else if (js->tail == JOURNAL_PART_FOREIGN)
		fprintf(out, "not the old bytes from offset %lld\n",
		    (long long)js->tail_at);
	else if (js->tail == JOURNAL_PART_SHORT)
		fprintf(out, "short: the file ends at %lld\n",
		    (long long)js->size);
	else
		fprintf(out, "empty\n");
	if (!js->explained) {
		fprintf(out, "verdict: refused: %s\n", js->reason);
		print_apply(out, js, path, rest_mail);
		return;
	}
	fprintf(out, "verdict: applied by recovery at the next login: it "
	    "rewrites [%lld, %lld)", (long long)js->from,
	    (long long)js->new_end);
	if (js->truncated)
		fprintf(out, " and keeps the %lld bytes past %lld (the "
		    "truncate was done)\n", (long long)js->appended,
		    (long long)js->new_end);
	else if (js->new_end == js->old_end)
		fprintf(out, "\n");
	else
		fprintf(out, ", keeps the %lld bytes appended past %lld "
		    "and truncates at %lld\n", (long long)js->appended,
		    (long long)js->old_end, (long long)js->new_end);
}

/* Prints the state; returns RECOVER_OK if recovery would cope alone. */
static int
print_state(FILE *out, const struct journal_state *js, const char *path,
    bool rest_mail)
{
	switch (js->status) {
	case JOURNAL_NONE:
		fprintf(out, "status: none\nverdict: nothing to do\n");
		return RECOVER_OK;
	case JOURNAL_UNCOMMITTED:
		fprintf(out, "status: uncommitted (torn before its commit: "
		    "the maildrop was not touched)\nverdict: removed by "
		    "recovery at the next login\n");
		return RECOVER_OK;
	case JOURNAL_DAMAGED:
		fprintf(out, "status: damaged: %s\nverdict: refused: the "
		    "journal cannot be used (discard it)\n", js->reason);
		return RECOVER_REFUSED;
	default:
		fprintf(out, "status: committed\n");
		print_committed(out, js, path, rest_mail);
		return js->explained ? RECOVER_OK : RECOVER_REFUSED;
	}
}

/* The maildrop is open and locked: show, apply or discard. */
static int
act(FILE *out, int action, int fd, int jdirfd, const char *jname,
    const char *path)
{
	struct journal_state js;
	char err[RC_ERR_MAX];
	struct stat st;
	bool rest_mail;
	int r;

	if (journal_inspect(fd, jdirfd, jname, path, &js, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "pop3d: %s: %s\n", path, err);
		return RECOVER_ERROR;
	}
	rest_mail = rest_is_mail(fd, &js);
	fprintf(out, "size: %lld\n", (long long)js.size);
	r = print_state(out, &js, path, rest_mail);
	if (action == ACT_SHOW)
		return r;
	if (action == ACT_DISCARD)
		r = journal_discard(jdirfd, jname, err, sizeof(err));
	else if (js.status == JOURNAL_DAMAGED) {
		fprintf(out, "apply: refused: the journal is damaged\n");
		return RECOVER_REFUSED;
	} else
		r = journal_force(fd, jdirfd, jname, path, rest_mail, err,
		    sizeof(err));
	if (r < 0) {
		if (r == JOURNAL_FOREIGN) {
			fprintf(out, "%s: refused: %s\n", action == ACT_APPLY ?
			    "apply" : "discard", err);
			return RECOVER_REFUSED;
		}
		fprintf(stderr, "pop3d: %s: %s\n", path, err);
		return RECOVER_ERROR;
	}
	st.st_size = 0;
	(void)fstat(fd, &st);
	if (r == 0)
		fprintf(out, "%s: nothing to do\n", action == ACT_APPLY ?
		    "apply" : "discard");
	else
		fprintf(out, "%s: done: journal removed; the maildrop holds "
		    "%lld bytes\n", action == ACT_APPLY ? "apply" : "discard",
		    (long long)st.st_size);
	return RECOVER_OK;
}

/* A missing maildrop: recovery never runs; only discard helps. */
static int
act_missing(FILE *out, int action, int jdirfd, const char *jname)
{
	char err[RC_ERR_MAX];
	struct stat st;
	int r;

	fprintf(out, "size: none (no such file)\n");
	if (fstatat(jdirfd, jname, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		fprintf(out, "status: none\nverdict: nothing to do\n");
		return RECOVER_OK;
	}
	fprintf(out, "status: present\nverdict: refused: the maildrop is "
	    "missing (discard the journal)\n");
	if (action != ACT_DISCARD)
		return RECOVER_REFUSED;
	if ((r = journal_discard(jdirfd, jname, err, sizeof(err))) == -1) {
		fprintf(stderr, "pop3d: %s\n", err);
		return RECOVER_ERROR;
	}
	fprintf(out, "discard: done: journal removed\n");
	return RECOVER_OK;
}

int
recover_cmd_run(const struct conf *c, const char *target, const char *user,
    const char *action, FILE *out)
{
	struct maildrop_args ma;
	struct maildrop md;
	struct mbox_lock ml;
	struct rc_target t;
	char err[RC_ERR_MAX], jname[RC_JNAME_MAX];
	int act_no, jdirfd, r;

	if (strcmp(action, "show") == 0)
		act_no = ACT_SHOW;
	else if (strcmp(action, "apply") == 0)
		act_no = ACT_APPLY;
	else if (strcmp(action, "discard") == 0)
		act_no = ACT_DISCARD;
	else {
		fprintf(stderr, "pop3d: -R: unknown action \"%s\" (show, "
		    "apply or discard)\n", action);
		return RECOVER_USAGE;
	}
	memset(&t, 0, sizeof(t));
	if (target[0] == '/')
		r = resolve_path(&t, target, user, err, sizeof(err));
	else if (user != NULL) {
		util_seterr(err, sizeof(err), "-u goes with a maildrop path");
		r = -1;
	} else
		r = resolve_user(c, &t, target, err, sizeof(err));
	if (r == -1 || journal_name(t.path, jname, sizeof(jname)) == -1) {
		fprintf(stderr, "pop3d: -R %s: %s\n", target, r == -1 ? err :
		    "bad maildrop path");
		return RECOVER_USAGE;
	}
	if (t.u.uid == 0) {
		fprintf(stderr, "pop3d: -R %s: the maildrop belongs to uid 0; "
		    "postern never serves it\n", t.path);
		return RECOVER_ERROR;
	}
	/* As a session would: the state directory while still root, then
	 * the user for everything else. */
	if ((jdirfd = privsep_state_dir(c, &t.u, t.u.name, err,
	    sizeof(err))) == -1 || privsep_drop_user(c, &t.u, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "pop3d: -R %s: %s\n", t.path, err);
		if (jdirfd != -1)
			close(jdirfd);
		return RECOVER_ERROR;
	}
	fprintf(out, "maildrop: %s\nuser: %s\njournal: %s/%s/%s\n", t.path,
	    t.u.name, c->state_dir, t.u.name, jname);
	memset(&ma, 0, sizeof(ma));
	ma.user = t.u.name;
	ma.jdirfd = jdirfd;
	ma.lock = &c->lock;
	ma.mboxrd = c->mboxrd;
	r = maildrop_open_locked(&md, t.path, &ma, &ml, err, sizeof(err));
	if (r != MD_OK) {
		fprintf(stderr, "pop3d: -R %s: %s (see the log lines above)\n",
		    t.path, err);
		close(jdirfd);
		return RECOVER_ERROR;
	}
	if (md.fd == -1)
		r = act_missing(out, act_no, jdirfd, jname);
	else {
		r = act(out, act_no, md.fd, jdirfd, jname, t.path);
		lock_mbox_release(&ml);
	}
	maildrop_close(&md);
	close(jdirfd);
	return r;
}
