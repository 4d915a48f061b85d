// Package quiz is the policy quiz: the question bank (shipped and
// imported), answer parsing and grading, question picking, and the
// 知晓率 figures. It is a leaf: it keeps no state of its own and talks to
// no store or transport; handlers runs rounds with it and cmd wires it.
package quiz

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind is the type of a question.
type Kind string

// Question kinds.
const (
	Single Kind = "single" // one correct option
	Multi  Kind = "multi"  // two or more correct options, all must be chosen
	Judge  Kind = "judge"  // true/false: answer 对 or 错
)

// Judge answers.
const (
	True  = "对"
	False = "错"
)

// MaxOptions is the most options a choice question may have (A–F).
const MaxOptions = 6

// Question is one quiz item, tied to the passage of the knowledge base it
// tests: File is the corpus file name and Quote occurs in it verbatim.
type Question struct {
	ID          string   `json:"id"`
	Kind        Kind     `json:"kind"`
	Stem        string   `json:"stem"`
	Options     []string `json:"options,omitempty"` // Single and Multi; A is Options[0]
	Answer      string   `json:"answer"`            // "B", "AC" (letters in order), or 对/错
	Explanation string   `json:"explanation"`
	File        string   `json:"file"`
	Quote       string   `json:"quote"`
	Topic       string   `json:"topic"`
	Difficulty  int      `json:"difficulty"` // 1 easy, 2 medium, 3 hard
	// Audience is who the question is for: AudienceHousehold (what I can
	// get, where to go, how to complain), AudienceStaff, or "" for all.
	// A round prefers its person's questions.
	Audience string `json:"audience,omitempty"`
}

// Question audiences.
const (
	AudienceHousehold = "household"
	AudienceStaff     = "staff"
)

//go:embed bank.json
var shippedJSON []byte

// Shipped returns the question bank built into the binary, written from
// the five corpus documents.
func Shipped() ([]Question, error) {
	var qs []Question
	if err := json.Unmarshal(shippedJSON, &qs); err != nil {
		return nil, fmt.Errorf("quiz: shipped bank: %w", err)
	}
	return qs, nil
}

// Bank is an immutable set of questions, in id order.
type Bank struct {
	qs   []Question
	byID map[string]int
}

// NewBank validates qs (see Validate) and returns the bank. Later
// questions with an id already present are an error; use Merge to let
// imported questions extend the shipped ones.
func NewBank(qs []Question, corpus func(file string) (string, bool)) (*Bank, error) {
	if errs := Validate(qs, corpus); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	b := &Bank{qs: append([]Question(nil), qs...), byID: make(map[string]int, len(qs))}
	sort.Slice(b.qs, func(i, j int) bool { return b.qs[i].ID < b.qs[j].ID })
	for i, q := range b.qs {
		b.byID[q.ID] = i
	}
	return b, nil
}

// Questions returns the questions in id order. The slice must not be changed.
func (b *Bank) Questions() []Question { return b.qs }

// Len is the number of questions.
func (b *Bank) Len() int { return len(b.qs) }

// Get returns the question with id.
func (b *Bank) Get(id string) (Question, bool) {
	i, ok := b.byID[id]
	if !ok {
		return Question{}, false
	}
	return b.qs[i], true
}

// Validate checks every question and returns one error per problem, each
// naming the question: a unique non-empty id, a known kind, a stem, 2–6
// options for choice questions, an answer that fits the kind (exactly one
// letter for single choice, two or more for multiple choice, 对/错 for
// true/false), an explanation, a topic, difficulty 1–3, and a quote that
// occurs verbatim in its corpus file (corpus returns the file's text).
func Validate(qs []Question, corpus func(file string) (string, bool)) []error {
	var errs []error
	seen := map[string]bool{}
	for _, q := range qs {
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("question %s: %s", q.ID, fmt.Sprintf(format, a...)))
		}
		if err := q.check(corpus); err != nil {
			bad("%v", err)
		}
		if seen[q.ID] && q.ID != "" {
			bad("duplicate id")
		}
		seen[q.ID] = true
	}
	return errs
}

// check returns the first problem of one question, or nil.
func (q Question) check(corpus func(string) (string, bool)) error {
	switch {
	case strings.TrimSpace(q.ID) == "":
		return errors.New("empty id")
	case strings.TrimSpace(q.Stem) == "":
		return errors.New("empty stem")
	case strings.TrimSpace(q.Explanation) == "":
		return errors.New("empty explanation")
	case strings.TrimSpace(q.Topic) == "":
		return errors.New("empty topic")
	case q.Difficulty < 1 || q.Difficulty > 3:
		return fmt.Errorf("difficulty %d is not 1, 2 or 3", q.Difficulty)
	}
	switch q.Kind {
	case Judge:
		if len(q.Options) != 0 {
			return errors.New("a true/false question has no options")
		}
		if q.Answer != True && q.Answer != False {
			return fmt.Errorf("answer %q is not 对 or 错", q.Answer)
		}
	case Single, Multi:
		if len(q.Options) < 2 || len(q.Options) > MaxOptions {
			return fmt.Errorf("%d options; a choice question has 2 to %d", len(q.Options), MaxOptions)
		}
		for i, o := range q.Options {
			if strings.TrimSpace(o) == "" {
				return fmt.Errorf("option %c is empty", 'A'+i)
			}
		}
		letters, err := parseLetters(q.Answer, len(q.Options))
		if err != nil || letters != q.Answer {
			return fmt.Errorf("answer %q is not option letters in order (A–%c)", q.Answer, 'A'+len(q.Options)-1)
		}
		if q.Kind == Single && len(letters) != 1 {
			return fmt.Errorf("single choice with answer %q: exactly one option must be correct", q.Answer)
		}
		if q.Kind == Multi && len(letters) < 2 {
			return fmt.Errorf("multiple choice with answer %q: at least two options must be correct", q.Answer)
		}
	default:
		return fmt.Errorf("kind %q is not single, multi or judge", q.Kind)
	}
	if q.File == "" || q.Quote == "" {
		return errors.New("file and quote are required")
	}
	text, ok := corpus(q.File)
	if !ok {
		return fmt.Errorf("file %s is not in the knowledge base", q.File)
	}
	if !strings.Contains(text, q.Quote) {
		return fmt.Errorf("quote %q does not occur in %s", q.Quote, q.File)
	}
	return nil
}

// Merge returns shipped followed by the imported questions; an imported
// question may not reuse a shipped id.
func Merge(shipped, imported []Question) ([]Question, error) {
	ids := map[string]bool{}
	for _, q := range shipped {
		ids[q.ID] = true
	}
	out := append([]Question(nil), shipped...)
	for _, q := range imported {
		if ids[q.ID] {
			return nil, fmt.Errorf("quiz: imported question %s uses the id of a shipped question", q.ID)
		}
		out = append(out, q)
	}
	return out, nil
}
