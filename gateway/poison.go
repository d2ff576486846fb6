package gateway

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/scan"
)

// This file keeps the text a server writes for the model, besides its
// tools' schemas, from reaching it when the scanner finds instructions to
// the model in it: the server's initialize instructions, its prompts,
// resources and resource templates, the fields of a tool the classifier
// does not read, and names of other servers' tools in a tool's texts
// (tool shadowing). Options.Poisoned applies to all of them as to tools:
// hide (the default) leaves the item out, deny lists it with its text
// replaced by a neutral note, allow passes it.

// Neutral notes put in place of poisoned text under poisoned: deny.
const (
	notePrompt       = "[toolgate] This prompt's text was withheld: it carries instructions to the model. Requests for it are refused until an administrator reviews it."
	noteResource     = "[toolgate] This resource's text was withheld: it carries instructions to the model. Reads of it are refused until an administrator reviews it."
	noteTemplate     = "[toolgate] This resource template's text was withheld: it carries instructions to the model."
	noteInstructions = "[toolgate] The instructions of server %s were withheld: they carry instructions to the model."
)

// othersOf names the tools each upstream listed, for the check that a
// server's text does not steer the model to another server's tools.
func (s *session) othersOf(cands []*upstreamSlot, got []listing) scan.Others {
	if len(cands) < 2 {
		return nil // no other server to steer to
	}
	others := scan.Others{}
	for i, u := range cands {
		if got[i].err != nil {
			continue
		}
		names := make([]string, 0, len(got[i].items))
		for _, raw := range got[i].items {
			var it struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(raw, &it) == nil && it.Name != "" {
				names = append(names, it.Name)
			}
		}
		others.Add(u.srv.Name, u.srv.Prefix, names)
	}
	return others
}

// knownOthers names the tools the gateway has seen of every configured
// server (the catalog), for texts read before the session lists tools:
// the initialize instructions, prompts and resources.
func (g *Gateway) knownOthers() scan.Others {
	if len(g.opts.Servers) < 2 {
		return nil
	}
	others := scan.Others{}
	g.catalog.mu.Lock()
	defer g.catalog.mu.Unlock()
	for i := range g.opts.Servers {
		srv := &g.opts.Servers[i]
		tools := g.catalog.servers[srv.Name]
		names := make([]string, 0, len(tools))
		for n := range tools {
			names = append(names, n)
		}
		others.Add(srv.Name, srv.Prefix, names)
	}
	return others
}

// toolPoison is why a listed tool is poisoned: the catalog's
// classification (its injection and unicode signals), the fields the
// classifier does not read, and names of other servers' tools it calls.
//
// The answer depends on the definition and on the other servers' tools:
// it is cached in info for the fingerprint fp of others (othersPrint).
func (s *session) toolPoison(server string, raw json.RawMessage, info *toolInfo, others scan.Others, fp uint64) string {
	c := s.g.catalog
	c.mu.Lock()
	if info.poisonSet && info.poisonFP == fp {
		ev := info.poison
		c.mu.Unlock()
		return ev
	}
	c.mu.Unlock()
	ev := toolPoisonOf(server, raw, info, others)
	c.mu.Lock()
	info.poison, info.poisonFP, info.poisonSet = ev, fp, true
	c.mu.Unlock()
	return ev
}

// othersPrint fingerprints others: the same tools of the same servers
// give the same value.
func othersPrint(others scan.Others) uint64 {
	if len(others) == 0 {
		return 0
	}
	keys := make([]string, 0, len(others))
	for k := range others {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(strings.Join(others[k], "\x00")))
		h.Write([]byte{1})
	}
	return h.Sum64() | 1 // never 0, the fingerprint of no other tools
}

func toolPoisonOf(server string, raw json.RawMessage, info *toolInfo, others scan.Others) string {
	parts := []string{}
	poisoned := info.Poisoned
	if poisoned != "" && len(others) > 0 {
		// With the merged list known, an order among the server's own
		// tools ("before using this tool, call get_board_info") is its
		// workflow, not shadowing: classify again among them.
		var t scan.Tool
		if json.Unmarshal(raw, &t) == nil {
			poisoned = poisonEvidence(scan.ClassifyAmong(server, t, others))
		}
	}
	if poisoned != "" {
		parts = append(parts, poisoned)
	}
	if r := scan.CheckItem("tool", server, raw, others); r.Poisoned() != "" {
		parts = append(parts, r.Poisoned())
	}
	if len(others) > 0 {
		var t scan.Tool
		if json.Unmarshal(raw, &t) == nil {
			if sig := scan.Shadowing(t, server, others); sig != nil {
				parts = append(parts, "tool shadowing: "+sig.Evidence)
			}
		}
	}
	return strings.Join(parts, "; ")
}

// screenItem checks a prompt, resource or resource template of an
// upstream's list. It returns the item to list (the upstream's, or a
// neutral one under poisoned: deny) and false when it is left out
// (poisoned: hide). full is the item's name as the client sees it.
func (s *session) screenItem(slot *upstreamSlot, kind listKind, full string, it map[string]json.RawMessage, raw json.RawMessage, others scan.Others) (map[string]json.RawMessage, bool) {
	noun := map[string]string{"prompts/list": "prompt", "resources/list": "resource", "resources/templates/list": "resource template"}[kind.method]
	if noun == "" {
		return it, true
	}
	r := scan.CheckItem(noun, slot.srv.Name, raw, others)
	ev := r.Poisoned()
	if ev == "" {
		return it, true
	}
	key := noun + ":" + full
	if noun == "resource" {
		var uri string
		_ = json.Unmarshal(it["uri"], &uri)
		key = noun + ":" + uri
	}
	mode := s.g.opts.Poisoned
	if mode == PoisonedAllow {
		s.flood.Warn("poisoned "+key, "a "+noun+"'s text carries instructions to the model; passed on (poisoned: allow)", "server", slot.srv.Name, noun, r.Name, "evidence", ev)
		return it, true
	}
	s.mu.Lock()
	if s.poisonedItems == nil {
		s.poisonedItems = map[string]string{}
	}
	s.poisonedItems[key] = ev
	s.mu.Unlock()
	if mode != PoisonedDeny {
		s.flood.Warn("poisoned "+key, "a "+noun+"'s text carries instructions to the model; it is not listed (poisoned: hide)", "server", slot.srv.Name, noun, r.Name, "evidence", ev)
		return nil, false
	}
	s.flood.Warn("poisoned "+key, "a "+noun+"'s text carries instructions to the model; it is listed with a neutral note (poisoned: deny)", "server", slot.srv.Name, noun, r.Name, "evidence", ev)
	out := map[string]json.RawMessage{}
	switch noun {
	case "prompt":
		out["name"] = it["name"]
		out["description"], _ = json.Marshal(notePrompt)
	case "resource":
		out["uri"] = it["uri"]
		out["name"], _ = json.Marshal("withheld")
		out["description"], _ = json.Marshal(noteResource)
	default:
		out["uriTemplate"] = it["uriTemplate"]
		out["name"], _ = json.Marshal("withheld")
		out["description"], _ = json.Marshal(noteTemplate)
	}
	return out, true
}

// refusePoisoned answers a prompts/get or resources/read of an item the
// session found poisoned (under hide or deny) with an error, recorded in
// the audit log as decision poisoned; nil when the item is not poisoned.
// An item the session has not listed yet is checked by listing.
func (s *session) refusePoisoned(ctx context.Context, req *jsonrpc.Request, emit func([]byte) bool, key, name string, args map[string]any) []byte {
	if s.g.opts.Poisoned == PoisonedAllow {
		return nil
	}
	s.mu.Lock()
	ev, ok := s.poisonedItems[key]
	listed := s.listedItems[key[:strings.IndexByte(key, ':')]]
	s.mu.Unlock()
	if !ok && !listed {
		// Never listed in this session: list now, so that a name the
		// agent guessed is judged like a listed one.
		kind := listPrompts
		if strings.HasPrefix(key, "resource:") {
			kind = listResources
		}
		_, _ = s.collect(ctx, nil, emit, kind)
		s.mu.Lock()
		ev, ok = s.poisonedItems[key]
		s.mu.Unlock()
	}
	if !ok {
		return nil
	}
	noun := key[:strings.IndexByte(key, ':')]
	msg := poisonRefusal(noun)
	s.auditRefusal(ctx, req, audit.Poisoned, name, args, msg)
	s.g.log.Warn("refused a poisoned "+noun, "session", s.logID(), noun, name, "evidence", ev)
	return encodeResponse(req.ID, nil, rpcError(codeInvalidParams, msg))
}

// screenInstructions returns what the client reads of one upstream's
// initialize instructions: the text, "" under poisoned: hide when the text
// is poisoned, or a neutral note under poisoned: deny. Each decision is
// logged.
func (s *session) screenInstructions(u *upstreamSlot, others scan.Others) string {
	text := u.init.Instructions
	r := scan.CheckInstructions(u.srv.Name, text, others)
	ev := r.Poisoned()
	if ev == "" {
		return text
	}
	switch s.g.opts.Poisoned {
	case PoisonedAllow:
		s.g.log.Warn("a server's instructions carry instructions to the model; passed on (poisoned: allow)", "server", u.srv.Name, "session", s.logID(), "evidence", ev)
		return text
	case PoisonedDeny:
		s.g.log.Warn("a server's instructions carry instructions to the model; replaced by a neutral note (poisoned: deny)", "server", u.srv.Name, "session", s.logID(), "evidence", ev)
		return strings.Replace(noteInstructions, "%s", u.srv.Name, 1)
	}
	s.g.log.Warn("a server's instructions carry instructions to the model; dropped (poisoned: hide)", "server", u.srv.Name, "session", s.logID(), "evidence", ev)
	return ""
}

// poisonRefusal is what the agent reads when it asks for a poisoned tool,
// prompt or resource. It never quotes the evidence: the excerpt would
// carry the poisoned text to the model.
func poisonRefusal(noun string) string {
	return "the " + noun + "'s text carries instructions to the model (tool poisoning), so toolgate withholds it; " +
		"the evidence is in toolgate's log. An administrator can review it (toolgate scan) and set poisoned: allow."
}

// logPoisonedCall logs, with its evidence, a call refused because the
// tool is poisoned.
func (s *session) logPoisonedCall(t *toolEntry) {
	ev := t.poisoned
	if ev == "" {
		ev = t.info.Poisoned
	}
	s.flood.Warn("poisoned call "+t.info.Server+"/"+t.name, "refused a call to a poisoned tool", "server", t.info.Server, "tool", t.name, "evidence", ev)
}
