/*
 * The compressor filter's pure decisions (gzip.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "gzip.h"

/* Envoy's default content_type list. */
static const char *const gz_default_types[] = {
	"application/javascript", "application/json", "application/xhtml+xml",
	"image/svg+xml", "text/css", "text/html", "text/plain", "text/xml",
	NULL
};

static bool
gz_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* q of one element's parameters p[0, len) ("; q=0.5"): 0..1000. */
static int
gz_q(const char *p, size_t len)
{
	size_t i = 0;
	int q = 0, scale = 100;

	while (i < len && (gz_space(p[i]) || p[i] == ';'))
		i++;
	if (len - i < 2 || (p[i] != 'q' && p[i] != 'Q') || p[i + 1] != '=')
		return 1000;	/* no q: 1 */
	i += 2;
	if (i < len && p[i] == '1')
		return 1000;
	if (i >= len || p[i] != '0')
		return 0;	/* not a qvalue: never */
	for (i++; i < len && p[i] == '.'; i++)
		;
	for (; i < len && p[i] >= '0' && p[i] <= '9' && scale > 0; i++) {
		q += (p[i] - '0') * scale;
		scale /= 10;
	}
	return q;
}

enum wrk_gz_accept
wrk_gz_accept(const char *v, size_t len)
{
	enum wrk_gz_accept best = WRK_GZ_NOT_VALID;
	size_t i = 0, s, e, n;
	int q, bestq = 0;

	if (v == NULL)
		return WRK_GZ_NO_HEADER;
	while (i < len) {
		while (i < len && (gz_space(v[i]) || v[i] == ','))
			i++;
		for (s = i; i < len && v[i] != ',' && v[i] != ';' &&
		    !gz_space(v[i]); i++)
			;
		n = i - s;
		for (e = i; e < len && v[e] != ','; e++)
			;
		q = gz_q(v + i, e - i);
		i = e;
		if (q <= bestq)
			continue;
		if (n == 4 && strncasecmp(v + s, "gzip", 4) == 0)
			best = WRK_GZ_GZIP;
		else if (n == 8 && strncasecmp(v + s, "identity", 8) == 0)
			best = WRK_GZ_IDENTITY;
		else if (n == 1 && v[s] == '*')
			best = WRK_GZ_WILDCARD;
		else
			continue;
		bestq = q;
	}
	return best;
}

bool
wrk_gz_ctype_ok(const struct cd_compressor *cp, const char *v, size_t len)
{
	const char *const *list = gz_default_types;
	size_t n, i, k;

	if (v == NULL)
		return true;
	for (n = 0; n < len && v[n] != ';' && !gz_space(v[n]); n++)
		;
	if (cp->cp_nctypes > 0) {
		for (i = 0; i < cp->cp_nctypes; i++) {
			k = strlen(cp->cp_ctypes[i]);
			if (k == n && strncasecmp(cp->cp_ctypes[i], v, n) == 0)
				return true;
		}
		return false;
	}
	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncasecmp(list[i], v, n) == 0)
			return true;
	return false;
}
