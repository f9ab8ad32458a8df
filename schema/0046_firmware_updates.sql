-- 0046_firmware_updates.sql - controlled firmware updates (docs/changes.md,
-- "Firmware updates"): per change and affected asset, the firmware read
-- before and after the update, where each came from, the advisory it
-- addresses, and the vendor's package and signature files.  A change with
-- such a record is a firmware update and its release needs them all.
CREATE TABLE change_firmware (
    change_id      bigint NOT NULL REFERENCES changes(id),
    asset_id       bigint NOT NULL REFERENCES assets(id),
    before_value   text,
    before_source  text CHECK (before_source IN ('typed', 'inventory')),
    after_value    text,
    after_source   text CHECK (after_source IN ('typed', 'inventory')),
    advisory       text,                -- the CSAF document's tracking id
    declared_by    bigint NOT NULL REFERENCES users(id),
    declared_at    timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (change_id, asset_id)
);

CREATE TABLE firmware_files (
    id           bigserial PRIMARY KEY,
    change_id    bigint NOT NULL,
    asset_id     bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('package', 'signature')),
    filename     text NOT NULL,
    size         bigint NOT NULL CHECK (size > 0),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content      bytea NOT NULL,
    uploaded_by  bigint NOT NULL REFERENCES users(id),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (change_id, asset_id) REFERENCES change_firmware (change_id, asset_id)
);
CREATE INDEX firmware_files_change ON firmware_files (change_id, asset_id, kind, id);

CREATE TRIGGER firmware_files_no_update BEFORE UPDATE OR DELETE ON firmware_files
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER firmware_files_no_truncate BEFORE TRUNCATE ON firmware_files
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE firmware_files ENABLE ALWAYS TRIGGER firmware_files_no_update;
ALTER TABLE firmware_files ENABLE ALWAYS TRIGGER firmware_files_no_truncate;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        REVOKE DELETE, TRUNCATE ON change_firmware FROM otcm_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON firmware_files FROM otcm_app;
    END IF;
END
$$;
