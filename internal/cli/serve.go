package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/gateway"
)

func newServeCmd(a *app) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway's streamable-HTTP front at /mcp",
		Long: `serve starts the gateway: an MCP streamable-HTTP endpoint at /mcp on the
configured listen address (127.0.0.1:8080 by default). Each client session
gets its own session with every upstream server. The policy file is
reloaded when it changes or on SIGHUP; a policy that fails to load is
refused and the one in force stays.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.Listen = listen
			}
			return a.serve(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (overrides the config's listen)")
	return cmd
}

// httpServer returns an HTTP server for h with the configuration's bounds
// on slow and idle clients. It sets no WriteTimeout on purpose: a write
// timeout would cut the server-sent event streams an MCP session keeps
// open for as long as it lives. ReadTimeout does not, as net/http lifts
// it once the request body has been read.
func httpServer(h http.Handler, cfg *config.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: time.Duration(cfg.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(cfg.ReadTimeout),
		IdleTimeout:       time.Duration(cfg.IdleTimeout),
		MaxHeaderBytes:    int(cfg.MaxHeaderBytes),
	}
}

func (a *app) serve(ctx context.Context, cfg *config.Config) error {
	rt, err := a.newRuntime(cfg, "http")
	if err != nil {
		return err
	}
	defer rt.close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", rt.gw)
	for _, name := range cfg.ServerNames { // each server alone, as well as merged
		h, err := rt.gw.ServerHandler(name)
		if err != nil {
			return err
		}
		mux.Handle("/mcp/"+name, h)
	}
	if cfg.LegacySSE { // the HTTP+SSE transport of MCP 2024-11-05, for old clients
		mux.HandleFunc(gateway.LegacySSEPath, rt.gw.ServeLegacySSE)
		mux.HandleFunc(gateway.LegacyMessagesPath, rt.gw.ServeLegacyMessages)
	}
	if cfg.JWT != nil { // RFC 9728 metadata, for OAuth clients to find the issuer
		mux.Handle(gateway.ResourceMetadataPath, rt.gw.ResourceMetadataHandler())
		mux.Handle(gateway.ResourceMetadataPath+"/", rt.gw.ResourceMetadataHandler())
	}
	mux.Handle("GET /readyz", rt.gw.ReadyHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := httpServer(mux, cfg)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go rt.watch(ctx, hup)

	plane, err := a.listenAdmin(ctx, cfg, rt)
	if err != nil {
		ln.Close()
		return err
	}

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(a.stdout, "toolgate %s: MCP endpoint http://%s/mcp (%d upstream servers)\n", shortVersion(), ln.Addr(), len(cfg.ServerNames))
	if cfg.LegacySSE {
		fmt.Fprintf(a.stdout, "legacy HTTP+SSE endpoint http://%s%s\n", ln.Addr(), gateway.LegacySSEPath)
	}
	rt.gw.StartUpstreams()
	if a.progress != nil {
		go a.progress.watch(ctx, rt.gw)
	}
	if plane != nil {
		go func() { errc <- plane.serve() }()
		defer plane.shutdown()
		fmt.Fprintf(a.stdout, "admin API http://%s/admin/ (admin tokens: toolgate admin token create)\n", plane.ln.Addr())
	}
	a.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	// Close the gateway first: it ends the sessions, and with them the
	// open server→client streams that would otherwise hold Shutdown up.
	rt.gw.Close()
	_ = srv.Shutdown(sctx)
	return nil
}
