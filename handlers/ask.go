// Package handlers holds what the bot does for each intent (asking the
// knowledge base, and later quizzes, binding, check-ins and notices),
// together with the domain types and the small store interfaces those
// intents need. It never imports a transport (WeChat, HTTP) or a driver.
package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"policybot/knowledge"
)

// Reply is what a person gets back for a question.
type Reply struct {
	Answered bool               `json:"answered"`
	Text     string             `json:"text"`
	Sources  []knowledge.Source `json:"sources"`
	Score    float64            `json:"score"`
	FAQ      string             `json:"faq,omitempty"`
	// Choices counts the topics offered instead of a flat refusal.
	Choices int `json:"choices,omitempty"`
}

// UnansweredQuestion is a question the knowledge base could not answer,
// kept so that officials can add the missing FAQ entry or document.
type UnansweredQuestion struct {
	Time     time.Time `json:"time"`
	User     string    `json:"user,omitempty"` // hashed or empty; never a raw openid
	Question string    `json:"question"`
	Score    float64   `json:"score"`
	Closest  string    `json:"closest,omitempty"` // file › section of the nearest passage
	// Message is the chat message's ID (Message.ID), if any: one message
	// is recorded once however often it is handled.
	Message string `json:"-"`
}

// UnansweredLog records unanswered questions. Implementations must be safe
// for concurrent use.
type UnansweredLog interface {
	RecordUnanswered(ctx context.Context, q UnansweredQuestion) error
}

// Asker answers policy questions. It is the one answer path used by the
// command line, the WeChat bot and the evaluation.
type Asker struct {
	// KB returns the knowledge base in force (a func so that a reload can
	// swap it without the Asker knowing).
	KB func() *knowledge.Base
	// Unanswered, when set, receives every refused question.
	Unanswered UnansweredLog
	Logger     *slog.Logger
	Now        func() time.Time
	// Writer, when set, rewrites answered questions with a language model
	// (grounded in the same passages; the extractive answer otherwise).
	Writer *Writer
	// Sessions, when set, keeps the topics offered instead of a flat
	// refusal (猜你想问), so that a reply of their number answers.
	Sessions Sessions
	// Embed, when set, turns the question into a vector for semantic
	// retrieval (knowledge.Base.AnswerVec), within EmbedTimeout (default
	// 800 ms); when it fails or is late the answer is the lexical one.
	Embed        func(ctx context.Context, text string) ([]float32, error)
	EmbedTimeout time.Duration
	// Counts, when set, counts questions and refusals per day.
	Counts *DailyCounts
}

// Ask answers question for user (the person's id, raw where a late answer
// must be sent to them; may be empty); only UserHash(user) is stored. It
// always returns a reply a person can read; a failure to record an
// unanswered question is logged, not returned, because the person must
// still get their answer.
func (a *Asker) Ask(ctx context.Context, user, question string) Reply {
	return a.ask(ctx, user, question, "")
}

// AskMessage is Ask for a chat message: a message handled twice (its
// first handler died) records its unanswered question once.
func (a *Asker) AskMessage(ctx context.Context, m Message) Reply {
	return a.ask(ctx, m.User, m.Text, m.ID)
}

func (a *Asker) ask(ctx context.Context, user, question, msgID string) Reply {
	if strings.TrimSpace(question) == "" {
		return Reply{Text: TextEmptyQuestion}
	}
	if r, ok := a.pick(ctx, user, question); ok {
		return r
	}
	kb := a.KB() // once: a reload may swap the base in between
	ans := kb.AnswerVec(question, a.questionVector(ctx, kb, question))
	a.Counts.Add("questions", a.now())
	if !ans.Answered {
		a.Counts.Add("unanswered", a.now())
	}
	r := Reply{Answered: ans.Answered, Text: ans.Text, Sources: ans.Sources, Score: ans.Score, FAQ: ans.FAQ}
	if ans.Answered {
		if a.Writer != nil && ans.FAQ == "" {
			r.Text = a.Writer.Write(ctx, user, question, ans.Evidence, ans.Text)
		}
		return r
	}
	r.Text = TextUnanswered
	r.Sources = nil
	if len(ans.Choices) > 0 && a.Sessions != nil && user != "" {
		if b, err := json.Marshal(ans.Choices); err == nil && a.Sessions.PutSession(ctx, choicesKey(user), b, choicesTTL) == nil {
			r.Text, r.Choices = choicesText(ans.Choices), len(ans.Choices)
		}
	}
	if a.Unanswered != nil {
		u := UnansweredQuestion{Time: a.now(), User: UserHash(user), Question: question, Score: ans.Score, Message: msgID}
		if len(ans.Sources) > 0 {
			u.Closest = ans.Sources[0].File + " › " + ans.Sources[0].Section
		}
		if err := a.Unanswered.RecordUnanswered(ctx, u); err != nil && a.Logger != nil {
			a.Logger.Error("handlers: record unanswered question", "err", err)
		}
	}
	return r
}

// questionVector embeds question when an embedder is set and the base has
// vectors; nil otherwise, or when the model fails or is late.
func (a *Asker) questionVector(ctx context.Context, kb *knowledge.Base, question string) []float32 {
	if a.Embed == nil || !kb.HasVectors() {
		return nil
	}
	d := a.EmbedTimeout
	if d <= 0 {
		d = DefaultEmbedTimeout
	}
	ectx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := a.Embed(ectx, question)
	if err != nil {
		if a.Logger != nil {
			a.Logger.Warn("handlers: question not embedded; answering by words", "err", err)
		}
		return nil
	}
	return v
}

// choicesTTL is how long offered topics can be picked by their number.
const choicesTTL = 30 * time.Minute

// DefaultEmbedTimeout bounds embedding a question: past it the question
// is answered by its words alone.
const DefaultEmbedTimeout = 800 * time.Millisecond

func choicesKey(user string) string { return "choices:{" + user + "}" }

// choicesText offers topics as numbered lines.
func choicesText(cs []knowledge.Choice) string {
	var b strings.Builder
	b.WriteString(TextChoicesIntro)
	for i, c := range cs {
		fmt.Fprintf(&b, "\n%d. %s", i+1, c.Label)
	}
	b.WriteString("\n" + TextChoicesHow)
	return b.String()
}

// pick answers a reply of 1, 2 or 3 to topics offered to user; ok is
// false when the text is no such reply or nothing was offered.
func (a *Asker) pick(ctx context.Context, user, text string) (Reply, bool) {
	if a.Sessions == nil || user == "" || len(strings.TrimSpace(text)) > 3 {
		return Reply{}, false // not a lone digit (a full-width one is 3 bytes): no work
	}
	t := strings.TrimSpace(knowledge.Normalize(text))
	if len(t) != 1 || t < "1" || t > "3" {
		return Reply{}, false
	}
	b, err := a.Sessions.GetSession(ctx, choicesKey(user))
	if err != nil {
		return Reply{}, false
	}
	var cs []knowledge.Choice
	if json.Unmarshal(b, &cs) != nil || int(t[0]-'0') > len(cs) {
		return Reply{}, false
	}
	c := cs[t[0]-'1']
	ans, ok := a.KB().SectionAnswer(c.File, c.Section)
	if !ok {
		return Reply{Text: TextChoiceGone, Answered: false}, true
	}
	a.Sessions.DeleteSession(ctx, choicesKey(user))
	return Reply{Answered: true, Text: ans.Text, Sources: ans.Sources, Score: ans.Score}, true
}

// UserHash is how a person appears in logs and stored statistics: never
// the raw openid. Empty stays empty.
func UserHash(openid string) string {
	if openid == "" {
		return ""
	}
	s := sha256.Sum256([]byte(openid))
	return hex.EncodeToString(s[:6])
}

func (a *Asker) now() time.Time { return nowOr(a.Now) }
