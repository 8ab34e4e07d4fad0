/*
 * Unit tests for the text helpers (shared/text.h): hex digits and name
 * tables.
 */
#include <stdbool.h>

#include <CUnit/CUnit.h>

#include "shared/text.h"
#include "test/unit/unit.h"

static void
hex_digits_and_others(void)
{
	CU_ASSERT_EQUAL(text_hexval('0'), 0);
	CU_ASSERT_EQUAL(text_hexval('9'), 9);
	CU_ASSERT_EQUAL(text_hexval('a'), 10);
	CU_ASSERT_EQUAL(text_hexval('F'), 15);
	CU_ASSERT_EQUAL(text_hexval('g'), -1);
	CU_ASSERT_EQUAL(text_hexval('%'), -1);
	CU_ASSERT_EQUAL(text_hexval('\0'), -1);
}

static const struct text_name colours[] = {
	{ 2, "Red" },
	{ 5, "green" },
	{ -1, "none" },
};

static void
names_both_ways(void)
{
	int v = 99;

	CU_ASSERT_STRING_EQUAL(text_name(colours, TEXT_NELEM(colours), 5,
	    "?"), "green");
	CU_ASSERT_STRING_EQUAL(text_name(colours, TEXT_NELEM(colours), -1,
	    "?"), "none");
	CU_ASSERT_STRING_EQUAL(text_name(colours, TEXT_NELEM(colours), 3,
	    "?"), "?");
	CU_ASSERT(text_value(colours, TEXT_NELEM(colours), "green", false,
	    &v));
	CU_ASSERT_EQUAL(v, 5);
	/* case counts unless asked otherwise */
	CU_ASSERT_FALSE(text_value(colours, TEXT_NELEM(colours), "red", false,
	    &v));
	CU_ASSERT_EQUAL(v, 5);
	CU_ASSERT(text_value(colours, TEXT_NELEM(colours), "RED", true, &v));
	CU_ASSERT_EQUAL(v, 2);
	CU_ASSERT_FALSE(text_value(colours, TEXT_NELEM(colours), "", true,
	    &v));
}

static CU_TestInfo tests[] = {
	{ "hex_digits_and_others", hex_digits_and_others },
	{ "names_both_ways", names_both_ways },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/text", tests);
