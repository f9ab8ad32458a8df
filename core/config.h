/*
 * core/config.h - every setting otcm has, in one declarative table.
 *
 * Each setting has a name, a type, a default, a validator and a description
 * (config.c).  Values come, lowest priority first, from the defaults, from
 * environment variables OTCM_<NAME> (upper case, '-' as '_'), and from
 * command-line options --<name> VALUE.  They are parsed once into a
 * read-only struct config that is passed explicitly; there are no mutable
 * globals.  A secret (the directory's bind password) is never taken from
 * the command line, where every local account could read it: it comes from
 * the environment or from a file named by an option.
 */
#ifndef OTCM_CORE_CONFIG_H
#define OTCM_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config {
	char *listen;               /* "127.0.0.1:8080" */
	char *data;                 /* data folder (embedded cluster, keys) */
	char *database;             /* PostgreSQL URL; NULL = embedded cluster */
	char *pg_bindir;            /* PostgreSQL server binaries; NULL = search */
	char *tls_cert, *tls_key;   /* PEM files; both or neither */
	char *admin_password;       /* first administrator's password; NULL = generate */
	unsigned threads;           /* HTTP worker threads */
	unsigned db_pool;           /* database connections */
	uint64_t max_body;          /* bytes in one request body (uploads) */
	uint64_t max_form_body;     /* bytes in any other request body */
	uint64_t max_header;        /* bytes of request headers */
	unsigned conn_timeout;      /* seconds a connection may idle */
	unsigned max_connections;   /* open connections before 503 */
	unsigned max_connections_per_address; /* one address's connections before 503 */
	unsigned header_timeout;    /* seconds until a request's headers are in */
	uint64_t min_body_rate;     /* bytes/s a body must average after header_timeout; 0 = any */
	unsigned max_upload_entries;/* files in one upload or archive */
	uint64_t max_upload_bytes;  /* uncompressed bytes in one upload */
	uint64_t max_attachment;    /* bytes of one test-step attachment */
	unsigned json_max_depth;    /* nesting of JSON request bodies */
	unsigned password_iterations; /* PBKDF2-SHA256 iterations */
	unsigned password_min_length;
	unsigned login_throttle_after; /* failures before attempts are slowed */
	unsigned login_lock_after;  /* failures before the account locks */
	unsigned login_lock_seconds;
	unsigned login_address_throttle_after; /* failures from one address before it is slowed */
	unsigned session_ttl;       /* seconds */
	char *log_level;            /* debug, info, warn, error */
	/* audit trail (docs/audit.md) */
	char *server_name;          /* checkpoint origin "otcm/<name>"; NULL = host name */
	unsigned checkpoint_every;  /* events between checkpoints; 0 = no count trigger */
	unsigned checkpoint_minutes;/* minutes between checkpoints of new events; 0 = none */
	char *db_role;              /* role pooled connections SET ROLE to; "none" = stay */
	/* audit events to the SIEM (docs/operations.md) */
	char *syslog;               /* tcp:// or tls://HOST:PORT; NULL = no delivery */
	char *syslog_ca;            /* PEM trust anchors for tls://; NULL = the system's */
	char *syslog_format;        /* "rfc5424" or "cef" */
	char *metrics_listen;       /* HOST:PORT serving only /metrics, no credentials; NULL = none */
	/* webhooks (docs/operations.md) */
	char *webhook_private_networks; /* "refuse" or "allow" */
	unsigned webhook_disable_after_hours; /* failing this long disables a subscription */
	unsigned webhook_log_days;  /* delivery log rows older than this are deleted */
	char *webhook_ca;           /* PEM trust anchors for https:// receivers; NULL = the system's */
	unsigned drill_max_age_days;/* a restore drill must have passed within this (exceptions) */
	/* LDAP / Active Directory login (docs/operations.md) */
	char *ldap_url;             /* ldap:// (StartTLS), ldaps:// or ldapi://; NULL = local only */
	char *ldap_ca;              /* PEM trust anchors for TLS; NULL = the system's */
	char *ldap_bind_dn;         /* the service account that searches */
	char *ldap_bind_password_file; /* where its password is read from */
	char *ldap_bind_password;   /* from that file or OTCM_LDAP_BIND_PASSWORD, never argv */
	char *ldap_user_base;       /* where users are searched (subtree) */
	char *ldap_user_filter;     /* "%s" stands for the escaped login name */
	char *ldap_role_map;        /* "ROLE:GROUP DN;ROLE:GROUP DN..." first match wins */
	char *ldap_nested_groups;   /* "yes": AD's LDAP_MATCHING_RULE_IN_CHAIN; "no" */
	unsigned ldap_timeout;      /* seconds for connecting and for each directory operation */
	unsigned ldap_recheck_seconds; /* how long a directory user's credentials go unchecked */
	/* advisories and assessments (docs/patch.md) */
	char *advisory_folder;      /* CSAF files dropped here are imported; NULL = no watch */
	unsigned advisory_poll_seconds;
	unsigned assess_days_critical, assess_days_high, assess_days_medium, assess_days_low;
};

/*
 * Fill *cfg from defaults, the environment and argv[first..argc).
 * Unknown options and invalid values are OTCM_EINVAL with a message naming
 * the option.  On return *out_next (if not NULL) is the index of the first
 * non-option argument.  Release with config_release().
 */
int config_load(struct config *cfg, int argc, char **argv, int first, int *out_next);

/* Defaults only (for tests and tools). */
void config_defaults(struct config *cfg);

void config_release(struct config *cfg);

/* Print every option with its default and description. */
void config_usage(FILE *f);

#endif
