#!/bin/bash
# demo.sh POP3D [pop3d options...]: sets up a demo maildrop, passwd-file
# and config under ./demo/ in the checkout, then runs POP3D in the
# foreground on 127.0.0.1:1110 (POP3) and 127.0.0.1:1109 (POP2), user demo,
# password demo, until Ctrl-C.
#
# Nothing outside the checkout is touched and no account is created.  As
# root, the pre-auth child and the mail session run as "nobody"; otherwise
# everything runs as the invoking user.  The mailbox is rewritten on every
# run, so mail deleted in one demo comes back in the next.
# Extra arguments go to pop3d, e.g. -d for a protocol transcript.
set -eu

if [ $# -lt 1 ]; then
	echo "usage: $0 path/to/pop3d [pop3d options...]" >&2
	exit 1
fi
POP3D=$1
shift
case "$POP3D" in
/*) ;;
*) POP3D=$PWD/$POP3D ;;
esac
if [ ! -x "$POP3D" ]; then
	echo "demo.sh: $POP3D is not an executable (run make first)" >&2
	exit 1
fi

# The physical path: sessions never follow a symbolic link.
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
DEMO=$ROOT/demo
PORT=1110
PORT2=1109
umask 022

for p in $PORT $PORT2; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "demo.sh: something already listens on 127.0.0.1:$p" \
		    "(another make demo?); stop it first" >&2
		exit 1
	fi
done

if [ "$(id -u)" -eq 0 ]; then
	AS_ROOT=1
	RUN_USER=nobody
	MAIL_UID=$(getent passwd nobody | cut -d: -f3)
	MAIL_GID=$(getent group nogroup | cut -d: -f3)
	if [ -z "$MAIL_UID" ] || [ -z "$MAIL_GID" ]; then
		echo "demo.sh: no user nobody or group nogroup" >&2
		exit 1
	fi
else
	AS_ROOT=0
	RUN_USER=$(id -un)
	MAIL_UID=$(id -u)
	MAIL_GID=$(id -g)
fi

# Start from scratch: the mailbox, its lock and journal files, all of it.
if ! rm -rf "$DEMO"; then
	echo "demo.sh: cannot remove $DEMO (made by root earlier?);" \
	    "remove it as root" >&2
	exit 1
fi
mkdir -p "$DEMO/mail" "$DEMO/empty" "$DEMO/state"
chmod 0755 "$DEMO" "$DEMO/empty" "$DEMO/state"
chmod 0700 "$DEMO/mail"

MBOX=$DEMO/mail/demo
# RFC 4155 mbox: "From sender asctime-date" separators, an empty line
# before each separator.  Message 2 was already read by a mail reader
# (Status: RO, hidden from POP clients), message 3 has lines starting
# with '.' (dot-stuffed on the wire) and a ">From " line (mboxo, sent as
# stored), message 4 is MIME with an attachment.
cat > "$MBOX" <<'MBOX'
From postmaster@example.org Mon Nov 16 08:02:11 2026
Return-Path: <postmaster@example.org>
Received: from mx.example.org (mx.example.org [192.0.2.25])
	by mail.example.org with ESMTP id 4Q1xYz; Mon, 16 Nov 2026 08:02:11 +0000
From: Postmaster <postmaster@example.org>
To: Demo User <demo@example.org>
Subject: Welcome to your new mailbox
Date: Mon, 16 Nov 2026 08:02:11 +0000
Message-ID: <20261116080211.4Q1xYz@mx.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hello,

this mailbox is served by postern's pop3d.  Fetch it with any POP3
client; messages you delete are gone only after you QUIT.

Regards,
the postmaster

From alice@example.net Wed Nov 18 14:31:07 2026
Return-Path: <alice@example.net>
From: Alice Martin <alice@example.net>
To: demo@example.org
Subject: Re: lunch on Thursday?
Date: Wed, 18 Nov 2026 14:31:07 +0100
Message-ID: <87h6x2k0a1.fsf@example.net>
In-Reply-To: <20261118101500.GA2211@example.org>
Content-Type: text/plain; charset=us-ascii
Status: RO
X-Status: A

Thursday works.  12:30 at the usual place?

Alice

From bob@example.com Fri Nov 20 09:45:30 2026
Return-Path: <bob@example.com>
From: Bob Keller <bob@example.com>
To: demo@example.org
Subject: config snippet you asked for
Date: Fri, 20 Nov 2026 09:45:30 -0500
Message-ID: <CAB9f7a1x0@mail.example.com>
Content-Type: text/plain; charset=us-ascii

Here is the part of my shell setup:

.profile:
  export EDITOR=vi
.
..and a line that starts with two dots.
>From the log: nothing unusual.

Bob

From seminar-admin@lists.example.edu Mon Nov 23 17:05:02 2026
Return-Path: <seminar-admin@lists.example.edu>
From: Seminar Office <seminar@example.edu>
To: seminar@lists.example.edu
Subject: December seminar schedule
Date: Mon, 23 Nov 2026 17:05:02 +0000
Message-ID: <sched-2026-12@example.edu>
List-Id: Seminar announcements <seminar.lists.example.edu>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_b0undary_42"

This is a multi-part message in MIME format.

--=_b0undary_42
Content-Type: text/plain; charset=utf-8

The December schedule is attached.

--=_b0undary_42
Content-Type: text/csv; name="schedule.csv"
Content-Disposition: attachment; filename="schedule.csv"
Content-Transfer-Encoding: base64

ZGF0ZSxyb29tLHNwZWFrZXIKMjAyNi0xMi0wMyxCLjIwNCxBbmEgU291emEKMjAyNi0xMi0xMCxC
LjIwNCxLZW5qaSBNb3JpCjIwMjYtMTItMTcsQXVsYSAxLFByaXlhIE5hdGFyYWphbgo=
--=_b0undary_42--

From root@mail.example.org Tue Nov 24 07:58:44 2026
Return-Path: <root@mail.example.org>
From: Cron Daemon <root@mail.example.org>
To: demo@example.org
Subject: Cron <demo@mail> /usr/local/bin/backup-home
Date: Tue, 24 Nov 2026 07:58:44 +0000
Message-ID: <20261124075844.7F3A1@mail.example.org>
X-Cron-Env: <SHELL=/bin/sh>

backup-home: 1843 files, 212 MiB, finished in 41 s.
MBOX
chmod 0600 "$MBOX"

HASH=$(printf 'demo\n' | "$POP3D" -P)
if [ -z "$HASH" ]; then
	echo "demo.sh: $POP3D -P printed no hash" >&2
	exit 1
fi
printf 'demo:%s:%s:%s:%s\n' "$HASH" "$MAIL_UID" "$MAIL_GID" "$MBOX" \
    > "$DEMO/passwd"
chmod 0600 "$DEMO/passwd"

{
	echo "# Generated by tests/demo.sh; rewritten by every make demo."
	echo "hostname = localhost"
	echo "listen = pop3 127.0.0.1:$PORT"
	echo "listen = pop2 127.0.0.1:$PORT2"
	echo "passwd_file = $DEMO/passwd"
	echo "maildrop = $DEMO/mail/%u"
	echo "state_dir = $DEMO/state"
	echo "chroot = $DEMO/empty"
	echo "pre_auth_user = $RUN_USER"
	echo "plaintext_auth = loopback"
	echo "auth_fail_delay = 500"
} > "$DEMO/postern.conf"

# fetchmail takes the password from its rc file, which must be 0600 and
# belong to whoever runs fetchmail (here: the user running this script).
# sslproto "": fetchmail 6.4 otherwise insists on STLS, which postern does
# not offer yet.  keep: leave the mail on the server; fetchall: fetch it
# again on every run; mda "cat": print it.  Its id and pid files stay in
# demo/ too.
cat > "$DEMO/fetchmailrc" <<EOF
# fetchmail -f $DEMO/fetchmailrc -v
set idfile "$DEMO/fetchids"
set pidfile "$DEMO/fetchmail.pid"
poll 127.0.0.1 service $PORT protocol POP3 auth password
	user "demo" password "demo" sslproto "" keep fetchall mda "cat"
EOF
chmod 0600 "$DEMO/fetchmailrc"

if [ "$AS_ROOT" -eq 1 ]; then
	# state_dir: root's, writable by nobody else; pop3d makes the
	# user's directory in it
	chown root:root "$DEMO/empty" "$DEMO/passwd" "$DEMO/state"
	chown "$MAIL_UID:$MAIL_GID" "$DEMO/mail" "$MBOX"
	# The session runs as nobody: it must reach the mailbox directory.
	if ! setpriv --reuid="$MAIL_UID" --regid="$MAIL_GID" \
	    --clear-groups test -w "$DEMO/mail" -a -x "$DEMO/mail"; then
		echo "demo.sh: WARNING: user nobody cannot reach $DEMO/mail" \
		    "(is the checkout in a private directory such as" \
		    "/root?); logins will fail" >&2
	fi
fi

if ! "$POP3D" -t -f "$DEMO/postern.conf" >/dev/null; then
	echo "demo.sh: $POP3D -t rejects $DEMO/postern.conf" >&2
	exit 1
fi

cat <<EOF

postern demo
============
  server      $POP3D -F -f $DEMO/postern.conf${*:+ $*}
  listening   pop3 on 127.0.0.1:$PORT, pop2 on 127.0.0.1:$PORT2 (plaintext login
              allowed: loopback)
  login       user demo, password demo
  mailbox     $MBOX (5 messages, rewritten by every make demo)
  passwd-file $DEMO/passwd
EOF
if [ "$AS_ROOT" -eq 1 ]; then
	echo "  runs as     session master root; pre-auth child $RUN_USER" \
	    "(chroot $DEMO/empty); mail session $RUN_USER"
else
	echo "  runs as     $RUN_USER (not started as root: one user," \
	    "no chroot)"
fi
cat <<EOF

Try, in another terminal:
  curl pop3://127.0.0.1:$PORT/ -u demo:demo            # LIST
  curl pop3://127.0.0.1:$PORT/1 -u demo:demo           # RETR 1
  curl pop3://127.0.0.1:$PORT/ -u demo:demo -X UIDL    # unique ids
  python3 -c 'import poplib; p = poplib.POP3("127.0.0.1", $PORT); p.user("demo"); p.pass_("demo"); print(p.stat()); print(b"\n".join(p.retr(3)[1]).decode()); p.quit()'
  fetchmail -f $DEMO/fetchmailrc -v     # fetch all, keep them, print to stdout
  socat - TCP:127.0.0.1:$PORT,crlf                     # type POP3 yourself: USER demo, PASS demo, LIST, QUIT
  socat - TCP:127.0.0.1:$PORT2,crlf                    # POP2 (RFC 937): HELO demo demo, READ, RETR, ACKS, QUIT

Ctrl-C stops the server.  Server log follows.

EOF

exec "$POP3D" -F -f "$DEMO/postern.conf" "$@"
