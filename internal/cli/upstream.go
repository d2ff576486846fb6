package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/internal/upstreamauth"
	upstreamsqlite "github.com/toolgate/toolgate/internal/upstreamauth/sqlite"
)

func newUpstreamCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upstream",
		Short: "Log in to the OAuth authorization servers of upstream servers",
		Long: `Upstream servers with oauth: in the configuration get their bearer tokens
from their OAuth authorization server. login obtains one (in the browser, or
with client credentials), logout forgets it, status shows what is stored.
Tokens are kept in the store, sealed with the key of oauth_key_file (or
TOOLGATE_OAUTH_KEY).`,
	}
	cmd.AddCommand(newUpstreamLoginCmd(a), newUpstreamLogoutCmd(a), newUpstreamStatusCmd(a))
	return cmd
}

// oauthServer returns the configuration's server name, which must have
// oauth settings.
func oauthServer(cfg *config.Config, name string) (*config.Server, error) {
	s, ok := cfg.Servers[name]
	if !ok {
		return nil, toolgate.Errorf(toolgate.NotFound, "%s: no server %q (servers: %s)", cfg.File, name, strings.Join(cfg.ServerNames, ", "))
	}
	if s.OAuth == nil {
		return nil, toolgate.Errorf(toolgate.Invalid, "%s: server %q has no oauth settings: add `oauth: {}` under it to log in with OAuth", cfg.File, name)
	}
	return s, nil
}

// openVault opens the store's upstream tokens with the configured key.
func (a *app) openVault(ctx context.Context, cfg *config.Config) (*upstreamauth.Vault, func(), error) {
	if cfg.StorePath() == "" {
		return nil, nil, toolgate.Errorf(toolgate.Invalid, "%s: store %q: only sqlite:// is available in this build", cfg.File, cfg.Store)
	}
	key, err := upstreamauth.LoadKey(cfg.OAuthKeyFile, os.Getenv)
	if err != nil {
		return nil, nil, toolgate.Errorf(toolgate.Invalid, "%s: %v", cfg.File, err)
	}
	if cfg.OAuthKeyFile != "" {
		if fi, err := os.Stat(cfg.OAuthKeyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			a.log.Warn("the oauth key file is readable by others than its owner: chmod 600 it", "file", cfg.OAuthKeyFile, "mode", fi.Mode().Perm().String())
		}
	}
	st, err := upstreamsqlite.Open(ctx, cfg.StorePath(), a.log)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: opening the upstream tokens in %s: %w", cfg.File, cfg.StorePath(), err)
	}
	return &upstreamauth.Vault{Store: st, Key: key}, func() { st.Close() }, nil
}

// loginOptions is what the configuration says of logging in to server
// name. The client secret of client_secret_file is read here.
func (a *app) loginOptions(cfg *config.Config, name string) (upstreamauth.LoginOptions, error) {
	s := cfg.Servers[name]
	o := s.OAuth
	secret := o.ClientSecret
	if o.ClientSecretFile != "" {
		var err error
		if secret, err = readSecret(o.ClientSecretFile); err != nil {
			return upstreamauth.LoginOptions{}, toolgate.Errorf(toolgate.Invalid, "%s: servers.%s.oauth.client_secret_file: %v", cfg.File, name, err)
		}
	}
	var key *upstreamauth.ClientKey
	if o.PrivateKeyFile != "" {
		var err error
		if key, err = upstreamauth.LoadClientKey(o.PrivateKeyFile, o.KeyID, o.SigningAlg); err != nil {
			return upstreamauth.LoginOptions{}, toolgate.Errorf(toolgate.Invalid, "%s: servers.%s.oauth.private_key_file: %v", cfg.File, name, err)
		}
		if fi, err := os.Stat(o.PrivateKeyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			a.log.Warn("an oauth private key file is readable by others than its owner: chmod 600 it", "server", name, "file", o.PrivateKeyFile, "mode", fi.Mode().Perm().String())
		}
	}
	var idp *upstreamauth.IdP
	if o.IdP != nil {
		var err error
		if idp, err = loginIdP(o.IdP); err != nil {
			return upstreamauth.LoginOptions{}, toolgate.Errorf(toolgate.Invalid, "%s: servers.%s.oauth.idp.client_secret_file: %v", cfg.File, name, err)
		}
	}
	return upstreamauth.LoginOptions{
		Server: name, ServerURL: s.URL, Grant: o.Grant, IdP: idp,
		ClientID: o.ClientID, ClientSecret: secret, ClientMetadataURL: o.ClientMetadataURL,
		Key: key, AuthMethod: o.TokenEndpointAuth,
		Scopes: o.Scopes, RedirectPort: o.RedirectPort,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Logger:     a.log,
		Now:        a.now,
	}, nil
}

// machineGrant says whether grant obtains tokens with no person
// involved, so that serve asks for them by itself.
func machineGrant(grant string) bool {
	return grant == config.GrantClientCredentials || grant == config.GrantCrossApp
}

// loginIdP is the identity provider of cross-app access; its client
// secret file is read here, the ID token for each exchange.
func loginIdP(c *config.OAuthIdP) (*upstreamauth.IdP, error) {
	idp := &upstreamauth.IdP{TokenEndpoint: c.TokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret}
	if c.ClientSecretFile != "" {
		secret, err := readSecret(c.ClientSecretFile)
		if err != nil {
			return nil, err
		}
		idp.ClientSecret = secret
	}
	file, env := c.IDTokenFile, c.IDTokenEnv
	idp.IDToken = func(context.Context) (string, error) {
		if env != "" {
			v := strings.TrimSpace(os.Getenv(env))
			if v == "" {
				return "", fmt.Errorf("environment variable %s is empty", env)
			}
			return v, nil
		}
		return readIDToken(file)
	}
	return idp, nil
}

// readIDToken reads the ID token in file, at most
// upstreamauth.MaxIDToken bytes. Errors never quote it.
func readIDToken(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, upstreamauth.MaxIDToken+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	if len(b) > upstreamauth.MaxIDToken {
		return "", fmt.Errorf("%s is larger than %d bytes", file, upstreamauth.MaxIDToken)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", file)
	}
	return v, nil
}

// upstreamCredentials gives every oauth server of cfg a token source over
// the store; close releases the store. A configuration without oauth
// servers opens nothing.
func (a *app) upstreamCredentials(ctx context.Context, cfg *config.Config) (map[string]upstreamauth.Credentials, func(), error) {
	var names []string
	for _, name := range cfg.ServerNames {
		if cfg.Servers[name].OAuth != nil {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, func() {}, nil
	}
	vault, closeVault, err := a.openVault(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]upstreamauth.Credentials{}
	for _, name := range names {
		src := &upstreamauth.Source{Server: name, ServerURL: cfg.Servers[name].URL, Vault: vault, Logger: a.log, Now: a.now,
			HTTPClient: &http.Client{Timeout: 30 * time.Second}}
		if oc := cfg.Servers[name].OAuth; machineGrant(oc.Grant) || oc.PrivateKeyFile != "" {
			o, err := a.loginOptions(cfg, name)
			if err != nil {
				closeVault()
				return nil, nil, err
			}
			if machineGrant(oc.Grant) {
				src.Machine = &o
			}
			src.Key = o.Key
		}
		out[name] = src
	}
	return out, closeVault, nil
}

func newUpstreamLoginCmd(a *app) *cobra.Command {
	var noBrowser bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Obtain and store the OAuth token of an upstream server",
		Long: `login discovers the authorization server of server NAME from its 401
answer, registers toolgate with it when no client_id is configured, and
obtains a token: with grant authorization_code it prints the authorization
URL and opens it in the browser (not with --no-browser), then waits for the
redirect to a listener on 127.0.0.1; with client_credentials it asks the
token endpoint directly. The token is stored sealed; serve uses and
refreshes it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			name := args[0]
			if _, err := oauthServer(cfg, name); err != nil {
				return err
			}
			o, err := a.loginOptions(cfg, name)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			vault, closeVault, err := a.openVault(ctx, cfg)
			if err != nil {
				return err
			}
			defer closeVault()
			o.Wait = wait
			o.OpenURL = func(ctx context.Context, u string) error {
				fmt.Fprintf(a.stdout, "Open this URL in a browser to authorize toolgate to reach %s:\n\n  %s\n\nWaiting for the authorization...\n", name, u)
				if !noBrowser {
					if err := openBrowser(ctx, u); err != nil {
						a.log.Debug("no browser opened", "err", err)
					}
				}
				return nil
			}
			t, err := upstreamauth.Login(ctx, o)
			if err != nil {
				return toolgate.Errorf(toolgate.Unavailable, "upstream %s: login failed: %v", name, err)
			}
			if err := vault.Save(ctx, t); err != nil {
				return fmt.Errorf("upstream %s: storing the token: %w", name, err)
			}
			fmt.Fprintf(a.stdout, "Logged in to %s (authorization server %s%s).\n", name, t.Issuer, describeExpiry(t, a.clock()))
			return nil
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the authorization URL without opening a browser")
	cmd.Flags().DurationVar(&wait, "timeout", 5*time.Minute, "how long to wait for the authorization")
	return cmd
}

func (a *app) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

func describeExpiry(t *upstreamauth.Token, now time.Time) string {
	s := ""
	if t.Scope != "" {
		s += ", scope " + t.Scope
	}
	if !t.Expiry.IsZero() {
		s += ", token expires in " + t.Expiry.Sub(now).Round(time.Second).String()
	}
	if t.RefreshToken != "" {
		s += ", renewable"
	}
	return s
}

// openBrowser asks the desktop to open u.
func openBrowser(ctx context.Context, u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", u)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", u)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	return cmd.Start()
}

func newUpstreamLogoutCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "logout NAME",
		Short: "Forget the stored OAuth token of an upstream server",
		Long: `logout deletes the stored token (and client registration) of server NAME.
It does not revoke the token at the authorization server.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			name := args[0]
			if _, ok := cfg.Servers[name]; !ok {
				return toolgate.Errorf(toolgate.NotFound, "%s: no server %q", cfg.File, name)
			}
			if cfg.StorePath() == "" {
				return toolgate.Errorf(toolgate.Invalid, "%s: store %q: only sqlite:// is available in this build", cfg.File, cfg.Store)
			}
			st, err := upstreamsqlite.Open(cmd.Context(), cfg.StorePath(), a.log)
			if err != nil {
				return err
			}
			defer st.Close()
			had, err := st.Delete(cmd.Context(), name)
			if err != nil {
				return err
			}
			if had {
				fmt.Fprintf(a.stdout, "Logged out of %s: its token is deleted.\n", name)
			} else {
				fmt.Fprintf(a.stdout, "%s had no stored token.\n", name)
			}
			return nil
		},
	}
}

func newUpstreamStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the OAuth state of every upstream server with oauth settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			var names []string
			for _, n := range cfg.ServerNames {
				if cfg.Servers[n].OAuth != nil {
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				fmt.Fprintln(a.stdout, "No server has oauth settings.")
				return nil
			}
			ctx := cmd.Context()
			vault, closeVault, verr := a.openVault(ctx, cfg)
			if verr == nil {
				defer closeVault()
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVER\tGRANT\tSTATE")
			now := a.clock()
			for _, n := range names {
				grant := cfg.Servers[n].OAuth.Grant
				state := ""
				switch {
				case verr != nil:
					state = "unknown: " + verr.Error()
				default:
					t, err := vault.Load(ctx, n)
					switch {
					case errors.Is(err, upstreamauth.ErrNoToken) && machineGrant(grant):
						state = "no token yet; serve obtains one"
					case errors.Is(err, upstreamauth.ErrNoToken):
						state = "not logged in: run toolgate upstream login " + n
					case err != nil:
						state = err.Error()
					case !t.Expiry.IsZero() && now.After(t.Expiry) && t.RefreshToken == "" && !machineGrant(grant):
						state = "token expired: run toolgate upstream login " + n
					default:
						state = "logged in to " + t.Issuer + describeExpiry(t, now)
						if t.Resource != "" && upstreamauth.Canonical(t.Resource) != upstreamauth.Canonical(cfg.Servers[n].URL) && !strings.HasPrefix(upstreamauth.Canonical(cfg.Servers[n].URL), upstreamauth.Canonical(t.Resource)+"/") {
							state = "token is for " + t.Resource + ", not " + cfg.Servers[n].URL + ": run toolgate upstream login " + n
						}
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", n, grant, state)
			}
			return tw.Flush()
		},
	}
}

// readSecret reads a secret file: its content without surrounding white
// space, which must not be empty. The secret is in no error.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

func readableSecret(path string) error {
	_, err := readSecret(path)
	return err
}
