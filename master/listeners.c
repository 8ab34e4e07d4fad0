/*
 * /listeners (see listeners.h): the one listener's name and address, as
 * Envoy's ListenersHandler prints them.
 */
#include <stddef.h>
#include <string.h>

#include "shared/buf.h"
#include "json.h"
#include "listeners.h"

int
mst_listeners_page(struct buf *b, const struct cd_conf *conf, int json)
{
	const struct cd_listener *l = conf->c_listener;
	const char *name, *a;
	struct buf c;
	int rc;

	if (l == NULL)
		return json ? buf_puts(b, "{}\n") : 0;
	name = l->l_name != NULL ? l->l_name : "listener_0";
	a = l->l_addr.sa_address != NULL ? l->l_addr.sa_address : "0.0.0.0";
	if (!json) {
		if (strchr(a, ':') != NULL)
			buf_printf(b, "%s::[%s]:%u\n", name, a, l->l_addr.sa_port);
		else
			buf_printf(b, "%s::%s:%u\n", name, a, l->l_addr.sa_port);
		return b->b_oom ? -1 : 0;
	}
	buf_init(&c);
	buf_puts(&c, "{\"listener_statuses\":[{\"name\":");
	mst_json_str(&c, name);
	buf_puts(&c, ",\"local_address\":{\"socket_address\":{\"address\":");
	mst_json_str(&c, a);
	buf_printf(&c, ",\"port_value\":%u}}}]}", l->l_addr.sa_port);
	rc = c.b_oom ? -1 : mst_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}
