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

func TestMassSendText(t *testing.T) {
	var got struct {
		ToUser  []string `json:"touser"`
		MsgType string   `json:"msgtype"`
		Text    struct{ Content string }
	}
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		json.NewDecoder(r.Body).Decode(&got)
		if len(got.ToUser) < 2 {
			io.WriteString(w, `{"errcode":40130,"errmsg":"invalid openid list size, at least two openid"}`)
			return
		}
		io.WriteString(w, `{"errcode":0,"errmsg":"send job submission success","msg_id":34182,"msg_data_id":206227730}`)
	}))
	defer srv.Close()
	api := &API{Base: srv.URL, Tokens: staticTokens{}}
	id, err := api.MassSendText(context.Background(), []string{"o1", "o2"}, "【通知】停水")
	if err != nil || id != "34182" || path != "/cgi-bin/message/mass/send" || got.MsgType != "text" || got.Text.Content != "【通知】停水" {
		t.Errorf("mass send: %q %v %s %+v", id, err, path, got)
	}
	var ae *APIError
	if _, err := api.MassSendText(context.Background(), []string{"o1"}, "x"); !errors.As(err, &ae) || ae.Code != 40130 {
		t.Errorf("one openid: %v", err)
	}
}
