-- 0003_audit_chain.sql - the audit trail becomes a hash chain with signed
-- checkpoints, and the application's database role loses the right to
-- rewrite it.  The encoding hashed here is described byte for byte in
-- docs/audit.md; storage/audit.c writes the same bytes for new events.

-- One trigger function for every append-only table; it names the table.
CREATE FUNCTION append_only_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- The canonical text of an event (docs/audit.md, "Canonical encoding").
-- Used here to chain events written before this migration, and by people
-- who want to look at what was hashed; `otcm audit verify` never trusts it
-- and recomputes everything in C from the stored columns.
CREATE FUNCTION audit_event_canonical(e audit_events) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '{"action":' || to_json(e.action)::text
        || ',"actor":' || to_json(e.actor)::text
        || ',"actor_id":' || coalesce(e.actor_id::text, 'null')
        || ',"after":' || coalesce(to_json(e.after::text)::text, 'null')
        || ',"at":"' || to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
        || ',"before":' || coalesce(to_json(e.before::text)::text, 'null')
        || ',"object_id":' || coalesce(to_json(e.object_id)::text, 'null')
        || ',"object_type":' || to_json(e.object_type)::text
        || ',"reason":' || coalesce(to_json(e.reason)::text, 'null')
        || ',"request_id":' || coalesce(to_json(e.request_id)::text, 'null')
        || ',"role":' || coalesce(to_json(e.role)::text, 'null')
        || ',"seq":' || e.seq::text
        || ',"source":' || coalesce(to_json(e.source)::text, 'null')
        || '}'
$$;

-- Chain the events written before this migration, oldest first:
-- hash = SHA-256(prev_hash || canonical), the first prev_hash 32 zero bytes.
DO $$
DECLARE
    r audit_events;
    prev bytea := decode(repeat('00', 32), 'hex');
    h bytea;
BEGIN
    IF EXISTS (SELECT 1 FROM audit_events WHERE hash IS NULL) THEN
        ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
        FOR r IN SELECT * FROM audit_events ORDER BY seq LOOP
            h := sha256(prev || convert_to(audit_event_canonical(r), 'UTF8'));
            UPDATE audit_events SET prev_hash = prev, hash = h WHERE seq = r.seq;
            prev := h;
        END LOOP;
        ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update;
    ELSE
        prev := coalesce((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), prev);
    END IF;
    -- audit_head.hash is the hash of the newest event (32 zero bytes when none).
    UPDATE audit_head SET hash = prev;
END $$;

ALTER TABLE audit_head ALTER COLUMN hash SET NOT NULL;
ALTER TABLE audit_head ADD CONSTRAINT audit_head_hash_len CHECK (length(hash) = 32);
ALTER TABLE audit_events ALTER COLUMN prev_hash SET NOT NULL;
ALTER TABLE audit_events ALTER COLUMN hash SET NOT NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_hash_len
    CHECK (length(prev_hash) = 32 AND length(hash) = 32);

-- Signed checkpoints: the Merkle tree head (RFC 9162) over the event hashes
-- of events 1..tree_size, signed by the server's Ed25519 key as a C2SP
-- signed note.  `note` is the whole note exactly as signed and served; the
-- other columns repeat what it says so that it can be queried.
CREATE TABLE audit_checkpoints (
    tree_size   bigint PRIMARY KEY CHECK (tree_size > 0),
    root_hash   bytea NOT NULL CHECK (length(root_hash) = 32),
    at          timestamptz NOT NULL DEFAULT now(),
    origin      text NOT NULL,
    key_id      bytea NOT NULL CHECK (length(key_id) = 4),
    note        text NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_update;
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_truncate;

-- The application's role.  Migrations run as the owner of the tables; the
-- server's pooled connections SET ROLE otcm_app, which may read and write
-- every table except that it may only read and append the audit trail and
-- its checkpoints, and only read the migration record.  Roles belong to the
-- whole cluster, so the role may already exist (another database, or a
-- concurrent migration elsewhere).  An owner that may not create roles gets
-- a warning; docs/audit.md lists what an operator applies by hand then.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        BEGIN
            CREATE ROLE otcm_app NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;
            WHEN insufficient_privilege THEN
                RAISE WARNING 'cannot create role otcm_app: the audit trail is protected by triggers only until an operator creates it (docs/audit.md)';
                RETURN;
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'otcm_app', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT otcm_app TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'cannot grant role otcm_app to %: the server will not switch to it', current_user;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO otcm_app', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO otcm_app',
                   current_schema());
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO otcm_app',
                   current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE'
                   ' ON TABLES TO otcm_app', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE'
                   ' ON SEQUENCES TO otcm_app', current_schema());
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints FROM otcm_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM otcm_app;
END $$;
