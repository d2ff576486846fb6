package scan

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// verbClass is what a verb says a tool does.
type verbClass uint8

const (
	verbNone verbClass = iota
	verbRead
	verbWeakWrite // a write verb a readOnlyHint annotation may overrule (trigger, toggle, run…)
	verbWrite
	verbDestructive
	verbFinancial
)

// verbs maps a lower-case verb to its class. Names are split into words
// (camelCase, snake_case, kebab-case, dots) and the first word found here
// decides; descriptions are searched (stemmed) only when the name has none.
var verbs = map[string]verbClass{
	// read
	"get": verbRead, "list": verbRead, "read": verbRead, "search": verbRead, "find": verbRead,
	"fetch": verbRead, "query": verbRead, "retrieve": verbRead, "describe": verbRead, "show": verbRead,
	"view": verbRead, "lookup": verbRead, "count": verbRead, "check": verbRead, "echo": verbRead,
	"print": verbRead, "inspect": verbRead, "investigate": verbRead, "diagnose": verbRead, "troubleshoot": verbRead, "browse": verbRead, "download": verbRead, "export": verbRead,
	"explain": verbRead, "validate": verbRead, "verify": verbRead, "preview": verbRead, "summarize": verbRead,
	"analyze": verbRead, "compare": verbRead, "calculate": verbRead, "estimate": verbRead, "return": verbRead,
	"load": verbRead, "scan": verbRead, "watch": verbRead, "poll": verbRead, "ping": verbRead,
	"resolve": verbRead, "render": verbRead, "diff": verbRead, "status": verbRead, "demonstrate": verbRead,
	"screenshot": verbRead, "discover": verbRead, "geocode": verbRead, "geocoding": verbRead, "transition": verbWrite,
	"crawl": verbRead, "scrape": verbRead, "parse": verbRead, "extract": verbRead, "research": verbRead,
	// a password, a passphrase, an embedding, a text or a link computed
	// and returned: nothing is stored
	"generate": verbRead,
	// write
	"create": verbWrite, "update": verbWrite, "set": verbWrite, "add": verbWrite, "put": verbWrite,
	"post": verbWrite, "patch": verbWrite, "edit": verbWrite, "modify": verbWrite, "write": verbWrite,
	"insert": verbWrite, "upload": verbWrite, "save": verbWrite, "send": verbWrite, "invite": verbWrite,
	"enable": verbWrite, "disable": verbWrite, "assign": verbWrite, "unassign": verbWrite, "rename": verbWrite,
	"move": verbWrite, "copy": verbWrite, "merge": verbWrite, "publish": verbWrite, "approve": verbWrite,
	"submit": verbWrite, "schedule": verbWrite, "import": verbWrite, "replace": verbWrite, "upsert": verbWrite,
	"confirm": verbWrite, "trash": verbWrite, "untrash": verbWrite, "draft": verbWrite,
	"register": verbWrite, "reset": verbWrite, "change": verbWrite, "configure": verbWrite, "attach": verbWrite,
	"link": verbWrite, "tag": verbWrite, "label": verbWrite, "mark": verbWrite, "grant": verbWrite,
	"promote": verbWrite, "demote": verbWrite, "execute": verbWrite, "exec": verbWrite, "eval": verbWrite,
	"install": verbWrite, "deploy": verbWrite, "commit": verbWrite, "push": verbWrite, "notify": verbWrite,
	"email": verbWrite, "message": verbWrite, "reply": verbWrite, "comment": verbWrite, "forward": verbWrite,
	"make": verbWrite, "build": verbWrite, "new": verbWrite,
	"close": verbWrite, "lock": verbWrite, "unlock": verbWrite, "restore": verbWrite, "apply": verbWrite,
	"manage": verbWrite, "store": verbWrite, "record": verbWrite, "log": verbWrite, "append": verbWrite, "sign": verbWrite,
	"suspend": verbWrite, "impersonate": verbWrite, "verify_domain": verbWrite, "archive": verbWrite,
	"deactivate": verbWrite, "activate": verbWrite, "compress": verbWrite, "gzip": verbWrite, "zip": verbWrite,
	"convert": verbWeakWrite, "sync": verbWrite, "shell": verbWrite, "unban": verbWrite, "unblock": verbWrite,
	"unsuspend": verbWrite, "reinstate": verbWrite, "undelete": verbWrite, "unarchive": verbWrite,
	"share": verbWrite, "broadcast": verbWrite, "fix": verbWrite, "reinvite": verbWrite,
	"duplicate": verbWrite, "compose": verbWrite, "adjust": verbWeakWrite, "rerank": verbRead, "encode": verbRead, "decode": verbRead, "hash": verbRead, "navigate": verbWrite, "wait": verbRead, "detect": verbRead, "translate": verbRead, "rephrase": verbRead, "paraphrase": verbRead, "replay": verbWrite, "resume": verbWrite, "pause": verbWrite,
	// actions on a page or a screen
	"click": verbWrite, "tap": verbWrite, "swipe": verbWrite, "drag": verbWrite, "press": verbWrite, "fill": verbWrite, "hover": verbWrite, "scroll": verbWrite,
	// marks on a post or a message: they send nothing
	"like": verbWrite, "unlike": verbWrite, "bookmark": verbWrite, "favorite": verbWrite, "react": verbWrite,
	// weak writes: overruled by an explicit readOnlyHint
	"trigger": verbWeakWrite, "toggle": verbWeakWrite, "run": verbWeakWrite, "start": verbWeakWrite,
	"stop": verbWeakWrite, "restart": verbWeakWrite, "reload": verbWeakWrite, "rebuild": verbWeakWrite, "simulate": verbWeakWrite, "process": verbWeakWrite, "invoke": verbWeakWrite,
	"call": verbWeakWrite, "request": verbWeakWrite, "handle": verbWeakWrite, "do": verbWeakWrite,
	// open a node, capture a snapshot: as often reads as writes
	"open": verbWeakWrite, "capture": verbWeakWrite,
	// a connection of the server's own to a database or an editor: state of
	// the session, not data
	"connect": verbWeakWrite, "disconnect": verbWeakWrite,
	// destructive
	"delete": verbDestructive, "remove": verbDestructive, "destroy": verbDestructive, "drop": verbDestructive,
	"purge": verbDestructive, "wipe": verbDestructive, "erase": verbDestructive, "truncate": verbDestructive,
	"revoke": verbDestructive, "ban": verbDestructive, "terminate": verbDestructive, "kill": verbDestructive,
	"cancel": verbDestructive, "uninstall": verbDestructive, "unlink": verbDestructive, "detach": verbDestructive, "clear": verbDestructive,
	"discard": verbDestructive, "expire": verbDestructive, "evict": verbDestructive, "kick": verbDestructive,
	"overwrite": verbDestructive, "rm": verbDestructive, "del": verbDestructive, "flush": verbDestructive,
	"reject": verbDestructive, "block": verbDestructive, "deny": verbDestructive,
	// signalling a process is how it is killed
	"signal": verbDestructive,
	// emptying a trash or a bucket deletes all it holds; a released IP
	// or lease goes back to the pool
	"empty": verbDestructive, "release": verbDestructive,
	// an aborted campaign or job stops for good
	"abort": verbDestructive,
	// cleaning up removes what it finds; logging out ends a session
	"clean": verbDestructive, "logout": verbDestructive, "signout": verbDestructive, "cleanup": verbDestructive, "prune": verbDestructive,
	// financial
	"charge": verbFinancial, "pay": verbFinancial, "refund": verbFinancial, "payout": verbFinancial,
	"transfer": verbFinancial, "purchase": verbFinancial, "buy": verbFinancial, "sell": verbFinancial,
	"withdraw": verbFinancial, "deposit": verbFinancial, "invoice": verbFinancial, "bill": verbFinancial,
	"trade": verbFinancial, "order": verbFinancial, "checkout": verbFinancial,
	"subscribe": verbFinancial, "tip": verbFinancial, "donate": verbFinancial, "swap": verbFinancial,
}

// moneyNouns in a tool name make a writing tool Financial; in property
// names and descriptions they are the "money" signal. "card" is not among
// them: a card alone is a board's (Trello) or a layout's; a credit card is
// "credit".
var moneyNouns = set("payment", "payments", "charge", "charges", "refund", "refunds", "payout", "payouts",
	"invoice", "invoices", "transfer", "transfers", "subscription", "subscriptions", "funds",
	"price", "prices", "amount", "currency", "iban", "bank", "billing", "checkout",
	"token_amount", "transaction", "transactions", "journal", "coupon", "coupons", "discount", "discounts", "credit", "credits", "fee", "fees", "tax", "salary", "wire", "trade", "trades")

// tokens splits an identifier into lower-case words: "getUserId" →
// get user id; "gzip-file-as-resource" → gzip file as resource;
// "UpdateUser" → update user; "HTTPServer" → http server. At most max
// words are returned.
func tokens(s string, max int) []string {
	if toks, ok := asciiTokens(s, max); ok {
		return toks
	}
	return runeTokens(s, max)
}

// runeTokens is tokens for any text.
func runeTokens(s string, max int) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 && len(out) < max {
			out = append(out, b.String())
		}
		b.Reset()
	}
	var prev rune
	rs := []rune(s)
	if len(rs) > 4096 {
		rs = rs[:4096]
	}
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r):
			next := rune(0)
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && unicode.IsLower(next)) {
				flush()
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			flush()
		}
		prev = r
		if len(out) >= max {
			break
		}
	}
	flush()
	return out
}

// stems returns the forms of an English word to look up: the word, then
// with -es, -s, -ed, -d or -ing taken off ("deletes" → delete, "echoes" →
// echo, "retrieved" → retrieve).
func stems(w string) [4]string {
	var s [4]string
	s[0] = w
	n := 1
	for _, suf := range []string{"es", "s", "ed", "d", "ing"} {
		if n == len(s) {
			break
		}
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			s[n] = w[:len(w)-len(suf)]
			n++
		}
	}
	return s
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// words splits free text into lower-case words of letters and digits,
// at most max of them, reading at most limit bytes.
func words(s string, max, limit int) []string {
	if len(s) > limit {
		s = s[:limit]
	}
	var out []string
	start := -1
	for i := 0; i <= len(s); {
		r, size := rune(0), 1
		if i < len(s) {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if i < len(s) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			out = append(out, strings.ToLower(s[start:i]))
			start = -1
			if len(out) >= max {
				break
			}
		}
		i += size
	}
	return out
}

// asciiTokens is tokens for the usual name, printable ASCII of at most
// 4096 bytes, without the conversion to runes: words already lower-case
// are slices of s. It reports false for any other s.
func asciiTokens(s string, max int) ([]string, bool) {
	if len(s) > 4096 {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7F {
			return nil, false
		}
	}
	kind := func(i int) byte { // 'u'pper, 'l'ower, 'd'igit, or 0
		if i < 0 || i >= len(s) {
			return 0
		}
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z':
			return 'u'
		case c >= 'a' && c <= 'z':
			return 'l'
		case c >= '0' && c <= '9':
			return 'd'
		}
		return 0
	}
	var out []string
	start := -1
	flush := func(end int) {
		if start >= 0 && len(out) < max {
			out = append(out, lowerASCII(s[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(s) && len(out) < max; i++ {
		switch k := kind(i); k {
		case 'u':
			prev := kind(i - 1)
			if prev == 'l' || prev == 'd' || prev == 'u' && kind(i+1) == 'l' {
				flush(i)
			}
			if start < 0 {
				start = i
			}
		case 'l', 'd':
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out, true
}

// lowerASCII lower-cases ASCII w, allocating only when it has capitals.
func lowerASCII(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'A' && c <= 'Z' {
			b := []byte(w)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return w
}
