package clientconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ManifestName is the name of a backup directory's manifest.
const ManifestName = "manifest.json"

// Manifest describes one backup: the files a run changed, where their
// original bytes are kept, and what the run wrote over them.
type Manifest struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	// Undone is when the backup was restored; a restored backup is not
	// restored again.
	Undone *time.Time   `json:"undone,omitempty"`
	Files  []BackupFile `json:"files"`
}

// BackupFile is one file of a backup.
type BackupFile struct {
	// Path is the client file's path.
	Path string `json:"path"`
	// Backup is the name of the copy of its original bytes in the backup
	// directory.
	Backup string `json:"backup"`
	Mode   uint32 `json:"mode"`
	// SHA256 is the hash of the original bytes, Written that of the bytes
	// written over them.
	SHA256  string `json:"sha256"`
	Written string `json:"written_sha256"`
}

// Pending is a file about to be changed: its bytes as read and as they are
// to be.
type Pending struct {
	Path     string
	Old, New []byte
	Mode     fs.FileMode
}

// Apply keeps a copy of each file's old bytes in a new directory under
// root named after now, with a manifest, and then replaces each file by its
// new bytes (a temporary file renamed over it; through a symbolic link, the
// link's target). A file whose bytes are no longer Old is not written: the
// error says so. It returns the backup directory, also on a failure after
// the backup was made.
func Apply(root string, now time.Time, files []Pending) (string, error) {
	for _, p := range files {
		cur, err := os.ReadFile(p.Path)
		if err != nil {
			return "", err
		}
		if !bytes.Equal(cur, p.Old) {
			return "", fmt.Errorf("%s changed since it was read; run again", p.Path)
		}
	}
	dir, err := newBackupDir(root, now)
	if err != nil {
		return "", err
	}
	m := Manifest{Version: 1, Created: now.UTC()}
	for i, p := range files {
		name := fmt.Sprintf("%02d-%s", i+1, filepath.Base(p.Path))
		if err := os.WriteFile(filepath.Join(dir, name), p.Old, 0o600); err != nil {
			return dir, fmt.Errorf("backup %s: %w", p.Path, err)
		}
		m.Files = append(m.Files, BackupFile{Path: p.Path, Backup: name, Mode: uint32(p.Mode.Perm()), SHA256: hash(p.Old), Written: hash(p.New)})
	}
	if err := writeManifest(dir, &m); err != nil {
		return dir, err
	}
	for _, p := range files {
		if err := WriteFile(p.Path, p.New, p.Mode); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

// Restored is one file Undo put back.
type Restored struct {
	Path string
	// Already is set when the file held its original bytes already.
	Already bool
}

// ErrNoBackup is returned by Undo when root holds no backup left to
// restore.
var ErrNoBackup = errors.New("no backup to restore")

// Undo restores every file of the newest backup under root not restored
// yet, byte for byte, and marks the backup restored. A file changed since
// the backup's run wrote it is not restored unless force, nor is any other
// file of that backup: the error names it.
func Undo(root string, now time.Time, force bool) (string, []Restored, error) {
	dir, m, err := latest(root)
	if err != nil {
		return "", nil, err
	}
	type plan struct {
		f    BackupFile
		data []byte
		done bool
	}
	var plans []plan
	for _, f := range m.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Backup))
		if err != nil {
			return dir, nil, fmt.Errorf("backup of %s: %w", f.Path, err)
		}
		if hash(data) != f.SHA256 {
			return dir, nil, fmt.Errorf("backup of %s: %s does not match its hash in the manifest", f.Path, filepath.Join(dir, f.Backup))
		}
		cur, err := os.ReadFile(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return dir, nil, err
		case hash(cur) == f.SHA256:
			plans = append(plans, plan{f: f, done: true})
			continue
		case hash(cur) != f.Written && !force:
			return dir, nil, fmt.Errorf("%s changed after toolgate init wrote it; nothing restored (--force restores the backup over the changes)", f.Path)
		}
		plans = append(plans, plan{f: f, data: data})
	}
	var out []Restored
	for _, p := range plans {
		if !p.done {
			if err := WriteFile(p.f.Path, p.data, fs.FileMode(p.f.Mode)); err != nil {
				return dir, out, err
			}
		}
		out = append(out, Restored{Path: p.f.Path, Already: p.done})
	}
	t := now.UTC()
	m.Undone = &t
	return dir, out, writeManifest(dir, m)
}

// latest returns the newest backup under root not restored yet.
func latest(root string) (string, *Manifest, error) {
	list, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("%w: %s does not exist", ErrNoBackup, root)
	}
	if err != nil {
		return "", nil, err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name() > list[j].Name() })
	for _, d := range list {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(root, d.Name())
		data, err := os.ReadFile(filepath.Join(dir, ManifestName))
		if err != nil {
			continue
		}
		var m Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return dir, nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
		}
		if m.Undone == nil {
			return dir, &m, nil
		}
	}
	return "", nil, fmt.Errorf("%w in %s", ErrNoBackup, root)
}

// newBackupDir makes a new directory under root named after now, so that
// names sort by time.
func newBackupDir(root string, now time.Time) (string, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	base := now.UTC().Format("20060102T150405.000000000Z")
	for i := 0; i < 100; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%02d", base, i)
		}
		dir := filepath.Join(root, name)
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("no free backup directory name under %s", root)
}

func writeManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, ManifestName), append(data, '\n'), 0o600)
}

// WriteFile replaces the file at path by data with the permission bits
// mode: a temporary file in the same directory renamed over it, so that a
// reader sees the old bytes or the new, never a part. Through a symbolic
// link it replaces the link's target.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".toolgate-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if mode.Perm() == 0 {
		mode = 0o600
	}
	if err := tmp.Chmod(mode.Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
