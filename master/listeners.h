/*
 * /listeners (master only): "<name>::<ip>:<port>\n" per listener, or with
 * json the ListenersHandler JSON, pretty-printed.  0, or -1 out of memory.
 */
#ifndef CANARYD_MASTER_LISTENERS_H
#define CANARYD_MASTER_LISTENERS_H

#include "shared/buf.h"
#include "shared/conf-t.h"

int	 mst_listeners_page(struct buf *, const struct cd_conf *, int json);

/* A listener's name as the admin pages show it (never NULL). */
const char *mst_listener_name(const struct cd_listener *);

#endif /* CANARYD_MASTER_LISTENERS_H */
