/*
 * --pid-file: the master's pid in a file, locked while canaryd runs
 * (libbsd pidfile(3)), so a second canaryd on the same file refuses to
 * start.  Master only.
 */
#ifndef CANARYD_MASTER_PIDFILE_H
#define CANARYD_MASTER_PIDFILE_H

/* Take path (command-line time): exits 1 with a message when another
 * canaryd holds it or it cannot be opened. */
void	 mst_pidfile_open(const char *path);
/* Module start and stop: write our pid, remove the file.  Without
 * --pid-file they do nothing. */
int	 mst_pidfile_write(void);
void	 mst_pidfile_remove(void);

#endif /* CANARYD_MASTER_PIDFILE_H */
