package bot

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"policybot/handlers"
)

// postAES encrypts body as WeChat does in safe mode and posts it.
func postAES(t *testing.T, h *harness, body string, compat bool) (int, string) {
	t.Helper()
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(body), tAppID, tAESKey)
	if err != nil {
		t.Fatal(err)
	}
	ts := fmt.Sprint(time.Now().Unix())
	nonce := "nonce42"
	q := url.Values{
		"timestamp": {ts}, "nonce": {nonce}, "signature": {util.Signature(tToken, ts, nonce)},
		"encrypt_type": {"aes"}, "msg_signature": {util.Signature(tToken, ts, nonce, string(enc))},
	}
	envelope := `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[` + string(enc) + `]]></Encrypt></xml>`
	if compat { // compatible mode: plaintext fields next to <Encrypt>
		envelope = strings.Replace(body, "</xml>", "<Encrypt><![CDATA["+string(enc)+"]]></Encrypt></xml>", 1)
	}
	resp, err := http.Post(h.srv.URL+"?"+q.Encode(), "text/xml", strings.NewReader(envelope))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSafeModeRoundTrip(t *testing.T) {
	for _, compat := range []bool{false, true} {
		t.Run(fmt.Sprintf("compat=%v", compat), func(t *testing.T) {
			h := newHarness(t, Options{AESKey: tAESKey}, echo("回答:"))
			code, body := postAES(t, h, textXML("u1", "加密的问题", "9"+fmt.Sprint(compat)), compat)
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			var env struct {
				Encrypt, MsgSignature, Nonce string
				TimeStamp                    int64
			}
			if err := xml.Unmarshal([]byte(body), &env); err != nil || env.Encrypt == "" {
				t.Fatalf("reply is not an encrypted envelope: %s", body)
			}
			if !checkSignature(env.MsgSignature, tToken, fmt.Sprint(env.TimeStamp), env.Nonce, env.Encrypt) {
				t.Fatal("reply msg_signature does not verify")
			}
			_, plain, err := util.DecryptMsg(tAppID, env.Encrypt, tAESKey)
			if err != nil {
				t.Fatal(err)
			}
			if got := replyText(t, string(plain)); got != "回答:加密的问题" {
				t.Fatalf("decrypted reply = %q", got)
			}
		})
	}
}

func TestSafeModeRejectsTamperingAndBadCiphertext(t *testing.T) {
	h := newHarness(t, Options{AESKey: tAESKey}, echo(""))
	ts := fmt.Sprint(time.Now().Unix())
	base := url.Values{"timestamp": {ts}, "nonce": {"n"}, "signature": {util.Signature(tToken, ts, "n")}, "encrypt_type": {"aes"}}
	post := func(enc, msgSig string) int {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("msg_signature", msgSig)
		resp, err := http.Post(h.srv.URL+"?"+q.Encode(), "text/xml", strings.NewReader(`<xml><Encrypt><![CDATA[`+enc+`]]></Encrypt></xml>`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good, _ := util.EncryptMsg([]byte("0123456789abcdef"), []byte(textXML("u1", "x", "1")), tAppID, tAESKey)
	if c := post(string(good), "0000"); c != 403 {
		t.Errorf("wrong msg_signature: %d", c)
	}
	for name, enc := range map[string]string{
		"not base64":        "%%%not-base64%%%",
		"short ciphertext":  "AAAA",
		"wrong block size":  strings.Repeat("A", 44),
		"another app's key": mustEncrypt(t, "wx0000000000000000"),
	} {
		if c := post(enc, util.Signature(tToken, ts, "n", enc)); c != 400 {
			t.Errorf("%s: %d, want 400", name, c)
		}
	}
	if h.calls.Load() != 0 {
		t.Fatalf("handler ran %d times", h.calls.Load())
	}
}

func mustEncrypt(t *testing.T, appID string) string {
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(textXML("u1", "x", "1")), appID, tAESKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(enc)
}

func TestEventsAndMedia(t *testing.T) {
	var rec *harness
	rec = newHarness(t, Options{}, HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		return handlers.DefaultRouter(nil, rec.store).Handle(ctx, m)
	}))
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(samples, "inbound", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	_, body, _ := rec.post(read("event_subscribe_qrscene.official.xml"))
	if replyText(t, body) != handlers.TextWelcome {
		t.Fatalf("subscribe reply = %s", body)
	}
	ctx := context.Background()
	b, err := rec.store.GetRecord(ctx, handlers.KindFollower, "FromUser")
	var f handlers.Follower
	if err != nil || json.Unmarshal(b, &f) != nil || !f.Following || f.Scene != "123123" {
		t.Fatalf("follower after subscribe = %s %v", b, err)
	}
	_, body, _ = rec.post(read("event_unsubscribe.official.xml"))
	if body != "success" {
		t.Fatalf("unsubscribe reply = %q", body)
	}
	ids, _ := rec.store.LookupRecords(ctx, handlers.KindFollower, "following", "no")
	if len(ids) != 1 {
		t.Fatalf("unsubscribed users = %v", ids)
	}
	for _, name := range []string{"event_view.official.xml", "event_location.official.xml", "event_templatesendjobfinish.official.xml", "event_masssendjobfinish.official.xml"} {
		if _, body, _ := rec.post(read(name)); body != "success" {
			t.Errorf("%s reply = %q", name, body)
		}
	}
	ids, _ = rec.store.ListRecords(ctx, handlers.KindWxEvent, "", 0)
	if len(ids) != 4 {
		t.Errorf("%d events recorded, want 4", len(ids))
	}
	for i, name := range []string{"image.official.xml", "video.official.xml", "link.official.xml", "voice.official.xml"} {
		// the samples share one MsgId; as four messages they need their own
		msg := strings.Replace(read(name), "1234567890123456", fmt.Sprint(1000+i), 1)
		_, body, _ := rec.post(msg)
		if replyText(t, body) != handlers.TextAskTyped {
			t.Errorf("%s reply = %s", name, body)
		}
	}
}

// fakeWeChat is a WeChat API server with injectable failures.
type fakeWeChat struct {
	srv        *httptest.Server
	tokens     atomic.Int64
	sends      atomic.Int64
	failOnce   atomic.Int64 // answer the next send with this errcode once
	failAlways atomic.Int64
	status5xx  atomic.Bool
	stall      atomic.Bool
}

func newFakeWeChat(t *testing.T) *fakeWeChat {
	f := &fakeWeChat{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cgi-bin/stable_token":
			n := f.tokens.Add(1)
			fmt.Fprintf(w, `{"access_token":"TOKEN%d","expires_in":7200}`, n)
		case "/cgi-bin/message/custom/send", "/cgi-bin/menu/create":
			if f.stall.Load() {
				time.Sleep(2 * time.Second)
			}
			if f.status5xx.Load() {
				http.Error(w, "bad gateway", 502)
				return
			}
			if code := f.failOnce.Swap(0); code != 0 {
				fmt.Fprintf(w, `{"errcode":%d,"errmsg":"injected"}`, code)
				return
			}
			if code := f.failAlways.Load(); code != 0 {
				fmt.Fprintf(w, `{"errcode":%d,"errmsg":"injected"}`, code)
				return
			}
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, "bad json", 400)
				return
			}
			f.sends.Add(1)
			io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	util.SetURIModifier(func(uri string) string { return strings.Replace(uri, "https://api.weixin.qq.com", f.srv.URL, 1) })
	t.Cleanup(func() { util.SetURIModifier(nil); f.srv.Close() })
	return f
}

func newTestAPI(t *testing.T, f *fakeWeChat, timeout time.Duration) *API {
	return &API{Base: f.srv.URL, HTTP: &http.Client{Timeout: timeout},
		Tokens: NewStableTokens("wxappid", "secret", &TokenCache{Store: mustStore(t)})}
}

func TestAPIClient(t *testing.T) {
	ctx := context.Background()
	t.Run("send", func(t *testing.T) {
		f := newFakeWeChat(t)
		api := newTestAPI(t, f, time.Second)
		if err := api.SendText(ctx, "o1", "你好"); err != nil {
			t.Fatal(err)
		}
		api.SendText(ctx, "o1", "再一条")
		if f.tokens.Load() != 1 || f.sends.Load() != 2 {
			t.Fatalf("tokens %d sends %d", f.tokens.Load(), f.sends.Load())
		}
	})
	t.Run("40001 refreshes once and retries once", func(t *testing.T) {
		f := newFakeWeChat(t)
		api := newTestAPI(t, f, time.Second)
		f.failOnce.Store(ErrCodeInvalidToken)
		if err := api.SendText(ctx, "o1", "x"); err != nil {
			t.Fatal(err)
		}
		if f.tokens.Load() != 2 || f.sends.Load() != 1 {
			t.Fatalf("tokens %d sends %d", f.tokens.Load(), f.sends.Load())
		}
	})
	t.Run("40001 twice is an error, not a loop", func(t *testing.T) {
		f := newFakeWeChat(t)
		api := newTestAPI(t, f, time.Second)
		f.failAlways.Store(ErrCodeTokenExpired)
		var ae *APIError
		if err := api.SendText(ctx, "o1", "x"); !errors.As(err, &ae) || ae.Code != ErrCodeTokenExpired {
			t.Fatalf("err = %v", err)
		}
		if f.tokens.Load() != 2 {
			t.Fatalf("token fetched %d times", f.tokens.Load())
		}
	})
	for _, code := range []int{ErrCodeOutOfWindow, ErrCodeOverQuota, ErrCodeNoPermission} {
		t.Run(fmt.Sprintf("errcode %d", code), func(t *testing.T) {
			f := newFakeWeChat(t)
			api := newTestAPI(t, f, time.Second)
			f.failAlways.Store(int64(code))
			var ae *APIError
			if err := api.SendText(ctx, "o1", "x"); !errors.As(err, &ae) || ae.Code != code {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("5xx", func(t *testing.T) {
		f := newFakeWeChat(t)
		api := newTestAPI(t, f, time.Second)
		f.status5xx.Store(true)
		if err := api.SendText(ctx, "o1", "x"); err == nil || !strings.Contains(err.Error(), "502") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		f := newFakeWeChat(t)
		api := newTestAPI(t, f, 200*time.Millisecond)
		api.Tokens.Token(ctx) // fetch the token before the API stalls
		f.stall.Store(true)
		start := time.Now()
		if err := api.SendText(ctx, "o1", "x"); err == nil {
			t.Fatal("a stalled API did not time out")
		}
		if time.Since(start) > time.Second {
			t.Fatalf("took %v", time.Since(start))
		}
	})
	t.Run("menu", func(t *testing.T) {
		f := newFakeWeChat(t)
		api := newTestAPI(t, f, time.Second)
		if err := api.CreateMenu(ctx, []byte(`{"button":[{"type":"click","name":"政策问答","key":"POLICY_QA"}]}`)); err != nil {
			t.Fatal(err)
		}
	})
}
