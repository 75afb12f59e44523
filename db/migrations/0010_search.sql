-- Catalogue search: derived documents, one per event, rebuilt by the search indexer (consumer of
-- the outbox topic catalogue.changed) through event_search_refresh(). Never written by the
-- catalogue's own transactions, so a catalogue write never waits on the index.
--
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it, superuser or
-- not. Its word characters follow the database's LC_CTYPE: under the C locale Hangul counts as
-- punctuation for trigrams, so substring matches do not rely on trigrams alone (LIKE is exact
-- whatever the locale; the trigram index only speeds it up) and word/prefix matches come from the
-- tsvector, whose parser treats every non-ASCII letter as a letter in any locale.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Who performs (an artist, a cast): searchable, optional.
ALTER TABLE events ADD COLUMN performer text NOT NULL DEFAULT '';

CREATE TABLE event_search (
  event_id   text PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  -- title (A), performer (B), venue name (C): word and prefix matches, ranked by where they hit.
  document   tsvector NOT NULL,
  -- NFKC, lower case, single spaces: "title performer venue" and the title alone, for substring
  -- (LIKE) and trigram similarity matches.
  normalized text NOT NULL,
  title_norm text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_search_document ON event_search USING gin (document);
CREATE INDEX event_search_trgm ON event_search USING gin (normalized gin_trgm_ops);

-- The one definition of a search document: used by the indexer and the backfill below.
CREATE FUNCTION search_normalize(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(lower(normalize(t, NFKC)), '\s+', ' ', 'g'))
$$;

CREATE FUNCTION event_search_refresh(eid text) RETURNS void LANGUAGE sql AS $$
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

-- Backfill: every event that exists when this migration runs.
SELECT event_search_refresh(id) FROM events;
