-- A counter that every change able to refuse a token it accepted before
-- (revoke, rotate, a new policy) moves on, in the same transaction. A
-- verifier that caches verified tokens polls it, so that a change made by
-- another process (the CLI, another replica) reaches it within a poll.
CREATE TABLE grant_epoch (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);

INSERT INTO grant_epoch (id, n) VALUES (1, 0);
