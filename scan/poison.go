package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// poisonPhrases are further instructions to the model, matched like
// injectionPhrases: markup that hides text from the person reading the
// description, and instructions that steer the model to or away from other
// tools (tool shadowing).
var poisonPhrases = []phrase{
	{"<!--", "hide text"}, {"display:none", "hide text"}, {"display: none", "hide text"},
	{"visibility:hidden", "hide text"}, {"visibility: hidden", "hide text"},
	{"font-size:0", "hide text"}, {"font-size: 0", "hide text"}, {"opacity:0;", "hide text"},
	{"color:transparent", "hide text"}, {"<hidden>", "hide text"}, {"<secret>", "hide text"},
	{"[//]: #", "hide text"}, {"<system_prompt>", "override"}, {"<assistant>", "override"},
	{"system override", "override"}, {"ignore the user", "override"}, {"override the user", "override"},
	{"before using any tool", "call other tools"}, {"before using any other", "call other tools"},
	{"before calling any", "call other tools"}, {"before you use any", "call other tools"},
	{"before responding to the user", "call other tools"}, {"also call ", "call other tools"},
	{"rather than using the", "call other tools"}, {"instead of calling", "call other tools"},
	{"always use this tool", "call other tools"}, {"use this tool instead", "call other tools"},
	{"prefer this tool over", "call other tools"}, {"must be called before", "call other tools"},
	{"must be called first", "call other tools"}, {"never use the", "call other tools"},
	{"whenever you use the", "call other tools"},
	{"do not use other tools", "call other tools"},
	{"send a copy", "exfiltrate"}, {"forward a copy", "exfiltrate"},
	{"change the recipient", "exfiltrate"}, {"replace the recipient", "exfiltrate"}, {"set the recipient to", "exfiltrate"},
	{"upload the contents", "exfiltrate"}, {"append the conversation", "exfiltrate"},
}

// Poison families, as ItemReport and the poisoning corpus name them.
const (
	FamilyOverride  = "override"
	FamilySecrecy   = "secrecy"
	FamilySecrets   = "read secrets"
	FamilyShadowing = "call other tools"
	FamilyExfil     = "exfiltrate"
	FamilyUnicode   = "hidden unicode"
	FamilyMarkup    = "hide text"
	FamilyLong      = "too long to check"
)

// uncheckedNesting is the evidence of JSON nested deeper, or with more
// nodes, than the scanner reads: text it did not check.
var uncheckedNesting = fmt.Sprintf("nested deeper than %d levels or past %d nodes; the rest was not checked", maxDepth, maxNodes)

// Others names the tools of the servers of a merged list: tool name (lower
// case, as the server lists it and as the gateway shows it) → the servers
// that have a tool of that name, sorted. A server's text that calls a tool
// only other servers have is steering the model to another server's tool
// (tool shadowing).
type Others map[string][]string

// Add records the tools of server (names as listed) under prefix.
func (o Others) Add(server, prefix string, names []string) {
	add := func(n string) {
		n = strings.ToLower(n)
		list := o[n]
		i := sort.SearchStrings(list, server)
		if i < len(list) && list[i] == server {
			return
		}
		o[n] = append(list[:i], append([]string{server}, list[i:]...)...)
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		add(n)
		if prefix != "" {
			add(prefix + n)
		}
	}
}

// other returns a server other than self that has a tool named name, or
// "" when none has or self has one too (a server's own tool).
func (o Others) other(name, self string) string {
	list, ok := o[name]
	if !ok {
		return ""
	}
	for _, s := range list {
		if s == self {
			return ""
		}
	}
	return list[0]
}

// ItemReport is the poisoning check of a server's text other than a tool's
// schemas: its initialize instructions, a prompt, a resource or a resource
// template — or, for a tool, the fields Classify does not read.
type ItemReport struct {
	// Kind is "instructions", "prompt", "resource", "resource template"
	// or "tool".
	Kind string `json:"kind"`
	// Name is the item's name: a resource's URI, a template's URI
	// template, a prompt's or a tool's name.
	Name string `json:"name,omitempty"`
	// Signals are the injection, unicode and long-text signals found.
	Signals []Signal `json:"signals"`
}

// Poisoned says why the item is poisoned (its injection and unicode
// evidence), or "" when it is not.
func (r *ItemReport) Poisoned() string { return PoisonEvidence(r.Signals) }

// PoisonEvidence joins the injection and unicode signals among signals,
// with their evidence: why a text is poisoned, or "" when it is not.
func PoisonEvidence(signals []Signal) string {
	var parts []string
	for _, s := range signals {
		if s.Code == SigInjection || s.Code == SigUnicode {
			parts = append(parts, s.Label+": "+s.Evidence)
		}
	}
	return strings.Join(parts, "; ")
}

// CheckInstructions checks a server's initialize instructions. others may
// be nil.
func CheckInstructions(server, text string, others Others) ItemReport {
	c := newItemChecker(server, others)
	budget := maxTextTotal
	c.text(&place{key: "instructions"}, text, &budget)
	if n := utf8.RuneCountInString(text); n > longTextRunes {
		c.add(SigLongText, "description-length", fmt.Sprintf("instructions are %d characters", n))
	}
	return c.itemReport("instructions", "")
}

// toolFields are the fields of a tool Classify reads.
var toolFields = map[string]bool{"name": true, "title": true, "description": true, "inputSchema": true, "outputSchema": true, "annotations": true}

// CheckItem checks every string (and key) of a list item as the server
// sent it, at any depth: kind is "prompt", "resource", "resource
// template" or "tool" (for a tool, only the fields Classify does not read:
// _meta, icons, anything a server adds). Where evidence was found is named
// from the item ("prompt:summarize/arguments/style/description"); array
// elements that have a name are named by it; a resource is named by its
// URI, a template by its URI template. server names the item's
// server in others, whose tools it may not name (nil: no such check).
func CheckItem(kind, server string, raw json.RawMessage, others Others) ItemReport {
	c := newItemChecker(server, others)
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return c.itemReport(kind, "")
	}
	// Resources are named by URI (what a client reads them by), templates
	// by their URI template, prompts and tools by name.
	var name string
	for _, k := range []string{"uri", "uriTemplate", "name"} {
		if kind == "prompt" || kind == "tool" {
			k = "name"
		}
		if json.Unmarshal(fields[k], &name) == nil && name != "" {
			break
		}
	}
	root := &place{key: strings.ReplaceAll(kind, " ", "-") + ":" + quoteName(name)}
	budget, nodes := maxTextTotal, 0
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if kind != "tool" || !toolFields[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.text(&place{parent: root, key: k, isKey: true}, k, &budget)
		v, err := decodeJSON(fields[k])
		if err != nil {
			continue
		}
		c.walkNamed(v, &place{parent: root, key: k}, 1, &budget, &nodes)
		if d, ok := v.(string); ok && k == "description" {
			if n := utf8.RuneCountInString(d); n > longTextRunes {
				c.add(SigLongText, "description-length", fmt.Sprintf("%s: description is %d characters", root.String(), n))
			}
		}
	}
	return c.itemReport(kind, name)
}

// quoteName keeps a name readable in a place: invisible characters escaped,
// at most 80 bytes.
func quoteName(s string) string {
	q := quoteShort(s, 80)
	if len(q) >= 2 && q[0] == '"' && q[len(q)-1] == '"' {
		return q[1 : len(q)-1]
	}
	return q
}

func newItemChecker(server string, others Others) *classifier {
	c := newClassifier(&Tool{})
	c.self, c.others = server, others
	return c
}

// walkNamed walks like walkStrings, naming the elements of an array that
// have a "name" by it.
func (c *classifier) walkNamed(v any, where *place, depth int, budget, nodes *int) {
	if depth > maxDepth || *nodes > maxNodes {
		c.add(SigInjection, "text-unchecked", uncheckedNesting)
		return
	}
	*nodes++
	switch v := v.(type) {
	case string:
		c.text(where, v, budget)
	case []any:
		for i, x := range v {
			p := &place{parent: where, index: i, elem: true}
			if m, ok := x.(map[string]any); ok {
				if n, ok := m["name"].(string); ok && n != "" {
					p = &place{parent: where, key: quoteName(n)}
				}
			}
			c.walkNamed(x, p, depth+1, budget, nodes)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.text(&place{parent: where, key: k, isKey: true}, k, budget)
			c.walkNamed(v[k], &place{parent: where, key: k}, depth+1, budget, nodes)
		}
	}
}

func (c *classifier) itemReport(kind, name string) ItemReport {
	r := ItemReport{Kind: kind, Name: name, Signals: []Signal{}}
	for _, s := range signalOrder {
		ev, ok := c.ev[s.code]
		if !ok {
			continue
		}
		e := strings.Join(ev[:min(len(ev), maxEvidence)], "; ")
		if len(ev) > maxEvidence {
			e += fmt.Sprintf("; +%d more", len(ev)-maxEvidence)
		}
		r.Signals = append(r.Signals, Signal{Code: s.code, Label: s.label, Evidence: e, Rule: c.rules[s.code]})
	}
	return r
}

// Shadowing checks a tool's texts (name, title, description, schemas,
// annotations) for names of other servers' tools: a tool that tells the
// model to call, or not to call, a tool of another server is shadowing
// it. It returns the injection signal, or nil.
func Shadowing(t Tool, server string, others Others) *Signal {
	if len(others) == 0 {
		return nil
	}
	c := newItemChecker(server, others)
	c.t = &t
	c.onlyRefs = true
	budget := maxTextTotal
	c.text(&place{key: "title"}, t.Title, &budget)
	c.text(&place{key: "description"}, t.Description, &budget)
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"inputSchema", t.InputSchema}, {"outputSchema", t.OutputSchema}, {"annotations", t.Annotations}} {
		if len(f.raw) == 0 {
			continue
		}
		if v, err := c.tree.parse(f.raw); err == nil {
			n := 0
			c.walkStrings(v, &place{key: f.name}, 0, &budget, &n)
		}
	}
	r := c.itemReport("tool", t.Name)
	for i := range r.Signals {
		if r.Signals[i].Code == SigInjection {
			return &r.Signals[i]
		}
	}
	return nil
}

// crossRefs reports the names of other servers' tools that a (normalised)
// text names. A name that reads as an identifier (send_email, sendEmail,
// get-secrets) or a plain word (search, fetch) counts
// only after a call word ("call search", "instead of search") or before
// "tool"; an identifier after the weaker "use", "before", "than" too. A
// name merely mentioned ("type": "send_email") is not an instruction.
func (c *classifier) crossRefs(where *place, norm []byte) {
	if len(c.others) == 0 {
		return
	}
	text := string(norm)
	eachName(text, ".-", func(i int, word string) bool {
		if srv := c.others.other(word, c.self); srv != "" && !(formatWords[word] && !formatCalled(text, i, i+len(word))) && calledOrQuoted(text, i, i+len(word), identLike(word)) && !lookupRef(norm, i, word) && !c.ownToolWord(text, i, word) && !(listedValue(text, word) && strings.HasPrefix(where.String(), "inputSchema") && !listSteered(text, i)) {
			c.add(SigInjection, "cross-server-tool", fmt.Sprintf("%s names %q, a tool of server %q: %q", where.String(), word, srv, excerpt(text, i, len(word))))
		}
		return true
	})
}

// ownToolWord reports whether the plain word at text[i:], unquoted and
// followed by "tool", is one of the server's own tools named
// "<word>_tool" ("Designer Tool - Variable tool to perform actions", in
// Webflow's variable_tool), the tool itself among them, or, in the first
// sentence, a word of the tool's own name, in a clause that calls and
// steers nothing.
func (c *classifier) ownToolWord(text string, i int, word string) bool {
	j := i + len(word)
	if identLike(word) || quotedAt(text, i, len(word)) || !strings.HasPrefix(text[j:], " tool") {
		return false
	}
	// "Analyze tool usage patterns, workflows, …": a text that starts
	// with the word says what this tool does; nothing comes before it to
	// steer.
	if i == 0 && strings.HasPrefix(text[j:], " tool ") && j+6 < len(text) && isLetter(text[j+6]) && !sentenceSteers(text, 0) {
		return true
	}
	// "use the dedicated Percy setup tool": a plain word that no other
	// server's tool is, before the one that names a tool, each a word of
	// one of the server's own tools' names
	// ("percyVisualTestIntegrationAgent", "setupBrowserStack…"), tells
	// which of its own tools, even where the sentence steers.
	if prev := lastPlainWord(text[:i]); prev != "" && c.others.other(prev, c.self) == "" && c.ownWord(prev) && c.ownWord(word) && !strongSteer(text, i) {
		return true
	}
	if steeredBefore(text, i) {
		return false
	}
	// "Pointer to the feedback tool for this search." beside
	// firecrawl_feedback: the last word of one of the server's own
	// tools' names, in a sentence that neither steers nor says use,
	// with no secret named in what follows.
	if c.ownLastWord(word) && !sentenceSteers(text, i) && !sentenceUses(text, i) && !namesLeak(text[i:min(len(text), i+200)]) && !moreSecrets(text[i:min(len(text), i+200)]) {
		return true
	}
	for _, sep := range []string{"_", "-", ""} {
		n := word + sep + "tool"
		if strings.EqualFold(c.t.Name, n) || c.own[n] {
			return true
		}
	}
	// "Primary DeepSeek chat tool for text and images", in the first
	// sentence of chat_completion's own text: the tool says what it is.
	if end := strings.Index(text, ". "); (end < 0 || i < end) && contains(tokens(c.t.Name, 8), word) {
		return true
	}
	return false
}

// strongSteers order the model's choice of tools beyond naming one to use.
var strongSteers = []string{"call", "calls", "calling", "invoke", "invoking", "execute", "run", "trigger", "must", "always", "never", "instead", "rather than", "in place of", "before", "after", "first", "every", "each", "only", "any other", "should", "whenever", "ignore", "don't", "do not"}

// sentenceSteers reports whether the sentence around text[i] holds a word
// that calls a tool or steers the choice of one ("use" aside).
func sentenceSteers(text string, i int) bool {
	start, end := sentenceAt([]byte(text), i)
	padded := " " + strings.Map(func(r rune) rune {
		if r == ',' || r == ':' || r == ';' || r == '(' || r == ')' || r == '.' {
			return ' '
		}
		return r
	}, text[start:end]) + " "
	for _, w := range strongSteers {
		if strings.Contains(padded, " "+w+" ") {
			return true
		}
	}
	return false
}

// strongSteer: sentenceSteers.
func strongSteer(text string, i int) bool {
	return sentenceSteers(text, i)
}

// listSteered reports whether the sentence around a listed value at
// text[i] calls or orders tools rather than picking a value ("use
// 'wait_for' with a selector instead" picks one).
func listSteered(text string, i int) bool {
	start, end := sentenceAt([]byte(text), i)
	padded := " " + strings.Map(func(r rune) rune {
		if r == ',' || r == ':' || r == ';' || r == '(' || r == ')' || r == '.' {
			return ' '
		}
		return r
	}, text[start:end]) + " "
	for _, w := range []string{"call", "calls", "calling", "invoke", "always", "never", "every", "each", "first", "before", "after", "ignore", "tool", "tools", "server", "whenever", "instead of"} {
		if strings.Contains(padded, " "+w+" ") {
			return true
		}
	}
	return false
}

// lastPlainWord returns the word of letters that ends s before a space
// ("… the dedicated percy " gives "percy"), or "".
func lastPlainWord(s string) string {
	s, ok := strings.CutSuffix(s, " ")
	if !ok {
		return ""
	}
	j := len(s)
	for j > 0 && isLetter(s[j-1]) {
		j--
	}
	if j == len(s) || j > 0 && s[j-1] != ' ' {
		return ""
	}
	return s[j:]
}

// ownWord reports whether w, of four letters or more, is part of one of
// the server's own tools' names (kept in lower case, so "percy" is part
// of "percyvisualtestintegrationagent").
func (c *classifier) ownWord(w string) bool {
	if len(w) < 4 {
		return false
	}
	for n := range c.own {
		if strings.Contains(n, w) {
			return true
		}
	}
	for n, servers := range c.others {
		if strings.Contains(n, w) && slices.Contains(servers, c.self) {
			return true
		}
	}
	return false
}

// ownLastWord reports whether w ends one of the server's own tools'
// names after a separator ("feedback" of "firecrawl_feedback").
func (c *classifier) ownLastWord(w string) bool {
	ends := func(n string) bool {
		return len(n) > len(w) && strings.HasSuffix(n, w) && (n[len(n)-len(w)-1] == '_' || n[len(n)-len(w)-1] == '-')
	}
	for n := range c.own {
		if ends(n) {
			return true
		}
	}
	for n, servers := range c.others {
		if ends(n) && slices.Contains(servers, c.self) {
			return true
		}
	}
	return false
}

// sentenceUses reports whether the sentence around text[i] says use,
// prefer or try.
func sentenceUses(text string, i int) bool {
	start, end := sentenceAt([]byte(text), i)
	padded := " " + strings.Map(func(r rune) rune {
		if r == ',' || r == ':' || r == ';' || r == '(' || r == ')' || r == '.' {
			return ' '
		}
		return r
	}, text[start:end]) + " "
	for _, w := range []string{"use", "uses", "using", "prefer", "try", "switch"} {
		if strings.Contains(padded, " "+w+" ") {
			return true
		}
	}
	return false
}

// othersWord reports whether w is in a name of another server's tool or
// is another server's name ("github", "mail" of "send_email"): before
// "tools" it may mean theirs.
func (c *classifier) othersWord(w string) bool {
	others, self := c.others, c.self
	if others == nil {
		others, self = c.peers, c.peerSelf
	}
	for n, servers := range others {
		for _, s := range servers {
			if s == self {
				continue
			}
			if s == w || strings.Contains(n, w) {
				return true
			}
		}
	}
	return false
}

// lookupRef reports whether the sentence around text[at], which names the
// other server's tool name, only sends the model there to look up a value
// for this call: "use the list-users tool to find the email address of the
// recipients", "resolve the sender's address with list-users". Four
// things must hold. The tool's name reads as a lookup (its verb is get,
// list, search, find, lookup, retrieve, describe, show or view, and no
// other verb in it writes), which all a merged list tells of another
// server's tool. The sentence has a verb that looks up (find, look up,
// resolve, obtain) and, after it, an identifier to look up (an address, an
// id, a username, an SMTP address): an argument, not contents to pass on
// ("find the latest message and include it" is still flagged). Nothing in
// it steers the model's choice of tools (instead, rather than, also,
// always, never, not use, whenever, every time). And it names neither the
// conversation nor a secret (leakWords, a one-time code).
func lookupRef(text []byte, at int, name string) bool {
	looksUp := false
	for _, w := range tokens(name, 8) {
		switch v := verbs[w]; {
		case v == verbNone:
		case v != verbRead, !looksUp && !lookupNames[w]:
			return false
		default:
			looksUp = true
		}
	}
	if !looksUp {
		return false
	}
	start, end := sentenceAt(text, at)
	s := string(text[start:end])
	for _, w := range lookupSteers {
		if strings.Contains(s, w) {
			return false
		}
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return r > 0x7f || !isWordByte(byte(r)) })
	looked := false
	for i, w := range words {
		switch {
		case w == "find" || w == "resolve" || w == "obtain" || w == "lookup" || w == "look" && i+1 < len(words) && words[i+1] == "up":
			looked = true
		case looked && lookupValues[w]:
			return true
		}
	}
	return false
}

var (
	// lookupNames are the verbs of a tool's name that only look up.
	lookupNames = set("get", "list", "search", "find", "lookup", "retrieve", "describe", "show", "view")
	// lookupValues are what a lookup finds for a call's argument.
	lookupValues = set("address", "addresses", "id", "ids", "identifier", "identifiers", "username", "usernames", "smtp")
	// lookupSteers, in a sentence that names another server's tool,
	// steer the model's choice of tools, or name what must not reach
	// this call through it.
	lookupSteers = append([]string{"instead", "rather than", "in place of", "also", "always", "never", "not use", "don't use",
		"whenever", "every time", "each time", "2fa", "one-time", "verification code"}, leakWords...)
)

// eachName calls f with every run of name bytes in text (and where it
// starts), trimmed of trailing cutset characters, until f returns false.
func eachName(text, cutset string, f func(i int, word string) bool) {
	for i := 0; i < len(text); {
		if !isNameByte(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isNameByte(text[j]) {
			j++
		}
		if !f(i, strings.TrimRight(text[i:j], cutset)) {
			return
		}
		i = j
	}
}

func isNameByte(b byte) bool {
	return isWordByte(b) || b == '-' || b == '.' || b == '/' || b == ':'
}

// identLike: a name only a tool would have (send_email, get-secrets,
// s3.put), not a word of prose.
func identLike(w string) bool {
	return strings.ContainsAny(w, "_-.:/0123456789")
}

// Words before a tool's name that make the text an instruction to call it
// (or not to): strong ones for any name, weak ones only for names that read
// as identifiers ("use search" is prose, "use send_email" is not).
var (
	strongCallWords = []string{"call", "calls", "calling", "invoke", "invoking", "trigger", "execute", "run", "instead of", "rather than", "in place of"}
	weakCallWords   = []string{"use", "using", "before", "after", "than", "with", "not use", "never use"}
	plainCallWords  = []string{"call", "calls", "calling", "invoke", "invoking", "instead of", "rather than", "in place of"}
)

// calledOrQuoted reports whether the name at text[i:j] stands where a
// tool is called: after a call word, or before "tool", "is invoked", "is
// called". A plain word needs more than an identifier: "count()" and
// "aggregate functions" are SQL, "find tools" is prose, while "the find
// tool" and "find is called" still name the tool.
func calledOrQuoted(text string, i, j int, ident bool) bool {
	// "call GET `/me`": an HTTP method before a path is a request to an
	// API, not a tool of that name.
	if !ident && httpMethods[text[i:j]] && strings.HasPrefix(strings.TrimLeft(text[j:], " `'\"\\"), "/") {
		return false
	}
	after := strings.TrimLeft(text[j:], "`'\")")
	afters := []string{" tool", " is invoked", " is called", " gets called"}
	if ident {
		afters = append(afters, "()", " function", " is used", " is run")
	}
	before := strings.TrimRight(text[max(0, i-24):i], "`'\" ")
	// "run a system tool": a plain word after an indefinite article
	// names a kind of tool, not one ("the system tool" names one).
	// After "to" it is a verb: "use to discover tool capabilities".
	// So it does after a word that says which of a kind ("the
	// corresponding get tool", "a typed get or list tool"), and so does
	// each plain word of a list the first one starts ("the corresponding
	// list or search tool").
	// (read only for a plain word before " tool")
	kind := func() bool {
		return !ident && kindOfTool(strings.TrimRight(text[max(0, i-64):i], "`'\" "), !quotedAt(text, i, j-i) && !steeredBefore(text, i))
	}
	for _, a := range afters {
		if strings.HasPrefix(after, a) && (len(after) == len(a) || !isWordByte(after[len(a)])) && !(a == " tool" && (kind() || !ident && toolCompound(after[len(a):]))) {
			return true
		}
	}
	// "call the send_email": an article before an identifier still
	// calls it; before a plain word it makes a noun phrase ("execute
	// the query", "instead of the status callback").
	if ident {
		before = strings.TrimSuffix(before, " the")
	}
	before = strings.TrimSuffix(before, " first")
	// A plain word after run, execute or trigger is most often a noun
	// phrase ("execute graphql mutations", "run status"): only the
	// verbs that take a tool call it.
	words := plainCallWords
	if ident {
		words = append(append([]string{}, strongCallWords...), weakCallWords...)
	} else if compoundNoun(text[j:]) {
		// "instead of chat message formatting": a plain word before
		// another noun names a kind of thing, not a tool.
		return false
	}
	for _, v := range words {
		// "the hosted two-call flow": a call word ending a hyphenated
		// word is part of an adjective before a plain word.
		if !ident && len(before) > len(v) && before[len(before)-len(v)-1] == '-' && countWord(before[:len(before)-len(v)-1]) {
			continue
		}
		if strings.HasSuffix(before, v) && (len(before) == len(v) || !isWordByte(before[len(before)-len(v)-1])) && !(!ident && callNoun(before[:len(before)-len(v)], v)) {
			return true
		}
	}
	return false
}

// countWord reports whether text ends in a count ("two", "single",
// "multi", "3"): the first part of an adjective like "two-call".
func countWord(text string) bool {
	k := len(text)
	for k > 0 && isWordByte(text[k-1]) {
		k--
	}
	w := text[k:]
	switch w {
	case "one", "two", "three", "four", "five", "single", "multi", "double", "dual", "triple", "n", "many", "few":
		return true
	}
	return w != "" && strings.Trim(w, "0123456789") == ""
}

// toolCompound reports whether "tool" goes on with a noun that makes it
// part of another thing ("extract tool definitions", "analyze tool
// usage"): the word before names what is done to it, not a tool.
func toolCompound(rest string) bool {
	w, ok := strings.CutPrefix(rest, " ")
	if !ok {
		// "discover tool/function spans": tool joined to another noun
		// by a slash is part of a noun phrase.
		w, ok = strings.CutPrefix(rest, "/")
		if !ok {
			return false
		}
		i := strings.IndexFunc(w, func(r rune) bool { return r > 0x7f || !isWordByte(byte(r)) })
		if i < 0 {
			return false
		}
		// and goes on with the noun it is part of: "tool/function
		// spans", not "the get tool/function;", "use the discover
		// tool/function instead", "call the system tool/function with …"
		if !slashedToolNouns[w[:i]] || !compoundNoun(w[i:]) {
			return false
		}
		next := strings.TrimPrefix(w[i:], " ")
		if k := strings.IndexFunc(next, func(r rune) bool { return r < 'a' || r > 'z' }); k >= 0 {
			next = next[:k]
		}
		return !slashStops[next]
	}
	if i := strings.IndexFunc(w, func(r rune) bool { return r > 0x7f || !isWordByte(byte(r)) }); i >= 0 {
		w = w[:i]
	}
	return toolCompoundNouns[w]
}

// toolCompoundNouns after "tool" make a compound ("tool definitions").
// ("backup tool calls", "notify tool results" are that tool's own calls
// and results, so calls, usage, outputs and results are not among them.)
var toolCompoundNouns = set("definitions", "definition", "descriptions", "schemas", "schema", "names", "metadata", "annotations", "patterns")

// slashStops, after "tool/function", go on with a sentence about that
// tool, not a noun phrase: "prefer the discover tool/function over get".
var slashStops = set("over", "than", "of", "about", "like", "into", "onto", "through", "are", "was", "were", "has", "have", "can", "will", "should", "must", "does", "do", "may", "not", "only", "here", "there", "it", "this", "that")

// slashedToolNouns after "tool/" name what a tool is another word for
// ("tool/function spans").
var slashedToolNouns = set("function", "functions", "method", "methods", "resource", "resources", "prompt", "prompts")

// compoundNoun reports whether the text after a plain word goes on with
// another plain word that makes it a noun phrase ("chat message
// formatting", "search results"): not punctuation, a preposition, a
// conjunction or an adverb ("call search with the user's files", "call
// fetch now").
func compoundNoun(after string) bool {
	if !strings.HasPrefix(after, " ") {
		return false
	}
	w := after[1:]
	k := 0
	for k < len(w) && w[k] >= 'a' && w[k] <= 'z' {
		k++
	}
	if k == 0 || k < len(w) && isWordByte(w[k]) {
		return false
	}
	return !callFollowers[w[:k]]
}

// callFollowers, after a called tool's name, go on with the call.
var callFollowers = set("with", "to", "on", "for", "and", "or", "in", "at", "from", "by", "via", "using", "first", "then", "now", "again", "immediately", "directly", "instead", "before", "after", "always", "once", "if", "when", "whenever", "until", "so", "passing", "and", "but", "tool", "is", "as", "the", "a", "an", "every", "each", "whenever")

// callNoun reports whether "call", after the text before it, is a noun:
// "in a separate call create child blocks": an article or a word that
// counts calls stands before it ("first call" and "next call" still call,
// and so does "calls", and an identifier is called whatever stands
// before "call").
func callNoun(before, v string) bool {
	if v != "call" {
		return false
	}
	before = strings.TrimRight(before, " ")
	w := before[strings.LastIndexByte(before, ' ')+1:]
	return callDeterminers[w]
}

// callDeterminers, before "call", make it a noun.
var callDeterminers = set("a", "an", "each", "every", "same", "single", "separate", "another", "subsequent", "previous", "per",
	// "this call blocks until …", "the call blocks until …"
	"this", "the")

// kindOfTool reports whether the text before a plain word, which stands
// before "tool", makes it a kind of tool rather than a tool's name: an
// indefinite article, "any" or "to" (kindArticles), or, when pick is set
// (the word is unquoted and nothing before it in its clause calls or
// steers), a word that picks one of a kind (kindPickers), before it or
// before the list of plain words it ends ("a get or list tool", "choose
// the corresponding list or search tool"). "call the corresponding
// system tool" still names one.
func kindOfTool(before string, pick bool) bool {
	for k := 0; k < 4; k++ {
		if endsWithWord(before, kindArticles) || pick && endsWithWord(before, kindPickers) || articleThenWords(before) {
			return true
		}
		// Step back over one "<word> or", "<word> and" or "<word>,".
		b := strings.TrimSuffix(before, ",")
		if b == before {
			var ok bool
			if b, ok = strings.CutSuffix(before, " or"); !ok {
				if b, ok = strings.CutSuffix(before, " and"); !ok {
					return false
				}
			}
		}
		sp := strings.LastIndexByte(b, ' ')
		w := b[sp+1:]
		if w == "" || identLike(w) {
			return false
		}
		before = b[:max(sp, 0)]
		if sp < 0 {
			return false
		}
	}
	return false
}

// articleThenWords reports whether s ends with "a" or "an" and one or two
// plain words that call nothing ("a more advanced search tool"): the
// words describe the kind the article names.
func articleThenWords(s string) bool {
	// Walk back over at most two words of letters (no punctuation: a
	// comma or a parenthesis ends the phrase), none of them a verb or a
	// steering word, to an "a" or an "an".
	end := len(s)
	for k := 0; k < 3; k++ {
		startW := end
		for startW > 0 && s[startW-1] != ' ' {
			startW--
		}
		w := s[startW:end]
		if w == "" {
			return false
		}
		if k > 0 && (w == "a" || w == "an") {
			return true
		}
		if k == 2 {
			return false
		}
		for i := 0; i < len(w); i++ {
			if c := w[i]; c < 'a' || c > 'z' {
				if c != '-' {
					return false
				}
			}
		}
		if verbs[w] != verbNone || slices.Contains(clauseSteers, w) || slices.Contains(strongCallWords, w) {
			return false
		}
		if startW == 0 {
			return false
		}
		end = startW - 1
	}
	return false
}

// endsWithWord reports whether s ends with one of words, as a whole word.
func endsWithWord(s string, words []string) bool {
	for _, w := range words {
		if strings.HasSuffix(s, w) && (len(s) == len(w) || s[len(s)-len(w)-1] == ' ') {
			return true
		}
	}
	return false
}

var (
	// kindArticles, before a plain word and "tool", make it a kind of
	// tool ("run a system tool"); after "to" the word is a verb.
	kindArticles = []string{"a", "an", "any", "to"}
	// kindPickers pick one of a kind ("the corresponding get tool", "a
	// typed get tool"); "API" makes a kind that calls an API ("API
	// Request tool configuration"). They count only in a clause that
	// calls and steers nothing.
	kindPickers = []string{"corresponding", "typed", "matching", "appropriate", "relevant", "sibling", "dedicated", "specific", "api"}
	// clauseSteers, before a name in its clause, call a tool or steer
	// the model's choice of one.
	clauseSteers = []string{"call", "calls", "calling", "invoke", "invoking", "execute", "run", "trigger", "use", "using", "must", "always", "never", "instead", "rather than", "in place of", "before answering", "first"}
)

// steeredBefore reports whether the clause of text before i (from the
// last ". ", ";", ":" or line break) holds a word that calls a tool or
// steers the choice of one.
func steeredBefore(text string, i int) bool {
	start := 0
	for _, sep := range []string{". ", ";", ":", "\n", "!", "?"} {
		if k := strings.LastIndex(text[:i], sep); k >= 0 && k+len(sep) > start {
			start = k + len(sep)
		}
	}
	clause := text[start:i]
	for _, w := range clauseSteers {
		if wholeWordIn(clause, w) {
			return true
		}
	}
	return false
}

// wholeWordIn reports whether w stands in s with no word byte on either
// side ("call" in "then call it", not in "recall").
func wholeWordIn(s, w string) bool {
	for off := 0; off < len(s); {
		k := strings.Index(s[off:], w)
		if k < 0 {
			return false
		}
		k += off
		if (k == 0 || !isWordByte(s[k-1])) && (k+len(w) == len(s) || !isWordByte(s[k+len(w)])) {
			return true
		}
		off = k + len(w)
	}
	return false
}

// exfilTarget finds an address or URL the text tells the model to send
// something to ("forward a copy to audit@attacker.tld"), or that a
// recipient's or an endpoint's default names: a place data would leave to
// without the user choosing it.
// hasHTTP is whether norm holds "http".
func (c *classifier) exfilTarget(where *place, norm []byte, hasHTTP bool) {
	if !hasHTTP && bytes.IndexByte(norm, '@') < 0 {
		return
	}
	text := string(norm)
	inDefault := where.key == "default" || where.key == "const"
	for off := 0; off < len(text); {
		i, n := nextTarget(text, off)
		if i < 0 {
			return
		}
		off = i + n
		target := text[i : i+n]
		if exampleHost(target) {
			continue
		}
		if !exfilContext(text[max(0, i-80):i]) && !(inDefault && recipientKey(where.parent)) {
			continue
		}
		c.add(SigInjection, "exfiltration-target", fmt.Sprintf("%s asks the model to exfiltrate to %q: %q", where.String(), clip(target, 80), excerpt(text, i, n)))
	}
}

// exfilVerbs send data somewhere.
var exfilVerbs = []string{"send", "sends", "forward", "forwards", "post", "upload", "deliver", "submit", "exfiltrate", "copy", "report", "mail", "email", "bcc", "cc", "leak", "transmit", "beacon"}

// exfilContext reports whether the text before an address tells the model
// to send something there: "to", "bcc" or "cc" right before it and a
// sending verb shortly before — not an example ("e.g.", "such as").
func exfilContext(lead string) bool {
	near := strings.TrimRight(lead, "`'\"<:( ")
	if !(strings.HasSuffix(near, " to") || strings.HasSuffix(near, "bcc") || strings.HasSuffix(near, " cc")) {
		return false
	}
	for _, ex := range []string{"e.g.", "for example", "such as", "example:", "i.e."} {
		if strings.Contains(lead, ex) {
			return false
		}
	}
	for _, w := range strings.FieldsFunc(lead, func(r rune) bool { return r > 0x7f || !isWordByte(byte(r)) }) {
		for _, v := range exfilVerbs {
			if w == v {
				return true
			}
		}
	}
	return false
}

// recipientKey: the place is a property where a message or a request
// goes (to, cc, bcc, recipient, webhook, endpoint, callback).
func recipientKey(p *place) bool {
	if p == nil {
		return false
	}
	switch strings.ToLower(p.key) {
	case "to", "cc", "bcc", "recipient", "recipients", "reply_to", "replyto", "webhook", "webhook_url", "endpoint", "callback", "callback_url", "forward_to":
		return true
	}
	return false
}

// nextTarget finds the next e-mail address or http(s) URL in text from
// off: its start and length, or -1.
func nextTarget(text string, off int) (int, int) {
	for off < len(text) {
		h := strings.Index(text[off:], "http")
		at := strings.IndexByte(text[off:], '@')
		if h < 0 && at < 0 {
			return -1, 0
		}
		if h >= 0 && (at < 0 || h < at) {
			k := off + h
			if strings.HasPrefix(text[k:], "http://") || strings.HasPrefix(text[k:], "https://") {
				e := k
				for e < len(text) && !strings.ContainsRune(" \"')>`", rune(text[e])) {
					e++
				}
				return k, e - k
			}
			off = k + 4
			continue
		}
		k := off + at
		off = k + 1
		if k == 0 || !isWordByte(text[k-1]) {
			continue
		}
		s := k
		for s > 0 && (isWordByte(text[s-1]) || text[s-1] == '.' || text[s-1] == '-' || text[s-1] == '+') {
			s--
		}
		e := k + 1
		for e < len(text) && (isWordByte(text[e]) || text[e] == '.' || text[e] == '-') {
			e++
		}
		if dom := strings.TrimRight(text[k+1:e], "."); strings.Contains(dom, ".") {
			return s, k + 1 + len(dom) - s
		}
	}
	return -1, 0
}

// exampleHost: documentation addresses (RFC 2606, loopback), never a
// place data leaves to.
func exampleHost(t string) bool {
	host := t
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
		if j := strings.IndexAny(host, "/?#"); j >= 0 {
			host = host[:j]
		}
		if j := strings.LastIndexByte(host, ':'); j >= 0 {
			host = host[:j]
		}
	} else if j := strings.LastIndexByte(host, '@'); j >= 0 {
		host = host[j+1:]
	}
	host = strings.TrimSuffix(host, ".")
	for _, d := range []string{"example.com", "example.org", "example.net", "localhost", "127.0.0.1"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	for _, tld := range []string{".example", ".test", ".invalid", ".localhost"} {
		if strings.HasSuffix(host, tld) {
			return true
		}
	}
	return false
}

// emojiVS reports whether a variation selector U+FE00–FE0F after prev is
// the ordinary emoji or text presentation of a symbol (☀️, 1️⃣); after a
// letter, a space or another selector it smuggles data.
func emojiVS(prev rune) bool {
	switch {
	case prev == 0:
		return false
	case prev >= '0' && prev <= '9', prev == '#', prev == '*':
		return true // keycaps
	case prev < 0x80:
		return false
	case prev >= 0xFE00 && prev <= 0xFE0F:
		return false
	}
	return true
}

// exemptMatch reports whether a phrase matched at text[at:] says something
// harmless: "before using this tool, you must double-check with the user"
// involves the user rather than another tool; "<!--[if mso]>" is an
// Outlook conditional that e-mail HTML documentation names.
func exemptMatch(text []byte, at int, p phrase) bool {
	rest := string(text[at+len(p.text) : min(len(text), at+len(p.text)+60)])
	switch {
	case p.kind == FamilyShadowing:
		if dot := strings.IndexAny(rest, ".;"); dot >= 0 {
			rest = rest[:dot]
		}
		// "with the user's password" is a secret of the user's, not the
		// user asked: what follows the words that name the user, to the
		// end of the sentence's next few words, may name no secret.
		_, en := sentenceAt(text, at)
		asked := false
		for _, w := range []string{"with the user", "ask the user", "the user confirm", "user's confirmation", "user confirmation", "user approval", "confirm with"} {
			i := strings.Index(rest, w)
			if i < 0 {
				continue
			}
			from := at + len(p.text) + i + len(w)
			near := text[min(from, en):min(en, from+24)]
			leaks := moreSecrets(string(near)) || handedSecret(string(text[min(from, en):en]))
			if namesLeak(string(near)) {
				leaks = true
			}
			if leaks {
				// a secret after any of the words that name the user
				asked = false
				break
			}
			asked = true
		}
		if asked {
			return true
		}
	case p.text == "<!--":
		return strings.HasPrefix(rest, "[if")
	case p.kind == FamilySecrets:
		return refusedPaths(text, p.text) || publicKeyPath(text, at) ||
			// a client's config file named in setup notes ("the client's
			// mcp.json supports an env block"), with nothing that reads it
			clientConfigs[p.text] && !readsNear(string(text[max(0, at-60):at]))
	case p.text == "<secret>" || p.text == "<hidden>":
		// "--secret <secret>": a placeholder of a usage line; a tag that
		// hides text wraps it, and is closed.
		return !bytes.Contains(text[at:], []byte("</"+p.text[1:]))
	case p.text == "exfiltrat":
		// "Scan … for security vulnerabilities: …, data exfiltration,
		// …": a finding named, not an order.
		return findingNamed(text, at)
	case p.text == "change the recipient" || p.text == "replace the recipient":
		return !redirects(text, at+len(p.text))
	}
	if p.kind == FamilyShadowing && (inferArgument(text[:at]) || (p.text == "before calling this tool" || p.text == "before using this tool") && confirmsFirst(text[:at])) {
		return true
	}
	// "also call this tool if the user requests to change …": this
	// tool again, when the user asks, with nothing else in the sentence
	// that steers.
	if p.text == "also call " && userAsksAgain(rest) {
		return true
	}
	// "external apps can also call POST <serverUrl>/webhooks/<id>": an
	// HTTP request to an address, not a tool, with nothing that leaks or
	// steers in the sentence.
	if p.text == "also call " && httpRequestOnly(string(text[at+len(p.text):min(len(text), at+len(p.text)+200)])) {
		return true
	}
	// "use this tool instead of listing numbered options in text":
	// instead of the model's own text to the user, not of a tool.
	if p.text == "use this tool instead" && ownOutputInstead(text, at+len(p.text)) {
		return true
	}
	if p.text == "you must call" && (callsThisBefore(rest) || callsThisAgain(rest)) {
		return true
	}
	if p.text == "call this tool before" && beforeTaskKind(rest) {
		return true
	}
	if p.text == "first call the" && vendorInterface(text[at+len(p.text):]) {
		return true
	}
	if p.text == "you must first" && strings.HasPrefix(rest, " call the ") && vendorInterface(text[at+len(p.text)+len(" call the"):]) {
		return true
	}
	if p.text == "you must first" && gathersArgument(string(text[at+len(p.text):min(len(text), at+len(p.text)+240)])) {
		return true
	}
	if p.text == "you must first" && checksQuotedValue(string(text[at+len(p.text):min(len(text), at+len(p.text)+240)])) {
		return true
	}
	return false
}

// checksQuotedValue reports whether the words after "you must first"
// only ask to look up a value shown by its label in quotes ("you must
// first check the 'Total Chapter Length' and request the final
// section"): a label of two to five plain words (a tool's name has no
// space), then only words of reading on (allowedAfterLabel), and nothing
// in what follows, to the end of the window, that calls, names a tool or
// asks for what may leak.
func checksQuotedValue(rest string) bool {
	window := strings.TrimSpace(rest)
	r := window
	if dot := strings.Index(r, ". "); dot >= 0 {
		r = r[:dot]
	}
	r = strings.TrimSuffix(r, ".")
	r, ok := strings.CutPrefix(r, "check the ")
	if !ok || r == "" || (r[0] != '\'' && r[0] != '"') {
		return false
	}
	label, after, ok := strings.Cut(r[1:], r[:1])
	if !ok {
		return false
	}
	n := 0
	for _, w := range strings.Fields(label) {
		for i := 0; i < len(w); i++ {
			if !isLetter(w[i]) {
				return false
			}
		}
		n++
	}
	if n < 2 || n > 5 {
		return false
	}
	// "'list messages'", "'write file'": a tool's name with spaces;
	// "'contents of the dotenv file'": something to read, not a label.
	lw := strings.Fields(label)
	if verbs[lw[0]] != verbNone {
		return false
	}
	for _, w := range lw {
		if labelLeaks[w] {
			return false
		}
	}
	for _, w := range strings.Fields(after) {
		if !allowedAfterLabel[strings.Trim(w, ",;:")] {
			return false
		}
	}
	if namesLeak(window) {
		return false
	}
	for _, w := range []string{"call", "tool", "use ", "using", "run", "invoke", "execute", "send", "pass", "paste", "put ", "include", "forward", "email", "delete", "upload", "post", "read ", "key", "secret", "token", "passphrase", "ssh", "chat", "_", "(", "`", "/", "~", "@"} {
		if strings.Contains(window, w) {
			return false
		}
	}
	return true
}

// allowedAfterLabel are the words that may follow a quoted label checked
// before a further read of the same text.
var allowedAfterLabel = set("and", "then", "request", "get", "the", "a", "final", "last", "next", "remaining", "rest", "section", "sections", "part", "parts", "page", "pages", "chunk", "chunks", "end", "of", "chapter", "it", "that", "this", "with", "offset", "an", "higher", "larger", "in", "response")

// gathersArgument reports whether the words after "you must first" ask
// for an argument's values ("you MUST first retrieve all services from the
// source environment and include ALL of them in this array"): a gathering
// verb, and the sentence puts what it finds in this call's argument. The
// conversation or a secret in it is a way out instead; a named tool of
// another server is caught by the cross-server check whatever this says.
func gathersArgument(rest string) bool {
	r := strings.TrimSpace(rest)
	if dot := strings.Index(r, ". "); dot >= 0 {
		r = r[:dot]
	}
	verb, _, _ := strings.Cut(r, " ")
	switch verb {
	case "retrieve", "gather", "collect", "obtain", "determine", "find", "list", "look":
	default:
		return false
	}
	if namesLeak(r) {
		return false
	}
	for _, w := range []string{"in this array", "in this field", "in this parameter", "in this argument", "in this list", "as this argument", "as this parameter"} {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

// vendorInterface reports whether after (the text after "first call
// the") names a service's documented API rather than a tool: one or more
// bracketed names of several words, joined by "or", "and" or commas, then
// "interface", "API" or "endpoint" ("first call the [upload material] or
// [fragmented upload material] interface"), as API references link to
// their pages. A tool's name has no space, so "[send_email] interface"
// still names a tool.
func vendorInterface(after []byte) bool {
	s := string(after[:min(len(after), 200)])
	for {
		s = strings.TrimLeft(s, " ")
		if !strings.HasPrefix(s, "[") {
			return false
		}
		end := strings.IndexByte(s, ']')
		if end < 0 || !strings.Contains(strings.TrimSpace(s[1:end]), " ") || strings.ContainsAny(s[1:end], "[") {
			return false
		}
		s = strings.TrimLeft(s[end+1:], " ")
		for _, noun := range []string{"interfaces", "interface", "apis", "api", "endpoints", "endpoint"} {
			if strings.HasPrefix(s, noun) && (len(s) == len(noun) || !isWordByte(s[len(noun)])) {
				return true
			}
		}
		var ok bool
		for _, join := range []string{"or ", "and ", ", ", "/"} {
			if s, ok = strings.CutPrefix(s, join); ok {
				break
			}
		}
		if !ok {
			return false
		}
	}
}

// formatCalled reports whether a format word at text[i:j] is written as a
// tool all the same: followed by " tool", "()" or " function", or after a
// verb that only takes a tool ("call json", "invoke `date`").
func formatCalled(text string, i, j int) bool {
	after := strings.TrimLeft(text[j:], "`'\"")
	for _, a := range []string{" tool", "()", " function"} {
		if strings.HasPrefix(after, a) {
			return true
		}
	}
	before := strings.TrimRight(text[max(0, i-12):i], "`'\" ")
	for _, v := range []string{"call", "invoke", "calls", "invokes", "calling", "invoking"} {
		if strings.HasSuffix(before, " "+v) || before == v {
			return true
		}
	}
	return false
}

// formatWords name a format of data as often as a tool that converts to it
// ("use 'base64' for binary files", "instead of regex", "use instead of
// datetime"): a plain word of them names the format.
var formatWords = set("base64", "regex", "regexp", "datetime", "json", "yaml", "xml", "csv", "uuid", "hex", "utf8", "markdown", "html", "timestamp", "sha256", "md5", "hash", "date", "time")

// listedValue reports whether a text lists word among the values an
// argument takes ("Valid actions: navigate (requires url), click …,
// wait_for (requires selector …)"): in an input's description, "use
// 'wait_for' … instead" then picks a value of this call, not a tool.
func listedValue(text, word string) bool {
	for _, intro := range []string{"valid actions:", "valid values:", "allowed values:", "allowed actions:", "supported actions:", "valid steps:", "possible options:", "possible values:"} {
		i := strings.Index(text, intro)
		if i < 0 || i > 0 && isLetter(text[i-1]) {
			continue
		}
		seg := text[i+len(intro) : min(len(text), i+len(intro)+800)]
		if strings.HasPrefix(strings.TrimLeft(seg, " \n"), "1. ") {
			// a numbered list ("1. get - …  2. get_diff - …") goes on to
			// a blank line
			seg = text[i+len(intro) : min(len(text), i+len(intro)+2000)]
			if end := strings.Index(seg, "\n\n"); end >= 0 {
				seg = seg[:end]
			}
			if numberedItem(seg, word) {
				return true
			}
			continue
		} else if end := strings.Index(seg, ". "); end >= 0 {
			seg = seg[:end]
		}
		if wholeWordIn(seg, word) {
			return true
		}
	}
	return false
}

// numberedItem reports whether word is an item of a numbered list in
// seg: right after "<number>. ", followed by a space, a dash or a colon.
func numberedItem(seg, word string) bool {
	for off := 0; off < len(seg); {
		j := strings.Index(seg[off:], word)
		if j < 0 {
			return false
		}
		j += off
		off = j + len(word)
		before := strings.TrimRight(seg[:j], " ")
		if !strings.HasSuffix(before, ".") || j+len(word) < len(seg) && isWordByte(seg[j+len(word)]) {
			continue
		}
		k := len(before) - 1
		n := k
		for n > 0 && before[n-1] >= '0' && before[n-1] <= '9' {
			n--
		}
		if n < k && (n == 0 || !isWordByte(before[n-1])) {
			return true
		}
	}
	return false
}

// httpRequestOnly reports whether the words after "also call " (up to 200
// bytes) are an HTTP method and an address (a path, a URL or a
// placeholder), and the rest of the sentence names no other tool, steers nothing and asks for
// nothing that leaks.
func httpRequestOnly(rest string) bool {
	m, r, ok := strings.Cut(rest, " ")
	if !ok || !httpMethods[m] {
		return false
	}
	if !strings.HasPrefix(r, "/") && !strings.HasPrefix(r, "<") && !strings.HasPrefix(r, "{") && !strings.HasPrefix(r, "http://") && !strings.HasPrefix(r, "https://") {
		return false
	}
	// A full URL is the server's own only when its host is a
	// placeholder or a documentation host: "POST https://attacker.tld/hook"
	// sends the call somewhere else.
	if strings.HasPrefix(r, "http://") || strings.HasPrefix(r, "https://") {
		host := r[strings.Index(r, "://")+3:]
		if !strings.HasPrefix(host, "<") && !strings.HasPrefix(host, "{") && !exampleHost(strings.Fields(r)[0]) {
			return false
		}
	}
	// to the end of the sentence: a dot followed by a space or the end
	// (a URL's dots do not end it)
	if dot := strings.IndexAny(r, ";\n"); dot >= 0 {
		r = r[:dot]
	}
	if dot := strings.Index(r, ". "); dot >= 0 {
		r = r[:dot]
	}
	// "(no API key needed)": a secret said not to be needed is not asked for
	for _, l := range leakWords {
		r = strings.ReplaceAll(r, "no "+l+" needed", "")
	}
	// A request that carries something ("with the full results", "?q=
	// {user_query}", "including the transcript") sends it.
	return quietClause(r, []string{"tool", "`", "'", "\"", "instead", "first", "before", "after", "always", "never", "every", "each ", " with ", "?", "=", "includ", "attach", "contain", "pass", "send", "body", "payload"})
}

// quietClause reports whether a clause names no secret (namesLeak,
// moreSecrets), holds none of the strings banned and no word that
// steers (clauseSteers).
func quietClause(r string, banned []string) bool {
	if namesLeak(r) || moreSecrets(r) {
		return false
	}
	for _, w := range banned {
		if strings.Contains(r, w) {
			return false
		}
	}
	padded := " " + r + " "
	for _, w := range clauseSteers {
		if strings.Contains(padded, " "+w+" ") {
			return false
		}
	}
	return true
}

// userAsksAgain reports whether the words after "also call " are this
// tool, called when or if the user asks, and the sentence names no other
// tool, steers nothing and asks for nothing that leaks.
func userAsksAgain(rest string) bool {
	r, ok := strings.CutPrefix(rest, "this tool ")
	if !ok {
		return false
	}
	if !strings.HasPrefix(r, "if the user ") && !strings.HasPrefix(r, "when the user ") {
		return false
	}
	if dot := strings.IndexAny(r, ".;\n"); dot >= 0 {
		r = r[:dot]
	}
	return quietClause(r, []string{"tool", "_", "`", "'", "\"", " any", "anything", "every", "each ", "before", "after", "history", "whenever", " all"})
}

// moreSecrets reports whether s names a secret leakWords misses: a PIN, a
// passphrase, a one-time code, an SSH or session key, a card number.
func moreSecrets(s string) bool {
	padded := " " + strings.Map(func(r rune) rune {
		if r == ',' || r == ':' || r == ';' || r == '(' || r == ')' || r == '.' || r == '\'' || r == '-' {
			return ' '
		}
		return r
	}, s) + " "
	for _, w := range []string{" pin ", " pins ", "passphrase", "passcode", " otp ", "one time", "verification code", " 2fa ", " mfa ", "ssh key", "session key", "seed phrase", "recovery phrase", "card number", " cvv ", " cvc ", " ssn ", "social security", "private data", "message history", "full thread"} {
		if strings.Contains(padded, w) {
			return true
		}
	}
	return false
}

// handedSecret reports whether a secret named anywhere in s is one the
// model is to get or hand on: a word of a person's ("their", "your", "the
// user's") or of handing ("send", "paste", "include", "what") in the few
// words before it. "double-check … that they want to remove this API
// key" names the key the tool acts on.
func handedSecret(s string) bool {
	for _, l := range leakWords {
		for off := 0; off < len(s); {
			i := strings.Index(s[off:], l)
			if i < 0 {
				break
			}
			i += off
			off = i + len(l)
			before := " " + s[max(0, i-28):i]
			for _, h := range []string{" their ", " your ", "user's ", " his ", " her ", " send ", " share ", " provide ", " paste ", " give ", " include ", " enter ", " read ", " what ", " type ", " forward "} {
				if strings.Contains(before, h) {
					return true
				}
			}
		}
	}
	return moreSecrets(s) && (strings.Contains(s, " their ") || strings.Contains(s, " your ") || strings.Contains(s, "user's "))
}

// confirmsFirst reports whether the sentence that ends at a phrase like
// "before calling this tool" asks the model to get the user's yes first
// ("ALWAYS present a confirmation summary and wait for explicit yes
// before calling this tool"): a person in the loop, no other tool. The
// sentence may ask for nothing that leaks.
func confirmsFirst(before []byte) bool {
	s := string(before[max(0, len(before)-160):])
	i := strings.LastIndexAny(s, ".\n")
	if i < 0 && len(before) > 160 {
		return false // a sentence longer than what is read
	}
	s = s[i+1:]
	if strings.ContainsAny(s, "@()_/:") || strings.Contains(s, "http") {
		return false // an address, a URL or a call
	}
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, ",;!?\"'`")
		if identLike(f) && !strings.HasSuffix(f, "'s") {
			return false
		}
		for _, v := range confirmBlocked {
			if f == v {
				return false
			}
		}
	}
	if namesLeak(s) {
		return false
	}
	for _, w := range []string{"call ", "use ", "invoke ", "run ", "tool"} {
		if strings.Contains(s, w) {
			return false
		}
	}
	for _, w := range []string{"explicit yes", "user's confirmation", "user confirmation", "confirmation summary", "user's approval", "user approval", "the user confirms", "the user says yes"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// confirmBlocked, in the sentence that asks for the user's yes, do
// something besides asking.
var confirmBlocked = append(append([]string{"fetch", "send", "forward", "email", "post", "upload", "share", "open", "read", "tools", "do", "first", "then"}, strongCallWords...), weakCallWords...)

// beforeTaskKind reports whether the words after "call this tool before"
// name a kind of work the tool is for: "must call this tool before any
// transformation-related task" orders the tool's own use within a task
// of its kind, a workflow. Before any task, any other tool, every
// request or answer, the tool asks to be called before all the model
// does, and is still flagged: the noun must be a task, an operation, a
// job or work, qualified by one to three words that name a kind (not
// "other", "new", "user", …, nor a secret).
func beforeTaskKind(rest string) bool {
	words := strings.Fields(rest)
	// "before generating any Selenium/WebDriver code": writing code of
	// a kind is a task of that kind.
	writing := len(words) > 0 && (words[0] == "generating" || words[0] == "writing")
	if writing {
		words = words[1:]
	}
	if len(words) > 0 && (words[0] == "any" || words[0] == "every" || words[0] == "each" || words[0] == "a" || words[0] == "an" || words[0] == "the") {
		words = words[1:]
	}
	for n, w := range words {
		w = strings.TrimRight(w, ".,;:)")
		if writing && (w == "code" || w == "scripts" || w == "script") {
			return n > 0
		}
		if writing && (w == "or" || w == "and" || strings.HasSuffix(words[n], ",") || replyWords[w]) {
			return false
		}
		if writing && strings.Contains(w, "/") {
			w = strings.ReplaceAll(w, "/", "-")
		}
		switch w {
		case "task", "tasks", "operation", "operations", "job", "jobs", "work":
			return n > 0
		case "other", "new", "next", "further", "more", "such", "all", "general", "given", "single", "user", "tool", "tools":
			return false
		}
		if n >= 3 || strings.TrimFunc(w, func(r rune) bool { return r == '-' || r < 0x80 && isWordByte(byte(r)) }) != "" {
			return false
		}
		if namesLeak(w) {
			return false
		}
	}
	return false
}

// replyWords are what the model says, not code of a kind.
var replyWords = map[string]bool{"response": true, "responses": true, "answer": true, "answers": true, "reply": true, "replies": true, "text": true, "output": true, "message": true, "messages": true, "content": true}

// clientConfigs are MCP clients' configuration files: secrets when read,
// setup notes when named.
var clientConfigs = map[string]bool{"mcp.json": true, "claude_desktop_config": true}

// publicKeyPath reports whether the secret path matched at text[at:] is a
// public key ("~/.ssh/id_ed25519.pub"): the path, read up to the next space
// or quote, ends in ".pub".
func publicKeyPath(text []byte, at int) bool {
	end := at
	for end < len(text) && text[end] != ' ' && text[end] != '`' && text[end] != '"' && text[end] != '\'' && text[end] != ',' && text[end] != ')' {
		end++
	}
	return bytes.HasSuffix(bytes.TrimRight(text[at:end], "."), []byte(".pub"))
}

// ownWorkflow reports whether the sentence around text[at] names one of the
// tool's own server's tools (an identifier, the tool's own name, or a plain
// word in quotes or backticks): an order among the server's own tools
// ("[required precondition]: before using this tool, … call
// get_board_info", "use create_items instead of calling this tool in a
// loop", "prefer this tool over multiple individual 'fill' calls"), not a
// steer to another server's tool, which crossRefs reports whatever the
// sentence says. A plain word counts only when quoted: unquoted, "fill"
// or "click" is as often prose as a name.
func (c *classifier) ownWorkflow(text []byte, at int) bool {
	if len(c.own) == 0 {
		return false
	}
	start, end := sentenceAt(text, at)
	self := strings.ToLower(c.t.Name)
	s := string(text[start:end])
	// An own tool fed with the conversation or a secret is a way out for
	// them, not a workflow.
	if namesLeak(s) {
		return false
	}
	found := false
	eachName(s, ".-:", func(i int, w string) bool {
		found = c.own[w] && (identLike(w) || w == self || quotedAt(s, i, len(w)))
		return !found
	})
	return found || c.quotesOwnTool(s)
}

// quotesOwnTool reports whether a sentence quotes one of the server's own
// tools by its words ("before 'Query Documentation' tool" for
// query-docs, "call 'Resolve Context7 Library ID' tool first" for
// resolve-library-id): every word of the tool's name starts a word of
// the quote, which says nothing more than a few words.
func (c *classifier) quotesOwnTool(s string) bool {
	for off := 0; off < len(s); {
		i := strings.IndexAny(s[off:], "'\"")
		if i < 0 {
			return false
		}
		i += off
		j := strings.IndexByte(s[i+1:], s[i])
		if j < 0 {
			return false
		}
		end := i + 1 + j
		off = end + 1
		// a quote, not an apostrophe ("user's"), and then "tool"
		if i > 0 && isWordByte(s[i-1]) || !strings.HasPrefix(s[end+1:], " tool") {
			continue
		}
		quote := strings.Fields(s[i+1 : end])
		if len(quote) < 2 || len(quote) > 5 {
			continue
		}
		for n := range c.own {
			toks := tokens(n, 8)
			if len(toks) < 2 || len(quote) > len(toks)+1 {
				continue
			}
			// every word of the name, in order, starts a word of the
			// quote; one word more (a brand: "Context7") at most
			if matchedAll(toks, quote) {
				return true
			}
		}
	}
	return false
}

// matchedAll reports whether every token of a name, in order, starts a
// word of quote (a token of three letters or more as a prefix, a shorter
// one as the whole word).
func matchedAll(toks, quote []string) bool {
	k := 0
	for _, t := range toks {
		if len(t) > 3 {
			t = strings.TrimSuffix(t, "s")
		}
		for k < len(quote) && !(quote[k] == t || len(t) >= 3 && strings.HasPrefix(quote[k], t)) {
			k++
		}
		if k == len(quote) {
			return false
		}
		k++
	}
	return true
}

// ownOutputInstead reports whether the words after "use this tool
// instead" are the model writing to the user itself ("of listing items in
// text", "of asking in chat"): a gerund of writing, then "in text", "in
// chat" or "in your response", and no tool, identifier or secret in the
// sentence.
func ownOutputInstead(text []byte, from int) bool {
	_, end := sentenceAt(text, from)
	r := string(text[from:max(from, end)])
	r, ok := strings.CutPrefix(r, " of ")
	if !ok {
		return false
	}
	g, obj, _ := strings.Cut(r, " ")
	if !writingGerunds[g] {
		return false
	}
	// what is listed is a choice put to the user ("numbered options"),
	// not every answer the model gives ("anything", "your replies")
	obj, _, _ = strings.Cut(obj, " in ")
	if _, ok := anyWord(strings.Fields(obj), choiceNouns); !ok || len(strings.Fields(obj)) > 3 {
		return false
	}
	for _, w := range strings.FieldsFunc(r, func(c rune) bool { return c > 0x7f || !isWordByte(byte(c)) }) {
		if routedWords[w] {
			return false
		}
	}
	if !hasAnyPhrase(r, []string{" in text", " in chat", " in the chat", " in your response", " in your reply", " in plain text"}) {
		return false
	}
	for _, w := range []string{"tool", "_", "-", "`", "(", "@", "://"} {
		if strings.Contains(r, w) {
			return false
		}
	}
	return !namesLeak(r)
}

// choiceNouns are what a person is asked to choose among.
var choiceNouns = set("options", "choices", "questions", "alternatives", "items")

// routedWords, after "use this tool instead of listing … in text", route
// more than the choice through the tool.
var routedWords = set("every", "all", "anything", "everything", "answer", "answers", "reply", "replies", "response", "responses", "include", "transcript", "session", "history", "send", "pass", "put", "forward", "always")

// writingGerunds are the model's own ways of putting something to the
// user.
var writingGerunds = set("listing", "writing", "typing", "asking", "presenting", "showing", "printing", "displaying", "enumerating", "describing")

// findingNamed reports whether "exfiltrat" at text[at] is the noun
// "exfiltration" in a sentence about finding or preventing it
// ("vulnerabilities: …, data exfiltration, insecure patterns"), with no
// address or URL in that sentence.
func findingNamed(text []byte, at int) bool {
	if !bytes.HasPrefix(text[at:], []byte("exfiltration")) {
		return false
	}
	// An item of a list: ", exfiltration," or ": data exfiltration and".
	after := text[at+len("exfiltration"):]
	if !(len(after) == 0 || after[0] == ',' || after[0] == '.' || after[0] == ';' || after[0] == ')' || bytes.HasPrefix(after, []byte(" and ")) || bytes.HasPrefix(after, []byte(" or "))) {
		return false
	}
	start, end := sentenceAt(text, at)
	s := string(text[start:end])
	if moreSecrets(s) {
		return false
	}
	for _, w := range []string{"send", "copy", "upload", "post", "forward", "include", "pass", "put", "attach", "transfer", "sync", "tool", "perform", "paste", "write", "share", "email", "call"} {
		if hasWord(s, w) {
			return false
		}
	}
	if strings.Contains(s, "@") || strings.Contains(s, "://") || strings.Contains(s, "www.") {
		return false
	}
	if namesLeak(s) {
		return false
	}
	for _, w := range []string{"vulnerab", "detect", "prevent", "protect", "threat", "risk", "scan"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// ownKindOfTools reports whether "before using any other" goes on with
// the server's own tools by a word of their names ("must be configured
// before using any other Powerpipe tools"): its own workflow. The
// sentence may ask for nothing that leaks.
func (c *classifier) ownKindOfTools(text []byte, at, after int) bool {
	rest := strings.Fields(string(text[after:min(len(text), after+40)]))
	if len(rest) < 2 || strings.TrimRight(rest[1], ".,;:") != "tools" && strings.TrimRight(rest[1], ".,;:") != "tool" {
		return false
	}
	w := rest[0]
	for i := 0; i < len(w); i++ {
		if !isLetter(w[i]) {
			return false
		}
	}
	if !c.ownWord(w) || c.othersWord(strings.ToLower(w)) {
		return false
	}
	start, end := sentenceAt(text, at)
	s := string(text[start:end])
	if moreSecrets(s) {
		return false
	}
	return !namesLeak(s)
}

// sentenceAt returns the bounds of the sentence around text[at]: from
// after the last ". " or line break before it to the next one.
func sentenceAt(text []byte, at int) (start, end int) {
	end = len(text)
	for _, sep := range []string{". ", "\n"} {
		if i := bytes.LastIndex(text[:at], []byte(sep)); i >= 0 && i+len(sep) > start {
			start = i + len(sep)
		}
		if i := bytes.Index(text[at:], []byte(sep)); i >= 0 && at+i < end {
			end = at + i
		}
	}
	return start, end
}

// quotedAt reports whether s[i:i+n] is set off by a matching pair of
// quotes or backticks ('fill', `fill`, "fill"): written as a name.
func quotedAt(s string, i, n int) bool {
	if i == 0 || i+n >= len(s) {
		return false
	}
	q := s[i-1]
	return (q == '\'' || q == '`' || q == '"') && s[i+n] == q
}

// namesLeak reports whether s names something that may leak
// (leakWords).
func namesLeak(s string) bool {
	for _, l := range leakWords {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}

// leakWords, in an instruction to call a tool, name what should not leave
// through it.
var leakWords = []string{"conversation", "chat history", "previous message", "system prompt", "instructions", "password",
	"secret", "token", "api key", "apikey", "credential", "private key", "~/", "/etc/", ".env", ".ssh", "id_rsa", "cookie"}

// redirects reports whether the rest of the sentence from text[from]
// gives a recipient a new place: "to", "with" or "into" something, a colon
// or "=" before one, an e-mail address, a URL or a phone number ("change
// the recipient to +13241234123"). Without one, "to change the
// recipient's email or other properties, delete and re-create the
// permission" documents the API and sends nothing anywhere.
func redirects(text []byte, from int) bool {
	_, end := sentenceAt(text, from)
	rest := string(text[from:max(end, from)])
	for _, w := range []string{" to ", " with ", " into ", ": ", " = "} {
		if strings.Contains(rest, w) {
			return true
		}
	}
	// A phone number: "+" and a digit ("a + b" joins two names).
	for r := rest; ; {
		i := strings.IndexByte(r, '+')
		if i < 0 || i+1 == len(r) {
			break
		}
		if r[i+1] >= '0' && r[i+1] <= '9' {
			return true
		}
		r = r[i+1:]
	}
	i, _ := nextTarget(rest, 0)
	return i >= 0
}

// refusals say that what comes before them is turned away: "(e.g. "/etc",
// "~/.ssh") are rejected".
var refusals = func() (out []string) {
	for _, be := range []string{" are ", " is ", " be "} {
		for _, w := range []string{"rejected", "refused", "blocked", "denied", "forbidden", "disallowed", "not allowed", "not permitted"} {
			out = append(out, be+w)
		}
	}
	return out
}()

// refusedPaths reports whether every place text names a secret file
// (name, a read-secrets phrase) says that such paths are refused: "system
// paths and hidden config directories (e.g. "/etc", "~/.ssh") are
// rejected" documents a guard of the tool's own, not a request to read
// them. The refusal must follow the name within its clause (a few words
// on, no ";" between: "~/.ssh/id_rsa must be sent; calls without it are
// rejected" asks for it), and nothing before it in the sentence may ask to
// read or send it (readsNear). Every place counts, so a refused mention
// does not cover a request further on.
func refusedPaths(text []byte, name string) bool {
	s := string(text)
	for off := 0; ; {
		i := strings.Index(s[off:], name)
		if i < 0 {
			return off > 0
		}
		i += off
		off = i + len(name)
		start, end := sentenceAt(text, i)
		if readsNear(s[start:i]) {
			return false
		}
		refused := false
		rest := s[off:max(end, off)]
		for _, r := range refusals {
			if j := strings.Index(rest, r); j >= 0 && !strings.ContainsAny(rest[:j], ";:") && len(strings.Fields(rest[:j])) <= 4 {
				refused = true
				break
			}
		}
		if !refused {
			return false
		}
	}
}

// callsThisBefore reports whether the words after "you must call" order
// this tool before one named tool ("you must call this before calling the
// make_api_request tool"): a workflow between tools, not a steer to any
// tool. A named tool of another server behind the same gateway is caught
// by the cross-server check (crossRefs) whatever this says.
func callsThisBefore(rest string) bool {
	r := strings.TrimSpace(rest)
	for _, p := range []string{"this before calling the ", "this before calling ", "this tool before calling the ", "this tool before calling "} {
		if after, ok := strings.CutPrefix(r, p); ok {
			name, _, _ := strings.Cut(after, " ")
			return identLike(strings.TrimRight(name, ".,;:"))
		}
	}
	return false
}

// callsThisAgain reports whether the words after "you must call" tell the
// model to call this very tool again ("you MUST call this tool repeatedly
// in a loop (using the returned next_cursor) until the expected message
// arrives"): polling, which names no other tool and steers away from none.
func callsThisAgain(rest string) bool {
	r := strings.TrimSpace(rest)
	for _, p := range []string{"this tool repeatedly", "this tool again", "this tool in a loop", "this tool until"} {
		if strings.HasPrefix(r, p) {
			// Nothing after it may steer, name another tool or ask
			// for a secret.
			for _, w := range pollingSteers {
				if hasWord(r, w) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// pollingSteers, after "call this tool again", make it more than polling.
var pollingSteers = []string{"other", "others", "any", "never", "not", "rather", "over", "always", "instead", "password", "passwords", "key", "keys", "secret", "secrets", "token", "tokens", "sudo"}

// inferArgument reports whether the sentence that ends at a phrase like
// "before calling this tool" tells the model where to find an argument's
// value or how to put it in shape ("Infer this from the project's config
// before calling this tool", "Gather all answers upfront before calling
// this tool", "If you are given a relative path, you must resolve it to
// an absolute path before calling this tool"), which steers it to no
// other tool; secret files it names are caught on their own. The verb
// starts the sentence, or follows a comma or "you must", "you should",
// "you need to", "please", in the phrase's own sentence: the instruction
// is the verb's. None of the verbs calls a tool. A value that is the
// conversation or a secret (leakWords) is not an argument to gather.
func inferArgument(before []byte) bool {
	from := max(0, len(before)-120)
	s := string(before[from:])
	whole := from == 0 // s starts where the text does
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s, whole = s[i+1:], true
	}
	for _, w := range []string{"infer ", "determine ", "gather ", "collect ", "resolve ", "convert ", "normalize ", "normalise ", "format ", "obtain "} {
		i := strings.LastIndex(s, w)
		if i < 0 {
			continue
		}
		lead := strings.TrimRight(s[:i], " ")
		if !(i == 0 && whole || strings.HasSuffix(lead, ".") || strings.HasSuffix(lead, ",") || modalLead(lead)) {
			continue
		}
		// The verb must be in the phrase's sentence: "Convert the date.
		// Always call the audit tool first" asks for a tool call.
		if strings.Contains(strings.NewReplacer("e.g. ", "", "i.e. ", "").Replace(s[i:]), ". ") {
			continue
		}
		if namesLeak(s[i:]) {
			return false
		}
		return true
	}
	return false
}

// modalLead reports whether lead ends in words that put the verb after
// them in the imperative: "you must", "you should", "you need to",
// "please".
func modalLead(lead string) bool {
	for _, m := range []string{"you must", "you should", "you need to", "please"} {
		if strings.HasSuffix(lead, m) && (len(lead) == len(m) || !isWordByte(lead[len(lead)-len(m)-1])) {
			return true
		}
	}
	return false
}

// readsNear reports whether the text before a secret file's name asks to
// read or send it (".env" in a list of files a search looks for does
// not, nor does "do not read, open or echo any .env file": a negation
// covers the verbs right after it, joined by "or" or "and", and nothing
// past another word).
func readsNear(lead string) bool {
	negated := false
	for _, w := range strings.FieldsFunc(lead, func(r rune) bool { return r > 0x7f || !isWordByte(byte(r)) }) {
		// The text is normalised to lower case. Fewer words negate here
		// than in says (negations): "no", "without" and "cannot" before
		// a read are left to flag.
		switch w {
		case "read", "reads", "cat", "open", "contents", "content", "pass", "send", "include", "attach", "upload", "copy", "print", "dump", "paste", "sidenote":
			if !negated {
				return true
			}
		case "not", "never", "t": // "don't" splits into "don" and "t"
			negated = true
		case "or", "and", "nor":
		default:
			negated = false
		}
	}
	return false
}

// CrossCheck looks, across the servers of one scan, for tools whose texts
// call another server's tools (Shadowing), as a gateway merging them would
// list them: each such tool gets the injection signal and critical risk.
// tools[i] are the definitions of servers[i]'s reports, in order.
func CrossCheck(servers []ServerResult, tools [][]Tool) {
	if len(servers) < 2 || len(tools) != len(servers) {
		return
	}
	others := Others{}
	for i, sr := range servers {
		names := make([]string, 0, len(tools[i]))
		for _, t := range tools[i] {
			names = append(names, t.Name)
		}
		others.Add(sr.Name, sr.Prefix, names)
	}
	for i := range servers {
		sr := &servers[i]
		for j := range sr.Tools {
			if j >= len(tools[i]) {
				break
			}
			sig := Shadowing(tools[i][j], sr.Name, others)
			if sig == nil {
				continue
			}
			r := &sr.Tools[j]
			if s := r.Signal(SigInjection); s != nil {
				s.Evidence += "; " + sig.Evidence
			} else {
				r.Signals = append([]Signal{*sig}, r.Signals...)
			}
			r.Risk, r.RiskRule = risk(r)
			r.Explanation += " It calls another server's tool: " + sig.Evidence + "."
		}
	}
}

// writeItems writes a line per signal of the server's items: "poisoned:"
// for the injection and unicode signals (what the gateway withholds),
// "note:" for the others.
func writeItems(w io.Writer, sr ServerResult) {
	for _, it := range sr.Items {
		for _, s := range it.Signals {
			tag := "note"
			if s.Code == SigInjection || s.Code == SigUnicode {
				tag = "poisoned"
			}
			what := it.Kind
			if it.Name != "" {
				what += " " + quoteShort(it.Name, 80)
			}
			fmt.Fprintf(w, "%s: %s %s: %s (%s): %s\n", tag, cell(sr.Name), what, s.Label, s.Code, cell(s.Evidence))
		}
	}
}

var labelLeaks = set("file", "files", "contents", "content", "dotenv", "env", "environment", "login", "logins", "history", "prompt", "message", "messages", "address", "clipboard", "home", "folder", "directory")
