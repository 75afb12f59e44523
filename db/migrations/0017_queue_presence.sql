-- Presence in the waiting room: a waiting ticket that stopped polling for this many seconds is
-- passed over when its turn comes (0: off).
ALTER TABLE performances
  ADD COLUMN presence_timeout_seconds integer NOT NULL DEFAULT 0
    CHECK (presence_timeout_seconds = 0 OR presence_timeout_seconds BETWEEN 10 AND 3600);
