package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/limit/limittest"
)

// `toolgate serve` counts a value counter in its store: the process is
// stopped and started again mid-day on the same configuration, and the
// day's sum is still spent; 00:00 UTC starts a new one. The clock is the
// test's, so no wall-clock boundary is crossed by chance.
func TestServeValueCounterSurvivesRestart(t *testing.T) {
	addr := freeAddr(t)
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: off
auth: none
store: sqlite://toolgate.db
servers:
  echo:
    command: [%q]
policies:
  default: policy.yaml
`, addr, bin),
		"policy.yaml": `version: "1"
default: deny
tools:
  add:
    limits:
      - {counter: daily_a, window: day, max: 10, increment_from: args.a, scope: grant}
`,
	})
	cfg := filepath.Join(dir, "toolgate.yaml")
	clock := limittest.NewClock(time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	session := func() (*mcp.ClientSession, func()) {
		t.Helper()
		_, stop := startServeCtx(t, withClock(context.Background(), clock.Now), cfg, addr)
		client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cs, func() {
			cs.Close()
			if code, errOut := stop(); code != 0 {
				t.Fatalf("serve exited %d: %s", code, errOut)
			}
		}
	}
	add := func(cs *mcp.ClientSession, a float64, refused string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": a, "b": 1}})
		if err != nil {
			t.Fatalf("add %v: %v", a, err)
		}
		text := textContent(res)
		if refused == "" && res.IsError {
			t.Fatalf("add %v refused: %s", a, text)
		}
		if refused != "" && (!res.IsError || !strings.Contains(text, refused)) {
			t.Fatalf("add %v: %q (isError %v), want a refusal with %q", a, text, res.IsError, refused)
		}
	}

	cs, stop := session()
	add(cs, 7, "")
	stop()

	clock.Set(time.Date(2026, 3, 4, 20, 0, 0, 0, time.UTC))
	cs, stop = session()
	add(cs, 4, "[POLICY DENIED] limit of 10 per day on args.a reached: this call adds 4")
	add(cs, 3, "")
	add(cs, 1, "[POLICY DENIED] limit of 10 per day on args.a")
	stop()

	clock.Set(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	cs, stop = session()
	add(cs, 10, "")
	stop()
}
