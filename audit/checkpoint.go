package audit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Checkpoint records one prune of a SQLite chain: the events FromSeq..Seq
// were deleted, and what remains continues from Hash, the hash of the
// event at Seq. Signature is the HMAC-SHA256 (hex) of the other fields
// under the store's checkpoint key, so that a checkpoint edited or
// written without the key fails verification.
type Checkpoint struct {
	ID        uint64    `json:"id"`
	FromSeq   uint64    `json:"from_seq"`
	Seq       uint64    `json:"seq"`
	Hash      string    `json:"hash"`
	Pruned    uint64    `json:"pruned"`
	Time      time.Time `json:"time"`
	Signature string    `json:"signature"`
}

// where names the checkpoint in messages.
func (c *Checkpoint) where() string { return fmt.Sprintf("checkpoint %d", c.ID) }

// checkpointMessage is what a checkpoint's signature covers: every other
// field, one per line, after a line naming the format.
func checkpointMessage(c *Checkpoint) []byte {
	return fmt.Appendf(nil, "toolgate audit checkpoint v1\nid %d\nfrom_seq %d\nseq %d\nhash %s\npruned %d\ntime %d\n",
		c.ID, c.FromSeq, c.Seq, c.Hash, c.Pruned, c.Time.UnixNano())
}

func signCheckpoint(key []byte, c *Checkpoint) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(checkpointMessage(c))
	return hex.EncodeToString(mac.Sum(nil))
}

// checkpointKeySize is the length in bytes of the checkpoint key.
const checkpointKeySize = 32

// checkpointKeySetting names the key's row in audit_settings.
const checkpointKeySetting = "checkpoint_key"

// checkpointKey returns the store's checkpoint key; with create, it
// stores a new random key first when there is none (insert-if-absent in
// the caller's write transaction, so concurrent prunes agree on one key).
// Without create, a store that has none returns nil.
func checkpointKey(ctx context.Context, tx *sql.Tx, create bool) ([]byte, error) {
	if create {
		k := make([]byte, checkpointKeySize)
		_, _ = rand.Read(k) // never fails (crypto/rand documents it)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO audit_settings (name, value) VALUES (?, ?)`, checkpointKeySetting, k); err != nil {
			return nil, fmt.Errorf("audit: storing the checkpoint key: %w", err)
		}
	}
	var key []byte
	err := tx.QueryRowContext(ctx, `SELECT value FROM audit_settings WHERE name = ?`, checkpointKeySetting).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: reading the checkpoint key: %w", err)
	}
	if len(key) != checkpointKeySize {
		return nil, fmt.Errorf("audit: the stored checkpoint key has %d bytes, want %d", len(key), checkpointKeySize)
	}
	return key, nil
}

func checkpoints(ctx context.Context, tx *sql.Tx) ([]*Checkpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, from_seq, seq, hash, pruned, time, signature FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("audit: reading checkpoints: %w", err)
	}
	defer rows.Close()
	var out []*Checkpoint
	for rows.Next() {
		c := &Checkpoint{}
		var t int64
		if err := rows.Scan(&c.ID, &c.FromSeq, &c.Seq, &c.Hash, &c.Pruned, &t, &c.Signature); err != nil {
			return nil, fmt.Errorf("audit: reading checkpoints: %w", err)
		}
		c.Time = time.Unix(0, t).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

func latestCheckpoint(ctx context.Context, tx *sql.Tx) (*Checkpoint, error) {
	c := &Checkpoint{}
	var t int64
	err := tx.QueryRowContext(ctx, `SELECT id, from_seq, seq, hash, pruned, time, signature FROM audit_checkpoints ORDER BY id DESC LIMIT 1`).
		Scan(&c.ID, &c.FromSeq, &c.Seq, &c.Hash, &c.Pruned, &t, &c.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: reading the latest checkpoint: %w", err)
	}
	c.Time = time.Unix(0, t).UTC()
	return c, nil
}

// checkCheckpoints checks every checkpoint's signature under key and that
// together they account for seq 1 up to the last one's Seq without gaps.
// It returns the latest checkpoint (nil when there is none) or the first
// problem.
func checkCheckpoints(cps []*Checkpoint, key []byte) (*Checkpoint, *Break) {
	var prev *Checkpoint
	for _, c := range cps {
		bad := func(problem string) (*Checkpoint, *Break) {
			return nil, &Break{Seq: c.Seq, Where: c.where(), Problem: problem}
		}
		if key == nil {
			return bad("the store holds no checkpoint key, so the checkpoint's signature cannot be checked (forged?)")
		}
		if want := signCheckpoint(key, c); !hmac.Equal([]byte(want), []byte(c.Signature)) {
			return bad("the signature does not match the checkpoint (edited or forged)")
		}
		wantID, wantFrom := uint64(1), uint64(1)
		if prev != nil {
			wantID, wantFrom = prev.ID+1, prev.Seq+1
		}
		switch {
		case c.ID != wantID:
			return bad(fmt.Sprintf("checkpoint %d is missing (deleted)", wantID))
		case c.FromSeq != wantFrom:
			return bad(fmt.Sprintf("it starts at seq %d, not %d (a checkpoint before it was deleted)", c.FromSeq, wantFrom))
		case c.Seq < c.FromSeq || c.Pruned != c.Seq-c.FromSeq+1:
			return bad("its seq range and count disagree")
		case len(c.Hash) != len(zeroHash):
			return bad("malformed hash")
		}
		prev = c
	}
	return prev, nil
}

// PruneResult is what Prune did.
type PruneResult struct {
	// Checkpoint is the checkpoint written; nil when nothing was pruned.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	// Pruned is the number of events deleted.
	Pruned uint64 `json:"pruned"`
	// Kept is the number of events left.
	Kept uint64 `json:"kept"`
}

// ErrPruneBroken is returned (wrapped) by Prune when the chain it would
// prune does not verify: pruning would hide the break behind a checkpoint.
var ErrPruneBroken = errors.New("audit: the chain is broken; not pruning it")

// Prune deletes the oldest events, those made before cutoff, and records
// a signed checkpoint of the last one deleted, so that Verify still
// passes on what remains. It deletes a prefix of the chain: it stops at
// the first event (in seq order) made at or after cutoff, whatever the
// times of the events after it (clocks go backwards), and it never
// deletes the newest event, the chain's head. The part to delete is
// verified first, and the deletion and the checkpoint are one
// transaction. now is the checkpoint's time.
func (s *SQLite) Prune(ctx context.Context, cutoff, now time.Time) (*PruneResult, error) {
	var upTo uint64
	var latest *Checkpoint
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		upTo, latest, err = pruneBound(ctx, tx, cutoff)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &PruneResult{}
	if upTo == 0 || (latest != nil && upTo <= latest.Seq) {
		return res, s.countKept(ctx, res)
	}
	// Verify outside the write transaction, so that appends go on
	// meanwhile; the transaction below checks nothing moved.
	rep, err := s.verify(ctx, upTo)
	if err != nil {
		return nil, err
	}
	if rep.Break != nil {
		return nil, fmt.Errorf("%w: %w", ErrPruneBroken, rep.Break)
	}
	if rep.HeadSeq != upTo {
		return nil, fmt.Errorf("%w: verified up to seq %d, want %d", ErrPruneBroken, rep.HeadSeq, upTo)
	}
	err = s.Update(ctx, func(tx *sql.Tx) error {
		cur, err := latestCheckpoint(ctx, tx)
		if err != nil {
			return err
		}
		if (cur == nil) != (latest == nil) || (cur != nil && cur.ID != latest.ID) {
			return errors.New("audit: prune: another prune ran meanwhile; try again")
		}
		var h string
		if err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_events WHERE seq = ?`, int64(upTo)).Scan(&h); err != nil {
			return fmt.Errorf("audit: prune: reading seq %d: %w", upTo, err)
		}
		if h != rep.HeadHash {
			return fmt.Errorf("%w: seq %d changed while it was verified", ErrPruneBroken, upTo)
		}
		key, err := checkpointKey(ctx, tx, true)
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE seq <= ?`, int64(upTo))
		if err != nil {
			return fmt.Errorf("audit: prune: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("audit: prune: %w", err)
		}
		c := &Checkpoint{ID: 1, FromSeq: 1, Seq: upTo, Hash: h, Time: now.UTC()}
		if cur != nil {
			c.ID, c.FromSeq = cur.ID+1, cur.Seq+1
		}
		c.Pruned = c.Seq - c.FromSeq + 1
		if uint64(n) != c.Pruned {
			return fmt.Errorf("%w: %d events deleted, want %d", ErrPruneBroken, n, c.Pruned)
		}
		c.Signature = signCheckpoint(key, c)
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (id, from_seq, seq, hash, pruned, time, signature) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			int64(c.ID), int64(c.FromSeq), int64(c.Seq), c.Hash, int64(c.Pruned), c.Time.UnixNano(), c.Signature); err != nil {
			return fmt.Errorf("audit: prune: writing the checkpoint: %w", err)
		}
		res.Checkpoint, res.Pruned = c, c.Pruned
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, s.countKept(ctx, res)
}

// pruneBound returns the last seq Prune may delete for the cutoff (0 when
// none) and the latest checkpoint.
func pruneBound(ctx context.Context, tx *sql.Tx, cutoff time.Time) (uint64, *Checkpoint, error) {
	latest, err := latestCheckpoint(ctx, tx)
	if err != nil {
		return 0, nil, err
	}
	var headSeq, firstNew sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(seq) FROM audit_events`).Scan(&headSeq); err != nil {
		return 0, nil, fmt.Errorf("audit: prune: %w", err)
	}
	if !headSeq.Valid || headSeq.Int64 <= 1 {
		return 0, latest, nil
	}
	if err := tx.QueryRowContext(ctx, `SELECT MIN(seq) FROM audit_events WHERE time >= ?`, cutoff.UnixNano()).Scan(&firstNew); err != nil {
		return 0, nil, fmt.Errorf("audit: prune: %w", err)
	}
	upTo := headSeq.Int64 - 1 // never the head
	if firstNew.Valid {
		upTo = min(upTo, firstNew.Int64-1)
	}
	return uint64(max(upTo, 0)), latest, nil
}

func (s *SQLite) countKept(ctx context.Context, res *PruneResult) error {
	return s.View(ctx, func(tx *sql.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
			return fmt.Errorf("audit: prune: counting: %w", err)
		}
		res.Kept = uint64(n)
		return nil
	})
}
