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
	"github.com/toolgate/toolgate/grant"
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
server with auth: grants and two grants (a support bot under a sample
policy: default deny; reads allowed; UpdateUser capped at 30 calls a minute
and never with skip_password_checks; DeleteUser denied; and an
administrator under a policy that allows everything), and prints the MCP
URL, both tokens, a client configuration and examples to try. Ctrl-C stops
it.`,
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
	// Two grants, as a team would hand out: the support bot under the
	// sample policy, and an administrator under a broad one. The tokens
	// live only as long as the demo.
	grants := grant.NewMemory()
	support, supportToken, err := grant.Create(ctx, grants, grant.Spec{Subject: "agent:support-bot", Policy: "support", Labels: map[string]string{"team": "support"}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	admin, adminToken, err := grant.Create(ctx, grants, grant.Spec{Subject: "alice@example.com", Policy: "admin", Labels: map[string]string{"role": "admin"}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	broad, err := policy.Load([]byte(`{"version":"1","default":"allow"}`), "demo admin policy")
	if err != nil {
		return fmt.Errorf("demo: the admin policy: %w", err)
	}
	verifier := &grant.Verifier{Store: grants, Logger: a.log}
	opts.Authenticator = gateway.AuthenticatorFunc(verifier.Verify)
	opts.Logger = a.log
	opts.Version = shortVersion()
	gw, err := gateway.New(&opts)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer gw.Close()
	gw.SetNamedPolicy("support", eng)
	gw.SetNamedPolicy("admin", broad)
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
	fmt.Fprintf(a.stdout, `toolgate demo: the user directory behind the policy gateway (auth: grants)

  MCP URL        %[1]s
  grant token    %[5]s   %[6]s (%[7]s, the sample policy)
  admin grant    %[8]s   %[9]s (%[10]s, allows everything)
  dashboard      not in this build yet; the admin API is toolgate serve's, on admin_listen
  directory API  %[2]s/v1/users   (Authorization: Bearer %[3]s)
  policy         default deny; reads allowed (120/min); UpdateUser 30/min per grant, never
                 with skip_password_checks; DeleteUser and BanUser denied

An MCP client configuration for the support bot's grant:

  {"mcpServers": {"toolgate": {"url": "%[1]s", "headers": {"Authorization": "Bearer %[5]s"}}}}

or try:

  go run ./cmd/toolgate call --url %[1]s --header 'Authorization: Bearer %[5]s' ListUsers limit=3
  go run ./cmd/toolgate call --url %[1]s --header 'Authorization: Bearer %[5]s' UpdateUser user_id=user_demo_ada first_name=Augusta
  go run ./cmd/toolgate call --url %[1]s --header 'Authorization: Bearer %[5]s' UpdateUser user_id=user_demo_ada password=%[4]s skip_password_checks=true
  go run ./cmd/toolgate call --url %[1]s --header 'Authorization: Bearer %[5]s' DeleteUser user_id=user_demo_alan
  go run ./cmd/toolgate call --url %[1]s ListUsers   (no token: refused, 401)
  curl -s -H 'Authorization: Bearer %[3]s' %[2]s/v1/users/user_demo_ada

Ctrl-C stops the demo.
`, url, dirURL, secretKey, "hunter2hunter2", supportToken, support.ID, support.Subject, adminToken, admin.ID, admin.Subject)
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
