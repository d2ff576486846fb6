package cli

import (
	"path/filepath"
	"strings"

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
