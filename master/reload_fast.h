/*
 * The weight-only reload that does not parse the file: when the new file
 * differs from the running configuration's only inside the numbers of
 * weighted_clusters weights (the loader kept their spans, conf-t.h), the
 * new weights are checked as the loader would and set beside the
 * configuration (fileweights.h).  Master only.
 */
#ifndef CANARYD_MASTER_RELOAD_FAST_H
#define CANARYD_MASTER_RELOAD_FAST_H

/*
 * On SIGHUP, before parsing: 0 when the new weights were applied (the
 * modules' weight-only reload done), 1 when they were set but a module
 * refused them (logged), -1 when the file differs elsewhere, cannot be
 * read whole, or breaks a rule: then nothing changed, parse it.
 */
int	mst_reload_fast(void);

/*
 * Room for reading the running configuration's file whole, made ahead
 * (at start, and after a reload that parsed) so that a weight-only
 * reload, the first one too, faults in no page for it: several MB for a
 * large configuration; and the index of its /config_dump weights
 * (dumpweights.h).  Out of memory is logged; the reload makes the room
 * itself then.
 */
void	mst_reload_fast_reserve(void);

#endif /* CANARYD_MASTER_RELOAD_FAST_H */
