-- The W3C traceparent of the span that wrote an outbox row (the request that paid or asked for a
-- refund, the worker that completed it): the relay passes it on to the broker as a message
-- header and the worker's handling continues the trace. NULL: the row was written untraced.
ALTER TABLE outbox ADD COLUMN traceparent text;

-- outbox_claim (0011) returns it too; the plan settings are those of 0011.
DROP FUNCTION outbox_claim(integer, float8);
CREATE FUNCTION outbox_claim(n integer, lease_ms float8)
RETURNS TABLE (id bigint, topic text, payload text, attempts integer, traceparent text)
LANGUAGE sql
SET enable_bitmapscan = off
SET enable_seqscan = off
SET enable_sort = off
AS $$
  UPDATE outbox o
     SET attempts = o.attempts + 1,
         next_attempt_at = now() + make_interval(secs => lease_ms / 1000)
   WHERE o.id IN (SELECT d.id FROM outbox d
                   WHERE d.next_attempt_at <= now() AND d.parked_at IS NULL
                   ORDER BY d.next_attempt_at, d.id
                   LIMIT n
                   FOR UPDATE SKIP LOCKED)
  RETURNING o.id, o.topic, o.payload::text, o.attempts, o.traceparent
$$;
