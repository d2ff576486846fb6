package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
)

// grantTokenEnv is where toolgate stdio looks for its grant's token.
const grantTokenEnv = "TOOLGATE_GRANT_TOKEN"

func newStdioCmd(a *app) *cobra.Command {
	var tokenFlag string
	var w wrapFlags
	cmd := &cobra.Command{
		Use:   "stdio [-- command args...]",
		Short: "Run the gateway for one client on stdin/stdout",
		Long: `stdio runs the gateway for a single client session over stdin and stdout,
newline-delimited JSON-RPC as MCP's stdio transport has it: the form for
clients that launch a command (Claude Desktop style). Logs go to stderr.

With auth: grants the session is a grant's: its token comes from
--grant-token or, better (a flag shows in the process list), from the
environment variable TOOLGATE_GRANT_TOKEN.

With a command after "--", stdio needs no configuration file: it runs
that one command as its upstream, with the policy file given by --policy
(-p, or -c; toolgate's JSON/YAML or Intercept's YAML; without it every
call is allowed), auth none, and its counters and approvals in
--state-dir: the same as toolgate wrap, which also wraps remote servers.

  toolgate stdio -c policy.yaml -- npx -y @modelcontextprotocol/server-github`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() == 0 && len(args) > 0 {
				return nil
			}
			if len(args) > 0 {
				return toolgate.Errorf(toolgate.Invalid, "stdio takes no arguments; put the server's command after \"--\"")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return a.runWrap(cmd, &w, args)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			return a.runStdio(cmd.Context(), cfg, tokenFlag)
		},
	}
	cmd.Flags().StringVar(&tokenFlag, "grant-token", "", "the grant token (auth: grants); prefer the environment variable "+grantTokenEnv)
	w.add(cmd, false)
	return cmd
}

// runWrap runs the wrap the flags and the command after "--" describe
// (see wrapConfig) on stdin and stdout.
func (a *app) runWrap(cmd *cobra.Command, w *wrapFlags, command []string) error {
	cfg, err := a.wrapConfig(cmd, w, command)
	if err != nil {
		return err
	}
	return a.runStdio(cmd.Context(), cfg, "")
}

// runStdio runs the gateway cfg describes for one client on stdin and
// stdout, as the grant whose token is given (or in TOOLGATE_GRANT_TOKEN)
// with auth: grants.
func (a *app) runStdio(ctx context.Context, cfg *config.Config, token string) error {
	if cfg.Auth == "jwt" {
		return toolgate.Errorf(toolgate.Invalid, "%s: auth accepts JWTs only, and the stdio front takes a grant token: set auth.grants: true", cfg.File)
	}
	rt, err := a.newRuntime(cfg, "stdio")
	if err != nil {
		return err
	}
	defer rt.close()
	var gr *toolgate.Grant
	if token == "" {
		token = os.Getenv(grantTokenEnv)
	}
	if cfg.Auth == "grants" {
		if gr, err = rt.verifier.Verify(ctx, token); err != nil {
			return toolgate.Errorf(toolgate.Unauthorized, "auth is grants: give a valid grant token with --grant-token or %s", grantTokenEnv)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go rt.watch(ctx, hup)
	if gr != nil {
		return rt.gw.ServeStdioAs(ctx, a.stdin, a.stdout, gr, token)
	}
	return rt.gw.ServeStdio(ctx, a.stdin, a.stdout)
}
