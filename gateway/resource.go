package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// ResourceMetadataPath is the well-known path of OAuth protected resource
// metadata (RFC 9728 §3). A resource with a path has its metadata at this
// path followed by the resource's path (§3.1): /mcp's at
// /.well-known/oauth-protected-resource/mcp.
const ResourceMetadataPath = "/.well-known/oauth-protected-resource"

// ProtectedResource describes the gateway to OAuth clients (RFC 9728).
type ProtectedResource struct {
	// Resource is the canonical URL of the /mcp endpoint as clients reach
	// it, e.g. https://mcp.example.com/mcp; each server's own endpoint is
	// Resource + "/" + its name. "" derives it from each request:
	// http://<Host>/mcp (https on a TLS connection), the Host having
	// passed the allowed-hosts check.
	Resource string
	// AuthorizationServers are the issuer identifiers of the
	// authorization servers whose tokens the gateway accepts.
	AuthorizationServers []string
}

// resourceMetadata is the RFC 9728 metadata document.
type resourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// resourceURL is the canonical URL of endpoint ("" for /mcp, a server's
// name for its own endpoint) as the request's client reaches it; "" when
// it cannot be told.
func (g *Gateway) resourceURL(r *http.Request, endpoint string) string {
	pr := g.opts.ProtectedResource
	if pr == nil {
		return ""
	}
	base := pr.Resource
	if base == "" {
		if r.Host == "" || !g.hostAllowed(r.Host) {
			return ""
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host + "/mcp"
	}
	if endpoint != "" {
		base = strings.TrimSuffix(base, "/") + "/" + endpoint
	}
	return base
}

// metadataURL is where the metadata of endpoint's resource is: the
// well-known path inserted between the resource URL's host and its path.
func (g *Gateway) metadataURL(r *http.Request, endpoint string) string {
	res := g.resourceURL(r, endpoint)
	if res == "" {
		return ""
	}
	u, err := url.Parse(res)
	if err != nil {
		return ""
	}
	u.Path = ResourceMetadataPath + strings.TrimSuffix(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String()
}

// ResourceMetadataHandler serves the protected resource metadata of the
// /mcp endpoint at ResourceMetadataPath and at ResourceMetadataPath+"/mcp",
// and of each server's own endpoint at ResourceMetadataPath+"/mcp/<name>"
// (also under the path of a configured Resource). It needs no token. It
// answers 404 to everything when ProtectedResource is nil.
func (g *Gateway) ResourceMetadataHandler() http.Handler {
	return http.HandlerFunc(g.serveResourceMetadata)
}

func (g *Gateway) serveResourceMetadata(w http.ResponseWriter, r *http.Request) {
	pr := g.opts.ProtectedResource
	suffix, ok := strings.CutPrefix(r.URL.Path, ResourceMetadataPath)
	if pr == nil || !ok {
		http.NotFound(w, r)
		return
	}
	if !g.hostAllowed(r.Host) {
		http.Error(w, "host not allowed", http.StatusForbidden)
		return
	}
	endpoint, ok := g.metadataEndpoint(suffix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions: // a browser client's preflight
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	res := g.resourceURL(r, endpoint)
	if res == "" {
		http.NotFound(w, r)
		return
	}
	body, err := json.Marshal(resourceMetadata{
		Resource:               res,
		AuthorizationServers:   pr.AuthorizationServers,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "toolgate",
	})
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "max-age=300")
	h.Set("Access-Control-Allow-Origin", "*") // public, and read by browser-based clients
	_, _ = w.Write(body)
}

// metadataEndpoint maps the path after ResourceMetadataPath to the
// endpoint it describes: "" and /mcp (or the configured Resource's path)
// to /mcp, those followed by "/<name>" to a configured server's endpoint.
func (g *Gateway) metadataEndpoint(suffix string) (string, bool) {
	if suffix == "" || suffix == "/" {
		return "", true
	}
	prefixes := []string{"/mcp"}
	if res := g.opts.ProtectedResource.Resource; res != "" {
		if u, err := url.Parse(res); err == nil && u.Path != "" && u.Path != "/mcp" {
			prefixes = append(prefixes, strings.TrimSuffix(u.Path, "/"))
		}
	}
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(suffix, p)
		if !ok {
			continue
		}
		if rest == "" {
			return "", true
		}
		name, ok := strings.CutPrefix(rest, "/")
		if !ok {
			continue
		}
		for _, s := range g.opts.Servers {
			if s.Name == name {
				return name, true
			}
		}
	}
	return "", false
}
