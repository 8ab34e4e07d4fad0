/*
 * Small text helpers for every process, header only: the value of a hex
 * digit, and the word for an enum value (and back) from a table, so each
 * name list is written once as data and looked up the same way.
 */
#ifndef CANARYD_SHARED_TEXT_H
#define CANARYD_SHARED_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define TEXT_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The value of the hex digit c (0-9, a-f, A-F), or -1. */
static inline int
text_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One row of a name table: an enum value and its word. */
struct text_name {
	int		 tn_value;
	const char	*tn_name;
};

/* The word for value in t (n rows), or dflt when t has none. */
static inline const char *
text_name(const struct text_name *t, size_t n, int value, const char *dflt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].tn_value == value)
			return t[i].tn_name;
	return dflt;
}

/*
 * The value t (n rows) gives the word s, compared byte for byte or, with
 * icase, ignoring ASCII case: true with *value set, false when t has no
 * such word.
 */
static inline bool
text_value(const struct text_name *t, size_t n, const char *s, bool icase,
    int *value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((icase ? strcasecmp(t[i].tn_name, s) :
		    strcmp(t[i].tn_name, s)) == 0) {
			*value = t[i].tn_value;
			return true;
		}
	return false;
}

#endif /* CANARYD_SHARED_TEXT_H */
