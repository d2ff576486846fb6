package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
)

// wrapFlags are the flags of `toolgate stdio -- command...`, the wrap of
// one server without a configuration file.
type wrapFlags struct {
	policy   string
	stateDir string
}

// wrapConfig builds the configuration of a wrap: the command as the one
// stdio server, under its own tool names (no prefix), with toolgate's
// whole environment, as the client that starts toolgate sets it for the
// server; the policy file; auth none, since the process serves only the
// user who started it, over its own stdin and stdout; and a store in the
// state directory, so that counters outlive the process.
func (a *app) wrapConfig(cmd *cobra.Command, w *wrapFlags, command []string) (*config.Config, error) {
	policyPath := w.policy
	if policyPath == "" && cmd.Flags().Changed("config") {
		// Intercept's --config names the policy; a wrap reads no
		// configuration file, so take it as the policy.
		policyPath = a.configPath
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
		a.log.Warn("no --policy: every tool call is allowed", "command", command[0])
	}
	name := serverName(command[0])
	doc := map[string]any{
		"auth":  "none",
		"store": "sqlite://" + filepath.Join(dir, "toolgate.db"),
		"servers": map[string]any{
			name: map[string]any{"command": command, "inherit_env": true},
		},
		"policies": map[string]any{"default": pol},
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	// The configuration's name places it in the working directory, which
	// relative paths (the server's working directory) are resolved from.
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return config.Parse(data, filepath.Join(cwd, "(toolgate stdio)"))
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
