package testpeer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InspectorCLIPackage is the npm package of the MCP Inspector's CLI mode.
const InspectorCLIPackage = "@modelcontextprotocol/inspector-cli"

// InspectorCLI runs the MCP Inspector in CLI mode (`mcp-inspector-cli --cli
// args...`, from the npm package @modelcontextprotocol/inspector-cli, which
// is what `npx @modelcontextprotocol/inspector --cli` runs) and returns its
// standard output: the JSON result of the one method it was asked for. The
// error, when it exits non-zero, holds its stderr.
//
// Like [Node], it skips the test (or fails it under CI or
// TOOLGATE_REQUIRE_PEERS) when the package is not installed.
func InspectorCLI(t testing.TB, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	node := Node(t)
	pkg := filepath.Join(RepoRoot(t), "node_modules", filepath.FromSlash(InspectorCLIPackage))
	cli := filepath.Join(pkg, "build", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		missingPeers(t, "node_modules/"+InspectorCLIPackage+" is not installed")
	}
	cmd := exec.CommandContext(ctx, node, append([]string{cli, "--cli"}, args...)...)
	// The CLI finds its own package.json (for its client name) as
	// "../package.json" of the working directory.
	cmd.Dir = filepath.Join(pkg, "build")
	// cli.js starts build/index.js with "node" from PATH: the same one.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("testpeer: inspector --cli %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String(), nil
}
