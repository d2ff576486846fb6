package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/enforce"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/scan"
)

// callToolParams is what the gateway reads of tools/call params.
type callToolParams struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

func (s *session) lookupTool(name string) (*toolEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tools[name]
	return t, s.toolsComplete
}

// callTool checks a tools/call against the policy and forwards it only when
// every check passes. A refusal is a tool result with isError set, so the
// agent reads why.
func (s *session) callTool(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool) []byte {
	// One pass over the params: the name, and the arguments decoded for
	// the policy's checks.
	var p callToolParams
	if err := json.Unmarshal(req.Params, &p); err != nil {
		msg := "tools/call: params must be an object with a string name"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.HasPrefix(te.Field, "arguments") {
			msg = "tools/call: arguments must be an object"
		}
		// p.Name may hold the name when only the arguments were wrong.
		s.auditRefusal(ctx, req, audit.InvalidRequest, p.Name, nil, msg)
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, msg))
	}
	if p.Name == "" {
		const msg = "tools/call: name is required"
		s.auditRefusal(ctx, req, audit.InvalidRequest, "", nil, msg)
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, msg))
	}
	start := time.Now()
	tool, complete := s.lookupTool(p.Name)
	if tool == nil && !complete {
		s.loadTools(ctx)
		tool, _ = s.lookupTool(p.Name)
	}
	if tool == nil {
		// Someone guessing tool names shows in the audit log.
		msg := fmt.Sprintf("unknown tool %q", p.Name)
		s.auditRefusal(ctx, req, audit.UnknownName, p.Name, p.Arguments, msg)
		return s.toolError(req.ID, msg)
	}
	slot := s.ups[tool.up]
	call := &toolgate.Call{
		Tool:       p.Name,
		Server:     slot.srv.Name,
		Categories: tool.info.categories,
		Args:       p.Arguments,
		Identity:   s.ident,
		Session:    s.label,
	}
	// The retry of a call that asked for input (mrtr.go) carries the
	// gateway's requestState: checked before anything is judged.
	var cont *requestState
	if raw, ok := retryState(req.Params); ok && s.stateless {
		st, rerr := s.g.unwrapState(raw, s.ident.Grant, p.Name, p.Arguments)
		if rerr != nil {
			s.auditRefusal(ctx, req, audit.InvalidRequest, p.Name, p.Arguments, rerr.Message)
			return encodeResponse(req.ID, nil, rerr)
		}
		cont, call.Continues = st, st.First
	}
	eng := s.g.policyFor(s.ident) // one policy decides the call and bounds its wait
	// While the call may wait for a human, the client's progress token
	// gets progress from the gateway, and a notifications/cancelled for
	// the request ends the wait.
	checkCtx, stopWaiting := context.WithCancel(ctx)
	h := &hold{token: progressToken(req.Params), send: func(raw []byte) {
		if emit == nil || !emit(raw) {
			s.push(raw)
		}
	}}
	key := idKey(req.ID)
	s.mu.Lock()
	s.waiting[key] = stopWaiting
	s.mu.Unlock()
	v := s.g.pipeline.Check(withHold(checkCtx, h), eng, call, s.g.enforceTool(tool))
	s.mu.Lock()
	delete(s.waiting, key)
	s.mu.Unlock()
	stopWaiting()
	d := v.Decision
	if d.Kind == toolgate.KindPoisoned {
		s.logPoisonedCall(tool)
	}
	if n := h.sent.Load(); n > 0 && h.token != nil {
		// The upstream's own progress on the token comes after the
		// gateway's: shift it so that the values keep increasing.
		tk := tokenKey(h.token)
		s.mu.Lock()
		s.progressShift[tk] = float64(n)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.progressShift, tk)
			s.mu.Unlock()
		}()
	}
	// The decision is durable before the call goes anywhere.
	var dec *audit.Event
	if s.g.opts.Audit != nil {
		dec = s.decisionEvent(req, call, eng, d)
		dec.Continues = call.Continues
		if err := s.g.opts.Audit.Append(ctx, dec); err != nil {
			s.g.log.Error("recording the decision in the audit log failed", "session", s.logID(), "tool", p.Name, "allowed", d.Allowed(), "err", err)
			if d.Allowed() {
				if err := v.Rollback(ctx); err != nil {
					s.g.log.Warn("giving back rate-limit quota failed", "tool", p.Name, "err", err)
				}
				return encodeResponse(req.ID, nil, rpcError(codeUnavailable, "the audit log could not record this call, so it was not forwarded; try again later"))
			}
		}
	}
	if !d.Allowed() {
		s.g.log.Info("tools/call denied", "session", s.logID(), "tool", p.Name, "rule", d.Rule, "kind", d.Kind, "reason", d.Reason)
		return encodeResponse(req.ID, deniedResult(d), nil)
	}
	if d.Kind == toolgate.KindShadowDenied {
		// A check in shadow mode would have refused the call: record the
		// would-be denial and forward the call unchanged.
		s.g.log.Info("tools/call shadow denied", "session", s.logID(), "tool", p.Name, "decision", d.Kind,
			"rule", d.Rule, "shadow_kind", d.ShadowKind, "reason", d.Reason)
	} else if s.g.log.Enabled(ctx, slog.LevelDebug) {
		s.g.log.Debug("tools/call allowed", "session", s.logID(), "tool", p.Name, "rule", d.Rule)
	}
	if tool.name != p.Name {
		// Strip the prefix: the upstream knows the tool by its own name.
		var params map[string]json.RawMessage
		if err := json.Unmarshal(req.Params, &params); err != nil {
			s.auditOutcome(ctx, dec, audit.OutcomeNotForwarded, "params must be an object", time.Since(start), 0, 0)
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "tools/call: params must be an object"))
		}
		params["name"], _ = json.Marshal(tool.name)
		var err error
		if req, err = withParams(req, params); err != nil {
			s.auditOutcome(ctx, dec, audit.OutcomeNotForwarded, "internal error", time.Since(start), 0, 0)
			return encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error"))
		}
	}
	if cont != nil {
		// The upstream gets its own requestState back.
		params, err := withRequestState(req.Params, cont.Upstream)
		if err != nil {
			s.auditOutcome(ctx, dec, audit.OutcomeNotForwarded, "params must be an object", time.Since(start), 0, 0)
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "tools/call: params must be an object"))
		}
		req = &jsonrpc.Request{ID: req.ID, Method: req.Method, Params: params}
	}
	sent := time.Now()
	resp, rerr, st, cause := s.exchange(ctx, tool.up, req, emit, eng.Timeout(p.Name, call.Categories))
	upstream := time.Since(sent)
	if st == exFailed {
		// The call never reached a working upstream: its quota goes back.
		if err := v.Rollback(ctx); err != nil {
			s.g.log.Warn("giving back rate-limit quota failed", "tool", p.Name, "err", err)
		}
	} else if v.Counted() && rerr != nil {
		// Intercept's counters count the calls the upstream answered
		// with a result: a JSON-RPC error gives the amount back.
		if err := v.ReleaseCounters(ctx); err != nil {
			s.g.log.Warn("giving back counters failed", "tool", p.Name, "err", err)
		}
	}
	if dec != nil {
		o, msg, size := outcomeOf(resp, rerr, st)
		s.auditOutcome(ctx, dec, o, msg, sent.Sub(start), upstream, size)
	}
	if st == exFailed {
		return unavailableResult(req.ID, slot.srv.Name, cause)
	}
	if rerr != nil {
		return encodeResponse(req.ID, nil, rerr)
	}
	if upState, ok := inputRequired(resp.Result); ok && s.stateless {
		return encodeResponse(req.ID, s.linkInputRound(resp.Result, upState, call, dec), nil)
	}
	return encodeResponse(req.ID, resp.Result, nil)
}

// linkInputRound replaces the upstream's requestState in a result that
// asks for input with the gateway's (mrtr.go), which names the first call.
func (s *session) linkInputRound(result json.RawMessage, upState string, call *toolgate.Call, dec *audit.Event) json.RawMessage {
	first := call.Continues
	if first == "" && dec != nil {
		first = dec.ID
	}
	if first == "" {
		first = newSessionID() // no audit log: a link all the same
	}
	var r map[string]json.RawMessage
	if json.Unmarshal(result, &r) != nil {
		return result
	}
	grant := ""
	if call.Identity != nil {
		grant = call.Identity.Grant
	}
	r["requestState"], _ = json.Marshal(s.g.wrapState(requestState{First: first, Grant: grant, Tool: call.Tool, Upstream: upState, Args: argsDigest(call.Args)}))
	out, err := json.Marshal(r)
	if err != nil {
		return result
	}
	return out
}

// auditOutcome records what became of the call whose decision event is
// dec (nothing when dec is nil: no audit log). It does not wait for the
// event to be written: the answer is not held up for it.
func (s *session) auditOutcome(ctx context.Context, dec *audit.Event, o audit.Outcome, msg string, gatewayTime, upstreamTime time.Duration, size int) {
	if dec == nil {
		return
	}
	if err := s.g.opts.Audit.Enqueue(context.WithoutCancel(ctx), outcomeEvent(dec, o, msg, gatewayTime, upstreamTime, size)); err != nil {
		s.g.log.Error("recording a call's outcome in the audit log failed", "session", s.logID(), "tool", dec.Tool, "decision", dec.ID, "err", err)
	}
}

func (s *session) toolError(id jsonrpc.ID, text string) []byte {
	res, _ := json.Marshal(map[string]any{
		"content": []map[string]string{{"type": "text", "text": text}},
		"isError": true,
	})
	return encodeResponse(id, res, nil)
}

// decisionMeta is the machine-readable decision in _meta["toolgate/decision"].
type decisionMeta struct {
	Action       toolgate.Action `json:"action"`
	Rule         string          `json:"rule"`
	Kind         toolgate.Kind   `json:"kind"`
	Reason       string          `json:"reason,omitempty"`
	RetryAfterMS int64           `json:"retry_after_ms,omitempty"`
	ApprovalID   string          `json:"approval_id,omitempty"`
	// ApprovalPending: the approval still waits for a human; the same
	// call made again once it is approved goes through.
	ApprovalPending bool `json:"approval_pending,omitempty"`
}

// deniedResult is the CallToolResult an agent gets for a refused call.
func deniedResult(d toolgate.Decision) json.RawMessage {
	tag := "[POLICY DENIED] "
	if d.ApprovalPending {
		tag = "[APPROVAL PENDING] "
	}
	res := map[string]any{
		"content": []map[string]string{{"type": "text", "text": tag + d.Reason}},
		"isError": true,
		"_meta": map[string]any{"toolgate/decision": decisionMeta{
			Action: d.Action, Rule: d.Rule, Kind: d.Kind, Reason: d.Reason,
			RetryAfterMS: d.RetryAfter.Milliseconds(), ApprovalID: d.ApprovalID,
			ApprovalPending: d.ApprovalPending,
		}},
	}
	b, _ := json.Marshal(res)
	return b
}

// routeByName sends prompts/get to the upstream whose prefix the name carries.
func (s *session) routeByName(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool, capability string) []byte {
	var params map[string]json.RawMessage
	var name string
	if json.Unmarshal(req.Params, &params) != nil || json.Unmarshal(params["name"], &name) != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "params.name must be a string"))
	}
	var args map[string]any
	if raw, ok := params["arguments"]; ok {
		// Arguments that are not an object are the upstream's to refuse;
		// the audit log records none.
		_ = json.Unmarshal(raw, &args)
	}
	up, local := s.byPrefix(name, capability)
	if up < 0 {
		msg := fmt.Sprintf("unknown name %q", name)
		s.auditRefusal(ctx, req, audit.UnknownName, name, args, msg)
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, msg))
	}
	if capability == "prompts" {
		if resp := s.refusePoisoned(ctx, req, emit, "prompt:"+name, name, args); resp != nil {
			return resp
		}
	}
	if local != name {
		params["name"], _ = json.Marshal(local)
		nreq, err := withParams(req, params)
		if err != nil {
			return encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error"))
		}
		req = nreq
	}
	return s.forwardRecorded(ctx, up, req, emit, args, func(e *audit.Event) { e.Prompt = name })
}

// byPrefix finds the upstream offering capability whose prefix starts name
// (the longest prefix wins) and returns the name without it.
func (s *session) byPrefix(name, capability string) (int, string) {
	best, bestLen := -1, -1
	for _, u := range s.ups {
		if u.ok() && u.init.has(capability) && strings.HasPrefix(name, u.srv.Prefix) && len(u.srv.Prefix) > bestLen {
			best, bestLen = u.idx, len(u.srv.Prefix)
		}
	}
	if best < 0 {
		return -1, ""
	}
	return best, name[bestLen:]
}

func (s *session) forwardRewritten(ctx context.Context, up int, req *jsonrpc.Request, params map[string]json.RawMessage, emit func([]byte) bool) []byte {
	nreq, err := withParams(req, params)
	if err != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error"))
	}
	return s.forward(ctx, up, nreq, emit)
}

// withParams returns req with params in place of its own.
func withParams(req *jsonrpc.Request, params map[string]json.RawMessage) (*jsonrpc.Request, error) {
	np, err := json.Marshal(params)
	if err != nil {
		return req, fmt.Errorf("encoding params: %w", err)
	}
	return &jsonrpc.Request{ID: req.ID, Method: req.Method, Params: np}, nil
}

// routeByURI sends resources/read and (un)subscribe to the upstream that
// listed the URI, or else the first one offering resources.
func (s *session) routeByURI(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool) []byte {
	var p struct {
		URI string `json:"uri"`
	}
	if json.Unmarshal(req.Params, &p) != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "params.uri must be a string"))
	}
	if req.Method != "resources/unsubscribe" {
		if resp := s.refusePoisoned(ctx, req, emit, "resource:"+p.URI, p.URI, nil); resp != nil {
			return resp
		}
	}
	up := s.upForURI(p.URI)
	if req.Method == "resources/read" {
		// What the agent read shows in the audit log.
		return s.forwardRecorded(ctx, up, req, emit, nil, func(e *audit.Event) { e.Resource = p.URI })
	}
	return s.forward(ctx, up, req, emit)
}

func (s *session) upForURI(uri string) int {
	s.mu.Lock()
	up, ok := s.resources[uri]
	s.mu.Unlock()
	if ok {
		return up
	}
	for _, u := range s.ups {
		if u.ok() && u.init.has("resources") {
			return u.idx
		}
	}
	return 0
}

// routeCompletion sends completion/complete where its reference points.
func (s *session) routeCompletion(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool) []byte {
	var params map[string]json.RawMessage
	var ref struct {
		Type string `json:"type"`
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	if json.Unmarshal(req.Params, &params) != nil || json.Unmarshal(params["ref"], &ref) != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "params.ref must be an object"))
	}
	if ref.Type == "ref/prompt" {
		up, local := s.byPrefix(ref.Name, "prompts")
		if up < 0 {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, fmt.Sprintf("unknown prompt %q", ref.Name)))
		}
		if local != ref.Name {
			var r map[string]json.RawMessage
			_ = json.Unmarshal(params["ref"], &r)
			r["name"], _ = json.Marshal(local)
			params["ref"], _ = json.Marshal(r)
			return s.forwardRewritten(ctx, up, req, params, emit)
		}
		return s.forward(ctx, up, req, emit)
	}
	return s.forward(ctx, s.upForURI(ref.URI), req, emit)
}

// schemaCache compiles each distinct upstream input schema once.
type schemaCache struct {
	mu sync.Mutex
	m  map[string]*schemaEntry
}

type schemaEntry struct {
	sch    *policy.Schema  // nil when the schema does not compile
	params *enforce.Params // every property name the schema declares
}

// get returns the compiled schema and its parameter names. A schema that
// does not compile is not enforced (the problem is logged once); its
// parameter names still are.
func (c *schemaCache) get(raw json.RawMessage, g *Gateway) *schemaEntry {
	c.mu.Lock()
	e, ok := c.m[string(raw)] // no copy of the schema for the lookup
	c.mu.Unlock()
	if ok {
		return e
	}
	key := string(raw)
	e = &schemaEntry{}
	var err error
	if e.sch, err = policy.CompileSchema(raw); err != nil {
		g.log.Warn("an upstream input schema does not compile; it is not enforced", "err", err)
		e.sch = nil
	}
	var doc any
	_ = json.Unmarshal(raw, &doc)
	e.params = enforce.NewParams(doc)
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]*schemaEntry{}
	}
	c.m[key] = e
	c.mu.Unlock()
	return e
}

// enforceTool is what the enforcement pipeline needs to know of a tool.
func (g *Gateway) enforceTool(t *toolEntry) *enforce.Tool {
	et := &enforce.Tool{}
	if len(t.schema) > 0 {
		se := g.schemas.get(t.schema, g)
		et.InputSchema, et.Params = se.sch, se.params
	}
	if t.info.Pin == nil || t.info.Pin.Status != scan.PinUnchanged {
		et.PinProblem = pinReason(t.info)
	}
	poisoned := t.poisoned
	if poisoned == "" {
		poisoned = t.info.Poisoned
	}
	if poisoned != "" && g.opts.Poisoned != PoisonedAllow {
		// The evidence quotes the poisoned text: it goes to the log
		// (logPoisonedCall), never to the agent.
		et.Poisoned = poisonRefusal("tool")
	}
	return et
}
