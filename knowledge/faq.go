package knowledge

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
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
	n := Normalize(q)
	// runs are sliced from n, not built from runes, so a stop-word lookup
	// allocates nothing
	off := runeOffsets(n)
	runes := len(off) - 1
	start, end := 0, 0 // the current run of content runes: [start, end)
	flush := func() {
		switch {
		case end-start == 1:
			out[n[off[start]:off[end]]] = true
		case end-start > 1:
			for i := start; i+1 < end; i++ {
				out[n[off[i]:off[i+2]]] = true
			}
		}
		start, end = 0, 0
	}
	for i := 0; i < runes; {
		stop := 0
		for l := min(4, runes-i); l >= 1; l-- {
			if v.stop[n[off[i]:off[i+l]]] {
				stop = l
				break
			}
		}
		if stop > 0 {
			flush()
			i += stop
			continue
		}
		r, _ := utf8.DecodeRuneInString(n[off[i]:])
		if isHan(r) || isWordRune(r) {
			if end == start {
				start = i
			}
			end = i + 1
		} else {
			flush()
		}
		i++
	}
	flush()
	return out
}

// faqIndex finds the FAQ variants that share a bigram with a question,
// so a question is compared with those alone.
type faqIndex struct {
	byBigram map[string][]int32 // bigram → variants holding it, ascending
	entry    []*faqEntry        // variant → its entry
	size     []int              // variant → its number of bigrams
}

func newFAQIndex(entries []*faqEntry) faqIndex {
	x := faqIndex{byBigram: map[string][]int32{}}
	for _, e := range entries {
		for _, v := range e.variants {
			id := int32(len(x.entry))
			x.entry = append(x.entry, e)
			x.size = append(x.size, len(v))
			for g := range v {
				x.byBigram[g] = append(x.byBigram[g], id)
			}
		}
	}
	return x
}

// matchFAQ returns the entry whose variant is most like q (Dice over
// content bigrams; the first listed wins a tie), if alike enough.
func (b *Base) matchFAQ(q string) (*faqEntry, float64) {
	cb := b.vocab.contentBigrams(q)
	var best *faqEntry
	bestSim := 0.0
	shared := map[int32]int{}
	for g := range cb {
		for _, id := range b.faqIx.byBigram[g] {
			shared[id]++
		}
	}
	ids := make([]int32, 0, len(shared))
	for id := range shared {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if s := 2 * float64(shared[id]) / float64(len(cb)+b.faqIx.size[id]); s > bestSim {
			best, bestSim = b.faqIx.entry[id], s
		}
	}
	if bestSim < faqMinSimilarity {
		return nil, bestSim
	}
	return best, bestSim
}
