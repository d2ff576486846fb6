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

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// BuildEchoServer builds cmd/echoserver (the echo server of [GoEchoServer]
// over stdio) once per test process and returns the binary's path. Run it as
// a stdio upstream; with "-calls FILE" it appends each received tool name to
// FILE (read it with [CallLog]).
//
// The binary goes to a directory under os.TempDir() named after the checkout,
// written to a temporary name and renamed into place, so concurrent test
// processes never see a partial file and repeated runs leave no litter.
func BuildEchoServer(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	buildOnce.Do(func() {
		sum := sha256.Sum256([]byte(root))
		dir := filepath.Join(os.TempDir(), "toolgate-testpeer-"+hex.EncodeToString(sum[:6]))
		if buildErr = os.MkdirAll(dir, 0o755); buildErr != nil {
			return
		}
		tmp, err := os.CreateTemp(dir, "echoserver-*.tmp")
		if err != nil {
			buildErr = err
			return
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		cmd := exec.Command("go", "build", "-o", tmp.Name(), EchoServerPackage)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build %s: %v\n%s", EchoServerPackage, err, out)
			return
		}
		buildPath = filepath.Join(dir, "echoserver")
		buildErr = os.Rename(tmp.Name(), buildPath)
	})
	if buildErr != nil {
		t.Fatalf("testpeer: %v", buildErr)
	}
	return buildPath
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
