package grant

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		token, h := NewToken()
		if !strings.HasPrefix(token, "tg_") || len(token) != TokenLen || TokenLen != 46 {
			t.Fatalf("token %q: len %d, TokenLen %d", token, len(token), TokenLen)
		}
		raw, err := base64.RawURLEncoding.DecodeString(token[3:])
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q: %d random bytes, %v", token, len(raw), err)
		}
		if !WellFormed(token) {
			t.Fatalf("WellFormed(%q) = false", token)
		}
		if h != HashToken(token) || h.IsZero() {
			t.Fatalf("hash of %q does not match", token)
		}
		if seen[token] {
			t.Fatalf("token %q issued twice", token)
		}
		seen[token] = true
	}
}

func TestWellFormed(t *testing.T) {
	good, _ := NewToken()
	// The last character of 43 base64 characters holds 2 unused bits;
	// a non-canonical encoding sets them.
	last := good[len(good)-1]
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	idx := strings.IndexByte(alphabet, last)
	noncanon := good[:len(good)-1] + string(alphabet[idx&^3|1])
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"good", good, true},
		{"empty", "", false},
		{"prefix only", "tg_", false},
		{"no prefix", good[3:], false},
		{"other prefix", "sk_" + good[3:], false},
		{"truncated", good[:len(good)-1], false},
		{"extended", good + "A", false},
		{"padded", good + "=", false},
		{"std alphabet", "tg_" + strings.Repeat("+", 43), false},
		{"space", good[:10] + " " + good[11:], false},
		{"non-canonical", noncanon, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WellFormed(tt.token); got != tt.want {
				t.Errorf("WellFormed(%q) = %v, want %v", tt.token, got, tt.want)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !ValidID(id) || len(id) != 15 || seen[id] {
			t.Fatalf("id %q (valid %v, seen %v)", id, ValidID(id), seen[id])
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "gr_", "gr_ABCDEFGHIJKL", "gr_abcdefghijk", "gr_abcdefghijklm", "gr_abcdefghijk1", "ap_abcdefghijkl"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

// Other kinds of token are made and checked like grants', with their own
// prefix; one kind's token is never well formed as another's.
func TestPrefixed(t *testing.T) {
	tests := []struct {
		prefix, other string
	}{
		{"tga_", "tg_"},
		{"tg_", "tga_"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			token, h := NewPrefixedToken(tt.prefix)
			if !strings.HasPrefix(token, tt.prefix) || len(token) != len(tt.prefix)+43 || h != HashToken(token) {
				t.Fatalf("token %q", token)
			}
			if !WellFormedPrefixed(tt.prefix, token) || WellFormedPrefixed(tt.other, token) {
				t.Errorf("WellFormedPrefixed(%q) accepts the wrong kind", token)
			}
			id := NewPrefixedID(tt.prefix)
			if !ValidPrefixedID(tt.prefix, id) || ValidPrefixedID(tt.other, id) {
				t.Errorf("ValidPrefixedID(%q) accepts the wrong kind", id)
			}
			other, oh := NewPrefixedToken(tt.prefix)
			if !HashesEqual(h, HashToken(token)) || HashesEqual(h, oh) || other == token {
				t.Error("HashesEqual")
			}
		})
	}
}
