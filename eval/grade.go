package eval

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// gradeNormalize is the grading rule's normalize(s), exactly: Unicode NFKC,
// delete all white space, map each of — – － ~ ～ 至 到 to "-", lower-case
// ASCII. It is deliberately separate from knowledge.Normalize so that
// figures compare across tools whatever the retrieval does.
func gradeNormalize(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case strings.ContainsRune("—–－~～至到", r):
			b.WriteByte('-')
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Item is one line of an evaluation file (../shared/eval/qa-dev.jsonl).
type Item struct {
	ID    string   `json:"id"`
	Q     string   `json:"q"`
	Must  []string `json:"must"`
	Doc   string   `json:"doc"`
	Quote string   `json:"quote"`
	Kind  string   `json:"kind"`
	Role  string   `json:"role"`
}

// Unanswerable reports a question the documents do not answer: right when refused.
func (it Item) Unanswerable() bool { return it.Kind == "unanswerable" }

// Graded says whether a reply is right: an answerable question is a hit
// when answered and every must fact is in the text (both normalised); an
// unanswerable one is right when it was refused.
func Graded(it Item, answered bool, text string) bool {
	if it.Unanswerable() {
		return !answered
	}
	if !answered {
		return false
	}
	nt := gradeNormalize(text)
	for _, m := range it.Must {
		if !strings.Contains(nt, gradeNormalize(m)) {
			return false
		}
	}
	return true
}
