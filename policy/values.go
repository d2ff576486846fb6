package policy

import (
	"fmt"
	"math"

	"github.com/toolgate/toolgate"
)

// This file turns the value counters of toolgate's own format (limits
// with increment_from) into the CounterUses the pipeline reserves in the
// counter store, the same way as the counters of an Intercept document:
// a call adds the value of one of its arguments to a budget counted in a
// calendar-aligned UTC minute, hour or day, reserved before the call is
// forwarded and given back when the upstream fails.

// splitValues separates the value counters from the limits that count
// calls. When there are none it returns limits itself.
func splitValues(limits []Limit) (calls, values []Limit) {
	n := 0
	for i := range limits {
		if limits[i].Value() {
			n++
		}
	}
	if n == 0 {
		return limits, nil
	}
	calls = make([]Limit, 0, len(limits)-n)
	values = make([]Limit, 0, n)
	for _, l := range limits {
		if l.Value() {
			values = append(values, l)
		} else {
			calls = append(calls, l)
		}
	}
	return calls, values
}

// counted adds the value counters of an allowed or approved call to the
// outcome. A value counter whose argument cannot be counted (missing, not
// a number, negative) refuses the call with kind args, naming the
// argument, before any quota is taken; in shadow mode the refusal is
// recorded instead, and that counter is not reserved.
func (o Outcome) counted(c *toolgate.Call, values []Limit) Outcome {
	if len(values) == 0 || o.Decision.Action == toolgate.Deny {
		return o
	}
	uses := make([]CounterUse, 0, len(values))
	for i := range values {
		l := &values[i]
		if l.Shadow && o.Shadow != nil {
			continue // enforcement would never have reached it
		}
		amount, problem := increment(c.Args, l)
		if problem != "" {
			d := toolgate.Decision{Action: toolgate.Deny, Rule: l.Pointer + "/increment_from", Kind: KindArgs, Reason: problem}
			if !l.Shadow {
				return Outcome{Decision: d}
			}
			o.Shadow = &d
			continue
		}
		uses = append(uses, CounterUse{
			Pointer:  l.Pointer,
			Key:      valueKeyPrefix + l.Key(c),
			Amount:   amount,
			Max:      int64(l.Max),
			Window:   l.Window,
			Reason:   valueReason(l, amount),
			Shadow:   l.Shadow,
			Required: true,
		})
	}
	o.Counters = uses
	return o
}

// increment reads what a call adds to a value counter: the argument's
// value, a non-negative finite number; a fraction counts as the next
// whole number, so that small amounts cannot slip through uncounted.
func increment(args map[string]any, l *Limit) (int64, string) {
	v, ok := icArg(args, l.from)
	if !ok || v == nil {
		return 0, fmt.Sprintf("argument %s is missing; the limit at %s counts it, so the call is refused", l.IncrementFrom, l.Pointer)
	}
	f, ok := icNumber(v)
	switch {
	case !ok || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, fmt.Sprintf("argument %s must be a number; the limit at %s counts it, so the call is refused", l.IncrementFrom, l.Pointer)
	case f < 0:
		return 0, fmt.Sprintf("argument %s must not be negative; the limit at %s counts it, so the call is refused", l.IncrementFrom, l.Pointer)
	case f > MaxValueLimit:
		return 0, fmt.Sprintf("argument %s is larger than any budget (at most %d); the limit at %s counts it, so the call is refused", l.IncrementFrom, int64(MaxValueLimit), l.Pointer)
	}
	return int64(math.Ceil(f)), ""
}

// valueReason is the refusal of a call a value counter has no room for.
func valueReason(l *Limit, amount int64) string {
	w := describeWindow(l.Window)
	return fmt.Sprintf("limit of %d per %s on %s reached: this call adds %d; the budget starts again at the next UTC %s",
		l.Max, w, l.IncrementFrom, amount, w)
}
