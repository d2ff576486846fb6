package scan

import "testing"

// TestIntern checks that every word of internWords is found, as itself,
// without allocating, and that other strings are not.
func TestIntern(t *testing.T) {
	seen := map[string]bool{}
	for i, w := range internWords {
		if seen[w] {
			t.Fatalf("%q twice in internWords", w)
		}
		seen[w] = true
		if got := internIndex(w); got != i {
			t.Fatalf("internIndex(%q) = %d, want %d", w, got, i)
		}
		b := []byte(w)
		if s, ok := internStr(b); !ok || s != w {
			t.Fatalf("internStr(%q) = %q, %v", w, s, ok)
		}
		if v, ok := internAny(w); !ok || v != any(w) {
			t.Fatalf("internAny(%q) = %v, %v", w, v, ok)
		}
		if n := testing.AllocsPerRun(10, func() { internStr(b); internAny(w) }); n != 0 {
			t.Fatalf("interning %q: %v allocations", w, n)
		}
	}
	for _, s := range []string{"", "x", "Type", "types", "typ", "descriptio", "http://json-schema.org/draft-07/schema", "uuid ", "$ref$ref"} {
		if internIndex(s) >= 0 || internIndex([]byte(s)) >= 0 {
			t.Fatalf("internIndex(%q) found", s)
		}
	}
}

// FuzzIntern holds internIndex to a lookup in a map of internWords.
func FuzzIntern(f *testing.F) {
	words := map[string]int{}
	for i, w := range internWords {
		words[w] = i
		f.Add(w)
	}
	f.Add("")
	f.Add("Type")
	f.Fuzz(func(t *testing.T, s string) {
		want, ok := words[s]
		if !ok {
			want = -1
		}
		if got, gotb := internIndex(s), internIndex([]byte(s)); got != want || gotb != want {
			t.Fatalf("internIndex(%q) = %d, %d; want %d", s, got, gotb, want)
		}
	})
}

// TestInternClean checks that the text checks find nothing in the words
// textOf skips, wherever they are, and that it counts them.
func TestInternClean(t *testing.T) {
	n := 0
	for i, w := range internWords {
		if !internClean[i] {
			continue
		}
		n++
		for _, where := range []*place{{key: "description"}, {key: "default", parent: &place{key: "to"}}, {key: "const", parent: &place{key: "recipient"}},
			{key: w, isKey: true, parent: &place{key: "properties"}}, {index: 3, elem: true, parent: &place{key: "enum"}}} {
			c := newClassifier(&Tool{})
			budget := 100
			c.text(where, w, &budget)
			if len(c.ev) > 0 || budget != 100-len(w) {
				t.Fatalf("text(%s, %q): %v, budget %d", where, w, c.ev, budget)
			}
			c = newClassifier(&Tool{})
			budget2 := 100
			c.textOf(where, w, &budget2)
			if len(c.ev) > 0 || budget2 != budget {
				t.Fatalf("textOf(%s, %q): %v, budget %d", where, w, c.ev, budget2)
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d clean words", n)
	}
}
