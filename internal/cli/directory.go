package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/directory"
)

// Environment variables holding directory keys, comma-separated; they add
// to the --secret-key and --api-key flags.
const (
	envDirectorySecretKeys = "TOOLGATE_DIRECTORY_SECRET_KEYS"
	envDirectoryAPIKeys    = "TOOLGATE_DIRECTORY_API_KEYS"
)

func newDirectoryCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "directory",
		Short: "Run the reference Clerk-compatible user directory",
		Long: `directory is toolgate's reference upstream: a user service whose HTTP API is
wire-compatible with Clerk's Backend API for users (/v1/users, ...), with
Iterable-style user endpoints (/api/users/...). See docs/directory.md.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDirectoryServeCmd(a), newDirectoryMCPCmd(a))
	return cmd
}

func newDirectoryServeCmd(a *app) *cobra.Command {
	var (
		data, listen      string
		secretKeys, apiKs []string
		seed              bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the directory's HTTP API",
		Long: `serve opens (or creates) the SQLite database DIR/directory.db and serves the
directory's HTTP API on --listen (127.0.0.1:8090 by default): Clerk's Backend
API under /v1/ (Authorization: Bearer <secret key>) and Iterable-style
endpoints under /api/ (Api-Key: <api key>).

Keys come from the repeatable --secret-key and --api-key flags and from the
environment (TOOLGATE_DIRECTORY_SECRET_KEYS, TOOLGATE_DIRECTORY_API_KEYS,
comma-separated). When no key of a kind is given, one is generated and
printed. --seed fills an empty database with demo users.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The configuration's directory section, when there is a
			// configuration: flags override it, keys add up.
			dc, err := a.directoryConfig(cmd)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("data") && dc.Data != "" {
				data = dc.Data
			}
			if !cmd.Flags().Changed("listen") && dc.Listen != "" {
				listen = dc.Listen
			}
			sks := append(append(dc.SecretKeys, splitKeys(os.Getenv(envDirectorySecretKeys))...), secretKeys...)
			aks := append(append(dc.APIKeys, splitKeys(os.Getenv(envDirectoryAPIKeys))...), apiKs...)
			return a.directoryServe(cmd.Context(), data, listen, sks, aks, seed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", ".", "directory holding directory.db")
	f.StringVar(&listen, "listen", "127.0.0.1:8090", "address to listen on")
	f.StringArrayVar(&secretKeys, "secret-key", nil, "secret key accepted as 'Authorization: Bearer KEY' (repeatable)")
	f.StringArrayVar(&apiKs, "api-key", nil, "API key accepted as the Api-Key header on /api/ (repeatable)")
	f.BoolVar(&seed, "seed", false, "create demo users when the database is empty")
	return cmd
}

func splitKeys(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func randomKey(prefix string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (a *app) directoryServe(ctx context.Context, data, listen string, secretKeys, apiKeys []string, seed bool) error {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return toolgate.Errorf(toolgate.Invalid, "cannot create data directory %s: %v", data, err)
	}
	if len(secretKeys) == 0 {
		secretKeys = []string{randomKey("sk_test_")}
		fmt.Fprintf(a.stdout, "generated secret key: %s\n", secretKeys[0])
	}
	if len(apiKeys) == 0 {
		apiKeys = []string{randomKey("")}
		fmt.Fprintf(a.stdout, "generated Iterable API key: %s\n", apiKeys[0])
	}
	dbPath := filepath.Join(data, "directory.db")
	store, err := directory.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	if seed {
		n, err := directory.Seed(ctx, store)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(a.stdout, "seeded %d demo users\n", n)
		}
	}
	svc := directory.NewService(store, a.log)
	h := directory.NewHandler(svc, &directory.HandlerOptions{SecretKeys: secretKeys, APIKeys: apiKeys, Log: a.log,
		MCP: directory.NewMCPServer(svc, shortVersion())})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	srv := httpServer(h, config.Default())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(a.stdout, "toolgate directory: Clerk API http://%s/v1 (Iterable API http://%s/api, MCP http://%s/mcp), data %s\n", ln.Addr(), ln.Addr(), ln.Addr(), dbPath)
	a.log.Info("directory serving", "addr", ln.Addr().String(), "db", dbPath)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

func newDirectoryMCPCmd(a *app) *cobra.Command {
	var data string
	var seed bool
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the directory's MCP tools on stdin/stdout",
		Long: `mcp serves the directory's MCP server (GetUser, ListUsers, UpdateUser, ...,
and the Iterable-style update_user / get_user) over stdio, on the database
DIR/directory.db: the form for a gateway or client that launches its
servers as commands. Logs go to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := os.MkdirAll(data, 0o700); err != nil {
				return toolgate.Errorf(toolgate.Invalid, "cannot create data directory %s: %v", data, err)
			}
			store, err := directory.Open(ctx, filepath.Join(data, "directory.db"))
			if err != nil {
				return fmt.Errorf("opening the directory: %w", err)
			}
			defer store.Close()
			if seed {
				if _, err := directory.Seed(ctx, store); err != nil {
					return err
				}
			}
			srv := directory.NewMCPServer(directory.NewService(store, a.log), shortVersion())
			err = srv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(a.stdin), Writer: nopWriteCloser{a.stdout}})
			if err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("directory mcp: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".", "directory holding directory.db")
	cmd.Flags().BoolVar(&seed, "seed", false, "create demo users when the database is empty")
	return cmd
}

// nopWriteCloser lets a plain writer serve as a transport's output.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// directoryConfig returns the directory section of the configuration named
// by --config. A missing file is an error only when --config was given.
func (a *app) directoryConfig(cmd *cobra.Command) (config.Directory, error) {
	if _, err := os.Stat(a.configPath); err != nil {
		if f := cmd.Flag("config"); f != nil && f.Changed {
			return config.Directory{}, toolgate.Errorf(toolgate.NotFound, "config file %s not found", a.configPath)
		}
		return config.Directory{}, nil
	}
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return config.Directory{}, err
	}
	return cfg.Directory, nil
}
