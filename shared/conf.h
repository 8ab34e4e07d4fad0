/*
 * Configuration loader: Envoy v3 static bootstrap YAML (libyaml) into the
 * immutable struct cd_conf (shared/conf-t.h).  Used by the master at start
 * and on reload, and by `canaryd --mode validate`; never by a worker.
 *
 * Strict: unknown fields, wrong types, bad durations, unknown cluster
 * references, zero weight sums ... are errors naming file:line:column and
 * the field path.  Every error of a file is reported in one run.
 *
 * The module is cut into files by message family; shared/conf-int.h, its
 * private header, has the map.
 */
#ifndef CANARYD_SHARED_CONF_H
#define CANARYD_SHARED_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "conf-t.h"

/* One diagnostic: "file:line:col: path: message". */
struct conf_diag {
	int	 d_line;
	int	 d_col;
	int	 d_warning;	/* 1: warning (e.g. deprecated total_weight) */
	char	 d_text[1024];	/* "static_resources.clusters[0].connect_timeout: ..." */
};

struct conf_diags {
	struct conf_diag *cd_v;
	size_t		  cd_n;
	size_t		  cd_nerrors;
};

/*
 * Load and validate the file at path.  Returns the configuration, or NULL
 * when there was at least one error.  Every error and warning is appended
 * to *diags (the caller frees it with conf_diags_free()).  Blocking file
 * I/O: master only, at start or reload.
 */
struct cd_conf	*conf_load(const char *path, struct conf_diags *diags);

/* Same, from a buffer; path only names it in messages.  For tests. */
struct cd_conf	*conf_load_buf(const char *path, const char *buf, size_t len,
		    struct conf_diags *diags);

/* Free everything conf_load() built.  Accepts NULL. */
void		 conf_free(struct cd_conf *);

/* Print each diagnostic as "file:line:col: error: text\n" to fp. */
void		 conf_diags_print(const struct conf_diags *, const char *path,
		    FILE *fp);
void		 conf_diags_free(struct conf_diags *);

/*
 * Parse an Envoy Duration string ("1s", "0.25s", "0.000001s") into
 * nanoseconds.  Returns 0, or -1 with *errstr set to the reason.
 */
int		 conf_parse_duration(const char *s, int64_t *ns,
		    const char **errstr);

/*
 * Print a duration the way Envoy's /config_dump does: "2s", "0.250s",
 * "0.000100s", "0.000000001s" (0, 3, 6 or 9 fractional digits).
 * Returns snprintf's result.
 */
int		 conf_format_duration(char *buf, size_t len, int64_t ns);

/*
 * Print every field the loader accepts to fp, one a line: path, type,
 * default, bounds and a note where canaryd differs from Envoy, separated
 * by tabs, after a "# " header line (`canaryd --mode schema`).  Returns 0,
 * or -1 when writing failed (errno set).
 */
int		 conf_schema_print(FILE *fp);

/* The clusters a weighted route's "always" and "never" overrides pick
 * (rt_canary_wc, rt_stable_wc), from its weights and rollout. */
void		 conf_canary_pick(struct cd_route *);

/* Index of the cluster called name, or -1. */
int		 conf_cluster_index(const struct cd_conf *, const char *name);

/* Index of the listener called name (NULL: an unnamed one), or -1. */
int		 conf_listener_index(const struct cd_conf *, const char *name);
/* Index of the listener on l's address and port as written (the same
 * socket), or -1.  l need not be one of conf's. */
int		 conf_listener_at(const struct cd_conf *,
		    const struct cd_listener *l);

/*
 * Every route of every listener, in file order: start with a zeroed
 * iterator; NULL after the last.  ri_l is the route's listener.
 */
struct cd_route_it {
	size_t	 ri_l, ri_v, ri_r;
};
const struct cd_route *conf_route_next(const struct cd_conf *,
		    struct cd_route_it *);

#endif /* CANARYD_SHARED_CONF_H */
