package secret

import (
	"strings"
	"testing"
)

func TestBreachedList(t *testing.T) {
	set := breachedSet()
	if n := len(set); n < 10000 || n != 30000 {
		t.Fatalf("breached list has %d entries, want 30000", n)
	}
	lines := strings.Split(strings.TrimSuffix(breachedList, "\n"), "\n")
	if len(lines) != len(set) {
		t.Fatalf("%d lines but %d distinct entries", len(lines), len(set))
	}
	for _, l := range lines {
		if l == "" || l != strings.ToLower(l) || strings.TrimSpace(l) != l {
			t.Fatalf("entry %q is empty, not lower case or padded", l)
		}
	}
	// Most common first, as in the source frequency list.
	if lines[0] != "123456" || lines[1] != "password" {
		t.Errorf("list starts %q, %q", lines[0], lines[1])
	}
}

func TestBreached(t *testing.T) {
	for _, p := range []string{"password", "123456", "qwerty", "12345678", "iloveyou", "letmein", "trustno1",
		"Password", "PASSWORD", "QwErTy", "pic's"} {
		if !Breached(p) {
			t.Errorf("Breached(%q) = false", p)
		}
	}
	for _, p := range []string{"", "correct horse battery staple", " password", "password ", "Tr0ub4dor&3-unlikely", "p4ssw0rd-not-in-list-x"} {
		if Breached(p) {
			t.Errorf("Breached(%q) = true", p)
		}
	}
}
