package testpeer

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// MissingPeersHint is the message of a skip or failure for missing npm peers.
const MissingPeersHint = "run make test (scripts/deps.sh) to install npm peers"

var repoRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
})

// RepoRoot returns the directory holding go.mod, walking up from the test's
// working directory (its package directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := repoRoot()
	if err != nil {
		t.Fatalf("testpeer: no go.mod above the working directory: %v", err)
	}
	return dir
}

// Node returns the path of the node binary, after checking that the npm
// peers (node_modules/@modelcontextprotocol/sdk) are installed. Otherwise it
// skips the test, or fails it when CI or TOOLGATE_REQUIRE_PEERS is set.
func Node(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingPeers(t, "node is not on PATH")
	}
	sdk := filepath.Join(RepoRoot(t), "node_modules", "@modelcontextprotocol", "sdk", "package.json")
	if _, err := os.Stat(sdk); err != nil {
		missingPeers(t, "node_modules/@modelcontextprotocol/sdk is not installed")
	}
	return node
}

func missingPeers(t testing.TB, what string) {
	t.Helper()
	MissingPeer(t, "testpeer: %s: %s", what, MissingPeersHint)
}

// MissingPeer reports a peer that is not installed: it skips the test with
// the formatted message, or fails it when the CI or TOOLGATE_REQUIRE_PEERS
// environment variable is set.
func MissingPeer(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" || os.Getenv("TOOLGATE_REQUIRE_PEERS") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
