package scan

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// listLive lists every tool of a stdio server with the go-sdk client.
func listLive(t *testing.T, argv []string, env []string) []Tool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	client := mcp.NewClient(&mcp.Implementation{Name: "scan-test", Version: "0"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 500 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	var tools []Tool
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(tool)
		var st Tool
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		tools = append(tools, st)
	}
	return tools
}

// The live reference server classifies as its captured fixture does.
func TestLiveEverything(t *testing.T) {
	tools := listLive(t, testpeer.EverythingCommand(t), nil)
	sr := Scan("everything", "command", tools)
	if len(sr.Tools) < 10 || len(sr.Problems) != 0 {
		t.Fatalf("%d tools, problems %v", len(sr.Tools), sr.Problems)
	}
	byName := map[string]Report{}
	for _, r := range sr.Tools {
		byName[r.Name] = r
		if r.Has(SigInjection) || r.Has(SigUnicode) {
			t.Errorf("%s flagged as poisoned: %+v", r.Name, r.Signals)
		}
	}
	for name, want := range map[string]struct {
		cat  Category
		risk Risk
	}{"echo": {Read, Low}, "get-env": {Read, Medium}, "get-sum": {Read, Low}, "toggle-simulated-logging": {Write, Medium}} {
		r, ok := byName[name]
		if !ok || r.Category != want.cat || r.Risk != want.risk {
			t.Errorf("%s: %s %s (listed %v); want %s %s", name, r.Category, r.Risk, ok, want.cat, want.risk)
		}
	}
	if _, err := Recommend([]ServerResult{sr}); err != nil {
		t.Error(err)
	}
}

// The live Clerk toolkit (@clerk/agent-toolkit) is checked when it is
// installed; package.json does not list it yet, so it is skipped otherwise.
func TestLiveClerk(t *testing.T) {
	node := testpeer.Node(t)
	script := filepath.Join(testpeer.RepoRoot(t), "node_modules", "@clerk", "agent-toolkit", "dist", "modelcontextprotocol", "local-server.js")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("@clerk/agent-toolkit is not installed in node_modules (add it to package.json to run this test): %v", err)
	}
	tools := listLive(t, []string{node, script}, []string{"CLERK_SECRET_KEY=sk_test_dummy", "CLERK_API_URL=http://127.0.0.1:9"})
	sr := Scan("clerk", "command", tools)
	byName := map[string]Report{}
	for _, r := range sr.Tools {
		byName[r.Name] = r
	}
	for name, cat := range map[string]Category{"getUser": Read, "updateUser": Write, "deleteOrganization": Destructive} {
		if r, ok := byName[name]; !ok || r.Category != cat {
			t.Errorf("%s: %s (listed %v), want %s", name, r.Category, ok, cat)
		}
	}
}
