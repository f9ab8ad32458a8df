-- Refusals by role (401/403) are audited, but aggregated so that a flood
-- cannot bloat the trail: the first refusal of an actor for one operation
-- in a minute writes an audit event, and every refusal counts here.
CREATE TABLE access_refusals (
    actor   text        NOT NULL,
    what    text        NOT NULL,
    minute  timestamptz NOT NULL,
    count   bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (actor, what, minute)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT, UPDATE ON access_refusals TO otcm_app;
    END IF;
END
$$;
