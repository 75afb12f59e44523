-- Seats sold per performance, kept in shards. Every payment used to add to one column of the
-- performance's row, so the payments of an on-sale queued on that row's lock, each holding it
-- until its commit came back through the service (pg_stat_activity in the flash crowd: most
-- payments "Lock: transactionid" on that UPDATE). A payment now adds to one of 64 rows picked at
-- random; the count is their sum. The oversell guard is unchanged: performance_seats' states.
CREATE TABLE performance_sales (
  performance_id text NOT NULL REFERENCES performances (id),
  shard          smallint NOT NULL CHECK (shard BETWEEN 0 AND 63),
  sold           integer NOT NULL CHECK (sold >= 0),
  PRIMARY KEY (performance_id, shard)
);
INSERT INTO performance_sales (performance_id, shard, sold)
  SELECT id, 0, sold_count FROM performances WHERE sold_count > 0;
ALTER TABLE performances DROP COLUMN sold_count;
