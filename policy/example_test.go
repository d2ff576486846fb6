package policy_test

import (
	"fmt"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/policy"
)

func Example() {
	doc := []byte(`{
	  "version": "1",
	  "default": "deny",
	  "tools": {
	    "UpdateUser": {
	      "limits": [{"counter": "updateuser_rate", "window": "minute", "max": 30, "scope": "grant"}],
	      "args": {"properties": {"skip_password_checks": {"const": false}}}
	    }
	  }
	}`)
	e, err := policy.Load(doc, "policy.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range []*toolgate.Call{
		{Tool: "UpdateUser", Args: map[string]any{"first_name": "Ada"}},
		{Tool: "UpdateUser", Args: map[string]any{"skip_password_checks": true}},
		{Tool: "DeleteUser"},
	} {
		d, limits := e.Decide(c)
		fmt.Printf("%s: %s %s %q limits=%d\n", c.Tool, d.Action, d.Rule, d.Reason, len(limits))
	}
	// Output:
	// UpdateUser: allow /tools/UpdateUser "" limits=1
	// UpdateUser: deny /tools/UpdateUser/args/properties/skip_password_checks/const "argument /skip_password_checks: value must be false" limits=0
	// DeleteUser: deny (default deny) "tool \"DeleteUser\" is not allowed by the policy (default deny)" limits=0
}

func ExampleLoad_errors() {
	_, err := policy.Load([]byte("version: \"2\"\ndefault: maybe\ntools:\n  a: {limits: [{window: fortnight, max: 1}]}\n"), "policy.yaml")
	fmt.Println(err)
	// Output:
	// policy.yaml:1:10: /version: unsupported version "2": only "1" is recognised
	// policy.yaml:2:10: /default: default must be "allow" or "deny", not "maybe"
	// policy.yaml:4:25: /tools/a/limits/0/window: invalid window "fortnight": use "second", "minute", "hour", "day", a number of seconds or a duration such as "90s"
}
