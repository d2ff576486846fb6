package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/toolgate/toolgate"
	"gopkg.in/yaml.v3"
)

// The scopes a limit can count in.
const (
	ScopeGrant    = "grant"
	ScopeIdentity = "identity"
	ScopeSession  = "session"
	ScopeGlobal   = "global"
)

// Largest values Load accepts for a limit.
const (
	maxLimitMax    = 1_000_000_000
	maxLimitWindow = 366 * 24 * time.Hour
	// MaxValueLimit is the largest max of a value counter (a limit with
	// increment_from): 2^53, the largest whole number every JSON reader
	// holds exactly, so that a budget in cents reaches tens of trillions.
	MaxValueLimit = 1 << 53
)

// Limit is one compiled rate limit: at most Max calls per Window, counted per
// value of Scope in the budget named Counter.
type Limit struct {
	// Pointer is the JSON Pointer of the limit in the policy document, e.g.
	// /tools/UpdateUser/limits/0 or /tools/UpdateUser/rate_limit.
	Pointer string
	// Counter names the budget. Limits with the same counter and scope
	// share one budget, whichever rules they belong to.
	Counter string
	// Max is the number of calls allowed per Window.
	Max int
	// Window is the period Max applies to.
	Window time.Duration
	// Scope is what the budget is counted per: "grant", "identity",
	// "session" or "global".
	Scope string

	// Shadow marks a limit in shadow mode (its rule's or its document's
	// "mode": "shadow"): it counts in a budget of its own, apart from the
	// enforced limits of the same counter, and a refusal is recorded, not
	// enforced.
	Shadow bool

	// IncrementFrom, when set, makes the limit a value counter: a call adds
	// the value of this argument ("args.amount", dotted like Intercept's
	// paths) to the budget instead of one, and the budget is counted in
	// calendar-aligned UTC windows (a minute, an hour or a day) in the
	// counter store (limit.Counters) instead of the rate limiter. Value
	// counters never reach Enforce: Evaluate turns them into
	// Outcome.Counters.
	IncrementFrom string

	// prefix is the precomputed key prefix; Key rebuilds it when empty.
	prefix string
	// from is IncrementFrom's segments after "args.".
	from []string
}

// Value reports whether the limit is a value counter (increment_from).
func (l *Limit) Value() bool { return l.IncrementFrom != "" }

// valueKeyPrefix starts the counter-store key of every value counter of
// toolgate's format, apart from the keys of Intercept-format counters
// (<tool>.<counter>).
const valueKeyPrefix = `\v|`

// shadowKeyPrefix starts the key of every shadowed limit. No enforced key
// can start with it: an escaped counter has a backslash only before
// another backslash or a '|'.
const shadowKeyPrefix = `\s|`

// shadowLimits returns copies of limits in shadow mode.
func shadowLimits(limits []Limit) []Limit {
	if len(limits) == 0 {
		return limits
	}
	out := make([]Limit, len(limits))
	for i, l := range limits {
		l.Shadow = true
		l.prefix = shadowKeyPrefix + keyPrefix(l.Counter, l.Scope)
		out[i] = l
	}
	return out
}

// keyPrefix builds the part of a key that depends only on the limit. The
// counter is escaped so that no counter name can forge another's key.
func keyPrefix(counter, scope string) string {
	if strings.ContainsAny(counter, `|\`) {
		counter = strings.ReplaceAll(strings.ReplaceAll(counter, `\`, `\\`), "|", `\|`)
	}
	return counter + "|" + scope + "|"
}

// Key returns the limiter key for a call: the counter, the scope and the
// scope's value for the call (grant: Identity.Grant, identity:
// Identity.Subject, session: Session, global: ""). Calls with no identity
// count under an empty grant and subject.
func (l *Limit) Key(c *toolgate.Call) string {
	p := l.prefix
	if p == "" {
		p = keyPrefix(l.Counter, l.Scope)
		if l.Shadow {
			p = shadowKeyPrefix + p
		}
	}
	var v string
	switch l.Scope {
	case ScopeGrant, "":
		if c.Identity != nil {
			v = c.Identity.Grant
		}
	case ScopeIdentity:
		if c.Identity != nil {
			v = c.Identity.Subject
		}
	case ScopeSession:
		v = c.Session
	}
	return p + v
}

// parseWindow reads a window: "second", "minute", "hour", "day", a number of
// seconds (JSON number or numeric string) or a Go duration ("90s").
func parseWindow(n *yaml.Node) (time.Duration, string) {
	if n.Kind != yaml.ScalarNode {
		return 0, "window must be a string or a number of seconds, not " + kindName(n)
	}
	v := strings.TrimSpace(n.Value)
	var d time.Duration
	switch n.Tag {
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, "invalid window " + strconv.Quote(v)
		}
		if f <= 0 || f > maxLimitWindow.Seconds() {
			return 0, "window must be between 1ns and 366 days, got " + v + " seconds"
		}
		d = time.Duration(f * float64(time.Second))
	case "!!str":
		switch v {
		case "second":
			d = time.Second
		case "minute":
			d = time.Minute
		case "hour":
			d = time.Hour
		case "day":
			d = 24 * time.Hour
		default:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				if f <= 0 || f > maxLimitWindow.Seconds() {
					return 0, "window must be between 1ns and 366 days, got " + v + " seconds"
				}
				d = time.Duration(f * float64(time.Second))
				break
			}
			pd, err := time.ParseDuration(v)
			if err != nil {
				return 0, `invalid window ` + strconv.Quote(v) + `: use "second", "minute", "hour", "day", a number of seconds or a duration such as "90s"`
			}
			d = pd
		}
	default:
		return 0, "window must be a string or a number of seconds, not " + kindName(n)
	}
	if d <= 0 || d > maxLimitWindow {
		return 0, "window must be more than zero and at most 366 days, got " + strconv.Quote(v)
	}
	return d, ""
}

// describeWindow renders a window for messages: "minute", "90s".
func describeWindow(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return d.String()
}

func (c *compiler) limits(n *yaml.Node, ptr, _ string) []Limit {
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, ptr, "must be a list of limits, not %s", kindName(n))
		return nil
	}
	var out []Limit
	for i, item := range n.Content {
		item = resolve(item)
		iptr := ptr + "/" + strconv.Itoa(i)
		l := Limit{Pointer: iptr, Scope: ScopeGrant}
		var haveMax, haveWindow, ok = false, false, true
		var maxNode, windowNode *yaml.Node
		c.fields(item, iptr, func(key string, k, v *yaml.Node, fptr string) bool {
			switch key {
			case "counter":
				if s, sok := c.str(v, fptr); sok {
					if s == "" {
						c.errorf(v, fptr, "counter must not be empty")
						ok = false
					}
					l.Counter = s
				} else {
					ok = false
				}
			case "window":
				haveWindow = true
				windowNode = v
				d, msg := parseWindow(v)
				if msg != "" {
					c.errorf(v, fptr, "%s", msg)
					ok = false
				}
				l.Window = d
			case "max":
				haveMax = true
				maxNode = v // read below, once increment_from is known
			case "increment_from":
				s, sok := c.str(v, fptr)
				if !sok {
					ok = false
					break
				}
				from, msg := parseIncrementFrom(s)
				if msg != "" {
					c.errorf(v, fptr, "%s", msg)
					ok = false
					break
				}
				l.IncrementFrom, l.from = s, from
			case "scope":
				if s, sok := c.str(v, fptr); sok {
					switch s {
					case ScopeGrant, ScopeIdentity, ScopeSession, ScopeGlobal:
						l.Scope = s
					default:
						c.errorf(v, fptr, `scope must be "grant", "identity", "session" or "global", not %q`, s)
						ok = false
					}
				} else {
					ok = false
				}
			default:
				return false
			}
			return true
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if !haveMax {
			c.errorf(item, iptr, `missing required key "max"`)
			ok = false
		}
		if !haveWindow {
			c.errorf(item, iptr, `missing required key "window"`)
			ok = false
		}
		if maxNode != nil {
			var mok bool
			if l.Value() {
				l.Max, mok = c.valueMax(maxNode, iptr+"/max")
			} else {
				l.Max, mok = c.max(maxNode, iptr+"/max")
			}
			ok = ok && mok
		}
		if l.Value() && windowNode != nil && l.Window > 0 && !calendarWindow(l.Window) {
			c.errorf(windowNode, iptr+"/window", `a value counter (increment_from) counts in calendar windows: window must be "minute", "hour" or "day", got %q`, windowNode.Value)
			ok = false
		}
		if l.Counter == "" {
			l.Counter = iptr // a budget of its own
		}
		if ok && c.counter(item, &l) {
			l.prefix = keyPrefix(l.Counter, l.Scope)
			out = append(out, l)
		}
	}
	return out
}

func (c *compiler) max(v *yaml.Node, ptr string) (int, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		c.errorf(v, ptr, "max must be a whole number, not %s", kindName(v))
		return 0, false
	}
	m, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil || m < 1 || m > maxLimitMax {
		c.errorf(v, ptr, "max must be between 1 and %d, got %s (use action \"deny\" to block a tool)", maxLimitMax, v.Value)
		return 0, false
	}
	return int(m), true
}

// valueMax reads the max of a value counter: a whole number from 1 to
// MaxValueLimit.
func (c *compiler) valueMax(v *yaml.Node, ptr string) (int, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		c.errorf(v, ptr, "max must be a whole number, not %s", kindName(v))
		return 0, false
	}
	m, err := strconv.ParseInt(v.Value, 0, 64)
	if err != nil || m < 1 || m > MaxValueLimit || int64(int(m)) != m {
		c.errorf(v, ptr, "max of a value counter must be between 1 and %d, got %s", int64(MaxValueLimit), v.Value)
		return 0, false
	}
	return int(m), true
}

// parseIncrementFrom reads increment_from: "args." then one or more
// non-empty dotted segments.
func parseIncrementFrom(s string) ([]string, string) {
	rest, ok := strings.CutPrefix(s, "args.")
	if !ok {
		return nil, fmt.Sprintf("increment_from must start with %q, got %q", "args.", s)
	}
	segs := strings.Split(rest, ".")
	for _, seg := range segs {
		if seg == "" {
			return nil, fmt.Sprintf("increment_from %q has an empty segment; write a path such as %q", s, "args.amount")
		}
	}
	return segs, ""
}

// calendarWindow reports whether a window is one Intercept aligns to the
// UTC calendar: a minute, an hour or a day.
func calendarWindow(d time.Duration) bool {
	return d == time.Minute || d == time.Hour || d == 24*time.Hour
}

// counter checks that a counter shared by several limits is declared alike
// everywhere: one budget cannot have two sizes.
func (c *compiler) counter(n *yaml.Node, l *Limit) bool {
	if c.counters == nil {
		c.counters = map[string]*Limit{}
	}
	id := l.Counter + "\x00" + l.Scope
	first, seen := c.counters[id]
	if !seen {
		c.counters[id] = l
		return true
	}
	if first.Value() != l.Value() {
		kind := func(l *Limit) string {
			if l.Value() {
				return "a value counter (increment_from)"
			}
			return "a count of calls"
		}
		c.errorf(n, l.Pointer, "counter %q (scope %s) is declared at %s as %s; here as %s: limits sharing a counter must count the same way",
			l.Counter, l.Scope, first.Pointer, kind(first), kind(l))
		return false
	}
	if first.Max != l.Max || first.Window != l.Window {
		c.errorf(n, l.Pointer, "counter %q (scope %s) is declared at %s as %d per %s; here as %d per %s: limits sharing a counter must agree",
			l.Counter, l.Scope, first.Pointer, first.Max, describeWindow(first.Window), l.Max, describeWindow(l.Window))
		return false
	}
	return true
}

// rateLimit reads the short form {max, window}: window in seconds, scope
// session, counter named after the tool rule.
func (c *compiler) rateLimit(n *yaml.Node, ptr, tool string) []Limit {
	if isNull(n) {
		return nil
	}
	l := Limit{Pointer: ptr, Counter: tool, Scope: ScopeSession}
	var haveMax, haveWindow, ok = false, false, true
	c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "max":
			haveMax = true
			m, mok := c.max(v, fptr)
			ok = ok && mok
			l.Max = m
		case "window":
			haveWindow = true
			d, msg := parseWindow(v)
			if msg != "" {
				c.errorf(v, fptr, "%s", msg)
				ok = false
			}
			l.Window = d
		default:
			return false
		}
		return true
	})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if !haveMax {
		c.errorf(n, ptr, `missing required key "max"`)
		ok = false
	}
	if !haveWindow {
		c.errorf(n, ptr, `missing required key "window"`)
		ok = false
	}
	if !ok || !c.counter(n, &l) {
		return nil
	}
	l.prefix = keyPrefix(l.Counter, l.Scope)
	return []Limit{l}
}
