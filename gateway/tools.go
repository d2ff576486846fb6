package gateway

import (
	"context"
	"encoding/base64"
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

// listKind describes one of the paginated list methods the gateway merges.
type listKind struct {
	method     string
	field      string // the array in the result
	capability string
	prefixed   bool   // item names carry the server prefix
	uriKey     string // items' URI field, remembered for routing
}

var (
	listToolsKind = listKind{method: "tools/list", field: "tools", capability: "tools", prefixed: true}
	listPrompts   = listKind{method: "prompts/list", field: "prompts", capability: "prompts", prefixed: true}
	listResources = listKind{method: "resources/list", field: "resources", capability: "resources", uriKey: "uri"}
	listTemplates = listKind{method: "resources/templates/list", field: "resourceTemplates", capability: "resources"}
)

// gatewayCursor is the pagination cursor when several upstreams are merged:
// which upstream the next page comes from, and that upstream's own cursor.
type gatewayCursor struct {
	Up     int    `json:"u"`
	Cursor string `json:"c,omitempty"`
}

func encodeCursor(c gatewayCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (gatewayCursor, error) {
	var c gatewayCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Up < 0 {
		return c, fmt.Errorf("invalid cursor")
	}
	return c, nil
}

// list answers one of the list methods: one upstream's page (names
// prefixed, tools filtered by the policy), with a cursor that walks the
// upstreams in order.
func (s *session) list(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool, kind listKind) []byte {
	var params map[string]json.RawMessage
	if len(req.Params) > 0 && string(req.Params) != "null" {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "params must be an object"))
		}
	}
	var cursor string
	if c, ok := params["cursor"]; ok {
		if err := json.Unmarshal(c, &cursor); err != nil {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "cursor must be a string"))
		}
	}
	var cands []int
	for _, u := range s.ups {
		if u.ok() && u.init.has(kind.capability) {
			cands = append(cands, u.idx)
		}
	}
	if len(cands) == 0 {
		return encodeResponse(req.ID, json.RawMessage(`{"`+kind.field+`":[]}`), nil)
	}
	single := len(s.ups) == 1
	if single && kind.method != "tools/list" && s.ups[0].srv.Prefix == "" {
		return s.forward(ctx, 0, req, emit)
	}
	gc := gatewayCursor{Up: cands[0], Cursor: cursor}
	if !single && cursor != "" {
		var err error
		if gc, err = decodeCursor(cursor); err != nil {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "invalid cursor"))
		}
		if gc.Up >= len(s.ups) || !s.ups[gc.Up].ok() {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "invalid cursor"))
		}
	}
	if params == nil {
		params = map[string]json.RawMessage{}
	}
	if gc.Cursor != "" {
		params["cursor"], _ = json.Marshal(gc.Cursor)
	} else {
		delete(params, "cursor")
	}
	upReq, err := withParams(req, params)
	if err != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error"))
	}
	resp, rerr, _ := s.exchange(ctx, gc.Up, upReq, emit, 0)
	if rerr != nil {
		return encodeResponse(req.ID, nil, rerr)
	}
	result, next, err := s.rewriteList(gc.Up, resp.Result, kind)
	if err != nil {
		s.g.log.Error("upstream sent an unreadable list", "server", s.ups[gc.Up].srv.Name, "method", kind.method, "err", err)
		return encodeResponse(req.ID, nil, rpcError(codeInternal, "upstream "+s.ups[gc.Up].srv.Name+" sent an unreadable "+kind.method+" result"))
	}
	// Point the cursor at the next page: this upstream's, or the next upstream's first.
	if single {
		setCursor(result, next)
	} else if next != "" {
		setCursor(result, encodeCursor(gatewayCursor{Up: gc.Up, Cursor: next}))
	} else {
		setCursor(result, "")
		for _, c := range cands {
			if c > gc.Up {
				setCursor(result, encodeCursor(gatewayCursor{Up: c}))
				break
			}
		}
	}
	out, err := json.Marshal(result)
	if err != nil {
		return encodeResponse(req.ID, nil, rpcError(codeInternal, "internal error"))
	}
	return encodeResponse(req.ID, out, nil)
}

func setCursor(result map[string]json.RawMessage, c string) {
	if c == "" {
		delete(result, "nextCursor")
		return
	}
	result["nextCursor"], _ = json.Marshal(c)
}

// rewriteList prefixes the items of one upstream's list result, leaves out
// tools the policy does not list, and records what routing needs.
func (s *session) rewriteList(up int, raw json.RawMessage, kind listKind) (map[string]json.RawMessage, string, error) {
	var result map[string]json.RawMessage
	if err := json.Unmarshal(raw, &result); err != nil {
		return nil, "", err
	}
	var next string
	if c, ok := result["nextCursor"]; ok && string(c) != "null" {
		if err := json.Unmarshal(c, &next); err != nil {
			return nil, "", fmt.Errorf("nextCursor: %w", err)
		}
	}
	var raws []json.RawMessage
	if f, ok := result[kind.field]; ok && string(f) != "null" {
		if err := json.Unmarshal(f, &raws); err != nil {
			return nil, "", fmt.Errorf("%s: %w", kind.field, err)
		}
	}
	slot := s.ups[up]
	eng := s.g.policyFor(s.ident)
	kept := make([]map[string]json.RawMessage, 0, len(raws))
	for _, raw := range raws {
		var it map[string]json.RawMessage
		if err := json.Unmarshal(raw, &it); err != nil || it == nil {
			s.g.log.Warn("upstream listed an item that is not an object", "server", slot.srv.Name, "method", kind.method)
			continue
		}
		if kind.prefixed {
			var name string
			if err := json.Unmarshal(it["name"], &name); err != nil || name == "" {
				s.g.log.Warn("upstream listed an item without a name", "server", slot.srv.Name, "method", kind.method)
				continue
			}
			full := slot.srv.Prefix + name
			if kind.method == "tools/list" {
				info, changes := s.g.catalog.observe(slot.srv.Name, raw)
				if len(changes) > 0 {
					s.g.log.Warn("tool definition differs from its pin", "server", slot.srv.Name, "tool", name, "changes", changes)
				}
				s.mu.Lock()
				prev, clash := s.tools[full]
				if clash && prev.up < up {
					// The server listed first in the configuration keeps
					// the name, whatever order the client lists in.
					s.mu.Unlock()
					s.flood.Warn("collision "+full, "tool name collision: keeping the tool of the server configured first",
						"tool", full, "kept", s.ups[prev.up].srv.Name, "dropped", slot.srv.Name)
					continue
				}
				s.tools[full] = &toolEntry{up: up, name: name, schema: it["inputSchema"], info: info}
				s.mu.Unlock()
				if eng == nil || !eng.Listed(full, info.categories) {
					continue
				}
			}
			if full != name {
				it["name"], _ = json.Marshal(full)
			}
		}
		if kind.uriKey != "" {
			var uri string
			if json.Unmarshal(it[kind.uriKey], &uri) == nil && uri != "" {
				s.mu.Lock()
				s.resources[uri] = up
				s.mu.Unlock()
			}
		}
		kept = append(kept, it)
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return nil, "", err
	}
	result[kind.field] = b
	return result, next, nil
}

// loadTools fetches every page of every upstream's tools into the catalog,
// for a call to a tool the client has not listed.
func (s *session) loadTools(ctx context.Context) {
	for _, u := range s.ups {
		if !u.ok() || !u.init.has("tools") {
			continue
		}
		cursor := ""
		for page := 0; page < 1000; page++ {
			params := json.RawMessage(`{}`)
			if cursor != "" {
				params, _ = json.Marshal(map[string]string{"cursor": cursor})
			}
			resp, err := u.call(ctx, "tools/list", params, nil)
			if err != nil || resp.Error != nil {
				s.g.log.Warn("listing upstream tools failed", "server", u.srv.Name, "err", err)
				break
			}
			_, next, err := s.rewriteList(u.idx, resp.Result, listToolsKind)
			if err != nil || next == "" {
				break
			}
			cursor = next
		}
	}
	s.mu.Lock()
	s.toolsComplete = true
	s.mu.Unlock()
}

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
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.HasPrefix(te.Field, "arguments") {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "tools/call: arguments must be an object"))
		}
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "tools/call: params must be an object with a string name"))
	}
	if p.Name == "" {
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "tools/call: name is required"))
	}
	start := time.Now()
	tool, complete := s.lookupTool(p.Name)
	if tool == nil && !complete {
		s.loadTools(ctx)
		tool, _ = s.lookupTool(p.Name)
	}
	if tool == nil {
		return s.toolError(req.ID, fmt.Sprintf("unknown tool %q", p.Name))
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
	if s.g.log.Enabled(ctx, slog.LevelDebug) {
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
	sent := time.Now()
	resp, rerr, st := s.exchange(ctx, tool.up, req, emit, eng.Timeout(p.Name, call.Categories))
	upstream := time.Since(sent)
	if st == exFailed {
		// The call never reached a working upstream: its quota goes back.
		if err := v.Rollback(ctx); err != nil {
			s.g.log.Warn("giving back rate-limit quota failed", "tool", p.Name, "err", err)
		}
	}
	if dec != nil {
		o, msg, size := outcomeOf(resp, rerr, st)
		s.auditOutcome(ctx, dec, o, msg, sent.Sub(start), upstream, size)
	}
	if rerr != nil {
		return encodeResponse(req.ID, nil, rerr)
	}
	return encodeResponse(req.ID, resp.Result, nil)
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
	up, local := s.byPrefix(name, capability)
	if up < 0 {
		return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, fmt.Sprintf("unknown name %q", name)))
	}
	if local != name {
		params["name"], _ = json.Marshal(local)
		return s.forwardRewritten(ctx, up, req, params, emit)
	}
	return s.forward(ctx, up, req, emit)
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
	return s.forward(ctx, s.upForURI(p.URI), req, emit)
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
	return et
}
