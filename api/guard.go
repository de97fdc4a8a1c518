package api

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
)

// The browser guard keeps web pages out of lamb. A page the developer opens
// can send "simple" requests (POST with text/plain, no custom headers) to
// 127.0.0.1 without any CORS preflight, and a DNS-rebinding page can read the
// answers under its own host name. AWS clients send neither an Origin nor a
// Sec-Fetch-Site header and address lamb by the host they were given, so
// refusing both cases costs them nothing.
//
// Function URLs are exempt from the Origin check: they are web endpoints,
// answered with the CORS configuration of the URL, as on AWS.

// guard reports whether r may be served; when not, it has answered w.
// Requests with a verified signature (--credentials) pass the Host check: a
// rebinding page cannot sign.
func (s *Server) guard(w http.ResponseWriter, r *http.Request, functionURL, signed bool) bool {
	if !signed && !s.hostAllowed(r.Host) {
		writeError(w, newError("AccessDeniedException",
			"lamb refuses requests for Host %q, which is not an address it listens on (a page rebinding its DNS name to lamb would look like this); to allow it, start lamb with --allow-host %s",
			r.Host, allowName(r.Host)))
		return false
	}
	if functionURL {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		// Browsers that send no Origin (navigations, no-cors GETs) still say
		// where the request comes from.
		switch r.Header.Get("Sec-Fetch-Site") {
		case "cross-site", "same-site":
			writeError(w, newError("AccessDeniedException",
				"lamb refuses requests from web pages of other sites (Sec-Fetch-Site: %s); to allow a page, start lamb with --allow-origin <its origin>",
				r.Header.Get("Sec-Fetch-Site")))
			return false
		}
		return true
	}
	if sameOrigin(origin, r.Host) {
		return true
	}
	if !s.originAllowed(origin) {
		writeError(w, newError("AccessDeniedException",
			"lamb refuses requests from web pages: Origin %q is not allowed; to allow it, start lamb with --allow-origin %s",
			origin, origin))
		return false
	}
	// An origin the user allowed gets CORS answers, so a page there can read them.
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "x-amzn-requestid,x-amzn-errortype,x-amz-function-error,x-amz-log-result,x-amz-executed-version")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET,HEAD,POST,PUT,DELETE,PATCH")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusOK)
		return false
	}
	return true
}

func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether origin names the host (and port) the request was
// sent to: a page lamb itself served.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null" (sandboxed frames, file://) is never lamb's own
	}
	return strings.EqualFold(withDefaultPort(u.Host, u.Scheme), withDefaultPort(host, "http"))
}

func withDefaultPort(hostport, scheme string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	if scheme == "https" {
		return net.JoinHostPort(strings.Trim(hostport, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), "80")
}

// hostName is the host part of a Host header, lower case, without brackets.
func hostName(host string) string {
	return strings.ToLower(strings.Trim(trimHostPort(host), "[]"))
}

// allowName is the name --allow-host must give for host: the host name, or
// for a function URL host the name it is under.
func allowName(host string) string {
	name := hostName(host)
	if _, _, ok := urlHostID(name); ok {
		name = strings.SplitN(name, ".", 4)[3]
	}
	return name
}

// hostAllowed reports whether a Host header names lamb: a loopback name or
// address, an address lamb listens on (any address of this machine when it
// listens on all of them), a name allowed by --allow-host, or a function URL
// host under one of those.
func (s *Server) hostAllowed(host string) bool {
	name := allowName(host)
	if name == "" {
		return true // HTTP/1.0 without Host: no browser sends that
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true // resolved to loopback by the browser itself (RFC 6761), never rebound
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, h := range s.cfg.AllowedHosts {
		if h == "*" || strings.EqualFold(h, name) {
			return true
		}
	}
	for _, l := range s.cfg.ListenHosts {
		if strings.EqualFold(l, name) {
			return true
		}
		if ip := net.ParseIP(l); ip != nil && ip.IsUnspecified() && isMachineName(name) {
			return true
		}
	}
	return false
}

// isMachineName reports whether name is an address of one of this machine's
// interfaces or its host name: what a client reaches lamb at when it listens
// on all addresses.
func isMachineName(name string) bool {
	if hn, err := os.Hostname(); err == nil && strings.EqualFold(hn, name) {
		return true
	}
	ip := net.ParseIP(name)
	if ip == nil {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	return slices.ContainsFunc(addrs, func(a net.Addr) bool {
		n, ok := a.(*net.IPNet)
		return ok && n.IP.Equal(ip)
	})
}
