package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/toolgate/toolgate"
	"gopkg.in/yaml.v3"
)

// A test file holds policy unit tests: calls, each with the identity that
// makes it, and the decision the gateway must reach on it. The runner is
// package policytest; `toolgate policy test` runs it. The format is
// documented in docs/policy-testing.md.

// MaxTestCases is the most cases one test file may hold.
const MaxTestCases = 10_000

// MaxRepeat is the largest repeat a case may ask for.
const MaxRepeat = 100_000

// TestFile is a parsed test file.
type TestFile struct {
	// File is the name the file was loaded under.
	File string
	// PolicyPath is the policy file named by "policy", as written (relative
	// to the test file); empty when the policy is inline.
	PolicyPath string
	// Policy is the compiled policy under test: the inline document, or
	// after LoadTestFile the file PolicyPath names.
	Policy *Engine
	// Cases are the test cases in file order.
	Cases []*TestCase
}

// TestCase is one test: the calls made before (their decisions are not
// checked), then Call, made Repeat times; Expect is checked against the
// decision on the last one.
type TestCase struct {
	Name string
	// Line and Column are the position of the case in the file.
	Line, Column int
	Before       []*TestCall
	Call         *TestCall
	Repeat       int
	// Approve is how the stand-in human answers an approval: true
	// approves, false (the default) refuses.
	Approve bool
	Expect  Expectation
}

// TestCall is one call of a test case.
type TestCall struct {
	Tool       string
	Server     string
	Categories []string
	Args       map[string]any
	Identity   *toolgate.Identity
	// InputSchema is the upstream tool's inputSchema, compiled; nil when
	// the case gives none. InputSchemaDoc is the same, decoded.
	InputSchema    *Schema
	InputSchemaDoc any
}

// Expectation is what a case expects of the decision; empty fields are
// not checked. Reason is a substring of the decision's reason.
type Expectation struct {
	Decision   toolgate.Action `json:"decision,omitempty"`
	Kind       toolgate.Kind   `json:"kind,omitempty"`
	ShadowKind toolgate.Kind   `json:"shadow_kind,omitempty"`
	Rule       string          `json:"rule,omitempty"`
	Reason     string          `json:"reason,omitempty"`
}

// knownKinds are the decision kinds an expectation may name.
var knownKinds = map[toolgate.Kind]bool{
	toolgate.KindNoPolicy: true, toolgate.KindHidden: true, toolgate.KindDefault: true,
	toolgate.KindRule: true, toolgate.KindArgs: true, toolgate.KindInputSchema: true,
	toolgate.KindPin: true, toolgate.KindLimit: true, toolgate.KindApproval: true,
	toolgate.KindShadowDenied: true,
}

// LoadTestFile reads the test file at path and loads the policy it names,
// relative to the test file's directory. Problems in either come back as
// an ErrorList with positions in their own file; a missing file is a
// toolgate.Error of code NotFound.
func LoadTestFile(path string) (*TestFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, readError("test file", path, err)
	}
	tf, err := LoadTests(data, path)
	if err != nil {
		return nil, err
	}
	if tf.PolicyPath != "" {
		p := tf.PolicyPath
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, readError("policy file", p, err)
		}
		if tf.Policy, err = Load(data, p); err != nil {
			return nil, err
		}
	}
	return tf, nil
}

func readError(what, path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &toolgate.Error{Code: toolgate.NotFound, Message: fmt.Sprintf("%s %s not found", what, path), Err: err}
	}
	return &toolgate.Error{Code: toolgate.Invalid, Message: fmt.Sprintf("cannot read %s %s", what, path), Err: err}
}

// LoadTests parses a test file (JSON when its first non-space byte is '{',
// YAML otherwise) named name. An inline policy is compiled; a policy named
// by path is left to the caller (see LoadTestFile). Every problem is
// returned in an ErrorList, with its line and column.
func LoadTests(data []byte, name string) (*TestFile, error) {
	if len(data) > MaxDocumentSize {
		return nil, ErrorList{{File: name, Line: 1, Column: 1,
			Message: fmt.Sprintf("document is %d bytes; the limit is %d", len(data), MaxDocumentSize)}}
	}
	root, perr := parse(data)
	if perr != nil {
		return nil, ErrorList{{File: name, Line: perr.line, Column: perr.col, Message: perr.msg}}
	}
	c := &compiler{file: name}
	tf := c.testFile(root)
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	return tf, nil
}

func (c *compiler) testFile(root *yaml.Node) *TestFile {
	tf := &TestFile{File: c.file}
	var (
		policyNode, casesNode *yaml.Node
		identity              *toolgate.Identity
	)
	if !c.fields(root, "", func(key string, k, v *yaml.Node, ptr string) bool {
		switch key {
		case "policy":
			policyNode = v
		case "identity":
			identity = c.identity(v, ptr)
		case "cases":
			casesNode = v
		case "description":
			c.str(v, ptr)
		default:
			return false
		}
		return true
	}) {
		return nil
	}
	switch {
	case policyNode == nil:
		c.errorf(root, "", `missing required key "policy" (a policy file's path, relative to this file, or an inline policy document)`)
	case policyNode.Kind == yaml.MappingNode:
		// Compiled in place, so that its errors carry positions in
		// this file; its pointers start at the policy document.
		sub := &compiler{file: c.file}
		tf.Policy = sub.document(policyNode)
		for _, e := range sub.errs {
			e.Path = "/policy" + e.Path
		}
		c.errs = append(c.errs, sub.errs...)
	default:
		if s, ok := c.str(policyNode, "/policy"); ok {
			if s == "" {
				c.errorf(policyNode, "/policy", "policy must name a file or hold a policy document")
			}
			tf.PolicyPath = s
		}
	}
	if identity == nil {
		identity = toolgate.Anonymous()
	}
	switch {
	case casesNode == nil:
		c.errorf(root, "", `missing required key "cases" (a list of test cases)`)
	case casesNode.Kind != yaml.SequenceNode:
		c.errorf(casesNode, "/cases", "must be a list of test cases, not %s", kindName(casesNode))
	case len(casesNode.Content) == 0:
		c.errorf(casesNode, "/cases", "must hold at least one test case")
	case len(casesNode.Content) > MaxTestCases:
		c.errorf(casesNode, "/cases", "holds %d cases; the limit is %d", len(casesNode.Content), MaxTestCases)
	default:
		names := map[string]string{}
		for i, n := range casesNode.Content {
			ptr := "/cases/" + strconv.Itoa(i)
			tc := c.testCase(resolve(n), ptr, identity)
			if tc == nil {
				continue
			}
			if first, dup := names[tc.Name]; dup && tc.Name != "" {
				c.errorf(n, ptr+"/name", "another case, %s, has the name %q", first, tc.Name)
			}
			names[tc.Name] = ptr
			tf.Cases = append(tf.Cases, tc)
		}
	}
	return tf
}

func (c *compiler) testCase(n *yaml.Node, ptr string, identity *toolgate.Identity) *TestCase {
	tc := &TestCase{Line: n.Line, Column: n.Column, Repeat: 1}
	var (
		callNode, beforeNode *yaml.Node
		haveExpect, haveName bool
	)
	if !c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "name":
			haveName = true
			if s, ok := c.str(v, fptr); ok {
				if s == "" {
					c.errorf(v, fptr, "name must not be empty")
				}
				tc.Name = s
			}
		case "identity":
			if id := c.identity(v, fptr); id != nil {
				identity = id
			}
		case "call":
			callNode = v
		case "before":
			beforeNode = v
		case "repeat":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				c.errorf(v, fptr, "repeat must be a whole number, not %s", kindName(v))
				break
			}
			r, err := strconv.Atoi(v.Value)
			if err != nil || r < 1 || r > MaxRepeat {
				c.errorf(v, fptr, "repeat must be between 1 and %d, got %s", MaxRepeat, v.Value)
				break
			}
			tc.Repeat = r
		case "approval":
			if s, ok := c.str(v, fptr); ok {
				switch s {
				case "approve":
					tc.Approve = true
				case "deny":
				default:
					c.errorf(v, fptr, `approval must be "approve" or "deny" (how the stand-in human answers), not %q`, s)
				}
			}
		case "expect":
			haveExpect = true
			tc.Expect = c.expectation(v, fptr)
		default:
			return false
		}
		return true
	}) {
		return nil
	}
	if !haveName {
		c.errorf(n, ptr, `missing required key "name"`)
	}
	if !haveExpect {
		c.errorf(n, ptr, `missing required key "expect"`)
	}
	if callNode == nil {
		c.errorf(n, ptr, `missing required key "call"`)
	} else {
		tc.Call = c.testCall(callNode, ptr+"/call", identity)
	}
	if beforeNode != nil && !isNull(beforeNode) {
		if beforeNode.Kind != yaml.SequenceNode {
			c.errorf(beforeNode, ptr+"/before", "must be a list of calls, not %s", kindName(beforeNode))
		} else {
			for i, b := range beforeNode.Content {
				if call := c.testCall(resolve(b), ptr+"/before/"+strconv.Itoa(i), identity); call != nil {
					tc.Before = append(tc.Before, call)
				}
			}
		}
	}
	return tc
}

func (c *compiler) testCall(n *yaml.Node, ptr string, identity *toolgate.Identity) *TestCall {
	call := &TestCall{Identity: identity}
	haveTool := false
	if !c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "tool":
			haveTool = true
			if s, ok := c.str(v, fptr); ok {
				if s == "" {
					c.errorf(v, fptr, "tool must not be empty")
				}
				call.Tool = s
			}
		case "server":
			if s, ok := c.str(v, fptr); ok {
				call.Server = s
			}
		case "identity":
			if id := c.identity(v, fptr); id != nil {
				call.Identity = id
			}
		case "categories":
			if v.Kind != yaml.SequenceNode {
				c.errorf(v, fptr, "must be a list of risk categories, not %s", kindName(v))
				break
			}
			for i, item := range v.Content {
				iptr := fptr + "/" + strconv.Itoa(i)
				if s, ok := c.str(resolve(item), iptr); ok {
					if catIndex(s) < 0 {
						c.errorf(item, iptr, "unknown risk category %q (use read, write, destructive or financial)", s)
					}
					call.Categories = append(call.Categories, s)
				}
			}
		case "args":
			if isNull(v) {
				break
			}
			if v.Kind != yaml.MappingNode {
				c.errorf(v, fptr, "args must be an object, not %s", kindName(v))
				break
			}
			if val, ok := c.toValue(v, fptr); ok {
				call.Args, _ = val.(map[string]any)
			}
		case "input_schema":
			if v.Kind != yaml.MappingNode {
				c.errorf(v, fptr, "input_schema must be a JSON Schema object, not %s", kindName(v))
				break
			}
			val, ok := c.toValue(v, fptr)
			if !ok {
				break
			}
			raw, err := json.Marshal(val)
			if err == nil {
				call.InputSchema, err = CompileSchema(raw)
			}
			if err != nil {
				msg, _, _ := strings.Cut(err.Error(), "\n")
				c.errorf(v, fptr, "input_schema does not compile: %s", strings.TrimPrefix(msg, "policy: "))
				break
			}
			call.InputSchemaDoc = val
		default:
			return false
		}
		return true
	}) {
		return nil
	}
	if !haveTool {
		c.errorf(n, ptr, `missing required key "tool"`)
	}
	return call
}

func (c *compiler) identity(n *yaml.Node, ptr string) *toolgate.Identity {
	id := &toolgate.Identity{}
	if !c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "subject":
			id.Subject, _ = c.str(v, fptr)
		case "grant":
			id.Grant, _ = c.str(v, fptr)
		case "policy":
			id.Policy, _ = c.str(v, fptr)
		case "labels":
			c.fields(v, fptr, func(label string, _, lv *yaml.Node, lptr string) bool {
				if s, ok := c.str(lv, lptr); ok {
					if id.Labels == nil {
						id.Labels = map[string]string{}
					}
					id.Labels[label] = s
				}
				return true
			})
		default:
			return false
		}
		return true
	}) {
		return nil
	}
	return id
}

func (c *compiler) expectation(n *yaml.Node, ptr string) Expectation {
	var e Expectation
	named := false
	c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		s, ok := c.str(v, fptr)
		named = named || key == "decision" || key == "kind"
		switch key {
		case "decision":
			if ok {
				switch a := toolgate.Action(s); a {
				case toolgate.Allow, toolgate.Deny:
					e.Decision = a
				default:
					c.errorf(v, fptr, `decision must be "allow" or "deny", not %q`, s)
				}
			}
		case "kind", "shadow_kind":
			if ok {
				if !knownKinds[toolgate.Kind(s)] {
					c.errorf(v, fptr, "unknown decision kind %q (one of no_policy, hidden, default, rule, args, input_schema, pin, limit, approval, shadow_denied)", s)
				} else if key == "kind" {
					e.Kind = toolgate.Kind(s)
				} else {
					e.ShadowKind = toolgate.Kind(s)
				}
			}
		case "rule":
			e.Rule = s
		case "reason":
			e.Reason = s
		default:
			return false
		}
		return true
	})
	if n.Kind == yaml.MappingNode && !named {
		c.errorf(n, ptr, `expect needs "decision" or "kind"`)
	}
	return e
}
