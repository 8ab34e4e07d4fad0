/*
 * The weights of the running configuration's file, as a weight-only
 * reload that did not parse (reload_fast.h) last set them.  They are
 * kept beside the configuration, never written into it: the workers
 * share its pages with the master since fork(2), and a weight written
 * into each of a thousand routes would cost the master as many
 * copy-on-write page faults on the reload's way to shm.  The
 * configuration keeps the weights it was loaded with, and those are what
 * a worker forked later reads where shm has no split yet.  Master only.
 */
#ifndef CANARYD_MASTER_FILEWEIGHTS_H
#define CANARYD_MASTER_FILEWEIGHTS_H

#include <stddef.h>
#include <stdint.h>

struct cd_conf;
struct cd_route;

/* The weight of c's weighted route rt's cluster k in the file now. */
uint32_t mst_fw_weight(const struct cd_conf *c, const struct cd_route *rt,
	    size_t k);

/* Room for c's weights, made on the first call: 0, or -1 (ENOMEM). */
int	 mst_fw_prepare(struct cd_conf *c);

/* c's weights are w, one per weight span (c_wspans), after
 * mst_fw_prepare(c). */
void	 mst_fw_set(struct cd_conf *c, const uint32_t *w);

#endif /* CANARYD_MASTER_FILEWEIGHTS_H */
