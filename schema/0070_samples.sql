-- 0070_samples.sql - the auditor's view of a period (docs/evidence.md).
--
-- signatures.second_factor_enrolled: whether the signer had one-time codes
-- enrolled when signing, so the control checklist can say that every
-- enrolled signer gave a code (NULL for signatures written before it was
-- recorded: the checklist reads those as not enrolled).
--
-- samples: each random sample an auditor drew from a period's population of
-- changes, with the seed and the population it was drawn from, so anyone
-- can redo the draw.  Append-only, like the audit trail: a sample is the
-- record of how the tested changes were chosen.
ALTER TABLE signatures ADD COLUMN second_factor_enrolled boolean;

CREATE TABLE samples (
    id                 bigserial PRIMARY KEY,
    taken_at           timestamptz NOT NULL DEFAULT now(),
    taken_by           bigint NOT NULL REFERENCES users(id),
    period_from        timestamptz NOT NULL,
    period_to          timestamptz NOT NULL,
    size               integer NOT NULL CHECK (size > 0),
    seed               text NOT NULL,
    seed_source        text NOT NULL CHECK (seed_source IN ('given', 'generated')),
    algorithm          text NOT NULL,
    population_size    integer NOT NULL CHECK (population_size >= 0),
    population_sha256  text NOT NULL CHECK (population_sha256 ~ '^[0-9a-f]{64}$'),
    keys               jsonb NOT NULL,   -- the sampled change keys, in key order
    CHECK (period_from <= period_to)
);
CREATE INDEX samples_taken_at ON samples (taken_at);
CREATE TRIGGER samples_no_update BEFORE UPDATE OR DELETE ON samples
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER samples_no_truncate BEFORE TRUNCATE ON samples
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE samples ENABLE ALWAYS TRIGGER samples_no_update;
ALTER TABLE samples ENABLE ALWAYS TRIGGER samples_no_truncate;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON samples FROM otcm_app;
        GRANT SELECT, INSERT ON samples TO otcm_app;
        GRANT USAGE, SELECT ON SEQUENCE samples_id_seq TO otcm_app;
    END IF;
END
$$;
