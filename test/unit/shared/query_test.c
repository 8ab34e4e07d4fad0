/*
 * Unit tests for URL query strings (shared/query.h): decoding, and the
 * pairs one at a time with their NUL counted.
 */
#include <stdbool.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/query.h"
#include "test/unit/unit.h"

static void
decode_escapes_and_plus(void)
{
	struct buf b;

	buf_init(&b);
	CU_ASSERT_EQUAL(query_url_decode(&b, "a%20b+c%zz%4%41", 15), 0);
	/* bad and cut escapes stay as written */
	CU_ASSERT_EQUAL(b.b_len, 11);
	CU_ASSERT_EQUAL(memcmp(b.b_data, "a b c%zz%4A", 11), 0);
	buf_free(&b);
}

static void
pairs_in_order(void)
{
	const char *p = "&a=1&&b=x%20y&c&d=%00e&";
	struct buf k, v;

	buf_init(&k);
	buf_init(&v);
	CU_ASSERT(query_next(&p, &k, &v));
	CU_ASSERT_STRING_EQUAL(k.b_data, "a");
	CU_ASSERT_STRING_EQUAL(v.b_data, "1");
	CU_ASSERT_EQUAL(k.b_len, 2);
	CU_ASSERT(query_next(&p, &k, &v));
	CU_ASSERT_STRING_EQUAL(k.b_data, "b");
	CU_ASSERT_STRING_EQUAL(v.b_data, "x y");
	/* no '=': an empty value */
	CU_ASSERT(query_next(&p, &k, &v));
	CU_ASSERT_STRING_EQUAL(k.b_data, "c");
	CU_ASSERT_EQUAL(v.b_len, 1);
	/* a decoded NUL shows in the length */
	CU_ASSERT(query_next(&p, &k, &v));
	CU_ASSERT_STRING_EQUAL(k.b_data, "d");
	CU_ASSERT_EQUAL(v.b_len, 3);
	CU_ASSERT_NOT_EQUAL(strlen(v.b_data) + 1, v.b_len);
	CU_ASSERT_FALSE(query_next(&p, &k, &v));
	p = "";
	CU_ASSERT_FALSE(query_next(&p, &k, &v));
	buf_free(&k);
	buf_free(&v);
}

static CU_TestInfo tests[] = {
	{ "decode_escapes_and_plus", decode_escapes_and_plus },
	{ "pairs_in_order", pairs_in_order },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/query", tests);
