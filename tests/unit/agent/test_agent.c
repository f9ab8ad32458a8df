/*
 * Unit tests for agent/: the configuration file (every mistake named by its
 * line), the folder collector, the command collector's exit status, error
 * output and timeout, and the on-disk queue's one-copy rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/agent.h"
#include "core/err.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/otcm-agent-ut-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_config_reads_devices(void **state)
{
	struct agent_config cfg;
	const char *tok = write_file("token", "otcm_abc\n");
	char text[1024];
	const char *path;

	(void)state;
	snprintf(text, sizeof(text),
		 "# agent\nserver = http://127.0.0.1:8080/\ntoken_file = %s\nstate_dir = %s/state\n"
		 "[asset a/b/plc]\ncollector = folder\npath = /srv/x\n\n"
		 "[asset a/b/hmi]\ncollector = command\ncommand = true\ntimeout = 5\n", tok, dir);
	path = write_file("agent.conf", text);
	assert_int_equal(agent_config_load(&cfg, path), 0);
	assert_string_equal(cfg.server, "http://127.0.0.1:8080");
	assert_string_equal(cfg.token, "otcm_abc");
	assert_int_equal(cfg.ndevices, 2);
	assert_string_equal(agent_config_device(&cfg, "a/b/hmi")->command, "true");
	assert_int_equal(agent_config_device(&cfg, "a/b/hmi")->timeout, 5);
	assert_int_equal(agent_config_device(&cfg, "a/b/plc")->timeout, 300);
	assert_null(agent_config_device(&cfg, "a/b/none"));
	agent_config_release(&cfg);
}

static void test_config_names_the_bad_line(void **state)
{
	static const struct {
		const char *text, *field, *words;
	} cases[] = {
		{ "state_dir = /x\ncolour = red\n", "colour", "line 2" },
		{ "state_dir = /x\nserver = ftp://h\n", "server", "line 2" },
		{ "state_dir = /x\n[asset a]\ncollector = ssh\n", "collector", "line 3" },
		{ "state_dir = /x\n[asset a]\ncollector = folder\n", "path", "needs a path" },
		{ "state_dir = /x\n[asset a]\ncollector = command\ncommand = x\ntimeout = 0\n", "timeout", "line 5" },
		{ "state_dir = /x\n[asset a]\ncollector = opcua\n", "endpoint", "needs an endpoint" },
		{ "state_dir = /x\n[asset a]\ncollector = folder\npath = /p\n[asset a]\n", "config", "twice" },
		{ "state_dir = /x\n[device a]\n", "config", "line 2" },
		{ "server = http://h\n", "state_dir", "state_dir" },
		{ "state_dir = /x\njust words\n", "config", "line 2" },
	};
	struct agent_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_file("bad.conf", cases[i].text);

		assert_int_equal(agent_config_load(&cfg, path), OTCM_EINVAL);
		assert_string_equal(err_field(), cases[i].field);
		assert_non_null(strstr(err_message(), cases[i].words));
	}
}

static void test_folder_reads_files_in_order(void **state)
{
	char sub[128];
	json_t *files = NULL;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/dev", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/dev/sub", dir);
	mkdir(sub, 0700);
	write_file("dev/b.st", "B");
	write_file("dev/sub/a.st", "A");
	snprintf(sub, sizeof(sub), "%s/dev", dir);
	assert_int_equal(agent_read_folder(&files, sub), 0);
	assert_int_equal(json_array_size(files), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 0), "path")), "b.st");
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 1), "path")), "sub/a.st");
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 0), "content")), "Qg==");
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 0), "sha256")),
			    "df7e70e5021544f4834bbee64a9e3789febc4be81470df629cad6ddb03320a5c");
	json_decref(files);
	assert_int_equal(agent_read_folder(&files, "/nonexistent/otcm"), OTCM_EIO);
}

static void test_command_outcomes(void **state)
{
	struct agent_device dev = { 0 };
	json_t *res = NULL;

	(void)state;
	dev.asset = "a";
	dev.collector = "command";
	dev.timeout = 10;
	dev.command = "printf x > \"$OTCM_OUT/x.txt\"; printf '{\"model\":\"M\",\"n\":1}' > \"$OTCM_IDENTITY\"";
	assert_int_equal(agent_collect(&res, &dev), 0);
	assert_true(json_is_true(json_object_get(res, "ok")));
	assert_int_equal(json_integer_value(json_object_get(res, "exit_status")), 0);
	assert_int_equal(json_array_size(json_object_get(res, "files")), 1);
	/* identity keeps texts only */
	assert_string_equal(json_string_value(json_object_get(json_object_get(res, "identity"), "model")), "M");
	assert_null(json_object_get(json_object_get(res, "identity"), "n"));
	json_decref(res);

	dev.command = "echo broken >&2; exit 4";
	assert_int_equal(agent_collect(&res, &dev), 0);
	assert_true(json_is_false(json_object_get(res, "ok")));
	assert_int_equal(json_integer_value(json_object_get(res, "exit_status")), 4);
	assert_string_equal(json_string_value(json_object_get(res, "stderr")), "broken\n");
	json_decref(res);

	dev.command = "sleep 20";
	dev.timeout = 1;
	assert_int_equal(agent_collect(&res, &dev), 0);
	assert_true(json_is_false(json_object_get(res, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(res, "error")), "timed out"));
	assert_true(json_integer_value(json_object_get(res, "duration_ms")) < 5000);
	json_decref(res);
}

static size_t queued_results(const char *state_dir)
{
	char cmd[256];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls '%s/queue' | grep -c 'json$'", state_dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%zu", &n) != 1)
		n = 0;
	pclose(p);
	return n;
}

static void test_queue_keeps_one_copy_of_a_read_back(void **state)
{
	char state_dir[128];
	json_t *r;

	(void)state;
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	r = json_pack("{s:s,s:s,s:b,s:[{s:s,s:s,s:s}]}", "asset", "a", "collector", "folder", "ok", 1, "files",
		      "path", "x", "sha256", "aa", "content", "");
	assert_int_equal(agent_queue_add(state_dir, r), 0);
	assert_int_equal(agent_queue_add(state_dir, r), 0);
	assert_int_equal(queued_results(state_dir), 1);
	json_object_set_new(json_array_get(json_object_get(r, "files"), 0), "sha256", json_string("bb"));
	assert_int_equal(agent_queue_add(state_dir, r), 0);
	json_object_set_new(r, "asset", json_string("b"));
	assert_int_equal(agent_queue_add(state_dir, r), 0);
	assert_int_equal(queued_results(state_dir), 3);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_reads_devices),
		cmocka_unit_test(test_config_names_the_bad_line),
		cmocka_unit_test(test_folder_reads_files_in_order),
		cmocka_unit_test(test_command_outcomes),
		cmocka_unit_test(test_queue_keeps_one_copy_of_a_read_back),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
