package cli

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/policy"
)

// demoPolicy is the sample policy of `toolgate demo`.
//
//go:embed demo/policy.json
var demoPolicy []byte

func newDemoCmd(a *app) *cobra.Command {
	var dataDir, listen string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the directory and the gateway in front of it, with a sample policy",
		Long: `demo needs no setup: it starts the built-in user directory (a
Clerk-compatible user service, SQLite in a temporary directory or --data,
seeded with demo users), starts the gateway in front of the directory's MCP
server with a sample policy (default deny; reads allowed; UpdateUser capped
at 30 calls a minute and never with skip_password_checks; DeleteUser
denied), and prints the MCP URL and examples to try. Ctrl-C stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(cmd.Context(), dataDir, listen)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "directory for the demo database (default: a temporary directory, removed on exit)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address of the gateway's MCP endpoint")
	return cmd
}

func (a *app) demo(ctx context.Context, dataDir, listen string) error {
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "toolgate-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	store, err := directory.Open(ctx, filepath.Join(dataDir, "directory.db"))
	if err != nil {
		return fmt.Errorf("demo: opening the directory: %w", err)
	}
	defer store.Close()
	if _, err := directory.Seed(ctx, store); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	svc := directory.NewService(store, a.log)
	secretKey, apiKey := randomKey("sk_demo_"), randomKey("")

	// The directory: Clerk's REST API, Iterable-style endpoints and MCP.
	dirHandler := directory.NewHandler(svc, &directory.HandlerOptions{SecretKeys: []string{secretKey}, APIKeys: []string{apiKey},
		Log: a.log, MCP: directory.NewMCPServer(svc, shortVersion())})
	dirLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// No configuration file: both servers get the default HTTP limits, and
	// the gateway the default bounds.
	limits := config.Default()
	dirSrv := httpServer(dirHandler, limits)
	go func() { _ = dirSrv.Serve(dirLn) }()
	defer dirSrv.Close()

	// The gateway in front of the directory's MCP server.
	eng, err := policy.Load(demoPolicy, "demo policy")
	if err != nil {
		return fmt.Errorf("demo: the sample policy: %w", err)
	}
	opts := gatewayOptions(limits)
	opts.Servers = []gateway.Server{{Name: "directory", URL: "http://" + dirLn.Addr().String() + "/mcp",
		Headers: map[string]string{"Authorization": "Bearer " + secretKey}}}
	opts.Policy = eng
	opts.Logger = a.log
	opts.Version = shortVersion()
	gw, err := gateway.New(&opts)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer gw.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w (use --listen to pick another address)", listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	srv := httpServer(mux, limits)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	url := "http://" + ln.Addr().String() + "/mcp"
	dirURL := "http://" + dirLn.Addr().String()
	fmt.Fprintf(a.stdout, `toolgate demo: the user directory behind the policy gateway

  MCP URL        %[1]s
  grant token    none: this build runs with auth: none, on loopback only
  dashboard      not in this build yet; the admin API is toolgate serve's, on admin_listen
  directory API  %[2]s/v1/users   (Authorization: Bearer %[3]s)
  policy         default deny; reads allowed (120/min); UpdateUser 30/min, never with
                 skip_password_checks; DeleteUser and BanUser denied

Point an MCP client at the MCP URL, or try:

  go run ./cmd/toolgate call --url %[1]s ListUsers limit=3
  go run ./cmd/toolgate call --url %[1]s UpdateUser user_id=user_demo_ada first_name=Augusta
  go run ./cmd/toolgate call --url %[1]s UpdateUser user_id=user_demo_ada password=%[4]s skip_password_checks=true
  go run ./cmd/toolgate call --url %[1]s DeleteUser user_id=user_demo_alan
  curl -s -H 'Authorization: Bearer %[3]s' %[2]s/v1/users/user_demo_ada

Ctrl-C stops the demo.
`, url, dirURL, secretKey, "hunter2hunter2")
	a.log.Info("demo running", "mcp", url, "directory", dirURL, "data", dataDir)

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("demo: %w", err)
		}
	case <-ctx.Done():
	}
	fmt.Fprintln(a.stdout, "stopping")
	gw.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	_ = dirSrv.Shutdown(sctx)
	return nil
}
