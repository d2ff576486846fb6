package directory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/scan"
)

var updateScanFixture = flag.Bool("update-scan-fixture", false, "rewrite scan/testdata/toollists/directory.json from the live tool list")

// The scanner's golden table (docs/scanner.md) covers the directory's own
// tools through scan/testdata/toollists/directory.json; this test keeps
// that file equal to what the directory's MCP server really lists, and
// checks the seed verdicts on the live definitions.
func TestScanFixture(t *testing.T) {
	_, cs := mcpEnv(t)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{
		"server": "directory",
		"note":   "The tools/list of toolgate's directory MCP server; kept in sync by go test ./directory -run TestScanFixture.",
		"tools":  res.Tools,
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join(testpeer.RepoRoot(t), "scan", "testdata", "toollists", "directory.json")
	if *updateScanFixture {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is not the directory's tool list (%v); run go test ./directory -run TestScanFixture -update-scan-fixture, then go test ./scan -update", path, err)
	}
	// Seed 000 and 001: UpdateUser is Write/medium with auth and a high
	// parameter count; update_user is Write/medium.
	l, err := scan.ParseToolList(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range l.Tools {
		r := scan.Classify(tool)
		switch tool.Name {
		case "UpdateUser":
			if r.Category != scan.Write || r.Risk != "medium" || !r.Has("auth") || !r.Has("params") {
				t.Errorf("UpdateUser: %s %s %v", r.Category, r.Risk, r.Signals)
			}
		case "update_user":
			if r.Category != scan.Write || r.Risk != "medium" {
				t.Errorf("update_user: %s %s", r.Category, r.Risk)
			}
		case "DeleteUser":
			if r.Category != scan.Destructive {
				t.Errorf("DeleteUser: %s", r.Category)
			}
		case "GetUser", "ListUsers", "GetUserCount", "get_user", "VerifyPassword":
			if r.Category != scan.Read {
				t.Errorf("%s: %s", tool.Name, r.Category)
			}
		}
	}
}
