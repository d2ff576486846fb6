package tokentable

import (
	"errors"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
)

type rec struct {
	id    string
	hash  toolgate.TokenHash
	at    time.Time
	label string
}

func newTable() *Table[*rec] {
	return New(func(r *rec) *rec { c := *r; return &c }, func(r *rec) Key { return Key{ID: r.id, Hash: r.hash, Created: r.at} })
}

func TestTable(t *testing.T) {
	tb := newTable()
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	a := &rec{id: "a", hash: toolgate.TokenHash{1}, at: t0.Add(time.Minute)}
	b := &rec{id: "b", hash: toolgate.TokenHash{2}, at: t0}
	for _, r := range []*rec{a, b} {
		if idTaken, hashTaken := tb.Insert(r); idTaken || hashTaken {
			t.Fatalf("insert %s: %v %v", r.id, idTaken, hashTaken)
		}
	}
	if idTaken, _ := tb.Insert(&rec{id: "a", hash: toolgate.TokenHash{9}}); !idTaken {
		t.Error("a second record with id a was stored")
	}
	if _, hashTaken := tb.Insert(&rec{id: "c", hash: toolgate.TokenHash{1}}); !hashTaken {
		t.Error("a second record with a's hash was stored")
	}
	a.label = "changed after insert"
	if got, _ := tb.Get("a"); got.label != "" {
		t.Error("the table kept the caller's record instead of a copy")
	}
	if got, ok := tb.ByHash(toolgate.TokenHash{2}); !ok || got.id != "b" {
		t.Errorf("ByHash = %v %v", got, ok)
	}
	if l := tb.List(); len(l) != 2 || l[0].id != "b" || l[1].id != "a" {
		t.Errorf("List is not oldest first: %v", l)
	}
	// A rotation moves the hash index; one onto another's hash is refused
	// and changes nothing.
	if _, _, err := tb.Update("a", func(r *rec) error { r.hash = toolgate.TokenHash{2}; return nil }); !errors.Is(err, ErrHashTaken) {
		t.Errorf("rotation onto b's hash: %v", err)
	}
	if got, ok := tb.ByHash(toolgate.TokenHash{1}); !ok || got.id != "a" {
		t.Error("a refused rotation moved the hash")
	}
	got, found, err := tb.Update("a", func(r *rec) error { r.hash, r.label = toolgate.TokenHash{3}, "rotated"; return nil })
	if err != nil || !found || got.label != "rotated" {
		t.Fatalf("rotation: %v %v %v", got, found, err)
	}
	if _, ok := tb.ByHash(toolgate.TokenHash{1}); ok {
		t.Error("the old hash still finds the record")
	}
	if got, ok := tb.ByHash(toolgate.TokenHash{3}); !ok || got.id != "a" {
		t.Error("the new hash does not find the record")
	}
	fail := errors.New("no")
	if _, _, err := tb.Update("a", func(r *rec) error { r.label = "lost"; return fail }); err != fail {
		t.Errorf("change's error: %v", err)
	}
	if got, _ := tb.Get("a"); got.label != "rotated" {
		t.Error("a failed change was kept")
	}
	if _, found, _ := tb.Update("nobody", func(*rec) error { return nil }); found {
		t.Error("Update found a missing record")
	}
}
