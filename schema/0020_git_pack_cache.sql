-- 0020_git_pack_cache.sql - fetch packs kept by what they hold, so that a
-- clone of an asset whose refs did not move is served without building its
-- pack again (libgit2's packbuilder reuses no deltas: building costs far
-- more than sending).  A pack is a pure function of object ids (the wants,
-- the annotated tags it may carry, the depth), so an entry never goes
-- stale; it is only dropped to bound the space (storage/gitpack.h).
-- Derived data: losing the table loses nothing but time.
CREATE TABLE git_pack_cache (
    asset_id    bigint NOT NULL REFERENCES assets(id),
    key         bytea NOT NULL CHECK (octet_length(key) = 32),   -- SHA-256 of the pack's inputs
    pack        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, key)
);
