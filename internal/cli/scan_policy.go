package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/scan"
)

// recommendIn writes the recommended policy in format ("json", "yaml", or
// "" to choose by the file's extension).
func recommendIn(results []scan.ServerResult, format, file string) ([]byte, error) {
	if format == "" {
		switch strings.ToLower(filepath.Ext(file)) {
		case ".yaml", ".yml":
			format = "yaml"
		default:
			format = "json"
		}
	}
	switch format {
	case "json":
		return scan.Recommend(results)
	case "yaml", "intercept":
		return scan.RecommendIntercept(results)
	}
	return nil, toolgate.Errorf(toolgate.Invalid, "invalid --policy-format %q: use json or yaml", format)
}

// scanItems checks what else of a server a model reads besides its tools:
// the instructions of its initialize answer, and every page of its
// prompts, resources and resource templates when it offers them. It
// returns the items in which the checks found something. A list the server
// fails to answer is left out: the tools are what the scan is for.
func scanItems(ctx context.Context, cs *mcp.ClientSession, server string) []scan.ItemReport {
	var out []scan.ItemReport
	keep := func(r scan.ItemReport) {
		if len(r.Signals) > 0 {
			out = append(out, r)
		}
	}
	init := cs.InitializeResult()
	if init == nil {
		return nil
	}
	if init.Instructions != "" {
		keep(scan.CheckInstructions(server, init.Instructions, nil))
	}
	caps := init.Capabilities
	if caps == nil {
		return out
	}
	check := func(kind string, v any) bool {
		raw, err := json.Marshal(v)
		if err != nil {
			return false
		}
		keep(scan.CheckItem(kind, server, raw, nil))
		return true
	}
	if caps.Prompts != nil {
		for p, err := range cs.Prompts(ctx, nil) {
			if err != nil || !check("prompt", p) {
				break
			}
		}
	}
	if caps.Resources != nil {
		for r, err := range cs.Resources(ctx, nil) {
			if err != nil || !check("resource", r) {
				break
			}
		}
		for r, err := range cs.ResourceTemplates(ctx, nil) {
			if err != nil || !check("resource template", r) {
				break
			}
		}
	}
	return out
}
