package policy

import (
	"strings"
	"unicode/utf8"

	"github.com/toolgate/toolgate/internal/textdist"
)

// ToolRef is a tool name or glob a policy document writes: a key of
// tools (a rule) or an entry of hide. "*" and risk categories ("@read")
// are not refs: they name no tool in particular.
type ToolRef struct {
	Name string
	// Pointer is the JSON Pointer of the key or entry: /tools/<name> or
	// /hide/<i>.
	Pointer string
	// Line and Column locate it in the document.
	Line, Column int
	// Glob is set for a toolgate pattern ("clerk_Get*").
	Glob bool
}

// KnownTool is a tool an upstream lists, as the agent sees it: Name with
// the server's Prefix, which is "" when the gateway adds none.
type KnownTool struct {
	Name   string
	Prefix string
}

// UnmatchedRef is a ToolRef that matches no known tool: most likely a
// typo, which would otherwise be silent (a rule that never applies, a
// hide that hides nothing).
type UnmatchedRef struct {
	ToolRef
	// Suggestion is the known tool the name most likely meant, or "".
	Suggestion string
}

// Refs returns the tool names and globs the document writes, in the
// document's order.
func (e *Engine) Refs() []ToolRef {
	if e == nil {
		return nil
	}
	return append([]ToolRef(nil), e.refs...)
}

// Unmatched returns the refs of the document that match none of tools,
// each with the tool it most likely meant: one whose name differs only in
// case or separators, or lacks (or has a wrong) server prefix, or is a
// few edits away. With no tools it returns nil: nothing is known.
func (e *Engine) Unmatched(tools []KnownTool) []UnmatchedRef {
	if e == nil || len(tools) == 0 {
		return nil
	}
	names := make(map[string]bool, len(tools))
	for _, t := range tools {
		names[t.Name] = true
	}
	var out []UnmatchedRef
	for _, r := range e.refs {
		if matchesAny(r, tools, names) {
			continue
		}
		u := UnmatchedRef{ToolRef: r}
		if !r.Glob {
			u.Suggestion = suggestTool(r.Name, tools)
		}
		out = append(out, u)
	}
	return out
}

func matchesAny(r ToolRef, tools []KnownTool, names map[string]bool) bool {
	if !r.Glob {
		return names[r.Name]
	}
	for _, t := range tools {
		if globMatch(r.Name, t.Name) {
			return true
		}
	}
	return false
}

// suggestTool picks the known tool name most likely meant by name, or "".
func suggestTool(name string, tools []KnownTool) string {
	fold := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(s))
	}
	// The same name but for case and separators, or for the prefix:
	// missing ("UpdateUser" for "clerk_UpdateUser") or another server's
	// ("docs_UpdateUser").
	stripped := name
	for _, t := range tools {
		if t.Prefix != "" && strings.HasPrefix(name, t.Prefix) {
			stripped = strings.TrimPrefix(name, t.Prefix)
			break
		}
	}
	for _, t := range tools {
		base := strings.TrimPrefix(t.Name, t.Prefix)
		if fold(t.Name) == fold(name) || base == name || base == stripped {
			return t.Name
		}
	}
	for _, t := range tools {
		base := strings.TrimPrefix(t.Name, t.Prefix)
		if fold(base) == fold(name) || fold(base) == fold(stripped) {
			return t.Name
		}
	}
	// Else the nearest by edit distance, if near enough: a third of the
	// name's length, at least one edit and at most three.
	limit := min(max(utf8.RuneCountInString(name)/3, 1), 3)
	best, bestD := "", limit+1
	for _, t := range tools {
		base := strings.TrimPrefix(t.Name, t.Prefix)
		if len(name) > maxSuggestLen || len(t.Name) > maxSuggestLen {
			continue // the distance costs the product of the lengths
		}
		d := min(editDistance(name, t.Name), editDistance(stripped, base))
		if d < bestD || d == bestD && t.Name < best {
			best, bestD = t.Name, d
		}
	}
	return best
}

// maxSuggestLen bounds the names compared by edit distance.
const maxSuggestLen = 128

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int { return textdist.Levenshtein(a, b) }
