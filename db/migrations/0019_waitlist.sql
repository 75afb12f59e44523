-- The waiting list after sell-out: buyers sign up for a number of seats; seats that come back
-- (refunds, holds that expired) are offered in list order. An offer is a hold of the seats for
-- the buyer plus an access token, both valid until access_expires_at_ms.
CREATE TABLE waitlist_heads (
  performance_id text PRIMARY KEY REFERENCES performances (id),
  tail           bigint NOT NULL
);

CREATE TABLE waitlist_entries (
  performance_id      text NOT NULL REFERENCES performances (id),
  position            bigint NOT NULL,
  account_id          text NOT NULL REFERENCES accounts (id),
  seat_count          integer NOT NULL CHECK (seat_count BETWEEN 1 AND 100),
  state               text NOT NULL DEFAULT 'waiting'
                        CHECK (state IN ('waiting', 'offered', 'expired', 'left')),
  hold_id             text,
  access_expires_at_ms bigint,
  created_at          timestamptz NOT NULL DEFAULT now(),
  offered_at          timestamptz,
  PRIMARY KEY (performance_id, position)
);
-- One place on the list per account and performance while it waits or holds an offer.
CREATE UNIQUE INDEX waitlist_entries_account ON waitlist_entries (performance_id, account_id)
  WHERE state IN ('waiting', 'offered');
-- The offer loop's scan: performances with someone waiting or an offer open.
CREATE INDEX waitlist_entries_open ON waitlist_entries (performance_id, position)
  WHERE state IN ('waiting', 'offered');
