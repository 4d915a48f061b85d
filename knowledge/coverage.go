package knowledge

import (
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Coverage: how much of a question's content a passage or a sentence
// holds, unit by unit (synonyms, typo repairs and weights included).

// unit is one piece of a question's content that evidence should cover: a
// word from a synonym group, or one character of the user's own words
// (covered by either bigram it belongs to), with the forms that count as
// the same. All units weigh the same: measured on the dev set, IDF weights
// from a corpus this small over-weight everyday words that happen to occur
// once (村里, 周一) and separate answerable from unanswerable questions worse.
type unit struct {
	forms  []string // normalised; any one present covers the unit
	weight float64
	// ids[i] is the index term id of forms[i] when that form is a single
	// term (a character or bigram): formNotTerm when it is longer (checked
	// by substring), formAbsent when no passage has it.
	ids []int32
	// titled[i]: a formAbsent forms[i] occurs in some document title (the
	// title is not indexed); bigrams[i]: the index ids of the bigrams of a
	// longer Han form, all of which a passage must hold before it is
	// searched for the form (nil when some bigram is in no passage, which
	// makes the form as good as absent)
	titled  []bool
	bigrams [][]int32
}

const (
	formNotTerm = -2
	formAbsent  = -1
)

// idfMix is the share of a unit's weight that does not depend on how rare
// its words are in the knowledge base.
var idfMix = 0.3

// formDF is how many passages hold f: exact for a term, and for a longer
// form the smallest count of its bigrams (an upper bound).
func formDF(ix *index, f string) int {
	if utf8.RuneCountInString(f) <= 2 {
		return ix.df(f)
	}
	best := -1
	for i := 0; ; {
		_, w := utf8.DecodeRuneInString(f[i:])
		if i+w >= len(f) {
			break
		}
		_, w2 := utf8.DecodeRuneInString(f[i+w:])
		if d := ix.df(f[i : i+w+w2]); best < 0 || d < best {
			best = d
		}
		i += w
	}
	return best
}

// resolveForms fills u.ids for every unit, and the index ids of the
// bigrams of every trigram.
func (q *query) resolveForms(ix *index) {
	q.trigramIDs = make([][]int32, len(q.trigrams))
	for k, t := range q.trigrams {
		rs := []rune(t)
		a, okA := ix.terms[string(rs[:2])]
		b, okB := ix.terms[string(rs[1:])]
		if okA && okB {
			q.trigramIDs[k] = []int32{a, b}
		}
	}
	for k := range q.units {
		u := &q.units[k]
		if idfMix < 1 {
			df := 0
			for _, f := range u.forms {
				df = max(df, formDF(ix, f))
			}
			m := math.Log(float64(ix.n+1)/float64(df+1)) / math.Log(float64(ix.n+1))
			u.weight *= idfMix + (1-idfMix)*m
		}
		u.ids = make([]int32, len(u.forms))
		u.titled = make([]bool, len(u.forms))
		u.bigrams = make([][]int32, len(u.forms))
		for i, f := range u.forms {
			for _, t := range ix.titles {
				if strings.Contains(t, f) {
					u.titled[i] = true
					break
				}
			}
			// only Han characters and bigrams: "17年" must still match
			// inside "2017年", which the term "2017" would not
			if f == "" || !allHan(f) || utf8.RuneCountInString(f) > 2 {
				u.ids[i] = formNotTerm
				if allHan(f) {
					rs := []rune(f)
					ids := make([]int32, 0, len(rs)-1)
					for j := 0; j+1 < len(rs); j++ {
						id, ok := ix.terms[string(rs[j:j+2])]
						if !ok {
							ids = nil
							u.ids[i] = formAbsent
							break
						}
						ids = append(ids, id)
					}
					u.bigrams[i] = ids
				}
				continue
			}
			if id, ok := ix.terms[f]; ok {
				u.ids[i] = id
			} else {
				u.ids[i] = formAbsent
			}
		}
	}
}

// sentenceCoverage returns the coverage of each sentence of p (with p's
// heading path and title), using the precomputed term masks.
func (q *query) sentenceCoverage(p *Passage) []float64 {
	n := len(p.Sentences)
	out := make([]float64, n)
	if p.termMasks == nil {
		for i := range out {
			out[i] = q.coverage(p.normSentences[i], p.normContext)
		}
		return out
	}
	var all float64
	got := make([]float64, n)
	for _, u := range q.units {
		all += u.weight
		var mask uint64
		inCtx := false
		for i, f := range u.forms {
			switch id := u.ids[i]; id {
			case formAbsent:
			case formNotTerm:
				if !p.holdsAll(u.bigrams[i]) {
					continue
				}
				for s, ns := range p.normSentences {
					if strings.Contains(ns, f) {
						mask |= 1 << s
					}
				}
				if !inCtx && strings.Contains(p.normContext, f) {
					inCtx = true
				}
			default:
				m := p.sentencesWith(id)
				mask |= m
				inCtx = inCtx || m&ctxBit != 0
			}
			if id := u.ids[i]; id == formAbsent && u.titled[i] && !inCtx && strings.Contains(p.normContext, f) {
				inCtx = true // a title word the index does not hold
			}
		}
		for s := 0; s < n; s++ {
			if inCtx || mask&(1<<s) != 0 {
				got[s] += u.weight
			}
		}
	}
	if all == 0 {
		return out
	}
	for s := range out {
		out[s] = got[s] / all
	}
	return out
}

// reYesNo finds the predicate of a yes/no question: what follows the modal
// (能不能, 可以, 有没有…) up to the closing particle.
var reYesNo = regexp.MustCompile(`(?:能不能|可不可以|能否|可以|会不会|要不要|有没有|是不是|该不该|能|会)(.{2,16}?)(?:吗|呢|不|没|没有|么)?$`)

// reBareYesNo finds the last words of a yes/no question with no modal.
var reBareYesNo = regexp.MustCompile(`(.{2,4})(?:吗|么)$`)

// predicateCoverage is, for a yes/no question, the weighted share of the
// units typed in its predicate that text covers; 1 for other questions.
func (q *query) predicateCoverage(text string) float64 {
	clause := q.norm
	if i := strings.LastIndexAny(clause, ",。!?;"); i >= 0 && i+1 < len(clause) {
		clause = clause[i+1:]
	}
	clause = strings.TrimRight(clause, ",。!?;")
	// a question word (the vocabulary's [question] cues) asks for
	// something, whatever modal the clause holds
	if q.want.vocab().cues["question"].MatchString(clause) {
		return 1 // 能盖到啥程度, 会咋样: a question word asks, not the modal
	}
	var pred string
	if m := reYesNo.FindStringSubmatch(clause); m != nil {
		pred = m[1]
	} else if m := reBareYesNo.FindStringSubmatch(clause); m != nil {
		pred = m[1] // 拆了给补偿吗: what comes just before 吗
	} else {
		return 1
	}
	var got, all float64
	for _, u := range q.units {
		if u.weight == 0 || !strings.Contains(pred, u.forms[0]) {
			continue
		}
		if len(u.ids) > 0 && u.ids[0] >= 0 && len([]rune(u.forms[0])) == 1 {
			continue // a common one-character verb (去, 帮, 给) says little
		}
		all += u.weight
		if u.in(text) {
			got += u.weight
		}
	}
	if all == 0 {
		return 1
	}
	return got / all
}

// passagePhraseCoverage is q.phraseCoverage(p.normEvidence), skipping the
// substring search where p's term masks show a bigram of the trigram is
// missing.
func (q *query) passagePhraseCoverage(p *Passage) float64 {
	if len(q.trigrams) == 0 {
		return 0
	}
	n := 0
	for k, t := range q.trigrams {
		if p.termMasks == nil || k >= len(q.trigramIDs) || q.trigramIDs[k] == nil {
			if strings.Contains(p.normEvidence, t) {
				n++
			}
			continue
		}
		// a trigram lies in one sentence (or the heading path): one that
		// holds both its bigrams
		ids := q.trigramIDs[k]
		m := p.sentencesWith(ids[0]) & p.sentencesWith(ids[1])
		if m&ctxBit != 0 && strings.Contains(p.normContext, t) {
			n++
			continue
		}
		for i := range p.normSentences {
			if m&(1<<i) != 0 && strings.Contains(p.normSentences[i], t) {
				n++
				break
			}
		}
	}
	return float64(n) / float64(len(q.trigrams))
}

// phraseCoverage is the share of q's trigrams that text holds (0 when the
// question has none).
func (q *query) phraseCoverage(text string) float64 {
	if len(q.trigrams) == 0 {
		return 0
	}
	n := 0
	for _, t := range q.trigrams {
		if strings.Contains(text, t) {
			n++
		}
	}
	return float64(n) / float64(len(q.trigrams))
}

// passageCoverage is q.coverage(p.normEvidence), computed from p's term
// masks where it can (a term form is looked up, not searched for).
func (q *query) passageCoverage(p *Passage) float64 {
	if p.termMasks == nil {
		return q.coverage(p.normEvidence)
	}
	var got, all float64
	for _, u := range q.units {
		all += u.weight
		for i, f := range u.forms {
			var in bool
			switch id := u.ids[i]; {
			case id == formAbsent:
				in = u.titled[i] && strings.Contains(p.normContext, f) // a title word the index does not hold
			case id == formNotTerm:
				in = p.holdsAll(u.bigrams[i]) && strings.Contains(p.normEvidence, f)
			default:
				in = p.sentencesWith(id) != 0 // sentences, heading path and title
			}
			if in {
				got += u.weight
				break
			}
		}
	}
	if all == 0 {
		return 0
	}
	return got / all
}

// termWeight gives bigrams full weight and single atoms less.
func termWeight(t string) float64 {
	if r, _ := utf8.DecodeRuneInString(t); isHan(r) && utf8.RuneCountInString(t) >= 2 {
		return weightBigram
	}
	return weightUnigram
}

// coverage is the weighted share of the question's units present in any
// of texts (normalised).
func (q *query) coverage(texts ...string) float64 {
	var got, all float64
	for _, u := range q.units {
		all += u.weight
		if u.in(texts...) {
			got += u.weight
		}
	}
	if all == 0 {
		return 0
	}
	return got / all
}

// in reports whether any of u's forms occurs in any of texts.
func (u *unit) in(texts ...string) bool {
	for _, f := range u.forms {
		for _, t := range texts {
			if strings.Contains(t, f) {
				return true
			}
		}
	}
	return false
}

func allHan(s string) bool {
	for _, r := range s {
		if !isHan(r) {
			return false
		}
	}
	return true
}
