//go:build unix

package sqlitedb

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
)

var oneTable = fstest.MapFS{"migrations/001_a.sql": {Data: []byte(`CREATE TABLE a (id INTEGER PRIMARY KEY);`)}}

// withUmask runs fn with the process umask set to mask. The umask is
// process-wide, so these tests do not run in parallel.
func withUmask(mask int, fn func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	fn()
}

// modes returns the permission bits of every file in dir.
func modes(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fs.FileMode{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.Mode().Perm()
	}
	return out
}

func TestNewFilesArePrivate(t *testing.T) {
	for _, mask := range []int{0o022, 0o002, 0o000, 0o077, 0o277} {
		t.Run(fs.FileMode(mask).String(), func(t *testing.T) {
			dir := t.TempDir()
			withUmask(mask, func() {
				o := opts(oneTable)
				o.CheckEvery = -1
				db, err := Open(context.Background(), filepath.Join(dir, "db.sqlite"), o)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.W.Exec(`INSERT INTO a (id) VALUES (1)`); err != nil {
					t.Fatal(err)
				}
				if n := count(t, db, `SELECT count(*) FROM a`); n != 1 { // the readers open too
					t.Fatalf("%d rows", n)
				}
				got := modes(t, dir)
				for _, name := range []string{"db.sqlite", "db.sqlite-wal", "db.sqlite-shm"} {
					if _, ok := got[name]; !ok {
						t.Errorf("%s was not created (files: %v)", name, got)
					}
				}
				for name, m := range got {
					if m != 0o600 {
						t.Errorf("%s has mode %v, want -rw-------", name, m)
					}
				}
			})
		})
	}
}

func TestExistingFilesAreTightened(t *testing.T) {
	tests := []struct {
		name string
		mode fs.FileMode
		want fs.FileMode
		warn bool
	}{
		{"world readable", 0o644, 0o600, true},
		{"group writable", 0o660, 0o600, true},
		{"everyone", 0o777, 0o600, true},
		{"already private", 0o600, 0o600, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "db.sqlite")
			// A database left by an earlier run, with its -wal and -shm.
			db, err := Open(context.Background(), path, Options{Component: "test", Migrations: oneTable, MigrationsTable: "m", CheckEvery: -1})
			if err != nil {
				t.Fatal(err)
			}
			keep, err := Open(context.Background(), path, Options{Component: "test", Migrations: oneTable, MigrationsTable: "m", CheckEvery: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer keep.Close() // keeps -wal and -shm in place while db reopens
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			for name := range modes(t, dir) {
				if err := os.Chmod(filepath.Join(dir, name), tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			o := opts(oneTable)
			o.MigrationsTable, o.CheckEvery = "m", -1
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			db, err = Open(context.Background(), path, o)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for name, m := range modes(t, dir) {
				if m != tt.want {
					t.Errorf("%s has mode %v, want %v", name, m, tt.want)
				}
			}
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), path)
			if warned != tt.warn {
				t.Errorf("warned=%v, want %v; log:\n%s", warned, tt.warn, logs.String())
			}
		})
	}
}
