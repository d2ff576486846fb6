// Package tokentable keeps, in memory, records that are found by id and by
// the hash of their current token: what the in-memory grant and admin
// token stores share. Every record handed in or out is a copy.
package tokentable

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
)

// Key is what a table reads of a record: its id, the hash of its current
// token, and when it was created (List's order).
type Key struct {
	ID      string
	Hash    toolgate.TokenHash
	Created time.Time
}

// Table is a set of records of type T, a pointer type.
type Table[T any] struct {
	clone func(T) T
	key   func(T) Key

	mu     sync.Mutex
	byID   map[string]T
	byHash map[toolgate.TokenHash]string
}

// New returns an empty table of records that clone copies deeply and key
// describes.
func New[T any](clone func(T) T, key func(T) Key) *Table[T] {
	return &Table[T]{clone: clone, key: key, byID: map[string]T{}, byHash: map[toolgate.TokenHash]string{}}
}

// Insert stores a copy of r. It reports false for idTaken or hashTaken
// when another record has r's id or token hash, and stores nothing then.
func (t *Table[T]) Insert(r T) (idTaken, hashTaken bool) {
	k := t.key(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byID[k.ID]; ok {
		return true, false
	}
	if _, ok := t.byHash[k.Hash]; ok {
		return false, true
	}
	t.byID[k.ID] = t.clone(r)
	t.byHash[k.Hash] = k.ID
	return false, false
}

// Get returns a copy of the record with id.
func (t *Table[T]) Get(id string) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.byID[id]
	if !ok {
		var zero T
		return zero, false
	}
	return t.clone(r), true
}

// ByHash returns a copy of the record whose token hash is h.
func (t *Table[T]) ByHash(h toolgate.TokenHash) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.byHash[h]
	if !ok {
		var zero T
		return zero, false
	}
	return t.clone(t.byID[id]), true
}

// List returns copies of every record, oldest first (then by id).
func (t *Table[T]) List() []T {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]T, 0, len(t.byID))
	for _, r := range t.byID {
		out = append(out, t.clone(r))
	}
	slices.SortFunc(out, func(a, b T) int {
		ka, kb := t.key(a), t.key(b)
		if c := ka.Created.Compare(kb.Created); c != 0 {
			return c
		}
		return strings.Compare(ka.ID, kb.ID)
	})
	return out
}

// Update runs change on the stored record with id, under the table's lock,
// and returns a copy of the record as change left it. found is false when
// there is no such record; an error from change is returned as it is.
// change must not alter the record's id; a new token hash it sets is
// indexed, and refused with ErrHashTaken when another record has it.
func (t *Table[T]) Update(id string, change func(T) error) (r T, found bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, ok := t.byID[id]
	if !ok {
		return r, false, nil
	}
	oldHash := t.key(cur).Hash
	next := t.clone(cur)
	if err := change(next); err != nil {
		return r, true, err
	}
	if newHash := t.key(next).Hash; newHash != oldHash {
		if _, taken := t.byHash[newHash]; taken {
			return r, true, ErrHashTaken
		}
		delete(t.byHash, oldHash)
		t.byHash[newHash] = id
	}
	t.byID[id] = next
	return t.clone(next), true, nil
}

// ErrHashTaken is Update's error when the new token hash is another
// record's.
var ErrHashTaken = errors.New("another record has this token")
