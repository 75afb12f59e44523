-- Ticket lifecycle after the sale: valid -> checked_in (first scan at the door) or void (refund).
-- The door's first scan is decided by one UPDATE ... WHERE status = 'valid', so two scanners in
-- different processes can never both admit the same ticket.
ALTER TABLE tickets
  ADD COLUMN status text NOT NULL DEFAULT 'valid'
    CHECK (status IN ('valid', 'checked_in', 'void')),
  ADD COLUMN checked_in_at timestamptz,
  ADD CONSTRAINT tickets_checked_in_has_time
    CHECK (status <> 'checked_in' OR checked_in_at IS NOT NULL);
