/*
 * tests/unit/diff/test_diff_xml.c - the XML reader (diff/xml.c) read
 * through its API: text, CDATA, character and entity references,
 * namespaces, comments and mixed content in a document without a DOCTYPE
 * (the SAX path) and with one (libxml2's tree, copied); the pooled object
 * tree's ownership rules (diff/node.c); and the decoder's fast path on
 * every position of a CR, a NUL or a multi-byte character in a word; and
 * the fast reader of the plain subset (diff/xml_scan.c) against libxml2:
 * on documents in the subset it must read what libxml2 reads, outside it
 * it must give up, and on every corpus file it does one or the other.
 */
#include "tests/unit/diff/diff_testutil.h"

#include "core/err.h"
#include "diff/model.h"
#include "diff/xml.h"

static const struct xml_node *child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = xml_node_child(n, name);

	assert_non_null(c);
	return c;
}

static void expect_attr(const struct xml_node *n, const char *name, const char *want)
{
	char *v = xml_node_attr(n, name);

	if (!want) {
		assert_null(v);
		assert_null(xml_node_attr_ref(n, name));
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	assert_string_equal(xml_node_attr_ref(n, name), want);
	free(v);
}

static void expect_text(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static const char plain_doc[] =
	"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
	"<root a=\"x &amp; y &lt; z &#38; &#x41; &quot;q&quot;\" b=\"plain\">\n"
	"  <!-- a comment -->\n"
	"  <?pi x?>\n"
	"  <Item Name=\"one\">hello &amp; &lt;world&gt; &#65;<![CDATA[ raw <b> & ]]> tail</Item>\n"
	"  <n:x xmlns:n=\"urn:n\" n:at=\"v\">t</n:x>\n"
	"  <Mixed>a<b>inner</b>c</Mixed>\n"
	"  <Amp v=\"&amp;#38;\"/>\n"
	"</root>\n";

/* Without a DOCTYPE: references resolved, CDATA kept, comments and PIs skipped. */
static void plain_document(void **state)
{
	struct xml_doc *d = NULL;
	const struct xml_node *root, *x, *mixed;
	const struct xml_attr *a;

	assert_int_equal(xml_doc_parse(&d, plain_doc, sizeof(plain_doc) - 1), 0);
	root = xml_doc_root(d);
	assert_string_equal(xml_node_name(root), "root");
	assert_null(xml_node_ns(root));
	expect_attr(root, "a", "x & y < z & A \"q\"");
	expect_attr(root, "b", "plain");
	expect_attr(root, "missing", NULL);
	a = xml_attr_first(root);
	assert_string_equal(xml_attr_name(a), "a");
	a = xml_attr_next(a);
	assert_string_equal(xml_attr_name(a), "b");
	assert_string_equal(xml_attr_value_ref(a), "plain");
	assert_null(xml_attr_next(a));

	expect_text(xml_node_text(child(root, "Item")), "hello & <world> A raw <b> &  tail");
	x = child(root, "x");
	assert_string_equal(xml_node_ns(x), "urn:n");
	expect_attr(x, "at", "v");
	mixed = child(root, "Mixed");
	assert_true(xml_node_has_elements(mixed));
	expect_text(xml_node_text(mixed), "ainnerc");
	expect_text(xml_node_own_text(mixed), "ac");
	expect_attr(child(root, "Amp"), "v", "&#38;");
	/* the text between the elements is kept, the comment and the PI are not */
	expect_text(xml_node_own_text(root), "\n  \n  \n  \n  \n  \n  \n");
	assert_false(xml_node_has_elements(child(root, "Item")));
	xml_doc_free(d);
}

static const char doctype_doc[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE root [<!ENTITY e \"expanded\"><!ATTLIST Item def CDATA \"dflt\">]>\n"
	"<root a=\"&e; x &amp; y\">\n"
	"  <Item Name=\"one\">hello &e; &amp; <![CDATA[<c>]]></Item>\n"
	"</root>\n";

/* With a DOCTYPE: declared entities stay literal references, defaults are not applied. */
static void doctype_document(void **state)
{
	struct xml_doc *d = NULL;
	const struct xml_node *root, *item;

	assert_int_equal(xml_doc_parse(&d, doctype_doc, sizeof(doctype_doc) - 1), 0);
	root = xml_doc_root(d);
	expect_attr(root, "a", "&e; x & y");
	item = child(root, "Item");
	expect_text(xml_node_text(item), "hello &e; & <c>");
	expect_attr(item, "Name", "one");
	expect_attr(item, "def", NULL);
	xml_doc_free(d);
}

/* Errors are the parser's, with the line, on either path. */
static void errors(void **state)
{
	static const char *const bad[] = {
		"<root><a></b></root>",
		"<?xml version=\"1.0\"?>\n<root>&undeclared;</root>",
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r>\n<r><a></r>",
		"<!-- only a comment -->",
		NULL,
	};
	struct xml_doc *d = NULL;

	for (const char *const *b = bad; *b; b++) {
		assert_int_not_equal(xml_doc_parse(&d, *b, strlen(*b)), 0);
		assert_null(d);
		assert_non_null(strstr(err_message(), "xml"));
	}
	assert_int_equal(xml_doc_parse(&d, bad[1], strlen(bad[1])), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "xml line 2: Entity 'undeclared' not defined"));
}

/* Depth is capped the same way with and without a DOCTYPE. */
static void depth_cap_on_both_paths(void **state)
{
	for (int doctype = 0; doctype < 2; doctype++) {
		for (int depth = XML_MAX_DEPTH - 1; depth <= XML_MAX_DEPTH + 1; depth++) {
			struct buf b = BUF_INIT;
			struct xml_doc *d = NULL;
			int rc;

			if (doctype)
				buf_adds(&b, "<!DOCTYPE e>");
			for (int i = 0; i < depth; i++)
				buf_adds(&b, "<e>");
			for (int i = 0; i < depth; i++)
				buf_adds(&b, "</e>");
			rc = xml_doc_parse(&d, buf_cstr(&b), b.len);
			if (depth <= XML_MAX_DEPTH) {
				assert_int_equal(rc, 0);
				xml_doc_free(d);
			} else {
				assert_int_not_equal(rc, 0);
				assert_null(d);
			}
			buf_release(&b);
		}
	}
}

static bool keep_named(const struct dnode *kid)
{
	return kid->name != NULL;
}

/* A tree's memory is its root's: detach, adopt and filter keep every node valid. */
static void pooled_trees(void **state)
{
	struct dnode *holder = dnode_new("", NULL), *kid, *other, *leaf;

	kid = dnode_add(holder, "Program", "Main");
	dnode_set_attr(kid, "Class", "Standard");
	dnode_set_attr(kid, "Class", "Safety");   /* replaced, not added */
	dnode_add(holder, "Program", "Second");
	kid = dnode_detach(holder, 0);
	assert_int_equal(holder->nkids, 1);
	assert_string_equal(holder->kids[0]->name, "Second");
	dnode_free(holder);                         /* the detached tree lives on */
	assert_string_equal(kid->type, "Program");
	assert_int_equal(kid->nattrs, 1);
	assert_string_equal(dnode_attr(kid, "Class"), "Safety");

	other = dnode_new("File", NULL);
	leaf = dnode_add(other, "Member", "a.st");
	dnode_set_nest_path(other, "inner/a.st");
	dnode_adopt(kid, other);                    /* kid's tree now owns other's pool */
	dnode_free(other);                          /* no longer a root: nothing happens */
	assert_string_equal(kid->kids[0]->nest_path, "inner/a.st");
	assert_ptr_equal(kid->kids[0]->kids[0], leaf);

	for (int i = 0; i < 100; i++) {
		struct dnode *r = dnode_add(kid, "Rung", NULL);

		if (i % 3 == 0)
			dnode_set_name(r, "kept");
	}
	dnode_filter(kid, keep_named);              /* other is nameless: it goes too */
	assert_int_equal(kid->nkids, 34);
	for (size_t i = 0; i < kid->nkids; i++)
		assert_string_equal(kid->kids[i]->name, "kept");
	dnode_replace_attr(kid, 0, "version", "1.2");
	assert_string_equal(kid->attrs[0].name, "version");
	assert_null(dnode_attr(kid, "Class"));
	assert_null(dnode_detach(kid, kid->nkids));
	dnode_free(kid);
	dnode_free(NULL);
}

/* The fast path agrees with the full decoder wherever the odd byte falls in a word. */
static void decode_fast_path(void **state)
{
	static const char *const odd[] = { "\r", "\r\n", "\0", "\xc3\xa9", "\xe2\x82\xac", "\xe9", "\xc3" };
	static const char *const want[] = { "\n", "\n", "\xef\xbf\xbd", "\xc3\xa9", "\xe2\x82\xac",
	                                    "\xc3\xa9", "\xc3\x83" };

	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
		size_t olen = k == 2 ? 1 : strlen(odd[k]);

		for (size_t pos = 0; pos < 20; pos++) {
			char in[64], exp[64];
			struct buf b = BUF_INIT;
			const char *enc;
			bool bin;

			memset(in, 'a', pos);
			memcpy(in + pos, odd[k], olen);
			memset(in + pos + olen, 'z', 9);
			memset(exp, 'a', pos);
			memcpy(exp + pos, want[k], strlen(want[k]));
			memset(exp + pos + strlen(want[k]), 'z', 9);
			exp[pos + strlen(want[k]) + 9] = '\0';
			assert_int_equal(diff_decode(&b, in, pos + olen + 9, &enc, &bin), 0);
			assert_string_equal(buf_cstr(&b), exp);
			assert_int_equal(bin, k == 2);
			assert_string_equal(enc, k >= 5 ? "latin-1" : "utf-8");
			buf_release(&b);
		}
	}
}

/*
 * Read `text` with the fast reader and with libxml2 alone: when the fast
 * reader accepts it, libxml2 accepts it too and both documents are the same;
 * the automatic choice always ends as libxml2 alone does.  Returns whether
 * the fast reader accepted it.
 */
static bool same_reading(const char *text, size_t len)
{
	struct xml_doc *fast = NULL, *lx = NULL, *any = NULL;
	struct buf a = BUF_INIT, b = BUF_INIT;
	char *lx_msg;
	int rf, rl, ra;

	rl = xml_doc_parse_with(&lx, text, len, NULL, XML_READER_LIBXML2);
	lx_msg = xstrdup(err_message());
	rf = xml_doc_parse_with(&fast, text, len, NULL, XML_READER_SCAN);
	ra = xml_doc_parse_with(&any, text, len, NULL, XML_READER_AUTO);
	assert_int_equal(ra, rl);
	if (rl) {
		assert_string_equal(err_message(), lx_msg);
		assert_int_not_equal(rf, 0);
	} else {
		(void)xml_doc_dump(&b, lx);
		(void)xml_doc_dump(&a, any);
		assert_string_equal(buf_cstr(&a), buf_cstr(&b));
	}
	if (!rf) {
		buf_reset(&a);
		(void)xml_doc_dump(&a, fast);
		assert_string_equal(buf_cstr(&a), buf_cstr(&b));
	} else if (rl || rf != OTCM_EMEDIA) {
		assert_int_equal(rf, rl ? rf : OTCM_EMEDIA);
	}
	xml_doc_free(fast);
	xml_doc_free(lx);
	xml_doc_free(any);
	buf_release(&a);
	buf_release(&b);
	free(lx_msg);
	return rf == 0;
}

/* The fast reader reads the plain subset exactly as libxml2 does. */
static void fast_reader_subset(void **state)
{
	static const char *const docs[] = {
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
		"<r a=\"x &amp; y &lt; &#38; &#x41; &quot;q&quot; &apos;\" b='it\"s' "
		"c=\"tab\there\nnl &#9;&#10;\"><!-- c --><i>t &amp; <![CDATA[ <raw> & ]]> \xc3\xa9 "
		"\xe2\x82\xac \xf0\x9d\x84\x9e</i><e/><m>a<b>in</b>c</m></r>\n<!-- tail -->\n",
		"<r>&#13;&#x10FFFF;&#0065;&gt;]&gt;]]</r>",
		"<r x = \"1\" y='2' ></r >",
		"<r><!----></r>",
		"<?xml version='1.0' encoding='utf-8'?><r a=\"&amp;#38;\" b=\"&#38;#38;\"/>",
		"<R-1._x><_a/></R-1._x>",
		"\n<!-- before -->\n<r/>",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		assert_true(same_reading(docs[i], strlen(docs[i])));
}

/* Outside the subset (or not well-formed) the fast reader gives up, and libxml2 says why. */
static void fast_reader_gives_up(void **state)
{
	static const char *const docs[] = {
		"<root><a></b></root>", "<r>&undeclared;</r>", "<!DOCTYPE r><r/>", "<?pi?><r/>",
		"<r><?pi x?></r>", "<n:x xmlns:n=\"urn:n\"/>", "<r xmlns=\"u\"/>",
		"<r a=\"1\" a=\"2\"/>", "<r a=\"1\"b=\"2\"/>", "<r a=\"<\"/>", "<r>]]></r>",
		"<r>\x01</r>", "<r>\xef\xbf\xbe</r>", "<r>\xc3</r>", "<r><!-- a -- b --></r>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>\xc3\xa9</r>",
		"<?xml version=\"1.1\"?><r/>", "<r/>x", "<r/><r/>", "", "  ", "<r>&#0;</r>",
		"<r>&#xD800;</r>", "<r>\r\n</r>", "<r a='\r'/>", "<\xc3\xa9/>", "<r>", "<r></r",
		"<r attr></r>", "<r>&#X41;</r>", "<r>&amp</r>", "<?xml version=\"1.0\"?>",
		"<?xml version=\"1.0\"standalone=\"yes\"?><r/>", "<r><![CDATA[x]]</r>",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		assert_false(same_reading(docs[i], strlen(docs[i])));
}

/*
 * Every text file of the corpus, decoded as the engine decodes it: the two
 * readers agree, and every L5X export is read by the fast one.
 */
static void fast_reader_corpus(void **state)
{
	size_t len, files = 0, fast = 0;
	char *tsv = corpus_read("HISTORY.tsv", &len), *save = NULL, *line, *prev = NULL;

	for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *local = strchr(line, '\t'), *end;
		struct buf text = BUF_INIT;
		const char *enc;
		bool binary, scanned;
		char *data;
		size_t dlen;

		if (!local || !(local = strchr(local + 1, '\t')))
			continue;
		local++;
		if ((end = strchr(local, '\t')))
			*end = '\0';
		if (!strcmp(local, "local_path") || (prev && !strcmp(prev, local)))
			continue;
		prev = local;
		data = corpus_read(local, &dlen);
		assert_int_equal(diff_decode(&text, data, dlen, &enc, &binary), 0);
		if (!binary) {
			scanned = same_reading(buf_cstr(&text), text.len);
			files++;
			fast += scanned;
			len = strlen(local);
			if (len > 4 && !strcasecmp(local + len - 4, ".L5X") && !scanned)
				fail_msg("the fast reader gave up on the L5X export %s", local);
		}
		buf_release(&text);
		free(data);
	}
	printf("fast reader: %zu of %zu corpus files\n", fast, files);
	assert_true(fast > 0);
	free(tsv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_document),
		cmocka_unit_test(doctype_document),
		cmocka_unit_test(errors),
		cmocka_unit_test(depth_cap_on_both_paths),
		cmocka_unit_test(pooled_trees),
		cmocka_unit_test(decode_fast_path),
		cmocka_unit_test(fast_reader_subset),
		cmocka_unit_test(fast_reader_gives_up),
		cmocka_unit_test(fast_reader_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
