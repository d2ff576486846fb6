package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// Schema is a compiled JSON Schema over a call's arguments: a policy rule's
// args fragment or an upstream tool's inputSchema. It is safe for concurrent
// use.
type Schema struct {
	s *jsonschema.Schema
}

// ArgError says which argument failed a schema and why.
type ArgError struct {
	// Path is a JSON Pointer into the arguments, e.g. /skip_password_checks
	// ("" for the arguments object itself).
	Path string
	// Message says what is wrong, e.g. "value must be false". It names
	// the constraint from the schema and never quotes the value the caller
	// sent, which may be a secret (see argMessage).
	Message string
	// keyword is the failing keyword's location in the schema, a JSON
	// Pointer relative to the schema's root.
	keyword string
}

func (e *ArgError) Error() string {
	p := e.Path
	if p == "" {
		p = "/"
	}
	return "argument " + p + ": " + e.Message
}

const schemaURL = "toolgate:///schema.json"

// CompileSchema compiles a JSON Schema (draft 2020-12 unless it names
// another draft in $schema). References to other documents are refused.
func CompileSchema(raw json.RawMessage) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("policy: schema is not valid JSON: %w", err)
	}
	return compileValue(doc)
}

func compileValue(doc any) (*Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no file or network access
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("policy: schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("policy: schema: %w", err)
	}
	return &Schema{s: s}, nil
}

// Validate checks call arguments against the schema and returns nil when
// they are valid, or the first failing argument. nil args are checked as an
// empty object.
func (s *Schema) Validate(args map[string]any) *ArgError {
	var v any = args
	if args == nil {
		v = map[string]any{}
	}
	err := s.s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		// Not a validation failure (the library refused the value itself);
		// its text may quote the value, so it is not passed on.
		return &ArgError{Message: "the arguments could not be checked against the schema"}
	}
	leaf := ve
	for len(leaf.Causes) > 0 {
		if _, ok := leaf.ErrorKind.(*kind.PropertyNames); ok {
			break // its causes judge the name as a value; name the property instead
		}
		leaf = leaf.Causes[0]
	}
	return &ArgError{
		Path:    pointer(leaf.InstanceLocation),
		Message: argMessage(leaf.ErrorKind),
		keyword: keywordLocation(leaf),
	}
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}

// keywordLocation is the failing keyword's JSON Pointer within the schema.
func keywordLocation(e *jsonschema.ValidationError) string {
	loc := e.SchemaURL
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		loc = loc[i+1:]
	} else {
		loc = ""
	}
	// The fragment is URL-escaped JSON Pointer; undo the common escapes.
	loc = strings.NewReplacer("%25", "%", "%7E", "~", "%20", " ").Replace(loc)
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		loc += pointer(kp)
	}
	return loc
}

// argsSchema compiles a rule's args fragment.
func (c *compiler) argsSchema(n *yaml.Node, ptr string) *Schema {
	if n.Kind != yaml.MappingNode && !(n.Kind == yaml.ScalarNode && n.Tag == "!!bool") {
		c.errorf(n, ptr, "args must be a JSON Schema object, not %s", kindName(n))
		return nil
	}
	v, ok := c.toValue(n, ptr)
	if !ok {
		return nil
	}
	s, err := compileValue(v)
	if err != nil {
		var sve *jsonschema.SchemaValidationError
		var ve *jsonschema.ValidationError
		if errors.As(err, &sve) && errors.As(sve.Err, &ve) {
			leaf := ve
			for len(leaf.Causes) > 0 {
				leaf = leaf.Causes[0]
			}
			at := nodeAt(n, leaf.InstanceLocation)
			c.errorf(at, ptr+pointer(leaf.InstanceLocation), "args is not a valid JSON Schema: %s",
				leaf.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
			return nil
		}
		c.errorf(n, ptr, "args is not a valid JSON Schema: %s", strings.TrimPrefix(err.Error(), "policy: schema: "))
		return nil
	}
	return s
}

// nodeAt finds the node at a path of keys and indexes below n, or the
// deepest node found on the way.
func nodeAt(n *yaml.Node, tokens []string) *yaml.Node {
	for _, t := range tokens {
		n = resolve(n)
		next := (*yaml.Node)(nil)
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if resolve(n.Content[i]).Value == t {
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(t); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return resolve(n)
}
