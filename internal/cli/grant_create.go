package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/grant"
)

func newGrantCreateCmd(a *app) *cobra.Command {
	var (
		subject, policy, output string
		labels, servers         []string
		expires                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create --subject S --policy P [--label k=v]... [--server NAME]... [--expires 720h] [-o table|json]",
		Short: "Create a grant and print its token, once",
		Long: `create stores a new grant and prints its id and its token. The token is
printed only now: toolgate keeps only its hash. --policy must name one of the
configuration's policies (any name when it has none: calls are then denied
until it does), and every --server one of its servers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			for _, req := range []struct{ flag, value string }{{"subject", subject}, {"policy", policy}} {
				if req.value == "" {
					return toolgate.Errorf(toolgate.Invalid, "--%s is required", req.flag)
				}
			}
			spec := grant.Spec{Subject: subject, Policy: policy, Servers: servers}
			for _, l := range labels {
				k, v, err := grant.ParseLabel(l)
				if err != nil {
					return err
				}
				if _, dup := spec.Labels[k]; dup {
					return toolgate.Errorf(toolgate.Invalid, "label %s is given twice", k)
				}
				if spec.Labels == nil {
					spec.Labels = map[string]string{}
				}
				spec.Labels[k] = v
			}
			if cmd.Flags().Changed("expires") {
				if expires <= 0 {
					return toolgate.Errorf(toolgate.Invalid, "--expires must be a positive duration such as 720h, not %s", expires)
				}
				spec.ExpiresAt = time.Now().Add(expires)
			}
			if err := spec.Check(time.Now()); err != nil {
				return err
			}
			cfg, store, err := a.openGrants(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			if err := a.checkAgainstConfig(cfg, &spec); err != nil {
				return err
			}
			rec, err := a.openChangeRecorder(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer rec.close()
			g, token, err := grant.Create(cmd.Context(), store, spec)
			if err != nil {
				return err
			}
			rec.record(cmd.Context(), audit.ActionGrantCreated, g.ID, grantDetail(g))
			return a.writeIssued(g, token, output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&subject, "subject", "", "who uses the grant, e.g. alice@example.com or agent:support-bot (required)")
	f.StringVar(&policy, "policy", "", "the name of the policy that decides the grant's calls (required)")
	f.StringArrayVar(&labels, "label", nil, "a label key=value that conditions can read (repeatable)")
	f.StringArrayVar(&servers, "server", nil, "a server the grant may reach (repeatable; all when none)")
	f.DurationVar(&expires, "expires", 0, "how long the token works, e.g. 720h (never expires when absent)")
	f.StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// checkAgainstConfig checks that the spec's policy and servers are ones
// the configuration has. A configuration without policies accepts any
// policy name, with a warning: calls under the grant are denied until it
// names that policy.
func (a *app) checkAgainstConfig(cfg *config.Config, spec *grant.Spec) error {
	if len(cfg.Policies) == 0 {
		fmt.Fprintf(a.stderr, "warning: %s names no policies, so every call under this grant is denied until it names %q\n", cfg.File, spec.Policy)
	} else if _, ok := cfg.Policies[spec.Policy]; !ok {
		return toolgate.Errorf(toolgate.Invalid, "%s has no policy %q (its policies: %s)", cfg.File, spec.Policy,
			strings.Join(slices.Sorted(maps.Keys(cfg.Policies)), ", "))
	}
	for _, s := range spec.Servers {
		if _, ok := cfg.Servers[s]; !ok {
			have := "none"
			if len(cfg.ServerNames) > 0 {
				have = strings.Join(cfg.ServerNames, ", ")
			}
			return toolgate.Errorf(toolgate.Invalid, "%s has no server %q (its servers: %s)", cfg.File, s, have)
		}
	}
	return nil
}
