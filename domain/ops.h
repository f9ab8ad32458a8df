/*
 * domain/ops.h - every domain operation, with the roles that may perform it.
 *
 * This table is the authority on permissions: each operation checks its
 * row with dom_permit() before anything else.  The route table's roles
 * (server/routes.c) are a cheap first filter and the source of the OpenAPI
 * document's x-otcm-roles; every route names the operation it calls, and
 * tests/integration/test_doors.py walks every operation through every door
 * that exposes it with every role and expects the same answer.
 *
 * Thread-safety: read-only data.
 */
#ifndef OTCM_DOMAIN_OPS_H
#define OTCM_DOMAIN_OPS_H

#include <stddef.h>

enum dom_op {
	OP_NONE = 0,               /* not a domain operation (static files, health) */

	/* users and authentication */
	OP_SESSION_LOGIN,
	OP_SESSION_READ,
	OP_SESSION_LOGOUT,
	OP_TOKEN_CREATE,
	OP_TOKEN_LIST,
	OP_TOKEN_REVOKE,
	OP_TOTP_ENROL,
	OP_TOTP_CONFIRM,
	OP_TOTP_RESET,
	OP_USER_CREATE,
	OP_USER_LIST,
	OP_USER_READ,
	OP_USER_UPDATE,
	OP_DIRECTORY_READ,
	OP_DIRECTORY_TEST,

	/* assets and versions */
	OP_ASSET_CREATE,
	OP_ASSET_LIST,
	OP_ASSET_READ,
	OP_ASSET_UPDATE,
	OP_VERSION_UPLOAD,
	OP_VERSION_READ,
	OP_VERSION_DIFF,

	/* the change process */
	OP_CHANGE_CREATE,
	OP_CHANGE_READ,
	OP_CHANGE_UPDATE,
	OP_CHANGE_TRANSITION,
	OP_CHANGE_SIGN,
	OP_CHANGE_DEPLOY,
	OP_CHANGE_RELEASE,
	OP_SETTINGS_READ,
	OP_SETTINGS_UPDATE,
	OP_PROTOCOL_CREATE,
	OP_PROTOCOL_READ,
	OP_RUN_CREATE,
	OP_RUN_READ,
	OP_RUN_STEP,
	OP_RUN_ATTACH,
	OP_RUN_SIGN,
	OP_CHANGE_FIRMWARE,
	OP_CHANGE_FIRMWARE_FILE,

	/* evidence, reports and the audit trail */
	OP_EVIDENCE_EXPORT,
	OP_REPORT_READ,
	OP_AUDIT_READ,
	OP_CHECKPOINT_CREATE,
	OP_SAMPLE_DRAW,
	OP_SAMPLE_READ,

	/* operations: backups and their restore drills */
	OP_DRILL_RECORD,
	OP_DRILL_READ,

	/* plant connection: collection agents and device read-backs */
	OP_AGENT_POLL,
	OP_READBACK_RECORD,
	OP_READBACK_IMPORT,
	OP_READBACK_READ,
	OP_READBACK_CONFIGURE,
	OP_READBACK_REQUEST,
	OP_AGENT_LIST,

	/* operations: outside destinations and monitoring */
	OP_WEBHOOK_CREATE,
	OP_WEBHOOK_READ,
	OP_WEBHOOK_UPDATE,
	OP_WEBHOOK_DELETE,
	OP_METRICS_READ,

	/* patch management: advisories, assessments, exposure */
	OP_ADVISORY_IMPORT,
	OP_ADVISORY_READ,
	OP_ASSESSMENT_SIGN,
	OP_EXPOSURE_EXPORT,

	/* incidents and their reporting (NIS2 Art. 23) */
	OP_INCIDENT_CREATE,
	OP_INCIDENT_READ,
	OP_INCIDENT_UPDATE,
	OP_INCIDENT_REPORT,
	OP_INCIDENT_LINK,
	OP_INCIDENT_REVIEW,
	OP_INCIDENT_EVIDENCE,

	OP_COUNT
};

struct dom_op_info {
	const char *name;          /* "change.release": stable, used in audit events and tests */
	unsigned roles;            /* enum role bits that may perform it */
	const char *what;          /* "release a change" (for refusal sentences) */
};

/* The row of `op` (OP_NONE < op < OP_COUNT). */
const struct dom_op_info *dom_op_info(enum dom_op op);

/* The operation named `name`, or OP_NONE. */
enum dom_op dom_op_by_name(const char *name);

#endif
