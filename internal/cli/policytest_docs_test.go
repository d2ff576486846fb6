package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The example of docs/policy-testing.md passes, and the page names every
// file of it.
func TestPolicyTestDocsExample(t *testing.T) {
	files, err := filepath.Glob("../../docs/examples/policy-test/*.test.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in docs/examples/policy-test: %v", err)
	}
	page, err := os.ReadFile("../../docs/policy-testing.md")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := filepath.Glob("../../docs/examples/policy-test/*")
	for _, f := range all {
		if !strings.Contains(string(page), "examples/policy-test/"+filepath.Base(f)) {
			t.Errorf("docs/policy-testing.md does not mention %s", filepath.Base(f))
		}
	}
	code, out, errOut := run(t, append([]string{"policy", "test"}, files...)...)
	if code != 0 || strings.Contains(out, "FAIL") || !strings.Contains(out, " 0 failed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

const cliTestPolicy = `{"version": "1", "default": "deny", "tools": {"echo": {}, "Old": {"mode": "shadow", "action": "deny"}}}`

func TestPolicyTestCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"p.json": cliTestPolicy,
		"pass.test.yaml": `policy: p.json
cases:
  - {name: echo is allowed, call: {tool: echo}, expect: {decision: allow, rule: /tools/echo}}
  - {name: Old is shadow denied, call: {tool: Old}, expect: {decision: allow, kind: shadow_denied, shadow_kind: rule}}
`,
		"fail.test.yaml": `policy: p.json
cases:
  - {name: echo is allowed, call: {tool: echo}, expect: {decision: allow}}
  - name: other is allowed
    call: {tool: other}
    expect: {decision: allow, rule: /tools/other}
`,
		"bad.test.yaml":      "policy: p.json\ncases:\n  - {name: a, call: {tool: echo}, expect: {decision: maybe}}\n",
		"nopolicy.test.yaml": "policy: missing.json\ncases:\n  - {name: a, call: {tool: echo}, expect: {decision: allow}}\n",
	})
	path := func(name string) string { return filepath.Join(dir, name) }

	code, out, errOut := run(t, "policy", "test", path("pass.test.yaml"))
	if code != 0 || !strings.Contains(out, "ok    "+path("pass.test.yaml")+":3  echo is allowed") || !strings.Contains(out, "2 cases: 2 passed, 0 failed") {
		t.Fatalf("passing file: exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = run(t, "policy", "test", path("pass.test.yaml"), path("fail.test.yaml"))
	for _, want := range []string{
		"FAIL  " + path("fail.test.yaml") + ":4  other is allowed",
		"decision:\n          - want allow\n          + got  deny",
		"rule:\n          - want /tools/other\n          + got  (default deny)",
		"4 cases: 3 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("a failing case: exit %d, want 1", code)
	}

	code, out, _ = run(t, "policy", "test", "-o", "json", path("fail.test.yaml"))
	var report struct {
		Files []struct {
			File  string
			Cases []struct {
				Name       string
				Pass       bool
				Got        struct{ Action, Rule, Kind string }
				Mismatches []struct{ Field, Want, Got string }
			}
		}
		Passed, Failed int
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if code != 1 || report.Passed != 1 || report.Failed != 1 || len(report.Files) != 1 || report.Files[0].Cases[1].Got.Kind != "default" ||
		len(report.Files[0].Cases[1].Mismatches) != 2 {
		t.Errorf("-o json: exit %d, %+v", code, report)
	}

	code, out, errOut = run(t, "policy", "test", path("bad.test.yaml"))
	if code != 1 || out != "" || !strings.Contains(errOut, path("bad.test.yaml")+":3:54: /cases/0/expect/decision:") {
		t.Errorf("invalid test file: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = run(t, "policy", "test", path("nopolicy.test.yaml"))
	if code != 3 || !strings.Contains(errOut, "missing.json not found") {
		t.Errorf("missing policy: exit %d\n%s", code, errOut)
	}
	if code, _, _ = run(t, "policy", "test", "-o", "yaml", path("pass.test.yaml")); code != 1 {
		t.Errorf("-o yaml: exit %d, want 1", code)
	}
	if code, _, _ = run(t, "policy", "test"); code != 1 {
		t.Errorf("no file: exit %d, want 1", code)
	}
}
