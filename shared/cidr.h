/*
 * Address ranges in CIDR notation ("10.0.0.0/8", "::1/128", or a plain
 * address for one host), for access lists.  Both processes may use it;
 * nothing here allocates or blocks.
 */
#ifndef CANARYD_SHARED_CIDR_H
#define CANARYD_SHARED_CIDR_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "cidr-t.h"

/* Parse s; 0, or -1 with *why saying what is wrong (a static string). */
int	 cd_cidr_parse(const char *s, struct cd_cidr *out, const char **why);

/* Is sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as its
 * IPv4 one) inside c? */
bool	 cd_cidr_match(const struct cd_cidr *c, const struct sockaddr *sa);

/* The loopback ranges, 127.0.0.0/8 and ::1/128. */
bool	 cd_cidr_is_loopback(const struct sockaddr *sa);

#endif /* CANARYD_SHARED_CIDR_H */
