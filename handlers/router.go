package handlers

import (
	"context"
	"strings"
	"time"

	"policybot/knowledge"
)

// MessageKind is what arrived, independent of the transport.
type MessageKind string

// Message kinds.
const (
	KindText    MessageKind = "text"  // typed text, or recognised speech
	KindMedia   MessageKind = "media" // image, voice without recognition, video, link, location
	KindEvent   MessageKind = "event"
	KindUnknown MessageKind = "unknown"
)

// Message is one inbound message, already authenticated and deduplicated.
type Message struct {
	User     string // the platform's id of the sender (openid); never logged raw
	Kind     MessageKind
	Text     string // KindText
	Event    string // KindEvent: subscribe, unsubscribe, CLICK, VIEW, SCAN, LOCATION, TEMPLATESENDJOBFINISH, ...
	EventKey string // CLICK key, qrscene_<scene>, VIEW url, ...
	At       time.Time
	// ID is the same for every delivery of one message (the platform's
	// retries, and a retry handled again after its first handler died);
	// empty when unknown. Side effects of a message are keyed by it so
	// they happen once.
	ID string
}

// Response is what the person gets back. An empty Text with no flags
// means "nothing to say" (the transport acknowledges silently).
type Response struct {
	Text string
	// ToHuman hands the conversation to customer service.
	ToHuman bool
	// Answered is false when the knowledge base had no answer (metrics).
	Answered bool
}

// Intent handles one kind of request.
type Intent interface {
	Handle(ctx context.Context, m Message) (Response, error)
}

// IntentFunc adapts a function to Intent.
type IntentFunc func(ctx context.Context, m Message) (Response, error)

// Handle implements Intent.
func (f IntentFunc) Handle(ctx context.Context, m Message) (Response, error) { return f(ctx, m) }

// Router picks the intent for a message: exact keywords first (帮助, 人工,
// 答题 ...), then keyword prefixes (绑定 123456), then the default (a
// question for the knowledge base). Menu clicks are routed by their key,
// other events by their name. Later features register their intents here;
// the transports never change.
type Router struct {
	keywords map[string]Intent
	prefixes []prefixRoute
	matches  []matchRoute
	clicks   map[string]Intent
	events   map[string]Intent
	fallback Intent
}

type prefixRoute struct {
	prefix string
	intent Intent
}

type matchRoute struct {
	match  func(text string) bool
	intent Intent
}

// NewRouter returns a router whose default intent is fallback.
func NewRouter(fallback Intent) *Router {
	return &Router{keywords: map[string]Intent{}, clicks: map[string]Intent{}, events: map[string]Intent{}, fallback: fallback}
}

// Keyword routes a message whose whole text (trimmed, full-width folded)
// is one of words.
func (r *Router) Keyword(i Intent, words ...string) {
	for _, w := range words {
		r.keywords[FoldCommand(w)] = i
	}
}

// Prefix routes a message that starts with prefix ("绑定 123456").
func (r *Router) Prefix(prefix string, i Intent) {
	r.prefixes = append(r.prefixes, prefixRoute{FoldCommand(prefix), i})
}

// Match routes a text for which match is true (quiz answers: "B", "对").
// Matches are tried after keywords and prefixes, in the order added.
func (r *Router) Match(match func(text string) bool, i Intent) {
	r.matches = append(r.matches, matchRoute{match, i})
}

// Fallback returns the default intent, for intents that pass on what
// is not theirs.
func (r *Router) Fallback() Intent { return r.fallback }

// Click routes a menu click with this key.
func (r *Router) Click(key string, i Intent) { r.clicks[key] = i }

// Event routes an event by name (subscribe, unsubscribe, SCAN, ...).
func (r *Router) Event(name string, i Intent) { r.events[strings.ToLower(name)] = i }

// Route returns the intent for m; nil for an event nobody handles.
func (r *Router) Route(m Message) Intent {
	switch m.Kind {
	case KindText:
		t := FoldCommand(m.Text)
		if i, ok := r.keywords[t]; ok {
			return i
		}
		for _, p := range r.prefixes {
			if strings.HasPrefix(t, p.prefix) {
				return p.intent
			}
		}
		for _, mr := range r.matches {
			if mr.match(m.Text) {
				return mr.intent
			}
		}
		return r.fallback
	case KindEvent:
		if strings.EqualFold(m.Event, "CLICK") {
			if i, ok := r.clicks[m.EventKey]; ok {
				return i
			}
		}
		return r.events[strings.ToLower(m.Event)]
	}
	return r.events[string(m.Kind)]
}

// Handle routes and runs m. An unrouted event gets an empty response.
func (r *Router) Handle(ctx context.Context, m Message) (Response, error) {
	i := r.Route(m)
	if i == nil {
		return Response{}, nil
	}
	return i.Handle(ctx, m)
}

// FoldCommand normalises a typed command, as the router and the webhook
// match it: NFKC and punctuation folded, white space and trailing
// punctuation dropped ("帮助！" is 帮助).
func FoldCommand(s string) string {
	n := knowledge.Normalize(s)
	return strings.TrimRight(n, ".!?~,")
}

// AskIntent answers with the knowledge base.
func AskIntent(a *Asker) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		r := a.AskMessage(ctx, m)
		return Response{Text: r.Text, Answered: r.Answered}, nil
	})
}

// TextIntent always answers text.
func TextIntent(text string) Intent {
	return IntentFunc(func(context.Context, Message) (Response, error) { return Response{Text: text, Answered: true}, nil })
}

// HumanIntent hands over to customer service.
func HumanIntent() Intent {
	return IntentFunc(func(context.Context, Message) (Response, error) {
		return Response{Text: TextToHuman, ToHuman: true, Answered: true}, nil
	})
}
