package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/audit"
)

func newAdminCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage the admin API's tokens",
		Args:  cobra.NoArgs,
	}
	token := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke admin tokens",
		Long: `token manages the admin tokens in the configuration's store (store: in
--config), directly: the gateway need not run. An admin token authenticates
a person to the admin API (admin_listen) and carries their subject, which
is recorded as the author of their decisions, and a role:

  viewer          read-only: approvals, tools and their risk
  policy_manager  a viewer, plus policies and their attachment to grants
  admin           everything, approval decisions included

A token is printed once, by create; toolgate keeps only its SHA-256 hash.
It works until it is revoked or, when created with --expires, until it
expires; no expiry applies unless asked for.`,
		Args: cobra.NoArgs,
	}
	token.AddCommand(newAdminTokenCreateCmd(a), newAdminTokenListCmd(a), newAdminTokenRevokeCmd(a))
	cmd.AddCommand(token)
	return cmd
}

// onAdminTokens loads the configuration, opens the admin tokens of
// the store it names, runs fn and closes the store.
func (a *app) onAdminTokens(ctx context.Context, fn func(store *admin.SQLite) error) error {
	return a.onAdminTokensWith(ctx, false, func(store *admin.SQLite, _ *changeRecorder) error { return fn(store) })
}

// onAdminTokenChange is onAdminTokens for a command that changes a token:
// fn also gets the audit log to record the change in.
func (a *app) onAdminTokenChange(ctx context.Context, fn func(store *admin.SQLite, rec *changeRecorder) error) error {
	return a.onAdminTokensWith(ctx, true, fn)
}

func (a *app) onAdminTokensWith(ctx context.Context, change bool, fn func(store *admin.SQLite, rec *changeRecorder) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	path := cfg.StorePath()
	if path == "" {
		return toolgate.Errorf(toolgate.Invalid, "%s: store %q: only sqlite:// is available in this build", cfg.File, cfg.Store)
	}
	s, err := admin.OpenSQLite(ctx, path, a.log)
	if err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot open the store " + path, Err: err}
	}
	defer s.Close()
	var rec *changeRecorder
	if change {
		if rec, err = a.openChangeRecorder(ctx, cfg); err != nil {
			return err
		}
		defer rec.close()
	}
	return fn(s, rec)
}

// adminTokenDetail is the detail of an admin token's audit event: whose
// it is, its role and expiry, never the token.
func adminTokenDetail(t *admin.Token) string {
	return "subject=" + t.Subject + " role=" + string(t.Role) + " expires=" + formatTime(t.ExpiresAt, "never")
}

// adminTokenView is an admin token as the commands print it in JSON.
type adminTokenView struct {
	*admin.Token
	Status string `json:"status"`
}

func adminViewOf(t *admin.Token, now time.Time) adminTokenView {
	return adminTokenView{t, t.Status(now)}
}

func newAdminTokenCreateCmd(a *app) *cobra.Command {
	var subject, role, output string
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "create --subject S --role admin|policy_manager|viewer [--expires 720h] [-o table|json]",
		Short: "Create an admin token; it is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			r, err := admin.ParseRole(role)
			if err != nil {
				return err
			}
			spec := admin.Spec{Subject: subject, Role: r}
			if cmd.Flags().Changed("expires") {
				if expires <= 0 {
					return toolgate.Errorf(toolgate.Invalid, "--expires must be a positive duration such as 720h, not %s", expires)
				}
				spec.ExpiresAt = time.Now().Add(expires)
			}
			if err := spec.Check(time.Now()); err != nil {
				return err
			}
			return a.onAdminTokenChange(cmd.Context(), func(store *admin.SQLite, rec *changeRecorder) error {
				t, secret, err := admin.Create(cmd.Context(), store, spec)
				if err != nil {
					return err
				}
				rec.record(cmd.Context(), audit.ActionAdminTokenCreate, t.ID, adminTokenDetail(t))
				if output == "json" {
					return writeJSON(a.stdout, struct {
						Token  adminTokenView `json:"admin_token"`
						Secret string         `json:"token"`
					}{adminViewOf(t, time.Now()), secret})
				}
				fmt.Fprintf(a.stdout, "admin token  %s (%s, %s)\ntoken        %s\nexpires      %s\n", t.ID, t.Subject, t.Role, secret, formatTime(t.ExpiresAt, "never"))
				fmt.Fprintln(a.stderr, "Keep the token now: it is not shown again (toolgate keeps only its hash).")
				fmt.Fprintln(a.stderr, "The CLI reads it from TOOLGATE_ADMIN_TOKEN; HTTP clients send \"Authorization: Bearer <token>\" to admin_listen.")
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "who uses the token, e.g. alice@example.com (required)")
	cmd.Flags().StringVar(&role, "role", "", "admin, policy_manager or viewer (required)")
	cmd.Flags().DurationVar(&expires, "expires", 0, "how long the token works, e.g. 720h (never expires when absent)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

func newAdminTokenListCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list [-o table|json]",
		Short: "List every admin token, revoked and expired ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			return a.onAdminTokens(cmd.Context(), func(store *admin.SQLite) error {
				tokens, err := store.List(cmd.Context())
				if err != nil {
					return err
				}
				now := time.Now()
				if output == "json" {
					views := make([]adminTokenView, 0, len(tokens))
					for _, t := range tokens {
						views = append(views, adminViewOf(t, now))
					}
					return writeJSON(a.stdout, views)
				}
				if len(tokens) == 0 {
					fmt.Fprintln(a.stdout, "no admin tokens")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSUBJECT\tROLE\tSTATUS\tCREATED\tEXPIRES")
				for _, t := range tokens {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Subject, t.Role, t.Status(now),
						formatTime(t.CreatedAt, ""), formatTime(t.ExpiresAt, "never"))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

func newAdminTokenRevokeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an admin token: it is refused at once, for good",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if !admin.ValidID(id) {
				return toolgate.Errorf(toolgate.Invalid, "%q is not an admin token id (%s and 12 characters)", id, admin.IDPrefix)
			}
			return a.onAdminTokenChange(cmd.Context(), func(store *admin.SQLite, rec *changeRecorder) error {
				now := time.Now().UTC()
				t, err := store.Revoke(cmd.Context(), id, now)
				if err != nil {
					return err
				}
				if !t.RevokedAt.Equal(now) {
					fmt.Fprintf(a.stdout, "%s was already revoked at %s\n", t.ID, formatTime(t.RevokedAt, ""))
					return nil
				}
				rec.record(cmd.Context(), audit.ActionAdminTokenRevoked, t.ID, adminTokenDetail(t))
				fmt.Fprintf(a.stdout, "revoked %s (%s, %s)\n", t.ID, t.Subject, t.Role)
				return nil
			})
		},
	}
}
