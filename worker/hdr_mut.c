/*
 * Header mutations by configuration (see hdr.h, struct wrk_hm): the
 * request_headers_to_add / _remove and response_headers_to_add / _remove
 * of a level applied to a head held as a list of lines, the way Envoy's
 * HeaderParser::evaluateHeaders does: removals first, then every value
 * evaluated against the head as it is, then the overwrites, then the
 * appends.  Pure: the lines and the value buffer are the caller's.
 *
 * An overwrite removes every line of its name and adds one at the end;
 * an append adds a line (where Envoy joins a few well-known headers
 * with a comma on one line, canaryd writes a line of its own: the same
 * header to an HTTP/1.1 reader).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "shared/alog.h"
#include "shared/conf-t.h"
#include "hdr.h"

void
wrk_hm_init(struct wrk_hm *m, struct wrk_hm_line *v, uint32_t cap,
    char *buf, size_t buflen)
{
	memset(m, 0, sizeof(*m));
	m->m_v = v;
	m->m_cap = cap;
	m->m_buf = buf;
	m->m_buflen = buflen;
}

void
wrk_hm_push(struct wrk_hm *m, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	struct wrk_hm_line *l;

	if (m->m_n == m->m_cap || nlen > UINT16_MAX || vlen > UINT32_MAX) {
		m->m_over = true;
		return;
	}
	l = &m->m_v[m->m_n++];
	l->l_name = name;
	l->l_nlen = (uint16_t)nlen;
	l->l_val = val;
	l->l_vlen = (uint32_t)vlen;
	l->l_dead = 0;
}

char *
wrk_hm_room(struct wrk_hm *m, size_t *avail)
{
	*avail = m->m_buflen - m->m_used;
	return m->m_buf + m->m_used;
}

void
wrk_hm_take(struct wrk_hm *m, size_t n)
{
	m->m_used += n;
}

static bool
line_is(const struct wrk_hm_line *l, const char *name, size_t nlen)
{
	return !l->l_dead && l->l_nlen == nlen &&
	    strncasecmp(l->l_name, name, nlen) == 0;
}

bool
wrk_hm_get(const struct wrk_hm *m, const char *name, size_t nlen,
    struct alog_str *out)
{
	uint32_t i;

	for (i = 0; i < m->m_n; i++)
		if (line_is(&m->m_v[i], name, nlen)) {
			out->a_p = m->m_v[i].l_val;
			out->a_len = m->m_v[i].l_vlen;
			return true;
		}
	return false;
}

void
wrk_hm_remove(struct wrk_hm *m, const char *name, size_t nlen)
{
	uint32_t i;

	for (i = 0; i < m->m_n; i++)
		if (line_is(&m->m_v[i], name, nlen))
			m->m_v[i].l_dead = 1;
}

/* A value evaluated for one add, waiting for the level's sets. */
struct hm_pending {
	const struct cd_hdr_add	*p_ha;
	const char		*p_val;
	size_t			 p_len;
	bool			 p_overwrite;
};

/* Evaluate ha's value into the buffer; false when it is not added. */
static bool
hm_eval(struct wrk_hm *m, const struct cd_hdr_add *ha,
    const struct alog_src *src, struct hm_pending *p)
{
	struct alog_str cur;
	bool present;
	size_t n;

	n = alog_fmt_eval(m->m_buf + m->m_used, m->m_buflen - m->m_used,
	    &ha->ha_fmt, src, ALOG_F_OMIT_EMPTY);
	if (n == (size_t)-1) {
		m->m_over = true;
		return false;
	}
	if (n == 0 && !ha->ha_keep_empty)
		return false;
	present = wrk_hm_get(m, ha->ha_name, ha->ha_nlen, &cur);
	switch (ha->ha_action) {
	case CD_HA_ADD_IF_ABSENT:
		if (present)
			return false;
		p->p_overwrite = false;
		break;
	case CD_HA_OVERWRITE:
		if (!present)
			return false;
		p->p_overwrite = true;
		break;
	case CD_HA_OVERWRITE_OR_ADD:
		p->p_overwrite = true;
		break;
	default:
		p->p_overwrite = false;
		break;
	}
	p->p_ha = ha;
	p->p_val = m->m_buf + m->m_used;
	p->p_len = n;
	m->m_used += n;
	return true;
}

void
wrk_hm_apply(struct wrk_hm *m, const struct cd_hdr_ops *ho,
    const struct alog_src *src)
{
	struct hm_pending pend[CD_MAX_HDR_OPS];
	size_t i, np = 0;

	/* removing first makes remove-then-add the natural reading */
	for (i = 0; i < ho->ho_nremove; i++)
		wrk_hm_remove(m, ho->ho_remove[i], strlen(ho->ho_remove[i]));
	/* every value sees the head before this level sets any */
	for (i = 0; i < ho->ho_nadd && np < CD_MAX_HDR_OPS; i++)
		if (hm_eval(m, &ho->ho_add[i], src, &pend[np]))
			np++;
	for (i = 0; i < np; i++)
		if (pend[i].p_overwrite) {
			wrk_hm_remove(m, pend[i].p_ha->ha_name,
			    pend[i].p_ha->ha_nlen);
			wrk_hm_push(m, pend[i].p_ha->ha_name,
			    pend[i].p_ha->ha_nlen, pend[i].p_val,
			    pend[i].p_len);
		}
	for (i = 0; i < np; i++)
		if (!pend[i].p_overwrite)
			wrk_hm_push(m, pend[i].p_ha->ha_name,
			    pend[i].p_ha->ha_nlen, pend[i].p_val,
			    pend[i].p_len);
}

size_t
wrk_hm_size(const struct wrk_hm *m)
{
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < m->m_n; i++)
		if (!m->m_v[i].l_dead)
			n += (size_t)m->m_v[i].l_nlen + m->m_v[i].l_vlen + 4;
	return n;
}
