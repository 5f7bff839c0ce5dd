/*
 * conf_addr.c: the address values of the configuration file: pop3d's
 * "listen = PROTO HOST:PORT" lines and rmcpd's "rmcp_listen" list.  HOST
 * is an IPv4 address, '*' (every IPv4 address) or [IPv6]; PORT a number
 * or a service name, stored as a number.  Also the sizes with a k/M/G
 * suffix (session_memory_max).  Parsed by the master before any fork; no
 * privilege of its own.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

#define ADDR_SHOW	64	/* octets of a bad value quoted back */
#define SERV_MAX	15	/* longest service name looked up */

/* A port number 1-65535, or a service name of svcproto ("tcp", "udp"). */
static int
parse_port(const char *key, const char *s, const char *svcproto, char *buf,
    size_t len, char *msg, size_t msglen)
{
	struct servent *se;
	const char *p;
	char *end;
	long n;

	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (*end != '\0' || errno != 0 || n < 1 || n > 65535) {
			snprintf(msg, msglen, "%s: bad port \"%.*s\"; "
			    "allowed: 1 to 65535 or a service name", key,
			    ADDR_SHOW, s);
			return -1;
		}
		snprintf(buf, len, "%ld", n);
		return 0;
	}
	for (p = s; islower((unsigned char)*p) ||
	    isdigit((unsigned char)*p) || *p == '-'; p++)
		;
	if (!islower((unsigned char)s[0]) || *p != '\0' || p - s > SERV_MAX) {
		snprintf(msg, msglen, "%s: bad port \"%.*s\"; allowed: 1 to "
		    "65535 or a service name (lower-case letters, digits, "
		    "'-')", key, ADDR_SHOW, s);
		return -1;
	}
	if ((se = getservbyname(s, svcproto)) == NULL) {
		snprintf(msg, msglen, "%s: unknown service \"%s\" (no %s entry "
		    "in /etc/services); give the port number", key, s,
		    svcproto);
		return -1;
	}
	snprintf(buf, len, "%d", ntohs((unsigned short)se->s_port));
	return 0;
}

int
conf_parse_hostport(const char *key, const char *s, size_t len,
    const char *svcproto, const char *example, struct conf_listen *l,
    char *msg, size_t msglen)
{
	struct in6_addr a6;
	struct in_addr a4;
	char addr[PARAM_CONF_STR], *host, *port, *p;

	memset(l, 0, sizeof(*l));
	if (len >= sizeof(addr)) {
		snprintf(msg, msglen, "%s: address too long (at most %zu "
		    "octets)", key, sizeof(addr) - 1);
		return -1;
	}
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (addr[0] == '[') {
		if ((p = strchr(addr, ']')) == NULL || p[1] != ':') {
			snprintf(msg, msglen, "%s: \"%.*s\": expected "
			    "[IPv6]:PORT", key, ADDR_SHOW, addr);
			return -1;
		}
		*p = '\0';
		host = addr + 1;
		port = p + 2;
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			snprintf(msg, msglen, "%s: \"%.*s\" is not an IPv6 "
			    "address", key, ADDR_SHOW, host);
			return -1;
		}
	} else {
		if ((port = strrchr(addr, ':')) == NULL) {
			snprintf(msg, msglen, "%s: \"%.*s\" has no port; "
			    "expected HOST:PORT, e.g. %s", key, ADDR_SHOW,
			    addr, example);
			return -1;
		}
		if (strchr(addr, ':') != port) {
			snprintf(msg, msglen, "%s: \"%.*s\": an IPv6 address "
			    "goes in brackets, e.g. [::1]:%s", key, ADDR_SHOW,
			    addr, strchr(example, ':') + 1);
			return -1;
		}
		*port++ = '\0';
		host = addr;
		if (strcmp(host, "*") != 0 &&
		    inet_pton(AF_INET, host, &a4) != 1) {
			snprintf(msg, msglen, "%s: \"%.*s\" is not an address; "
			    "HOST is an IPv4 address, * (all addresses) or "
			    "[IPv6]", key, ADDR_SHOW, host);
			return -1;
		}
	}
	/* host is shorter than addr, and addr fits l->host. */
	snprintf(l->host, sizeof(l->host), "%s", host);
	return parse_port(key, port, svcproto, l->port, sizeof(l->port), msg,
	    msglen);
}

int
conf_parse_listen(struct conf_listen *l, const char *value, char *errstr_r,
    size_t errlen)
{
	const char *p, *a;
	size_t plen, alen;
	int proto;

	p = value + strspn(value, " \t");
	plen = strcspn(p, " \t");
	if (plen == 4 && strncasecmp(p, "pop3", 4) == 0)
		proto = PROTO_POP3;
	else if (plen == 4 && strncasecmp(p, "pop2", 4) == 0)
		proto = PROTO_POP2;
	else {
		snprintf(errstr_r, errlen, "listen: \"%.*s\" is not a "
		    "protocol; expected \"PROTO HOST:PORT\" with PROTO pop3 or "
		    "pop2, e.g. \"pop3 *:110\"", (int)(plen < ADDR_SHOW ?
		    plen : ADDR_SHOW), p);
		return -1;
	}
	a = p + plen;
	a += strspn(a, " \t");
	alen = strcspn(a, " \t");
	if (alen == 0 || a[alen + strspn(a + alen, " \t")] != '\0') {
		snprintf(errstr_r, errlen, "listen: expected \"PROTO "
		    "HOST:PORT\" (one address after the protocol), got "
		    "\"%.*s\"", ADDR_SHOW, value);
		return -1;
	}
	if (conf_parse_hostport("listen", a, alen, "tcp", "*:110", l,
	    errstr_r, errlen) == -1)
		return -1;
	l->proto = proto;
	return 0;
}

int
conf_parse_size(const char *s, long *r)
{
	const char *p = s;
	long v = 0, mult = 1;
	int d;

	/* Not isdigit(): the locale must not widen the set. */
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		d = *p - '0';
		if (v > (LONG_MAX - d) / 10)
			v = LONG_MAX;	/* stays there: out of every range */
		else
			v = v * 10 + d;
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024L;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1024L * 1024;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1024L * 1024 * 1024;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0')
		return -1;
	*r = v > LONG_MAX / mult ? LONG_MAX : v * mult;
	return 0;
}
