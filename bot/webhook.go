package bot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"policybot/handlers"
)

// Handler handles one authenticated, deduplicated message
// (*handlers.Router is one).
type Handler interface {
	Handle(ctx context.Context, m handlers.Message) (handlers.Response, error)
}

// Sender sends a customer-service text message, the only way to answer
// after the passive-reply window.
type Sender interface {
	SendText(ctx context.Context, openid, text string) error
}

// State is what the webhook keeps in the store.
type State interface {
	handlers.Dedup
	handlers.Sessions
}

// Options configure the webhook.
type Options struct {
	Token  string // the token set in the official account's server settings
	AppID  string
	AESKey string // EncodingAESKey; empty: safe-mode requests are refused
	// MaxSkew rejects requests whose timestamp is further than this from
	// now (replays of captured requests); 0 disables the check.
	MaxSkew time.Duration
	// Budget is the handler's share of WeChat's 5 s; past it the request
	// gets "success" and the answer follows as a customer-service message.
	Budget       time.Duration // default 4 s
	MaxBody      int64         // default 64 KiB
	DedupTTL     time.Duration // how long a message id is remembered; default 10 min
	PendingTTL   time.Duration // how long an undelivered answer waits; default 48 h
	PageTTL      time.Duration // how long 更多 pages are kept; default 1 h
	AsyncTimeout time.Duration // a handler's whole allowance; default 60 s
	Workers      int           // default 16
	Queue        int           // jobs waiting for a worker; default 256
	Logger       *slog.Logger
	Metrics      *Metrics
	Now          func() time.Time
	// Instance names this process for the in-flight records (inflight.go);
	// default a random id per start.
	Instance string
	// LiveTTL is how long this instance counts as alive after its last
	// heartbeat; default 3 s (a dead process's messages are taken over by
	// WeChat's next retry, 5 s apart).
	LiveTTL time.Duration
	// OwnerAfter is how long a handler runs before it records that it has
	// the message; default 300 ms.
	OwnerAfter time.Duration
}

// Webhook is the WeChat callback (http.Handler).
type Webhook struct {
	o    Options
	h    Handler
	st   State
	send Sender
	pool *pool
	log  *slog.Logger
	m    *Metrics
	now  func() time.Time

	// reply caching, batched when the store can (see cacheReply)
	replies     chan handlers.SessionPut
	repliesDone chan struct{}

	// messages whose handler runs here (inflight.go)
	inflight sync.Map
	hbStop   chan struct{}
	hbDone   chan struct{}
}

// DefaultBudget is the handler's share of WeChat's 5 s by default.
const DefaultBudget = 4 * time.Second

// NewWebhook builds the callback. Close it to finish pending answers.
func NewWebhook(o Options, h Handler, st State, send Sender) *Webhook {
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	if o.DedupTTL <= 0 {
		o.DedupTTL = 10 * time.Minute
	}
	if o.PendingTTL <= 0 {
		o.PendingTTL = 48 * time.Hour
	}
	if o.PageTTL <= 0 {
		o.PageTTL = time.Hour
	}
	if o.AsyncTimeout <= 0 {
		o.AsyncTimeout = 60 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Instance == "" {
		o.Instance = newInstanceID()
	}
	if o.LiveTTL <= 0 {
		o.LiveTTL = 3 * time.Second
	}
	if o.OwnerAfter <= 0 {
		o.OwnerAfter = 300 * time.Millisecond
	}
	w := &Webhook{o: o, h: h, st: st, send: send, pool: newPool(o.Workers, o.Queue), log: o.Logger, m: o.Metrics, now: o.Now,
		hbStop: make(chan struct{}), hbDone: make(chan struct{})}
	go w.heartbeat(w.hbStop, w.hbDone)
	if b, ok := st.(handlers.SessionBatcher); ok {
		w.replies = make(chan handlers.SessionPut, 1024)
		w.repliesDone = make(chan struct{})
		go w.replyWriter(b)
	}
	return w
}

// Close stops taking work and waits for pending answers to be delivered
// and cached replies to be written.
func (w *Webhook) Close() {
	w.pool.close()
	if w.replies != nil {
		close(w.replies)
		<-w.repliesDone
	}
	close(w.hbStop)
	<-w.hbDone
}

// UserHash is how a user appears in logs: never the raw openid.
func UserHash(openid string) string { return handlers.UserHash(openid) }

func (w *Webhook) count(typ, outcome string) {
	if w.m != nil {
		w.m.Requests.WithLabelValues(typ, outcome).Inc()
	}
}

func (w *Webhook) reject(rw http.ResponseWriter, status int, typ, outcome, msg string, attrs ...any) {
	w.count(typ, outcome)
	w.log.Warn("bot: request rejected", append([]any{"outcome", outcome, "status", status}, attrs...)...)
	http.Error(rw, msg, status)
}

// ServeHTTP implements the callback: GET verifies the URL, POST delivers
// messages (plaintext, compatible or safe mode).
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := w.now()
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if !checkSignature(q.Get("signature"), w.o.Token, ts, nonce) {
		w.reject(rw, http.StatusForbidden, "auth", "bad_signature", "invalid signature")
		return
	}
	if w.o.MaxSkew > 0 {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || absDuration(start.Sub(time.Unix(sec, 0))) > w.o.MaxSkew {
			w.reject(rw, http.StatusForbidden, "auth", "stale_timestamp", "stale or missing timestamp", "timestamp", ts)
			return
		}
	}
	switch r.Method {
	case http.MethodGet:
		// WeChat's echostr is a number or a short token. Echo nothing else,
		// and never as a page: a signed URL must not carry markup to a browser.
		echo := q.Get("echostr")
		if !plainToken(echo) {
			w.reject(rw, http.StatusBadRequest, "verify", "bad_echostr", "bad echostr")
			return
		}
		w.count("verify", "ok")
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		io.WriteString(rw, echo)
		return
	case http.MethodPost:
	default:
		w.reject(rw, http.StatusMethodNotAllowed, "auth", "bad_method", "method not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, w.o.MaxBody))
	if err != nil {
		w.reject(rw, http.StatusRequestEntityTooLarge, "body", "too_large", "body too large")
		return
	}
	aes := q.Get("encrypt_type") == "aes"
	raw := body
	if aes {
		if w.o.AESKey == "" {
			w.reject(rw, http.StatusBadRequest, "body", "aes_not_configured", "safe mode is not configured")
			return
		}
		env, err := parseInbound(body)
		if err != nil || env.Encrypt == "" {
			w.reject(rw, http.StatusBadRequest, "body", "bad_envelope", "malformed encrypted message", "err", err)
			return
		}
		if !checkSignature(q.Get("msg_signature"), w.o.Token, ts, nonce, env.Encrypt) {
			w.reject(rw, http.StatusForbidden, "auth", "bad_msg_signature", "invalid msg_signature")
			return
		}
		if _, raw, err = util.DecryptMsg(w.o.AppID, env.Encrypt, w.o.AESKey); err != nil {
			w.reject(rw, http.StatusBadRequest, "body", "bad_aes", "cannot decrypt message", "err", err)
			return
		}
	}
	in, err := parseInbound(raw)
	if err == nil {
		err = in.validMessage()
	}
	if err != nil {
		w.reject(rw, http.StatusBadRequest, "body", "malformed", "malformed message", "err", err)
		return
	}
	w.process(r.Context(), rw, in, aes, start)
}

// plainToken: 1 to 128 letters, digits, '-' or '_'.
func plainToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
