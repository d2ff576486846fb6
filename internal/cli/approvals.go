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

// DefaultAdminURL is where `toolgate approvals` finds the gateway's admin
// API unless told otherwise: `toolgate serve` with the default listen.
const DefaultAdminURL = "http://127.0.0.1:8080"

func newApprovalsCmd(a *app) *cobra.Command {
	var base string
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List and decide the calls waiting for a human's approval",
		Long: `approvals talks to a running gateway's admin API (--url, the address of
toolgate serve): list the calls a policy with "action": "approve" holds, and
approve or deny them. The waiting call goes on, or is refused, at once.`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&base, "url", DefaultAdminURL, "the gateway's address (the admin API is under /admin/)")
	var status string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List approvals (pending ones by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if status != "all" {
				q.Set("status", status)
			}
			var out struct {
				Approvals []approvalView `json:"approvals"`
			}
			if err := adminDo(cmd.Context(), http.MethodGet, base, "/admin/approvals?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out.Approvals)
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
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list, newDecideCmd(a, &base, "approve"), newDecideCmd(a, &base, "deny"))
	return cmd
}

func newDecideCmd(a *app, base *string, verb string) *cobra.Command {
	var by, reason string
	c := &cobra.Command{
		Use:   verb + " ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a pending call",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, _ := json.Marshal(map[string]string{"by": by, "reason": reason})
			var r approvalView
			if err := adminDo(cmd.Context(), http.MethodPost, *base, "/admin/approvals/"+url.PathEscape(args[0])+"/"+verb, body, &r); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s %s: %s %s\n", r.ID, r.Status, r.Tool, clipText(string(r.Args), 80))
			return nil
		},
	}
	c.Flags().StringVar(&by, "by", defaultApprover(), "who decides (recorded with the decision)")
	c.Flags().StringVar(&reason, "reason", "", "why (the agent reads it when a call is denied)")
	return c
}

// approvalView is what the CLI reads of an approval.
type approvalView struct {
	ID        string          `json:"id"`
	Status    string          `json:"status"`
	Tool      string          `json:"tool"`
	Subject   string          `json:"subject"`
	Args      json.RawMessage `json:"args"`
	ExpiresAt time.Time       `json:"expires_at"`
}

func defaultApprover() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	return "cli"
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// adminDo calls the gateway's admin API and decodes its JSON answer.
func adminDo(ctx context.Context, method, base, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		return toolgate.Errorf(toolgate.Invalid, "--url %q: %v", base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot reach the gateway at " + base, Err: err}
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
		case http.StatusForbidden:
			code = toolgate.Forbidden
		}
		return toolgate.Errorf(code, "%s", msg)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "the gateway's answer is not what an admin API sends", Err: err}
	}
	return nil
}
