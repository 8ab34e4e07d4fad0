/*
 * canaryd: the master process.  Parses the command line and the Envoy v3
 * config, creates the shm segment and the listening sockets, forks the
 * workers, and runs the control plane in one non-blocking loop: signals
 * (signalfd), the workers' log pipe, DNS refresh, the admin listener.
 * It never touches a client request.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libutil.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "shared/version.h"
#include "accesslog.h"
#include "admin.h"
#include "dns.h"
#include "health.h"
#include "loop.h"
#include "mst.h"
#include "notify.h"
#include "outlier.h"
#include "place.h"
#include "proc.h"
#include "reload.h"
#include "rollout.h"

struct mst mst;

static int sig_fd = -1;
static int shutting_down;
static int draining_only;	/* /drain_listeners?skip_exit */
static const char *log_path;
static struct pidfh *pidfh;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: canaryd -f file [--mode serve|validate] [--concurrency n]\n"
	    "               [-l level] [--log-path file] [--drain-time-s n]\n"
	    "               [--pid-file file]\n"
	    "       canaryd --version | --help\n"
	    "  -f, -c, --config-path file  Envoy v3 YAML bootstrap\n"
	    "  --mode validate, -t         check the config and exit\n"
	    "  --concurrency n             worker processes (default: CPUs)\n"
	    "  -l, --log-level level       trace debug info warning error "
	    "critical off\n"
	    "  --log-path file             log here instead of stderr "
	    "(SIGUSR1 reopens)\n"
	    "  --drain-time-s n            graceful drain bound (default "
	    "600)\n"
	    "  --pid-file file             write the master's pid\n");
}

static int
open_log_path(void)
{
	int fd;

	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (dup2(fd, 2) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Relay the workers' log lines to our log; they are whole lines. */
static void
on_log_pipe(int fd, uint32_t events, void *arg)
{
	char buf[65536];
	ssize_t n, off, w;

	(void)events;
	(void)arg;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (off = 0; off < n; off += w) {
			w = write(log_fd(), buf + off, (size_t)(n - off));
			if (w == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				break;
			}
		}
	}
}

static void
maybe_finish(void)
{
	if (shutting_down && mst_proc_alive() == 0) {
		log_info("all workers stopped; exiting");
		mst_loop_stop();
	}
}

static void
drain_deadline(void *arg)
{
	(void)arg;
	if (mst_proc_alive() > 0) {
		log_warnx("drain time over: stopping %d worker%s now",
		    mst_proc_alive(), mst_proc_alive() == 1 ? "" : "s");
		mst_proc_signal_all(SIGKILL);
	}
}

void
mst_shutdown(const char *why)
{
	if (shutting_down) {
		log_warnx("%s: stopping now", why);
		mst_proc_signal_all(SIGKILL);
		mst_loop_stop();
		return;
	}
	shutting_down = 1;
	mst_notify("STOPPING=1");
	log_info("%s: draining workers (at most %d s)", why,
	    mst.m_drain_time_s);
	atomic_store(&mst.m_shm->hdr.h_state, SHM_S_DRAINING);
	atomic_store(&mst.m_shm->hdr.h_live, 0);
	mst_proc_signal_all(SIGTERM);
	mst_timer_add((uint64_t)mst.m_drain_time_s * 1000, drain_deadline,
	    NULL);
	maybe_finish();
}

/* Move the server state from (PRE_)INITIALIZING to to, and nothing else:
 * /healthcheck/fail or a drain may have set DRAINING meanwhile. */
static void
set_starting_state(uint32_t to)
{
	uint32_t s = SHM_S_PRE_INITIALIZING;

	if (!atomic_compare_exchange_strong(&mst.m_shm->hdr.h_state, &s, to) &&
	    s == SHM_S_INITIALIZING)
		atomic_compare_exchange_strong(&mst.m_shm->hdr.h_state, &s, to);
}

/* Every checked host has a first result: /ready turns 200. */
static void
on_health_ready(void)
{
	set_starting_state(SHM_S_LIVE);
	mst_notify("READY=1");
}

void
mst_drain_listeners(void)
{
	if (shutting_down || draining_only)
		return;
	draining_only = 1;
	log_info("admin /drain_listeners: draining workers, closing "
	    "listeners; the admin port stays up");
	atomic_store(&mst.m_shm->hdr.h_state, SHM_S_DRAINING);
	atomic_store(&mst.m_shm->hdr.h_live, 0);
	mst_proc_close_listeners();
	mst_proc_signal_all(SIGTERM);
}

static void
reap_children(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == mst_dns_pid()) {
			if (!shutting_down)
				mst_dns_child_exited();
			continue;
		}
		mst_proc_reaped(pid, status);
	}
	maybe_finish();
}

static void
on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap_children();
			break;
		case SIGTERM:
			mst_shutdown("caught SIGTERM");
			break;
		case SIGINT:
			mst_shutdown("caught SIGINT");
			break;
		case SIGQUIT:
			mst_proc_signal_all(SIGKILL);
			mst_loop_stop();
			break;
		case SIGHUP:
			if (!shutting_down)
				mst_reload();
			break;
		case SIGUSR1:
			if (log_path != NULL && open_log_path() == -1)
				log_warn("reopen %s", log_path);
			else
				log_info("caught SIGUSR1: logs reopened");
			mst_accesslog_reopen();
			break;
		}
	}
}

static int
setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd == -1)
		return -1;
	return mst_loop_add(sig_fd, EPOLLIN, on_signal, NULL);
}

int
main(int argc, char *argv[], char *envp[])
{
	static const struct option longopts[] = {
		{ "config-path",	required_argument, NULL, 'c' },
		{ "concurrency",	required_argument, NULL, 'C' },
		{ "mode",		required_argument, NULL, 'M' },
		{ "log-level",		required_argument, NULL, 'l' },
		{ "log-path",		required_argument, NULL, 'L' },
		{ "drain-time-s",	required_argument, NULL, 'D' },
		{ "pid-file",		required_argument, NULL, 'P' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf_diags diags;
	struct cd_conf *conf;
	const char *path = NULL, *pidfile = NULL, *errstr;
	long ncpu;
	int ch, validate = 0, concurrency = -1, level = LOG_L_INFO;
	int drain = 600;

	setproctitle_init(argc, argv, envp);
	while ((ch = getopt_long(argc, argv, "c:f:l:th", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
		case 'f':
			path = optarg;
			break;
		case 'C':
			concurrency = (int)strtonum(optarg, 0, CD_MAX_WORKERS,
			    &errstr);
			if (errstr != NULL)
				errx(1, "--concurrency %s: %s (0..%d)", optarg,
				    errstr, CD_MAX_WORKERS);
			break;
		case 'M':
			if (strcmp(optarg, "validate") == 0)
				validate = 1;
			else if (strcmp(optarg, "serve") != 0)
				errx(1, "--mode %s: want serve or validate",
				    optarg);
			break;
		case 't':
			validate = 1;
			break;
		case 'l':
			if ((level = log_level_parse(optarg)) == -1)
				errx(1, "-l %s: want trace, debug, info, "
				    "warning, error, critical or off", optarg);
			break;
		case 'L':
			log_path = optarg;
			break;
		case 'D':
			drain = (int)strtonum(optarg, 0, 86400, &errstr);
			if (errstr != NULL)
				errx(1, "--drain-time-s %s: %s", optarg, errstr);
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("canaryd version %s\n", CANARYD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 1;
	}
	if (log_path != NULL && open_log_path() == -1)
		err(1, "%s", log_path);
	log_init(level, 2, 0);
	log_setproc("master");

	memset(&diags, 0, sizeof(diags));
	conf = conf_load(path, &diags);
	conf_diags_print(&diags, path, stderr);
	conf_diags_free(&diags);
	if (conf == NULL) {
		fprintf(stderr, "error initializing configuration '%s'\n", path);
		return 1;
	}
	if (validate) {
		printf("configuration '%s' OK\n", path);
		conf_free(conf);
		return 0;
	}

	if (concurrency == -1) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		concurrency = ncpu < 1 ? 1 : ncpu > CD_MAX_WORKERS ?
		    CD_MAX_WORKERS : (int)ncpu;
	}
	if (concurrency == 0)
		concurrency = 1;	/* as Envoy: 0 still runs one worker */

	if (pidfile != NULL) {
		pid_t other;

		if ((pidfh = pidfile_open(pidfile, 0644, &other)) == NULL) {
			if (errno == EEXIST)
				errx(1, "%s: canaryd already running, pid %ld",
				    pidfile, (long)other);
			err(1, "%s", pidfile);
		}
	}

	mst.m_conf = conf;
	mst.m_config_path = path;
	mst.m_concurrency = concurrency;
	mst.m_log_level = level;
	mst.m_drain_time_s = drain;
	mst.m_start_realtime_ms = cd_realtime_ms();
	mst.m_conf_loaded_realtime_ms = mst.m_start_realtime_ms;

	if (mst_loop_init() == -1)
		fatal("epoll");
	if (setup_signals() == -1)
		fatal("signals");
	if ((mst.m_shm = shm_create()) == NULL)
		fatal("shared memory (%zu bytes)", sizeof(struct shm));
	mst.m_start_mono_ms = mst_now_ms();
	mst.m_shm->hdr.h_start_ms = mst.m_start_realtime_ms;
	/* generation 0 owns conf from here on */
	mst_proc_prepare(MST_CH_START, conf);
	mst_place_prepare(MST_CH_START, conf);
	mst_place_apply();
	mst_proc_apply(MST_CH_START);

	if (mst_proc_listen() == -1)
		return 1;
	if (mst_dns_start() == -1)
		return 1;
	/* outlier thresholds go to shm before the workers fork */
	if (mst_outlier_start() == -1 ||
	    mst_health_start(on_health_ready) == -1)
		return 1;
	if (mst_admin_start() == -1)
		return 1;
	/* after the weights are published: it starts from them */
	if (mst_rollout_start() == -1)
		return 1;
	if (mst_loop_add(mst_proc_log_fd(), EPOLLIN, on_log_pipe, NULL) == -1)
		fatal("log pipe");
	/* the workers inherit its pipe: before they fork */
	if (mst_accesslog_open(conf) == -1)
		fatalx("access log");
	if (pidfh != NULL)
		pidfile_write(pidfh);

	setproctitle("master");
	if (mst_proc_start() == -1)
		fatalx("cannot start workers");
	if (mst_health_initialized())
		on_health_ready();
	else
		set_starting_state(SHM_S_INITIALIZING);
	log_info("canaryd %s: %d worker%s on %s:%u", CANARYD_VERSION,
	    concurrency, concurrency == 1 ? "" : "s",
	    conf->c_listener->l_addr.sa_address,
	    conf->c_listener->l_addr.sa_port);

	mst_loop_run();

	on_log_pipe(mst_proc_log_fd(), EPOLLIN, NULL);
	mst_accesslog_close();
	mst_admin_stop();
	mst_rollout_stop();
	mst_health_stop();
	mst_outlier_stop();
	mst_dns_stop();
	if (pidfh != NULL)
		pidfile_remove(pidfh);
	return 0;
}
