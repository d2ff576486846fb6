package scan

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/toolgate/toolgate/policy"
)

// SensitivePerMinute is the recommended policy's limit, per grant, on
// Write tools that send messages to people or handle personal data
// (signals messaging, pii): spam and leaks scale with the call rate.
const SensitivePerMinute = 10

// writeLimit is the calls per minute per grant the recommended policy
// allows a Write tool.
func writeLimit(r *Report) int {
	if r.Has(SigMessaging) || r.Has(SigPII) {
		return SensitivePerMinute
	}
	return WritePerMinute
}

// Property words whose values the recommended policy redacts in the audit
// log of a tool that writes personal data or sends messages: personal
// data, recipients, and (for messaging tools) the message itself. Secrets
// (password, token, …) are redacted by default, by key name.
var (
	piiPropWords = map[string]bool{
		"email": true, "emails": true, "phone": true, "phones": true, "mobile": true, "address": true,
		"addresses": true, "street": true, "birth": true, "birthday": true, "dob": true, "ssn": true,
		"passport": true, "iban": true, "recipient": true, "recipients": true, "cc": true, "bcc": true,
	}
	piiPropJoined = map[string]bool{
		"firstname": true, "lastname": true, "fullname": true, "phonenumber": true, "dateofbirth": true,
		"replyto": true, "emailaddress": true, "nationalid": true, "taxid": true, "postalcode": true, "zipcode": true,
	}
	messagePropWords = map[string]bool{
		"to": true, "body": true, "html": true, "text": true, "message": true, "content": true, "subject": true,
		"markdown": true, "caption": true,
	}
)

// redactPointers lists the JSON Pointers of a Write (or Destructive,
// Financial) tool's arguments that carry personal data or a message's
// content and recipients, for the rule's redact list. Properties inside
// arrays have no pointer that names every element and are left to the
// redact package's own rules.
func redactPointers(r *Report) []string {
	if r.Category == Read || !(r.Has(SigPII) || r.Has(SigMessaging)) {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range r.props {
		if strings.Contains(p.path, "[]") || len(out) == policy.MaxRedact {
			continue
		}
		last := ""
		if len(p.toks) > 0 {
			last = p.toks[len(p.toks)-1]
		}
		sensitive := piiPropJoined[p.joined] || piiPropWords[last] && !strings.HasSuffix(p.joined, "id")
		if !sensitive && r.Has(SigMessaging) && p.depth == 1 && messagePropWords[p.joined] {
			sensitive = true
		}
		if !sensitive || p.typ == "boolean" {
			continue
		}
		var b strings.Builder
		for _, part := range strings.Split(p.path, ".") {
			b.WriteByte('/')
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(part, "~", "~0"), "/", "~1"))
		}
		// The variants of one property (anyOf, oneOf) share their
		// members' paths: a pointer is listed once, as the policy
		// loader requires.
		if ptr := b.String(); !seen[ptr] {
			seen[ptr] = true
			out = append(out, ptr)
		}
	}
	return out
}

// RecommendIntercept writes the recommended policy in the YAML of
// PolicyLayer's Intercept: the policy Recommend writes, with its limits
// counted across all callers (Intercept's counters are global, not per
// grant), converted by policy.Convert and checked with policy.Load. What
// Intercept cannot express (redaction, args schemas, holding a call for
// approval) is listed in comments at the top.
func RecommendIntercept(servers []ServerResult) ([]byte, error) {
	doc, err := Recommend(servers)
	if err != nil {
		return nil, err
	}
	doc = bytes.ReplaceAll(doc, []byte(`"scope": "grant"`), []byte(`"scope": "global"`))
	doc = bytes.Replace(doc, []byte("min per grant"), []byte("min across all callers"), 1)
	e, err := policy.Load(doc, "recommended policy")
	if err != nil {
		return nil, fmt.Errorf("scan: the recommended policy does not load: %w", err)
	}
	out, losses, err := policy.Convert(e, policy.ConvertToYAML)
	if err != nil {
		return nil, fmt.Errorf("scan: convert the recommended policy: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("# Recommended by toolgate scan, in Intercept's format. Limits count the calls of all\n")
	b.WriteString("# callers together (Intercept's counters are global); toolgate's JSON (--policy-format json)\n")
	b.WriteString("# counts them per grant.\n")
	writeLosses(&b, losses)
	b.WriteString("\n")
	b.Write(out)
	if _, err := policy.Load(b.Bytes(), "recommended policy (Intercept)"); err != nil {
		return nil, fmt.Errorf("scan: the recommended Intercept policy does not load: %w", err)
	}
	return b.Bytes(), nil
}

// writeLosses writes, as YAML comments, what the conversion to Intercept
// lost, grouped by what was lost: each kind once, with the tools it
// concerns (a count only for the limits every tool has).
func writeLosses(b *bytes.Buffer, losses []policy.Loss) {
	if len(losses) == 0 {
		return
	}
	var order []string
	tools := map[string][]string{}
	for _, l := range losses {
		msg := strings.ReplaceAll(l.Message, "\n", " ")
		if _, ok := tools[msg]; !ok {
			order = append(order, msg)
		}
		tool := strings.TrimPrefix(l.Pointer, "/tools/")
		if i := strings.IndexByte(tool, '/'); i >= 0 {
			tool = tool[:i]
		}
		tools[msg] = append(tools[msg], strings.ReplaceAll(strings.ReplaceAll(tool, "~1", "/"), "~0", "~"))
	}
	b.WriteString("#\n# Not expressed in Intercept's format (toolgate's JSON keeps them):\n")
	for _, msg := range order {
		names := tools[msg]
		fmt.Fprintf(b, "#\n# - %s (%d rules)", msg, len(names))
		if strings.HasPrefix(msg, "approximated by rate_limit") {
			b.WriteString("\n")
			continue
		}
		b.WriteString(":\n#   ")
		width := 4
		for i, n := range names {
			if i > 0 && width+len(n) > 98 {
				b.WriteString(",\n#   ")
				width = 4
			} else if i > 0 {
				b.WriteString(", ")
				width += 2
			}
			b.WriteString(n)
			width += len(n)
		}
		b.WriteString("\n")
	}
}
