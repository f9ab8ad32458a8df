-- 0006_auth_policy.sql - how each login session was opened, and failed
-- logins counted per client address.
--
-- A session remembers whether its login gave a one-time code, so the
-- actor of every request it carries says how it was authenticated.
ALTER TABLE sessions ADD COLUMN auth text NOT NULL DEFAULT 'password'
    CHECK (auth IN ('password', 'password+totp'));

-- Failed logins from one client address, whatever user name they tried
-- (unknown names included): after --login-address-throttle-after failures
-- each further attempt from the address must wait, doubling up to 60 s.
-- The count starts again once the address stayed quiet for
-- --login-lock-seconds.
CREATE TABLE login_addresses (
    address         text PRIMARY KEY,
    failed_logins   integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    next_login_at   timestamptz,
    last_failed_at  timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON login_addresses TO otcm_app;
    END IF;
END $$;
