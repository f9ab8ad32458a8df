-- 0002_changes.sql - change tickets, their affected assets and versions,
-- test protocols and runs, electronic signatures, deployments, TOTP
-- enrolment, and the settings of the change process.  Forward-only.

-- Settings an administrator changes through the API (audited).
CREATE TABLE change_settings (
    only_row                    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    emergency_approval_seconds  integer NOT NULL DEFAULT 259200
                                CHECK (emergency_approval_seconds BETWEEN 0 AND 31536000)
);
INSERT INTO change_settings DEFAULT VALUES;

-- A change ticket; its key is 'CHG-' || id.  Times are the server's, except
-- the planned window, which is a plan the requester states.
CREATE TABLE changes (
    id                   bigserial PRIMARY KEY,
    type                 text NOT NULL CHECK (type IN ('standard', 'normal', 'emergency')),
    title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    reason               text NOT NULL DEFAULT '',
    risk                 text NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    safety_related       boolean NOT NULL DEFAULT false,
    implementation_plan  text NOT NULL DEFAULT '',
    rollback_plan        text NOT NULL DEFAULT '',
    window_start         timestamptz,
    window_end           timestamptz,
    requester_id         bigint NOT NULL REFERENCES users(id),
    state                text NOT NULL DEFAULT 'draft'
                         CHECK (state IN ('draft', 'submitted', 'authorised', 'implementing', 'fat',
                                          'approved', 'deployed', 'sat', 'released', 'closed',
                                          'rejected', 'cancelled')),
    deployed_at          timestamptz,      -- first time the change reached 'deployed'
    retro_due_at         timestamptz,      -- emergency: approval due by then
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end IS NULL OR window_start IS NULL OR window_end >= window_start)
);
CREATE INDEX changes_state ON changes (state, id);
CREATE INDEX changes_requester ON changes (requester_id, id);
CREATE INDEX changes_created ON changes (created_at);

CREATE TABLE change_assets (
    change_id  bigint NOT NULL REFERENCES changes(id),
    asset_id   bigint NOT NULL REFERENCES assets(id),
    PRIMARY KEY (change_id, asset_id)
);
CREATE INDEX change_assets_asset ON change_assets (asset_id);

-- Everyone who uploaded or committed content to a change (segregation of duties).
CREATE TABLE change_contributors (
    change_id  bigint NOT NULL REFERENCES changes(id),
    user_id    bigint NOT NULL REFERENCES users(id),
    asset_id   bigint NOT NULL REFERENCES assets(id),
    first_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (change_id, user_id, asset_id)
);

-- Versions written on a change's branch; the newest per asset is its head.
CREATE TABLE change_versions (
    id          bigserial PRIMARY KEY,
    change_id   bigint NOT NULL REFERENCES changes(id),
    asset_id    bigint NOT NULL REFERENCES assets(id),
    commit_oid  text NOT NULL CHECK (commit_oid ~ '^[0-9a-f]{40}$'),
    tree_oid    text NOT NULL CHECK (tree_oid ~ '^[0-9a-f]{40}$'),
    author_id   bigint NOT NULL REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (change_id, asset_id, commit_oid)
);
CREATE INDEX change_versions_head ON change_versions (change_id, asset_id, id DESC);

-- Test protocol templates: a new version is a new row, never an edit.
CREATE TABLE protocols (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    version           integer NOT NULL CHECK (version > 0),
    kind              text NOT NULL CHECK (kind IN ('fat', 'sat')),
    title             text NOT NULL,
    witness_required  boolean NOT NULL DEFAULT false,
    steps             jsonb NOT NULL,      -- [{no, instruction, expected}]
    created_by        bigint NOT NULL REFERENCES users(id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

-- A run binds a protocol version to one change, one asset and one tree.
CREATE TABLE test_runs (
    id            bigserial PRIMARY KEY,
    change_id     bigint NOT NULL REFERENCES changes(id),
    asset_id      bigint NOT NULL REFERENCES assets(id),
    protocol_id   bigint NOT NULL REFERENCES protocols(id),
    commit_oid    text NOT NULL CHECK (commit_oid ~ '^[0-9a-f]{40}$'),
    tree_oid      text NOT NULL CHECK (tree_oid ~ '^[0-9a-f]{40}$'),
    tester_id     bigint NOT NULL REFERENCES users(id),
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'completed')),
    verdict       text CHECK (verdict IN ('pass', 'fail')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    CHECK ((state = 'completed') = (verdict IS NOT NULL))
);
CREATE INDEX test_runs_change ON test_runs (change_id, asset_id);

CREATE TABLE run_steps (
    run_id       bigint NOT NULL REFERENCES test_runs(id),
    step_no      integer NOT NULL CHECK (step_no > 0),
    result       text NOT NULL CHECK (result IN ('pass', 'fail', 'n/a')),
    observed     text NOT NULL DEFAULT '',
    comment      text NOT NULL DEFAULT '',
    deviation    text,
    disposition  text CHECK (disposition IN ('accepted', 'rejected')),
    tester_id    bigint NOT NULL REFERENCES users(id),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step_no)
);

-- Electronic signatures.  `content` is the canonical JSON that was signed,
-- byte for byte; content_sha256 its digest; trees maps asset id to the tree
-- signed for it.  Never edited or deleted.
CREATE TABLE signatures (
    id              bigserial PRIMARY KEY,
    change_id       bigint NOT NULL REFERENCES changes(id),
    run_id          bigint REFERENCES test_runs(id),
    meaning         text NOT NULL CHECK (meaning IN ('authorised', 'reviewed', 'tested', 'witnessed',
                                                     'approved', 'released')),
    signer_id       bigint NOT NULL REFERENCES users(id),
    printed_name    text NOT NULL,
    role            text NOT NULL,
    auth_method     text NOT NULL CHECK (auth_method IN ('password', 'password+totp')),
    signed_at       timestamptz NOT NULL DEFAULT now(),
    content         text NOT NULL,
    content_sha256  text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    trees           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX signatures_change ON signatures (change_id, id);
CREATE INDEX signatures_run ON signatures (run_id) WHERE run_id IS NOT NULL;

CREATE FUNCTION signatures_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signatures are never edited or deleted (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER signatures_no_update BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION signatures_refuse();
CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON signatures
    FOR EACH STATEMENT EXECUTE FUNCTION signatures_refuse();
ALTER TABLE signatures ENABLE ALWAYS TRIGGER signatures_no_update;
ALTER TABLE signatures ENABLE ALWAYS TRIGGER signatures_no_truncate;

-- What went to which device, by whom, when (server time).
CREATE TABLE deployments (
    id               bigserial PRIMARY KEY,
    change_id        bigint NOT NULL REFERENCES changes(id),
    asset_id         bigint NOT NULL REFERENCES assets(id),
    commit_oid       text NOT NULL CHECK (commit_oid ~ '^[0-9a-f]{40}$'),
    tree_oid         text NOT NULL CHECK (tree_oid ~ '^[0-9a-f]{40}$'),
    readback_sha256  text CHECK (readback_sha256 ~ '^[0-9a-f]{64}$'),
    readback_match   boolean,              -- NULL: no read-back given
    note             text NOT NULL DEFAULT '',
    deployed_by      bigint NOT NULL REFERENCES users(id),
    deployed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_change ON deployments (change_id, asset_id);

-- TOTP enrolment: pending until a first code confirms it; last_step stops replays.
CREATE TABLE user_totp (
    user_id     bigint PRIMARY KEY REFERENCES users(id),
    secret      bytea NOT NULL CHECK (length(secret) BETWEEN 10 AND 64),
    enabled     boolean NOT NULL DEFAULT false,
    last_step   bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    enabled_at  timestamptz
);
