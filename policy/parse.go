package policy

import (
	"gopkg.in/yaml.v3"

	"github.com/toolgate/toolgate/internal/posdoc"
)

// Limits on what Load accepts.
const (
	// MaxDocumentSize is the largest policy document Load accepts, in bytes.
	MaxDocumentSize = 1 << 20
	// MaxDepth is the deepest nesting of objects and arrays Load accepts:
	// that of every document toolgate reads (see internal/posdoc).
	MaxDepth = posdoc.MaxDepth
)

// parse turns data into a node tree with the parser of every document a
// person writes for toolgate (internal/posdoc): a document that starts
// with '{' is JSON, read strictly; anything else YAML.
func parse(data []byte) (*yaml.Node, *posError) {
	root, err := posdoc.Parse(data, posdoc.Options{StrictJSON: true})
	if err != nil {
		return nil, &posError{err.Line, err.Column, err.Message}
	}
	if root == nil {
		return nil, &posError{1, 1, "the document is empty"}
	}
	return root, nil
}

// posError is a parse error with its position.
type posError struct {
	line, col int
	msg       string
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < MaxDepth; i++ {
		n = n.Alias
	}
	return n
}
