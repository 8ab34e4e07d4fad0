/*
 * Differential libFuzzer harness for the router's index
 * (worker/router_index.c): from the input, a route table and requests,
 * then a set of virtual host domains and Host values; the route the
 * tries find must be the one the plain in-order scan finds
 * (wrk_router_route_scan), and the virtual host the domain hash finds
 * the one the plain walk finds (wrk_router_vhost_scan).
 *
 * Input: read as a stream of 16-bit draws by the generator of
 * test/unit/route_gen.h (the unit test's, seeded there); zeros once it
 * runs out.  The first draws shape the table; one draw of flags then
 * lets raw input bytes stand in for some route values, paths and hosts,
 * so bytes outside the generator's alphabets (high bytes, controls,
 * NUL in requests) are tried too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/conf-t.h"
#include "test/unit/route_gen.h"
#include "worker/router.h"
#include "fuzz.h"

#define FZ_REQUESTS	16

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static struct rg_table	table;
static struct rg_domains domains;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (rg_table_init(&table) == -1)
		abort();
	return 0;
}

/* Up to max raw bytes of the input into s[0, len), len returned; with
 * nonul, NUL bytes become '/' (configured values are C strings). */
static size_t
raw_bytes(struct rg *g, char *s, size_t max, bool nonul)
{
	size_t i, len = rg_below(g, (uint32_t)max + 1);

	for (i = 0; i < len; i++) {
		s[i] = (char)(rg_next(g) & 0xff);
		if (nonul && s[i] == '\0')
			s[i] = '/';
	}
	return len;
}

static void
fuzz_routes(struct rg *g)
{
	struct cd_route_match *m;
	struct cd_listener l;
	struct wrk_router ro;
	struct rg_req q;
	uint32_t flags;
	size_t i, len;

	rg_table(g, &table, RG_MAXROUTES);
	flags = rg_next(g);
	for (i = 0; (flags & 1) && i < table.t_vh.vh_nroutes; i++) {
		m = &table.t_routes[i].rt_match;
		if (m->rm_kind == CD_PM_REGEX || rg_below(g, 2) == 0)
			continue;
		len = raw_bytes(g, table.t_vals[i], RG_MAXVAL, true);
		table.t_vals[i][len] = '\0';
		m->rm_len = len;
	}
	memset(&l, 0, sizeof(l));
	l.l_vhosts = &table.t_vh;
	l.l_nvhosts = 1;
	FUZZ_CHECK(wrk_router_init(&ro, &l) == 0);
	for (i = 0; i < FZ_REQUESTS; i++) {
		rg_req(g, &table, &q);
		if ((flags & 2) && i % 2 == 1)
			q.q_rv.rv_path_len = raw_bytes(g, q.q_path,
			    sizeof(q.q_path) - 1, false);
		FUZZ_CHECK(wrk_router_route(&ro, &table.t_vh, &q.q_rv) ==
		    wrk_router_route_scan(&table.t_vh, &q.q_rv));
	}
	wrk_router_free(&ro);
}

static void
fuzz_domains(struct rg *g)
{
	struct wrk_router ro;
	char h[RG_MAXHOST + 16];
	uint32_t flags;
	size_t i, len;

	rg_domains(g, &domains);
	flags = rg_next(g);
	FUZZ_CHECK(wrk_router_init(&ro, &domains.d_l) == 0);
	for (i = 0; i < FZ_REQUESTS; i++) {
		if ((flags & 1) && i % 2 == 1)
			len = raw_bytes(g, h, sizeof(h), false);
		else
			len = rg_host(g, &domains, h);
		FUZZ_CHECK(wrk_router_vhost(&ro, h, len) ==
		    wrk_router_vhost_scan(&domains.d_l, h, len));
	}
	wrk_router_free(&ro);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg g = { .rg_in = data, .rg_inlen = size };

	fuzz_routes(&g);
	fuzz_domains(&g);
	return 0;
}
