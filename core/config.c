/*
 * core/config.c - the configuration table and its parser; see config.h.
 * To add a setting: a member in struct config and one row in `options`.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/siem.h"

enum opt_type { OPT_STR, OPT_UINT, OPT_BYTES };

struct option_row {
	const char *name;
	enum opt_type type;
	size_t offset;
	const char *def;        /* NULL: unset */
	uint64_t min, max;      /* for numbers */
	int (*valid)(const char *name, const char *value);
	const char *help;
};

/* Settings never taken from the command line, where every local account reads them. */
static const char *const secrets[] = { "ldap-bind-password", NULL };

static bool is_secret(const char *name)
{
	size_t i;

	for (i = 0; secrets[i]; i++)
		if (strcmp(secrets[i], name) == 0)
			return true;
	return false;
}

static int valid_listen(const char *name, const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (!colon || colon == v)
		return err_set(OTCM_EINVAL, name, "--%s must be HOST:PORT, got '%s'", name, v);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 0 || port > 65535)
		return err_set(OTCM_EINVAL, name, "--%s has a bad port in '%s'", name, v);
	return 0;
}

static int valid_level(const char *name, const char *v)
{
	if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") && strcmp(v, "error"))
		return err_set(OTCM_EINVAL, name, "--%s must be debug, info, warn or error", name);
	return 0;
}

static int valid_syslog(const char *name, const char *v)
{
	struct siem_url url;

	return siem_url_parse(&url, v, name);
}

static int valid_syslog_format(const char *name, const char *v)
{
	if (strcmp(v, "rfc5424") && strcmp(v, "cef"))
		return err_set(OTCM_EINVAL, name, "--%s must be rfc5424 or cef, got '%s'", name, v);
	return 0;
}

static int valid_private_networks(const char *name, const char *v)
{
	if (strcmp(v, "refuse") && strcmp(v, "allow"))
		return err_set(OTCM_EINVAL, name, "--%s must be refuse or allow, got '%s'", name, v);
	return 0;
}

static int valid_ldap_url(const char *name, const char *v)
{
	if (strncmp(v, "ldap://", 7) && strncmp(v, "ldaps://", 8) && strncmp(v, "ldapi://", 8))
		return err_set(OTCM_EINVAL, name,
			       "--%s must be ldap://HOST[:PORT] (StartTLS), ldaps://HOST[:PORT] or "
			       "ldapi://SOCKET, got '%s'", name, v);
	if (strpbrk(v, " \t\r\n"))
		return err_set(OTCM_EINVAL, name, "--%s must be one URL", name);
	return 0;
}

static const char *const map_roles[] = { "admin", "engineer", "qa", "approver", "auditor",
					 "agent", NULL };

/* "ROLE:DN;ROLE:DN": every role known, every DN holding '=' (the domain reads it). */
static int valid_role_map(const char *name, const char *v)
{
	const char *p = v;

	while (*p) {
		const char *colon = strchr(p, ':'), *end = strchr(p, ';');
		size_t i, n;

		if (!end)
			end = p + strlen(p);
		if (!colon || colon > end)
			return err_set(OTCM_EINVAL, name,
				       "--%s must be ROLE:GROUP-DN pairs separated by ';', got '%.*s'",
				       name, (int)(end - p), p);
		n = (size_t)(colon - p);
		for (i = 0; map_roles[i]; i++)
			if (strlen(map_roles[i]) == n && strncmp(map_roles[i], p, n) == 0)
				break;
		if (!map_roles[i])
			return err_set(OTCM_EINVAL, name,
				       "--%s: '%.*s' is not a role (admin, engineer, qa, approver, "
				       "auditor, agent)", name, (int)n, p);
		if (!memchr(colon + 1, '=', (size_t)(end - colon - 1)))
			return err_set(OTCM_EINVAL, name, "--%s: '%.*s' is not a group DN", name,
				       (int)(end - colon - 1), colon + 1);
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int valid_yes_no(const char *name, const char *v)
{
	if (strcmp(v, "yes") && strcmp(v, "no"))
		return err_set(OTCM_EINVAL, name, "--%s must be yes or no, got '%s'", name, v);
	return 0;
}

static int valid_user_filter(const char *name, const char *v)
{
	if (v[0] != '(' || !strstr(v, "%s"))
		return err_set(OTCM_EINVAL, name,
			       "--%s must be an LDAP filter in parentheses with %%s for the login name",
			       name);
	return 0;
}

#define OFF(m) offsetof(struct config, m)

static const struct option_row options[] = {
	{ "listen", OPT_STR, OFF(listen), "127.0.0.1:8080", 0, 0, valid_listen,
	  "address and port to serve HTTP on" },
	{ "data", OPT_STR, OFF(data), "var", 0, 0, NULL,
	  "data folder: embedded PostgreSQL cluster and server keys" },
	{ "database", OPT_STR, OFF(database), NULL, 0, 0, NULL,
	  "PostgreSQL connection URL; unset runs a private cluster under --data" },
	{ "pg-bindir", OPT_STR, OFF(pg_bindir), NULL, 0, 0, NULL,
	  "folder of initdb and postgres; unset searches /usr/lib/postgresql/*/bin" },
	{ "tls-cert", OPT_STR, OFF(tls_cert), NULL, 0, 0, NULL, "PEM certificate; enables HTTPS with --tls-key" },
	{ "tls-key", OPT_STR, OFF(tls_key), NULL, 0, 0, NULL, "PEM private key for --tls-cert" },
	{ "admin-password", OPT_STR, OFF(admin_password), NULL, 0, 0, NULL,
	  "password of the first administrator; unset generates and prints one" },
	{ "threads", OPT_UINT, OFF(threads), "8", 1, 256, NULL, "HTTP worker threads" },
	{ "db-pool", OPT_UINT, OFF(db_pool), "8", 1, 256, NULL, "database connections" },
	{ "max-body", OPT_BYTES, OFF(max_body), "256M", 1024, (uint64_t)1 << 40, NULL,
	  "largest upload body: a version or a test-step attachment, once authenticated (413 beyond)" },
	{ "max-form-body", OPT_BYTES, OFF(max_form_body), "1M", 1024, (uint64_t)1 << 32, NULL,
	  "largest body of every other request: logins, JSON, page forms (413 beyond)" },
	{ "max-header", OPT_BYTES, OFF(max_header), "32K", 4096, 1 << 24, NULL,
	  "largest request header block (431 beyond)" },
	{ "conn-timeout", OPT_UINT, OFF(conn_timeout), "60", 1, 86400, NULL,
	  "seconds a connection may stay idle" },
	{ "max-connections", OPT_UINT, OFF(max_connections), "256", 1, 65536, NULL,
	  "open connections before new requests get 503" },
	{ "max-connections-per-address", OPT_UINT, OFF(max_connections_per_address), "32", 1, 65536,
	  NULL, "open connections from one client address before its new ones get 503" },
	{ "header-timeout", OPT_UINT, OFF(header_timeout), "10", 1, 3600, NULL,
	  "seconds from a connection's start (or its last request) until the request headers are in (408)" },
	{ "min-body-rate", OPT_BYTES, OFF(min_body_rate), "1K", 0, (uint64_t)1 << 32, NULL,
	  "bytes a second a request body must average once --header-timeout has passed (408; 0: any)" },
	{ "max-upload-entries", OPT_UINT, OFF(max_upload_entries), "10000", 1, 10000000, NULL,
	  "files in one upload or archive" },
	{ "max-upload-bytes", OPT_BYTES, OFF(max_upload_bytes), "1G", 1024, (uint64_t)1 << 40, NULL,
	  "uncompressed bytes in one upload or archive" },
	{ "max-attachment", OPT_BYTES, OFF(max_attachment), "20M", 1, (uint64_t)1 << 32, NULL,
	  "largest photo or log attached to a test step (413 beyond)" },
	{ "json-max-depth", OPT_UINT, OFF(json_max_depth), "32", 2, 1000, NULL,
	  "nesting depth of JSON request bodies" },
	{ "password-iterations", OPT_UINT, OFF(password_iterations), "600000", 1000, 100000000, NULL,
	  "PBKDF2-HMAC-SHA256 iterations for new password hashes" },
	{ "password-min-length", OPT_UINT, OFF(password_min_length), "12", 8, 1024, NULL,
	  "shortest accepted password" },
	{ "login-throttle-after", OPT_UINT, OFF(login_throttle_after), "3", 1, 1000, NULL,
	  "failed logins after which further attempts must wait" },
	{ "login-lock-after", OPT_UINT, OFF(login_lock_after), "10", 1, 1000, NULL,
	  "failed logins after which the account locks" },
	{ "login-address-throttle-after", OPT_UINT, OFF(login_address_throttle_after), "20", 1, 100000,
	  NULL, "failed logins from one client address, any user name, after which its attempts must wait" },
	{ "login-lock-seconds", OPT_UINT, OFF(login_lock_seconds), "900", 1, 86400 * 365, NULL,
	  "how long a locked account stays locked" },
	{ "session-ttl", OPT_UINT, OFF(session_ttl), "28800", 60, 86400 * 30, NULL,
	  "seconds a login session lasts" },
	{ "log-level", OPT_STR, OFF(log_level), "info", 0, 0, valid_level, "debug, info, warn or error" },
	{ "server-name", OPT_STR, OFF(server_name), NULL, 0, 0, NULL,
	  "name in the audit checkpoints' origin \"otcm/NAME\"; unset uses the host name" },
	{ "checkpoint-every", OPT_UINT, OFF(checkpoint_every), "1000", 0, 100000000, NULL,
	  "sign an audit checkpoint after this many new events (0: only by time or on demand)" },
	{ "checkpoint-minutes", OPT_UINT, OFF(checkpoint_minutes), "10", 0, 525600, NULL,
	  "sign an audit checkpoint of new events after this many minutes (0: never by time)" },
	{ "db-role", OPT_STR, OFF(db_role), "otcm_app", 0, 0, NULL,
	  "database role the server's connections switch to (no UPDATE/DELETE on the audit trail); "
	  "none keeps the login role" },
	{ "syslog", OPT_STR, OFF(syslog), NULL, 0, 0, valid_syslog,
	  "send every audit event, in order, to this syslog collector: tcp://HOST:PORT or "
	  "tls://HOST:PORT (RFC 5424, octet counting; RFC 5425)" },
	{ "syslog-ca", OPT_STR, OFF(syslog_ca), NULL, 0, 0, NULL,
	  "PEM file of the certificates a tls:// collector's certificate must chain to; "
	  "unset: the system's store" },
	{ "syslog-format", OPT_STR, OFF(syslog_format), "rfc5424", 0, 0, valid_syslog_format,
	  "rfc5424 (structured data) or cef (a CEF line as the message, for SIEMs that want it)" },
	{ "metrics-listen", OPT_STR, OFF(metrics_listen), NULL, 0, 0, valid_listen,
	  "also serve GET /metrics, without credentials and nothing else, on this HOST:PORT "
	  "(a management network)" },
	{ "webhook-private-networks", OPT_STR, OFF(webhook_private_networks), "refuse", 0, 0,
	  valid_private_networks,
	  "refuse or allow webhook receivers at loopback, private, link-local and other non-public "
	  "addresses (docs/operations.md)" },
	{ "webhook-disable-after-hours", OPT_UINT, OFF(webhook_disable_after_hours), "72", 1, 8760, NULL,
	  "hours a webhook subscription may fail without a success before it is disabled" },
	{ "webhook-log-days", OPT_UINT, OFF(webhook_log_days), "90", 1, 3650, NULL,
	  "days a webhook delivery attempt stays in the delivery log" },
	{ "webhook-ca", OPT_STR, OFF(webhook_ca), NULL, 0, 0, NULL,
	  "PEM file of the certificates an https:// webhook receiver's certificate must chain to; "
	  "unset: the system's store" },
	{ "drill-max-age-days", OPT_UINT, OFF(drill_max_age_days), "90", 1, 3650, NULL,
	  "days after the last passed restore drill before the exceptions report lists a missing one" },
	{ "ldap-url", OPT_STR, OFF(ldap_url), NULL, 0, 0, valid_ldap_url,
	  "log in against this LDAP or Active Directory server: ldap://HOST (StartTLS), ldaps://HOST "
	  "or ldapi://SOCKET; unset: local accounts only" },
	{ "ldap-ca", OPT_STR, OFF(ldap_ca), NULL, 0, 0, NULL,
	  "PEM file of the certificates the directory's certificate must chain to; unset: the system's" },
	{ "ldap-bind-dn", OPT_STR, OFF(ldap_bind_dn), NULL, 0, 0, NULL,
	  "DN of the service account that searches the directory; unset: anonymous searches" },
	{ "ldap-bind-password-file", OPT_STR, OFF(ldap_bind_password_file), NULL, 0, 0, NULL,
	  "file holding the service account's password (or OTCM_LDAP_BIND_PASSWORD; never an option)" },
	{ "ldap-bind-password", OPT_STR, OFF(ldap_bind_password), NULL, 0, 0, NULL,
	  "the service account's password: the environment's OTCM_LDAP_BIND_PASSWORD only" },
	{ "ldap-user-base", OPT_STR, OFF(ldap_user_base), NULL, 0, 0, NULL,
	  "DN under which users are searched (whole subtree)" },
	{ "ldap-user-filter", OPT_STR, OFF(ldap_user_filter),
	  "(&(objectClass=person)(|(sAMAccountName=%s)(uid=%s)))", 0, 0, valid_user_filter,
	  "filter that finds one user, %s standing for the login name (escaped)" },
	{ "ldap-role-map", OPT_STR, OFF(ldap_role_map), NULL, 0, 0, valid_role_map,
	  "ROLE:GROUP-DN pairs separated by ';': members of the group get the role; the first "
	  "group the user is in wins" },
	{ "ldap-nested-groups", OPT_STR, OFF(ldap_nested_groups), "no", 0, 0, valid_yes_no,
	  "yes: membership through nested groups too (Active Directory's LDAP_MATCHING_RULE_IN_CHAIN)" },
	{ "ldap-timeout", OPT_UINT, OFF(ldap_timeout), "5", 1, 120, NULL,
	  "seconds to connect to the directory and for each of its answers (503 beyond)" },
	{ "ldap-recheck-seconds", OPT_UINT, OFF(ldap_recheck_seconds), "300", 1, 86400, NULL,
	  "seconds a directory user's sessions and tokens are trusted before the directory is asked again" },
	{ "advisory-folder", OPT_STR, OFF(advisory_folder), NULL, 0, 0, NULL,
	  "import the CSAF 2.0 advisories dropped into this folder (air-gapped plants); imported "
	  "files move to its imported/, refused ones to refused/ with the reason" },
	{ "advisory-poll-seconds", OPT_UINT, OFF(advisory_poll_seconds), "60", 1, 86400, NULL,
	  "seconds between two looks into --advisory-folder" },
	{ "assess-days-critical", OPT_UINT, OFF(assess_days_critical), "7", 1, 3650, NULL,
	  "days from an advisory's match on an asset to its due date, critical severity (CVSS 9.0-10)" },
	{ "assess-days-high", OPT_UINT, OFF(assess_days_high), "30", 1, 3650, NULL,
	  "the same for high severity (CVSS 7.0-8.9)" },
	{ "assess-days-medium", OPT_UINT, OFF(assess_days_medium), "90", 1, 3650, NULL,
	  "the same for medium severity (CVSS 4.0-6.9)" },
	{ "assess-days-low", OPT_UINT, OFF(assess_days_low), "180", 1, 3650, NULL,
	  "the same for low severity and advisories without a score" },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static int parse_number(const struct option_row *o, const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t mult = 1;

	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		return err_set(OTCM_EINVAL, o->name, "--%s must be a number, got '%s'", o->name, v);
	n = strtoull(v, &end, 10);
	if (errno)
		return err_set(OTCM_EINVAL, o->name, "--%s is out of range", o->name);
	if (o->type == OPT_BYTES && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1024; break;
		case 'M': mult = 1024 * 1024; break;
		case 'G': mult = 1024 * 1024 * 1024; break;
		default: mult = 0; break;
		}
		if (mult && end[1] == '\0')
			end++;
		else
			mult = 0;
	}
	if (*end || mult == 0)
		return err_set(OTCM_EINVAL, o->name, "--%s must be a number%s, got '%s'", o->name,
			       o->type == OPT_BYTES ? " with optional K, M or G" : "", v);
	if (n > UINT64_MAX / mult || n * mult < o->min || n * mult > o->max)
		return err_set(OTCM_EINVAL, o->name, "--%s must be between %llu and %llu", o->name,
			       (unsigned long long)o->min, (unsigned long long)o->max);
	*out = n * mult;
	return 0;
}

static int set_value(struct config *cfg, const struct option_row *o, const char *v)
{
	char *base = (char *)cfg;
	uint64_t n;
	int rc;

	if (o->valid && (rc = o->valid(o->name, v)))
		return rc;
	switch (o->type) {
	case OPT_STR: {
		char **slot = (char **)(base + o->offset);

		free(*slot);
		*slot = xstrdup(v);
		return 0;
	}
	case OPT_UINT:
		if ((rc = parse_number(o, v, &n)))
			return rc;
		*(unsigned *)(base + o->offset) = (unsigned)n;
		return 0;
	case OPT_BYTES:
		if ((rc = parse_number(o, v, &n)))
			return rc;
		*(uint64_t *)(base + o->offset) = n;
		return 0;
	}
	return err_set(OTCM_EINTERNAL, o->name, "bad option type");
}

void config_defaults(struct config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NOPTIONS; i++) {
		if (options[i].def && set_value(cfg, &options[i], options[i].def))
			abort(); /* a default that fails its own validator is a bug */
	}
}

static const struct option_row *find_option(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

/* The first line of file `path` into *out (the caller frees it). */
static int read_secret_file(char **out, const char *path, const char *option)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return err_set(OTCM_EINVAL, option, "--%s: cannot read '%s': %s", option, path,
			       strerror(errno));
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0) {
		memset(line, 0, sizeof(line));
		return err_set(OTCM_EINVAL, option, "--%s: '%s' holds no password", option, path);
	}
	*out = xstrdup(line);
	memset(line, 0, sizeof(line));
	return 0;
}

/* The directory's settings go together; its password file is read now. */
static int check_ldap(struct config *cfg)
{
	int rc;

	if (!cfg->ldap_url) {
		if (cfg->ldap_bind_dn || cfg->ldap_user_base || cfg->ldap_role_map ||
		    cfg->ldap_bind_password_file || cfg->ldap_ca)
			return err_set(OTCM_EINVAL, "ldap-url",
				       "the --ldap-* options need --ldap-url");
		return 0;
	}
	if (!cfg->ldap_user_base)
		return err_set(OTCM_EINVAL, "ldap-user-base", "--ldap-url needs --ldap-user-base");
	if (!cfg->ldap_role_map)
		return err_set(OTCM_EINVAL, "ldap-role-map",
			       "--ldap-url needs --ldap-role-map: which directory groups get which role");
	if (cfg->ldap_bind_password_file && cfg->ldap_bind_password)
		return err_set(OTCM_EINVAL, "ldap-bind-password-file",
			       "give the service account's password once: --ldap-bind-password-file "
			       "or OTCM_LDAP_BIND_PASSWORD");
	if (cfg->ldap_bind_password_file &&
	    (rc = read_secret_file(&cfg->ldap_bind_password, cfg->ldap_bind_password_file,
				   "ldap-bind-password-file")))
		return rc;
	if (cfg->ldap_bind_dn && !cfg->ldap_bind_password)
		return err_set(OTCM_EINVAL, "ldap-bind-dn",
			       "--ldap-bind-dn needs its password: --ldap-bind-password-file or "
			       "OTCM_LDAP_BIND_PASSWORD");
	if (!cfg->ldap_bind_dn && cfg->ldap_bind_password)
		return err_set(OTCM_EINVAL, "ldap-bind-dn",
			       "a service account's password was given without --ldap-bind-dn");
	return 0;
}

int config_load(struct config *cfg, int argc, char **argv, int first, int *out_next)
{
	size_t i;
	int a, rc;

	config_defaults(cfg);
	for (i = 0; i < NOPTIONS; i++) {
		char env[64], *p;
		const char *v;

		snprintf(env, sizeof(env), "OTCM_%s", options[i].name);
		for (p = env; *p; p++)
			*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		/* OTCM_DATABASE_URL is the documented name for --database */
		if (strcmp(options[i].name, "database") == 0)
			snprintf(env, sizeof(env), "OTCM_DATABASE_URL");
		v = getenv(env);
		if (v && *v && (rc = set_value(cfg, &options[i], v)))
			return rc;
	}
	for (a = first; a < argc; a++) {
		const char *arg = argv[a], *name, *eq, *val;
		const struct option_row *o;
		char nbuf[64];

		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
			break;
		name = arg + 2;
		eq = strchr(name, '=');
		if (eq) {
			snprintf(nbuf, sizeof(nbuf), "%.*s", (int)(eq - name), name);
			name = nbuf;
			val = eq + 1;
		} else {
			val = NULL;
		}
		o = find_option(name);
		if (!o)
			return err_set(OTCM_EINVAL, name, "unknown option '--%s'", name);
		if (is_secret(o->name))
			return err_set(OTCM_EINVAL, name,
				       "--%s is never taken from the command line, where every local "
				       "account can read it: use --%s-file or OTCM_%s", name, name,
				       "LDAP_BIND_PASSWORD");
		if (!val) {
			if (a + 1 >= argc)
				return err_set(OTCM_EINVAL, name, "option '--%s' needs a value", name);
			val = argv[++a];
		}
		if ((rc = set_value(cfg, o, val)))
			return rc;
	}
	if (!cfg->tls_cert != !cfg->tls_key)
		return err_set(OTCM_EINVAL, "tls-cert", "--tls-cert and --tls-key go together");
	if (cfg->syslog_ca && (!cfg->syslog || strncmp(cfg->syslog, "tls://", 6) != 0))
		return err_set(OTCM_EINVAL, "syslog-ca", "--syslog-ca goes with --syslog tls://HOST:PORT");
	if ((rc = check_ldap(cfg)))
		return rc;
	if (out_next)
		*out_next = a;
	return 0;
}

void config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++) {
		if (options[i].type == OPT_STR) {
			char **slot = (char **)((char *)cfg + options[i].offset);

			if (*slot && is_secret(options[i].name))
				memset(*slot, 0, strlen(*slot));
			free(*slot);
			*slot = NULL;
		}
	}
}

void config_usage(FILE *f)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (!is_secret(options[i].name))
			fprintf(f, "  --%-22s %s (default: %s)\n", options[i].name, options[i].help,
				options[i].def ? options[i].def : "unset");
}
