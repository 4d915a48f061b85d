package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// replyWriter writes cached replies in batches: one round trip for many.
// A retry comes at least 5 s after its message, long after the batch.
func (w *Webhook) replyWriter(b handlers.SessionBatcher) {
	defer close(w.repliesDone)
	var batch []handlers.SessionPut
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := b.PutSessions(ctx, batch); err != nil {
			w.log.Warn("bot: cannot cache replies for retries", "err", err, "n", len(batch))
		}
		cancel()
		batch = batch[:0]
	}
	for p := range w.replies {
		batch = append(batch, p)
	more:
		for len(batch) < 256 {
			select {
			case p, ok := <-w.replies:
				if !ok {
					break more
				}
				batch = append(batch, p)
			default:
				break more
			}
		}
		flush()
	}
	flush()
}

// cacheReply keeps the reply a retry of key gets.
func (w *Webhook) cacheReply(ctx context.Context, key string, c cachedReply) {
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	p := handlers.SessionPut{Key: "reply:" + key, Value: b, TTL: w.o.DedupTTL}
	if w.replies != nil {
		select {
		case w.replies <- p:
			return
		default: // writer busy: write now rather than drop
		}
	}
	if err := w.st.PutSession(ctx, p.Key, p.Value, p.TTL); err != nil {
		w.log.Warn("bot: cannot cache reply for retries", "err", err)
	}
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

// userState is what the bot keeps per user between messages, in one
// session key so each message costs one read: an answer that could not be
// delivered, and the pages left for 更多.
type userState struct {
	Pending string   `json:"p,omitempty"`
	Pages   []string `json:"m,omitempty"`
}

func userKey(openid string) string { return "user:{" + openid + "}" }

// userOr returns the state already read, or reads it.
func (w *Webhook) userOr(ctx context.Context, openid string, u *userState) userState {
	if u != nil {
		return *u
	}
	return w.loadUser(ctx, openid)
}

func (w *Webhook) loadUser(ctx context.Context, openid string) userState {
	var u userState
	if b, err := w.st.GetSession(ctx, userKey(openid)); err == nil {
		json.Unmarshal(b, &u)
	} else if !errors.Is(err, handlers.ErrNotFound) {
		w.log.Warn("bot: cannot read user state", "err", err, "user", UserHash(openid))
	}
	return u
}

// saveUser writes the state, or deletes it when empty. The TTL is the
// longer of the two lifetimes (pending answers wait 48 h).
func (w *Webhook) saveUser(ctx context.Context, openid string, u userState) {
	var err error
	if u.Pending == "" && len(u.Pages) == 0 {
		err = w.st.DeleteSession(ctx, userKey(openid))
	} else {
		ttl := w.o.PageTTL
		if u.Pending != "" {
			ttl = w.o.PendingTTL
		}
		b, _ := json.Marshal(u)
		err = w.st.PutSession(ctx, userKey(openid), b, ttl)
	}
	if err != nil {
		w.log.Warn("bot: cannot keep user state", "err", err, "user", UserHash(openid))
	}
}

// cachedReply is what a retry gets: the answer already given.
type cachedReply struct {
	Text    string `json:"t,omitempty"`
	ToHuman bool   `json:"h,omitempty"`
}

func (w *Webhook) process(parent context.Context, rw http.ResponseWriter, in *inbound, aes bool, start time.Time) {
	msg := toMessage(in, start)
	typ := string(msg.Kind)
	user := UserHash(in.FromUserName)
	deadline := start.Add(w.o.Budget)
	sctx, cancel := context.WithDeadline(context.WithoutCancel(parent), deadline)
	defer cancel()
	// a user's keys share a hash tag: one Cluster slot, one round trip
	key := "wx:{" + in.FromUserName + "}:" + in.dedupKey()
	var first bool
	var err error
	var ustate *userState
	if sl, ok := w.st.(handlers.SeenLoader); ok {
		var raw []byte
		first, raw, err = sl.MarkSeenAndGet(sctx, key, w.o.DedupTTL, userKey(in.FromUserName))
		ustate = &userState{}
		if raw != nil {
			json.Unmarshal(raw, ustate)
		}
	} else {
		first, err = w.st.MarkSeen(sctx, key, w.o.DedupTTL)
	}
	if err != nil {
		// answering without dedup beats not answering
		w.log.Warn("bot: dedup unavailable", "err", err, "user", user)
		first = true
	}
	if !first {
		if w.m != nil {
			w.m.DedupHits.Inc()
		}
		var c cachedReply
		if b, err := w.st.GetSession(sctx, "reply:"+key); err == nil && json.Unmarshal(b, &c) == nil {
			w.count(typ, "retry_cached")
			w.write(rw, in, aes, c, start)
			return
		}
		if !w.takeOver(sctx, key) {
			w.count(typ, "retry")
			w.success(rw, start)
			return
		}
		// its handler died with its process: handle it again
		w.count(typ, "retry_takeover")
		w.log.Warn("bot: a retried message had no live handler; handling it again", "user", user, "type", typ)
		ustate = nil
	}
	msg.ID = key
	w.log.Debug("bot: message", "user", user, "type", typ, "text", msg.Text)
	if msg.Kind == handlers.KindText && handlers.FoldCommand(msg.Text) == "更多" {
		w.count(typ, "more")
		c := cachedReply{Text: w.nextPage(sctx, in.FromUserName, ustate)}
		w.write(rw, in, aes, c, start)
		w.cacheReply(sctx, key, c) // a retry gets this page, not the next
		return
	}
	// Who delivers the answer: 0 undecided, 1 the request (in time), 2 the
	// worker (the request gave up and answered "success").
	var handoff atomic.Int32
	done := make(chan handlers.Response, 1)
	job := func() {
		hctx, hcancel := context.WithTimeout(context.Background(), w.o.AsyncTimeout)
		defer hcancel()
		t := time.Now()
		resp, err := w.h.Handle(hctx, msg)
		if w.m != nil {
			w.m.HandlerTime.WithLabelValues(typ).Observe(time.Since(t).Seconds())
		}
		if err != nil {
			w.log.Error("bot: handler failed", "err", err, "user", user, "type", typ)
			resp = handlers.Response{Text: handlers.TextBusy}
		}
		if !resp.Answered && resp.Text != "" && w.m != nil {
			w.m.Unanswered.Inc()
		}
		if handoff.CompareAndSwap(0, 1) {
			done <- resp
			return
		}
		w.deliverLate(hctx, in.FromUserName, key, resp)
	}
	w.inflight.Store(key, struct{}{})
	if err := w.pool.submit(func() { defer w.inflight.Delete(key); job() }); err != nil {
		w.inflight.Delete(key)
		w.log.Error("bot: no worker free", "err", err, "user", user)
		w.count(typ, "overloaded")
		w.write(rw, in, aes, cachedReply{Text: handlers.TextBusy}, start)
		return
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	slow := time.NewTimer(w.o.OwnerAfter)
	defer slow.Stop()
	var resp handlers.Response
	select {
	case resp = <-done:
	case <-slow.C:
		// a slow handler: record who has the message, so that a retry
		// after this process's death is handled again (inflight.go)
		w.own(sctx, key)
		select {
		case resp = <-done:
		case <-timer.C:
			w.handOff(sctx, rw, in, aes, key, start, typ, ustate, &handoff, done)
			return
		}
	case <-timer.C:
		w.handOff(sctx, rw, in, aes, key, start, typ, ustate, &handoff, done)
		return
	}
	w.answer(sctx, rw, in, aes, key, resp, start, typ, ustate)
}

// handOff ends the request at the budget: the worker delivers the answer
// later, unless it finished at the last moment.
func (w *Webhook) handOff(ctx context.Context, rw http.ResponseWriter, in *inbound, aes bool, key string, start time.Time, typ string, ustate *userState, handoff *atomic.Int32, done chan handlers.Response) {
	if handoff.CompareAndSwap(0, 2) {
		w.count(typ, "async")
		w.success(rw, start)
		return
	}
	// the handler finished at the last moment
	w.answer(ctx, rw, in, aes, key, <-done, start, typ, ustate)
}

// answer writes a response as the passive reply and caches it for retries.
// user is the user's state if already read (nil: read it when needed).
func (w *Webhook) answer(ctx context.Context, rw http.ResponseWriter, in *inbound, aes bool, key string, resp handlers.Response, start time.Time, typ string, user *userState) {
	c := cachedReply{ToHuman: resp.ToHuman}
	if resp.ToHuman {
		// one passive reply: the transfer; the words follow as a message
		if resp.Text != "" && w.send != nil {
			user, text := in.FromUserName, resp.Text
			_ = w.pool.submit(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := w.send.SendText(ctx, user, text); err != nil {
					w.sendFailed(err, user)
				}
			})
		}
	} else if resp.Text != "" {
		u := w.userOr(ctx, in.FromUserName, user)
		text := resp.Text
		if u.Pending != "" {
			text = handlers.TextPendingIntro + u.Pending + "\n——\n" + text
			if w.m != nil {
				w.m.AsyncReplies.WithLabelValues("pending_delivered").Inc()
			}
		}
		pages := paginate(text)
		c.Text = pages[0]
		if u.Pending != "" || len(u.Pages) > 0 || len(pages) > 1 {
			w.saveUser(ctx, in.FromUserName, userState{Pages: pages[1:]})
		}
	}
	w.count(typ, "replied")
	w.write(rw, in, aes, c, start)
	w.cacheReply(ctx, key, c)
}

// deliverLate sends an answer that missed the passive window as a
// customer-service message; if that fails it is kept for the user's next
// message.
func (w *Webhook) deliverLate(ctx context.Context, openid, key string, resp handlers.Response) {
	if resp.Text == "" && !resp.ToHuman {
		return
	}
	text := resp.Text
	if resp.ToHuman {
		text = handlers.TextToHuman
	}
	pages := paginate(text)
	first := pages[0]
	if b, err := json.Marshal(cachedReply{Text: first}); err == nil {
		w.st.PutSession(ctx, "reply:"+key, b, w.o.DedupTTL)
	}
	err := errors.New("no sender configured")
	if w.send != nil {
		err = w.send.SendText(ctx, openid, first)
	}
	u := w.loadUser(ctx, openid)
	if err == nil {
		if w.m != nil {
			w.m.AsyncReplies.WithLabelValues("sent").Inc()
		}
		if len(pages) > 1 || len(u.Pages) > 0 {
			u.Pages = pages[1:]
			w.saveUser(ctx, openid, u)
		}
		return
	}
	w.sendFailed(err, openid)
	if w.m != nil {
		w.m.AsyncReplies.WithLabelValues("failed").Inc()
	}
	u.Pending, u.Pages = text, nil
	w.saveUser(ctx, openid, u)
}

func (w *Webhook) sendFailed(err error, openid string) {
	code := "other"
	var ae *APIError
	if errors.As(err, &ae) {
		code = strconv.Itoa(ae.Code)
	}
	if w.m != nil {
		w.m.SendErrors.WithLabelValues(code).Inc()
	}
	w.log.Warn("bot: customer-service send failed", "errcode", code, "err", err, "user", UserHash(openid))
}

// nextPage pops the next page for 更多.
func (w *Webhook) nextPage(ctx context.Context, openid string, user *userState) string {
	u := w.userOr(ctx, openid, user)
	if len(u.Pages) == 0 {
		return handlers.TextNoMore
	}
	page := u.Pages[0]
	u.Pages = u.Pages[1:]
	w.saveUser(ctx, openid, u)
	return page
}

// write renders a reply (encrypted in safe mode); an empty reply is "success".
func (w *Webhook) write(rw http.ResponseWriter, in *inbound, aes bool, c cachedReply, start time.Time) {
	var body []byte
	var err error
	switch {
	case c.ToHuman:
		body, err = renderTransfer(in.FromUserName, in.ToUserName, w.now())
	case c.Text != "":
		body, err = renderText(in.FromUserName, in.ToUserName, c.Text, w.now())
	default:
		w.success(rw, start)
		return
	}
	if err == nil && aes {
		body, err = encryptReply(body, w.o.Token, w.o.AppID, w.o.AESKey, w.now())
	}
	if err != nil {
		w.log.Error("bot: cannot render reply", "err", err)
		w.success(rw, start)
		return
	}
	rw.Header().Set("Content-Type", "application/xml; charset=utf-8")
	rw.Write(body)
	w.observe(start)
}

// success acknowledges without a reply (WeChat then stops retrying).
func (w *Webhook) success(rw http.ResponseWriter, start time.Time) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(rw, "success")
	w.observe(start)
}

func (w *Webhook) observe(start time.Time) {
	if w.m != nil {
		w.m.ReplySeconds.Observe(w.now().Sub(start).Seconds())
	}
}

// toMessage maps WeChat's message types onto the transport-free Message.
func toMessage(in *inbound, at time.Time) handlers.Message {
	m := handlers.Message{User: in.FromUserName, At: at}
	switch strings.ToLower(in.MsgType) {
	case "text":
		m.Kind, m.Text = handlers.KindText, in.Content
	case "voice":
		if strings.TrimSpace(in.Recognition) != "" {
			m.Kind, m.Text = handlers.KindText, in.Recognition
		} else {
			m.Kind = handlers.KindMedia
		}
	case "image", "video", "shortvideo", "link", "location", "file":
		m.Kind = handlers.KindMedia
	case "event":
		m.Kind, m.Event, m.EventKey = handlers.KindEvent, in.Event, in.EventKey
		if strings.EqualFold(in.Event, "TEMPLATESENDJOBFINISH") {
			m.EventKey = in.TemplateID + ":" + in.Status
		}
		if strings.EqualFold(in.Event, "MASSSENDJOBFINISH") { // msgid:status:sent:errors:total
			m.EventKey = strings.Join([]string{in.TemplateID, in.Status, strings.TrimSpace(in.SentCount), strings.TrimSpace(in.ErrorCount), strings.TrimSpace(in.TotalCount)}, ":")
		}
	default:
		m.Kind = handlers.KindUnknown
	}
	return m
}
