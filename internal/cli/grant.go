package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/grant"
)

func newGrantCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "grant",
		Short: "Create, list, show, revoke and rotate grants (bearer tokens)",
		Long: `grant manages the grants in the configuration's store (store: in --config):
bearer tokens, each bound to a subject, a policy and optionally labels,
servers and an expiry. A token is printed once, by create and rotate;
toolgate keeps only its SHA-256 hash.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newGrantCreateCmd(a), newGrantListCmd(a), newGrantShowCmd(a), newGrantRevokeCmd(a), newGrantRotateCmd(a))
	return cmd
}

// openGrants loads the configuration and opens the grant store it names.
// The caller closes the store.
// onGrant checks id, opens the configured grant store, runs fn on it and
// closes it: what show, revoke and rotate share.
func (a *app) onGrant(ctx context.Context, id string, fn func(store *grant.SQLite) error) error {
	if err := checkGrantID(id); err != nil {
		return err
	}
	_, store, err := a.openGrants(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(store)
}

// onGrantChange is onGrant for a command that changes the grant: fn
// also gets the audit log to record the change in.
func (a *app) onGrantChange(ctx context.Context, id string, fn func(store *grant.SQLite, rec *changeRecorder) error) error {
	if err := checkGrantID(id); err != nil {
		return err
	}
	cfg, store, err := a.openGrants(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	rec, err := a.openChangeRecorder(ctx, cfg)
	if err != nil {
		return err
	}
	defer rec.close()
	return fn(store, rec)
}

// grantDetail is the detail of a grant's audit event, as the admin API
// writes it: who the grant is for and its policy, never a token.
func grantDetail(g *toolgate.Grant) string {
	return "subject=" + g.Subject + " policy=" + g.Policy
}

func (a *app) openGrants(ctx context.Context) (*config.Config, *grant.SQLite, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	path := cfg.StorePath()
	if path == "" {
		return nil, nil, toolgate.Errorf(toolgate.Invalid, "%s: store %q: only sqlite:// is available in this build", cfg.File, cfg.Store)
	}
	s, err := grant.OpenSQLite(ctx, path, a.log)
	if err != nil {
		return nil, nil, &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot open the store " + path, Err: err}
	}
	return cfg, s, nil
}

// checkGrantID refuses what cannot be a grant id, so that a typo is an
// invalid argument rather than a grant not found.
func checkGrantID(id string) error {
	if !grant.ValidID(id) {
		return toolgate.Errorf(toolgate.Invalid, "%q is not a grant id (gr_ and 12 characters)", id)
	}
	return nil
}

// checkOutput refuses an -o value other than the ones listed.
func checkOutput(output string, allowed ...string) error {
	if !slices.Contains(allowed, output) {
		return toolgate.Errorf(toolgate.Invalid, "-o must be %s, not %q", strings.Join(allowed, " or "), output)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeIssued prints a grant and its new token, which is printed nowhere
// else, and reminds the reader on stderr to keep it.
func (a *app) writeIssued(g *toolgate.Grant, token, output string) error {
	if output == "json" {
		return writeJSON(a.stdout, grant.Issued{Grant: grant.ViewOf(g, time.Now()), Token: token})
	}
	fmt.Fprintf(a.stdout, "grant  %s\ntoken  %s\n", g.ID, token)
	fmt.Fprintln(a.stderr, "Keep the token now: it is not shown again (toolgate keeps only its hash).")
	fmt.Fprintln(a.stderr, "Agents send it as the header \"Authorization: Bearer <token>\".")
	return nil
}

func formatTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

func formatLabels(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

func formatServers(servers []string) string {
	if len(servers) == 0 {
		return "all"
	}
	return strings.Join(servers, ",")
}
