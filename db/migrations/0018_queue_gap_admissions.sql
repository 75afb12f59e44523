-- After Redis lost data, the waiting room's gap (positions that may or may not have been handed
-- out) costs an admission slot only for the places whose holders showed up. Which gap places a
-- tick gave a slot and which it passed over lived in Redis only, so a second loss forgot them and
-- let the holders of passed-over places in at once, over the rate. Each tick now records the gap
-- it ran with, and the gap places it admitted are kept here; a restore rebuilds the rest.
ALTER TABLE admission_ticks
  ADD COLUMN gap_from bigint NOT NULL DEFAULT 0,
  ADD COLUMN gap_to   bigint NOT NULL DEFAULT 0;

CREATE TABLE queue_gap_admissions (
  performance_id text NOT NULL REFERENCES performances (id),
  position       bigint NOT NULL,
  admitted_at_ms bigint NOT NULL,
  late           boolean NOT NULL,  -- passed over by an earlier tick, let in by this one
  PRIMARY KEY (performance_id, position)
);
