package policy_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// TestInterceptGoldenWrap replays Intercept's recorded sequences (see
// intercept_golden_test.go) through the real `toolgate wrap -p POLICY --
// echoserver -tools FILE` over stdio, with counters in the wrap's SQLite
// store and the real clock: the same allow or deny per call (and the
// upstream saw exactly the allowed calls), the same denial text, the same
// listed tools. A process per sequence takes most of a second, so the wrap
// replays what needs the wrap's own state: in every golden file but
// Intercept's scaffolds (which decide nothing beyond default and hide) and
// the default-deny variants, the listing sequence and every sequence with
// counters. TestInterceptGolden replays all of them through the engine.
func TestInterceptGoldenWrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := testpeer.BuildToolgate(t)
	echo := testpeer.BuildEchoServer(t)
	data, err := os.ReadFile(filepath.Join(policy.ICGDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []policy.ICGEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	var nSeqs, nCalls int
	for _, en := range entries {
		if strings.HasPrefix(en.Name, "policies-") || strings.HasSuffix(en.Name, "-default-deny") {
			continue
		}
		var g policy.ICGGolden
		data, err := os.ReadFile(filepath.Join(policy.ICGDir, en.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatal(err)
		}
		if _, known := policy.ICGKnownLoad[en.Name]; known || !g.Loads {
			continue // loading is the engine replay's
		}
		raw, err := os.ReadFile(filepath.Join(policy.ICGDir, en.Policy))
		if err != nil {
			t.Fatal(err)
		}
		text, err := policy.ICGVariant(string(raw), en.Variant)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []policy.ICGSequence
		for i, s := range g.Sequences {
			if i == 0 || wrapCounted(s.Name) {
				seqs = append(seqs, s)
				nCalls += len(s.Calls)
			}
		}
		nSeqs += len(seqs)
		t.Run(en.Name, func(t *testing.T) {
			t.Parallel()
			for _, s := range seqs {
				wrapReplay(t, bin, echo, en.Name, text, s)
			}
		})
	}
	t.Logf("%d sequences, %d calls through the wrap", nSeqs, nCalls)
}

// wrapCounted reports whether a sequence (named by the recording harness)
// exercises counters.
func wrapCounted(name string) bool {
	for _, k := range []string{": the counter to its limit", ": increment_from amounts", ": fractional amounts", ", with calls to "} {
		if strings.Contains(name, k) {
			return true
		}
	}
	return false
}

func wrapReplay(t *testing.T, bin, echo, name, policyText string, s policy.ICGSequence) {
	t.Helper()
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	toolsFile := filepath.Join(dir, "tools.txt")
	callLog := filepath.Join(dir, "calls.log")
	if err := os.WriteFile(policyFile, []byte(policyText), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(toolsFile, []byte(strings.Join(s.Offered, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The counters' windows are the real clock's: start a sequence with a
	// minute window well inside a minute (it takes well under a second).
	for i := 0; i < 20 && strings.Contains(policyText, "minute") && time.Now().UTC().Second() > 45; i++ {
		time.Sleep(time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(bin, "wrap", "-p", policyFile, "--state-dir", filepath.Join(dir, "state"), "--",
		echo, "-calls", callLog, "-tools", toolsFile)
	cmd.Env = append(cmd.Environ(), "HOME="+dir)
	client := mcp.NewClient(&mcp.Implementation{Name: "intercept-golden", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := []string{}
	for _, tool := range lt.Tools {
		if slices.Contains(s.Offered, tool.Name) {
			listed = append(listed, tool.Name)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, s.Listed) {
		t.Errorf("%s: listed %v, Intercept %v", s.Name, listed, s.Listed)
	}
	reached := 0
	for i, c := range s.Calls {
		var args map[string]any
		if err := json.Unmarshal(c.Args, &args); err != nil {
			t.Fatal(err)
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.Tool, Arguments: args})
		allowed, reason := false, ""
		switch {
		case err != nil && c.UpstreamError:
			allowed = true // the upstream's JSON-RPC error, passed on
		case err != nil:
			t.Fatalf("%s, call %d %s: %v", s.Name, i, c.Tool, err)
		default:
			text := ""
			if len(res.Content) > 0 {
				if tc, ok := res.Content[0].(*mcp.TextContent); ok {
					text = tc.Text
				}
			}
			switch {
			case text == "upstream-ok:"+c.Tool:
				allowed = true
			case res.IsError && strings.HasPrefix(text, "[POLICY DENIED] "):
				reason = strings.TrimPrefix(text, "[POLICY DENIED] ")
			default:
				t.Fatalf("%s, call %d %s: unexpected answer %q (isError %v)", s.Name, i, c.Tool, text, res.IsError)
			}
		}
		if allowed {
			reached++
		}
		if why, ok := policy.ICGKnownCall(name, s.Name, c.Note, i); ok {
			if allowed == c.Allowed {
				t.Errorf("%s, call %d (%s): listed as a known difference (%s) but toolgate agrees with Intercept", s.Name, i, c.Note, why)
			}
			continue
		}
		if allowed != c.Allowed {
			t.Errorf("%s, call %d %s %s (%s): toolgate allowed=%v %q; Intercept allowed=%v %q",
				s.Name, i, c.Tool, c.Args, c.Note, allowed, reason, c.Allowed, c.Denial)
			continue
		}
		if !allowed && reason != c.Denial && !(c.Denial == policy.InternalPolicyError && strings.HasPrefix(reason, policy.InternalPolicyError+": ")) {
			t.Errorf("%s, call %d %s %s (%s): denied with %q, Intercept with %q", s.Name, i, c.Tool, c.Args, c.Note, reason, c.Denial)
		}
	}
	if err := cs.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	n := 0
	for tool, k := range testpeer.CallLog(t, callLog) {
		if slices.Contains(s.Offered, tool) {
			n += k
		}
	}
	if n != reached {
		t.Errorf("%s: the upstream received %d calls, the client saw %d reach it", s.Name, n, reached)
	}
}
