/*
 * The /config_dump JSON of the running configuration after a weight-only
 * reload that did not parse (reload_fast.h): the loader rendered those
 * strings once, with the file's weights then; these keep them showing
 * the weights in force.  Master only.
 */
#ifndef CANARYD_MASTER_DUMPWEIGHTS_H
#define CANARYD_MASTER_DUMPWEIGHTS_H

struct cd_conf;

/*
 * Before a weight-only reload sets c's weights: 0 when its JSON strings can follow
 * them (indexed on the first call, kept with c), -1 when they cannot (a
 * "weight" that is not a weighted cluster's, out of memory): then the
 * file must be parsed.
 */
int	mst_dumpw_index(struct cd_conf *c);

/* c's weights changed (fileweights.h): its strings follow at the next
 * mst_dumpw_fresh(). */
void	mst_dumpw_stale(struct cd_conf *c);

/*
 * The running configuration's strings with its weights: whatever reads
 * them (/config_dump) calls this first.  0, or -1 out of memory (logged; they show the weights
 * before, and the next call tries again).
 */
int	mst_dumpw_fresh(void);

#endif /* CANARYD_MASTER_DUMPWEIGHTS_H */
