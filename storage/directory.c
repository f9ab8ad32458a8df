/* storage/directory.c - the LDAP / Active Directory client over libldap; see directory.h. */
#include "storage/directory.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#define FILTER_MAX 4096
#define UAC_ACCOUNTDISABLE 0x2UL
/* Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: membership through nested groups */
#define IN_CHAIN_OID "1.2.840.113556.1.4.1941"

struct directory {
	LDAP *ld;
	const struct config *cfg;
};

/* ---- pure helpers ---- */

char *directory_filter_escape(struct arena *a, const char *value)
{
	size_t n = strlen(value), i, o = 0;
	char *out = arena_alloc(a, n * 3 + 1);

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];

		if (ch == '*' || ch == '(' || ch == ')' || ch == '\\') {
			snprintf(out + o, 4, "\\%02x", ch);
			o += 3;
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return out;
}

char *directory_user_filter(struct arena *a, const char *tmpl, const char *username)
{
	const char *esc = directory_filter_escape(a, username), *p = tmpl;
	size_t elen = strlen(esc), o = 0;
	char *out = arena_alloc(a, FILTER_MAX + 1);

	while (*p) {
		if (p[0] == '%' && p[1] == 's') {
			if (o + elen > FILTER_MAX)
				return NULL;
			memcpy(out + o, esc, elen);
			o += elen;
			p += 2;
		} else {
			if (o + 1 > FILTER_MAX)
				return NULL;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

char *directory_member_filter(struct arena *a, const char *user_dn, const char *username,
			      bool nested)
{
	const char *dn = directory_filter_escape(a, user_dn);

	if (nested)
		return arena_printf(a, "(member:" IN_CHAIN_OID ":=%s)", dn);
	return arena_printf(a, "(|(member=%s)(uniqueMember=%s)(memberUid=%s))", dn, dn,
			    directory_filter_escape(a, username));
}

bool directory_uac_disabled(const char *value)
{
	char *end;
	unsigned long uac;

	if (!value || !*value)
		return false;
	uac = strtoul(value, &end, 10);
	return *end == '\0' && (uac & UAC_ACCOUNTDISABLE) != 0;
}

/* ---- the connection ---- */

static bool unreachable(int lrc)
{
	return lrc == LDAP_SERVER_DOWN || lrc == LDAP_TIMEOUT || lrc == LDAP_CONNECT_ERROR ||
	       lrc == LDAP_TIMELIMIT_EXCEEDED || lrc == LDAP_BUSY || lrc == LDAP_UNAVAILABLE;
}

/* OTCM_EUNAVAIL for libldap's `lrc` while doing `what`. */
static int fail(const struct directory *dir, int lrc, const char *what)
{
	const char *url = dir->cfg->ldap_url;

	if (unreachable(lrc))
		return err_set(OTCM_EUNAVAIL, NULL,
			       "the directory %s did not answer in time (%s: %s): try again later",
			       url, what, ldap_err2string(lrc));
	return err_set(OTCM_EUNAVAIL, NULL, "the directory %s failed to %s: %s", url, what,
		       ldap_err2string(lrc));
}

static int set_tls(struct directory *dir)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, lrc;

	if ((lrc = ldap_set_option(dir->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) ||
	    (dir->cfg->ldap_ca &&
	     (lrc = ldap_set_option(dir->ld, LDAP_OPT_X_TLS_CACERTFILE, dir->cfg->ldap_ca))) ||
	    (lrc = ldap_set_option(dir->ld, LDAP_OPT_X_TLS_NEWCTX, &zero)))
		return err_set(OTCM_EUNAVAIL, "ldap-ca", "the directory's TLS settings failed: %s",
			       ldap_err2string(lrc));
	return 0;
}

int directory_open(struct directory **out, const struct config *cfg)
{
	struct directory *dir = xcalloc(1, sizeof(*dir));
	struct timeval tv = { .tv_sec = (time_t)cfg->ldap_timeout, .tv_usec = 0 };
	int version = LDAP_VERSION3, limit = (int)cfg->ldap_timeout, lrc, rc = 0;
	struct berval cred = { 0, NULL };

	dir->cfg = cfg;
	if (!cfg->ldap_url) {
		rc = err_set(OTCM_EINTERNAL, "ldap-url", "no directory configured");
		goto out;
	}
	if ((lrc = ldap_initialize(&dir->ld, cfg->ldap_url)) != LDAP_SUCCESS) {
		rc = err_set(OTCM_EUNAVAIL, "ldap-url", "cannot use the directory URL '%s': %s",
			     cfg->ldap_url, ldap_err2string(lrc));
		goto out;
	}
	ldap_set_option(dir->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(dir->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(dir->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(dir->ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(dir->ld, LDAP_OPT_TIMELIMIT, &limit);
	if (strncmp(cfg->ldap_url, "ldapi://", 8) != 0 && (rc = set_tls(dir)))
		goto out;
	if (strncmp(cfg->ldap_url, "ldap://", 7) == 0 &&
	    (lrc = ldap_start_tls_s(dir->ld, NULL, NULL)) != LDAP_SUCCESS) {
		rc = fail(dir, lrc, "start TLS");
		goto out;
	}
	if (cfg->ldap_bind_dn) {
		cred.bv_val = cfg->ldap_bind_password;
		cred.bv_len = strlen(cfg->ldap_bind_password);
	}
	lrc = ldap_sasl_bind_s(dir->ld, cfg->ldap_bind_dn ? cfg->ldap_bind_dn : "", LDAP_SASL_SIMPLE,
			       &cred, NULL, NULL, NULL);
	if (lrc == LDAP_INVALID_CREDENTIALS) {
		log_msg(LOG_ERROR, "the directory refused the service account '%s'",
			cfg->ldap_bind_dn ? cfg->ldap_bind_dn : "(anonymous)");
		rc = err_set(OTCM_EUNAVAIL, "ldap-bind-dn",
			     "the directory refused otcm's service account: an administrator must "
			     "check --ldap-bind-dn and its password");
		goto out;
	}
	if (lrc != LDAP_SUCCESS) {
		rc = fail(dir, lrc, "bind the service account");
		goto out;
	}
	*out = dir;
	dir = NULL;
out:
	directory_close(dir);
	return rc;
}

void directory_close(struct directory *dir)
{
	if (!dir)
		return;
	if (dir->ld)
		ldap_unbind_ext_s(dir->ld, NULL, NULL);
	free(dir);
}

/* The first value of `attr` in `e`, copied into `a`; NULL when absent. */
static const char *first_value(struct arena *a, LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **vals = ldap_get_values_len(ld, e, attr);
	const char *v = NULL;

	if (vals && vals[0])
		v = arena_strndup(a, vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	return v;
}

int directory_find_user(struct directory_entry *out, struct arena *a, struct directory *dir,
			const char *username)
{
	static char *attrs[] = { "displayName", "cn", "mail", "userAccountControl",
				 "pwdAccountLockedTime", NULL };
	struct timeval tv = { .tv_sec = (time_t)dir->cfg->ldap_timeout, .tv_usec = 0 };
	const char *filter = directory_user_filter(a, dir->cfg->ldap_user_filter, username);
	LDAPMessage *res = NULL, *e;
	char *dn = NULL;
	int lrc, rc = 0, n;

	memset(out, 0, sizeof(*out));
	if (!filter)
		return err_set(OTCM_EINVAL, "username", "'username' is too long for the directory's filter");
	lrc = ldap_search_ext_s(dir->ld, dir->cfg->ldap_user_base, LDAP_SCOPE_SUBTREE, filter, attrs,
				0, NULL, NULL, &tv, 2, &res);
	if (lrc == LDAP_SIZELIMIT_EXCEEDED || (lrc == LDAP_SUCCESS && ldap_count_entries(dir->ld, res) > 1)) {
		rc = err_set(OTCM_ECONFLICT, "username",
			     "the directory holds several users named '%s': ask an administrator to "
			     "make --ldap-user-filter find one", username);
		goto out;
	}
	if (lrc == LDAP_NO_SUCH_OBJECT) {
		rc = err_set(OTCM_EUNAVAIL, "ldap-user-base", "the directory has no entry '%s' (--ldap-user-base)",
			     dir->cfg->ldap_user_base);
		goto out;
	}
	if (lrc != LDAP_SUCCESS) {
		rc = fail(dir, lrc, "search for the user");
		goto out;
	}
	n = ldap_count_entries(dir->ld, res);
	e = n > 0 ? ldap_first_entry(dir->ld, res) : NULL;
	if (!e) {
		rc = err_set(OTCM_ENOTFOUND, "username", "no user '%s' in the directory", username);
		goto out;
	}
	dn = ldap_get_dn(dir->ld, e);
	if (!dn) {
		rc = err_set(OTCM_EUNAVAIL, NULL, "the directory answered an entry without a DN");
		goto out;
	}
	out->dn = arena_strdup(a, dn);
	out->display_name = first_value(a, dir->ld, e, "displayName");
	if (!out->display_name)
		out->display_name = first_value(a, dir->ld, e, "cn");
	out->email = first_value(a, dir->ld, e, "mail");
	out->disabled = directory_uac_disabled(first_value(a, dir->ld, e, "userAccountControl")) ||
			first_value(a, dir->ld, e, "pwdAccountLockedTime") != NULL;
out:
	ldap_memfree(dn);
	ldap_msgfree(res);
	return rc;
}

int directory_is_member(bool *out, struct directory *dir, const char *group_dn,
			const char *user_dn, const char *username, bool nested)
{
	static char *attrs[] = { "1.1", NULL };   /* no attributes: the entry's presence says it */
	struct timeval tv = { .tv_sec = (time_t)dir->cfg->ldap_timeout, .tv_usec = 0 };
	struct arena *a = arena_new();
	const char *filter = directory_member_filter(a, user_dn, username, nested);
	LDAPMessage *res = NULL;
	int lrc, rc = 0;

	*out = false;
	lrc = ldap_search_ext_s(dir->ld, group_dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL,
				&tv, 1, &res);
	if (lrc == LDAP_NO_SUCH_OBJECT) {
		log_msg(LOG_WARN, "the directory has no group '%s' (--ldap-role-map)", group_dn);
	} else if (lrc != LDAP_SUCCESS) {
		rc = fail(dir, lrc, "read a group");
	} else {
		*out = ldap_count_entries(dir->ld, res) > 0;
	}
	ldap_msgfree(res);
	arena_free(a);
	return rc;
}

int directory_check_password(struct directory *dir, const char *user_dn, const char *password)
{
	struct berval cred;
	int lrc;

	/* an empty password is an unauthenticated bind, which directories accept */
	if (!password || !*password)
		return err_set(OTCM_EAUTH, "password", "wrong username or password");
	cred.bv_val = (char *)password;
	cred.bv_len = strlen(password);
	lrc = ldap_sasl_bind_s(dir->ld, user_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (lrc == LDAP_INVALID_CREDENTIALS)
		return err_set(OTCM_EAUTH, "password", "wrong username or password");
	if (lrc != LDAP_SUCCESS)
		return fail(dir, lrc, "check the password");
	return 0;
}
