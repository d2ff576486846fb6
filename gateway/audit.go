package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/internal/canonjson"
	"github.com/toolgate/toolgate/policy"
)

// Auditor is where the gateway records what it decides: an *audit.Log, or
// a recorder in tests.
type Auditor interface {
	// Append records e and returns once it is durable. The gateway calls
	// it with a call's decision before forwarding the call, and refuses
	// the call when it fails.
	Append(ctx context.Context, e *audit.Event) error
	// Enqueue records e without waiting for it to be written: the
	// outcome of a call, after its answer.
	Enqueue(ctx context.Context, e *audit.Event) error
}

// adminEventTimeout bounds the wait for an admin event to be recorded.
const adminEventTimeout = 5 * time.Second

// AuditAdmin records an administrative event (see audit.Admin); a failure
// is logged, since the change it records has already happened. It does
// nothing when the gateway has no Auditor.
func (g *Gateway) AuditAdmin(ctx context.Context, e *audit.Event) {
	if g.opts.Audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), adminEventTimeout)
	defer cancel()
	if err := g.opts.Audit.Append(ctx, e); err != nil {
		g.log.Error("recording an admin event in the audit log failed", "action", e.Action, "target", e.Target, "err", err)
	}
}

// decisionEvent is the audit event of the pipeline's decision d on call.
func (s *session) decisionEvent(req *jsonrpc.Request, call *toolgate.Call, eng *policy.Engine, d toolgate.Decision) *audit.Event {
	e := &audit.Event{
		Kind:          audit.KindDecision,
		RequestID:     requestID(req.ID),
		Session:       s.logID(),
		Server:        call.Server,
		Method:        req.Method,
		Tool:          call.Tool,
		PolicyVersion: eng.Digest(),
		Decision:      audit.DecisionOf(d),
		DecisionKind:  d.Kind,
		ShadowKind:    d.ShadowKind,
		Rule:          d.Rule,
		Reason:        d.Reason,
		ApprovalID:    d.ApprovalID,
		ArgsMode:      s.g.opts.AuditArgs,
	}
	if id := call.Identity; id != nil {
		e.Grant, e.Labels, e.Subject, e.Policy = id.Grant, id.Labels, id.Subject, id.Policy
	}
	if req.Method != "tools/call" && call.Args == nil {
		// resources/read, or a prompt given no arguments: there are none
		// to record.
		e.ArgsMode = ""
		return e
	}
	var raw json.RawMessage
	if e.ArgsMode == audit.ArgsFull {
		raw = rawArguments(req.Params)
	}
	e.Args = audit.Args(e.ArgsMode, call.Args, raw, eng.Redactor(call.Tool, call.Categories))
	return e
}

// outcomeEvent is the audit event of what became of the call decided by
// dec.
func outcomeEvent(dec *audit.Event, o audit.Outcome, errMsg string, gatewayTime, upstreamTime time.Duration, result int) *audit.Event {
	return &audit.Event{
		Kind: audit.KindOutcome, Ref: dec.ID,
		RequestID: dec.RequestID, Session: dec.Session, Grant: dec.Grant, Subject: dec.Subject,
		Server: dec.Server, Method: dec.Method, Tool: dec.Tool,
		Outcome: o, Error: errMsg,
		GatewayMicros: gatewayTime.Microseconds(), UpstreamMicros: upstreamTime.Microseconds(),
		ResultBytes: int64(result),
	}
}

// outcomeOf classifies what the upstream exchange gave.
func outcomeOf(resp *jsonrpc.Response, rerr *jsonrpc.Error, st exchangeStatus) (audit.Outcome, string, int) {
	switch st {
	case exFailed:
		return audit.OutcomeUnavailable, errText(rerr), 0
	case exTimeout:
		return audit.OutcomeTimeout, errText(rerr), 0
	case exCancelled:
		return audit.OutcomeCancelled, errText(rerr), 0
	}
	if rerr != nil {
		return audit.OutcomeProtocolError, errText(rerr), 0
	}
	if isToolError(resp.Result) {
		return audit.OutcomeToolError, "", len(resp.Result)
	}
	return audit.OutcomeOK, "", len(resp.Result)
}

func errText(e *jsonrpc.Error) string {
	if e == nil {
		return ""
	}
	return e.Message
}

// isToolError reports whether a tools/call result has isError set. Most
// results do not mention isError, and are not decoded again.
func isToolError(result json.RawMessage) bool {
	if !bytes.Contains(result, []byte(`"isError"`)) {
		return false
	}
	var r struct {
		IsError bool `json:"isError"`
	}
	return json.Unmarshal(result, &r) == nil && r.IsError
}

// requestID is the JSON of a request's id.
func requestID(id jsonrpc.ID) string {
	b, err := json.Marshal(id.Raw())
	if err != nil {
		return ""
	}
	return string(b)
}

// rawArguments returns the arguments member of tools/call params as
// received (canonical: the front re-encoded the message), or nil.
func rawArguments(params json.RawMessage) json.RawMessage {
	var out json.RawMessage
	_ = canonjson.EachMember(params, func(key, value []byte) error {
		if string(key) == "arguments" {
			out = value
		}
		return nil
	})
	return out
}

// passThrough is the decision on a request the policy does not govern
// (resources/read, prompts/get): it passes through, and no policy section
// applies to it.
var passThrough = toolgate.Decision{Action: toolgate.Allow, Rule: policy.RuleNoPolicy}

// forwardRecorded forwards req, a request the policy does not govern, to
// upstream up, and records it in the audit log as a tools/call is: a
// decision event (passThrough; name adds what was read to it), committed
// before the request leaves, and an outcome event after the answer. A
// request whose decision cannot be recorded is refused (fail closed).
// args are the request's arguments to record (nil for none).
func (s *session) forwardRecorded(ctx context.Context, up int, req *jsonrpc.Request, emit func([]byte) bool, args map[string]any, name func(*audit.Event)) []byte {
	if s.g.opts.Audit == nil {
		return s.forward(ctx, up, req, emit)
	}
	start := time.Now()
	call := &toolgate.Call{Server: s.ups[up].srv.Name, Args: args, Identity: s.ident, Session: s.label}
	dec := s.decisionEvent(req, call, s.g.policyFor(s.ident), passThrough)
	name(dec)
	if err := s.g.opts.Audit.Append(ctx, dec); err != nil {
		s.g.log.Error("recording a request in the audit log failed", "session", s.logID(), "method", req.Method, "err", err)
		return encodeResponse(req.ID, nil, rpcError(codeUnavailable, "the audit log could not record this request, so it was not forwarded; try again later"))
	}
	sent := time.Now()
	resp, rerr, st, _ := s.exchange(ctx, up, req, emit, 0)
	upstream := time.Since(sent)
	o, msg, size := outcomeOf(resp, rerr, st)
	s.auditOutcome(ctx, dec, o, msg, sent.Sub(start), upstream, size)
	if rerr != nil {
		return encodeResponse(req.ID, nil, rerr)
	}
	return encodeResponse(req.ID, resp.Result, nil)
}

// auditRefusal records a request refused before the enforcement pipeline
// could judge it (an unknown name, unreadable params): decision says why
// in one word, reason in the words the client got. The refusal stands
// whether or not it could be recorded. name is the tool or prompt as the
// request gave it, args its arguments (nil when unreadable).
func (s *session) auditRefusal(ctx context.Context, req *jsonrpc.Request, decision audit.Decision, name string, args map[string]any, reason string) {
	if s.g.opts.Audit == nil {
		return
	}
	call := &toolgate.Call{Args: args, Identity: s.ident, Session: s.label}
	if req.Method == "tools/call" {
		call.Tool = name
	}
	e := s.decisionEvent(req, call, s.g.policyFor(s.ident), toolgate.Decision{Action: toolgate.Deny, Reason: reason})
	e.Decision = decision
	switch req.Method {
	case "prompts/get":
		e.Prompt = name
	case "resources/read", "resources/subscribe":
		e.Resource = name
	}
	if args == nil {
		e.ArgsMode, e.Args = "", nil
	}
	if err := s.g.opts.Audit.Append(ctx, e); err != nil {
		s.g.log.Error("recording a refused request in the audit log failed", "session", s.logID(), "method", req.Method, "decision", decision, "err", err)
	}
}
