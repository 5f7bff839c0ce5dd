/*
 * check_rmcp.c: the RFC 1339 codec and state machine (src/rmcp.c): the
 * byte vectors of protocol-notes §1.3, the request parser and the reading
 * of replies as tables, the ages (ties, skew, saturation), the LRU tables
 * against a reference model, and the state machine of §1.5 as scripts:
 * reserved ports, rate limits, authentication, failures and blocks, the
 * crypt budget, lifetimes and caps.  The responder on real files is
 * check_rmcpd.c.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "testutil.h"

#include "rmcp.h"

static const uint8_t seed[16] = "postern-rmcp-ut";

static struct rmcp_addr
addr(const char *ip, uint16_t port)
{
	struct rmcp_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, ip, a.addr) == 1)
		a.family = 4;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, a.addr), 1);
		a.family = 6;
	}
	a.port = port;
	return a;
}

static size_t
mkpoll(uint8_t *buf, const char *name)
{
	size_t n = rmcp_put_poll(buf, RMCP_DGRAM_MAX, name);

	ck_assert_uint_gt(n, 0);
	return n;
}

static size_t
mkauth(uint8_t *buf, uint32_t mask, const char *secret)
{
	return rmcp_put_auth(buf, RMCP_DGRAM_MAX, mask, secret,
	    strlen(secret));
}

/* --- Codec ------------------------------------------------------------ */

/* protocol-notes §1.3, user alice, now T. */
START_TEST(test_vectors)
{
	static const uint8_t poll_v[] = { 0, 0, 0, 0, 'a', 'l', 'i', 'c',
	    'e' };
	static const uint8_t new_v[] = { 0, 0, 0, 0, 0, 0, 0, 0x65, 0, 0,
	    0x0e, 0x11 };
	static const uint8_t old_v[] = { 0, 0, 0, 0, 0, 0, 0x0e, 0x11, 0, 0,
	    0, 0x65 };
	static const uint8_t areq_v[] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
	    0 };
	static const uint8_t arep_v[] = { 0, 0, 0, 1, 0x73, 0x33, 0x63, 0x72,
	    0x65, 0x74 };
	struct timespec now = { 1700000000, 0 }, m, at;
	uint8_t buf[RMCP_DGRAM_MAX], out[RMCP_REPLY_LEN];
	struct rmcp_req r;
	uint32_t w0, a, rr;
	size_t n;

	n = rmcp_put_poll(buf, sizeof(buf), "alice");
	ck_assert_uint_eq(n, sizeof(poll_v));
	ck_assert_mem_eq(buf, poll_v, n);
	ck_assert_int_eq(rmcp_parse_request(poll_v, sizeof(poll_v), &r),
	    RMCP_REQ_POLL);
	ck_assert(r.name_ok);
	ck_assert_str_eq(r.name, "alice");

	m = now;
	m.tv_sec -= 100;
	at = now;
	at.tv_sec -= 3600;
	rmcp_ages(&now, &m, &at, true, &a, &rr);
	ck_assert_uint_eq(a, 101);
	ck_assert_uint_eq(rr, 3601);
	rmcp_put_reply(out, 0, a, rr);
	ck_assert_mem_eq(out, new_v, sizeof(new_v));
	ck_assert_int_eq(rmcp_reply_status(0, a, rr), RMCP_NEW);
	rmcp_ages(&now, &at, &m, true, &a, &rr);
	rmcp_put_reply(out, 0, a, rr);
	ck_assert_mem_eq(out, old_v, sizeof(old_v));
	ck_assert_int_eq(rmcp_reply_status(0, a, rr), RMCP_OLD);

	rmcp_put_reply(out, RMCP_AUTH_CLEARTEXT, 0, 0);
	ck_assert_mem_eq(out, areq_v, sizeof(areq_v));
	ck_assert_int_eq(rmcp_get_reply(areq_v, sizeof(areq_v), &w0, &a,
	    &rr), 0);
	ck_assert_int_eq(rmcp_reply_status(w0, a, rr), RMCP_AUTHREQ);

	n = mkauth(buf, RMCP_AUTH_CLEARTEXT, "s3cret");
	ck_assert_uint_eq(n, sizeof(arep_v));
	ck_assert_mem_eq(buf, arep_v, n);
	ck_assert_int_eq(rmcp_parse_request(arep_v, sizeof(arep_v), &r),
	    RMCP_REQ_AUTH);
	ck_assert_uint_eq(r.word0, 1);
	ck_assert_uint_eq(r.datalen, 6);
	ck_assert_mem_eq(r.data, "s3cret", 6);
}
END_TEST

struct parse_case {
	const char	*bytes;		/* after the 4-octet word */
	size_t		 len;		/* of bytes; (size_t)-1: strlen */
	uint32_t	 word0;
	int		 kind;
	bool		 name_ok;
	const char	*name;
};

#define S(s)	s, sizeof(s) - 1
static const struct parse_case parse_cases[] = {
	{ S("a"), 0, RMCP_REQ_POLL, true, "a" },
	{ S("alice"), 0, RMCP_REQ_POLL, true, "alice" },
	{ S("Alice.B_c-d+e"), 0, RMCP_REQ_POLL, true, "Alice.B_c-d+e" },
	{ S("alice\0"), 0, RMCP_REQ_POLL, true, "alice" },
	{ S("alice\r\n"), 0, RMCP_REQ_POLL, true, "alice" },
	{ S("alice\n\0\r\0"), 0, RMCP_REQ_POLL, true, "alice" },
	{ S("\0"), 0, RMCP_REQ_MALFORMED, false, "" },
	{ S("\r\n"), 0, RMCP_REQ_MALFORMED, false, "" },
	{ S("al\0ce"), 0, RMCP_REQ_POLL, false, "" },
	{ S("../etc"), 0, RMCP_REQ_POLL, false, "" },
	{ S("a/b"), 0, RMCP_REQ_POLL, false, "" },
	{ S(".alice"), 0, RMCP_REQ_POLL, false, "" },
	{ S("-alice"), 0, RMCP_REQ_POLL, false, "" },
	{ S("al ice"), 0, RMCP_REQ_POLL, false, "" },
	{ S("alice\t"), 0, RMCP_REQ_POLL, false, "" },
	{ S("al\x7f"), 0, RMCP_REQ_POLL, false, "" },
	{ S("caf\xc3\xa9"), 0, RMCP_REQ_POLL, false, "" },
	{ S("x"), 1, RMCP_REQ_AUTH, false, "" },
	{ S("x"), 0x01000000, RMCP_REQ_AUTH, false, "" },
	{ S("\0"), 0xffffffffu, RMCP_REQ_AUTH, false, "" },
};
#undef S

START_TEST(test_parse)
{
	const struct parse_case *pc = &parse_cases[_i];
	uint8_t buf[RMCP_DGRAM_MAX];
	struct rmcp_req r;

	buf[0] = (uint8_t)(pc->word0 >> 24);
	buf[1] = (uint8_t)(pc->word0 >> 16);
	buf[2] = (uint8_t)(pc->word0 >> 8);
	buf[3] = (uint8_t)pc->word0;
	memcpy(buf + 4, pc->bytes, pc->len);
	ck_assert_int_eq(rmcp_parse_request(buf, 4 + pc->len, &r), pc->kind);
	ck_assert_int_eq(r.name_ok, pc->name_ok);
	ck_assert_str_eq(r.name, pc->name);
	if (pc->kind == RMCP_REQ_AUTH) {
		ck_assert_uint_eq(r.word0, pc->word0);
		ck_assert_uint_eq(r.datalen, pc->len);
	}
}
END_TEST

/* D-R2 lengths: 5 to 512 octets; the 64-octet name bound of D-R1. */
START_TEST(test_parse_lengths)
{
	uint8_t buf[RMCP_DGRAM_MAX + 2], secret[RMCP_DGRAM_MAX];
	struct rmcp_req r;
	size_t n;

	memset(buf, 'a', sizeof(buf));
	memset(buf, 0, 4);
	for (n = 0; n < RMCP_DGRAM_MIN; n++)
		ck_assert_int_eq(rmcp_parse_request(buf, n, &r),
		    RMCP_REQ_MALFORMED);
	ck_assert_int_eq(rmcp_parse_request(NULL, 10, &r),
	    RMCP_REQ_MALFORMED);
	ck_assert_int_eq(rmcp_parse_request(buf, 4 + 64, &r), RMCP_REQ_POLL);
	ck_assert(r.name_ok);
	ck_assert_uint_eq(strlen(r.name), 64);
	ck_assert_int_eq(rmcp_parse_request(buf, 4 + 65, &r), RMCP_REQ_POLL);
	ck_assert(!r.name_ok);
	/* A 512-octet poll is a poll (for a name that cannot exist). */
	ck_assert_int_eq(rmcp_parse_request(buf, 512, &r), RMCP_REQ_POLL);
	ck_assert_int_eq(rmcp_parse_request(buf, 513, &r),
	    RMCP_REQ_MALFORMED);
	buf[3] = 1;
	ck_assert_int_eq(rmcp_parse_request(buf, 512, &r), RMCP_REQ_AUTH);
	ck_assert_int_eq(rmcp_parse_request(buf, 513, &r),
	    RMCP_REQ_MALFORMED);
	/* The builders refuse what the parser would not take. */
	ck_assert_uint_eq(rmcp_put_poll(buf, sizeof(buf), ""), 0);
	memset(buf, 'b', 65);
	buf[65] = '\0';
	ck_assert_uint_eq(rmcp_put_poll(buf + 100, 300, (char *)buf), 0);
	ck_assert_uint_eq(rmcp_put_poll(buf, 6, "alice"), 0);
	memset(secret, 'c', sizeof(secret));
	ck_assert_uint_eq(rmcp_put_auth(buf, sizeof(buf), 1, secret, 509), 0);
	ck_assert_uint_eq(rmcp_put_auth(buf, sizeof(buf), 1, secret, 508),
	    512);
	ck_assert_uint_eq(rmcp_put_auth(buf, 511, 1, secret, 508), 0);
}
END_TEST

struct status_case {
	uint32_t	 w0, a, r;
	int		 want;
};

static const struct status_case status_cases[] = {
	{ 0, 0, 0, RMCP_NONE },
	{ 0, 0, 1, RMCP_NEW },		/* obfuscated new (p.3) */
	{ 0, 1, 0, RMCP_OLD },		/* obfuscated old */
	{ 0, 101, 3601, RMCP_NEW },
	{ 0, 3601, 101, RMCP_OLD },
	{ 0, 7, 7, RMCP_NEW },		/* the RFC's tie reads as new */
	{ 0, UINT32_MAX, 1, RMCP_OLD },
	{ 1, 0, 0, RMCP_AUTHREQ },
	{ 0x80000000u, 5, 6, RMCP_AUTHREQ },
};

START_TEST(test_reply_status)
{
	const struct status_case *sc = &status_cases[_i];
	uint8_t out[RMCP_REPLY_LEN + 1];
	uint32_t w0, a, r;

	rmcp_put_reply(out, sc->w0, sc->a, sc->r);
	ck_assert_int_eq(rmcp_get_reply(out, RMCP_REPLY_LEN, &w0, &a, &r), 0);
	ck_assert_uint_eq(w0, sc->w0);
	ck_assert_uint_eq(a, sc->a);
	ck_assert_uint_eq(r, sc->r);
	ck_assert_int_eq(rmcp_reply_status(w0, a, r), sc->want);
	ck_assert_int_eq(rmcp_get_reply(out, RMCP_REPLY_LEN - 1, &w0, &a, &r),
	    -1);
	ck_assert_int_eq(rmcp_get_reply(out, RMCP_REPLY_LEN + 1, &w0, &a, &r),
	    -1);
	ck_assert_str_eq(rmcp_status_name(sc->want), sc->want == RMCP_NEW ?
	    "new" : sc->want == RMCP_OLD ? "old" : sc->want == RMCP_NONE ?
	    "none" : "authreq");
}
END_TEST

/* Ties, the future, saturation, and the nanoseconds that decide. */
START_TEST(test_ages)
{
	struct timespec now = { 1700000000, 500000000 }, m, at;
	uint32_t a, r;

	/* Written in the same tick as read: new mail, never a tie. */
	m = at = now;
	m.tv_sec -= 50;
	at.tv_sec -= 50;
	rmcp_ages(&now, &m, &at, true, &a, &r);
	ck_assert_int_eq(rmcp_reply_status(0, a, r), RMCP_NEW);
	ck_assert_uint_gt(r, a);
	rmcp_ages(&now, &m, &at, false, &a, &r);
	ck_assert(a == 0 && r == 1);
	/* Read a nanosecond later, same second: old, never a tie. */
	at.tv_nsec++;
	rmcp_ages(&now, &m, &at, true, &a, &r);
	ck_assert_int_eq(rmcp_reply_status(0, a, r), RMCP_OLD);
	ck_assert_uint_gt(a, r);
	rmcp_ages(&now, &m, &at, false, &a, &r);
	ck_assert(a == 1 && r == 0);
	/* Clock skew: both in the future clamp to age 0, kept apart. */
	m.tv_sec = at.tv_sec = now.tv_sec + 1000;
	at.tv_sec++;
	rmcp_ages(&now, &m, &at, true, &a, &r);
	ck_assert_int_eq(rmcp_reply_status(0, a, r), RMCP_OLD);
	ck_assert(a == 2 && r == 1);
	/* Ancient times saturate and stay apart. */
	m.tv_sec = 0;
	at.tv_sec = 1;
	now.tv_sec = (time_t)INT64_C(1) << 40;
	rmcp_ages(&now, &m, &at, true, &a, &r);
	ck_assert_uint_eq(a, UINT32_MAX);
	ck_assert_uint_eq(r, UINT32_MAX - 1);
	ck_assert_int_eq(rmcp_reply_status(0, a, r), RMCP_OLD);
	rmcp_ages(&now, &at, &m, true, &a, &r);
	ck_assert_int_eq(rmcp_reply_status(0, a, r), RMCP_NEW);
	ck_assert_uint_eq(r, UINT32_MAX);
}
END_TEST

START_TEST(test_addr)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct rmcp_addr a, p;
	char buf[RMCP_ADDR_STRLEN];

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(4321);
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	ck_assert_int_eq(rmcp_addr_from_sa(&a, (struct sockaddr *)&s4,
	    sizeof(s4)), 0);
	ck_assert_str_eq(rmcp_addr_str(&a, buf, sizeof(buf)),
	    "192.0.2.7:4321");
	ck_assert_int_eq(rmcp_addr_from_sa(&p, (struct sockaddr *)&s4,
	    sizeof(s4) - 1), -1);
	/* A v4-mapped source is the IPv4 source. */
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(4321);
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	ck_assert_int_eq(rmcp_addr_from_sa(&p, (struct sockaddr *)&s6,
	    sizeof(s6)), 0);
	ck_assert_mem_eq(&a, &p, sizeof(a));
	inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", &s6.sin6_addr);
	ck_assert_int_eq(rmcp_addr_from_sa(&a, (struct sockaddr *)&s6,
	    sizeof(s6)), 0);
	ck_assert_str_eq(rmcp_addr_str(&a, buf, sizeof(buf)),
	    "[2001:db8:1:2:3:4:5:6]:4321");
	rmcp_addr_prefix(&a, &p);
	ck_assert_uint_eq(p.port, 0);
	ck_assert_str_eq(rmcp_addr_str(&p, buf, sizeof(buf)),
	    "[2001:db8:1:2::]:0");
}
END_TEST

/* --- Tables --------------------------------------------------------------- */

static void
model_del(int *model, int64_t *mt, int *nm, int j)
{
	(*nm)--;
	memmove(&model[j], &model[j + 1], (size_t)(*nm - j) * sizeof(int));
	memmove(&mt[j], &mt[j + 1], (size_t)(*nm - j) * sizeof(int64_t));
}

/* Random gets, touches, removes and expiries against a plain array that
 * keeps the same LRU order. */
START_TEST(test_table_model)
{
	enum { CAP = 16, KEYS = 40, STEPS = 20000 };
	struct rmcp_table t;
	struct rmcp_entry *e;
	struct rmcp_addr k;
	int model[CAP], nm = 0, i, j, op, key;
	int64_t mt[CAP], now = 1000;
	unsigned int rnd = 12345;
	bool isnew;
	uint32_t x, n;

	ck_assert_int_eq(rmcp_table_init(&t, CAP, seed), 0);
	for (i = 0; i < STEPS; i++) {
		rnd = rnd * 1103515245u + 12345u;
		op = (int)(rnd >> 16) % 10;
		key = (int)(rnd >> 8) % KEYS;
		now += (rnd >> 4) % 3;
		k = addr("10.0.0.1", (uint16_t)(1024 + key));
		for (j = 0; j < nm && model[j] != key; j++)
			;
		if (op < 6) {		/* get: to the front */
			e = rmcp_table_get(&t, &k, now, &isnew);
			ck_assert_int_eq(isnew, j == nm);
			ck_assert_uint_eq(e->key.port, 1024 + key);
			if (j < nm)
				model_del(model, mt, &nm, j);
			else if (nm == CAP)
				nm--;	/* the model drops its tail */
			memmove(&model[1], &model[0], (size_t)nm * sizeof(int));
			memmove(&mt[1], &mt[0], (size_t)nm * sizeof(int64_t));
			model[0] = key;
			mt[0] = now;
			nm++;
		} else if (op < 8) {	/* find and remove */
			e = rmcp_table_find(&t, &k);
			ck_assert_int_eq(e != NULL, j < nm);
			if (e != NULL) {
				rmcp_table_remove(&t, e);
				model_del(model, mt, &nm, j);
			}
		} else {		/* expire everything older than 20 */
			rmcp_table_expire(&t, now, 20);
			while (nm > 0 && mt[nm - 1] <= now - 20)
				nm--;
		}
		ck_assert_uint_eq(t.n, (uint32_t)nm);
		/* Walk the LRU list: the model's order, head first. */
		for (x = t.head, n = 0; x != UINT32_MAX; x = t.e[x].next, n++)
			ck_assert_uint_eq(t.e[x].key.port, 1024 + model[n]);
		ck_assert_uint_eq(n, (uint32_t)nm);
	}
	ck_assert_uint_gt(t.evicted, 0);
	rmcp_table_free(&t);
}
END_TEST

/* --- The state machine -------------------------------------------------- */

static struct rmcp_limits
limits(bool auth)
{
	struct rmcp_limits l;

	memset(&l, 0, sizeof(l));
	l.auth = auth;
	l.pending_ms = 120000;
	l.authed_ms = 900000;
	l.rate = 30;
	l.burst = 10;
	l.fail_max = 5;
	l.fail_block_ms = 900000;
	l.table_size = 64;
	return l;
}

/* Sends one datagram of a script; see struct step. */
static int
input(struct rmcp_state *s, const char *ip, uint16_t port, const uint8_t *b,
    size_t len, int64_t now, struct rmcp_action *a)
{
	struct rmcp_addr src = addr(ip, port);

	return rmcp_input(s, &src, b, len, now, a);
}

static int
pollfor(struct rmcp_state *s, const char *ip, uint16_t port,
    const char *name, int64_t now, struct rmcp_action *a)
{
	uint8_t b[RMCP_DGRAM_MAX];

	return input(s, ip, port, b, mkpoll(b, name), now, a);
}

/* An auth reply; a VERIFY is settled as the secret "good" decides. */
static int
authwith(struct rmcp_state *s, const char *ip, uint16_t port,
    uint32_t mask, const char *secret, int64_t now, struct rmcp_action *a)
{
	uint8_t b[RMCP_DGRAM_MAX];
	struct rmcp_addr src = addr(ip, port);
	bool ok;

	if (rmcp_input(s, &src, b, mkauth(b, mask, secret), now, a) !=
	    RMCP_ACT_VERIFY)
		return a->act;
	ok = a->datalen == 4 && memcmp(a->data, "good", 4) == 0;
	return rmcp_verified(s, &src, a->name, a->name_ok, ok, now, a);
}

/* One step of a script: a poll for arg ('P'), an authentication reply
 * with mask and the secret arg ('A': "good" verifies), four zero octets
 * ('S') or a secret with a NUL ('N'); from ip:port at now (ms).  Then the
 * action and, when not 0, the reason. */
struct step {
	char		 op;
	const char	*ip;
	uint16_t	 port;
	const char	*arg;
	uint32_t	 mask;
	int64_t		 now;
	int		 act;
	int		 why;
};

#define AREQ	RMCP_ACT_AUTHREQ
#define STAT	RMCP_ACT_STATUS
#define DROP	RMCP_ACT_DROP
#define ZERO	RMCP_ACT_ZERO

static void
run(struct rmcp_state *s, const struct step *st, size_t n)
{
	static const uint8_t shrt[4], nul[8] = { 0, 0, 0, 1, 'g', 0, 'o', 'd' };
	struct rmcp_action a;
	size_t i;
	int act;

	for (i = 0; i < n; i++, st++) {
		if (st->op == 'P')
			act = pollfor(s, st->ip, st->port, st->arg, st->now,
			    &a);
		else if (st->op == 'A')
			act = authwith(s, st->ip, st->port, st->mask, st->arg,
			    st->now, &a);
		else
			act = input(s, st->ip, st->port, st->op == 'S' ? shrt :
			    nul, st->op == 'S' ? sizeof(shrt) : sizeof(nul),
			    st->now, &a);
		ck_assert_msg(act == st->act && (st->why == 0 ||
		    a.why == st->why), "step %zu: act %d why %d, want %d %d",
		    i, act, a.why, st->act, st->why);
		if (act == STAT || act == AREQ)
			ck_assert_str_eq(a.name, st->op == 'P' &&
			    rmcp_name_ok(st->arg, strlen(st->arg)) ? st->arg :
			    a.name);
	}
}

#define NSTEPS(x)	(sizeof(x) / sizeof((x)[0]))
#define L1	"127.0.0.1"
#define L9	"127.0.0.9"

static const struct step noauth_script[] = {
	{ 'P', L1, 40000, "alice", 0, 0, STAT, 0 },
	/* No authentication here: a non-zero word 0 is malformed. */
	{ 'A', L1, 40000, "good", 1, 0, DROP, RMCP_WHY_MALFORMED },
	{ 'S', L1, 40000, NULL, 0, 0, DROP, RMCP_WHY_MALFORMED },
	/* D-R3: reserved source ports, whatever they send. */
	{ 'P', L9, 0, "alice", 0, 0, DROP, RMCP_WHY_PRIVPORT },
	{ 'P', L9, 50, "alice", 0, 0, DROP, RMCP_WHY_PRIVPORT },
	{ 'A', L9, 7, "good", 1, 0, DROP, RMCP_WHY_PRIVPORT },
	{ 'S', L9, 19, NULL, 0, 0, DROP, RMCP_WHY_PRIVPORT },
	{ 'P', L9, 1023, "alice", 0, 0, DROP, RMCP_WHY_PRIVPORT },
	{ 'P', L9, 1024, "alice", 0, 0, STAT, 0 },
};

START_TEST(test_state_noauth)
{
	struct rmcp_limits l = limits(false);
	struct rmcp_state s;

	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	run(&s, noauth_script, NSTEPS(noauth_script));
	ck_assert_uint_eq(s.stats.privport, 5);
	rmcp_state_free(&s);
}
END_TEST

/* Polls for "a" from ip, ports from port on, at now: how many pass. */
static int
burst(struct rmcp_state *s, const char *ip, int port, int n, int64_t now)
{
	struct rmcp_action a;
	int i, ok = 0;

	for (i = 0; i < n; i++)
		if (pollfor(s, ip, (uint16_t)(port + i), "a", now, &a) == STAT)
			ok++;
		else
			ck_assert_int_eq(a.why, RMCP_WHY_RATE);
	return ok;
}

START_TEST(test_state_rate)
{
	struct rmcp_limits l = limits(false);
	struct rmcp_state s;
	char ip[64];
	int i, ok;

	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	/* A burst of 10 from one address, any ports; not another. */
	ck_assert_int_eq(burst(&s, "192.0.2.1", 2000, 50, 100), 10);
	ck_assert_int_eq(burst(&s, "192.0.2.2", 2000, 1, 100), 1);
	/* 30 a minute: one more every 2 s. */
	ck_assert_int_eq(burst(&s, "192.0.2.1", 2000, 1, 1000), 0);
	ck_assert_int_eq(burst(&s, "192.0.2.1", 2000, 1, 2200), 1);
	ck_assert_int_eq(burst(&s, "192.0.2.1", 2000, 1, 2300), 0);
	/* An IPv6 /64 is one source; the next /64 another. */
	for (i = 0, ok = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:0:1::%x", i + 1);
		ok += burst(&s, ip, 3000, 1, 5000);
	}
	ck_assert_int_eq(ok, 10);
	ck_assert_int_eq(burst(&s, "2001:db8:0:2::1", 3000, 1, 5000), 1);
	/* Idle long enough, the bucket is full again. */
	ck_assert_int_eq(burst(&s, "192.0.2.1", 2000, 20, 100000), 10);
	rmcp_state_free(&s);
}
END_TEST

#define I1	"198.51.100.4"

/* protocol-notes §1.5, step by step. */
static const struct step auth_script[] = {
	/* D-R10: every name is asked, even one that cannot exist. */
	{ 'P', I1, 5000, "nosuchuser", 0, 0, AREQ, 0 },
	{ 'P', I1, 5001, "bad/name", 0, 0, AREQ, 0 },
	{ 'A', I1, 5001, "good", 1, 0, ZERO, RMCP_WHY_BADSECRET },
	{ 'A', I1, 5002, "good", 1, 0, DROP, RMCP_WHY_NOPENDING },
	/* The good secret answers at once (D-R8), and once. */
	{ 'P', I1, 5000, "alice", 0, 10, AREQ, 0 },
	{ 'A', I1, 5000, "good", 1, 20, STAT, 0 },
	{ 'A', I1, 5000, "good", 1, 30, DROP, RMCP_WHY_NOPENDING },
	/* An authenticated triple polls freely; another port does not. */
	{ 'P', I1, 5000, "alice", 0, 40, STAT, 0 },
	{ 'P', I1, 5003, "alice", 0, 40, AREQ, 0 },
	/* p.3: another name from the pair removes the triple. */
	{ 'P', I1, 5000, "bob", 0, 50, AREQ, 0 },
	{ 'P', I1, 5000, "alice", 0, 60, AREQ, 0 },
	{ 'A', I1, 5000, "good", 1, 70, STAT, 0 },
	/* 15 minutes idle and it is gone; each poll renews it. */
	{ 'P', I1, 5000, "alice", 0, 899070, STAT, 0 },
	{ 'P', I1, 5000, "alice", 0, 1798070, STAT, 0 },
	{ 'P', I1, 5000, "alice", 0, 2698070, AREQ, 0 },
	/* A pending entry lives 120 s. */
	{ 'A', I1, 5000, "good", 1, 2818070, DROP, RMCP_WHY_NOPENDING },
};

START_TEST(test_state_auth)
{
	struct rmcp_limits l = limits(true);
	struct rmcp_state s;

	l.burst = 1000;
	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	run(&s, auth_script, NSTEPS(auth_script));
	ck_assert_uint_eq(s.stats.authok, 2);
	rmcp_state_free(&s);
}
END_TEST

#define I2	"203.0.113.9"
#define I3	"203.0.113.10"
#define BADM	RMCP_WHY_BADMASK
#define BADS	RMCP_WHY_BADSECRET

/* Wrong masks (D-R12), a NUL, wrong secrets up to the block and after. */
static const struct step fail_script[] = {
	{ 'P', I3, 6000, "alice", 0, 0, AREQ, 0 },
	{ 'A', I3, 6000, "good", 2, 0, ZERO, BADM },
	{ 'P', I3, 6000, "alice", 0, 0, AREQ, 0 },
	{ 'A', I3, 6000, "good", 3, 0, ZERO, BADM },
	{ 'P', I3, 6000, "alice", 0, 0, AREQ, 0 },
	{ 'A', I3, 6000, "good", 0x01000000, 0, ZERO, BADM },
	{ 'P', I3, 6000, "alice", 0, 0, AREQ, 0 },
	{ 'A', I3, 6000, "good", 0x80000001, 0, ZERO, BADM },
	{ 'P', I2, 6000, "alice", 0, 0, AREQ, 0 },
	{ 'N', I2, 6000, NULL, 0, 0, ZERO, BADS },
	{ 'P', I2, 6000, "alice", 0, 2, AREQ, 0 },
	{ 'A', I2, 6000, "bad", 1, 2, ZERO, BADS },
	{ 'P', I2, 6000, "alice", 0, 3, AREQ, 0 },
	{ 'A', I2, 6000, "bad", 1, 3, ZERO, BADS },
	{ 'P', I2, 6000, "alice", 0, 4, AREQ, 0 },
	{ 'A', I2, 6000, "", 1, 4, DROP, RMCP_WHY_MALFORMED },
	{ 'A', I2, 6000, "bad", 1, 4, ZERO, BADS },
	{ 'P', I2, 6000, "alice", 0, 5, AREQ, 0 },
	{ 'A', I2, 6000, "bad", 1, 5, ZERO, BADS },
	/* Blocked: polls and good secrets too, from any port. */
	{ 'P', I2, 6001, "alice", 0, 10, DROP, RMCP_WHY_BLOCKED },
	{ 'A', I2, 6000, "good", 1, 10, DROP, RMCP_WHY_BLOCKED },
	{ 'P', "203.0.113.11", 6001, "alice", 0, 10, AREQ, 0 },
	/* Until fail_block after the last failure. */
	{ 'P', I2, 6001, "alice", 0, 900004, DROP, RMCP_WHY_BLOCKED },
	{ 'P', I2, 6001, "alice", 0, 900005, AREQ, 0 },
};

START_TEST(test_state_auth_fail)
{
	struct rmcp_limits l = limits(true);
	struct rmcp_state s;
	struct rmcp_action a;
	char src[32];
	int i, n = 0;

	l.burst = 1000;
	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	run(&s, fail_script, NSTEPS(fail_script));
	ck_assert_uint_eq(s.stats.authfail, 9);
	/* RMCP_VERIFY_PER_SEC crypt checks a second, all sources. */
	for (i = 0; i < 3 * RMCP_VERIFY_PER_SEC; i++) {
		snprintf(src, sizeof(src), "10.1.%d.1", i);
		pollfor(&s, src, 7000, "alice", 2000000, &a);
		if (authwith(&s, src, 7000, 1, "good", 2000000, &a) == STAT)
			n++;
		else
			ck_assert_int_eq(a.why, RMCP_WHY_BUSY);
	}
	ck_assert_int_eq(n, RMCP_VERIFY_PER_SEC);
	rmcp_state_free(&s);
}
END_TEST

/* D-R11: spoofed polls fill the pending table; the oldest go. */
START_TEST(test_state_caps)
{
	struct rmcp_limits l = limits(true);
	struct rmcp_state s;
	struct rmcp_action a;
	int i;

	l.burst = 100000;
	l.table_size = RMCP_TABLE_MIN;
	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(pollfor(&s, I1, (uint16_t)(10000 + i),
		    "alice", i, &a), AREQ);
	ck_assert_uint_eq(s.pending.n, RMCP_TABLE_MIN);
	ck_assert_int_eq(authwith(&s, I1, 10000, 1, "good", 1000, &a), DROP);
	ck_assert_int_eq(authwith(&s, I1, 10999, 1, "good", 1000, &a), STAT);
	rmcp_state_free(&s);
}
END_TEST

static Suite *
rmcp_suite(void)
{
	Suite *s = suite_create("rmcp");
	TCase *codec = tcase_create("codec");
	TCase *state = tcase_create("state");

	tcase_add_test(codec, test_vectors);
	tcase_add_loop_test(codec, test_parse, 0,
	    sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(codec, test_parse_lengths);
	tcase_add_loop_test(codec, test_reply_status, 0,
	    sizeof(status_cases) / sizeof(status_cases[0]));
	tcase_add_test(codec, test_ages);
	tcase_add_test(codec, test_addr);
	suite_add_tcase(s, codec);

	tcase_add_test(state, test_table_model);
	tcase_add_test(state, test_state_noauth);
	tcase_add_test(state, test_state_rate);
	tcase_add_test(state, test_state_auth);
	tcase_add_test(state, test_state_auth_fail);
	tcase_add_test(state, test_state_caps);
	suite_add_tcase(s, state);
	return s;
}

TU_MAIN(rmcp_suite)
