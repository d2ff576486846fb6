package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
)

func newWrapCmd(a *app) *cobra.Command {
	var w wrapFlags
	cmd := &cobra.Command{
		Use:   "wrap [-p POLICY] (-- COMMAND [ARGS...] | --upstream URL [--header 'Name: value']...)",
		Short: "Put a policy in front of one MCP server, on stdin/stdout, with no configuration file",
		Long: `wrap runs the gateway for one client over stdin and stdout, in front of one
MCP server: the command after "--", started as a child process, or the
streamable-HTTP server at --upstream (https://, or http:// to a loopback
address), with each --header sent to it. The policy file (-p/--policy, or
Intercept's -c/--config) is toolgate's JSON/YAML or Intercept's YAML;
without one every call is allowed. Counters and approvals are kept in
--state-dir (default $XDG_STATE_HOME/toolgate or ~/.local/state/toolgate),
so they survive restarts. Auth is none: the process serves the one client
that started it.

The command gets toolgate's whole environment: a client sets the env of
a server's entry for that server, and the wrap passes it on.

In a client's server entry only the command and its first arguments change:

  {"command": "npx", "args": ["-y", "pkg"]}
  {"command": "toolgate", "args": ["wrap", "-p", "policy.yaml", "--", "npx", "-y", "pkg"]}

Intercept's entries work with "intercept" replaced by "toolgate" alone:
"toolgate -c policy.yaml -- cmd" and "toolgate -c policy.yaml --upstream URL"
are this command.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := onlyAfterDash(cmd, args); err != nil {
				return err
			}
			if !w.wrapped(args) {
				return toolgate.Errorf(toolgate.Invalid, "wrap needs the server: a command after \"--\" or --upstream URL")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runWrap(cmd, &w, args)
		},
	}
	w.add(cmd, true)
	return cmd
}

// onlyAfterDash accepts arguments only after "--": the server's command.
func onlyAfterDash(cmd *cobra.Command, args []string) error {
	if len(args) > 0 && cmd.ArgsLenAtDash() != 0 {
		return toolgate.Errorf(toolgate.Invalid, "%s takes no arguments before \"--\" (got %q); put the server's command after \"--\"", cmd.Name(), args[0])
	}
	return nil
}

// rootWrap makes the root command run a wrap when given Intercept's form,
// so that an Intercept entry keeps working with the command name changed
// alone: "toolgate -c policy.yaml -- cmd args..." and "toolgate -c
// policy.yaml --upstream URL --header ...". Anything else before "--" is an
// unknown command, as without it.
func rootWrap(a *app, root *cobra.Command) {
	var w wrapFlags
	w.add(root, true)
	for _, name := range []string{"policy", "state-dir", "upstream", "header", "transport"} {
		_ = root.Flags().MarkHidden(name) // wrap --help documents them
	}
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 && cmd.ArgsLenAtDash() != 0 {
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
			}
			return toolgate.Errorf(toolgate.Invalid, "%s", msg)
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if !w.wrapped(args) {
			return cmd.Help()
		}
		return a.runWrap(cmd, &w, args)
	}
}
