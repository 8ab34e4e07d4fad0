/*
 * /listeners (see listeners.h): each listener's name and address, in the
 * file's order, as Envoy's ListenersHandler prints them.
 */
#include <stddef.h>
#include <string.h>

#include "shared/buf.h"
#include "json.h"
#include "listeners.h"

/* The name /listeners shows: an unnamed (lone) listener's is Envoy's
 * generated one. */
const char *
mst_listener_name(const struct cd_listener *l)
{
	return l->l_name != NULL ? l->l_name : "listener_0";
}

static const char *
listener_addr(const struct cd_listener *l)
{
	return l->l_addr.sa_address != NULL ? l->l_addr.sa_address :
	    "0.0.0.0";
}

static void
listeners_text(struct buf *b, const struct cd_conf *conf)
{
	const struct cd_listener *l;
	const char *a;
	size_t i;

	for (i = 0; i < conf->c_nlisteners; i++) {
		l = &conf->c_listeners[i];
		a = listener_addr(l);
		buf_printf(b, strchr(a, ':') != NULL ? "%s::[%s]:%u\n" :
		    "%s::%s:%u\n", mst_listener_name(l), a, l->l_addr.sa_port);
	}
}

int
mst_listeners_page(struct buf *b, const struct cd_conf *conf, int json)
{
	const struct cd_listener *l;
	struct buf c;
	size_t i;
	int rc;

	if (!json) {
		listeners_text(b, conf);
		return b->b_oom ? -1 : 0;
	}
	buf_init(&c);
	buf_puts(&c, "{\"listener_statuses\":[");
	for (i = 0; i < conf->c_nlisteners; i++) {
		l = &conf->c_listeners[i];
		buf_puts(&c, i > 0 ? ",{\"name\":" : "{\"name\":");
		mst_json_str(&c, mst_listener_name(l));
		buf_puts(&c, ",\"local_address\":{\"socket_address\":"
		    "{\"address\":");
		mst_json_str(&c, listener_addr(l));
		buf_printf(&c, ",\"port_value\":%u}}}", l->l_addr.sa_port);
	}
	buf_puts(&c, "]}");
	rc = c.b_oom ? -1 : mst_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}
