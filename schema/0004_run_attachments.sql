-- 0004_run_attachments.sql - photos and logs attached to the steps of a
-- test run, and the database's own refusal to change the record of a run
-- once its tester signed it.  Forward-only.

-- The bytes are a git blob in git_objects (stored once, in the same
-- transaction as this row and its audit event); this row says which run
-- and step it belongs to, what it is, who attached it and when (server
-- time).  content_type is what the server recognised in the bytes, never
-- what the client claimed.  Rows are never edited or deleted.
CREATE TABLE run_attachments (
    id            bigserial PRIMARY KEY,
    run_id        bigint NOT NULL REFERENCES test_runs(id),
    step_no       integer NOT NULL CHECK (step_no > 0),
    blob_oid      bytea NOT NULL REFERENCES git_objects(oid),
    filename      text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type  text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'application/pdf',
                                                        'text/plain', 'text/csv')),
    size          bigint NOT NULL CHECK (size >= 0),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by   bigint NOT NULL REFERENCES users(id),
    uploaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_attachments_run ON run_attachments (run_id, step_no, id);

CREATE FUNCTION run_attachments_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'run attachments are never edited or deleted (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER run_attachments_no_update BEFORE UPDATE OR DELETE ON run_attachments
    FOR EACH ROW EXECUTE FUNCTION run_attachments_refuse();
CREATE TRIGGER run_attachments_no_truncate BEFORE TRUNCATE ON run_attachments
    FOR EACH STATEMENT EXECUTE FUNCTION run_attachments_refuse();
ALTER TABLE run_attachments ENABLE ALWAYS TRIGGER run_attachments_no_update;
ALTER TABLE run_attachments ENABLE ALWAYS TRIGGER run_attachments_no_truncate;

-- A completed run (signed tested) keeps its steps and attachments as they
-- were signed.  The handlers refuse first with a rule (run-completed); this
-- is the same rule where no handler can skip it.
CREATE FUNCTION run_completed_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        run := OLD.run_id;
    ELSE
        run := NEW.run_id;
    END IF;
    IF EXISTS (SELECT 1 FROM test_runs WHERE id = run AND state = 'completed') THEN
        RAISE EXCEPTION 'test run % is completed: its % no longer change', run, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER run_steps_frozen BEFORE INSERT OR UPDATE OR DELETE ON run_steps
    FOR EACH ROW EXECUTE FUNCTION run_completed_refuse();
CREATE TRIGGER run_attachments_frozen BEFORE INSERT ON run_attachments
    FOR EACH ROW EXECUTE FUNCTION run_completed_refuse();
ALTER TABLE run_steps ENABLE ALWAYS TRIGGER run_steps_frozen;
ALTER TABLE run_attachments ENABLE ALWAYS TRIGGER run_attachments_frozen;

-- The application role may read and append attachments, not change them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT ON run_attachments TO otcm_app;
        GRANT USAGE, SELECT ON SEQUENCE run_attachments_id_seq TO otcm_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON run_attachments FROM otcm_app;
    END IF;
END $$;
