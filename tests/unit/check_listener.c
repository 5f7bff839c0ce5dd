/*
 * check_listener.c: the listener's pure parts (src/listener_tab.c) and
 * the systemd protocol parsers (src/sd.c): SipHash against the reference
 * vectors, address grouping (IPv4, IPv6 /64, IPv4-mapped), the sliding
 * connection-rate window, the penalty formula, the log throttle, the
 * per-address table (limits, eviction of idle entries only, expiry,
 * children, login reports), matching a socket to a listen line,
 * LISTEN_PID/LISTEN_FDS, LISTEN_FDNAMES and NOTIFY_SOCKET parsing.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "testutil.h"

#include "conf.h"
#include "listener.h"
#include "sd.h"

static const uint8_t key0[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    12, 13, 14, 15 };

START_TEST(test_siphash_vectors)
{
	uint8_t msg[64];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	/* The SipHash paper, appendix A, and the reference vectors.h. */
	ck_assert_uint_eq(listener_siphash(key0, msg, 0),
	    UINT64_C(0x726fdb47dd0e0e31));
	ck_assert_uint_eq(listener_siphash(key0, msg, 1),
	    UINT64_C(0x74f839c593dc67fd));
	ck_assert_uint_eq(listener_siphash(key0, msg, 8),
	    UINT64_C(0x93f5f5799a932462));
	ck_assert_uint_eq(listener_siphash(key0, msg, 15),
	    UINT64_C(0xa129ca6149be45e5));
	ck_assert_uint_eq(listener_siphash(key0, msg, 63),
	    UINT64_C(0x958a324ceb064572));
}
END_TEST

static void
v4(const char *s, struct listener_addr *a)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, s, &sin.sin_addr), 1);
	listener_addr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin), a);
}

static void
v6(const char *s, struct listener_addr *a)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, s, &sin6.sin6_addr), 1);
	listener_addr_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin6),
	    a);
}

START_TEST(test_addr_grouping)
{
	struct listener_addr a, b;
	struct sockaddr_in sin;
	uint8_t raw[16];
	char buf[64];

	v4("192.0.2.1", &a);
	ck_assert_int_eq(a.family, AF_INET);
	v4("192.0.2.2", &b);
	ck_assert(!listener_addr_eq(&a, &b));
	/* IPv4-mapped IPv6 is the IPv4 address */
	v6("::ffff:192.0.2.1", &b);
	ck_assert_int_eq(b.family, AF_INET);
	ck_assert(listener_addr_eq(&a, &b));
	listener_addr_str(&b, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.1");
	/* one /64 is one address */
	v6("2001:db8:1:2::1", &a);
	v6("2001:db8:1:2:ffff:ffff:ffff:ffff", &b);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert(listener_addr_eq(&a, &b));
	listener_addr_str(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8:1:2::/64");
	v6("2001:db8:1:3::1", &b);
	ck_assert(!listener_addr_eq(&a, &b));
	/* ::1 and :: differ from every IPv4 address */
	v6("::1", &a);
	ck_assert_int_eq(a.family, AF_INET6);
	v4("0.0.0.1", &b);
	ck_assert(!listener_addr_eq(&a, &b));
	/* a session report says the same as the accepted address */
	memset(raw, 0, sizeof(raw));
	inet_pton(AF_INET6, "2001:db8:1:2::99", raw);
	listener_addr_from_raw(AF_INET6, raw, &b);
	v6("2001:db8:1:2::1", &a);
	ck_assert(listener_addr_eq(&a, &b));
	memset(raw, 0, sizeof(raw));
	inet_pton(AF_INET, "198.51.100.7", raw);
	listener_addr_from_raw(AF_INET, raw, &b);
	v4("198.51.100.7", &a);
	ck_assert(listener_addr_eq(&a, &b));
	/* junk in the unused octets of an IPv4 report is ignored */
	raw[10] = 0x55;
	listener_addr_from_raw(AF_INET, raw, &b);
	ck_assert(listener_addr_eq(&a, &b));
	/* other families and short sockaddrs: the one "local" group */
	listener_addr_from_raw(AF_UNIX, raw, &a);
	ck_assert_int_eq(a.family, 0);
	listener_addr_str(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "local");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	listener_addr_from_sockaddr((struct sockaddr *)&sin, 4, &b);
	ck_assert(listener_addr_eq(&a, &b));
	listener_addr_from_sockaddr(NULL, 0, &b);
	ck_assert(listener_addr_eq(&a, &b));
}
END_TEST

START_TEST(test_rate_window)
{
	struct listener_rate r;
	int64_t t = 1000;
	int i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		ck_assert(listener_rate_ok(&r, t + i, 3));
		listener_rate_add(&r, t + i);
	}
	ck_assert(!listener_rate_ok(&r, t + 3, 3));
	ck_assert(!listener_rate_ok(&r, t + 59, 3));
	/* 30 s into the next window, half of the last one still counts:
	 * 1 + 3 * 30/60 <= 3, but not 2 + 1.5 */
	ck_assert(listener_rate_ok(&r, t + 90, 3));
	listener_rate_add(&r, t + 90);
	ck_assert(!listener_rate_ok(&r, t + 90, 3));
	/* near the end of that window the old one has faded */
	ck_assert(listener_rate_ok(&r, t + 119, 3));
	/* two idle windows: a fresh start */
	ck_assert(listener_rate_ok(&r, t + 400, 3));
	listener_rate_add(&r, t + 400);
	ck_assert_uint_eq(r.cur, 1);
	ck_assert_uint_eq(r.prev, 0);
	/* a limit of one */
	memset(&r, 0, sizeof(r));
	ck_assert(listener_rate_ok(&r, 5, 1));
	listener_rate_add(&r, 5);
	ck_assert(!listener_rate_ok(&r, 64, 1));
	ck_assert(listener_rate_ok(&r, 5 + 120, 1));
	ck_assert(!listener_rate_ok(&r, 5, 0));
}
END_TEST

static const struct {
	unsigned int	 failures;
	int		 max;
	int		 want;
} penalties[] = {
	{ 0,		15000,	0 },
	{ 1,		15000,	250 },
	{ 2,		15000,	500 },
	{ 3,		15000,	1000 },
	{ 6,		15000,	8000 },
	{ 7,		15000,	15000 },	/* 16000 capped */
	{ 20,		15000,	15000 },
	{ 21,		15000,	15000 },
	{ 64,		15000,	15000 },	/* no shift past the width */
	{ UINT_MAX,	15000,	15000 },
	{ 1,		100,	100 },
	{ 5,		0,	0 },		/* off */
	{ 20,		60000,	60000 },
	{ 8,		60000,	32000 },
};

START_TEST(test_penalty)
{
	ck_assert_int_eq(listener_penalty_ms(penalties[_i].failures,
	    penalties[_i].max), penalties[_i].want);
}
END_TEST

START_TEST(test_throttle)
{
	struct listener_throttle t;
	uint32_t n = 99;
	int i;

	memset(&t, 0, sizeof(t));
	/* the first line goes out even at time 0 */
	ck_assert(listener_throttle(&t, 0, 10, &n));
	ck_assert_uint_eq(n, 0);
	for (i = 1; i <= 4; i++) {
		ck_assert(!listener_throttle(&t, i, 10, &n));
		ck_assert_uint_eq(n, (uint32_t)i);
	}
	ck_assert(listener_throttle(&t, 10, 10, &n));
	ck_assert_uint_eq(n, 4);
	ck_assert(!listener_throttle(&t, 11, 10, &n));
	ck_assert(listener_throttle(&t, 30, 10, &n));
	ck_assert_uint_eq(n, 1);
}
END_TEST

static struct listener_tab tab;

static void
tab_setup(size_t max)
{
	ck_assert_int_eq(listener_tab_init(&tab, max, key0), 0);
}

static const struct listener_limits lim3 = { 100, 2, 3 };

START_TEST(test_tab_limits)
{
	struct listener_limits busy = { 2, 10, 100 };
	struct listener_addr a, b, c;
	uint32_t pa, pb, p;

	tab_setup(0);
	v4("192.0.2.1", &a);
	v6("2001:db8::1", &b);
	ck_assert_int_eq(listener_tab_admit(&tab, &a, 100, &lim3, &pa),
	    LISTENER_ADMIT);
	ck_assert_int_eq(listener_tab_admit(&tab, &a, 100, &lim3, &p),
	    LISTENER_ADMIT);
	ck_assert_uint_eq(p, pa);
	/* two sessions alive: the third waits */
	ck_assert_int_eq(listener_tab_admit(&tab, &a, 100, &lim3, &p),
	    LISTENER_PER_ADDR);
	ck_assert_uint_eq(p, pa);
	ck_assert_uint_eq(listener_tab_peer(&tab, pa)->sessions, 2);
	/* another /64 member counts with its network */
	ck_assert_int_eq(listener_tab_admit(&tab, &b, 100, &lim3, &pb),
	    LISTENER_ADMIT);
	v6("2001:db8::2", &c);
	ck_assert_int_eq(listener_tab_admit(&tab, &c, 100, &lim3, &p),
	    LISTENER_ADMIT);
	ck_assert_uint_eq(p, pb);
	ck_assert_uint_eq(tab.active, 4);
	/* one ends; the rate (3 a minute) now stops the address */
	listener_tab_release(&tab, pa, 101);
	ck_assert_int_eq(listener_tab_admit(&tab, &a, 101, &lim3, &p),
	    LISTENER_ADMIT);
	listener_tab_release(&tab, pa, 102);
	ck_assert_int_eq(listener_tab_admit(&tab, &a, 102, &lim3, &p),
	    LISTENER_RATE);
	ck_assert_int_eq(listener_tab_admit(&tab, &a, 100 + 150, &lim3, &p),
	    LISTENER_ADMIT);
	/* the total */
	ck_assert_int_eq(listener_tab_admit(&tab, &c, 250, &busy, &p),
	    LISTENER_BUSY);
	ck_assert_uint_eq(p, pb);
	v4("192.0.2.99", &c);
	ck_assert_int_eq(listener_tab_admit(&tab, &c, 250, &busy, &p),
	    LISTENER_BUSY);
	ck_assert_uint_eq(p, LISTENER_NIL);
	ck_assert_uint_eq(listener_tab_find(&tab, &c), LISTENER_NIL);
	listener_tab_free(&tab);
}
END_TEST

START_TEST(test_tab_eviction)
{
	struct listener_limits lim = { 1000, 100, 1000 };
	struct listener_addr a[8];
	char s[32];
	uint32_t p[8], q;
	int i;

	tab_setup(4);
	for (i = 0; i < 8; i++) {
		snprintf(s, sizeof(s), "10.0.0.%d", i + 1);
		v4(s, &a[i]);
	}
	/* 0 and 1 busy; 2 and 3 idle, 2 the older */
	ck_assert_int_eq(listener_tab_admit(&tab, &a[0], 10, &lim, &p[0]), 0);
	ck_assert_int_eq(listener_tab_admit(&tab, &a[1], 10, &lim, &p[1]), 0);
	ck_assert_int_eq(listener_tab_admit(&tab, &a[2], 11, &lim, &p[2]), 0);
	ck_assert_int_eq(listener_tab_admit(&tab, &a[3], 12, &lim, &p[3]), 0);
	listener_tab_release(&tab, p[2], 13);
	listener_tab_release(&tab, p[3], 14);
	ck_assert_uint_eq(tab.count, 4);
	/* full: the least recently used idle peer (2) makes room */
	ck_assert_int_eq(listener_tab_admit(&tab, &a[4], 20, &lim, &p[4]), 0);
	ck_assert_uint_eq(tab.count, 4);
	ck_assert_uint_eq(tab.evicted, 1);
	ck_assert_uint_eq(listener_tab_find(&tab, &a[2]), LISTENER_NIL);
	ck_assert_uint_ne(listener_tab_find(&tab, &a[3]), LISTENER_NIL);
	/* then 3; then nothing idle is left: busy peers stay */
	ck_assert_int_eq(listener_tab_admit(&tab, &a[5], 21, &lim, &p[5]), 0);
	ck_assert_uint_eq(listener_tab_find(&tab, &a[3]), LISTENER_NIL);
	ck_assert_int_eq(listener_tab_admit(&tab, &a[6], 22, &lim, &q),
	    LISTENER_BUSY);
	for (i = 0; i < 6; i++)
		if (i != 2 && i != 3)
			ck_assert_uint_eq(listener_tab_find(&tab, &a[i]), p[i]);
	ck_assert_uint_eq(tab.active, 4);
	/* idle peers expire 15 minutes after their last use, oldest first */
	listener_tab_release(&tab, p[0], 30);
	listener_tab_release(&tab, p[1], 40);
	ck_assert_uint_eq(listener_tab_expire(&tab, 30 + 899), 0);
	ck_assert_uint_eq(listener_tab_expire(&tab, 30 + 900), 1);
	ck_assert_uint_eq(listener_tab_find(&tab, &a[0]), LISTENER_NIL);
	ck_assert_uint_eq(listener_tab_expire(&tab, 40 + 900), 1);
	ck_assert_uint_eq(tab.count, 2);
	/* a freed slot is reused */
	ck_assert_int_eq(listener_tab_admit(&tab, &a[7], 1000, &lim, &q), 0);
	ck_assert(q == p[0] || q == p[1]);
	ck_assert_uint_eq(tab.count, 3);
	listener_tab_free(&tab);
}
END_TEST

static void
count_child(pid_t pid, void *arg)
{
	ck_assert_int_gt(pid, 0);
	(*(int *)arg)++;
}

START_TEST(test_tab_children_reports)
{
	struct listener_addr a, b;
	struct listener_peer *pp;
	size_t peers, pen;
	uint32_t p, q;
	pid_t pid;
	int n = 0;

	tab_setup(0);
	v4("203.0.113.5", &a);
	v4("203.0.113.6", &b);
	/* many children (past one allocation), pids sharing buckets */
	for (pid = 100; pid < 100 + 300; pid++) {
		ck_assert_int_eq(listener_tab_admit(&tab, pid < 250 ? &a : &b,
		    50, &(struct listener_limits){ 1000, 1000, 1000 }, &p), 0);
		ck_assert_int_eq(listener_tab_child_reserve(&tab), 0);
		listener_tab_child_add(&tab, pid + 4096 * (pid % 3), p);
	}
	ck_assert_uint_eq(tab.nchildren, 300);
	listener_tab_children(&tab, count_child, &n);
	ck_assert_int_eq(n, 300);
	p = listener_tab_find(&tab, &a);
	q = listener_tab_find(&tab, &b);
	ck_assert_uint_eq(listener_tab_child_peer(&tab, 101 + 4096 * 2), p);
	ck_assert_uint_eq(listener_tab_child_peer(&tab, 101), LISTENER_NIL);
	ck_assert_uint_eq(listener_tab_child_peer(&tab, 399), q);
	ck_assert_uint_eq(listener_tab_child_peer(&tab, 0), LISTENER_NIL);
	ck_assert_uint_eq(listener_tab_child_peer(&tab, -1), LISTENER_NIL);
	ck_assert_uint_eq(listener_tab_peer(&tab, p)->sessions, 150);
	/* reaping decrements the right address; unknown pids do nothing */
	ck_assert(listener_tab_child_remove(&tab, 101 + 4096 * 2, 60));
	ck_assert(!listener_tab_child_remove(&tab, 101 + 4096 * 2, 60));
	ck_assert(!listener_tab_child_remove(&tab, 77777, 60));
	ck_assert_uint_eq(listener_tab_peer(&tab, p)->sessions, 149);
	ck_assert_uint_eq(tab.active, 299);
	ck_assert_uint_eq(tab.nchildren, 299);
	/* reports: failures count up, decay after 15 minutes, reset on a
	 * success */
	listener_tab_report(&tab, p, false, 100);
	listener_tab_report(&tab, p, false, 110);
	pp = listener_tab_peer(&tab, p);
	ck_assert_uint_eq(listener_peer_failures(pp, 110), 2);
	ck_assert_int_eq(listener_penalty_ms(listener_peer_failures(pp, 110),
	    15000), 500);
	listener_tab_stats(&tab, 110, &peers, &pen);
	ck_assert_uint_eq(peers, 2);
	ck_assert_uint_eq(pen, 1);
	ck_assert_uint_eq(listener_peer_failures(pp, 110 + 899), 2);
	ck_assert_uint_eq(listener_peer_failures(pp, 110 + 900), 0);
	listener_tab_report(&tab, p, false, 110 + 900);
	ck_assert_uint_eq(listener_peer_failures(pp, 110 + 900), 1);
	listener_tab_report(&tab, p, true, 110 + 901);
	ck_assert_uint_eq(listener_peer_failures(pp, 110 + 901), 0);
	listener_tab_report(&tab, LISTENER_NIL, false, 1);	/* ignored */
	listener_tab_report(&tab, 12345, false, 1);
	/* everything ends: the table is idle, then expires */
	for (pid = 100; pid < 100 + 300; pid++)
		(void)listener_tab_child_remove(&tab, pid + 4096 * (pid % 3),
		    2000);
	ck_assert_uint_eq(tab.nchildren, 0);
	ck_assert_uint_eq(tab.active, 0);
	n = 0;
	listener_tab_children(&tab, count_child, &n);
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(listener_tab_expire(&tab, 2000 + 900), 2);
	ck_assert_uint_eq(tab.count, 0);
	listener_tab_free(&tab);
}
END_TEST

START_TEST(test_tab_many)
{
	struct listener_limits lim = { 1000000, 10, 1000 };
	struct listener_addr a;
	struct sockaddr_in6 sin6;
	uint32_t p;
	int i;

	/* 70000 distinct /64s through a table of 65536: bounded, no loss of
	 * lookups for the recent ones */
	tab_setup(0);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr.s6_addr[0] = 0x20;
	sin6.sin6_addr.s6_addr[1] = 0x01;
	for (i = 0; i < 70000; i++) {
		sin6.sin6_addr.s6_addr[5] = (uint8_t)(i >> 16);
		sin6.sin6_addr.s6_addr[6] = (uint8_t)(i >> 8);
		sin6.sin6_addr.s6_addr[7] = (uint8_t)i;
		listener_addr_from_sockaddr((struct sockaddr *)&sin6,
		    sizeof(sin6), &a);
		ck_assert_int_eq(listener_tab_admit(&tab, &a, i, &lim, &p), 0);
		listener_tab_release(&tab, p, i);
		ck_assert_uint_eq(listener_tab_find(&tab, &a), p);
	}
	ck_assert_uint_eq(tab.count, LISTENER_PEERS_MAX);
	ck_assert_uint_eq(tab.evicted, 70000 - LISTENER_PEERS_MAX);
	listener_tab_free(&tab);
}
END_TEST

START_TEST(test_match_listen)
{
	static const char *lines[] = { "pop3 127.0.0.1:110", "pop2 *:109",
	    "pop3 [::1]:995", "pop2 192.0.2.1:110", "pop3 *:110" };
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct conf c;
	char err[256];
	size_t i;

	conf_default(&c);
	c.nlisten = 0;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ck_assert_int_eq(conf_parse_listen(&c.listen[c.nlisten++],
		    lines[i], err, sizeof(err)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(110);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin,
	    sizeof(sin)), 3);
	/* no exact line: the wildcard on the port */
	inet_pton(AF_INET, "10.1.1.1", &sin.sin_addr);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin,
	    sizeof(sin)), 4);
	sin.sin_port = htons(109);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin,
	    sizeof(sin)), 1);
	sin.sin_port = htons(111);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin,
	    sizeof(sin)), -1);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin,
	    4), -1);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(995);
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin6,
	    sizeof(sin6)), 2);
	/* IPv4-mapped compares as IPv4; "::" on 109 takes the wildcard */
	sin6.sin6_port = htons(110);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin6,
	    sizeof(sin6)), 0);
	sin6.sin6_port = htons(109);
	inet_pton(AF_INET6, "::", &sin6.sin6_addr);
	ck_assert_int_eq(listener_match_listen(&c, (struct sockaddr *)&sin6,
	    sizeof(sin6)), 1);
}
END_TEST

static const struct {
	const char	*pid;
	const char	*fds;
	int		 want;
} listen_envs[] = {
	{ NULL,		NULL,		0 },
	{ "SELF",	NULL,		0 },
	{ NULL,		"2",		0 },
	{ "1",		"2",		0 },	/* for another process */
	{ "SELF",	"1",		1 },
	{ "SELF",	"16",		16 },
	{ "SELF",	"0",		-1 },
	{ "SELF",	"",		-1 },
	{ "SELF",	"+1",		-1 },
	{ "SELF",	"-1",		-1 },
	{ "SELF",	" 1",		-1 },
	{ "SELF",	"1 ",		-1 },
	{ "SELF",	"1x",		-1 },
	{ "SELF",	"2147483644",	2147483644 },
	{ "SELF",	"2147483645",	-1 },	/* 3 + n overflows */
	{ "SELF",	"99999999999999999999", -1 },
	{ "0",		"1",		-1 },
	{ "",		"1",		-1 },
	{ "x",		"1",		-1 },
	{ "99999999999999999999", "1",	-1 },
};

START_TEST(test_listen_env)
{
	char self[32];
	const char *pid = listen_envs[_i].pid;

	snprintf(self, sizeof(self), "%ld", 4242L);
	if (pid != NULL && strcmp(pid, "SELF") == 0)
		pid = self;
	ck_assert_int_eq(sd_parse_listen_env(pid, listen_envs[_i].fds, 4242),
	    listen_envs[_i].want);
}
END_TEST

START_TEST(test_fdnames)
{
	int p[5];

	sd_parse_fdnames(NULL, p, 2);
	ck_assert_int_eq(p[0], 0);
	ck_assert_int_eq(p[1], 0);
	sd_parse_fdnames("pop3:pop2:other:POP2:pop3", p, 5);
	ck_assert_int_eq(p[0], PROTO_POP3);
	ck_assert_int_eq(p[1], PROTO_POP2);
	ck_assert_int_eq(p[2], 0);
	ck_assert_int_eq(p[3], PROTO_POP2);
	ck_assert_int_eq(p[4], PROTO_POP3);
	/* fewer names than descriptors; empty names; near misses */
	sd_parse_fdnames("pop2", p, 3);
	ck_assert_int_eq(p[0], PROTO_POP2);
	ck_assert_int_eq(p[1], 0);
	ck_assert_int_eq(p[2], 0);
	sd_parse_fdnames(":pop3::", p, 4);
	ck_assert_int_eq(p[0], 0);
	ck_assert_int_eq(p[1], PROTO_POP3);
	ck_assert_int_eq(p[2], 0);
	ck_assert_int_eq(p[3], 0);
	sd_parse_fdnames("pop33:pop:pop3d:xpop3", p, 4);
	ck_assert_int_eq(p[0], 0);
	ck_assert_int_eq(p[1], 0);
	ck_assert_int_eq(p[2], 0);
	ck_assert_int_eq(p[3], 0);
	sd_parse_fdnames("", p, 1);
	ck_assert_int_eq(p[0], 0);
}
END_TEST

START_TEST(test_notify_addr)
{
	struct sockaddr_un sun;
	socklen_t len;
	char longp[200];

	ck_assert_int_eq(sd_parse_notify_addr("/run/systemd/notify", &sun,
	    &len), 0);
	ck_assert_int_eq(sun.sun_family, AF_UNIX);
	ck_assert_str_eq(sun.sun_path, "/run/systemd/notify");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("/run/systemd/notify") + 1);
	/* abstract: a leading NUL, no trailing one */
	ck_assert_int_eq(sd_parse_notify_addr("@sd-notify/42", &sun, &len),
	    0);
	ck_assert_int_eq(sun.sun_path[0], '\0');
	ck_assert(memcmp(sun.sun_path + 1, "sd-notify/42", 12) == 0);
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 13);
	ck_assert_int_eq(sd_parse_notify_addr(NULL, &sun, &len), -1);
	ck_assert_int_eq(sd_parse_notify_addr("", &sun, &len), -1);
	ck_assert_int_eq(sd_parse_notify_addr("@", &sun, &len), -1);
	ck_assert_int_eq(sd_parse_notify_addr("/", &sun, &len), -1);
	ck_assert_int_eq(sd_parse_notify_addr("run/notify", &sun, &len), -1);
	ck_assert_int_eq(sd_parse_notify_addr("vsock:2:1234", &sun, &len),
	    -1);
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(sun.sun_path) - 1] = '\0';		/* fits, with NUL */
	ck_assert_int_eq(sd_parse_notify_addr(longp, &sun, &len), 0);
	longp[sizeof(sun.sun_path) - 1] = 'a';
	longp[sizeof(sun.sun_path)] = '\0';		/* one too long */
	ck_assert_int_eq(sd_parse_notify_addr(longp, &sun, &len), -1);
}
END_TEST

static Suite *
listener_suite(void)
{
	Suite *s = suite_create("listener");
	TCase *tc = tcase_create("listener");

	tcase_add_test(tc, test_siphash_vectors);
	tcase_add_test(tc, test_addr_grouping);
	tcase_add_test(tc, test_rate_window);
	tcase_add_loop_test(tc, test_penalty, 0,
	    (int)(sizeof(penalties) / sizeof(penalties[0])));
	tcase_add_test(tc, test_throttle);
	tcase_add_test(tc, test_tab_limits);
	tcase_add_test(tc, test_tab_eviction);
	tcase_add_test(tc, test_tab_children_reports);
	tcase_add_test(tc, test_tab_many);
	tcase_add_test(tc, test_match_listen);
	tcase_add_loop_test(tc, test_listen_env, 0,
	    (int)(sizeof(listen_envs) / sizeof(listen_envs[0])));
	tcase_add_test(tc, test_fdnames);
	tcase_add_test(tc, test_notify_addr);
	suite_add_tcase(s, tc);
	return s;
}

TU_MAIN(listener_suite)
