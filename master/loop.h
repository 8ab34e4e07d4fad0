/*
 * The master's event loop: one epoll set for signals, the admin listener
 * and its connections, DNS answers and (later) health checks, plus a small
 * timer list.  Nothing registered here may block.
 */
#ifndef CANARYD_MASTER_LOOP_H
#define CANARYD_MASTER_LOOP_H

#include <stdint.h>

typedef void mst_io_cb(int fd, uint32_t events, void *arg);
typedef void mst_timer_cb(void *arg);

struct mst_timer;

int	 mst_loop_init(void);
/* Watch fd for events (EPOLLIN, EPOLLOUT ...); 0 or -1 with errno. */
int	 mst_loop_add(int fd, uint32_t events, mst_io_cb *, void *arg);
int	 mst_loop_mod(int fd, uint32_t events, mst_io_cb *, void *arg);
void	 mst_loop_del(int fd);
/* Call cb once, after ms milliseconds; the caller owns nothing, the loop
 * frees the timer after it fires or is cancelled. */
struct mst_timer *mst_timer_add(uint64_t ms, mst_timer_cb *, void *arg);
void	 mst_timer_cancel(struct mst_timer *);
/* Monotonic milliseconds. */
uint64_t mst_now_ms(void);
/* Run until mst_loop_stop(). */
void	 mst_loop_run(void);
void	 mst_loop_stop(void);

#endif /* CANARYD_MASTER_LOOP_H */
