package gateway_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// sqliteAuditEnv is a gateway whose audit log is a real audit.Log on a
// SQLite store, over the echo server (prefix "echo_"), which offers tools,
// a resource and a prompt. The upstream notes, for every resources/read
// and prompts/get it receives, whether its decision event was already in
// the store.
type sqliteAuditEnv struct {
	store *audit.SQLite
	log   *audit.Log
	cs    *mcp.ClientSession

	mu       sync.Mutex
	reads    int // resources/read and prompts/get the upstream received
	preceded int // of which the store held the decision beforehand
}

func newSQLiteAuditEnv(t *testing.T) *sqliteAuditEnv {
	t.Helper()
	ctx := testContext(t)
	env := &sqliteAuditEnv{}
	store, err := audit.OpenSQLite(ctx, filepath.Join(t.TempDir(), "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(ctx, audit.Options{Primary: store, Instance: "test", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	env.store, env.log = store, log
	echo := testpeer.GoEchoServer()
	echo.Server().AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method == "resources/read" || method == "prompts/get" {
				env.noteRead(ctx, method)
			}
			return next(ctx, method, req)
		}
	})
	eng, err := policy.Load([]byte(auditPolicy), "policy.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t), Prefix: "echo_"}},
		Policy:  eng, Logger: quietLogger(), Audit: log, AuditArgs: audit.ArgsFull,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() {
		ts.Close()
		gw.Close()
		log.Close() // closes the store
	})
	env.cs = connect(t, ctx, ts.URL+"/mcp", nil)
	toolNames(t, ctx, env.cs)
	return env
}

// noteRead looks in the store for the newest decision event of method
// and counts whether it is there.
func (env *sqliteAuditEnv) noteRead(ctx context.Context, method string) {
	evs, err := env.store.Query(ctx, audit.Filter{Kind: audit.KindDecision, Limit: 1})
	found := err == nil && len(evs) == 1 && evs[0].Method == method
	env.mu.Lock()
	defer env.mu.Unlock()
	env.reads++
	if found {
		env.preceded++
	}
}

func (env *sqliteAuditEnv) upstreamReads() (reads, preceded int) {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.reads, env.preceded
}

// head is the seq of the store's last event.
func (env *sqliteAuditEnv) head(t *testing.T) uint64 {
	t.Helper()
	seq, _, err := env.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// eventsAfter waits until the store holds n events after seq (outcomes
// are written without being waited for) and returns them, oldest first.
func (env *sqliteAuditEnv) eventsAfter(t *testing.T, seq uint64, n int) []*audit.Event {
	t.Helper()
	var evs []*audit.Event
	waitFor(t, "the audit events", func() bool {
		var err error
		evs, err = env.store.Query(context.Background(), audit.Filter{AfterSeq: seq, Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs) >= n
	})
	return evs
}

// TestAuditResourcesAndPrompts: resources/read and prompts/get, which no
// policy governs, are recorded like tools/call (a decision committed
// before the request leaves, then its outcome), and requests refused
// before the pipeline (a name no upstream offers, unreadable params) get
// a decision that says so.
func TestAuditResourcesAndPrompts(t *testing.T) {
	env := newSQLiteAuditEnv(t)
	ctx := testContext(t)
	type want struct {
		method, tool, resource, prompt string
		decision                       audit.Decision
		rule, reason                   string
		args                           string // "" for none
		outcome                        audit.Outcome
		upstream                       bool // the request reached the upstream
	}
	tests := []struct {
		name    string
		do      func() error
		wantErr string
		want    want
	}{{
		name: "resources/read",
		do: func() error {
			res, err := env.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: testpeer.EchoResourceURI})
			if err == nil && (len(res.Contents) != 1 || res.Contents[0].Text != testpeer.EchoResourceText) {
				t.Errorf("resources/read answered %+v", res.Contents)
			}
			return err
		},
		want: want{method: "resources/read", resource: testpeer.EchoResourceURI, decision: audit.Allowed,
			rule: policy.RuleNoPolicy, outcome: audit.OutcomeOK, upstream: true},
	}, {
		name: "resources/read the upstream refuses",
		do: func() error {
			_, err := env.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://echo/missing"})
			return err
		},
		wantErr: "not found",
		want: want{method: "resources/read", resource: "test://echo/missing", decision: audit.Allowed,
			rule: policy.RuleNoPolicy, outcome: audit.OutcomeProtocolError, upstream: true},
	}, {
		name: "prompts/get, by its prefixed name",
		do: func() error {
			res, err := env.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "echo_" + testpeer.EchoPromptName, Arguments: map[string]string{"name": "Ada"}})
			if err == nil && (len(res.Messages) != 1 || !strings.Contains(res.Messages[0].Content.(*mcp.TextContent).Text, "Ada")) {
				t.Errorf("prompts/get answered %+v", res.Messages)
			}
			return err
		},
		want: want{method: "prompts/get", prompt: "echo_greet", decision: audit.Allowed, rule: policy.RuleNoPolicy,
			args: `{"name":"Ada"}`, outcome: audit.OutcomeOK, upstream: true},
	}, {
		name: "prompts/get of a prompt nobody offers",
		do: func() error {
			_, err := env.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "other_greet"})
			return err
		},
		wantErr: `unknown name "other_greet"`,
		want:    want{method: "prompts/get", prompt: "other_greet", decision: audit.UnknownName, reason: `unknown name "other_greet"`},
	}, {
		name: "tools/call of a tool nobody offers",
		do: func() error {
			res, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo_rm_rf", Arguments: map[string]any{"path": "/"}})
			if err == nil && (!res.IsError || !strings.Contains(textOf(res), "unknown tool")) {
				t.Errorf("unknown tool answered %+v", res)
			}
			return err
		},
		want: want{method: "tools/call", tool: "echo_rm_rf", decision: audit.UnknownName,
			reason: `unknown tool "echo_rm_rf"`, args: `{"path":"/"}`},
	}, {
		name: "tools/call whose arguments are not an object",
		do: func() error {
			_, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo_echo", Arguments: "hello"})
			return err
		},
		wantErr: "arguments must be an object",
		want:    want{method: "tools/call", tool: "echo_echo", decision: audit.InvalidRequest, reason: "tools/call: arguments must be an object"},
	}, {
		name: "tools/call without a name",
		do: func() error {
			_, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Arguments: map[string]any{}})
			return err
		},
		wantErr: "name is required",
		want:    want{method: "tools/call", decision: audit.InvalidRequest, reason: "tools/call: name is required"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := env.head(t)
			readsBefore, _ := env.upstreamReads()
			err := tt.do()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			n := 1
			if tt.want.outcome != "" {
				n = 2
			}
			evs := env.eventsAfter(t, seq, n)
			if len(evs) != n {
				for _, e := range evs {
					t.Logf("%+v", e)
				}
				t.Fatalf("%d events, want %d", len(evs), n)
			}
			dec, w := evs[0], tt.want
			if dec.Kind != audit.KindDecision || dec.Method != w.method || dec.Tool != w.tool || dec.Resource != w.resource ||
				dec.Prompt != w.prompt || dec.Decision != w.decision || dec.Rule != w.rule || dec.Reason != w.reason ||
				dec.DecisionKind != "" || string(dec.Args) != w.args {
				t.Errorf("decision event %+v\nwant %+v", dec, w)
			}
			if dec.Subject != "anonymous" || !strings.HasPrefix(dec.Session, "s-") || dec.RequestID == "" || len(dec.PolicyVersion) != 64 {
				t.Errorf("decision event lacks who and when: %+v", dec)
			}
			if w.upstream != (dec.Server == "echo") {
				t.Errorf("decision server %q", dec.Server)
			}
			reads, preceded := env.upstreamReads()
			if wantReads := readsBefore + map[bool]int{true: 1}[w.upstream && w.method != "tools/call"]; reads != wantReads || preceded != reads {
				t.Errorf("the upstream got %d reads (want %d), %d of them after their decision was committed", reads, wantReads, preceded)
			}
			if n == 1 {
				return
			}
			out := evs[1]
			if out.Kind != audit.KindOutcome || out.Ref != dec.ID || out.Method != w.method || out.Outcome != w.outcome ||
				out.RequestID != dec.RequestID || out.Session != dec.Session || out.Server != "echo" {
				t.Errorf("outcome event %+v (decision %s)", out, dec.ID)
			}
			if w.outcome == audit.OutcomeOK && (out.ResultBytes == 0 || out.UpstreamMicros <= 0) {
				t.Errorf("outcome without size or latency: %+v", out)
			}
		})
	}
	rep, err := env.store.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Break != nil {
		t.Fatalf("the chain does not verify: %v", rep.Break)
	}
}

// TestAuditResourcesFailClosed: a resources/read or prompts/get whose
// decision cannot be recorded is refused, and never reaches the upstream.
func TestAuditResourcesFailClosed(t *testing.T) {
	env := newSQLiteAuditEnv(t)
	ctx := testContext(t)
	if err := env.log.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
	}{
		{"resources/read", func() error {
			_, err := env.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: testpeer.EchoResourceURI})
			return err
		}},
		{"prompts/get", func() error {
			_, err := env.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "echo_greet", Arguments: map[string]string{"name": "x"}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil || !strings.Contains(err.Error(), "audit log could not record") {
				t.Fatalf("with the audit log down: %v", err)
			}
			if reads, _ := env.upstreamReads(); reads != 0 {
				t.Fatalf("the upstream got %d reads", reads)
			}
		})
	}
}
