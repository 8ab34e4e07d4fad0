/*
 * The YAML document of a configuration, composed from libyaml's events.
 *
 * yaml_parser_load() gives every node a tag string of its own and every
 * mapping and sequence a 16-entry stack, each a malloc, and frees them one
 * by one after: at 10,000 clusters (590,000 nodes) some 60 MB in 1.2
 * million allocations, and the page faults of all that memory, were a
 * third of `canaryd --mode validate`.  Here a scalar's value and a
 * collection's entries are copied into one arena at their exact size (the
 * entries of the collections still open wait on one shared stack), tags
 * stay NULL (the walker reads none), and the document is the node array
 * and the arena: two frees.
 *
 * The tree is the one yaml_parser_load() makes: node 1 the root, nodes in
 * event order, an alias resolved to the index of the node its anchor named
 * before it, marks from the events.  Composing is iterative: a deeply
 * nested file costs heap, not stack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "conf-int.h"

/* A collection being composed: its node and its first entry on yd_ent. */
struct yd_open {
	int		 yo_node;
	size_t		 yo_base;
};

struct yd_anchor {
	const char	*ya_name;	/* in the arena */
	int		 ya_node;
};

struct yd {
	struct cw		*yd_w;
	yaml_parser_t		*yd_p;
	yaml_document_t		*yd_doc;
	int			*yd_ent;	/* entries of open collections */
	size_t			 yd_nent, yd_cent;
	struct yd_open		*yd_open;
	size_t			 yd_nopen, yd_copen;
	struct yd_anchor	*yd_anc;
	size_t			 yd_nanc, yd_canc;
};

/* The parser's error as a diagnostic at its position. */
static void
yd_parse_error(struct cw *w, const yaml_parser_t *p)
{
	const yaml_mark_t *m = &p->problem_mark;
	const char *what = p->problem != NULL ? p->problem : "syntax error";

	if (p->error == YAML_READER_ERROR) {
		conf_diag_at(w, 0, (int)p->mark.line + 1,
		    (int)p->mark.column + 1, NULL, "yaml: %s (byte %zu)", what,
		    p->problem_offset);
		return;
	}
	if (p->context != NULL)
		conf_diag_at(w, 0, (int)m->line + 1, (int)m->column + 1, NULL,
		    "yaml: %s %s (line %zu, column %zu)", what, p->context,
		    p->context_mark.line + 1, p->context_mark.column + 1);
	else
		conf_diag_at(w, 0, (int)m->line + 1, (int)m->column + 1, NULL,
		    "yaml: %s", what);
}

/* v (n elements of size bytes, room for *cap) with room for one more:
 * the same array, or a larger one; NULL when memory ran out (v kept). */
static void *
yd_room(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c;

	if (n < *cap)
		return v;
	c = *cap == 0 ? 64 : *cap * 2;
	if ((v = reallocarray(v, c, size)) != NULL)
		*cap = c;
	return v;
}

/* The anchored node named name, or 0. */
static int
yd_anchored(const struct yd *d, const char *name)
{
	size_t i;

	for (i = d->yd_nanc; i-- > 0; )
		if (strcmp(d->yd_anc[i].ya_name, name) == 0)
			return d->yd_anc[i].ya_node;
	return 0;
}

/*
 * A new node of type t for event e, appended to the document, its anchor
 * (if any) registered.  Its index, or 0 after a diagnostic.
 */
static int
yd_node(struct yd *d, yaml_node_type_t t, const yaml_event_t *e,
    const yaml_char_t *anchor)
{
	yaml_document_t *doc = d->yd_doc;
	struct yd_anchor *a;
	yaml_node_t *n;
	size_t nn = (size_t)(doc->nodes.top - doc->nodes.start);
	size_t cap = (size_t)(doc->nodes.end - doc->nodes.start);
	int idx, prev;

	if (nn >= INT32_MAX - 1 ||
	    (n = yd_room(doc->nodes.start, nn, &cap, sizeof(*n))) == NULL) {
		conf_oom(d->yd_w);
		return 0;
	}
	doc->nodes.start = n;
	doc->nodes.top = n + nn + 1;
	doc->nodes.end = n + cap;
	n += nn;
	memset(n, 0, sizeof(*n));
	n->type = t;
	n->start_mark = e->start_mark;
	n->end_mark = e->end_mark;
	idx = (int)nn + 1;
	if (anchor == NULL)
		return idx;
	if ((prev = yd_anchored(d, (const char *)anchor)) != 0) {
		const yaml_mark_t *m = &doc->nodes.start[prev - 1].start_mark;

		conf_diag_at(d->yd_w, 0, (int)e->start_mark.line + 1,
		    (int)e->start_mark.column + 1, NULL,
		    "yaml: found duplicate anchor &%s (first at line %zu, "
		    "column %zu)", (const char *)anchor, m->line + 1,
		    m->column + 1);
		return 0;
	}
	if ((a = yd_room(d->yd_anc, d->yd_nanc, &d->yd_canc,
	    sizeof(*a))) == NULL) {
		conf_oom(d->yd_w);
		return 0;
	}
	d->yd_anc = a;
	a += d->yd_nanc;
	if ((a->ya_name = arena_strdup(d->yd_w->w_doc_arena,
	    (const char *)anchor)) == NULL) {
		conf_oom(d->yd_w);
		return 0;
	}
	a->ya_node = idx;
	d->yd_nanc++;
	return idx;
}

/* Node idx is an entry of the innermost open collection (if any). */
static int
yd_entry(struct yd *d, int idx)
{
	int *v;

	if (d->yd_nopen == 0)
		return 0;
	if ((v = yd_room(d->yd_ent, d->yd_nent, &d->yd_cent,
	    sizeof(*v))) == NULL) {
		conf_oom(d->yd_w);
		return -1;
	}
	d->yd_ent = v;
	d->yd_ent[d->yd_nent++] = idx;
	return 0;
}

/* The innermost open collection ended at e: its entries into the arena. */
static int
yd_close(struct yd *d, const yaml_event_t *e)
{
	struct yd_open *o = &d->yd_open[--d->yd_nopen];
	yaml_node_t *n = &d->yd_doc->nodes.start[o->yo_node - 1];
	size_t k = d->yd_nent - o->yo_base;
	int *v;

	n->end_mark = e->end_mark;
	if ((v = arena_allocarray(d->yd_w->w_doc_arena, k, sizeof(*v))) ==
	    NULL) {
		conf_oom(d->yd_w);
		return -1;
	}
	memcpy(v, d->yd_ent + o->yo_base, k * sizeof(*v));
	d->yd_nent = o->yo_base;
	if (n->type == YAML_SEQUENCE_NODE) {
		n->data.sequence.items.start = v;
		n->data.sequence.items.end = n->data.sequence.items.top = v + k;
	} else {
		/* key, value, key, value: yaml_node_pair_t's layout */
		n->data.mapping.pairs.start = (yaml_node_pair_t *)(void *)v;
		n->data.mapping.pairs.end = n->data.mapping.pairs.top =
		    n->data.mapping.pairs.start + k / 2;
	}
	return 0;
}

/* One event inside the document; -1 after a diagnostic. */
static int
yd_event(struct yd *d, const yaml_event_t *e)
{
	struct yd_open *o;
	yaml_node_t *n;
	int idx;

	switch (e->type) {
	case YAML_ALIAS_EVENT:
		if ((idx = yd_anchored(d,
		    (const char *)e->data.alias.anchor)) == 0) {
			conf_diag_at(d->yd_w, 0, (int)e->start_mark.line + 1,
			    (int)e->start_mark.column + 1, NULL,
			    "yaml: found undefined alias");
			return -1;
		}
		return yd_entry(d, idx);
	case YAML_SCALAR_EVENT:
		if ((idx = yd_node(d, YAML_SCALAR_NODE, e,
		    e->data.scalar.anchor)) == 0)
			return -1;
		n = &d->yd_doc->nodes.start[idx - 1];
		n->data.scalar.style = e->data.scalar.style;
		n->data.scalar.length = e->data.scalar.length;
		if ((n->data.scalar.value = (yaml_char_t *)arena_strndup(
		    d->yd_w->w_doc_arena, (const char *)e->data.scalar.value,
		    e->data.scalar.length)) == NULL) {
			conf_oom(d->yd_w);
			return -1;
		}
		return yd_entry(d, idx);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		idx = e->type == YAML_SEQUENCE_START_EVENT ?
		    yd_node(d, YAML_SEQUENCE_NODE, e,
		    e->data.sequence_start.anchor) :
		    yd_node(d, YAML_MAPPING_NODE, e,
		    e->data.mapping_start.anchor);
		if (idx == 0 || yd_entry(d, idx) == -1)
			return -1;
		n = &d->yd_doc->nodes.start[idx - 1];
		if (n->type == YAML_SEQUENCE_NODE)
			n->data.sequence.style = e->data.sequence_start.style;
		else
			n->data.mapping.style = e->data.mapping_start.style;
		if ((o = yd_room(d->yd_open, d->yd_nopen, &d->yd_copen,
		    sizeof(*o))) == NULL) {
			conf_oom(d->yd_w);
			return -1;
		}
		d->yd_open = o;
		d->yd_open[d->yd_nopen].yo_node = idx;
		d->yd_open[d->yd_nopen++].yo_base = d->yd_nent;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return yd_close(d, e);
	default:
		return 0;	/* the parser orders the rest */
	}
}

/*
 * The next event into *e; -1 after the parser's diagnostic (yaml_error).
 */
static int
yd_parse(struct yd *d, yaml_event_t *e)
{
	if (yaml_parser_parse(d->yd_p, e))
		return 0;
	yd_parse_error(d->yd_w, d->yd_p);
	return -1;
}

/*
 * After the first document: a second is refused (its syntax errors, if
 * any, reported instead), the end of the stream is fine.
 */
static void
yd_rest(struct yd *d)
{
	yaml_event_t e;
	yaml_mark_t at;

	if (yd_parse(d, &e) == -1)
		return;
	if (e.type != YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&e);
		return;
	}
	at = e.start_mark;
	do {
		yaml_event_delete(&e);
		if (yd_parse(d, &e) == -1)
			return;
	} while (e.type != YAML_DOCUMENT_END_EVENT);
	yaml_event_delete(&e);
	conf_diag_at(d->yd_w, 0, (int)at.line + 1, (int)at.column + 1, NULL,
	    "more than one YAML document");
}

yaml_node_t *
conf_doc_load(struct cw *w, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t e;
	struct yd d;
	size_t cap;
	int rc = 0, done = 0;

	memset(&w->w_doc, 0, sizeof(w->w_doc));
	memset(&d, 0, sizeof(d));
	d.yd_w = w;
	d.yd_p = &parser;
	d.yd_doc = &w->w_doc;
	if ((w->w_doc_arena = arena_new()) == NULL ||
	    !yaml_parser_initialize(&parser)) {
		conf_oom(w);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	/* about one node per 9 bytes of YAML: reserved, not touched */
	cap = len / 8 + 16;
	if ((w->w_doc.nodes.start = calloc(cap, sizeof(yaml_node_t))) ==
	    NULL) {
		conf_oom(w);
		yaml_parser_delete(&parser);
		return NULL;
	}
	w->w_doc.nodes.top = w->w_doc.nodes.start;
	w->w_doc.nodes.end = w->w_doc.nodes.start + cap;
	while (rc == 0 && !done) {
		if ((rc = yd_parse(&d, &e)) == -1)
			break;
		if (e.type == YAML_STREAM_END_EVENT)
			done = 1;
		else if (e.type == YAML_DOCUMENT_START_EVENT)
			w->w_doc.start_mark = e.start_mark;
		else if (e.type == YAML_DOCUMENT_END_EVENT) {
			w->w_doc.end_mark = e.end_mark;
			done = 2;
		} else
			rc = yd_event(&d, &e);
		yaml_event_delete(&e);
	}
	if (rc == 0 && done == 2)
		yd_rest(&d);
	yaml_parser_delete(&parser);
	free(d.yd_ent);
	free(d.yd_open);
	free(d.yd_anc);
	if (rc == -1)
		return NULL;
	if (w->w_doc.nodes.top == w->w_doc.nodes.start) {
		conf_diag_at(w, 0, 1, 1, NULL, "empty configuration");
		return NULL;
	}
	return w->w_doc.nodes.start;
}

void
conf_doc_free(struct cw *w)
{
	free(w->w_doc.nodes.start);
	memset(&w->w_doc, 0, sizeof(w->w_doc));
	arena_free(w->w_doc_arena);
	w->w_doc_arena = NULL;
}
