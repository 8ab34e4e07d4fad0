/*
 * The file's weights beside the configuration (see fileweights.h): one
 * allocation, kept with c (c_fw) and freed with it, made on c's first
 * weight-only reload.  A few pages in all, where the routes the weights
 * belong to are spread over the whole configuration.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/arena.h"
#include "shared/conf.h"
#include "fileweights.h"

#define FW_NONE	SIZE_MAX	/* a route without weight spans */

struct fw {
	size_t		 fw_nroutes;	/* c_nweighted */
	size_t		*fw_first;	/* per rt_wi: its first span */
	uint32_t	*fw_w;		/* per span */
};

uint32_t
mst_fw_weight(const struct cd_conf *c, const struct cd_route *rt, size_t k)
{
	const struct fw *fw = c != NULL ? c->c_fw : NULL;

	if (fw == NULL || rt->rt_wi < 0 ||
	    (size_t)rt->rt_wi >= fw->fw_nroutes ||
	    fw->fw_first[rt->rt_wi] == FW_NONE)
		return rt->rt_wc[k].wc_weight;
	return fw->fw_w[fw->fw_first[rt->rt_wi] + k];
}

int
mst_fw_prepare(struct cd_conf *c)
{
	const struct cd_wspan *s;
	struct fw *fw;
	size_t i;

	if (c->c_fw != NULL)
		return 0;
	if ((fw = calloc(1, sizeof(*fw) + c->c_nweighted * sizeof(size_t) +
	    c->c_nwspans * sizeof(uint32_t))) == NULL)
		return -1;
	fw->fw_nroutes = c->c_nweighted;
	fw->fw_first = (size_t *)(void *)(fw + 1);
	fw->fw_w = (uint32_t *)(void *)(fw->fw_first + c->c_nweighted);
	for (i = 0; i < fw->fw_nroutes; i++)
		fw->fw_first[i] = FW_NONE;
	for (i = 0; i < c->c_nwspans; i++) {
		s = &c->c_wspans[i];
		fw->fw_w[i] = s->ws_rt->rt_wc[s->ws_k].wc_weight;
		if (s->ws_k == 0 && s->ws_rt->rt_wi >= 0 &&
		    (size_t)s->ws_rt->rt_wi < fw->fw_nroutes)
			fw->fw_first[s->ws_rt->rt_wi] = i;
	}
	if (arena_defer(c->c_arena, free, fw) == -1) {
		free(fw);
		return -1;
	}
	c->c_fw = fw;
	return 0;
}

void
mst_fw_set(struct cd_conf *c, const uint32_t *w)
{
	struct fw *fw = c->c_fw;

	memcpy(fw->fw_w, w, c->c_nwspans * sizeof(*w));
}
