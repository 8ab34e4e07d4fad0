/*
 * An address range in CIDR notation (shared/cidr.h parses and matches
 * it).  A types header: no prototypes.
 */
#ifndef CANARYD_SHARED_CIDR_T_H
#define CANARYD_SHARED_CIDR_T_H

#include <stdint.h>

struct cd_cidr {
	uint8_t		 c_family;	/* AF_INET or AF_INET6 */
	uint8_t		 c_bits;	/* prefix length */
	uint8_t		 c_addr[16];	/* network order; host bits zero */
};

#endif /* CANARYD_SHARED_CIDR_T_H */
