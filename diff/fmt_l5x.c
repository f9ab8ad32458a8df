/*
 * diff/fmt_l5x.c - Rockwell Studio 5000 L5X exports.
 *
 * The tree's root is the Controller; below it DataType[..]/Member[..],
 * Module[..], AddOnInstructionDefinition[..] (Parameter, LocalTag,
 * Routine), Tag[..], Program[..] (Tag, Routine), Task[..].  Ladder routines
 * are sequences of Rung nodes (aligned by content, so one inserted rung is
 * one insertion); ST routines carry their lines as a body; FBD and SFC
 * elements are keyed by their ID (wires and links by their ends).  Tag
 * values come from the decorated data: one Value[member] node per leaf.
 *
 * Noise dropped: ExportDate, SoftwareRevision and ExportOptions of the
 * export, the Controller's LastModifiedDate, AOI EditedDate and
 * SoftwareRevision, rung Number (rungs are positional), the L5K copy of
 * tag data when decorated data is present, and X/Y layout of FBD/SFC
 * elements.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "diff/formats.h"
#include "diff/xml.h"

static const char *const name_ids[] = { "Name", "Id", NULL };
static const char *const gfx_ids[] = { "ID", "Name", "Number", NULL };
static const char *const gfx_drop[] = { "X", "Y", NULL };
static const struct xml_conv generic_cv = { name_ids, NULL, NULL, false };
static const struct xml_conv gfx_cv = { gfx_ids, gfx_drop, NULL, false };

static int l5x_detect(const char *text, size_t len)
{
	size_t n = len < 4096 ? len : 4096;

	return memmem(text, n, "<RSLogix5000Content", 19) ? 95 : 0;
}

/* Attributes of `el` as attrs of n, except those listed (and Name). */
static void copy_attrs(struct dnode *n, const struct xml_node *el, const char *const *skip)
{
	for (const struct xml_attr *a = xml_attr_first(el); a; a = xml_attr_next(a)) {
		const char *an = xml_attr_name(a);

		if (!strcmp(an, "Name") || xml_in_list(skip, an))
			continue;
		dnode_set_attr(n, an, xml_attr_value_ref(a));
	}
}

/* The trimmed text of child `name` as attr `attr`, when present. */
static void child_text_attr(struct dnode *n, const struct xml_node *el, const char *name,
                            const char *attr)
{
	const struct xml_node *c = xml_node_child(el, name);
	char *raw, *t;

	if (!c)
		return;
	raw = xml_node_text(c);
	t = xml_trim(raw);
	dnode_set_attr(n, attr, t);
	free(raw);
	free(t);
}

static struct dnode *named(struct dnode *parent, const char *type, const struct xml_node *el)
{
	return dnode_add(parent, type, xml_node_attr_ref(el, "Name"));
}

/* ---- tag data ---- */

static void set_value(struct dnode *tag, const char *member, const char *value)
{
	if (!*member)
		dnode_set_attr(tag, "value", value);
	else
		dnode_set_attr(dnode_add(tag, "Value", member), "value", value);
}

static void leaf_value(struct dnode *tag, const struct xml_node *el, const char *member)
{
	const char *v = xml_node_attr_ref(el, "Value");
	char *raw, *t;

	if (v) {
		set_value(tag, member, v);
		return;
	}
	raw = xml_node_text(el);
	t = xml_trim(raw);
	set_value(tag, member, t);
	free(raw);
	free(t);
}

/* Cut the text in b back to its first len bytes. */
static void cut(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

/*
 * The leaves below el as Value[member] nodes; `path` holds the member path
 * so far (built in place, one buffer for the whole tag) and is left as it
 * was found.
 */
static void flatten(struct dnode *tag, const struct xml_node *el, struct buf *path, int depth)
{
	size_t base = path->len;

	if (depth > 64)
		return;
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);
		const char *name = xml_node_attr_ref(c, "Name"), *index = xml_node_attr_ref(c, "Index");

		cut(path, base);
		if (name) {
			if (base)
				(void)buf_addch(path, '.');
			(void)buf_adds(path, name);
		} else if (index) {
			(void)buf_adds(path, index);
		}
		if (!strcmp(cn, "DataValue") || !strcmp(cn, "DataValueMember")) {
			leaf_value(tag, c, buf_cstr(path));
		} else if (!strcmp(cn, "Element") && !xml_node_has_elements(c)) {
			leaf_value(tag, c, buf_cstr(path));
		} else if (!strcmp(cn, "Structure") || !strcmp(cn, "StructureMember") ||
		           !strcmp(cn, "Array") || !strcmp(cn, "ArrayMember") || !strcmp(cn, "Element")) {
			if (!strcmp(cn, "Structure") || !strcmp(cn, "Array"))
				cut(path, base);   /* a Structure or Array adds nothing to the path */
			flatten(tag, c, path, depth + 1);
		}
	}
	cut(path, base);
}

/* Data / DefaultData children: decorated data wins over the L5K copy. */
static void tag_data(struct dnode *n, const struct xml_node *el)
{
	const struct xml_node *l5k = NULL;
	bool decorated = false;

	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);
		char *fmt;

		if (strcmp(cn, "Data") && strcmp(cn, "DefaultData"))
			continue;
		fmt = xml_node_attr(c, "Format");
		if (fmt && !strcmp(fmt, "Decorated")) {
			struct buf path = BUF_INIT;

			flatten(n, c, &path, 0);
			buf_release(&path);
			decorated = true;
		} else if (fmt && !strcmp(fmt, "L5K")) {
			l5k = c;
		} else if (fmt && !strcmp(fmt, "String")) {
			{
				char *raw = xml_node_text(c), *t = xml_trim(raw);

				dnode_set_attr(n, "value", t);
				free(raw);
				free(t);
			}
		} else {
			xml_conv_element(n, c, &generic_cv);
		}
		free(fmt);
	}
	if (l5k && !decorated) {
		char *raw = xml_node_text(l5k), *t = xml_trim(raw);

		dnode_set_attr(n, "data", t);
		free(raw);
		free(t);
	}
}

static void tag(struct dnode *parent, const char *type, const struct xml_node *el)
{
	struct dnode *n = named(parent, type, el);

	copy_attrs(n, el, NULL);
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "Description")) {
			child_text_attr(n, el, cn, "description");
		} else if (!strcmp(cn, "Comments")) {
			for (const struct xml_node *k = xml_node_first(c); k; k = xml_node_next(k)) {
				char *op = xml_node_attr(k, "Operand"), *raw = xml_node_text(k), *t = xml_trim(raw);

				dnode_set_attr(dnode_add(n, "Comment", op ? op : ""), "text", t);
				free(op);
				free(raw);
				free(t);
			}
		} else if (strcmp(cn, "Data") && strcmp(cn, "DefaultData")) {
			xml_conv_element(n, c, &generic_cv);
		}
	}
	tag_data(n, el);
}

static void tags(struct dnode *parent, const struct xml_node *list, const char *type)
{
	for (const struct xml_node *c = xml_node_first(list); c; c = xml_node_next(c))
		tag(parent, type, c);
}

/* ---- routines ---- */

static void rungs(struct dnode *r, const struct xml_node *rll)
{
	r->flags |= DNODE_SEQUENCE;
	for (const struct xml_node *c = xml_node_first(rll); c; c = xml_node_next(c)) {
		struct dnode *rung;
		const struct xml_node *text;

		if (strcmp(xml_node_name(c), "Rung")) {
			xml_conv_element(r, c, &generic_cv);
			continue;
		}
		rung = dnode_add(r, "Rung", NULL);
		copy_attrs(rung, c, (const char *const[]){ "Number", NULL });
		child_text_attr(rung, c, "Comment", "comment");
		text = xml_node_child(c, "Text");
		if (text) {
			char *raw = xml_node_text(text), *t = xml_trim(raw);

			dnode_set_body(rung, t, "rung logic");
			free(raw);
			free(t);
		}
	}
}

static void st_lines(struct dnode *r, const struct xml_node *st)
{
	struct buf b = BUF_INIT;

	for (const struct xml_node *c = xml_node_first(st); c; c = xml_node_next(c)) {
		char *t;

		if (strcmp(xml_node_name(c), "Line"))
			continue;
		t = xml_node_text(c);
		(void)buf_adds(&b, t);
		(void)buf_addch(&b, '\n');
		free(t);
	}
	dnode_set_body(r, buf_cstr(&b), "ST");
	buf_release(&b);
}

/* Wires and links have no ID: name them by their ends. */
static void name_links(struct dnode *n)
{
	for (size_t i = 0; i < n->nkids; i++) {
		struct dnode *k = n->kids[i];
		const char *f = dnode_attr(k, "FromID"), *t = dnode_attr(k, "ToID");

		if (!k->name && f && t) {
			const char *fp = dnode_attr(k, "FromParam"), *tp = dnode_attr(k, "ToParam");

			char *name = xasprintf("%s%s%s->%s%s%s", f, fp ? "." : "", fp ? fp : "", t,
			                       tp ? "." : "", tp ? tp : "");

			dnode_set_name(k, name);
			free(name);
		}
		name_links(k);
	}
}

static void graphical(struct dnode *r, const struct xml_node *content)
{
	struct dnode *n = xml_conv_element(r, content, &gfx_cv);

	if (n)
		name_links(n);
}

static void routine(struct dnode *parent, const struct xml_node *el)
{
	struct dnode *r = named(parent, "Routine", el);

	copy_attrs(r, el, NULL);
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "Description"))
			child_text_attr(r, el, cn, "description");
		else if (!strcmp(cn, "RLLContent"))
			rungs(r, c);
		else if (!strcmp(cn, "STContent"))
			st_lines(r, c);
		else if (!strcmp(cn, "FBDContent") || !strcmp(cn, "SFCContent"))
			graphical(r, c);
		else
			xml_conv_element(r, c, &generic_cv);
	}
}

static void routines(struct dnode *parent, const struct xml_node *list)
{
	for (const struct xml_node *c = xml_node_first(list); c; c = xml_node_next(c))
		routine(parent, c);
}

/* ---- containers ---- */

static void program(struct dnode *parent, const struct xml_node *el)
{
	struct dnode *p = named(parent, "Program", el);

	copy_attrs(p, el, NULL);
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "Description"))
			child_text_attr(p, el, cn, "description");
		else if (!strcmp(cn, "Tags"))
			tags(p, c, "Tag");
		else if (!strcmp(cn, "Routines"))
			routines(p, c);
		else
			xml_conv_element(p, c, &generic_cv);
	}
}

static void aoi(struct dnode *parent, const struct xml_node *el)
{
	struct dnode *a = named(parent, "AddOnInstructionDefinition", el);

	copy_attrs(a, el, (const char *const[]){ "EditedDate", "SoftwareRevision", NULL });
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "Description"))
			child_text_attr(a, el, cn, "description");
		else if (!strcmp(cn, "RevisionNote"))
			child_text_attr(a, el, cn, "revision note");
		else if (!strcmp(cn, "Parameters"))
			tags(a, c, "Parameter");
		else if (!strcmp(cn, "LocalTags"))
			tags(a, c, "LocalTag");
		else if (!strcmp(cn, "Routines"))
			routines(a, c);
		else
			xml_conv_element(a, c, &generic_cv);
	}
}

static void datatype(struct dnode *parent, const struct xml_node *el)
{
	struct dnode *t = named(parent, "DataType", el);

	copy_attrs(t, el, NULL);
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "Description")) {
			child_text_attr(t, el, cn, "description");
		} else if (!strcmp(cn, "Members")) {
			for (const struct xml_node *m = xml_node_first(c); m; m = xml_node_next(m)) {
				struct dnode *mn = named(t, "Member", m);

				copy_attrs(mn, m, NULL);
				child_text_attr(mn, m, "Description", "description");
			}
		} else {
			xml_conv_element(t, c, &generic_cv);
		}
	}
}

static void task(struct dnode *parent, const struct xml_node *el)
{
	struct dnode *t = named(parent, "Task", el);

	copy_attrs(t, el, NULL);
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "Description"))
			child_text_attr(t, el, cn, "description");
		else if (!strcmp(cn, "ScheduledPrograms"))
			for (const struct xml_node *s = xml_node_first(c); s; s = xml_node_next(s))
				named(t, "ScheduledProgram", s);
		else
			xml_conv_element(t, c, &generic_cv);
	}
}

/* Each child of a list element (DataTypes, Programs, ...) through `fn`. */
static void each(struct dnode *parent, const struct xml_node *list,
                 void (*fn)(struct dnode *, const struct xml_node *))
{
	for (const struct xml_node *c = xml_node_first(list); c; c = xml_node_next(c))
		fn(parent, c);
}

static void module(struct dnode *parent, const struct xml_node *el)
{
	xml_conv_element(parent, el, &generic_cv);
}

static void controller(struct dnode *root, const struct xml_node *el)
{
	copy_attrs(root, el, (const char *const[]){ "LastModifiedDate", NULL });
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "Description"))
			child_text_attr(root, el, cn, "description");
		else if (!strcmp(cn, "DataTypes"))
			each(root, c, datatype);
		else if (!strcmp(cn, "Modules"))
			each(root, c, module);
		else if (!strcmp(cn, "AddOnInstructionDefinitions"))
			each(root, c, aoi);
		else if (!strcmp(cn, "Tags"))
			tags(root, c, "Tag");
		else if (!strcmp(cn, "Programs"))
			each(root, c, program);
		else if (!strcmp(cn, "Tasks"))
			each(root, c, task);
		else
			xml_conv_element(root, c, &generic_cv);
	}
}

/*
 * The objects are built while the document streams by: each child of a
 * Controller list (a DataType, a Program, a Tag...) and each other child of
 * the Controller is converted as it closes and given back to the reader, so
 * the XML of the whole export is never held at once.  The result is the
 * tree controller() would build from the whole document: the same calls on
 * the same elements, in document order.
 */
struct l5x_stream {
	struct dnode *root;
	bool description;          /* the Controller's first Description is read */
	void (*consumed)(void *ctx, size_t upto);   /* the caller's, or NULL */
	void *consumed_ctx;
};

static bool is_list(const char *name)
{
	return !strcmp(name, "DataTypes") || !strcmp(name, "Modules") ||
	       !strcmp(name, "AddOnInstructionDefinitions") || !strcmp(name, "Tags") ||
	       !strcmp(name, "Programs") || !strcmp(name, "Tasks");
}

/* The tree's root, from the document's root and its Controller, made once. */
static struct dnode *l5x_root(struct l5x_stream *st, const struct xml_node *top,
                              const struct xml_node *ctl)
{
	if (!st->root) {
		st->root = dnode_new("Controller", ctl ? xml_node_attr_ref(ctl, "Name") : NULL);
		copy_attrs(st->root, top, (const char *const[]){ "ExportDate", "SoftwareRevision",
		                                                 "ExportOptions", NULL });
		if (ctl)
			copy_attrs(st->root, ctl, (const char *const[]){ "LastModifiedDate", NULL });
	}
	return st->root;
}

static bool l5x_on_close(void *ctx, const struct xml_node *const *path, size_t depth)
{
	struct l5x_stream *st = ctx;
	const struct xml_node *top = path[0], *ctl = path[1], *el = path[depth - 1];
	const char *list, *name;
	struct dnode *root;

	if ((depth != 3 && depth != 4) || strcmp(xml_node_name(top), "RSLogix5000Content") ||
	    xml_node_child(top, "Controller") != ctl)
		return false;
	root = l5x_root(st, top, ctl);
	if (depth == 4) {
		list = xml_node_name(path[2]);
		if (!is_list(list))
			return false;   /* converted with its parent */
		if (!strcmp(list, "DataTypes"))
			datatype(root, el);
		else if (!strcmp(list, "Modules"))
			module(root, el);
		else if (!strcmp(list, "AddOnInstructionDefinitions"))
			aoi(root, el);
		else if (!strcmp(list, "Tags"))
			tag(root, "Tag", el);
		else if (!strcmp(list, "Programs"))
			program(root, el);
		else
			task(root, el);
		return true;
	}
	name = xml_node_name(el);
	if (is_list(name))
		return true;   /* its children are converted already */
	if (!strcmp(name, "Description")) {
		/* controller() reads the first Description, however many there are */
		if (!st->description) {
			char *raw = xml_node_text(el), *t = xml_trim(raw);

			dnode_set_attr(root, "description", t);
			free(raw);
			free(t);
			st->description = true;
		}
		return true;
	}
	xml_conv_element(root, el, &generic_cv);
	return true;
}

static void l5x_on_restart(void *ctx)
{
	struct l5x_stream *st = ctx;

	dnode_free(st->root);
	st->root = NULL;
	st->description = false;
}

static void l5x_on_consumed(void *ctx, size_t upto)
{
	struct l5x_stream *st = ctx;

	st->consumed(st->consumed_ctx, upto);
}

static int l5x_parse_consumed(struct dnode **out, const char *text, size_t len,
                              void (*consumed)(void *ctx, size_t upto), void *ctx)
{
	struct xml_doc *doc = NULL;
	const struct xml_node *top, *ctl;
	struct l5x_stream st = { NULL, false, consumed, ctx };
	const struct xml_stream stream = { l5x_on_close, l5x_on_restart,
	                                   consumed ? l5x_on_consumed : NULL, &st };
	int rc;

	*out = NULL;
	if ((rc = xml_doc_parse_stream(&doc, text, len, &stream)))
		goto out;
	top = xml_doc_root(doc);
	if (strcmp(xml_node_name(top), "RSLogix5000Content")) {
		rc = err_set(OTCM_EINVAL, NULL, "root element is '%s', not 'RSLogix5000Content'",
		             xml_node_name(top));
		goto out;
	}
	ctl = xml_node_child(top, "Controller");
	if (!st.root) {
		/* nothing streamed (a Controller without children, or none) */
		l5x_root(&st, top, ctl);
		if (ctl)
			controller(st.root, ctl);
	}
	*out = st.root;
	st.root = NULL;
out:
	dnode_free(st.root);
	xml_doc_free(doc);
	return rc;
}

static int l5x_parse(struct dnode **out, const char *text, size_t len)
{
	return l5x_parse_consumed(out, text, len, NULL, NULL);
}

const struct diff_format diff_fmt_l5x = {
	.name = "l5x",
	.description = "Rockwell Studio 5000 L5X export",
	.detect = l5x_detect,
	.parse = l5x_parse,
	.parse_consumed = l5x_parse_consumed,
};
