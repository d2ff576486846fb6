package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func newStdioCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "stdio",
		Short: "Run the gateway for one client on stdin/stdout",
		Long: `stdio runs the gateway for a single client session over stdin and stdout,
newline-delimited JSON-RPC as MCP's stdio transport has it: the form for
clients that launch a command (Claude Desktop style). Logs go to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			rt, err := a.newRuntime(cfg, "stdio")
			if err != nil {
				return err
			}
			defer rt.close()
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go rt.watch(ctx, hup)
			return rt.gw.ServeStdio(ctx, a.stdin, a.stdout)
		},
	}
}
