package policy

import (
	"fmt"
	"testing"
)

func TestUnmatched(t *testing.T) {
	echo := []KnownTool{{Name: "UpdateUser"}, {Name: "DeleteUser"}, {Name: "echo"}, {Name: "add"}}
	prefixed := []KnownTool{{Name: "clerk_UpdateUser", Prefix: "clerk_"}, {Name: "clerk_GetUser", Prefix: "clerk_"}, {Name: "docs_search", Prefix: "docs_"}}
	tests := []struct {
		name  string
		doc   string
		tools []KnownTool
		want  []string // "pointer name -> suggestion"
	}{
		{"a misspelt rule", `{"version": "1", "default": "allow", "tools": {"UpdateUsr": {}, "echo": {}}}`, echo,
			[]string{"/tools/UpdateUsr UpdateUsr -> UpdateUser"}},
		{"every name known", `{"version": "1", "default": "allow", "hide": ["DeleteUser"], "tools": {"UpdateUser": {}, "e*": {}, "@destructive": {"action": "deny"}, "*": {}}}`, echo, nil},
		{"a misspelt hide", `{"version": "1", "default": "allow", "hide": ["DeleteUsers", "echo"]}`, echo,
			[]string{"/hide/0 DeleteUsers -> DeleteUser"}},
		{"a glob matching nothing", `{"version": "1", "default": "allow", "tools": {"Ban*": {}}}`, echo, []string{"/tools/Ban* Ban* -> "}},
		{"case and separators", `{"version": "1", "default": "allow", "tools": {"update_user": {}}}`, echo, []string{"/tools/update_user update_user -> UpdateUser"}},
		{"nothing near", `{"version": "1", "default": "allow", "tools": {"create_charge": {}}}`, echo, []string{"/tools/create_charge create_charge -> "}},
		{"a missing prefix", `{"version": "1", "default": "allow", "tools": {"UpdateUser": {}}}`, prefixed, []string{"/tools/UpdateUser UpdateUser -> clerk_UpdateUser"}},
		{"another server's prefix", `{"version": "1", "default": "allow", "tools": {"docs_GetUser": {}}}`, prefixed, []string{"/tools/docs_GetUser docs_GetUser -> clerk_GetUser"}},
		{"a typo after the prefix", `{"version": "1", "default": "allow", "tools": {"clerk_GetUsr": {}}}`, prefixed, []string{"/tools/clerk_GetUsr clerk_GetUsr -> clerk_GetUser"}},
		{"Intercept's format", "version: \"1\"\nhide: [DeleteUsr]\ntools:\n  UpdateUsr:\n    rules: []\n  \"*\":\n    rules: []\n", echo,
			[]string{"/hide/0 DeleteUsr -> DeleteUser", "/tools/UpdateUsr UpdateUsr -> UpdateUser"}},
		{"no tools known", `{"version": "1", "default": "allow", "tools": {"UpdateUsr": {}}}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Load([]byte(tt.doc), "p")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range e.Unmatched(tt.tools) {
				got = append(got, fmt.Sprintf("%s %s -> %s", u.Pointer, u.Name, u.Suggestion))
				if u.Line == 0 || u.Column == 0 {
					t.Errorf("%s has no position", u.Pointer)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"UpdateUsr", "UpdateUser", 1}, {"kitten", "sitting", 3}, {"add", "sub", 3}, {"é", "e", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
