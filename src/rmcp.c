/*
 * rmcp.c: the RFC 1339 codec and the responder's state, as pure functions
 * on byte buffers and tables (no I/O; the time is a parameter), so that
 * the unit tests and the fuzzer drive exactly what the daemon runs.  The
 * codec reads and writes the four datagrams of protocol-notes §1.2 and
 * computes the ages of a reply; the tables are fixed-size LRU hash tables
 * keyed by source address (pending authentications, authenticated
 * triples, per-source rate limits and failure counts, D-R11); the state
 * machine (protocol-notes §1.5) says what to answer.  Used by rmcpd, which
 * runs unprivileged after binding, and by the rmcp client.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rmcp.h"

#define NIL		UINT32_MAX
/* Token buckets count in units of 1/RATE_UNIT token. */
#define RATE_UNIT	60000	/* ms per minute: refill = elapsed * rate */
#define VERIFY_UNIT	1000	/* ms per second */
/* The hashed form of a key: family, address, port. */
#define KEY_BYTES	19

/* --- Codec ------------------------------------------------------------ */

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool
rmcp_name_ok(const char *name, size_t len)
{
	size_t i;

	if (name == NULL || len == 0 || len > RMCP_NAME_MAX)
		return false;
	if (name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		/* Printable, no space: a NUL inside fails here too. */
		if ((unsigned char)name[i] < 0x21 ||
		    (unsigned char)name[i] > 0x7e || name[i] == '/')
			return false;
	}
	return true;
}

int
rmcp_parse_request(const void *buf, size_t len, struct rmcp_req *r)
{
	const uint8_t *p = buf;
	size_t n;

	memset(r, 0, sizeof(*r));
	r->kind = RMCP_REQ_MALFORMED;
	if (buf == NULL || len < RMCP_DGRAM_MIN || len > RMCP_DGRAM_MAX)
		return r->kind;
	r->word0 = get32(p);
	if (r->word0 != 0) {
		r->kind = RMCP_REQ_AUTH;
		r->data = p + RMCP_WORD;
		r->datalen = len - RMCP_WORD;
		return r->kind;
	}
	/* D-R1: some clients may send a C string or a line. */
	n = len - RMCP_WORD;
	while (n > 0 && (p[RMCP_WORD + n - 1] == '\0' ||
	    p[RMCP_WORD + n - 1] == '\r' || p[RMCP_WORD + n - 1] == '\n'))
		n--;
	if (n == 0)
		return r->kind;		/* no name at all */
	r->kind = RMCP_REQ_POLL;
	if (rmcp_name_ok((const char *)p + RMCP_WORD, n)) {
		memcpy(r->name, p + RMCP_WORD, n);
		r->name[n] = '\0';
		r->name_ok = true;
	}
	return r->kind;
}

void
rmcp_put_reply(uint8_t out[RMCP_REPLY_LEN], uint32_t w0, uint32_t a,
    uint32_t r)
{
	put32(out, w0);
	put32(out + 4, a);
	put32(out + 8, r);
}

int
rmcp_get_reply(const void *buf, size_t len, uint32_t *w0_r, uint32_t *a_r,
    uint32_t *r_r)
{
	const uint8_t *p = buf;

	if (buf == NULL || len != RMCP_REPLY_LEN)
		return -1;
	*w0_r = get32(p);
	*a_r = get32(p + 4);
	*r_r = get32(p + 8);
	return 0;
}

int
rmcp_reply_status(uint32_t w0, uint32_t a, uint32_t r)
{
	if (w0 != 0)
		return RMCP_AUTHREQ;
	if (a == 0 && r == 0)
		return RMCP_NONE;
	/* p.2: new if R >= A, old if R <= A; the tie is both, and a client
	 * that misses new mail is worse than one that looks once more. */
	return r >= a ? RMCP_NEW : RMCP_OLD;
}

const char *
rmcp_status_name(int status)
{
	switch (status) {
	case RMCP_NEW:
		return "new";
	case RMCP_OLD:
		return "old";
	case RMCP_NONE:
		return "none";
	case RMCP_AUTHREQ:
		return "authreq";
	default:
		return "?";
	}
}

size_t
rmcp_put_poll(uint8_t *buf, size_t len, const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strnlen(name, RMCP_NAME_MAX + 1);
	if (n == 0 || n > RMCP_NAME_MAX || len < RMCP_WORD + n)
		return 0;
	put32(buf, 0);
	memcpy(buf + RMCP_WORD, name, n);	/* no terminator (p.2) */
	return RMCP_WORD + n;
}

size_t
rmcp_put_auth(uint8_t *buf, size_t len, uint32_t mask, const void *data,
    size_t datalen)
{
	if (datalen > RMCP_SECRET_MAX || len < RMCP_WORD + datalen ||
	    (datalen > 0 && data == NULL))
		return 0;
	put32(buf, mask);
	if (datalen > 0)
		memcpy(buf + RMCP_WORD, data, datalen);
	return RMCP_WORD + datalen;
}

/* Whole seconds from t to now, 0 if t is in the future. */
static int64_t
age(const struct timespec *now, const struct timespec *t)
{
	int64_t d;

	d = (int64_t)now->tv_sec - (int64_t)t->tv_sec;
	if (now->tv_nsec < t->tv_nsec)
		d--;
	return d < 0 ? 0 : d;
}

static uint32_t
word_of_age(int64_t secs)
{
	return secs >= (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)secs + 1;
}

/* Makes big > small by one second, keeping both within 32 bits. */
static void
untie(uint32_t *big, uint32_t *small)
{
	if (*big > *small)
		return;
	if (*small < UINT32_MAX)
		*big = *small + 1;
	else {
		*big = UINT32_MAX;
		*small = UINT32_MAX - 1;
	}
}

void
rmcp_ages(const struct timespec *now, const struct timespec *mtime,
    const struct timespec *atime, bool real, uint32_t *a_r, uint32_t *r_r)
{
	bool is_new;

	is_new = mtime->tv_sec > atime->tv_sec ||
	    (mtime->tv_sec == atime->tv_sec &&
	    mtime->tv_nsec >= atime->tv_nsec);
	if (!real) {
		/* p.3: (0, 0, 1) is new mail, (0, 1, 0) old mail. */
		*a_r = is_new ? 0 : 1;
		*r_r = is_new ? 1 : 0;
		return;
	}
	*a_r = word_of_age(age(now, mtime));
	*r_r = word_of_age(age(now, atime));
	if (is_new)
		untie(r_r, a_r);
	else
		untie(a_r, r_r);
}

/* --- Addresses --------------------------------------------------------- */

int
rmcp_addr_from_sa(struct rmcp_addr *a, const struct sockaddr *sa,
    size_t salen)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	memset(a, 0, sizeof(*a));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && salen >= sizeof(*s4)) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		a->family = 4;
		memcpy(a->addr, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(*s6)) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		a->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			/* A dual-stack socket: the same source as on v4. */
			a->family = 4;
			memcpy(a->addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			a->family = 6;
			memcpy(a->addr, s6->sin6_addr.s6_addr, 16);
		}
		return 0;
	}
	return -1;
}

void
rmcp_addr_prefix(const struct rmcp_addr *a, struct rmcp_addr *p_r)
{
	memset(p_r, 0, sizeof(*p_r));
	p_r->family = a->family;
	/* One IPv6 host has a whole /64 to choose sources from. */
	memcpy(p_r->addr, a->addr, a->family == 4 ? 4 : 8);
}

char *
rmcp_addr_str(const struct rmcp_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (len == 0)
		return buf;
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, ip,
	    sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	n = snprintf(buf, len, a->family == 4 ? "%s:%u" : "[%s]:%u", ip,
	    (unsigned)a->port);
	if (n < 0)
		buf[0] = '\0';
	return buf;
}

/* --- Tables ------------------------------------------------------------ */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND	do {						\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* SipHash-2-4: spoofed sources cannot aim at one hash chain. */
static uint64_t
siphash(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7, end = len - left;

	for (i = 0; i < end; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < left; i++)
		b |= (uint64_t)in[end + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint32_t
slot(const struct rmcp_table *t, const struct rmcp_addr *k)
{
	uint8_t b[KEY_BYTES];

	b[0] = k->family;
	memcpy(b + 1, k->addr, 16);
	b[17] = (uint8_t)(k->port >> 8);
	b[18] = (uint8_t)k->port;
	return (uint32_t)(siphash(t->k0, t->k1, b, sizeof(b)) &
	    (t->nbucket - 1));
}

static bool
key_eq(const struct rmcp_addr *a, const struct rmcp_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

int
rmcp_table_init(struct rmcp_table *t, size_t cap, const uint8_t seed[16])
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	if (cap < RMCP_TABLE_MIN)
		cap = RMCP_TABLE_MIN;
	if (cap > RMCP_TABLE_MAX)
		cap = RMCP_TABLE_MAX;
	t->cap = (uint32_t)cap;
	for (t->nbucket = 1; t->nbucket < 2 * t->cap; t->nbucket <<= 1)
		;
	t->e = calloc(t->cap, sizeof(*t->e));
	t->bucket = malloc(t->nbucket * sizeof(*t->bucket));
	if (t->e == NULL || t->bucket == NULL) {
		rmcp_table_free(t);
		return -1;
	}
	for (i = 0; i < t->nbucket; i++)
		t->bucket[i] = NIL;
	for (i = 0; i < t->cap; i++)
		t->e[i].next = i + 1 < t->cap ? i + 1 : NIL;
	t->freelist = 0;
	t->head = t->tail = NIL;
	t->k0 = le64(seed);
	t->k1 = le64(seed + 8);
	return 0;
}

void
rmcp_table_free(struct rmcp_table *t)
{
	free(t->e);
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

struct rmcp_entry *
rmcp_table_find(struct rmcp_table *t, const struct rmcp_addr *k)
{
	uint32_t i;

	for (i = t->bucket[slot(t, k)]; i != NIL; i = t->e[i].hnext)
		if (key_eq(&t->e[i].key, k))
			return &t->e[i];
	return NULL;
}

static void
lru_unlink(struct rmcp_table *t, uint32_t i)
{
	struct rmcp_entry *e = &t->e[i];

	if (e->prev != NIL)
		t->e[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != NIL)
		t->e[e->next].prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = NIL;
}

static void
lru_push(struct rmcp_table *t, uint32_t i)
{
	struct rmcp_entry *e = &t->e[i];

	e->prev = NIL;
	e->next = t->head;
	if (t->head != NIL)
		t->e[t->head].prev = i;
	t->head = i;
	if (t->tail == NIL)
		t->tail = i;
}

void
rmcp_table_touch(struct rmcp_table *t, struct rmcp_entry *e, int64_t now)
{
	uint32_t i = (uint32_t)(e - t->e);

	e->t = now;
	if (t->head == i)
		return;
	lru_unlink(t, i);
	lru_push(t, i);
}

void
rmcp_table_remove(struct rmcp_table *t, struct rmcp_entry *e)
{
	uint32_t i = (uint32_t)(e - t->e), *pp;

	for (pp = &t->bucket[slot(t, &e->key)]; *pp != NIL;
	    pp = &t->e[*pp].hnext)
		if (*pp == i) {
			*pp = e->hnext;
			break;
		}
	lru_unlink(t, i);
	memset(e, 0, sizeof(*e));
	e->next = t->freelist;
	e->prev = e->hnext = NIL;
	t->freelist = i;
	t->n--;
}

struct rmcp_entry *
rmcp_table_get(struct rmcp_table *t, const struct rmcp_addr *k, int64_t now,
    bool *isnew_r)
{
	struct rmcp_entry *e;
	uint32_t i, h;

	if ((e = rmcp_table_find(t, k)) != NULL) {
		rmcp_table_touch(t, e, now);
		if (isnew_r != NULL)
			*isnew_r = false;
		return e;
	}
	if (t->freelist == NIL) {
		/* Full: the least recently touched goes (D-R11). */
		rmcp_table_remove(t, &t->e[t->tail]);
		t->evicted++;
	}
	i = t->freelist;
	e = &t->e[i];
	t->freelist = e->next;
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->used = true;
	e->t = now;
	h = slot(t, k);
	e->hnext = t->bucket[h];
	t->bucket[h] = i;
	lru_push(t, i);
	t->n++;
	if (isnew_r != NULL)
		*isnew_r = true;
	return e;
}

size_t
rmcp_table_expire(struct rmcp_table *t, int64_t now, int64_t life)
{
	size_t n = 0;

	while (t->tail != NIL && t->e[t->tail].t <= now - life) {
		rmcp_table_remove(t, &t->e[t->tail]);
		n++;
	}
	return n;
}

/* --- The state machine -------------------------------------------------- */

int
rmcp_state_init(struct rmcp_state *s, const struct rmcp_limits *lim,
    const uint8_t seed[16])
{
	memset(s, 0, sizeof(*s));
	s->lim = *lim;
	if (s->lim.rate == 0)
		s->lim.rate = 1;
	if (s->lim.burst == 0)
		s->lim.burst = 1;
	if (rmcp_table_init(&s->pending, lim->table_size, seed) == -1 ||
	    rmcp_table_init(&s->authed, lim->table_size, seed) == -1 ||
	    rmcp_table_init(&s->rate, lim->table_size, seed) == -1 ||
	    rmcp_table_init(&s->fails, lim->table_size, seed) == -1) {
		rmcp_state_free(s);
		return -1;
	}
	s->verify_tokens = (int64_t)RMCP_VERIFY_PER_SEC * VERIFY_UNIT;
	s->verify_t = INT64_MIN;
	return 0;
}

void
rmcp_state_free(struct rmcp_state *s)
{
	rmcp_table_free(&s->pending);
	rmcp_table_free(&s->authed);
	rmcp_table_free(&s->rate);
	rmcp_table_free(&s->fails);
}

/* Time for an idle source's bucket to fill up again: after that its entry
 * is no different from a new one. */
static int64_t
rate_life(const struct rmcp_state *s)
{
	return ((int64_t)s->lim.burst * RATE_UNIT + s->lim.rate - 1) /
	    s->lim.rate;
}

static bool
rate_take(struct rmcp_state *s, const struct rmcp_addr *pfx, int64_t now)
{
	int64_t cap = (int64_t)s->lim.burst * RATE_UNIT, el;
	struct rmcp_entry *e;

	if ((e = rmcp_table_find(&s->rate, pfx)) == NULL) {
		e = rmcp_table_get(&s->rate, pfx, now, NULL);
		e->tokens = cap;
	} else {
		/* Refill for the time since the last datagram. */
		el = now - e->t;
		if (el >= rate_life(s))
			e->tokens = cap;
		else if (el > 0)
			e->tokens += el * s->lim.rate;
		if (e->tokens > cap)
			e->tokens = cap;
		rmcp_table_touch(&s->rate, e, now);
	}
	if (e->tokens < RATE_UNIT)
		return false;
	e->tokens -= RATE_UNIT;
	return true;
}

static bool
verify_take(struct rmcp_state *s, int64_t now)
{
	int64_t cap = (int64_t)RMCP_VERIFY_PER_SEC * VERIFY_UNIT, el;

	if (s->verify_t == INT64_MIN || now - s->verify_t >= VERIFY_UNIT)
		s->verify_tokens = cap;
	else if ((el = now - s->verify_t) > 0)
		s->verify_tokens += el * RMCP_VERIFY_PER_SEC;
	if (s->verify_tokens > cap)
		s->verify_tokens = cap;
	s->verify_t = now;
	if (s->verify_tokens < VERIFY_UNIT)
		return false;
	s->verify_tokens -= VERIFY_UNIT;
	return true;
}

static void
expire_all(struct rmcp_state *s, int64_t now)
{
	rmcp_table_expire(&s->pending, now, s->lim.pending_ms);
	rmcp_table_expire(&s->authed, now, s->lim.authed_ms);
	rmcp_table_expire(&s->rate, now, rate_life(s));
	rmcp_table_expire(&s->fails, now, s->lim.fail_block_ms);
}

static void
set_name(struct rmcp_action *a, const char *name, bool name_ok)
{
	a->name_ok = name_ok;
	if (name_ok)
		memcpy(a->name, name, strnlen(name, RMCP_NAME_MAX) + 1);
	else
		a->name[0] = '\0';
}

/* A failed authentication: counted against the source (D-R9). */
static int
failure(struct rmcp_state *s, const struct rmcp_addr *src, int64_t now,
    int why, struct rmcp_action *a)
{
	struct rmcp_addr pfx;
	struct rmcp_entry *e;

	rmcp_addr_prefix(src, &pfx);
	e = rmcp_table_get(&s->fails, &pfx, now, NULL);
	if (e->count < UINT32_MAX)
		e->count++;
	s->stats.authfail++;
	a->failures = e->count;
	a->act = RMCP_ACT_ZERO;
	a->why = why;
	return a->act;
}

static int
drop(struct rmcp_action *a, int why, uint64_t *counter)
{
	(*counter)++;
	a->act = RMCP_ACT_DROP;
	a->why = why;
	return a->act;
}

static int
poll_auth(struct rmcp_state *s, const struct rmcp_addr *src,
    const struct rmcp_req *req, int64_t now, struct rmcp_action *a)
{
	struct rmcp_entry *e;

	if ((e = rmcp_table_find(&s->authed, src)) != NULL) {
		if (req->name_ok && e->name_ok &&
		    strcmp(e->name, req->name) == 0) {
			rmcp_table_touch(&s->authed, e, now);
			s->stats.status++;
			a->act = RMCP_ACT_STATUS;
			return a->act;
		}
		/* p.3: another name from an authenticated address/port. */
		rmcp_table_remove(&s->authed, e);
	}
	/* D-R10: asked for every name, known or not. */
	e = rmcp_table_get(&s->pending, src, now, NULL);
	e->name_ok = req->name_ok;
	memcpy(e->name, a->name, sizeof(e->name));
	s->stats.authreq++;
	a->act = RMCP_ACT_AUTHREQ;
	return a->act;
}

int
rmcp_input(struct rmcp_state *s, const struct rmcp_addr *src,
    const void *buf, size_t len, int64_t now, struct rmcp_action *a)
{
	struct rmcp_addr pfx;
	struct rmcp_entry *e;
	struct rmcp_req req;

	memset(a, 0, sizeof(*a));
	a->act = RMCP_ACT_DROP;
	s->stats.datagrams++;
	expire_all(s, now);
	/* D-R3: a reserved port is no client; it may be another server
	 * (echo, chargen, RMCP) spoofed into a reflection loop. */
	if (src->port < RMCP_PRIV_PORT)
		return drop(a, RMCP_WHY_PRIVPORT, &s->stats.privport);
	rmcp_addr_prefix(src, &pfx);
	if (!rate_take(s, &pfx, now))
		return drop(a, RMCP_WHY_RATE, &s->stats.rate);
	if ((e = rmcp_table_find(&s->fails, &pfx)) != NULL &&
	    e->count >= s->lim.fail_max)
		return drop(a, RMCP_WHY_BLOCKED, &s->stats.blocked);

	switch (rmcp_parse_request(buf, len, &req)) {
	case RMCP_REQ_POLL:
		s->stats.polls++;
		set_name(a, req.name, req.name_ok);
		if (s->lim.auth)
			return poll_auth(s, src, &req, now, a);
		s->stats.status++;
		a->act = RMCP_ACT_STATUS;
		return a->act;
	case RMCP_REQ_AUTH:
		/* D-R2: a non-zero word 0 with nothing pending. */
		if (!s->lim.auth)
			return drop(a, RMCP_WHY_MALFORMED,
			    &s->stats.malformed);
		if ((e = rmcp_table_find(&s->pending, src)) == NULL)
			return drop(a, RMCP_WHY_NOPENDING,
			    &s->stats.nopending);
		set_name(a, e->name, e->name_ok);
		rmcp_table_remove(&s->pending, e);
		/* D-R12: the one bit offered, big-endian. */
		if (req.word0 != RMCP_AUTH_CLEARTEXT)
			return failure(s, src, now, RMCP_WHY_BADMASK, a);
		/* "not NULL-terminated": no password holds a NUL. */
		if (memchr(req.data, '\0', req.datalen) != NULL)
			return failure(s, src, now, RMCP_WHY_BADSECRET, a);
		if (!verify_take(s, now))
			return drop(a, RMCP_WHY_BUSY, &s->stats.busy);
		a->data = req.data;
		a->datalen = req.datalen;
		a->act = RMCP_ACT_VERIFY;
		return a->act;
	default:
		return drop(a, RMCP_WHY_MALFORMED, &s->stats.malformed);
	}
}

int
rmcp_verified(struct rmcp_state *s, const struct rmcp_addr *src,
    const char *name, bool name_ok, bool ok, int64_t now,
    struct rmcp_action *a)
{
	struct rmcp_entry *e;
	char n[RMCP_NAME_MAX + 1] = "";

	/* name may point into a itself (the VERIFY action). */
	if (name_ok)
		memcpy(n, name, strnlen(name, RMCP_NAME_MAX));
	memset(a, 0, sizeof(*a));
	set_name(a, n, name_ok);
	if (!ok || !name_ok)
		return failure(s, src, now, RMCP_WHY_BADSECRET, a);
	e = rmcp_table_get(&s->authed, src, now, NULL);
	e->name_ok = true;
	memcpy(e->name, a->name, sizeof(e->name));
	s->stats.authok++;
	s->stats.status++;
	a->act = RMCP_ACT_STATUS;
	return a->act;
}
