package policy

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// argMessage says why an argument failed a schema keyword using only what
// the schema says (the expected type, the allowed values, the bound, the
// pattern) and never the value the caller sent: a refusal reason is shown to
// the agent, written to the log and stored with approvals, and the value may
// be a password or a token. The schema library's own messages quote the
// value for several keywords ("'hunter2' does not match pattern ...",
// "minimum: got 42, want 100"), so every kind is rendered here, and a kind
// this function does not know gets a message naming only the keyword.
//
// Property names the caller sent (additionalProperties, propertyNames) are
// kept: they say which argument is wrong, as ArgError.Path does.
func argMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		// Got is the JSON type of the value, not the value.
		return "got " + k.Got + ", want " + strings.Join(k.Want, " or ")
	case *kind.Const:
		if w, ok := schemaLiteral(k.Want); ok {
			return "value must be " + w
		}
		return "value is not the one the schema allows (const)"
	case *kind.Enum:
		want := make([]string, 0, len(k.Want))
		for _, v := range k.Want {
			w, ok := schemaLiteral(v)
			if !ok {
				return "value is not one the schema allows (enum)"
			}
			want = append(want, w)
		}
		if len(want) == 1 {
			return "value must be " + want[0]
		}
		return "value must be one of " + strings.Join(want, ", ")
	case *kind.Pattern:
		return "value does not match pattern " + quoteText(k.Want)
	case *kind.Format:
		// Got is the value and Err often quotes it.
		return "value is not a valid " + k.Want
	case *kind.MinLength:
		return fmt.Sprintf("value must be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("value must be at most %d characters long", k.Want)
	case *kind.Minimum:
		return "value must be >= " + ratText(k.Want)
	case *kind.Maximum:
		return "value must be <= " + ratText(k.Want)
	case *kind.ExclusiveMinimum:
		return "value must be > " + ratText(k.Want)
	case *kind.ExclusiveMaximum:
		return "value must be < " + ratText(k.Want)
	case *kind.MultipleOf:
		return "value must be a multiple of " + ratText(k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d properties", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d properties", k.Want)
	case *kind.AdditionalItems:
		return "has more items than the schema allows"
	case *kind.UniqueItems:
		return fmt.Sprintf("items must be unique (items %d and %d are equal)", k.Duplicates[0], k.Duplicates[1])
	case *kind.Contains:
		return "no item matches the schema's contains"
	case *kind.MinContains:
		return fmt.Sprintf("at least %d items must match the schema's contains", k.Want)
	case *kind.MaxContains:
		return fmt.Sprintf("at most %d items may match the schema's contains", k.Want)
	case *kind.Required:
		if len(k.Missing) == 1 {
			return "missing property " + quoteText(k.Missing[0])
		}
		return "missing properties " + quoteList(k.Missing)
	case *kind.Dependency:
		return "properties " + quoteList(k.Missing) + " are required when " + quoteText(k.Prop) + " is present"
	case *kind.DependentRequired:
		return "properties " + quoteList(k.Missing) + " are required when " + quoteText(k.Prop) + " is present"
	case *kind.AdditionalProperties:
		return "additional properties " + quoteList(k.Properties) + " not allowed"
	case *kind.PropertyNames:
		return "property name " + quoteText(k.Property) + " is not allowed"
	case *kind.ContentEncoding:
		return "value is not " + k.Want + " encoded"
	case *kind.ContentMediaType:
		return "value is not of media type " + k.Want
	case *kind.ContentSchema:
		return "value's content does not match the schema's contentSchema"
	case *kind.FalseSchema:
		return "not allowed by the schema"
	case *kind.Not:
		return "matches a schema it must not match (not)"
	case *kind.AllOf:
		return "does not match all of the schema's allOf"
	case *kind.AnyOf:
		return "matches none of the schema's anyOf"
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			return "matches none of the schema's oneOf"
		}
		return "matches more than one of the schema's oneOf"
	}
	if kp := k.KeywordPath(); len(kp) > 0 {
		return "fails the schema's " + strings.Join(kp, "/") + " keyword"
	}
	return "does not match the schema"
}

// schemaLiteral renders a scalar taken from the schema (const, enum):
// strings in single quotes, numbers, booleans and null as JSON writes them.
// Arrays and objects are not rendered.
func schemaLiteral(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return quoteText(t), true
	case bool:
		return strconv.FormatBool(t), true
	case nil:
		return "null", true
	case []any, map[string]any:
		return "", false
	}
	return fmt.Sprint(v), true
}

// quoteText puts a name or a schema string in single quotes, escaping what
// would make it ambiguous.
func quoteText(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
	return "'" + strings.ReplaceAll(q, "'", `\'`) + "'"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteText(n)
	}
	return strings.Join(q, ", ")
}

// ratText renders a bound from the schema: an integer as such, else the
// shortest decimal that reads back as the same float64.
func ratText(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}
