package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
)

// recordCalls appends decision events to the audit table of the store at
// dbPath through the real audit log.
func recordCalls(t *testing.T, dbPath string, events []*audit.Event) {
	t.Helper()
	ctx := context.Background()
	store, err := audit.OpenSQLite(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(ctx, audit.Options{Primary: store, Instance: "t", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func recorded(age time.Duration, tool string, d audit.Decision, rule string, mode audit.ArgsMode, args string) *audit.Event {
	kind := toolgate.KindRule
	if d != audit.Allowed {
		kind = toolgate.KindDefault
	}
	return &audit.Event{Kind: audit.KindDecision, Time: time.Now().Add(-age), Method: "tools/call", Tool: tool,
		Server: "srv", Subject: "alice", Grant: "g1", Policy: "default", Decision: d, DecisionKind: kind, Rule: rule,
		ArgsMode: mode, Args: json.RawMessage(args)}
}

func TestPolicyReplayCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": "auth: grants\nstore: sqlite://toolgate.db\n",
		"empty.yaml":    "auth: grants\nstore: sqlite://empty.db\n",
		// The candidate denies echo, allows add, and caps refunds.
		"candidate.json": `{"version":"1","default":"deny","tools":{"echo":{"action":"deny"},"add":{},
  "refund":{"deny_if":["args.amount > 100"]}}}`,
		"same.json": `{"version":"1","default":"deny","tools":{"echo":{},"refund":{}}}`,
		"bad.json":  "{\"version\":\"1\",\"default\":\"deny\",\n \"tools\":{\"echo\":{\"action\":\"maybe\"}}}",
	})
	F, R := audit.ArgsFull, audit.ArgsRedacted
	h := time.Hour
	recordCalls(t, filepath.Join(dir, "toolgate.db"), []*audit.Event{
		recorded(30*24*h, "echo", audit.Allowed, "/tools/echo", F, `{"text":"too old"}`), // before --since
		recorded(5*h, "echo", audit.Allowed, "/tools/echo", F, `{"text":"a"}`),
		recorded(4*h, "echo", audit.Allowed, "/tools/echo", R, `{"text":"[REDACTED]"}`),
		recorded(3*h, "add", audit.Denied, "(default deny)", F, `{"a":1}`),
		recorded(2*h, "refund", audit.Allowed, "/tools/refund", F, `{"amount":20}`),
		recorded(h, "refund", audit.Allowed, "/tools/refund", R, `{"amount":"[REDACTED]"}`),
	})
	withConfig := func(args ...string) (int, string, string) {
		return run(t, append(args, "--config", filepath.Join(dir, "toolgate.yaml"))...)
	}
	path := func(name string) string { return filepath.Join(dir, name) }

	code, out, errOut := withConfig("policy", "replay", "--policy", path("candidate.json"))
	for _, want := range []string{
		"5 decisions since", "4 replayed, 1 not replayable",
		"allowed→denied  2", "denied→allowed  1", "unchanged", "not replayable: args_redacted  1",
		"allowed→denied  echo  2", "denied→allowed  add   1", "allowed→denied  /tools/echo  2",
		"was allowed by /tools/echo; would be denied by /tools/echo",
		"was denied by (default deny); would be allowed by /tools/add",
		"not_replayable:args_redacted", "not replayed: /tools/refund/deny_if/0 reads argument values",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code != 0 || t.Failed() {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = withConfig("policy", "replay", "--policy", path("candidate.json"), "-o", "json", "--examples", "1", "--since", "4h30m")
	var r struct {
		Read, Replayed, Unchanged int
		AllowedToDenied           int            `json:"allowed_to_denied"`
		DeniedToAllowed           int            `json:"denied_to_allowed"`
		NotReplayable             map[string]int `json:"not_replayable"`
		ByTool                    []struct {
			Change, Key string
			Count       int
		} `json:"by_tool"`
		Examples []struct{ Change, ID, Tool string } `json:"examples"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if r.Read != 4 || r.Replayed != 3 || r.Unchanged != 1 || r.AllowedToDenied != 1 || r.DeniedToAllowed != 1 ||
		r.NotReplayable["args_redacted"] != 1 || len(r.ByTool) != 2 || len(r.Examples) != 3 || r.Examples[0].ID == "" {
		t.Errorf("json report = %+v\n%s", r, out)
	}

	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"fail on change", []string{"--policy", path("candidate.json"), "--fail-on-change"}, 1, "allowed→denied", "would change"},
		{"no change", []string{"--policy", path("same.json"), "--fail-on-change"}, 0, "nothing would change", ""},
		{"bad candidate", []string{"--policy", path("bad.json")}, 1, "", "bad.json:2:"},
		{"missing candidate", []string{"--policy", path("nope.json")}, 3, "", "does not exist"},
		{"no --policy", nil, 1, "", "--policy is required"},
		{"bad since", []string{"--policy", path("same.json"), "--since", "lately"}, 1, "", "--since must be"},
		{"bad output", []string{"--policy", path("same.json"), "-o", "csv"}, 1, "", "-o must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := withConfig(append([]string{"policy", "replay"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
		})
	}

	code, out, errOut = run(t, "policy", "replay", "--policy", path("candidate.json"), "--config", path("empty.yaml"), "--fail-on-change")
	if code != 0 || !strings.Contains(out, "0 decisions since") || !strings.Contains(out, "nothing would change") {
		t.Fatalf("empty log: exit %d\n%s%s", code, out, errOut)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"7d", now.AddDate(0, 0, -7), true},
		{"12h", now.Add(-12 * time.Hour), true},
		{"2026-11-01T00:00:00Z", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), true},
		{"0d", time.Time{}, false},
		{"-1h", time.Time{}, false},
		{"d", time.Time{}, false},
		{"soon", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v", tt.in, got, err)
		}
	}
}
