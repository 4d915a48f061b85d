package knowledge

import (
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxReplyBytes is WeChat's limit for one text reply; every answer text
// fits in it.
const MaxReplyBytes = 2048

// DefaultMinConfidence is the refusal threshold on Answer.Score. It was
// calibrated with `policybot eval --calibrate` (the threshold with the best
// smoothed fact-hit rate + refusal rate), never set per question: 0.39 on
// the development set, 0.42 on it together with the three check sets in
// testdata; 0.40 is the development set's unsmoothed optimum, between them.
const DefaultMinConfidence = 0.40

// Source is where an answer comes from.
type Source struct {
	File    string `json:"file"`    // corpus file name
	Title   string `json:"title"`   // document title
	Section string `json:"section"` // heading path
	Quote   string `json:"quote"`   // the sentences used
}

// Answer is the knowledge base's reply to one question.
type Answer struct {
	// Answered is false when the knowledge base does not hold the answer;
	// Text is then empty and the caller says so (never a guess).
	Answered bool
	// Text is the reply: the answering sentences, then the source(s). At
	// most MaxReplyBytes bytes, plain text.
	Text string
	// Sources lists the evidence, best first. For a refusal it holds the
	// closest passage that was not good enough, for logs.
	Sources []Source
	// Score is the confidence in [0,1]: the weighted share of the
	// question's content that the best passage covers, times the strength
	// of the match, lowered when a yes/no question's predicate is not
	// covered or a list question gets no list, and 0 when the question asks
	// for a figure, date or phone number that the evidence lacks.
	Score float64
	// Features are what Score was computed from (zero for FAQ answers).
	Features Features
	// Choices, on a refusal that came close (see choiceBand), are the 2–3
	// most likely topics to offer instead of a flat refusal.
	Choices []Choice
	// FAQ is the id of the curated entry that answered, if any.
	FAQ string
	// Evidence are the passages retrieved for the question, best first (at
	// most five; none for a FAQ answer, which is sent as curated): what a
	// model may rewrite the answer from, so the writer never retrieves
	// again.
	Evidence []Evidence
}

// Sentence ranking: how much a sentence's own coverage of the question
// counts against its passage's retrieval rank, the bonus for a sentence of
// the kind asked for, and how many passages are read.
var (
	sentCovWeight     = 0.55
	preferBonus       = 0.15
	candidatePassages = 5
)

// typedLeadMargin: how close to the best a sentence of the asked-for kind
// must score to lead the answer.
const typedLeadMargin = 0.85

// candidate is one sentence considered for the answer.
type candidate struct {
	p     *Passage
	i     int // sentence index in p
	score float64
}

// Answer answers a question from the knowledge base. It is fast (no I/O)
// and safe for concurrent use. The returned Sources must not be modified
// (answers are cached and shared).
func (b *Base) Answer(question string) Answer {
	if strings.TrimSpace(question) == "" {
		return Answer{}
	}
	key := Normalize(question)
	a, ok := b.cache.get(key)
	if !ok {
		a = b.answer(question)
		b.cache.put(key, a)
	}
	// the cache holds answers before the threshold, so copies of the base
	// with another threshold (WithMinConfidence) share it correctly
	if a.FAQ == "" && a.Score < b.minConf {
		a.Text, a.Answered = "", false
		if a.Score < choiceBand*b.minConf {
			a.Choices = nil
		}
	} else {
		a.Choices = nil
	}
	return a
}

// answer computes an answer with Answered and Text filled as if every
// threshold passed; Answer applies the threshold.
func (b *Base) answer(question string) Answer {
	if e, sim := b.matchFAQ(question); e != nil {
		src := Source{File: e.File, Title: e.Title, Section: e.Section, Quote: e.Answer}
		return Answer{Answered: true, Text: render([]string{e.Answer}, []string{b.citeFAQ(e)}), Sources: []Source{src}, Score: sim, FAQ: e.ID}
	}
	q := b.prepare(question)
	hits, top := b.retrieve(q)
	if len(hits) == 0 {
		return Answer{}
	}
	bestRank := hits[0].score
	var cands []candidate
	for rank, h := range hits {
		if rank >= candidatePassages {
			break
		}
		p := b.passages[h.doc]
		rel := h.score / bestRank
		covs := q.sentenceCoverage(p)
		for i := range p.Sentences {
			sc := sentCovWeight*covs[i] + (1-sentCovWeight)*rel
			if q.want.prefersSentence(p, i) {
				sc += preferBonus
			}
			if utf8.RuneCountInString(p.normSentences[i]) < 6 {
				sc -= 0.2 // a fragment such as "责任领导:**"
			}
			cands = append(cands, candidate{p: p, i: i, score: sc})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	// When the question asks for a kind of fact (an actor, a list, a
	// figure), a nearly-as-good sentence that has it leads over one that
	// does not.
	if q.want.kind != wantAny && !q.want.prefersSentence(cands[0].p, cands[0].i) {
		for k, c := range cands[1:] {
			if c.score < typedLeadMargin*cands[0].score {
				break
			}
			if q.want.prefersSentence(c.p, c.i) {
				cands[0], cands[k+1] = cands[k+1], cands[0]
				break
			}
		}
	}
	best := cands[0]
	chosen := []candidate{best}
	// A close runner-up often holds the rest of a list or the other half of
	// a fact; take up to two when they are nearly as good.
	for _, c := range cands[1:] {
		if len(chosen) == 3 || c.score < 0.9*best.score {
			break
		}
		chosen = append(chosen, c)
	}
	// confidence from the best passage as a whole
	cov, pred := q.coverage(best.p.normEvidence), q.predicateCoverage(best.p.normEvidence)
	conf := cov * retrievalStrength(top)
	// a yes/no question is about its predicate: 能租出去吗 is not answered by
	// a passage on the houses that lacks 租
	conf *= math.Pow(max(pred, 0.1), predicateWeight)
	// what the person reads: the sentences and the sections they cite
	satisfied := q.want.satisfiedBy(quotedText(chosen))
	// A date or a phone number asked for often stands apart from the words
	// of the question, on its own line of the same passage ("完成时间:5月25日"
	// after the task): when the sentences chosen lack it, the best passage's
	// best sentence that has it joins them.
	if !satisfied && (q.want.kind == wantDate || q.want.kind == wantPhone) {
		for _, c := range cands {
			if c.p == best.p && q.want.prefersSentence(c.p, c.i) {
				chosen = append(chosen, c)
				satisfied = q.want.satisfiedBy(quotedText(chosen))
				break
			}
		}
	}
	// A list written as "一是…;二是…;三是…" runs over several sentences:
	// when the chosen sentences do not enumerate, the best passage's run
	// answers.
	if !satisfied && q.want.kind == wantList {
		if run := b.ordinalRun(best.p); len(run) > 0 {
			chosen = run
			satisfied = q.want.satisfiedBy(quotedText(chosen))
		}
	}
	if !satisfied {
		if q.want.kind == wantList {
			// A list can be written without separators (厕所垃圾污水治理),
			// so a missing enumeration only weakens the answer.
			conf *= listPenalty
		} else {
			// The question asks for a figure, a date or a phone number and
			// the evidence has none: whatever we found, it is not the
			// answer.
			conf = 0
		}
	}
	f := Features{
		Coverage:  cov,
		Strength:  min(1, top/max(b.idealScore(q), 1e-9)),
		Predicate: pred,
		Phrase:    q.passagePhraseCoverage(best.p),
		Typed:     0.5,
	}
	if len(hits) > 1 && hits[0].score > 0 {
		f.Margin = max(0, (hits[0].score-hits[1].score)/hits[0].score)
	} else {
		f.Margin = 1
	}
	if q.want.kind != wantAny {
		f.Typed = 0
		if satisfied {
			f.Typed = 1
		}
	}
	ans := Answer{Score: conf, Answered: true, Features: f, Choices: b.choicesFrom(hits), Evidence: b.evidence(hits)}
	note := ""
	if best.p.Role == RoleProblem || best.p.sentFacts[best.i].fault {
		note = textProblemNote
	}
	ans.Sources, ans.Text = b.compose(chosen, q.want.kind == wantHow, note)
	return ans
}

// idealScore is the BM25 score q's terms reach in a passage of average
// length holding each once: what Features.Strength is relative to.
func (b *Base) idealScore(q *query) float64 {
	var s float64
	for _, tw := range q.ordered {
		if _, ok := b.ix.terms[tw.t]; ok {
			s += b.ix.idf(tw.t) * tw.w
		}
	}
	return s
}

// predicateWeight is how much a yes/no question's predicate counts: the
// confidence is scaled by its coverage (at least 0.1) to this power.
// Measured over the dev set and the check sets, 0.3 refuses most
// questions about something the documents do not say (房子能租出去吗,
// 能兼任村支书吗) without refusing answerable ones; 0.5 and 1 refuse more of
// those.
const predicateWeight = 0.3

// quotedText is what an answer from chosen shows: the sentences and the
// sections they cite.
func quotedText(chosen []candidate) string {
	var b strings.Builder
	for _, c := range chosen {
		b.WriteString(stripArticleNumber(c.p.Sentences[c.i]) + "|")
		// the headings count (a date is often in one: "(二)全面排查整改(5月2日~
		// 6月10日)"), their numbers do not: "3.过基本医疗的筛子" states no figure
		for _, h := range c.p.Path {
			b.WriteString(stripArticleNumber(h[numberPrefixLen(h):]) + "|")
		}
	}
	return b.String()
}

// listPenalty scales confidence when a "which ones" question gets an
// answer that does not enumerate.
var listPenalty = 0.3

// strongScore is a BM25 score that a passage answering a typical question
// reaches on this corpus (its median for answerable dev questions is ~30).
const strongScore = 40

// retrievalStrength maps the best BM25 score onto (0,1], on a log scale: a
// weak best match lowers confidence even when its words cover the question.
func retrievalStrength(top float64) float64 {
	return min(1, math.Log1p(top)/math.Log1p(strongScore))
}

// WithMinConfidence returns a Base sharing b's index that refuses below
// threshold instead of b's. A negative threshold answers everything (used
// to calibrate).
func (b *Base) WithMinConfidence(threshold float64) *Base {
	c := *b
	c.minConf = threshold
	return &c
}

// MinConfidence is the refusal threshold in force.
func (b *Base) MinConfidence() float64 { return b.minConf }
