package gateway

import (
	"maps"
	"slices"

	"github.com/toolgate/toolgate/policy"
)

// KnownTools returns the tools the gateway has listed from its upstreams,
// under the names agents see (with each server's prefix), sorted; and
// whether the list is complete: every server is listed on the gateway's
// own connection (eager, and ready). A lazy or failed server's tools are
// not all known, so a policy name that matches none of the list may still
// name one of them.
func (g *Gateway) KnownTools() ([]policy.KnownTool, bool) {
	complete := true
	for _, p := range g.probes {
		if p.status().State != StateReady {
			complete = false
		}
	}
	var out []policy.KnownTool
	g.catalog.mu.Lock()
	for _, srv := range g.opts.Servers {
		for name := range g.catalog.servers[srv.Name] {
			out = append(out, policy.KnownTool{Name: srv.Prefix + name, Prefix: srv.Prefix})
		}
	}
	g.catalog.mu.Unlock()
	slices.SortFunc(out, func(a, b policy.KnownTool) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, complete
}

// Policies returns the policies in force by name: the grants' named
// policies with authentication on, else the gateway's policy under "".
func (g *Gateway) Policies() map[string]*policy.Engine {
	if g.opts.Authenticator == nil {
		if e := g.Policy(); e != nil {
			return map[string]*policy.Engine{"": e}
		}
		return map[string]*policy.Engine{}
	}
	return maps.Clone(*g.named.Load())
}
