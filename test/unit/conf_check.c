/*
 * Loading a configuration from a string in the unit tests (see
 * conf_check.h).
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test/unit/conf_check.h"

struct cd_conf *
ut_load(const char *yaml, struct conf_diags *d)
{
	memset(d, 0, sizeof(*d));
	return conf_load_buf("t.yaml", yaml, strlen(yaml), d);
}

struct cd_conf *
ut_load_ok(const char *yaml)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(yaml, &d);
	if (c == NULL || d.cd_n != 0)
		conf_diags_print(&d, "t.yaml", stderr);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	conf_diags_free(&d);
	return c;
}

int
ut_has(const struct conf_diags *d, int line, int col, int warning,
    const char *text)
{
	size_t i;

	for (i = 0; i < d->cd_n; i++)
		if (d->cd_v[i].d_line == line && d->cd_v[i].d_col == col &&
		    d->cd_v[i].d_warning == warning &&
		    strcmp(d->cd_v[i].d_text, text) == 0)
			return 1;
	fprintf(stderr, "\nwanted t.yaml:%d:%d: %s: %s\ngot:\n", line, col,
	    warning ? "warning" : "error", text);
	conf_diags_print(d, "t.yaml", stderr);
	return 0;
}

void
ut_expect_error(const char *yaml, int line, int col, const char *text)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(yaml, &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(d.cd_nerrors >= 1);
	CU_ASSERT(ut_has(&d, line, col, 0, text));
	conf_free(c);
	conf_diags_free(&d);
}
