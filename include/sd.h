/*
 * sd.h: the two small systemd protocols, implemented directly (no
 * libsystemd): socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES;
 * sd_listen_fds(3)) and readiness notification (NOTIFY_SOCKET;
 * sd_notify(3)).  Used by the standalone listener at start-up, as root or
 * the invoking user, before any session is forked.  The parsers are pure
 * functions so that the unit suite can run them without sockets.
 */
#ifndef POSTERN_SD_H
#define POSTERN_SD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stdbool.h>
#include <stddef.h>

/* sd_listen_fds(3): the passed sockets start at this descriptor. */
#define SD_LISTEN_FDS_START	3
/* systemd caps a descriptor name at 255 characters (FileDescriptorName=). */
#define SD_FDNAME_MAX		255

/*
 * Pure.  The number of descriptors passed to process self by LISTEN_PID
 * and LISTEN_FDS (either may be NULL): 0 when they are absent or meant for
 * another process, -1 when they are malformed (not a plain decimal, zero,
 * or so large that 3 + n overflows an int).
 */
int	sd_parse_listen_env(const char *listen_pid, const char *listen_fds,
	    pid_t self);

/*
 * Pure.  Splits LISTEN_FDNAMES (colon-separated; NULL or short is fine)
 * into a protocol for each of the n descriptors: PROTO_POP3 for "pop3",
 * PROTO_POP2 for "pop2" (either case), and 0 for any other name or a
 * missing one, meaning "match by the socket's address".
 */
void	sd_parse_fdnames(const char *names, int *protos_r, size_t n);

/*
 * Takes the sockets systemd passed (Accept=no): checks that each is a
 * listening SOCK_STREAM socket (others are logged and closed), sets
 * close-on-exec, and unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES in
 * every case.  Fills at most max entries of fds_r and protos_r (as
 * sd_parse_fdnames).  Returns the number of usable sockets, 0 when none
 * was passed to this process, or -1 with a reason (malformed variables,
 * or sockets passed but none usable).
 */
int	sd_listen_take(int *fds_r, int *protos_r, size_t max, char *errstr_r,
	    size_t errlen);

/* Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (pop3d -i). */
void	sd_listen_forget(void);

/*
 * Pure.  The address of NOTIFY_SOCKET: an absolute path, or "@name" for
 * an abstract socket.  Returns 0, or -1 for anything else (empty,
 * relative, too long for sun_path, "vsock:").
 */
int	sd_parse_notify_addr(const char *value, struct sockaddr_un *sun_r,
	    socklen_t *len_r);

/* Remembers NOTIFY_SOCKET and unsets it, so that no session sees it.
 * Returns true if notifications are wanted (a usable address). */
bool	sd_notify_init(void);

/*
 * Sends one notification ("READY=1\nSTATUS=...") to the remembered
 * socket as a datagram; nothing without one.  Best effort: returns 0, or
 * -1 after logging why (the service manager is gone or busy).
 */
int	sd_notify_send(const char *state);
int	sd_notify_sendf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
