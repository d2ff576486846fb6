package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/config"
)

// adminPlane is the admin API's own listener, with the admin token store
// it checks tokens against.
type adminPlane struct {
	ln     net.Listener
	srv    *http.Server
	tokens *admin.SQLite
}

// listenAdmin opens the configured store's admin tokens and listens on
// admin_listen for the gateway's admin API. It returns nil when the admin
// plane is off.
func (a *app) listenAdmin(ctx context.Context, cfg *config.Config, rt *gatewayRuntime) (*adminPlane, error) {
	if cfg.AdminListen == "" {
		a.log.Info("the admin plane is off (admin_listen: off)")
		return nil, nil
	}
	if config.SameListener(cfg.Listen, cfg.AdminListen) {
		return nil, toolgate.Errorf(toolgate.Invalid, "%s: admin_listen %q is the MCP listener's address (%q); the admin API needs its own", cfg.File, cfg.AdminListen, cfg.Listen)
	}
	tokens, err := admin.OpenSQLite(ctx, cfg.StorePath(), a.log)
	if err != nil {
		return nil, fmt.Errorf("%s: opening the admin tokens in %s: %w", cfg.File, cfg.StorePath(), err)
	}
	ln, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		tokens.Close()
		return nil, fmt.Errorf("admin_listen on %s: %w (set admin_listen to another address, or off)", cfg.AdminListen, err)
	}
	h := rt.gw.AdminHandler(&admin.Verifier{Store: tokens, Logger: a.log}, rt.adminRoutes(a.log)...)
	return &adminPlane{ln: ln, srv: httpServer(h, cfg), tokens: tokens}, nil
}

// serve serves the admin API until the server is shut down.
func (p *adminPlane) serve() error { return p.srv.Serve(p.ln) }

// shutdown stops the listener, giving requests in flight a few seconds,
// and closes the token store.
func (p *adminPlane) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
	p.tokens.Close()
}
