/*
 * matrix-section: see matrix-section.h. One reader of items for every
 * list section, cells included: a key is looked up in the section, its
 * value (one scalar, or a list of them) given to the section's setter
 * with the value's position on error, an unknown key held until the
 * item's name is known, the item's own checks run, a name given twice
 * refused. What differs from one section to another is in its table.
 */
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-section.h"
#include "lib/xmalloc.h"

static const struct setting *find_setting(const struct section *sec,
					  const char *key)
{
	size_t i;

	for (i = 0; i < sec->n_settings; i++)
		if (!strcmp(sec->settings[i].name, key))
			return &sec->settings[i];
	return NULL;
}

/* key's enum setting_kind in sec, or -1; *k its setting, if a table's. */
static int key_kind(const struct section *sec, const char *key,
		    const struct setting **k)
{
	*k = NULL;
	if (!sec->settings)
		return sec->key_kind(key);
	*k = find_setting(sec, key);
	return *k ? (*k)->is_list : -1;
}

int matrix_section_has_key(const struct section *sec, const char *key)
{
	const struct setting *k;

	return key_kind(sec, key, &k) >= 0;
}

/* " (did you mean 'x'?)" when one of sec's keys is close to key. */
static void add_key_hint(struct strbuf *sb, const struct section *sec,
			 const char *key)
{
	const char **names;
	size_t i, n = sec->n_settings;

	if (!sec->settings)
		for (n = 0; sec->key_name(n); n++)
			;
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = sec->settings ? sec->settings[i].name :
					   sec->key_name(i);
	matrix_yaml_add_hint(sb, key, names, n);
	free(names);
}

/* Give the current scalar to key's setter; its message gets its place. */
static int give(struct matrix_yaml *y, const struct section *sec,
		const struct setting *k, const char *key, void *obj)
{
	struct strbuf msg = STRBUF_INIT;
	const char *v = matrix_yaml_scalar(y);
	int rc, ret = 0;

	if (!sec->as_written && matrix_yaml_is_null(y))
		v = "";
	rc = k ? k->set(obj, v, y->dir, &msg) : sec->set(obj, key, v, &msg);
	if (rc)
		ret = matrix_yaml_fail(y, &y->ev.start_mark, "%s", msg.buf);
	strbuf_release(&msg);
	return ret;
}

/*
 * The value of setting key (kind, k as key_kind() gave them); the current
 * event is its first. *end is moved past each scalar read (and a flow
 * list's end): where the item ends, for the editor.
 */
static int parse_value(struct matrix_yaml *y, const struct section *sec,
		       const struct setting *k, const char *key, int kind,
		       void *obj, size_t *end)
{
	int flow;

	/* `fragments:` alone is no fragments, not one empty path. */
	if (kind != SETTING_ONE && !sec->as_written && matrix_yaml_is_null(y))
		return 0;
	if (y->ev.type == YAML_SCALAR_EVENT) {
		/* qemu_args: a scalar would be split how? Refuse. */
		if (kind == SETTING_LIST_ONLY)
			return matrix_yaml_fail(y, &y->ev.start_mark,
						"%s: expected a list", key);
		*end = y->ev.end_mark.index;
		return give(y, sec, k, key, obj);
	}
	if (kind == SETTING_ONE)
		return matrix_yaml_fail(y, &y->ev.start_mark, "%s: expected a "
					"single value, got %s", key,
					matrix_yaml_node_kind(y->ev.type));
	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "%s: expected "
					"%s, got %s", key, sec->as_written ?
					"a list" : "a string or a list of "
					"strings",
					matrix_yaml_node_kind(y->ev.type));
	flow = y->ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	for (;;) {
		if (matrix_yaml_next(y))
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (y->ev.type != YAML_SCALAR_EVENT)
			return matrix_yaml_fail(y, &y->ev.start_mark, "%s: "
						"expected a string for each "
						"element, got %s", key,
						matrix_yaml_node_kind(
							y->ev.type));
		*end = y->ev.end_mark.index;
		if (give(y, sec, k, key, obj))
			return -1;
	}
	if (flow)
		*end = y->ev.end_mark.index;
	return 0;
}

static void *entry_at(const struct entries *list, const struct section *sec,
		      size_t i)
{
	return (char *)list->items + i * sec->size;
}

void matrix_section_entries_release(struct entries *list,
				    const struct section *sec)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		sec->release(entry_at(list, sec, i));
	free(list->items);
	free(list->name_lines);
	free(list->extents);
	memset(list, 0, sizeof(*list));
}

/* obj (owned by the list from here), its name's line, where it is. */
static void entries_add(struct entries *list, const struct section *sec,
			void *obj, unsigned name_line,
			const struct item_layout *extent)
{
	if (list->n == list->alloc) {
		list->alloc = list->alloc ? 2 * list->alloc : 4;
		list->items = xrealloc(list->items, list->alloc * sec->size);
		list->name_lines = xrealloc(list->name_lines, list->alloc *
					    sizeof(*list->name_lines));
		list->extents = xrealloc(list->extents, list->alloc *
					 sizeof(*list->extents));
	}
	memcpy(entry_at(list, sec, list->n), obj, sec->size);
	list->name_lines[list->n] = name_line;
	list->extents[list->n++] = *extent;
}

/* One item of a section; the current event is its MAPPING_START. */
static int parse_item(struct matrix_yaml *y, const struct section *sec,
		      struct entries *list)
{
	void *obj = xmalloc(sec->size);
	struct seen_key *seen = NULL, *name;
	size_t n_seen = 0, alloc_seen = 0, i;
	yaml_mark_t start = y->ev.start_mark;
	const char *name_key = sec->name_key ? sec->name_key : "name";
	struct item_layout item;
	int flow, ret = -1;

	sec->init(obj, (unsigned)start.line + 1, (unsigned)start.column + 1);
	flow = y->ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	item.start = item.end = start.index;
	matrix_yaml_item_begin(y, sec->what, sec->name(obj), list->n);
	for (;;) {
		const struct setting *k;
		struct seen_key *s;
		yaml_mark_t key_mark;
		int rc, kind;

		rc = matrix_yaml_next_key(y, seen, n_seen, &key_mark);
		if (rc < 0)
			goto out;
		if (rc > 0)
			break;
		kind = key_kind(sec, matrix_yaml_scalar(y), &k);
		if (kind < 0) {
			struct strbuf hint = STRBUF_INIT;

			add_key_hint(&hint, sec, matrix_yaml_scalar(y));
			rc = matrix_yaml_unknown_key(y, matrix_yaml_scalar(y),
						     &key_mark, hint.buf);
			strbuf_release(&hint);
			/* Held until the item's name is known: read on. */
			if (rc || matrix_yaml_next(y) || matrix_yaml_skip(y))
				goto out;
			continue;
		}
		s = matrix_yaml_seen_add(&seen, &n_seen, &alloc_seen,
					 matrix_yaml_scalar(y), &key_mark);
		if (matrix_yaml_next(y))
			goto out;
		s->value_mark = y->ev.start_mark;
		if (parse_value(y, sec, k, s->text, kind, obj, &item.end))
			goto out;
	}
	if (flow)
		item.end = y->ev.end_mark.index;
	if (matrix_yaml_item_check(y) ||
	    sec->finish(y, obj, seen, n_seen, &start))
		goto out;
	name = matrix_yaml_seen_find(seen, n_seen, name_key);
	for (i = 0; i < list->n; i++) {
		if (strcmp(*sec->name(entry_at(list, sec, i)),
			   *sec->name(obj)))
			continue;
		matrix_yaml_fail(y, &name->value_mark, "duplicate %s %s '%s' "
				 "(first defined at line %u)", sec->what,
				 name_key, *sec->name(obj),
				 list->name_lines[i]);
		goto out;
	}
	entries_add(list, sec, obj, (unsigned)name->value_mark.line + 1,
		    &item);
	ret = 0;
out:
	matrix_yaml_item_end(y);
	if (ret)
		sec->release(obj);
	free(obj);
	matrix_yaml_seen_free(seen, n_seen);
	return ret;
}

int matrix_section_parse_list(struct matrix_yaml *y,
			      const struct section *sec,
			      struct entries *list)
{
	if (matrix_yaml_is_null(y))
		return 0;
	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "%s: expected a "
					"list of %s, got %s", sec->key,
					sec->key,
					matrix_yaml_node_kind(y->ev.type));
	for (;;) {
		if (matrix_yaml_next(y))
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (y->ev.type != YAML_MAPPING_START_EVENT)
			return matrix_yaml_fail(y, &y->ev.start_mark, "%s: "
						"expected a mapping for each "
						"%s, got %s", sec->key,
						sec->what,
						matrix_yaml_node_kind(
							y->ev.type));
		if (parse_item(y, sec, list))
			return -1;
	}
}

/* An unknown key in a section of one mapping: it has no name to wait for. */
static void unknown_key(struct matrix_yaml *y, const struct section *sec,
			const yaml_mark_t *mark)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_addf(&msg, "unknown key '%s' in %s", matrix_yaml_scalar(y),
		    sec->key);
	add_key_hint(&msg, sec, matrix_yaml_scalar(y));
	matrix_yaml_fail(y, mark, "%s", msg.buf);
	strbuf_release(&msg);
}

int matrix_section_parse_mapping(struct matrix_yaml *y,
				 const struct section *sec, void *obj,
				 struct seen_key **seen, size_t *n_seen)
{
	size_t alloc_seen = 0, end;

	*seen = NULL;
	*n_seen = 0;
	for (;;) {
		const struct setting *k;
		struct seen_key *s;
		yaml_mark_t key_mark;
		int kind, rc = matrix_yaml_next_key(y, *seen, *n_seen,
						    &key_mark);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0;
		kind = key_kind(sec, matrix_yaml_scalar(y), &k);
		if (kind < 0) {
			unknown_key(y, sec, &key_mark);
			return -1;
		}
		s = matrix_yaml_seen_add(seen, n_seen, &alloc_seen,
					 matrix_yaml_scalar(y), &key_mark);
		if (matrix_yaml_next(y))
			return -1;
		s->value_mark = y->ev.start_mark;
		if (parse_value(y, sec, k, s->text, kind, obj, &end))
			return -1;
	}
}
