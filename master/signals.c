/*
 * What each signal does in the master (see signals.h).  Handlers only
 * call into the modules that own the work; nothing runs in signal
 * context, since signals arrive as reads from the loop.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <signal.h>
#include <stddef.h>
#include <unistd.h>

#include "accesslog.h"
#include "dns.h"
#include "fleet.h"
#include "logfile.h"
#include "loop.h"
#include "proc.h"
#include "reload.h"
#include "signals.h"
#include "state.h"

static int sig_fd = -1;

static void
sig_reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == mst_dns_pid()) {
			if (!mst_state_stopping())
				mst_dns_child_exited();
			continue;
		}
		if (mst_fleet_reaped(pid, status))
			continue;
		mst_proc_reaped(pid, status);
	}
	mst_state_reaped();
}

static void
sig_one(int signo)
{
	switch (signo) {
	case SIGCHLD:
		sig_reap();
		break;
	case SIGTERM:
		mst_state_shutdown("caught SIGTERM");
		break;
	case SIGINT:
		mst_state_shutdown("caught SIGINT");
		break;
	case SIGQUIT:
		mst_proc_signal_all(SIGKILL);
		mst_loop_stop();
		break;
	case SIGHUP:
		if (!mst_state_stopping())
			mst_reload();
		break;
	case SIGUSR1:
		mst_logfile_reopen();
		mst_accesslog_reopen();
		break;
	}
}

static void
sig_on_read(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		sig_one((int)si.ssi_signo);
}

int
mst_signal_init(void)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP,
	    SIGUSR1 };
	sigset_t set;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd == -1)
		return -1;
	return mst_loop_add(sig_fd, EPOLLIN, sig_on_read, NULL);
}
