/*
 * CIDR ranges (see cidr.h).  An address is compared as bytes in network
 * order, the prefix whole bytes first, then the leftover bits.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "cidr.h"

int
cd_cidr_parse(const char *s, struct cd_cidr *out, const char **why)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s), i;
	unsigned long bits;
	char *end;
	int max;

	memset(out, 0, sizeof(*out));
	*why = "want an IPv4 or IPv6 address block like 10.0.0.0/8 or ::1/128";
	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, out->c_addr) == 1) {
		out->c_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->c_addr) == 1) {
		out->c_family = AF_INET6;
		max = 128;
	} else
		return -1;
	bits = (unsigned long)max;
	if (slash != NULL) {
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    bits > (unsigned long)max) {
			*why = out->c_family == AF_INET ? "the prefix length "
			    "must be 0..32" : "the prefix length must be "
			    "0..128";
			return -1;
		}
	}
	out->c_bits = (uint8_t)bits;
	/* the host bits must be zero: 10.0.0.1/8 is most likely a typo */
	for (i = 0; i < 16; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ?
		    (unsigned)(bits - 8 * i) : 0;
		uint8_t mask = (uint8_t)(keep == 0 ? 0 : 0xff << (8 - keep));

		if ((out->c_addr[i] & (uint8_t)~mask) != 0) {
			*why = "bits are set past the prefix length; write "
			    "the block's first address";
			return -1;
		}
	}
	return 0;
}

/* The address bytes of sa in family *fam; NULL for other families. */
static const uint8_t *
cidr_bytes(const struct sockaddr *sa, int *fam)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const struct sockaddr_in6 *s6;

	if (sa->sa_family == AF_INET) {
		*fam = AF_INET;
		return (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	}
	if (sa->sa_family != AF_INET6)
		return NULL;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (memcmp(s6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
		*fam = AF_INET;
		return s6->sin6_addr.s6_addr + 12;
	}
	*fam = AF_INET6;
	return s6->sin6_addr.s6_addr;
}

bool
cd_cidr_match(const struct cd_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	unsigned full = c->c_bits / 8, rest = c->c_bits % 8;
	int fam;

	if ((a = cidr_bytes(sa, &fam)) == NULL || fam != c->c_family)
		return false;
	if (memcmp(a, c->c_addr, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ c->c_addr[full]) &
	    (uint8_t)(0xff << (8 - rest))) == 0;
}

bool
cd_cidr_is_loopback(const struct sockaddr *sa)
{
	static const struct cd_cidr lo4 = { AF_INET, 8, { 127 } };
	static const struct cd_cidr lo6 = { AF_INET6, 128, { [15] = 1 } };

	return cd_cidr_match(&lo4, sa) || cd_cidr_match(&lo6, sa);
}
