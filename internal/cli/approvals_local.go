package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/config"
)

// localApprovals is how the approvals commands reach the calls a wrap
// holds: a wrap (toolgate wrap, toolgate stdio -- cmd) serves no admin
// API, so with --state-dir the commands open its store, DIR/toolgate.db,
// directly. The wrap sees a decision made here within its poll interval
// (the agent's retry goes through). Whoever can write the store may
// decide: the file is the user's own (mode 0600).
type localApprovals struct {
	dir string
}

func (l *localApprovals) on() bool { return l.dir != "" }

// config is the configuration a wrap with this state directory runs
// with, as far as the store and its audit log go.
func (l *localApprovals) config() (*config.Config, error) {
	dir, err := filepath.Abs(l.dir)
	if err != nil {
		return nil, toolgate.Errorf(toolgate.Invalid, "--state-dir: %v", err)
	}
	path := filepath.Join(dir, "toolgate.db")
	if _, err := os.Stat(path); err != nil {
		return nil, toolgate.Errorf(toolgate.NotFound, "--state-dir %s: no store %s (a wrap creates it when it starts): %v", l.dir, path, err)
	}
	cfg := config.Default()
	cfg.Store = "sqlite://" + path
	cfg.Auth = "none"
	return cfg, nil
}

func (l *localApprovals) manager(ctx context.Context) (*approval.Manager, func(), error) {
	cfg, err := l.config()
	if err != nil {
		return nil, nil, err
	}
	s, err := approval.OpenSQLite(ctx, cfg.StorePath())
	if err != nil {
		return nil, nil, &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot open the store " + cfg.StorePath(), Err: err}
	}
	return approval.NewManager(s, nil), func() { s.Close() }, nil
}

// list returns the approvals with the status ("" for all).
func (l *localApprovals) list(ctx context.Context, status string) ([]approvalView, error) {
	m, done, err := l.manager(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	rs, err := m.List(ctx, approval.Status(status), 1000)
	if err != nil {
		return nil, fmt.Errorf("listing approvals: %w", err)
	}
	out := make([]approvalView, 0, len(rs))
	for _, r := range rs {
		out = append(out, viewOf(r))
	}
	return out, nil
}

// decide approves or denies the request id, as the local user, and
// records the decision in the store's audit log.
func (a *app) decideLocal(ctx context.Context, l *localApprovals, id string, approve bool, reason string) (approvalView, error) {
	cfg, err := l.config()
	if err != nil {
		return approvalView{}, err
	}
	rec, err := a.openChangeRecorder(ctx, cfg)
	if err != nil {
		return approvalView{}, err
	}
	defer rec.close()
	m, done, err := l.manager(ctx)
	if err != nil {
		return approvalView{}, err
	}
	defer done()
	r, err := m.Decide(ctx, id, approve, rec.actor, reason)
	if err != nil {
		return approvalView{}, approvalError(id, err)
	}
	detail := "denied"
	if approve {
		detail = "approved"
	}
	if reason != "" {
		detail += ": " + reason
	}
	rec.record(ctx, audit.ActionApprovalDecided, id, detail)
	return viewOf(r), nil
}

func viewOf(r *approval.Request) approvalView {
	return approvalView{ID: r.ID, Status: string(r.Status), Tool: r.Tool, Subject: r.Subject, Args: r.Args, ExpiresAt: r.ExpiresAt, DecidedBy: r.DecidedBy}
}

// approvalError gives the store's errors the codes the admin API's
// answers get.
func approvalError(id string, err error) error {
	switch {
	case errors.Is(err, approval.ErrNotFound):
		return &toolgate.Error{Code: toolgate.NotFound, Message: "no approval " + id, Err: err}
	case errors.Is(err, approval.ErrNotPending):
		return &toolgate.Error{Code: toolgate.Conflict, Message: "approval " + id + " is not pending", Err: err}
	}
	return fmt.Errorf("deciding approval %s: %w", id, err)
}
