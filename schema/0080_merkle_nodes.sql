-- 0080_merkle_nodes.sql - stored subtree hashes of the audit trail's Merkle
-- tree, so that an event's inclusion proof costs O(log n) reads instead of
-- reading every event hash of the checkpoint (docs/audit.md, "Inclusion
-- proofs in O(log n)").
--
-- A row (level, idx) holds the RFC 9162 root of the 2^level leaves from
-- idx * 2^level on (leaf of event seq at index seq - 1), for level 8 (256
-- events) and up.  Rows are written right after a checkpoint is signed,
-- for every complete subtree of the events it signs.  They are a derived index, not evidence: a proof built
-- from a wrong row does not lead to the signed root, and every verifier
-- checks that.  Append-only all the same, like the trail they are made of.
CREATE TABLE audit_merkle_nodes (
    level  smallint NOT NULL CHECK (level BETWEEN 8 AND 63),
    idx    bigint NOT NULL CHECK (idx >= 0),
    hash   bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
CREATE TRIGGER audit_merkle_nodes_no_update BEFORE UPDATE OR DELETE ON audit_merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER audit_merkle_nodes_no_truncate BEFORE TRUNCATE ON audit_merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE audit_merkle_nodes ENABLE ALWAYS TRIGGER audit_merkle_nodes_no_update;
ALTER TABLE audit_merkle_nodes ENABLE ALWAYS TRIGGER audit_merkle_nodes_no_truncate;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_merkle_nodes FROM otcm_app;
        GRANT SELECT, INSERT ON audit_merkle_nodes TO otcm_app;
    END IF;
END $$;

-- The asset list pages by path in byte order (ORDER BY path COLLATE "C",
-- cursor: path COLLATE "C" > the last one).  The unique index on path is in
-- the column's collation, which PostgreSQL does not match to "C" even in a
-- C database, so every page sorted the whole table: O(assets), not O(page).
CREATE INDEX assets_path_c ON assets (path COLLATE "C");
