package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// recorder is an in-memory gateway.Auditor. Each event is stored with the
// number of tools/calls the upstream had received when it was appended.
type recorder struct {
	upstream func() int
	fail     atomic.Bool

	mu     sync.Mutex
	events []auditRecord
}

type auditRecord struct {
	e        *audit.Event
	upstream int  // upstream calls seen at append time
	waited   bool // Append (durable) rather than Enqueue
}

var errAuditDown = errors.New("audit store unavailable")

func (r *recorder) add(e *audit.Event, waited bool) error {
	if r.fail.Load() {
		return errAuditDown
	}
	n := 0
	if r.upstream != nil {
		n = r.upstream()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.ID == "" {
		e.ID = audit.NewID(time.Now())
	}
	r.events = append(r.events, auditRecord{e: e, upstream: n, waited: waited})
	return nil
}

func (r *recorder) Append(_ context.Context, e *audit.Event) error  { return r.add(e, true) }
func (r *recorder) Enqueue(_ context.Context, e *audit.Event) error { return r.add(e, false) }

func (r *recorder) all() []auditRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]auditRecord(nil), r.events...)
}

const auditPolicy = `{"version":"1","default":"deny","hide":["sample"],"tools":{
  "echo": {},
  "slow": {"timeout": "100ms"},
  "UpdateUser": {},
  "DeleteUser": {"action":"deny","on_deny":"deleting users is not allowed"},
  "add": {"limits":[{"counter":"add","window":"hour","max":1,"scope":"session"}]}
}}`

func newAuditedGateway(t *testing.T, rec *recorder, mode audit.ArgsMode) (*testpeer.EchoServer, *mcp.ClientSession) {
	t.Helper()
	echo := testpeer.GoEchoServer()
	rec.upstream = func() int { return len(echo.Executed()) }
	eng, err := policy.Load([]byte(auditPolicy), "policy.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Policy: eng, Logger: quietLogger(), Audit: rec, AuditArgs: mode})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() {
		ts.Close()
		gw.Close()
	})
	ctx := testContext(t)
	cs := connect(t, ctx, ts.URL+"/mcp", nil)
	toolNames(t, ctx, cs)
	return echo, cs
}

func TestAuditDecisionsAndOutcomes(t *testing.T) {
	ctx := testContext(t)
	rec := &recorder{}
	echo, cs := newAuditedGateway(t, rec, "")
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	call("echo", map[string]any{"message": "hello"})
	call("DeleteUser", map[string]any{"user_id": "user_1"})
	call("add", map[string]any{"a": 1, "b": 2})
	call("add", map[string]any{"a": 1, "b": 2})
	call("sample", map[string]any{"prompt": "x"})

	got := rec.all()
	type want struct {
		kind     audit.Kind
		tool     string
		decision audit.Decision
		outcome  audit.Outcome
	}
	wants := []want{
		{audit.KindDecision, "echo", audit.Allowed, ""},
		{audit.KindOutcome, "echo", "", audit.OutcomeOK},
		{audit.KindDecision, "DeleteUser", audit.Denied, ""},
		{audit.KindDecision, "add", audit.Allowed, ""},
		{audit.KindOutcome, "add", "", audit.OutcomeOK},
		{audit.KindDecision, "add", audit.RateLimited, ""},
		{audit.KindDecision, "sample", audit.Hidden, ""},
	}
	if len(got) != len(wants) {
		for _, r := range got {
			t.Logf("%s %s %s %s", r.e.Kind, r.e.Tool, r.e.Decision, r.e.Outcome)
		}
		t.Fatalf("%d events, want %d", len(got), len(wants))
	}
	upstreamBefore := 0
	for i, w := range wants {
		e := got[i].e
		if e.Kind != w.kind || e.Tool != w.tool || e.Decision != w.decision || e.Outcome != w.outcome {
			t.Errorf("event %d: %s %s %s %s, want %+v", i, e.Kind, e.Tool, e.Decision, e.Outcome, w)
		}
		switch e.Kind {
		case audit.KindDecision:
			// Durable (Append) and before the upstream saw the call.
			if !got[i].waited || got[i].upstream != upstreamBefore {
				t.Errorf("event %d: waited=%v, upstream had %d calls, want %d", i, got[i].waited, got[i].upstream, upstreamBefore)
			}
			if e.Session == "" || !strings.HasPrefix(e.Session, "s-") || e.Subject != "anonymous" || e.Method != "tools/call" || e.Server != "echo" || e.RequestID == "" {
				t.Errorf("event %d: %+v", i, e)
			}
			if len(e.PolicyVersion) != 64 || e.Rule == "" || e.ArgsMode != audit.ArgsRedacted {
				t.Errorf("event %d: policy version %q, rule %q, args mode %q", i, e.PolicyVersion, e.Rule, e.ArgsMode)
			}
		case audit.KindOutcome:
			upstreamBefore++
			if e.Ref != got[i-1].e.ID || e.ResultBytes == 0 || got[i].waited {
				t.Errorf("event %d: ref %q (want %q), %d result bytes, waited %v", i, e.Ref, got[i-1].e.ID, e.ResultBytes, got[i].waited)
			}
		}
	}
	if got[2].e.Rule != "/tools/DeleteUser" || got[2].e.Reason != "deleting users is not allowed" {
		t.Errorf("denied event: rule %q reason %q", got[2].e.Rule, got[2].e.Reason)
	}
	if n := len(echo.Executed()); n != 2 {
		t.Errorf("the upstream executed %d calls, want 2", n)
	}
}

// TestAuditFailureRefusesCall: a decision that cannot be auditRecord is not
// forwarded, and its quota is given back.
func TestAuditFailureRefusesCall(t *testing.T) {
	ctx := testContext(t)
	rec := &recorder{}
	echo, cs := newAuditedGateway(t, rec, "")
	rec.fail.Store(true)
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err == nil || !strings.Contains(err.Error(), "audit log could not record") {
		t.Fatalf("call with the audit log down: %v", err)
	}
	if n := len(echo.Executed()); n != 0 {
		t.Fatalf("the upstream executed %d calls", n)
	}
	// A denial stays a denial.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "u"}})
	if err != nil || !res.IsError {
		t.Fatalf("denied call: %v %+v", err, res)
	}
	rec.fail.Store(false)
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err != nil || res.IsError {
		t.Fatalf("the refused call's quota was not given back: %v %+v", err, res)
	}
}

func TestAuditArgsModes(t *testing.T) {
	args := map[string]any{"user_id": "user_1", "password": "pw-Secret-123", "totp_secret": "JBSWY3DPEHPK3PXP",
		"backup_codes": []any{"code-aaa", "code-bbb"}, "password_digest": "$2a$10$digestdigest"}
	secrets := []string{"pw-Secret-123", "JBSWY3DPEHPK3PXP", "code-aaa", "code-bbb", "digestdigest"}
	tests := []struct {
		mode        audit.ArgsMode
		want        string
		leaksSecret bool
	}{
		{audit.ArgsKeys, `["backup_codes","password","password_digest","totp_secret","user_id"]`, false},
		{audit.ArgsRedacted, `{"backup_codes":"[REDACTED]","password":"[REDACTED]","password_digest":"[REDACTED]","totp_secret":"[REDACTED]","user_id":"user_1"}`, false},
		{audit.ArgsFull, "", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			ctx := testContext(t)
			rec := &recorder{}
			_, cs := newAuditedGateway(t, rec, tt.mode)
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: args}); err != nil {
				t.Fatal(err)
			}
			got := rec.all()
			if len(got) == 0 {
				t.Fatal("no event")
			}
			e := got[0].e
			if tt.want != "" && string(e.Args) != tt.want {
				t.Errorf("args %s\nwant %s", e.Args, tt.want)
			}
			all, _ := json.Marshal(got[0].e)
			for _, s := range secrets {
				if strings.Contains(string(all), s) != tt.leaksSecret {
					t.Errorf("secret %q in the event: %v, want %v", s, !tt.leaksSecret, tt.leaksSecret)
				}
			}
		})
	}
}

// TestAuditOutcomes classifies what the upstream did.
func TestAuditOutcomes(t *testing.T) {
	ctx := testContext(t)
	rec := &recorder{}
	_, cs := newAuditedGateway(t, rec, "")
	tests := []struct {
		name string
		args map[string]any
		want audit.Outcome
	}{
		{"slow", map[string]any{"ms": 1}, audit.OutcomeOK},
		{"slow", map[string]any{"ms": 5000}, audit.OutcomeTimeout},
		// Refused by the tool's inputSchema: no outcome.
		{"slow", map[string]any{"ms": "not a number"}, ""},
	}
	for _, tt := range tests {
		before := len(rec.all())
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: tt.name, Arguments: tt.args})
		got := rec.all()[before:]
		if tt.want == "" {
			if len(got) != 1 || got[0].e.Decision != audit.InvalidArgs {
				t.Fatalf("%v: %d events", tt.args, len(got))
			}
			continue
		}
		if len(got) != 2 || got[1].e.Kind != audit.KindOutcome {
			t.Fatalf("%v: %d events", tt.args, len(got))
		}
		if o := got[1].e.Outcome; o != tt.want {
			t.Errorf("%v: outcome %q, want %q (error %q)", tt.args, o, tt.want, got[1].e.Error)
		}
	}
}

// TestAuditPolicyEvents: loading and refusing a policy are admin events.
func TestAuditPolicyEvents(t *testing.T) {
	rec := &recorder{}
	gw, err := gateway.New(&gateway.Options{Logger: quietLogger(), Audit: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(allowAll), 0o600); err != nil {
		t.Fatal(err)
	}
	pf := gateway.NewNamedPolicyFile(gw, "support", path, nil)
	if err := pf.Load(); err != nil {
		t.Fatal(err)
	}
	if err := pf.ReplaceAs([]byte(`{"version":"2"}`), "ops@example.com"); err == nil {
		t.Fatal("an invalid policy was accepted")
	}
	got := rec.all()
	if len(got) != 2 {
		t.Fatalf("%d events", len(got))
	}
	loaded, refused := got[0].e, got[1].e
	sum := sha256.Sum256([]byte(allowAll))
	if loaded.Kind != audit.KindAdmin || loaded.Action != audit.ActionPolicyLoaded || loaded.Target != "support" || loaded.Actor != "toolgate" ||
		loaded.Detail != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("loaded: %+v", loaded)
	}
	if refused.Action != audit.ActionPolicyRefused || refused.Actor != "ops@example.com" || !strings.Contains(refused.Detail, "version") {
		t.Errorf("refused: %+v", refused)
	}
}

// TestAuditApprovalDecided: a human's decision is an admin event, and the
// call it released is recorded as approved.
func TestAuditApprovalDecided(t *testing.T) {
	ctx := testContext(t)
	rec := &recorder{}
	env := newApprovalsEnv(t, fmt.Sprintf(approvePolicy, "30s"), approval.NewManager(approval.NewMemoryStore(), nil), rec)
	done := make(chan error, 1)
	go func() {
		_, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "user_1"}})
		done <- err
	}()
	id, _ := env.pending(t)["id"].(string)
	if code := env.decide(t, id, "approve", "ticket 42"); code != 200 {
		t.Fatalf("approve: HTTP %d", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var admin, dec *audit.Event
	for _, r := range rec.all() {
		switch r.e.Kind {
		case audit.KindAdmin:
			admin = r.e
		case audit.KindDecision:
			dec = r.e
		}
	}
	if admin == nil || admin.Action != audit.ActionApprovalDecided || admin.Actor != "alice" || admin.Target != id || admin.Detail != "approved: ticket 42" {
		t.Errorf("admin event: %+v", admin)
	}
	if dec == nil || dec.Decision != audit.Approved || dec.ApprovalID != id {
		t.Errorf("decision event: %+v", dec)
	}
}
