package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// conformanceRow is one scenario of the conformance table: how many of its
// checks passed out of how many ran, direct and through toolgate.
type conformanceRow struct {
	scenario                    string
	directPass, directTotal     int
	throughPass, throughTotal   int
	directFailed, throughFailed []string // checks that did not pass: "id STATUS"
}

// compareConformance lines up the suite's results direct and through
// toolgate. lost names every check that passed direct and did not pass
// through toolgate, and every scenario that ran direct but not through.
func compareConformance(direct, through testpeer.ConformanceResults) (rows []conformanceRow, lost []string) {
	scenarios := make([]string, 0, len(direct))
	for s := range direct {
		scenarios = append(scenarios, s)
	}
	for s := range through {
		if _, ok := direct[s]; !ok {
			scenarios = append(scenarios, s)
		}
	}
	slices.Sort(scenarios)
	for _, s := range scenarios {
		row := conformanceRow{scenario: s}
		passedThrough := map[string]bool{}
		for _, c := range through[s] {
			row.throughTotal++
			if c.Status == "SUCCESS" {
				row.throughPass++
				passedThrough[c.ID] = true
			} else {
				row.throughFailed = append(row.throughFailed, c.ID+" "+c.Status)
			}
		}
		for _, c := range direct[s] {
			row.directTotal++
			if c.Status != "SUCCESS" {
				row.directFailed = append(row.directFailed, c.ID+" "+c.Status)
				continue
			}
			row.directPass++
			if !passedThrough[c.ID] {
				why := "not run"
				for _, tc := range through[s] {
					if tc.ID == c.ID {
						why = strings.TrimSpace(tc.Status + " " + tc.Error)
					}
				}
				lost = append(lost, fmt.Sprintf("%s: %s passes direct, through toolgate: %s", s, c.ID, why))
			}
		}
		if _, ok := through[s]; !ok && len(direct[s]) > 0 {
			lost = append(lost, s+": the scenario did not run through toolgate")
		}
		rows = append(rows, row)
	}
	return rows, lost
}

// conformanceTable renders rows as the Markdown table of
// docs/conformance.md.
func conformanceTable(rows []conformanceRow) string {
	var b strings.Builder
	b.WriteString("| scenario | checks passed direct | checks passed through toolgate |\n|---|---|---|\n")
	var dp, dt, tp, tt int
	// A cell names the checks that failed or warned; informational ones
	// (INFO: the suite saw the behaviour but does not grade it) are counted.
	cell := func(pass, total int, failed []string) string {
		s := fmt.Sprintf("%d/%d", pass, total)
		var named []string
		info := 0
		for _, f := range failed {
			if strings.HasSuffix(f, " INFO") {
				info++
			} else {
				named = append(named, f)
			}
		}
		if info > 0 {
			named = append(named, fmt.Sprintf("%d INFO", info))
		}
		if len(named) > 0 {
			s += " (" + strings.Join(named, ", ") + ")"
		}
		return s
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.scenario,
			cell(r.directPass, r.directTotal, r.directFailed), cell(r.throughPass, r.throughTotal, r.throughFailed))
		dp, dt, tp, tt = dp+r.directPass, dt+r.directTotal, tp+r.throughPass, tt+r.throughTotal
	}
	fmt.Fprintf(&b, "| all %d scenarios | %d/%d | %d/%d |\n", len(rows), dp, dt, tp, tt)
	return b.String()
}

// The comparison fails on a check lost through toolgate, on a scenario that
// did not run through toolgate, and not on a check that fails both ways.
func TestCompareConformance(t *testing.T) {
	ok := func(id string) testpeer.ConformanceCheck { return testpeer.ConformanceCheck{ID: id, Status: "SUCCESS"} }
	direct := testpeer.ConformanceResults{
		"ping":    {ok("ping")},
		"streams": {ok("accepts"), ok("functional")},
		"polling": {{ID: "priming", Status: "WARNING"}, {ID: "request", Status: "INFO"}},
		"gone":    {ok("gone")},
	}
	through := testpeer.ConformanceResults{
		"ping":    {ok("ping")},
		"streams": {ok("accepts"), {ID: "functional", Status: "INFO", Error: "JSON"}},
		"polling": {{ID: "priming", Status: "WARNING"}},
		"extra":   {ok("extra")},
	}
	rows, lost := compareConformance(direct, through)
	want := []string{
		"gone: gone passes direct, through toolgate: not run",
		"gone: the scenario did not run through toolgate",
		"streams: functional passes direct, through toolgate: INFO JSON",
	}
	if !slices.Equal(lost, want) {
		t.Errorf("lost =\n%s\nwant\n%s", strings.Join(lost, "\n"), strings.Join(want, "\n"))
	}
	table := conformanceTable(rows)
	for _, line := range []string{
		"| `streams` | 2/2 | 1/2 (1 INFO) |",
		"| `polling` | 0/2 (priming WARNING, 1 INFO) | 0/1 (priming WARNING) |",
		"| `extra` | 0/0 | 1/1 |",
		"| all 5 scenarios | 4/6 | 3/5 |",
	} {
		if !strings.Contains(table, line+"\n") {
			t.Errorf("the table lacks %q:\n%s", line, table)
		}
	}
}

// The official MCP conformance suite (@modelcontextprotocol/conformance,
// every server scenario, pending ones included) against the go-sdk's
// reference conformance server, first direct, then through `toolgate serve`
// (auth: none on loopback, a policy that allows everything) fronting it:
// every check that passes direct must pass through toolgate. The table it
// logs (go test -v) is the one in docs/conformance.md.
func TestConformance(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	testpeer.Node22(t) // skip early, before building anything, without the peers
	upstream := testpeer.ConformanceServer(t, ctx)
	// 0.1.16 has 32 server scenarios.
	conformanceThrough(t, ctx, upstream, testpeer.RunConformance, 30, "conformance")
}

// The conformance suite's pre-release line (0.2.0-alpha, the npm alias
// conformance-next) on protocol revision 2026-07-28: server/discover,
// stateless requests, the revision's HTTP headers, input-required results.
// The go-sdk's reference server runs stateless (the only mode in which it
// speaks 2026-07-28); the comparison is the one of TestConformance.
func TestConformanceNext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	testpeer.Node22(t)
	upstream := testpeer.ConformanceStatelessServer(t, ctx)
	// 0.2.0-alpha.12 has 40 scenarios for 2026-07-28.
	conformanceThrough(t, ctx, upstream, testpeer.RunConformanceNext, 35, "conformance 2026-07-28")
}

// conformanceThrough runs a conformance suite (suite) against upstream,
// then against toolgate serve fronting it, and fails for every check that
// passed direct and not through toolgate, and for fewer than min
// scenarios run direct.
func conformanceThrough(t *testing.T, ctx context.Context, upstream string,
	suite func(testing.TB, context.Context, string, ...string) (testpeer.ConformanceResults, string, error), min int, label string) {
	t.Helper()
	run := func(name, url string) testpeer.ConformanceResults {
		t.Helper()
		runCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		start := time.Now()
		res, out, err := suite(t, runCtx, url)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", label, name, err, out)
		}
		t.Logf("%s %s: %d scenarios in %v", label, name, len(res), time.Since(start).Round(time.Millisecond))
		if t.Failed() {
			t.Logf("suite output %s:\n%s", name, out)
		}
		return res
	}
	direct := run("direct", upstream)
	if len(direct) < min {
		t.Fatalf("only %d scenarios ran direct: %v", len(direct), direct)
	}

	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: off
auth: none
store: sqlite://toolgate.db
servers:
  conformance:
    url: %s
policies:
  default: {version: "1", default: allow}
`, addr, upstream)})
	startServe(t, filepath.Join(dir, "toolgate.yaml"), addr)
	through := run("through toolgate", "http://"+addr+"/mcp")

	rows, lost := compareConformance(direct, through)
	t.Logf("%s, direct and through toolgate:\n%s", label, conformanceTable(rows))
	for _, l := range lost {
		t.Error(l)
	}
}
