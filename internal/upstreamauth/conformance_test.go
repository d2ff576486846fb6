package upstreamauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestConformanceClientAuth runs the conformance suite's client-side auth
// scenarios (`conformance client --scenario auth/...`) against
// toolgate's upstream OAuth client: the suite starts its authorization
// and MCP servers and runs internal/conformanceclient, which connects
// through upstreamauth.Source and Transport, lists the tools and calls
// them. Every check of the scenarios listed as passing must succeed.
func TestConformanceClientAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	node := testpeer.Node22(t)
	root := testpeer.RepoRoot(t)
	script := filepath.Join(root, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	if _, err := os.Stat(script); err != nil {
		testpeer.MissingPeer(t, "the conformance suite is not installed: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "conformanceclient")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./internal/conformanceclient")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the client: %v\n%s", err, out)
	}
	tests := []struct {
		scenario string
		// skip says why toolgate does not implement what the scenario
		// tests; "" means every check must pass.
		skip string
	}{
		{scenario: "auth/metadata-default"},
		{scenario: "auth/metadata-var1"},
		{scenario: "auth/metadata-var2"},
		{scenario: "auth/metadata-var3"},
		{scenario: "auth/basic-cimd"},
		{scenario: "auth/scope-from-www-authenticate"},
		{scenario: "auth/scope-from-scopes-supported"},
		{scenario: "auth/scope-omitted-when-undefined"},
		{scenario: "auth/scope-step-up"},
		{scenario: "auth/scope-retry-limit"},
		{scenario: "auth/token-endpoint-auth-basic"},
		{scenario: "auth/token-endpoint-auth-post"},
		{scenario: "auth/token-endpoint-auth-none"},
		{scenario: "auth/pre-registration"},
		{scenario: "auth/2025-03-26-oauth-metadata-backcompat"},
		{scenario: "auth/2025-03-26-oauth-endpoint-fallback"},
		{scenario: "auth/resource-mismatch"},
		{scenario: "auth/offline-access-scope"},
		{scenario: "auth/offline-access-not-supported"},
		{scenario: "auth/client-credentials-basic"},
		{scenario: "auth/client-credentials-jwt"},
		{scenario: "auth/cross-app-access-complete-flow"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.scenario, "auth/"), func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			out := filepath.Join(t.TempDir(), "results")
			sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(sctx, node, script, "client", "--command", bin, "--scenario", tt.scenario, "--timeout", "30000", "--output-dir", out)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+dir, "NO_COLOR=1")
			cmd.WaitDelay = 5 * time.Second
			var log bytes.Buffer
			cmd.Stdout, cmd.Stderr = &log, &log
			runErr := cmd.Run()
			var checks []testpeer.ConformanceCheck
			filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Name() == "checks.json" {
					data, _ := os.ReadFile(p)
					json.Unmarshal(data, &checks)
				}
				return nil
			})
			if len(checks) == 0 {
				t.Fatalf("no checks (exit %v):\n%s", runErr, log.String())
			}
			passed := 0
			for _, c := range checks {
				switch c.Status {
				case "SUCCESS":
					passed++
				case "INFO":
				default:
					t.Errorf("check %s: %s %s", c.ID, c.Status, c.Error)
				}
			}
			t.Logf("%s: %d of %d checks passed", tt.scenario, passed, len(checks))
			if t.Failed() {
				t.Logf("suite output:\n%s", log.String())
			}
		})
	}
}
