package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Record is one event as a sink stores it: its body (the exact bytes the
// hash covers) and its hash, with the position the sink keeps it at.
type Record struct {
	// Seq is the sequence number the sink keeps the event under (the
	// table's seq column); 0 when the sink keeps none apart from the body.
	Seq uint64
	// Body is the event's JSON without its hash: see Seal.
	Body []byte
	// Hash is the stored hash.
	Hash string
	// Where names the record for messages: "seq 12", "audit.jsonl:40".
	Where string
}

// Hash returns the hash of an event: the lowercase hex SHA-256 of the
// previous event's hash (its 64 hex digits) followed by the body.
func Hash(prev string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(body)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// Sealed is an event with its place in the chain: the body the hash
// covers, and the hash.
type Sealed struct {
	Event *Event
	Body  []byte
	Hash  string
}

// Line is the sealed event as one JSON object (the body with "hash"
// added as its last member), as the JSON Lines and stdout sinks write it.
func (s Sealed) Line() []byte { return line(s.Body, s.Hash) }

// seal gives the event whose payload is p the place after (seq-1, prev).
func seal(e *Event, payload []byte, seq uint64, prev string) Sealed {
	b := body(payload, seq, prev)
	h := Hash(prev, b)
	e.Seq, e.PrevHash, e.Hash = seq, prev, h
	return Sealed{Event: e, Body: b, Hash: h}
}

// Break is the first broken link a verification found.
type Break struct {
	// Seq is the sequence number where the chain breaks (the record's,
	// or the one expected there).
	Seq uint64 `json:"seq"`
	// Where names the record, as the sink does.
	Where string `json:"where"`
	// Problem says what is wrong: edited, missing, out of order.
	Problem string `json:"problem"`
}

func (b *Break) Error() string {
	return fmt.Sprintf("audit chain broken at %s (seq %d): %s", b.Where, b.Seq, b.Problem)
}

// Verifier walks records in order and checks every link. The zero value
// expects the chain to start at seq 1; set FromAnywhere for a log whose
// older part was rotated away, to anchor on the first record.
type Verifier struct {
	FromAnywhere bool
	// Check, when set, also compares what a sink keeps beside the body
	// (its indexed columns) with the decoded event.
	Check func(r Record, e *Event) string

	n        uint64
	last     string
	seq      uint64
	anchored string // names the checkpoint the chain continues from
}

// Anchor makes the chain continue from a checkpoint: the first record must
// have seq seq+1 and prev_hash hash. where names the checkpoint in
// messages.
func (v *Verifier) Anchor(seq uint64, hash, where string) {
	v.seq, v.last, v.anchored = seq, hash, where
}

// Count is the number of records accepted so far.
func (v *Verifier) Count() uint64 { return v.n }

// Last is the seq and hash of the last accepted record.
func (v *Verifier) Last() (uint64, string) { return v.seq, v.last }

// Next checks r against the records before it; it returns a *Break at the
// first problem.
func (v *Verifier) Next(r Record) error {
	e, err := Decode(r.Body)
	if err != nil {
		return &Break{Seq: v.seq + 1, Where: r.Where, Problem: "unreadable event: " + err.Error()}
	}
	if e.Hash != "" {
		return &Break{Seq: e.Seq, Where: r.Where, Problem: "the body holds a hash of its own"}
	}
	if r.Seq != 0 && r.Seq != e.Seq {
		return &Break{Seq: r.Seq, Where: r.Where, Problem: fmt.Sprintf("stored at seq %d but the event says seq %d (reordered or edited)", r.Seq, e.Seq)}
	}
	if v.n == 0 && v.anchored != "" {
		switch {
		case e.Seq <= v.seq:
			return &Break{Seq: e.Seq, Where: r.Where, Problem: fmt.Sprintf("seq %d is at or before %s, which pruned up to seq %d", e.Seq, v.anchored, v.seq)}
		case e.Seq != v.seq+1:
			return &Break{Seq: v.seq + 1, Where: r.Where, Problem: fmt.Sprintf("seq %d follows %s at seq %d: %d event(s) missing (deleted)", e.Seq, v.anchored, v.seq, e.Seq-v.seq-1)}
		case e.PrevHash != v.last:
			return &Break{Seq: e.Seq, Where: r.Where, Problem: fmt.Sprintf("prev_hash is not the hash %s recorded (the event or the checkpoint was edited)", v.anchored)}
		}
	} else if v.n == 0 && !v.FromAnywhere && e.Seq != 1 {
		return &Break{Seq: 1, Where: r.Where, Problem: fmt.Sprintf("the log starts at seq %d, not 1 (events deleted)", e.Seq)}
	}
	if v.n > 0 {
		switch {
		case e.Seq <= v.seq:
			return &Break{Seq: e.Seq, Where: r.Where, Problem: fmt.Sprintf("seq %d follows seq %d (reordered or duplicated)", e.Seq, v.seq)}
		case e.Seq != v.seq+1:
			return &Break{Seq: v.seq + 1, Where: r.Where, Problem: fmt.Sprintf("seq %d follows seq %d: %d event(s) missing (deleted)", e.Seq, v.seq, e.Seq-v.seq-1)}
		case e.PrevHash != v.last:
			return &Break{Seq: e.Seq, Where: r.Where, Problem: "prev_hash is not the hash of the event before (the event before was edited or replaced)"}
		}
	} else if v.anchored == "" && !v.FromAnywhere && e.PrevHash != zeroHash {
		return &Break{Seq: e.Seq, Where: r.Where, Problem: "the first event's prev_hash is not 64 zeros"}
	}
	if got := Hash(e.PrevHash, r.Body); got != r.Hash {
		return &Break{Seq: e.Seq, Where: r.Where, Problem: "the hash does not match the event (edited)"}
	}
	if !bytes.HasSuffix(r.Body, []byte(`"}`)) {
		return &Break{Seq: e.Seq, Where: r.Where, Problem: "malformed body"}
	}
	if v.Check != nil {
		if p := v.Check(r, e); p != "" {
			return &Break{Seq: e.Seq, Where: r.Where, Problem: p}
		}
	}
	v.n++
	v.seq, v.last = e.Seq, r.Hash
	return nil
}
