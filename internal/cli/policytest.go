package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/policytest"
)

func newPolicyTestCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "test FILE... [-o table|json]",
		Short: "Run policy unit tests: calls with an identity and the decision each must get",
		Long: `test reads each test file (YAML or JSON), loads the policy it names
(relative to the test file) or holds inline, and decides every case with
the gateway's own decision code, without starting anything. It prints one
line per case, what differs for each failing one, and a summary.

It exits 0 when every case passes, 1 when any fails, and, before running
anything, 1 for an invalid test file or policy (every problem printed as
file:line:col) and 3 for a file not found. See docs/policy-testing.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			return a.policyTest(cmd, files, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// policyTestFile is one file's results in -o json.
type policyTestFile struct {
	File   string             `json:"file"`
	Policy string             `json:"policy,omitempty"`
	Cases  []policyTestResult `json:"cases"`
}

type policyTestResult struct {
	Name       string                `json:"name"`
	Line       int                   `json:"line"`
	Pass       bool                  `json:"pass"`
	Want       policy.Expectation    `json:"want"`
	Got        toolgate.Decision     `json:"got"`
	Mismatches []policytest.Mismatch `json:"mismatches,omitempty"`
}

func (a *app) policyTest(cmd *cobra.Command, files []string, output string) error {
	var (
		loaded []*policy.TestFile
		first  error
	)
	for _, f := range files {
		tf, err := policy.LoadTestFile(f)
		if err != nil {
			var list policy.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					fmt.Fprintln(a.stderr, e.Error())
				}
			} else {
				fmt.Fprintf(a.stderr, "toolgate: %s\n", toolgate.ErrorMessage(err))
			}
			if first == nil {
				first = err
			}
			continue
		}
		loaded = append(loaded, tf)
	}
	if first != nil {
		return &reportedError{first}
	}
	var (
		report         []policyTestFile
		passed, failed int
	)
	for _, tf := range loaded {
		pf := policyTestFile{File: tf.File, Policy: tf.PolicyPath, Cases: []policyTestResult{}}
		for _, r := range policytest.Run(cmd.Context(), tf) {
			if r.Pass {
				passed++
			} else {
				failed++
			}
			pf.Cases = append(pf.Cases, policyTestResult{Name: r.Name, Line: r.Line, Pass: r.Pass, Want: r.Want, Got: r.Got, Mismatches: r.Mismatches})
		}
		report = append(report, pf)
	}
	if output == "json" {
		if err := writeJSON(a.stdout, map[string]any{"files": report, "passed": passed, "failed": failed}); err != nil {
			return err
		}
	} else {
		for _, pf := range report {
			for _, r := range pf.Cases {
				status := "ok  "
				if !r.Pass {
					status = "FAIL"
				}
				fmt.Fprintf(a.stdout, "%s  %s:%d  %s\n", status, pf.File, r.Line, r.Name)
				for _, m := range r.Mismatches {
					fmt.Fprintf(a.stdout, "        %s:\n          - want %s\n          + got  %s\n", m.Field, m.Want, m.Got)
				}
				if !r.Pass {
					fmt.Fprintf(a.stdout, "        the decision: %s, kind %s, rule %s", r.Got.Action, kindText(r.Got), r.Got.Rule)
					if r.Got.Reason != "" {
						fmt.Fprintf(a.stdout, ": %s", r.Got.Reason)
					}
					fmt.Fprintln(a.stdout)
				}
			}
		}
		fmt.Fprintf(a.stdout, "%d cases: %d passed, %d failed\n", passed+failed, passed, failed)
	}
	if failed > 0 {
		return &reportedError{toolgate.Errorf(toolgate.Invalid, "%d of %d policy tests failed", failed, passed+failed)}
	}
	return nil
}

// kindText renders a decision's kind, with the would-be kind of a
// shadow_denied decision.
func kindText(d toolgate.Decision) string {
	if d.ShadowKind != "" {
		return string(d.Kind) + "(" + string(d.ShadowKind) + ")"
	}
	return string(d.Kind)
}
