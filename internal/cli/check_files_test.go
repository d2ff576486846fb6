package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// check validates bare policy files, of either format, without a
// configuration.
func TestCheckPolicyFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"good.json":      `{"version":"1","default":"deny","tools":{"echo":{}}}`,
		"intercept.yaml": "version: \"1\"\ntools:\n  create_charge:\n    rules:\n      - name: cap\n        conditions:\n          - path: args.amount\n            op: lte\n            value: 100\n        on_deny: too much\n",
		"bad.json":       `{"version":"1","default":"maybe"}`,
		"bad.yaml":       "version: \"1\"\ntools:\n  t:\n    rules:\n      - name: r\n        action: allow\n",
	})
	p := func(n string) string { return filepath.Join(dir, n) }
	tests := []struct {
		files    []string
		code     int
		out, err string
	}{
		{[]string{p("good.json"), p("intercept.yaml")}, 0, "ok: " + p("intercept.yaml"), ""},
		{[]string{p("bad.json")}, 1, "", p("bad.json") + ":1:"},
		{[]string{p("good.json"), p("bad.yaml")}, 1, "ok: " + p("good.json"), p("bad.yaml") + ":6:"},
		{[]string{p("missing.json")}, 1, "", "not found"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, append([]string{"check"}, tt.files...)...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
			t.Errorf("check %v = %d, stdout %q, stderr %q", tt.files, code, out, errOut)
		}
	}
}
