/*
 * fuzz_rmcp.c: libFuzzer harness for the RMCP codec and the responder's
 * state machine (src/rmcp.c).  The input is a session: one flags octet
 * (bit 0 authenticated mode, bits 1-2 the table size), then records of
 * a control octet (source address, source port, time step, and whether a
 * VERIFY succeeds), a 16-bit big-endian length and that many octets of
 * datagram.  Every datagram is parsed and fed to rmcp_input; the harness
 * traps unless the parse agrees with the lengths and D-R1, the action fits
 * the mode and the datagram (privileged ports dropped, no authentication
 * requests without authentication, a status only for a poll or a good
 * secret), the tables stay within their caps with consistent LRU lists,
 * and the ages of every reply read back as the nanosecond verdict without
 * a tie.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *	tests/fuzz/fuzz_rmcp.c src/rmcp.c
 *
 * With -DFUZZ_STANDALONE it builds with any compiler into a program that
 * runs the corpus files named on its command line once.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rmcp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) { fprintf(stderr, "%s:%d: %s\n", \
			    __FILE__, __LINE__, #x); abort(); } } while (0)

static const uint8_t seed[16] = "fuzz-rmcp-seed!";

static const uint16_t ports[4] = { 50, 1023, 1024, 40000 };
static const int64_t steps[8] = { 0, 1, 999, 1000, 60000, 120001, 900001,
    3600000 };

static struct rmcp_addr
source(unsigned int i, uint16_t port)
{
	struct rmcp_addr a;

	memset(&a, 0, sizeof(a));
	a.port = port;
	switch (i & 3) {
	case 0:
		a.family = 4;
		memcpy(a.addr, "\x7f\x00\x00\x01", 4);
		break;
	case 1:
		a.family = 4;
		memcpy(a.addr, "\xc0\x00\x02\x07", 4);
		break;
	case 2:
		a.family = 6;
		memcpy(a.addr, "\x20\x01\x0d\xb8", 4);
		a.addr[15] = 1;
		break;
	default:	/* the same /64 as case 2 */
		a.family = 6;
		memcpy(a.addr, "\x20\x01\x0d\xb8", 4);
		a.addr[15] = 2;
		break;
	}
	return a;
}

static void
check_table(const struct rmcp_table *t)
{
	uint32_t i, n = 0, prev = UINT32_MAX;

	CHECK(t->n <= t->cap);
	for (i = t->head; i != UINT32_MAX; i = t->e[i].next) {
		CHECK(i < t->cap && t->e[i].used);
		CHECK(t->e[i].prev == prev);
		prev = i;
		CHECK(++n <= t->cap);
	}
	CHECK(n == t->n && t->tail == prev);
}

static void
check_parse(const uint8_t *d, size_t len, const struct rmcp_req *r)
{
	if (len < RMCP_DGRAM_MIN || len > RMCP_DGRAM_MAX) {
		CHECK(r->kind == RMCP_REQ_MALFORMED);
		return;
	}
	if (d[0] | d[1] | d[2] | d[3]) {
		CHECK(r->kind == RMCP_REQ_AUTH);
		CHECK(r->datalen == len - 4 && r->data == d + 4);
		return;
	}
	CHECK(r->kind == RMCP_REQ_POLL || r->kind == RMCP_REQ_MALFORMED);
	if (r->name_ok) {
		CHECK(r->kind == RMCP_REQ_POLL);
		CHECK(rmcp_name_ok(r->name, strlen(r->name)));
		CHECK(memcmp(r->name, d + 4, strlen(r->name)) == 0);
	} else
		CHECK(r->name[0] == '\0');
}

/* A reply's ages from eight octets of the datagram as times. */
static void
check_ages(const uint8_t *d, size_t len)
{
	struct timespec now = { 1700000000, 0 }, m, at;
	uint8_t b[RMCP_REPLY_LEN];
	uint32_t w0, a, r;
	bool is_new;
	int st;

	if (len < 8)
		return;
	m.tv_sec = now.tv_sec + (int8_t)d[0] * 100000 + d[1];
	m.tv_nsec = (long)d[2] * 3900000;
	at.tv_sec = now.tv_sec + (int8_t)d[4] * 100000 + d[5];
	at.tv_nsec = (long)d[6] * 3900000;
	is_new = m.tv_sec > at.tv_sec ||
	    (m.tv_sec == at.tv_sec && m.tv_nsec >= at.tv_nsec);
	rmcp_ages(&now, &m, &at, (d[7] & 1) != 0, &a, &r);
	CHECK(a != r);
	rmcp_put_reply(b, 0, a, r);
	CHECK(rmcp_get_reply(b, sizeof(b), &w0, &a, &r) == 0 && w0 == 0);
	st = rmcp_reply_status(w0, a, r);
	CHECK(st == (is_new ? RMCP_NEW : RMCP_OLD));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[4] = { 16, 17, 64, 300 };
	struct rmcp_limits lim;
	struct rmcp_state s;
	struct rmcp_action a;
	struct rmcp_addr src;
	struct rmcp_req req;
	size_t pos = 1, len;
	int64_t now = 0;
	uint8_t ctl;
	bool ok;
	int act;

	if (size < 1)
		return 0;
	memset(&lim, 0, sizeof(lim));
	lim.auth = (data[0] & 1) != 0;
	lim.pending_ms = 120000;
	lim.authed_ms = 900000;
	lim.rate = 30;
	lim.burst = 20;
	lim.fail_max = 3;
	lim.fail_block_ms = 60000;
	lim.table_size = sizes[(data[0] >> 1) & 3];
	CHECK(rmcp_state_init(&s, &lim, seed) == 0);
	while (pos + 3 <= size) {
		ctl = data[pos];
		len = ((size_t)data[pos + 1] << 8 | data[pos + 2]) % 600;
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		now += steps[(ctl >> 4) & 7];
		src = source(ctl, ports[(ctl >> 2) & 3]);
		rmcp_parse_request(data + pos, len, &req);
		check_parse(data + pos, len, &req);
		check_ages(data + pos, len);
		act = rmcp_input(&s, &src, data + pos, len, now, &a);
		if (src.port < RMCP_PRIV_PORT)
			CHECK(act == RMCP_ACT_DROP &&
			    a.why == RMCP_WHY_PRIVPORT);
		if (!lim.auth)
			CHECK(act == RMCP_ACT_DROP || act == RMCP_ACT_STATUS);
		if (act == RMCP_ACT_STATUS || act == RMCP_ACT_AUTHREQ)
			CHECK(req.kind == RMCP_REQ_POLL &&
			    a.name_ok == req.name_ok &&
			    strcmp(a.name, req.name) == 0);
		if (act == RMCP_ACT_ZERO)
			CHECK(req.kind == RMCP_REQ_AUTH && a.failures > 0);
		if (act == RMCP_ACT_VERIFY) {
			CHECK(req.kind == RMCP_REQ_AUTH &&
			    req.word0 == RMCP_AUTH_CLEARTEXT);
			CHECK(a.data == req.data && a.datalen == req.datalen);
			ok = (ctl & 0x80) != 0;
			act = rmcp_verified(&s, &src, a.name, a.name_ok, ok,
			    now, &a);
			CHECK(act == (ok && a.name_ok ? RMCP_ACT_STATUS :
			    RMCP_ACT_ZERO));
		}
		check_table(&s.pending);
		check_table(&s.authed);
		check_table(&s.rate);
		check_table(&s.fails);
		pos += len;
	}
	rmcp_state_free(&s);
	return 0;
}

#ifdef FUZZ_STANDALONE
int
main(int argc, char **argv)
{
	FILE *f;
	uint8_t *b;
	long n;
	int i;

	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "rb")) == NULL ||
		    fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0) {
			perror(argv[i]);
			return 1;
		}
		CHECK((b = malloc((size_t)n + 1)) != NULL);
		CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
		fclose(f);
		(void)LLVMFuzzerTestOneInput(b, (size_t)n);
		free(b);
	}
	printf("fuzz_rmcp: %d inputs ok\n", argc - 1);
	return 0;
}
#endif
