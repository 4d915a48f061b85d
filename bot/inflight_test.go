package bot

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/store/embedded"
)

// instance is one policybot process's webhook on a data directory.
type instance struct {
	st    *embedded.Store
	wh    *Webhook
	srv   *httptest.Server
	calls atomic.Int64
	ids   chan string
}

func startInstance(t *testing.T, dir string, o Options, h Handler) *instance {
	t.Helper()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{st: st, ids: make(chan string, 16)}
	o.Token = tToken
	if o.AppID == "" {
		o.AppID = tAppID
	}
	counted := HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		in.calls.Add(1)
		in.ids <- m.ID
		return h.Handle(ctx, m)
	})
	in.wh = NewWebhook(o, counted, st, &recSender{})
	in.srv = httptest.NewServer(in.wh)
	return in
}

// kill stops answering and releases the data directory as a dead process
// does: nothing more is written, nothing is finished.
func (in *instance) kill() {
	in.st.Close() // first: from now on it writes nothing
	in.srv.CloseClientConnections()
	go in.srv.Close()
}

// noReuse sends every request on a new connection: a connection kept from
// the killed instance must not make the client send a request twice.
var noReuse = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func postTo(t *testing.T, base, body string) string {
	t.Helper()
	resp, err := noReuse.Post(signedURL(base, time.Now().Unix(), nil), "text/xml", strings.NewReader(body))
	if err != nil {
		return "" // the process died under the request
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func blockForever(release chan struct{}) Handler {
	return HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return handlers.Response{}, ctx.Err()
	})
}

// Issue 14.6: a slow question, kill -9 after 0.15 s (or after its owner
// was recorded), restart, then WeChat's retries with the same MsgId: all
// got "success" and nobody answered. The retry is handled again, once.
func TestMessageOfADeadProcessIsHandledByTheRetry(t *testing.T) {
	for _, killAfter := range []time.Duration{150 * time.Millisecond, 600 * time.Millisecond} {
		t.Run(killAfter.String(), func(t *testing.T) {
			dir := t.TempDir()
			release := make(chan struct{})
			defer close(release)
			o := Options{Budget: 2 * time.Second, LiveTTL: 300 * time.Millisecond, OwnerAfter: 300 * time.Millisecond}
			a := startInstance(t, dir, o, blockForever(release))
			msg := textXML("u1", "低保怎么申请", "777001")
			go postTo(t, a.srv.URL, msg)
			firstID := <-a.ids
			time.Sleep(killAfter)
			a.kill()
			time.Sleep(o.LiveTTL + 100*time.Millisecond) // WeChat retries 5 s later

			b := startInstance(t, dir, o, echo("答："))
			defer func() { b.srv.Close(); b.wh.Close(); b.st.Close() }()
			got := replyText(t, postTo(t, b.srv.URL, msg))
			if got != "答：低保怎么申请" {
				t.Fatalf("the retry after the crash got %q, want the answer", got)
			}
			if id := <-b.ids; id != firstID || id == "" {
				t.Fatalf("the message's ID changed between deliveries: %q then %q (side effects key on it)", firstID, id)
			}
			// the next retries (WeChat sends them 5 s apart; the reply is
			// cached by a batch writer within milliseconds) get the same
			// answer and handle nothing again
			for i := 0; i < 2; i++ {
				time.Sleep(300 * time.Millisecond)
				if got := replyText(t, postTo(t, b.srv.URL, msg)); got != "答：低保怎么申请" {
					t.Fatalf("retry %d = %q", i, got)
				}
			}
			if n := b.calls.Load(); n != 1 {
				t.Fatalf("handled %d times after the restart, want 1", n)
			}
		})
	}
}

// While a handler is alive, in this process or another instance, its
// message's retries are not handled again: the answer follows from it.
func TestRetryOfALiveHandlerIsNotHandledAgain(t *testing.T) {
	release := make(chan struct{})
	slow := HandlerFunc(func(ctx context.Context, m handlers.Message) (handlers.Response, error) {
		<-release
		return handlers.Response{Text: "慢答", Answered: true}, nil
	})
	h := newHarness(t, Options{Budget: 200 * time.Millisecond, OwnerAfter: 50 * time.Millisecond}, slow)
	msg := textXML("u1", "慢问题", "888001")
	if _, body, _ := h.post(msg); body != "success" {
		t.Fatalf("late answer: %q", body)
	}
	// a second instance on the same store (as with Redis behind a load
	// balancer) gets the retry: the owner is alive
	other := NewWebhook(Options{Token: tToken, AppID: tAppID, Budget: 200 * time.Millisecond}, echo("另一个实例："), h.store, &recSender{})
	defer other.Close()
	srv := httptest.NewServer(other)
	defer srv.Close()
	if got := postTo(t, srv.URL, msg); got != "success" {
		t.Fatalf("the other instance handled a live message again: %q", got)
	}
	if _, body, _ := h.post(msg); body != "success" {
		t.Fatalf("same-instance retry: %q", body)
	}
	close(release)
	deadline := time.Now().Add(3 * time.Second)
	for len(h.send.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sent := h.send.all(); len(sent) != 1 || !strings.Contains(sent[0], "慢答") {
		t.Fatalf("the live handler's answer: %v", sent)
	}
	if n := h.calls.Load(); n != 1 {
		t.Fatalf("handled %d times", n)
	}
}
