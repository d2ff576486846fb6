package cli

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/internal/outbound"
)

// wrapFlags are the flags of a wrap of one server without a
// configuration file: `toolgate wrap`, `toolgate stdio -- command...` and
// Intercept's own form, `toolgate -c policy.yaml -- command...`.
type wrapFlags struct {
	policy    string
	stateDir  string
	upstream  string
	headers   []string
	transport string
}

// add registers the flags of a wrap on cmd (--upstream and its kin only
// when remote). The policy flag's shorthand is -p: -c is the global
// --config, which a wrap takes as the policy, as Intercept's -c/--config is.
func (w *wrapFlags) add(cmd *cobra.Command, remote bool) {
	fs := cmd.Flags()
	fs.StringVarP(&w.policy, "policy", "p", "", "the policy file (toolgate's JSON/YAML or Intercept's YAML); -c/--config names it too")
	fs.StringVar(&w.stateDir, "state-dir", "", "where counters and approvals are kept (default: the user's state directory, toolgate/)")
	if !remote {
		return
	}
	fs.StringVar(&w.upstream, "upstream", "", "wrap the streamable-HTTP MCP server at this URL (https://, or http:// to a loopback address) instead of a command")
	fs.StringArrayVar(&w.headers, "header", nil, `HTTP header sent to --upstream, "Name: value" (repeatable; values are never logged)`)
	fs.StringVar(&w.transport, "transport", "stdio", "the transport toward the client: only stdio (Intercept's http and sse fronts are toolgate serve)")
}

// wrapped reports whether the flags and arguments ask for a wrap.
func (w *wrapFlags) wrapped(args []string) bool {
	return len(args) > 0 || w.upstream != ""
}

// wrapConfig builds the configuration of a wrap: the command, or the
// --upstream URL with its headers, as the one server, under its own tool
// names (no prefix); the policy file; auth none, since the process serves
// only the user who started it, over its own stdin and stdout; and a store
// in the state directory, so that counters outlive the process.
//
// A command gets toolgate's whole environment (inherit_env: true): a
// client starts toolgate with the env of the server's entry (an API token,
// say) meant for the server, so passing it on is what the user asked for.
// A configuration's servers, which share one gateway, get a clean one.
func (a *app) wrapConfig(cmd *cobra.Command, w *wrapFlags, command []string) (*config.Config, error) {
	policyPath := w.policy
	if cmd.Flags().Changed("config") {
		// Intercept's -c/--config names the policy; a wrap reads no
		// configuration file, so take it as the policy.
		if policyPath != "" && policyPath != a.configPath {
			return nil, toolgate.Errorf(toolgate.Invalid, "--policy %s and --config %s: a wrap takes one policy file (-c is Intercept's spelling of -p)", policyPath, a.configPath)
		}
		policyPath = a.configPath
	}
	if w.transport != "" && w.transport != "stdio" {
		return nil, toolgate.Errorf(toolgate.Invalid, "--transport %q: a wrap serves its client on stdio only; for an HTTP front run toolgate serve with a configuration (docs/config.md)", w.transport)
	}
	var server map[string]any
	var name string
	switch {
	case len(command) > 0 && w.upstream != "":
		return nil, toolgate.Errorf(toolgate.Invalid, "give the server's command after \"--\" or --upstream URL, not both")
	case w.upstream != "":
		if err := outbound.CheckURL(w.upstream); err != nil {
			return nil, toolgate.Errorf(toolgate.Invalid, "--upstream: %v", err)
		}
		headers, err := parseUpstreamHeaders(w.headers)
		if err != nil {
			return nil, err
		}
		u, _ := url.Parse(w.upstream) // CheckURL parsed it
		name = serverName(strings.ReplaceAll(u.Hostname(), ".", "-"))
		server = map[string]any{"url": w.upstream}
		if len(headers) > 0 {
			server["headers"] = headers
		}
	case len(w.headers) > 0:
		return nil, toolgate.Errorf(toolgate.Invalid, "--header needs --upstream")
	default:
		name = serverName(command[0])
		server = map[string]any{"command": command, "inherit_env": true}
	}
	dir := w.stateDir
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(); err != nil {
			return nil, toolgate.Errorf(toolgate.Invalid, "no --state-dir given and no home directory to default it under: %v", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, toolgate.Errorf(toolgate.Invalid, "--state-dir %s: %v", dir, err)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, toolgate.Errorf(toolgate.Invalid, "--state-dir: %v", err)
	}
	var pol any = map[string]any{"version": "1", "default": "allow"}
	if policyPath != "" {
		abs, err := filepath.Abs(policyPath)
		if err != nil {
			return nil, toolgate.Errorf(toolgate.Invalid, "--policy: %v", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, toolgate.Errorf(toolgate.Invalid, "--policy: %v", err)
		}
		pol = abs
	} else {
		a.log.Warn("no --policy: every tool call is allowed", "server", name)
	}
	doc := map[string]any{
		"auth":     "none",
		"store":    "sqlite://" + filepath.Join(dir, "toolgate.db"),
		"servers":  map[string]any{name: server},
		"policies": map[string]any{"default": pol},
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("wrap: encode the configuration: %w", err)
	}
	// The configuration's name places it in the working directory, which
	// relative paths (the server's working directory) are resolved from.
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("wrap: %w", err)
	}
	return config.Parse(data, filepath.Join(cwd, "(toolgate wrap)"))
}

// parseUpstreamHeaders reads --header values, "Name: value" as Intercept and curl
// write them. The error never quotes a value, which may be a secret.
func parseUpstreamHeaders(list []string) (map[string]string, error) {
	h := make(map[string]string, len(list))
	for i, kv := range list {
		k, v, ok := strings.Cut(kv, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, toolgate.Errorf(toolgate.Invalid, "--header number %d: want \"Name: value\"", i+1)
		}
		h[k] = strings.TrimSpace(v)
	}
	return h, nil
}

// serverName names the wrapped server after its command: "npx" for npx,
// "server-github" for /usr/bin/server-github.
func serverName(command string) string {
	n := strings.TrimSuffix(filepath.Base(command), filepath.Ext(command))
	var b strings.Builder
	for _, r := range n {
		if r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "server"
	}
	return b.String()
}

// defaultStateDir is $XDG_STATE_HOME/toolgate, else ~/.local/state/toolgate.
func defaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "toolgate"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state", "toolgate"), nil
}
