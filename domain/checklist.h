/*
 * domain/checklist.h - the auditor's control checklist of a change: each
 * element an auditor tests on a change ticket, decided from the records
 * of the change's evidence bundle alone (docs/evidence.md, "The control
 * checklist").
 *
 * One pure function, used by both sides of a bundle: domain/evidence.c
 * computes the checklist while building a bundle and stores it in
 * change.json (and prints it at the top of report.html); the offline
 * verifier (domain/bundle.h, `otcm verify`) recomputes it from the
 * bundle's own bytes and refuses a bundle whose stored checklist differs.
 * It touches no database, no clock and no global state.
 *
 * Thread-safety: thread-safe.
 */
#ifndef OTCM_DOMAIN_CHECKLIST_H
#define OTCM_DOMAIN_CHECKLIST_H

#include <stddef.h>

#include "core/json.h"

/* The results a control can have. */
#define CHECKLIST_MET "met"
#define CHECKLIST_NOT_MET "not met"
#define CHECKLIST_NA "not applicable"

/* The records of one bundle the checklist is decided from; all untrusted. */
struct checklist_records {
	const json_t *change;        /* change.json without its "checklist" member */
	const char *events;          /* audit/events.jsonl, events_len bytes; NULL for none */
	size_t events_len;
	const json_t *proofs;        /* audit/proofs.json; may be NULL */
	const char *checkpoint;      /* audit/checkpoint, checkpoint_len bytes; NULL for none */
	size_t checkpoint_len;
};

/*
 * The checklist of one change, decided from its bundle's records: the
 * ticket with its versions, signatures, test_runs and deployments, its
 * audit events, their inclusion proofs and the checkpoint they lead to
 * (whose signature the caller checks against a key it trusts: this
 * function only reads the checkpoint's size and root).  Whatever is
 * missing or malformed makes a control "not met", never an error.
 *
 * *out is a new array (owned by the caller) of objects, one per control
 * in a fixed order: {"id", "control" (its words for people), "result"
 * (CHECKLIST_MET, CHECKLIST_NOT_MET or CHECKLIST_NA), "detail" (why, with
 * the records' values), "evidence" (array of the bundle's files, records
 * and rules it rests on)}.  The same records give the same array.
 * Returns 0, or OTCM_EINVAL (field "change") when in->change is not an
 * object.
 */
int checklist_compute(json_t **out, const struct checklist_records *in);

/*
 * The effectiveness of each control over several changes (a period's
 * population, a sample): `changes` is an array of {key, checklist} with
 * checklists as checklist_compute() gives them.  *out is a new array,
 * one object per control in the checklist's order: {id, control, met,
 * not_met, not_applicable (counts of changes), exceptions: [{key, detail}]
 * (every change that did not meet it; a checklist without the control
 * counts as not met)}.  Returns 0, or OTCM_EINVAL (field "changes") when
 * `changes` is not an array.
 */
int checklist_effectiveness(json_t **out, const json_t *changes);

#endif
