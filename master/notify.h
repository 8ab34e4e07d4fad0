/*
 * systemd readiness without libsystemd: when NOTIFY_SOCKET is set, send
 * sd_notify(3) state strings ("READY=1", "RELOADING=1", "STOPPING=1") as
 * one datagram on that unix socket.  Master only; never blocks.
 */
#ifndef CANARYD_MASTER_NOTIFY_H
#define CANARYD_MASTER_NOTIFY_H

/* Send state; 0 when sent or when not under systemd, -1 on error. */
int	mst_notify(const char *state);

#endif /* CANARYD_MASTER_NOTIFY_H */
