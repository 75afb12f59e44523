-- Idle buyers: an admitted buyer who has not used the access for this many seconds gives the
-- place back (0: off).
ALTER TABLE performances
  ADD COLUMN idle_timeout_seconds integer NOT NULL DEFAULT 0
    CHECK (idle_timeout_seconds = 0 OR idle_timeout_seconds BETWEEN 30 AND 3600);
