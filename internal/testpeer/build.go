package testpeer

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// EchoServerPackage is the import path of the stdio echo server command.
const EchoServerPackage = "github.com/toolgate/toolgate/internal/testpeer/cmd/echoserver"

// ToolgatePackage is the import path of the toolgate command.
const ToolgatePackage = "github.com/toolgate/toolgate/cmd/toolgate"

var builds sync.Map // import path → func() (string, error), built once

// BuildEchoServer builds cmd/echoserver (the echo server of [GoEchoServer]
// over stdio) once per test process and returns the binary's path. Run it as
// a stdio upstream; with "-calls FILE" it appends each received tool name to
// FILE (read it with [CallLog]).
func BuildEchoServer(t testing.TB) string {
	t.Helper()
	return build(t, EchoServerPackage, "echoserver")
}

// BuildToolgate builds the toolgate command (what `make build` puts in
// bin/toolgate) once per test process and returns the binary's path, for
// tests that run it as a process of its own: as a service manager would, or
// to see everything it writes to its standard output and error.
func BuildToolgate(t testing.TB) string {
	t.Helper()
	return build(t, ToolgatePackage, "toolgate")
}

// build builds the command pkg once per test process. The binary goes to a
// directory under os.TempDir() named after the checkout (mode 0755, so that
// other users can run it), written to a temporary name and renamed into
// place, so concurrent test processes never see a partial file and repeated
// runs leave no litter.
func build(t testing.TB, pkg, name string) string {
	t.Helper()
	root := RepoRoot(t)
	f, _ := builds.LoadOrStore(pkg, sync.OnceValues(func() (string, error) {
		sum := sha256.Sum256([]byte(root))
		dir := filepath.Join(os.TempDir(), "toolgate-testpeer-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		tmp, err := os.CreateTemp(dir, name+"-*.tmp")
		if err != nil {
			return "", err
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		cmd := exec.Command("go", "build", "-o", tmp.Name(), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		path := filepath.Join(dir, name)
		return path, os.Rename(tmp.Name(), path)
	}))
	path, err := f.(func() (string, error))()
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	return path
}

// CallLog counts the tool names in a call log written by the echoserver
// command's -calls flag. A missing file means no calls.
func CallLog(t testing.TB, path string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return counts
	}
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name := strings.TrimSpace(sc.Text()); name != "" {
			counts[name]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("testpeer: read %s: %v", path, err)
	}
	return counts
}
