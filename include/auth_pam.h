/*
 * auth_pam.h: one PAM attempt for auth.c (make PAM=1 builds it with
 * -DPOSTERN_PAM and -lpam; without it auth_pam_check only reports that
 * PAM is not built in, and conf.c refuses "userdb = pam").  Runs in the
 * session master (root), never in the pre-auth child.
 */
#ifndef POSTERN_AUTH_PAM_H
#define POSTERN_AUTH_PAM_H

#include <stdbool.h>
#include <stddef.h>

/* The PAM service: /etc/pam.d/pop3 (etc/pam.d/pop3 in the sources). */
#define AUTH_PAM_SERVICE	"pop3"

/* true when this pop3d was built with PAM. */
bool	auth_pam_available(void);

/*
 * One PAM transaction for user/pass: pam_start(AUTH_PAM_SERVICE),
 * PAM_RHOST = rhost (when not NULL), pam_authenticate and pam_acct_mgmt,
 * both with PAM_SILENT and PAM_DISALLOW_NULL_AUTHTOK.  The conversation
 * answers only PAM_PROMPT_ECHO_OFF (with pass); PAM's own failure delay is
 * replaced by a no-op because the session master applies its own.  An
 * expired account or password, or a module renaming the user, is a
 * failure.  Returns AUTH_OK, AUTH_FAIL or AUTH_ERROR (PAM unusable), with
 * a log-only reason in errstr_r on failure (never the password).  The
 * caller owns and wipes pass; the copies given to PAM are freed by PAM.
 */
int	auth_pam_check(const char *user, const char *pass, const char *rhost,
	    char *errstr_r, size_t errlen);

#endif
