/*
 * listener_tab.c: the standalone listener's memory of client addresses
 * and children, as pure functions over a table (no sockets, no clock: the
 * caller passes the time), so that the unit suite can drive them.  It
 * groups addresses (IPv4, IPv6 /64, IPv4-mapped as IPv4), counts
 * sessions per address and in all, estimates the connection rate over a
 * sliding minute, counts failed logins for the growing penalty, throttles
 * refusal log lines, maps child pids to addresses, and finds the listen
 * line of a socket that systemd passed without a name.  Lookups are
 * O(1): a SipHash-keyed hash table with a bounded number of entries and
 * a list of idle entries by last use for eviction and expiry.  Runs in
 * the listener process only (root, or the invoking user).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"

/* Chains average two peers when the table is full. */
#define TAB_LOAD		2
#define TAB_BUCKETS_MIN		16
/* Children hash by pid, which the kernel hands out in sequence. */
#define TAB_CHILD_BUCKETS	4096
#define TAB_GROW_MIN		64

/* The one place an address is normalised. */
void
listener_addr_from_raw(int family, const uint8_t addr[16],
    struct listener_addr *a_r)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(a_r, 0, sizeof(*a_r));
	if (family == AF_INET) {
		a_r->family = AF_INET;
		memcpy(a_r->addr, addr, 4);
	} else if (family == AF_INET6) {
		if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
			a_r->family = AF_INET;
			memcpy(a_r->addr, addr + 12, 4);
		} else {
			/* RFC 4291: a /64 is one link, one customer. */
			a_r->family = AF_INET6;
			memcpy(a_r->addr, addr, 8);
		}
	}
}

void
listener_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
    struct listener_addr *a_r)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	uint8_t raw[16];

	memset(raw, 0, sizeof(raw));
	if (sa != NULL && sa->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(raw, &sin->sin_addr, 4);
		listener_addr_from_raw(AF_INET, raw, a_r);
	} else if (sa != NULL && sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(raw, &sin6->sin6_addr, 16);
		listener_addr_from_raw(AF_INET6, raw, a_r);
	} else
		listener_addr_from_raw(0, raw, a_r);
}

bool
listener_addr_eq(const struct listener_addr *a, const struct listener_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

void
listener_addr_str(const struct listener_addr *a, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (len == 0)
		return;
	if (a->family == AF_INET &&
	    inet_ntop(AF_INET, a->addr, tmp, sizeof(tmp)) != NULL)
		snprintf(buf, len, "%s", tmp);
	else if (a->family == AF_INET6 &&
	    inet_ntop(AF_INET6, a->addr, tmp, sizeof(tmp)) != NULL)
		snprintf(buf, len, "%s/64", tmp);
	else
		snprintf(buf, len, "local");
}

int
listener_match_listen(const struct conf *c, const struct sockaddr *sa,
    socklen_t len)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const struct conf_listen *l;
	uint8_t a[16], b[16];
	char *end;
	unsigned long port, lport;
	size_t i, alen;
	int fam, pass;

	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		fam = AF_INET;
		memcpy(a, &sin->sin_addr, 4);
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			fam = AF_INET;
			memcpy(a, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			fam = AF_INET6;
			memcpy(a, &sin6->sin6_addr, 16);
		}
	} else
		return -1;
	alen = fam == AF_INET ? 4 : 16;
	/* Pass 0: the exact address; pass 1: a "*" line on the port. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->nlisten; i++) {
			l = &c->listen[i];
			lport = strtoul(l->port, &end, 10);
			if (end == l->port || *end != '\0' || lport != port)
				continue;
			if (strcmp(l->host, "*") == 0) {
				if (pass == 1)
					return (int)i;
				continue;
			}
			if (pass == 0 && inet_pton(fam, l->host, b) == 1 &&
			    memcmp(a, b, alen) == 0)
				return (int)i;
		}
	}
	return -1;
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012). */
#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
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
		v = (v << 8) | p[i];
	return v;
}

uint64_t
listener_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data, *end;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0;
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k0;
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;

	for (end = in + (len - left); in != end; in += 8) {
		m = le64(in);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < left; i++)
		b |= (uint64_t)in[i] << (8 * i);
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

/* Moves the window forward to now. */
static void
rate_advance(struct listener_rate *r, int64_t now)
{
	if ((r->cur == 0 && r->prev == 0) || now < r->start ||
	    now - r->start >= 2 * LISTENER_RATE_WINDOW) {
		r->start = now;
		r->cur = r->prev = 0;
	} else if (now - r->start >= LISTENER_RATE_WINDOW) {
		r->prev = r->cur;
		r->cur = 0;
		r->start += LISTENER_RATE_WINDOW;
	}
}

bool
listener_rate_ok(struct listener_rate *r, int64_t now, int max)
{
	uint64_t w = LISTENER_RATE_WINDOW, el;

	if (max <= 0)
		return false;
	rate_advance(r, now);
	el = (uint64_t)(now - r->start);
	/* The previous window counts for the part of it still within the
	 * last minute: (cur + 1) + prev * (w - el) / w <= max, in integers. */
	return ((uint64_t)r->cur + 1) * w + (uint64_t)r->prev * (w - el) <=
	    (uint64_t)max * w;
}

void
listener_rate_add(struct listener_rate *r, int64_t now)
{
	rate_advance(r, now);
	if (r->cur < UINT32_MAX)
		r->cur++;
}

int
listener_penalty_ms(unsigned int failures, int max_ms)
{
	long p;

	if (failures == 0 || max_ms <= 0)
		return 0;
	if (failures > 20)		/* 250 << 19 is past any cap */
		return max_ms;
	p = (long)LISTENER_PENALTY_BASE << (failures - 1);
	return p > max_ms ? max_ms : (int)p;
}

bool
listener_throttle(struct listener_throttle *t, int64_t now, int64_t interval,
    uint32_t *suppressed_r)
{
	if (!t->used || now - t->last >= interval || now < t->last) {
		*suppressed_r = t->suppressed;
		t->suppressed = 0;
		t->last = now;
		t->used = true;
		return true;
	}
	if (t->suppressed < UINT32_MAX)
		t->suppressed++;
	*suppressed_r = t->suppressed;
	return false;
}

int
listener_tab_init(struct listener_tab *t, size_t max, const uint8_t key[16])
{
	size_t i;

	memset(t, 0, sizeof(*t));
	memcpy(t->key, key, sizeof(t->key));
	t->max = max == 0 || max > LISTENER_PEERS_MAX ? LISTENER_PEERS_MAX :
	    max;
	for (t->nbuckets = TAB_BUCKETS_MIN; t->nbuckets * TAB_LOAD < t->max;)
		t->nbuckets *= 2;
	t->ncbuckets = TAB_CHILD_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->cbuckets = calloc(t->ncbuckets, sizeof(*t->cbuckets));
	if (t->buckets == NULL || t->cbuckets == NULL) {
		listener_tab_free(t);
		return -1;
	}
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = LISTENER_NIL;
	for (i = 0; i < t->ncbuckets; i++)
		t->cbuckets[i] = LISTENER_NIL;
	t->free_peer = t->free_child = LISTENER_NIL;
	t->lru_head = t->lru_tail = LISTENER_NIL;
	return 0;
}

void
listener_tab_free(struct listener_tab *t)
{
	free(t->buckets);
	free(t->cbuckets);
	free(t->peers);
	free(t->children);
	t->buckets = t->cbuckets = NULL;
	t->peers = NULL;
	t->children = NULL;
	t->npeers = t->peers_cap = t->count = 0;
	t->nchildren_slots = t->children_cap = t->nchildren = 0;
}

static size_t
bucket_of(const struct listener_tab *t, const struct listener_addr *a)
{
	uint8_t buf[1 + sizeof(a->addr)];

	buf[0] = a->family;
	memcpy(buf + 1, a->addr, sizeof(a->addr));
	return (size_t)(listener_siphash(t->key, buf, sizeof(buf)) &
	    (t->nbuckets - 1));
}

struct listener_peer *
listener_tab_peer(struct listener_tab *t, uint32_t i)
{
	if (i == LISTENER_NIL || i >= t->npeers || !t->peers[i].in_use)
		return NULL;
	return &t->peers[i];
}

uint32_t
listener_tab_find(const struct listener_tab *t, const struct listener_addr *a)
{
	uint32_t i;

	for (i = t->buckets[bucket_of(t, a)]; i != LISTENER_NIL;
	    i = t->peers[i].next)
		if (listener_addr_eq(&t->peers[i].addr, a))
			return i;
	return LISTENER_NIL;
}

static void
lru_unlink(struct listener_tab *t, uint32_t i)
{
	struct listener_peer *p = &t->peers[i];

	if (p->lru_prev != LISTENER_NIL)
		t->peers[p->lru_prev].lru_next = p->lru_next;
	else
		t->lru_head = p->lru_next;
	if (p->lru_next != LISTENER_NIL)
		t->peers[p->lru_next].lru_prev = p->lru_prev;
	else
		t->lru_tail = p->lru_prev;
	p->lru_prev = p->lru_next = LISTENER_NIL;
}

static void
lru_push(struct listener_tab *t, uint32_t i)
{
	struct listener_peer *p = &t->peers[i];

	p->lru_prev = LISTENER_NIL;
	p->lru_next = t->lru_head;
	if (t->lru_head != LISTENER_NIL)
		t->peers[t->lru_head].lru_prev = i;
	else
		t->lru_tail = i;
	t->lru_head = i;
}

/* Forgets an idle peer. */
static void
evict(struct listener_tab *t, uint32_t i)
{
	struct listener_peer *p = &t->peers[i];
	uint32_t *link = &t->buckets[bucket_of(t, &p->addr)];

	while (*link != i && *link != LISTENER_NIL)
		link = &t->peers[*link].next;
	if (*link == i)
		*link = p->next;
	lru_unlink(t, i);
	memset(p, 0, sizeof(*p));
	p->next = t->free_peer;
	t->free_peer = i;
	t->count--;
}

/* A free slot, or LISTENER_NIL (at the bound, or out of memory). */
static uint32_t
alloc_peer(struct listener_tab *t)
{
	struct listener_peer *np;
	uint32_t i;
	size_t cap;

	if (t->free_peer != LISTENER_NIL) {
		i = t->free_peer;
		t->free_peer = t->peers[i].next;
		return i;
	}
	if (t->npeers == t->max)
		return LISTENER_NIL;
	if (t->npeers == t->peers_cap) {
		cap = t->peers_cap < TAB_GROW_MIN ? TAB_GROW_MIN :
		    t->peers_cap * 2;
		if (cap > t->max)
			cap = t->max;
		if ((np = realloc(t->peers, cap * sizeof(*np))) == NULL)
			return LISTENER_NIL;
		t->peers = np;
		t->peers_cap = cap;
	}
	return (uint32_t)t->npeers++;
}

uint32_t
listener_tab_get(struct listener_tab *t, const struct listener_addr *a,
    int64_t now)
{
	struct listener_peer *p;
	uint32_t i;
	size_t b;

	if ((i = listener_tab_find(t, a)) != LISTENER_NIL) {
		p = &t->peers[i];
		p->touched = now;
		if (p->sessions == 0) {
			lru_unlink(t, i);
			lru_push(t, i);
		}
		return i;
	}
	if (t->count >= t->max || (i = alloc_peer(t)) == LISTENER_NIL) {
		/* Full (or no memory): the least recently used idle peer
		 * goes; busy peers are never forgotten. */
		if (t->lru_tail == LISTENER_NIL)
			return LISTENER_NIL;
		evict(t, t->lru_tail);
		t->evicted++;
		if ((i = alloc_peer(t)) == LISTENER_NIL)
			return LISTENER_NIL;
	}
	p = &t->peers[i];
	memset(p, 0, sizeof(*p));
	p->addr = *a;
	p->in_use = true;
	p->touched = now;
	b = bucket_of(t, a);
	p->next = t->buckets[b];
	t->buckets[b] = i;
	lru_push(t, i);
	t->count++;
	return i;
}

int
listener_tab_admit(struct listener_tab *t, const struct listener_addr *a,
    int64_t now, const struct listener_limits *lim, uint32_t *peer_r)
{
	struct listener_peer *p;
	uint32_t i;

	*peer_r = LISTENER_NIL;
	if (t->active >= (size_t)lim->max_sessions) {
		*peer_r = listener_tab_find(t, a);
		return LISTENER_BUSY;
	}
	if ((i = listener_tab_get(t, a, now)) == LISTENER_NIL)
		return LISTENER_BUSY;
	*peer_r = i;
	p = &t->peers[i];
	if (p->sessions >= (uint32_t)lim->max_sessions_per_addr)
		return LISTENER_PER_ADDR;
	if (!listener_rate_ok(&p->rate, now, lim->max_conn_per_min))
		return LISTENER_RATE;
	listener_rate_add(&p->rate, now);
	if (p->sessions++ == 0)
		lru_unlink(t, i);	/* busy peers are not evictable */
	t->active++;
	return LISTENER_ADMIT;
}

void
listener_tab_release(struct listener_tab *t, uint32_t peer, int64_t now)
{
	struct listener_peer *p = listener_tab_peer(t, peer);

	if (p == NULL || p->sessions == 0)
		return;
	t->active--;
	if (--p->sessions == 0) {
		p->touched = now;
		lru_push(t, peer);
	}
}

int
listener_tab_child_reserve(struct listener_tab *t)
{
	struct listener_child *nc;
	size_t cap;

	if (t->free_child != LISTENER_NIL ||
	    t->nchildren_slots < t->children_cap)
		return 0;
	if (t->children_cap >= LISTENER_NIL / 2)
		return -1;
	cap = t->children_cap < TAB_GROW_MIN ? TAB_GROW_MIN :
	    t->children_cap * 2;
	if ((nc = realloc(t->children, cap * sizeof(*nc))) == NULL)
		return -1;
	t->children = nc;
	t->children_cap = cap;
	return 0;
}

static size_t
cbucket_of(const struct listener_tab *t, pid_t pid)
{
	return (size_t)pid & (t->ncbuckets - 1);
}

void
listener_tab_child_add(struct listener_tab *t, pid_t pid, uint32_t peer)
{
	struct listener_child *c;
	uint32_t i;
	size_t b;

	if (t->free_child != LISTENER_NIL) {
		i = t->free_child;
		t->free_child = t->children[i].next;
	} else if (t->nchildren_slots < t->children_cap)
		i = (uint32_t)t->nchildren_slots++;
	else
		return;		/* not reserved: a broken invariant */
	c = &t->children[i];
	c->pid = pid;
	c->peer = peer;
	b = cbucket_of(t, pid);
	c->next = t->cbuckets[b];
	t->cbuckets[b] = i;
	t->nchildren++;
}

uint32_t
listener_tab_child_peer(const struct listener_tab *t, pid_t pid)
{
	uint32_t i;

	if (pid <= 0)
		return LISTENER_NIL;
	for (i = t->cbuckets[cbucket_of(t, pid)]; i != LISTENER_NIL;
	    i = t->children[i].next)
		if (t->children[i].pid == pid)
			return t->children[i].peer;
	return LISTENER_NIL;
}

bool
listener_tab_child_remove(struct listener_tab *t, pid_t pid, int64_t now)
{
	uint32_t *link, i;

	if (pid <= 0)
		return false;
	for (link = &t->cbuckets[cbucket_of(t, pid)]; *link != LISTENER_NIL;
	    link = &t->children[*link].next) {
		i = *link;
		if (t->children[i].pid != pid)
			continue;
		*link = t->children[i].next;
		listener_tab_release(t, t->children[i].peer, now);
		t->children[i].pid = 0;
		t->children[i].next = t->free_child;
		t->free_child = i;
		t->nchildren--;
		return true;
	}
	return false;
}

void
listener_tab_children(const struct listener_tab *t, void (*fn)(pid_t, void *),
    void *arg)
{
	size_t i;

	for (i = 0; i < t->nchildren_slots; i++)
		if (t->children[i].pid > 0)
			fn(t->children[i].pid, arg);
}

unsigned int
listener_peer_failures(const struct listener_peer *p, int64_t now)
{
	if (p->failures == 0 || now - p->last_fail >= LISTENER_FAIL_FORGET)
		return 0;
	return p->failures;
}

void
listener_tab_report(struct listener_tab *t, uint32_t peer, bool ok,
    int64_t now)
{
	struct listener_peer *p = listener_tab_peer(t, peer);

	if (p == NULL)
		return;
	if (ok)
		p->failures = 0;
	else {
		p->failures = listener_peer_failures(p, now);
		if (p->failures < UINT32_MAX)
			p->failures++;
		p->last_fail = now;
	}
	p->touched = now;
	if (p->sessions == 0) {
		lru_unlink(t, peer);
		lru_push(t, peer);
	}
}

size_t
listener_tab_expire(struct listener_tab *t, int64_t now)
{
	size_t n = 0;

	while (t->lru_tail != LISTENER_NIL &&
	    now - t->peers[t->lru_tail].touched >= LISTENER_FAIL_FORGET) {
		evict(t, t->lru_tail);
		n++;
	}
	return n;
}

void
listener_tab_stats(const struct listener_tab *t, int64_t now,
    size_t *peers_r, size_t *penalised_r)
{
	size_t i, pen = 0;

	for (i = 0; i < t->npeers; i++)
		if (t->peers[i].in_use &&
		    listener_peer_failures(&t->peers[i], now) > 0)
			pen++;
	*peers_r = t->count;
	*penalised_r = pen;
}
