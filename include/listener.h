/*
 * listener.h: the standalone listener (pop3d -F, and pop3d as a daemon):
 * binds the config's listen addresses, accepts, forks one session master
 * per connection and reaps children.  Runs as root (or the invoking
 * user); it never parses a byte a client sends.
 */
#ifndef POSTERN_LISTENER_H
#define POSTERN_LISTENER_H

#include <stdbool.h>

#include "conf.h"
#include "privsep.h"

/* Binds every listen line.  Returns 0, or -1 with a reason. */
int	listener_bind(const struct conf *c, char *errstr_r, size_t errlen);

/* Accepts until SIGTERM or SIGINT; never exits because of a peer or a
 * failed accept or fork.  Returns the exit status. */
int	listener_run(const struct conf *c, const struct privsep_preauth *pa);

#endif
