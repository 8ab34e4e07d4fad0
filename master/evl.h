/*
 * A small event loop that is an object, not a set of globals: epoll for
 * descriptors and a sorted list of one-shot timers.  The fleet
 * coordinator child ("canaryd: fleet") runs on one, so it never shares
 * state with the master's loop (master/loop.h) it was forked from; test
 * programs drive the etcd client with one.  Nothing registered may block.
 *
 * Callbacks may add or remove descriptors and timers, their own included;
 * a descriptor removed during a round gets no further callback in it.
 */
#ifndef CANARYD_MASTER_EVL_H
#define CANARYD_MASTER_EVL_H

#include <stdint.h>

#include "evl-t.h"

struct mst_evl;
struct mst_evl_timer;

/* A new loop, or NULL (errno set).  Free with mst_evl_free(). */
struct mst_evl	*mst_evl_new(void);
/* Close the epoll set and free the pending timers (not the watched
 * descriptors: their owners close them).  NULL is fine. */
void		 mst_evl_free(struct mst_evl *);

/* Watch fd; 0, or -1 with errno. */
int		 mst_evl_add(struct mst_evl *, int fd, uint32_t events,
		    mst_evl_io_cb *, void *arg);
int		 mst_evl_mod(struct mst_evl *, int fd, uint32_t events,
		    mst_evl_io_cb *, void *arg);
void		 mst_evl_del(struct mst_evl *, int fd);

/* Call cb once after ms; the loop frees the timer after it fires or is
 * cancelled.  NULL when out of memory. */
struct mst_evl_timer *mst_evl_timer_add(struct mst_evl *, uint64_t ms,
		    mst_evl_timer_cb *, void *arg);
void		 mst_evl_timer_cancel(struct mst_evl *, struct mst_evl_timer *);

/* One round: wait at most max_ms (-1: until the next timer or event),
 * dispatch, run the due timers.  0, or -1 when epoll_wait failed (not
 * EINTR). */
int		 mst_evl_run_once(struct mst_evl *, int max_ms);
/* Rounds until mst_evl_stop(); 0, or -1 as mst_evl_run_once(). */
int		 mst_evl_run(struct mst_evl *);
void		 mst_evl_stop(struct mst_evl *);

/* The loop as the calls of evl-t.h, for a module handed a loop. */
void		 mst_evl_ops(struct mst_evl *, struct mst_evl_ops *out);

#endif /* CANARYD_MASTER_EVL_H */
