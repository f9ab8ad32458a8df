-- 0050_directory_users.sql - users who log in through the plant's LDAP or
-- Active Directory.  Such a user appears at the first login, holds no
-- password here (the directory checks it), and carries the DN found at the
-- last check and when that was: a name is either local or directory, never
-- both (docs/operations.md).
ALTER TABLE users
    ADD COLUMN source text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'directory')),
    ADD COLUMN directory_dn text,
    ADD COLUMN directory_checked_at timestamptz,
    ALTER COLUMN password_hash DROP NOT NULL;

ALTER TABLE users ADD CONSTRAINT users_source_credentials CHECK (
    (source = 'local' AND password_hash IS NOT NULL AND directory_dn IS NULL)
    OR (source = 'directory' AND password_hash IS NULL AND directory_dn IS NOT NULL));
