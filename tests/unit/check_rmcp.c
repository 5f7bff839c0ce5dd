/*
 * check_rmcp.c: RFC 1339 (src/rmcp.c, src/rmcpd.c, src/rmcpd_db.c): the
 * byte vectors of protocol-notes §1.3, the request parser and the reply
 * reading as tables, the ages (ties, skew, saturation), the LRU tables
 * against a reference model, the state machine of §1.5 with its limits,
 * the responder's answers from real maildrops (the (0,0,0) cases, consent,
 * real ages, secrets), the rmcp_* configuration keys, and the maildrop
 * atime rule that keeps RMCP's "new" and "old" true after a POP session.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "testutil.h"

#include "auth.h"
#include "conf.h"
#include "maildrop.h"
#include "rmcp.h"

static char	dir[512];
static char	path[sizeof(dir) + 64];
static const uint8_t seed[16] = "postern-rmcp-ut";

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

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
	char name[RMCP_NAME_MAX + 1];
	bool ok;

	if (rmcp_input(s, &src, b, mkauth(b, mask, secret), now, a) !=
	    RMCP_ACT_VERIFY)
		return a->act;
	ok = a->datalen == 4 && memcmp(a->data, "good", 4) == 0;
	memcpy(name, a->name, sizeof(name));
	return rmcp_verified(s, &src, name, a->name_ok, ok, now, a);
}

START_TEST(test_state_noauth)
{
	struct rmcp_limits l = limits(false);
	struct rmcp_state s;
	struct rmcp_action a;
	uint8_t b[8] = { 0, 0, 0, 0, 'x' };
	int i;

	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	ck_assert_int_eq(pollfor(&s, "127.0.0.1", 40000, "alice", 0, &a),
	    RMCP_ACT_STATUS);
	ck_assert_str_eq(a.name, "alice");
	ck_assert(a.name_ok);
	/* No authentication here: a non-zero word 0 is malformed. */
	ck_assert_int_eq(authwith(&s, "127.0.0.1", 40000, 1, "good", 0, &a),
	    RMCP_ACT_DROP);
	ck_assert_int_eq(a.why, RMCP_WHY_MALFORMED);
	ck_assert_int_eq(input(&s, "127.0.0.1", 40000, b, 4, 0, &a),
	    RMCP_ACT_DROP);
	ck_assert_int_eq(a.why, RMCP_WHY_MALFORMED);
	/* D-R3: reserved source ports, whatever they send. */
	for (i = 0; i < 1024; i += 7) {
		ck_assert_int_eq(input(&s, "127.0.0.9", (uint16_t)i, b, 5, 0,
		    &a), RMCP_ACT_DROP);
		ck_assert_int_eq(a.why, RMCP_WHY_PRIVPORT);
	}
	ck_assert_int_eq(input(&s, "127.0.0.9", 1023, b, 5, 0, &a),
	    RMCP_ACT_DROP);
	ck_assert_int_eq(input(&s, "127.0.0.9", 1024, b, 5, 0, &a),
	    RMCP_ACT_STATUS);
	ck_assert_uint_eq(s.stats.privport, 148);
	rmcp_state_free(&s);
}
END_TEST

START_TEST(test_state_rate)
{
	struct rmcp_limits l = limits(false);
	struct rmcp_state s;
	struct rmcp_action a;
	int i, ok = 0;

	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	/* A burst of 10 from one address, any ports. */
	for (i = 0; i < 50; i++)
		if (pollfor(&s, "192.0.2.1", (uint16_t)(2000 + i), "a", 100,
		    &a) == RMCP_ACT_STATUS)
			ok++;
		else
			ck_assert_int_eq(a.why, RMCP_WHY_RATE);
	ck_assert_int_eq(ok, 10);
	/* Another address is answered meanwhile. */
	ck_assert_int_eq(pollfor(&s, "192.0.2.2", 2000, "a", 100, &a),
	    RMCP_ACT_STATUS);
	/* 30 a minute: one more every 2 s. */
	ck_assert_int_eq(pollfor(&s, "192.0.2.1", 2000, "a", 1000, &a),
	    RMCP_ACT_DROP);
	ck_assert_int_eq(pollfor(&s, "192.0.2.1", 2000, "a", 2200, &a),
	    RMCP_ACT_STATUS);
	ck_assert_int_eq(pollfor(&s, "192.0.2.1", 2000, "a", 2300, &a),
	    RMCP_ACT_DROP);
	/* An IPv6 /64 is one source; the next /64 another. */
	for (i = 0, ok = 0; i < 20; i++) {
		char ip[64];

		snprintf(ip, sizeof(ip), "2001:db8:0:1::%x", i + 1);
		if (pollfor(&s, ip, 3000, "a", 5000, &a) == RMCP_ACT_STATUS)
			ok++;
	}
	ck_assert_int_eq(ok, 10);
	ck_assert_int_eq(pollfor(&s, "2001:db8:0:2::1", 3000, "a", 5000, &a),
	    RMCP_ACT_STATUS);
	/* Idle long enough, the bucket is full again. */
	for (i = 0, ok = 0; i < 20; i++)
		if (pollfor(&s, "192.0.2.1", 2000, "a", 100000, &a) ==
		    RMCP_ACT_STATUS)
			ok++;
	ck_assert_int_eq(ok, 10);
	rmcp_state_free(&s);
}
END_TEST

/* protocol-notes §1.5, step by step. */
START_TEST(test_state_auth)
{
	struct rmcp_limits l = limits(true);
	struct rmcp_state s;
	struct rmcp_action a;
	const char *ip = "198.51.100.4";

	l.burst = 1000;
	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	/* D-R10: every name is asked, even one that cannot exist. */
	ck_assert_int_eq(pollfor(&s, ip, 5000, "nosuchuser", 0, &a),
	    RMCP_ACT_AUTHREQ);
	ck_assert_int_eq(pollfor(&s, ip, 5001, "bad/name", 0, &a),
	    RMCP_ACT_AUTHREQ);
	ck_assert_int_eq(authwith(&s, ip, 5001, 1, "good", 0, &a),
	    RMCP_ACT_ZERO);		/* no such user: never authenticated */
	/* Nothing pending: dropped. */
	ck_assert_int_eq(authwith(&s, ip, 5002, 1, "good", 0, &a),
	    RMCP_ACT_DROP);
	ck_assert_int_eq(a.why, RMCP_WHY_NOPENDING);
	/* The good secret answers at once (D-R8). */
	ck_assert_int_eq(pollfor(&s, ip, 5000, "alice", 10, &a),
	    RMCP_ACT_AUTHREQ);
	ck_assert_int_eq(authwith(&s, ip, 5000, 1, "good", 20, &a),
	    RMCP_ACT_STATUS);
	ck_assert_str_eq(a.name, "alice");
	/* The pending entry was used up. */
	ck_assert_int_eq(authwith(&s, ip, 5000, 1, "good", 30, &a),
	    RMCP_ACT_DROP);
	/* An authenticated triple polls freely; another port does not. */
	ck_assert_int_eq(pollfor(&s, ip, 5000, "alice", 40, &a),
	    RMCP_ACT_STATUS);
	ck_assert_int_eq(pollfor(&s, ip, 5003, "alice", 40, &a),
	    RMCP_ACT_AUTHREQ);
	/* p.3: another name from the pair removes the triple. */
	ck_assert_int_eq(pollfor(&s, ip, 5000, "bob", 50, &a),
	    RMCP_ACT_AUTHREQ);
	ck_assert_int_eq(pollfor(&s, ip, 5000, "alice", 60, &a),
	    RMCP_ACT_AUTHREQ);
	ck_assert_int_eq(authwith(&s, ip, 5000, 1, "good", 70, &a),
	    RMCP_ACT_STATUS);
	/* 15 minutes idle and it is gone; each poll renews it. */
	ck_assert_int_eq(pollfor(&s, ip, 5000, "alice", 70 + 899000, &a),
	    RMCP_ACT_STATUS);
	ck_assert_int_eq(pollfor(&s, ip, 5000, "alice", 70 + 1798000, &a),
	    RMCP_ACT_STATUS);
	ck_assert_int_eq(pollfor(&s, ip, 5000, "alice", 70 + 2698000, &a),
	    RMCP_ACT_AUTHREQ);
	/* A pending entry lives 120 s. */
	ck_assert_int_eq(authwith(&s, ip, 5000, 1, "good", 70 + 2698000 +
	    120000, &a), RMCP_ACT_DROP);
	ck_assert_int_eq(a.why, RMCP_WHY_NOPENDING);
	rmcp_state_free(&s);
}
END_TEST

/* Wrong secrets, wrong masks, NULs; the block; the crypt budget. */
START_TEST(test_state_auth_fail)
{
	static const uint32_t masks[] = { 0, 2, 3, 0x01000000u, 0x80000001u };
	struct rmcp_limits l = limits(true);
	struct rmcp_state s;
	struct rmcp_action a;
	uint8_t b[16] = { 0, 0, 0, 1, 'g', 0, 'o', 'd' };
	const char *ip = "203.0.113.9";
	size_t i;
	int n;

	l.burst = 1000;
	ck_assert_int_eq(rmcp_state_init(&s, &l, seed), 0);
	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		if (masks[i] == 0)
			continue;	/* a zero word is a poll, not a reply */
		pollfor(&s, "203.0.113.10", 6000, "alice", 0, &a);
		ck_assert_int_eq(authwith(&s, "203.0.113.10", 6000, masks[i],
		    "good", 0, &a), RMCP_ACT_ZERO);
		ck_assert_int_eq(a.why, RMCP_WHY_BADMASK);
	}
	pollfor(&s, ip, 6000, "alice", 0, &a);
	ck_assert_int_eq(input(&s, ip, 6000, b, 8, 0, &a), RMCP_ACT_ZERO);
	ck_assert_int_eq(a.why, RMCP_WHY_BADSECRET);
	ck_assert_uint_eq(a.failures, 1);
	for (n = 2; n <= 5; n++) {
		ck_assert_int_eq(pollfor(&s, ip, 6000, "alice", n, &a),
		    RMCP_ACT_AUTHREQ);
		ck_assert_int_eq(authwith(&s, ip, 6000, 1, "bad", n, &a),
		    RMCP_ACT_ZERO);
		ck_assert_uint_eq(a.failures, (uint32_t)n);
	}
	/* Blocked: even polls and good secrets, from any port. */
	ck_assert_int_eq(pollfor(&s, ip, 6001, "alice", 10, &a),
	    RMCP_ACT_DROP);
	ck_assert_int_eq(a.why, RMCP_WHY_BLOCKED);
	ck_assert_int_eq(pollfor(&s, "203.0.113.11", 6001, "alice", 10, &a),
	    RMCP_ACT_AUTHREQ);
	/* Until fail_block after the last failure. */
	ck_assert_int_eq(pollfor(&s, ip, 6001, "alice", 5 + 899999, &a),
	    RMCP_ACT_DROP);
	ck_assert_int_eq(pollfor(&s, ip, 6001, "alice", 5 + 900000, &a),
	    RMCP_ACT_AUTHREQ);
	ck_assert_uint_eq(s.stats.authfail, 9);
	/* RMCP_VERIFY_PER_SEC crypt checks a second, all sources. */
	for (i = 0, n = 0; i < 3 * RMCP_VERIFY_PER_SEC; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.1.%zu.1", i);
		pollfor(&s, src, 7000, "alice", 2000000, &a);
		if (authwith(&s, src, 7000, 1, "good", 2000000, &a) ==
		    RMCP_ACT_STATUS)
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
		ck_assert_int_eq(pollfor(&s, "192.0.2.50", (uint16_t)(10000 +
		    i), "alice", i, &a), RMCP_ACT_AUTHREQ);
	ck_assert_uint_eq(s.pending.n, RMCP_TABLE_MIN);
	ck_assert_int_eq(authwith(&s, "192.0.2.50", 10000, 1, "good", 1000,
	    &a), RMCP_ACT_DROP);
	ck_assert_int_eq(authwith(&s, "192.0.2.50", 10999, 1, "good", 1000,
	    &a), RMCP_ACT_STATUS);
	rmcp_state_free(&s);
}
END_TEST

/* --- The responder on real maildrops ------------------------------------ */

static struct conf rc;
static struct rmcpd *rd;

static void
put(const char *name, const char *data, mode_t mode)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tu_write_file(path, data, strlen(data));
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void
times(const char *name, time_t atime, time_t mtime)
{
	struct timespec ts[2] = { { atime, 0 }, { mtime, 0 } };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW),
	    0);
}

/* A passwd-file for alice..erin and a responder on it. */
static void
responder(bool auth, int ages, int consent, const char *list)
{
	char pw[4096], hash[256], tmpl[sizeof(dir) + 8], err[512];
	const char *users[] = { "alice", "bob", "carol", "dave", "erin" };
	size_t i, o = 0;

	ck_assert_int_eq(auth_make_hash("good", hash, sizeof(hash)), 0);
	for (i = 0; i < 5; i++)
		o += (size_t)snprintf(pw + o, sizeof(pw) - o, "%s:%s:%lu:%lu\n",
		    users[i], hash, 1000UL + i, 1000UL);
	snprintf(pw + o, sizeof(pw) - o, "# comment\nbroken line\n"
	    "locked:!%s:1100:1000\nroot:%s:0:0\nalice:%s:1:1:/elsewhere\n",
	    hash, hash, hash);
	put("passwd", pw, 0600);
	snprintf(pw, sizeof(pw), "carol:%s\n# x\nalice:%s\nbad line\n"
	    "alice:$6$zzzzzzzz$\n", hash, hash);
	put("secrets", pw, 0600);
	conf_default(&rc);
	snprintf(rc.passwd_file, sizeof(rc.passwd_file), "%s/passwd", dir);
	snprintf(rc.rmcp_secrets_file, sizeof(rc.rmcp_secrets_file),
	    "%s/secrets", dir);
	snprintf(tmpl, sizeof(tmpl), "%s/%%u", dir);
	snprintf(rc.maildrop, sizeof(rc.maildrop), "%s", tmpl);
	rc.rmcp_enabled = 1;
	rc.rmcp_auth = auth;
	rc.rmcp_ages = ages;
	rc.rmcp_consent = consent;
	snprintf(rc.rmcp_consent_users, sizeof(rc.rmcp_consent_users), "%s",
	    list);
	rc.rmcp_rate_burst = 10000;
	rd = rmcpd_new(&rc, err, sizeof(err));
	ck_assert_msg(rd != NULL, "rmcpd_new: %s", err);
}

/* Sends a poll (and, with secret, the authentication) from port; returns
 * the last reply's words in w[3], or -1 when nothing was sent back. */
static int
ask(const char *name, uint16_t port, const char *secret, uint32_t w[3])
{
	struct rmcp_addr src = addr("127.0.0.1", port);
	uint8_t b[RMCP_DGRAM_MAX], out[RMCP_REPLY_LEN];

	if (rmcpd_answer(rd, &src, b, mkpoll(b, name), out) != 1)
		return -1;
	ck_assert_int_eq(rmcp_get_reply(out, sizeof(out), &w[0], &w[1],
	    &w[2]), 0);
	if (secret == NULL || w[0] == 0)
		return 0;
	if (rmcpd_answer(rd, &src, b, mkauth(b, w[0], secret), out) != 1)
		return -1;
	return rmcp_get_reply(out, sizeof(out), &w[0], &w[1], &w[2]);
}

static int
status_of(const char *name, uint16_t port, const char *secret)
{
	uint32_t w[3];

	ck_assert_int_eq(ask(name, port, secret, w), 0);
	return rmcp_reply_status(w[0], w[1], w[2]);
}

static const char mail[] = "From a@b Mon Jan  1 00:00:00 2024\n"
    "Subject: x\n\nhi\n\n";

START_TEST(test_responder_zero)
{
	time_t now = time(NULL);
	uint32_t w[3];
	char long_name[100];

	responder(false, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EXECBIT, "");
	put("alice", mail, 0700);		/* consent, mail */
	times("alice", now - 100, now - 50);
	put("bob", "", 0700);			/* empty */
	put("carol", mail, 0600);		/* no consent */
	/* dave: no file.  erin: a symbolic link, then a directory. */
	snprintf(path, sizeof(path), "%s/erin", dir);
	ck_assert_int_eq(symlink("alice", path), 0);
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NEW);
	ck_assert_int_eq(ask("alice", 2000, NULL, w), 0);
	ck_assert(w[0] == 0 && w[1] == 0 && w[2] == 1);
	/* All alike: (0, 0, 0). */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[64] = '\0';
	{
		const char *zero[] = { "bob", "carol", "dave", "erin",
		    "nosuch", "locked", "root", "Alice", "a+b", long_name };
		size_t i;

		for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
			ck_assert_int_eq(ask(zero[i], 2000, NULL, w), 0);
			ck_assert_msg(w[0] == 0 && w[1] == 0 && w[2] == 0,
			    "%s: %u %u %u", zero[i], w[0], w[1], w[2]);
		}
	}
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(status_of("erin", 2000, NULL), RMCP_NONE);
	/* Old after a read; the stat did not make it so. */
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NEW);
	times("alice", now - 10, now - 50);
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_OLD);
	/* A reserved source port: no reply at all. */
	ck_assert_int_eq(ask("alice", 100, NULL, w), -1);
	rmcpd_free(rd);
}
END_TEST

START_TEST(test_responder_consent_ages)
{
	time_t now = time(NULL);
	uint32_t w[3];

	responder(false, RMCP_AGES_REAL, RMCP_CONSENT_LIST, "bob carol");
	put("alice", mail, 0700);
	put("bob", mail, 0600);
	put("carol", mail, 0600);
	times("bob", now - 3600, now - 100);
	times("carol", now - 100, now - 3600);
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NONE);
	ck_assert_int_eq(ask("bob", 2000, NULL, w), 0);
	ck_assert_msg(w[1] >= 101 && w[1] <= 103 && w[2] >= 3601 &&
	    w[2] <= 3603, "%u %u", w[1], w[2]);
	ck_assert_int_eq(ask("carol", 2000, NULL, w), 0);
	ck_assert_msg(w[2] >= 101 && w[2] <= 103 && w[1] >= 3601 &&
	    w[1] <= 3603, "%u %u", w[1], w[2]);
	rmcpd_free(rd);
	responder(false, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EITHER, "bob");
	ck_assert_int_eq(status_of("alice", 2000, NULL), RMCP_NEW);
	ck_assert_int_eq(status_of("bob", 2000, NULL), RMCP_NEW);
	ck_assert_int_eq(status_of("carol", 2000, NULL), RMCP_NONE);
	rmcpd_free(rd);
}
END_TEST

START_TEST(test_responder_auth)
{
	uint32_t w[3];

	responder(true, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EXECBIT, "");
	/* The secret is the consent: no owner-execute bit needed. */
	put("alice", mail, 0600);
	put("carol", mail, 0600);
	ck_assert_int_eq(ask("alice", 3000, NULL, w), 0);
	ck_assert(w[0] == 1 && w[1] == 0 && w[2] == 0);
	ck_assert_int_eq(ask("nosuch", 3001, NULL, w), 0);
	ck_assert(w[0] == 1 && w[1] == 0 && w[2] == 0);
	ck_assert_int_eq(status_of("alice", 3000, "good"), RMCP_NEW);
	ck_assert_int_eq(status_of("alice", 3000, NULL), RMCP_NEW);
	/* carol's secret is good too, but another name means again. */
	ck_assert_int_eq(ask("carol", 3000, NULL, w), 0);
	ck_assert_uint_eq(w[0], 1);
	ck_assert_int_eq(status_of("carol", 3000, "wrong"), RMCP_NONE);
	ck_assert_int_eq(status_of("carol", 3002, "good"), RMCP_NEW);
	/* bob has no secret; alice's second line (the "$6$" one) lost. */
	ck_assert_int_eq(status_of("bob", 3003, "good"), RMCP_NONE);
	ck_assert_int_eq(status_of("nosuch", 3004, "good"), RMCP_NONE);
	ck_assert_int_eq(status_of("alice", 3005, "goodx"), RMCP_NONE);
	ck_assert_int_eq(status_of("alice", 3006, "good"), RMCP_NEW);
	rmcpd_free(rd);
}
END_TEST

START_TEST(test_responder_files)
{
	char err[512];

	responder(false, RMCP_AGES_OBFUSCATED, RMCP_CONSENT_EXECBIT, "");
	rmcpd_free(rd);
	/* Refused: writable by the group; a secrets file others read. */
	snprintf(path, sizeof(path), "%s/passwd", dir);
	ck_assert_int_eq(chmod(path, 0620), 0);
	ck_assert_ptr_null(rmcpd_new(&rc, err, sizeof(err)));
	ck_assert_msg(strstr(err, "refused") != NULL, "%s", err);
	ck_assert_int_eq(chmod(path, 0640), 0);
	rc.rmcp_auth = 1;
	snprintf(path, sizeof(path), "%s/secrets", dir);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_ptr_null(rmcpd_new(&rc, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not readable by others") != NULL, "%s",
	    err);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_ptr_nonnull(rd = rmcpd_new(&rc, err, sizeof(err)));
	/* A reload that fails keeps what it had. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmcpd_reload(rd), -1);
	put("alice", mail, 0700);
	ck_assert_int_eq(status_of("alice", 4000, "good"), RMCP_NEW);
	rmcpd_free(rd);
	/* A missing passwd-file stops the start. */
	snprintf(path, sizeof(path), "%s/passwd", dir);
	ck_assert_int_eq(unlink(path), 0);
	rc.rmcp_auth = 0;
	ck_assert_ptr_null(rmcpd_new(&rc, err, sizeof(err)));
	/* System accounts: root (uid 0) and nologin shells are nobody. */
	rc.userdb[0] = USERDB_SYSTEM;
	ck_assert_ptr_nonnull(rd = rmcpd_new(&rc, err, sizeof(err)));
	ck_assert_int_eq(status_of("root", 4000, NULL), RMCP_NONE);
	rmcpd_free(rd);
}
END_TEST

/* --- The configuration keys --------------------------------------------- */

static int
load(struct conf *c, const char *text, char *err, size_t errlen)
{
	snprintf(path, sizeof(path), "%s/postern.conf", dir);
	tu_write_file(path, text, strlen(text));
	return conf_load(c, path, false, err, errlen);
}

static const char *bad_conf[] = {
	"rmcp_enabled = maybe\n",
	"rmcp_listen = 127.0.0.1\n",
	"rmcp_listen = ::1:50\n",
	"rmcp_listen = [::1]50\n",
	"rmcp_listen = host.example:50\n",
	"rmcp_listen = *:0\n",
	"rmcp_listen = *:65536\n",
	"rmcp_listen = *:nosuchservice\n",
	"rmcp_listen = *:50 *:50\n",
	"rmcp_user = -x\n",
	"rmcp_consent = always\n",
	"rmcp_consent_users = alice ../bob\n",
	"rmcp_ages = exact\n",
	"rmcp_auth = 1\n",
	"rmcp_secrets_file = relative\n",
	"rmcp_rate = 0\n",
	"rmcp_rate_burst = -1\n",
	"rmcp_auth_fail_max = 0\n",
	"rmcp_auth_fail_block = 86401\n",
	"rmcp_pending_lifetime = 0\n",
	"rmcp_auth_lifetime = x\n",
	"rmcp_table_size = 15\n",
	"rmcp_table_size = 262145\n",
	"rmcp_auth = yes\nrmcp_auth = no\n",
};

START_TEST(test_conf_bad)
{
	struct conf c;
	char err[2048], want[64];
	int line = strchr(bad_conf[_i], '\n')[1] != '\0' ? 2 : 1;

	ck_assert_int_eq(load(&c, bad_conf[_i], err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "postern.conf:%d: rmcp_", line);
	ck_assert_msg(strstr(err, want) != NULL, "%s: %s", bad_conf[_i], err);
}
END_TEST

START_TEST(test_conf_good)
{
	struct conf c;
	char err[2048];

	conf_default(&c);
	ck_assert_int_eq(c.rmcp_enabled, 0);
	ck_assert_uint_eq(c.nrmcp_listen, 2);
	ck_assert_str_eq(c.rmcp_listen[0].host, "*");
	ck_assert_str_eq(c.rmcp_listen[1].host, "::");
	ck_assert_str_eq(c.rmcp_listen[1].port, "50");
	ck_assert_str_eq(c.rmcp_user, "rmcpd");
	ck_assert_int_eq(c.rmcp_consent, RMCP_CONSENT_EXECBIT);
	ck_assert_int_eq(c.rmcp_ages, RMCP_AGES_OBFUSCATED);
	ck_assert_int_eq(c.rmcp_table_size, 4096);
	ck_assert_int_eq(c.rmcp_pending_lifetime, 120);
	ck_assert_int_eq(c.rmcp_auth_lifetime, 900);
	ck_assert_msg(load(&c, "rmcp_enabled = yes\n"
	    "rmcp_listen = 127.0.0.1:5050\t[::1]:5050  *:6000\n"
	    "rmcp_user = nobody\nrmcp_consent = either\n"
	    "rmcp_consent_users = alice bob\nrmcp_ages = real\n"
	    "rmcp_auth = yes\nrmcp_secrets_file = /etc/x\nrmcp_rate = 60\n"
	    "rmcp_rate_burst = 5\nrmcp_auth_fail_max = 3\n"
	    "rmcp_auth_fail_block = 60\nrmcp_pending_lifetime = 5\n"
	    "rmcp_auth_lifetime = 7\nrmcp_table_size = 16\n", err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.rmcp_enabled, 1);
	ck_assert_uint_eq(c.nrmcp_listen, 3);
	ck_assert_str_eq(c.rmcp_listen[1].host, "::1");
	ck_assert_str_eq(c.rmcp_listen[1].port, "5050");
	ck_assert_str_eq(c.rmcp_listen[2].port, "6000");
	ck_assert_int_eq(c.rmcp_consent, RMCP_CONSENT_EITHER);
	ck_assert_str_eq(c.rmcp_consent_users, "alice bob");
	ck_assert_int_eq(c.rmcp_ages, RMCP_AGES_REAL);
	ck_assert_int_eq(c.rmcp_auth, 1);
	ck_assert_int_eq(c.rmcp_table_size, 16);
	ck_assert_int_eq(load(&c, "rmcp_consent_users = none\n", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.rmcp_consent_users, "");
}
END_TEST

/* --- The maildrop's times after a POP session (RFC 1339 p.2) ---------- */

static void
md_open(struct maildrop *md)
{
	struct lock_conf lc;
	char err[256];

	lock_conf_default(&lc);
	lc.timeout = 2;
	snprintf(path, sizeof(path), "%s/mbox", dir);
	ck_assert_msg(maildrop_open(md, path, &lc, false, err, sizeof(err)) ==
	    MD_OK, "open: %s", err);
}

static int
md_sink(void *arg, const char *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

static void
md_stat(struct stat *st)
{
	snprintf(path, sizeof(path), "%s/mbox", dir);
	ck_assert_int_eq(stat(path, st), 0);	/* never read it here */
}

/* 0: nothing read; 1: RETR; 2: nothing read, mail arrived; 3: read and
 * mail arrived; 4: open and close only. */
START_TEST(test_maildrop_times)
{
	time_t now = time(NULL), at = now - 1000, mt = now - 500;
	struct maildrop md;
	struct stat st;
	char err[256];
	int fd;

	put("mbox", mail, 0700);
	times("mbox", at, mt);			/* new mail */
	md_open(&md);
	if (_i == 1 || _i == 3) {
		ck_assert_int_eq(maildrop_stream(&md, 0, true, -1, md_sink,
		    NULL), 0);
		md.read_mail = true;
	}
	if (_i == 2 || _i == 3) {
		fd = open(path, O_WRONLY | O_APPEND);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, mail, strlen(mail)),
		    (ssize_t)strlen(mail));
		close(fd);
		times("mbox", at, now - 30);	/* the delivery */
		snprintf(path, sizeof(path), "%s/mbox", dir);
	}
	if (_i != 4)
		ck_assert_msg(maildrop_update(&md, err, sizeof(err)) == MD_OK,
		    "update: %s", err);
	maildrop_close(&md);
	md_stat(&st);
	switch (_i) {
	case 0:
	case 4:		/* untouched: still new */
		ck_assert_int_eq(st.st_atime, at);
		ck_assert_int_eq(st.st_mtime, mt);
		break;
	case 1:		/* read: old */
		ck_assert_int_eq(st.st_mtime, mt);
		ck_assert(st.st_atime >= now - 5);
		break;
	case 2:		/* not read, new mail: still new, atime kept */
		ck_assert_int_eq(st.st_atime, at);
		ck_assert_int_eq(st.st_mtime, now - 30);
		break;
	case 3:		/* read, then new mail: new */
		ck_assert_int_eq(st.st_mtime, now - 30);
		ck_assert_int_eq(st.st_atime, now - 31);
		break;
	}
	ck_assert(_i == 1 ? st.st_atim.tv_sec > st.st_mtim.tv_sec :
	    st.st_atim.tv_sec < st.st_mtim.tv_sec);
}
END_TEST

static Suite *
rmcp_suite(void)
{
	Suite *s = suite_create("rmcp");
	TCase *codec = tcase_create("codec");
	TCase *state = tcase_create("state");
	TCase *resp = tcase_create("responder");
	TCase *conf = tcase_create("conf");
	TCase *md = tcase_create("maildrop");

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

	tcase_add_checked_fixture(resp, setup, teardown);
	tcase_add_test(resp, test_responder_zero);
	tcase_add_test(resp, test_responder_consent_ages);
	tcase_add_test(resp, test_responder_auth);
	tcase_add_test(resp, test_responder_files);
	suite_add_tcase(s, resp);

	tcase_add_checked_fixture(conf, setup, teardown);
	tcase_add_loop_test(conf, test_conf_bad, 0,
	    sizeof(bad_conf) / sizeof(bad_conf[0]));
	tcase_add_test(conf, test_conf_good);
	suite_add_tcase(s, conf);

	tcase_add_checked_fixture(md, setup, teardown);
	tcase_add_loop_test(md, test_maildrop_times, 0, 5);
	suite_add_tcase(s, md);
	return s;
}

TU_MAIN(rmcp_suite)
