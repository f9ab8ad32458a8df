-- 0041_advisories.sql - security advisories (CSAF 2.0), their matches
-- against the inventory, and the signed assessments of each advisory on
-- each asset (docs/patch.md).

-- Every document imported, byte for byte as it came, with its SHA-256.
-- Append-only: a newer revision of an advisory is a new row.
CREATE TABLE advisory_documents (
    id           bigserial PRIMARY KEY,
    tracking_id  text NOT NULL,
    sha256       text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    document     bytea NOT NULL,
    source       text NOT NULL CHECK (source IN ('upload', 'folder')),
    file_name    text,
    user_id      bigint REFERENCES users(id),    -- NULL: the server's folder watch
    username     text NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX advisory_documents_tracking ON advisory_documents (tracking_id, id);

-- The current revision of each advisory, by the CSAF tracking id, with
-- what the server read from it (csaf_summary, csaf_products).
CREATE TABLE advisories (
    id            bigserial PRIMARY KEY,
    tracking_id   text NOT NULL UNIQUE,
    document_id   bigint NOT NULL REFERENCES advisory_documents(id),
    title         text NOT NULL,
    publisher     text NOT NULL,
    version       text NOT NULL,
    released_at   text NOT NULL,                 -- current_release_date as written
    cvss          numeric(3,1),
    severity      text NOT NULL CHECK (severity IN ('none', 'low', 'medium', 'high', 'critical')),
    summary       jsonb NOT NULL,
    products      jsonb NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Which advisory concerns which asset now: recomputed when an advisory is
-- imported and when an asset's inventory moves.  matched_at is when the
-- match was first seen, due_at when it must be dealt with by the severity
-- policy in force then.
CREATE TABLE advisory_matches (
    advisory_id  bigint NOT NULL REFERENCES advisories(id),
    asset_id     bigint NOT NULL REFERENCES assets(id),
    products     jsonb NOT NULL,       -- [{product_id, name, version, match, reason}]
    cves         jsonb NOT NULL,       -- [{cve, cvss, severity, remediations}]
    cvss         numeric(3,1),
    severity     text NOT NULL,
    undecided    boolean NOT NULL,     -- no product's version range could be decided
    matched_at   timestamptz NOT NULL DEFAULT now(),
    due_at       timestamptz NOT NULL,
    PRIMARY KEY (advisory_id, asset_id)
);
CREATE INDEX advisory_matches_asset ON advisory_matches (asset_id);

-- The plant's decision on an advisory for an asset, with the VEX vocabulary.
CREATE TABLE assessments (
    id             bigserial PRIMARY KEY,
    advisory_id    bigint NOT NULL REFERENCES advisories(id),
    asset_id       bigint NOT NULL REFERENCES assets(id),
    status         text NOT NULL CHECK (status IN ('affected', 'not_affected', 'fixed',
                                                   'under_investigation')),
    justification  text CHECK (justification IN ('component_not_present',
                                                 'vulnerable_code_not_present',
                                                 'vulnerable_code_not_in_execute_path',
                                                 'vulnerable_code_cannot_be_controlled_by_adversary',
                                                 'inline_mitigations_already_exist')),
    impact         text NOT NULL DEFAULT '',
    controls       text NOT NULL DEFAULT '',
    change_key     text,                          -- the change that fixed it
    user_id        bigint REFERENCES users(id),
    username       text NOT NULL,
    assessed_at    timestamptz NOT NULL DEFAULT now(),
    signature_id   bigint,                        -- the latest signature, NULL when fixed by a change
    UNIQUE (advisory_id, asset_id),
    CHECK ((status = 'not_affected') = (justification IS NOT NULL))
);

-- Each signed assessment: what was signed (canonical JSON), its SHA-256,
-- the signer's printed name and role.  Never edited or deleted.
CREATE TABLE assessment_signatures (
    id              bigserial PRIMARY KEY,
    assessment_id   bigint NOT NULL REFERENCES assessments(id),
    meaning         text NOT NULL CHECK (meaning IN ('assessed')),
    signer_id       bigint NOT NULL REFERENCES users(id),
    printed_name    text NOT NULL,
    role            text NOT NULL,
    auth_method     text NOT NULL CHECK (auth_method IN ('password', 'password+totp')),
    second_factor_enrolled boolean NOT NULL,   -- whether the signer had one-time codes on
    signed_at       timestamptz NOT NULL DEFAULT now(),
    content         text NOT NULL,
    content_sha256  text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$')
);
CREATE INDEX assessment_signatures_assessment ON assessment_signatures (assessment_id, id);

CREATE TRIGGER advisory_documents_no_update BEFORE UPDATE OR DELETE ON advisory_documents
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER advisory_documents_no_truncate BEFORE TRUNCATE ON advisory_documents
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE advisory_documents ENABLE ALWAYS TRIGGER advisory_documents_no_update;
ALTER TABLE advisory_documents ENABLE ALWAYS TRIGGER advisory_documents_no_truncate;
CREATE TRIGGER assessment_signatures_no_update BEFORE UPDATE OR DELETE ON assessment_signatures
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER assessment_signatures_no_truncate BEFORE TRUNCATE ON assessment_signatures
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE assessment_signatures ENABLE ALWAYS TRIGGER assessment_signatures_no_update;
ALTER TABLE assessment_signatures ENABLE ALWAYS TRIGGER assessment_signatures_no_truncate;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON advisory_documents, assessment_signatures FROM otcm_app;
        GRANT SELECT, INSERT ON advisory_documents, assessment_signatures TO otcm_app;
    END IF;
END
$$;
