package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"policybot/store/embedded"
)

func TestWeComSend(t *testing.T) {
	var mu sync.Mutex
	tokens, lookups := 0, 0
	var sent []string
	expireOnce := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/cgi-bin/gettoken":
			tokens++
			if r.URL.Query().Get("corpsecret") != "s3cret" {
				io.WriteString(w, `{"errcode":40001,"errmsg":"invalid secret"}`)
				return
			}
			fmt.Fprintf(w, `{"errcode":0,"access_token":"tok%d","expires_in":7200}`, tokens)
		case "/cgi-bin/user/getuserid":
			lookups++
			var m struct{ Mobile string }
			json.Unmarshal(body, &m)
			if m.Mobile == "13800000001" {
				io.WriteString(w, `{"errcode":0,"userid":"wangjianguo"}`)
			} else {
				io.WriteString(w, `{"errcode":46004,"errmsg":"user not exist"}`)
			}
		case "/cgi-bin/message/send":
			if expireOnce {
				expireOnce = false
				io.WriteString(w, `{"errcode":42001,"errmsg":"expired"}`)
				return
			}
			var m struct {
				ToUser  string `json:"touser"`
				AgentID int    `json:"agentid"`
				Text    struct{ Content string }
			}
			json.Unmarshal(body, &m)
			sent = append(sent, fmt.Sprintf("%s/%d/%s/%s", m.ToUser, m.AgentID, m.Text.Content, r.URL.Query().Get("access_token")))
			io.WriteString(w, `{"errcode":0}`)
		}
	}))
	defer srv.Close()
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := &WeCom{Base: srv.URL, CorpID: "corp", Secret: "s3cret", AgentID: 1000002, Users: st}
	ctx := context.Background()
	if err := w.SendWeCom(ctx, "13800000001", "【走访提醒】…"); err != nil {
		t.Fatal(err)
	}
	if err := w.SendWeCom(ctx, "13800000001", "again"); err != nil {
		t.Fatal(err)
	}
	if err := w.SendWeCom(ctx, "13900000000", "x"); !ErrNotInCorp(err) {
		t.Errorf("unknown mobile: %v", err)
	}
	if err := w.SendWeCom(ctx, "13900000000", "x"); !ErrNotInCorp(err) {
		t.Errorf("unknown mobile, cached: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "wangjianguo/1000002/【走访提醒】…/tok2 wangjianguo/1000002/again/tok2"
	if strings.Join(sent, " ") != want {
		t.Errorf("sent %v, want %s", sent, want)
	}
	if tokens != 2 || lookups != 2 {
		t.Errorf("%d token fetches (want 2: one refresh after 42001), %d lookups (want 2: cached)", tokens, lookups)
	}
	bad := &WeCom{Base: srv.URL, CorpID: "corp", Secret: "wrong", HTTP: &http.Client{Timeout: time.Second}}
	if err := bad.SendWeCom(ctx, "13800000001", "x"); err == nil || ErrNotInCorp(err) {
		t.Errorf("a wrong secret: %v", err)
	}
}
