package policy

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
	"gopkg.in/yaml.v3"

	"github.com/toolgate/toolgate"
)

// WhenCostLimit bounds the work one evaluation of a rule's when condition
// may do, in CEL's cost units (roughly one per operation, plus the size of
// strings and lists it walks). A condition that goes over is stopped and
// the call is denied.
const WhenCostLimit = 10_000

// Limits on a when condition, checked at load.
const (
	// MaxWhenSize is the longest condition, in code points.
	MaxWhenSize = 4096
	// MaxWhenDepth is the deepest nesting of a condition's expression.
	MaxWhenDepth = 32
	// MaxWhens is the most conditions one document may hold, which
	// bounds the time a load spends type-checking them.
	MaxWhens = 1000
)

// condition is a compiled when: a CEL program over the call.
type condition struct {
	prg     cel.Program
	pointer string // /tools/<name>/when
	// falseReason is the reason when the condition is false and the rule
	// has no on_deny.
	falseReason string
	// readsArgs: the expression refers to the args variable.
	readsArgs bool
}

// readsArgs reports whether a checked expression refers to the args
// variable anywhere.
func readsArgs(a *cel.Ast) bool {
	for _, ref := range a.NativeRep().ReferenceMap() {
		if ref.Name == "args" {
			return true
		}
	}
	return false
}

var (
	celEnvOnce sync.Once
	celEnv     *cel.Env
	celEnvErr  error
)

// whenEnv returns the one CEL environment every when is compiled in. It
// declares the variables a condition may read:
//
//	identity  toolgate.Identity: subject, grant, policy (strings) and
//	          labels (map(string, string))
//	args      map(string, dyn): the call's arguments
//	tool      string: the tool name as the agent sees it
//	server    string: the upstream server that provides the tool
//	now       timestamp: the time of the decision
//
// identity is a typed object, so a misspelt field (identity.subjet) or a
// label compared with a number is a load error. The environment is
// immutable, so it is built once and shared by every Load.
func whenEnv() (*cel.Env, error) {
	celEnvOnce.Do(func() {
		reg, err := types.NewRegistry()
		if err != nil {
			celEnvErr = err
			return
		}
		celEnv, celEnvErr = cel.NewEnv(
			cel.CustomTypeAdapter(celAdapter{reg}),
			cel.CustomTypeProvider(celProvider{reg}),
			// Conditions are short: bound their size and nesting, as the
			// checker's time grows steeply with nesting (depth 200 takes
			// seconds; 32, milliseconds).
			cel.ParserExpressionSizeLimit(MaxWhenSize),
			cel.ParserRecursionLimit(MaxWhenDepth),
			cel.Variable("identity", identityType),
			cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("tool", cel.StringType),
			cel.Variable("server", cel.StringType),
			cel.Variable("now", cel.TimestampType),
		)
	})
	return celEnv, celEnvErr
}

// identityTypeName is the CEL type of the identity variable.
const identityTypeName = "toolgate.Identity"

var identityType = types.NewObjectType(identityTypeName)

// identityFields are the fields of identity in CEL, read straight from
// the *toolgate.Identity of the call: no copy is made per evaluation.
var identityFields = map[string]*types.FieldType{
	"subject": identityString(func(id *toolgate.Identity) string { return id.Subject }),
	"grant":   identityString(func(id *toolgate.Identity) string { return id.Grant }),
	"policy":  identityString(func(id *toolgate.Identity) string { return id.Policy }),
	"labels": {
		Type:  types.NewMapType(types.StringType, types.StringType),
		IsSet: func(o any) bool { id, ok := o.(*toolgate.Identity); return ok && len(id.Labels) > 0 },
		GetFrom: func(o any) (any, error) {
			id, ok := o.(*toolgate.Identity)
			if !ok {
				return nil, errors.New("not an identity")
			}
			if id.Labels == nil {
				return noLabels, nil
			}
			return id.Labels, nil
		},
	},
}

var noLabels = map[string]string{}

func identityString(get func(*toolgate.Identity) string) *types.FieldType {
	return &types.FieldType{
		Type:  types.StringType,
		IsSet: func(o any) bool { id, ok := o.(*toolgate.Identity); return ok && get(id) != "" },
		GetFrom: func(o any) (any, error) {
			id, ok := o.(*toolgate.Identity)
			if !ok {
				return nil, errors.New("not an identity")
			}
			return types.String(get(id)), nil
		},
	}
}

// celProvider is CEL's type registry plus the toolgate.Identity type.
type celProvider struct{ *types.Registry }

func (p celProvider) FindStructType(name string) (*types.Type, bool) {
	if name == identityTypeName {
		return types.NewTypeTypeWithParam(identityType), true
	}
	return p.Registry.FindStructType(name)
}

func (p celProvider) FindStructFieldNames(name string) ([]string, bool) {
	if name == identityTypeName {
		return []string{"subject", "grant", "policy", "labels"}, true
	}
	return p.Registry.FindStructFieldNames(name)
}

func (p celProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if name == identityTypeName {
		ft, ok := identityFields[field]
		return ft, ok
	}
	return p.Registry.FindStructFieldType(name, field)
}

func (p celProvider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if name == identityTypeName {
		return types.NewErr("an identity cannot be built in a condition")
	}
	return p.Registry.NewValue(name, fields)
}

// celAdapter is CEL's default adapter (which also reads json.Number, as
// arguments decoded with UseNumber carry) plus a *toolgate.Identity used
// as a whole value.
type celAdapter struct{ reg *types.Registry }

func (a celAdapter) NativeToValue(v any) ref.Val {
	if id, ok := v.(*toolgate.Identity); ok {
		return identityVal{id}
	}
	return a.reg.NativeToValue(v)
}

// identityVal is an identity as a CEL value, for the rare condition that
// uses identity whole (identity == identity); field selection reads the
// *toolgate.Identity directly.
type identityVal struct{ id *toolgate.Identity }

func (v identityVal) ConvertToNative(t reflect.Type) (any, error) {
	if reflect.TypeOf(v.id).AssignableTo(t) {
		return v.id, nil
	}
	return nil, fmt.Errorf("an identity cannot be converted to %v", t)
}

func (v identityVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case identityType:
		return v
	case types.TypeType:
		return identityType
	}
	return types.NewErr("an identity cannot be converted to %s", t.TypeName())
}

func (v identityVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(identityVal)
	if !ok {
		return types.False
	}
	a, b := v.id, o.id
	return types.Bool(a.Subject == b.Subject && a.Grant == b.Grant && a.Policy == b.Policy && maps.Equal(a.Labels, b.Labels))
}

func (v identityVal) Type() ref.Type { return identityType }
func (v identityVal) Value() any     { return v.id }

// when compiles a rule's when: parsed, type-checked (it must be a bool)
// and planned with a cost limit. Problems are load errors at the value's
// position, naming CEL's own line and column within the condition.
func (c *compiler) when(n *yaml.Node, ptr string) *condition {
	src, ok := c.str(n, ptr)
	if !ok {
		return nil
	}
	if c.whens++; c.whens > MaxWhens {
		if c.whens == MaxWhens+1 {
			c.errorf(n, ptr, "too many when conditions: a document may hold at most %d", MaxWhens)
		}
		return nil
	}
	env, err := whenEnv()
	if err != nil {
		c.errorf(n, ptr, "CEL environment: %v", err)
		return nil
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			if e.Location.Line() < 1 {
				c.errorf(n, ptr, "invalid condition: %s", e.Message)
				continue
			}
			c.errorf(n, ptr, "invalid condition at line %d, column %d of the expression: %s",
				e.Location.Line(), e.Location.Column()+1, e.Message)
		}
		return nil
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
		c.errorf(n, ptr, "invalid condition: it must be a bool, but it is %s (compare the value, e.g. args.flag == true)", t)
		return nil
	}
	prg, err := env.Program(ast,
		cel.CostLimit(WhenCostLimit),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		c.errorf(n, ptr, "invalid condition: %v", err)
		return nil
	}
	return &condition{prg: prg, pointer: ptr, readsArgs: readsArgs(ast),
		falseReason: fmt.Sprintf("denied by policy because the condition at %s is false", ptr)}
}

// celVars is the activation of one evaluation: it resolves the declared
// variables from the call, lazily, so a condition that reads only args
// builds nothing for identity.
type celVars struct {
	c   *toolgate.Call
	now time.Time
}

var (
	emptyArgs  = map[string]any{}
	noIdentity = &toolgate.Identity{}
)

func (v *celVars) ResolveName(name string) (any, bool) {
	switch name {
	case "args":
		if v.c.Args == nil {
			return emptyArgs, true
		}
		return v.c.Args, true
	case "tool":
		return types.String(v.c.Tool), true
	case "server":
		return types.String(v.c.Server), true
	case "now":
		return types.Timestamp{Time: v.now}, true
	case "identity":
		if v.c.Identity == nil {
			return noIdentity, true
		}
		return v.c.Identity, true
	}
	return nil, false
}

func (v *celVars) Parent() interpreter.Activation { return nil }

// eval runs the condition on a call. It returns whether the call passes
// and, when it does not, the reason (falseReason is replaced by on_deny
// by the caller). An evaluation error denies with a reason that names the
// rule and never an argument's value: CEL's messages may quote values.
func (w *condition) eval(c *toolgate.Call, now time.Time) (ok bool, evalErr string) {
	out, _, err := w.prg.Eval(&celVars{c: c, now: now})
	if err != nil {
		var ce interpreter.EvalCancelledError
		if errors.As(err, &ce) && ce.Cause == interpreter.CostLimitExceeded {
			return false, fmt.Sprintf("denied by policy because the condition at %s exceeded its cost limit of %d", w.pointer, WhenCostLimit)
		}
		return false, fmt.Sprintf("denied by policy because the condition at %s could not be evaluated: a value it reads is missing or of another type (test presence with has(args.name) or \"key\" in map)", w.pointer)
	}
	b, isBool := out.(types.Bool)
	if !isBool {
		return false, fmt.Sprintf("denied by policy because the condition at %s did not give a bool", w.pointer)
	}
	return bool(b), ""
}
