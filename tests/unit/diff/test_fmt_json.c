/*
 * tests/unit/diff/test_fmt_json.c - JSON: a real Ignition Perspective view
 * (components by meta.name), a Node-RED flow (nodes by id), a recipe
 * (parameters by name with numeric deltas), positional arrays, depth and
 * size.
 */
#include "tests/unit/diff/fmt_testutil.h"

#define VIEW "hmi/design-group__ignition-lint/tests/cases/LineDashboard/view.json"

static void perspective_view(void **state)
{
	size_t len;
	char *text = corpus_read(VIEW, &len);
	struct dnode *t = NULL;

	assert_int_equal(diff_fmt_json.detect(text, len), 90);
	assert_int_equal(diff_fmt_json.parse(&t, text, len), 0);
	assert_string_equal(t->type, "Document");
	expect_attr(t, "root.children[Header]", "meta.name", "Header");
	must(t, "root.children[Header]/children[FlexContainer]/children[Left Labels]/children[Name]");
	expect_attr(t, "root.children[Header]/children[FlexContainer]", "type", "ia.container.flex");
	dnode_free(t);
	free(text);
}

static void perspective_edit(void **state)
{
	/* the first "direction": "column" of the file is in Header/FlexContainer/Left Labels */
	const char *const exp[] = {
		"modified root.children[Header]/children[FlexContainer]/children[Left Labels] | props.direction", NULL
	};
	json_t *r = mutate(VIEW, "\"direction\": \"column\"", "\"direction\": \"row\"", exp);

	expect_values(r, exp[0], "column", "row");
	json_decref(r);
}

static const char flow[] =
	"[{\"id\":\"t1\",\"type\":\"tab\",\"label\":\"Line 1\"},"
	"{\"id\":\"n1\",\"type\":\"inject\",\"z\":\"t1\",\"name\":\"tick\",\"repeat\":\"5\",\"wires\":[[\"n2\"]]},"
	"{\"id\":\"n2\",\"type\":\"debug\",\"z\":\"t1\",\"active\":true,\"wires\":[]}]";

static void node_red_flow(void **state)
{
	struct dnode *t;
	char *b;
	json_t *r;
	const char *const exp[] = {
		"modified node[n1] | repeat",
		"modified node[n2] | active",
		NULL
	};

	assert_int_equal(diff_fmt_json.detect(flow, strlen(flow)), 90);
	t = parse_ok(&diff_fmt_json, flow);
	expect_kids(t, "", "node[t1], node[n1], node[n2]");
	expect_attr(t, "node[n1]", "type", "inject");
	expect_attr(t, "node[n1]", "wires", "[[\"n2\"]]");
	expect_attr(t, "node[n2]", "active", "true");
	expect_attr(t, "node[n2]", "wires", "[]");
	dnode_free(t);
	b = replace_once(flow, "\"repeat\":\"5\"", "\"repeat\":\"10\"");
	{
		char *c = replace_once(b, "\"active\":true", "\"active\":false");

		r = diff_json("flows.json", flow, c);
		free(c);
	}
	expect_changes(r, exp);
	json_decref(r);
	free(b);
}

static void recipe(void **state)
{
	static const char a[] =
		"{\"recipe\":\"Syrup\",\"version\":3,\"parameters\":["
		"{\"name\":\"Temp\",\"value\":80,\"unit\":\"degC\"},"
		"{\"name\":\"Time\",\"value\":30.5,\"unit\":\"min\"}],"
		"\"steps\":[{\"op\":\"heat\"},{\"op\":\"mix\"}]}";
	static const char b[] =
		"{\"recipe\":\"Syrup\",\"version\":4,\"parameters\":["
		"{\"name\":\"Time\",\"value\":30.5,\"unit\":\"min\"},"
		"{\"name\":\"Temp\",\"value\":85,\"unit\":\"degC\"}],"
		"\"steps\":[{\"op\":\"heat\"},{\"op\":\"cool\"},{\"op\":\"mix\"}]}";
	const char *const exp[] = {
		"modified Document | version",
		"modified parameters[Temp] | value",
		"added steps/item[1] | item",
		NULL
	};
	struct dnode *t = parse_ok(&diff_fmt_json, a);
	json_t *r;

	expect_attr(t, "", "recipe", "Syrup");
	expect_attr(t, "parameters[Time]", "value", "30.5");
	expect_attr(t, "parameters[Time]", "unit", "min");
	assert_true(must(t, "steps")->flags & DNODE_SEQUENCE);
	dnode_free(t);
	r = diff_json("recipe.json", a, b);
	expect_changes(r, exp);
	assert_true(json_real_value(json_object_get(change_at(r, exp[1]), "delta")) == 5.0);
	json_decref(r);
}

static void deep_and_large(void **state)
{
	struct buf b = BUF_INIT;
	struct dnode *t;
	size_t i;

	/* nesting far past the cap is kept as compact JSON, not recursed into */
	for (i = 0; i < 500; i++)
		buf_adds(&b, "{\"a\":[");
	buf_adds(&b, "1");
	for (i = 0; i < 500; i++)
		buf_adds(&b, "]}");
	t = parse_ok(&diff_fmt_json, buf_cstr(&b));
	dnode_free(t);
	/* half a megabyte on one line */
	buf_reset(&b);
	buf_adds(&b, "[");
	for (i = 0; i < 8000; i++)
		buf_addf(&b, "%s{\"id\":\"n%zu\",\"type\":\"function\",\"func\":\"return msg;\",\"x\":%zu}",
		         i ? "," : "", i, i);
	buf_adds(&b, "]");
	assert_true(b.len > 490000);
	t = parse_ok(&diff_fmt_json, buf_cstr(&b));
	assert_int_equal(t->nkids, 8000);
	dnode_free(t);
	buf_release(&b);
}

static void not_json(void **state)
{
	static const char pragma[] = "{attribute 'hide'}\nPROGRAM p\nEND_PROGRAM\n";
	struct dnode *t = NULL;

	assert_int_equal(diff_fmt_json.detect(pragma, strlen(pragma)), 0);
	assert_int_equal(diff_fmt_json.parse(&t, pragma, strlen(pragma)), OTCM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(perspective_view),
		cmocka_unit_test(perspective_edit),
		cmocka_unit_test(node_red_flow),
		cmocka_unit_test(recipe),
		cmocka_unit_test(deep_and_large),
		cmocka_unit_test(not_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
