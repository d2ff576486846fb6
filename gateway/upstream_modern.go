package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// A stateless session (protocol 2026-07-28 at the front) reaches a
// streamable-HTTP upstream that speaks 2026-07-28 too on that revision:
// server/discover instead of initialize, the client's _meta on every
// request, and the revision's headers. Its tool results may then ask for
// input (resultType "input_required"), which goes back to the client as
// is. An upstream that does not list 2026-07-28 in its server/discover
// answer (or refuses the method) is initialized on 2025-11-25 as for any
// session, with the client's capabilities and clientInfo from _meta.

// discoverUpstream asks an HTTP upstream with server/discover whether it
// speaks 2026-07-28. On success the connection is that revision's and
// slot.conn is wrapped so that every request carries what it needs.
func discoverUpstream(ctx context.Context, s *session, slot *upstreamSlot) (*initResult, error) {
	hu, ok := httpUpstreamOf(slot.conn)
	if !ok {
		return nil, fmt.Errorf("upstream %s: protocol %s is spoken to streamable-HTTP upstreams only", slot.srv.Name, modernVersion)
	}
	meta := s.meta.upstreamMeta()
	params, err := json.Marshal(map[string]any{"_meta": meta})
	if err != nil {
		return nil, fmt.Errorf("encoding server/discover: %w", err)
	}
	h := http.Header{}
	h.Set("Mcp-Protocol-Version", modernVersion)
	h.Set("Mcp-Method", "server/discover")
	id := slot.nextID()
	resp, _, err := slot.conn.call(withUpstreamHeaders(ctx, h), &jsonrpc.Request{ID: id, Method: "server/discover", Params: params}, encodeRequest(id, "server/discover", params), nil)
	if err != nil {
		return nil, fmt.Errorf("server/discover: %w", err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("server/discover refused: %w", resp.Error)
	}
	var res struct {
		SupportedVersions []string                   `json:"supportedVersions"`
		Capabilities      map[string]json.RawMessage `json:"capabilities"`
		Instructions      string                     `json:"instructions"`
		Meta              map[string]json.RawMessage `json:"_meta"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		return nil, fmt.Errorf("server/discover result: %w", err)
	}
	if !slices.Contains(res.SupportedVersions, modernVersion) {
		return nil, fmt.Errorf("upstream %s does not speak %s (it lists %v)", slot.srv.Name, modernVersion, res.SupportedVersions)
	}
	hu.modern()
	slot.conn = &modernUpstream{upstream: slot.conn, meta: meta, schema: func(name string) json.RawMessage { return s.upstreamSchema(slot.idx, name) }}
	return &initResult{ProtocolVersion: modernVersion, Capabilities: res.Capabilities, ServerInfo: res.Meta[metaServerInfo], Instructions: res.Instructions}, nil
}

// httpUpstreamOf finds the streamable-HTTP connection under u's wrappers.
func httpUpstreamOf(u upstream) (*httpUpstream, bool) {
	for range 4 {
		switch c := u.(type) {
		case *httpUpstream:
			return c, true
		case *guarded:
			u = c.upstream
		default:
			return nil, false
		}
	}
	return nil, false
}

// upstreamMeta is the _meta a request of the gateway's own (tools/list,
// server/discover) carries to a 2026-07-28 upstream: the client's.
func (m requestMeta) upstreamMeta() map[string]json.RawMessage {
	out := map[string]json.RawMessage{metaClientCaps: m.caps}
	out[metaProtocolVersion], _ = json.Marshal(modernVersion)
	if m.info != nil {
		out[metaClientInfo] = m.info
	}
	return out
}

// upstreamSchema is the inputSchema the upstream up listed for its tool
// called name (its own name), or nil.
func (s *session) upstreamSchema(up int, name string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tools {
		if t.up == up && t.name == name {
			return t.schema
		}
	}
	return nil
}

// modernUpstream is a connection on protocol 2026-07-28: each request
// gets the _meta fields it lacks and the headers that mirror it.
type modernUpstream struct {
	upstream
	meta   map[string]json.RawMessage
	schema func(name string) json.RawMessage
}

func (m *modernUpstream) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	params, changed, err := m.withMeta(req.Params)
	if err != nil {
		return nil, nil, err
	}
	if changed {
		req = &jsonrpc.Request{ID: req.ID, Method: req.Method, Params: params}
		raw = encodeRequest(req.ID, req.Method, params)
	}
	h := http.Header{}
	h.Set("Mcp-Method", req.Method)
	if name, ok := principalName(req.Method, req.Params); ok {
		h.Set("Mcp-Name", name)
	}
	if req.Method == "tools/call" {
		var p struct {
			Name      string                     `json:"name"`
			Arguments map[string]json.RawMessage `json:"arguments"`
		}
		if json.Unmarshal(req.Params, &p) == nil {
			// The headers say what the forwarded arguments say: made
			// from them, never copied from the client.
			for _, b := range paramHeaderBindings(m.schema(p.Name)) {
				arg, ok := lookupArg(p.Arguments, b.path)
				if !ok {
					continue
				}
				if v, ok := primitiveString(arg); ok {
					h.Set("Mcp-Param-"+b.header, encodeParamHeader(v))
				}
			}
		}
	}
	return m.upstream.call(withUpstreamHeaders(ctx, h), req, raw, related)
}

// withMeta adds the request _meta fields of 2026-07-28 that params lack.
func (m *modernUpstream) withMeta(params json.RawMessage) (json.RawMessage, bool, error) {
	var p map[string]json.RawMessage
	if len(params) > 0 {
		if err := json.Unmarshal(params, &p); err != nil {
			return nil, false, fmt.Errorf("params: %w", err)
		}
	}
	if p == nil {
		p = map[string]json.RawMessage{}
	}
	var meta map[string]json.RawMessage
	if raw, ok := p["_meta"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, false, fmt.Errorf("params._meta: %w", err)
		}
	}
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	changed := false
	for k, v := range m.meta {
		if _, ok := meta[k]; !ok {
			meta[k] = v
			changed = true
		}
	}
	if !changed {
		return params, false, nil
	}
	var err error
	if p["_meta"], err = json.Marshal(meta); err != nil {
		return nil, false, fmt.Errorf("encoding _meta: %w", err)
	}
	out, err := json.Marshal(p)
	if err != nil {
		return nil, false, fmt.Errorf("encoding params: %w", err)
	}
	return out, true, nil
}

// olderUpstream is the connection of a stateless session to an upstream
// of an older revision: the _meta fields of 2026-07-28 are taken out of
// the requests it forwards (such a server may refuse a revision it does
// not speak); the rest of the request is forwarded as judged.
type olderUpstream struct {
	upstream
}

func (o *olderUpstream) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	if params, ok := withoutModernMeta(req.Params); ok {
		req = &jsonrpc.Request{ID: req.ID, Method: req.Method, Params: params}
		raw = encodeRequest(req.ID, req.Method, params)
	}
	return o.upstream.call(ctx, req, raw, related)
}

// withoutModernMeta removes the request _meta fields of 2026-07-28 from
// params; ok is false when there were none.
func withoutModernMeta(params json.RawMessage) (json.RawMessage, bool) {
	var p map[string]json.RawMessage
	if len(params) == 0 || json.Unmarshal(params, &p) != nil || p["_meta"] == nil {
		return params, false
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(p["_meta"], &meta) != nil {
		return params, false
	}
	n := len(meta)
	for _, k := range []string{metaProtocolVersion, metaClientCaps, metaClientInfo, "io.modelcontextprotocol/logLevel"} {
		delete(meta, k)
	}
	if len(meta) == n {
		return params, false
	}
	if len(meta) == 0 {
		delete(p, "_meta")
	} else {
		p["_meta"], _ = json.Marshal(meta)
	}
	out, err := json.Marshal(p)
	if err != nil {
		return params, false
	}
	return out, true
}
