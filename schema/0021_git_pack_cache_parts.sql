-- 0021_git_pack_cache_parts.sql - a cached pack kept in parts of at most
-- 1 MiB, so that neither filling the cache nor sending from it holds a
-- whole pack in the server's memory (a clone's pack is streamed as it is
-- built, docs/git.md).  An entry with parts = 0 keeps its pack in
-- git_pack_cache.pack, as before; otherwise pack is empty and the parts,
-- numbered from 0, hold it.  Derived data, like the table it extends.
ALTER TABLE git_pack_cache ADD COLUMN parts integer NOT NULL DEFAULT 0 CHECK (parts >= 0);
ALTER TABLE git_pack_cache ADD COLUMN size bigint;

CREATE TABLE git_pack_cache_part (
    asset_id    bigint NOT NULL,
    key         bytea NOT NULL,
    seq         integer NOT NULL CHECK (seq >= 0),
    data        bytea NOT NULL,
    PRIMARY KEY (asset_id, key, seq),
    FOREIGN KEY (asset_id, key) REFERENCES git_pack_cache (asset_id, key) ON DELETE CASCADE
);
-- packs are zlib streams already: no second compression, and slices read cheaply
ALTER TABLE git_pack_cache_part ALTER COLUMN data SET STORAGE EXTERNAL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON git_pack_cache_part TO otcm_app;
    END IF;
END
$$;
