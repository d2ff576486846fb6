package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/policy"
)

func TestPolicyConvert(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"intercept.yaml": `version: "1"
default: deny
tools:
  refund:
    rules:
      - name: small
        conditions: [{path: args.amount, op: lte, value: 100}]
        on_deny: Refunds over 100 are done by hand.
      - name: per day
        rate_limit: 10/day
  charge:
    rules:
      - name: spend
        conditions: [{path: state.charge.spend, op: lte, value: 1000}]
        state: {counter: spend, window: day, increment_from: args.amount}
`,
		"plain.yaml": "version: \"1\"\ntools:\n  t:\n    rules:\n      - {name: r, conditions: [{path: args.x, op: eq, value: 1}]}\n",
		"toolgate.json": `{"version": "1", "default": "deny", "tools": {"t": {"require": ["args.x == 1"]},
  "u": {"when": "args.y == 2"}}}`,
		"bad.yaml": "version: \"1\"\ntools:\n  t:\n    rules:\n      - {name: r, action: allow}\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr []string
	}{
		{"lossless to json", []string{"policy", "convert", p("plain.yaml"), "--to", "json"}, 0,
			[]string{`"require": [`, `"op": "eq"`, `"on_deny": "Denied by rule \"r\""`}, nil},
		{"losses refuse", []string{"policy", "convert", p("intercept.yaml"), "--to", "json"}, 1, nil,
			[]string{"intercept.yaml: /tools/charge/rules/0: state counters", "intercept.yaml: /tools/refund/rules/1/rate_limit: approximated",
				"2 constructs of", "nothing was written"}},
		{"losses with --lossy", []string{"policy", "convert", p("intercept.yaml"), "--to", "json", "--lossy"}, 0,
			[]string{`"on_deny": "Refunds over 100 are done by hand."`, `"counter": "refund._rate_day"`}, []string{"/tools/charge/rules/0: state counters"}},
		{"toolgate to yaml, lossy", []string{"policy", "convert", p("toolgate.json"), "--to", "yaml", "--lossy"}, 0,
			[]string{"op: eq", "on_deny: policy requires args.x == 1"}, []string{"/tools/u/when: a when (CEL) condition"}},
		{"wrong direction", []string{"policy", "convert", p("toolgate.json"), "--to", "json"}, 1, nil, []string{"already in toolgate's format"}},
		{"bad --to", []string{"policy", "convert", p("plain.yaml"), "--to", "toml"}, 1, nil, []string{`--to must be json or yaml, not "toml"`}},
		{"no --to", []string{"policy", "convert", p("plain.yaml")}, 1, nil, []string{`--to must be json or yaml, not ""`}},
		{"invalid policy", []string{"policy", "convert", p("bad.yaml"), "--to", "json"}, 1, nil, []string{"bad.yaml:5:27: /tools/t/rules/0/action"}},
		{"not found", []string{"policy", "convert", p("nope.yaml"), "--to", "json"}, 3, nil, []string{"does not exist"}},
		{"no file", []string{"policy", "convert", "--to", "json"}, 1, nil, []string{"accepts 1 arg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tt.code != 0 && stdout != "" {
				t.Errorf("wrote on failure: %s", stdout)
			}
		})
	}
}

// TestPolicyConvertRoundTrip converts a file with -o and back, and the
// result decides sample calls as the original does.
func TestPolicyConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := "../../docs/examples/intercept/allowlist.yaml"
	js, back := filepath.Join(dir, "p.json"), filepath.Join(dir, "back.yaml")
	if code, _, stderr := run(t, "policy", "convert", src, "--to", "json", "-o", js); code != 0 {
		t.Fatalf("to json: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "policy", "convert", js, "--to", "yaml", "-o", back); code != 0 {
		t.Fatalf("to yaml: %d %s", code, stderr)
	}
	orig, err := policy.LoadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{js, back} {
		e, err := policy.LoadFile(f)
		if err != nil {
			data, _ := os.ReadFile(f)
			t.Fatalf("%v\n%s", err, data)
		}
		for _, c := range []struct {
			tool string
			args map[string]any
		}{
			{"read_file", map[string]any{"path": "/x"}},
			{"read_file", map[string]any{"force": true}},
			{"write_file", map[string]any{"path": "/work/project/a"}},
			{"write_file", map[string]any{"path": "/etc/passwd"}},
			{"write_file", map[string]any{"path": "/work/project/a", "force": false}},
			{"delete_file", map[string]any{}},
		} {
			want, _ := orig.Decide(&toolgate.Call{Tool: c.tool, Args: c.args})
			got, _ := e.Decide(&toolgate.Call{Tool: c.tool, Args: c.args})
			if want.Action != got.Action || (want.Kind == policy.KindRule && want.Reason != got.Reason) {
				t.Errorf("%s: %s %v: %s %q, want %s %q", filepath.Base(f), c.tool, c.args, got.Action, got.Reason, want.Action, want.Reason)
			}
		}
	}
}

// TestPolicyConvertDocs checks that what docs/intercept.md shows convert
// printing for its stripe example is what convert prints.
func TestPolicyConvertDocs(t *testing.T) {
	const dir = "../../docs/examples/intercept/"
	code, stdout, stderr := run(t, "policy", "convert", dir+"stripe.yaml", "--to", "json")
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	doc, err := os.ReadFile("../../docs/intercept.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(stderr, dir, "")), "\n")
	for _, i := range []int{0, len(lines) - 1} {
		if !strings.Contains(string(doc), "\n"+lines[i]+"\n") {
			t.Errorf("docs/intercept.md does not show %q", lines[i])
		}
	}
}
