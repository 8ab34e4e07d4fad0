/*
 * Unit tests for worker buffers (worker/mem.c): the three sizes, what
 * each comes back as, and that given-back buffers are reused.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "worker/mem.h"

static void
bulk_buffer_is_bulk_and_reused(void)
{
	uint32_t out = wrk_buf_out();
	struct wrk_buf *b, *again;

	b = wrk_buf_get_bulk();
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->b_size, WRK_BUF_BULK);
	CU_ASSERT_EQUAL(b->b_large, WRK_BUF_C_BULK);
	CU_ASSERT_EQUAL(b->b_len, 0);
	CU_ASSERT_EQUAL(b->b_off, 0);
	CU_ASSERT_EQUAL(wrk_buf_out(), out + 1);
	memset(b->b_data, 'x', WRK_BUF_BULK);	/* all of it is there */
	b->b_len = b->b_off = 7;
	wrk_buf_put(b);
	CU_ASSERT_EQUAL(wrk_buf_out(), out);
	again = wrk_buf_get_bulk();
	CU_ASSERT_PTR_EQUAL(again, b);		/* from the cache, emptied */
	CU_ASSERT_EQUAL(again->b_len, 0);
	CU_ASSERT_EQUAL(again->b_off, 0);
	wrk_buf_put(again);
}

static void
sizes_keep_their_classes(void)
{
	uint32_t out = wrk_buf_out();
	struct wrk_buf *s, *l, *k;
	size_t i;
	struct wrk_buf *many[6];

	s = wrk_buf_get();
	l = wrk_buf_get_large();
	k = wrk_buf_get_bulk();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(s->b_size, WRK_BUF_SMALL);
	CU_ASSERT_EQUAL(s->b_large, WRK_BUF_C_SMALL);
	CU_ASSERT_EQUAL(l->b_size, wrk_buf_large_size());
	CU_ASSERT_EQUAL(l->b_large, WRK_BUF_C_LARGE);
	CU_ASSERT(k->b_size > l->b_size);
	wrk_buf_put(s);
	wrk_buf_put(l);
	wrk_buf_put(k);
	/* more given back than the cache keeps: the rest are freed */
	for (i = 0; i < 6; i++)
		many[i] = wrk_buf_get_bulk();
	for (i = 0; i < 6; i++) {
		CU_ASSERT_PTR_NOT_NULL(many[i]);
		wrk_buf_put(many[i]);
	}
	CU_ASSERT_EQUAL(wrk_buf_out(), out);
}

static CU_TestInfo tests[] = {
	{ "bulk buffer is bulk and reused", bulk_buffer_is_bulk_and_reused },
	{ "sizes keep their classes", sizes_keep_their_classes },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/mem", tests)
