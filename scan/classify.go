package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Category is what a tool does, in the terms policies use: "@read",
// "@write", "@destructive" and "@financial" match these values.
type Category string

// The categories, from least to most dangerous in policy precedence order
// (a policy ranks destructive first, then financial, write, read).
const (
	Read        Category = "read"
	Write       Category = "write"
	Destructive Category = "destructive"
	Financial   Category = "financial"
)

// Title is the category as a heading: "Read", "Write"...
func (c Category) Title() string {
	if c == "" {
		return ""
	}
	return strings.ToUpper(string(c[:1])) + string(c[1:])
}

// Risk is how much harm an agent could do with a tool.
type Risk string

// The risk levels, in increasing order.
const (
	Low      Risk = "low"
	Medium   Risk = "medium"
	High     Risk = "high"
	Critical Risk = "critical"
)

// Level orders risks: 0 for low up to 3 for critical (-1 if unknown).
func (r Risk) Level() int {
	switch r {
	case Low:
		return 0
	case Medium:
		return 1
	case High:
		return 2
	case Critical:
		return 3
	}
	return -1
}

// Signal codes. Every signal a report carries has one of these codes.
const (
	SigAuth         = "auth"         // handles credentials or secrets
	SigBody         = "body"         // accepts raw HTML/template content
	SigParams       = "params"       // high parameter count
	SigPII          = "pii"          // personal data
	SigExec         = "exec"         // code or command execution
	SigNetwork      = "network"      // arbitrary URL / network egress
	SigFS           = "fs"           // file system access
	SigMessaging    = "messaging"    // sends messages to people
	SigBulk         = "bulk"         // bulk or batch operations
	SigIrreversible = "irreversible" // irreversible deletion
	SigMoney        = "money"        // money movement
	SigAdmin        = "admin"        // permissions / admin changes
	SigInjection    = "injection"    // instructions to the model in tool text (tool poisoning)
	SigUnicode      = "unicode"      // hidden or unusual Unicode, invalid UTF-8
	SigLongText     = "long-text"    // very long tool text, whitespace padding
	SigMismatch     = "mismatch"     // annotations contradict the name
)

// signalOrder is the order signals appear in a report, and their labels.
var signalOrder = []struct{ code, label string }{
	{SigInjection, "Instructions to the model in tool text"},
	{SigUnicode, "Hidden or unusual Unicode"},
	{SigLongText, "Very long tool text"},
	{SigAuth, "Handles credentials or secrets"},
	{SigBody, "Accepts raw HTML/template content"},
	{SigParams, "High parameter count"},
	{SigPII, "Handles personal data"},
	{SigExec, "Executes code or commands"},
	{SigNetwork, "Arbitrary URL / network egress"},
	{SigFS, "File system access"},
	{SigMessaging, "Sends messages to people"},
	{SigBulk, "Bulk or batch operation"},
	{SigIrreversible, "Irreversible deletion"},
	{SigMoney, "Moves money"},
	{SigAdmin, "Changes permissions or admin settings"},
	{SigMismatch, "Annotations contradict the tool name"},
}

// Signal is one reason a tool is risky.
type Signal struct {
	// Code is one of the Sig* constants.
	Code string `json:"code"`
	// Label is short and human: "Handles credentials or secrets",
	// "High parameter count (27 properties)".
	Label string `json:"label"`
	// Evidence quotes what triggered it: `property "password"`,
	// `description: "…ignore previous instructions…"`.
	Evidence string `json:"evidence"`
	// Rule names the rule that produced it (see docs/scanner.md), e.g.
	// "property-name", "name-word", "description-phrase", "annotation".
	Rule string `json:"rule"`
}

// Report is the classification of one tool.
type Report struct {
	Name     string   `json:"name"`
	Category Category `json:"category"`
	// CategoryRule names the rule that chose the category, e.g.
	// "name-verb:update", "annotation:readOnlyHint", "default:write".
	CategoryRule string `json:"category_rule"`
	Risk         Risk   `json:"risk"`
	// RiskRule names the rule that set the risk, e.g. "category:write",
	// "signal:admin raises write".
	RiskRule string   `json:"risk_rule"`
	Signals  []Signal `json:"signals"`
	// Explanation is one sentence saying why.
	Explanation string `json:"explanation"`
	// Properties is the number of top-level input properties.
	Properties int `json:"properties"`
	// Pin is the tool definition's hash (see Pin).
	Pin string `json:"pin"`
	// Problems are defects of the definition itself (a schema that is not
	// JSON, a $ref that does not resolve…); the tool is classified anyway.
	Problems []string `json:"problems,omitempty"`

	// guards are the args rules Recommend writes (not encoded).
	guards []guard
	// props are the input schema's properties, for the arguments
	// Recommend redacts (not encoded).
	props []prop
}

// Categories returns the report's categories as toolgate.Call.Categories
// wants them, for policy rules keyed "@read", "@write"...
func (r *Report) Categories() []string { return []string{string(r.Category)} }

// Has reports whether the report carries a signal with that code.
func (r *Report) Has(code string) bool { return r.Signal(code) != nil }

// Signal returns the report's signal with that code, or nil.
func (r *Report) Signal(code string) *Signal {
	for i := range r.Signals {
		if r.Signals[i].Code == code {
			return &r.Signals[i]
		}
	}
	return nil
}

// Limits bounding the work done on one tool.
const (
	maxTextScan   = 64 << 10 // bytes of one text searched for phrases
	maxTextTotal  = 1 << 20  // bytes of all texts of one tool searched
	maxNodes      = 20000    // schema nodes walked
	maxDepth      = 64       // schema nesting followed
	maxEvidence   = 3        // evidence items quoted per signal
	paramsHigh    = 15       // top-level properties that make "params"
	paramsNested  = 40       // properties at any depth that make "params"
	longTextRunes = 4096     // description length that makes "long-text"
	longSpaceRun  = 200      // run of whitespace that makes "long-text"
)

// Classify classifies one tool. It never panics and never fails: defects
// of the definition are listed in Report.Problems and the tool is
// classified from what could be read.
func Classify(t Tool) Report {
	return classify(&t, &scratch{}, serverKind{})
}

// ClassifyIn classifies one tool of the server named server (the name it
// is configured under, or the name it gives itself). A name that says
// the server handles mail ("gmail", "mail-server", "imap") makes its
// readers of messages, threads and drafts read emails, which carry
// people's addresses, even when the tool's own text does not say mail; a
// name that says an online file store ("gdrive", "dropbox", "gworkspace")
// puts the paths its tools take in the store, not on the server's disk.
func ClassifyIn(server string, t Tool) Report {
	return classify(&t, &scratch{}, serverKindOf(server))
}

func classify(t *Tool, s *scratch, kind serverKind) Report {
	return classifyOwn(t, s, kind, nil)
}

// classifyOwn is classify with the names of the tools of the tool's own
// server (lower case), whose calls among each other are a workflow.
func classifyOwn(t *Tool, s *scratch, kind serverKind, own map[string]bool) Report {
	s.places = s.places[:0]
	c := newClassifierIn(t, s)
	c.mailServer, c.storeServer, c.browserServer, c.jiraServer = kind.mail, kind.store, kind.browser, kind.jira
	c.own = own
	c.run()
	return c.report()
}

// ClassifyAmong classifies a tool of server the way a merged list shows
// it: others names the tools of every server of the list, server's own
// among them. Telling the model to call one of the server's own tools
// first ("before using this tool, call get_board_info") orders the
// server's own workflow and is not tool shadowing; telling it to call
// another server's tool still is (Shadowing).
func ClassifyAmong(server string, t Tool, others Others) Report {
	var own map[string]bool
	for name, servers := range others {
		for _, s := range servers {
			if s == server {
				if own == nil {
					own = map[string]bool{}
				}
				own[name] = true
				break
			}
		}
	}
	s := &scratch{}
	s.places = s.places[:0]
	c := newClassifierIn(&t, s)
	kind := serverKindOf(server)
	c.mailServer, c.storeServer, c.browserServer, c.jiraServer = kind.mail, kind.store, kind.browser, kind.jira
	c.own = own
	c.peers, c.peerSelf = others, server
	c.run()
	return c.report()
}

// ClassifyAll classifies every tool of a list, in order.
func ClassifyAll(tools []Tool) []Report {
	return classifyAll("", tools)
}

func classifyAll(server string, tools []Tool) []Report {
	out := make([]Report, len(tools))
	s := &scratch{}
	kind := serverKindOf(server)
	// The list is one server's: its tools are each other's own.
	var own map[string]bool
	if server != "" {
		own = make(map[string]bool, len(tools))
		for i := range tools {
			own[strings.ToLower(tools[i].Name)] = true
		}
	}
	for i := range tools {
		out[i] = classifyOwn(&tools[i], s, kind, own)
	}
	return out
}

// serverKind is what a server's name says it handles.
type serverKind struct {
	// mail: its name says mail ("gmail", "mail-server", "imap").
	mail bool
	// store: its name says an online file store ("gdrive", "dropbox",
	// "gworkspace", "storage"): the paths its tools take are there.
	store bool
	// browser: its name says it drives a browser ("selenium",
	// "browserbase"): its tools that act do so on the live page.
	browser bool
	// jira: its name says Jira ("answerai-jira-mcp"): its issues'
	// descriptions are Jira's, not Markdown a forge renders.
	jira bool
}

// serverKindOf reads a server's name.
func serverKindOf(name string) serverKind {
	if name == "" {
		return serverKind{}
	}
	toks := tokens(name, 16)
	_, mail := anyWord(toks, mailWords)
	_, store := anyWord(toks, storeServerWords)
	_, browser := anyWord(toks, browserServerWords)
	return serverKind{mail: mail, store: store, browser: browser, jira: contains(toks, "jira")}
}

// localSaveRule ends the category rule of a reader raised to Write
// because it saves what it reads to a local file.
const localSaveRule = " (saves to a local file)"

// browserServerWords, in a server's name, say it drives a browser.
var browserServerWords = set("selenium", "webdriver", "playwright", "puppeteer", "devtools", "browserbase", "hyperbrowser", "stagehand")

// storeServerWords, in a server's name, say it is an online file store.
var storeServerWords = set("drive", "gdrive", "dropbox", "onedrive", "sharepoint", "s3", "storage", "bucket", "workspace", "gworkspace", "gitlab", "github", "bitbucket", "gitea", "gitee", "devops")

// scratch holds the buffers a classifier needs while it works on a tool,
// which the tools of a list share: nothing in them outlives the
// classification of one tool.
type scratch struct {
	// buf is the normalised text of the text checks.
	buf []byte
	// low is a tool's description lead in lower case (lowLead).
	low []byte
	// places is a buffer of the walk over every string of the schemas
	// (walkStrings).
	places []place
	// canon is the canonical form pin hashes, written by texts.
	canon []byte
	// tree holds the tool's schemas and annotations, decoded.
	tree jsonTree
	// propBuf is where the walker collects the properties.
	propBuf []prop
	// ev, rules and label are the classifier's maps (which the report
	// copies what it needs from).
	ev           map[string][]string
	rules, label map[string]string
}

// annotations holds the hints of a tool's annotations; nil means absent.
type annotations struct {
	ReadOnly    *bool `json:"readOnlyHint"`
	Destructive *bool `json:"destructiveHint"`
	Idempotent  *bool `json:"idempotentHint"`
	OpenWorld   *bool `json:"openWorldHint"`
}

type classifier struct {
	t        *Tool
	ann      annotations
	nameToks []string
	props    []prop
	top      int
	problems []string
	// evidence per signal code, with the rule of the first.
	ev    map[string][]string
	rules map[string]string
	label map[string]string

	category     Category
	categoryRule string
	verb         string
	verbSource   string // "name" or "description"
	// notifyAddress is a top-level email or phone property, a place
	// notifications may go.
	notifyAddress string
	// readVerb: the verb reads, whatever the annotations made the category.
	readVerb bool
	// lowDone: low (scratch) holds this tool's lead in lower case.
	lowDone bool
	// converter: the tool turns its input into another form and returns
	// it ("sqlToRest": "Converts SQL query to a PostgREST API request"):
	// the SQL or code it is given is not run.
	converter bool
	guards    []guard
	// decoded schemas and annotations: their nodes in the tree (-1 when
	// absent or not JSON), and whether each was valid JSON.
	in, out, annv    int32
	inOK, outOK, aOK bool
	*scratch
	// self and others: the tool's server and the tools of the other
	// servers of a merged list, whose names its texts may not use
	// (Shadowing, CheckItem); onlyRefs checks for those names alone.
	self     string
	others   Others
	onlyRefs bool
	// own names the tools of the tool's own server (lower case), when
	// known: ClassifyAmong and the lists of Scan.
	own map[string]bool
	// peers, in ClassifyAmong, are the merged list's tools by server
	// (peerSelf the tool's own), for othersWord only.
	peers    Others
	peerSelf string
	// sandboxed: the description's lead says the tool's files are in a
	// sandbox or on a remote machine (properties sets it).
	sandboxed bool
	// sqlProp is a top-level property that holds the caller's SQL.
	sqlProp string
	// mailServer: the tool's server says by its name that it handles
	// mail (ClassifyIn).
	mailServer bool
	// storeServer: the server's name says an online file store.
	storeServer bool
	// browserServer: the server's name says it drives a browser.
	browserServer bool
	// jiraServer: the server's name says Jira.
	jiraServer bool
	// leadFetches: the description's lead says the tool fetches.
	leadFetches bool
	// chain, chainSet: the tool works on a blockchain (see onChain).
	chain, chainSet bool
	// descLower is signalText, once made.
	descLower   string
	descLowered bool
}

func newClassifier(t *Tool) *classifier {
	return newClassifierIn(t, &scratch{})
}

// newClassifierIn is newClassifier working in s, whose maps it empties
// and uses.
func newClassifierIn(t *Tool, s *scratch) *classifier {
	if s.ev == nil {
		s.ev, s.rules, s.label = map[string][]string{}, map[string]string{}, map[string]string{}
	} else {
		clear(s.ev)
		clear(s.rules)
		clear(s.label)
	}
	return &classifier{t: t, ev: s.ev, rules: s.rules, label: s.label, scratch: s, in: -1, out: -1, annv: -1}
}

func (c *classifier) add(code, rule, evidence string) {
	if _, ok := c.rules[code]; !ok {
		c.rules[code] = rule
	}
	for _, e := range c.ev[code] {
		if e == evidence {
			return
		}
	}
	c.ev[code] = append(c.ev[code], evidence)
}

func (c *classifier) run() {
	t := c.t
	c.nameToks = tokens(t.Name, 32)
	c.tree.reset()
	if len(t.Annotations) > 0 {
		v, err := c.tree.parse(t.Annotations)
		c.annv, c.aOK = v, err == nil
		if err != nil {
			c.problems = append(c.problems, "annotations: "+shortErr(err))
		} else if c.tree.kindOf(v) == treeObject {
			tr := &c.tree
			c.ann = annotations{ReadOnly: tr.boolp(tr.member(v, "readOnlyHint")), Destructive: tr.boolp(tr.member(v, "destructiveHint")),
				Idempotent: tr.boolp(tr.member(v, "idempotentHint")), OpenWorld: tr.boolp(tr.member(v, "openWorldHint"))}
		} else {
			c.problems = append(c.problems, "annotations is not an object")
		}
	}
	c.readSchema()
	c.texts()
	c.categorize()
	c.signals()
}

// readSchema walks the input schema: properties, and every string in the
// schemas and annotations for the text checks.
func (c *classifier) readSchema() {
	if len(c.t.InputSchema) > 0 {
		root, err := c.tree.parse(c.t.InputSchema)
		c.in, c.inOK = root, err == nil
		if err != nil {
			c.problems = append(c.problems, "inputSchema: "+shortErr(err))
		} else {
			// The walker appends to a buffer the tools share; the report
			// keeps a copy of its size.
			w := &walker{t: &c.tree, root: root, props: c.propBuf[:0]}
			w.object(root, "", 0)
			if len(w.props) > 0 {
				c.props = append([]prop(nil), w.props...)
			}
			c.propBuf = w.props
			c.top = w.top
			c.problems = append(c.problems, w.problems...)
		}
	}
	if len(c.t.OutputSchema) > 0 {
		v, err := c.tree.parse(c.t.OutputSchema)
		c.out, c.outOK = v, err == nil
		if err != nil {
			c.problems = append(c.problems, "outputSchema: "+shortErr(err))
		}
	}
}

// decodeJSON decodes a schema or the annotations as json.Decoder does with
// UseNumber, in one pass over the bytes; encoding/json itself reads what
// the one pass does not handle, and says what is wrong.
func decodeJSON(raw json.RawMessage) (any, error) {
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	if v, ok := fastDecode(raw); ok {
		return v, nil
	}
	return decodeJSONStd(raw)
}

// decodeJSONStd is decodeJSON by encoding/json alone.
func decodeJSONStd(raw json.RawMessage) (any, error) {
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// categorize chooses the category from the name's verb, the description's,
// the annotations and the money evidence, in that order.
func (c *classifier) categorize() {
	class := verbNone
	// A name that ends in the one who acts ("deploy_services_reader",
	// "project_updater") says what it does there.
	if n := len(c.nameToks); n > 1 {
		if w, ok := agentNouns[c.nameToks[n-1]]; ok {
			class, c.verb, c.verbSource = verbs[w], w, "name"
		}
	}
	for i, w := range c.nameToks {
		if class != verbNone {
			break
		}
		// "pods_log": a log at the end of a name is the object.
		if i > 0 && i == len(c.nameToks)-1 && (w == "log" || w == "logs") {
			break
		}
		if v, ok := verbs[w]; ok {
			// "do_delete_namespace": a leading "do" names a product
			// (Durable Objects) or says nothing; the next verb decides.
			if w == "do" && laterVerb(c.nameToks[i+1:]) {
				continue
			}
			// "order_history", "app_store": a noun that is also a verb,
			// before a word that says what of it, or after the one that
			// names it, is no verb.
			if i+1 < len(c.nameToks) && objectBefore(w, c.nameToks[i+1]) || w == "store" && i > 0 && (c.nameToks[i-1] == "app" || c.nameToks[i-1] == "play") {
				continue
			}
			class, c.verb, c.verbSource = v, w, "name"
			// "wait_and_delete_file", "get_then_remove": verbs joined
			// in a name are as bad as the worst of them.
			joined := false
			for j := i + 1; j < len(c.nameToks); j++ {
				t := c.nameToks[j]
				if t == "and" || t == "then" {
					joined = true
					continue
				}
				// after a conjunction, or after a verb that only waits or
				// detects ("wait_delete_file", "detect_remove_duplicates"),
				// every later verb counts
				if (joined || w == "wait" || w == "detect") && verbs[t] != verbNone && verbRank[verbs[t]] > verbRank[class] {
					class, c.verb = verbs[t], t
				}
			}
			// "invoice_list", "trash_get_profile", "order_return_create":
			// after a noun that is also a verb, the worst of the later
			// verbs decides.
			// "navigate_delete_tab": so does a navigation's.
			if nounishVerbs[w] || w == "navigate" || screenActions[w] {
				found := false
				for _, later := range c.nameToks[i+1:] {
					if v2 := verbs[later]; v2 != verbNone && !nounishVerbs[later] && (!found || verbRank[v2] > verbRank[class]) {
						class, c.verb, found = v2, later, true
					}
				}
			}
			// Names generated from an HTTP API start with the method,
			// and APIs search with POST: "API-post-search" searches.
			if w == "post" {
				for _, w2 := range c.nameToks[i+1:] {
					if v2 := verbs[w2]; v2 == verbRead {
						class, c.verb = v2, w2
						break
					}
				}
			}
			break
		}
	}
	// A tool named for waiting or detecting may say what it does once
	// the wait is over ("Wait for the job to finish, then delete its
	// workspace"): the worst verb after a "then" in its lead counts.
	if class == verbRead && c.verbSource == "name" && (c.verb == "wait" || c.verb == "detect") {
		fs := strings.Fields(string(c.lowLead()))
		for i := 1; i < len(fs); i++ {
			if strings.Trim(fs[i-1], ",;:") != "then" {
				continue
			}
			if v, st := lookupStem(strings.Trim(fs[i], ".,;:()'\"`")); v != verbNone && !descNouns[st] && verbRank[v] > verbRank[class] && v != verbWeakWrite {
				class, c.verb = v, st
			}
		}
	}
	// "manage" says the tool does several things; the description may
	// list them ("Create, list, get, update, or remove …"), and the worst
	// of them counts.
	// A tool with no verb whose lead is a name of data ("Funding rate
	// history.", "Index data.", "Order book depth.") reports it.
	if class == verbNone {
		if n := c.dataLead(); n != "" {
			class, c.verb, c.verbSource = verbRead, n, "lead"
		}
	}
	if class == verbNone || c.verb == "manage" {
		nameClass := class
		ws, listed, slashed := listWords(descriptionBody(c.t.Description), 12, 512)
		skippedNoun := false
		for i, w := range ws {
			// "Order flow data…": a noun that is also a verb, before a
			// word that says what of it, is no verb.
			if i+1 < len(ws) && objectBefore(w, ws[i+1]) {
				skippedNoun = true
				continue
			}
			// "Signal the process to stop": a description that opens
			// with "signal" sends one.
			if v, s := lookupStem(w); v != verbNone && s != "manage" && (!descNouns[s] || s == "signal" && i == 0) {
				class, c.verb, c.verbSource = v, s, "description"
				// "List, create, close, or select a tab": a list of
				// verbs is as dangerous as the worst of them. Only a
				// list: in "Get logs", logs is the object.
				for j := i + 1; j < len(ws) && listed[j]; j++ {
					if ws[j] == "or" || ws[j] == "and" {
						continue
					}
					v2, s2 := lookupStem(ws[j])
					if v2 == verbNone && slashed[j] || s2 == "navigate" {
						continue
					}
					if v2 == verbNone {
						break
					}
					if verbRank[v2] > verbRank[class] {
						class, c.verb = v2, s2
					}
				}
				break
			}
		}
		// "Order data. • list • order_cancel": with the noun passed
		// over, an action the tool lists that is worse than the verb
		// found counts.
		if v, a := c.actionClass(); skippedNoun && verbRank[v] > verbRank[class] {
			class, c.verb, c.verbSource = v, a, "description"
		}
		if nameClass != verbNone && verbRank[class] < verbRank[nameClass] {
			// "Manage the schema: get info, create tables": at least a write.
			class, c.verb, c.verbSource = nameClass, "manage", "name"
		}
	}
	// A description in Chinese or Japanese says what the tool does with
	// its own verbs ("通过IP地址获取位置信息": gets a location).
	if class == verbNone {
		if v, w := cjkVerb(c.t.Description); v != verbNone {
			class, c.verb, c.verbSource = v, w, "description"
		}
	}
	// Clearing or refreshing a cache the name names loses nothing that
	// is not made again: the server's own state, which a readOnlyHint
	// may call a read ("semconv_refresh_cache": "Clear … cache").
	if (class == verbDestructive || class == verbWrite) && cacheVerbs[c.verb] && anyIn(c.nameToks, cacheNouns) && c.cacheLead() {
		class = verbWeakWrite
	}
	// Building a map, a graph or a report computes it; a readOnlyHint
	// may say so ("Build a service dependency map …").
	if class == verbWrite && c.verb == "build" && c.verbSource == "description" && c.ann.ReadOnly != nil && *c.ann.ReadOnly && c.buildsView() {
		class = verbWeakWrite
	}
	// A language server's hover ("Get hover information (type,
	// documentation) for a symbol") reads; a hover on a page moves the
	// pointer there.
	if c.verb == "hover" && c.verbSource == "name" && c.hoverInfo() {
		class = verbRead
	}
	// A conversion with no file, folder or stored record and a lead
	// that stores nothing ("Convert time between timezones", "Convert
	// traditional CSS to TailwindCSS utility classes") computes.
	if class == verbWeakWrite && c.verb == "convert" && c.verbSource == "name" && c.convertsForms() && !descWord(strings.ToLower(c.t.Description), storedWords) && !c.storedOperand() {
		class = verbRead
	}
	// A query tool whose lead executes or runs SQL and says nothing of
	// read-only or SELECT runs whatever statement it is given.
	if class == verbRead && c.verb == "query" && c.verbSource == "name" && c.runsAnySQL() {
		class = verbWrite
	}
	// Resolving a comment, a conversation or an issue marks it done; a
	// name or an id resolved is looked up.
	if class == verbRead && c.verb == "resolve" && c.verbSource == "name" && len(c.nameToks) > 0 && resolvedThings[c.nameToks[len(c.nameToks)-1]] {
		class = verbWrite
	}
	// The server's own connection to a database, a host or a dev server
	// ("connect", "disconnect_all", "connect_metro", "ssh_disconnect")
	// is state of its session: nothing of the caller's is stored.
	if (c.verb == "connect" || c.verb == "disconnect") && c.verbSource == "name" && class == verbWeakWrite && ownConnection(c.nameToks) && c.onlyConnects() {
		class = verbRead
	}
	// Capturing a screenshot takes a picture of what is shown.
	if c.verb == "capture" && c.verbSource == "name" && (class == verbWeakWrite || class == verbWrite) && (contains(c.nameToks, "screenshot") || contains(c.nameToks, "screenshots")) && c.onlyCaptures() {
		class = verbRead
	}
	// Checking a checkbox or a radio button ticks it on the page.
	if class == verbRead && c.verb == "check" && c.verbSource == "name" && (bytes.Contains(c.lowLead(), []byte("checkbox")) || bytes.Contains(c.lowLead(), []byte("radio button"))) {
		class = verbWrite
	}
	// Pinging a webhook makes the service deliver an event to it.
	if class == verbRead && c.verb == "ping" && c.verbSource == "name" && pingsHook(c.nameToks) {
		class = verbWrite
	}
	// A translation the lead says is saved, created or published is
	// stored ("Machine-translate the project's keys and save the
	// translations").
	if class == verbRead && c.verbSource == "name" && (c.verb == "translate" || c.verb == "rephrase" || c.verb == "paraphrase") && descWord(string(c.lowLead()), storedWords) {
		class = verbWrite
	}
	// Encoding, decoding or hashing computes, unless the lead says the
	// result is stored, written over or the input deleted.
	if class == verbRead && c.verbSource == "name" && (c.verb == "encode" || c.verb == "decode" || c.verb == "hash") {
		if lead := string(c.lowLead()); descWord(lead, deletedWords) {
			class = verbDestructive
		} else if descWord(lead, storedWords) {
			class = verbWrite
		}
	}
	if c.verb == "drop" && !c.dropsData() {
		// "drop files onto an element" is not "drop table".
		class = verbWrite
	}
	// A name "<this> to <that>" with no verb of its own, described as
	// converting or translating, computes and returns the other form.
	if (class == verbWrite || class == verbWeakWrite) && c.verbSource == "description" && (c.verb == "convert" || c.verb == "translate") && converterName(c.nameToks) && !leadRuns(descriptionLead(c.t.Description)) {
		class, c.converter = verbRead, true
	}
	rule := ""
	switch c.verbSource {
	case "name":
		rule = "name-verb:" + c.verb
	case "description":
		rule = "description-verb:" + c.verb
	case "lead":
		rule = "description-phrase:" + c.verb + " (a name of data reported)"
	}
	cat := Category("")
	switch class {
	case verbRead:
		cat = Read
	case verbWrite, verbWeakWrite:
		cat = Write
	case verbDestructive:
		cat = Destructive
	case verbFinancial:
		cat = Financial
	}
	// A download or an export saved to a local path writes a file.
	if class == verbRead && !checkVerbs[c.verb] {
		if p := c.localOutput(); p != "" {
			class = verbWrite
			rule = "property-name:" + p + localSaveRule
			cat = Write
		}
	}
	// "git_checkout" switches a branch; it buys nothing.
	if class == verbFinancial && c.verb == "checkout" && c.gitRef() {
		class, cat = verbWrite, Write
	}
	// Subscribing to a stream of events or device updates
	// ("protect_subscribe_events") listens; it buys nothing.
	if class == verbFinancial && c.verb == "subscribe" && anyIn(c.nameToks, streamNouns) {
		class, cat = verbWeakWrite, Write
		rule += " (listens to a stream, buys nothing)"
	}
	// Issues, tasks or a repository moved to another cycle, project or
	// owner ("transfer_cycle_issues") move no money.
	if class == verbFinancial && c.verb == "transfer" && workTransfer(c.nameToks) {
		class, cat = verbWrite, Write
		rule += " (moves work items, not money)"
	}
	ro, destr := c.ann.ReadOnly, c.ann.Destructive
	// readOnlyHint and destructiveHint both true contradict each other:
	// a destructive hint means something only for a tool that writes.
	if ro != nil && *ro && destr != nil && *destr {
		c.add(SigMismatch, "annotation", "readOnlyHint: true and destructiveHint: true")
	}
	switch {
	case ro != nil && *ro && class == verbRead:
	case ro != nil && *ro && (class == verbNone || class == verbWeakWrite):
		cat, rule = Read, "annotation:readOnlyHint"
	case ro != nil && *ro:
		c.add(SigMismatch, "annotation", fmt.Sprintf("readOnlyHint: true but %s verb %q", c.verbSource, c.verb))
	case destr != nil && *destr && cat == Read && c.leadSaysWrite():
		// A getter annotated destructive whose description says it also
		// changes something ("… and updates them on the application"):
		// the annotation and the description agree, the verb undersells.
		cat, rule = Write, "annotation:destructiveHint"
	case destr != nil && *destr && cat == Read && c.endingAction() == "":
		// A search annotated destructive: the annotation is wrong, or
		// the tool does more than its verb says. Either way, look. (A
		// tool whose action can delete is destructive below.)
		c.add(SigMismatch, "annotation", fmt.Sprintf("destructiveHint: true but %s verb %q", c.verbSource, c.verb))
	case destr != nil && *destr && (cat == "" || cat == Write) && c.endsOrOverwrites():
		// destructiveHint is MCP's default for a tool that is not
		// read-only, and servers set it on every update; alone it says
		// little. It counts when the name ends something (close, stop)
		// or the description says the tool overwrites.
		cat, rule = Destructive, "annotation:destructiveHint"
	case ro != nil && !*ro && (cat == "" || cat == Read):
		// Not a contradiction: false is MCP's default, and a server that
		// says its tool may write is believed.
		cat, rule = Write, "annotation:readOnlyHint=false"
	}
	// A read verb the annotations raised to Write (preview_prices,
	// readOnlyHint: false) computes what money would do; it moves none.
	c.readVerb = class == verbRead
	// Accepting a buyer's dispute or claim refunds the buyer; the other
	// steps of a dispute (evidence, a contest) move no money.
	if (cat == Write || cat == "") && !c.readVerb && contains(c.nameToks, "accept") && anyIn(c.nameToks, disputeWords) {
		cat, rule = Financial, "name-verb:accept (a dispute accepted refunds the buyer)"
	}
	if cat == Write && !c.readVerb && !paymentMethod(c.nameToks) && !dbTransaction(c.nameToks) && !c.sendsBill() && !c.disputeStep() {
		for _, w := range c.nameToks {
			if moneyNouns[w] && !(w == "checkout" && c.gitRef()) && !workTransfer(c.nameToks) {
				cat, rule = Financial, "name-noun:"+w
				break
			}
		}
	}
	if cat == Write && !c.readVerb && c.movesMoney() {
		cat, rule = Financial, "property:amount"
	}
	// A proxy of every request of an API annotated read-only ("In
	// read-only mode, only GET requests are allowed") whose method lists
	// DELETE deletes with it: the annotation says less than the tool.
	if cat == Read && rule == "annotation:readOnlyHint" {
		if p := c.apiMethod(); p != "" {
			cat, rule = Destructive, "property-enum:"+p+"=DELETE (a request of the configured API)"
			c.add(SigMismatch, "annotation", "readOnlyHint: true but "+p+" lists DELETE")
		}
	}
	// A tool with no verb whose lead is a measure ("Total number of tests
	// in the last N days", "CPU usage over time per node") reports it.
	if cat == "" && class == verbNone && (c.ann.Destructive == nil || !*c.ann.Destructive) {
		if p := c.leadMeasure(); p != "" {
			cat, rule = Read, "description-phrase:"+p+" (a measure reported)"
		}
	}
	if cat == "" {
		cat, rule = Write, "default:write"
	}
	// A tool that does one of several things ("action": mark_read, move,
	// delete) is as dangerous as the worst of them, whatever verb its name
	// or description starts with ("Manage environments: list/get/…").
	if cat == Write || cat == Read {
		if r := c.endingAction(); r != "" {
			cat, rule = Destructive, r
		}
	}
	// One tool for every request of a configured API ("postgrestRequest":
	// method GET…DELETE, a path) deletes with it; an HTTP client given a
	// URL goes wherever it is sent (the network signal) instead.
	if cat == Write {
		if p := c.apiMethod(); p != "" {
			cat, rule = Destructive, "property-enum:"+p+"=DELETE (a request of the configured API)"
		}
	}
	// A batch call with a list to delete ("delete": [ids]) deletes.
	if cat == Write {
		for i := range c.props {
			if p := &c.props[i]; p.depth == 1 && (p.joined == "delete" || p.joined == "remove" || p.joined == "destroy") && p.typ != "boolean" {
				cat, rule = Destructive, "property-name:"+p.name
				break
			}
		}
	}
	// Resetting discards the state it resets (a working tree, a
	// container); resetting a password or a key issues a new one, and
	// resetting a counter ("unread_notification_count") marks things read;
	// a reset whose lead says it unstages ("Unstages all staged changes")
	// keeps the working tree, unless it says hard.
	if cat == Write && c.verb == "reset" && c.verbSource == "name" && !anyIn(c.nameToks, authWords) && !anyIn(c.nameToks, counterWords) && !c.onlyUnstages() {
		cat, rule = Destructive, "name-verb:reset (discards the state it resets)"
	}
	// Data definition statements alter and drop tables.
	if (cat == Write || cat == "") && contains(c.nameToks, "ddl") {
		cat, rule = Destructive, "name-word:ddl"
	}
	// Clearing a cache loses nothing that is not made again.
	// Clearing a page's input field loses only what was typed in it, and
	// clearing a debugger's capture buffer only what it captured ("Clear
	// the log buffer … in-memory console buffer").
	if cat == Destructive && c.verbSource == "name" && (anyIn(c.nameToks, cacheNouns) || c.verb == "clear" && (anyIn(c.nameToks, captureNouns) || c.clearsField() || c.clearsBuffer() && !c.Has(SigIrreversible))) {
		cat, rule = Write, "name-noun:cache"
	}
	// Closing a session, a tunnel or a terminal ends it (closing a task
	// or an issue does not).
	if cat == Write && c.verb == "close" && c.verbSource == "name" && anyIn(c.nameToks, sessionNouns) {
		cat, rule = Destructive, "name-verb:close (ends a session)"
	}
	// A stop its own lead calls cancelling ("STOP active audit scan.
	// USE WHEN: canceling crawl.") cancels the run.
	if cat == Write && c.verb == "stop" && c.verbSource == "name" && saysCancels(c.lowLead()) {
		cat, rule = Destructive, "name-verb:stop (its description says it cancels)"
	}
	// Writing a file replaces what it held.
	if cat == Write && c.verb == "write" && c.verbSource == "name" && (contains(c.nameToks, "file") || contains(c.nameToks, "files")) {
		cat, rule = Destructive, "name-verb:write (replaces a file)"
	}
	// Stopping or restarting containers, services or processes ends what
	// runs there (stopping a search does not).
	if cat == Write && restartVerbs[c.verb] && c.stopsRunning() {
		cat, rule = Destructive, "name-verb:"+c.verb+" (ends running processes)"
	}
	// An upload or a put to a path or key the caller names replaces what
	// is there ("remotePath", "key"), unless the tool refuses to; an
	// avatar or a banner uploaded is a picture shown, not a file stored.
	if cat == Write && (c.verb == "upload" || c.verb == "put") && c.verbSource == "name" && !anyIn(c.nameToks, shownPictures) && c.writesAtPath() {
		cat, rule = Destructive, "name-verb:"+c.verb+" (replaces what is at the path it is given)"
	}
	// A soft delete moves what it deletes to a bin it can be restored
	// from ("moves the message to Deleted Items").
	if cat == Destructive && (c.verb == "delete" || c.verb == "remove") && softDelete(c.signalText()) {
		cat, rule = Write, "description-phrase:soft delete (kept in a bin it can be restored from)"
	}
	// A reaction, a like or a star taken back is put back in one call.
	if cat == Destructive && (c.verb == "delete" || c.verb == "remove") && (c.verbSource == "name" && len(c.nameToks) > 0 && markNouns[c.nameToks[len(c.nameToks)-1]] || unmarks(c.nameToks)) {
		cat, rule = Write, "name-noun:reaction (a mark put back in one call)"
	}
	// A switch that empties or drops what is there first
	// ("truncateFirst", "dropTarget"), overwrites it, deletes (git push's
	// "delete") or forces past what would be lost lets the tool destroy.
	if cat == Write && !c.readVerb {
		for i := range c.props {
			if p := &c.props[i]; p.depth == 1 && p.typ == "boolean" && len(p.toks) > 0 && (emptySwitches[p.toks[0]] || deleteSwitch(p.toks) || p.joined == "force" && forceDestroys(p.desc)) {
				cat, rule = Destructive, "property-switch:"+p.name
				break
			}
		}
	}
	// A query runner whose lead says it runs read-only queries ("Execute
	// a SQL query … (read-only queries)") reads.
	if cat == Write && c.verbSource == "name" && runVerbs[c.verb] && readOnlyQueries(c.lowLead()) {
		cat, rule = Read, "description-phrase:read-only ("+c.verb+" runs read-only queries)"
	}
	// A runner of a query language that cannot change data
	// ("execute-gaql-query": Google Ads Query Language has no writes)
	// reads.
	if cat == Write && c.verbSource == "name" && runVerbs[c.verb] && onlyQueryName(c.nameToks) && !descWord(string(c.lowLead()), storedWords) {
		if w, ok := anyWord(c.nameToks, readOnlyLanguages); ok {
			cat, rule = Read, "name-word:"+w+" (a query language that only reads)"
		}
	}
	// Running a saved query ("execute_card": "Run a Metabase card query
	// and return the actual data results") reads its data.
	if cat == Write && c.verbSource == "name" && (c.verb == "execute" || c.verb == "run") && len(c.nameToks) > 0 && savedQueries[c.nameToks[len(c.nameToks)-1]] {
		cat, rule = Read, "name-verb:"+c.verb+" (runs a saved query and returns its data)"
	}
	// Rolling back a transaction discards every change it made.
	if cat == Write && contains(c.nameToks, "rollback") && anyIn(c.nameToks, transactionWords) {
		cat, rule = Destructive, "name-verb:rollback (discards a transaction's changes)"
	}
	// A write whose lead says it cannot be undone ("IRREVERSIBLE:
	// Permanently disable the microphone") loses what it changes.
	if cat == Write && !c.readVerb {
		if p := irreversibleLead(c.lowLead()); p != "" {
			cat, rule = Destructive, "description-phrase:"+p
		}
	}
	// An update that says it replaces all of a list, or drops what the
	// call leaves out ("replacing all exercises", "Omitted exercises are
	// removed"), loses what was there.
	if cat == Write && !c.readVerb {
		low := c.lowLead()
		for _, p := range replacingPhrases {
			if bytes.Contains(low, []byte(p)) {
				cat, rule = Destructive, "description-phrase:"+p
				break
			}
		}
	}
	// A write that takes the full body of what it writes replaces it.
	if cat == Write && !c.readVerb {
		for i := range c.props {
			if p := &c.props[i]; p.depth == 1 && (p.typ == "string" || p.typ == "") && wholeContent(p.desc) {
				cat, rule = Destructive, "property-description:"+p.name+" is the whole content"
				break
			}
		}
	}
	c.category, c.categoryRule = cat, rule
}

// listWords is words, and for each word whether it continues a list: it
// follows a comma, or is "or"/"and", or follows one of those, or follows
// a slash ("list/get/create/delete"); slashed says which words follow a
// slash, where a list of operations may name some that are not verbs
// ("list/get/schema/preview/delete").
func listWords(s string, max, limit int) (ws []string, listed, slashed []bool) {
	if len(s) > limit {
		s = s[:limit]
	}
	comma := false
	for _, field := range strings.Fields(s) {
		// "list/get/delete" is a list; a path ("/v1/charges/{id}/refunds",
		// "repos/{owner}/delete") is not, nor is a field whose first part
		// is no verb.
		parts := []string{field}
		if core := strings.Trim(field, ".,;:!?()\"'`"); strings.IndexByte(core, '/') > 0 && !strings.ContainsAny(core, "{}:.") {
			parts = strings.Split(field, "/")
			if v, _ := lookupStem(strings.ToLower(parts[0])); v == verbNone {
				parts = []string{field}
			}
		}
		for k, f := range parts {
			w := strings.ToLower(strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
			if w == "" {
				comma = comma || strings.Contains(f, ",")
				continue
			}
			prevConj := len(ws) > 0 && (ws[len(ws)-1] == "or" || ws[len(ws)-1] == "and")
			ws = append(ws, w)
			listed = append(listed, comma || prevConj || k > 0 || w == "or" || w == "and")
			slashed = append(slashed, k > 0)
			comma = strings.HasSuffix(f, ",")
			if len(ws) >= max {
				return ws, listed, slashed
			}
		}
	}
	return ws, listed, slashed
}

// verbRank orders verb classes by the harm a tool can do.
var verbRank = map[verbClass]int{verbRead: 1, verbWeakWrite: 2, verbWrite: 3, verbFinancial: 4, verbDestructive: 5}

// screenActions act on a page or a screen: what they press or fill, a later
// verb of the name, decides ("click_delete_account_button").
var screenActions = set("click", "tap", "swipe", "drag", "press", "fill", "hover", "scroll")

// dataLead is the noun a verbless lead's first phrase ends with when
// that phrase names data ("Funding rate history.", "Hyperliquid trader
// analytics."): at most six words, none a verb (a noun that is also a
// verb before a word of what it is counts as a noun: "Order book
// depth."), and no action of the tool's that writes.
func (c *classifier) dataLead() string {
	if c.ann.Destructive != nil && *c.ann.Destructive || c.ann.ReadOnly != nil && !*c.ann.ReadOnly {
		return ""
	}
	lead := descriptionBody(c.t.Description)
	end := strings.IndexAny(lead, ".:(•\n")
	if end < 0 || end > 80 {
		return ""
	}
	ws, _, _ := listWords(lead[:end], 8, 80)
	if len(ws) == 0 || len(ws) > 6 || !reportNouns[ws[len(ws)-1]] {
		return ""
	}
	for i, w := range ws {
		// "Pre-warm cache with … data": a phrase with a preposition
		// says what is done with the data.
		switch w {
		case "with", "to", "into", "from", "for", "by", "on":
			return ""
		}
		if v, _ := lookupStem(w); v != verbNone && !(i+1 < len(ws) && (objectBefore(w, ws[i+1]) || marketNouns[w] && reportNouns[ws[i+1]])) {
			return ""
		}
	}
	// "Wallet data: transfers all funds …", "Account info. Deletes
	// the account.", "• cancel — cancels an order": a later sentence or
	// a listed action that opens with a verb that writes says what the
	// tool does.
	if laterWrites(lead[end:]) {
		return ""
	}
	if c.actionWrites() {
		return ""
	}
	return ws[len(ws)-1]
}

// actionWrites reports whether an action the tool lists writes or worse
// ("delete_alert", "order_cancel").
func (c *classifier) actionWrites() bool {
	v, _ := c.actionClass()
	return v != verbNone
}

// actionClass is the class and the value of the worst first writing
// action the tool lists (an enum of an action property), or verbNone.
func (c *classifier) actionClass() (verbClass, string) {
	class, value := verbNone, ""
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && actionNames[p.joined] && p.enumWrites != "" {
			if v := writingClass(p.enumWrites); verbRank[v] > verbRank[class] {
				class, value = v, p.enumWrites
			}
		}
	}
	return class, value
}

// laterWrites reports whether a sentence, a clause after a colon or a
// dash, or a listed action of s (its first 600 bytes) opens with a verb
// that writes or worse ("transfers", "cancel", "order_cancel").
func laterWrites(s string) bool {
	s = s[:min(len(s), 600)]
	segs := strings.FieldsFunc(s, func(r rune) bool {
		return r == '.' || r == ':' || r == ';' || r == '!' || r == '?' || r == '\n' || r == '•' || r == '—' || r == '–'
	})
	for _, seg := range segs {
		fs := strings.Fields(seg)
		if len(fs) == 0 {
			continue
		}
		first := strings.ToLower(strings.TrimFunc(fs[0], func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' }))
		parts := strings.Split(first, "_")
		for k, w := range parts {
			var v verbClass
			if k == 0 {
				var st string
				v, st = lookupStem(w)
				// "trade history", "order_cancel": a noun that is
				// also a verb before a word of what it is or before a
				// later verb ("Post the balance" still posts); "closed
				// PnL": a participle
				next := ""
				if len(parts) > 1 {
					next = parts[1]
				} else if len(fs) > 1 {
					next = strings.ToLower(strings.TrimFunc(fs[1], func(r rune) bool { return !unicode.IsLetter(r) }))
				}
				if objectBefore(w, next) || (nounishVerbs[w] || marketNouns[w]) && len(parts) > 1 && laterPlainVerb(parts[1:]) || w != st && w != st+"s" && w != st+"es" || descNouns[st] {
					continue
				}
			} else if !nounishVerbs[w] && !marketNouns[w] {
				// "top_open", "big_orders": later parts as written
				v = verbs[w]
			}
			if verbRank[v] > verbRank[verbWeakWrite] {
				return true
			}
		}
	}
	return false
}

// hoverInfo reports whether a hover's lead gets or shows hover
// information or a symbol's documentation, with no page, element or
// pointer in it.
func (c *classifier) hoverInfo() bool {
	lead := string(c.lowLead())
	if !strings.Contains(lead, "hover information") && !strings.Contains(lead, "hover info") {
		return false
	}
	for _, w := range []string{"page", "element", "mouse", "pointer", "cursor", "selector", "screen", "browser"} {
		if hasWord(lead, w) {
			return false
		}
	}
	return true
}

// convertsForms reports whether a conversion's lead says between what
// forms it converts ("between timezones", "to TailwindCSS utility
// classes"); a bare "convert_lead" converts a CRM record.
func (c *classifier) convertsForms() bool {
	lead := " " + string(c.lowLead()) + " "
	return strings.Contains(lead, " between ") || strings.Contains(lead, " to ") || strings.Contains(lead, " into ")
}

// storedOperand reports whether a property names a file, a folder, a
// path or a stored record by id: what a conversion would change or make.
func (c *classifier) storedOperand() bool {
	for i := range c.props {
		p := &c.props[i]
		if p.depth != 1 {
			continue
		}
		for _, t := range p.toks {
			switch t {
			case "file", "path", "folder", "dir", "directory", "id", "output", "destination", "target_path":
				return true
			}
		}
	}
	return false
}

// runsAnySQL reports whether a lead opens with execute or run and names
// SQL (not a query language that only reads, such as LogQL or SOQL), and the description says nothing that keeps it to
// reading (read-only, SELECT) and no readOnlyHint does.
func (c *classifier) runsAnySQL() bool {
	if c.ann.ReadOnly != nil && *c.ann.ReadOnly {
		return false
	}
	ws, _, _ := listWords(string(c.lowLead()), 8, 256)
	if len(ws) == 0 || (ws[0] != "execute" && ws[0] != "executes" && ws[0] != "run" && ws[0] != "runs") {
		return false
	}
	if !contains(ws, "sql") {
		return false
	}
	d := strings.ToLower(c.t.Description)
	return !strings.Contains(d, "read-only") && !strings.Contains(d, "readonly") && !strings.Contains(d, "read only") && !hasWord(d, "select")
}

// reportNouns end a phrase that names data reported.
var reportNouns = set("data", "history", "info", "information", "stats", "statistics", "analytics", "overview", "articles", "news", "tickers", "quotes", "prices", "depth", "insights", "metrics", "rates", "forecast")

// cjkVerb is the class and the word of the worst verb of cjkVerbs in a
// description's first 300 bytes ("查询后删除记录", query then delete:
// deletes), for descriptions written in Chinese or Japanese, whose
// words are not split by spaces.
func cjkVerb(d string) (verbClass, string) {
	d = d[:min(len(d), 300)]
	class, word := verbNone, ""
	for _, e := range cjkVerbs {
		if verbRank[e.class] > verbRank[class] && strings.Contains(d, e.word) {
			class, word = e.class, e.word
		}
	}
	return class, word
}

// cjkVerbs are verbs of Chinese and Japanese tool descriptions.
var cjkVerbs = []struct {
	word  string
	class verbClass
}{
	// read: get, query, search, retrieve, compute, list, view, read
	{"获取", verbRead}, {"查询", verbRead}, {"检索", verbRead}, {"搜索", verbRead}, {"计算", verbRead},
	{"列出", verbRead}, {"查看", verbRead}, {"读取", verbRead}, {"取得", verbRead}, {"検索", verbRead},
	{"一覧", verbRead},
	// write: create, add, update, modify, set, save, upload, send, register
	{"创建", verbWrite}, {"新建", verbWrite}, {"添加", verbWrite}, {"更新", verbWrite}, {"修改", verbWrite},
	{"设置", verbWrite}, {"保存", verbWrite}, {"上传", verbWrite}, {"发送", verbWrite}, {"作成", verbWrite},
	{"追加", verbWrite}, {"設定", verbWrite}, {"登録", verbWrite}, {"送信", verbWrite}, {"変更", verbWrite},
	// write: write, execute, edit, publish, submit, insert, import, move, install, deploy, post
	{"写入", verbWrite}, {"执行", verbWrite}, {"编辑", verbWrite}, {"发布", verbWrite}, {"提交", verbWrite},
	{"插入", verbWrite}, {"导入", verbWrite}, {"移动", verbWrite}, {"安装", verbWrite}, {"部署", verbWrite},
	{"実行", verbWrite}, {"書き込", verbWrite}, {"編集", verbWrite}, {"投稿", verbWrite}, {"公開", verbWrite},
	{"移動", verbWrite},
	// start
	{"开始", verbWrite}, {"開始", verbWrite}, {"启动", verbWrite}, {"起動", verbWrite},
	// destructive: delete, remove, clear, destroy, cancel, revoke,
	// deregister, uninstall, overwrite, erase, discard
	{"删除", verbDestructive}, {"移除", verbDestructive}, {"清空", verbDestructive}, {"削除", verbDestructive},
	{"清除", verbDestructive}, {"清理", verbDestructive}, {"销毁", verbDestructive}, {"取消", verbDestructive},
	{"撤销", verbDestructive}, {"注销", verbDestructive}, {"卸载", verbDestructive}, {"覆盖", verbDestructive},
	{"消去", verbDestructive}, {"破棄", verbDestructive}, {"取り消", verbDestructive},
	{"解約", verbDestructive}, {"上書き", verbDestructive},
	// financial: pay, refund, transfer, buy, sell, place an order,
	// top up, withdraw
	{"支付", verbFinancial}, {"退款", verbFinancial}, {"決済", verbFinancial}, {"返金", verbFinancial},
	{"付款", verbFinancial}, {"转账", verbFinancial}, {"购买", verbFinancial}, {"买入", verbFinancial},
	{"卖出", verbFinancial}, {"下单", verbFinancial}, {"充值", verbFinancial}, {"提现", verbFinancial},
	{"送金", verbFinancial}, {"振込", verbFinancial}, {"振り込", verbFinancial}, {"購入", verbFinancial},
	{"発注", verbFinancial}, {"支払", verbFinancial},
}

// cacheLead reports whether a tool's lead, if it has one, names a cache
// among its first eight words and joins nothing else to it ("Clear
// semantic-conventions cache …"; not "Flush every Redis key in the
// production database", "Reset the cache and the database"), and its
// name joins no other verb.
func (c *classifier) cacheLead() bool {
	if contains(c.nameToks, "and") || contains(c.nameToks, "then") {
		return false
	}
	lead := string(c.lowLead())
	if strings.TrimSpace(lead) == "" {
		return true
	}
	if end := strings.IndexAny(lead, ".;\n"); end >= 0 {
		lead = lead[:end]
	}
	fs := strings.Fields(lead)
	named := false
	for i, f := range fs {
		w := strings.Trim(f, ",:()'\"`")
		if i < 8 && (cacheNouns[w] || w == "cached") {
			named = true
		}
		if w == "and" || w == "then" || w == "&" || strings.HasSuffix(f, ",") {
			return false
		}
	}
	return named || strings.Contains(lead, "缓存") || strings.Contains(lead, "キャッシュ")
}

// cacheVerbs clear, refresh or fill a cache.
var cacheVerbs = set("clear", "flush", "purge", "invalidate", "refresh", "reset", "warm", "rebuild")

// buildsView reports whether a build's lead makes a view of what is
// there: a map, a graph, a report, a summary, a diagram or a timeline,
// the object of the build within its first six words, with no other
// verb joined to the build before it and none that writes after it
// ("Build a service dependency map …"; not "Build and publish the site
// map", "Build the report and email it to the team").
func (c *classifier) buildsView() bool {
	ws, _, _ := listWords(string(c.lowLead()), 24, 256)
	built, view := false, false
	for i, w := range ws {
		if !built {
			if _, st := lookupStem(w); st == "build" {
				built = true
			}
			continue
		}
		if !view {
			switch w {
			case "map", "graph", "report", "summary", "diagram", "timeline", "overview":
				view = i < 6
				if !view {
					return false
				}
				continue
			case "and", "or", "then":
				return false
			}
		}
		if v, st := lookupStem(w); verbRank[v] > verbRank[verbWeakWrite] && !descNouns[st] && !(i+1 < len(ws) && objectBefore(w, ws[i+1])) {
			return false
		}
	}
	return view
}

// actionNames pick what a tool that does several things does.
var actionNames = set("action", "actions", "operation", "op", "command", "cmd", "mode")

// onlyCaptures reports whether a capture's name holds no other verb and no
// money ("capture_payment_screenshot" captures a payment,
// "capture_screenshot_upload" uploads) and its lead no other verb that
// writes ("… and post it to a channel").
func (c *classifier) onlyCaptures() bool {
	for _, w := range c.nameToks {
		if w != "capture" && (verbRank[verbs[w]] > verbRank[verbRead] || moneyNouns[w]) {
			return false
		}
	}
	first := string(c.lowLead())
	if i := strings.Index(first, ". "); i >= 0 {
		first = first[:i]
	}
	ws, _, _ := listWords(first, 40, 512)
	for _, w := range ws {
		if v, s := lookupStem(w); s != "capture" && (v == verbWrite || v == verbDestructive || v == verbFinancial) {
			return false
		}
	}
	return true
}

// measurePhrases, in the lead of a tool with no verb, say it reports a
// measure.
var measurePhrases = []string{"number of", "over time", "usage", "count of", "statistics", "metrics", "average", "per hour", "per day", "hourly", "daily", "breakdown", "distribution", "trend"}

// ownConnection reports whether a name is a connect or disconnect and
// only words of what the server connects to (ownConnectTargets).
func ownConnection(toks []string) bool {
	for _, t := range toks {
		if t != "connect" && t != "disconnect" && !ownConnectTargets[t] {
			return false
		}
	}
	return true
}

// onlyConnects reports whether a connect's or disconnect's hints and lead
// say nothing more: no destructiveHint, no other verb that writes
// ("… and delete the integration", "store its credentials"), and no
// people or their sessions ("disconnect all connected users").
func (c *classifier) onlyConnects() bool {
	if c.ann.Destructive != nil && *c.ann.Destructive {
		return false
	}
	first := string(c.lowLead())
	if i := strings.IndexAny(first, "\n"); i >= 0 {
		first = first[:i]
	}
	if i := strings.Index(first, ". "); i >= 0 {
		first = first[:i]
	}
	ws, _, _ := listWords(first, 64, 512)
	for _, w := range ws {
		if v, s := lookupStem(w); v == verbDestructive || v == verbFinancial {
			return false
		} else if s == "create" || s == "store" || s == "save" || s == "add" || s == "register" || s == "kick" || s == "terminate" {
			return false
		}
		switch w {
		case "users", "user", "clients", "client", "sessions", "members", "people", "customers", "pool", "cluster":
			return false
		}
	}
	return true
}

// ownConnectTargets are what a server connects itself to.
var ownConnectTargets = set("all", "database", "db", "server", "metro", "ssh", "sftp", "redis", "mysql", "postgres", "postgresql", "mongodb", "mongo", "host", "retry", "imap", "smtp", "mail")

// leadMeasure is the measure phrase a lead opens with (within its first
// eight words, as whole words: not "discount of", "trending"), when no
// word of the lead is a verb ("Usage quotas …, which this tool resets").
func (c *classifier) leadMeasure() string {
	// A measure reported takes a time window and nothing it could set
	// ("limit", "budget", "url", "phone").
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && !windowParams[p.joined] && !authWords[p.joined] {
			return ""
		}
	}
	ws, _, _ := listWords(string(c.lowLead()), 128, 512)
	for _, w := range ws {
		if v, _ := lookupStem(w); v != verbNone {
			return ""
		}
	}
	head := " " + strings.Join(ws[:min(len(ws), 10)], " ") + " "
	for _, p := range measurePhrases {
		if i := strings.Index(head, " "+p+" "); i >= 0 && len(strings.Fields(head[:i])) < 8 {
			return p
		}
	}
	return ""
}

// windowParams choose the time a measure covers.
var windowParams = set("days", "hours", "minutes", "weeks", "months", "value", "unit", "period", "from", "to", "start", "end", "since", "until", "range", "interval", "granularity", "window", "timeframe", "startdate", "enddate", "starttime", "endtime")

// endingVerbs end a session or process: with destructiveHint, destructive.
var endingVerbs = set("close", "stop", "end", "terminate", "shutdown", "exit", "quit", "kill")

// endingAction is the rule of an action property one of whose values
// deletes or ends something (an enum, or values its description quotes),
// or "".
func (c *classifier) endingAction() string {
	for i := range c.props {
		p := &c.props[i]
		if p.enumEnds != "" && (actionNames[p.joined] || operationMethod(p) || p.joined == "type" && actionNames[strings.TrimSuffix(lastWord(parentName(p.path)), "s")]) && c.endsBy(p.enumEnds, p) {
			return "property-enum:" + p.name + "=" + clip(p.enumEnds, 40)
		}
		// An action without an enum whose description lists its
		// values ("e.g., 'create', 'list', 'remove'").
		if p.depth == 1 && !p.enum && (actionNames[p.joined] || operationMethod(p)) && (p.typ == "string" || p.typ == "") {
			if v := endingString(quotedValues(p.desc)); v != "" && c.endsBy(v, nil) {
				return "property-description:" + p.name + " lists " + clip(v, 40)
			}
		}
	}
	return ""
}

// endsBy reports whether an action value that ends something ends
// something of this tool's: "close" does on a session, a window or a tab
// ("window" with action close), not on an issue; deletes always do,
// except the action of each file of a commit ("push_files": files[].action
// delete, with a commit_message), which history keeps.
func (c *classifier) endsBy(v string, action *prop) bool {
	if closingWord(v) {
		return anyIn(c.nameToks, sessionNouns)
	}
	if weakEnding(v) == "clear" {
		return !anyIn(c.nameToks, captureNouns)
	}
	if action == nil || action.depth < 2 || !fileLists[lastWord(parentName(action.path))] {
		return true
	}
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && p.joined == "commitmessage" {
			return false
		}
	}
	return true
}

// fileLists hold the files of a commit, each with its own action.
var fileLists = set("files", "actions", "changes")

// quotedValues returns the words a description quotes ('create',
// "remove"), at most 16.
func quotedValues(d string) []string {
	var out []string
	for i := 0; i < len(d) && len(out) < 16; i++ {
		q := d[i]
		if q != '\'' && q != '"' && q != '`' {
			continue
		}
		j := strings.IndexByte(d[i+1:], q)
		if j < 0 {
			break
		}
		if j > 0 && j <= 32 {
			out = append(out, d[i+1:i+1+j])
		}
		i += j + 1
	}
	return out
}

// cacheNouns name what is made again when lost.
var cacheNouns = set("cache", "caches")

// captureNouns are what a browser's devtools captured: clearing them
// ("clear_console_messages", "console_logs" with action clear,
// "clear_snapshot") loses nothing kept; deleting a snapshot or a monitor
// still does.
var captureNouns = set("console", "snapshot", "monitor")

// runningNouns are things that run: stopping them ends processes.
var runningNouns = set("app", "apps", "application", "applications", "container", "containers", "service", "services", "process", "processes", "instance", "instances",
	"server", "servers", "pod", "pods", "vm", "vms", "machine", "machines", "node", "nodes", "cluster", "clusters", "docker",
	// a database server
	"database", "databases", "mysql", "postgres", "postgresql", "mariadb", "mongo", "mongodb", "redis")

// stopsRunning reports whether a tool's name or a top-level property names
// something that runs.
func (c *classifier) stopsRunning() bool {
	if anyIn(c.nameToks, runningNouns) {
		return true
	}
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && anyIn(p.toks, runningNouns) {
			return true
		}
	}
	return false
}

// writesAtPath reports whether a tool takes the path or key it writes to
// and does not say it refuses to overwrite.
func (c *classifier) writesAtPath() bool {
	d := c.signalText()
	for _, w := range []string{"not overwrite", "never overwrite", "fails if", "already exists"} {
		if strings.Contains(d, w) {
			return false
		}
	}
	if hasWord(d, "safe") || contains(c.nameToks, "safe") { // not "unsafe"
		return false
	}
	for i := range c.props {
		p := &c.props[i]
		if p.depth != 1 || p.typ != "string" && p.typ != "" || !destNames[p.joined] {
			continue
		}
		d := strings.ToLower(p.desc)
		if strings.Contains(d, "api") || strings.Contains(d, "endpoint") {
			continue // a REST path
		}
		if strings.Contains(d, "local") || strings.Contains(d, "to upload") || strings.Contains(d, "source") {
			continue // where the file comes from
		}
		// An upload's file on the server's disk ("Absolute path to the
		// image file on disk", "relative to MCP server cwd") is what it
		// sends, not where it writes.
		if c.verb == "upload" && p.joined == "filepath" && (strings.Contains(d, "on disk") || strings.Contains(d, "cwd") || strings.Contains(d, "working directory")) && !hasAnyPhrase(d, uploadDestWords) {
			continue
		}
		return true
	}
	return false
}

// uploadDestWords say a path is where an upload writes.
var uploadDestWords = []string{"destination", "target", "remote", "where", "written", "write", "overwrit", "save", "stored", "bucket"}

// clearsBuffer reports whether a clear's lead opens with a sentence that
// clears a buffer and nothing else ("Clear the log buffer.", "Clear the
// network request buffer.").
func (c *classifier) clearsBuffer() bool {
	lead := string(c.lowLead())
	if i := strings.IndexAny(lead, ".\n"); i >= 0 {
		lead = lead[:i]
	}
	ws := strings.Fields(lead)
	n := len(ws)
	if n < 3 || n > 6 || (ws[0] != "clear" && ws[0] != "clears") || ws[1] != "the" || ws[n-1] != "buffer" && ws[n-1] != "buffers" {
		return false
	}
	for _, w := range ws[2 : n-1] {
		if w == "all" || w == "stored" || w == "history" || w == "database" || w == "data" || w == "records" {
			return false
		}
	}
	return true
}

// clearsField reports whether a clear empties a page's input field: its
// name ends in "input" (or "input_field"), and it takes an element or the
// server is a browser's.
func (c *classifier) clearsField() bool {
	n := len(c.nameToks)
	if n == 0 || !(c.nameToks[n-1] == "input" || n > 1 && c.nameToks[n-2] == "input" && c.nameToks[n-1] == "field") {
		return false
	}
	if c.browserServer || contains(c.nameToks, "browser") || contains(c.nameToks, "page") {
		return true
	}
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && (p.joined == "selector" || p.joined == "element" || p.joined == "ref" || p.joined == "xpath") {
			return true
		}
	}
	return false
}

// destNames name where a tool writes.
var destNames = set("path", "remotepath", "destination", "destinationpath", "targetpath", "filepath", "key", "objectkey", "objectname", "remote")

// forceDestroys reports whether a force switch's description says it
// overwrites or discards ("Force push (overwrites remote history)").
func forceDestroys(desc string) bool {
	d := strings.ToLower(desc)
	return strings.Contains(d, "overwrit") || strings.Contains(d, "discard") || strings.Contains(d, "bypassing safety")
}

// descNouns are verbs in a tool's name ("reserved-ip-release") and most
// often nouns in its description ("the Helm release"), or, for "wait",
// what a tool does after its real work ("asks a person and waits for the
// answer"), for "navigate", a way through a hierarchy ("navigate
// the project's components"), and for "signal", what a market or a
// monitor gives ("indicator win-rate signals"), not one sent to a process.
var descNouns = set("release", "wait", "navigate", "signal")

// shownPictures are pictures a profile or a page shows.
var shownPictures = set("avatar", "banner", "logo", "icon", "photo", "picture", "image", "cover", "thumbnail")

// restartVerbs stop what runs, or stop it and start it again.
var restartVerbs = set("stop", "restart", "reload", "rebuild")

// recordTrailers, after a noun that is also a verb, make it the object.
var recordTrailers = set("history", "details", "detail", "status", "summary", "info",
	// "prometheus_label_values", "label_names"
	"values", "names")

// objectBefore reports whether w, a verb, is a noun before next: a noun
// that is also a verb before a record trailer ("order_history"), or a
// market's noun before a word of its data ("order_flow", "order_book",
// "signal_data", "trade_history"). (Only a market's: "Post data.",
// "Store data.", "Log data." still post, store and log.)
func objectBefore(w, next string) bool {
	return (nounishVerbs[w] || marketNouns[w]) && recordTrailers[next] || marketNouns[w] && marketTrailers[next]
}

// marketNouns are verbs that, before marketTrailers, are a market's
// nouns. ("trade" is not among nounishVerbs: "trade_create" and
// "trade_preview" still trade.)
var marketNouns = set("order", "signal", "trade")

// marketTrailers, after marketNouns, make them the object.
var marketTrailers = set("flow", "book", "data")

// resolvedThings are marked resolved, not looked up.
var resolvedThings = set("comment", "comments", "conversation", "conversations", "thread", "threads", "issue", "issues", "incident", "incidents", "alert", "alerts", "discussion", "discussions", "ticket", "tickets", "task", "tasks")

// leadRuns reports whether a lead says the tool runs what it is given
// ("runs the query against the database").
func leadRuns(lead string) bool {
	lead = strings.ToLower(lead)
	for _, w := range []string{"run", "runs", "running", "execute", "executes", "executing", "evaluate", "evaluates"} {
		if hasWord(lead, w) {
			return true
		}
	}
	return false
}

// converterName reports whether a name is "<this> to <that>" ("sqlToRest",
// "html_to_markdown") with no verb in it.
func converterName(toks []string) bool {
	if len(toks) != 3 || toks[1] != "to" {
		return false
	}
	_, v0 := verbs[toks[0]]
	_, v2 := verbs[toks[2]]
	return !v0 && !v2
}

// replacingPhrases, in a write's lead, say it replaces a whole list.
var replacingPhrases = []string{"replacing all", "are removed", "completely replace", "replace the entire", "replaces the entire", "replace all data", "replaces all data"}

// onlyQueryName reports whether a name is a runner of a query and nothing
// else ("execute-gaql-query", not "execute_jql_delete").
func onlyQueryName(toks []string) bool {
	for _, t := range toks {
		if !runVerbs[t] && !readOnlyLanguages[t] && t != "query" && t != "queries" && t != "search" {
			return false
		}
	}
	return true
}

// storedWords, in a lead, say that a call keeps or changes something.
var storedWords = set("saved", "stored", "created", "published", "applied", "updated", "deleted", "inserted", "modified", "removed", "written", "overwrite", "overwrites", "overwritten", "replace", "replaces", "replaced", "replacing", "upload", "uploads", "uploaded", "commit", "commits", "committed", "push", "pushes", "pushed", "persist", "persists", "edit", "edits", "edited", "close", "closes", "closed", "assign", "assigns", "move", "moves", "upsert", "upserts", "upserted", "save", "saves", "store", "stores", "create", "creates", "publish", "publishes", "apply", "applies", "update", "updates", "delete", "deletes", "insert", "inserts", "transition", "transitions", "modify", "modifies", "remove", "removes", "write", "writes")

// deletedWords, in the lead of a tool named for computing, delete.
var deletedWords = set("delete", "deletes", "deleted", "deleting", "remove", "removes", "removed", "overwrite", "overwrites", "overwritten", "overwriting", "purge", "purges", "erase", "erases", "destroy", "destroys")

// saysCancels reports whether a lead says its tool cancels: the word
// cancel (cancels, canceling, cancelling, cancelled) on its own, not a
// tool's name ("cancel_recording") and not after "use", "unlike",
// "instead of", "see" or "or", which point to another way.
func saysCancels(lead []byte) bool {
	s := string(lead)
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], "cancel")
		if i < 0 {
			return false
		}
		i += off
		off = i + len("cancel")
		end := off
		for end < len(s) && isLetter(s[end]) {
			end++
		}
		switch s[off:end] {
		case "", "s", "ing", "ling", "led", "ed", "lation", "lations":
		default:
			continue
		}
		if i > 0 && isLetter(s[i-1]) || end < len(s) && (s[end] == '_' || s[end] == '-') {
			continue
		}
		before := " " + s[max(0, i-12):i]
		if strings.HasSuffix(before, " use ") || strings.HasSuffix(before, " unlike ") || strings.HasSuffix(before, " instead of ") || strings.HasSuffix(before, " see ") || hedged(before) {
			continue
		}
		return true
	}
	return false
}

// readOnlyLanguages are query languages with no statement that writes.
var readOnlyLanguages = set("gaql", "promql", "logql", "traceql", "metricsql", "jql", "wiql", "soql", "sosl")

// readOnlyQueries reports whether a lead says the queries it runs are
// read-only ("(read-only queries)", "read-only SQL"), in any case.
func readOnlyQueries(lead []byte) bool {
	return statedPhrase(lead, []string{"read-only quer", "read-only sql", "read-only statement", "readonly quer"}) != ""
}

// deleteSwitch reports whether a boolean's name asks the call to delete
// ("delete", "deleteItems", "delete_volumes"), not a setting that lets
// someone delete later ("delete_self_enabled").
func deleteSwitch(toks []string) bool {
	switch {
	case len(toks) == 1:
		return toks[0] == "delete"
	case len(toks) == 2:
		return toks[0] == "delete" && !settingTails[toks[1]]
	}
	return false
}

// settingTails end the name of a setting rather than an action.
var settingTails = set("enabled", "disabled", "allowed", "protection", "protected", "permission", "permissions", "policy", "self")

// savedQueries are queries a service keeps, run by name.
var savedQueries = set("card", "cards", "report", "reports", "question", "questions", "savedsearch", "savedquery")

// streamNouns are what a subscription listens to.
var streamNouns = set("event", "events", "device", "devices", "update", "updates", "change", "changes", "notification", "notifications", "log", "logs", "stream", "streams", "topic", "topics", "feed", "feeds")

// transactionWords name a database transaction.
var transactionWords = set("transaction", "transactions", "tx")

// irreversiblePhrases, in a write's lead, say it cannot be undone
// ("permanently" only before a removal: "Permanently store the note"
// keeps it).
var irreversiblePhrases = []string{"irreversible", "permanently delet", "permanently remov", "permanently disabl", "permanently eras", "permanently destroy", "permanently revok", "cannot be undone", "can't be undone"}

// irreversibleLead is the phrase of irreversiblePhrases a lead states
// (in any case), or "": "may be irreversible" hedges, and "rather than
// being permanently deleted" says the opposite.
func irreversibleLead(lead []byte) string {
	// (every phrase holds one of these: most leads hold none)
	if !bytes.Contains(lead, []byte("irrevers")) && !bytes.Contains(lead, []byte("permanent")) && !bytes.Contains(lead, []byte("undone")) {
		return ""
	}
	return statedPhrase(lead, irreversiblePhrases)
}

// statedPhrase is the first of phrases that a lower-cased lead holds
// not hedged or denied by the words just before it, or "".
func statedPhrase(lead []byte, phrases []string) string {
	for _, p := range phrases {
		for off := 0; off < len(lead); {
			i := bytes.Index(lead[off:], []byte(p))
			if i < 0 {
				break
			}
			i += off
			if !hedged(string(lead[max(0, i-24):i])) {
				return p
			}
			off = i + len(p)
		}
	}
	return ""
}

// lowLead is the tool's description lead in lower case, made once per
// tool in the scratch buffer the tools of a list share.
func (c *classifier) lowLead() []byte {
	if !c.lowDone {
		lead := descriptionLead(c.t.Description)
		c.low = c.low[:0]
		for i := 0; i < len(lead); i++ {
			b := lead[i]
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			c.low = append(c.low, b)
		}
		c.lowDone = true
	}
	return c.low
}

// hedged reports whether the words before a phrase hedge or deny it.
func hedged(before string) bool {
	for _, h := range []string{"may be ", "can't be ", "cannot be ", "not be ", "might be ", "could be ", "can be ", "not ", "never ", "than being ", "instead of being ", "rather than ", "instead of ", "without ", "not limited to ", "not only ", "both "} {
		if strings.HasSuffix(before, h) {
			return true
		}
	}
	return false
}

// disputeWords name a buyer's dispute of a payment.
var disputeWords = set("dispute", "disputes", "chargeback", "chargebacks")

// disputeStep reports whether a tool works on a dispute without settling
// it ("add_payment_dispute_evidence", "contest_payment_dispute").
func (c *classifier) disputeStep() bool {
	return anyIn(c.nameToks, disputeWords) && !contains(c.nameToks, "accept") && c.verb != "refund" && !anyIn(c.nameToks, paymentMoves) || c.disputeEvidence()
}

// disputeEvidence reports whether a tool adds, updates or reads the
// evidence of a payment dispute ("add_payment_dispute_evidence"), which
// moves no money though the name says payment.
func (c *classifier) disputeEvidence() bool {
	return anyIn(c.nameToks, disputeWords) && (contains(c.nameToks, "evidence") || contains(c.nameToks, "contest")) && !contains(c.nameToks, "refund")
}

// billDocs are what a business sends its customer to ask for money.
var billDocs = set("invoice", "invoices", "reminder", "receipt", "receipts", "estimate", "estimates", "quote", "quotes", "statement", "statements")

// sendsBill reports whether a tool sends a bill already made
// ("send_invoice", "send_invoice_reminder"): it emails the customer and
// changes what no one is billed.
func (c *classifier) sendsBill() bool {
	return c.verbSource == "name" && (c.verb == "send" || c.verb == "resend" || c.verb == "remind") && anyIn(c.nameToks, billDocs) && !anyIn(c.nameToks, paymentMoves)
}

// paymentMoves, in a name, move money whatever bill or dispute it names
// ("send_payment_with_invoice", "create_dispute_refund").
var paymentMoves = set("payment", "payments", "pay", "transfer", "transfers", "payout", "payouts", "refund", "refunds", "credit", "credits", "charge", "charges")

// workItems are what a tracker or a code host moves between projects.
var workItems = set("issue", "issues", "task", "tasks", "ticket", "tickets", "card", "cards", "cycle", "cycles", "project", "projects", "repository", "repositories", "repo", "repos", "ownership")

// workTransfer reports whether a name transfers work items.
func workTransfer(toks []string) bool {
	if !(contains(toks, "transfer") || contains(toks, "transfers")) || !anyIn(toks, workItems) {
		return false
	}
	// "transfer_project_funds" moves money all the same.
	for _, t := range toks {
		if t != "transfer" && t != "transfers" && (moneyNouns[t] || t == "funds" || t == "balance" || t == "money" || t == "credits") {
			return false
		}
	}
	return true
}

// markNouns are marks a person puts on something and takes back.
var markNouns = set("reaction", "reactions", "like", "likes", "star", "stars", "upvote", "upvotes", "vote", "votes", "favorite", "favorites", "favourite", "favourites", "bookmark", "bookmarks")

// unmarks reports whether a name takes a mark back in one word
// ("unfavorite_dashboard", "unstar").
func unmarks(toks []string) bool {
	for _, t := range toks {
		if w, ok := strings.CutPrefix(t, "un"); ok && markNouns[w] {
			return true
		}
	}
	return false
}

// apiMethod is the name of a top-level HTTP method property whose enum
// has DELETE, on a tool that takes no URL: one tool for every request of
// the API the server was configured with ("postgrestRequest"), or "".
func (c *classifier) apiMethod() string {
	method := ""
	for i := range c.props {
		p := &c.props[i]
		if p.depth != 1 {
			continue
		}
		if netNames[p.joined] {
			return ""
		}
		if (p.joined == "method" || p.joined == "httpmethod") && strings.EqualFold(p.enumEnds, "delete") {
			method = p.name
		}
	}
	return method
}

// counterWords name a count a reset sets back to zero.
var counterWords = set("count", "counter", "counters", "unread", "badge")

// softDelete reports whether a description says a delete keeps what it
// deletes where it can be restored, and not that it is irreversible.
func softDelete(d string) bool {
	for _, w := range []string{"irreversible", "permanently deleted", "cannot be undone", "cannot be recovered"} {
		if strings.Contains(d, w) {
			return false
		}
	}
	for _, w := range []string{"soft delete", "soft-delete", "lands in deleted items", "moves the message to deleted items", "moved to the trash", "moves it to the trash", "to the recycle bin", "can be restored"} {
		if strings.Contains(d, w) {
			return true
		}
	}
	return false
}

// emptySwitches start the name of a boolean that empties or drops what a
// tool writes into before it writes, or overwrites what is in the way:
// with it set, the tool destroys.
var emptySwitches = set("truncate", "purge", "wipe", "drop", "overwrite")

// agentNouns, ending a tool's name, name what it does: the verb they come
// from.
var agentNouns = map[string]string{"reader": "read", "viewer": "view", "getter": "get", "lister": "list",
	"updater": "update", "writer": "write", "creator": "create", "deleter": "delete", "remover": "remove"}

// overwriteSwitches start the name of a boolean that lets a tool destroy
// what is in its way.
var overwriteSwitches = set("drop", "overwrite", "replace", "delete", "purge", "wipe", "truncate")

// outputFirst start the name of a path a tool saves its result to.
var outputFirst = set("save", "local", "output", "destination", "download", "target", "dest")

// checkVerbs check what they are given ("validatePath": "Validate if a
// path is within allowed directories"): a target path is checked, not
// written.
var checkVerbs = set("validate", "check", "verify", "test")

// localOutput is the name of a top-level path property the tool saves
// its result to ("savePath", "localPath", "outputPath"), or "".
func (c *classifier) localOutput() string {
	for i := range c.props {
		p := &c.props[i]
		if p.depth != 1 || p.typ != "string" && p.typ != "" || len(p.toks) < 2 {
			continue
		}
		if outputFirst[p.toks[0]] && p.toks[len(p.toks)-1] == "path" && (p.toks[0] != "local" || !contains(c.nameToks, "upload")) {
			return p.name
		}
	}
	return ""
}

// refNames name a Git branch, tag or commit.
var refNames = set("branch", "branchname", "ref", "commit", "tag")

// gitRef reports whether a tool works on a Git branch or commit.
func (c *classifier) gitRef() bool {
	if contains(c.nameToks, "git") {
		return true
	}
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && refNames[p.joined] {
			return true
		}
	}
	return false
}

// sessionNouns are ended by closing them.
var sessionNouns = set("session", "sessions", "tunnel", "tunnels", "pty", "terminal", "terminals", "connection", "connections", "browser", "tab", "tabs", "page", "window", "windows",
	// a browser named by its automation library ("playwright_close")
	"playwright", "puppeteer")

// nounishVerbs are verbs that are more often the object of a name
// ("domain-record-get", "invoice-list", "log_clear"): when a name ends in
// another verb, that one decides.
var nounishVerbs = set("record", "log", "invoice", "order", "email", "message", "comment", "tag", "label", "link", "bill", "post", "draft", "text", "process", "request", "call", "signal", "store", "file", "trash", "checkout",
	// "release-create", "detach-tag-from-bookmark", "prometheus_build_info"
	"release", "bookmark", "build")

// laterVerb reports whether toks hold a verb.
func laterVerb(toks []string) bool {
	for _, w := range toks {
		if _, ok := verbs[w]; ok {
			return true
		}
	}
	return false
}

// laterPlainVerb reports whether one of toks is a verb that is not also
// a noun ("order_cancel"; not "post_message").
func laterPlainVerb(toks []string) bool {
	for _, w := range toks {
		if _, ok := verbs[w]; ok && !nounishVerbs[w] && !marketNouns[w] {
			return true
		}
	}
	return false
}

// dataNouns are what "drop" destroys.
var dataNouns = set("table", "tables", "database", "databases", "db", "index", "indexes", "collection", "collections",
	"schema", "schemas", "column", "columns", "view", "views", "bucket", "buckets", "queue", "queues", "keyspace", "partition",
	// stored code of a database is dropped like its tables
	"procedure", "procedures", "function", "functions", "trigger", "triggers", "sequence", "sequences")

// dropsData: "drop" names a data store in the name or the description's
// first words.
func (c *classifier) dropsData() bool {
	if _, ok := anyWord(c.nameToks, dataNouns); ok {
		return true
	}
	_, ok := anyWord(words(descriptionBody(c.t.Description), 16, 512), dataNouns)
	return ok
}

// leadSaysWrite reports whether the description's lead says, not negated,
// that the tool changes something.
func (c *classifier) leadSaysWrite() bool {
	lead := strings.ToLower(descriptionLead(c.t.Description))
	for _, w := range []string{" updates ", " writes ", " modifies ", " saves ", " creates ", " deletes "} {
		if says(lead, w) {
			return true
		}
	}
	return false
}

// endsOrOverwrites: the name's verb ends a session or process, or the
// description says the tool overwrites.
func (c *classifier) endsOrOverwrites() bool {
	if c.verbSource == "name" && endingVerbs[c.verb] {
		return true
	}
	// A switch to drop or overwrite what is in the way ("dropTarget",
	// "overwrite") makes the annotation's claim concrete.
	for i := range c.props {
		if p := &c.props[i]; p.depth == 1 && p.typ == "boolean" && len(p.toks) > 0 && overwriteSwitches[p.toks[0]] {
			return true
		}
	}
	return says(c.signalText(), "overwrite")
}

// negations before a phrase turn it round: "never overwrite".
var negations = set("not", "never", "no", "don", "won", "cannot", "without", "t")

// says reports whether text holds phrase at least once not negated by one
// of the three words before it.
func says(text, phrase string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], phrase)
		if i < 0 {
			return false
		}
		i += from
		before := words(text[max(0, i-40):i], 64, 64)
		if len(before) > 3 {
			before = before[len(before)-3:]
		}
		if _, neg := anyWord(before, negations); !neg {
			return true
		}
		from = i + len(phrase)
	}
}

// signalText is the description as the signal rules read it: lower-case,
// at most maxSignalText bytes of it. It is made once.
func (c *classifier) signalText() string {
	if !c.descLowered {
		c.descLower, c.descLowered = strings.ToLower(clip(descriptionBody(c.t.Description), maxSignalText)), true
	}
	return c.descLower
}

// movesMoney: an amount property next to a currency or a money word.
func (c *classifier) movesMoney() bool {
	amount, currency := false, false
	for i := range c.props {
		p := &c.props[i]
		if p.depth > 1 {
			continue
		}
		switch p.joined {
		case "amount", "amountcents", "amountinCents", "value_cents", "price":
			amount = true
		case "currency", "currencycode":
			currency = true
		}
	}
	return amount && currency
}

func lookupStem(w string) (verbClass, string) {
	for _, s := range stems(w) {
		if s == "" {
			break
		}
		if v, ok := verbs[s]; ok {
			return v, s
		}
		// "retriev" + e
		if v, ok := verbs[s+"e"]; ok && s != w {
			return v, s + "e"
		}
	}
	return verbNone, ""
}

// descriptionBody drops a "Tool name:\nX\nDescription:\n" preamble, which
// some servers put at the start of every description.
func descriptionBody(d string) string {
	if strings.HasPrefix(d, "Tool name:") {
		if i := strings.Index(d, "Description:"); i >= 0 && i < 512 {
			return d[i+len("Description:"):]
		}
	}
	return d
}

// report assembles the signals, the risk and the explanation.
func (c *classifier) report() Report {
	r := Report{
		Name:         c.t.Name,
		Category:     c.category,
		CategoryRule: c.categoryRule,
		Properties:   c.top,
		Pin:          c.pin(),
		Problems:     c.problems,
		Signals:      []Signal{},
		guards:       c.guards,
		props:        c.props,
	}
	for _, s := range signalOrder {
		ev, ok := c.ev[s.code]
		if !ok {
			continue
		}
		label := s.label
		if l, ok := c.label[s.code]; ok {
			label = l
		}
		e := strings.Join(ev[:min(len(ev), maxEvidence)], "; ")
		if len(ev) > maxEvidence {
			e += fmt.Sprintf("; +%d more", len(ev)-maxEvidence)
		}
		r.Signals = append(r.Signals, Signal{Code: s.code, Label: label, Evidence: e, Rule: c.rules[s.code]})
	}
	r.Risk, r.RiskRule = risk(&r)
	r.Explanation = c.explain(&r)
	return r
}

// risk applies the risk table of docs/scanner.md.
func risk(r *Report) (Risk, string) {
	lv, rule := Low, "category:read"
	switch r.Category {
	case Write:
		lv, rule = Medium, "category:write"
	case Destructive:
		lv, rule = High, "category:destructive"
	case Financial:
		lv, rule = High, "category:financial"
	}
	raise := func(to Risk, why string) {
		if to.Level() > lv.Level() {
			lv, rule = to, why
		}
	}
	if r.Category == Read && r.Has(SigAuth) {
		raise(Medium, "signal:auth raises read")
	}
	if r.Has(SigLongText) {
		raise(Medium, "signal:long-text")
	}
	if r.Category == Write && r.Has(SigAdmin) {
		raise(High, "signal:admin raises write")
	}
	if r.Category == Write && r.Has(SigBulk) {
		raise(High, "signal:bulk raises write")
	}
	if r.Has(SigExec) {
		raise(High, "signal:exec")
	}
	if (r.Category == Destructive || r.Category == Financial) && r.Has(SigBulk) {
		raise(Critical, "signal:bulk raises "+string(r.Category))
	}
	if r.Has(SigUnicode) {
		raise(High, "signal:unicode")
	}
	if r.Has(SigInjection) {
		raise(Critical, "signal:injection")
	}
	return lv, rule
}

var categoryMeaning = map[Category]string{
	Read:        "reading data only",
	Write:       "creation or modification of data",
	Destructive: "deletion or other destructive change",
	Financial:   "movement of money",
}

var riskMeaning = map[Risk]string{
	Low:      "low risk",
	Medium:   "medium risk",
	High:     "high risk",
	Critical: "critical risk",
}

// explain writes the report's one sentence.
func (c *classifier) explain(r *Report) string {
	// Written piece by piece: fmt took a tenth of the time of a report.
	var b strings.Builder
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	name := quoteShort(c.t.Name, 60)
	desc := firstSentence(descriptionBody(c.t.Description))
	meaning := categoryMeaning[r.Category]
	// Room for the usual sentence, which otherwise grows the buffer
	// several times.
	b.Grow(160 + len(name) + len(desc) + 8*len(r.Signals))
	switch {
	case strings.HasPrefix(r.CategoryRule, "annotation:"):
		w("Tool name '", name, "' and its annotations (", strings.TrimPrefix(r.CategoryRule, "annotation:"), ") indicate ", meaning)
	case c.verbSource == "name" && desc != "":
		w("Tool name '", name, "' (verb '", c.verb, "') and description '", desc, "' indicate ", meaning)
	case c.verbSource == "name":
		w("Tool name '", name, "' (verb '", c.verb, "') indicates ", meaning)
	case c.verbSource == "description":
		w("Description '", desc, "' of tool '", name, "' (verb '", c.verb, "') indicates ", meaning)
	default:
		w("Nothing in tool '", name, "' says what it does, so it is assumed to modify data")
	}
	if strings.HasPrefix(r.CategoryRule, "name-noun:") || r.CategoryRule == "property:amount" {
		b.WriteString(" involving money")
	}
	w("; ", riskMeaning[r.Risk])
	if !strings.HasPrefix(r.RiskRule, "category:") {
		sig := strings.TrimPrefix(r.RiskRule, "signal:")
		if i := strings.IndexByte(sig, ' '); i >= 0 {
			sig = sig[:i]
		}
		w(" because of the ", sig, " signal")
	}
	if len(r.Signals) > 0 {
		b.WriteString(" (signals: ")
		for i, s := range r.Signals {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.Code)
		}
		b.WriteString(")")
	}
	b.WriteByte('.')
	return b.String()
}

// firstSentence returns the description's first sentence, at most 80
// characters, on one line, with control and invisible characters removed.
func firstSentence(d string) string {
	d = strings.TrimSpace(d)
	if len(d) > 400 {
		d = d[:400]
	}
	if i := strings.IndexAny(d, "\n"); i >= 0 {
		d = d[:i]
	}
	if i := strings.Index(d, ". "); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	return quoteShort(d, 80)
}

// quoteShort makes s safe to print inside single quotes: invalid UTF-8,
// control and format characters become \u escapes, and long text is cut.
func quoteShort(s string, max int) string {
	// Printable ASCII without a quote stays as it is.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7F || c == '\'' {
			return quoteShortRunes(s, max)
		}
	}
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// quoteShortRunes is quoteShort for any text, rune by rune.
func quoteShortRunes(s string, max int) string {
	var b strings.Builder
	n := 0
	for i, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i]), 16))
		case r == '\'':
			b.WriteString(`\'`)
		case r < 0x20 || r == 0x7f || hidden(r) != "":
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// boolp is node n's value when it is a boolean, else nil.
func (t *jsonTree) boolp(n int32) *bool {
	var b bool
	switch t.kindOf(n) {
	case treeTrue:
		b = true
	case treeFalse:
	default:
		return nil
	}
	return &b
}

// wholeContent: a description that says the value is all of what is
// written ("Full body of the Apex class", "the entire file content").
func wholeContent(d string) bool {
	if len(d) > 1024 {
		d = d[:1024]
	}
	d = strings.ToLower(d)
	for _, p := range []string{"full body", "full content", "entire content", "whole content", "complete content", "entire file", "full file content", "replaces the content"} {
		if strings.Contains(d, p) {
			return true
		}
	}
	return false
}

// pingsHook: a webhook named in a ping's name, not a server that relays them.
func pingsHook(toks []string) bool {
	for i, t := range toks {
		if t == "webhook" || t == "webhooks" || t == "hook" || t == "hooks" {
			if i+1 < len(toks) && (toks[i+1] == "server" || toks[i+1] == "relay" || toks[i+1] == "service") {
				continue
			}
			return true
		}
	}
	return false
}

// onlyUnstages: a reset whose lead says it unstages, and nothing that
// discards, moves the branch or may be hard.
func (c *classifier) onlyUnstages() bool {
	lead := string(c.lowLead())
	if !descWord(lead, set("unstage", "unstages", "unstaging")) || hasAnyPhrase(lead, []string{"hard", "discard", "lost", "lose", "revert", "clean", "working tree", "drop", "delete", "remove", "commit"}) {
		return false
	}
	for i := range c.props {
		if anyIn(c.props[i].toks, set("mode", "hard", "type", "commit", "ref", "target", "sha", "revision", "options", "args", "flags")) {
			return false
		}
	}
	return true
}
