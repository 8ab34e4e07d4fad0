/*
 * Loading a configuration from a string in the unit tests, and checking
 * what the loader said: one copy for every test file of the loader.
 * The file name in diagnostics is "t.yaml".
 */
#ifndef TEST_UNIT_CONF_CHECK_H
#define TEST_UNIT_CONF_CHECK_H

#include "shared/conf.h"

/* yaml loaded, its diagnostics in d (zeroed first). */
struct cd_conf	*ut_load(const char *yaml, struct conf_diags *d);
/* yaml loads without any diagnostic (asserted; printed when not). */
struct cd_conf	*ut_load_ok(const char *yaml);
/* d holds this diagnostic, text whole; 0 (and all of d printed) when
 * not. */
int		 ut_has(const struct conf_diags *d, int line, int col,
		    int warning, const char *text);
/* yaml fails with (at least) this error, text whole. */
void		 ut_expect_error(const char *yaml, int line, int col,
		    const char *text);

#endif
