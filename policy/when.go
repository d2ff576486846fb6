package policy

import (
	"encoding/json"
	"errors"
	"fmt"
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

// condition is a compiled when: a CEL program over the call.
type condition struct {
	prg     cel.Program
	pointer string // /tools/<name>/when
	// falseReason is the reason when the condition is false and the rule
	// has no on_deny.
	falseReason string
}

var (
	celEnvOnce sync.Once
	celEnv     *cel.Env
	celEnvErr  error
)

// whenEnv returns the one CEL environment every when is compiled in. It
// declares the variables a condition may read:
//
//	identity  map(string, dyn): subject, grant, policy (strings) and
//	          labels (map(string, string))
//	args      map(string, dyn): the call's arguments
//	tool      string: the tool name as the agent sees it
//	server    string: the upstream server that provides the tool
//	now       timestamp: the time of the decision
//
// The environment is immutable, so it is built once and shared by every
// Load.
func whenEnv() (*cel.Env, error) {
	celEnvOnce.Do(func() {
		celEnv, celEnvErr = cel.NewEnv(
			cel.Variable("identity", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("tool", cel.StringType),
			cel.Variable("server", cel.StringType),
			cel.Variable("now", cel.TimestampType),
			cel.CustomTypeAdapter(numberAdapter{}),
		)
	})
	return celEnv, celEnvErr
}

// numberAdapter is CEL's default adapter that also reads json.Number
// (arguments decoded with UseNumber) as an int when it is one, else a
// double.
type numberAdapter struct{}

func (numberAdapter) NativeToValue(v any) ref.Val {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return types.Int(i)
		}
		if f, err := n.Float64(); err == nil {
			return types.Double(f)
		}
		return types.String(n)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// when compiles a rule's when: parsed, type-checked (it must be a bool)
// and planned with a cost limit. Problems are load errors at the value's
// position, naming CEL's own line and column within the condition.
func (c *compiler) when(n *yaml.Node, ptr string) *condition {
	src, ok := c.str(n, ptr)
	if !ok {
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
	return &condition{prg: prg, pointer: ptr,
		falseReason: fmt.Sprintf("denied by policy because the condition at %s is false", ptr)}
}

// celVars is the activation of one evaluation: it resolves the declared
// variables from the call, lazily, so a condition that reads only args
// builds nothing for identity.
type celVars struct {
	c   *toolgate.Call
	now time.Time
}

var emptyArgs = map[string]any{}

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
		id := v.c.Identity
		if id == nil {
			id = &toolgate.Identity{}
		}
		labels := id.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		return map[string]any{
			"subject": id.Subject,
			"grant":   id.Grant,
			"policy":  id.Policy,
			"labels":  labels,
		}, true
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
