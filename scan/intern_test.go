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
