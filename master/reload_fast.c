/*
 * Weight-only reload without parsing (see reload_fast.h).
 *
 * The running configuration keeps the file it was loaded from and the
 * spans of its weights (struct cd_wspan).  The new file is walked beside
 * it: every byte outside a span must be the same, and what stands where a
 * span stood must be a decimal number.  Then the new weights pass the
 * loader's rules (each route's sum in 1 .. 2^32-1, no weight 0, the same
 * "always" and "never" clusters), and only then is anything written: the
 * weights beside the master's copy (fileweights.h: the copy itself stays
 * as loaded), then the modules' weight-only reload, which publishes them
 * to shm.  Anything else takes the normal path, which parses.
 *
 * The file as loaded stays the one compared with: outside the spans a
 * new file that passed is the same bytes, so it need not be kept.
 *
 * The /config_dump JSON strings follow when next asked for
 * (dumpweights.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/conf.h"
#include "shared/log.h"
#include "dumpweights.h"
#include "fileweights.h"
#include "module.h"
#include "mst.h"
#include "privmem.h"
#include "reload_fast.h"

#define FAST_MAX_FILE	(16 * 1024 * 1024)	/* as the loader's */

/* the last file read, kept for the next: master-only pages (privmem.h),
 * made before the reload that needs them (mst_reload_fast_reserve()) */
static char	*fast_buf;
static size_t	 fast_cap;

static int	fast_read(const char *, size_t *);

/* fast_buf of want bytes at least: 0, or -1. */
static int
fast_room(size_t want)
{
	char *p;

	if (want <= fast_cap)
		return 0;
	/* weights may gain digits: some more for the next file */
	want += want / 16;
	if ((p = mst_privmem_map(want)) == NULL)
		return -1;
	mst_privmem_unmap(fast_buf, fast_cap);
	fast_buf = p;
	fast_cap = want;
	return 0;
}

void
mst_reload_fast_reserve(void)
{
	const struct cd_conf *c = mst.m_conf;
	size_t len;

	if (c == NULL || c->c_src == NULL)
		return;
	/* where /config_dump shows each weight, found now too */
	(void)mst_dumpw_index((struct cd_conf *)(uintptr_t)c);
	if (c->c_src_len < fast_cap)
		return;
	if (fast_room(c->c_src_len + 1) == -1) {
		log_warn("reload: room for reading %s", mst.m_config_path);
		return;
	}
	/*
	 * Every page touched now, by the master and by the kernel's copy of
	 * the file: the first page fault, or on some virtual machines the
	 * first access from either side, costs about 10 us a page, 15 ms
	 * for a 5 MB file, that the first reload would otherwise pay.
	 */
	memset(fast_buf, 0, fast_cap);
	(void)fast_read(mst.m_config_path, &len);
}

/* The whole file in fast_buf, NUL-terminated: 0, or -1 (errno set). */
static int
fast_read(const char *path, size_t *len)
{
	struct stat st;
	size_t n = 0, want;
	ssize_t r = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    st.st_size > FAST_MAX_FILE) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	want = (size_t)st.st_size + 1;	/* + 1: the file did not grow */
	if (fast_room(want) == -1) {
		close(fd);
		return -1;
	}
	while (n < want && ((r = read(fd, fast_buf + n, want - n)) > 0 ||
	    (r == -1 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	close(fd);
	if (r == -1 || n != (size_t)st.st_size) {  /* changed while read */
		errno = EAGAIN;
		return -1;
	}
	fast_buf[n] = '\0';
	*len = n;
	return 0;
}

/*
 * Walk buf beside c's source: 0, with w[i] the number where span i stood;
 * -1 when anything else differs.  A number is digits up to the next byte
 * the old file also has there, so "90" -> "9 0" or "90x" differ outside a
 * span.
 */
static int
fast_diff(const struct cd_conf *c, const char *buf, size_t len, uint32_t *w)
{
	const struct cd_wspan *s;
	size_t po = 0, pn = 0, seg, i, at;
	uint64_t v;

	for (i = 0; i < c->c_nwspans; i++) {
		s = &c->c_wspans[i];
		seg = s->ws_off - po;
		if (len - pn < seg || memcmp(c->c_src + po, buf + pn, seg) != 0)
			return -1;
		pn += seg;
		at = pn;
		for (v = 0; pn < len && buf[pn] >= '0' && buf[pn] <= '9'; pn++)
			if ((v = v * 10 + (uint64_t)(buf[pn] - '0')) >
			    UINT32_MAX)
				return -1;
		/* no digits, a leading zero (not the loader's plain number
		 * then), or 0: the normal path says what it means */
		if (pn == at || buf[at] == '0')
			return -1;
		w[i] = (uint32_t)v;
		po = s->ws_off + s->ws_len;
	}
	seg = c->c_src_len - po;
	if (len - pn != seg || memcmp(c->c_src + po, buf + pn, seg) != 0)
		return -1;
	return 0;
}

/* Do the new weights keep every route's rules?  0 or -1. */
static int
fast_check(const struct cd_conf *c, const uint32_t *w)
{
	struct cd_weighted_cluster *wc = NULL, *nwc;
	struct cd_route tmp, *rt;
	size_t i = 0, j, n, cap = 0;
	uint64_t sum;
	int rc = 0;

	while (i < c->c_nwspans && rc == 0) {
		rt = c->c_wspans[i].ws_rt;
		n = rt->rt_nwc;
		if (i + n > c->c_nwspans) {
			rc = -1;
			break;
		}
		if (n > cap) {
			if ((nwc = reallocarray(wc, n, sizeof(*wc))) == NULL) {
				rc = -1;
				break;
			}
			wc = nwc;
			cap = n;
		}
		memcpy(wc, rt->rt_wc, n * sizeof(*wc));
		for (j = 0, sum = 0; j < n; j++) {
			if (c->c_wspans[i + j].ws_rt != rt ||
			    c->c_wspans[i + j].ws_k != j)
				rc = -1;
			wc[j].wc_weight = w[i + j];
			sum += w[i + j];
		}
		tmp = *rt;
		tmp.rt_wc = wc;
		conf_canary_pick(&tmp);
		if (sum == 0 || sum > UINT32_MAX ||
		    tmp.rt_canary_wc != rt->rt_canary_wc ||
		    tmp.rt_stable_wc != rt->rt_stable_wc)
			rc = -1;
		i += n;
	}
	free(wc);
	return rc;
}

int
mst_reload_fast(void)
{
	/* the master's bookkeeping kept with it (c_fast, c_fw) changes */
	struct cd_conf *c = (struct cd_conf *)(uintptr_t)mst.m_conf;
	uint32_t *w = NULL;
	size_t len;
	int rc = -1;

	if (c == NULL || c->c_src == NULL ||
	    fast_read(mst.m_config_path, &len) == -1)
		return -1;
	if ((w = calloc(c->c_nwspans, sizeof(*w))) == NULL ||
	    fast_diff(c, fast_buf, len, w) == -1 || fast_check(c, w) == -1 ||
	    mst_dumpw_index(c) == -1 || mst_fw_prepare(c) == -1)
		goto done;
	/* committed: the weights beside c (never in c: its pages are the
	 * workers' too since fork), then shm */
	mst_fw_set(c, w);
	rc = mst_modules_reload(MST_CH_WEIGHTS, c) == -1 ? 1 : 0;
	mst_dumpw_stale(c);	/* /config_dump's, when next asked for */
done:
	free(w);
	return rc;
}
