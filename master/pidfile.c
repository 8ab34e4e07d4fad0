/*
 * The pid file (see pidfile.h).  It is taken at command-line time, so
 * a second canaryd fails before it touches anything, and written just
 * before the workers start.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <libutil.h>
#include <stddef.h>

#include "pidfile.h"

static struct pidfh *pidfh;

void
mst_pidfile_open(const char *path)
{
	pid_t other;

	if ((pidfh = pidfile_open(path, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			errx(1, "%s: canaryd already running, pid %ld", path,
			    (long)other);
		err(1, "%s", path);
	}
}

int
mst_pidfile_write(void)
{
	if (pidfh != NULL)
		pidfile_write(pidfh);
	return 0;
}

void
mst_pidfile_remove(void)
{
	if (pidfh != NULL)
		pidfile_remove(pidfh);
	pidfh = NULL;
}
