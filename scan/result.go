package scan

import (
	"sort"
)

// SchemaVersion names the JSON format of Result (`toolgate scan -o json`).
// It changes only when a field changes meaning or goes away; new fields may
// be added within a version.
const SchemaVersion = "toolgate.scan/v1"

// Result is a whole scan: one entry per server, as `toolgate scan -o json`
// prints it.
type Result struct {
	Schema  string         `json:"schema"`
	Servers []ServerResult `json:"servers"`
	Summary Summary        `json:"summary"`
}

// ServerResult is the scan of one server's tool list.
type ServerResult struct {
	// Name is the server's name in the configuration, or given on the
	// command line.
	Name string `json:"name"`
	// Source is "config", "command", "url" or "file".
	Source string `json:"source"`
	// Prefix is put before the server's tool names by the gateway; policy
	// rules use the prefixed names.
	Prefix string `json:"prefix,omitempty"`
	// Error is set when the server could not be listed.
	Error    string     `json:"error,omitempty"`
	Problems []Problem  `json:"problems"`
	Tools    []Report   `json:"tools"`
	Pins     []PinCheck `json:"pins,omitempty"`
	Coverage []Coverage `json:"coverage,omitempty"`
	// Items are the server's instructions, prompts, resources and
	// resource templates in which the poisoning checks found something
	// (CheckInstructions, CheckItem); only those, and only for live
	// servers.
	Items []ItemReport `json:"items,omitempty"`
}

// Summary counts the tools of a Result.
type Summary struct {
	Servers    int            `json:"servers"`
	Tools      int            `json:"tools"`
	ByCategory map[string]int `json:"by_category"`
	ByRisk     map[string]int `json:"by_risk"`
	Signals    map[string]int `json:"signals"`
	Problems   int            `json:"problems"`
	Changed    int            `json:"pins_changed,omitempty"`
	Uncovered  int            `json:"uncovered,omitempty"`
}

// Scan classifies the tools of one server and reports the problems of the
// list (missing and duplicate names) and of each definition.
func Scan(server, source string, tools []Tool) ServerResult {
	sr := ServerResult{Name: server, Source: source, Problems: CheckNames(tools), Tools: classifyAll(server, tools)}
	if sr.Problems == nil {
		sr.Problems = []Problem{}
	}
	for i := range sr.Tools {
		for _, p := range sr.Tools[i].Problems {
			sr.Problems = append(sr.Problems, Problem{Tool: sr.Tools[i].Name, Index: i, Message: p})
		}
	}
	sort.SliceStable(sr.Problems, func(i, j int) bool { return sr.Problems[i].Index < sr.Problems[j].Index })
	return sr
}

// NewResult wraps server results and counts them.
func NewResult(servers []ServerResult) *Result {
	r := &Result{Schema: SchemaVersion, Servers: servers}
	if r.Servers == nil {
		r.Servers = []ServerResult{}
	}
	s := Summary{Servers: len(servers), ByCategory: map[string]int{}, ByRisk: map[string]int{}, Signals: map[string]int{}}
	for _, c := range []Category{Read, Write, Destructive, Financial} {
		s.ByCategory[string(c)] = 0
	}
	for _, k := range []Risk{Low, Medium, High, Critical} {
		s.ByRisk[string(k)] = 0
	}
	for _, sr := range servers {
		s.Tools += len(sr.Tools)
		s.Problems += len(sr.Problems)
		for _, t := range sr.Tools {
			s.ByCategory[string(t.Category)]++
			s.ByRisk[string(t.Risk)]++
			for _, sig := range t.Signals {
				s.Signals[sig.Code]++
			}
		}
		for _, p := range sr.Pins {
			if p.Status != PinUnchanged {
				s.Changed++
			}
		}
		for _, c := range sr.Coverage {
			if !c.Covered {
				s.Uncovered++
			}
		}
	}
	r.Summary = s
	return r
}
