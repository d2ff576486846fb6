//go:build unix

package grant

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
)

// TestSQLiteKeepsOnlyHashes creates, rotates and uses grants, then reads
// every file of the database: no token, no token body and no token's random
// bytes may be in them; the hashes are.
func TestSQLiteKeepsOnlyHashes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "toolgate.db")
	s, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for i := range 5 {
		g, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default", ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, token)
		if _, err := Verify(ctx, s, token); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			_, rotated, err := Rotate(ctx, s, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, rotated)
		}
	}
	check := func(when string) {
		files, _ := filepath.Glob(path + "*")
		var all []byte
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, data...)
		}
		for _, token := range tokens {
			raw, _ := base64.RawURLEncoding.DecodeString(token[3:])
			for _, needle := range [][]byte{[]byte(token), []byte(token[3:]), []byte(token[3:20]), raw, []byte(hex.EncodeToString(raw))} {
				if n := bytes.Count(all, needle); n != 0 {
					t.Errorf("%s: %d hits for a token (%d bytes of %d files)", when, n, len(all), len(files))
				}
			}
		}
		h := HashToken(tokens[len(tokens)-1])
		if !bytes.Contains(all, h[:]) {
			t.Errorf("%s: the last token's hash is not in the files: are they the right files?", when)
		}
	}
	check("open") // the WAL holds the writes
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed") // checkpointed into the database
}

func TestSQLiteFileIsPrivateAndDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "toolgate.db")
	s, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default", Labels: map[string]string{"team": "support"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want -rw-------", fi.Mode().Perm())
	}
	// Reopened (the migrations are not applied twice), the token works.
	s, err = OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := Verify(ctx, s, token)
	if err != nil || got.ID != g.ID || got.Labels["team"] != "support" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestSQLiteDeletedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "toolgate.db")
	s, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, _, err = Create(ctx, s, Spec{Subject: "bob", Policy: "default"})
	if err == nil {
		t.Fatal("create on a deleted file succeeded")
	}
	token, _ := NewToken()
	if _, err := Verify(ctx, s, token); toolgate.ErrorCode(err) != toolgate.Unavailable {
		t.Errorf("verify on a deleted file: %v", err)
	}
}

func TestSQLiteNotOpen(t *testing.T) {
	s := NewSQLite(filepath.Join(t.TempDir(), "x.db"), nil)
	if _, err := s.List(context.Background()); err == nil {
		t.Error("List on a store that is not open succeeded")
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
