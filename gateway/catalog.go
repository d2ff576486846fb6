package gateway

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/scan"
)

// catalog is what the gateway has learnt of every upstream tool: its risk
// classification and, when pins are configured, whether its definition
// still matches its pin. Sessions share it; it is keyed by server and the
// upstream's own tool name.
type catalog struct {
	mu      sync.Mutex
	pins    *scan.Pins
	byRaw   map[string]*toolInfo            // raw definition → info (a cache)
	servers map[string]map[string]*toolInfo // server → tool → latest info
}

// toolInfo is one tool definition as the gateway saw it.
type toolInfo struct {
	Server string         `json:"server"`
	Report scan.Report    `json:"report"`
	Pin    *scan.PinCheck `json:"pin,omitempty"`
	// Poisoned quotes why the tool's text was found to carry
	// instructions to the model; empty when it was not.
	Poisoned   string    `json:"poisoned,omitempty"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	categories []string
	// poison caches toolPoison's answer for the merged list whose other
	// tools have the fingerprint poisonFP (guarded by the catalog's mu).
	poison    string
	poisonFP  uint64
	poisonSet bool
}

func newCatalog(pins *scan.Pins) *catalog {
	return &catalog{pins: pins, byRaw: map[string]*toolInfo{}, servers: map[string]map[string]*toolInfo{}}
}

// poisonEvidence is why the scanner found a tool's text poisoned: its
// injection and unicode signals, with their evidence; "" when clean.
func poisonEvidence(r scan.Report) string {
	var parts []string
	for _, s := range r.Signals {
		if s.Code == scan.SigInjection || s.Code == scan.SigUnicode {
			parts = append(parts, s.Label+": "+s.Evidence)
		}
	}
	return strings.Join(parts, "; ")
}

// setPins puts pins in force: every definition is checked against them
// again when it is next listed.
func (c *catalog) setPins(pins *scan.Pins) {
	c.mu.Lock()
	c.pins = pins
	c.byRaw = map[string]*toolInfo{}
	c.mu.Unlock()
}

// pinnedItem is the pinned definition of a server's tool as a list item;
// false when there is none or it cannot be encoded.
func (c *catalog) pinnedItem(server, tool string) (map[string]json.RawMessage, bool) {
	c.mu.Lock()
	pins := c.pins
	c.mu.Unlock()
	pt, ok := pins.Lookup(server, tool)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(pt.Tool)
	if err != nil {
		return nil, false
	}
	var it map[string]json.RawMessage
	if json.Unmarshal(b, &it) != nil || it == nil {
		return nil, false
	}
	return it, true
}

// maxCached bounds the classification cache; past it the cache starts over.
const maxCached = 10000

// observe classifies one tool definition from server (once per distinct
// definition), checks it against its pin, and records it as the server's
// current definition of the tool.
func (c *catalog) observe(server string, raw json.RawMessage) (*toolInfo, []string) {
	key := server + "\x00" + string(raw)
	now := time.Now()
	c.mu.Lock()
	info, ok := c.byRaw[key]
	pins := c.pins
	c.mu.Unlock()
	var changes []string
	if !ok {
		var t scan.Tool
		_ = json.Unmarshal(raw, &t) // a malformed field leaves it zero; Classify reports it
		info = &toolInfo{Server: server, Report: scan.ClassifyIn(server, t), FirstSeen: now}
		info.categories = info.Report.Categories()
		info.Poisoned = poisonEvidence(info.Report)
		if pins != nil {
			pc := pins.Verify(server, t)
			info.Pin = &pc
			for _, ch := range pc.Changes {
				changes = append(changes, ch.String())
			}
		}
		c.mu.Lock()
		if len(c.byRaw) >= maxCached {
			c.byRaw = map[string]*toolInfo{}
		}
		c.byRaw[key] = info
		c.mu.Unlock()
	}
	c.mu.Lock()
	info.LastSeen = now
	tools := c.servers[server]
	if tools == nil {
		tools = map[string]*toolInfo{}
		c.servers[server] = tools
	}
	tools[info.Report.Name] = info
	c.mu.Unlock()
	return info, changes
}

// adminTools is the body of GET /admin/tools.
type adminTools struct {
	Schema  string          `json:"schema"`
	Servers []adminServer   `json:"servers"`
	Summary adminToolsTotal `json:"summary"`
}

type adminServer struct {
	Name  string      `json:"name"`
	Tools []*toolInfo `json:"tools"`
}

type adminToolsTotal struct {
	Tools      int            `json:"tools"`
	ByCategory map[string]int `json:"by_category"`
	ByRisk     map[string]int `json:"by_risk"`
	PinChanged int            `json:"pin_changed"`
	PinNew     int            `json:"pin_new"`
}

// AdminSchema names the version of the GET /admin/tools document.
const AdminSchema = "toolgate.admin.tools/v1"

func (c *catalog) snapshot() adminTools {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := adminTools{Schema: AdminSchema, Servers: []adminServer{},
		Summary: adminToolsTotal{ByCategory: map[string]int{}, ByRisk: map[string]int{}}}
	names := make([]string, 0, len(c.servers))
	for n := range c.servers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		srv := adminServer{Name: n, Tools: []*toolInfo{}}
		for _, info := range c.servers[n] {
			cp := *info
			srv.Tools = append(srv.Tools, &cp)
			out.Summary.Tools++
			out.Summary.ByCategory[string(info.Report.Category)]++
			out.Summary.ByRisk[string(info.Report.Risk)]++
			if info.Pin != nil {
				switch info.Pin.Status {
				case scan.PinChanged:
					out.Summary.PinChanged++
				case scan.PinNew:
					out.Summary.PinNew++
				}
			}
		}
		sort.Slice(srv.Tools, func(i, j int) bool { return srv.Tools[i].Report.Name < srv.Tools[j].Report.Name })
		out.Servers = append(out.Servers, srv)
	}
	return out
}

// AdminHandler serves the admin API, mounted under /admin/, to requests
// with an admin token auth accepts (401 otherwise; a nil auth refuses
// every request) and whose role allows the route (403 otherwise):
//
//   - GET /admin/tools (viewer): every upstream tool the gateway has seen,
//     with its risk classification and pin status;
//   - GET /admin/approvals, GET /admin/approvals/{id} (viewer): approvals;
//   - POST /admin/approvals/{id}/approve and /deny (admin): decide one; the
//     decider is the token's subject, who may not approve their own call.
//
// routes add further routes (grants, policies) to the same mux, behind
// the same authentication.
//
// Serve it on its own listener (admin_listen), never beside the MCP
// endpoint an agent reaches.
func (g *Gateway) AdminHandler(auth admin.Authenticator, routes ...func(*http.ServeMux)) http.Handler {
	mux := http.NewServeMux()
	for _, add := range routes {
		add(mux)
	}
	mux.Handle("GET /admin/tools", admin.Require(admin.Viewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		admin.WriteJSON(w, http.StatusOK, g.catalog.snapshot())
	})))
	g.approvalRoutes(mux)
	authed := admin.Authenticate(auth, g.log, mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A browser page on another origin must not read or decide
		// anything, even with a token the browser would not send.
		if !g.originAllowed(r) {
			admin.WriteError(w, http.StatusForbidden, "origin not allowed")
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// pinReason explains why a pinned tool is refused.
func pinReason(info *toolInfo) string {
	if info == nil || info.Pin == nil {
		return "the policy requires pinned tools, but no pins file is configured (pins: in the configuration)"
	}
	if info.Pin.Status == scan.PinNew {
		return "the policy requires pinned tools, and this tool was never pinned (toolgate scan --pin)"
	}
	var parts []string
	for _, ch := range info.Pin.Changes {
		parts = append(parts, ch.String())
		if len(parts) == 5 {
			parts = append(parts, "...")
			break
		}
	}
	return "the tool's definition changed since it was pinned: " + strings.Join(parts, "; ")
}
