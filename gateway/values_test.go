package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/limit/limittest"
	limitsqlite "github.com/toolgate/toolgate/limit/sqlite"
	"github.com/toolgate/toolgate/policy"
)

// spendPolicy caps the amount charged per grant and UTC day, in cents.
const spendPolicy = `{"version": "1", "default": "deny", "tools": {
  "charge": {"limits": [{"counter": "daily_spend", "window": "day", "max": 1000000, "increment_from": "args.amount", "scope": "grant"}]}}}`

type chargeArgs struct {
	Amount float64 `json:"amount"`
	Fail   bool    `json:"fail,omitempty"`
}

// chargeServer is an upstream whose charge tool answers with a JSON-RPC
// error when asked to fail, and whose HTTP endpoint answers 503 while
// down is set.
func chargeServer(t *testing.T, down *atomic.Bool, served *atomic.Int64) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "payments", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "charge", Description: "charge an amount in cents"}, func(_ context.Context, _ *mcp.CallToolRequest, in chargeArgs) (*mcp.CallToolResult, any, error) {
		if in.Fail {
			return nil, nil, &jsonrpc.Error{Code: -32000, Message: "card declined"}
		}
		served.Add(int64(in.Amount))
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "charged"}}}, nil, nil
	})
	inner := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() && r.Method == http.MethodPost {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// A daily budget counted by a value counter outlives the gateway: most of
// it is spent, the gateway is replaced by a new one on the same SQLite
// store mid-day, and a call over what is left is refused. Calls the
// upstream failed (a JSON-RPC error, or the server down) gave their
// amounts back.
func TestValueCounterSurvivesRestart(t *testing.T) {
	ctx := testContext(t)
	var down atomic.Bool
	var served atomic.Int64
	upURL := chargeServer(t, &down, &served)
	eng, err := policy.Load([]byte(spendPolicy), "spend.json")
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "toolgate.db")
	clock := limittest.NewClock(time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC))

	// start runs a gateway on the store, as toolgate serve does after a
	// (re)start, and returns a connected client and a stop function.
	start := func() (*mcp.ClientSession, func()) {
		t.Helper()
		counters, err := limitsqlite.Open(ctx, store, clock.Now, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "payments", URL: upURL}},
			Policy: eng, Counters: counters, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(gw)
		client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		stop := func() {
			once.Do(func() {
				cs.Close()
				ts.Close()
				gw.Close()
				if err := counters.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		// On a failure too, before the upstream (registered earlier)
		// waits for the gateway's connections to end.
		t.Cleanup(stop)
		toolNames(t, ctx, cs) // fill the catalog while the upstream is up
		return cs, stop
	}
	type step struct {
		name    string
		args    chargeArgs
		refused string // substring of the refusal; "" for a served call
		rpcErr  bool   // the upstream answers with a JSON-RPC error
	}
	run := func(cs *mcp.ClientSession, steps []step) {
		t.Helper()
		for _, s := range steps {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "charge", Arguments: s.args})
			switch {
			case s.rpcErr:
				if err == nil || !strings.Contains(err.Error(), "card declined") {
					t.Fatalf("%s: got %v %+v, want the upstream's error", s.name, err, res)
				}
			case err != nil:
				t.Fatalf("%s: %v", s.name, err)
			case s.refused != "":
				if !res.IsError || !strings.Contains(textOf(res), s.refused) {
					t.Fatalf("%s: got %q (isError %v), want a refusal with %q", s.name, textOf(res), res.IsError, s.refused)
				}
			case res.IsError:
				t.Fatalf("%s: refused: %s", s.name, textOf(res))
			}
		}
	}

	cs, stop := start()
	run(cs, []step{
		{name: "most of the budget", args: chargeArgs{Amount: 600000}},
		{name: "declined by the upstream", args: chargeArgs{Amount: 300000, Fail: true}, rpcErr: true},
	})
	down.Store(true)
	run(cs, []step{{name: "upstream down", args: chargeArgs{Amount: 50000}, refused: "server payments is unavailable"}})
	down.Store(false)
	stop()

	clock.Set(time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)) // the same UTC day
	cs, stop = start()
	run(cs, []step{
		{name: "one cent over what is left", args: chargeArgs{Amount: 400001},
			refused: "[POLICY DENIED] limit of 1000000 per day on args.amount reached: this call adds 400001"},
		{name: "exactly what is left", args: chargeArgs{Amount: 400000}},
		{name: "nothing left", args: chargeArgs{Amount: 1}, refused: "[POLICY DENIED] limit of 1000000 per day"},
	})
	// A call without an amount is refused, naming the argument.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "charge", Arguments: map[string]any{}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "argument args.amount is missing") {
		t.Fatalf("no amount: %v %q", err, textOf(res))
	}
	stop()

	clock.Set(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)) // 00:00 UTC: a new budget
	cs, stop = start()
	run(cs, []step{{name: "the next day", args: chargeArgs{Amount: 1000000}}})
	stop()
	if got := served.Load(); got != 600000+400000+1000000 {
		t.Fatalf("the upstream charged %d in all", got)
	}
}
