/*
 * Unit tests for the socket buffers of peers on this host (worker/wrk.c):
 * which addresses are loopback, and what a local socket's buffers become.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "worker/wrk.h"

static bool
v4(const char *a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return wrk_addr_loopback((struct sockaddr *)&s);
}

static bool
v6(const char *a)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return wrk_addr_loopback((struct sockaddr *)&s);
}

static void
loopback_addresses(void)
{
	struct sockaddr s;

	CU_ASSERT_TRUE(v4("127.0.0.1"));
	CU_ASSERT_TRUE(v4("127.255.3.9"));
	CU_ASSERT_FALSE(v4("10.0.0.1"));
	CU_ASSERT_FALSE(v4("0.0.0.0"));
	CU_ASSERT_FALSE(v4("128.0.0.1"));
	CU_ASSERT_TRUE(v6("::1"));
	CU_ASSERT_TRUE(v6("::ffff:127.0.0.1"));
	CU_ASSERT_FALSE(v6("::ffff:10.0.0.1"));
	CU_ASSERT_FALSE(v6("::"));
	CU_ASSERT_FALSE(v6("fe80::1"));
	memset(&s, 0, sizeof(s));
	s.sa_family = AF_UNIX;
	CU_ASSERT_FALSE(wrk_addr_loopback(&s));
}

/* The kernel doubles what it is asked for and caps it at its maximum. */
static void
local_socket_buffers_are_fixed(void)
{
	struct sockaddr_in s;
	socklen_t len;
	int fd, size;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_FALSE(wrk_fd_loopback(fd));	/* bound to nothing yet */
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	CU_ASSERT_TRUE(wrk_fd_loopback(fd));
	wrk_sock_local(fd);
	len = sizeof(size);
	CU_ASSERT_EQUAL(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len), 0);
	CU_ASSERT(size > 0 && size <= 2 * WRK_SOCKBUF_LOCAL);
	len = sizeof(size);
	CU_ASSERT_EQUAL(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len), 0);
	CU_ASSERT(size > 0 && size <= 2 * WRK_SOCKBUF_LOCAL);
	close(fd);
}

static CU_TestInfo tests[] = {
	{ "loopback addresses", loopback_addresses },
	{ "local socket buffers are fixed", local_socket_buffers_are_fixed },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/sockbuf", tests)
