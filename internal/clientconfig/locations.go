package clientconfig

import (
	"path/filepath"
)

// Layout says where in a file its server entries are.
type Layout int

const (
	// MCPServers files keep their servers under the top-level "mcpServers"
	// (Claude Desktop, Claude Code's .mcp.json, Cursor, Windsurf, Gemini
	// CLI, Copilot CLI).
	MCPServers Layout = iota
	// ClaudeCodeUser is ~/.claude.json: user-scope servers under the
	// top-level "mcpServers" and local-scope ones under
	// "projects"/<project path>/"mcpServers".
	ClaudeCodeUser
	// VSCodeServers is VS Code's mcp.json: servers under the top-level
	// "servers", each with a "type".
	VSCodeServers
	// VSCodeSettings is VS Code's user settings.json, whose "mcp" object
	// held "servers" before mcp.json existed.
	VSCodeSettings
)

// Location is one client configuration file that may hold MCP servers.
type Location struct {
	// Client names the client: claude-desktop, claude-code, cursor,
	// vscode, windsurf, gemini, copilot.
	Client string
	// Scope is "user" for a file of the user's, "project" for one in the
	// project directory.
	Scope  string
	Path   string
	Layout Layout
}

// Dirs are the directories client files are looked for under.
type Dirs struct {
	// Home is the user's home directory.
	Home string
	// Config is the user's configuration directory (os.UserConfigDir:
	// ~/.config or $XDG_CONFIG_HOME on Linux, ~/Library/Application
	// Support on macOS, %APPDATA% on Windows).
	Config string
	// Project is the project directory whose own files (.mcp.json,
	// .cursor/mcp.json, .vscode/mcp.json, .gemini/settings.json) are read;
	// empty for none.
	Project string
}

// Locations lists the files clients read their MCP servers from, as their
// documentation gives them, in a fixed order. Files need not exist.
func Locations(d Dirs) []Location {
	var out []Location
	add := func(client, scope string, layout Layout, path ...string) {
		out = append(out, Location{Client: client, Scope: scope, Path: filepath.Join(path...), Layout: layout})
	}
	if d.Config != "" {
		add("claude-desktop", "user", MCPServers, d.Config, "Claude", "claude_desktop_config.json")
	}
	if d.Home != "" {
		add("claude-code", "user", ClaudeCodeUser, d.Home, ".claude.json")
	}
	if d.Project != "" {
		add("claude-code", "project", MCPServers, d.Project, ".mcp.json")
	}
	if d.Home != "" {
		add("cursor", "user", MCPServers, d.Home, ".cursor", "mcp.json")
	}
	if d.Project != "" {
		add("cursor", "project", MCPServers, d.Project, ".cursor", "mcp.json")
	}
	if d.Config != "" {
		add("vscode", "user", VSCodeServers, d.Config, "Code", "User", "mcp.json")
		add("vscode", "user", VSCodeSettings, d.Config, "Code", "User", "settings.json")
	}
	if d.Project != "" {
		add("vscode", "project", VSCodeServers, d.Project, ".vscode", "mcp.json")
	}
	if d.Home != "" {
		add("windsurf", "user", MCPServers, d.Home, ".codeium", "windsurf", "mcp_config.json")
		add("gemini", "user", MCPServers, d.Home, ".gemini", "settings.json")
	}
	if d.Project != "" {
		add("gemini", "project", MCPServers, d.Project, ".gemini", "settings.json")
	}
	if d.Home != "" {
		add("copilot", "user", MCPServers, d.Home, ".copilot", "mcp-config.json")
	}
	return dedupe(out)
}

// dedupe drops a location whose path an earlier one has (a project
// directory that is the home directory).
func dedupe(locs []Location) []Location {
	seen := map[string]bool{}
	out := locs[:0]
	for _, l := range locs {
		p := filepath.Clean(l.Path)
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, l)
	}
	return out
}
