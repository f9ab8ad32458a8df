-- 0040_inventory.sql - an asset's inventory and its history: besides vendor,
-- model and firmware (0001), the serial number, the vendor's order number
-- and the CPE and PURL names advisories identify products by.  Every change
-- of one of these fields is a row of asset_inventory_history with its old
-- and new value, when, who, and what moved it: typed through the API or a
-- page (manual), a released change (change, with the change's key), or a
-- device read-back (readback, with the read-back's id).  The history is
-- append-only, like the audit trail.
ALTER TABLE assets
    ADD COLUMN serial_number text NOT NULL DEFAULT '',
    ADD COLUMN order_number  text NOT NULL DEFAULT '',
    ADD COLUMN cpe           text NOT NULL DEFAULT '',
    ADD COLUMN purl          text NOT NULL DEFAULT '';

CREATE TABLE asset_inventory_history (
    id          bigserial PRIMARY KEY,
    asset_id    bigint NOT NULL REFERENCES assets(id),
    field       text NOT NULL CHECK (field IN ('vendor', 'model', 'firmware', 'serial_number',
                                               'order_number', 'cpe', 'purl')),
    old_value   text NOT NULL,
    new_value   text NOT NULL,
    source      text NOT NULL CHECK (source IN ('manual', 'change', 'readback')),
    source_ref  text,                -- the change's key, the read-back's id; NULL for manual
    user_id     bigint REFERENCES users(id),   -- NULL: the command line ("system")
    username    text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asset_inventory_history_asset ON asset_inventory_history (asset_id, id);
CREATE TRIGGER asset_inventory_history_no_update BEFORE UPDATE OR DELETE ON asset_inventory_history
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER asset_inventory_history_no_truncate BEFORE TRUNCATE ON asset_inventory_history
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE asset_inventory_history ENABLE ALWAYS TRIGGER asset_inventory_history_no_update;
ALTER TABLE asset_inventory_history ENABLE ALWAYS TRIGGER asset_inventory_history_no_truncate;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON asset_inventory_history FROM otcm_app;
        GRANT SELECT, INSERT ON asset_inventory_history TO otcm_app;
        GRANT USAGE, SELECT ON SEQUENCE asset_inventory_history_id_seq TO otcm_app;
    END IF;
END
$$;
