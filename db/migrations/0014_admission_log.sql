-- The tamper-evident admission log: every admission tick PostgreSQL records becomes the next entry
-- of a hash chain of its performance,
--   hash = SHA-256(prev_hash || seq || from_position || to_position || admitted_at_ms)
-- with prev_hash the 32 bytes of the entry before (32 zero bytes before the first) and each integer
-- as 8 bytes, big-endian (int8send). The chain is made here, by a trigger, so no code path can
-- record a tick without linking it; entries are numbered in the order they are recorded (a tick
-- recorded late, after PostgreSQL was unreachable, comes after later ones: the verifier judges
-- positions against admission times, not against that order). Published entries never change.
ALTER TABLE admission_ticks
  ADD COLUMN skipped     bigint NOT NULL DEFAULT 0,  -- positions of the range nobody held
  ADD COLUMN admit_limit integer NOT NULL DEFAULT 0, -- the rate it admitted under; 0: not known
  ADD COLUMN interval_ms integer NOT NULL DEFAULT 0,
  ADD COLUMN audit_seq   bigint,
  ADD COLUMN prev_hash   bytea,
  ADD COLUMN hash        bytea;

-- The head of each performance's chain. A table of its own: the statement that records a tick
-- also updates queue_state, and a row may not be changed both by a statement and by a trigger
-- the statement fired.
CREATE TABLE admission_log_heads (
  performance_id text PRIMARY KEY REFERENCES performances (id),
  seq            bigint NOT NULL,
  hash           bytea NOT NULL
);

CREATE FUNCTION admission_log_link(perf text, t_from bigint, t_to bigint, at_ms bigint,
                                   OUT seq bigint, OUT prev bytea, OUT h bytea)
LANGUAGE plpgsql AS $$
BEGIN
  -- The head's row lock orders concurrent appends of one performance.
  INSERT INTO admission_log_heads AS x (performance_id, seq, hash)
  VALUES (perf, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
  ON CONFLICT (performance_id) DO NOTHING;
  SELECT x.seq + 1, x.hash INTO seq, prev
    FROM admission_log_heads x WHERE x.performance_id = perf FOR UPDATE;
  h := sha256(prev || int8send(seq) || int8send(t_from) || int8send(t_to) || int8send(at_ms));
  UPDATE admission_log_heads x SET seq = admission_log_link.seq, hash = h
   WHERE x.performance_id = perf;
END $$;

CREATE FUNCTION admission_ticks_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  link record;
BEGIN
  -- A tick recorded twice (ON CONFLICT DO NOTHING runs after BEFORE triggers) must not take a
  -- link of the chain: checked under the head's lock, which the first recording held.
  INSERT INTO admission_log_heads (performance_id, seq, hash)
  VALUES (NEW.performance_id, 0,
          '\x0000000000000000000000000000000000000000000000000000000000000000')
  ON CONFLICT (performance_id) DO NOTHING;
  PERFORM 1 FROM admission_log_heads x WHERE x.performance_id = NEW.performance_id FOR UPDATE;
  IF EXISTS (SELECT 1 FROM admission_ticks t
              WHERE t.performance_id = NEW.performance_id AND t.tick_seq = NEW.tick_seq) THEN
    RETURN NULL;
  END IF;
  link := admission_log_link(NEW.performance_id, NEW.from_position, NEW.to_position,
                             NEW.admitted_at_ms);
  NEW.audit_seq := link.seq;
  NEW.prev_hash := link.prev;
  NEW.hash := link.h;
  RETURN NEW;
END $$;

-- Ticks recorded before the log existed are chained in tick order, their rate not known.
DO $$
DECLARE
  t record;
  link record;
BEGIN
  FOR t IN SELECT performance_id, tick_seq, from_position, to_position, admitted_at_ms
             FROM admission_ticks ORDER BY performance_id, tick_seq LOOP
    link := admission_log_link(t.performance_id, t.from_position, t.to_position, t.admitted_at_ms);
    UPDATE admission_ticks SET audit_seq = link.seq, prev_hash = link.prev, hash = link.h
     WHERE performance_id = t.performance_id AND tick_seq = t.tick_seq;
  END LOOP;
END $$;

ALTER TABLE admission_ticks
  ALTER COLUMN audit_seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX admission_ticks_audit ON admission_ticks (performance_id, audit_seq);

CREATE TRIGGER admission_ticks_chain BEFORE INSERT ON admission_ticks
  FOR EACH ROW EXECUTE FUNCTION admission_ticks_chain();
