/*
 * Unit tests for master/proc.c without forking: the shm slot of each
 * worker across generations, what becomes of a worker that exited
 * (respawn, back-off, never), and who owns a configuration through a
 * reload that is prepared and then cancelled or applied in place (the
 * sanitizer build catches a configuration freed twice or leaked).
 */
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "master/mst.h"
#include "master/proc.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

/* waitpid(2) statuses, built as the kernel reports them */
#define EXITED(code)	(((code) & 0xff) << 8)
#define KILLED(sig)	((sig) & 0x7f)

static void
generations_alternate_slot_halves(void)
{
	CU_ASSERT_EQUAL(mst_proc_slot(0, 0), 0);
	CU_ASSERT_EQUAL(mst_proc_slot(0, 3), 3);
	CU_ASSERT_EQUAL(mst_proc_slot(1, 3), CD_MAX_WORKERS + 3);
	CU_ASSERT_EQUAL(mst_proc_slot(2, 3), 3);
	CU_ASSERT_EQUAL(mst_proc_slot(7, CD_MAX_WORKERS - 1),
	    2 * CD_MAX_WORKERS - 1);
	/* the master's slot is past every worker's */
	CU_ASSERT(mst_proc_slot(1, CD_MAX_WORKERS - 1) < UNIT_MASTER_SLOT);
}

static void
status_2_is_never_respawned(void)
{
	unsigned fast = 3;
	uint64_t delay = 0;

	CU_ASSERT(WIFEXITED(EXITED(2)) && WEXITSTATUS(EXITED(2)) == 2);
	CU_ASSERT_EQUAL(mst_proc_after_exit(EXITED(2), 5, &fast, &delay),
	    MST_PROC_NO_RESPAWN);
	CU_ASSERT_EQUAL(fast, 3);
	/* any other exit, or a signal, is */
	CU_ASSERT_EQUAL(mst_proc_after_exit(EXITED(1), 60000, &fast, &delay),
	    MST_PROC_RESPAWN);
	CU_ASSERT_EQUAL(mst_proc_after_exit(KILLED(9), 60000, &fast, &delay),
	    MST_PROC_RESPAWN);
}

static void
quick_deaths_back_off_to_ten_seconds(void)
{
	static const uint64_t want[] = { 200, 400, 800, 1600, 3200, 6400,
	    10000, 10000, 10000 };
	unsigned fast = 0, i;
	uint64_t delay;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		delay = 0;
		CU_ASSERT_EQUAL(mst_proc_after_exit(KILLED(11), 999, &fast,
		    &delay), MST_PROC_RESPAWN_LATER);
		CU_ASSERT_EQUAL(fast, i + 1);
		CU_ASSERT_EQUAL(delay, want[i]);
	}
	/* one long enough life clears the count: respawned at once */
	CU_ASSERT_EQUAL(mst_proc_after_exit(EXITED(1), 1000, &fast, &delay),
	    MST_PROC_RESPAWN);
	CU_ASSERT_EQUAL(fast, 0);
}

static struct cd_conf *
load(unsigned port)
{
	struct conf_diags d;
	struct cd_conf *c;
	char yaml[2048];
	int n;

	n = snprintf(yaml, sizeof(yaml), HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v1 }\n"
	    "  clusters:\n"
	    "  - name: v1\n"
	    "    type: STATIC\n"
	    "    load_assignment:\n"
	    "      cluster_name: v1\n"
	    "      endpoints:\n"
	    "      - lb_endpoints:\n"
	    "        - endpoint: { address: { socket_address: { address: "
	    "127.0.0.1, port_value: %u } } }\n", port);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("proc.yaml", yaml, (size_t)n, &d);
	conf_diags_free(&d);
	return c;
}

/*
 * Generation 0 owns the start configuration; a structural reload that
 * another module refuses gives the new one back; a weights-only reload
 * hands the generation the new one and frees the one it replaces.  The
 * listener address stays, so no socket is opened.
 */
static void
configs_change_owner_only_when_applied(void)
{
	struct cd_conf *a = load(9001), *b = load(9002), *c = load(9003);

	CU_ASSERT_FATAL(a != NULL && b != NULL && c != NULL);
	CU_ASSERT_EQUAL(mst_proc_prepare(MST_CH_START, a), 0);
	mst.m_conf = a;
	CU_ASSERT_EQUAL(mst_proc_prepare(MST_CH_STRUCTURAL, b), 0);
	mst_proc_cancel();
	conf_free(b);		/* ours again */
	CU_ASSERT_EQUAL(mst_proc_prepare(MST_CH_WEIGHTS, c), 0);
	mst.m_conf = c;
	mst_proc_apply(MST_CH_WEIGHTS);	/* frees a */
	/* c stays with generation 0 for the life of the test binary */
	mst.m_conf = NULL;
}

static CU_TestInfo tests[] = {
	{ "generations_alternate_slot_halves",
	    generations_alternate_slot_halves },
	{ "status_2_is_never_respawned", status_2_is_never_respawned },
	{ "quick_deaths_back_off_to_ten_seconds",
	    quick_deaths_back_off_to_ten_seconds },
	{ "configs_change_owner_only_when_applied",
	    configs_change_owner_only_when_applied },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/proc", tests);
