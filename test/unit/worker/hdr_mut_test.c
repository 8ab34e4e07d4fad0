/*
 * Unit tests for configured header mutations on a head (worker/hdr_mut.c)
 * and the heads written from a mutated one (worker/hdr.c): Envoy's
 * evaluateHeaders order (removals, then every value against the head as
 * it was, then overwrites, then appends), the four append actions,
 * keep_empty_value, values that read the head, and the exact bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/alog.h"
#include "shared/arena.h"
#include "shared/conf-t.h"
#include "test/unit/unit.h"
#include "worker/hdr.h"

static struct cd_arena *arena;
static struct wrk_hm_line lines[64];
static char vbuf[4096];

/* One header to add: name, format, action, keep_empty. */
static struct cd_hdr_add
add(const char *name, const char *value, int action, bool keep)
{
	struct cd_hdr_add ha;
	const char *why;
	size_t at;

	memset(&ha, 0, sizeof(ha));
	if (arena == NULL)
		arena = arena_new();
	ha.ha_name = (char *)name;
	ha.ha_nlen = strlen(name);
	ha.ha_value = (char *)value;
	ha.ha_action = action;
	ha.ha_keep_empty = keep;
	CU_ASSERT_EQUAL(alog_fmt_parse(arena, value, strlen(value),
	    &ha.ha_fmt, &why, &at), 0);
	return ha;
}

static bool
get(void *arg, const char *name, size_t len, struct alog_str *out)
{
	return wrk_hm_get(arg, name, len, out);
}

/* Apply ho to m, values reading m itself. */
static void
apply(struct wrk_hm *m, const struct cd_hdr_ops *ho)
{
	struct alog_rec rec;
	struct alog_src src;

	memset(&rec, 0, sizeof(rec));
	src.as_rec = &rec;
	src.as_req = get;
	src.as_resp = NULL;
	src.as_arg = m;
	wrk_hm_apply(m, ho, &src);
}

/* The live lines as "name: value\n" ... for comparing. */
static const char *
dump(const struct wrk_hm *m)
{
	static char out[1024];
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < m->m_n; i++) {
		if (m->m_v[i].l_dead)
			continue;
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%.*s: %.*s\n",
		    m->m_v[i].l_nlen, m->m_v[i].l_name,
		    (int)m->m_v[i].l_vlen, m->m_v[i].l_val);
	}
	out[n] = '\0';
	return out;
}

static void
start(struct wrk_hm *m)
{
	wrk_hm_init(m, lines, 64, vbuf, sizeof(vbuf));
	wrk_hm_push(m, "Accept", 6, "*/*", 3);
	wrk_hm_push(m, "x-a", 3, "1", 1);
	wrk_hm_push(m, "x-a", 3, "2", 1);
	wrk_hm_push(m, "x-b", 3, "b", 1);
}

static void
actions_are_envoys(void)
{
	struct cd_hdr_add adds[5];
	char *rm[] = { "x-b" };
	struct cd_hdr_ops ho = { adds, 5, rm, 1 };
	struct wrk_hm m;

	start(&m);
	adds[0] = add("x-a", "3", CD_HA_APPEND, false);
	adds[1] = add("x-new", "n", CD_HA_ADD_IF_ABSENT, false);
	adds[2] = add("accept", "text/plain", CD_HA_ADD_IF_ABSENT, false);
	adds[3] = add("x-b", "again", CD_HA_OVERWRITE, false);
	adds[4] = add("x-c", "c", CD_HA_OVERWRITE_OR_ADD, false);
	apply(&m, &ho);
	/* x-b was removed first, so OVERWRITE_IF_EXISTS finds none;
	 * overwrites go before appends */
	CU_ASSERT_STRING_EQUAL(dump(&m), "Accept: */*\nx-a: 1\nx-a: 2\n"
	    "x-c: c\nx-a: 3\nx-new: n\n");
	CU_ASSERT_FALSE(m.m_over);
}

static void
overwrite_replaces_every_line_at_the_end(void)
{
	struct cd_hdr_add adds[1];
	struct cd_hdr_ops ho = { adds, 1, NULL, 0 };
	struct wrk_hm m;

	start(&m);
	adds[0] = add("X-A", "9", CD_HA_OVERWRITE, false);
	adds[0].ha_name = "x-a";
	apply(&m, &ho);
	CU_ASSERT_STRING_EQUAL(dump(&m), "Accept: */*\nx-b: b\nx-a: 9\n");
}

static void
values_see_the_head_before_the_level(void)
{
	struct cd_hdr_add adds[3];
	struct cd_hdr_ops ho = { adds, 3, NULL, 0 };
	struct wrk_hm m;

	start(&m);
	/* x-b's value is read before this level replaces it */
	adds[0] = add("x-b", "new", CD_HA_OVERWRITE_OR_ADD, false);
	adds[1] = add("x-copy", "%REQ(x-b)%-%REQ(x-a)%", CD_HA_APPEND, false);
	adds[2] = add("x-none", "%REQ(x-missing)%", CD_HA_APPEND, false);
	apply(&m, &ho);
	CU_ASSERT_STRING_EQUAL(dump(&m), "Accept: */*\nx-a: 1\nx-a: 2\n"
	    "x-b: new\nx-copy: b-1\n");
	/* the next level sees this one's result */
	adds[0] = add("x-later", "%REQ(x-copy)%", CD_HA_APPEND, false);
	ho.ho_nadd = 1;
	apply(&m, &ho);
	CU_ASSERT_PTR_NOT_NULL(strstr(dump(&m), "x-later: b-1\n"));
}

static void
empty_values_need_keep_empty_value(void)
{
	struct cd_hdr_add adds[2];
	struct cd_hdr_ops ho = { adds, 2, NULL, 0 };
	struct wrk_hm m;

	start(&m);
	adds[0] = add("x-empty", "", CD_HA_APPEND, false);
	adds[1] = add("x-kept", "%REQ(nothing)%", CD_HA_APPEND, true);
	apply(&m, &ho);
	CU_ASSERT_PTR_NULL(strstr(dump(&m), "x-empty"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dump(&m), "x-kept: \n"));
}

static void
full_buffers_are_noticed(void)
{
	struct wrk_hm m;
	uint32_t i;

	wrk_hm_init(&m, lines, 2, vbuf, 8);
	for (i = 0; i < 3; i++)
		wrk_hm_push(&m, "x", 1, "y", 1);
	CU_ASSERT_TRUE(m.m_over);
	CU_ASSERT_EQUAL(m.m_n, 2);
	CU_ASSERT_EQUAL(wrk_hm_size(&m), 2 * (1 + 1 + 4));
}

static void
heads_written_from_a_mutated_head(void)
{
	struct wrk_req_head rh;
	struct wrk_resp_head sh;
	struct wrk_hm m;
	char out[512];
	size_t n;

	wrk_hm_init(&m, lines, 64, vbuf, sizeof(vbuf));
	wrk_hm_push(&m, "X-Up", 4, "1", 1);
	wrk_hm_push(&m, "x-gone", 6, "0", 1);
	wrk_hm_remove(&m, "X-GONE", 6);
	memset(&rh, 0, sizeof(rh));
	rh.rh_method = "GET";
	rh.rh_target = "/v2/x";
	rh.rh_target_len = 5;
	rh.rh_host = "api.internal";
	rh.rh_host_len = 12;
	rh.rh_expected_ms = 15000;
	rh.rh_mut = &m;
	n = wrk_hdr_build_request(out, sizeof(out), &rh);
	out[n] = '\0';
	CU_ASSERT_STRING_EQUAL(out, "GET /v2/x HTTP/1.1\r\nhost: api.internal"
	    "\r\nx-up: 1\r\nx-envoy-expected-rq-timeout-ms: 15000\r\n\r\n");
	/* a response: server is always server_name's */
	wrk_hm_push(&m, "Server", 6, "theirs", 6);
	memset(&sh, 0, sizeof(sh));
	sh.sh_status = 200;
	sh.sh_server = "canaryd";
	sh.sh_server_len = 7;
	sh.sh_has_date = true;
	sh.sh_service_ms = -1;
	sh.sh_mut = &m;
	n = wrk_hdr_build_response(out, sizeof(out), &sh);
	out[n] = '\0';
	CU_ASSERT_STRING_EQUAL(out, "HTTP/1.1 200 OK\r\nx-up: 1\r\n"
	    "server: canaryd\r\n\r\n");
	arena_free(arena);
	arena = NULL;
}

static CU_TestInfo tests[] = {
	{ "actions_are_envoys", actions_are_envoys },
	{ "overwrite_replaces_every_line_at_the_end",
	    overwrite_replaces_every_line_at_the_end },
	{ "values_see_the_head_before_the_level",
	    values_see_the_head_before_the_level },
	{ "empty_values_need_keep_empty_value",
	    empty_values_need_keep_empty_value },
	{ "full_buffers_are_noticed", full_buffers_are_noticed },
	{ "heads_written_from_a_mutated_head",
	    heads_written_from_a_mutated_head },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/hdr_mut", tests)
