-- 0001_foundation.sql - users, sessions, tokens, assets, git objects and refs,
-- versions and the audit trail.  Forward-only; applied once under an advisory
-- lock by db_migrate().

-- Git objects of every asset, content-addressed and stored once.  The object
-- id is the raw 20-byte SHA-1 git computes; type is git's object type number
-- (1 commit, 2 tree, 3 blob, 4 tag).  PostgreSQL compresses large values.
CREATE TABLE git_objects (
    oid        bytea PRIMARY KEY CHECK (length(oid) = 20),
    type       smallint NOT NULL CHECK (type IN (1, 2, 3, 4)),
    size       bigint NOT NULL CHECK (size >= 0),
    data       bytea NOT NULL
);

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    display_name   text NOT NULL,
    email          text,
    role           text NOT NULL CHECK (role IN ('admin', 'engineer', 'qa', 'approver', 'auditor', 'agent')),
    password_hash  text NOT NULL,
    disabled       boolean NOT NULL DEFAULT false,
    failed_logins  integer NOT NULL DEFAULT 0,
    next_login_at  timestamptz,            -- throttling: no attempt is checked before this
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Login sessions; only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    id_hash     bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id     bigint NOT NULL REFERENCES users(id),
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    source      text
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens; the secret is shown once and only its SHA-256 is stored.
CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id),
    name        text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Assets: one git repository each, placed in the site/area/line hierarchy.
CREATE TABLE assets (
    id           bigserial PRIMARY KEY,
    path         text NOT NULL UNIQUE
                 CHECK (path ~ '^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$'
                        AND length(path) <= 255),
    type         text NOT NULL CHECK (type IN ('plc', 'hmi', 'drive', 'robot', 'scada', 'recipe', 'other')),
    vendor       text NOT NULL DEFAULT '',
    model        text NOT NULL DEFAULT '',
    firmware     text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    created_by   bigint NOT NULL REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assets_path_prefix ON assets (path text_pattern_ops);

-- Refs are rows; a branch moves only by compare-and-swap on oid.
CREATE TABLE refs (
    asset_id    bigint NOT NULL REFERENCES assets(id),
    name        text NOT NULL CHECK (name ~ '^refs/(heads|tags)/[A-Za-z0-9._/-]+$'),
    oid         bytea NOT NULL REFERENCES git_objects(oid),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, name)
);

-- Every commit otcm wrote, with who and when by the server's clock.  The
-- commit object is the content; this row is the record tickets will link to.
CREATE TABLE versions (
    id          bigserial PRIMARY KEY,
    asset_id    bigint NOT NULL REFERENCES assets(id),
    commit_oid  bytea NOT NULL REFERENCES git_objects(oid),
    tree_oid    bytea NOT NULL REFERENCES git_objects(oid),
    parent_oid  bytea REFERENCES git_objects(oid),
    branch      text NOT NULL,
    message     text NOT NULL,
    author_id   bigint NOT NULL REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (asset_id, commit_oid)
);
CREATE INDEX versions_asset_branch ON versions (asset_id, branch, id DESC);

-- The audit trail.  seq is gapless: it is taken from audit_head inside the
-- writing transaction (the row lock makes writers queue, and a rollback
-- returns the number).  prev_hash/hash are filled by the hash chain; the
-- columns exist from the start so the chain needs no table rewrite.
CREATE TABLE audit_head (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq        bigint NOT NULL,
    hash       bytea
);
INSERT INTO audit_head (seq) VALUES (0);

CREATE TABLE audit_events (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     bigint REFERENCES users(id),
    actor        text NOT NULL,          -- username, or 'anonymous' / 'system'
    role         text,
    source       text,                   -- client address
    request_id   text,
    action       text NOT NULL,          -- 'user.create', 'session.login.failed', ...
    object_type  text NOT NULL,
    object_id    text,
    before       jsonb,
    after        jsonb,
    reason       text,
    prev_hash    bytea,
    hash         bytea
);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);
CREATE INDEX audit_events_at ON audit_events (at);

-- The audit trail is append-only in the database itself.
CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse();
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update;
ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_truncate;
