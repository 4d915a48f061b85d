package knowledge

import (
	"sort"
)

// phraseWeight is how much the share of the question's three-character
// runs found verbatim adds to a passage's rerank score: 工作手册 as typed
// beats 工作 … 手册 apart. Measured over the check sets, 0.1 helps and 0.2
// and 0.3 help the same.
var phraseWeight = 0.2

// rerankPool is how many passages BM25 hands to the reranker.
var rerankPool = 30

// rerankCovWeight is how much a passage's coverage of the question counts
// against its BM25 score (relative to the best) when passages are reranked.
var rerankCovWeight = 0.5

// retrieve returns the rerankPool best passages for q in rerank order
// (scores are rerank scores) and the best BM25 score among them, which
// measures how strong the match is.
func (b *Base) retrieve(q *query) (hits []hit, top float64) {
	hits = b.ix.search(q.ordered, rerankPool)
	if b.qvec != nil {
		hits = b.fuse(hits)
	}
	if len(hits) == 0 {
		return nil, 0
	}
	for _, h := range hits {
		top = max(top, h.score)
	}
	return b.rerank(q, hits, top), top
}

// rerank orders BM25 hits by a mix of their score relative to the best and
// the share of the question's content their text covers; the returned
// scores are that mix.
func (b *Base) rerank(q *query, hits []hit, top float64) []hit {
	out := make([]hit, len(hits))
	for i, h := range hits {
		p := b.passages[h.doc]
		rel := 0.0
		if top > 0 {
			rel = h.score / top
		}
		out[i] = hit{doc: h.doc, score: (1-rerankCovWeight)*rel + rerankCovWeight*q.passageCoverage(p) + phraseWeight*q.passagePhraseCoverage(p)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}
