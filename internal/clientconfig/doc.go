// Package clientconfig finds, reads and rewrites the MCP server lists of
// MCP clients (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf,
// Gemini CLI, Copilot CLI), keeps byte-for-byte backups of what it changes
// and restores them. It is what `toolgate init` edits client files with.
//
// A rewrite changes only the server entries it is given: every other byte
// of the file (unknown keys, their order, formatting, other entries) stays
// as it was, and inside a rewritten entry only "command" and "args" change.
package clientconfig
