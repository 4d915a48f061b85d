package bot

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/silenceper/wechat/v2/util"

	"policybot/handlers"
	"policybot/knowledge"
	"policybot/store/embedded"
)

var testNow = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

const (
	tToken  = "testtoken"
	tAppID  = "wxb11529c136998cb6"
	tAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// recSender records customer-service sends and can fail them.
type recSender struct {
	mu   sync.Mutex
	sent []string
	fail error
}

func (r *recSender) SendText(_ context.Context, openid, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.sent = append(r.sent, openid+"|"+text)
	return nil
}

func (r *recSender) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

type harness struct {
	t     *testing.T
	wh    *Webhook
	srv   *httptest.Server
	send  *recSender
	m     *Metrics
	store *embedded.Store
	calls atomic.Int64
	now   time.Time
}

// newHarness serves a webhook whose handler is h (counted).
func newHarness(t *testing.T, o Options, h Handler) *harness {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := &harness{t: t, send: &recSender{}, store: st, now: time.Now()}
	hs.m = NewMetrics(prometheus.NewRegistry())
	o.Token, o.Metrics = tToken, hs.m
	if o.AppID == "" {
		o.AppID = tAppID
	}
	counted := HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		hs.calls.Add(1)
		return h.Handle(ctx, m)
	})
	hs.wh = NewWebhook(o, counted, st, hs.send)
	hs.srv = httptest.NewServer(hs.wh)
	t.Cleanup(func() { hs.srv.Close(); hs.wh.Close(); st.Close() })
	return hs
}

// HandlerFunc adapts a function to Handler (tests only need it).
type HandlerFunc func(ctx context.Context, m handlers.Message) (handlers.Response, error)

func (f HandlerFunc) Handle(ctx context.Context, m handlers.Message) (handlers.Response, error) {
	return f(ctx, m)
}

func echo(text string) Handler {
	return HandlerFunc(func(_ context.Context, m handlers.Message) (handlers.Response, error) {
		return handlers.Response{Text: text + m.Text, Answered: true}, nil
	})
}

func signedURL(base string, ts int64, extra url.Values) string {
	nonce := fmt.Sprintf("n%d", ts%100000)
	q := url.Values{"timestamp": {fmt.Sprint(ts)}, "nonce": {nonce}, "signature": {util.Signature(tToken, fmt.Sprint(ts), nonce)}, "openid": {"u1"}}
	for k, v := range extra {
		q[k] = v
	}
	return base + "?" + q.Encode()
}

func textXML(user, content, msgID string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>`, user, content, msgID)
}

func (h *harness) post(body string) (int, string, time.Duration) {
	h.t.Helper()
	start := time.Now()
	resp, err := http.Post(signedURL(h.srv.URL, time.Now().Unix(), nil), "text/xml", strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// replyText extracts Content from a passive text reply.
func replyText(t *testing.T, body string) string {
	t.Helper()
	var r struct {
		MsgType string `xml:"MsgType"`
		Content string `xml:"Content"`
	}
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	return r.Content
}

func TestURLVerification(t *testing.T) {
	h := newHarness(t, Options{}, echo(""))
	resp, _ := http.Get(signedURL(h.srv.URL, time.Now().Unix(), url.Values{"echostr": {"hello123"}}))
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "hello123" {
		t.Fatalf("GET verification = %d %q", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("verification answered as %q (nosniff %q): a browser could render it", ct, resp.Header.Get("X-Content-Type-Options"))
	}
	u := signedURL(h.srv.URL, time.Now().Unix(), url.Values{"echostr": {"x"}, "signature": {"0000"}})
	if resp, _ := http.Get(u); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bad signature GET = %d", resp.StatusCode)
	}
	// Issue 14.11: a signed URL captured within the window reflected markup
	for _, bad := range []string{"<script>alert(1)</script>", "1 2", strings.Repeat("9", 129)} {
		resp, _ := http.Get(signedURL(h.srv.URL, time.Now().Unix(), url.Values{"echostr": {bad}}))
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), bad) {
			t.Errorf("echostr %.20q = %d %q, want 400 without echo", bad, resp.StatusCode, b)
		}
	}
}

func TestRejectsWithoutProcessing(t *testing.T) {
	h := newHarness(t, Options{MaxSkew: 300 * time.Second, MaxBody: 4096}, echo(""))
	body := textXML("u1", "hi", "1")
	now := time.Now().Unix()
	cases := []struct {
		name   string
		url    string
		body   string
		status int
	}{
		{"wrong signature", signedURL(h.srv.URL, now, url.Values{"signature": {"f21891de399b4e33a1a93c9a7b8a8fffb5a443fe"}}), body, 403},
		{"stale timestamp (replay)", signedURL(h.srv.URL, now-3600, nil), body, 403},
		{"future timestamp", signedURL(h.srv.URL, now+3600, nil), body, 403},
		{"malformed XML", signedURL(h.srv.URL, now, nil), "<xml><Content>unclosed", 400},
		{"documentation's broken CDATA", signedURL(h.srv.URL, now, nil), "<xml><ToUserName>< ![CDATA[toUser] ]></ToUserName></xml>", 400},
		{"no sender", signedURL(h.srv.URL, now, nil), "<xml><MsgType>text</MsgType></xml>", 400},
		{"body too large", signedURL(h.srv.URL, now, nil), textXML("u1", strings.Repeat("长", 3000), "2"), 413},
		{"safe mode without key", signedURL(h.srv.URL, now, url.Values{"encrypt_type": {"aes"}}), body, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(c.url, "text/xml", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
		})
	}
	if h.calls.Load() != 0 {
		t.Fatalf("the handler ran %d times for rejected requests", h.calls.Load())
	}
}

func TestSkewZeroDisablesTheCheck(t *testing.T) {
	h := newHarness(t, Options{MaxSkew: 0}, echo("ok:"))
	resp, _ := http.Post(signedURL(h.srv.URL, 1348831860, nil), "text/xml", strings.NewReader(textXML("u1", "hi", "5")))
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || replyText(t, string(b)) != "ok:hi" {
		t.Fatalf("old timestamp with the check off = %d %s", resp.StatusCode, b)
	}
}

func TestRetriesAreAnsweredOnceWithTheSameReply(t *testing.T) {
	var side atomic.Int64
	h := newHarness(t, Options{}, HandlerFunc(func(_ context.Context, m handlers.Message) (handlers.Response, error) {
		return handlers.Response{Text: fmt.Sprintf("第%d次", side.Add(1)), Answered: true}, nil
	}))
	body := textXML("u1", "问题", "123456789012345678")
	var replies []string
	for i := 0; i < 3; i++ {
		code, b, _ := h.post(body)
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		replies = append(replies, replyText(t, b))
	}
	if side.Load() != 1 || h.calls.Load() != 1 {
		t.Fatalf("handler ran %d times for one message sent 3 times", h.calls.Load())
	}
	if replies[0] != "第1次" || replies[1] != replies[0] || replies[2] != replies[0] {
		t.Fatalf("replies = %q", replies)
	}
	if got := testutil.ToFloat64(h.m.DedupHits); got != 2 {
		t.Errorf("dedup hits = %v", got)
	}
	// another message is processed
	h.post(textXML("u1", "问题", "123456789012345679"))
	if h.calls.Load() != 2 {
		t.Fatal("a new MsgId was treated as a retry")
	}
}

func TestSlowHandlerAnswersAsynchronously(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, Options{Budget: 200 * time.Millisecond}, HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		<-release
		return handlers.Response{Text: "慢慢的回答", Answered: true}, nil
	}))
	code, body, took := h.post(textXML("u1", "慢问题", "77"))
	if code != 200 || body != "success" {
		t.Fatalf("reply = %d %q", code, body)
	}
	if took > time.Second {
		t.Fatalf("passive reply took %v with a 200 ms budget", took)
	}
	close(release)
	waitFor(t, func() bool { return len(h.send.all()) == 1 })
	if got := h.send.all()[0]; got != "u1|慢慢的回答" {
		t.Fatalf("customer-service message = %q", got)
	}
	if testutil.ToFloat64(h.m.AsyncReplies.WithLabelValues("sent")) != 1 {
		t.Error("async send not counted")
	}
	// WeChat's retry after the answer is ready gets the same answer
	_, body, _ = h.post(textXML("u1", "慢问题", "77"))
	if replyText(t, body) != "慢慢的回答" {
		t.Fatalf("retry after the async answer = %q", body)
	}
}

func TestFailedLateSendIsDeliveredWithTheNextMessage(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int64
	h := newHarness(t, Options{Budget: 100 * time.Millisecond}, HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		if n.Add(1) == 1 {
			<-release
			return handlers.Response{Text: "第一个问题的答案", Answered: true}, nil
		}
		return handlers.Response{Text: "第二个问题的答案", Answered: true}, nil
	}))
	h.send.fail = &APIError{Op: "customer-service send", Code: ErrCodeOutOfWindow, Msg: "response out of time limit"}
	if _, body, _ := h.post(textXML("u1", "问题一", "1001")); body != "success" {
		t.Fatalf("first reply = %q", body)
	}
	close(release)
	waitFor(t, func() bool { return testutil.ToFloat64(h.m.SendErrors.WithLabelValues("45015")) == 1 })
	_, body, _ := h.post(textXML("u1", "问题二", "1002"))
	got := replyText(t, body)
	if !strings.HasPrefix(got, handlers.TextPendingIntro+"第一个问题的答案") || !strings.HasSuffix(got, "第二个问题的答案") {
		t.Fatalf("next reply = %q", got)
	}
	_, body, _ = h.post(textXML("u1", "问题三", "1003"))
	if strings.Contains(replyText(t, body), "第一个问题") {
		t.Fatal("the pending answer was delivered twice")
	}
}

func TestHangingHandlerNeverHoldsARequestPastTheDeadline(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	h := newHarness(t, Options{Budget: 300 * time.Millisecond, Workers: 4, Queue: 8}, HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		<-block
		return handlers.Response{}, nil
	}))
	var wg sync.WaitGroup
	var slow, busy atomic.Int64
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code, body, took := h.post(textXML(fmt.Sprintf("u%d", i), "卡住", fmt.Sprint(5000+i)))
			if code != 200 || took > 800*time.Millisecond {
				slow.Add(1)
			}
			if strings.Contains(body, "系统有点忙") {
				busy.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if slow.Load() != 0 {
		t.Fatalf("%d of 40 requests were not answered in time", slow.Load())
	}
	if busy.Load() == 0 {
		t.Error("a full worker pool did not answer 'busy'")
	}
}

func TestLongAnswersArePaged(t *testing.T) {
	var long strings.Builder
	for i := 0; long.Len() < 5000; i++ {
		fmt.Fprintf(&long, "第%d句政策原文的内容。", i)
	}
	h := newHarness(t, Options{}, HandlerFunc(func(_ context.Context, m handlers.Message) (handlers.Response, error) {
		return handlers.Response{Text: long.String(), Answered: true}, nil
	}))
	_, body, _ := h.post(textXML("u1", "长问题", "1"))
	pages := []string{replyText(t, body)}
	for i := 2; i < 10; i++ {
		_, body, _ = h.post(textXML("u1", "更多", fmt.Sprint(i)))
		p := replyText(t, body)
		if p == handlers.TextNoMore {
			break
		}
		pages = append(pages, p)
	}
	if len(pages) < 3 {
		t.Fatalf("%d pages for %d bytes", len(pages), long.Len())
	}
	var joined strings.Builder
	for i, p := range pages {
		if len(p) > knowledge.MaxReplyBytes {
			t.Errorf("page %d is %d bytes", i, len(p))
		}
		last := i == len(pages)-1
		if !last && !strings.HasSuffix(p, handlers.TextMore) {
			t.Errorf("page %d lacks the 更多 hint", i)
		}
		if !last && !strings.HasSuffix(strings.TrimSuffix(p, "\n"+handlers.TextMore), "。") {
			t.Errorf("page %d is not cut at a sentence end", i)
		}
		joined.WriteString(strings.TrimSuffix(p, "\n"+handlers.TextMore))
	}
	if joined.String() != long.String() {
		t.Error("pages do not add up to the answer")
	}
	if h.calls.Load() != 1 {
		t.Errorf("更多 went to the handler (%d calls)", h.calls.Load())
	}
}

func TestHumanHandover(t *testing.T) {
	h := newHarness(t, Options{}, handlers.DefaultRouter(nil, nil))
	_, body, _ := h.post(textXML("u1", "人工", "1"))
	if !strings.Contains(body, "transfer_customer_service") {
		t.Fatalf("人工 reply = %s", body)
	}
	waitFor(t, func() bool { return len(h.send.all()) == 1 })
	if h.send.all()[0] != "u1|"+handlers.TextToHuman {
		t.Errorf("handover message = %q", h.send.all())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
