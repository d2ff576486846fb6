package gateway_test

import (
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/approval"
)

// interceptApproval is an Intercept policy whose DeleteUser needs a
// human's approval once its other rule passes.
const interceptApproval = `version: "1"
default: deny
tools:
  UpdateUser:
    rules: []
  DeleteUser:
    rules:
      - name: "a human approves deletions"
        action: require_approval
        approval_timeout: 300ms
      - name: "known users only"
        conditions: [{path: args.user_id, op: regex, value: "^u"}]
        on_deny: "Only u ids can be deleted"
`

// Intercept's action require_approval is toolgate's approve: the call is
// held until a human approves it (then forwarded), a call another rule
// refuses is never put to a human, and approval_timeout is how long the
// request stays open.
func TestInterceptRequireApproval(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	env := newApprovalsEnv(t, interceptApproval, m)
	type result struct {
		res *mcp.CallToolResult
		err error
	}
	call := func(args map[string]any) <-chan result {
		ch := make(chan result, 1)
		go func() {
			res, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
			ch <- result{res, err}
		}()
		return ch
	}

	done := call(map[string]any{"user_id": "u1"})
	p := env.pending(t)
	if p["tool"] != "DeleteUser" || p["rule"] != "/tools/DeleteUser/rules/0" {
		t.Fatalf("pending approval: %v", p)
	}
	if env.echo.Calls("DeleteUser") != 0 {
		t.Fatal("the call reached the upstream before approval")
	}
	if code := env.decide(t, p["id"].(string), "approve", ""); code != 200 {
		t.Fatalf("approve: HTTP %d", code)
	}
	r := <-done
	if r.err != nil || r.res.IsError || textOf(r.res) != "deleted u1" || env.echo.Calls("DeleteUser") != 1 {
		t.Fatalf("approved call: %v %+v", r.err, r.res)
	}

	// Refused by the next rule: nobody is asked.
	r = <-call(map[string]any{"user_id": "x1"})
	if r.err != nil || !r.res.IsError || textOf(r.res) != "[POLICY DENIED] Only u ids can be deleted" {
		t.Fatalf("refused call: %v %+v", r.err, r.res)
	}
	// Nobody answers within approval_timeout: the request expires.
	r = <-call(map[string]any{"user_id": "u3"})
	if r.err != nil || !r.res.IsError || !strings.Contains(textOf(r.res), "nobody approved the call within 300ms") {
		t.Fatalf("timed-out call: %v %+v", r.err, r.res)
	}
	if env.echo.Calls("DeleteUser") != 1 {
		t.Error("a refused call reached the upstream")
	}
	// A tool without the rule is not held.
	res, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: map[string]any{"user_id": "u1"}})
	if err != nil || res.IsError || textOf(res) != "updated u1" {
		t.Fatalf("UpdateUser: %v %q", err, textOf(res))
	}
}
