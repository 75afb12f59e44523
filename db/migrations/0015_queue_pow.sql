-- Proof of work at join: the difficulty a performance's waiting room asks of every new place
-- (leading zero bits of SHA-256(challenge || nonce); 0: none).
ALTER TABLE performances
  ADD COLUMN pow_difficulty integer NOT NULL DEFAULT 0 CHECK (pow_difficulty BETWEEN 0 AND 32);
