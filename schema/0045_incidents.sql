-- 0045_incidents.sql - cyber incidents and their NIS2 Art. 23 reporting
-- (docs/incidents.md): the incident record, the assets it affects, each
-- report sent to an authority with its document, links to audit events,
-- changes and test runs, and the signed post-incident review.
--
-- Every time here comes from the database server's clock.  The reports,
-- links and reviews are evidence and append-only, like the audit trail;
-- the incident row itself is edited while the incident is open.
CREATE TABLE incidents (
    id              bigserial PRIMARY KEY,
    title           text NOT NULL CHECK (title <> ''),
    category        text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    description     text NOT NULL DEFAULT '',
    detected_at     timestamptz NOT NULL DEFAULT now(),
    significant_at  timestamptz,            -- when judged significant; NULL: not (yet)
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    closed_at       timestamptz,
    created_by      bigint NOT NULL REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (significant_at IS NULL OR significant_at >= detected_at)
);
CREATE INDEX incidents_detected ON incidents (detected_at);
CREATE INDEX incidents_open_significant ON incidents (significant_at) WHERE state = 'open';

CREATE TABLE incident_assets (
    incident_id  bigint NOT NULL REFERENCES incidents(id),
    asset_id     bigint NOT NULL REFERENCES assets(id),
    PRIMARY KEY (incident_id, asset_id)
);

CREATE TABLE incident_reports (
    id            bigserial PRIMARY KEY,
    incident_id   bigint NOT NULL REFERENCES incidents(id),
    kind          text NOT NULL CHECK (kind IN ('early_warning', 'notification', 'intermediate',
                                                'progress', 'final')),
    authority     text NOT NULL CHECK (authority <> ''),
    reference     text NOT NULL DEFAULT '',
    sent_at       timestamptz NOT NULL DEFAULT now(),
    sent_by       bigint NOT NULL REFERENCES users(id),
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size          bigint NOT NULL CHECK (size > 0),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content       bytea NOT NULL
);
CREATE INDEX incident_reports_incident ON incident_reports (incident_id, id);

CREATE TABLE incident_links (
    id           bigserial PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES incidents(id),
    kind         text NOT NULL CHECK (kind IN ('audit_event', 'change', 'test_run', 'readback')),
    ref          text NOT NULL,
    note         text NOT NULL DEFAULT '',
    linked_by    bigint NOT NULL REFERENCES users(id),
    linked_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (incident_id, kind, ref)
);

CREATE TABLE incident_reviews (
    id              bigserial PRIMARY KEY,
    incident_id     bigint NOT NULL REFERENCES incidents(id),
    meaning         text NOT NULL CHECK (meaning = 'reviewed'),
    signer_id       bigint NOT NULL REFERENCES users(id),
    printed_name    text NOT NULL,
    role            text NOT NULL,
    auth_method     text NOT NULL CHECK (auth_method IN ('password', 'password+totp')),
    signed_at       timestamptz NOT NULL DEFAULT now(),
    content         text NOT NULL,
    content_sha256  text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$')
);
CREATE INDEX incident_reviews_incident ON incident_reviews (incident_id, id);

CREATE TRIGGER incident_reports_no_update BEFORE UPDATE OR DELETE ON incident_reports
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER incident_reports_no_truncate BEFORE TRUNCATE ON incident_reports
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER incident_links_no_update BEFORE UPDATE OR DELETE ON incident_links
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER incident_links_no_truncate BEFORE TRUNCATE ON incident_links
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER incident_reviews_no_update BEFORE UPDATE OR DELETE ON incident_reviews
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER incident_reviews_no_truncate BEFORE TRUNCATE ON incident_reviews
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE incident_reports ENABLE ALWAYS TRIGGER incident_reports_no_update;
ALTER TABLE incident_reports ENABLE ALWAYS TRIGGER incident_reports_no_truncate;
ALTER TABLE incident_links ENABLE ALWAYS TRIGGER incident_links_no_update;
ALTER TABLE incident_links ENABLE ALWAYS TRIGGER incident_links_no_truncate;
ALTER TABLE incident_reviews ENABLE ALWAYS TRIGGER incident_reviews_no_update;
ALTER TABLE incident_reviews ENABLE ALWAYS TRIGGER incident_reviews_no_truncate;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT, UPDATE ON incidents TO otcm_app;
        GRANT SELECT, INSERT ON incident_assets TO otcm_app;
        GRANT DELETE ON incident_assets TO otcm_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON incident_reports, incident_links, incident_reviews FROM otcm_app;
        GRANT SELECT, INSERT ON incident_reports, incident_links, incident_reviews TO otcm_app;
        GRANT USAGE, SELECT ON SEQUENCE incidents_id_seq, incident_reports_id_seq,
            incident_links_id_seq, incident_reviews_id_seq TO otcm_app;
    END IF;
END
$$;
