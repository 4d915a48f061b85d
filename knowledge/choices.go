package knowledge

import (
	"strings"
	"unicode/utf8"
)

// Choice is a topic offered when the knowledge base is unsure (猜你想问):
// the person replies with its number and gets SectionAnswer(File, Section).
type Choice struct {
	Label   string `json:"label"`   // what the person reads: the section's opening words and the document
	File    string `json:"file"`    // source file
	Section string `json:"section"` // heading path, as Source.Section
}

// Choices are offered for a refusal whose confidence is at least
// choiceBand × the threshold: close enough that the right topic is
// probably among the best passages, not close enough to answer.
const (
	choiceBand = 0.5
	maxChoices = 3
	// choiceNear: a passage is offered when its rerank score is at least
	// this share of the best one's.
	choiceNear = 0.7
)

// choicesFrom returns up to maxChoices distinct sections among the best
// reranked hits.
func (b *Base) choicesFrom(hits []hit) []Choice {
	var out []Choice
	seen := map[string]bool{}
	for _, h := range hits {
		if len(out) == maxChoices || h.score < choiceNear*hits[0].score {
			break
		}
		p := b.passages[h.doc]
		key := p.Doc.File + "\x00" + p.Section()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, Choice{Label: choiceLabel(p), File: p.Doc.File, Section: p.Section()})
	}
	if len(out) < 2 {
		return nil // one guess is not a choice
	}
	return out
}

// choiceLabel names a passage's topic: its section heading without its
// number ("核准贫困对象,做好动态调整"), or, for an article or a section
// with no heading of its own, its opening words; then its document.
func choiceLabel(p *Passage) string {
	s := ""
	if n := len(p.Path); n > 0 && !articleRe.MatchString(p.Path[n-1]) {
		s = strings.TrimSpace(p.Path[n-1][numberPrefixLen(p.Path[n-1]):])
	}
	if utf8.RuneCountInString(s) < 4 {
		s = strings.TrimLeft(stripArticleNumber(strings.TrimSpace(p.Text)), "　 ")
	}
	if utf8.RuneCountInString(s) > 24 {
		s = string([]rune(s)[:24]) + "…"
	}
	return s + "（《" + p.Doc.Title + "》）"
}

// SectionAnswer answers with a section chosen from Choices: its first
// passage's sentences with their source line. ok is false when the base
// no longer has that section (it was reloaded without the document).
func (b *Base) SectionAnswer(file, section string) (Answer, bool) {
	for _, p := range b.passages {
		if p.Doc.File != file || p.Section() != section {
			continue
		}
		chosen := make([]candidate, len(p.Sentences))
		for i := range p.Sentences {
			chosen[i] = candidate{p: p, i: i}
		}
		note := ""
		if p.Role == RoleProblem {
			note = textProblemNote
		}
		a := Answer{Answered: true, Score: 1}
		a.Sources, a.Text = b.compose(chosen, false, note)
		return a, true
	}
	return Answer{}, false
}
