/*
 * Unit test registration: each test file adds its CUnit suite from a
 * constructor, so adding a file needs no edit elsewhere:
 *
 *	static CU_TestInfo tests[] = { { "name", fn }, CU_TEST_INFO_NULL };
 *	UNIT_SUITE("shared/split", tests);
 */
#ifndef CANARYD_TEST_UNIT_UNIT_H
#define CANARYD_TEST_UNIT_UNIT_H

#include <CUnit/CUnit.h>

void	unit_add_suite(const char *name, CU_TestInfo *tests);

#define UNIT_SUITE(name, tests)						\
	static void __attribute__((constructor))			\
	unit_register_suite(void)					\
	{								\
		unit_add_suite((name), (tests));			\
	}

#endif /* CANARYD_TEST_UNIT_UNIT_H */
