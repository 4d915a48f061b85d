package knowledge

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// BM25 parameters; the usual defaults, which retrieval-notes.md measured on
// this corpus.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

type posting struct {
	doc int32
	tf  float32
}

// index is an in-memory BM25 index over character unigrams and bigrams.
// It is immutable once built and safe for concurrent searches.
type index struct {
	terms    map[string]int32 // term → id
	postings [][]posting      // by term id
	docLen   []float32
	avgLen   float32
	n        int
	scratch  sync.Pool // *searchScratch with scores of length n
	// titles are the normalised document titles, which are not indexed
	titles []string
}

// indexText is what a passage contributes to the index: its heading path and
// its text (the path makes "四类人员" findable under its heading).
func indexText(p *Passage) string {
	s := ""
	for _, h := range p.Path {
		s += h + "。"
	}
	return Normalize(s + p.Text)
}

func buildIndex(passages []*Passage) *index {
	ix := &index{terms: make(map[string]int32), docLen: make([]float32, len(passages)), n: len(passages)}
	var total float64
	for i, p := range passages {
		tc := termCounts(indexText(p))
		l := 0
		for t, c := range tc {
			id, ok := ix.terms[t]
			if !ok {
				id = int32(len(ix.postings))
				ix.terms[t] = id
				ix.postings = append(ix.postings, nil)
			}
			ix.postings[id] = append(ix.postings[id], posting{doc: int32(i), tf: float32(c)})
			l += c
		}
		ix.docLen[i] = float32(l)
		total += float64(l)
	}
	if len(passages) > 0 {
		ix.avgLen = float32(total / float64(len(passages)))
	}
	n := ix.n
	ix.scratch.New = func() any { return &searchScratch{scores: make([]float32, n)} }
	return ix
}

// df returns the number of passages containing term.
func (ix *index) df(term string) int {
	if id, ok := ix.terms[term]; ok {
		return len(ix.postings[id])
	}
	return 0
}

// idf is the BM25 inverse document frequency; an unseen term gets the value
// of a term seen once.
func (ix *index) idf(term string) float64 {
	df := float64(ix.df(term))
	if df == 0 {
		df = 1
	}
	return math.Log(1 + (float64(ix.n)-df+0.5)/(df+0.5))
}

type hit struct {
	doc   int
	score float64
}

// searchScratch is one search's working memory, reused: a score per
// passage (all zero between searches) and the passages scored.
type searchScratch struct {
	scores  []float32
	touched []int32
}

// better orders hits: the higher score first, the earlier passage on a tie.
func better(score float64, doc int, h hit) bool {
	return score > h.score || score == h.score && doc < h.doc
}

// weighted is a retrieval term and its weight.
type weighted struct {
	t string
	w float64
}

// inOrder returns the terms of q with their weights, by term: float sums
// over them come out the same in every process (map order does not).
func inOrder(q map[string]float64) []weighted {
	out := make([]weighted, 0, len(q))
	for t, w := range q {
		out = append(out, weighted{t, w})
	}
	slices.SortFunc(out, func(a, b weighted) int { return strings.Compare(a.t, b.t) })
	return out
}

// search scores every passage against weighted query terms (in a fixed
// order: see inOrder) and returns the k best, best first.
func (ix *index) search(q []weighted, k int) []hit {
	if ix.n == 0 || len(q) == 0 {
		return nil
	}
	sp := ix.scratch.Get().(*searchScratch)
	scores, touched := sp.scores, sp.touched[:0]
	for _, tw := range q {
		t, w := tw.t, tw.w
		id, ok := ix.terms[t]
		if !ok {
			continue
		}
		idf := float32(ix.idf(t) * w)
		for _, p := range ix.postings[id] {
			norm := bm25K1 * (1 - bm25B + bm25B*ix.docLen[p.doc]/ix.avgLen)
			if scores[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			scores[p.doc] += idf * p.tf * (bm25K1 + 1) / (p.tf + norm)
		}
	}
	// partial selection of the k best
	hits := make([]hit, 0, k+1)
	for _, d := range touched {
		s := float64(scores[d])
		scores[d] = 0
		if len(hits) == k && !better(s, int(d), hits[k-1]) {
			continue
		}
		i := sort.Search(len(hits), func(i int) bool { return better(s, int(d), hits[i]) })
		hits = append(hits, hit{})
		copy(hits[i+1:], hits[i:])
		hits[i] = hit{doc: int(d), score: s}
		if len(hits) > k {
			hits = hits[:k]
		}
	}
	sp.touched = touched
	ix.scratch.Put(sp)
	return hits
}
