package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the result as indented JSON (schema SchemaVersion).
func WriteJSON(w io.Writer, r *Result) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("scan: encode result: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("scan: write result: %w", err)
	}
	return nil
}

var riskColor = map[Risk]string{Low: "\x1b[32m", Medium: "\x1b[33m", High: "\x1b[31m", Critical: "\x1b[1;97;41m"}

// WriteTable writes one line per tool: server, tool, category, risk and
// signals, then problems, pin checks and coverage. With color, risks are
// coloured with ANSI escapes (use it only on a terminal).
func WriteTable(w io.Writer, r *Result, color bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tTOOL\tCATEGORY\tRISK\tSIGNALS")
	for _, sr := range r.Servers {
		if sr.Error != "" {
			fmt.Fprintf(tw, "%s\t(error)\t\t\t%s\n", cell(sr.Name), cell(sr.Error))
		}
		for _, t := range sr.Tools {
			risk := string(t.Risk)
			if color {
				// Pad before colouring so tabwriter counts visible width.
				risk = riskColor[t.Risk] + fmt.Sprintf("%-8s", risk) + "\x1b[0m"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cell(sr.Name), cell(sr.Prefix+t.Name), t.Category.Title(), risk, signalLabels(t.Signals))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("scan: write table: %w", err)
	}
	for _, sr := range r.Servers {
		for _, p := range sr.Problems {
			fmt.Fprintf(w, "problem: %s: %s\n", cell(sr.Name), cell(p.String()))
		}
		for _, pc := range sr.Pins {
			switch pc.Status {
			case PinChanged:
				fmt.Fprintf(w, "pin: %s/%s changed since pinned:\n", cell(sr.Name), cell(pc.Tool))
				for _, c := range pc.Changes {
					fmt.Fprintf(w, "    %s\n", cell(c.String()))
				}
			case PinNew, PinMissing:
				fmt.Fprintf(w, "pin: %s/%s %s\n", cell(sr.Name), cell(pc.Tool), map[PinStatus]string{PinNew: "is new (not pinned)", PinMissing: "is pinned but no longer listed"}[pc.Status])
			}
		}
		for _, c := range sr.Coverage {
			if !c.Covered {
				fmt.Fprintf(w, "uncovered: %s (%s, %s risk) falls to %s\n", cell(c.Tool), c.Category.Title(), c.Risk, c.Rule)
			}
		}
		writeItems(w, sr)
	}
	s := r.Summary
	_, err := fmt.Fprintf(w, "%d tools: %d read, %d write, %d destructive, %d financial; %d problems\n",
		s.Tools, s.ByCategory["read"], s.ByCategory["write"], s.ByCategory["destructive"], s.ByCategory["financial"], s.Problems)
	if err != nil {
		return fmt.Errorf("scan: write table: %w", err)
	}
	return nil
}

func signalLabels(sigs []Signal) string {
	if len(sigs) == 0 {
		return "-"
	}
	parts := make([]string, len(sigs))
	for i, s := range sigs {
		parts[i] = s.Label + " (" + s.Code + ")"
	}
	return strings.Join(parts, " · ")
}

// cell makes text from a server safe for a terminal or a table cell.
func cell(s string) string { return quoteShort(s, 200) }

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = quoteShort(s, 400)
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "`", "'", "*", `\*`, "_", `\_`)
	return r.Replace(s)
}

// WriteMarkdown writes a report: a summary, then per server a table of the
// tools and, per tool, its explanation and evidence.
func WriteMarkdown(w io.Writer, r *Result) error {
	var b bytes.Buffer
	s := r.Summary
	fmt.Fprintf(&b, "# toolgate scan\n\n%d servers, %d tools: %d read, %d write, %d destructive, %d financial.\n",
		s.Servers, s.Tools, s.ByCategory["read"], s.ByCategory["write"], s.ByCategory["destructive"], s.ByCategory["financial"])
	for _, sr := range r.Servers {
		fmt.Fprintf(&b, "\n## %s\n\n", mdCell(sr.Name))
		if sr.Error != "" {
			fmt.Fprintf(&b, "Error: %s\n\n", mdCell(sr.Error))
		}
		writeMDTable(&b, []ServerResult{sr}, false)
		for _, t := range sr.Tools {
			fmt.Fprintf(&b, "\n### %s\n\n%s\n", mdCell(sr.Prefix+t.Name), mdCell(t.Explanation))
			for _, sig := range t.Signals {
				fmt.Fprintf(&b, "\n- **%s** (%s): %s", mdCell(sig.Label), sig.Code, mdCell(sig.Evidence))
			}
			if len(t.Signals) > 0 {
				b.WriteString("\n")
			}
		}
		if len(sr.Problems) > 0 {
			b.WriteString("\n### Problems\n\n")
			for _, p := range sr.Problems {
				fmt.Fprintf(&b, "- %s\n", mdCell(p.String()))
			}
		}
		if len(sr.Items) > 0 {
			b.WriteString("\n### Instructions, prompts and resources\n\n")
			for _, it := range sr.Items {
				for _, sig := range it.Signals {
					fmt.Fprintf(&b, "- %s %s — **%s** (%s): %s\n", it.Kind, mdCell(it.Name), mdCell(sig.Label), sig.Code, mdCell(sig.Evidence))
				}
			}
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("scan: write markdown: %w", err)
	}
	return nil
}

// WriteMarkdownTable writes the labelled table docs/scanner.md embeds:
// server, tool, category (and the rule that chose it), risk (and its rule),
// signals (each with the rule that produced it).
func WriteMarkdownTable(w io.Writer, servers []ServerResult) error {
	var b bytes.Buffer
	writeMDTable(&b, servers, true)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("scan: write markdown: %w", err)
	}
	return nil
}

func writeMDTable(b *bytes.Buffer, servers []ServerResult, withServer bool) {
	if withServer {
		b.WriteString("| Server | Tool | Category (rule) | Risk (rule) | Signals (rule) |\n|---|---|---|---|---|\n")
	} else {
		b.WriteString("| Tool | Category (rule) | Risk (rule) | Signals (rule) |\n|---|---|---|---|\n")
	}
	for _, sr := range servers {
		for _, t := range sr.Tools {
			var sigs []string
			for _, s := range t.Signals {
				sigs = append(sigs, fmt.Sprintf("%s: %s (%s)", s.Code, mdCell(s.Label), s.Rule))
			}
			sig := strings.Join(sigs, "<br>")
			if sig == "" {
				sig = "—"
			}
			if withServer {
				fmt.Fprintf(b, "| %s ", mdCell(sr.Name))
			}
			fmt.Fprintf(b, "| %s | %s (%s) | %s (%s) | %s |\n", mdCell(sr.Prefix+t.Name), t.Category.Title(), t.CategoryRule, t.Risk, t.RiskRule, sig)
		}
	}
}
