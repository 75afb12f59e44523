-- The end of an admitted buyer's access window is fixed when the tick admits them; a later
-- change of access_ttl_seconds does not move it. Ticks recorded before this column existed
-- take their performance's current window.
ALTER TABLE admission_ticks ADD COLUMN access_expires_at_ms bigint;
UPDATE admission_ticks t SET access_expires_at_ms = t.admitted_at_ms + p.access_ttl_seconds * 1000
  FROM performances p WHERE p.id = t.performance_id;
ALTER TABLE admission_ticks ALTER COLUMN access_expires_at_ms SET NOT NULL;
