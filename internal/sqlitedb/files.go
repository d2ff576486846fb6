package sqlitedb

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// fileMode is the mode of a store's files: they hold approvals, users and
// password digests, so only their owner may read them.
const fileMode fs.FileMode = 0o600

// createPrivate creates the database file at path with mode 0600 before
// SQLite opens it (SQLite would create it 0644 less the umask), tightens an
// existing file that others may read or write, and returns the file's
// identity for the checker.
func createPrivate(path string, log *slog.Logger) (os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, fileMode)
	switch {
	case err == nil:
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		// The umask may have taken bits away from 0600; put them back.
		if fi.Mode().Perm() != fileMode {
			if err := f.Chmod(fileMode); err != nil {
				return nil, err
			}
		}
		return fi, nil
	case errors.Is(err, fs.ErrExist):
		if err := tighten(path, log); err != nil {
			return nil, err
		}
		return os.Stat(path)
	}
	return nil, err
}

// tighten removes the group and other permission bits of an existing file,
// logging at Warn when there were any.
func tighten(path string, log *slog.Logger) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	perm := fi.Mode().Perm()
	if perm&^fileMode == 0 {
		return nil
	}
	if err := os.Chmod(path, perm&fileMode); err != nil {
		return fmt.Errorf("restrict permissions: %w", err)
	}
	log.Warn("store file was readable or writable by others; restricted it to its owner",
		"path", path, "was", perm.String(), "now", (perm & fileMode).String())
	return nil
}
