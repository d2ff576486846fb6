package scan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestZZRules(t *testing.T) {
	var lab corpusLabels
	b, _ := os.ReadFile(filepath.Join("testdata", "corpus", "labels.json"))
	json.Unmarshal(b, &lab)
	out, _ := os.Create("/tmp/zzkeep/rules.tsv")
	defer out.Close()
	for name, srv := range lab.Servers {
		if srv.Part == "holdout" {
			continue
		}
		l := loadList(t, filepath.Join("testdata", "corpus", name+".json"))
		for _, tool := range l.Tools {
			truth := map[string]bool{}
			for _, s := range srv.Tools[tool.Name] {
				truth[s] = true
			}
			r := ClassifyIn(name, tool)
			for _, s := range r.Signals {
				sig := s.Code
				lbl := map[string]string{SigMessaging: "messaging", SigPII: "pii", SigAuth: "auth", SigMoney: "money", SigBody: "body", SigParams: "params", SigNetwork: "network", SigExec: "exec", SigFS: "fs", SigMismatch: "mismatch"}[sig]
				if lbl == "" {
					continue
				}
				n := strings.Count(s.Evidence, "; ") + 1
				fmt.Fprintf(out, "%s\t%s/%s\t%s\t%s\t%d\t%v\t%s\n", srv.Part, name, tool.Name, lbl, s.Rule, n, truth[lbl], strings.ReplaceAll(s.Evidence, "\t", " "))
			}
		}
	}
}
