package knowledge

import (
	"encoding/json"
	"fmt"
	"strings"
)

// FAQ is one curated entry: question variants mapped to a vetted answer and
// the source it comes from.
type FAQ struct {
	ID        string   `json:"id"`
	Questions []string `json:"questions"`
	Answer    string   `json:"answer"`
	File      string   `json:"file"`              // source file name
	Title     string   `json:"title,omitempty"`   // document title; looked up from File when empty
	Section   string   `json:"section,omitempty"` // heading path
}

// faqMinSimilarity is how alike (Dice over content bigrams) a question must
// be to a variant for the FAQ to answer instead of retrieval. High on
// purpose: an FAQ answer is final, so it must only catch rephrasings.
const faqMinSimilarity = 0.72

type faqEntry struct {
	FAQ
	variants []map[string]bool // content bigram sets of the variants
}

// parseFAQ reads a JSON array of FAQ entries and checks each is complete.
func parseFAQ(name string, data []byte) ([]FAQ, error) {
	var list []FAQ
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i, f := range list {
		if f.ID == "" || len(f.Questions) == 0 || strings.TrimSpace(f.Answer) == "" || f.File == "" {
			return nil, fmt.Errorf("%s: entry %d (%q): id, questions, answer and file are required", name, i+1, f.ID)
		}
	}
	return list, nil
}

// contentBigrams is the set of bigrams of a question with stop words taken
// out: what two phrasings of one question share.
func (v *vocab) contentBigrams(q string) map[string]bool {
	out := map[string]bool{}
	rs := []rune(Normalize(q))
	var cur []rune
	flush := func() {
		for i := 0; i+1 < len(cur); i++ {
			out[string(cur[i:i+2])] = true
		}
		if len(cur) == 1 {
			out[string(cur)] = true
		}
		cur = cur[:0]
	}
	for i := 0; i < len(rs); {
		stop := 0
		for l := min(4, len(rs)-i); l >= 1; l-- {
			if v.stop[string(rs[i:i+l])] {
				stop = l
				break
			}
		}
		if stop > 0 {
			flush()
			i += stop
			continue
		}
		if isHan(rs[i]) || isWordRune(rs[i]) {
			cur = append(cur, rs[i])
		} else {
			flush()
		}
		i++
	}
	flush()
	return out
}

func dice(a, b map[string]bool) float64 {
	if len(a)+len(b) == 0 {
		return 0
	}
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}

// matchFAQ returns the entry whose variant is most like q, if alike enough.
func (b *Base) matchFAQ(q string) (*faqEntry, float64) {
	cb := b.vocab.contentBigrams(q)
	var best *faqEntry
	bestSim := 0.0
	for _, e := range b.faq {
		for _, v := range e.variants {
			if s := dice(cb, v); s > bestSim {
				best, bestSim = e, s
			}
		}
	}
	if bestSim < faqMinSimilarity {
		return nil, bestSim
	}
	return best, bestSim
}
