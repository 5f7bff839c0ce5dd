/*
 * auth_timing.h: what a failed login costs, kept the same for every kind
 * of failure (auth_timing.c).  The interface between auth.c and
 * auth_timing.c, and what the tests look at; nothing else calls it.
 * Runs in the session master, as auth.c does.
 */
#ifndef POSTERN_AUTH_TIMING_H
#define POSTERN_AUTH_TIMING_H

#include <crypt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "params.h"

/* Longest password checked: ours, or libxcrypt's if that is lower. */
#define AUTH_PASS_MAX	(PARAM_PASS_MAX < CRYPT_MAX_PASSPHRASE_SIZE ? \
			 PARAM_PASS_MAX : CRYPT_MAX_PASSPHRASE_SIZE - 1)

/* Distinct (method, cost) pairs remembered; more are ignored (logged). */
#define AUTH_TIMING_METHODS	16
/* The longest key: "$6$rounds=999999999$" and "$md5,rounds=...$" fit. */
#define AUTH_TIMING_KEY_MAX	32
/* The floor: AUTH_TIMING_FACTOR times the dearest method's crypt, plus
 * AUTH_TIMING_SLACK_MS for the look-ups, rounded up to a power of two
 * milliseconds (auth_timing.c says why). */
#define AUTH_TIMING_FACTOR	2
#define AUTH_TIMING_SLACK_MS	10

/*
 * The cost key of a crypt(3) hash or setting: its method and cost
 * parameters without the salt ("$y$j9T$", "$6$", "$6$rounds=80000$",
 * "$2b$10$", "$7$CU..../....", "_J9.." for BSDi, "" for DES), into
 * key[keylen]; *setting_len_r gets the length of its setting (method,
 * parameters and salt, without the hash), which crypt(3) accepts in
 * place of the whole hash.  Returns 0, or -1 when hash has no shape
 * crypt(3) could use or the key does not fit.
 */
int	auth_timing_key(const char *hash, char *key, size_t keylen,
	    size_t *setting_len_r);

/*
 * A passwd-file scan: auth_timing_scan_begin, then auth_timing_note for
 * the hash of every well-formed line, then auth_timing_scan_end(true)
 * once the scan has read the whole file (false keeps what the last
 * complete scan saw as well).  The methods noted are "in use" until the
 * next complete scan.  Locked and shapeless hashes are not noted.
 */
void	auth_timing_scan_begin(void);
void	auth_timing_note(const char *hash);
void	auth_timing_scan_end(bool complete);

/*
 * Notes the methods of every hash the shadow database enumerates
 * (setspent/getspent: root only; NSS sources that do not enumerate are
 * not seen).  They stay in use for the life of the process.
 */
void	auth_timing_note_shadow(void);

/*
 * Measures one crypt of each method in use that has not been measured
 * in this process or its parent (a fork keeps the costs).  Idempotent.
 */
void	auth_timing_measure(void);

/* The dummy setting for a user with no usable hash: a setting of the
 * dearest method in use (measuring first what is new).  Never NULL. */
const char *auth_timing_dummy(void);

/* The setting of the preferred method (yescrypt, else SHA-512), made
 * once per process: rmcpd's dummy, and always one of the methods in
 * use. */
const char *auth_timing_default(void);

/* A fresh setting of the preferred method into buf, salt from the OS:
 * for new hashes (auth_make_hash) and the default dummy.  0 / -1. */
int	auth_timing_gensalt(char *buf, size_t len);

/* The floor of a failed check, in nanoseconds, from the methods in use. */
int64_t	auth_timing_floor_ns(void);

/*
 * Sleeps until t0 (CLOCK_MONOTONIC, taken before the check's first
 * look-up) plus the floor, or plus the smallest multiple of the floor
 * that has not passed yet when the check ran over (then, with warn,
 * logged once per process).
 */
void	auth_timing_pad(const struct timespec *t0, bool warn);

/* One line for the log and the tests: the floor, the dummy's key and
 * each method in use with its cost.  Returns what snprintf returns. */
int	auth_timing_describe(char *buf, size_t len);

#endif
