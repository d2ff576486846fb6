// Command conformanceclient is the MCP client the conformance suite's
// client scenarios run (`conformance client --command`): it connects to
// the server URL it is given through toolgate's upstream OAuth client
// (upstreamauth.Source and Transport, tokens sealed in memory), lists the
// tools and calls each one without arguments. The authorization URL is
// followed by an HTTP client, as the suite's authorization servers
// redirect at once.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/upstreamauth"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "conformanceclient:", err)
		os.Exit(1)
	}
}

// scenarioContext is MCP_CONFORMANCE_CONTEXT.
type scenarioContext struct {
	Name         string `json:"name"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// PrivateKeyPEM and SigningAlgorithm are the private_key_jwt
	// client's key.
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
	// The cross-app access scenario's IdP and the user's ID token.
	IdPClientID      string `json:"idp_client_id"`
	IdPIDToken       string `json:"idp_id_token"`
	IdPTokenEndpoint string `json:"idp_token_endpoint"`
}

// follow gets authURL and follows its redirects, the last of which is the
// loopback redirect listener.
func follow(ctx context.Context, authURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("authorization ended with HTTP %d", resp.StatusCode)
	}
	return nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: conformanceclient SERVER_URL")
	}
	serverURL := args[len(args)-1]
	ctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var sc scenarioContext
	if c := getenv("MCP_CONFORMANCE_CONTEXT"); c != "" {
		if err := json.Unmarshal([]byte(c), &sc); err != nil {
			return fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
		}
	}
	scenario := getenv("MCP_CONFORMANCE_SCENARIO")
	var key upstreamauth.Key
	rand.Read(key[:])
	login := &upstreamauth.LoginOptions{
		Server: "conformance", ServerURL: serverURL,
		ClientID: sc.ClientID, ClientSecret: sc.ClientSecret,
		// The suite's client ID metadata document scenario expects this URL.
		ClientMetadataURL: "https://conformance-test.local/client-metadata.json",
		OpenURL:           follow,
		Wait:              10 * time.Second,
		Logger:            log,
	}
	if strings.Contains(scenario, "client-credentials") {
		login.Grant = upstreamauth.GrantClientCredentials
	}
	if sc.IdPTokenEndpoint != "" {
		login.Grant = upstreamauth.GrantCrossApp
		login.IdP = &upstreamauth.IdP{TokenEndpoint: sc.IdPTokenEndpoint, ClientID: sc.IdPClientID,
			IDToken: func(context.Context) (string, error) { return sc.IdPIDToken, nil }}
	}
	if sc.PrivateKeyPEM != "" {
		k, err := upstreamauth.ParseClientKey([]byte(sc.PrivateKeyPEM), "", sc.SigningAlgorithm)
		if err != nil {
			return fmt.Errorf("private_key_pem: %w", err)
		}
		login.Key = k
	}
	src := &upstreamauth.Source{
		Server: "conformance", ServerURL: serverURL,
		Vault:   &upstreamauth.Vault{Store: &upstreamauth.MemoryStore{}, Key: key},
		Machine: login, Logger: log,
	}
	hc := &http.Client{Transport: &upstreamauth.Transport{ServerURL: serverURL, Credentials: src}}
	client := mcp.NewClient(&mcp.Implementation{Name: "toolgate-upstream", Version: "conformance"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: serverURL, HTTPClient: hc, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	for _, t := range tools.Tools {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: t.Name, Arguments: map[string]any{}})
		if err != nil {
			return fmt.Errorf("tools/call %s: %w", t.Name, err)
		}
		log.Info("called", "tool", t.Name, "isError", res.IsError)
	}
	return nil
}
