/*
 * Rollout decisions that survive reloads and restarts (see rollout.h):
 * the state file <state_dir>/rollout.state, one line per route with a
 * rollout block, written whole after every decision and operator action
 * (a temporary file, fsync, rename, fsync of the directory: a crash
 * leaves the old file or the new one, never half of one), read at start.
 *
 *	canaryd-rollout-state 1
 *	route <name> <sig> <state> <step> <decided_ms> <w>,<w>... <reason>
 *
 * Names and reasons are percent-encoded (no blank, no control byte, no
 * '%' left); sig is the route's signature (mst_rollout_sig()) in hex;
 * decided_ms is wall-clock milliseconds.  A file that does not read
 * exactly so is not used at all: canaryd starts from the configuration
 * and says why, loudly.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/log.h"
#include "shared/text.h"
#include "rollout.h"

#define ST_MAGIC	"canaryd-rollout-state 1"
#define ST_FILE		"rollout.state"

/* FNV-1a, 64 bits: enough to tell "the same block and clusters". */
static uint64_t
sig_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
sig_str(uint64_t h, const char *s)
{
	return sig_add(h, s, strlen(s) + 1);
}

uint64_t
mst_rollout_sig(const struct cd_conf *conf, const struct cd_route *rt)
{
	const struct cd_rollout *ro = &rt->rt_rollout;
	uint64_t h = 0xcbf29ce484222325ULL;
	char num[128];
	int c = ro->ro_canary, s = ro->ro_stable;

	h = sig_add(h, ro->ro_steps, ro->ro_nsteps);
	snprintf(num, sizeof(num), "%" PRId64 " %" PRId64 " %" PRIu32
	    " %.17g %.17g", ro->ro_step_interval, ro->ro_window,
	    ro->ro_min_requests, ro->ro_max_error_rate_delta,
	    ro->ro_max_p99_ratio);
	h = sig_str(h, num);
	if (c < 0 || s < 0 || (size_t)c >= rt->rt_nwc ||
	    (size_t)s >= rt->rt_nwc)
		return h;
	/* the canary cluster whole (endpoints included), the stable's name */
	h = sig_str(h, rt->rt_wc[c].wc_name);
	h = sig_str(h, conf->c_json_clusters[rt->rt_wc[c].wc_cluster]);
	return sig_str(h, rt->rt_wc[s].wc_name);
}

/* ---- writing ------------------------------------------------------------- */

static void
st_put_enc(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0')
		buf_puts(b, "%00");	/* an empty word would not read back */
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p == '%' || *p == 0x7f)
			buf_printf(b, "%%%02X", *p);
		else
			buf_append(b, p, 1);
}

static void
st_put_route(struct buf *b, const struct mst_ro_route *rr)
{
	size_t i;

	buf_puts(b, "route ");
	st_put_enc(b, rr->rr_name);
	buf_printf(b, " %016" PRIx64 " %s %d %" PRIu64 " ", rr->rr_sig,
	    mst_rollout_state_name(rr->rr_state), rr->rr_step,
	    rr->rr_decided_ms);
	for (i = 0; i < rr->rr_nwc; i++)
		buf_printf(b, "%s%" PRIu32, i > 0 ? "," : "", rr->rr_w[i]);
	buf_puts(b, " ");
	st_put_enc(b, rr->rr_reason);
	buf_puts(b, "\n");
}

/* Write all of b to fd; 0 or -1. */
static int
st_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The directory exists (made 0750 if missing) and can be synced. */
static int
st_dir_fd(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1)
		return fd;
	if (errno != ENOENT || mkdir(dir, 0750) == -1)
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
mst_rollout_state_write(const char *dir, const struct mst_ro *ro)
{
	char tmp[4096], path[4096];
	struct buf b;
	size_t r;
	int dfd, fd = -1, rc = -1, saved;

	if (snprintf(path, sizeof(path), "%s/" ST_FILE, dir) >=
	    (int)sizeof(path) || snprintf(tmp, sizeof(tmp), "%s/" ST_FILE
	    ".tmp", dir) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf_init(&b);
	buf_puts(&b, ST_MAGIC "\n");
	for (r = 0; r < ro->ro_n; r++)
		if (ro->ro_routes[r].rr_has_rollout)
			st_put_route(&b, &ro->ro_routes[r]);
	if (b.b_oom) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	if ((dfd = st_dir_fd(dir)) == -1) {
		buf_free(&b);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd != -1 && st_write_all(fd, b.b_data, b.b_len) == 0 &&
	    fsync(fd) == 0) {
		rc = close(fd);
		fd = -1;
		/* the rename, then the directory entry, to the disk */
		if (rc == 0 && (rename(tmp, path) == -1 || fsync(dfd) == -1))
			rc = -1;
	}
	saved = errno;
	if (fd != -1)
		close(fd);
	if (rc == -1)
		unlink(tmp);
	close(dfd);
	buf_free(&b);
	errno = saved;
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

/* Decode word s into out (size len); -1 when it is not well formed. */
static int
st_dec(const char *s, char *out, size_t len)
{
	size_t n = 0;
	int hi, lo;

	if (strcmp(s, "%00") == 0) {
		out[0] = '\0';
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (n + 1 >= len)
			return -1;
		if (*s != '%') {
			out[n++] = *s;
			continue;
		}
		if ((hi = text_hexval(s[1])) < 0 || (lo = text_hexval(s[2])) < 0 ||
		    (hi == 0 && lo == 0))
			return -1;
		out[n++] = (char)(hi << 4 | lo);
		s += 2;
	}
	out[n] = '\0';
	return 0;
}

static int
st_state(const char *s, enum mst_ro_state *st)
{
	int i;

	for (i = MST_RO_PROGRESSING; i <= MST_RO_PROMOTED; i++)
		if (strcmp(s, mst_rollout_state_name((enum mst_ro_state)i)) ==
		    0) {
			*st = (enum mst_ro_state)i;
			return 0;
		}
	return -1;
}

/* The comma-separated weights s into sv (rs_wbuf, owned): as many as
 * the line holds; the route they are adopted for checks the count. */
static int
st_weights(char *s, struct mst_ro_saved *sv)
{
	char *w, *end;
	unsigned long long v;
	size_t n = 1, k;

	for (k = 0; s[k] != '\0'; k++)
		n += s[k] == ',';
	if ((sv->rs_wbuf = calloc(n, sizeof(*sv->rs_wbuf))) == NULL)
		return -1;
	sv->rs_w = sv->rs_wbuf;
	sv->rs_nw = 0;
	while ((w = strsep(&s, ",")) != NULL) {
		if (sv->rs_nw == n || *w == '\0')
			return -1;
		errno = 0;
		v = strtoull(w, &end, 10);
		if (errno != 0 || *end != '\0' || v > UINT32_MAX)
			return -1;
		sv->rs_wbuf[sv->rs_nw++] = (uint32_t)v;
	}
	return sv->rs_nw > 0 ? 0 : -1;
}

/* One "route" line into sv; -1 when it does not read. */
static int
st_parse_route(char *line, struct mst_ro_saved *sv)
{
	char *f[8], *end;
	long long step;
	size_t n = 0;

	while (n < 8 && (f[n] = strsep(&line, " ")) != NULL)
		n++;
	if (n != 8 || line != NULL || strcmp(f[0], "route") != 0)
		return -1;
	memset(sv, 0, sizeof(*sv));
	if (st_dec(f[1], sv->rs_name, sizeof(sv->rs_name)) == -1 ||
	    strlen(f[2]) != 16 || st_state(f[3], &sv->rs_state) == -1 ||
	    st_weights(f[6], sv) == -1 ||
	    st_dec(f[7], sv->rs_reason, sizeof(sv->rs_reason)) == -1)
		return -1;
	errno = 0;
	sv->rs_sig = strtoull(f[2], &end, 16);
	if (errno != 0 || *end != '\0')
		return -1;
	step = strtoll(f[4], &end, 10);
	if (*end != '\0' || step < -1 || step >= CD_MAX_ROLLOUT_STEPS)
		return -1;
	sv->rs_step = (int)step;
	sv->rs_decided_ms = strtoull(f[5], &end, 10);
	return *end == '\0' ? 0 : -1;
}

void
mst_rollout_saved_free(struct mst_ro_saved *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].rs_wbuf);
	free(v);
}

/* Room in *v (of *cap) for entry n; -1 out of memory. */
static int
st_grow(struct mst_ro_saved **v, size_t *cap, size_t n)
{
	struct mst_ro_saved *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap > 0 ? 2 * *cap : 16;
	if ((nv = reallocarray(*v, ncap, sizeof(*nv))) == NULL)
		return -1;
	memset(nv + *cap, 0, (ncap - *cap) * sizeof(*nv));
	*v = nv;
	*cap = ncap;
	return 0;
}

/* The lines of fp after the magic into *v, *n; -1 with why. */
static int
st_read_lines(FILE *fp, const char *path, struct mst_ro_saved **v,
    size_t *n, char *why, size_t whylen)
{
	char *line = NULL;
	size_t len = 0, cap = 0, lineno = 0;
	ssize_t got;
	int rc = -1;

	while ((got = getline(&line, &len, fp)) != -1) {
		lineno++;
		if (got == 0 || line[got - 1] != '\n') {
			snprintf(why, whylen, "%s:%zu: line unterminated",
			    path, lineno);
			goto done;
		}
		line[got - 1] = '\0';
		if (lineno == 1) {
			if (strcmp(line, ST_MAGIC) != 0) {
				snprintf(why, whylen, "%s:1: not a canaryd "
				    "rollout state file", path);
				goto done;
			}
			continue;
		}
		if (st_grow(v, &cap, *n) == -1) {
			snprintf(why, whylen, "%s: out of memory", path);
			goto done;
		}
		/* counted before parsing: its weights are freed with v */
		if (st_parse_route(line, &(*v)[(*n)++]) == -1) {
			snprintf(why, whylen, "%s:%zu: not a route line",
			    path, lineno);
			goto done;
		}
	}
	if (ferror(fp) || lineno == 0) {
		snprintf(why, whylen, "%s: %s", path, lineno == 0 ? "empty" :
		    "read error");
		goto done;
	}
	rc = 0;
done:
	free(line);
	return rc;
}

int
mst_rollout_state_read(const char *dir, struct mst_ro_saved **out,
    size_t *nout, char *why, size_t whylen)
{
	char path[4096];
	struct mst_ro_saved *v = NULL;
	size_t n = 0;
	FILE *fp;
	int rc;

	*out = NULL;
	*nout = 0;
	snprintf(path, sizeof(path), "%s/" ST_FILE, dir);
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = st_read_lines(fp, path, &v, &n, why, whylen);
	fclose(fp);
	if (rc == -1) {
		mst_rollout_saved_free(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}
