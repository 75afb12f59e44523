-- Refreshes of one event's search document run one after another. Without this, a refresh that
-- read the catalogue before a change but wrote after the refresh of that change (both run by
-- concurrent consumers) overwrote the newer document with the older one. The lock is taken
-- before the statements that read: each statement of a volatile SQL function takes its own
-- snapshot, so the refresh that waited reads what the one before it committed, and everything
-- committed before its message was sent.
CREATE OR REPLACE FUNCTION event_search_refresh(eid text) RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtextextended('event_search:' || eid, 0));
  DELETE FROM event_search s WHERE s.event_id = eid
    AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = eid);
  INSERT INTO event_search AS s (event_id, document, normalized, title_norm, updated_at)
  SELECT e.id,
         setweight(to_tsvector('simple', search_normalize(e.title)), 'A') ||
         setweight(to_tsvector('simple', search_normalize(e.performer)), 'B') ||
         setweight(to_tsvector('simple', search_normalize(v.name)), 'C'),
         search_normalize(e.title || ' ' || e.performer || ' ' || v.name),
         search_normalize(e.title),
         now()
  FROM events e JOIN venues v ON v.id = e.venue_id
  WHERE e.id = eid
  ON CONFLICT (event_id) DO UPDATE SET document = EXCLUDED.document,
    normalized = EXCLUDED.normalized, title_norm = EXCLUDED.title_norm,
    updated_at = EXCLUDED.updated_at;
$$;
