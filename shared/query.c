/*
 * URL query strings (query.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "query.h"
#include "text.h"

int
query_url_decode(struct buf *out, const char *s, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < len && text_hexval(s[i + 1]) >= 0 &&
		    text_hexval(s[i + 2]) >= 0) {
			c = (char)(text_hexval(s[i + 1]) << 4 |
			    text_hexval(s[i + 2]));
			i += 2;
		}
		buf_append(out, &c, 1);
	}
	return out->b_oom ? -1 : 0;
}

bool
query_next(const char **p, struct buf *k, struct buf *v)
{
	const char *s = *p, *end, *eq;

	while (*s == '&')
		s++;
	if (*s == '\0')
		return false;
	end = s + strcspn(s, "&");
	eq = memchr(s, '=', (size_t)(end - s));
	buf_reset(k);
	buf_reset(v);
	query_url_decode(k, s, (size_t)((eq != NULL ? eq : end) - s));
	if (eq != NULL)
		query_url_decode(v, eq + 1, (size_t)(end - eq - 1));
	buf_append(k, "", 1);
	buf_append(v, "", 1);
	*p = end;
	return true;
}
