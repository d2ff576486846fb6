package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/toolgate/toolgate/scan"
)

// listKind describes one of the paginated list methods the gateway merges.
type listKind struct {
	method     string
	field      string // the array in the result
	capability string
	prefixed   bool   // item names carry the server prefix
	uriKey     string // items' URI field, remembered for routing
	noun       string // what the items are, for messages
}

var (
	listToolsKind = listKind{method: "tools/list", field: "tools", capability: "tools", prefixed: true, noun: "tools"}
	listPrompts   = listKind{method: "prompts/list", field: "prompts", capability: "prompts", prefixed: true, noun: "prompts"}
	listResources = listKind{method: "resources/list", field: "resources", capability: "resources", uriKey: "uri", noun: "resources"}
	listTemplates = listKind{method: "resources/templates/list", field: "resourceTemplates", capability: "resources", noun: "resource templates"}
)

// DefaultListPageSize is the ListPageSize of Options that set none: a
// merged list of up to this many items is answered in one page.
const DefaultListPageSize = 1000

// Bounds on reading one upstream's list, all its pages together: a server
// that keeps handing out cursors, or very large pages, cannot keep the
// gateway reading, nor make it hold more than this. The whole walk must
// also end within the server's timeout.
const (
	maxListPages = 100      // pages read from one upstream per listing
	maxListItems = 10000    // items kept from one upstream per listing
	maxListBytes = 32 << 20 // bytes of items kept from one upstream per listing
)

// listSnapshot is a merged list longer than one page, kept by the session
// so that the pages its cursors lead to come from the same listing.
type listSnapshot struct {
	id    string // random, named by the cursors into it
	items []json.RawMessage
}

// listCursor is what a gateway cursor says: the snapshot it points into
// and the offset of the next page. It is opaque to clients (base64url).
type listCursor struct {
	Snapshot string `json:"s"`
	Offset   int    `json:"o"`
}

func encodeCursor(c listCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = errors.New("invalid cursor")

func decodeCursor(s string) (listCursor, error) {
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Snapshot == "" || c.Offset <= 0 {
		return c, errBadCursor
	}
	return c, nil
}

// list answers one of the list methods with the items of every upstream
// the session reaches, merged in configuration order (names prefixed,
// tools filtered by the policy). The gateway follows each upstream's own
// cursors to collect all of its items, within bounds. Up to ListPageSize
// items are answered in one page; a longer list is kept as a snapshot and
// served in pages of that size, with cursors into the snapshot.
func (s *session) list(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool, kind listKind) []byte {
	var params map[string]json.RawMessage
	if len(req.Params) > 0 && string(req.Params) != "null" {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "params must be an object"))
		}
	}
	var cursor string
	if c, ok := params["cursor"]; ok && string(c) != "null" {
		if err := json.Unmarshal(c, &cursor); err != nil {
			return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, "cursor must be a string"))
		}
	}
	if cursor != "" {
		return s.listPage(req.ID, kind, cursor)
	}
	delete(params, "cursor")
	items, rerr := s.collect(ctx, params, emit, kind)
	if rerr != nil {
		return encodeResponse(req.ID, nil, rerr)
	}
	size := s.g.opts.ListPageSize
	if len(items) <= size {
		s.mu.Lock()
		delete(s.lists, kind.method) // cursors into an older listing are stale
		s.mu.Unlock()
		return listResult(req.ID, kind, items, "")
	}
	snap := &listSnapshot{id: newSessionID(), items: items}
	s.mu.Lock()
	if s.lists == nil {
		s.lists = map[string]*listSnapshot{}
	}
	s.lists[kind.method] = snap
	s.mu.Unlock()
	return listResult(req.ID, kind, items[:size], encodeCursor(listCursor{Snapshot: snap.id, Offset: size}))
}

// listPage answers a list request that carries a cursor: the next page of
// the snapshot it points into. A cursor the gateway did not issue, or one
// into a listing a newer one replaced, is an invalid-params error telling
// the client to list again from the start.
func (s *session) listPage(id jsonrpc.ID, kind listKind, cursor string) []byte {
	c, err := decodeCursor(cursor)
	if err != nil {
		return encodeResponse(id, nil, rpcError(codeInvalidParams, "invalid cursor: toolgate did not issue it; list again without a cursor"))
	}
	s.mu.Lock()
	snap := s.lists[kind.method]
	s.mu.Unlock()
	if snap == nil || snap.id != c.Snapshot {
		return encodeResponse(id, nil, rpcError(codeInvalidParams, "unknown or stale cursor: it does not point into this session's latest "+kind.method+"; list again without a cursor"))
	}
	if c.Offset >= len(snap.items) {
		return encodeResponse(id, nil, rpcError(codeInvalidParams, "invalid cursor: it points past the end of the list; list again without a cursor"))
	}
	end := min(c.Offset+s.g.opts.ListPageSize, len(snap.items))
	next := ""
	if end < len(snap.items) {
		next = encodeCursor(listCursor{Snapshot: snap.id, Offset: end})
	}
	return listResult(id, kind, snap.items[c.Offset:end], next)
}

func listResult(id jsonrpc.ID, kind listKind, items []json.RawMessage, next string) []byte {
	if items == nil {
		items = []json.RawMessage{}
	}
	result := map[string]any{kind.field: items}
	if next != "" {
		result["nextCursor"] = next
	}
	out, err := json.Marshal(result)
	if err != nil {
		return encodeResponse(id, nil, rpcError(codeInternal, "internal error"))
	}
	return encodeResponse(id, out, nil)
}

// listing is what was read of one upstream's list.
type listing struct {
	items     []json.RawMessage
	truncated string // the bound that cut the list short, if one did
	err       *jsonrpc.Error
	cause     error // what went wrong, for the log, when err is set
}

// collect reads the whole list of every upstream the session reaches that
// offers the capability, at the same time, and merges their items in
// configuration order. An upstream that fails is left out and logged; the
// request fails only when every upstream failed.
func (s *session) collect(ctx context.Context, params map[string]json.RawMessage, emit func([]byte) bool, kind listKind) ([]json.RawMessage, *jsonrpc.Error) {
	var cands []*upstreamSlot
	for _, u := range s.ups {
		if u.ok() && u.init.has(kind.capability) {
			cands = append(cands, u)
		}
	}
	got := make([]listing, len(cands))
	var wg sync.WaitGroup
	for i, u := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = s.walk(ctx, u, params, emit, kind)
		}()
	}
	wg.Wait()
	var items []json.RawMessage
	seen := map[string]bool{} // names listed so far
	var others scan.Others
	if kind.method == "tools/list" {
		others = s.othersOf(cands, got)
	} else {
		others = s.g.knownOthers()
	}
	fp := othersPrint(others)
	var firstErr *jsonrpc.Error
	failed, complete := 0, true
	// One after the other, in configuration order, so that a name two
	// servers share goes to the one configured first.
	for i, u := range cands {
		l := got[i]
		if l.err != nil {
			failed++
			complete = false
			if firstErr == nil {
				firstErr = l.err
			}
			s.g.log.Error("listing an upstream failed; its items are left out", "server", u.srv.Name, "session", s.logID(), "method", kind.method, "err", l.err.Message)
			continue
		}
		if l.truncated != "" {
			complete = false
			s.flood.Warn("list bound "+u.srv.Name, "upstream list cut short", "server", u.srv.Name, "method", kind.method, "bound", l.truncated, "kept", len(l.items))
		}
		items = append(items, s.rewriteItems(u.idx, l.items, kind, seen, others, fp)...)
	}
	if len(cands) > 0 && failed == len(cands) {
		return nil, firstErr
	}
	if kind.method == "tools/list" && complete {
		s.mu.Lock()
		s.toolsComplete = true
		s.mu.Unlock()
	}
	if noun := map[string]string{"prompts/list": "prompt", "resources/list": "resource"}[kind.method]; noun != "" {
		s.mu.Lock()
		if s.listedItems == nil {
			s.listedItems = map[string]bool{}
		}
		s.listedItems[noun] = true
		s.mu.Unlock()
	}
	return items, nil
}

// walk reads every page of one upstream's list for the session; messages
// the upstream sends meanwhile go to the session.
func (s *session) walk(ctx context.Context, u *upstreamSlot, params map[string]json.RawMessage, emit func([]byte) bool, kind listKind) listing {
	if meta, ok := params["_meta"]; ok {
		defer s.expectProgress(u.idx, json.RawMessage(`{"_meta":`+string(meta)+`}`))()
	}
	l := walkList(ctx, u, params, kind, func(m message) { s.fromUpstream(u.idx, m, emit) })
	if l.cause != nil {
		s.g.log.Error("upstream list failed", "server", u.srv.Name, "session", s.logID(), "method", kind.method, "err", l.cause)
	}
	return l
}

// walkList reads every page of one upstream's list, following its
// cursors, within the list bounds and the server's timeout for the whole
// walk. It stops at a cursor the upstream already gave, as at the end of
// the list.
func walkList(ctx context.Context, u *upstreamSlot, params map[string]json.RawMessage, kind listKind, related func(message)) listing {
	timeout := u.srv.Timeout
	if timeout <= 0 {
		timeout = DefaultServerTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errCallTimeout)
	defer cancel()
	p := make(map[string]json.RawMessage, len(params)+1)
	for k, v := range params {
		p[k] = v
	}
	var l listing
	seen := map[string]bool{}
	size, cursor := 0, ""
	for page := 0; ; page++ {
		if page == maxListPages {
			l.truncated = fmt.Sprintf("%d pages", maxListPages)
			return l
		}
		delete(p, "cursor")
		if cursor != "" {
			p["cursor"], _ = json.Marshal(cursor)
		}
		raw, err := json.Marshal(p)
		if err != nil {
			l.err = rpcError(codeInternal, "internal error")
			return l
		}
		id := u.nextID()
		resp, _, err := u.conn.call(ctx, &jsonrpc.Request{ID: id, Method: kind.method, Params: raw},
			encodeRequest(id, kind.method, raw), related)
		if err != nil {
			if ctx.Err() != nil {
				cancelRequest(u, id)
				if context.Cause(ctx) == errCallTimeout {
					l.err = rpcError(codeUnavailable, fmt.Sprintf("upstream %s did not list its %s within %s (raise the server's timeout to wait longer)", u.srv.Name, kind.noun, timeout))
					l.cause = errors.New(l.err.Message)
					return l
				}
				l.err = rpcError(codeInternal, "request cancelled")
				return l
			}
			l.err = rpcError(codeUnavailable, "upstream "+u.srv.Name+" failed to answer "+kind.method)
			l.cause = err
			return l
		}
		if resp.Error != nil {
			l.err = asWireError(resp.Error)
			return l
		}
		var fields map[string]json.RawMessage
		var next *string
		if err := json.Unmarshal(resp.Result, &fields); err != nil || json.Unmarshal(fields["nextCursor"], &next) != nil && fields["nextCursor"] != nil {
			l.err = rpcError(codeInternal, "upstream "+u.srv.Name+" sent an unreadable "+kind.method+" result")
			return l
		}
		var items []json.RawMessage
		if f, ok := fields[kind.field]; ok && string(f) != "null" {
			if err := json.Unmarshal(f, &items); err != nil {
				l.err = rpcError(codeInternal, "upstream "+u.srv.Name+" sent an unreadable "+kind.method+" result")
				return l
			}
		}
		for _, it := range items {
			if len(l.items) == maxListItems {
				l.truncated = fmt.Sprintf("%d items", maxListItems)
				return l
			}
			if size+len(it) > maxListBytes {
				l.truncated = fmt.Sprintf("%d bytes", maxListBytes)
				return l
			}
			size += len(it)
			l.items = append(l.items, it)
		}
		if next == nil || *next == "" || seen[*next] {
			return l
		}
		cursor = *next
		seen[cursor] = true
	}
}

// cancelRequest tells an upstream that the gateway no longer waits for
// the request with the id.
func cancelRequest(u *upstreamSlot, id jsonrpc.ID) {
	params, _ := json.Marshal(map[string]any{"requestId": id.Raw(), "reason": "the gateway stopped waiting"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = u.conn.send(ctx, encodeRequest(jsonrpc.ID{}, "notifications/cancelled", params))
}

// rewriteItems prefixes the items of one upstream's list, leaves out tools
// the policy does not list, and records what routing needs. A name already
// in seen (listed twice, or by a server configured earlier) is left out.
// others names the tools of every upstream, which a server's texts may
// not steer the model to (poison.go).
func (s *session) rewriteItems(up int, raws []json.RawMessage, kind listKind, seen map[string]bool, others scan.Others, fp uint64) []json.RawMessage {
	slot := s.ups[up]
	eng := s.g.policyFor(s.ident)
	kept := make([]json.RawMessage, 0, len(raws))
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
			if seen[full] {
				s.flood.Warn("duplicate "+full, "a name is listed twice; keeping the first", "method", kind.method, "name", full, "server", slot.srv.Name)
				continue
			}
			seen[full] = true
			if kind.method == "tools/list" {
				info, changes := s.g.catalog.observe(slot.srv.Name, raw)
				if len(changes) > 0 {
					s.g.log.Warn("tool definition differs from its pin", "server", slot.srv.Name, "tool", name, "changes", changes)
				}
				// A rug pull: the client reads the definition someone
				// reviewed and pinned, never the changed text, until the
				// change is accepted (toolgate scan --pin).
				listed := it
				if info.Pin != nil && info.Pin.Status == scan.PinChanged {
					var ok bool
					if listed, ok = s.g.catalog.pinnedItem(slot.srv.Name, name); !ok {
						continue
					}
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
				poisoned := s.toolPoison(slot.srv.Name, raw, info, others, fp)
				s.tools[full] = &toolEntry{up: up, name: name, schema: it["inputSchema"], info: info, poisoned: poisoned}
				s.mu.Unlock()
				if eng == nil || !eng.Listed(full, info.categories) {
					continue
				}
				it = listed
				if poisoned != "" {
					switch s.g.opts.Poisoned {
					case PoisonedAllow:
						s.flood.Warn("poisoned "+full, "a tool's text carries instructions to the model; listed (poisoned: allow)", "server", slot.srv.Name, "tool", name, "evidence", poisoned)
					case PoisonedDeny:
						s.flood.Warn("poisoned "+full, "a tool's text carries instructions to the model; listed with a neutral note (poisoned: deny)", "server", slot.srv.Name, "tool", name, "evidence", poisoned)
						it = neutralTool()
						it["name"], _ = json.Marshal(full)
					default:
						s.flood.Warn("poisoned "+full, "a tool's text carries instructions to the model; it is not listed (poisoned: hide)", "server", slot.srv.Name, "tool", name, "evidence", poisoned)
						continue
					}
				}
			} else {
				var ok bool
				if it, ok = s.screenItem(slot, kind, full, it, raw, others); !ok {
					continue
				}
			}
			if full != name {
				it["name"], _ = json.Marshal(full)
			}
		}
		if kind.method != "tools/list" && !kind.prefixed {
			var ok bool
			if it, ok = s.screenItem(slot, kind, "", it, raw, others); !ok {
				continue
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
		// Re-encoded, never the upstream's bytes (see security.md).
		b, err := json.Marshal(it)
		if err != nil {
			continue
		}
		kept = append(kept, b)
	}
	return kept
}

// loadTools reads every upstream's whole tool list into the session's
// tools, for a call to a tool the client has not listed.
// Whatever it finds, it is not tried again until a list_changed: an
// unknown name must not make every call list every upstream.
func (s *session) loadTools(ctx context.Context) {
	if _, err := s.collect(ctx, nil, nil, listToolsKind); err != nil {
		s.g.log.Warn("listing upstream tools failed", "session", s.logID(), "err", err.Message)
	}
	s.mu.Lock()
	s.toolsComplete = true
	s.mu.Unlock()
}

// neutralTool is what a client sees of a poisoned tool under poisoned:
// deny: its name, a neutral note, and an empty schema; none of the text
// the upstream wrote.
func neutralTool() map[string]json.RawMessage {
	return map[string]json.RawMessage{
		"description": json.RawMessage(`"[toolgate] This tool's description was withheld: it carries instructions to the model. Calls to it are refused until an administrator reviews it."`),
		"inputSchema": json.RawMessage(`{"type":"object"}`),
	}
}
