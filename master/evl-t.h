/*
 * An event loop seen as a set of calls: what a module that must not know
 * which loop drives it (the etcd client, master/etcd.h) is handed.  The
 * fleet coordinator fills it from its own loop (master/evl.h); the
 * master's loop (master/loop.h) can fill it with five wrappers, since
 * its callbacks have the same shapes.  A -t.h header: types only.
 *
 * Rules for a loop behind these calls: callbacks run from the loop, never
 * from inside eo_add/eo_timer_add; a callback may add or remove any
 * descriptor or timer, its own included; a timer fires once and is freed
 * by the loop after its callback runs, so its owner clears its pointer in
 * the callback and never cancels it afterwards.
 */
#ifndef CANARYD_MASTER_EVL_T_H
#define CANARYD_MASTER_EVL_T_H

#include <stdint.h>

typedef void mst_evl_io_cb(int fd, uint32_t events, void *arg);
typedef void mst_evl_timer_cb(void *arg);

struct mst_evl_ops {
	void	*eo_ctx;	/* first argument of every call */
	/* watch fd for EPOLLIN/EPOLLOUT...; 0, or -1 with errno */
	int	(*eo_add)(void *ctx, int fd, uint32_t events, mst_evl_io_cb *,
		    void *arg);
	int	(*eo_mod)(void *ctx, int fd, uint32_t events, mst_evl_io_cb *,
		    void *arg);
	void	(*eo_del)(void *ctx, int fd);
	/* call cb once after ms milliseconds; NULL when out of memory */
	void	*(*eo_timer_add)(void *ctx, uint64_t ms, mst_evl_timer_cb *,
		    void *arg);
	void	(*eo_timer_cancel)(void *ctx, void *timer);
};

#endif /* CANARYD_MASTER_EVL_T_H */
