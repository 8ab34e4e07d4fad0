/*
 * Setting up a helper process after fork (see helper.h).
 */
#include <signal.h>
#include <unistd.h>

#include "shared/log.h"
#include "helper.h"

int
mst_helper_child(int sock)
{
	sigset_t none;

	if (dup2(sock, 3) == -1)
		_exit(1);
	if (log_fd() != 4 && dup2(log_fd(), 4) == -1)
		_exit(1);
	log_init(log_level, 4, 0);
	close_range(5, ~0U, 0);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	return 3;
}
