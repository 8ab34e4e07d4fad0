/*
 * Unit tests for shared/cidr.c: parsing (prefix bounds, host bits, plain
 * addresses) and matching IPv4, IPv6 and IPv4-mapped peers.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/cidr.h"
#include "test/unit/unit.h"

static struct sockaddr_storage
peer(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		CU_ASSERT_FATAL(inet_pton(AF_INET6, a, &s6->sin6_addr) == 1);
		s6->sin6_family = AF_INET6;
	}
	return ss;
}

static bool
in(const char *cidr, const char *addr)
{
	struct sockaddr_storage ss = peer(addr);
	struct cd_cidr c;
	const char *why;

	CU_ASSERT_FATAL(cd_cidr_parse(cidr, &c, &why) == 0);
	return cd_cidr_match(&c, (struct sockaddr *)&ss);
}

static void
parse_refuses_what_is_not_a_range(void)
{
	static const char *const bad[] = { "", "/8", "10.0.0.0/", "10.0.0.0/33",
	    "10.0.0.0/-1", "10.0.0.0/8x", "::/129", "10.0.0.1/8", "fe80::1/64",
	    "example.com", "10.0.0.256" };
	struct cd_cidr c;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CU_ASSERT_EQUAL(cd_cidr_parse(bad[i], &c, &why), -1);
		CU_ASSERT_PTR_NOT_NULL(why);
	}
	CU_ASSERT_EQUAL(cd_cidr_parse("10.0.0.1/8", &c, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "bits are set past the prefix length; "
	    "write the block's first address");
}

static void
match_by_prefix(void)
{
	CU_ASSERT(in("10.0.0.0/8", "10.200.3.4"));
	CU_ASSERT(!in("10.0.0.0/8", "11.0.0.1"));
	CU_ASSERT(in("192.168.1.128/25", "192.168.1.200"));
	CU_ASSERT(!in("192.168.1.128/25", "192.168.1.100"));
	CU_ASSERT(in("127.0.0.1", "127.0.0.1"));
	CU_ASSERT(!in("127.0.0.1", "127.0.0.2"));
	CU_ASSERT(in("0.0.0.0/0", "8.8.8.8"));
	CU_ASSERT(in("2001:db8::/32", "2001:db8:1::5"));
	CU_ASSERT(!in("2001:db8::/32", "2001:db9::5"));
	CU_ASSERT(!in("10.0.0.0/8", "2001:db8::1"));
	/* an IPv4-mapped IPv6 peer is its IPv4 address */
	CU_ASSERT(in("10.0.0.0/8", "::ffff:10.1.2.3"));
}

static void
loopback_is_127_and_v6_one(void)
{
	struct sockaddr_storage a = peer("127.9.9.9"), b = peer("::1"),
	    c = peer("128.0.0.1"), d = peer("::2");

	CU_ASSERT(cd_cidr_is_loopback((struct sockaddr *)&a));
	CU_ASSERT(cd_cidr_is_loopback((struct sockaddr *)&b));
	CU_ASSERT(!cd_cidr_is_loopback((struct sockaddr *)&c));
	CU_ASSERT(!cd_cidr_is_loopback((struct sockaddr *)&d));
}

static CU_TestInfo tests[] = {
	{ "parse_refuses_what_is_not_a_range",
	    parse_refuses_what_is_not_a_range },
	{ "match_by_prefix", match_by_prefix },
	{ "loopback_is_127_and_v6_one", loopback_is_127_and_v6_one },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/cidr", tests);
