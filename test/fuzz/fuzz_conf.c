/*
 * libFuzzer harness for the config loader: conf_load_buf() on arbitrary
 * bytes, then conf_free().  Catches crashes, leaks (LeakSanitizer at
 * exit of each run) and undefined behaviour in the YAML walker, the
 * duration and number parsers and the JSON rendering for /config_dump.
 * Seeds: test/fuzz/corpus/conf (the user's config and test configs).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shared/conf.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct conf_diags diags;
	struct cd_conf *cf;
	size_t i;

	memset(&diags, 0, sizeof(diags));
	cf = conf_load_buf("fuzz.yaml", (const char *)data, len, &diags);
	/* a config is returned exactly when there was no error */
	FUZZ_CHECK((cf != NULL) == (diags.cd_nerrors == 0));
	for (i = 0; i < diags.cd_n; i++)
		FUZZ_CHECK(memchr(diags.cd_v[i].d_text, '\0',
		    sizeof(diags.cd_v[i].d_text)) != NULL);
	conf_free(cf);
	conf_diags_free(&diags);
	return 0;
}
