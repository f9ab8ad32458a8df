/*
 * bench/scale_gen.c - the rows of a year of a large plant, for
 * bench/scale.sh: users, assets, their versions as real git objects
 * (blob, tree, commit chained by parent) with refs, changes over two assets
 * each, and an audit trail hash-chained exactly as storage/audit.c chains
 * it (audit_canonical, audit_chain_hash), written as PostgreSQL COPY text,
 * one file per table, into OUTDIR:
 *
 *     scale_gen OUTDIR ASSETS VERSIONS CHANGES EVENTS FROM_US TO_US
 *
 * Ids start at 1 (a freshly migrated database).  Events are spread evenly
 * over FROM_US..TO_US (microseconds since the epoch): users, then assets,
 * then ten rounds of one version per asset and a tenth of the changes, and
 * between them logins up to EVENTS.  The same arguments give the same bytes.
 * Prints "SEQ HASH" of the last event.  Not part of otcm.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/merkle.h"
#include "core/timeutil.h"
#include "storage/audit.h"

#define NUSERS 32

static int users_made;   /* logins are by users created so far */

static const char *const states[] = { "closed", "closed", "closed", "released", "released", "released",
				      "closed", "implementing", "approved", "rejected" };

static FILE *out_file(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.copy", dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

static void hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A COPY text bytea: \\x then hex. */
static void put_bytea(FILE *f, const unsigned char *p, size_t n)
{
	fputs("\\\\x", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* A git object: its id (binary) and its row in git_objects. */
static void git_object(unsigned char oid[20], FILE *f, int type, const char *type_name, const void *data, size_t len)
{
	char head[64];
	int hl = snprintf(head, sizeof(head), "%s %zu", type_name, len);

	crypto_sha1(oid, head, (size_t)hl + 1, data, len);
	put_bytea(f, oid, 20);
	fprintf(f, "\t%d\t%zu\t", type, len);
	put_bytea(f, data, len);
	fputc('\n', f);
}

static void ts(char *out, int64_t us)
{
	time_format_rfc3339(out, us);
}

struct chain {
	FILE *f;
	int64_t seq;
	merkle_hash prev;
	uint64_t events;
	int64_t from_us, to_us;
};

static int64_t at_of(const struct chain *c, int64_t seq)
{
	/* whole milliseconds: what time_format_rfc3339() writes */
	return (c->from_us + (int64_t)((double)(c->to_us - c->from_us) * (double)(seq - 1) / (double)c->events)) /
	       1000 * 1000;
}

/* COPY text of a value that may need escaping (our values have no tabs or backslashes). */
static void put_text(FILE *f, const char *s)
{
	fputs(s ? s : "\\N", f);
}

/* Append one event; returns its time. */
static int64_t event(struct chain *c, int64_t actor_id, const char *actor, const char *role, const char *action,
		     const char *object_type, const char *object_id, const char *before, const char *after)
{
	struct audit_stored st;
	struct buf canon = BUF_INIT;
	merkle_hash h;
	char at[64], rid[40];
	int64_t seq = ++c->seq, us = at_of(c, seq);

	snprintf(rid, sizeof(rid), "scale-%016" PRIx64, (uint64_t)seq);
	st = (struct audit_stored){
		.seq = seq, .at_us = us, .has_actor_id = actor_id > 0, .actor_id = actor_id, .actor = actor,
		.role = role, .source = "10.20.0.7", .request_id = rid, .action = action,
		.object_type = object_type, .object_id = object_id, .before = before, .after = after,
	};
	if (audit_canonical(&canon, &st)) {
		fprintf(stderr, "scale_gen: event %" PRId64 " has no canonical form\n", seq);
		exit(1);
	}
	audit_chain_hash(h, c->prev, canon.data, canon.len);
	ts(at, us);
	fprintf(c->f, "%" PRId64 "\t%s\t", seq, at);
	if (actor_id > 0)
		fprintf(c->f, "%" PRId64, actor_id);
	else
		fputs("\\N", c->f);
	fprintf(c->f, "\t%s\t%s\t10.20.0.7\t%s\t%s\t%s\t", actor, role, rid, action, object_type);
	put_text(c->f, object_id);
	fputc('\t', c->f);
	put_text(c->f, before);
	fputc('\t', c->f);
	put_text(c->f, after);
	fputs("\t\\N\t", c->f);
	put_bytea(c->f, c->prev, 32);
	fputc('\t', c->f);
	put_bytea(c->f, h, 32);
	fputc('\n', c->f);
	memcpy(c->prev, h, 32);
	buf_release(&canon);
	return us;
}

static const char *user_name(char *out, size_t n, int id)
{
	if (id <= 20)
		snprintf(out, n, "eng-%02d", id);
	else if (id <= 25)
		snprintf(out, n, "qa-%02d", id - 20);
	else if (id <= 30)
		snprintf(out, n, "approver-%02d", id - 25);
	else
		snprintf(out, n, "auditor-%02d", id - 30);
	return out;
}

static const char *user_role(int id)
{
	return id <= 20 ? "engineer" : id <= 25 ? "qa" : id <= 30 ? "approver" : "auditor";
}

/* Logins until the chain reaches seq `until`. */
static void fill(struct chain *c, int64_t until)
{
	char name[32], id[16];

	while (c->seq < until) {
		int u = (int)(c->seq % (users_made ? users_made : 1)) + 1;

		snprintf(id, sizeof(id), "%d", u);
		event(c, u, user_name(name, sizeof(name), u), user_role(u), "session.login", "user", id, NULL, NULL);
	}
}

int main(int argc, char **argv)
{
	FILE *users, *assets, *objects, *versions, *refs, *changes, *change_assets;
	struct chain c = { 0 };
	uint64_t nassets, nversions, nchanges, per_asset, nstruct, done = 0;
	unsigned char (*heads)[20];
	char at[64], name[32], buf[512], after[512], oidhex[41], treehex[41];

	if (argc != 8) {
		fprintf(stderr, "usage: scale_gen OUTDIR ASSETS VERSIONS CHANGES EVENTS FROM_US TO_US\n");
		return 2;
	}
	nassets = strtoull(argv[2], NULL, 10);
	nversions = strtoull(argv[3], NULL, 10);
	nchanges = strtoull(argv[4], NULL, 10);
	c.events = strtoull(argv[5], NULL, 10);
	c.from_us = strtoll(argv[6], NULL, 10);
	c.to_us = strtoll(argv[7], NULL, 10);
	per_asset = nassets ? (nversions + nassets - 1) / nassets : 0;
	nstruct = NUSERS + nassets + nversions + 4 * nchanges;
	if (nassets == 0 || per_asset == 0 || c.events < nstruct) {
		fprintf(stderr, "scale_gen: need assets, versions, and at least %" PRIu64 " events\n", nstruct);
		return 2;
	}
	users = out_file(argv[1], "users");
	assets = out_file(argv[1], "assets");
	objects = out_file(argv[1], "git_objects");
	versions = out_file(argv[1], "versions");
	refs = out_file(argv[1], "refs");
	changes = out_file(argv[1], "changes");
	change_assets = out_file(argv[1], "change_assets");
	c.f = out_file(argv[1], "audit_events");
	heads = calloc(nassets + 1, 20);

	/* structural event j sits at seq 1 + j * events / nstruct; logins in between */
#define NEXT_SEQ() ((int64_t)(1 + (done++ * c.events) / nstruct))
	for (int u = 1; u <= NUSERS; u++) {
		char id[16];

		fill(&c, NEXT_SEQ() - 1);
		snprintf(id, sizeof(id), "%d", u);
		snprintf(after, sizeof(after), "{\"role\": \"%s\", \"username\": \"%s\"}", user_role(u),
			 user_name(name, sizeof(name), u));
		ts(at, event(&c, 0, "system", "admin", "user.create", "user", id, NULL, after));
		users_made = u;
		fprintf(users, "%d\t%s\t%s\t\\N\t%s\t!disabled-scale-bench\t%s\t%s\n", u, name, name, user_role(u),
			at, at);
	}
	for (uint64_t a = 1; a <= nassets; a++) {
		char id[24], path[96];

		fill(&c, NEXT_SEQ() - 1);
		snprintf(id, sizeof(id), "%" PRIu64, a);
		snprintf(path, sizeof(path), "site-%" PRIu64 "/area-%" PRIu64 "/line-%" PRIu64 "/plc-%" PRIu64,
			 a % 4, a % 25, a % 100, a);
		snprintf(after, sizeof(after), "{\"path\": \"%s\", \"type\": \"plc\"}", path);
		ts(at, event(&c, 0, "system", "admin", "asset.create", "asset", id, NULL, after));
		fprintf(assets, "%" PRIu64 "\t%s\tplc\tRockwell Automation\t1756-L83E\t33.011\t\t1\t%s\t%s\n", a,
			path, at, at);
	}
	for (uint64_t r = 0, vid = 0; r < per_asset; r++) {
		for (uint64_t a = 1; a <= nassets && vid < nversions; a++) {
			unsigned char blob[20], tree[20], commit[20];
			struct buf content = BUF_INIT, t = BUF_INIT, cm = BUF_INIT;
			int author = (int)((a + r) % 20) + 1;
			int64_t us;

			fill(&c, NEXT_SEQ() - 1);
			vid++;
			/* a small structured text program, different in every version */
			buf_addf(&content, "PROGRAM Main (* asset %" PRIu64 ", version %" PRIu64 " *)\nVAR\n", a, r + 1);
			for (int i = 0; i < 24; i++)
				buf_addf(&content, "  T_%03d : TON; (* step %d of line %" PRIu64 " *)\n", i, i, a % 100);
			buf_addf(&content, "END_VAR\n  T_%03" PRIu64 "(IN := TRUE, PT := T#%" PRIu64 "MS);\nEND_PROGRAM\n",
				 r % 24, 100 * (r + 1));
			git_object(blob, objects, 3, "blob", content.data, content.len);
			buf_add(&t, "100644 Main.st", 15);
			buf_add(&t, blob, 20);
			git_object(tree, objects, 2, "tree", t.data, t.len);
			hex(treehex, tree, 20);
			us = at_of(&c, c.seq + 1);
			buf_addf(&cm, "tree %s\n", treehex);
			if (r > 0) {
				hex(oidhex, heads[a], 20);
				buf_addf(&cm, "parent %s\n", oidhex);
			}
			buf_addf(&cm, "author %s <%s@plant.example> %" PRId64 " +0000\n", user_name(name, sizeof(name), author),
				 name, us / 1000000);
			buf_addf(&cm, "committer %s <%s@plant.example> %" PRId64 " +0000\n\nversion %" PRIu64 "\n", name, name,
				 us / 1000000, r + 1);
			git_object(commit, objects, 1, "commit", cm.data, cm.len);
			hex(oidhex, commit, 20);
			snprintf(after, sizeof(after), "{\"asset\": %" PRIu64 ", \"branch\": \"main\", \"commit\": \"%s\"}", a,
				 oidhex);
			ts(at, event(&c, author, name, "engineer", "version.create", "version", oidhex, NULL, after));
			fprintf(versions, "%" PRIu64 "\t%" PRIu64 "\t", vid, a);
			put_bytea(versions, commit, 20);
			fputc('\t', versions);
			put_bytea(versions, tree, 20);
			fputc('\t', versions);
			if (r > 0)
				put_bytea(versions, heads[a], 20);
			else
				fputs("\\N", versions);
			fprintf(versions, "\tmain\tversion %" PRIu64 "\t%d\t%s\n", r + 1, author, at);
			memcpy(heads[a], commit, 20);
			buf_release(&content);
			buf_release(&t);
			buf_release(&cm);
		}
		/* a tenth of the changes after each round */
		for (uint64_t k = r * nchanges / per_asset; k < (r + 1) * nchanges / per_asset; k++) {
			uint64_t id = k + 1, a1 = (2 * k) % nassets + 1, a2 = (2 * k + 1) % nassets + 1;
			const char *state = states[k % 10], *steps[3] = { "submitted", "authorised", state };
			int requester = (int)(k % 20) + 1;
			char key[32], created[64], before[64], updated[64] = "";
			int64_t created_us, us = 0;

			snprintf(key, sizeof(key), "CHG-%" PRIu64, id);
			user_name(name, sizeof(name), requester);
			fill(&c, NEXT_SEQ() - 1);
			snprintf(after, sizeof(after), "{\"risk\": \"medium\", \"type\": \"normal\", \"title\": \"Change %" PRIu64
				 " of lines %" PRIu64 " and %" PRIu64 "\"}", id, a1 % 100, a2 % 100);
			created_us = event(&c, requester, name, "engineer", "change.create", "change", key, NULL, after);
			ts(created, created_us);
			for (int s = 0; s < 3; s++) {
				const char *from = s ? steps[s - 1] : "draft";
				int who = s == 1 ? 26 + (int)(k % 5) : requester;

				fill(&c, NEXT_SEQ() - 1);
				snprintf(before, sizeof(before), "{\"state\": \"%s\"}", from);
				snprintf(after, sizeof(after), "{\"state\": \"%s\"}", steps[s]);
				us = event(&c, who, user_name(buf, sizeof(buf), who), user_role(who), "change.transition",
					   "change", key, before, after);
			}
			ts(updated, us);
			fprintf(changes, "%" PRIu64 "\tnormal\tChange %" PRIu64 " of lines %" PRIu64 " and %" PRIu64
				"\tscheduled work\tmedium\tf\tplan\trollback\t\\N\t\\N\t%d\t%s\t", id, id, a1 % 100, a2 % 100,
				requester, state);
			if (!strcmp(state, "released") || !strcmp(state, "closed"))
				fprintf(changes, "%s", updated);
			else
				fputs("\\N", changes);
			fprintf(changes, "\t\\N\t%s\t%s\n", created, updated);
			fprintf(change_assets, "%" PRIu64 "\t%" PRIu64 "\n", id, a1);
			if (a2 != a1)
				fprintf(change_assets, "%" PRIu64 "\t%" PRIu64 "\n", id, a2);
		}
	}
	fill(&c, (int64_t)c.events);
	for (uint64_t a = 1; a <= nassets; a++) {
		fprintf(refs, "%" PRIu64 "\trefs/heads/main\t", a);
		put_bytea(refs, heads[a], 20);
		ts(at, c.to_us);
		fprintf(refs, "\t%s\n", at);
	}
	{
		char h64[65];

		hex(h64, c.prev, 32);
		printf("%" PRId64 " %s\n", c.seq, h64);
	}
	free(heads);
	fclose(users);
	fclose(assets);
	fclose(objects);
	fclose(versions);
	fclose(refs);
	fclose(changes);
	fclose(change_assets);
	fclose(c.f);
	return 0;
}
