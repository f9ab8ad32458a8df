/* domain/ops.c - the permission table; see ops.h. */
#include "domain/ops.h"

#include <assert.h>
#include <string.h>

#include "domain/actor.h"

#define ALL ROLE_ANY
#define READERS ROLE_CHG_READERS
#define ADMIN ROLE_ADMIN
#define ENG (ROLE_ENGINEER | ROLE_ADMIN)
#define QA (ROLE_QA | ROLE_ADMIN)
/* who handles incidents: everyone in the change process but the auditor */
#define INC (ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_ADMIN)

static const struct dom_op_info ops[OP_COUNT] = {
	[OP_NONE] = { "none", 0, "nothing" },

	[OP_SESSION_LOGIN] = { "session.login", ROLE_PUBLIC, "log in" },
	[OP_SESSION_READ] = { "session.read", ALL, "read the session" },
	[OP_SESSION_LOGOUT] = { "session.logout", ALL, "log out" },
	[OP_TOKEN_CREATE] = { "token.create", ALL, "issue an API token" },
	[OP_TOKEN_LIST] = { "token.list", ALL, "list API tokens" },
	[OP_TOKEN_REVOKE] = { "token.revoke", ALL, "revoke an API token" },
	[OP_TOTP_ENROL] = { "totp.enrol", READERS, "enrol one-time codes" },
	[OP_TOTP_CONFIRM] = { "totp.confirm", READERS, "confirm one-time codes" },
	[OP_TOTP_RESET] = { "totp.reset", ADMIN, "reset a user's one-time codes" },
	[OP_USER_CREATE] = { "user.create", ADMIN, "create a user" },
	[OP_USER_LIST] = { "user.list", ADMIN | ROLE_AUDITOR, "list users" },
	[OP_USER_READ] = { "user.read", ADMIN | ROLE_AUDITOR, "read a user" },
	[OP_USER_UPDATE] = { "user.update", ADMIN, "change a user" },
	[OP_DIRECTORY_READ] = { "directory.read", ADMIN, "read the directory settings" },
	[OP_DIRECTORY_TEST] = { "directory.test", ADMIN, "test the directory" },

	[OP_ASSET_CREATE] = { "asset.create", ADMIN, "register an asset" },
	[OP_ASSET_LIST] = { "asset.list", ALL, "list assets" },
	[OP_ASSET_READ] = { "asset.read", ALL, "read an asset" },
	[OP_ASSET_UPDATE] = { "asset.update", ADMIN, "change an asset" },
	[OP_VERSION_UPLOAD] = { "version.upload", ENG, "upload a version" },
	[OP_VERSION_READ] = { "version.read", ALL, "read versions" },
	[OP_VERSION_DIFF] = { "version.diff", ALL, "compare versions" },

	[OP_CHANGE_CREATE] = { "change.create", ENG, "raise a change" },
	[OP_CHANGE_READ] = { "change.read", READERS, "read changes" },
	[OP_CHANGE_UPDATE] = { "change.update", ENG, "edit a change" },
	[OP_CHANGE_TRANSITION] = { "change.transition", ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ADMIN,
				   "move a change through its lifecycle" },
	[OP_CHANGE_SIGN] = { "change.sign", ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ADMIN, "sign a change" },
	[OP_CHANGE_DEPLOY] = { "change.deploy", ENG, "record a deployment" },
	[OP_CHANGE_RELEASE] = { "change.release", ROLE_APPROVER | ADMIN, "release a change" },
	[OP_SETTINGS_READ] = { "settings.read", READERS, "read the change process settings" },
	[OP_SETTINGS_UPDATE] = { "settings.update", ADMIN, "change the change process settings" },
	[OP_PROTOCOL_CREATE] = { "protocol.create", QA, "write a test protocol" },
	[OP_PROTOCOL_READ] = { "protocol.read", READERS, "read test protocols" },
	[OP_RUN_CREATE] = { "run.create", QA, "start a test run" },
	[OP_RUN_READ] = { "run.read", READERS, "read test runs" },
	[OP_RUN_STEP] = { "run.step", QA, "record a test step" },
	[OP_RUN_ATTACH] = { "run.attach", QA, "attach evidence to a test step" },
	[OP_RUN_SIGN] = { "run.sign", QA, "sign a test run" },
	[OP_CHANGE_FIRMWARE] = { "change.firmware", ENG, "record a firmware update's before, after and advisory" },
	[OP_CHANGE_FIRMWARE_FILE] = { "change.firmware-file", ENG, "upload a firmware update's vendor package" },

	[OP_EVIDENCE_EXPORT] = { "evidence.export", READERS, "export a change's evidence" },
	[OP_REPORT_READ] = { "report.read", READERS, "read reports" },
	[OP_AUDIT_READ] = { "audit.read", ADMIN | ROLE_AUDITOR, "read the audit trail" },
	[OP_CHECKPOINT_CREATE] = { "checkpoint.create", ADMIN, "sign an audit checkpoint" },
	[OP_SAMPLE_DRAW] = { "sample.draw", ADMIN | ROLE_AUDITOR, "draw a sample of a period's changes" },
	[OP_SAMPLE_READ] = { "sample.read", ADMIN | ROLE_AUDITOR, "read samples and their evidence" },

	[OP_DRILL_RECORD] = { "drill.record", ADMIN, "record a restore drill" },
	[OP_DRILL_READ] = { "drill.read", ADMIN | ROLE_AUDITOR, "read restore drills" },

	[OP_AGENT_POLL] = { "agent.poll", ROLE_AGENT, "call in for read-back jobs" },
	[OP_READBACK_RECORD] = { "readback.record", ROLE_AGENT, "record a device read-back" },
	[OP_READBACK_IMPORT] = { "readback.import", ENG, "import an offline read-back file" },
	[OP_READBACK_READ] = { "readback.read", READERS, "read device read-backs" },
	[OP_READBACK_CONFIGURE] = { "readback.configure", ADMIN, "set how an asset is read back" },
	[OP_READBACK_REQUEST] = { "readback.request", ENG, "ask for a read-back now" },
	[OP_AGENT_LIST] = { "agent.list", ADMIN | ROLE_AUDITOR, "list the collection agents" },

	[OP_WEBHOOK_CREATE] = { "webhook.create", ADMIN, "subscribe a webhook" },
	[OP_WEBHOOK_READ] = { "webhook.read", ADMIN, "read webhooks and their deliveries" },
	[OP_WEBHOOK_UPDATE] = { "webhook.update", ADMIN, "change a webhook" },
	[OP_WEBHOOK_DELETE] = { "webhook.delete", ADMIN, "delete a webhook" },
	[OP_METRICS_READ] = { "metrics.read", ADMIN | ROLE_AUDITOR, "read the metrics" },

	[OP_ADVISORY_IMPORT] = { "advisory.import", ENG, "import a security advisory" },
	[OP_ADVISORY_READ] = { "advisory.read", READERS, "read advisories, assessments and exposure" },
	[OP_ASSESSMENT_SIGN] = { "assessment.sign", ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER,
				 "sign an assessment of an advisory" },
	[OP_EXPOSURE_EXPORT] = { "exposure.export", READERS, "export an SBOM or VEX document" },

	[OP_INCIDENT_CREATE] = { "incident.create", INC, "record an incident" },
	[OP_INCIDENT_READ] = { "incident.read", READERS, "read incidents" },
	[OP_INCIDENT_UPDATE] = { "incident.update", INC, "change or close an incident" },
	[OP_INCIDENT_REPORT] = { "incident.report", INC, "record a report sent to an authority" },
	[OP_INCIDENT_LINK] = { "incident.link", INC, "link an incident to events, changes and runs" },
	[OP_INCIDENT_REVIEW] = { "incident.review", ROLE_APPROVER, "sign an incident's post-incident review" },
	[OP_INCIDENT_EVIDENCE] = { "incident.evidence", READERS, "export an incident's evidence" },
};

const struct dom_op_info *dom_op_info(enum dom_op op)
{
	assert(op > OP_NONE && op < OP_COUNT);
	return &ops[op];
}

enum dom_op dom_op_by_name(const char *name)
{
	int i;

	for (i = OP_NONE + 1; i < OP_COUNT; i++)
		if (ops[i].name && strcmp(ops[i].name, name) == 0)
			return (enum dom_op)i;
	return OP_NONE;
}
