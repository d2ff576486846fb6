package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusLists loads every tool list of the labelled corpus, by server.
func corpusLists(t *testing.T) ([]string, map[string]*ToolList) {
	names, lists, _ := corpusListsParts(t)
	return names, lists
}

// corpusListsParts is corpusLists with the held-out servers.
func corpusListsParts(t *testing.T) ([]string, map[string]*ToolList, map[string]bool) {
	t.Helper()
	dir := filepath.Join("testdata", "corpus")
	data, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lab corpusLabels
	if err := json.Unmarshal(data, &lab); err != nil {
		t.Fatalf("labels.json: %v", err)
	}
	names := append(append(append([]string{}, lab.Parts.Tune...), lab.Parts.Dev...), lab.Parts.Holdout...)
	lists := map[string]*ToolList{}
	for _, n := range names {
		lists[n] = loadList(t, filepath.Join(dir, n+".json"))
	}
	holdout := map[string]bool{}
	for _, n := range lab.Parts.Holdout {
		holdout[n] = true
	}
	return names, lists, holdout
}

// corpusCrossServer are the corpus's tools whose text, with every server
// merged behind one gateway, does steer the model to another server's
// tool: the cross-server check must flag them, and nothing else may.
var corpusCrossServer = map[string]string{
	// "Use search_messages for complex date ranges": the mail server has
	// no such tool (its search tools are search_by_*); merged, the only
	// search_messages is teams-mcp's, which the text sends the model to.
	"mcp-mail-server/search_since_date": "search_messages",
	// "… or the events product (use list-events)": Resend's tools are
	// manage-events and send-event; merged, the only list-events is
	// google-calendar-mcp's.
	"resend-mcp/list-webhook-events": "list-events",
	// "use `update_application` to change a sub-application": one of the
	// actions of coolify's own service tool, but no tool of its own;
	// merged, the only update_application is argocd-mcp's, a write.
	"coolify-mcp/service": "update_application",
	// "TIP: End with `get_screenshot` to verify your changes": one of the
	// commands of the PDF server's own interact tool; merged, the only
	// get_screenshot tool is figma-mcp-bridge's, as with coolify's.
	"server-pdf/interact": "get_screenshot",
	// "Use get_transitions first, then transition with the ID": one of
	// the actions of its own jira_workflow tool; merged, the only
	// get_transitions tool is answerai-jira-mcp's, as with coolify's.
	"jira-nexus2520-mcp/jira_workflow": "get_transitions",
	// "use list_tags for most cases": its own tool is n8n_list_tags;
	// merged, the only list_tags is paperless-mcp's, which the model
	// would call.
	"n8n-management-mcp/n8n_get_tag": "list_tags",
	// "use execute_write_query for INSERT/UPDATE": the MySQL server's own
	// writer, left out by the filter it was started with; merged, the
	// only execute_write_query is mssql-mcp-node's, a writer on another
	// database (the sixteenth addition brought it).
	"mysql-mcp/run_select_query": "execute_write_query",
	"mysql-mcp/execute_ddl":      "execute_write_query",
}

// corpusSteering are the corpus's tools whose own text steers the model's
// use of every tool, as poisoned text does; behind a gateway that merges
// servers it steers theirs too, so the flag is right: the check must flag
// them (with this evidence), and is not failed for it.
var corpusSteering = map[string]string{
	// "ALWAYS call this tool FIRST before calling any other tools": a
	// vendor's guide, but exactly the order an injected text would give.
	"webflow-mcp/webflow_guide_tool": "before calling any other tool",
	// "🚨 REQUIRED: Use this tool for any accessibility/a11y/WCAG
	// questions. Do NOT answer accessibility questions directly - always
	// use this tool.": it takes every question of a kind from the model
	// and from the other servers' tools.
	"browserstack-mcp/accessibilityExpert": "always use this tool",
	// "IMPORTANT: Before using this tool, you MUST first read the PDF best
	// practices skill at https://github.com/… (or install via 'npx skills
	// add …')": it sends the model to a page and a package install before
	// the call.
	"pdfnoodle-mcp/html_to_pdf": "you must first",
	// "🚨 MANDATORY FIRST STEP: This tool MUST be called before any other
	// Shopify tools", with a user_prompt argument described as "ALWAYS
	// provide the user's most recent message verbatim": it orders itself
	// before the tools of every Shopify server and asks for what the
	// user typed.
	"shopify-dev-mcp/learn_shopify_api": "must be called before",
}

// TestCorpusPoison: no tool of the corpus's tuning and dev servers is poisoned,
// with all merged behind one gateway as the gateway classifies them
// (ClassifyAmong, where a server's own tools are known) (each server's texts checked
// against the other servers' tool names, prefixed and not), except the
// cross-server references of corpusCrossServer, which must be flagged. The
// corpus has no poisoned tool; the bar is precision ≥ 0.9 on the poisoning
// set (TestPoisoningSet) and no other flag here.
func TestCorpusPoison(t *testing.T) {
	// The held-out part's flags are measured and logged, not failed, as
	// TestCorpus does with its signals: the poisoning rules are not
	// written from it.
	names, lists, holdout := corpusListsParts(t)
	held := 0
	others := Others{}
	for _, n := range names {
		var tools []string
		for _, tl := range lists[n].Tools {
			tools = append(tools, tl.Name)
		}
		others.Add(n, n+"_", tools)
	}
	total, flagged := 0, 0
	for _, n := range names {
		for _, tl := range lists[n].Tools {
			total++
			var why []string
			r := ClassifyAmong(n, tl, others)
			if e := PoisonEvidence(r.Signals); e != "" {
				if want, ok := corpusSteering[n+"/"+tl.Name]; ok && strings.Contains(e, want) {
					e = ""
				}
				if e != "" {
					why = append(why, e)
				}
			} else if want, ok := corpusSteering[n+"/"+tl.Name]; ok {
				t.Errorf("%s/%s: want its steering text %q flagged", n, tl.Name, want)
			}
			s := Shadowing(tl, n, others)
			if want, ok := corpusCrossServer[n+"/"+tl.Name]; ok {
				if s == nil || !strings.Contains(s.Evidence, want) {
					t.Errorf("%s/%s: want the cross-server reference to %q flagged, got %v", n, tl.Name, want, s)
				}
				s = nil
			}
			if s != nil {
				why = append(why, "shadowing: "+s.Evidence)
			}
			raw, _ := json.Marshal(tl)
			if ir := CheckItem("tool", n, raw, others); ir.Poisoned() != "" {
				why = append(why, ir.Poisoned())
			}
			if len(why) > 0 {
				flagged++
				if holdout[n] {
					held++
					t.Logf("held out: %s/%s flagged as poisoned: %s", n, tl.Name, strings.Join(why, " | "))
					continue
				}
				t.Errorf("%s/%s flagged as poisoned: %s", n, tl.Name, strings.Join(why, " | "))
			}
		}
	}
	t.Logf("corpus: %d servers, %d tools, %d flagged as poisoned (%d of them held out, logged)", len(names), total, flagged, held)
}
