/*
 * tests/unit/diff/test_diff_tcproj.c - TwinCAT project files on real
 * corpus files: the system manager (.tsproj, .xti) reported by name in the
 * reviewer's terms (terminal replaced, link added and removed, cycle time
 * of a task), the PLC project's library versions, and the whole .tsproj
 * history keyed by identity rather than by position, without moves.
 */
#include <regex.h>

#include "tests/unit/diff/diff_testutil.h"

#define KFE "twincat/pcdshub__lcls-plc-kfe-vac/plc/plc-kfe-vac/"
#define TSPROJ KFE "plc-kfe-vac@adda6759.tsproj"
#define PLCPROJ KFE "plc_kfe_vac/plc_kfe_vac@d71a1127.plcproj"
#define XTI "twincat/tcunit__TcUnit/TcUnit/_Config/PLC/TcUnit.xti"
#define TMC "twincat/pcdshub__lcls-twincat-general/LCLSGeneral/GlobalEvents.tmc"

#define BOX "Project/Io/Device[Device 1 (EtherCAT)]/Box[=+-EK1200_00_00]/Box[=+-ES3064_00_01]"

static void format_is_detected(void **state)
{
	const char *files[][2] = { { TSPROJ, "tcsm" }, { XTI, "tcsm" }, { PLCPROJ, "plcproj" },
	                           { TMC, "tmc" } };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *a = corpus_read(files[i][0], NULL);
		json_t *r = diff_json(files[i][0], a, a);

		assert_string_equal(json_string_value(json_object_get(r, "format")), files[i][1]);
		assert_true(json_is_true(json_object_get(json_object_get(r, "parsed"), "new")));
		assert_int_equal(json_array_size(json_object_get(r, "changes")), 0);
		json_decref(r);
		free(a);
	}
}

static void terminal_replaced(void **state)
{
	const char *const exp[] = {
		"modified " BOX " | terminal",
		"modified " BOX " | description",
		"modified " BOX " | product code",
		"modified " BOX " | revision",
		NULL,
	};
	json_t *r = mutate(TSPROJ,
	                   "ProductCode=\"#x0bf83052\" RevisionNo=\"#x00140000\" InfoDataAddr=\"true\" "
	                   "TimeoutMailbox2=\"2000\" CheckRevisionNoType=\"3\" PortPhys=\"51\" "
	                   "MaxSlotCount=\"256\" MaxSlotGroupCount=\"1\" SlotPdoIncrement=\"1\" "
	                   "SlotIndexIncrement=\"16\" Type=\"EL3064 4Ch. Ana. Input 0-10V\" Desc=\"EL3064\"",
	                   "ProductCode=\"#x0be63052\" RevisionNo=\"#x00150000\" InfoDataAddr=\"true\" "
	                   "TimeoutMailbox2=\"2000\" CheckRevisionNoType=\"3\" PortPhys=\"51\" "
	                   "MaxSlotCount=\"256\" MaxSlotGroupCount=\"1\" SlotPdoIncrement=\"1\" "
	                   "SlotIndexIncrement=\"16\" Type=\"EL3046 4Ch. Ana. Input 0-20mA\" Desc=\"EL3046\"",
	                   exp);

	expect_values(r, exp[0], "EL3064", "EL3046");
	expect_values(r, exp[3], "#x00140000", "#x00150000");
	json_decref(r);
}

#define OWNER_B "<OwnerB Name=\"TIID^Device 1 (EtherCAT)^=+-EK1100_01_00^=+-ES3068_01_01\">"

static void link_added(void **state)
{
	const char *const exp[] = {
		"added Mappings/Link[plc_kfe_vac^plc_kfe_vac Instance^PlcTask Inputs^"
		"GVL_SXR_VAC.fb_TV3L0_GCC_01.i_iPRESS_R <-> Device 1 (EtherCAT)^=+-EK1100_01_00^"
		"=+-ES3068_01_01^AI Standard Channel 2^Value] | Link",
		NULL,
	};

	json_decref(mutate(TSPROJ, OWNER_B,
	                   OWNER_B "\n<Link VarA=\"PlcTask Inputs^GVL_SXR_VAC.fb_TV3L0_GCC_01.i_iPRESS_R\" "
	                   "VarB=\"AI Standard Channel 2^Value\"/>", exp));
}

#define PA1K0 "<Link VarA=\"PlcTask Outputs^GVL_SXR_VAC.fb_PA1K0_GCC_1.q_xHV_DIS\" " \
	"VarB=\"Channel 4^GVL_SXR_VAC.fb_PA1K0_GCC_1.q_xHV_DIS\"/>"

static void link_removed(void **state)
{
	const char *const exp[] = {
		"removed Mappings/Link[plc_kfe_vac^plc_kfe_vac Instance^PlcTask Outputs^"
		"GVL_SXR_VAC.fb_PA1K0_GCC_1.q_xHV_DIS <-> Device 1 (EtherCAT)^=+-EK1100_01_00^"
		"=+-EL2798_01_06^Channel 4^GVL_SXR_VAC.fb_PA1K0_GCC_1.q_xHV_DIS] | Link",
		NULL,
	};

	json_decref(mutate(TSPROJ, PA1K0, "", exp));
}

/* Links are keyed by their two ends: their order in the file is not a change. */
static void link_order_is_noise(void **state)
{
	const char *const none[] = { NULL };
	char *orig = corpus_read(TSPROJ, NULL), *cut = replace_once(orig, PA1K0, "");
	char *moved = replace_once(cut, "<OwnerB Name=\"TIID^Device 1 (EtherCAT)^=+-EK1100_01_00^=+-EL2798_01_06\">",
	                           "<OwnerB Name=\"TIID^Device 1 (EtherCAT)^=+-EK1100_01_00^=+-EL2798_01_06\">"
	                           PA1K0);
	json_t *r = diff_json(TSPROJ, orig, moved);

	expect_changes(r, none);
	json_decref(r);
	free(orig);
	free(cut);
	free(moved);
}

static void task_cycle_time_changed(void **state)
{
	const char *const exp[] = {
		"modified Project/System/Tasks/Task[FSV_task] | cycle time",
		"modified Project/System/Tasks/Task[FSV_task] | priority",
		NULL,
	};
	json_t *r = mutate(TSPROJ, "<Task Id=\"5\" Priority=\"13\" CycleTime=\"10000\"",
	                   "<Task Id=\"5\" Priority=\"12\" CycleTime=\"5000\"", exp);

	expect_values(r, exp[0], "1 ms", "500 us");
	expect_values(r, exp[1], "13", "12");
	json_decref(r);
}

/* A data type's list of former versions is rewritten on each edit: noise. */
static void type_history_is_noise(void **state)
{
	const char *const exp[] = { "modified Project/System/Tasks/Task[FSV_task] | priority", NULL };
	char *orig = corpus_read(TSPROJ, NULL);
	char *noise = replace_once(orig, "<Hide GUID=\"{76269EAC-36F0-4513-B811-3725FD02409A}\"/>",
	                           "<Hide GUID=\"{76269EAC-36F0-4513-B811-3725FD02409A}\"/>"
	                           "<Hide GUID=\"{00000000-1111-2222-3333-444444444444}\"/>");
	char *edit = replace_once(noise, "<Task Id=\"5\" Priority=\"13\"", "<Task Id=\"5\" Priority=\"12\"");
	const char *const none[] = { NULL };
	json_t *r = diff_json(TSPROJ, orig, noise);

	expect_changes(r, none);
	json_decref(r);
	r = diff_json(TSPROJ, orig, edit);
	expect_changes(r, exp);
	json_decref(r);
	free(orig);
	free(noise);
	free(edit);
}

static void xti_ams_port_changed(void **state)
{
	const char *const exp[] = { "modified Project[TcUnit] | AmsPort", NULL };

	json_decref(mutate(XTI, "AmsPort=\"851\"", "AmsPort=\"852\"", exp));
}

static void library_version_changed(void **state)
{
	const char *const exp[] = { "modified PlaceholderReference[Tc2_Standard] | version", NULL };
	json_t *r = mutate(PLCPROJ, "<DefaultResolution>Tc2_Standard, * (Beckhoff Automation GmbH)",
	                   "<DefaultResolution>Tc2_Standard, 3.3.5.0 (Beckhoff Automation GmbH)", exp);

	expect_values(r, exp[0], "* (Beckhoff Automation GmbH)", "3.3.5.0 (Beckhoff Automation GmbH)");
	json_decref(r);
}

static void project_file_added(void **state)
{
	const char *const exp[] = { "added Compile[POUs\\FB_New.TcPOU] | Compile", NULL };

	json_decref(mutate(PLCPROJ, "<Compile Include=\"POUs\\MAIN.TcPOU\">",
	                   "<Compile Include=\"POUs\\FB_New.TcPOU\" />\n"
	                   "<Compile Include=\"POUs\\MAIN.TcPOU\">", exp));
}

/* A solution as TwinCAT 3 writes it (hand-made: the corpus has none). */
static const char sln[] =
	"\xEF\xBB\xBF\r\n"
	"Microsoft Visual Studio Solution File, Format Version 12.00\r\n"
	"# Visual Studio Version 16\r\n"
	"VisualStudioVersion = 16.0.30804.86\r\n"
	"MinimumVisualStudioVersion = 10.0.40219.1\r\n"
	"Project(\"{B1E792BE-AA5F-4E3C-8C82-674BF9C0715B}\") = \"plc-kfe-vac\", \"plc-kfe-vac\\plc-kfe-vac.tsproj\", \"{D506BFD8-175F-4629-91DD-60162F5FC524}\"\r\n"
	"EndProject\r\n"
	"Global\r\n"
	"\tGlobalSection(SolutionConfigurationPlatforms) = preSolution\r\n"
	"\t\tDebug|TwinCAT RT (x64) = Debug|TwinCAT RT (x64)\r\n"
	"\t\tRelease|TwinCAT RT (x64) = Release|TwinCAT RT (x64)\r\n"
	"\tEndGlobalSection\r\n"
	"\tGlobalSection(ProjectConfigurationPlatforms) = postSolution\r\n"
	"\t\t{D506BFD8-175F-4629-91DD-60162F5FC524}.Debug|TwinCAT RT (x64).ActiveCfg = Debug|TwinCAT RT (x64)\r\n"
	"\t\t{D506BFD8-175F-4629-91DD-60162F5FC524}.Debug|TwinCAT RT (x64).Build.0 = Debug|TwinCAT RT (x64)\r\n"
	"\tEndGlobalSection\r\n"
	"EndGlobal\r\n";

static void solution_projects_and_configurations(void **state)
{
	const char *const exp[] = {
		"added Project[plc_kfe_vac_fs] | Project",
		"modified GlobalSection[ProjectConfigurationPlatforms] | "
		"{D506BFD8-175F-4629-91DD-60162F5FC524}.Debug|TwinCAT RT (x64).ActiveCfg",
		NULL,
	};
	char *b1 = replace_once(sln, "EndProject\r\nGlobal",
	                        "EndProject\r\nProject(\"{B1E792BE-AA5F-4E3C-8C82-674BF9C0715B}\") = "
	                        "\"plc_kfe_vac_fs\", \"fs\\fs.plcproj\", \"{65953A75-3E9F-4A42-A7C8-97E0BE35A656}\"\r\n"
	                        "EndProject\r\nGlobal");
	char *b2 = replace_once(b1, ".ActiveCfg = Debug|", ".ActiveCfg = Release|");
	json_t *r = diff_json("plc.sln", sln, b2);

	assert_string_equal(json_string_value(json_object_get(r, "format")), "sln");
	expect_changes(r, exp);
	expect_values(r, exp[1], "Debug|TwinCAT RT (x64)", "Release|TwinCAT RT (x64)");
	assert_string_equal(json_string_value(json_object_get(r, "category")), "configuration");
	json_decref(r);
	free(b1);
	free(b2);
}

/* Each file and change has a category for the summary of a whole version. */
static void categories(void **state)
{
	char *tsproj = corpus_read(TSPROJ, NULL), *plcproj = corpus_read(PLCPROJ, NULL);
	char *tmc = corpus_read(TMC, NULL);
	char *t2 = replace_once(tsproj, "<Task Id=\"5\" Priority=\"13\"", "<Task Id=\"5\" Priority=\"12\"");
	char *t3 = replace_once(t2, "Desc=\"EL3064\"", "Desc=\"EL3046\"");
	char *p2 = replace_once(plcproj, "Tc2_Standard, * (", "Tc2_Standard, 3.3.5.0 (");
	char *p3 = replace_once(p2, "<Compile Include=\"POUs\\MAIN.TcPOU\">",
	                        "<Compile Include=\"POUs\\FB_New.TcPOU\" /><Compile Include=\"POUs\\MAIN.TcPOU\">");
	char *m2 = replace_once(tmc, "LCLSGeneralEventClass", "LCLSGeneralEventClass2");
	json_t *r = diff_json("plc/plc.tsproj", tsproj, t3), *cats = json_object_get(r, "categories");

	assert_string_equal(json_string_value(json_object_get(r, "category")), "io");
	assert_false(json_is_true(json_object_get(r, "generated")));
	assert_int_equal(json_integer_value(json_object_get(cats, "io")), 1);
	assert_int_equal(json_integer_value(json_object_get(cats, "configuration")), 1);
	assert_int_equal(json_object_size(cats), 2);
	json_decref(r);
	r = diff_json("plc/plc/plc.plcproj", plcproj, p3);
	cats = json_object_get(r, "categories");
	assert_string_equal(json_string_value(json_object_get(r, "category")), "configuration");
	assert_int_equal(json_integer_value(json_object_get(cats, "libraries")), 1);
	assert_int_equal(json_integer_value(json_object_get(cats, "configuration")), 1);
	json_decref(r);
	r = diff_json("plc/plc/plc.tmc", tmc, m2);
	assert_string_equal(json_string_value(json_object_get(r, "category")), "generated");
	assert_true(json_is_true(json_object_get(r, "generated")));
	expect_values(r, "renamed DataType[LCLSGeneralEventClass2] | DataType", "LCLSGeneralEventClass",
	              "LCLSGeneralEventClass2");
	json_decref(r);
	free(tsproj);
	free(plcproj);
	free(tmc);
	free(t2);
	free(t3);
	free(p2);
	free(p3);
	free(m2);
}

/*
 * Every consecutive pair of the .tsproj's history: at most 10 % of the
 * changes are keyed by position (a path segment "Type[N]") and at most
 * 2 % are moves.
 */
static void history_is_keyed_by_name(void **state)
{
	size_t len, total = 0, positional = 0, moved = 0, n = 0;
	char *tsv = corpus_read("HISTORY.tsv", &len), *save = NULL, *line;
	struct { long version; char *local; } v[256];
	regex_t pos;

	assert_int_equal(regcomp(&pos, "(^|/)[^/[]*\\[[0-9]+\\](/|$)", REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[3] = { line, NULL, NULL };

		for (int i = 1; i < 3 && f[i - 1]; i++) {
			char *t = strchr(f[i - 1], '\t');

			if (t)
				*t++ = '\0';
			f[i] = t;
		}
		if (!f[2] || strcmp(f[0], KFE "plc-kfe-vac.tsproj") || n == 256)
			continue;
		*strchrnul(f[2], '\t') = '\0';
		v[n].version = atol(f[1]);
		v[n++].local = f[2];
	}
	assert_true(n > 80);
	for (size_t i = 1; i < n; i++)   /* insertion sort by version */
		for (size_t j = i; j > 0 && v[j - 1].version > v[j].version; j--) {
			long tv = v[j].version;
			char *tl = v[j].local;

			v[j] = v[j - 1];
			v[j - 1].version = tv;
			v[j - 1].local = tl;
		}
	for (size_t i = 1; i < n; i++) {
		size_t la, lb, k;
		char *a = corpus_read(v[i - 1].local, &la), *b = corpus_read(v[i].local, &lb);
		struct diff_result *r = NULL;
		json_t *j = NULL, *c;

		assert_int_equal(diff_compare(&r, v[i].local, a, la, b, lb), 0);
		assert_int_equal(diff_to_json(&j, r), 0);
		assert_string_equal(diff_result_format(r), "tcsm");
		json_array_foreach(json_object_get(j, "changes"), k, c) {
			total++;
			positional += !regexec(&pos, json_string_value(json_object_get(c, "path")), 0, NULL, 0);
			moved += !strcmp(json_string_value(json_object_get(c, "kind")), "moved");
		}
		json_decref(j);
		diff_result_free(r);
		free(a);
		free(b);
	}
	printf("tsproj history: %zu pairs, %zu changes, %zu keyed by position, %zu moved\n",
	       n - 1, total, positional, moved);
	assert_true(total > 1000);
	assert_true(positional * 10 <= total);
	assert_true(moved * 50 <= total);
	regfree(&pos);
	free(tsv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_is_detected),
		cmocka_unit_test(terminal_replaced),
		cmocka_unit_test(link_added),
		cmocka_unit_test(link_removed),
		cmocka_unit_test(link_order_is_noise),
		cmocka_unit_test(task_cycle_time_changed),
		cmocka_unit_test(type_history_is_noise),
		cmocka_unit_test(xti_ams_port_changed),
		cmocka_unit_test(library_version_changed),
		cmocka_unit_test(project_file_added),
		cmocka_unit_test(solution_projects_and_configurations),
		cmocka_unit_test(categories),
		cmocka_unit_test(history_is_keyed_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
