/*
 * /memory (see memory.h).  glibc's malloc has no page heap of its own
 * and no thread cache it reports apart: pageheap_unmapped and
 * total_thread_cache are 0, printed because Envoy prints every field.
 * Built with AddressSanitizer (make SANITIZE=1), malloc is the
 * sanitizer's and glibc's statistics say nothing: the heap figures are
 * then the sanitizer allocator's own.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "dns.h"
#include "json.h"
#include "memory.h"
#include "proc.h"

#ifdef __SANITIZE_ADDRESS__
/* <sanitizer/allocator_interface.h>, which gcc does not install */
size_t	 __sanitizer_get_current_allocated_bytes(void);
size_t	 __sanitizer_get_heap_size(void);
size_t	 __sanitizer_get_free_bytes(void);
#endif

/* Resident bytes of pid, 0 when it is gone (it holds no memory then). */
static uint64_t
memory_rss(pid_t pid)
{
	unsigned long long size, resident;
	char path[64], text[128];
	ssize_t n;
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0 || page <= 0)
		return 0;
	text[n] = '\0';
	if (sscanf(text, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)page;
}

/* The master's heap: in use, held from the system, held and free. */
static void
memory_heap(struct mst_memory *m)
{
#ifdef __SANITIZE_ADDRESS__
	m->mm_allocated = __sanitizer_get_current_allocated_bytes();
	m->mm_heap_size = __sanitizer_get_heap_size();
	m->mm_pageheap_free = __sanitizer_get_free_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	/* small chunks in the arenas, plus the large ones malloc mapped on
	 * their own */
	m->mm_allocated = mi.uordblks + mi.hblkhd;
	m->mm_heap_size = mi.arena + mi.hblkhd;
	m->mm_pageheap_free = mi.fordblks;
#endif
}

void
mst_memory_read(struct mst_memory *m)
{
	pid_t pids[2 * CD_MAX_WORKERS];
	size_t i, n;
	int dns;

	memset(m, 0, sizeof(*m));
	memory_heap(m);
	m->mm_total_physical_bytes = memory_rss(getpid());
	n = mst_proc_pids(pids, sizeof(pids) / sizeof(pids[0]));
	for (i = 0; i < n; i++)
		m->mm_total_physical_bytes += memory_rss(pids[i]);
	if ((dns = mst_dns_pid()) > 0)
		m->mm_total_physical_bytes += memory_rss((pid_t)dns);
}

int
mst_memory_json(struct buf *b, const struct mst_memory *m)
{
	struct buf c;
	int rc;

	buf_init(&c);
	buf_printf(&c, "{\"allocated\":\"%" PRIu64 "\",\"heap_size\":\"%"
	    PRIu64 "\",\"pageheap_unmapped\":\"%" PRIu64 "\","
	    "\"pageheap_free\":\"%" PRIu64 "\",\"total_thread_cache\":\"%"
	    PRIu64 "\",\"total_physical_bytes\":\"%" PRIu64 "\"}",
	    m->mm_allocated, m->mm_heap_size, m->mm_pageheap_unmapped,
	    m->mm_pageheap_free, m->mm_total_thread_cache,
	    m->mm_total_physical_bytes);
	rc = c.b_oom ? -1 : mst_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}
