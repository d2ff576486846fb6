package scan

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/internal/testpeer"
)

var corpusErrors = flag.String("corpus.errors", "tune", "TestCorpus: list the misclassified tools of this part (tune, dev, holdout, all or none)")

// corpusParts are the parts of the corpus, in the order of the table: the
// rules are tuned on "tune" and held to the bar there; "dev" is a former
// held-out part whose errors have been read and may be tuned on, measured
// against the bar without failing until it meets it and joins "tune";
// "holdout" is never tuned on.
var corpusParts = []string{"tune", "dev", "holdout"}

// corpusLabels is scan/testdata/corpus/labels.json.
type corpusLabels struct {
	Signals []string `json:"signals"`
	Parts   struct {
		Tune    []string `json:"tune"`
		Dev     []string `json:"dev"`
		Holdout []string `json:"holdout"`
	} `json:"parts"`
	Notes   map[string]string `json:"notes"`
	Servers map[string]struct {
		Part  string              `json:"part"`
		Tools map[string][]string `json:"tools"`
	} `json:"servers"`
}

// corpusPredict says whether a report carries a labelled signal: "read"
// and "destructive" are categories, the others signal codes.
func corpusPredict(r *Report, signal string) bool {
	switch signal {
	case "read":
		return r.Category == Read
	case "destructive":
		return r.Category == Destructive
	case "messaging":
		return r.Has(SigMessaging)
	case "pii":
		return r.Has(SigPII)
	case "auth":
		return r.Has(SigAuth)
	case "money":
		return r.Has(SigMoney)
	case "body":
		return r.Has(SigBody)
	case "params":
		return r.Has(SigParams)
	case "network":
		return r.Has(SigNetwork)
	case "exec":
		return r.Has(SigExec)
	case "fs":
		return r.Has(SigFS)
	case "mismatch":
		return r.Has(SigMismatch)
	}
	panic("unknown corpus signal " + signal)
}

// The bar: every signal's precision at least minPrecision, and these
// recalls. TestCorpus fails when the tuning part falls below it; the
// held-out part's shortfalls are logged (docs/scanner.md lists them): its
// errors may not be used to tune the rules.
const minPrecision = 0.9

var minRecall = map[string]float64{"messaging": 0.9, "destructive": 0.9, "pii": 0.85}

type corpusCount struct{ tp, fp, fn int }

func (c corpusCount) precision() (float64, bool) {
	if c.tp+c.fp == 0 {
		return 0, false
	}
	return float64(c.tp) / float64(c.tp+c.fp), true
}

func (c corpusCount) recall() (float64, bool) {
	if c.tp+c.fn == 0 {
		return 0, false
	}
	return float64(c.tp) / float64(c.tp+c.fn), true
}

// corpusError is one tool the scanner got wrong for one signal.
type corpusError struct {
	part, server, tool, signal string
	missed                     bool // a false negative; otherwise a false positive
	report                     *Report
}

func (e corpusError) String() string {
	kind := "false positive"
	if e.missed {
		kind = "missed"
	}
	why := e.report.CategoryRule
	if s := e.report.Signal(e.signal); s != nil {
		why = s.Rule + ": " + s.Evidence
	}
	return fmt.Sprintf("%s %s/%s %s: %s [%s, %s]", e.part, e.server, e.tool, e.signal, kind, e.report.Category, why)
}

// measureCorpus classifies every tool of the corpus and counts, per part
// and signal, the reports that agree with the labels.
func measureCorpus(t *testing.T) (*corpusLabels, map[string]map[string]*corpusCount, []corpusError) {
	t.Helper()
	dir := filepath.Join("testdata", "corpus")
	data, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lab corpusLabels
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&lab); err != nil {
		t.Fatalf("labels.json: %v", err)
	}
	counts := map[string]map[string]*corpusCount{}
	for _, part := range corpusParts {
		counts[part] = map[string]*corpusCount{}
		for _, s := range lab.Signals {
			counts[part][s] = &corpusCount{}
		}
	}
	known := map[string]bool{}
	for _, s := range lab.Signals {
		known[s] = true
	}
	var errs []corpusError
	servers := append(append(append([]string{}, lab.Parts.Tune...), lab.Parts.Dev...), lab.Parts.Holdout...)
	if len(servers) != len(lab.Servers) {
		t.Fatalf("labels.json: %d servers in parts, %d labelled", len(servers), len(lab.Servers))
	}
	for _, name := range servers {
		srv, ok := lab.Servers[name]
		if !ok {
			t.Fatalf("labels.json: server %s has no labels", name)
		}
		if counts[srv.Part] == nil {
			t.Fatalf("labels.json: server %s in unknown part %q", name, srv.Part)
		}
		l := loadList(t, filepath.Join(dir, name+".json"))
		// A server may list two tools under one name (arr-mcp lists
		// lidarr_get_root_folders twice); a name's labels are both's.
		names := map[string]bool{}
		for _, tool := range l.Tools {
			names[tool.Name] = true
		}
		if len(names) != len(srv.Tools) {
			t.Errorf("%s: %d tool names listed, %d labelled", name, len(names), len(srv.Tools))
		}
		for _, tool := range l.Tools {
			want, ok := srv.Tools[tool.Name]
			if !ok {
				t.Errorf("%s/%s: no labels", name, tool.Name)
				continue
			}
			truth := map[string]bool{}
			for _, s := range want {
				if !known[s] {
					t.Errorf("%s/%s: unknown signal %q", name, tool.Name, s)
				}
				truth[s] = true
			}
			r := ClassifyIn(name, tool)
			for _, s := range lab.Signals {
				got, c := corpusPredict(&r, s), counts[srv.Part][s]
				switch {
				case got && truth[s]:
					c.tp++
				case got:
					c.fp++
					errs = append(errs, corpusError{srv.Part, name, tool.Name, s, false, &r})
				case truth[s]:
					c.fn++
					errs = append(errs, corpusError{srv.Part, name, tool.Name, s, true, &r})
				}
			}
		}
	}
	return &lab, counts, errs
}

// corpusTable writes the precision/recall table in Markdown.
func corpusTable(lab *corpusLabels, counts map[string]map[string]*corpusCount) []byte {
	var b bytes.Buffer
	ratio := func(v float64, ok bool) string {
		if !ok {
			return "–"
		}
		return fmt.Sprintf("%.2f", v)
	}
	b.WriteString("| signal |")
	for _, part := range corpusParts {
		fmt.Fprintf(&b, " %s precision | %s recall | %s TP/FP/FN |", part, part, part)
	}
	b.WriteString(" bar |\n|---|" + strings.Repeat("---|---|---|", len(corpusParts)) + "---|\n")
	for _, s := range lab.Signals {
		bar := fmt.Sprintf("P ≥ %.2f", minPrecision)
		if r, ok := minRecall[s]; ok {
			bar += fmt.Sprintf(", R ≥ %.2f", r)
		}
		fmt.Fprintf(&b, "| %s |", s)
		for _, part := range corpusParts {
			c := counts[part][s]
			p, pok := c.precision()
			r, rok := c.recall()
			fmt.Fprintf(&b, " %s | %s | %d/%d/%d |", ratio(p, pok), ratio(r, rok), c.tp, c.fp, c.fn)
		}
		fmt.Fprintf(&b, " %s |\n", bar)
	}
	return b.Bytes()
}

const (
	corpusBegin = "<!-- corpus-table:begin (generated by go test ./scan -run TestCorpus -update) -->\n"
	corpusEnd   = "<!-- corpus-table:end -->\n"
)

// TestCorpus measures every signal against the hand-labelled corpus of
// real tool lists (scan/testdata/corpus) and holds the line on the tuning
// part: precision at least 0.9 for every signal, recall at least 0.9 for
// messaging and destructive and 0.85 for pii. The held-out part is
// measured and its shortfalls logged, and so is the dev part. With -v it
// prints the table and the tuning part's errors (-corpus.errors=dev and
// -corpus.errors=holdout show the others: rules are tuned on the tuning
// and dev parts only). -update writes the table into docs/scanner.md.
func TestCorpus(t *testing.T) {
	lab, counts, errs := measureCorpus(t)
	table := corpusTable(lab, counts)
	t.Logf("\n%s", table)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].signal < errs[j].signal })
	for _, e := range errs {
		if *corpusErrors == "all" || *corpusErrors == e.part {
			t.Log(e.String())
		}
	}

	doc := filepath.Join(testpeer.RepoRoot(t), "docs", "scanner.md")
	d, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(d, []byte(corpusBegin)), bytes.Index(d, []byte(corpusEnd))
	if i < 0 || j < i {
		t.Fatalf("%s: corpus-table markers missing", doc)
	}
	if *update {
		nd := append(append(append([]byte{}, d[:i+len(corpusBegin)]...), table...), d[j:]...)
		if err := os.WriteFile(doc, nd, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(d[i+len(corpusBegin):j], table) {
		t.Errorf("%s: the table between the corpus-table markers is not today's; run go test ./scan -run TestCorpus -update", doc)
	}

	var below []string
	for _, part := range corpusParts {
		if part == "dev" && len(below) > 0 {
			t.Errorf("tuning part below the bar:\n%s", strings.Join(below, "\n"))
			below = nil
		}
		for _, s := range lab.Signals {
			c := counts[part][s]
			if p, ok := c.precision(); ok && p < minPrecision {
				below = append(below, fmt.Sprintf("%s %s precision %.2f < %.2f", part, s, p, minPrecision))
			}
			if want, ok := minRecall[s]; ok {
				if r, ok := c.recall(); ok && r < want {
					below = append(below, fmt.Sprintf("%s %s recall %.2f < %.2f", part, s, r, want))
				}
			}
		}
	}
	if len(below) > 0 {
		t.Logf("dev and held-out parts below the bar (known; see docs/scanner.md):\n%s", strings.Join(below, "\n"))
	}
}
