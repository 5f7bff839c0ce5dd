/*
 * auth_pam.c: one PAM transaction for a login (userdb = pam, built with
 * make PAM=1).  auth.c decides whether PAM is asked at all (the user must
 * be known to getpwnam, not uid 0, not a nologin shell) and this file
 * only asks it: pam_start on the service "pop3", pam_authenticate and
 * pam_acct_mgmt, a conversation that answers the password prompt, and
 * PAM_RHOST for modules that look at the client.  Runs in the session
 * master (root), never in the pre-auth child.  Without -DPOSTERN_PAM the
 * file only says that PAM is not built in.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_pam.h"
#include "log.h"
#include "params.h"

#ifdef POSTERN_PAM

#include <security/pam_appl.h>

/* What the conversation may answer with. */
struct auth_pam_data {
	const char	*pass;
};

bool
auth_pam_available(void)
{
	return true;
}

/* Frees n responses, wiping whatever they hold (passwords). */
static void
auth_pam_free(struct pam_response *resp, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (resp[i].resp != NULL) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	free(resp);
}

/*
 * The conversation: the password for a hidden prompt, nothing for
 * messages (logged at debug level), and failure for anything else (a
 * visible prompt asks for something a POP client never gave us).
 */
static int
auth_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp_r, void *appdata)
{
	const struct auth_pam_data *d = appdata;
	struct pam_response *resp;
	char safe[PARAM_RESP_MAX];
	const char *text;
	int i;

	*resp_r = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((resp = calloc((size_t)n, sizeof(*resp))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		text = msg[i]->msg != NULL ? msg[i]->msg : "";
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if ((resp[i].resp = strdup(d->pass)) == NULL) {
				auth_pam_free(resp, n);
				return PAM_BUF_ERR;
			}
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			log_debug("PAM says: %s", log_sanitize(text,
			    strlen(text), safe, sizeof(safe)));
			break;
		default:
			log_debug("PAM prompt not answered: %s",
			    log_sanitize(text, strlen(text), safe,
			    sizeof(safe)));
			auth_pam_free(resp, n);
			return PAM_CONV_ERR;
		}
	}
	*resp_r = resp;
	return PAM_SUCCESS;
}

/* PAM's failure delay (pam_unix asks for about 2 s) is replaced by the
 * session master's own, which also grows per client address. */
static void
auth_pam_nodelay(int retval, unsigned int usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

/* A failure of pam_authenticate: PAM cannot decide now (the reply says
 * "try again later"), or a refused login (anything else). */
static int
auth_pam_auth_result(int r)
{
	switch (r) {
	case PAM_AUTHINFO_UNAVAIL:
	case PAM_SYSTEM_ERR:
	case PAM_BUF_ERR:
	case PAM_ABORT:
	case PAM_SERVICE_ERR:
	case PAM_OPEN_ERR:
	case PAM_SYMBOL_ERR:
		return AUTH_ERROR;
	default:	/* PAM_AUTH_ERR, PAM_USER_UNKNOWN, PAM_MAXTRIES... */
		return AUTH_FAIL;
	}
}

int
auth_pam_check(const char *user, const char *pass, const char *rhost,
    char *errstr_r, size_t errlen)
{
	struct auth_pam_data d;
	struct pam_conv conv;
	pam_handle_t *ph = NULL;
	const void *item = NULL;
	int r, rc = AUTH_FAIL;
	const int flags = (int)(PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);

	d.pass = pass;
	conv.conv = auth_pam_conv;
	conv.appdata_ptr = &d;
	if ((r = pam_start(AUTH_PAM_SERVICE, user, &conv, &ph)) !=
	    PAM_SUCCESS) {
		snprintf(errstr_r, errlen, "PAM: cannot start service %s: %s",
		    AUTH_PAM_SERVICE, pam_strerror(ph, r));
		return AUTH_ERROR;
	}
	if ((rhost != NULL && (r = pam_set_item(ph, PAM_RHOST, rhost)) !=
	    PAM_SUCCESS) ||
	    (r = pam_set_item(ph, PAM_FAIL_DELAY,
	    (const void *)auth_pam_nodelay)) != PAM_SUCCESS) {
		snprintf(errstr_r, errlen, "PAM: pam_set_item: %s",
		    pam_strerror(ph, r));
		rc = AUTH_ERROR;
	} else if ((r = pam_authenticate(ph, flags)) != PAM_SUCCESS) {
		rc = auth_pam_auth_result(r);
		snprintf(errstr_r, errlen, "%s (PAM: %s)", rc == AUTH_FAIL ?
		    "bad password or locked account" :
		    "PAM cannot authenticate",
		    pam_strerror(ph, r));
	} else if ((r = pam_acct_mgmt(ph, flags)) != PAM_SUCCESS) {
		/* Expired or locked: a POP client cannot renew anything. */
		snprintf(errstr_r, errlen, "%s (PAM: %s)",
		    r == PAM_NEW_AUTHTOK_REQD ? "password expired" :
		    r == PAM_ACCT_EXPIRED ? "account expired" :
		    "account refused", pam_strerror(ph, r));
		rc = AUTH_FAIL;
	} else if ((r = pam_get_item(ph, PAM_USER, &item)) != PAM_SUCCESS ||
	    item == NULL || strcmp(item, user) != 0) {
		/* The uid and maildrop were looked up under our name. */
		snprintf(errstr_r, errlen, "PAM changed the user name");
		rc = AUTH_FAIL;
	} else
		rc = AUTH_OK;
	pam_end(ph, r);
	return rc;
}

#else	/* !POSTERN_PAM */

bool
auth_pam_available(void)
{
	return false;
}

int
auth_pam_check(const char *user, const char *pass, const char *rhost,
    char *errstr_r, size_t errlen)
{
	(void)user;
	(void)pass;
	(void)rhost;
	snprintf(errstr_r, errlen, "pop3d was built without PAM (make "
	    "PAM=1)");
	return AUTH_ERROR;
}

#endif	/* POSTERN_PAM */
