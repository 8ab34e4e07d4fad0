/*
 * Growable byte buffer (see buf.h).  Master and tests only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	b->b_len = 0;
	if (b->b_data != NULL)
		b->b_data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->b_data);
	buf_init(b);
}

int
buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->b_len + more + 1 <= b->b_cap)
		return 0;
	cap = b->b_cap ? b->b_cap : 256;
	while (cap < b->b_len + more + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->b_oom = 1;
			return -1;
		}
		cap *= 2;
	}
	if ((p = realloc(b->b_data, cap)) == NULL) {
		b->b_oom = 1;
		return -1;
	}
	b->b_data = p;
	b->b_cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	memcpy(b->b_data + b->b_len, p, len);
	b->b_len += len;
	b->b_data[b->b_len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->b_data + b->b_len, (size_t)n + 1, fmt, ap);
	b->b_len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int
buf_json_str(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	char esc[7];

	if (buf_append(b, "\"", 1) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			buf_append(b, "\\\"", 2);
			break;
		case '\\':
			buf_append(b, "\\\\", 2);
			break;
		case '\n':
			buf_append(b, "\\n", 2);
			break;
		case '\r':
			buf_append(b, "\\r", 2);
			break;
		case '\t':
			buf_append(b, "\\t", 2);
			break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				buf_append(b, esc, 6);
			} else
				buf_append(b, &s[i], 1);
		}
	}
	buf_append(b, "\"", 1);
	return b->b_oom ? -1 : 0;
}
