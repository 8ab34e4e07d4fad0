/*
 * Master-only memory (see privmem.h).
 */
#include <sys/mman.h>

#include <errno.h>
#include <stddef.h>

#include "privmem.h"

void *
mst_privmem_map(size_t len)
{
	void *p;
	int e;

	if (len == 0)
		len = 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTFORK) == -1) {
		e = errno;
		(void)munmap(p, len);
		errno = e;
		return NULL;
	}
	return p;
}

void
mst_privmem_unmap(void *p, size_t len)
{
	if (p != NULL)
		(void)munmap(p, len == 0 ? 1 : len);
}
