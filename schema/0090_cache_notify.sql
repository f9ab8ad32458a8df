-- 0090_cache_notify.sql - tell every server when a user or an API token
-- changes, so that the tokens' owners each server keeps in memory
-- (storage/credcache.h) are forgotten as the change commits: a revoked
-- token, a disabled user or a new role holds for the next request on every
-- node, however the change was made (API, page, command line, SQL).
--
-- The payload is the user's id.  A token's last use, written at most once a
-- minute as tokens are used, is no change to its owner and notifies nothing.
-- Notifications are sent at commit, once per distinct payload.
CREATE FUNCTION credentials_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    who bigint;
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        who := coalesce(NEW.id, OLD.id);
    ELSE
        IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) - 'last_used_at') = (to_jsonb(NEW) - 'last_used_at') THEN
            RETURN NULL;
        END IF;
        who := coalesce(OLD.user_id, NEW.user_id);
    END IF;
    PERFORM pg_notify('otcm_credentials', who::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_credentials_notify AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION credentials_notify();
CREATE TRIGGER api_tokens_credentials_notify AFTER UPDATE OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION credentials_notify();
ALTER TABLE users ENABLE ALWAYS TRIGGER users_credentials_notify;
ALTER TABLE api_tokens ENABLE ALWAYS TRIGGER api_tokens_credentials_notify;

-- Assets are read far more often than they change (every page and API read
-- of one, every integration polling it): each server keeps their rows in
-- memory the same way (storage/rowcache.h), told of every change to one by
-- the channel `otcm_assets` with its id.  A row's creator's name is part of
-- it; user names never change.
CREATE FUNCTION assets_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('otcm_assets', coalesce(OLD.id, NEW.id)::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER assets_cache_notify AFTER UPDATE OR DELETE ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_notify();
ALTER TABLE assets ENABLE ALWAYS TRIGGER assets_cache_notify;
