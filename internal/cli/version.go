package cli

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release version; release builds set it with
// -ldflags "-X github.com/toolgate/toolgate/internal/cli.version=v1.2.3".
var version = "0.1.0-dev"

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print toolgate's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(a.stdout, versionString())
			return err
		},
	}
}

// shortVersion is the version alone: the module version when the binary was
// built from a tagged module (go install ...@v1.2.3) and version was not
// set at link time, else version. The gateway reports it as serverInfo.
func shortVersion() string {
	if version == "0.1.0-dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return version
}

// versionString is "toolgate VERSION (commit REV, GOVERSION OS/ARCH)", the
// commit when the build recorded one.
func versionString() string {
	v, commit := shortVersion(), ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if commit != "" && dirty {
			commit += "+dirty"
		}
	}
	extra := goruntime.Version() + " " + goruntime.GOOS + "/" + goruntime.GOARCH
	if commit != "" {
		extra = "commit " + commit + ", " + extra
	}
	return fmt.Sprintf("toolgate %s (%s)", v, extra)
}
