/*
 * CUnit runner: runs every suite registered through UNIT_SUITE() (unit.h)
 * and exits non-zero when any test fails.  `unit-tests NAME` runs only the
 * suites whose name starts with NAME.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "unit.h"

#define UNIT_MAX_SUITES	64

static struct {
	const char	*name;
	CU_TestInfo	*tests;
} suites[UNIT_MAX_SUITES];
static int nsuites;

void
unit_add_suite(const char *name, CU_TestInfo *tests)
{
	if (nsuites == UNIT_MAX_SUITES) {
		fprintf(stderr, "unit: too many suites\n");
		exit(2);
	}
	suites[nsuites].name = name;
	suites[nsuites].tests = tests;
	nsuites++;
}

int
main(int argc, char *argv[])
{
	CU_SuiteInfo info[UNIT_MAX_SUITES + 1];
	unsigned int failed;
	int i, n = 0;

	for (i = 0; i < nsuites; i++) {
		if (argc > 1 && strncmp(suites[i].name, argv[1],
		    strlen(argv[1])) != 0)
			continue;
		memset(&info[n], 0, sizeof(info[n]));
		info[n].pName = suites[i].name;
		info[n].pTests = suites[i].tests;
		n++;
	}
	memset(&info[n], 0, sizeof(info[n]));
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    CU_register_suites(info) != CUE_SUCCESS) {
		fprintf(stderr, "unit: %s\n", CU_get_error_msg());
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() +
	    CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}
