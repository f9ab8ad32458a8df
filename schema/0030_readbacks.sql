-- 0030_readbacks.sql - read-backs: what collection agents read from the
-- devices (docs/agent.md, docs/readbacks.md).  The files of a read-back
-- are a commit on the asset's own ref refs/readback/<source>; these rows
-- hold its metadata and its comparison with the approved baseline.

-- refs/readback/<source> joins branches and tags in the refs table.
ALTER TABLE refs DROP CONSTRAINT IF EXISTS refs_name_check;
ALTER TABLE refs ADD CONSTRAINT refs_name_check
    CHECK (name ~ '^refs/(heads|tags|readback)/[A-Za-z0-9._/-]+$');

-- The collection agents that have called in: one row per user of role agent.
CREATE TABLE agents (
    user_id           bigint PRIMARY KEY REFERENCES users(id),
    version           text NOT NULL DEFAULT '' CHECK (length(version) <= 64),
    hostname          text NOT NULL DEFAULT '' CHECK (length(hostname) <= 255),
    public_key        text CHECK (public_key ~ '^[A-Za-z0-9+/]{43}=$'),  -- Ed25519, base64
    first_contact_at  timestamptz NOT NULL DEFAULT now(),
    last_contact_at   timestamptz NOT NULL DEFAULT now()
);

-- How an asset is read back: by which agent, on which schedule, how old a
-- good read-back may get, and what legitimately differs on the device.
CREATE TABLE readback_settings (
    asset_id          bigint PRIMARY KEY REFERENCES assets(id),
    agent_id          bigint REFERENCES users(id),
    interval_seconds  integer CHECK (interval_seconds >= 60),
    daily_at          text CHECK (daily_at ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    cron              text CHECK (length(cron) <= 100),
    after_deploy      boolean NOT NULL DEFAULT true,
    max_age_seconds   integer NOT NULL DEFAULT 93600 CHECK (max_age_seconds > 0),
    normalise         jsonb NOT NULL DEFAULT '[]',
    due_at            timestamptz,          -- the next read-back is due then (NULL: none)
    due_reason        text,                 -- "schedule", "on demand", "deployment"
    due_deployment    bigint REFERENCES deployments(id),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX readback_settings_due ON readback_settings (agent_id, due_at);

-- Every read-back, good or failed, with its comparison.  Times are the
-- server's: read_at is when the server received it.
CREATE TABLE readbacks (
    id             bigserial PRIMARY KEY,
    asset_id       bigint NOT NULL REFERENCES assets(id),
    agent_id       bigint NOT NULL REFERENCES users(id),
    source         text NOT NULL CHECK (source ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    via            text NOT NULL CHECK (via IN ('agent', 'import')),
    agent_seq      bigint NOT NULL CHECK (agent_seq > 0),
    collector      text NOT NULL CHECK (collector IN ('folder', 'command', 'opcua')),
    ok             boolean NOT NULL,
    error          text,
    exit_status    integer,
    stderr         text,
    commit_oid     text CHECK (commit_oid ~ '^[0-9a-f]{40}$'),
    tree_oid       text CHECK (tree_oid ~ '^[0-9a-f]{40}$'),
    unchanged      boolean NOT NULL DEFAULT false,   -- same files as the previous read-back
    files          jsonb NOT NULL DEFAULT '{}',      -- path -> SHA-256 hex
    identity       jsonb NOT NULL DEFAULT '{}',
    duration_ms    bigint CHECK (duration_ms >= 0),
    state          text NOT NULL CHECK (state IN ('in_sync', 'pending_release', 'drift', 'read_failed')),
    released_commit text CHECK (released_commit ~ '^[0-9a-f]{40}$'),  -- main when compared
    comparison     jsonb NOT NULL DEFAULT '{}',
    deployment_id  bigint REFERENCES deployments(id),
    read_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (ok = (commit_oid IS NOT NULL)),
    UNIQUE (agent_id, via, agent_seq)
);
CREATE INDEX readbacks_asset ON readbacks (asset_id, id DESC);
CREATE INDEX readbacks_read_at ON readbacks (read_at);
CREATE INDEX readbacks_deployment ON readbacks (deployment_id) WHERE deployment_id IS NOT NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT, UPDATE ON agents, readback_settings TO otcm_app;
        GRANT SELECT, INSERT ON readbacks TO otcm_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON readbacks FROM otcm_app;
        GRANT USAGE, SELECT ON SEQUENCE readbacks_id_seq TO otcm_app;
    END IF;
END
$$;
