-- 0060_webhooks.sql - signed webhooks: the subscriptions administrators keep
-- and the log of every delivery attempt (docs/operations.md, "Webhooks").
--
-- The audit trail is the outbox, as for syslog (0013): each subscription
-- keeps the last audit seq it has taken (`seq`, moved by compare-and-swap),
-- and the delivering node sends the next event matching `events` after it,
-- in order, retrying with backoff until the receiver answers 2xx.  A
-- subscription failing since `failing_since` for longer than
-- --webhook-disable-after-hours is disabled (`disabled_at`, `disabled_reason`)
-- with an audit event.  The secret is kept as given: the server needs it to
-- sign (HMAC-SHA256), so it is readable by whoever can read this table.
CREATE TABLE webhooks (
    id               bigserial PRIMARY KEY,
    url              text NOT NULL CHECK (url ~ '^https?://'),
    events           text[] NOT NULL CHECK (cardinality(events) > 0),
    secret           text NOT NULL,
    description      text NOT NULL DEFAULT '',
    enabled          boolean NOT NULL DEFAULT true,
    seq              bigint NOT NULL CHECK (seq >= 0),
    attempts         integer NOT NULL DEFAULT 0,     -- failed tries of the event after seq
    next_attempt_at  timestamptz,                    -- NULL: now
    failing_since    timestamptz,                    -- first failure since the last success
    last_success_at  timestamptz,
    disabled_at      timestamptz,
    disabled_reason  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           bigserial PRIMARY KEY,
    webhook_id   bigint NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    seq          bigint NOT NULL,                    -- the audit event delivered
    message_id   text NOT NULL,                      -- webhook-id: the same on every retry
    attempt      integer NOT NULL CHECK (attempt >= 1),
    at           timestamptz NOT NULL DEFAULT now(),
    status       integer,                            -- HTTP status; NULL: no answer
    error        text,                               -- why there was no 2xx
    duration_ms  integer NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (webhook_id, id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks, webhook_deliveries TO otcm_app;
        GRANT USAGE, SELECT ON SEQUENCE webhooks_id_seq, webhook_deliveries_id_seq TO otcm_app;
    END IF;
END
$$;
