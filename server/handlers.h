/*
 * server/handlers.h - every request handler, grouped by the file that
 * defines it.  Each takes a fully read, authenticated, role-checked request
 * (server/http.h) and answers it or returns an error code.
 */
#ifndef OTCM_SERVER_HANDLERS_H
#define OTCM_SERVER_HANDLERS_H

#include "server/http.h"

/* h_session.c: logging in and out, API tokens */
int h_session_create(struct http_req *req);
int h_session_delete(struct http_req *req);
int h_session_get(struct http_req *req);
int h_tokens_create(struct http_req *req);
int h_tokens_list(struct http_req *req);
int h_tokens_delete(struct http_req *req);

/* h_users.c: user administration */
int h_users_create(struct http_req *req);
int h_users_list(struct http_req *req);
int h_users_get(struct http_req *req);
int h_users_patch(struct http_req *req);

/* h_assets.c: the asset register */
int h_assets_create(struct http_req *req);
int h_assets_get(struct http_req *req);
int h_assets_list(struct http_req *req);
int h_assets_patch(struct http_req *req);
int h_assets_inventory(struct http_req *req);

/* h_git.c: git smart HTTP (clone, fetch, push) */
int h_git_info_refs(struct http_req *req);
int h_git_upload_pack(struct http_req *req);
int h_git_receive_pack(struct http_req *req);
/* h_advisories.c: advisories, assessments, exposure and its exports */
int h_advisories_import(struct http_req *req);
int h_advisories_list(struct http_req *req);
int h_advisories_get(struct http_req *req);
int h_advisories_document(struct http_req *req);
int h_assets_advisories(struct http_req *req);
int h_exposure(struct http_req *req);
int h_assessment_get(struct http_req *req);
int h_assessment_sign(struct http_req *req);
int h_assets_export(struct http_req *req);
int h_exposure_export(struct http_req *req);

/* h_pages_patch.c: the patch management pages */
int h_page_advisories(struct http_req *req);
int h_page_advisory_import(struct http_req *req);
int h_page_advisory(struct http_req *req);
int h_page_exposure(struct http_req *req);
int h_page_asset_exposure(struct http_req *req);
int h_page_assessment(struct http_req *req);
int h_page_assessment_sign(struct http_req *req);

/* h_versions.c: versions of an asset, their files, archives and diffs */
int h_versions_archive(struct http_req *req);
int h_versions_create(struct http_req *req);
int h_versions_diff(struct http_req *req);
int h_versions_file(struct http_req *req);
int h_versions_get(struct http_req *req);
int h_versions_list(struct http_req *req);
int h_versions_put_file(struct http_req *req);

/* h_audit.c: the audit trail */
int h_audit_list(struct http_req *req);

/* h_checkpoints.c: the server's public key, signed audit checkpoints and proofs */
int h_keys_server_pub(struct http_req *req);
int h_checkpoint_get(struct http_req *req);
int h_checkpoint_create(struct http_req *req);
int h_audit_inclusion(struct http_req *req);
int h_audit_consistency(struct http_req *req);

/* h_evidence.c: the evidence bundle of a change */
int h_evidence_get(struct http_req *req);

/* h_reports.c: population and exceptions reports for a period */
int h_reports_population(struct http_req *req);
int h_reports_exceptions(struct http_req *req);

/* h_samples.c: an auditor's samples of a period and their evidence archives */
int h_samples_create(struct http_req *req);
int h_samples_list(struct http_req *req);
int h_samples_get(struct http_req *req);
int h_samples_evidence(struct http_req *req);
int h_page_samples(struct http_req *req);
int h_page_samples_draw(struct http_req *req);

/* h_openapi.c: the API description */
int h_openapi(struct http_req *req);

/* h_changes.c: change tickets, transitions, deployments, release, settings */
int h_changes_create(struct http_req *req);
int h_changes_list(struct http_req *req);
int h_changes_get(struct http_req *req);
int h_changes_patch(struct http_req *req);
int h_changes_transition(struct http_req *req);
int h_changes_deploy(struct http_req *req);
int h_changes_release(struct http_req *req);
int h_change_settings_get(struct http_req *req);
int h_change_settings_put(struct http_req *req);

/*
 * The request body as a JSON object (limits from the configuration), for
 * the REST doors of the change process.  *out is owned by the caller.
 */
int h_body_json(json_t **out, struct http_req *req);

/* h_signatures.c: electronic signatures with re-authentication */
int h_signatures_change(struct http_req *req);
int h_signatures_run(struct http_req *req);
int h_signatures_list(struct http_req *req);

/* h_totp.c: enrolling one-time codes, and an administrator's reset */
int h_totp_enrol(struct http_req *req);
int h_totp_confirm(struct http_req *req);
int h_totp_reset(struct http_req *req);

/* h_pages.c: the web pages (web/pages.h renders them) */
int h_page_static(struct http_req *req);
int h_page_favicon(struct http_req *req);
int h_page_login_form(struct http_req *req);
int h_page_login(struct http_req *req);
int h_page_logout(struct http_req *req);
int h_page_home(struct http_req *req);
int h_page_changes(struct http_req *req);
int h_page_assets(struct http_req *req);
int h_page_asset(struct http_req *req);
int h_page_version(struct http_req *req);
int h_page_diff(struct http_req *req);
int h_page_upload_form(struct http_req *req);
int h_page_upload(struct http_req *req);

/* h_pages_change.c: the pages of the change process */
int h_page_change(struct http_req *req);
int h_page_change_action(struct http_req *req);
int h_page_change_new_form(struct http_req *req);
int h_page_change_new(struct http_req *req);
int h_page_change_edit_form(struct http_req *req);
int h_page_change_edit(struct http_req *req);
int h_page_change_sign(struct http_req *req);
int h_page_signature(struct http_req *req);
int h_page_deploy_form(struct http_req *req);
int h_page_deploy(struct http_req *req);
int h_page_run_new_form(struct http_req *req);
int h_page_run_new(struct http_req *req);
int h_page_protocols(struct http_req *req);
int h_page_protocol(struct http_req *req);
int h_page_protocol_new_form(struct http_req *req);
int h_page_protocol_new(struct http_req *req);
int h_page_run(struct http_req *req);
int h_page_run_step(struct http_req *req);
int h_page_run_attach(struct http_req *req);
int h_page_run_sign_form(struct http_req *req);
int h_page_run_sign(struct http_req *req);

/* h_pages_admin.c: the profile, the administrator's and the auditor's pages */
int h_page_profile(struct http_req *req);
int h_page_profile_token(struct http_req *req);
int h_page_profile_token_revoke(struct http_req *req);
int h_page_totp_start(struct http_req *req);
int h_page_totp_confirm(struct http_req *req);
int h_page_admin_users(struct http_req *req);
int h_page_admin_user_create(struct http_req *req);
int h_page_admin_user_update(struct http_req *req);
int h_page_admin_user_totp_reset(struct http_req *req);
int h_page_admin_assets(struct http_req *req);
int h_page_admin_asset_create(struct http_req *req);
int h_page_admin_asset(struct http_req *req);
int h_page_admin_asset_save(struct http_req *req);
int h_page_reports(struct http_req *req);
int h_page_audit(struct http_req *req);

/* h_protocols.c: test protocol templates, test runs, their steps and attachments */
int h_protocols_create(struct http_req *req);
int h_protocols_list(struct http_req *req);
int h_protocols_get(struct http_req *req);
int h_runs_create(struct http_req *req);
int h_runs_list(struct http_req *req);
int h_runs_get(struct http_req *req);
int h_runs_step(struct http_req *req);
int h_attachments_create(struct http_req *req);
int h_attachments_get(struct http_req *req);

/* server/h_firmware.c: controlled firmware updates of a change */
int h_firmware_put(struct http_req *req);
int h_firmware_file(struct http_req *req);
int h_firmware_list(struct http_req *req);

/* server/h_incidents.c: incidents and their reporting (API and pages) */
int h_incidents_create(struct http_req *req);
int h_incidents_list(struct http_req *req);
int h_incidents_get(struct http_req *req);
int h_incidents_patch(struct http_req *req);
int h_incidents_report(struct http_req *req);
int h_incidents_report_get(struct http_req *req);
int h_incidents_link(struct http_req *req);
int h_incidents_review(struct http_req *req);
int h_incidents_evidence(struct http_req *req);
int h_page_incidents(struct http_req *req);
int h_page_incident(struct http_req *req);
int h_page_incident_new(struct http_req *req);
int h_page_incident_edit(struct http_req *req);
int h_page_incident_report(struct http_req *req);
int h_page_incident_link(struct http_req *req);
int h_page_incident_review(struct http_req *req);

/* server/h_webhooks.c: webhook subscriptions (API and pages) */
int h_webhooks_create(struct http_req *req);
int h_webhooks_list(struct http_req *req);
int h_webhooks_get(struct http_req *req);
int h_webhooks_patch(struct http_req *req);
int h_webhooks_delete(struct http_req *req);
int h_webhooks_deliveries(struct http_req *req);
int h_page_admin_webhooks(struct http_req *req);
int h_page_admin_webhook_create(struct http_req *req);
int h_page_admin_webhook(struct http_req *req);
int h_page_admin_webhook_update(struct http_req *req);
int h_page_admin_webhook_delete(struct http_req *req);

/* server/h_metrics.c: the Prometheus metrics */
int h_metrics(struct http_req *req);

/*
 * The whole exposition for the actor of `d` (dom_metrics_read) with the
 * request counters m, into *out (initialised here; the caller releases it).
 */
struct metrics;
int h_metrics_render(struct buf *out, const struct dom *d, const struct metrics *m);

/* server/h_drills.c: restore drills (API and page) */
int h_drills_list(struct http_req *req);
int h_page_drills(struct http_req *req);

/* server/h_directory.c: the LDAP / Active Directory settings (API and page) */
int h_directory_get(struct http_req *req);
int h_directory_test(struct http_req *req);
int h_page_directory(struct http_req *req);
int h_page_directory_test(struct http_req *req);

/* server/h_readbacks.c: the agent's door and device read-backs */
int h_agent_poll(struct http_req *req);
int h_agent_readback(struct http_req *req);
int h_readbacks_import(struct http_req *req);
int h_readbacks_states(struct http_req *req);
int h_agents_list(struct http_req *req);
int h_readbacks_list(struct http_req *req);
int h_readbacks_get(struct http_req *req);
int h_readbacks_archive(struct http_req *req);
int h_readbacks_adopt(struct http_req *req);
int h_readback_settings_get(struct http_req *req);
int h_readback_settings_put(struct http_req *req);
int h_readback_request(struct http_req *req);
int h_readback_settings_group_put(struct http_req *req);
int h_readback_request_group(struct http_req *req);
int h_page_plant(struct http_req *req);
int h_page_agents(struct http_req *req);
int h_agent_key_put(struct http_req *req);
int h_page_agent_key(struct http_req *req);

#endif
