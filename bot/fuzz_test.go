package bot

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"policybot/handlers"
	"policybot/store/embedded"
)

// FuzzParseInbound: any body either parses into a message with a dedup
// key or is refused; it never panics. Seeds: testdata/fuzz/FuzzParseInbound.
func FuzzParseInbound(f *testing.F) {
	f.Add([]byte(textXML("u", "问题", "1")))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := parseInbound(body)
		if err != nil {
			return
		}
		if in.validMessage() != nil {
			return
		}
		m := toMessage(in, testNow)
		if m.User == "" || in.dedupKey() == "" {
			t.Fatalf("a valid message without user or key: %+v", in)
		}
	})
}

// FuzzSafeModeWebhook drives the whole safe-mode path with fuzzed
// ciphertext and envelope: the answer is always a proper HTTP status, never
// a panic or a hang. Seeds: testdata/fuzz/FuzzSafeModeWebhook.
func FuzzSafeModeWebhook(f *testing.F) {
	good, _ := util.EncryptMsg([]byte("0123456789abcdef"), []byte(textXML("u1", "你好", "1")), tAppID, tAESKey)
	f.Add(string(good), "")
	f.Add("AAAA", "<xml>")
	st, err := embedded.Open(f.TempDir(), embedded.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	wh := NewWebhook(Options{Token: tToken, AppID: tAppID, AESKey: tAESKey, Budget: time.Second},
		HandlerFunc(func(_ context.Context, m handlers.Message) (handlers.Response, error) {
			return handlers.Response{Text: "ok"}, nil
		}), st, nil)
	defer wh.Close()
	f.Fuzz(func(t *testing.T, enc, extra string) {
		ts := fmt.Sprint(time.Now().Unix())
		q := url.Values{"timestamp": {ts}, "nonce": {"n"}, "signature": {util.Signature(tToken, ts, "n")},
			"encrypt_type": {"aes"}, "msg_signature": {util.Signature(tToken, ts, "n", enc)}}
		var body bytes.Buffer
		fmt.Fprintf(&body, "<xml><Encrypt><![CDATA[%s]]></Encrypt>%s</xml>", enc, extra)
		req := httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(), &body)
		rw := httptest.NewRecorder()
		wh.ServeHTTP(rw, req)
		switch rw.Code {
		case 200, 400, 403, 413:
		default:
			t.Fatalf("status %d", rw.Code)
		}
	})
}
