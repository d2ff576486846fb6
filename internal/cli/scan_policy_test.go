package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/policy"
)

// --policy-out writes toolgate's JSON or Intercept's YAML (by
// --policy-format or the file's extension); both load with the real
// loader, and the YAML says in comments what Intercept cannot express.
func TestScanPolicyFormats(t *testing.T) {
	dir := writeFiles(t, map[string]string{"tools.json": scanTools})
	tools := filepath.Join(dir, "tools.json")
	for _, tt := range []struct {
		file, format string
		want         []string
	}{
		{"p.json", "", []string{`"action": "approve"`, `"scope": "grant"`}},
		{"p.yaml", "", []string{"require_approval", "# Not expressed in Intercept's format", "an args schema has no Intercept equivalent"}},
		{"p.txt", "yaml", []string{"require_approval"}},
		{"q.yaml", "json", []string{`"version": "1"`}},
	} {
		out := filepath.Join(dir, tt.file)
		args := []string{"scan", "--file", tools, "--policy-out", out}
		if tt.format != "" {
			args = append(args, "--policy-format", tt.format)
		}
		if code, _, errOut := run(t, args...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, errOut)
		}
		if _, err := policy.LoadFile(out); err != nil {
			t.Errorf("%s: does not load: %v", tt.file, err)
		}
		data, _ := os.ReadFile(out)
		for _, w := range tt.want {
			if !strings.Contains(string(data), w) {
				t.Errorf("%s lacks %q:\n%s", tt.file, w, data)
			}
		}
	}
	if code, _, errOut := run(t, "scan", "--file", tools, "--policy-out", filepath.Join(dir, "x"), "--policy-format", "toml"); code != 1 || !strings.Contains(errOut, "invalid --policy-format") {
		t.Errorf("--policy-format toml: %d %s", code, errOut)
	}
}
