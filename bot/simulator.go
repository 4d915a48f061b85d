package bot

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

//go:embed simulator.html
var simulatorHTML []byte

// Simulator serves /simulator: a phone-like chat page that signs each
// message exactly as WeChat does and posts it to the real callback. It
// hands the token to the browser, so it is only for local mode.
type Simulator struct {
	Token  string
	Path   string // the callback path, e.g. /wechat
	Outbox *Outbox
	// Users are demo people the tester can switch to (openid → what the
	// page shows, e.g. 帮扶责任人 王建国), besides the page's own villager.
	Users []DemoUser
}

// DemoUser is a person of the local demo roster, bound to an openid.
type DemoUser struct {
	OpenID string `json:"openid"`
	Label  string `json:"label"`
}

// ServeHTTP serves the page, its settings and the outbox of late answers.
func (s *Simulator) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/simulator":
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		rw.Write(simulatorHTML)
	case "/simulator/config":
		writeJSON(rw, map[string]any{"token": s.Token, "path": s.Path, "users": s.Users})
	case "/simulator/outbox":
		user := r.URL.Query().Get("user")
		if user == "" {
			http.Error(rw, "user required", http.StatusBadRequest)
			return
		}
		msgs, err := s.Outbox.Drain(r.Context(), user)
		if err != nil {
			http.Error(rw, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		writeJSON(rw, msgs)
	default:
		http.NotFound(rw, r)
	}
}

func writeJSON(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(rw)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
