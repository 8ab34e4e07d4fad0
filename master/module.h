/*
 * The master's modules, and the one order in which they start, stop and
 * take a new configuration (as nginx walks its module list): main.c
 * starts and stops them, reload.c hands them a reloaded configuration,
 * and no other file writes that order down.  Master only.
 *
 * A configuration becomes the running one in two phases.  Prepare: each
 * module, in order, checks the new configuration and sets aside what it
 * needs (sockets, shm records); one may refuse it, and those before it
 * cancel, so a refused reload changes nothing.  Apply: mst.m_conf
 * switches, then each module, in order, starts (at start), reloads, or,
 * if it keeps state per cluster (md_restart), is stopped in reverse order
 * before the switch of a structural reload and started after it.
 */
#ifndef CANARYD_MASTER_MODULE_H
#define CANARYD_MASTER_MODULE_H

#include <stdbool.h>

#include "shared/conf-t.h"
#include "mst.h"

struct mst_module {
	const char	*md_name;	/* for the log */
	/* next is about to become the running configuration: 0, or -1
	 * (logged) to refuse it with nothing changed */
	int		(*md_prepare)(enum mst_change, struct cd_conf *next);
	/* a later module refused what this one prepared */
	void		(*md_cancel)(void);
	/* at start, in table order: 0, or -1 (logged): canaryd exits 1 */
	int		(*md_start)(void);
	/* at exit, in reverse order */
	void		(*md_stop)(void);
	/* a reload, after the switch, unless md_restart */
	void		(*md_reload)(enum mst_change);
	/* a structural reload stops it before the switch and starts it
	 * after; a weights-only reload leaves it be */
	bool		 md_restart;
};

/*
 * Make conf the running configuration (the modules own it from now on:
 * the worker generation frees it) and start every module in order.  0,
 * or -1 (logged) when one could not start.
 */
int	 mst_modules_start(struct cd_conf *conf);
/* Stop every module, in reverse order.  At exit. */
void	 mst_modules_stop(void);
/*
 * A reload by ch (MST_CH_WEIGHTS or MST_CH_STRUCTURAL) to next.  0: next
 * is the running configuration and belongs to the modules.  -1 (logged):
 * a module refused it, nothing changed, next is still the caller's.
 */
int	 mst_modules_reload(enum mst_change ch, struct cd_conf *next);

#endif /* CANARYD_MASTER_MODULE_H */
