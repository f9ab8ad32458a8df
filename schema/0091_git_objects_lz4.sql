-- 0091_git_objects_lz4.sql - git objects compressed with lz4 instead of pglz.
--
-- A large version spent most of its time in PostgreSQL's pglz compressing
-- the value (a 20 MiB L5X: about 0.25 s of a 0.5 s upload); lz4 does the
-- same work several times faster, and its values are about as large: 13 %
-- smaller over the corpus's L5X files, 14 % larger for that 20 MiB file
-- (docs/storage.md, docs/benchmarks.md).  Only values written from now on
-- use lz4; stored ones stay as they are and read as before.  A server
-- built without lz4 keeps pglz: nothing else depends on the method.
DO $$
BEGIN
    ALTER TABLE git_objects ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: git objects stay compressed with pglz';
END
$$;
