package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"policybot/handlers"
)

type staticTokens struct{}

func (staticTokens) Token(context.Context) (string, error)   { return "T", nil }
func (staticTokens) Refresh(context.Context) (string, error) { return "T2", nil }

// Every WeChat error code a delivery can meet, through the real client
// against a fake API, maps to what the pipeline must do.
func TestErrorCodeDispositions(t *testing.T) {
	code := 0
	var last []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last, _ = io.ReadAll(r.Body)
		if code == 500 {
			http.Error(w, "down", 500)
			return
		}
		fmt.Fprintf(w, `{"errcode":%d,"errmsg":"x","msgid":42}`, code)
	}))
	defer srv.Close()
	api := &API{Base: srv.URL, Tokens: staticTokens{}}
	for c, want := range map[int]handlers.Disposition{
		43004: handlers.NotFollowing, 40003: handlers.Bury, 40037: handlers.Bury, 45009: handlers.WaitTomorrow,
		45015: handlers.GiveUp, 45047: handlers.GiveUp, 48001: handlers.GiveUp, -1: handlers.Retry, 500: handlers.Retry,
		40001: handlers.Retry, // refreshed and retried once already; still failing: retry later
	} {
		code = c
		_, err := api.SendTemplate(context.Background(), "o", "tpl", map[string]string{"thing1": "x"})
		if got := handlers.DispositionOf(err); err == nil || got != want {
			t.Errorf("errcode %d: %v → %s, want %s", c, err, got, want)
		}
		var ae *APIError
		if c != 500 && !errors.As(err, &ae) {
			t.Errorf("errcode %d: not an APIError: %v", c, err)
		}
	}
	code = 0
	if id, err := api.SendTemplate(context.Background(), "o", "tpl", map[string]string{"thing1": "这是一段超过二十个字的很长很长很长很长的提醒内容"}); err != nil || id != "42" {
		t.Errorf("success: %q %v", id, err)
	}
	var body struct {
		Data map[string]struct{ Value string } `json:"data"`
	}
	json.Unmarshal(last, &body)
	if v := []rune(body.Data["thing1"].Value); len(v) != TemplateFieldRunes || v[len(v)-1] != '…' {
		t.Errorf("field not cut to %d characters: %q", TemplateFieldRunes, string(v))
	}
}
