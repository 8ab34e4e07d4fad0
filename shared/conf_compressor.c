/*
 * Configuration loader: the compressor HTTP filter (conf-int.h).  Master
 * only.
 *
 * envoy.extensions.filters.http.compressor.v3.Compressor with the gzip
 * library (envoy.extensions.compression.gzip.compressor.v3.Gzip), the
 * response direction; and a route's CompressorPerRoute, which may only
 * turn it off.  Into the struct cd_compressor of a struct conf_hf.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <yaml.h>

#include "conf.h"
#include "conf-int.h"

#define CP(m)	AT(struct conf_hf, hf_cmp.m)

/* envoy.extensions.compression.gzip.compressor.v3.Gzip, zlib's values */
static const struct conf_enum enum_level = { "compression_level",
    (const struct conf_enum_val[]){ { "DEFAULT_COMPRESSION", 6 },
    { "BEST_SPEED", 1 }, { "COMPRESSION_LEVEL_1", 1 },
    { "COMPRESSION_LEVEL_2", 2 }, { "COMPRESSION_LEVEL_3", 3 },
    { "COMPRESSION_LEVEL_4", 4 }, { "COMPRESSION_LEVEL_5", 5 },
    { "COMPRESSION_LEVEL_6", 6 }, { "COMPRESSION_LEVEL_7", 7 },
    { "COMPRESSION_LEVEL_8", 8 }, { "COMPRESSION_LEVEL_9", 9 },
    { "BEST_COMPRESSION", 9 }, { NULL, 0 } } };

static const struct conf_enum enum_strategy = { "compression_strategy",
    (const struct conf_enum_val[]){ { "DEFAULT_STRATEGY", 0 },
    { "FILTERED", 1 }, { "HUFFMAN_ONLY", 2 }, { "RLE", 3 },
    { "FIXED", 4 }, { NULL, 0 } } };

static const struct conf_field gzip_fields[] = {
	{ "memory_level", CK_UINT, CF_DEF, .f_min = 1, .f_max = 9,
	    .f_def = 5, CP(cp_mem_level) },
	{ "compression_level", CK_ENUM, CF_DEF, .f_def = 6,
	    .f_enum = &enum_level, CP(cp_level) },
	{ "compression_strategy", CK_ENUM, CF_DEF, .f_def = 0,
	    .f_enum = &enum_strategy, CP(cp_strategy) },
	{ "window_bits", CK_UINT, CF_DEF, .f_min = 9, .f_max = 15,
	    .f_def = 12, CP(cp_window_bits) },
	{ "chunk_size", CK_UINT, CF_DEF, .f_min = 4096, .f_max = 65536,
	    .f_def = 4096, CP(cp_chunk_size) },
	F_END
};
static const struct conf_msg msg_gzip = { "Gzip", gzip_fields, NULL, NULL };

#define USE_GZIP	"; use envoy.extensions.compression.gzip.compressor." \
	"v3.Gzip"
static const struct conf_any any_library[] = {
	{ "envoy.extensions.compression.gzip.compressor.v3.Gzip", &msg_gzip,
	    "envoy.compression.gzip.compressor", NULL },
	{ "envoy.extensions.compression.brotli.compressor.v3.Brotli", NULL,
	    "envoy.compression.brotli.compressor", "canaryd compresses with "
	    "zlib only" USE_GZIP },
	{ "envoy.extensions.compression.zstd.compressor.v3.Zstd", NULL,
	    "envoy.compression.zstd.compressor", "canaryd compresses with "
	    "zlib only" USE_GZIP },
	{ NULL, NULL, NULL, "canaryd compresses with zlib only" USE_GZIP }
};

static const struct conf_field library_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_max = CD_NAME_MAX - 1,
	    CP(cp_name), .f_note = "names the statistics" },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_library,
	    .f_why = "compressor library" },
	F_END
};
static const struct conf_msg msg_library = { "TypedExtensionConfig",
    library_fields, NULL, NULL };

/* RuntimeFeatureFlag: default_value, runtime_key (not read) */
static const struct conf_field feature_fields[] = {
	{ "default_value", CK_BOOL, CF_REQUIRED, CP(cp_enabled) },
	{ "runtime_key", CK_STR, CF_NOSTORE, .f_note = "not read: the "
	    "default_value applies" },
	F_END
};
static const struct conf_msg msg_feature = { "RuntimeFeatureFlag",
    feature_fields, NULL, NULL };

static void
fn_ctypes(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_compressor *cp = &((struct conf_hf *)base)->hf_cmp;
	yaml_node_t *it;
	size_t i, n, old;
	char *s, *p;

	(void)f;
	if (conf_want_seq(w, v) == -1)
		return;
	if ((n = conf_seq_len(v)) > CD_MAX_CTYPES) {
		conf_err(w, v, "too many content types: %zu, canaryd takes at "
		    "most %d (CD_MAX_CTYPES); keep the ones the backends send",
		    n, CD_MAX_CTYPES);
		return;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n; i++) {
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (i > 0)
			conf_json_raw(w, ",");
		if ((s = conf_get_str(w, it, CF_NONEMPTY, 255)) != NULL) {
			conf_json_str(w, s, strlen(s));
			for (p = s; *p != '\0'; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			cp->cp_ctypes[cp->cp_nctypes++] = s;
		}
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

static const struct conf_field common_fields[] = {
	{ "enabled", CK_MSG, 0, .f_msg = &msg_feature, .f_defdoc = "true" },
	{ "min_content_length", CK_UINT, CF_DEF, U32, .f_def = 30,
	    CP(cp_min_length) },
	{ "content_type", CK_FN, 0, .f_fn = fn_ctypes, .f_like = CK_STRSEQ,
	    .f_items = CD_MAX_CTYPES, .f_defdoc = "Envoy's list" },
	F_END
};
static const struct conf_msg msg_common = { "CommonDirectionConfig",
    common_fields, NULL, NULL };

static const struct conf_field response_fields[] = {
	{ "common_config", CK_MSG, 0, .f_msg = &msg_common },
	{ "disable_on_etag_header", CK_BOOL, 0, CP(cp_disable_on_etag) },
	{ "remove_accept_encoding_header", CK_BOOL, 0,
	    CP(cp_remove_accept_encoding) },
	{ "uncompressible_response_codes", CK_REJECT, 0, .f_why = "canaryd "
	    "compresses responses of any status with a body; remove it" },
	{ "status_header_enabled", CK_REJECT, 0, .f_why = "canaryd sends no "
	    "x-envoy-compression-status header; remove it" },
	F_END
};
static const struct conf_msg msg_response = { "ResponseDirectionConfig",
    response_fields, NULL, NULL };

/* request_direction_config: request bodies are never compressed, so
 * only enabled: false (what Envoy does without it) is taken */
static void
request_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	(void)seen;
	if (((struct conf_hf *)base)->hf_cmp.cp_enabled)
		conf_err(w, n, "canaryd does not compress request bodies; "
		    "remove request_direction_config or set its "
		    "common_config.enabled.default_value to false");
}

static void
request_init(struct cw *w, void *base)
{
	(void)w;
	((struct conf_hf *)base)->hf_cmp.cp_enabled = true;
}

static const struct conf_field request_common_fields[] = {
	{ "enabled", CK_MSG, 0, .f_msg = &msg_feature, .f_defdoc = "true" },
	{ "min_content_length", CK_IGNORE, 0, .f_why = "canaryd does not "
	    "compress request bodies" },
	{ "content_type", CK_IGNORE, 0, .f_why = "canaryd does not compress "
	    "request bodies" },
	F_END
};
static const struct conf_msg msg_request_common = { "CommonDirectionConfig",
    request_common_fields, NULL, NULL };

static const struct conf_field request_fields[] = {
	{ "common_config", CK_MSG, 0, .f_msg = &msg_request_common },
	F_END
};
static const struct conf_msg msg_request = { "RequestDirectionConfig",
    request_fields, request_init, request_done };

static void
compressor_init(struct cw *w, void *base)
{
	struct conf_hf *hf = base;

	(void)w;
	hf->hf_kind = CD_HF_COMPRESSOR;
	hf->hf_cmp.cp_enabled = true;
	hf->hf_cmp.cp_level = 6;
	hf->hf_cmp.cp_mem_level = 5;
	hf->hf_cmp.cp_window_bits = 12;
	hf->hf_cmp.cp_chunk_size = 4096;
	hf->hf_cmp.cp_min_length = 30;
}

/*
 * request_direction_config is walked into a scratch target (its enabled
 * is not the response's) by this handler.
 */
static void
fn_request_dir(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct conf_hf *hs;

	(void)base;
	if ((hs = conf_scratch(w, sizeof(*hs))) != NULL)
		conf_walk_msg(w, v, f->f_msg, hs, NULL);
}

#define CP_OLD	"it is deprecated in Envoy; put it in " \
	"response_direction_config"
static const struct conf_field compressor_fields[] = {
	{ "compressor_library", CK_MSG, CF_REQUIRED, .f_msg = &msg_library },
	{ "response_direction_config", CK_MSG, 0, .f_msg = &msg_response },
	{ "request_direction_config", CK_FN, 0, .f_fn = fn_request_dir,
	    .f_like = CK_MSG, .f_msg = &msg_request,
	    .f_note = "enabled: false only" },
	{ "choose_first", CK_BOOL, CF_NOSTORE, .f_note = "one compressor: "
	    "no choice to make" },
	{ "content_length", CK_REJECT, 0, .f_why = CP_OLD },
	{ "content_type", CK_REJECT, 0, .f_why = CP_OLD },
	{ "disable_on_etag_header", CK_REJECT, 0, .f_why = CP_OLD },
	{ "remove_accept_encoding_header", CK_REJECT, 0, .f_why = CP_OLD },
	{ "runtime_enabled", CK_REJECT, 0, .f_why = CP_OLD " (common_config."
	    "enabled)" },
	F_END
};
const struct conf_msg conf_msg_compressor = { "Compressor",
    compressor_fields, compressor_init, NULL };

/* CompressorPerRoute: disabled, or nothing */
static void
route_init(struct cw *w, void *base)
{
	(void)w;
	((struct conf_hf *)base)->hf_kind = CD_HF_COMPRESSOR;
}

static const struct conf_field compressor_route_fields[] = {
	{ "disabled", CK_BOOL, 0, CP(cp_route_off) },
	{ "overrides", CK_REJECT, 0, .f_why = "canaryd takes one compressor "
	    "configuration, the filter's; remove it (or disable the filter "
	    "on this route with disabled: true)" },
	F_END
};
const struct conf_msg conf_msg_compressor_route = { "CompressorPerRoute",
    compressor_route_fields, route_init, NULL };
