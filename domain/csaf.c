/* domain/csaf.c - CSAF 2.0 documents: validation, products, matching; see csaf.h. */
#include "domain/csaf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

/* ---- validation ---- */

/* A JSON pointer being built while the document is walked. */
struct ptr {
	char s[128];
	size_t len;
};

static size_t ptr_push(struct ptr *p, const char *key)
{
	size_t was = p->len;
	int n = snprintf(p->s + p->len, sizeof(p->s) - p->len, "/%s", key);

	if (n > 0)
		p->len += (size_t)n < sizeof(p->s) - p->len ? (size_t)n : sizeof(p->s) - p->len - 1;
	return was;
}

static size_t ptr_index(struct ptr *p, size_t i)
{
	char n[24];

	snprintf(n, sizeof(n), "%zu", i);
	return ptr_push(p, n);
}

static void ptr_pop(struct ptr *p, size_t was)
{
	p->len = was;
	p->s[was] = '\0';
}

static int bad(const struct ptr *p, const char *what)
{
	return err_set(OTCM_EINVAL, p->len ? p->s : "/", "%s %s", p->len ? p->s : "the document", what);
}

static int bad_member(struct ptr *p, const char *key, const char *what)
{
	size_t was = ptr_push(p, key);
	int rc = bad(p, what);

	ptr_pop(p, was);
	return rc;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* A member that must be an object (required) or may be absent. */
static int want_object(const json_t **out, struct ptr *p, const json_t *o, const char *key, bool required)
{
	const json_t *v = json_object_get(o, key);

	*out = v;
	if (!v)
		return required ? bad_member(p, key, "is required") : 0;
	if (!json_is_object(v))
		return bad_member(p, key, "must be an object");
	return 0;
}

static int want_array(const json_t **out, struct ptr *p, const json_t *o, const char *key, bool required,
		      size_t min_items)
{
	const json_t *v = json_object_get(o, key);

	*out = v;
	if (!v)
		return required ? bad_member(p, key, "is required") : 0;
	if (!json_is_array(v))
		return bad_member(p, key, "must be an array");
	if (json_array_size(v) < min_items)
		return bad_member(p, key, "must not be empty");
	return 0;
}

/* A string member, non-empty, optionally one of `allowed`. */
static int want_string(const char **out, struct ptr *p, const json_t *o, const char *key, bool required,
		       const char *const *allowed)
{
	const json_t *v = json_object_get(o, key);
	const char *s;

	if (out)
		*out = NULL;
	if (!v)
		return required ? bad_member(p, key, "is required") : 0;
	if (!json_is_string(v))
		return bad_member(p, key, "must be a string");
	s = json_string_value(v);
	if (!*s)
		return bad_member(p, key, "must not be empty");
	if (allowed && !in_list(s, allowed)) {
		size_t was = ptr_push(p, key);
		int rc = err_set(OTCM_EINVAL, p->s, "%s '%.60s' is not a value CSAF 2.0 allows", p->s, s);

		ptr_pop(p, was);
		return rc;
	}
	if (out)
		*out = s;
	return 0;
}

/* RFC 3339 date-time as JSON schema's "date-time": 2024-01-04T07:00:00.000000Z or +01:00. */
static bool is_datetime(const char *s)
{
	size_t i = 0;
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) :
		    (shape[i] == 'T' ? (s[i] != 'T' && s[i] != 't') : s[i] != shape[i]))
			return false;
	}
	if (s[i] == '.') {
		i++;
		if (!isdigit((unsigned char)s[i]))
			return false;
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0')
		return true;
	return (s[i] == '+' || s[i] == '-') && isdigit((unsigned char)s[i + 1]) &&
	       isdigit((unsigned char)s[i + 2]) && s[i + 3] == ':' && isdigit((unsigned char)s[i + 4]) &&
	       isdigit((unsigned char)s[i + 5]) && s[i + 6] == '\0';
}

static int want_datetime(struct ptr *p, const json_t *o, const char *key, bool required)
{
	const char *s;
	int rc;

	if ((rc = want_string(&s, p, o, key, required, NULL)) || !s)
		return rc;
	if (!is_datetime(s))
		return bad_member(p, key, "must be an RFC 3339 date and time");
	return 0;
}

/* version_t: an integer version ("3") or a semantic version ("1.0.0-rc.1"). */
static bool is_version(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	if (s[n] == '\0')
		return true;
	/* semantic version: three dot-separated numbers, then anything printable */
	if (s[n] != '.' || !isdigit((unsigned char)s[n + 1]))
		return false;
	s += n + 1;
	s += strspn(s, "0123456789");
	if (*s != '.' || !isdigit((unsigned char)s[1]))
		return false;
	s += 1 + strspn(s + 1, "0123456789");
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+'))
			return false;
	return true;
}

static const char *const note_categories[] = {
	"description", "details", "faq", "general", "legal_disclaimer", "other", "summary", NULL
};

static int check_notes(struct ptr *p, const json_t *o)
{
	const json_t *notes, *n;
	size_t i, was;
	int rc;

	if ((rc = want_array(&notes, p, o, "notes", false, 1)) || !notes)
		return rc;
	was = ptr_push(p, "notes");
	json_array_foreach(notes, i, n) {
		size_t w = ptr_index(p, i);

		if (!json_is_object(n))
			return bad(p, "must be an object");
		if ((rc = want_string(NULL, p, n, "category", true, note_categories)) ||
		    (rc = want_string(NULL, p, n, "text", true, NULL)))
			return rc;
		ptr_pop(p, w);
	}
	ptr_pop(p, was);
	return 0;
}

static int check_references(struct ptr *p, const json_t *o)
{
	static const char *const cats[] = { "external", "self", NULL };
	const json_t *refs, *r;
	size_t i, was;
	int rc;

	if ((rc = want_array(&refs, p, o, "references", false, 1)) || !refs)
		return rc;
	was = ptr_push(p, "references");
	json_array_foreach(refs, i, r) {
		size_t w = ptr_index(p, i);

		if (!json_is_object(r))
			return bad(p, "must be an object");
		if ((rc = want_string(NULL, p, r, "category", false, cats)) ||
		    (rc = want_string(NULL, p, r, "summary", true, NULL)) ||
		    (rc = want_string(NULL, p, r, "url", true, NULL)))
			return rc;
		ptr_pop(p, w);
	}
	ptr_pop(p, was);
	return 0;
}

static int check_document(struct ptr *p, const json_t *doc, const char **out_category)
{
	static const char *const versions[] = { "2.0", NULL };
	static const char *const publishers[] = {
		"coordinator", "discoverer", "other", "translator", "user", "vendor", NULL
	};
	static const char *const statuses[] = { "draft", "final", "interim", NULL };
	static const char *const tlps[] = { "AMBER", "GREEN", "RED", "WHITE", NULL };
	const json_t *d, *pub, *tr, *hist, *h, *dist, *tlp;
	const char *cat, *id, *version;
	size_t i, was, w;
	int rc;

	if ((rc = want_object(&d, p, doc, "document", true)))
		return rc;
	was = ptr_push(p, "document");
	if ((rc = want_string(&cat, p, d, "category", true, NULL)))
		return rc;
	if (strchr(" -_.", cat[0]) || strchr(" -_.", cat[strlen(cat) - 1]))
		return bad_member(p, "category", "must not start or end with a space, '-', '_' or '.'");
	*out_category = cat;
	if ((rc = want_string(NULL, p, d, "csaf_version", true, versions)) ||
	    (rc = want_string(NULL, p, d, "title", true, NULL)) ||
	    (rc = want_string(NULL, p, d, "lang", false, NULL)) ||
	    (rc = want_object(&pub, p, d, "publisher", true)))
		return rc;
	w = ptr_push(p, "publisher");
	if ((rc = want_string(NULL, p, pub, "category", true, publishers)) ||
	    (rc = want_string(NULL, p, pub, "name", true, NULL)) ||
	    (rc = want_string(NULL, p, pub, "namespace", true, NULL)))
		return rc;
	ptr_pop(p, w);
	if ((rc = want_object(&tr, p, d, "tracking", true)))
		return rc;
	w = ptr_push(p, "tracking");
	if ((rc = want_datetime(p, tr, "current_release_date", true)) ||
	    (rc = want_datetime(p, tr, "initial_release_date", true)) ||
	    (rc = want_string(&id, p, tr, "id", true, NULL)) ||
	    (rc = want_string(NULL, p, tr, "status", true, statuses)) ||
	    (rc = want_string(&version, p, tr, "version", true, NULL)) ||
	    (rc = want_array(&hist, p, tr, "revision_history", true, 1)))
		return rc;
	if (isspace((unsigned char)id[0]) || isspace((unsigned char)id[strlen(id) - 1]))
		return bad_member(p, "id", "must not start or end with white space");
	if (!is_version(version))
		return bad_member(p, "version", "must be an integer or a semantic version");
	{
		size_t wh = ptr_push(p, "revision_history");

		json_array_foreach(hist, i, h) {
			size_t wi = ptr_index(p, i);

			if (!json_is_object(h))
				return bad(p, "must be an object");
			if ((rc = want_datetime(p, h, "date", true)) ||
			    (rc = want_string(NULL, p, h, "summary", true, NULL)))
				return rc;
			if ((rc = want_string(&version, p, h, "number", true, NULL)))
				return rc;
			if (!is_version(version))
				return bad_member(p, "number", "must be an integer or a semantic version");
			ptr_pop(p, wi);
		}
		ptr_pop(p, wh);
	}
	ptr_pop(p, w);
	if ((rc = want_object(&dist, p, d, "distribution", false)))
		return rc;
	if (dist) {
		w = ptr_push(p, "distribution");
		if ((rc = want_object(&tlp, p, dist, "tlp", false)))
			return rc;
		if (tlp) {
			size_t wt = ptr_push(p, "tlp");

			if ((rc = want_string(NULL, p, tlp, "label", true, tlps)))
				return rc;
			ptr_pop(p, wt);
		}
		ptr_pop(p, w);
	}
	if ((rc = check_notes(p, d)) || (rc = check_references(p, d)))
		return rc;
	ptr_pop(p, was);
	return 0;
}

/* cpe pattern of the schema: CPE 2.2 URI or CPE 2.3 formatted string (the prefix and parts). */
static bool is_cpe(const char *s)
{
	size_t colons = 0;

	if (strncmp(s, "cpe:/", 5) == 0)
		return s[5] == '\0' || strchr("aoh", s[5]) != NULL;
	if (strncmp(s, "cpe:2.3:", 8) != 0 || !s[8] || !strchr("aoh*-", s[8]))
		return false;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == ':')
			colons++;
	}
	return colons == 12;
}

static bool is_purl(const char *s)
{
	if (strncmp(s, "pkg:", 4) != 0)
		return false;
	s += 4;
	if (!(isalpha((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+'))
		return false;
	while (isalnum((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+')
		s++;
	return *s == '/' && s[1] != '\0';
}

static int check_helper(struct ptr *p, const json_t *prod)
{
	const json_t *h, *models, *m;
	const char *s;
	size_t i, was;
	int rc;

	if ((rc = want_object(&h, p, prod, "product_identification_helper", false)) || !h)
		return rc;
	was = ptr_push(p, "product_identification_helper");
	if ((rc = want_string(&s, p, h, "cpe", false, NULL)))
		return rc;
	if (s && !is_cpe(s))
		return bad_member(p, "cpe", "is not a CPE 2.2 URI or CPE 2.3 name");
	if ((rc = want_string(&s, p, h, "purl", false, NULL)))
		return rc;
	if (s && !is_purl(s))
		return bad_member(p, "purl", "is not a package URL");
	if ((rc = want_array(&models, p, h, "model_numbers", false, 1)))
		return rc;
	if (models) {
		size_t w = ptr_push(p, "model_numbers");

		json_array_foreach(models, i, m) {
			if (!json_is_string(m) || !*json_string_value(m)) {
				ptr_index(p, i);
				return bad(p, "must be a non-empty string");
			}
		}
		ptr_pop(p, w);
	}
	ptr_pop(p, was);
	return 0;
}

/* full_product_name_t: {name, product_id, product_identification_helper?}; adds the id to `ids`. */
static int check_product(struct ptr *p, const json_t *prod, json_t *ids)
{
	const char *id;
	int rc;

	if (!json_is_object(prod))
		return bad(p, "must be an object");
	if ((rc = want_string(NULL, p, prod, "name", true, NULL)) ||
	    (rc = want_string(&id, p, prod, "product_id", true, NULL)) ||
	    (rc = check_helper(p, prod)))
		return rc;
	json_object_set_new(ids, id, json_true());
	return 0;
}

static int check_branches(struct ptr *p, const json_t *branches, json_t *ids, int depth)
{
	static const char *const cats[] = {
		"architecture", "host_name", "language", "legacy", "patch_level", "product_family",
		"product_name", "product_version", "product_version_range", "service_pack",
		"specification", "vendor", NULL
	};
	const json_t *b, *sub, *prod;
	size_t i, was;
	int rc;

	if (depth > 30)
		return bad(p, "nests deeper than 30 levels");
	was = ptr_push(p, "branches");
	json_array_foreach(branches, i, b) {
		size_t w = ptr_index(p, i);

		if (!json_is_object(b))
			return bad(p, "must be an object");
		if ((rc = want_string(NULL, p, b, "category", true, cats)) ||
		    (rc = want_string(NULL, p, b, "name", true, NULL)) ||
		    (rc = want_array(&sub, p, b, "branches", false, 1)) ||
		    (rc = want_object(&prod, p, b, "product", false)))
			return rc;
		if (!sub == !prod)
			return bad(p, "must have either branches or a product");
		if (sub && (rc = check_branches(p, sub, ids, depth + 1)))
			return rc;
		if (prod) {
			size_t wp = ptr_push(p, "product");

			if ((rc = check_product(p, prod, ids)))
				return rc;
			ptr_pop(p, wp);
		}
		ptr_pop(p, w);
	}
	ptr_pop(p, was);
	return 0;
}

static int check_product_tree(struct ptr *p, const json_t *doc, json_t *ids, json_t *groups, bool required)
{
	static const char *const rel_cats[] = {
		"default_component_of", "external_component_of", "installed_on", "installed_with",
		"optional_component_of", NULL
	};
	const json_t *pt, *branches, *fpns, *rels, *grps, *e, *fpn;
	size_t i, was, w;
	int rc;

	if ((rc = want_object(&pt, p, doc, "product_tree", required)) || !pt)
		return rc;
	was = ptr_push(p, "product_tree");
	if ((rc = want_array(&branches, p, pt, "branches", false, 1)) ||
	    (branches && (rc = check_branches(p, branches, ids, 0))) ||
	    (rc = want_array(&fpns, p, pt, "full_product_names", false, 1)))
		return rc;
	if (fpns) {
		w = ptr_push(p, "full_product_names");
		json_array_foreach(fpns, i, e) {
			size_t wi = ptr_index(p, i);

			if ((rc = check_product(p, e, ids)))
				return rc;
			ptr_pop(p, wi);
		}
		ptr_pop(p, w);
	}
	if ((rc = want_array(&rels, p, pt, "relationships", false, 1)))
		return rc;
	if (rels) {
		w = ptr_push(p, "relationships");
		json_array_foreach(rels, i, e) {
			size_t wi = ptr_index(p, i), wf;

			if (!json_is_object(e))
				return bad(p, "must be an object");
			if ((rc = want_string(NULL, p, e, "category", true, rel_cats)) ||
			    (rc = want_string(NULL, p, e, "product_reference", true, NULL)) ||
			    (rc = want_string(NULL, p, e, "relates_to_product_reference", true, NULL)) ||
			    (rc = want_object(&fpn, p, e, "full_product_name", true)))
				return rc;
			wf = ptr_push(p, "full_product_name");
			if ((rc = check_product(p, fpn, ids)))
				return rc;
			ptr_pop(p, wf);
			ptr_pop(p, wi);
		}
		ptr_pop(p, w);
	}
	if ((rc = want_array(&grps, p, pt, "product_groups", false, 1)))
		return rc;
	if (grps) {
		w = ptr_push(p, "product_groups");
		json_array_foreach(grps, i, e) {
			size_t wi = ptr_index(p, i);
			const json_t *members;
			const char *gid;

			if (!json_is_object(e))
				return bad(p, "must be an object");
			if ((rc = want_string(&gid, p, e, "group_id", true, NULL)) ||
			    (rc = want_array(&members, p, e, "product_ids", true, 2)))
				return rc;
			json_object_set_new(groups, gid, json_true());
			ptr_pop(p, wi);
		}
		ptr_pop(p, w);
	}
	ptr_pop(p, was);
	return 0;
}

/* An array of product ids (or group ids) each defined in `known`. */
static int check_id_list(struct ptr *p, const json_t *o, const char *key, const json_t *known,
			 bool required, const char *what)
{
	const json_t *list, *e;
	size_t i, was;
	int rc;

	if ((rc = want_array(&list, p, o, key, required, 1)) || !list)
		return rc;
	was = ptr_push(p, key);
	json_array_foreach(list, i, e) {
		size_t w = ptr_index(p, i);

		if (!json_is_string(e) || !*json_string_value(e))
			return bad(p, "must be a non-empty string");
		if (!json_object_get(known, json_string_value(e))) {
			int r = err_set(OTCM_EINVAL, p->s, "%s names %s '%.60s', which the product tree does not define",
					p->s, what, json_string_value(e));

			return r;
		}
		ptr_pop(p, w);
	}
	ptr_pop(p, was);
	return 0;
}

static bool is_cve(const char *s)
{
	size_t n;

	if (strncmp(s, "CVE-", 4) != 0 || strspn(s + 4, "0123456789") != 4 || s[8] != '-')
		return false;
	n = strspn(s + 9, "0123456789");
	return n >= 4 && s[9 + n] == '\0';
}

static int check_cvss3(struct ptr *p, const json_t *c)
{
	static const char *const versions[] = { "3.0", "3.1", NULL };
	static const char *const sev[] = { "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL", NULL };
	const json_t *score;
	const char *vector;
	int rc;

	if ((rc = want_string(NULL, p, c, "version", true, versions)) ||
	    (rc = want_string(&vector, p, c, "vectorString", true, NULL)) ||
	    (rc = want_string(NULL, p, c, "baseSeverity", true, sev)))
		return rc;
	if (strncmp(vector, "CVSS:3.", 7) != 0)
		return bad_member(p, "vectorString", "must be a CVSS v3 vector (CVSS:3.x/...)");
	score = json_object_get(c, "baseScore");
	if (!score)
		return bad_member(p, "baseScore", "is required");
	if (!json_is_number(score) || json_number_value(score) < 0 || json_number_value(score) > 10)
		return bad_member(p, "baseScore", "must be a number from 0 to 10");
	return 0;
}

static int check_vulnerability(struct ptr *p, const json_t *v, const json_t *ids, const json_t *groups,
			       bool vex)
{
	static const char *const statuses[] = {
		"first_affected", "first_fixed", "fixed", "known_affected", "known_not_affected",
		"last_affected", "recommended", "under_investigation", NULL
	};
	static const char *const rem_cats[] = {
		"mitigation", "no_fix_planned", "none_available", "vendor_fix", "workaround", NULL
	};
	static const char *const flag_labels[] = {
		"component_not_present", "inline_mitigations_already_exist",
		"vulnerable_code_cannot_be_controlled_by_adversary", "vulnerable_code_not_in_execute_path",
		"vulnerable_code_not_present", NULL
	};
	static const char *const threat_cats[] = { "exploit_status", "impact", "target_set", NULL };
	const json_t *ps, *scores, *rems, *flags, *threats, *cwe, *e, *member;
	const char *cve, *key;
	size_t i, w;
	int rc;

	if (!json_is_object(v))
		return bad(p, "must be an object");
	if ((rc = want_string(&cve, p, v, "cve", false, NULL)))
		return rc;
	if (cve && !is_cve(cve))
		return bad_member(p, "cve", "must be a CVE id such as CVE-2024-12345");
	if ((rc = want_object(&cwe, p, v, "cwe", false)))
		return rc;
	if (cwe) {
		const char *id;

		w = ptr_push(p, "cwe");
		if ((rc = want_string(&id, p, cwe, "id", true, NULL)) ||
		    (rc = want_string(NULL, p, cwe, "name", true, NULL)))
			return rc;
		if (strncmp(id, "CWE-", 4) != 0 || !isdigit((unsigned char)id[4]) ||
		    strspn(id + 4, "0123456789") != strlen(id + 4))
			return bad_member(p, "id", "must be a CWE id such as CWE-787");
		ptr_pop(p, w);
	}
	if ((rc = check_notes(p, v)) || (rc = check_references(p, v)) ||
	    (rc = want_object(&ps, p, v, "product_status", vex)))
		return rc;
	if (ps) {
		w = ptr_push(p, "product_status");
		if (json_object_size(ps) == 0)
			return bad(p, "must name at least one status");
		json_object_foreach((json_t *)ps, key, member) {
			if (!in_list(key, statuses))
				return bad_member(p, key, "is not a product status of CSAF 2.0");
			if ((rc = check_id_list(p, ps, key, ids, true, "product")))
				return rc;
		}
		ptr_pop(p, w);
	}
	if ((rc = want_array(&scores, p, v, "scores", false, 1)))
		return rc;
	if (scores) {
		w = ptr_push(p, "scores");
		json_array_foreach(scores, i, e) {
			size_t wi = ptr_index(p, i);
			const json_t *c3, *c2;

			if (!json_is_object(e))
				return bad(p, "must be an object");
			if ((rc = check_id_list(p, e, "products", ids, true, "product")) ||
			    (rc = want_object(&c3, p, e, "cvss_v3", false)) ||
			    (rc = want_object(&c2, p, e, "cvss_v2", false)))
				return rc;
			if (!c3 && !c2)
				return bad(p, "must carry cvss_v3 or cvss_v2");
			if (c3) {
				size_t wc = ptr_push(p, "cvss_v3");

				if ((rc = check_cvss3(p, c3)))
					return rc;
				ptr_pop(p, wc);
			}
			ptr_pop(p, wi);
		}
		ptr_pop(p, w);
	}
	if ((rc = want_array(&rems, p, v, "remediations", false, 1)))
		return rc;
	if (rems) {
		w = ptr_push(p, "remediations");
		json_array_foreach(rems, i, e) {
			size_t wi = ptr_index(p, i);

			if (!json_is_object(e))
				return bad(p, "must be an object");
			if ((rc = want_string(NULL, p, e, "category", true, rem_cats)) ||
			    (rc = want_string(NULL, p, e, "details", true, NULL)) ||
			    (rc = check_id_list(p, e, "product_ids", ids, false, "product")) ||
			    (rc = check_id_list(p, e, "group_ids", groups, false, "product group")))
				return rc;
			ptr_pop(p, wi);
		}
		ptr_pop(p, w);
	}
	if ((rc = want_array(&flags, p, v, "flags", false, 1)))
		return rc;
	if (flags) {
		w = ptr_push(p, "flags");
		json_array_foreach(flags, i, e) {
			size_t wi = ptr_index(p, i);

			if (!json_is_object(e))
				return bad(p, "must be an object");
			if ((rc = want_string(NULL, p, e, "label", true, flag_labels)) ||
			    (rc = check_id_list(p, e, "product_ids", ids, false, "product")) ||
			    (rc = check_id_list(p, e, "group_ids", groups, false, "product group")))
				return rc;
			ptr_pop(p, wi);
		}
		ptr_pop(p, w);
	}
	if ((rc = want_array(&threats, p, v, "threats", false, 1)))
		return rc;
	if (threats) {
		w = ptr_push(p, "threats");
		json_array_foreach(threats, i, e) {
			size_t wi = ptr_index(p, i);

			if (!json_is_object(e))
				return bad(p, "must be an object");
			if ((rc = want_string(NULL, p, e, "category", true, threat_cats)) ||
			    (rc = want_string(NULL, p, e, "details", true, NULL)))
				return rc;
			ptr_pop(p, wi);
		}
		ptr_pop(p, w);
	}
	return 0;
}

int csaf_validate(const json_t *doc)
{
	static const char *const top[] = { "$schema", "document", "product_tree", "vulnerabilities", NULL };
	struct ptr p = { "", 0 };
	const json_t *vulns, *v, *member;
	json_t *ids = NULL, *groups = NULL;
	const char *category = NULL, *key;
	bool vex;
	size_t i, was;
	int rc;

	if (!json_is_object(doc))
		return err_set(OTCM_EINVAL, "/", "a CSAF document is a JSON object");
	json_object_foreach((json_t *)doc, key, member) {
		if (!in_list(key, top))
			return bad_member(&p, key, "is not a member of a CSAF 2.0 document");
	}
	if ((rc = check_document(&p, doc, &category)))
		return rc;
	vex = strcmp(category, "csaf_vex") == 0;
	ids = json_object();
	groups = json_object();
	if ((rc = check_product_tree(&p, doc, ids, groups, vex)) ||
	    (rc = want_array(&vulns, &p, doc, "vulnerabilities", vex, 1)))
		goto out;
	if (vulns) {
		was = ptr_push(&p, "vulnerabilities");
		json_array_foreach(vulns, i, v) {
			size_t w = ptr_index(&p, i);

			if ((rc = check_vulnerability(&p, v, ids, groups, vex)))
				goto out;
			ptr_pop(&p, w);
		}
		ptr_pop(&p, was);
	}
out:
	json_decref(ids);
	json_decref(groups);
	return rc;
}

/* ---- products ---- */

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

struct walk {
	const char *vendor, *product, *version;
	bool range;
};

static json_t *product_json(const json_t *prod, const struct walk *w)
{
	const json_t *h = json_object_get(prod, "product_identification_helper");
	const json_t *models = json_object_get(h, "model_numbers");
	json_t *o = json_object();

	json_object_set_new(o, "product_id", json_string(str_or(prod, "product_id", "")));
	json_object_set_new(o, "name", json_string(str_or(prod, "name", "")));
	json_object_set_new(o, "vendor", json_string(w->vendor ? w->vendor : ""));
	json_object_set_new(o, "product", json_string(w->product ? w->product : ""));
	json_object_set_new(o, "version", json_string(w->version ? w->version : ""));
	json_object_set_new(o, "range", json_boolean(w->range));
	json_object_set_new(o, "model_numbers", json_is_array(models) ? json_deep_copy(models) : json_array());
	json_object_set_new(o, "cpe", json_string(str_or(h, "cpe", "")));
	json_object_set_new(o, "purl", json_string(str_or(h, "purl", "")));
	return o;
}

static void walk_branches(json_t *out, const json_t *branches, struct walk w, int depth)
{
	const json_t *b;
	size_t i;

	if (depth > 30)
		return;
	json_array_foreach(branches, i, b) {
		struct walk here = w;
		const char *cat = str_or(b, "category", ""), *name = str_or(b, "name", "");

		if (strcmp(cat, "vendor") == 0) {
			here.vendor = name;
		} else if (strcmp(cat, "product_name") == 0) {
			here.product = name;
		} else if (strcmp(cat, "product_family") == 0) {
			if (!here.product)
				here.product = name;
		} else if (strcmp(cat, "product_version") == 0) {
			here.version = name;
			here.range = false;
		} else if (strcmp(cat, "product_version_range") == 0) {
			here.version = name;
			here.range = true;
		}
		if (json_is_object(json_object_get(b, "product")))
			json_array_append_new(out, product_json(json_object_get(b, "product"), &here));
		if (json_is_array(json_object_get(b, "branches")))
			walk_branches(out, json_object_get(b, "branches"), here, depth + 1);
	}
}

int csaf_products(json_t **out, const json_t *doc)
{
	const json_t *pt = json_object_get(doc, "product_tree"), *e;
	struct walk none = { NULL, NULL, NULL, false };
	json_t *list = json_array();
	size_t i, j, n;

	walk_branches(list, json_object_get(pt, "branches"), none, 0);
	json_array_foreach(json_object_get(pt, "full_product_names"), i, e)
		json_array_append_new(list, product_json(e, &none));
	/* a relationship's product is its referenced product, placed somewhere */
	n = json_array_size(list);
	json_array_foreach(json_object_get(pt, "relationships"), i, e) {
		const char *ref = str_or(e, "product_reference", "");
		struct walk w = none;

		for (j = 0; j < n; j++) {
			const json_t *p = json_array_get(list, j);

			if (strcmp(str_or(p, "product_id", ""), ref) == 0) {
				w.vendor = str_or(p, "vendor", NULL);
				w.product = str_or(p, "product", NULL);
				w.version = str_or(p, "version", NULL);
				w.range = json_is_true(json_object_get(p, "range"));
				break;
			}
		}
		json_array_append_new(list, product_json(json_object_get(e, "full_product_name"), &w));
	}
	*out = list;
	return 0;
}

/* ---- summary ---- */

const char *csaf_severity(double score)
{
	if (score >= 9.0)
		return "critical";
	if (score >= 7.0)
		return "high";
	if (score >= 4.0)
		return "medium";
	if (score > 0.0)
		return "low";
	return "none";
}

/* The ids of `ps`'s lists named in `keys`, in one array. */
static json_t *status_ids(const json_t *ps, const char *const *keys)
{
	json_t *ids = json_array(), *seen = json_object();
	const json_t *e;
	size_t i;

	for (; *keys; keys++) {
		json_array_foreach(json_object_get(ps, *keys), i, e) {
			if (json_is_string(e) && !json_object_get(seen, json_string_value(e))) {
				json_object_set_new(seen, json_string_value(e), json_true());
				json_array_append(ids, (json_t *)e);
			}
		}
	}
	json_decref(seen);
	return ids;
}

int csaf_summary(json_t **out, const json_t *doc)
{
	static const char *const affected[] = {
		"known_affected", "first_affected", "last_affected", "under_investigation", NULL
	};
	static const char *const fixed[] = { "fixed", "first_fixed", NULL };
	static const char *const not_affected[] = { "known_not_affected", NULL };
	const json_t *d = json_object_get(doc, "document"), *tr = json_object_get(d, "tracking");
	const json_t *v, *s, *r;
	json_t *o = json_object(), *vulns = json_array();
	double max = -1;
	size_t i, j;

	json_object_set_new(o, "tracking_id", json_string(str_or(tr, "id", "")));
	json_object_set_new(o, "title", json_string(str_or(d, "title", "")));
	json_object_set_new(o, "publisher", json_string(str_or(json_object_get(d, "publisher"), "name", "")));
	json_object_set_new(o, "category", json_string(str_or(d, "category", "")));
	json_object_set_new(o, "status", json_string(str_or(tr, "status", "")));
	json_object_set_new(o, "version", json_string(str_or(tr, "version", "")));
	json_object_set_new(o, "initial_release_date", json_string(str_or(tr, "initial_release_date", "")));
	json_object_set_new(o, "current_release_date", json_string(str_or(tr, "current_release_date", "")));
	json_object_set_new(o, "tlp", json_string(str_or(json_object_get(json_object_get(d, "distribution"), "tlp"),
							  "label", "")));
	json_array_foreach(json_object_get(doc, "vulnerabilities"), i, v) {
		const json_t *ps = json_object_get(v, "product_status");
		json_t *e = json_object(), *rems = json_array(), *cvss = json_null();
		double best = -1;

		json_object_set_new(e, "cve", json_string(str_or(v, "cve", "")));
		json_object_set_new(e, "title", json_string(str_or(v, "title", "")));
		json_object_set_new(e, "cwe", json_string(str_or(json_object_get(v, "cwe"), "id", "")));
		json_array_foreach(json_object_get(v, "scores"), j, s) {
			const json_t *c3 = json_object_get(s, "cvss_v3");
			double score = json_number_value(json_object_get(c3, "baseScore"));

			if (c3 && score > best) {
				best = score;
				json_decref(cvss);
				cvss = json_pack("{s:f, s:s, s:s}", "score", score, "vector",
						 str_or(c3, "vectorString", ""), "severity", csaf_severity(score));
			}
		}
		if (best > max)
			max = best;
		json_object_set_new(e, "cvss", cvss);
		json_object_set_new(e, "affected", status_ids(ps, affected));
		json_object_set_new(e, "fixed", status_ids(ps, fixed));
		json_object_set_new(e, "not_affected", status_ids(ps, not_affected));
		json_array_foreach(json_object_get(v, "remediations"), j, r) {
			json_t *rem = json_object();
			const json_t *ids = json_object_get(r, "product_ids");

			json_object_set_new(rem, "category", json_string(str_or(r, "category", "")));
			json_object_set_new(rem, "details", json_string(str_or(r, "details", "")));
			json_object_set_new(rem, "url", json_object_get(r, "url") ?
							json_string(str_or(r, "url", "")) : json_null());
			json_object_set_new(rem, "product_ids", json_is_array(ids) ? json_deep_copy(ids) : json_array());
			json_array_append_new(rems, rem);
		}
		json_object_set_new(e, "remediations", rems);
		json_array_append_new(vulns, e);
	}
	json_object_set_new(o, "cvss", max >= 0 ? json_real(max) : json_null());
	json_object_set_new(o, "severity", json_string(max >= 0 ? csaf_severity(max) : "none"));
	json_object_set_new(o, "vulnerabilities", vulns);
	*out = o;
	return 0;
}

/* ---- versions ---- */

/* Skip "V", "v", "Ver.", "Version", "FW", "R" prefixes before a digit. */
static const char *version_start(const char *s)
{
	static const char *const prefixes[] = { "version", "ver.", "ver", "fw", "v", "r", NULL };
	size_t i, n;

	while (*s == ' ')
		s++;
	for (i = 0; prefixes[i]; i++) {
		n = strlen(prefixes[i]);
		if (strncasecmp(s, prefixes[i], n) == 0) {
			const char *t = s + n;

			while (*t == ' ' || *t == '_')
				t++;
			if (isdigit((unsigned char)*t))
				return t;
		}
	}
	return s;
}

/* The next token of a version: a digit run or a letter run; separators skipped. */
static bool version_token(const char **s, const char **out, size_t *out_len, bool *out_num)
{
	const char *p = *s;

	while (*p && !isalnum((unsigned char)*p))
		p++;
	if (!*p)
		return false;
	*out = p;
	*out_num = isdigit((unsigned char)*p) != 0;
	if (*out_num)
		while (isdigit((unsigned char)*p))
			p++;
	else
		while (isalpha((unsigned char)*p))
			p++;
	*out_len = (size_t)(p - *out);
	*s = p;
	return true;
}

static int cmp_num(const char *a, size_t an, const char *b, size_t bn)
{
	while (an > 1 && *a == '0') {
		a++;
		an--;
	}
	while (bn > 1 && *b == '0') {
		b++;
		bn--;
	}
	if (an != bn)
		return an < bn ? -1 : 1;
	return memcmp(a, b, an);
}

int csaf_version_cmp(const char *a, const char *b)
{
	const char *ta, *tb;
	size_t na, nb;
	bool da, db, ha, hb;
	int c;

	a = version_start(a);
	b = version_start(b);
	for (;;) {
		ha = version_token(&a, &ta, &na, &da);
		hb = version_token(&b, &tb, &nb, &db);
		if (!ha || !hb)
			return ha ? 1 : (hb ? -1 : 0);
		if (da != db)
			return da ? 1 : -1;   /* 1.0.1 > 1.0a: a number outranks a letter */
		if (da) {
			c = cmp_num(ta, na, tb, nb);
		} else {
			size_t n = na < nb ? na : nb;

			c = strncasecmp(ta, tb, n);
			if (c == 0 && na != nb)
				c = na < nb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
	}
}

/* Does the string hold a digit (a version one can compare)? */
static bool has_digit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i]))
			return true;
	return false;
}

/* The leading number of a version ("V33.017" -> 33), or -1. */
static long major_of(const char *s)
{
	s = version_start(s);
	while (*s && !isdigit((unsigned char)*s))
		s++;
	return *s ? strtol(s, NULL, 10) : -1;
}

enum op { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE, OP_NE };

struct constraint {
	enum op op;
	char v[96];
};

static size_t parse_op(const char *s, enum op *op)
{
	if (strncmp(s, "<=", 2) == 0) { *op = OP_LE; return 2; }
	if (strncmp(s, ">=", 2) == 0) { *op = OP_GE; return 2; }
	if (strncmp(s, "!=", 2) == 0) { *op = OP_NE; return 2; }
	if (*s == '<') { *op = OP_LT; return 1; }
	if (*s == '>') { *op = OP_GT; return 1; }
	if (*s == '=') { *op = OP_EQ; return 1; }
	*op = OP_EQ;
	return 0;
}

static bool satisfies(const char *version, const struct constraint *c)
{
	int r = csaf_version_cmp(version, c->v);

	switch (c->op) {
	case OP_EQ: return r == 0;
	case OP_NE: return r != 0;
	case OP_LT: return r < 0;
	case OP_LE: return r <= 0;
	case OP_GT: return r > 0;
	case OP_GE: return r >= 0;
	}
	return false;
}

/*
 * '<' over fixed versions of several lines: "<V33.017_V34.014" or
 * "<v36.011_v35.013".  1, 0, or -1 when `v` is not such a list.
 */
static int below_fixed_lines(const char *version, const char *list)
{
	char parts[8][96];
	size_t n = 0, i;
	const char *s = list;
	long major = major_of(version), newest = -1;

	while (*s && n < 8) {
		size_t len = strcspn(s, "_");

		if (len >= sizeof(parts[0]))
			return -1;
		memcpy(parts[n], s, len);
		parts[n][len] = '\0';
		s += len;
		if (*s == '_')
			s++;
		/* a part that does not start like a version ends the list: "V17_Update_7" is one version */
		if (!(isdigit((unsigned char)parts[n][0]) ||
		      ((parts[n][0] == 'V' || parts[n][0] == 'v') && isdigit((unsigned char)parts[n][1]))))
			return -1;
		n++;
	}
	if (n < 2 || *s)
		return -1;
	for (i = 0; i < n; i++) {
		if (major_of(parts[i]) == major)
			return csaf_version_cmp(version, parts[i]) < 0;
		if (major_of(parts[i]) > newest)
			newest = major_of(parts[i]);
	}
	return major < newest;
}

/*
 * The version of one constraint, from `s` (len bytes): surrounding spaces
 * trimmed, and of several words the last one that starts like a version
 * (Siemens writes "< CPCI85 V05.20").  false when nothing is left.
 */
static bool constraint_version(char *out, size_t cap, const char *s, size_t len)
{
	const char *last = NULL, *p;

	while (len && *s == ' ') {
		s++;
		len--;
	}
	while (len && s[len - 1] == ' ')
		len--;
	if (len == 0 || len >= cap)
		return false;
	for (p = s; p < s + len; p++) {
		if ((p == s || p[-1] == ' ') &&
		    (isdigit((unsigned char)*p) || ((*p == 'V' || *p == 'v') && isdigit((unsigned char)p[1]))))
			last = p;
	}
	if (last && memchr(s, ' ', len)) {
		len -= (size_t)(last - s);
		s = last;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

int csaf_version_in(const char *version, const char *spec, bool range)
{
	struct constraint c[16];
	size_t n = 0, i;
	const char *s = spec;
	bool vers = false;

	if (!spec)
		return -1;
	while (*s == ' ')
		s++;
	if (strncasecmp(s, "all versions", 12) == 0) {
		s += 12;
		while (*s == ' ' || *s == ':')
			s++;
		/* "All versions", or "All versions < V3.0" as Siemens writes a range */
		if (!*s || !strchr("<>=!", *s))
			return *s && strncasecmp(s, "with", 4) != 0 ? -1 : 1;
		range = true;
	} else if (strcasecmp(s, "all") == 0) {
		return 1;
	}
	if (strncmp(s, "vers:", 5) == 0) {
		const char *slash = strchr(s, '/');

		if (!slash)
			return -1;
		s = slash + 1;
		vers = true;
		if (*s == '*')
			return 1;
	}
	if (!version || !*version || !has_digit(version, strlen(version)))
		return -1;
	if (!range && !vers && (!*s || !strchr("<>=!", *s))) {
		if (!has_digit(s, strlen(s)))
			return -1;
		return csaf_version_cmp(version, s) == 0;
	}
	while (*s && n < sizeof(c) / sizeof(c[0])) {
		size_t len;

		while (*s == ' ' || *s == '|')
			s++;
		if (!*s)
			break;
		s += parse_op(s, &c[n].op);
		/* up to the next '|', or a comparator after a space: ">= V2.0 < V3.0" */
		for (len = 0; s[len] && s[len] != '|'; len++)
			if (len > 0 && s[len - 1] == ' ' && strchr("<>=!", s[len]))
				break;
		if (!constraint_version(c[n].v, sizeof(c[n].v), s, len) || !has_digit(c[n].v, strlen(c[n].v)))
			return -1;
		/* free text before the version ("<with_Palo_Alto_..._V11.0.1", "<May_1_2024"): undecidable */
		if (!isdigit((unsigned char)*version_start(c[n].v)))
			return -1;
		s += len;
		n++;
	}
	if (*s || n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (c[i].op == OP_LT && n == 1) {
			int r = below_fixed_lines(version, c[i].v);

			if (r >= 0)
				return r;
		}
		if ((c[i].op == OP_GT || c[i].op == OP_GE) && i + 1 < n &&
		    (c[i + 1].op == OP_LT || c[i + 1].op == OP_LE)) {
			if (satisfies(version, &c[i]) && satisfies(version, &c[i + 1]))
				return 1;
			i++;
			continue;
		}
		if (c[i].op == OP_NE) {
			if (!satisfies(version, &c[i]))
				return 0;
			continue;
		}
		if (satisfies(version, &c[i]))
			return 1;
	}
	return 0;
}

/* ---- matching ---- */

/* Lower-case letters and digits of `s` into out (capped). */
static void squash(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < cap; s++)
		if (isalnum((unsigned char)*s))
			out[n++] = (char)tolower((unsigned char)*s);
	out[n] = '\0';
}

static bool vendor_matches(const char *product_vendor, const char *asset_vendor)
{
	char a[128], b[128];

	squash(a, sizeof(a), product_vendor);
	squash(b, sizeof(b), asset_vendor);
	if (strlen(a) < 3 || strlen(b) < 3)
		return false;
	return strstr(a, b) != NULL || strstr(b, a) != NULL;
}

/* Words of `s`: lower-case runs of letters and digits, at most `max`. */
static size_t words(char out[][48], size_t max, const char *s)
{
	size_t n = 0;

	while (s && *s && n < max) {
		size_t len = 0;

		while (*s && !isalnum((unsigned char)*s))
			s++;
		while (*s && isalnum((unsigned char)*s)) {
			if (len + 1 < sizeof(out[0]))
				out[n][len++] = (char)tolower((unsigned char)*s);
			s++;
		}
		if (len) {
			out[n][len] = '\0';
			n++;
		}
	}
	return n;
}

/* Is the run `small` (ns words) found contiguously in `big`? */
static bool run_in(char small[][48], size_t ns, char big[][48], size_t nb)
{
	size_t i, j;

	for (i = 0; ns && i + ns <= nb; i++) {
		for (j = 0; j < ns; j++)
			if (strcmp(small[j], big[i + j]) != 0)
				break;
		if (j == ns)
			return true;
	}
	return false;
}

static bool significant(char w[][48], size_t n)
{
	size_t i, letters = 0;

	for (i = 0; i < n; i++) {
		if (has_digit(w[i], strlen(w[i])))
			return true;
		letters += strlen(w[i]);
	}
	return letters >= 4;
}

static bool name_matches(const char *product, const char *vendor, const char *model)
{
	char p[40][48], m[24][48], v[8][48];
	size_t np, nm, nv, skip = 0;

	np = words(p, 40, product);
	nm = words(m, 24, model);
	nv = words(v, 8, vendor);
	/* "Siemens SIMATIC S7-1500": the vendor's name is no part of the product's */
	while (skip < nv && skip < np && strcmp(p[skip], v[skip]) == 0)
		skip++;
	if (np - skip == 0 || nm == 0)
		return false;
	if (nm <= np - skip)
		return significant(m, nm) && run_in(m, nm, p + skip, np - skip);
	return significant(p + skip, np - skip) && run_in(p + skip, np - skip, m, nm);
}

/* Glob with '*' and '?' over squashed upper-case strings. */
static bool glob(const char *pat, const char *s)
{
	if (*pat == '\0')
		return *s == '\0';
	if (*pat == '*')
		return glob(pat + 1, s) || (*s && glob(pat, s + 1));
	if (*s && (*pat == '?' || *pat == *s))
		return glob(pat + 1, s + 1);
	return false;
}

static void squash_model(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < cap; s++)
		if (isalnum((unsigned char)*s) || *s == '*' || *s == '?')
			out[n++] = (char)toupper((unsigned char)*s);
	out[n] = '\0';
}

static bool model_number_matches(const json_t *models, const char *id)
{
	char want[128], pat[128];
	const json_t *m;
	size_t i;

	squash_model(want, sizeof(want), id);
	if (!*want)
		return false;
	json_array_foreach(models, i, m) {
		squash_model(pat, sizeof(pat), json_string_value(m));
		if (*pat && glob(pat, want))
			return true;
	}
	return false;
}

/* Component `idx` of a CPE name (2.3 formatted string or 2.2 URI), squashed, into out. */
static bool cpe_part(char *out, size_t cap, const char *cpe, int idx)
{
	const char *s;
	int at;

	if (strncmp(cpe, "cpe:2.3:", 8) == 0) {
		s = cpe + 8;
		at = 2;   /* part, vendor, product, version: 2, 3, 4, 5 */
	} else if (strncmp(cpe, "cpe:/", 5) == 0) {
		s = cpe + 5;
		at = 2;
	} else {
		return false;
	}
	while (at < idx && *s) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == ':')
			at++;
		s++;
	}
	if (at != idx) {
		out[0] = '\0';
		return true;
	}
	{
		size_t n = 0;

		while (*s && *s != ':' && n + 1 < cap) {
			if (*s == '\\' && s[1])
				s++;
			out[n++] = (char)tolower((unsigned char)*s);
			s++;
		}
		out[n] = '\0';
	}
	return true;
}

/* pkg:type/namespace/name without version, qualifiers or subpath, lower-cased. */
static void purl_base(char *out, size_t cap, const char *purl)
{
	size_t n = strcspn(purl, "@?#"), i;

	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)purl[i]);
	out[n] = '\0';
}

static enum csaf_match version_verdict(const json_t *product, const char *firmware, const char **out_reason,
				       const char *matched_by)
{
	const char *spec = str_or(product, "version", "");
	int r;

	if (!*spec) {
		*out_reason = matched_by;
		return CSAF_MATCH_VERSION;
	}
	r = csaf_version_in(firmware, spec, json_is_true(json_object_get(product, "range")));
	if (r == 0) {
		*out_reason = "version outside the affected range";
		return CSAF_MATCH_NO;
	}
	*out_reason = r == 1 ? matched_by : "product matches; version not decidable";
	return r == 1 ? CSAF_MATCH_YES : CSAF_MATCH_VERSION;
}

enum csaf_match csaf_match(const json_t *product, const struct csaf_asset *a, const char **out_reason)
{
	const char *pcpe = str_or(product, "cpe", ""), *ppurl = str_or(product, "purl", "");
	const json_t *models = json_object_get(product, "model_numbers");
	char x[128], y[128];

	*out_reason = "no match";
	if (*pcpe && a->cpe && *a->cpe) {
		char pv[64], av[64];

		if (!cpe_part(x, sizeof(x), pcpe, 3) || !cpe_part(y, sizeof(y), a->cpe, 3) || strcmp(x, y) != 0 ||
		    !cpe_part(x, sizeof(x), pcpe, 4) || !cpe_part(y, sizeof(y), a->cpe, 4) || strcmp(x, y) != 0) {
			*out_reason = "CPE names another product";
			return CSAF_MATCH_NO;
		}
		cpe_part(pv, sizeof(pv), pcpe, 5);
		cpe_part(av, sizeof(av), a->cpe, 5);
		if (*pv && strcmp(pv, "*") != 0 && strcmp(pv, "-") != 0) {
			const char *mine = (*av && strcmp(av, "*") != 0 && strcmp(av, "-") != 0) ? av : a->firmware;

			if (!mine || !*mine) {
				*out_reason = "CPE matches; version not decidable";
				return CSAF_MATCH_VERSION;
			}
			*out_reason = csaf_version_cmp(mine, pv) == 0 ? "CPE" : "CPE version differs";
			return csaf_version_cmp(mine, pv) == 0 ? CSAF_MATCH_YES : CSAF_MATCH_NO;
		}
		return version_verdict(product, a->firmware, out_reason, "CPE");
	}
	if (*ppurl && a->purl && *a->purl) {
		purl_base(x, sizeof(x), ppurl);
		purl_base(y, sizeof(y), a->purl);
		if (strcmp(x, y) != 0) {
			*out_reason = "PURL names another package";
			return CSAF_MATCH_NO;
		}
		if (strchr(ppurl, '@')) {
			const char *pv = strchr(ppurl, '@') + 1, *av = strchr(a->purl, '@');
			char v1[64], v2[64];

			snprintf(v1, sizeof(v1), "%.*s", (int)strcspn(pv, "?#"), pv);
			if (av)
				snprintf(v2, sizeof(v2), "%.*s", (int)strcspn(av + 1, "?#"), av + 1);
			else
				snprintf(v2, sizeof(v2), "%s", a->firmware ? a->firmware : "");
			if (!*v2) {
				*out_reason = "PURL matches; version not decidable";
				return CSAF_MATCH_VERSION;
			}
			*out_reason = csaf_version_cmp(v1, v2) == 0 ? "PURL" : "PURL version differs";
			return csaf_version_cmp(v1, v2) == 0 ? CSAF_MATCH_YES : CSAF_MATCH_NO;
		}
		return version_verdict(product, a->firmware, out_reason, "PURL");
	}
	if (!vendor_matches(str_or(product, "vendor", ""), a->vendor)) {
		*out_reason = "another vendor";
		return CSAF_MATCH_NO;
	}
	if (json_array_size(models) > 0 && ((a->order_number && *a->order_number) || (a->model && *a->model))) {
		if ((a->order_number && *a->order_number && model_number_matches(models, a->order_number)) ||
		    (a->model && *a->model && model_number_matches(models, a->model)))
			return version_verdict(product, a->firmware, out_reason, "model number");
		if (a->order_number && *a->order_number) {
			*out_reason = "order number not among the model numbers";
			return CSAF_MATCH_NO;
		}
	}
	if (!name_matches(str_or(product, "product", str_or(product, "name", "")), str_or(product, "vendor", ""),
			  a->model)) {
		*out_reason = "another product";
		return CSAF_MATCH_NO;
	}
	return version_verdict(product, a->firmware, out_reason, "vendor, product name and version");
}
