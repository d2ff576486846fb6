package config_test

import (
	"fmt"
	"os"

	"github.com/toolgate/toolgate/config"
)

func ExampleParse() {
	os.Setenv("DOCS_TOKEN", "secret")
	c, err := config.Parse([]byte(`
servers:
  clerk:
    command: [node, local-server.js]
  docs:
    url: http://127.0.0.1:9000/mcp
    headers: {Authorization: "Bearer ${DOCS_TOKEN}"}
policies:
  default: policy.json
`), "/etc/toolgate/toolgate.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range c.ServerNames {
		fmt.Printf("%s: prefix %q\n", name, c.ToolPrefix(name))
	}
	fmt.Println(c.Servers["docs"].Headers["Authorization"])
	fmt.Println(c.PolicyPath("default"))
	fmt.Println(c.Listen, c.Auth, c.UpstreamTimeout)
	// Output:
	// clerk: prefix "clerk_"
	// docs: prefix "docs_"
	// Bearer secret
	// /etc/toolgate/policy.json
	// 127.0.0.1:8080 grants 30s
}

func ExampleErrorList() {
	_, err := config.Parse([]byte(`
listen: 127.0.0.1:8080
servers:
  clerk:
    comand: [node, local-server.js]
auth: oauth
`), "toolgate.yaml")
	fmt.Println(err)
	// Output:
	// toolgate.yaml:5:5: servers.clerk: unknown key "comand" (did you mean "command"?)
	// toolgate.yaml:6:7: auth: must be "none" or "grants", not "oauth"
}
