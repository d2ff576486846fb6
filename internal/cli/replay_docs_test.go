package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

// TestPolicyReplayDocsExample runs the example of docs/audit.md#policy-replay:
// its files are docs/examples/replay/*, the recorded calls are the ones the
// page lists, and the command prints the summary and tables the page shows.
func TestPolicyReplayDocsExample(t *testing.T) {
	page, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(page), "## Policy replay")
	if i < 0 {
		t.Fatal("docs/audit.md has no Policy replay section")
	}
	section := string(page[i:])
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	dir := t.TempDir()
	for _, name := range []string{"toolgate.yaml", "candidate.json"} {
		b, err := os.ReadFile(filepath.Join("../../docs/examples/replay", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(section, string(b)) {
			t.Errorf("the section does not show docs/examples/replay/%s as it is", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The calls the page lists, recorded under the old policy.
	F, R := audit.ArgsFull, audit.ArgsRedacted
	h := time.Hour
	recordCalls(t, filepath.Join(dir, "toolgate.db"), []*audit.Event{
		recorded(50*h, "echo", audit.Allowed, "/tools/echo", F, `{"text":"hello"}`),
		recorded(40*h, "echo", audit.Allowed, "/tools/echo", R, `{"text":"[REDACTED]"}`),
		recorded(30*h, "add", audit.Denied, "(default deny)", F, `{"a":2,"b":3}`),
		recorded(20*h, "refund", audit.Allowed, "/tools/refund", F, `{"amount":20}`),
		recorded(10*h, "refund", audit.Allowed, "/tools/refund", R, `{"amount":"[REDACTED]"}`),
	})
	for _, line := range []string{`"echo" with {"text":"hello"}`, `"refund" with {"amount":"[REDACTED]"}`} {
		if !strings.Contains(section, line) {
			t.Errorf("the section does not list the call %s", line)
		}
	}
	cmd := regexp.MustCompile("(?m)^toolgate (policy replay [^\\[\n]*)$").FindStringSubmatch(section)
	if cmd == nil {
		t.Fatal("the section has no toolgate policy replay command")
	}
	out := regexp.MustCompile("(?s)```text\n(.*?)```").FindStringSubmatch(section)
	if out == nil {
		t.Fatal("the section shows no output")
	}
	args := strings.Fields(cmd[1])
	for k, a := range args {
		if a == "toolgate.yaml" || a == "candidate.json" {
			args[k] = filepath.Join(dir, a)
		}
	}
	code, got, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, got, errOut)
	}
	// Every line of the shown output up to the examples (ids and times
	// differ from run to run) is in the real output.
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	shown, _, _ := strings.Cut(out[1], "examples:")
	for _, line := range strings.Split(shown, "\n") {
		if strings.Contains(line, " since ") {
			line = line[strings.Index(line, ": "):] // the time varies
		}
		if !strings.Contains(norm(got), norm(line)) {
			t.Errorf("the output lacks the documented line %q:\n%s", line, got)
		}
	}
}
