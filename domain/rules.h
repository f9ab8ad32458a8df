/*
 * domain/rules.h - the change lifecycle's rules as pure functions.
 *
 * The domain operations (domain/changes.c, signatures.c, runs.c) gather
 * the facts about a change (its state, who asked for it, who contributed
 * content, and per affected asset the tree on the change branch and what
 * was tested, approved and deployed on that tree) into the plain structs
 * below; the functions here decide.  They touch no database, so every rule
 * is unit-tested by trying to break it (tests/unit/domain/test_rules.c).
 *
 * A refusal is OTCM_ERULE with err_set() naming the field and a sentence,
 * and err_set_rule() naming the rule; the calling operation audits the
 * refusal (dom_refused()).
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef OTCM_DOMAIN_RULES_H
#define OTCM_DOMAIN_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/actor.h"     /* enum role */

enum chg_state {
	CHG_DRAFT,
	CHG_SUBMITTED,
	CHG_AUTHORISED,
	CHG_IMPLEMENTING,
	CHG_FAT,
	CHG_APPROVED,
	CHG_DEPLOYED,
	CHG_SAT,
	CHG_RELEASED,
	CHG_CLOSED,
	CHG_REJECTED,
	CHG_CANCELLED,
	CHG_STATE_COUNT
};

/* "draft" -> CHG_DRAFT; -1 for an unknown name. */
int rules_state_from_name(const char *name);
const char *rules_state_name(int state);

/* Released, closed, rejected or cancelled: nothing more happens. */
bool rules_state_final(int state);

/* One affected asset of a change, seen on its change branch. */
struct rules_asset {
	int64_t asset_id;
	const char *tree;        /* tree of the branch head; NULL before the first upload */
	bool fat_passed;         /* a FAT run completed with verdict pass on `tree` (witnessed if required) */
	bool approved;           /* an approved signature naming `tree` for this asset */
	bool deployed;           /* a deployment of `tree` */
	bool sat_passed;         /* a SAT run completed with verdict pass on `tree` */
};

struct rules_change {
	int state;                       /* enum chg_state */
	bool emergency;
	int64_t requester_id;
	bool complete;                   /* title, reason, both plans and at least one asset */
	bool authorised;                 /* an authorised signature exists */
	const struct rules_asset *assets;
	size_t nassets;
	const int64_t *contributors;     /* users who uploaded or committed content to it */
	size_t ncontributors;
};

/*
 * May `actor` (with role bit `role`, enum role) move the change to `to` through the
 * transitions endpoint?  Authorised, approved and released are reached only
 * through signatures and the release endpoint.
 */
int rules_transition(const struct rules_change *ch, int to, unsigned role, int64_t actor);

/*
 * May `signer` sign the change with `meaning`?  *out_state gets the state
 * the signature moves the change to, or -1 when it does not move it
 * (reviews, retrospective approvals of emergency changes).
 */
int rules_sign_change(int *out_state, const struct rules_change *ch, const char *meaning,
		      unsigned role, int64_t signer);

/* One test run as the signature rules see it. */
struct rules_run {
	bool completed;
	bool stale;                    /* its tree is no longer the branch head's */
	int64_t tester_id;
	bool witness_required;
	bool witnessed;
	size_t nsteps;                 /* steps of the protocol */
	size_t nrecorded;              /* steps with a result */
	bool fail_undisposed;          /* a failed step without deviation and disposition */
	const int64_t *step_testers;   /* who recorded steps */
	size_t nstep_testers;
};

/*
 * May `signer` sign the run with `meaning` (tested: completes the run;
 * witnessed: by someone who did not test)?
 */
int rules_sign_run(const struct rules_run *run, const char *meaning, unsigned role,
		   int64_t signer);

/* A run may start only in the state its kind ("fat", "sat") is tested in. */
int rules_can_start_run(const struct rules_change *ch, const char *kind);

/*
 * The verdict of a run from its step results ("pass", "fail", "n/a") and
 * the dispositions of their deviations (NULL when none): "fail" when a
 * step failed and its deviation was not accepted, else "pass".
 */
const char *rules_run_verdict(const char *const *results, const char *const *dispositions,
			      size_t n);

/* Is `d` a disposition a deviation may have? */
bool rules_disposition_valid(const char *d);

/*
 * May a version be uploaded for the change to an asset (affected says
 * whether it is one of the change's assets)?  *out_back_to_implementing is
 * set when the change is in FAT and the upload sends it back.
 */
int rules_can_upload(bool *out_back_to_implementing, int state, bool affected);

/*
 * May tree `tree` of affected asset `idx` be recorded as deployed?  Normal
 * and standard changes deploy only an approved tree in approved, deployed
 * or SAT; emergency changes may deploy from implementing on.
 */
int rules_can_deploy(const struct rules_change *ch, size_t idx, const char *tree);

/* Does every affected asset meet the release conditions on one tree? */
int rules_can_release(const struct rules_change *ch);

/*
 * May the change's fields be edited?  Only in draft without a reason;
 * later with a reason until it ends; affected assets only before
 * authorisation; its type (touches_type: a new type, not the one it has)
 * only in draft, since the type decides whether it may deploy before
 * approval (rule type-frozen).
 */
int rules_can_edit(int state, bool has_reason, bool touches_assets, bool touches_type);

/* ---- controlled firmware updates (domain/firmware.h) ---- */

/* What a firmware update of one affected asset has recorded (strings NULL when not). */
struct rules_firmware {
	int64_t asset_id;
	const char *before;            /* the firmware read before the update */
	const char *after;             /* and after it */
	const char *package_sha256;    /* the vendor package uploaded */
	const char *advisory;          /* the CSAF tracking id it addresses */
};

/*
 * May the firmware facts of a change in `state` still be recorded?  Not
 * once it is released, closed, rejected or cancelled (rule
 * "firmware-change-finished").
 */
int rules_firmware_record(int state);

/*
 * Does each firmware update of a change meet its release conditions, on
 * top of rules_can_release()?  The firmware read before
 * ("firmware-before-missing") and after ("firmware-after-missing"), and
 * different ("firmware-unchanged"), the vendor package
 * ("firmware-package-missing") and the advisory it addresses
 * ("firmware-advisory-missing").  The sentence names the asset.
 */
int rules_firmware_release(const struct rules_firmware *fw, size_t n);

#endif
