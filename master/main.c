/*
 * canaryd: the master process.  Reads the command line and the Envoy v3
 * config, creates the shm segment, starts the master's modules in their
 * one order (module.h: listeners, DNS, health checks, admin ... and last
 * the workers), and runs the control plane in one non-blocking loop
 * until a stop.  It never touches a client request.
 */
#include <sys/types.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "shared/version.h"
#include "fleet.h"
#include "logfile.h"
#include "loop.h"
#include "module.h"
#include "mst.h"
#include "pidfile.h"
#include "place.h"
#include "proc.h"
#include "reload.h"
#include "reload_fast.h"
#include "signals.h"

/* The command line. */
struct opts {
	const char	*o_path;
	const char	*o_log_path;
	const char	*o_pid_file;
	const char	*o_state_dir;
	const char	*o_admin_token_file;
	struct cd_cidr	 o_admin_allow[64];
	size_t		 o_admin_nallow;
	const char	*o_service_node;
	const char	*o_service_cluster;
	int		 o_validate;
	int		 o_concurrency;	/* -1: one per CPU */
	int		 o_level;
	int		 o_drain_s;
	size_t		 o_shm_size;	/* 0: from the configuration */
	int		 o_slice_us;	/* 0: the kernel's */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: canaryd -f file [--mode serve|validate] [--concurrency n]\n"
	    "               [-l level] [--log-path file] [--drain-time-s n]\n"
	    "               [--pid-file file] [--state-dir dir]\n"
	    "               [--admin-allow cidr,...] [--admin-token-file file]\n"
	    "               [--service-node id] [--service-cluster name]\n"
	    "               [--shm-size bytes[k|m|g]] [--worker-slice-us n]\n"
	    "       canaryd --mode schema | --version | --help\n"
	    "  -f, -c, --config-path file  Envoy v3 YAML bootstrap\n"
	    "  --mode validate, -t         check the config and exit\n"
	    "  --mode schema               print every config field and exit\n"
	    "  --concurrency n             worker processes (default: CPUs)\n"
	    "  -l, --log-level level       trace debug info warning error "
	    "critical off\n"
	    "  --log-path file             log here instead of stderr "
	    "(SIGUSR1 reopens)\n"
	    "  --drain-time-s n            graceful drain bound (default "
	    "600)\n"
	    "  --pid-file file             write the master's pid\n"
	    "  --shm-size bytes[k|m|g]     shared segment at least this big "
	    "(default:\n"
	    "                              sized from the configuration)\n"
	    "  --worker-slice-us n         a worker's scheduler slice (default "
	    "%d;\n"
	    "                              0: the kernel's)\n"
	    "  --state-dir dir             rollout decisions kept here "
	    "(default\n"
	    "                              /var/lib/canaryd; \"\" for none)\n"
	    "  --admin-allow cidr,...      who may POST to the admin port "
	    "(default\n"
	    "                              loopback; a bearer token also "
	    "lets in)\n"
	    "  --admin-token-file file     the admin bearer token (mode "
	    "0600)\n"
	    "  --service-node id           the node's id (over node.id)\n"
	    "  --service-cluster name      the node's cluster (over "
	    "node.cluster)\n", CD_SLICE_US);
}

/* --admin-allow CIDR[,CIDR...], given any number of times. */
static void
parse_allow(const char *arg, struct opts *o)
{
	char buf[4096], *s = buf, *w;
	const char *why;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		errx(1, "--admin-allow: too long");
	while ((w = strsep(&s, ",")) != NULL) {
		if (o->o_admin_nallow == sizeof(o->o_admin_allow) /
		    sizeof(o->o_admin_allow[0]))
			errx(1, "--admin-allow: more than 64 ranges");
		if (cd_cidr_parse(w, &o->o_admin_allow[o->o_admin_nallow++],
		    &why) == -1)
			errx(1, "--admin-allow %s: %s", w, why);
	}
}

/* --shm-size: bytes, or k, m or g of them (binary). */
static size_t
parse_size(const char *arg)
{
	char num[32], *suf;
	long long v;
	const char *errstr;
	int shift = 0;

	if (strlcpy(num, arg, sizeof(num)) >= sizeof(num))
		errx(1, "--shm-size %s: too long", arg);
	suf = num + strspn(num, "0123456789");
	if (*suf != '\0' && suf[1] == '\0') {
		shift = *suf == 'k' || *suf == 'K' ? 10 : *suf == 'm' ||
		    *suf == 'M' ? 20 : *suf == 'g' || *suf == 'G' ? 30 : -1;
		if (shift == -1)
			errx(1, "--shm-size %s: want bytes, or a k, m or g "
			    "suffix", arg);
		*suf = '\0';
	}
	v = strtonum(num, 1, 1LL << 40, &errstr);
	if (errstr != NULL || (v << shift) > (1LL << 40))
		errx(1, "--shm-size %s: %s (1 to 1 TiB)", arg,
		    errstr != NULL ? errstr : "too large");
	return (size_t)(v << shift);
}

/* One option; -1 for usage on stderr, 1 to exit 0 (--help, --version). */
static int
parse_opt(int ch, const char *arg, struct opts *o)
{
	const char *errstr;

	switch (ch) {
	case 'c':
	case 'f':
		o->o_path = arg;
		break;
	case 'C':
		o->o_concurrency = (int)strtonum(arg, 0, CD_MAX_WORKERS,
		    &errstr);
		if (errstr != NULL)
			errx(1, "--concurrency %s: %s (0..%d)", arg, errstr,
			    CD_MAX_WORKERS);
		break;
	case 'W':
		o->o_slice_us = (int)strtonum(arg, 0, CD_SLICE_US_MAX, &errstr);
		if (errstr == NULL && o->o_slice_us != 0 &&
		    o->o_slice_us < CD_SLICE_US_MIN)
			errstr = "too small";
		if (errstr != NULL)
			errx(1, "--worker-slice-us %s: %s (0, or %d to %d)", arg,
			    errstr, CD_SLICE_US_MIN, CD_SLICE_US_MAX);
		break;
	case 'Z':
		o->o_shm_size = parse_size(arg);
		break;
	case 'M':
		if (strcmp(arg, "schema") == 0) {
			if (conf_schema_print(stdout) == -1)
				err(1, "stdout");
			return 1;
		}
		if (strcmp(arg, "validate") == 0)
			o->o_validate = 1;
		else if (strcmp(arg, "serve") != 0)
			errx(1, "--mode %s: want serve, validate or schema",
			    arg);
		break;
	case 't':
		o->o_validate = 1;
		break;
	case 'l':
		if ((o->o_level = log_level_parse(arg)) == -1)
			errx(1, "-l %s: want trace, debug, info, warning, "
			    "error, critical or off", arg);
		break;
	case 'L':
		o->o_log_path = arg;
		break;
	case 'D':
		o->o_drain_s = (int)strtonum(arg, 0, 86400, &errstr);
		if (errstr != NULL)
			errx(1, "--drain-time-s %s: %s", arg, errstr);
		break;
	case 'P':
		o->o_pid_file = arg;
		break;
	case 'S':
		o->o_state_dir = arg[0] != '\0' ? arg : NULL;
		break;
	case 'A':
		parse_allow(arg, o);
		break;
	case 'T':
		o->o_admin_token_file = arg;
		break;
	case 'N':
	case 'U':
		if (*arg == '\0' || strlen(arg) > 255)
			errx(1, "--service-%s: want 1 to 255 bytes",
			    ch == 'N' ? "node" : "cluster");
		if (ch == 'N')
			o->o_service_node = arg;
		else
			o->o_service_cluster = arg;
		break;
	case 'h':
		usage(stdout);
		return 1;
	case 'V':
		printf("canaryd version %s\n", CANARYD_VERSION);
		return 1;
	default:
		return -1;
	}
	return 0;
}

/* The command line into o; exits on --help, --version and errors. */
static void
parse_args(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "config-path",	required_argument, NULL, 'c' },
		{ "concurrency",	required_argument, NULL, 'C' },
		{ "mode",		required_argument, NULL, 'M' },
		{ "log-level",		required_argument, NULL, 'l' },
		{ "log-path",		required_argument, NULL, 'L' },
		{ "drain-time-s",	required_argument, NULL, 'D' },
		{ "pid-file",		required_argument, NULL, 'P' },
		{ "state-dir",		required_argument, NULL, 'S' },
		{ "admin-allow",	required_argument, NULL, 'A' },
		{ "admin-token-file",	required_argument, NULL, 'T' },
		{ "service-node",	required_argument, NULL, 'N' },
		{ "service-cluster",	required_argument, NULL, 'U' },
		{ "shm-size",		required_argument, NULL, 'Z' },
		{ "worker-slice-us",	required_argument, NULL, 'W' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, rc;

	memset(o, 0, sizeof(*o));
	o->o_concurrency = -1;
	o->o_level = LOG_L_INFO;
	o->o_drain_s = 600;
	o->o_slice_us = CD_SLICE_US;
	o->o_state_dir = "/var/lib/canaryd";
	while ((ch = getopt_long(argc, argv, "c:f:l:th", longopts,
	    NULL)) != -1) {
		if ((rc = parse_opt(ch, optarg, o)) == 1)
			exit(0);
		if (rc == -1) {
			usage(stderr);
			exit(1);
		}
	}
	if (o->o_path == NULL || optind != argc) {
		usage(stderr);
		exit(1);
	}
}

/* Worker processes: one per CPU unless told, never 0 (as Envoy). */
static int
concurrency(int asked)
{
	long ncpu;

	if (asked == -1) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		asked = ncpu < 1 ? 1 : ncpu > CD_MAX_WORKERS ?
		    CD_MAX_WORKERS : (int)ncpu;
	}
	return asked == 0 ? 1 : asked;
}

static const char *
node_or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

/*
 * Load and check the file, every diagnostic on stderr, with the command
 * line's node identity (fleet mode needs one) and worker count (the
 * listeners' sockets must fit the open-file limit); NULL: invalid.
 */
static struct cd_conf *
load(const struct opts *o)
{
	struct conf_diags diags;
	struct cd_conf *conf;
	int workers = concurrency(o->o_concurrency);
	char why[512];

	memset(&diags, 0, sizeof(diags));
	conf = conf_load(o->o_path, &diags);
	conf_diags_print(&diags, o->o_path, stderr);
	conf_diags_free(&diags);
	if (conf != NULL && (mst_fleet_check(conf, o->o_service_node,
	    o->o_service_cluster, why, sizeof(why)) == -1 ||
	    mst_proc_fd_budget(conf, conf->c_nlisteners * (size_t)workers,
	    mst_proc_conf_files(conf), workers, why, sizeof(why)) == -1)) {
		fprintf(stderr, "%s: error: %s\n", o->o_path, why);
		conf_free(conf);
		conf = NULL;
	}
	if (conf == NULL)
		fprintf(stderr, "error initializing configuration '%s'\n",
		    o->o_path);
	return conf;
}

int
main(int argc, char *argv[], char *envp[])
{
	struct cd_conf *conf;
	struct shm_size shm_sz;
	static struct opts o;	/* outlives main(): mst points into it */

	setproctitle_init(argc, argv, envp);
	parse_args(argc, argv, &o);
	if (o.o_log_path != NULL && mst_logfile_open(o.o_log_path) == -1)
		err(1, "%s", o.o_log_path);
	log_init(o.o_level, 2, 0);
	log_setproc("master");
	if ((conf = load(&o)) == NULL)
		return 1;
	if (o.o_validate) {
		printf("configuration '%s' OK\n", o.o_path);
		conf_free(conf);
		return 0;
	}
	if (o.o_pid_file != NULL)
		mst_pidfile_open(o.o_pid_file);
	/* the parser's freed memory back to the system before workers
	 * fork: they would each keep a copy of it in their page tables */
	malloc_trim(0);

	mst.m_config_path = o.o_path;
	mst.m_state_dir = o.o_state_dir;
	mst.m_admin_allow = o.o_admin_allow;
	mst.m_admin_nallow = o.o_admin_nallow;
	mst.m_admin_token_file = o.o_admin_token_file;
	mst.m_service_node = o.o_service_node;
	mst.m_service_cluster = o.o_service_cluster;
	mst.m_concurrency = concurrency(o.o_concurrency);
	mst.m_log_level = o.o_level;
	mst.m_drain_time_s = o.o_drain_s;
	mst.m_worker_slice_us = o.o_slice_us;
	mst.m_start_realtime_ms = cd_realtime_ms();
	mst.m_conf_loaded_realtime_ms = mst.m_start_realtime_ms;
	if (mst_loop_init() == -1)
		fatal("epoll");
	if (mst_signal_init() == -1)
		fatal("signals");
	mst_place_size(conf, mst.m_concurrency, o.o_shm_size, &shm_sz);
	if ((mst.m_shm = shm_create(&shm_sz)) == NULL)
		fatal("shared memory (%zu bytes): raise the memory limits, or "
		    "lower --shm-size", shm_layout_size(&shm_sz));
	mst.m_start_mono_ms = mst_now_ms();
	mst.m_shm->hdr.h_start_ms = mst.m_start_realtime_ms;
	setproctitle("master");
	/* the first line: who this canaryd is */
	log_info("canaryd %s: node %s, cluster %s: %d worker%s on %s:%u%s",
	    CANARYD_VERSION, node_or_dash(MST_NODE_ID(conf)),
	    node_or_dash(MST_NODE_CLUSTER(conf)), mst.m_concurrency,
	    mst.m_concurrency == 1 ? "" : "s",
	    conf->c_listener->l_addr.sa_address,
	    conf->c_listener->l_addr.sa_port,
	    conf->c_nlisteners > 1 ? " and more listeners" : "");
	log_info("shared memory: %zu bytes reserved for %u clusters, %u "
	    "hosts, %u weighted routes (pages are used as records are)",
	    mst.m_shm->hdr.h_size, mst.m_shm->hdr.h_ncl,
	    mst.m_shm->hdr.h_nhosts, mst.m_shm->hdr.h_nsplits / 2);
	if (mst_modules_start(conf) == -1)
		return 1;
	mst_reload_fast_reserve();
	mst_reload_init();
	mst_loop_run();
	mst_reload_finish();
	mst_modules_stop();
	return 0;
}
