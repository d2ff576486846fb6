package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/policy"
)

// unmatchedWarner logs, once the eager upstreams have listed their tools,
// each tool name of a policy that matches none of them: a typo that would
// otherwise be silent. Each is logged once per policy version.
type unmatchedWarner struct {
	log *slog.Logger
	gw  *gateway.Gateway // set before the upstreams start

	mu   sync.Mutex
	seen map[string]bool // policy name, digest and pointer
}

// changed is called with each upstream state change (see
// gateway.Options.OnUpstreamState).
func (w *unmatchedWarner) changed(st gateway.UpstreamStatus) {
	if st.State != gateway.StateReady || w.gw == nil {
		return
	}
	tools, complete := w.gw.KnownTools()
	if !complete {
		return // a server not yet (or never) listed may hold the tool
	}
	pols := w.gw.Policies()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(pols)) {
		e := pols[name]
		for _, u := range e.Unmatched(tools) {
			key := name + "\x00" + e.Digest() + "\x00" + u.Pointer
			if w.seen[key] {
				continue
			}
			w.seen[key] = true
			w.log.Warn("a policy names a tool that no server lists", "policy", name, "file", e.Name(),
				"pointer", u.Pointer, "tool", u.Name, "did_you_mean", u.Suggestion)
		}
	}
}

// checkLive lists the tools of every server of c, as scan does, and
// prints each tool name of its policies that matches none of them, with a
// suggestion. It returns whether there was any, and an error when a server
// could not be listed.
func (a *app) checkLive(ctx context.Context, c *config.Config, timeout time.Duration) (bool, error) {
	if timeout <= 0 {
		timeout = time.Duration(config.DefaultUpstreamTimeout)
		if c.UpstreamTimeout > 0 {
			timeout = time.Duration(c.UpstreamTimeout)
		}
	}
	// Servers behind OAuth are listed with their stored tokens.
	creds, closeCreds, err := a.upstreamCredentials(ctx, c)
	if err != nil {
		return false, err
	}
	defer closeCreds()
	var tools []policy.KnownTool
	for _, name := range c.ServerNames {
		lctx, cancel := context.WithTimeout(ctx, timeout)
		list, err := scanListServer(lctx, c.Servers[name], creds[name])
		cancel()
		if err != nil {
			fmt.Fprintf(a.stderr, "%s:%d:%d: servers.%s: could not list its tools: %v\n", c.File, c.Servers[name].Line, c.Servers[name].Column, name, err)
			return false, &reportedError{toolgate.Errorf(toolgate.Unavailable, "server %s could not be listed", name)}
		}
		prefix := c.ToolPrefix(name)
		for _, t := range list {
			tools = append(tools, policy.KnownTool{Name: prefix + t.Name, Prefix: prefix})
		}
	}
	found := false
	for _, name := range policyOrder(c) {
		src := c.Policies[name]
		var e *policy.Engine
		var err error
		if src.Inline != nil {
			e, err = policy.Load(src.Inline, c.File)
		} else {
			e, err = policy.LoadFile(c.PolicyPath(name))
		}
		if err != nil { // check reported it already
			continue
		}
		for _, u := range e.Unmatched(tools) {
			found = true
			printUnmatched(a.stderr, c, name, u)
		}
	}
	if !found {
		fmt.Fprintf(a.stdout, "ok: every tool the policies name is one of the %d tools the servers list\n", len(tools))
	}
	return found, nil
}

// printUnmatched prints one unmatched name as file:line:col: pointer:
// message, with positions in the configuration file for an inline policy.
func printUnmatched(w io.Writer, c *config.Config, name string, u policy.UnmatchedRef) {
	src := c.Policies[name]
	file, line, col, ptr := c.PolicyPath(name), u.Line, u.Column, u.Pointer
	if src.Inline != nil {
		file, ptr = c.File, "policies."+name+u.Pointer
		line, col = src.Position(u.Line, u.Column)
	}
	what := "tool"
	if u.Glob {
		what = "pattern"
	}
	msg := fmt.Sprintf("%s:%d:%d: %s: %s %q matches no tool the servers list", file, line, col, ptr, what, u.Name)
	if u.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", u.Suggestion)
	}
	fmt.Fprintln(w, msg)
}
