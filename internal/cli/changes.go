package cli

import (
	"context"
	"fmt"
	"io"
	"os/user"
	"slices"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/config"
)

// changeRecorder records in the configuration's audit log the changes a
// command makes to the store directly, with no gateway involved (toolgate
// grant, toolgate admin token, toolgate scan --pin): they land in the
// same chain as the gateway's events, since the SQLite sink takes several
// writers. A nil *changeRecorder, or one with no log, records nothing.
type changeRecorder struct {
	log    *audit.Log
	actor  string
	stderr io.Writer
}

// changeEventTimeout bounds the wait for a change to be recorded.
const changeEventTimeout = 10 * time.Second

// openChangeRecorder opens cfg's audit log as serve does, for a command
// about to change the store. It is opened before the change, so that a
// log that cannot be opened leaves the store unchanged. What it does not
// open:
//
//   - an audit log that is off: nothing is recorded;
//   - a log whose primary is not the store's sqlite sink (a jsonl file):
//     the gateway that may be appending to that file would not see this
//     process's events and would fork the chain, so the change is not
//     recorded, and the command says so on stderr;
//   - stdout sinks: the command's standard output is its own.
func (a *app) openChangeRecorder(ctx context.Context, cfg *config.Config) (*changeRecorder, error) {
	r := &changeRecorder{actor: cliActor(), stderr: a.stderr}
	if !cfg.Audit.Enabled || len(cfg.Audit.Sinks) == 0 {
		return r, nil
	}
	if t := cfg.Audit.Sinks[0].Type; t != config.SinkSQLite {
		fmt.Fprintf(a.stderr, "warning: this change is not recorded in the audit log: its first sink is %s, which only the gateway appends to (a sqlite first sink records it)\n", t)
		return r, nil
	}
	if cfg.StorePath() == "" {
		return r, nil
	}
	c := *cfg
	c.Audit.Sinks = slices.DeleteFunc(slices.Clone(cfg.Audit.Sinks), func(s config.AuditSink) bool { return s.Type == config.SinkStdout })
	l, _, err := a.openAudit(ctx, &c)
	if err != nil {
		return nil, &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot open the audit log, so nothing was changed", Err: err}
	}
	r.log = l
	return r, nil
}

// record appends the admin event action on target. The change is made
// already: a failure is reported on stderr, and the command goes on.
func (r *changeRecorder) record(ctx context.Context, action, target, detail string) {
	if r == nil || r.log == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), changeEventTimeout)
	defer cancel()
	if err := r.log.Append(ctx, audit.Admin(action, r.actor, target, detail)); err != nil {
		fmt.Fprintf(r.stderr, "warning: the change was made, but the audit log could not record it: %v\n", err)
	}
}

// close closes the audit log (its secondary sinks get what was recorded).
func (r *changeRecorder) close() {
	if r == nil || r.log == nil {
		return
	}
	if err := r.log.Close(); err != nil {
		fmt.Fprintf(r.stderr, "warning: closing the audit log: %v\n", err)
	}
}

// cliActor names who made a change from the command line: "cli:" and the
// operating system's user name, or "cli" when it cannot be known.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
