/*
 * Growable byte buffer for the master (admin pages, config dump).  Workers
 * never use it on the request path: they have fixed-size buffers.
 * On allocation failure the buffer keeps what it had and b_oom is set, so
 * callers can append freely and check once.
 */
#ifndef CANARYD_SHARED_BUF_H
#define CANARYD_SHARED_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*b_data;	/* NUL-terminated while b_len > 0 */
	size_t	 b_len;
	size_t	 b_cap;
	int	 b_oom;
};

void	buf_init(struct buf *);
void	buf_reset(struct buf *);	/* length 0, keeps the memory */
void	buf_free(struct buf *);		/* accepts an initialised empty buf */
/* Room for more bytes past b_len (and the NUL): one allocation for a
 * known size instead of doublings; -1 (b_oom set) when it cannot. */
int	buf_reserve(struct buf *, size_t more);
int	buf_append(struct buf *, const void *, size_t);
int	buf_puts(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Append s as a JSON string literal, quotes included. */
int	buf_json_str(struct buf *, const char *s, size_t len);

#endif /* CANARYD_SHARED_BUF_H */
