package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
)

// DefaultAdminURL is where the commands that act on a running gateway
// find its admin API unless told otherwise: the default admin_listen.
const DefaultAdminURL = "http://127.0.0.1:8081"

// DefaultAdminTokenEnv names the environment variable holding the admin
// token those commands send.
const DefaultAdminTokenEnv = "TOOLGATE_ADMIN_TOKEN"

// adminClient is how a command reaches a running gateway's admin API:
// its address and the variable holding the admin token.
type adminClient struct {
	base     string
	tokenEnv string
}

// flags adds --admin-url and --token-env to cmd and its subcommands.
func (c *adminClient) flags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.base, "admin-url", DefaultAdminURL, "the gateway's admin API (admin_listen)")
	f.StringVar(&c.base, "url", DefaultAdminURL, "")
	_ = f.MarkDeprecated("url", "use --admin-url: the admin API has its own listener (admin_listen)")
	f.StringVar(&c.tokenEnv, "token-env", DefaultAdminTokenEnv, "environment variable holding the admin token")
}

func newApprovalsCmd(a *app) *cobra.Command {
	c := &adminClient{}
	local := &localApprovals{}
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List and decide the calls waiting for a human's approval",
		Long: `approvals talks to a running gateway's admin API (--admin-url, the
gateway's admin_listen) with the admin token in $TOOLGATE_ADMIN_TOKEN (or
the variable --token-env names): list the calls a policy with "action":
"approve" holds (a viewer token is enough), and approve or deny them (an
admin token). The decision is recorded as the token's subject's, and nobody
may approve a call made under their own subject. The waiting call goes on,
or is refused, at once.

With --state-dir DIR they act on the store of the wraps using that state
directory (toolgate wrap serves no admin API) directly, as the local user.`,
		Args: cobra.NoArgs,
	}
	c.flags(cmd)
	cmd.PersistentFlags().StringVar(&local.dir, "state-dir", "", "act on the store of the wraps using this state directory (toolgate wrap --state-dir; wraps serve no admin API) instead of a gateway's admin API")
	var status, output string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [-o table|json]",
		Short: "List approvals (pending ones by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				output = "json"
			}
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			q := url.Values{}
			if status != "all" {
				q.Set("status", status)
			}
			var out struct {
				Approvals []approvalView `json:"approvals"`
			}
			if local.on() {
				st := status
				if st == "all" {
					st = ""
				}
				var err error
				if out.Approvals, err = local.list(cmd.Context(), st); err != nil {
					return err
				}
			} else if err := c.do(cmd.Context(), http.MethodGet, "/admin/approvals?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(a.stdout, out.Approvals)
			}
			if len(out.Approvals) == 0 {
				fmt.Fprintln(a.stdout, "no approvals")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tTOOL\tSUBJECT\tEXPIRES\tARGUMENTS")
			for _, r := range out.Approvals {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Tool, r.Subject,
					r.ExpiresAt.Local().Format(time.DateTime), clipText(string(r.Args), 80))
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&status, "status", "pending", "pending, approved, denied, expired or all")
	list.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = list.Flags().MarkDeprecated("json", "use -o json")
	cmd.AddCommand(list, newDecideCmd(a, c, local, "approve"), newDecideCmd(a, c, local, "deny"))
	return cmd
}

func newDecideCmd(a *app, c *adminClient, local *localApprovals, verb string) *cobra.Command {
	var by, reason, output string
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a pending call (needs an admin token)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("by") {
				return toolgate.Errorf(toolgate.Invalid, "--by %q: the decider is the admin token's subject; use a token issued to %s", by, by)
			}
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			var r approvalView
			if local.on() {
				var err error
				if r, err = a.decideLocal(cmd.Context(), local, args[0], verb == "approve", reason); err != nil {
					return err
				}
			} else {
				body, _ := json.Marshal(map[string]string{"reason": reason})
				if err := c.do(cmd.Context(), http.MethodPost, "/admin/approvals/"+url.PathEscape(args[0])+"/"+verb, body, &r); err != nil {
					return err
				}
			}
			if output == "json" {
				return writeJSON(a.stdout, r)
			}
			fmt.Fprintf(a.stdout, "%s %s by %s: %s %s\n", r.ID, r.Status, r.DecidedBy, r.Tool, clipText(string(r.Args), 80))
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "")
	_ = cmd.Flags().MarkHidden("by")
	cmd.Flags().StringVar(&reason, "reason", "", "why (the agent reads it when a call is denied)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// approvalView is what the CLI reads of an approval.
type approvalView struct {
	ID        string          `json:"id"`
	Status    string          `json:"status"`
	Tool      string          `json:"tool"`
	Subject   string          `json:"subject"`
	Args      json.RawMessage `json:"args"`
	ExpiresAt time.Time       `json:"expires_at"`
	DecidedBy string          `json:"decided_by,omitempty"`
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// do calls the gateway's admin API with the admin token and decodes its
// JSON answer.
func (c *adminClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	token := strings.TrimSpace(os.Getenv(c.tokenEnv))
	if token == "" {
		return toolgate.Errorf(toolgate.Invalid, "$%s is empty: set it to an admin token (toolgate admin token create)", c.tokenEnv)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.base, "/")+path, rd)
	if err != nil {
		return toolgate.Errorf(toolgate.Invalid, "--admin-url %q: %v", c.base, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot reach the gateway's admin API at " + c.base, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "reading the gateway's answer failed", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		code := toolgate.Internal
		switch resp.StatusCode {
		case http.StatusNotFound:
			code = toolgate.NotFound
		case http.StatusConflict:
			code = toolgate.Conflict
		case http.StatusBadRequest:
			code = toolgate.Invalid
		case http.StatusUnauthorized:
			code = toolgate.Unauthorized
			msg += " ($" + c.tokenEnv + ")"
		case http.StatusForbidden:
			code = toolgate.Forbidden
		case http.StatusServiceUnavailable:
			code = toolgate.Unavailable
		}
		return toolgate.Errorf(code, "%s", msg)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "the gateway's answer is not what an admin API sends", Err: err}
	}
	return nil
}
